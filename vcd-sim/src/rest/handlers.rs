//! Tenant-facing endpoints: versions, sessions, orgs, VDCs, networks,
//! catalogs and items, the OVF upload, vApp templates, vApps and VMs (create,
//! recompose, power, hardware, delete), metadata, the query service, tasks.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post, put};
use base64::Engine;

use super::docs::{self, mt};
use super::parse;
use super::query;
use super::{ApiError, ApiResult, AppState, Ctx, SUPPORTED_VERSIONS};
use crate::state::catalogs::{CaptureInto, TransferTarget};
use crate::state::records::{ADMIN_TYPES, TENANT_TYPES};
use crate::state::vapps::{PowerOp, UndeployAction};
use crate::state::*;

pub fn routes() -> Router<AppState> {
    let mut r = Router::new()
        .route("/api/versions", get(versions))
        .route("/api/sessions", post(login))
        .route("/api/session", get(get_session).delete(logout))
        .route(
            "/cloudapi/1.0.0/sessions",
            post(|ctx: Ctx, h: HeaderMap| async move { cloudapi_login(ctx, h, false) }),
        )
        .route(
            "/cloudapi/1.0.0/sessions/provider",
            post(|ctx: Ctx, h: HeaderMap| async move { cloudapi_login(ctx, h, true) }),
        )
        .route("/api/vApp/{id}/owner", get(get_vapp_owner))
        .route("/api/org", get(org_list))
        .route("/api/org/", get(org_list))
        .route("/api/org/{id}", get(get_org))
        .route("/api/vdc/{id}", get(get_vdc))
        .route("/api/vdc/{id}/action/{action}", post(vdc_action))
        .route("/api/network/{id}", get(get_network))
        .route("/api/catalog/{id}", get(get_catalog))
        .route("/api/catalog/{id}/action/{action}", post(catalog_action))
        .route(
            "/api/catalogItem/{id}",
            get(get_catalog_item).delete(delete_catalog_item),
        )
        .route("/api/vAppTemplate/{id}", get(get_template))
        .route("/api/media/{id}", get(get_media))
        .route("/transfer/{transfer}/{file}", put(transfer_put))
        .route("/api/vApp/{id}", get(get_vapp).delete(delete_vapp))
        .route("/api/vApp/{id}/power/action/{op}", post(power_action))
        .route("/api/vApp/{id}/action/{action}", post(vapp_action))
        .route(
            "/api/vApp/{id}/virtualHardwareSection/{item}",
            get(get_rasd).put(put_rasd),
        )
        .route("/api/query", get(run_query))
        .route("/api/task/{id}", get(get_task).put(put_task))
        .route("/api/task/{id}/action/cancel", post(cancel_task))
        .route(
            "/api/tasksList/{id}",
            get(get_tasks_list).post(post_tasks_list),
        )
        .route("/api/admin/org/{id}", get(get_admin_org))
        .route("/api/admin/org/{id}/catalogs", post(create_catalog))
        .route(
            "/api/admin/catalog/{id}",
            get(get_admin_catalog).delete(delete_catalog),
        )
        .route(
            "/api/admin/catalog/{id}/action/publish",
            post(publish_catalog),
        )
        .route("/api/admin/vdc/{id}", get(get_admin_vdc));
    for kind in [
        "org",
        "vdc",
        "network",
        "catalog",
        "catalogItem",
        "vAppTemplate",
        "vApp",
    ] {
        r = r
            .route(
                &format!("/api/{kind}/{{id}}/metadata"),
                get(move |ctx: Ctx, Path(id): Path<String>| async move { meta_get(ctx, kind, id).await })
                    .post(move |ctx: Ctx, Path(id): Path<String>, body: Bytes| async move { meta_post(ctx, kind, id, body).await }),
            )
            .route(
                &format!("/api/{kind}/{{id}}/metadata/{{key}}"),
                get(move |ctx: Ctx, Path((id, key)): Path<(String, String)>| async move { meta_value_get(ctx, kind, id, None, key).await })
                    .put(move |ctx: Ctx, Path((id, key)): Path<(String, String)>, body: Bytes| async move {
                        meta_value_put(ctx, kind, id, None, key, body).await
                    })
                    .delete(move |ctx: Ctx, Path((id, key)): Path<(String, String)>| async move {
                        meta_value_delete(ctx, kind, id, None, key).await
                    }),
            )
            .route(
                &format!("/api/{kind}/{{id}}/metadata/{{domain}}/{{key}}"),
                get(move |ctx: Ctx, Path((id, d, key)): Path<(String, String, String)>| async move {
                    meta_value_get(ctx, kind, id, Some(d), key).await
                })
                .put(move |ctx: Ctx, Path((id, d, key)): Path<(String, String, String)>, body: Bytes| async move {
                    meta_value_put(ctx, kind, id, Some(d), key, body).await
                })
                .delete(move |ctx: Ctx, Path((id, d, key)): Path<(String, String, String)>| async move {
                    meta_value_delete(ctx, kind, id, Some(d), key).await
                }),
            );
    }
    r
}

