//! The router behind the listeners: parses a forwarded request's route once
//! (`cse_core::api::Request`) and hands the parsed route to the handlers
//! ([`RouteHandler`], implemented by `handlers::Operations`). Without handlers
//! it answers `GET /api/cse/system` itself (a tenant's view) and refuses the
//! rest.

use std::sync::Arc;

use async_trait::async_trait;
use cse_core::api::{ApiError, Request, SystemInfo, reply_json};
use cse_core::ext::{ExtReply, ExtRequest};

use crate::amqp::Handler;

/// What the router hands a parsed route to.
#[async_trait]
pub trait RouteHandler: Send + Sync {
    /// Answers `request`, whose route the router parsed as `route`.
    async fn handle_route(&self, route: Request, request: ExtRequest) -> ExtReply;
}

/// Any listener-level [`Handler`] behind the router (it sees the request,
/// not the parsed route): test doubles and embedders.
struct WholeRequests(Arc<dyn Handler>);

#[async_trait]
impl RouteHandler for WholeRequests {
    async fn handle_route(&self, _route: Request, request: ExtRequest) -> ExtReply {
        self.0.handle(request).await
    }
}

/// Routes extension requests to their handlers.
#[derive(Clone, Default)]
pub struct Service {
    operations: Option<Arc<dyn RouteHandler>>,
    system_info_too: bool,
}

impl Service {
    /// A service answering the system endpoint only.
    pub fn new() -> Self {
        Service {
            operations: None,
            system_info_too: false,
        }
    }

    /// A service that hands every request except the system info to `operations`.
    pub fn with_operations(operations: Arc<dyn Handler>) -> Self {
        Service {
            operations: Some(Arc::new(WholeRequests(operations))),
            system_info_too: false,
        }
    }

    /// A service that hands every parsed route to `operations`, system info
    /// included (so System-org callers get the process details): what `cse run` uses.
    pub fn with_all_routes(operations: Arc<dyn RouteHandler>) -> Self {
        Service {
            operations: Some(operations),
            system_info_too: true,
        }
    }
}

/// `GET /api/cse/system` as a tenant sees it.
pub fn system_info(request: &ExtRequest) -> ExtReply {
    reply_json(request, 200, &SystemInfo::base(cse_core::CSE_VERSION))
        .unwrap_or_else(|e| e.reply_to(request))
}

#[async_trait]
impl Handler for Service {
    async fn handle(&self, request: ExtRequest) -> ExtReply {
        match Request::from_ext(&request) {
            Ok(Request::SystemInfo) if !self.system_info_too => system_info(&request),
            Ok(route) => match &self.operations {
                Some(operations) => operations.handle_route(route, request).await,
                None => ApiError::Internal(format!(
                    "The operation {route:?} is not available in this server build."
                ))
                .reply_to(&request),
            },
            Err(e) => e.reply_to(&request),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cse_core::ext::ExtRequestBuilder;

    fn get(path: &str) -> ExtRequest {
        ExtRequestBuilder::new("id-1", "GET", path)
            .header("Accept", "application/*+json;version=29.0")
            .build()
    }

    #[tokio::test]
    async fn system_info_is_the_tenant_document() {
        let reply = Service::new().handle(get("/api/cse/system")).await;
        assert_eq!(reply.status_code, 200);
        assert_eq!(reply.id, "id-1");
        assert_eq!(reply.content_type, "application/*+json;version=29.0");
        let body: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
        insta::assert_json_snapshot!("system_info_tenant", body, {".version" => "[version]"});
        assert_eq!(body["version"], cse_core::CSE_VERSION);
    }

    #[tokio::test]
    async fn unknown_route_is_an_error_reply() {
        let reply = Service::new().handle(get("/api/cse/a/b/c/d")).await;
        assert!(reply.status_code >= 400, "{}", reply.status_code);
        let body: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
        assert!(body["message"].is_string());
    }
}
