//! What every route handler shares: the HTTP layer's state ([`AppState`]),
//! the per-request context ([`Ctx`]: base URL, negotiated API version,
//! session token), vCD `Error` documents ([`VcdErrorResponse`]) and the
//! hand-over trait for extension requests. The family modules and the route
//! table in `rest` import from here; nothing here imports a family.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::xml::{self, El};
use crate::auth::Auth;
use crate::ext::ExtensionForwarder;
use crate::release::VcdRelease;
use crate::state::{Caller, Sim, SimError};

/// API versions of the default (9.5) profile; the versions a running
/// simulator serves come from its [`VcdRelease`] ([`AppState::release`]).
pub const SUPPORTED_VERSIONS: &[&str] = &["29.0", "30.0", "31.0", "32.0"];

/// Shared state of the HTTP layer.
#[derive(Clone)]
pub struct AppState {
    /// The simulated vCD state.
    pub sim: Arc<Sim>,
    /// `https` or `http`: used with the request's Host when no public URL is set.
    pub scheme: &'static str,
    /// Fixed public base URL (`scheme://host:port`), if configured.
    pub public_url: Option<String>,
    /// Where requests matching an API filter go; `None`: extensions are not reachable.
    pub forwarder: Option<Arc<dyn ExtensionForwarder>>,
    /// The vCD release played: versions, login routes, tokens.
    pub release: VcdRelease,
    /// JWT sessions and API tokens.
    pub auth: Arc<Auth>,
    /// The MQTT extension bus (10.3+ profiles): broker and round trips.
    pub mqtt: crate::mqtt::MqttBroker,
    /// Extension delivery fault rules and the recorder's tap for requests
    /// to MQTT extensions.
    pub ext_faults: Option<(crate::ext_faults::ExtFaults, crate::ext_faults::ExtTap)>,
}

impl AppState {
    /// The plain session token a request authenticates with:
    /// `x-vcloud-authorization`, or `Authorization: Bearer` holding a valid,
    /// unexpired JWT of this simulator (resolved to the session it stands
    /// on). The 9.5 profile also takes a plain session token as Bearer, as
    /// the simulator always did. Returns the JWT session id with it.
    pub fn session_token(&self, headers: &HeaderMap) -> Option<(String, Option<uuid::Uuid>)> {
        if let Some(v) = headers
            .get("x-vcloud-authorization")
            .and_then(|v| v.to_str().ok())
        {
            return Some((v.trim().to_string(), None));
        }
        let bearer = bearer_token(headers)?;
        if bearer.contains('.') {
            return match self.auth.resolve(&bearer) {
                Ok((id, token)) => Some((token, Some(id))),
                Err(e) => {
                    tracing::debug!(error = %e, "bearer token refused");
                    None
                }
            };
        }
        (self.release == VcdRelease::V9_5).then_some((bearer, None))
    }

    /// The caller of a request, from [`Self::session_token`].
    pub fn caller_of(&self, headers: &HeaderMap) -> Option<Caller> {
        let (token, _) = self.session_token(headers)?;
        self.sim.session(&token).ok()
    }

    /// Ends a plain session and every JWT session standing on it.
    pub fn end_session(&self, token: &str) {
        self.auth.end_sessions_on(token);
        self.sim.logout(token);
    }
}

/// The value of `Authorization: Bearer <value>`.
pub fn bearer_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|v| v.trim().to_string())
}

/// An error answered as a vCD `Error` document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VcdErrorResponse {
    /// HTTP status (`majorErrorCode`).
    pub status: StatusCode,
    /// vCD's `minorErrorCode` (`BAD_REQUEST`, ...).
    pub minor: String,
    /// The message shown to the client.
    pub message: String,
    /// API version written into the `Content-Type` (the request's, once known).
    pub version: String,
}

impl VcdErrorResponse {
    /// An error document with `status`, `minor` code and `message`.
    pub fn new(status: StatusCode, minor: &str, message: impl Into<String>) -> Self {
        VcdErrorResponse {
            status,
            minor: minor.into(),
            message: message.into(),
            version: "32.0".into(),
        }
    }
    /// 400 `BAD_REQUEST` with `message`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", message)
    }
    /// 404 `RESOURCE_NOT_FOUND` with `message`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "RESOURCE_NOT_FOUND", message)
    }
    /// 401 `UNAUTHORIZED`, as vCD answers a missing or unknown session.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "This operation is denied.",
        )
    }
}

impl From<SimError> for VcdErrorResponse {
    fn from(e: SimError) -> Self {
        let (major, minor) = e.codes();
        VcdErrorResponse::new(
            StatusCode::from_u16(major).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            minor,
            e.to_string(),
        )
    }
}

impl From<xml::XmlError> for VcdErrorResponse {
    fn from(e: xml::XmlError) -> Self {
        VcdErrorResponse::bad_request(e.to_string())
    }
}

