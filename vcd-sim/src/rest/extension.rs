//! Request plumbing around every route: the request-id header, the length
//! limit on a declared `Content-Length` (413), the API version check of the
//! release played (406), the legacy login routes removed at API 38.0 (405), and vCD's API-extension routing — a path fully
//! matching an enabled extension's API filter goes to the extension (after
//! authentication), not to vCD's own handlers.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::context::{AppState, MAX_BODY, VcdErrorResponse, accept_version, request_version};
use crate::ext::{ExtensionForwarder as _, ForwardedRequest, SecurityContext};
use crate::state::EntityRef;

/// Largest request body forwarded to an extension.
const MAX_FORWARD_BODY: usize = 16 * 1024 * 1024;

/// Axum middleware in front of every route: hands requests matching an
/// extension's API filter to the extension, passes the others on.
pub(crate) async fn middleware(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut resp = handle(state, req, next).await;
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("X-VMWARE-VCLOUD-REQUEST-ID", v);
    }
    resp
}

async fn handle(state: AppState, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if let Some(len) = declared_length(&req)
        && len > MAX_BODY as u64
    {
        // Refused on its Content-Length, before a byte of it is read.
        return VcdErrorResponse::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "BAD_REQUEST",
            format!(
                "The request body of {len} bytes is over the length limit of {MAX_BODY} bytes."
            ),
        )
        .into_response();
    }
    if path.starts_with("/api/") && path != "/api/versions" {
        let accept = req
            .headers()
            .get(axum::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if let Some(v) = accept_version(accept)
            && !state.release.serves(&v)
        {
            return VcdErrorResponse::new(
                StatusCode::NOT_ACCEPTABLE,
                "NOT_ACCEPTABLE",
                format!(
                    "The request has invalid accept header: Invalid API version requested: {v}"
                ),
            )
            .into_response();
        }
        let version = request_version(state.release, req.headers());
        if state.release.legacy_login_removed(&version) && is_legacy_login(req.method(), &path) {
            return method_not_allowed(accept, &version);
        }
        if state.sim.has_enabled_services()
            && let Some(target) = state.sim.route_extension(&path)
        {
            return forward(state, target, req).await;
        }
    }
    next.run(req).await
}

/// The routes VMware removed at API 38.0: `POST /api/sessions`,
/// `GET|POST /api/login`, `DELETE /api/session`.
fn is_legacy_login(method: &axum::http::Method, path: &str) -> bool {
    use axum::http::Method;
    let path = path.trim_end_matches('/');
    (path == "/api/sessions" && method == Method::POST)
        || (path == "/api/login" && (method == Method::GET || method == Method::POST))
        || (path == "/api/session" && method == Method::DELETE)
}

/// vCD's answer to a removed operation: 405 `METHOD_NOT_ALLOWED`, "HTTP
/// method not allowed" (JSON for a JSON Accept, else an `Error` document).
fn method_not_allowed(accept: &str, version: &str) -> Response {
    const MESSAGE: &str = "HTTP method not allowed";
    if accept.contains("json") {
        let body = serde_json::json!({
            "minorErrorCode": "METHOD_NOT_ALLOWED",
            "message": MESSAGE,
            "stackTrace": null,
        });
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response();
    }
    let mut e = VcdErrorResponse::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        MESSAGE,
    );
    e.version = version.to_string();
    e.into_response()
}

/// The request's `Content-Length`, if it has a valid one.
fn declared_length(req: &Request) -> Option<u64> {
    req.headers()
        .get(axum::http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

async fn forward(state: AppState, target: crate::ext::ExtensionTarget, req: Request) -> Response {
    let caller = match state.caller_of(req.headers()) {
        Some(c) => c,
        None => return VcdErrorResponse::unauthorized().into_response(),
    };
    let mqtt = target.mqtt.is_some().then(|| state.mqtt.clone());
    let forwarder = state.forwarder.clone();
    if mqtt.is_none() && forwarder.is_none() {
        return VcdErrorResponse::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_SERVER_ERROR",
            format!(
                "Cannot send message to service with id: {}. Check your service configuration.",
                target.id
            ),
        )
        .into_response();
    }
    let remote_addr = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.to_string());
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, MAX_FORWARD_BODY).await {
        Ok(b) => b,
        Err(e) => {
            return VcdErrorResponse::bad_request(format!("cannot read request body: {e}"))
                .into_response();
        }
    };
    let headers = parts
        .headers
        .iter()
        .filter_map(|(k, v)| {
            v.to_str()
                .ok()
                .map(|v| (header_case(k.as_str()), v.to_string()))
        })
        .collect();
    let forwarded = ForwardedRequest {
        method: parts.method.to_string(),
        request_uri: parts.uri.path().to_string(),
        query_string: parts.uri.query().map(str::to_string),
        headers,
        body,
        security: SecurityContext {
            user_urn: EntityRef::User(caller.user).urn(),
            user_name: caller.user_name.clone(),
            org_urn: EntityRef::Org(caller.org).urn(),
            org_name: caller.org_name.clone(),
            rights: caller.rights.clone(),
        },
        remote_addr,
    };
    let reply = match (mqtt, forwarder) {
        (Some(broker), _) => match &state.ext_faults {
            // The delivery fault rules and the recording cover MQTT too.
            Some((faults, tap)) => {
                let over_mqtt = crate::ext::FnForwarder::new(move |t, r| {
                    let broker = broker.clone();
                    Box::pin(async move { broker.forward(&t, r).await })
                });
                crate::ext_faults::FaultingForwarder::new(
                    Arc::new(over_mqtt),
                    faults.clone(),
                    tap.clone(),
                )
                .forward(target, forwarded)
                .await
            }
            None => broker.forward(&target, forwarded).await,
        },
        (None, Some(forwarder)) => forwarder.forward(target, forwarded).await,
        (None, None) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let mut resp = Response::new(Body::from(reply.body));
    *resp.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::BAD_GATEWAY);
    for (k, v) in reply.headers {
        if k.eq_ignore_ascii_case("content-length") {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&v),
        ) {
            resp.headers_mut().insert(name, value);
        }
    }
    resp
}

/// HTTP/1 header names arrive lower-cased; CSE 1.x reads `Accept` and
/// `x-vcloud-authorization` by exact key, so restore the usual spelling.
fn header_case(name: &str) -> String {
    match name {
        "x-vcloud-authorization" => name.to_string(),
        _ => name
            .split('-')
            .map(|p| {
                let mut c = p.chars();
                match c.next() {
                    Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                    None => String::new(),
                }
            })
            .collect::<Vec<_>>()
            .join("-"),
    }
}

/// No route and no extension: vCD's own 404 (406 for a JSON Accept, as
/// vCD answers when no extension took the request).
pub async fn fallback(req: Request) -> Response {
    let accept = req
        .headers()
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.contains("json") && req.uri().path().starts_with("/api/") {
        return VcdErrorResponse::new(
            StatusCode::NOT_ACCEPTABLE,
            "NOT_ACCEPTABLE",
            "The request has invalid accept header.",
        )
        .into_response();
    }
    VcdErrorResponse::not_found(format!(
        "The requested resource {} was not found.",
        req.uri().path()
    ))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::header_case;

    #[test]
    fn header_names_get_their_usual_case() {
        assert_eq!(header_case("accept"), "Accept");
        assert_eq!(header_case("content-type"), "Content-Type");
        assert_eq!(
            header_case("x-vcloud-authorization"),
            "x-vcloud-authorization"
        );
    }
}
