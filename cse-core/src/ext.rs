//! vCD's API-extension message envelope: the JSON array vCD publishes for a
//! forwarded HTTP request and the reply object the extension sends back.
//!
//! Both directions are here because both sides of the wire live in this workspace: the server
//! parses [`ExtRequest`]s and builds [`ExtReply`]s, the simulator (playing vCD) builds requests
//! with [`ExtRequestBuilder`] and parses replies.
//!
//! Decisions (see also `cse-core/API-DECISIONS.md`):
//! * **Header lookup is case-insensitive** ([`Headers::get`]). 1.2.x looked up `Accept` and
//!   `x-vcloud-authorization` with exact case, so a client or proxy that changed the case broke
//!   authentication; HTTP header names are case-insensitive, so we follow HTTP.
//! * **Malformed input never panics**: not JSON, not an array, an empty array, wrong field
//!   types, missing `id`/`method`/`requestUri`, bad base64 and over-size bodies are all typed
//!   [`EnvelopeError`]s. The request's connection-info fields and the security context
//!   (element `[1]`) are optional and parsed tolerantly: a malformed value there is dropped,
//!   not an error, because CSE does not depend on them.
//! * **Size limit**: decoded bodies larger than [`ExtLimits::max_body_bytes`] (10 MiB by
//!   default) are refused before they are decoded, as are whole messages far beyond that.
//! * **API version** comes from the first `version=` parameter found in any element of a
//!   (possibly multi-valued) `Accept` header; none is a typed error instead of 1.2.x's index
//!   error.
//! * **Reply `Content-Type`** is the request's `Accept` verbatim when it is a single media
//!   range (1.2.x compatibility: vcd-cli relies on it); for a multi-valued `Accept` the first
//!   element carrying `version=` (else the first element) is used, and `application/json`
//!   when the request had no `Accept`. `Content-Length` is the byte length of the body.
//! * The authorization token never appears in `Debug` output.
//!
//! [`mqtt`] holds the envelope of the MQTT transport (vCD 10.2+), which wraps the same request.

pub mod mqtt;

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value};

/// The `Accept` header name.
pub const HEADER_ACCEPT: &str = "Accept";
/// The vCD (legacy) session token header.
pub const HEADER_AUTHORIZATION: &str = "x-vcloud-authorization";
/// The standard `Authorization` header (`Bearer <jwt>` for a CloudAPI session).
pub const HEADER_BEARER_AUTHORIZATION: &str = "Authorization";
/// The reply's content-type header name.
pub const HEADER_CONTENT_TYPE: &str = "Content-Type";
/// The reply's content-length header name.
pub const HEADER_CONTENT_LENGTH: &str = "Content-Length";
/// Content type of a reply to a request without `Accept`.
pub const DEFAULT_REPLY_CONTENT_TYPE: &str = "application/json";
/// Default maximum decoded body size (10 MiB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
/// Headers whose values are hidden in `Debug` output.
const SECRET_HEADERS: [&str; 3] = [HEADER_AUTHORIZATION, "authorization", "cookie"];

/// Limits applied while parsing envelopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtLimits {
    /// Largest accepted decoded body, in bytes.
    pub max_body_bytes: usize,
}

