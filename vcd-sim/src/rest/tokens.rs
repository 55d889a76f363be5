//! API tokens (vCD 10.3.1+ profiles): `POST|GET /cloudapi/1.0.0/tokens`
//! (the list in pages: `page` from 1, `pageSize` 0–128, default 25; `filter`
//! with `key==value` terms on `name`, `type`, `owner.name`, `org.name`),
//! `GET|DELETE /cloudapi/1.0.0/tokens/{id}`, and the OAuth token endpoints
//! `POST /oauth/tenant/{org}/token` and `POST /oauth/provider/token` that
//! exchange a refresh token (`grant_type=refresh_token`) for a JWT access
//! token. A token's secret is shown once, in the creation answer.

use axum::body::Bytes;
use axum::extract::RawQuery;
use axum::http::StatusCode;
use axum::response::Response;

use super::common::IntoOk;
use super::context::Ctx;
use super::sessions::{cloudapi_error, cloudapi_unauthorized, json_response};
use crate::auth::TokenKind;

/// Longest token name accepted.
const MAX_NAME: usize = 128;
/// CloudAPI's default and largest `pageSize`.
const DEFAULT_PAGE_SIZE: usize = 25;
const MAX_PAGE_SIZE: usize = 128;

/// The `filter` of a token list: FIQL `key==value` terms joined by `;`
/// (and) on `name`, `type`, `owner.name` and `org.name`; none without one.
/// A refusal's text names the term it cannot read.
fn token_filter(query: Option<&str>) -> Result<Vec<(String, String)>, String> {
    let mut terms = Vec::new();
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        if k != "filter" {
            continue;
        }
        for term in v.split(';').filter(|t| !t.is_empty()) {
            let Some((key, value)) = term.split_once("==") else {
                return Err(format!(
                    "Unsupported filter term \"{term}\": only key==value terms joined by ';'."
                ));
            };
            if !matches!(key, "name" | "type" | "owner.name" | "org.name") {
                return Err(format!(
                    "Cannot filter tokens on \"{key}\" (name, type, owner.name, org.name)."
                ));
            }
            terms.push((key.to_string(), value.to_string()));
        }
    }
    Ok(terms)
}

fn token_matches(token: &crate::auth::ApiToken, terms: &[(String, String)]) -> bool {
    terms.iter().all(|(key, value)| {
        let field = match key.as_str() {
            "name" => token.name.as_str(),
            "type" => token.kind.as_str(),
            "owner.name" => token.owner_name.as_str(),
            _ => token.org_name.as_str(),
        };
        field.eq_ignore_ascii_case(value)
    })
}

/// `page` and `pageSize` of a CloudAPI list query; a refusal's text names the
/// bad parameter.
fn paging(query: Option<&str>) -> Result<(usize, usize), String> {
    let mut page = 1;
    let mut size = DEFAULT_PAGE_SIZE;
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "page" => {
                page = v
                    .parse::<usize>()
                    .ok()
                    .filter(|p| *p >= 1)
                    .ok_or_else(|| format!("Invalid page \"{v}\": a whole number from 1."))?;
            }
            "pageSize" => {
                size = v
                    .parse::<usize>()
                    .ok()
                    .filter(|s| *s <= MAX_PAGE_SIZE)
                    .ok_or_else(|| {
                        format!(
                            "Invalid pageSize \"{v}\": a whole number from 0 to {MAX_PAGE_SIZE}."
                        )
                    })?;
            }
            _ => {}
        }
    }
    Ok((page, size))
}

fn no_tokens(ctx: &Ctx) -> Option<Response> {
    (!ctx.state.release.has_api_tokens()).then(|| {
        cloudapi_error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            &format!(
                "API tokens are not available in vCD {} (they came with 10.3.1).",
                ctx.state.release
            ),
        )
    })
}

/// `POST /cloudapi/1.0.0/tokens`: `{"name": …, "type": "REFRESH"|"EXTENSION"}`
/// for the calling user; the answer carries the secret as `token`, once.
pub(super) async fn create_token(ctx: Ctx, body: Bytes) -> Response {
    if let Some(r) = no_tokens(&ctx) {
        return r;
    }
    let Ok(caller) = ctx.caller() else {
        return cloudapi_unauthorized();
    };
    let bad = |m: &str| cloudapi_error(StatusCode::BAD_REQUEST, "BAD_REQUEST", m);
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return bad("The request body is not a JSON object.");
    };
    let name = match json.get("name").and_then(|n| n.as_str()).map(str::trim) {
        Some(n) if !n.is_empty() && n.len() <= MAX_NAME => n.to_string(),
        _ => {
            return bad(&format!(
                "A token needs a \"name\" of 1 to {MAX_NAME} characters."
            ));
        }
    };
    let kind = match json.get("type").and_then(|t| t.as_str()) {
        None => TokenKind::Refresh,
        Some(t) => match TokenKind::parse(t) {
            Some(k) => k,
            None => {
                return bad(&format!(
                    "Unknown token type \"{t}\"; expected REFRESH or EXTENSION."
                ));
            }
        },
    };
    // An EXTENSION token for an MQTT extension (`extensionId`, as CSE 3.x
    // sends it) is owned by the extension's `vendor/name/version`.
    let created = match (kind, json.get("extensionId").and_then(|e| e.as_str())) {
        (TokenKind::Extension, Some(ext_id)) => {
            let ext = match ctx.state.sim.api_extension(&caller, ext_id) {
                Ok(e) => e,
                Err(e) => return bad(&e.to_string()),
            };
            let version = ext
                .mqtt
                .as_ref()
                .map(|m| m.version.clone())
                .unwrap_or_default();
            let owner = format!("{}/{}/{version}", ext.vendor, ext.name);
            ctx.state
                .auth
                .create_extension_token(&caller, &name, &owner)
        }
        _ => ctx.state.auth.create_token(&caller, &name, kind),
    };
    match created {
        Ok((token, secret)) => {
            let mut doc = token.to_json();
            doc["token"] = serde_json::Value::String(secret);
            json_response(StatusCode::OK, doc)
        }
        Err(e) => bad(&e.to_string()),
    }
}