fn id_of(s: &str) -> Result<Id, ApiError> {
    uuid::Uuid::parse_str(s).map_err(|_| ApiError::not_found(format!("\"{s}\" is not a valid id.")))
}

/// `vapp-<uuid>` / `vm-<uuid>` of `/api/vApp/...`.
fn vapp_entity(s: &str) -> Result<EntityRef, ApiError> {
    if let Some(x) = s.strip_prefix("vapp-") {
        return Ok(EntityRef::VApp(id_of(x)?));
    }
    if let Some(x) = s.strip_prefix("vm-") {
        return Ok(EntityRef::Vm(id_of(x)?));
    }
    Err(ApiError::not_found(format!(
        "\"{s}\" is not a vApp or VM id."
    )))
}

fn template_entity(s: &str) -> Result<EntityRef, ApiError> {
    if let Some(x) = s.strip_prefix("vappTemplate-") {
        return Ok(EntityRef::Template(id_of(x)?));
    }
    if let Some(x) = s.strip_prefix("vm-") {
        return Ok(EntityRef::TemplateVm(id_of(x)?));
    }
    Err(ApiError::not_found(format!(
        "\"{s}\" is not a vApp template or VM id."
    )))
}

fn entity_of(kind: &str, id: &str) -> Result<EntityRef, ApiError> {
    Ok(match kind {
        "org" => EntityRef::Org(id_of(id)?),
        "vdc" => EntityRef::Vdc(id_of(id)?),
        "network" => EntityRef::Network(id_of(id)?),
        "catalog" => EntityRef::Catalog(id_of(id)?),
        "catalogItem" => EntityRef::CatalogItem(id_of(id)?),
        "vAppTemplate" => template_entity(id)?,
        _ => vapp_entity(id)?,
    })
}

fn task_response(ctx: &Ctx, task: Id) -> ApiResult {
    let g = ctx.sim().read();
    let t = g.tasks.get(&task).ok_or_else(|| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_SERVER_ERROR",
            "task vanished",
        )
    })?;
    Ok(ctx.xml(StatusCode::ACCEPTED, mt::TASK, docs::task(&g, &ctx.base, t)))
}

fn bool_param(raw: &Option<String>, name: &str) -> bool {
    raw.as_deref()
        .unwrap_or("")
        .split('&')
        .filter_map(|p| p.split_once('='))
        .any(|(k, v)| k == name && v.eq_ignore_ascii_case("true"))
}

// ----- versions and sessions -----

async fn versions(ctx: Ctx) -> ApiResult {
    // Accept is ignored entirely here (pv20 sends ";version=32.0").
    let body = docs::versions(&ctx.base, SUPPORTED_VERSIONS).to_document();
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "application/vnd.vmware.vcloud.versions+xml;version=1.5",
        )],
        body,
    )
        .into_response_ok())
}

trait IntoOk {
    fn into_response_ok(self) -> axum::response::Response;
}
impl<T: axum::response::IntoResponse> IntoOk for T {
    fn into_response_ok(self) -> axum::response::Response {
        self.into_response()
    }
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String, String)> {
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

async fn login(ctx: Ctx, headers: HeaderMap) -> ApiResult {
    let (user, org, password) = basic_credentials(&headers).ok_or_else(|| {
        ctx.err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "Basic credentials of the form user@org:password are required.",
        ))
    })?;
    let (token, caller) = ctx
        .sim()
        .login(&org, &user, &password)
        .map_err(|e| ctx.fail(e))?;
    let mut resp = ctx.xml(
        StatusCode::OK,
        mt::SESSION,
        docs::session(&ctx.base, &caller),
    );
    if let Ok(v) = axum::http::HeaderValue::from_str(&token) {
        resp.headers_mut().insert("x-vcloud-authorization", v);
    }
    Ok(resp)
}