impl Default for ExtLimits {
    fn default() -> Self {
        ExtLimits {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

impl ExtLimits {
    /// Largest accepted raw message: the base64 of a maximal body plus 1 MiB for the rest.
    pub fn max_message_bytes(&self) -> usize {
        self.max_body_bytes
            .saturating_add(2)
            .saturating_div(3)
            .saturating_mul(4)
            .saturating_add(1024 * 1024)
    }
}

/// Everything that can be wrong with an envelope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// The message is not JSON at all.
    #[error("extension message is not valid JSON: {0}")]
    NotJson(String),
    /// The request message is JSON but not an array.
    #[error("extension request must be a JSON array, got {0}")]
    NotAnArray(&'static str),
    /// The request array has no elements.
    #[error("extension request array is empty")]
    EmptyArray,
    /// The top-level object (request element `[0]` or the reply) is not an object.
    #[error("{what} must be a JSON object, got {found}")]
    NotAnObject {
        /// What was expected to be an object.
        what: &'static str,
        /// The JSON type found instead.
        found: &'static str,
    },
    /// A required field is absent or null.
    #[error("extension message has no '{0}' field")]
    MissingField(&'static str),
    /// A field has the wrong JSON type.
    #[error("field '{field}' must be {expected}, got {found}")]
    WrongType {
        /// The field.
        field: &'static str,
        /// The expected type.
        expected: &'static str,
        /// The JSON type found.
        found: &'static str,
    },
    /// A header value is neither a string nor a list of strings.
    #[error("header '{name}' must be a string, got {found}")]
    BadHeader {
        /// The header name.
        name: String,
        /// The JSON type found.
        found: &'static str,
    },
    /// The body is not valid base64.
    #[error("field 'body' is not valid base64: {0}")]
    BadBase64(String),
    /// The body is larger than the configured maximum.
    #[error("body of {size} bytes exceeds the maximum of {max} bytes")]
    BodyTooLarge {
        /// Size (or a lower bound of it) in bytes.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The whole message is larger than any acceptable message.
    #[error("extension message of {size} bytes exceeds the maximum of {max} bytes")]
    MessageTooLarge {
        /// Size in bytes.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// A reply's `Content-Length` header disagrees with its body.
    #[error("reply Content-Length {declared} does not match the body length {actual}")]
    ContentLengthMismatch {
        /// The header value.
        declared: u64,
        /// The decoded body length.
        actual: u64,
    },
    /// The request has no `Accept` header.
    #[error("request has no Accept header (expected e.g. 'application/*+json;version=29.0')")]
    MissingAccept,
    /// The `Accept` header carries no `version=` parameter.
    #[error(
        "Accept header '{0}' has no API version (expected e.g. 'application/*+json;version=29.0')"
    )]
    MissingApiVersion(String),
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The token a forwarded request authenticates its caller with.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum CallerToken<'a> {
    /// `x-vcloud-authorization` (a legacy session token).
    Legacy(&'a str),
    /// `Authorization: Bearer` (a JWT).
    Bearer(&'a str),
}

impl CallerToken<'_> {
    /// The token text (a secret: never log it).
    pub fn expose(&self) -> &str {
        match self {
            Self::Legacy(token) | Self::Bearer(token) => token,
        }
    }
}

impl fmt::Debug for CallerToken<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Legacy(_) => f.write_str("CallerToken::Legacy(<redacted>)"),
            Self::Bearer(_) => f.write_str("CallerToken::Bearer(<redacted>)"),
        }
    }
}

/// HTTP headers of a forwarded request: original names and order-independent storage,
/// case-insensitive lookup, secrets redacted in `Debug`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers(BTreeMap<String, String>);

impl Headers {
    /// No headers.
    pub fn new() -> Self {
        Headers::default()
    }

    /// Set a header, replacing any header with the same name in another case.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let name = name.into();
        self.0
            .retain(|existing, _| !existing.eq_ignore_ascii_case(&name));
        self.0.insert(name, value.into());
    }

    /// The value of a header, looked up case-insensitively (an exact-case match wins).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .or_else(|| {
                self.0
                    .iter()
                    .find(|(key, _)| key.eq_ignore_ascii_case(name))
                    .map(|(_, value)| value)
            })
            .map(String::as_str)
    }

    /// All headers as (name, value), sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Number of headers.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no headers.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn to_json(&self) -> Value {
        Value::Object(
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        )
    }

    fn from_json(value: &Value) -> Result<Headers, EnvelopeError> {
        let map = match value {
            Value::Null => return Ok(Headers::new()),
            Value::Object(map) => map,
            other => {
                return Err(EnvelopeError::WrongType {
                    field: "headers",
                    expected: "an object",
                    found: json_type(other),
                });
            }
        };
        let mut headers = BTreeMap::new();
        for (name, value) in map {
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Array(items) => {
                    let parts: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
                    parts
                        .ok_or_else(|| EnvelopeError::BadHeader {
                            name: name.clone(),
                            found: "an array with non-string items",
                        })?
                        .join(", ")
                }
                other => {
                    return Err(EnvelopeError::BadHeader {
                        name: name.clone(),
                        found: json_type(other),
                    });
                }
            };
            headers.insert(name.clone(), text);
        }
        Ok(Headers(headers))
    }
}

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (name, value) in &self.0 {
            if SECRET_HEADERS.iter().any(|s| s.eq_ignore_ascii_case(name)) {
                map.entry(name, &"<redacted>");
            } else {
                map.entry(name, value);
            }
        }
        map.finish()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut headers = Headers::new();
        for (k, v) in iter {
            headers.insert(k, v);
        }
        headers
    }
}

