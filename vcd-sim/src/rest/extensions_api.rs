//! MQTT API extensions (vCD 10.2+; the 10.3+ profiles): the CloudAPI
//! registration `GET|POST /cloudapi/extensions/api`,
//! `GET|PUT|DELETE /cloudapi/extensions/api/{id}` (documents with the
//! extension's `mqttTopics`), and the broker's websocket `/messaging/mqtt`.
//! An extension's API filters are the legacy service's
//! (`/api/admin/extension/service/{uuid}/apifilters`), the uuid given by the
//! `Link` header of its document, as CSE 3.x reads it.

use axum::body::Bytes;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::common::IntoOk;
use super::context::Ctx;
use super::sessions::{cloudapi_error, cloudapi_unauthorized, json_response};
use crate::state::admin::{ApiExtensionInput, api_extension_urn};
use crate::state::{ExtensionService, SimError};

fn no_mqtt(ctx: &Ctx) -> Option<Response> {
    (!ctx.state.release.has_mqtt()).then(|| {
        cloudapi_error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            &format!(
                "MQTT API extensions are not available in vCD {} (they came with 10.2).",
                ctx.state.release
            ),
        )
    })
}

/// The CloudAPI document of an MQTT extension.
pub(crate) fn extension_doc(s: &ExtensionService) -> serde_json::Value {
    let (version, monitor, respond) = s
        .mqtt
        .as_ref()
        .map(|m| (m.version.as_str(), m.monitor.as_str(), m.respond.as_str()))
        .unwrap_or_default();
    serde_json::json!({
        "id": api_extension_urn(&s.vendor, &s.name, version),
        "name": s.name,
        "version": version,
        "vendor": s.vendor,
        "priority": s.priority,
        "enabled": s.enabled,
        "authorizationEnabled": s.authorization_enabled,
        "description": s.description,
        "mqttTopics": {"monitor": monitor, "respond": respond},
    })
}

fn with_link(ctx: &Ctx, s: &ExtensionService, mut r: Response) -> Response {
    let link = format!(
        "<{}/api/admin/extension/service/{}>;rel=\"alternate\";type=\"application/vnd.vmware.admin.service+xml\"",
        ctx.base, s.id
    );
    if let Ok(v) = HeaderValue::from_str(&link) {
        r.headers_mut().insert("Link", v);
    }
    r
}

fn sim_error(e: SimError) -> Response {
    let (status, code) = match &e {
        SimError::Forbidden(_) => (StatusCode::FORBIDDEN, "ACCESS_TO_RESOURCE_IS_FORBIDDEN"),
        SimError::NotFound(_) => (StatusCode::NOT_FOUND, "NOT_FOUND"),
        SimError::DuplicateName(_) => (StatusCode::BAD_REQUEST, "DUPLICATE_NAME"),
        SimError::Unauthorized(_) => return cloudapi_unauthorized(),
        _ => (StatusCode::BAD_REQUEST, "BAD_REQUEST"),
    };
    cloudapi_error(status, code, &e.to_string())
}