fn cloudapi_error(status: StatusCode, minor: &str, message: &str) -> axum::response::Response {
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
fn cloudapi_login(ctx: Ctx, headers: HeaderMap, provider: bool) -> axum::response::Response {
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

async fn get_session(ctx: Ctx) -> ApiResult {
    let caller = ctx.caller()?;
    let mut resp = ctx.xml(
        StatusCode::OK,
        mt::SESSION,
        docs::session(&ctx.base, &caller),
    );
    if let Some(t) = &ctx.token
        && let Ok(v) = axum::http::HeaderValue::from_str(t)
    {
        resp.headers_mut().insert("x-vcloud-authorization", v);
    }
    Ok(resp)
}

async fn logout(ctx: Ctx) -> ApiResult {
    ctx.caller()?;
    if let Some(t) = &ctx.token {
        ctx.sim().logout(t);
    }
    Ok(StatusCode::NO_CONTENT.into_response_ok())
}

// ----- orgs, VDCs, networks -----

async fn org_list(ctx: Ctx) -> ApiResult {
    let caller = ctx.caller()?;
    let g = ctx.sim().read();
    let orgs: Vec<(Id, String)> = g
        .orgs
        .values()
        .filter(|o| caller.can_see_org(o.id))
        .map(|o| (o.id, o.name.clone()))
        .collect();
    ctx.ok(mt::ORG_LIST, docs::org_list(&ctx.base, &orgs))
}

async fn get_org(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let caller = ctx.caller()?;
    let id = id_of(&id)?;
    let g = ctx.sim().read();
    match g.orgs.get(&id) {
        Some(o) if caller.can_see_org(id) => ctx.ok(mt::ORG, docs::org(&g, &ctx.base, &caller, o)),
        _ => Err(ctx.fail(SimError::no_access(&EntityRef::Org(id)))),
    }
}

async fn get_admin_org(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let caller = ctx.caller()?;
    let id = id_of(&id)?;
    let g = ctx.sim().read();
    match g.orgs.get(&id) {
        Some(o) if caller.can_see_org(id) && caller.is_org_admin() => {
            ctx.ok(mt::ADMIN_ORG, docs::admin_org(&g, &ctx.base, &caller, o))
        }
        _ => Err(ctx.fail(SimError::no_access(&EntityRef::Org(id)))),
    }
}

async fn get_vdc(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    vdc_doc(ctx, id, false).await
}

async fn get_admin_vdc(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    vdc_doc(ctx, id, true).await
}

async fn vdc_doc(ctx: Ctx, id: String, admin: bool) -> ApiResult {
    let caller = ctx.caller()?;
    let id = id_of(&id)?;
    let g = ctx.sim().read();
    match g.vdcs.get(&id) {
        Some(v) if caller.can_see_org(v.org) && (!admin || caller.is_org_admin()) => ctx.ok(
            if admin { mt::ADMIN_VDC } else { mt::VDC },
            docs::vdc(&g, &ctx.base, v, admin),
        ),
        _ => Err(ctx.fail(SimError::no_access(&EntityRef::Vdc(id)))),
    }
}

async fn vdc_action(
    ctx: Ctx,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let caller = ctx.caller()?;
    let vdc = id_of(&id)?;
    match action.as_str() {
        "composeVApp" | "instantiateVAppTemplate" => {
            let dom = parse::body_dom(&body).map_err(|e| ctx.err(e))?;
            let params = parse::create_vapp(&dom).map_err(|e| ctx.err(e))?;
            let (vapp, task) = ctx
                .sim()
                .create_vapp(&caller, vdc, params)
                .map_err(|e| ctx.fail(e))?;
            let g = ctx.sim().read();
            let t = g.tasks.get(&task).cloned();
            match g.vapps.get(&vapp) {
                Some(a) => Ok(ctx.xml(
                    StatusCode::CREATED,
                    mt::VAPP,
                    docs::vapp(&g, &ctx.base, &caller, a, t.as_ref()),
                )),
                // Failed creations are removed; the task says why.
                None => {
                    let t = t.ok_or_else(|| {
                        ctx.err(ApiError::new(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            "INTERNAL_SERVER_ERROR",
                            "task vanished",
                        ))
                    })?;
                    Ok(ctx.xml(
                        StatusCode::ACCEPTED,
                        mt::TASK,
                        docs::task(&g, &ctx.base, &t),
                    ))
                }
            }
        }
        "captureVApp" => {
            // Deprecated (POST-CaptureVApp, vdc): 201 with the template, its
            // capture task under Tasks.
            let dom = parse::body_dom(&body).map_err(|e| ctx.err(e))?;
            let params = capture_params(&ctx, &dom)?;
            if params.target_item.is_some() {
                return Err(ctx.err(ApiError::bad_request(
                    "TargetCatalogItem needs a capture into a catalog.",
                )));
            }
            let (tpl, task) = ctx
                .sim()
                .capture_vapp(
                    &caller,
                    CaptureInto::Vdc(vdc),
                    params.source,
                    &params.name,
                    &params.description,
                )
                .map_err(|e| ctx.fail(e))?;
            let g = ctx.sim().read();
            let t = g.tasks.get(&task).cloned();
            let tp = g
                .templates
                .get(&tpl)
                .ok_or_else(|| ctx.fail(SimError::Internal("template vanished".into())))?;
            Ok(ctx.xml(
                StatusCode::CREATED,
                mt::TEMPLATE,
                docs::template(&g, &ctx.base, &caller, tp, t.as_ref()),
            ))
        }
        "uploadVAppTemplate" => Err(ctx.err(ApiError::bad_request(
            "uploadVAppTemplate into a VDC is not supported by the simulator; use the catalog's upload action.",
        ))),
        _ => Err(ctx.err(ApiError::not_found(format!("No VDC action \"{action}\".")))),
    }
}

async fn get_network(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let caller = ctx.caller()?;
    let id = id_of(&id)?;
    let g = ctx.sim().read();
    match g.networks.get(&id) {
        Some(n) if caller.can_see_org(n.org) => {
            ctx.ok(mt::ORG_NETWORK, docs::network(&ctx.base, n))
        }
        _ => Err(ctx.fail(SimError::no_access(&EntityRef::Network(id)))),
    }
}

// ----- catalogs -----

async fn get_catalog(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    catalog_doc(ctx, id, false).await
}

async fn get_admin_catalog(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    catalog_doc(ctx, id, true).await
}

async fn catalog_doc(ctx: Ctx, id: String, admin: bool) -> ApiResult {
    let caller = ctx.caller()?;
    let id = id_of(&id)?;
    let g = ctx.sim().read();
    match g.catalogs.get(&id) {
        Some(c)
            if g.catalog_visible(&caller, c)
                && (!admin || (caller.is_org_admin() && caller.can_see_org(c.org))) =>
        {
            ctx.ok(
                if admin {
                    mt::ADMIN_CATALOG
                } else {
                    mt::CATALOG
                },
                docs::catalog(&g, &ctx.base, &caller, c, admin, None),
            )
        }
        _ => Err(ctx.fail(SimError::no_access(&EntityRef::Catalog(id)))),
    }
}

async fn create_catalog(ctx: Ctx, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let caller = ctx.caller()?;
    let org = id_of(&id)?;
    let dom = parse::body_dom(&body).map_err(|e| ctx.err(e))?;
    let name = dom.attr("name").unwrap_or_default().to_string();
    let description = dom
        .child_text("Description")
        .unwrap_or_default()
        .to_string();
    let (cat, task) = ctx
        .sim()
        .create_catalog(&caller, org, &name, &description)
        .map_err(|e| ctx.fail(e))?;
    let g = ctx.sim().read();
    let t = g.tasks.get(&task).cloned();
    let c = g
        .catalogs
        .get(&cat)
        .ok_or_else(|| ctx.fail(SimError::Internal("catalog vanished".into())))?;
    Ok(ctx.xml(
        StatusCode::CREATED,
        mt::ADMIN_CATALOG,
        docs::catalog(&g, &ctx.base, &caller, c, true, t.as_ref()),
    ))
}

async fn publish_catalog(ctx: Ctx, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let caller = ctx.caller()?;
    let cat = id_of(&id)?;
    let dom = parse::body_dom(&body).map_err(|e| ctx.err(e))?;
    let published = dom.child_bool("IsPublished").ok_or_else(|| {
        ctx.err(ApiError::bad_request(
            "PublishCatalogParams needs IsPublished.",
        ))
    })?;
    ctx.sim()
        .publish_catalog(&caller, cat, published)
        .map_err(|e| ctx.fail(e))?;
    Ok(StatusCode::NO_CONTENT.into_response_ok())
}

async fn delete_catalog(ctx: Ctx, Path(id): Path<String>, RawQuery(q): RawQuery) -> ApiResult {
    let caller = ctx.caller()?;
    let cat = id_of(&id)?;
    ctx.sim()
        .delete_catalog(&caller, cat, bool_param(&q, "recursive"))
        .map_err(|e| ctx.fail(e))?;
    Ok(StatusCode::NO_CONTENT.into_response_ok())
}

async fn catalog_action(
    ctx: Ctx,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let caller = ctx.caller()?;
    let cat = id_of(&id)?;
    let dom = parse::body_dom(&body).map_err(|e| ctx.err(e))?;
    match action.as_str() {
        "upload" if dom.name == "Media" => {
            let name = dom.attr("name").unwrap_or_default().to_string();
            let description = dom
                .child_text("Description")
                .unwrap_or_default()
                .to_string();
            let size: i64 = dom
                .attr("size")
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| ctx.err(ApiError::bad_request("Media needs a numeric size.")))?;
            let image_type = dom.attr("imageType").unwrap_or("iso").to_string();
            let item = ctx
                .sim()
                .start_media_upload(&caller, cat, &name, &description, &image_type, size)
                .map_err(|e| ctx.fail(e))?;
            let g = ctx.sim().read();
            let i = g
                .items
                .get(&item)
                .ok_or_else(|| ctx.fail(SimError::Internal("item vanished".into())))?;
            Ok(ctx.xml(
                StatusCode::CREATED,
                mt::CATALOG_ITEM,
                docs::catalog_item(&g, &ctx.base, i),
            ))
        }
        "upload" => {
            if dom.name != "UploadVAppTemplateParams" {
                return Err(ctx.err(ApiError::bad_request(format!(
                    "Uploading <{}> is not supported; use UploadVAppTemplateParams.",
                    dom.name
                ))));
            }
            let name = dom.attr("name").unwrap_or_default().to_string();
            let description = dom
                .child_text("Description")
                .unwrap_or_default()
                .to_string();
            let item = ctx
                .sim()
                .start_upload(&caller, cat, &name, &description)
                .map_err(|e| ctx.fail(e))?;
            let g = ctx.sim().read();
            let i = g
                .items
                .get(&item)
                .ok_or_else(|| ctx.fail(SimError::Internal("item vanished".into())))?;
            Ok(ctx.xml(
                StatusCode::CREATED,
                mt::CATALOG_ITEM,
                docs::catalog_item(&g, &ctx.base, i),
            ))
        }
        "captureVApp" => {
            // Since 5.5 (POST-CaptureVApp-catalog): 202 with the Task.
            let params = capture_params(&ctx, &dom)?;
            let (_, task) = ctx
                .sim()
                .capture_vapp(
                    &caller,
                    CaptureInto::Catalog {
                        catalog: cat,
                        target_item: params.target_item,
                    },
                    params.source,
                    &params.name,
                    &params.description,
                )
                .map_err(|e| ctx.fail(e))?;
            task_response(&ctx, task)
        }
        _ => Err(ctx.err(ApiError::not_found(format!(
            "No catalog action \"{action}\"."
        )))),
    }
}

/// What a `CaptureVAppParams` body asks for.
struct CaptureRequest {
    name: String,
    description: String,
    source: Id,
    target_item: Option<Id>,
}

fn capture_params(ctx: &Ctx, dom: &super::xml::Dom) -> Result<CaptureRequest, ApiError> {
    let source = dom
        .child("Source")
        .and_then(|s| s.attr("href"))
        .and_then(uuid_of)
        .ok_or_else(|| {
            ctx.err(ApiError::bad_request(
                "CaptureVAppParams needs a Source vApp.",
            ))
        })?;
    Ok(CaptureRequest {
        name: dom.attr("name").unwrap_or_default().to_string(),
        description: dom
            .child_text("Description")
            .unwrap_or_default()
            .to_string(),
        source,
        target_item: dom
            .child("TargetCatalogItem")
            .and_then(|s| s.attr("href"))
            .and_then(uuid_of),
    })
}

async fn get_catalog_item(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let caller = ctx.caller()?;
    let id = id_of(&id)?;
    let g = ctx.sim().read();
    let visible = g.items.get(&id).filter(|i| {
        g.catalogs
            .get(&i.catalog)
            .is_some_and(|c| g.catalog_visible(&caller, c))
    });
    match visible {
        Some(i) => ctx.ok(mt::CATALOG_ITEM, docs::catalog_item(&g, &ctx.base, i)),
        None => Err(ctx.fail(SimError::no_access(&EntityRef::CatalogItem(id)))),
    }
}

async fn delete_catalog_item(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let caller = ctx.caller()?;
    ctx.sim()
        .delete_catalog_item(&caller, id_of(&id)?)
        .map_err(|e| ctx.fail(e))?;
    Ok(StatusCode::NO_CONTENT.into_response_ok())
}

async fn get_template(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let caller = ctx.caller()?;
    let e = template_entity(&id).map_err(|e| ctx.err(e))?;
    let g = ctx.sim().read();
    match e {
        EntityRef::Template(t) => match g.templates.get(&t) {
            Some(tp) if g.template_visible(&caller, tp) => ctx.ok(
                mt::TEMPLATE,
                docs::template(&g, &ctx.base, &caller, tp, None),
            ),
            _ => Err(ctx.fail(SimError::no_access(&e))),
        },
        _ => match g.vms.get(&e.id()) {
            Some(v) if matches!(v.parent, VmParent::Template(_)) && g.vm_visible(&caller, v) => {
                ctx.ok(mt::VM, docs::vm(&g, &ctx.base, &caller, v, true))
            }
            _ => Err(ctx.fail(SimError::no_access(&e))),
        },
    }
}

async fn get_media(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let caller = ctx.caller()?;
    let id = id_of(&id)?;
    let g = ctx.sim().read();
    let visible = g.media.get(&id).filter(|m| {
        caller.can_see_org(m.org)
            || g.items
                .get(&m.catalog_item)
                .and_then(|i| g.catalogs.get(&i.catalog))
                .is_some_and(|c| g.catalog_visible(&caller, c))
    });
    match visible {
        Some(m) => ctx.ok(mt::MEDIA, docs::media(&g, &ctx.base, m)),
        None => Err(ctx.fail(SimError::no_access(&EntityRef::Media(id)))),
    }
}

/// `Content-Range: bytes first-last/total`.
fn content_range(headers: &HeaderMap) -> Result<Option<(u64, u64, Option<u64>)>, ApiError> {
    let Some(v) = headers.get(axum::http::header::CONTENT_RANGE) else {
        return Ok(None);
    };
    let bad = || {
        ApiError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "BAD_REQUEST",
            "Invalid Content-Range header.",
        )
    };
    let s = v.to_str().map_err(|_| bad())?;
    let s = s.trim().strip_prefix("bytes").ok_or_else(bad)?.trim();
    let (range, total) = s.split_once('/').ok_or_else(bad)?;
    let (a, b) = range.split_once('-').ok_or_else(bad)?;
    let first = a.trim().parse().map_err(|_| bad())?;
    let last = b.trim().parse().map_err(|_| bad())?;
    let total = if total.trim() == "*" {
        None
    } else {
        Some(total.trim().parse().map_err(|_| bad())?)
    };
    Ok(Some((first, last, total)))
}