/// Element `[1]` of the inbound array: who is calling (ignored by CSE 1.x, kept for later use).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecurityContext {
    /// User URN (`urn:vcloud:user:...`).
    pub user: Option<String>,
    /// Org URN (`urn:vcloud:org:...`).
    pub org: Option<String>,
    /// Rights of the user.
    pub rights: Vec<String>,
}

impl SecurityContext {
    fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("user".into(), opt_string(&self.user));
        map.insert("org".into(), opt_string(&self.org));
        map.insert(
            "rights".into(),
            Value::Array(self.rights.iter().cloned().map(Value::String).collect()),
        );
        Value::Object(map)
    }

    /// Tolerant: anything that is not an object gives `None`; bad fields are dropped.
    fn from_json_lenient(value: &Value) -> Option<SecurityContext> {
        let map = value.as_object()?;
        let text = |key: &str| map.get(key).and_then(Value::as_str).map(str::to_owned);
        let rights = map
            .get("rights")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        Some(SecurityContext {
            user: text("user"),
            org: text("org"),
            rights,
        })
    }
}

/// A forwarded HTTP request (element `[0]` of the inbound array) with its body decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtRequest {
    /// Unique message id, echoed in the reply.
    pub id: String,
    /// HTTP method as vCD sent it (`GET`, `POST`, ...).
    pub method: String,
    /// Request path without the query (`/api/cse/c1/info`).
    pub request_uri: String,
    /// Raw query string, if any.
    pub query_string: Option<String>,
    /// Client headers.
    pub headers: Headers,
    /// Decoded HTTP body (empty when none).
    pub body: Vec<u8>,
    /// `true` in requests.
    pub request: bool,
    /// `0` in requests.
    pub status_code: i64,
    /// Connection scheme (`https`), optional.
    pub scheme: Option<String>,
    /// Protocol (`HTTP/1.1`), optional.
    pub protocol: Option<String>,
    /// Cell address, optional.
    pub local_addr: Option<String>,
    /// Cell port, optional.
    pub local_port: Option<u16>,
    /// Client address, optional.
    pub remote_addr: Option<String>,
    /// Client port, optional.
    pub remote_port: Option<u16>,
    /// Element `[1]`, when present and an object.
    pub security_context: Option<SecurityContext>,
}

impl ExtRequest {
    /// Parse the inbound JSON array with the default limits.
    pub fn from_json(message: &[u8]) -> Result<ExtRequest, EnvelopeError> {
        ExtRequest::from_json_with_limits(message, &ExtLimits::default())
    }

