//! Sessions: `/api/versions` (per release profile), `/api/sessions` (Basic
//! login), `/api/session` (current session, logout) and the CloudAPI
//! sessions of `/cloudapi/1.0.0/sessions` (tenant and provider login
//! answering a JWT, `current`, logout by id), with the `SupportedVersions`
//! and `Session` documents and the CloudAPI session JSON.

use axum::http::{HeaderMap, StatusCode};
use base64::Engine;

use super::common::*;
use super::context::{ApiResult, Ctx, VcdErrorResponse};
use super::xml::{El, NS_VERSIONS};
use crate::release::{LEGACY_LOGIN_REMOVED_IN, PROVIDER_LOGIN_URL_SINCE, ServedVersion, major};
use crate::state::*;

// ----- versions and sessions -----

pub(super) async fn versions(ctx: Ctx) -> ApiResult {
    // Accept is ignored entirely here (pv20 sends ";version=32.0").
    let body = versions_doc(&ctx.base, ctx.state.release.versions()).to_document();
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "application/vnd.vmware.vcloud.versions+xml;version=1.5",
        )],
        body,
    )
        .into_response_ok())
}

pub(super) fn basic_credentials(headers: &HeaderMap) -> Option<(String, String, String)> {
    let v = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let b64 = v
        .strip_prefix("Basic ")
        .or_else(|| v.strip_prefix("basic "))?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (user_org, password) = text.split_once(':')?;
    let (user, org) = user_org.rsplit_once('@')?;
    Some((user.to_string(), org.to_string(), password.to_string()))
}

pub(super) async fn login(ctx: Ctx, headers: HeaderMap) -> ApiResult {
    let (user, org, password) = basic_credentials(&headers).ok_or_else(|| {
        ctx.err(VcdErrorResponse::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "Basic credentials of the form user@org:password are required.",
        ))
    })?;
    let (token, caller) = ctx
        .sim()
        .login(&org, &user, &password)
        .map_err(|e| ctx.fail(e))?;
    let mut resp = ctx.xml(StatusCode::OK, mt::SESSION, session(&ctx.base, &caller));
    if let Ok(v) = axum::http::HeaderValue::from_str(&token) {
        resp.headers_mut().insert("x-vcloud-authorization", v);
    }
    Ok(resp)
}

pub(super) fn cloudapi_error(
    status: StatusCode,
    minor: &str,
    message: &str,
) -> axum::response::Response {
    let body = serde_json::json!({"minorErrorCode": minor, "message": message, "stackTrace": null});
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response_ok()
}

/// `POST /cloudapi/1.0.0/sessions[/provider]` (pyvcloud 23 at API ≥ 33):
/// Basic auth in; out a JSON session, a signed JWT in
/// `X-VMWARE-VCLOUD-ACCESS-TOKEN` (`X-VMWARE-VCLOUD-TOKEN-TYPE: Bearer`) that
/// works as `Authorization: Bearer` on `/api` and `/cloudapi` until it
/// expires or the session is logged out, and the plain session token in
/// `x-vcloud-authorization`. The provider endpoint is for the System org
/// only, the tenant endpoint for every other org.
pub(super) fn cloudapi_login(
    ctx: Ctx,
    headers: HeaderMap,
    provider: bool,
) -> axum::response::Response {
    let Some((user, org, password)) = basic_credentials(&headers) else {
        return cloudapi_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "Basic credentials of the form user@org:password are required.",
        );
    };
    if org.eq_ignore_ascii_case("system") != provider {
        let hint = if provider {
            "Use /cloudapi/1.0.0/sessions for tenant orgs."
        } else {
            "Provider users log in at /cloudapi/1.0.0/sessions/provider."
        };
        return cloudapi_error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", hint);
    }
    let (token, caller) = match ctx.sim().login(&org, &user, &password) {
        Ok(x) => x,
        Err(e) => return cloudapi_error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", &e.to_string()),
    };
    let (issued, ended) = ctx.state.auth.issue(token.clone(), &caller);
    for t in ended {
        ctx.sim().logout(&t);
    }
    let mut resp = json_response(StatusCode::OK, cloudapi_session(&caller, issued.id));
    let h = resp.headers_mut();
    if let Ok(v) = axum::http::HeaderValue::from_str(&issued.jwt) {
        h.insert("X-VMWARE-VCLOUD-ACCESS-TOKEN", v);
    }
    h.insert(
        "X-VMWARE-VCLOUD-TOKEN-TYPE",
        axum::http::HeaderValue::from_static("Bearer"),
    );
    if let Ok(v) = axum::http::HeaderValue::from_str(&token) {
        h.insert("x-vcloud-authorization", v);
    }
    resp
}

/// A JSON response.
pub(super) fn json_response(
    status: StatusCode,
    body: serde_json::Value,
) -> axum::response::Response {
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response_ok()
}

/// The CloudAPI `Session` JSON.
pub fn cloudapi_session(caller: &Caller, id: uuid::Uuid) -> serde_json::Value {
    serde_json::json!({
        "id": format!("urn:vcloud:session:{id}"),
        "site": {"name": "vcd-sim", "id": "urn:vcloud:site:vcd-sim"},
        "user": {"name": caller.user_name, "id": EntityRef::User(caller.user).urn()},
        "org": {"name": caller.org_name, "id": EntityRef::Org(caller.org).urn()},
        "location": format!("{}@vcd-sim", caller.org),
        "roles": [caller.role_name],
        "sessionIdleTimeoutMinutes": 30,
    })
}