async fn transfer_put(
    ctx: Ctx,
    Path((transfer, file)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    ctx.caller()?;
    let transfer = uuid::Uuid::parse_str(&transfer)
        .map_err(|_| ctx.err(ApiError::not_found("Unknown upload target.")))?;
    let target = ctx
        .sim()
        .transfer_target(transfer, &file)
        .ok_or_else(|| ctx.err(ApiError::not_found(format!("No upload target {file}."))))?;
    match target {
        TransferTarget::Descriptor { template } => {
            let dom = parse::body_dom(&body).map_err(|e| ctx.err(e))?;
            let ovf = parse::ovf(&dom).map_err(|e| ctx.err(e))?;
            ctx.sim()
                .upload_descriptor(template, ovf)
                .map_err(|e| ctx.fail(e))?;
        }
        TransferTarget::Media { media } => {
            let (first, last, total) = match content_range(&headers).map_err(|e| ctx.err(e))? {
                Some(r) => r,
                None if body.is_empty() => {
                    return Err(ctx.err(ApiError::bad_request(
                        "An empty upload without Content-Range.",
                    )));
                }
                None => (0, body.len() as u64 - 1, Some(body.len() as u64)),
            };
            if last + 1 - first != body.len() as u64 {
                return Err(ctx.err(ApiError::new(
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    "BAD_REQUEST",
                    "Content-Range does not match the body length.",
                )));
            }
            ctx.sim()
                .upload_media_chunk(media, first, last, total)
                .map_err(|e| ctx.fail(e))?;
        }
        TransferTarget::File { template, name } => {
            let (first, last, total) = match content_range(&headers).map_err(|e| ctx.err(e))? {
                Some(r) => r,
                None if body.is_empty() => {
                    return Err(ctx.err(ApiError::bad_request(
                        "An empty upload without Content-Range.",
                    )));
                }
                None => (0, body.len() as u64 - 1, Some(body.len() as u64)),
            };
            if last + 1 - first != body.len() as u64 {
                return Err(ctx.err(ApiError::new(
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    "BAD_REQUEST",
                    "Content-Range does not match the body length.",
                )));
            }
            ctx.sim()
                .upload_chunk(template, &name, first, last, total)
                .map_err(|e| ctx.fail(e))?;
        }
    }
    Ok(StatusCode::OK.into_response_ok())
}

// ----- vApps and VMs -----

async fn get_vapp_owner(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let caller = ctx.caller()?;
    let e = vapp_entity(&id).map_err(|e| ctx.err(e))?;
    let g = ctx.sim().read();
    let a = match e {
        EntityRef::VApp(v) => g.vapps.get(&v).filter(|a| caller.can_see_org(a.org)),
        _ => None,
    }
    .ok_or_else(|| ctx.fail(SimError::no_access(&e)))?;
    let doc = super::xml::El::root("Owner")
        .attr("href", format!("{}{}/owner", ctx.base, e.path()))
        .attr("type", mt::OWNER)
        .link("up", format!("{}{}", ctx.base, e.path()), Some(mt::VAPP))
        .child(docs::reference(
            "User",
            &ctx.base,
            EntityRef::User(a.owner),
            &g.user_name(a.owner),
        ));
    ctx.ok(mt::OWNER, doc)
}

async fn get_vapp(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let caller = ctx.caller()?;
    let e = vapp_entity(&id).map_err(|e| ctx.err(e))?;
    let g = ctx.sim().read();
    match e {
        EntityRef::VApp(v) => match g.vapps.get(&v) {
            Some(a) if caller.can_see_org(a.org) => {
                ctx.ok(mt::VAPP, docs::vapp(&g, &ctx.base, &caller, a, None))
            }
            _ => Err(ctx.fail(SimError::no_access(&e))),
        },
        _ => match g.vms.get(&e.id()) {
            Some(v) if matches!(v.parent, VmParent::VApp(_)) && caller.can_see_org(v.org) => {
                ctx.ok(mt::VM, docs::vm(&g, &ctx.base, &caller, v, true))
            }
            _ => Err(ctx.fail(SimError::no_access(&e))),
        },
    }
}

async fn delete_vapp(ctx: Ctx, Path(id): Path<String>, RawQuery(q): RawQuery) -> ApiResult {
    let caller = ctx.caller()?;
    let e = vapp_entity(&id).map_err(|e| ctx.err(e))?;
    match e {
        EntityRef::VApp(v) => {
            let task = ctx
                .sim()
                .delete_vapp(&caller, v, bool_param(&q, "force"))
                .map_err(|e| ctx.fail(e))?;
            task_response(&ctx, task)
        }
        _ => Err(ctx.err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "A VM is deleted through its vApp's recompose (DeleteItem).",
        ))),
    }
}