    /// Parse the inbound JSON array.
    pub fn from_json_with_limits(
        message: &[u8],
        limits: &ExtLimits,
    ) -> Result<ExtRequest, EnvelopeError> {
        check_message_size(message, limits)?;
        let value: Value =
            serde_json::from_slice(message).map_err(|e| EnvelopeError::NotJson(e.to_string()))?;
        let elements = match &value {
            Value::Array(elements) => elements,
            other => return Err(EnvelopeError::NotAnArray(json_type(other))),
        };
        let first = elements.first().ok_or(EnvelopeError::EmptyArray)?;
        let fields = first.as_object().ok_or(EnvelopeError::NotAnObject {
            what: "extension request element [0]",
            found: json_type(first),
        })?;
        Ok(ExtRequest {
            id: required_string(fields, "id")?,
            method: required_string(fields, "method")?,
            request_uri: required_string(fields, "requestUri")?,
            query_string: optional_string(fields, "queryString")?,
            headers: Headers::from_json(fields.get("headers").unwrap_or(&Value::Null))?,
            body: decode_body(fields.get("body"), limits)?,
            request: match fields.get("request") {
                None | Some(Value::Null) => true,
                Some(Value::Bool(b)) => *b,
                Some(other) => {
                    return Err(EnvelopeError::WrongType {
                        field: "request",
                        expected: "a boolean",
                        found: json_type(other),
                    });
                }
            },
            status_code: optional_int(fields, "statusCode")?.unwrap_or(0),
            scheme: lenient_string(fields, "scheme"),
            protocol: lenient_string(fields, "protocol"),
            local_addr: lenient_string(fields, "localAddr"),
            local_port: lenient_port(fields, "localPort"),
            remote_addr: lenient_string(fields, "remoteAddr"),
            remote_port: lenient_port(fields, "remotePort"),
            security_context: elements.get(1).and_then(SecurityContext::from_json_lenient),
        })
    }

    /// The inbound JSON array as vCD publishes it (`[request, securityContext]`).
    pub fn to_json(&self) -> String {
        let mut request = Map::new();
        request.insert("id".into(), Value::String(self.id.clone()));
        request.insert("method".into(), Value::String(self.method.clone()));
        request.insert("requestUri".into(), Value::String(self.request_uri.clone()));
        request.insert("queryString".into(), opt_string(&self.query_string));
        request.insert("headers".into(), self.headers.to_json());
        request.insert("body".into(), Value::String(BASE64.encode(&self.body)));
        request.insert("request".into(), Value::Bool(self.request));
        request.insert("statusCode".into(), Value::from(self.status_code));
        let optional = [
            ("scheme", &self.scheme),
            ("protocol", &self.protocol),
            ("localAddr", &self.local_addr),
            ("remoteAddr", &self.remote_addr),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                request.insert(key.into(), Value::String(value.clone()));
            }
        }
        for (key, port) in [
            ("localPort", self.local_port),
            ("remotePort", self.remote_port),
        ] {
            if let Some(port) = port {
                request.insert(key.into(), Value::from(port));
            }
        }
        let mut array = vec![Value::Object(request)];
        if let Some(context) = &self.security_context {
            array.push(context.to_json());
        }
        Value::Array(array).to_string()
    }

    /// The `Accept` header, if any.
    pub fn accept(&self) -> Option<&str> {
        self.headers.get(HEADER_ACCEPT)
    }

    /// The caller's legacy vCD session token (`x-vcloud-authorization`), if any.
    pub fn auth_token(&self) -> Option<&str> {
        self.headers
            .get(HEADER_AUTHORIZATION)
            .map(str::trim)
            .filter(|t| !t.is_empty())
    }

    /// The caller's bearer JWT (`Authorization: Bearer <jwt>`, scheme
    /// case-insensitive), if any. Other schemes (`Basic`) are not tokens.
    pub fn bearer_token(&self) -> Option<&str> {
        let value = self.headers.get(HEADER_BEARER_AUTHORIZATION)?.trim();
        let (scheme, token) = value.split_once(' ')?;
        let token = token.trim();
        (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
    }

    /// The token to re-hydrate the caller with: the bearer JWT when the request
    /// carries one (vCD 10.x sessions; it wins when both are present), else the
    /// legacy `x-vcloud-authorization` token.
    pub fn caller_token(&self) -> Option<CallerToken<'_>> {
        self.bearer_token()
            .map(CallerToken::Bearer)
            .or_else(|| self.auth_token().map(CallerToken::Legacy))
    }

    /// The vCD API version requested in `Accept` (e.g. `"29.0"`).
    pub fn api_version(&self) -> Result<String, EnvelopeError> {
        let accept = self.accept().ok_or(EnvelopeError::MissingAccept)?;
        api_version_from_accept(accept)
    }

    /// The content type a reply to this request carries.
    pub fn reply_content_type(&self) -> String {
        reply_content_type(self.accept())
    }
}

