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
use axum::handler::Handler;
use axum::http::HeaderMap;
use axum::routing::{MethodFilter, MethodRouter};

pub use crate::ext::{ExtensionForwarder, FnForwarder};
pub use context::{
    ApiResult, AppState, Ctx, MAX_BODY, SUPPORTED_VERSIONS, VcdErrorResponse, accept_version,
    base_url, error_document, request_token,
};

/// Builds the router of `/api`, `/transfer` and `/cloudapi`.
pub fn router(state: AppState) -> axum::Router {
    routes()
        .router
        .fallback(extension::fallback)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            extension::middleware,
        ))
        .with_state(state)
}

/// One operation of the route table: a method and a path template with
/// its captures as axum writes them (`GET /api/vApp/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RestOperation {
    /// `GET`, `POST`, `PUT` or `DELETE`.
    pub method: &'static str,
    /// The path template.
    pub path: String,
}

/// Every operation the route table serves, in table order (the same table
/// [`router`] is built from).
pub fn operations() -> &'static [RestOperation] {
    static OPS: std::sync::LazyLock<Vec<RestOperation>> =
        std::sync::LazyLock::new(|| routes().operations);
    &OPS
}

/// The route table while it is built: the router and, for each method
/// given a handler, its operation.
struct Table {
    router: axum::Router<AppState>,
    operations: Vec<RestOperation>,
}

/// The methods of one path while they are given handlers.
struct Methods {
    names: Vec<&'static str>,
    router: Option<MethodRouter<AppState>>,
}

impl Methods {
    fn on<H, T>(mut self, name: &'static str, filter: MethodFilter, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.names.push(name);
        self.router = Some(match self.router.take() {
            Some(m) => m.on(filter, handler),
            None => axum::routing::on(filter, handler),
        });
        self
    }

    fn get<H: Handler<T, AppState>, T: 'static>(self, handler: H) -> Self {
        self.on("GET", MethodFilter::GET, handler)
    }

    fn post<H: Handler<T, AppState>, T: 'static>(self, handler: H) -> Self {
        self.on("POST", MethodFilter::POST, handler)
    }

    fn put<H: Handler<T, AppState>, T: 'static>(self, handler: H) -> Self {
        self.on("PUT", MethodFilter::PUT, handler)
    }

    fn delete<H: Handler<T, AppState>, T: 'static>(self, handler: H) -> Self {
        self.on("DELETE", MethodFilter::DELETE, handler)
    }
}

impl Table {
    /// Serves `path` with the methods `build` gives handlers, and lists them.
    fn route(mut self, path: &str, build: impl FnOnce(Methods) -> Methods) -> Self {
        let methods = build(Methods {
            names: Vec::new(),
            router: None,
        });
        if let Some(m) = methods.router {
            self.operations
                .extend(methods.names.into_iter().map(|method| RestOperation {
                    method,
                    path: path.to_owned(),
                }));
            self.router = self.router.route(path, m);
        }
        self
    }
}