async fn power_action(ctx: Ctx, Path((id, op)): Path<(String, String)>) -> ApiResult {
    let caller = ctx.caller()?;
    let e = vapp_entity(&id).map_err(|e| ctx.err(e))?;
    let op = PowerOp::parse(&op)
        .ok_or_else(|| ctx.err(ApiError::not_found(format!("No power action \"{op}\"."))))?;
    let task = ctx.sim().power(&caller, e, op).map_err(|e| ctx.fail(e))?;
    task_response(&ctx, task)
}

async fn vapp_action(
    ctx: Ctx,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let caller = ctx.caller()?;
    let e = vapp_entity(&id).map_err(|e| ctx.err(e))?;
    let task = match action.as_str() {
        "recomposeVApp" => {
            let EntityRef::VApp(v) = e else {
                return Err(ctx.err(ApiError::not_found("recomposeVApp applies to vApps.")));
            };
            let dom = parse::body_dom(&body).map_err(|e| ctx.err(e))?;
            let params = parse::recompose(&dom).map_err(|e| ctx.err(e))?;
            ctx.sim()
                .recompose(&caller, v, params)
                .map_err(|e| ctx.fail(e))?
        }
        "deploy" => {
            let power_on = if body.is_empty() {
                true
            } else {
                let dom = parse::body_dom(&body).map_err(|e| ctx.err(e))?;
                dom.attr("powerOn")
                    .and_then(super::xml::parse_bool)
                    .unwrap_or(true)
            };
            ctx.sim()
                .power(&caller, e, PowerOp::Deploy { power_on })
                .map_err(|e| ctx.fail(e))?
        }
        "undeploy" => {
            let action = if body.is_empty() {
                UndeployAction::PowerOff
            } else {
                let dom = parse::body_dom(&body).map_err(|e| ctx.err(e))?;
                match dom.child_text("UndeployPowerAction").unwrap_or("default") {
                    "shutdown" => UndeployAction::Shutdown,
                    "suspend" => UndeployAction::Suspend,
                    "force" => UndeployAction::Force,
                    "default" | "powerOff" => UndeployAction::PowerOff,
                    other => {
                        return Err(ctx.err(ApiError::bad_request(format!(
                            "Unknown UndeployPowerAction \"{other}\"."
                        ))));
                    }
                }
            };
            ctx.sim()
                .power(&caller, e, PowerOp::Undeploy(action))
                .map_err(|e| ctx.fail(e))?
        }
        "discardSuspendedState" => ctx
            .sim()
            .power(&caller, e, PowerOp::DiscardState)
            .map_err(|e| ctx.fail(e))?,
        _ => return Err(ctx.err(ApiError::not_found(format!("No vApp action \"{action}\".")))),
    };
    task_response(&ctx, task)
}