/// Builds an [`ExtRequest`] the way vCD does (used by the simulator and tests).
#[derive(Debug, Clone)]
pub struct ExtRequestBuilder {
    request: ExtRequest,
}

impl ExtRequestBuilder {
    /// A request with the given id, method and path (query split off into `queryString`).
    pub fn new(
        id: impl Into<String>,
        method: impl Into<String>,
        uri: impl Into<String>,
    ) -> ExtRequestBuilder {
        let uri = uri.into();
        let (path, query) = match uri.split_once('?') {
            Some((path, query)) => (path.to_owned(), Some(query.to_owned())),
            None => (uri, None),
        };
        ExtRequestBuilder {
            request: ExtRequest {
                id: id.into(),
                method: method.into(),
                request_uri: path,
                query_string: query,
                headers: Headers::new(),
                body: Vec::new(),
                request: true,
                status_code: 0,
                scheme: None,
                protocol: None,
                local_addr: None,
                local_port: None,
                remote_addr: None,
                remote_port: None,
                security_context: None,
            },
        }
    }

    /// Add a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.request.headers.insert(name, value);
        self
    }

    /// Set the raw body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.request.body = body.into();
        self
    }

    /// Set the body to the JSON text of `value`.
    pub fn json_body<T: serde::Serialize>(mut self, value: &T) -> Result<Self, serde_json::Error> {
        self.request.body = serde_json::to_vec(value)?;
        Ok(self)
    }

    /// Set the connection info fields.
    pub fn connection(
        mut self,
        scheme: impl Into<String>,
        protocol: impl Into<String>,
        local: (String, u16),
        remote: (String, u16),
    ) -> Self {
        self.request.scheme = Some(scheme.into());
        self.request.protocol = Some(protocol.into());
        self.request.local_addr = Some(local.0);
        self.request.local_port = Some(local.1);
        self.request.remote_addr = Some(remote.0);
        self.request.remote_port = Some(remote.1);
        self
    }

    /// Attach the security context (element `[1]`).
    pub fn security_context(mut self, context: SecurityContext) -> Self {
        self.request.security_context = Some(context);
        self
    }

    /// The finished request.
    pub fn build(self) -> ExtRequest {
        self.request
    }
}

/// The extension's answer to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtReply {
    /// The request's `id`.
    pub id: String,
    /// `Content-Type` header value.
    pub content_type: String,
    /// HTTP status code.
    pub status_code: u16,
    /// Decoded reply body (the JSON text).
    pub body: Vec<u8>,
}

impl ExtReply {
    /// A reply to `request` with a raw body.
    pub fn new(request: &ExtRequest, status_code: u16, body: impl Into<Vec<u8>>) -> ExtReply {
        ExtReply {
            id: request.id.clone(),
            content_type: request.reply_content_type(),
            status_code,
            body: body.into(),
        }
    }

    /// A reply to `request` whose body is the JSON text of `value` (always valid JSON).
    pub fn json<T: serde::Serialize>(
        request: &ExtRequest,
        status_code: u16,
        value: &T,
    ) -> Result<ExtReply, serde_json::Error> {
        Ok(ExtReply::new(
            request,
            status_code,
            serde_json::to_vec(value)?,
        ))
    }