/// The route table of the vCD REST API: every path, its methods and the
/// family module whose handler answers.
fn routes() -> Table {
    let mut r = Table {
        router: axum::Router::new(),
        operations: Vec::new(),
    }
    .route("/api/versions", |m| m.get(sessions::versions))
    .route("/api/sessions", |m| m.post(sessions::login))
    .route("/api/session", |m| {
        m.get(sessions::get_session).delete(sessions::logout)
    })
    .route("/cloudapi/1.0.0/sessions", |m| {
        m.post(|ctx: Ctx, h: HeaderMap| async move { sessions::cloudapi_login(ctx, h, false) })
    })
    .route("/cloudapi/1.0.0/sessions/provider", |m| {
        m.post(|ctx: Ctx, h: HeaderMap| async move { sessions::cloudapi_login(ctx, h, true) })
    })
    .route("/cloudapi/1.0.0/sessions/current", |m| {
        m.get(sessions::cloudapi_current)
            .delete(
                |ctx: Ctx| async move { sessions::cloudapi_logout(ctx, "current".into()).await },
            )
    })
    .route("/cloudapi/1.0.0/sessions/{id}", |m| {
        m.delete(|ctx: Ctx, Path(id): Path<String>| async move {
            sessions::cloudapi_logout(ctx, id).await
        })
    })
    .route("/cloudapi/1.0.0/tokens", |m| {
        m.get(tokens::list_tokens).post(tokens::create_token)
    })
    .route("/cloudapi/extensions/api", |m| {
        m.get(extensions_api::list).post(extensions_api::create)
    })
    .route("/cloudapi/extensions/api/", |m| {
        m.get(extensions_api::list).post(extensions_api::create)
    })
    .route("/cloudapi/extensions/api/{id}", |m| {
        m.get(|ctx: Ctx, Path(id): Path<String>| async move {
                extensions_api::get_one(ctx, id).await
            })
            .put(|ctx: Ctx, Path(id): Path<String>, body: Bytes| async move {
                extensions_api::put_one(ctx, id, body).await
            })
            .delete(|ctx: Ctx, Path(id): Path<String>| async move {
                extensions_api::delete_one(ctx, id).await
            })
    })
    .route("/messaging/mqtt", |m| m.get(extensions_api::socket))
    .route("/cloudapi/1.0.0/tokens/{id}", |m| {
        m.get(|ctx: Ctx, Path(id): Path<String>| async move { tokens::get_token(ctx, id).await })
            .delete(|ctx: Ctx, Path(id): Path<String>| async move {
                tokens::delete_token(ctx, id).await
            })
    })
    .route("/oauth/tenant/{org}/token", |m| {
        m.post(
            |ctx: Ctx, Path(org): Path<String>, body: Bytes| async move {
                tokens::oauth_token(ctx, Some(org), body).await
            },
        )
    })
    .route("/oauth/provider/token", |m| {
        m.post(|ctx: Ctx, body: Bytes| async move { tokens::oauth_token(ctx, None, body).await })
    })
    .route("/api/vApp/{id}/owner", |m| m.get(vapps::get_vapp_owner))
    .route("/api/org", |m| m.get(orgs::org_list))
    .route("/api/org/", |m| m.get(orgs::org_list))
    .route("/api/org/{id}", |m| m.get(orgs::get_org))
    .route("/api/vdc/{id}", |m| m.get(orgs::get_vdc))
    .route("/api/vdc/{id}/action/{action}", |m| {
        m.post(orgs::vdc_action)
    })
    .route("/api/network/{id}", |m| m.get(orgs::get_network))
    .route("/api/catalog/{id}", |m| m.get(catalogs::get_catalog))
    .route("/api/catalog/{id}/action/{action}", |m| {
        m.post(catalogs::catalog_action)
    })
    .route("/api/catalogItem/{id}", |m| {
        m.get(catalogs::get_catalog_item)
            .delete(catalogs::delete_catalog_item)
    })
    .route("/api/vAppTemplate/{id}", |m| m.get(catalogs::get_template))
    .route("/api/media/{id}", |m| m.get(catalogs::get_media))
    .route("/transfer/{transfer}/{file}", |m| {
        m.put(catalogs::transfer_put)
    })
    .route("/api/vApp/{id}", |m| {
        m.get(vapps::get_vapp).delete(vapps::delete_vapp)
    })
    .route("/api/vApp/{id}/power/action/{op}", |m| {
        m.post(vapps::power_action)
    })
    .route("/api/vApp/{id}/action/{action}", |m| {
        m.post(vapps::vapp_action)
    })
    .route("/api/vApp/{id}/virtualHardwareSection/{item}", |m| {
        m.get(vapps::get_rasd).put(vapps::put_rasd)
    })
    .route("/api/query", |m| m.get(query::run_query))
    .route("/api/task/{id}", |m| {
        m.get(tasks::get_task).put(tasks::put_task)
    })
    .route("/api/task/{id}/action/cancel", |m| {
        m.post(tasks::cancel_task)
    })
    .route("/api/tasksList/{id}", |m| {
        m.get(tasks::get_tasks_list).post(tasks::post_tasks_list)
    })
    .route("/api/admin/org/{id}", |m| m.get(orgs::get_admin_org))
    .route("/api/admin/org/{id}/catalogs", |m| {
        m.post(catalogs::create_catalog)
    })
    .route("/api/admin/catalog/{id}", |m| {
        m.get(catalogs::get_admin_catalog)
            .delete(catalogs::delete_catalog)
    })
    .route("/api/admin/catalog/{id}/action/publish", |m| {
        m.post(catalogs::publish_catalog)
    })
    .route("/api/admin/vdc/{id}", |m| m.get(orgs::get_admin_vdc));
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
            .route(&format!("/api/{kind}/{{id}}/metadata"), |m| m.get(move |ctx: Ctx, Path(id): Path<String>| async move { metadata::meta_get(ctx, kind, id).await })
                    .post(move |ctx: Ctx, Path(id): Path<String>, body: Bytes| async move { metadata::meta_post(ctx, kind, id, body).await }),
            )
            .route(&format!("/api/{kind}/{{id}}/metadata/{{key}}"), |m| m.get(move |ctx: Ctx, Path((id, key)): Path<(String, String)>| async move { metadata::meta_value_get(ctx, kind, id, None, key).await })
                    .put(move |ctx: Ctx, Path((id, key)): Path<(String, String)>, body: Bytes| async move {
                        metadata::meta_value_put(ctx, kind, id, None, key, body).await
                    })
                    .delete(move |ctx: Ctx, Path((id, key)): Path<(String, String)>| async move {
                        metadata::meta_value_delete(ctx, kind, id, None, key).await
                    }),
            )
            .route(&format!("/api/{kind}/{{id}}/metadata/{{domain}}/{{key}}"), |m| m.get(move |ctx: Ctx, Path((id, d, key)): Path<(String, String, String)>| async move {
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
    r.route("/api/admin", |m| m.get(admin::admin_root))
        .route("/api/admin/", |m| m.get(admin::admin_root))
        .route("/api/admin/extension", |m| m.get(admin::extension_root))
        .route("/api/admin/extension/service", |m| {
            m.get(admin::list_services).post(admin::create_service)
        })
        .route("/api/admin/extension/service/", |m| {
            m.get(admin::list_services).post(admin::create_service)
        })
        .route("/api/admin/extension/service/{id}", |m| {
            m.get(admin::get_service)
                .put(admin::put_service)
                .delete(admin::delete_service)
        })
        .route("/api/admin/extension/service/{id}/apifilters", |m| {
            m.get(admin::list_filters).post(admin::add_filter)
        })
        .route("/api/admin/extension/service/apifilter/{id}", |m| {
            m.get(admin::get_filter).delete(admin::delete_filter)
        })
        .route("/api/admin/extension/service/{id}/rights", |m| {
            m.get(admin::list_rights).post(admin::add_right)
        })
        .route("/api/admin/right/{id}", |m| m.get(admin::get_right))
        .route("/api/admin/role/{id}", |m| {
            m.get(admin::get_role).put(admin::put_role)
        })
        .route("/api/admin/user/{id}", |m| m.get(admin::get_user))
        .route("/api/admin/extension/settings/amqp", |m| {
            m.get(admin::get_amqp).put(admin::put_amqp)
        })
        .route("/api/admin/extension/settings/amqp/action/test", |m| {
            m.post(admin::test_amqp)
        })
        .route("/api/admin/extension/vimServerReferences", |m| {
            m.get(admin::vim_refs)
        })
        .route("/api/admin/extension/vimServer/{id}", |m| {
            m.get(admin::vim_server)
        })
}