async fn get_rasd(ctx: Ctx, Path((id, item)): Path<(String, String)>) -> ApiResult {
    let caller = ctx.caller()?;
    let e = vapp_entity(&id).map_err(|e| ctx.err(e))?;
    let cpu = match item.as_str() {
        "cpu" => true,
        "memory" => false,
        _ => return Err(ctx.err(ApiError::not_found(format!("No hardware item \"{item}\".")))),
    };
    let g = ctx.sim().read();
    match g.vms.get(&e.id()) {
        Some(v) if matches!(e, EntityRef::Vm(_)) && caller.can_see_org(v.org) => {
            ctx.ok(mt::RASD_ITEM, docs::rasd_item(&ctx.base, v, cpu, true))
        }
        _ => Err(ctx.fail(SimError::no_access(&e))),
    }
}

async fn put_rasd(ctx: Ctx, Path((id, item)): Path<(String, String)>, body: Bytes) -> ApiResult {
    let caller = ctx.caller()?;
    let e = vapp_entity(&id).map_err(|e| ctx.err(e))?;
    let EntityRef::Vm(vm) = e else {
        return Err(ctx.err(ApiError::not_found("Hardware items belong to VMs.")));
    };
    let dom = parse::body_dom(&body).map_err(|e| ctx.err(e))?;
    let qty: u64 = dom
        .child_text("VirtualQuantity")
        .and_then(|q| q.parse().ok())
        .ok_or_else(|| {
            ctx.err(ApiError::bad_request(
                "The item needs a numeric rasd:VirtualQuantity.",
            ))
        })?;
    let task = match item.as_str() {
        "cpu" => {
            let cores = dom
                .child_text("CoresPerSocket")
                .and_then(|c| c.parse().ok());
            ctx.sim()
                .edit_hardware(&caller, vm, Some((qty as u32, cores)), None)
        }
        "memory" => ctx.sim().edit_hardware(&caller, vm, None, Some(qty)),
        _ => return Err(ctx.err(ApiError::not_found(format!("No hardware item \"{item}\".")))),
    }
    .map_err(|e| ctx.fail(e))?;
    task_response(&ctx, task)
}

