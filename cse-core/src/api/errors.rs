//! Every error the `/api/cse` surface answers with: its message text (1.2.x texts verbatim
//! where the original had one) and its HTTP status, rendered as `{"message": ...}`.

use serde::{Deserialize, Serialize};

use crate::ext::EnvelopeError;
use crate::naming::ClusterNameError;

use super::python_repr::python_list_repr;

/// The `{"message": ...}` document used for errors and for plain success messages (1.2.x
/// compatible). Always serialised with serde, so any message text yields valid JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageBody {
    /// The human-readable text.
    pub message: String,
}

impl MessageBody {
    /// A body with the given text.
    pub fn new(message: impl Into<String>) -> MessageBody {
        MessageBody {
            message: message.into(),
        }
    }

    /// `{"message": "Updated"}`: reply to a successful enable/disable.
    pub fn updated() -> MessageBody {
        MessageBody::new("Updated")
    }

    /// Reply to a successful stop: `CSE graceful shutdown started.` plus
    /// ` CSE will finish processing <n> requests.` when operations are still running.
    pub fn shutdown_started(requests_in_progress: usize) -> MessageBody {
        let mut message = String::from("CSE graceful shutdown started.");
        if requests_in_progress > 0 {
            message.push_str(&format!(
                " CSE will finish processing {requests_in_progress} requests."
            ));
        }
        MessageBody::new(message)
    }

    /// The JSON text.
    pub fn to_json(&self) -> String {
        serde_json::json!({ "message": self.message }).to_string()
    }
}

/// The stage of a cluster or node operation an error happened in (1.2.x prefixes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationStage {
    /// `Error while creating vApp:`
    CreatingVapp,
    /// `Error while adding master node:`
    AddingMaster,
    /// `Error while creating worker node:`
    CreatingWorkers,
    /// `Error while creating NFS node:`
    CreatingNfs,
}

impl OperationStage {
    /// The 1.2.x prefix text (with the trailing colon).
    pub fn prefix(self) -> &'static str {
        match self {
            OperationStage::CreatingVapp => "Error while creating vApp:",
            OperationStage::AddingMaster => "Error while adding master node:",
            OperationStage::CreatingWorkers => "Error while creating worker node:",
            OperationStage::CreatingNfs => "Error while creating NFS node:",
        }
    }
}