    /// The reply object as JSON text:
    /// `{"id","headers":{"Content-Type","Content-Length"},"statusCode","body","request":false}`.
    pub fn to_json(&self) -> String {
        // Written directly, keys in the order a JSON object map sorts them:
        // a cluster list's body is tens of kilobytes, and going through a
        // `Value` copied it twice and scanned its base64 for escapes.
        let mut out = String::with_capacity(128 + self.body.len().div_ceil(3) * 4);
        out.push_str("{\"body\":\"");
        BASE64.encode_string(&self.body, &mut out);
        out.push_str("\",\"headers\":{\"");
        out.push_str(HEADER_CONTENT_LENGTH);
        out.push_str("\":");
        out.push_str(&self.body.len().to_string());
        out.push_str(",\"");
        out.push_str(HEADER_CONTENT_TYPE);
        out.push_str("\":");
        out.push_str(&json_string(&self.content_type));
        out.push_str("},\"id\":");
        out.push_str(&json_string(&self.id));
        out.push_str(",\"request\":false,\"statusCode\":");
        out.push_str(&self.status_code.to_string());
        out.push('}');
        out
    }

    /// Parse a reply object with the default limits.
    pub fn from_json(message: &[u8]) -> Result<ExtReply, EnvelopeError> {
        ExtReply::from_json_with_limits(message, &ExtLimits::default())
    }

    /// Parse a reply object. `Content-Length`, when present, must match the body.
    pub fn from_json_with_limits(
        message: &[u8],
        limits: &ExtLimits,
    ) -> Result<ExtReply, EnvelopeError> {
        check_message_size(message, limits)?;
        let value: Value =
            serde_json::from_slice(message).map_err(|e| EnvelopeError::NotJson(e.to_string()))?;
        let fields = value.as_object().ok_or(EnvelopeError::NotAnObject {
            what: "extension reply",
            found: json_type(&value),
        })?;
        // Content-Length is a number on the wire, so the reply headers are read as raw JSON.
        let header_map = match fields.get("headers") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(map)) => map.clone(),
            Some(other) => {
                return Err(EnvelopeError::WrongType {
                    field: "headers",
                    expected: "an object",
                    found: json_type(other),
                });
            }
        };
        let header = |name: &str| {
            header_map
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        };
        let content_type = match header(HEADER_CONTENT_TYPE) {
            None | Some(Value::Null) => DEFAULT_REPLY_CONTENT_TYPE.to_owned(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => {
                return Err(EnvelopeError::WrongType {
                    field: "Content-Type",
                    expected: "a string",
                    found: json_type(other),
                });
            }
        };
        let declared_length = match header(HEADER_CONTENT_LENGTH) {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => n.as_u64().map(Some).ok_or(EnvelopeError::WrongType {
                field: "Content-Length",
                expected: "a non-negative integer",
                found: "a number",
            })?,
            Some(Value::String(s)) => {
                Some(
                    s.trim()
                        .parse::<u64>()
                        .map_err(|_| EnvelopeError::WrongType {
                            field: "Content-Length",
                            expected: "a non-negative integer",
                            found: "a non-numeric string",
                        })?,
                )
            }
            Some(other) => {
                return Err(EnvelopeError::WrongType {
                    field: "Content-Length",
                    expected: "a non-negative integer",
                    found: json_type(other),
                });
            }
        };
        let status =
            optional_int(fields, "statusCode")?.ok_or(EnvelopeError::MissingField("statusCode"))?;
        let status_code = u16::try_from(status)
            .ok()
            .filter(|s| (100..=599).contains(s))
            .ok_or(EnvelopeError::WrongType {
                field: "statusCode",
                expected: "an HTTP status code (100-599)",
                found: "a number out of range",
            })?;
        let body = decode_body(fields.get("body"), limits)?;
        if let Some(declared) = declared_length
            && declared != body.len() as u64
        {
            return Err(EnvelopeError::ContentLengthMismatch {
                declared,
                actual: body.len() as u64,
            });
        }
        Ok(ExtReply {
            id: required_string(fields, "id")?,
            content_type,
            status_code,
            body,
        })
    }

    /// The body as UTF-8 text (lossy), for logs and tests.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The vCD API version in an `Accept` header: the value of the first `version=` parameter found
