//! vCD's REST API over HTTP: the axum router, request context (base URL,
//! negotiated API version, session), vCD `Error` documents, and the hand-over
//! of requests that match an extension's API filters.
//!
//! One module per resource family, each holding its handlers, request
//! parsing and documents: `sessions`, `orgs` (orgs, VDCs, networks, VDC
//! actions), `catalogs` (catalogs, items, templates, media, uploads), `vapps`
//! (vApps and VMs), `metadata`, `query` (query service), `tasks`, `admin`
//! (system administrator), `tokens` (API tokens and the OAuth token
//! exchange), `extensions_api` (MQTT API extensions and the broker's websocket). `common` holds what the families share (media
//! types, hrefs, references); `xml` the writer/reader; `extension` hands
//! requests matching an extension's API filters over; `faults` applies the
//! run-time REST fault rules. The one route table is [`router`].

mod admin;
pub(crate) mod catalogs;
mod common;
pub mod context;
pub mod extension;
mod extensions_api;
pub mod faults;
mod metadata;
mod orgs;
mod query;
mod sessions;
mod tasks;
mod tokens;
mod vapps;
pub mod xml;

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::HeaderMap;
use axum::routing::{get, post, put};

pub use crate::ext::{ExtensionForwarder, FnForwarder};
pub use context::{
    ApiResult, AppState, Ctx, MAX_BODY, SUPPORTED_VERSIONS, VcdErrorResponse, accept_version,
    base_url, error_document, request_token,
};

/// Builds the router of `/api`, `/transfer` and `/cloudapi`.
pub fn router(state: AppState) -> axum::Router {
    routes()
        .fallback(extension::fallback)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            extension::middleware,
        ))
        .with_state(state)
}

