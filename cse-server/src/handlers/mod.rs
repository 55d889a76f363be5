//! One function per `/api/cse` route. [`Operations`] is the [`Handler`] that
//! `cse run` plugs into [`crate::service::Service`]: it checks the service is
//! enabled, authenticates the caller with its own vCD session, applies the
//! authorization rules and dispatches. Synchronous routes answer at once;
//! cluster create/delete and node create/delete start an operation in
//! [`crate::ops`] and answer 202 with the vCD task that tracks it.

pub mod swagger;
pub mod sync;

use std::sync::Arc;

use async_trait::async_trait;
use cse_core::api::{ApiError, Request, SystemInfo, SystemUpdateBody, reply_json};
use cse_core::ext::{ExtReply, ExtRequest};
use tracing::Instrument;

use crate::context::Context;

use crate::amqp::Handler;
use crate::auth::{authenticate, check_rights};
use crate::service::RouteHandler;

/// The request handler of a running server.
#[derive(Clone)]
pub struct Operations {
    context: Arc<Context>,
}

impl Operations {
    /// Handles requests with `context`.
    pub fn new(context: Arc<Context>) -> Self {
        Operations { context }
    }

    /// The shared server state.
    pub fn context(&self) -> &Arc<Context> {
        &self.context
    }

    async fn dispatch(&self, route: Request, request: &ExtRequest) -> Result<ExtReply, ApiError> {
        let ctx = &self.context;
        route.check_enabled(ctx.system.is_enabled())?;
        let caller = authenticate(&ctx.connector, &ctx.caller_sessions, request).await?;
        tracing::debug!(user = %caller.session.user, org = %caller.session.org, route = route.operation_name(), "caller authenticated");
        match &route {
            Request::SystemInfo => {
                let info = if caller.is_system() {
                    SystemInfo::for_system(cse_core::CSE_VERSION, ctx.system_details())
                } else {
                    SystemInfo::base(cse_core::CSE_VERSION)
                };
                reply_json(request, 200, &info)
            }
            Request::UpdateSystem => {
                caller.require_system()?;
                let action = SystemUpdateBody::from_json(&request.body)?.validate()?;
                let message = ctx.system.apply(action)?;
                reply_json(request, 200, &message)
            }
            Request::Swagger { format } => swagger::reply(request, *format),
            other => {
                check_rights(ctx.config.service.enforce_authorization, &caller, request)?;
                match other {
                    Request::ListClusters => sync::list_clusters(ctx, &caller, request).await,
                    Request::ListTemplates => sync::list_templates(ctx, request),
                    Request::ClusterInfo { cluster } => {
                        sync::cluster_info(ctx, &caller, request, cluster).await
                    }
                    Request::ClusterConfig { cluster } => {
                        sync::cluster_config(ctx, &caller, request, cluster).await
                    }
                    Request::NodeInfo { cluster, node } => {
                        sync::node_info(ctx, &caller, request, cluster, node).await
                    }
                    Request::CreateCluster => {
                        crate::ops::start::create_cluster(ctx, &caller, request).await
                    }
                    Request::DeleteCluster { cluster } => {
                        crate::ops::start::delete_cluster(ctx, &caller, request, cluster).await
                    }
                    Request::CreateNodes { cluster } => {
                        crate::ops::start::create_nodes(ctx, &caller, request, cluster).await
                    }
                    Request::DeleteNodes { cluster } => {
                        crate::ops::start::delete_nodes(ctx, &caller, request, cluster).await
                    }
                    Request::SystemInfo | Request::UpdateSystem | Request::Swagger { .. } => {
                        unreachable_route(request)
                    }
                }
            }
        }
    }
}

fn unreachable_route(request: &ExtRequest) -> Result<ExtReply, ApiError> {
    Err(ApiError::Internal(format!(
        "The request {} {} was routed twice.",
        request.method, request.request_uri
    )))
}

/// Parses the route itself: for callers that skip the router (tests, embedders).
#[async_trait]
impl Handler for Operations {
    async fn handle(&self, request: ExtRequest) -> ExtReply {
        match Request::from_ext(&request) {
            Ok(route) => self.handle_route(route, request).await,
            Err(error) => error.reply_to(&request),
        }
    }
}

#[async_trait]
impl RouteHandler for Operations {
    async fn handle_route(&self, route: Request, request: ExtRequest) -> ExtReply {
        let span = tracing::info_span!("request", request_id = %request.id, method = %request.method, uri = %request.request_uri);
        async {
            let reply = match self.dispatch(route, &request).await {
                Ok(reply) => reply,
                Err(error) => {
                    tracing::info!(status = error.status(), "request refused: {error}");
                    error.reply_to(&request)
                }
            };
            tracing::info!(status = reply.status_code, "request answered");
            reply
        }
        .instrument(span)
        .await
    }
}
