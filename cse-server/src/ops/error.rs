//! The error of a running operation. Variants say which kind of step failed
//! and keep their cause as `source`; the wire type `ApiError` (Clone + Eq,
//! string causes) is made from it once, where the task's message is written
//! ([`OpError::into_api`]). Texts are those of 1.2.x where it had one.

use cse_core::api::{ApiError, OperationStage};

use super::lease::LeaseError;
use cse_vcd::vcd::VcdError;
use cse_vcd::vsphere::{LocateError, VsphereError};

/// Why an operation (or one of its steps) failed.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    /// A vCD call failed: refused, timed out, or its task ended in error.
    #[error("{}", vcd_text(.0))]
    Vcd(#[from] VcdError),
    /// A VM's guest could not be reached through its vCenter.
    #[error("Couldn't reach the VM's guest: {0}")]
    GuestUnreachable(#[source] LocateError),
    /// A guest operation failed (readiness, upload, script run).
    #[error("{what}: {source}")]
    Guest {
        /// What was being done, for a person (`Couldn't run a script in the guest`).
        what: String,
        /// The vCenter or guest failure.
        #[source]
        source: VsphereError,
    },
    /// Another server took the cluster's lease at the same time.
    #[error(
        "Cluster '{cluster}' is busy: another operation ({operation}) is in progress. Try again when its task has finished."
    )]
    LeaseLost {
        /// The cluster.
        cluster: String,
        /// This operation's name.
        operation: String,
        /// The lease failure.
        #[source]
        source: LeaseError,
    },
    /// A failure with a text of its own (1.2.x texts: `Couldn't initialize
    /// cluster`, `Network '…' not found`, `Template … not found`, …).
    #[error(transparent)]
    Cse(#[from] ApiError),
    /// vCD's state is not what the step needs (a VM missing after a recompose).
    #[error("{0}")]
    Unexpected(String),
    /// A stage of a cluster create failed (1.2.x prefix, e.g. `Error while
    /// creating vApp:`); errors that carry their own 1.2.x text show it alone.
    #[error("{}", stage_text(*.stage, .source))]
    Stage {
        /// The stage.
        stage: OperationStage,
        /// What failed in it.
        #[source]
        source: Box<OpError>,
    },
}

impl OpError {
    /// A guest failure while doing `what`.
    pub fn guest(what: impl Into<String>) -> impl FnOnce(VsphereError) -> OpError {
        let what = what.into();
        move |source| OpError::Guest { what, source }
    }

    /// Wraps a failure in `stage`.
    pub fn in_stage(stage: OperationStage) -> impl Fn(OpError) -> OpError {
        move |source| OpError::Stage {
            stage,
            source: Box::new(source),
        }
    }

    /// Lost to another server (its journal is not this operation's to clear).
    pub fn is_lease_lost(&self) -> bool {
        match self {
            OpError::LeaseLost { .. } => true,
            OpError::Stage { source, .. } => source.is_lease_lost(),
            _ => false,
        }
    }

    /// The wire error: the task's message, and the status where one is answered.
    pub fn into_api(self) -> ApiError {
        match self {
            OpError::Cse(error) => error,
            OpError::LeaseLost {
                cluster, operation, ..
            } => ApiError::ClusterBusy {
                cluster,
                operation,
                state: "is in progress",
            },
            OpError::Stage { stage, source } => match *source {
                OpError::Cse(error) if shows_alone(&error) => error,
                lost @ OpError::LeaseLost { .. } => lost.into_api(),
                OpError::Stage { .. } => source.into_api(),
                other => ApiError::StageFailed {
                    stage,
                    cause: other.to_string(),
                },
            },
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<OpError> for ApiError {
    fn from(error: OpError) -> Self {
        error.into_api()
    }
}

impl OpError {
    /// A failure to take the lease of `cluster` for `operation`: lost to
    /// another server, or a vCD failure.
    pub fn lease(cluster: &str, operation: &str) -> impl FnOnce(LeaseError) -> OpError {
        let (cluster, operation) = (cluster.to_owned(), operation.to_owned());
        move |source| match source {
            LeaseError::Vcd(error) => OpError::Vcd(error),
            held @ (LeaseError::HeldElsewhere { .. }
            | LeaseError::Slow { .. }
            | LeaseError::Contended) => OpError::LeaseLost {
                cluster,
                operation,
                source: held,
            },
        }
    }
}

/// Errors whose 1.2.x text stands without a stage prefix.
fn shows_alone(error: &ApiError) -> bool {
    matches!(
        error,
        ApiError::StageFailed { .. }
            | ApiError::ClusterInitFailed { .. }
            | ApiError::JoinFailed { .. }
            | ApiError::ClusterAlreadyExists
            | ApiError::ClusterBeingCreated(_)
            | ApiError::ClusterBusy { .. }
    )
}

fn stage_text(stage: OperationStage, source: &OpError) -> String {
    match source {
        OpError::Cse(error) if shows_alone(error) => error.to_string(),
        OpError::LeaseLost { .. } | OpError::Stage { .. } => source.to_string(),
        other => format!("{} {other}", stage.prefix()),
    }
}

/// A vCD failure for a person: a vApp still busy after the client's retries
/// (another server or a vCD user holds it) gets a text to act on instead of
/// vCD's raw refusal.
fn vcd_text(error: &VcdError) -> String {
    if error.is_busy() {
        return format!(
            "The cluster is busy: another task in vCD holds its vApp (still busy after retrying). Try again when it has finished. ({})",
            error.vcd_message().unwrap_or_default()
        );
    }
    error.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_prefix_causes_except_texts_that_stand_alone() {
        let network = OpError::in_stage(OperationStage::CreatingVapp)(OpError::Cse(
            ApiError::NetworkNotFound("nowhere".into()),
        ));
        let text =
            "Error while creating vApp: Network 'nowhere' not found in the Virtual Datacenter.";
        assert_eq!(network.to_string(), text);
        assert_eq!(network.into_api().to_string(), text);

        let init = OpError::in_stage(OperationStage::AddingMaster)(OpError::Cse(
            ApiError::ClusterInitFailed {
                stderr: "boom".into(),
            },
        ));
        assert_eq!(init.to_string(), "Couldn't initialize cluster:\nboom");
        assert_eq!(
            init.into_api(),
            ApiError::ClusterInitFailed {
                stderr: "boom".into()
            }
        );

        let odd = OpError::in_stage(OperationStage::CreatingNfs)(OpError::Unexpected(
            "VM 'nfsd-ab12' is missing after the recompose".into(),
        ));
        let api = odd.into_api();
        assert_eq!(
            api.to_string(),
            "Error while creating NFS node: VM 'nfsd-ab12' is missing after the recompose"
        );
        assert!(matches!(api, ApiError::StageFailed { .. }));
    }

    #[test]
    fn a_lost_lease_is_the_busy_text_and_keeps_its_cause() {
        let lost = OpError::lease("c1", "delete_cluster")(LeaseError::HeldElsewhere {
            owner: "other".into(),
        });
        assert!(lost.is_lease_lost());
        assert!(std::error::Error::source(&lost).is_some());
        let staged = OpError::in_stage(OperationStage::CreatingVapp)(lost);
        assert!(staged.is_lease_lost());
        assert_eq!(
            staged.into_api().to_string(),
            "Cluster 'c1' is busy: another operation (delete_cluster) is in progress. Try again when its task has finished."
        );
    }
}