/// The route table of the vCD REST API: every path, its methods and the
/// family module whose handler answers.
fn routes() -> axum::Router<AppState> {
    let mut r = axum::Router::new()
        .route("/api/versions", get(sessions::versions))
        .route("/api/sessions", post(sessions::login))
        .route(
            "/api/session",
            get(sessions::get_session).delete(sessions::logout),
        )
        .route(
            "/cloudapi/1.0.0/sessions",
            post(|ctx: Ctx, h: HeaderMap| async move { sessions::cloudapi_login(ctx, h, false) }),
        )
        .route(
            "/cloudapi/1.0.0/sessions/provider",
            post(|ctx: Ctx, h: HeaderMap| async move { sessions::cloudapi_login(ctx, h, true) }),
        )
        .route(
            "/cloudapi/1.0.0/sessions/current",
            get(sessions::cloudapi_current).delete(|ctx: Ctx| async move {
                sessions::cloudapi_logout(ctx, "current".into()).await
            }),
        )
        .route(
            "/cloudapi/1.0.0/sessions/{id}",
            axum::routing::delete(|ctx: Ctx, Path(id): Path<String>| async move {
                sessions::cloudapi_logout(ctx, id).await
            }),
        )
        .route(
            "/cloudapi/1.0.0/tokens",
            get(tokens::list_tokens).post(tokens::create_token),
        )
        .route(
            "/cloudapi/extensions/api",
            get(extensions_api::list).post(extensions_api::create),
        )
        .route(
            "/cloudapi/extensions/api/",
            get(extensions_api::list).post(extensions_api::create),
        )
        .route(
            "/cloudapi/extensions/api/{id}",
            get(|ctx: Ctx, Path(id): Path<String>| async move {
                extensions_api::get_one(ctx, id).await
            })
            .put(|ctx: Ctx, Path(id): Path<String>, body: Bytes| async move {
                extensions_api::put_one(ctx, id, body).await
            })
            .delete(|ctx: Ctx, Path(id): Path<String>| async move {
                extensions_api::delete_one(ctx, id).await
            }),
        )
        .route("/messaging/mqtt", get(extensions_api::socket))
        .route(
            "/cloudapi/1.0.0/tokens/{id}",
            get(|ctx: Ctx, Path(id): Path<String>| async move { tokens::get_token(ctx, id).await })
                .delete(|ctx: Ctx, Path(id): Path<String>| async move {
                    tokens::delete_token(ctx, id).await
                }),
        )
        .route(
            "/oauth/tenant/{org}/token",
            post(
                |ctx: Ctx, Path(org): Path<String>, body: Bytes| async move {
                    tokens::oauth_token(ctx, Some(org), body).await
                },
            ),
        )
        .route(
            "/oauth/provider/token",
            post(|ctx: Ctx, body: Bytes| async move { tokens::oauth_token(ctx, None, body).await }),
        )
        .route("/api/vApp/{id}/owner", get(vapps::get_vapp_owner))
        .route("/api/org", get(orgs::org_list))
        .route("/api/org/", get(orgs::org_list))
        .route("/api/org/{id}", get(orgs::get_org))
        .route("/api/vdc/{id}", get(orgs::get_vdc))
        .route("/api/vdc/{id}/action/{action}", post(orgs::vdc_action))
        .route("/api/network/{id}", get(orgs::get_network))
        .route("/api/catalog/{id}", get(catalogs::get_catalog))
        .route(
            "/api/catalog/{id}/action/{action}",
            post(catalogs::catalog_action),
        )
        .route(
            "/api/catalogItem/{id}",
            get(catalogs::get_catalog_item).delete(catalogs::delete_catalog_item),
        )
        .route("/api/vAppTemplate/{id}", get(catalogs::get_template))
        .route("/api/media/{id}", get(catalogs::get_media))
        .route("/transfer/{transfer}/{file}", put(catalogs::transfer_put))
        .route(
            "/api/vApp/{id}",
            get(vapps::get_vapp).delete(vapps::delete_vapp),
        )
        .route(
            "/api/vApp/{id}/power/action/{op}",
            post(vapps::power_action),
        )
        .route("/api/vApp/{id}/action/{action}", post(vapps::vapp_action))
        .route(
            "/api/vApp/{id}/virtualHardwareSection/{item}",
            get(vapps::get_rasd).put(vapps::put_rasd),
        )
        .route("/api/query", get(query::run_query))
        .route("/api/task/{id}", get(tasks::get_task).put(tasks::put_task))
        .route("/api/task/{id}/action/cancel", post(tasks::cancel_task))
        .route(
            "/api/tasksList/{id}",
            get(tasks::get_tasks_list).post(tasks::post_tasks_list),
        )
        .route("/api/admin/org/{id}", get(orgs::get_admin_org))
        .route(
            "/api/admin/org/{id}/catalogs",
            post(catalogs::create_catalog),
        )
        .route(
            "/api/admin/catalog/{id}",
            get(catalogs::get_admin_catalog).delete(catalogs::delete_catalog),
        )
        .route(
            "/api/admin/catalog/{id}/action/publish",
            post(catalogs::publish_catalog),
        )
        .route("/api/admin/vdc/{id}", get(orgs::get_admin_vdc));
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
                get(move |ctx: Ctx, Path(id): Path<String>| async move { metadata::meta_get(ctx, kind, id).await })
                    .post(move |ctx: Ctx, Path(id): Path<String>, body: Bytes| async move { metadata::meta_post(ctx, kind, id, body).await }),
            )
            .route(
                &format!("/api/{kind}/{{id}}/metadata/{{key}}"),
                get(move |ctx: Ctx, Path((id, key)): Path<(String, String)>| async move { metadata::meta_value_get(ctx, kind, id, None, key).await })
                    .put(move |ctx: Ctx, Path((id, key)): Path<(String, String)>, body: Bytes| async move {
                        metadata::meta_value_put(ctx, kind, id, None, key, body).await
                    })
                    .delete(move |ctx: Ctx, Path((id, key)): Path<(String, String)>| async move {
                        metadata::meta_value_delete(ctx, kind, id, None, key).await
                    }),
            )
            .route(
                &format!("/api/{kind}/{{id}}/metadata/{{domain}}/{{key}}"),
                get(move |ctx: Ctx, Path((id, d, key)): Path<(String, String, String)>| async move {
                    metadata::meta_value_get(ctx, kind, id, Some(d), key).await
                })
                .put(move |ctx: Ctx, Path((id, d, key)): Path<(String, String, String)>, body: Bytes| async move {
                    metadata::meta_value_put(ctx, kind, id, Some(d), key, body).await
                })
                .delete(move |ctx: Ctx, Path((id, d, key)): Path<(String, String, String)>| async move {
                    metadata::meta_value_delete(ctx, kind, id, Some(d), key).await
                }),
            );
    }
    // System administrator: extensions, rights, roles, users, AMQP, vCenters.
    r.route("/api/admin", get(admin::admin_root))
        .route("/api/admin/", get(admin::admin_root))
        .route("/api/admin/extension", get(admin::extension_root))
        .route(
            "/api/admin/extension/service",
            get(admin::list_services).post(admin::create_service),
        )
        .route(
            "/api/admin/extension/service/",
            get(admin::list_services).post(admin::create_service),
        )
        .route(
            "/api/admin/extension/service/{id}",
            get(admin::get_service)
                .put(admin::put_service)
                .delete(admin::delete_service),
        )
        .route(
            "/api/admin/extension/service/{id}/apifilters",
            get(admin::list_filters).post(admin::add_filter),
        )
        .route(
            "/api/admin/extension/service/apifilter/{id}",
            get(admin::get_filter).delete(admin::delete_filter),
        )
        .route(
            "/api/admin/extension/service/{id}/rights",
            get(admin::list_rights).post(admin::add_right),
        )
        .route("/api/admin/right/{id}", get(admin::get_right))
        .route(
            "/api/admin/role/{id}",
            get(admin::get_role).put(admin::put_role),
        )
        .route("/api/admin/user/{id}", get(admin::get_user))
        .route(
            "/api/admin/extension/settings/amqp",
            get(admin::get_amqp).put(admin::put_amqp),
        )
        .route(
            "/api/admin/extension/settings/amqp/action/test",
            post(admin::test_amqp),
        )
        .route(
            "/api/admin/extension/vimServerReferences",
            get(admin::vim_refs),
        )
        .route(
            "/api/admin/extension/vimServer/{id}",
            get(admin::vim_server),
        )
}
