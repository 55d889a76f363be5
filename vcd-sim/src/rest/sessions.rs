//! Sessions: `/api/versions`, `/api/sessions` (Basic login), `/api/session`
//! (current session, logout) and the CloudAPI logins of `/cloudapi/1.0.0/sessions`,
//! with the `SupportedVersions` and `Session` documents.

use axum::http::{HeaderMap, StatusCode};
use base64::Engine;

use super::common::*;
use super::context::{ApiResult, Ctx, SUPPORTED_VERSIONS, VcdErrorResponse};
use super::xml::{El, NS_VERSIONS};
use crate::state::*;

// ----- versions and sessions -----

pub(super) async fn versions(ctx: Ctx) -> ApiResult {
    // Accept is ignored entirely here (pv20 sends ";version=32.0").
    let body = versions_doc(&ctx.base, SUPPORTED_VERSIONS).to_document();
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
/// Basic auth in, `X-VMWARE-VCLOUD-ACCESS-TOKEN` out; the token also works as
/// `Authorization: Bearer` on `/api`. The provider endpoint is for the System
/// org only, the tenant endpoint for every other org.
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
    let body = serde_json::json!({
        "id": format!("urn:vcloud:session:{}", uuid::Uuid::new_v4()),
        "site": {"name": "vcd-sim", "id": "urn:vcloud:site:vcd-sim"},
        "user": {"name": caller.user_name, "id": EntityRef::User(caller.user).urn()},
        "org": {"name": caller.org_name, "id": EntityRef::Org(caller.org).urn()},
        "location": format!("{}@vcd-sim", caller.org),
        "roles": [caller.role_name],
        "sessionIdleTimeoutMinutes": 30,
    });
    let mut resp = (
        StatusCode::OK,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response_ok();
    if let Ok(v) = axum::http::HeaderValue::from_str(&token) {
        resp.headers_mut().insert("X-VMWARE-VCLOUD-ACCESS-TOKEN", v);
    }
    resp
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
        ctx.sim().logout(t);
    }
    Ok(StatusCode::NO_CONTENT.into_response_ok())
}

/// `GET /api/versions`.
pub fn versions_doc(base: &str, versions: &[&str]) -> El {
    let mut root = El::new("SupportedVersions").attr("xmlns", NS_VERSIONS);
    for v in versions {
        root.push(
            El::new("VersionInfo")
                .attr("deprecated", "false")
                .leaf("Version", *v)
                .leaf("LoginUrl", format!("{base}/api/sessions")),
        );
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