// ----- metadata -----

async fn meta_get(ctx: Ctx, kind: &'static str, id: String) -> ApiResult {
    let caller = ctx.caller()?;
    let e = entity_of(kind, &id).map_err(|e| ctx.err(e))?;
    let entries = ctx.sim().metadata(&caller, e).map_err(|e| ctx.fail(e))?;
    ctx.ok(mt::METADATA, docs::metadata(&ctx.base, e, &entries))
}

async fn meta_post(ctx: Ctx, kind: &'static str, id: String, body: Bytes) -> ApiResult {
    let caller = ctx.caller()?;
    let e = entity_of(kind, &id).map_err(|e| ctx.err(e))?;
    let dom = parse::body_dom(&body).map_err(|e| ctx.err(e))?;
    let entries = parse::metadata(&dom).map_err(|e| ctx.err(e))?;
    let task = ctx
        .sim()
        .set_metadata(&caller, e, entries)
        .map_err(|e| ctx.fail(e))?;
    task_response(&ctx, task)
}

fn domain_param(d: Option<String>) -> Result<Option<Domain>, ApiError> {
    match d {
        None => Ok(None),
        Some(d) => Domain::parse(&d)
            .map(Some)
            .ok_or_else(|| ApiError::not_found(format!("Unknown metadata domain \"{d}\"."))),
    }
}