/// vCD's JSON 401 of a CloudAPI route.
pub(super) fn cloudapi_unauthorized() -> axum::response::Response {
    cloudapi_error(
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "This operation is denied.",
    )
}

/// The CloudAPI session id of the request's session: the JWT's, or one
/// derived (one-way) from a plain session token.
fn current_session_id(ctx: &Ctx) -> uuid::Uuid {
    if let Some(id) = ctx.jwt_session {
        return id;
    }
    let token = ctx.token.as_deref().unwrap_or_default();
    ctx.state.auth.session_id_of(token).unwrap_or_else(|| {
        let d = <sha2::Sha256 as sha2::Digest>::digest(token.as_bytes());
        let mut b = [0u8; 16];
        b.copy_from_slice(&d[..16]);
        uuid::Builder::from_random_bytes(b).into_uuid()
    })
}

/// `GET /cloudapi/1.0.0/sessions/current`.
pub(super) async fn cloudapi_current(ctx: Ctx) -> axum::response::Response {
    match ctx.caller() {
        Ok(caller) => json_response(
            StatusCode::OK,
            cloudapi_session(&caller, current_session_id(&ctx)),
        ),
        Err(_) => cloudapi_unauthorized(),
    }
}

/// `DELETE /cloudapi/1.0.0/sessions/{id}` (also `current`): logs the
/// session out; only its own user may.
pub(super) async fn cloudapi_logout(ctx: Ctx, id: String) -> axum::response::Response {
    let Ok(caller) = ctx.caller() else {
        return cloudapi_unauthorized();
    };
    let current = current_session_id(&ctx);
    let wanted = if id == "current" {
        Some(current)
    } else {
        uuid::Uuid::parse_str(id.trim_start_matches("urn:vcloud:session:")).ok()
    };
    let Some(wanted) = wanted else {
        return cloudapi_error(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            &format!("\"{id}\" is not a session id."),
        );
    };
    if wanted == current
        && let Some(t) = &ctx.token
    {
        ctx.state.end_session(t);
        return StatusCode::NO_CONTENT.into_response_ok();
    }
    match ctx.state.auth.end_session(wanted, caller.user) {
        Some(t) => {
            ctx.state.end_session(&t);
            StatusCode::NO_CONTENT.into_response_ok()
        }
        None => cloudapi_error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            &format!("Session urn:vcloud:session:{wanted} not found."),
        ),
    }
}

pub(super) async fn get_session(ctx: Ctx) -> ApiResult {
    let caller = ctx.caller()?;
    let mut resp = ctx.xml(StatusCode::OK, mt::SESSION, session(&ctx.base, &caller));
    if let Some(t) = &ctx.token
        && let Ok(v) = axum::http::HeaderValue::from_str(t)
    {
        resp.headers_mut().insert("x-vcloud-authorization", v);
    }
    Ok(resp)
}

pub(super) async fn logout(ctx: Ctx) -> ApiResult {
    ctx.caller()?;
    if let Some(t) = &ctx.token {
        ctx.state.end_session(t);
    }
    Ok(StatusCode::NO_CONTENT.into_response_ok())
}

/// `GET /api/versions`: one `VersionInfo` per served version, with
/// `deprecated`, `LoginUrl` (the CloudAPI tenant login from API 38.0, where
/// `/api/sessions` is gone) and `ProviderLoginUrl` (from API 36.0).
pub fn versions_doc(base: &str, versions: &[ServedVersion]) -> El {
    let mut root = El::new("SupportedVersions").attr("xmlns", NS_VERSIONS);
    for v in versions {
        let n = major(v.version).unwrap_or(0);
        let login = if n >= LEGACY_LOGIN_REMOVED_IN {
            format!("{base}/cloudapi/1.0.0/sessions")
        } else {
            format!("{base}/api/sessions")
        };
        let mut info = El::new("VersionInfo")
            .attr("deprecated", if v.deprecated { "true" } else { "false" })
            .leaf("Version", v.version)
            .leaf("LoginUrl", login);
        if n >= PROVIDER_LOGIN_URL_SINCE {
            info = info.leaf(
                "ProviderLoginUrl",
                format!("{base}/cloudapi/1.0.0/sessions/provider"),
            );
        }
        root.push(info);
    }
    root
}

/// The `Session` document (§2.5).
pub fn session(base: &str, caller: &Caller) -> El {
    let org = EntityRef::Org(caller.org);
    let mut s = El::root("Session")
        .attr("href", format!("{base}/api/session"))
        .attr("type", mt::SESSION)
        .attr("user", &caller.user_name)
        .attr("userId", EntityRef::User(caller.user).urn())
        .attr("org", &caller.org_name)
        .attr("roles", &caller.role_name)
        .attr("locationId", format!("{}@vcd-sim", caller.org))
        .link("down", format!("{base}/api/org/"), Some(mt::ORG_LIST))
        .link("remove", format!("{base}/api/session"), None)
        .named_link("down", href(base, org), Some(mt::ORG), &caller.org_name)
        .link("down", format!("{base}/api/query"), Some(mt::QUERY_LIST))
        .link(
            "entityResolver",
            format!("{base}/api/entity/"),
            Some(mt::ENTITY),
        )
        .link(
            "down:extensibility",
            format!("{base}/api/extensibility"),
            Some(mt::EXTENSIBILITY),
        );
    if caller.is_org_admin() {
        s = s.link("down", format!("{base}/api/admin/"), Some(mt::ADMIN_VCLOUD));
    }
    if caller.is_sysadmin() {
        s = s.link(
            "down",
            format!("{base}/api/admin/extension"),
            Some(mt::EXTENSION),
        );
    }
    s
}
