//! The CSE REST contract seen through vCD: `/api/cse/...` routes, request bodies,
//! response documents and the validation rules with their error texts.
//!
//! Handlers use [`Request::parse`] on the forwarded method and path, parse and `validate()` the
//! body type of the route ([`CreateClusterBody`], [`CreateNodesBody`], [`DeleteNodesBody`],
//! [`SystemUpdateBody`]), answer with a response type of [`responses`], and turn failures into
//! [`ApiError::status`] + [`ApiError::body`]. The decisions below are also kept in
//! `cse-core/API-DECISIONS.md` (the same text, included here).
//!
#![doc = include_str!("../API-DECISIONS.md")]

pub mod bodies;
pub mod errors;
pub mod python_repr;
pub mod responses;
pub mod routes;
pub mod tasks;

pub use bodies::{
    ClusterSpec, CreateClusterBody, CreateNodesBody, DeleteNodesBody, NodeDeletion, NodesSpec,
    SystemAction, SystemUpdateBody, VmResources, check_cluster_capacity, parse_body,
};
pub use errors::{ApiError, MessageBody, OperationStage};
pub use python_repr::{python_list_repr, python_str_repr};
pub use responses::{
    Cluster, ClusterTaskReply, CreateClusterReply, KubeConfigReply, NodeInfo, NodeSummary,
    ServiceStatus, SystemDetails, SystemInfo, TemplateEntry, exports_from_showmount,
    vm_status_text,
};
pub use routes::{API_PREFIX, Request, SwaggerFormat};
pub use tasks::{TaskMessage, TaskOperation};

use crate::ext::{ExtReply, ExtRequest};

/// Name of vCD's provider org, whose members may update the service and see its details.
pub const SYSTEM_ORG: &str = "System";

/// Whether `org` is the provider org (compared case-insensitively; see decision 29).
pub fn is_system_org(org: &str) -> bool {
    org.eq_ignore_ascii_case(SYSTEM_ORG)
}

/// `Err(Unauthorized)` unless the caller is in the System org (`PUT /api/cse/system`).
pub fn require_system_org(org: &str) -> Result<(), ApiError> {
    if is_system_org(org) {
        Ok(())
    } else {
        Err(ApiError::Unauthorized)
    }
}

impl Request {
    /// Route a forwarded request (its `method` and `requestUri`).
    pub fn from_ext(request: &ExtRequest) -> Result<Request, ApiError> {
        Request::parse(&request.method, &request.request_uri)
    }
}

impl ApiError {
    /// The extension reply carrying this error (`{"message": ...}` with its status).
    pub fn reply_to(&self, request: &ExtRequest) -> ExtReply {
        ExtReply::new(request, self.status(), self.to_json())
    }
}

/// The extension reply of a successful request: `value` as JSON with the given status.
pub fn reply_json<T: serde::Serialize>(
    request: &ExtRequest,
    status: u16,
    value: &T,
) -> Result<ExtReply, ApiError> {
    Ok(ExtReply::new(request, status, json_body(value)?))
}

/// The JSON text of a reply body (a value that cannot be written is a 500),
/// for replies whose body is written once and sent to several calls.
pub fn json_body<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(value)
        .map_err(|e| ApiError::Internal(format!("Couldn't serialise the reply: {e}")))
}