/// The registration body; a refusal's text names what was wrong.
fn parse_input(body: &[u8]) -> Result<ApiExtensionInput, String> {
    let bad = |m: String| m;
    let json: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| bad(format!("The request body is not JSON: {e}")))?;
    let text = |k: &str| {
        json.get(k)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .trim()
            .to_string()
    };
    // CSE 3.x sends the booleans as the strings "true" / "false".
    let flag = |k: &str, default: bool| match json.get(k) {
        Some(serde_json::Value::Bool(b)) => Ok(*b),
        Some(serde_json::Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
        Some(serde_json::Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(false),
        None | Some(serde_json::Value::Null) => Ok(default),
        Some(other) => Err(bad(format!("\"{k}\" must be a boolean, got {other}"))),
    };
    let priority = match json.get("priority") {
        None | Some(serde_json::Value::Null) => 50,
        Some(v) => v
            .as_i64()
            .and_then(|p| i32::try_from(p).ok())
            .ok_or_else(|| bad(format!("\"priority\" must be an integer, got {v}")))?,
    };
    Ok(ApiExtensionInput {
        name: text("name"),
        vendor: text("vendor"),
        version: text("version"),
        priority,
        enabled: flag("enabled", true)?,
        authorization_enabled: flag("authorizationEnabled", false)?,
        description: text("description"),
    })
}

/// `GET /cloudapi/extensions/api`: one page of every MQTT extension.
pub(super) async fn list(ctx: Ctx) -> Response {
    if let Some(r) = no_mqtt(&ctx) {
        return r;
    }
    let Ok(caller) = ctx.caller() else {
        return cloudapi_unauthorized();
    };
    match ctx.state.sim.api_extensions(&caller) {
        Ok(list) => {
            let values: Vec<_> = list.iter().map(extension_doc).collect();
            json_response(
                StatusCode::OK,
                serde_json::json!({
                    "resultTotal": values.len(),
                    "pageCount": 1,
                    "page": 1,
                    "pageSize": values.len().max(1),
                    "associations": null,
                    "values": values,
                }),
            )
        }
        Err(e) => sim_error(e),
    }
}

/// `POST /cloudapi/extensions/api`: registers an extension (201).
pub(super) async fn create(ctx: Ctx, body: Bytes) -> Response {
    if let Some(r) = no_mqtt(&ctx) {
        return r;
    }
    let Ok(caller) = ctx.caller() else {
        return cloudapi_unauthorized();
    };
    let input = match parse_input(&body) {
        Ok(i) => i,
        Err(m) => return cloudapi_error(StatusCode::BAD_REQUEST, "BAD_REQUEST", &m),
    };
    match ctx.state.sim.create_api_extension(&caller, input) {
        Ok(s) => with_link(
            &ctx,
            &s,
            json_response(StatusCode::CREATED, extension_doc(&s)),
        ),
        Err(e) => sim_error(e),
    }
}

/// `GET /cloudapi/extensions/api/{id}`.
pub(super) async fn get_one(ctx: Ctx, id: String) -> Response {
    if let Some(r) = no_mqtt(&ctx) {
        return r;
    }
    let Ok(caller) = ctx.caller() else {
        return cloudapi_unauthorized();
    };
    match ctx.state.sim.api_extension(&caller, &id) {
        Ok(s) => with_link(&ctx, &s, json_response(StatusCode::OK, extension_doc(&s))),
        Err(e) => sim_error(e),
    }
}

/// `PUT /cloudapi/extensions/api/{id}`.
pub(super) async fn put_one(ctx: Ctx, id: String, body: Bytes) -> Response {
    if let Some(r) = no_mqtt(&ctx) {
        return r;
    }
    let Ok(caller) = ctx.caller() else {
        return cloudapi_unauthorized();
    };
    let input = match parse_input(&body) {
        Ok(i) => i,
        Err(m) => return cloudapi_error(StatusCode::BAD_REQUEST, "BAD_REQUEST", &m),
    };
    match ctx.state.sim.update_api_extension(&caller, &id, input) {
        Ok(s) => with_link(&ctx, &s, json_response(StatusCode::OK, extension_doc(&s))),
        Err(e) => sim_error(e),
    }
}

/// `DELETE /cloudapi/extensions/api/{id}` (204); its tokens go with it.
pub(super) async fn delete_one(ctx: Ctx, id: String) -> Response {
    if let Some(r) = no_mqtt(&ctx) {
        return r;
    }
    let Ok(caller) = ctx.caller() else {
        return cloudapi_unauthorized();
    };
    match ctx.state.sim.delete_api_extension(&caller, &id) {
        Ok(s) => {
            if let Some(m) = &s.mqtt {
                ctx.state
                    .auth
                    .delete_extension_tokens(&format!("{}/{}/{}", s.vendor, s.name, m.version));
            }
            StatusCode::NO_CONTENT.into_response_ok()
        }
        Err(e) => sim_error(e),
    }
}

/// `GET /messaging/mqtt`: the broker's websocket (subprotocol `mqtt`).
pub(super) async fn socket(ctx: Ctx, ws: WebSocketUpgrade) -> Response {
    if let Some(r) = no_mqtt(&ctx) {
        return r;
    }
    let broker = ctx.state.mqtt.clone();
    let sim = ctx.state.sim.clone();
    let auth = ctx.state.auth.clone();
    ws.protocols(["mqtt"])
        .max_message_size(crate::mqtt::MAX_PACKET_BYTES)
        .on_upgrade(move |socket| {
            broker.serve_socket(socket, move |user, password| {
                crate::mqtt::MqttBroker::authenticate(&sim, &auth, user, password)
            })
        })
        .into_response()
}
