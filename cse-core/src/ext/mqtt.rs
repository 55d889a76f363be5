//! The envelope of vCD's MQTT extension transport (vCD 10.2+), as CSE 3.x's
//! MQTT consumer and publisher read and write it.
//!
//! A request on the extension's `monitor` topic is a JSON object
//! `{"type": "API_REQUEST", "headers": {"requestId": …}, "httpRequest": <base64>}`
//! whose `httpRequest` decodes to `{"message": <the AMQP request element [0]>,
//! "securityContext": {…, "apiAccessToken": …}}`; the answer on the `respond`
//! topic is `{"type": "API_RESPONSE", "headers": {"requestId": …},
//! "httpResponse": {"statusCode", "headers": {"Content-Type", "Content-Length"},
//! "body": <base64>}}`. The inner message is the same object as element `[0]`
//! of the AMQP array, so both transports share [`ExtRequest`] and [`ExtReply`].

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value};

use super::{
    DEFAULT_REPLY_CONTENT_TYPE, EnvelopeError, ExtLimits, ExtReply, ExtRequest,
    HEADER_CONTENT_LENGTH, HEADER_CONTENT_TYPE, check_message_size, json_type,
};

/// `type` of an API request message.
pub const API_REQUEST: &str = "API_REQUEST";
/// `type` of an API response message.
pub const API_RESPONSE: &str = "API_RESPONSE";

/// A request as it arrives on the monitor topic.
#[derive(Clone, PartialEq, Eq)]
pub struct MqttRequest {
    /// `headers.requestId`: pairs the response with the request.
    pub request_id: String,
    /// The forwarded HTTP request (the inner `message`).
    pub request: ExtRequest,
    /// `securityContext.apiAccessToken`, when vCD sent one (never shown by `Debug`).
    pub api_access_token: Option<String>,
}