/// in any comma-separated element (`application/*+json;version=29.0` → `29.0`).
pub fn api_version_from_accept(accept: &str) -> Result<String, EnvelopeError> {
    accept
        .split(',')
        .flat_map(|element| element.split(';').skip(1))
        .filter_map(|param| param.split_once('='))
        .find(|(key, _)| key.trim().eq_ignore_ascii_case("version"))
        .map(|(_, value)| value.trim().trim_matches('"').to_owned())
        .filter(|version| !version.is_empty())
        .ok_or_else(|| EnvelopeError::MissingApiVersion(accept.to_owned()))
}

/// The `Content-Type` of a reply given the request's `Accept` (see the module decisions).
pub fn reply_content_type(accept: Option<&str>) -> String {
    let Some(accept) = accept.map(str::trim).filter(|a| !a.is_empty()) else {
        return DEFAULT_REPLY_CONTENT_TYPE.to_owned();
    };
    if !accept.contains(',') {
        return accept.to_owned();
    }
    let elements: Vec<&str> = accept
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    elements
        .iter()
        .find(|e| api_version_from_accept(e).is_ok())
        .or(elements.first())
        .map(|e| (*e).to_owned())
        .unwrap_or_else(|| DEFAULT_REPLY_CONTENT_TYPE.to_owned())
}

fn check_message_size(message: &[u8], limits: &ExtLimits) -> Result<(), EnvelopeError> {
    let max = limits.max_message_bytes();
    if message.len() > max {
        return Err(EnvelopeError::MessageTooLarge {
            size: message.len(),
            max,
        });
    }
    Ok(())
}

/// `text` as a JSON string literal, quotes included.
fn json_string(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}

fn decode_body(value: Option<&Value>, limits: &ExtLimits) -> Result<Vec<u8>, EnvelopeError> {
    let encoded = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::String(s)) => s,
        Some(other) => {
            return Err(EnvelopeError::WrongType {
                field: "body",
                expected: "a base64 string",
                found: json_type(other),
            });
        }
    };
    // Whitespace (line-wrapped base64) is tolerated; copied out only when present.
    let compact: std::borrow::Cow<'_, str> = if encoded.bytes().any(|b| b.is_ascii_whitespace()) {
        encoded
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect::<String>()
            .into()
    } else {
        encoded.as_str().into()
    };
    let lower_bound = compact.len() / 4 * 3;
    if lower_bound > limits.max_body_bytes.saturating_add(2) {
        return Err(EnvelopeError::BodyTooLarge {
            size: lower_bound,
            max: limits.max_body_bytes,
        });
    }
    let body = BASE64
        .decode(compact.as_bytes())
        .map_err(|e| EnvelopeError::BadBase64(e.to_string()))?;
    if body.len() > limits.max_body_bytes {
        return Err(EnvelopeError::BodyTooLarge {
            size: body.len(),
            max: limits.max_body_bytes,
        });
    }
    Ok(body)
}

fn required_string(
    fields: &Map<String, Value>,
    key: &'static str,
) -> Result<String, EnvelopeError> {
    optional_string(fields, key)?.ok_or(EnvelopeError::MissingField(key))
}

fn optional_string(
    fields: &Map<String, Value>,
    key: &'static str,
) -> Result<Option<String>, EnvelopeError> {
    match fields.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(EnvelopeError::WrongType {
            field: key,
            expected: "a string",
            found: json_type(other),
        }),
    }
}

fn optional_int(
    fields: &Map<String, Value>,
    key: &'static str,
) -> Result<Option<i64>, EnvelopeError> {
    match fields.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or(EnvelopeError::WrongType {
            field: key,
            expected: "an integer",
            found: "a non-integer number",
        }),
        Some(other) => Err(EnvelopeError::WrongType {
            field: key,
            expected: "an integer",
            found: json_type(other),
        }),
    }
}

fn lenient_string(fields: &Map<String, Value>, key: &str) -> Option<String> {
    match fields.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn lenient_port(fields: &Map<String, Value>, key: &str) -> Option<u16> {
    match fields.get(key)? {
        Value::Number(n) => n.as_u64().and_then(|p| u16::try_from(p).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn opt_string(value: &Option<String>) -> Value {
    value.clone().map(Value::String).unwrap_or(Value::Null)
}