async fn meta_value_get(
    ctx: Ctx,
    kind: &'static str,
    id: String,
    domain: Option<String>,
    key: String,
) -> ApiResult {
    let caller = ctx.caller()?;
    let e = entity_of(kind, &id).map_err(|e| ctx.err(e))?;
    let domain = domain_param(domain).map_err(|e| ctx.err(e))?;
    let x = ctx
        .sim()
        .metadata_value(&caller, e, domain, &key)
        .map_err(|e| ctx.fail(e))?;
    ctx.ok(mt::METADATA_VALUE, docs::metadata_value(&ctx.base, e, &x))
}

async fn meta_value_put(
    ctx: Ctx,
    kind: &'static str,
    id: String,
    domain: Option<String>,
    key: String,
    body: Bytes,
) -> ApiResult {
    let caller = ctx.caller()?;
    let e = entity_of(kind, &id).map_err(|e| ctx.err(e))?;
    let domain = domain_param(domain).map_err(|e| ctx.err(e))?;
    let dom = parse::body_dom(&body).map_err(|e| ctx.err(e))?;
    let entry = parse::metadata_value(&dom, &key, domain).map_err(|e| ctx.err(e))?;
    let task = ctx
        .sim()
        .set_metadata(&caller, e, vec![entry])
        .map_err(|e| ctx.fail(e))?;
    task_response(&ctx, task)
}

async fn meta_value_delete(
    ctx: Ctx,
    kind: &'static str,
    id: String,
    domain: Option<String>,
    key: String,
) -> ApiResult {
    let caller = ctx.caller()?;
    let e = entity_of(kind, &id).map_err(|e| ctx.err(e))?;
    let domain = domain_param(domain).map_err(|e| ctx.err(e))?;
    let task = ctx
        .sim()
        .delete_metadata(&caller, e, domain, &key)
        .map_err(|e| ctx.fail(e))?;
    task_response(&ctx, task)
}

// ----- query service -----

async fn run_query(ctx: Ctx, RawQuery(raw): RawQuery) -> ApiResult {
    let caller = ctx.caller()?;
    let raw = raw.unwrap_or_default();
    if raw.is_empty() {
        let mut types: Vec<&str> = TENANT_TYPES.to_vec();
        if caller.is_sysadmin() {
            types.extend(ADMIN_TYPES);
        }
        return ctx.ok(mt::QUERY_LIST, docs::query_list(&ctx.base, &types));
    }
    let q = query::parse_params(&raw).map_err(|e| ctx.err(ApiError::bad_request(e.0)))?;
    let records = ctx
        .sim()
        .query_records(&caller, &q.kind)
        .map_err(|e| ctx.fail(e))?;
    let (doc, media) = query::render(&ctx.base, &q, records);
    ctx.ok(media, doc)
}

// ----- tasks -----

async fn get_task(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let caller = ctx.caller()?;
    let t = ctx
        .sim()
        .task(&caller, id_of(&id)?)
        .map_err(|e| ctx.fail(e))?;
    let g = ctx.sim().read();
    ctx.ok(mt::TASK, docs::task(&g, &ctx.base, &t))
}

async fn put_task(ctx: Ctx, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let caller = ctx.caller()?;
    let dom = parse::body_dom(&body).map_err(|e| ctx.err(e))?;
    let input = parse::task(&dom).map_err(|e| ctx.err(e))?;
    let t = ctx
        .sim()
        .update_task(&caller, id_of(&id)?, input)
        .map_err(|e| ctx.fail(e))?;
    let g = ctx.sim().read();
    ctx.ok(mt::TASK, docs::task(&g, &ctx.base, &t))
}

async fn cancel_task(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let caller = ctx.caller()?;
    ctx.sim()
        .cancel_task(&caller, id_of(&id)?)
        .map_err(|e| ctx.fail(e))?;
    Ok(StatusCode::NO_CONTENT.into_response_ok())
}

async fn get_tasks_list(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let caller = ctx.caller()?;
    let org = id_of(&id)?;
    let tasks = ctx.sim().org_tasks(&caller, org).map_err(|e| ctx.fail(e))?;
    let g = ctx.sim().read();
    ctx.ok(mt::TASKS_LIST, docs::tasks_list(&g, &ctx.base, org, &tasks))
}

async fn post_tasks_list(ctx: Ctx, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let caller = ctx.caller()?;
    let org = id_of(&id)?;
    let dom = parse::body_dom(&body).map_err(|e| ctx.err(e))?;
    let input = parse::task(&dom).map_err(|e| ctx.err(e))?;
    let t = ctx
        .sim()
        .create_external_task(&caller, org, input)
        .map_err(|e| ctx.fail(e))?;
    let g = ctx.sim().read();
    ctx.ok(mt::TASK, docs::task(&g, &ctx.base, &t))
}