/// An error answered by the `/api/cse` surface, or written into a failed vCD task.
///
/// Status codes: the 1.2.x errors keep their 500 (and 401 for `Unauthorized`) so existing
/// clients behave the same; problems 1.2.x never reported (unknown routes, wrong methods,
/// malformed bodies or envelopes) get the 4xx a production user expects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// The service was disabled with `PUT /api/cse/system`.
    #[error("CSE service is disabled. Contact the System Administrator.")]
    ServiceDisabled,
    /// A cluster with that name is already visible to the caller.
    #[error("Cluster already exists.")]
    ClusterAlreadyExists,
    /// No (or more than one) cluster with that name. One text for info, config, delete and
    /// node operations (1.2.x had three spellings, see API-DECISIONS.md).
    #[error("Cluster '{0}' not found.")]
    ClusterNotFound(String),
    /// The kubeconfig download from the master failed.
    #[error("Couldn't get cluster configuration")]
    ClusterConfigUnavailable,
    /// The node is not a VM of the cluster.
    #[error("Node '{node}' not found in cluster '{cluster}'")]
    NodeNotFound {
        /// The node name.
        node: String,
        /// The cluster name.
        cluster: String,
    },
    /// The template is not in the server configuration.
    #[error("Template {0} not found")]
    TemplateNotFound(String),
    /// The org VDC network does not exist.
    #[error("Network '{0}' not found in the Virtual Datacenter.")]
    NetworkNotFound(String),
    /// `{"enabled": true}` while a stop is in progress.
    #[error("Cannot enable while being stopped.")]
    CannotEnableWhileStopping,
    /// `{"stopped": ...}` while the service is enabled.
    #[error("Cannot stop CSE while is enabled. Disable the service first.")]
    CannotStopWhileEnabled,
    /// System update body with neither `enabled` nor `stopped`.
    #[error("Unknown status")]
    UnknownStatus,
    /// Node count below the minimum.
    #[error("Invalid node count: {0}.")]
    InvalidNodeCount(i64),
    /// Empty list of nodes to delete (formatted like Python's `str(list)`).
    #[error("Invalid list of nodes: {}.", python_list_repr(.0))]
    InvalidNodeList(Vec<String>),
    /// A master node was named in a delete-nodes request.
    #[error("Can't delete a master node: '{0}'.")]
    CannotDeleteMaster(String),
    /// Cluster-name validation failed (text `Invalid cluster name`, see [`ClusterNameError`]).
    #[error("{0}")]
    InvalidClusterName(ClusterNameError),
    /// A non-System caller used `PUT /api/cse/system`.
    #[error("Unauthorized")]
    Unauthorized,
    /// The master could not be initialised (`kubeadm init` failed).
    #[error("Couldn't initialize cluster:\n{stderr}")]
    ClusterInitFailed {
        /// The script's standard error.
        stderr: String,
    },
    /// A worker could not join (`kubeadm join` failed).
    #[error("Couldn't join cluster:\n{stderr}")]
    JoinFailed {
        /// The script's standard error.
        stderr: String,
    },
    /// `kubectl delete node` failed and `force` was not given.
    #[error("Couldn't delete node(s):\n{stderr}")]
    NodeDeleteFailed {
        /// The command's standard error.
        stderr: String,
    },
    /// The guest never answered the readiness probe.
    #[error("VM is not ready to execute scripts")]
    VmNotReady,
    /// A create stage failed (1.2.x rendered these as a Python tuple; we join them).
    #[error("{} {cause}", stage.prefix())]
    StageFailed {
        /// Which stage.
        stage: OperationStage,
        /// What went wrong.
        cause: String,
    },
    /// Any other server-side failure (vCD, vCenter, broker), with a message a person can act on.
    #[error("{0}")]
    Internal(String),

    // ---- new in CSE-RS (4xx) ----
    /// No route matches the path.
    #[error("Unknown request: {method} {path}")]
    RouteNotFound {
        /// The request method.
        method: String,
        /// The request path.
        path: String,
    },
    /// The path exists but not with this method.
    #[error("Method {method} is not allowed on {path} (allowed: {})", allowed.join(", "))]
    MethodNotAllowed {
        /// The request method.
        method: String,
        /// The request path.
        path: String,
        /// Methods the path accepts.
        allowed: Vec<&'static str>,
    },
    /// The operation needs a JSON body and none was sent.
    #[error("A JSON request body is required")]
    MissingBody,
    /// The body is not JSON or has the wrong shape.
    #[error("Invalid request body: {0}")]
    InvalidBody(String),
    /// A required body field is absent or null.
    #[error("Missing required field '{0}' in the request body")]
    MissingField(&'static str),
    /// A node route's body names a different cluster than the URL.
    #[error(
        "Cluster name in the request body ('{body}') does not match the cluster in the URL ('{url}')."
    )]
    ClusterNameMismatch {
        /// The body's `name`.
        body: String,
        /// The URL's cluster.
        url: String,
    },
    /// `node_type` other than `node` or `nfsd`.
    #[error("Invalid node type: '{0}'. Expected 'node' or 'nfsd'.")]
    InvalidNodeType(String),
    /// `cpu` not positive.
    #[error("Invalid number of CPUs: {0}.")]
    InvalidCpu(i64),
    /// `memory` not positive.
    #[error("Invalid memory size: {0} MB.")]
    InvalidMemory(i64),
    /// System body with both `enabled` and `stopped`.
    #[error("Specify either 'enabled' or 'stopped', not both.")]
    ConflictingSystemUpdate,
    /// `{"stopped": false}`.
    #[error("Nothing to do: only {{\"stopped\": true}} stops the service.")]
    StopFalse,
    /// The `Accept` header has no `version=` (1.2.x failed with an index error).
    #[error("{0}")]
    MissingApiVersion(String),
    /// The request has neither an `Authorization: Bearer` nor an `x-vcloud-authorization` token.
    #[error("Missing x-vcloud-authorization header")]
    MissingToken,
    /// The extension envelope itself was malformed.
    #[error("Malformed extension request: {0}")]
    BadEnvelope(String),

    // ---- one operation per cluster, bounded queue (CSE-RS) ----
    /// A create of the same name in the same org is already running or queued.
    #[error("Cluster '{0}' already exists: another request is creating it.")]
    ClusterBeingCreated(String),
    /// Another operation holds the cluster (running, queued, or interrupted and
    /// about to be finished by a server).
    #[error(
        "Cluster '{cluster}' is busy: another operation ({operation}) {state}. Try again when its task has finished."
    )]
    ClusterBusy {
        /// The cluster name.
        cluster: String,
        /// The other operation's name (`create_cluster`, `delete_cluster`, ...).
        operation: String,
        /// `is in progress`, `is queued`, `was interrupted and is being finished`.
        state: &'static str,
    },
    /// Every operation slot is taken and the queue is full.
    #[error(
        "The server is busy: {running} operations are running and {queued} are queued, the most it accepts. Try again later."
    )]
    OperationQueueFull {
        /// `service.max_operations`.
        running: u32,
        /// `service.max_queued_operations`.
        queued: u32,
    },
    /// A request value is above the server's configured limit (`limits:` in config.yaml).
    /// `value` is the number, or the size of a string (never a long string itself).
    #[error("Invalid {field}: {value} is over the limit of {limit} ({setting}).")]
    OverLimit {
        /// The request field (`node_count`, `ssh_key`, ...).
        field: &'static str,
        /// The value asked for, or its size (`20000 characters`).
        value: String,
        /// The limit with its unit (`50 VMs per request`).
        limit: String,
        /// The config key that sets it (`limits.max_node_count`).
        setting: &'static str,
    },
    /// A node create would make the cluster bigger than `limits.max_cluster_vms`.
    #[error(
        "Invalid node_count: {adding}. Cluster '{cluster}' has {current} VMs and can have at most {limit} (limits.max_cluster_vms)."
    )]
    ClusterTooLarge {
        /// The cluster.
        cluster: String,
        /// VMs it has now.
        current: u64,
        /// VMs the request adds.
        adding: u64,
        /// `limits.max_cluster_vms`.
        limit: u32,
    },
    /// More names are needed than remain free (a limit set above the name space).
    #[error("{0}")]
    NamesExhausted(String),
}