/// `GET /cloudapi/1.0.0/tokens`: the caller's tokens (every token for a
/// system administrator), without secrets, one CloudAPI page of them
/// (`page`, `pageSize`; default 25 a page), those matching `filter` only.
pub(super) async fn list_tokens(ctx: Ctx, query: RawQuery) -> Response {
    if let Some(r) = no_tokens(&ctx) {
        return r;
    }
    let Ok(caller) = ctx.caller() else {
        return cloudapi_unauthorized();
    };
    let query = query.0.as_deref();
    let ((page, size), terms) = match paging(query).and_then(|p| Ok((p, token_filter(query)?))) {
        Ok(read) => read,
        Err(m) => return cloudapi_error(StatusCode::BAD_REQUEST, "BAD_REQUEST", &m),
    };
    let all: Vec<_> = ctx
        .state
        .auth
        .list_tokens(&caller)
        .into_iter()
        .filter(|t| token_matches(t, &terms))
        .collect();
    let values: Vec<serde_json::Value> = all
        .iter()
        .skip((page - 1).saturating_mul(size))
        .take(size)
        .map(|t| t.to_json())
        .collect();
    let page_count = if size == 0 {
        0
    } else {
        all.len().div_ceil(size)
    };
    json_response(
        StatusCode::OK,
        serde_json::json!({
            "resultTotal": all.len(),
            "pageCount": page_count,
            "page": page,
            "pageSize": size,
            "associations": null,
            "values": values,
        }),
    )
}

/// `GET /cloudapi/1.0.0/tokens/{id}`: one of the caller's tokens (any for a
/// system administrator), without its secret.
pub(super) async fn get_token(ctx: Ctx, id: String) -> Response {
    if let Some(r) = no_tokens(&ctx) {
        return r;
    }
    let Ok(caller) = ctx.caller() else {
        return cloudapi_unauthorized();
    };
    let uuid = uuid::Uuid::parse_str(id.trim_start_matches("urn:vcloud:token:")).ok();
    match ctx
        .state
        .auth
        .list_tokens(&caller)
        .into_iter()
        .find(|t| Some(t.id) == uuid)
    {
        Some(token) => json_response(StatusCode::OK, token.to_json()),
        None => cloudapi_error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            &format!("Token {id} not found."),
        ),
    }
}

/// `DELETE /cloudapi/1.0.0/tokens/{id}`: revokes a token (204).
pub(super) async fn delete_token(ctx: Ctx, id: String) -> Response {
    if let Some(r) = no_tokens(&ctx) {
        return r;
    }
    let Ok(caller) = ctx.caller() else {
        return cloudapi_unauthorized();
    };
    let not_found = || {
        cloudapi_error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            &format!("Token {id} not found."),
        )
    };
    let Ok(uuid) = uuid::Uuid::parse_str(id.trim_start_matches("urn:vcloud:token:")) else {
        return not_found();
    };
    if ctx.state.auth.delete_token(&caller, uuid) {
        StatusCode::NO_CONTENT.into_response_ok()
    } else {
        not_found()
    }
}

/// vCD's answer to an unknown, revoked or foreign refresh token.
fn invalid_grant() -> Response {
    cloudapi_error(
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "Invalid refresh token",
    )
}

/// `POST /oauth/tenant/{org}/token` (`org` = `None`: `/oauth/provider/token`):
/// form `grant_type=refresh_token&refresh_token=…` → `access_token` (a JWT
/// session), `token_type: Bearer`, `expires_in`, `refresh_token: null`.
pub(super) async fn oauth_token(ctx: Ctx, org: Option<String>, body: Bytes) -> Response {
    if let Some(r) = no_tokens(&ctx) {
        return r;
    }
    let mut grant = None;
    let mut secret = None;
    for (k, v) in url::form_urlencoded::parse(&body) {
        match k.as_ref() {
            "grant_type" => grant = Some(v.into_owned()),
            "refresh_token" => secret = Some(v.into_owned()),
            _ => {}
        }
    }
    if grant.as_deref() != Some("refresh_token") {
        return cloudapi_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Only grant_type=refresh_token is supported.",
        );
    }
    let Some(secret) = secret.filter(|s| !s.is_empty()) else {
        return invalid_grant();
    };
    let org = org.unwrap_or_else(|| "System".to_string());
    let Some(token) = ctx.state.auth.find_refresh_token(&secret, &org) else {
        return invalid_grant();
    };
    let (session, caller) = match ctx.sim().login_user(token.owner) {
        Ok(x) => x,
        // the owner is gone
        Err(_) => return invalid_grant(),
    };
    let (issued, ended) = ctx.state.auth.issue(session, &caller);
    for t in ended {
        ctx.sim().logout(&t);
    }
    json_response(
        StatusCode::OK,
        serde_json::json!({
            "access_token": issued.jwt,
            "token_type": "Bearer",
            "expires_in": ctx.state.auth.lifetime().as_secs(),
            "refresh_token": null,
        }),
    )
}