impl std::fmt::Debug for MqttRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MqttRequest")
            .field("request_id", &self.request_id)
            .field("request", &self.request)
            .field(
                "api_access_token",
                &self.api_access_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// The `headers.requestId` of a message, if it has one (for answering a
/// request that cannot be parsed otherwise).
pub fn request_id_of(message: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(message).ok()?;
    value
        .get("headers")?
        .get("requestId")?
        .as_str()
        .map(str::to_owned)
}

impl MqttRequest {
    /// Parses a monitor-topic message.
    pub fn from_json_with_limits(
        message: &[u8],
        limits: &ExtLimits,
    ) -> Result<MqttRequest, EnvelopeError> {
        check_message_size(message, limits)?;
        let value: Value =
            serde_json::from_slice(message).map_err(|e| EnvelopeError::NotJson(e.to_string()))?;
        let fields = value.as_object().ok_or(EnvelopeError::NotAnObject {
            what: "MQTT extension message",
            found: json_type(&value),
        })?;
        match fields.get("type") {
            Some(Value::String(t)) if t == API_REQUEST => {}
            Some(Value::String(_)) => {
                return Err(EnvelopeError::WrongType {
                    field: "type",
                    expected: "\"API_REQUEST\"",
                    found: "another message type",
                });
            }
            Some(other) => {
                return Err(EnvelopeError::WrongType {
                    field: "type",
                    expected: "a string",
                    found: json_type(other),
                });
            }
            None => return Err(EnvelopeError::MissingField("type")),
        }
        let request_id = fields
            .get("headers")
            .and_then(|h| h.get("requestId"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or(EnvelopeError::MissingField("headers.requestId"))?
            .to_owned();
        let encoded = match fields.get("httpRequest") {
            Some(Value::String(s)) => s,
            Some(other) => {
                return Err(EnvelopeError::WrongType {
                    field: "httpRequest",
                    expected: "a base64 string",
                    found: json_type(other),
                });
            }
            None => return Err(EnvelopeError::MissingField("httpRequest")),
        };
        let decoded = BASE64
            .decode(encoded.as_bytes())
            .map_err(|e| EnvelopeError::BadBase64(e.to_string()))?;
        let inner: Value =
            serde_json::from_slice(&decoded).map_err(|e| EnvelopeError::NotJson(e.to_string()))?;
        let message = inner
            .get("message")
            .cloned()
            .ok_or(EnvelopeError::MissingField("httpRequest.message"))?;
        let security = inner.get("securityContext").cloned().unwrap_or(Value::Null);
        let api_access_token = security
            .get("apiAccessToken")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let array = Value::Array(vec![message, security]).to_string();
        let request = ExtRequest::from_json_with_limits(array.as_bytes(), limits)?;
        Ok(MqttRequest {
            request_id,
            request,
            api_access_token,
        })
    }

    /// The monitor-topic message as vCD publishes it.
    pub fn to_json(&self) -> String {
        // `ExtRequest::to_json` is the AMQP array `[message, securityContext]`.
        let array: Value = serde_json::from_str(&self.request.to_json()).unwrap_or(Value::Null);
        let message = array.get(0).cloned().unwrap_or(Value::Null);
        let mut security = match array.get(1) {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        if let Some(token) = &self.api_access_token {
            security.insert("apiAccessToken".into(), Value::String(token.clone()));
        }
        let mut inner = Map::new();
        inner.insert("message".into(), message);
        inner.insert("securityContext".into(), Value::Object(security));
        let encoded = BASE64.encode(Value::Object(inner).to_string());
        serde_json::json!({
            "type": API_REQUEST,
            "headers": {"requestId": self.request_id},
            "httpRequest": encoded,
        })
        .to_string()
    }
}

/// The response published on the respond topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MqttResponse {
    /// The request's `requestId`.
    pub request_id: String,
    /// Status, content type and body.
    pub reply: ExtReply,
}

impl MqttResponse {
    /// The response message: `{"type": "API_RESPONSE", "headers": {"requestId"},
    /// "httpResponse": {"statusCode", "headers", "body"}}`.
    pub fn to_json(&self) -> String {
        let mut headers = Map::new();
        headers.insert(
            HEADER_CONTENT_TYPE.into(),
            Value::String(self.reply.content_type.clone()),
        );
        headers.insert(
            HEADER_CONTENT_LENGTH.into(),
            Value::from(self.reply.body.len()),
        );
        serde_json::json!({
            "type": API_RESPONSE,
            "headers": {"requestId": self.request_id},
            "httpResponse": {
                "statusCode": self.reply.status_code,
                "headers": Value::Object(headers),
                "body": BASE64.encode(&self.reply.body),
            },
        })
        .to_string()
    }

    /// Parses a respond-topic message (the simulator's side). The reply's
    /// `id` is the `requestId`.
    pub fn from_json_with_limits(
        message: &[u8],
        limits: &ExtLimits,
    ) -> Result<MqttResponse, EnvelopeError> {
        check_message_size(message, limits)?;
        let value: Value =
            serde_json::from_slice(message).map_err(|e| EnvelopeError::NotJson(e.to_string()))?;
        let request_id = value
            .get("headers")
            .and_then(|h| h.get("requestId"))
            .and_then(Value::as_str)
            .ok_or(EnvelopeError::MissingField("headers.requestId"))?
            .to_owned();
        let http = value
            .get("httpResponse")
            .ok_or(EnvelopeError::MissingField("httpResponse"))?;
        let status = http
            .get("statusCode")
            .and_then(Value::as_u64)
            .and_then(|s| u16::try_from(s).ok())
            .ok_or(EnvelopeError::MissingField("httpResponse.statusCode"))?;
        let content_type = http
            .get("headers")
            .and_then(|h| {
                h.as_object()?.iter().find_map(|(k, v)| {
                    k.eq_ignore_ascii_case(HEADER_CONTENT_TYPE)
                        .then(|| v.as_str().map(str::to_owned))
                        .flatten()
                })
            })
            .unwrap_or_else(|| DEFAULT_REPLY_CONTENT_TYPE.to_owned());
        let body = match http.get("body") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) => {
                if s.len() / 4 * 3 > limits.max_body_bytes {
                    return Err(EnvelopeError::BodyTooLarge {
                        size: s.len() / 4 * 3,
                        max: limits.max_body_bytes,
                    });
                }
                BASE64
                    .decode(s.as_bytes())
                    .map_err(|e| EnvelopeError::BadBase64(e.to_string()))?
            }
            Some(other) => {
                return Err(EnvelopeError::WrongType {
                    field: "httpResponse.body",
                    expected: "a base64 string",
                    found: json_type(other),
                });
            }
        };
        Ok(MqttResponse {
            reply: ExtReply {
                id: request_id.clone(),
                content_type,
                status_code: status,
                body,
            },
            request_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ext::{ExtRequestBuilder, SecurityContext};

    fn request() -> MqttRequest {
        MqttRequest {
            request_id: "7c0e6f5e-1".into(),
            request: ExtRequestBuilder::new("m-1", "GET", "/api/cse/system")
                .header("Accept", "application/*+json;version=36.0")
                .header("x-vcloud-authorization", "tok")
                .security_context(SecurityContext {
                    user: Some("urn:vcloud:user:1".into()),
                    org: Some("urn:vcloud:org:1".into()),
                    rights: vec![],
                })
                .build(),
            api_access_token: Some("jwt-secret".into()),
        }
    }

    #[test]
    fn request_round_trips_through_the_envelope() {
        let r = request();
        let json = r.to_json();
        let back = MqttRequest::from_json_with_limits(json.as_bytes(), &ExtLimits::default())
            .expect("parses");
        assert_eq!(back, r);
        assert_eq!(
            request_id_of(json.as_bytes()).as_deref(),
            Some("7c0e6f5e-1")
        );
        assert!(!format!("{back:?}").contains("jwt-secret"));
    }

    #[test]
    fn request_envelope_is_the_documented_shape() {
        let json: Value = serde_json::from_str(&request().to_json()).unwrap();
        assert_eq!(json["type"], "API_REQUEST");
        assert_eq!(json["headers"]["requestId"], "7c0e6f5e-1");
        let inner: Value = serde_json::from_slice(
            &BASE64
                .decode(json["httpRequest"].as_str().unwrap())
                .unwrap(),
        )
        .unwrap();
        insta::assert_json_snapshot!("mqtt_request_inner", inner);
    }

    #[test]
    fn response_round_trips_and_has_the_documented_shape() {
        let r = MqttResponse {
            request_id: "7c0e6f5e-1".into(),
            reply: ExtReply {
                id: "7c0e6f5e-1".into(),
                content_type: "application/json".into(),
                status_code: 202,
                body: br#"{"ok":true}"#.to_vec(),
            },
        };
        let json = r.to_json();
        let v: Value = serde_json::from_str(&json).unwrap();
        insta::assert_json_snapshot!("mqtt_response", v);
        let back =
            MqttResponse::from_json_with_limits(json.as_bytes(), &ExtLimits::default()).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn malformed_requests_are_typed_errors() {
        let limits = ExtLimits::default();
        let cases: &[(&str, &str)] = &[
            ("not json", "not valid JSON"),
            ("[]", "must be a JSON object"),
            (
                r#"{"headers":{"requestId":"1"},"httpRequest":"e30="}"#,
                "'type'",
            ),
            (
                r#"{"type":"BEHAVIOR_INVOCATION","headers":{"requestId":"1"}}"#,
                "API_REQUEST",
            ),
            (
                r#"{"type":"API_REQUEST","httpRequest":"e30="}"#,
                "requestId",
            ),
            (
                r#"{"type":"API_REQUEST","headers":{"requestId":"1"},"httpRequest":"%%%"}"#,
                "base64",
            ),
            (
                r#"{"type":"API_REQUEST","headers":{"requestId":"1"},"httpRequest":"e30="}"#,
                "message",
            ),
        ];
        for (input, needle) in cases {
            let e = MqttRequest::from_json_with_limits(input.as_bytes(), &limits)
                .expect_err(input)
                .to_string();
            assert!(e.contains(needle), "{input}: {e}");
        }
    }
}