/// The `Error` document.
pub fn error_document(status: u16, minor: &str, message: &str) -> El {
    El::new("Error")
        .attr("xmlns", xml::NS_VCLOUD)
        .attr("majorErrorCode", status.to_string())
        .attr("minorErrorCode", minor)
        .attr("message", message)
        .attr("stackTrace", "")
}

impl IntoResponse for VcdErrorResponse {
    fn into_response(self) -> Response {
        let body = error_document(self.status.as_u16(), &self.minor, &self.message).to_document();
        let ct = format!(
            "application/vnd.vmware.vcloud.error+xml;version={}",
            self.version
        );
        (self.status, [(axum::http::header::CONTENT_TYPE, ct)], body).into_response()
    }
}

/// Result of a REST handler: a response, or an `Error` document.
pub type ApiResult = Result<Response, VcdErrorResponse>;

/// Per-request context: base URL, API version, session token.
pub struct Ctx {
    /// The shared HTTP state.
    pub state: AppState,
    /// Base URL hrefs are built on (`scheme://host:port`).
    pub base: String,
    /// API version of the request (`Accept: ...;version=`), written back in responses.
    pub version: String,
    /// The plain session token (for a JWT caller: the session it stands on).
    pub token: Option<String>,
    /// The CloudAPI session id when the caller sent a JWT.
    pub jwt_session: Option<uuid::Uuid>,
}

/// Reads `version=` from an Accept header value.
pub fn accept_version(accept: &str) -> Option<String> {
    accept
        .split([';', ','])
        .filter_map(|p| p.trim().strip_prefix("version="))
        .map(|v| v.trim().to_string())
        .next()
}

/// The session token of a request (`x-vcloud-authorization` or Bearer).
pub fn request_token(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers
        .get("x-vcloud-authorization")
        .and_then(|v| v.to_str().ok())
    {
        return Some(v.trim().to_string());
    }
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|v| v.trim().to_string())
}

/// `scheme://host:port` of the hrefs in a response: the public URL if set,
/// else the request's `Host` header (HTTP/1.1) or its URI authority (HTTP/2
/// carries the host in `:authority`, and sends no `Host`).
pub fn base_url(state: &AppState, uri: &axum::http::Uri, headers: &HeaderMap) -> String {
    if let Some(u) = &state.public_url {
        return u.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| uri.authority().map(|a| a.as_str().to_owned()))
        .unwrap_or_else(|| "localhost".to_owned());
    format!("{}://{}", state.scheme, host)
}

/// The API version of a request: its Accept version if the release serves
/// it, else the release's current version.
pub fn request_version(release: VcdRelease, headers: &HeaderMap) -> String {
    headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .and_then(accept_version)
        .filter(|v| release.serves(v))
        .unwrap_or_else(|| release.current_version().to_string())
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = VcdErrorResponse;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let version = request_version(state.release, &parts.headers);
        let session = state.session_token(&parts.headers);
        Ok(Ctx {
            state: state.clone(),
            base: base_url(state, &parts.uri, &parts.headers),
            version,
            token: session.as_ref().map(|(t, _)| t.clone()),
            jwt_session: session.and_then(|(_, id)| id),
        })
    }
}

impl Ctx {
    /// The simulated vCD state.
    pub fn sim(&self) -> &Arc<Sim> {
        &self.state.sim
    }

    /// The caller, or 401.
    pub fn caller(&self) -> Result<Caller, VcdErrorResponse> {
        let token = self
            .token
            .as_deref()
            .ok_or_else(VcdErrorResponse::unauthorized)?;
        self.state
            .sim
            .session(token)
            .map_err(|_| self.err(VcdErrorResponse::unauthorized()))
    }

    /// `e` with this request's API version.
    pub fn err(&self, mut e: VcdErrorResponse) -> VcdErrorResponse {
        e.version = self.version.clone();
        e
    }

    /// A state error with this request's version.
    pub fn fail(&self, e: SimError) -> VcdErrorResponse {
        self.err(e.into())
    }

    /// An XML response with vCD's content type.
    pub fn xml(&self, status: StatusCode, media_type: &str, doc: El) -> Response {
        let ct = format!("{media_type};version={}", self.version);
        let mut r = (status, doc.to_document()).into_response();
        if let Ok(v) = HeaderValue::from_str(&ct) {
            r.headers_mut().insert(axum::http::header::CONTENT_TYPE, v);
        }
        r
    }

    /// A 200 response holding `doc` as `media_type`.
    pub fn ok(&self, media_type: &str, doc: El) -> ApiResult {
        Ok(self.xml(StatusCode::OK, media_type, doc))
    }

    /// Absolute href of `path` (which starts with `/api`).
    pub fn href(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
}

/// Largest request body accepted: pyvcloud uploads OVA files in 10 MiB chunks.
pub const MAX_BODY: usize = 64 * 1024 * 1024;