impl ApiError {
    /// The HTTP status of the reply.
    pub fn status(&self) -> u16 {
        match self {
            ApiError::Unauthorized | ApiError::MissingToken => 401,
            ApiError::RouteNotFound { .. } => 404,
            ApiError::MethodNotAllowed { .. } => 405,
            ApiError::MissingBody
            | ApiError::InvalidBody(_)
            | ApiError::MissingField(_)
            | ApiError::ClusterNameMismatch { .. }
            | ApiError::InvalidNodeType(_)
            | ApiError::InvalidCpu(_)
            | ApiError::InvalidMemory(_)
            | ApiError::ConflictingSystemUpdate
            | ApiError::StopFalse
            | ApiError::MissingApiVersion(_)
            | ApiError::BadEnvelope(_)
            | ApiError::OverLimit { .. }
            | ApiError::ClusterTooLarge { .. }
            | ApiError::NamesExhausted(_) => 400,
            ApiError::ClusterBeingCreated(_) | ApiError::ClusterBusy { .. } => 409,
            ApiError::OperationQueueFull { .. } => 503,
            ApiError::ServiceDisabled
            | ApiError::ClusterAlreadyExists
            | ApiError::ClusterNotFound(_)
            | ApiError::ClusterConfigUnavailable
            | ApiError::NodeNotFound { .. }
            | ApiError::TemplateNotFound(_)
            | ApiError::NetworkNotFound(_)
            | ApiError::CannotEnableWhileStopping
            | ApiError::CannotStopWhileEnabled
            | ApiError::UnknownStatus
            | ApiError::InvalidNodeCount(_)
            | ApiError::InvalidNodeList(_)
            | ApiError::CannotDeleteMaster(_)
            | ApiError::InvalidClusterName(_)
            | ApiError::ClusterInitFailed { .. }
            | ApiError::JoinFailed { .. }
            | ApiError::NodeDeleteFailed { .. }
            | ApiError::VmNotReady
            | ApiError::StageFailed { .. }
            | ApiError::Internal(_) => 500,
        }
    }

    /// The `{"message": ...}` body.
    pub fn body(&self) -> MessageBody {
        MessageBody::new(self.to_string())
    }

    /// The JSON text of the body.
    pub fn to_json(&self) -> String {
        self.body().to_json()
    }
}

impl From<ClusterNameError> for ApiError {
    fn from(error: ClusterNameError) -> Self {
        ApiError::InvalidClusterName(error)
    }
}

impl From<EnvelopeError> for ApiError {
    fn from(error: EnvelopeError) -> Self {
        match error {
            EnvelopeError::MissingAccept | EnvelopeError::MissingApiVersion(_) => {
                ApiError::MissingApiVersion(error.to_string())
            }
            other => ApiError::BadEnvelope(other.to_string()),
        }
    }
}
