//! The operation journal and lease, kept in the cluster vApp's metadata so
//! that all state lives in vCD: `cse.op.journal` holds the running
//! operation (kind, task, parameters, completed steps, VMs it created) as JSON;
//! `cse.op.lease` holds `<owner>|<expiry RFC 3339>`. The owner renews the
//! lease while it works; a server that finds an expired lease on start takes
//! the operation over and finishes it (roll back or complete).

use cse_core::naming::{METADATA_OP_JOURNAL, METADATA_OP_LEASE};
use serde::{Deserialize, Serialize};

pub use super::metadata::{
    Lease, read_lease, read_metadata, remove_metadata, set_metadata, set_metadata_entries,
    write_lease,
};
use super::task::TaskIdentity;
use crate::coordination::VappGates;
use cse_vcd::vcd::{Client, VcdError};

/// Which operation a journal describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    /// Cluster create.
    CreateCluster,
    /// Cluster delete.
    DeleteCluster,
    /// Node create.
    CreateNodes,
    /// Node delete.
    DeleteNodes,
}

/// One running operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    /// What it is.
    pub kind: OpKind,
    /// Its vCD task.
    pub task: TaskIdentity,
    /// Steps done so far, in order.
    pub done: Vec<String>,
    /// VMs this operation added (names), removed again on rollback.
    pub new_vms: Vec<String>,
    /// VMs this operation deletes (delete nodes).
    #[serde(default)]
    pub doomed_vms: Vec<String>,
    /// Whether to keep what was made when it fails.
    pub disable_rollback: bool,
}

impl Journal {
    /// A fresh journal.
    pub fn new(kind: OpKind, task: TaskIdentity, disable_rollback: bool) -> Self {
        Journal {
            kind,
            task,
            done: Vec::new(),
            new_vms: Vec::new(),
            doomed_vms: Vec::new(),
            disable_rollback,
        }
    }

    /// Whether `step` is recorded as done.
    pub fn is_done(&self, step: &str) -> bool {
        self.done.iter().any(|s| s == step)
    }
}

/// Writes the journal.
pub async fn write(
    client: &Client,
    gates: &VappGates,
    vapp_href: &str,
    journal: &Journal,
) -> Result<(), VcdError> {
    write_with(client, gates, vapp_href, journal, &[]).await
}

/// Writes the journal and the string entries `with` in one metadata write:
/// a step's results (the cluster's keys, the master's address) land in the
/// same vCD call as the journal entry recording the step done.
pub async fn write_with(
    client: &Client,
    gates: &VappGates,
    vapp_href: &str,
    journal: &Journal,
    with: &[(&str, &str)],
) -> Result<(), VcdError> {
    let text = serde_json::to_string(journal).map_err(|e| VcdError::Parse {
        url: vapp_href.to_owned(),
        reason: format!("cannot serialise the operation journal: {e}"),
    })?;
    if with.is_empty() {
        return set_metadata(client, gates, vapp_href, METADATA_OP_JOURNAL, &text).await;
    }
    let mut entries = with.to_vec();
    entries.push((METADATA_OP_JOURNAL, &text));
    set_metadata_entries(client, gates, vapp_href, &entries).await
}

/// Removes lease and journal: the operation is over and its task has ended.
/// The lease goes first, so that once the journal is gone nothing of the
/// operation is left: a request waiting for an ended operation's clean-up
/// (`start::ensure_idle`) then finds the cluster free, and the next
/// operation's lease is never removed by this one. Stopped in between, the
/// journal is left without a lease and the next resume pass clears it.
pub async fn clear(client: &Client, gates: &VappGates, vapp_href: &str) -> Result<(), VcdError> {
    remove_metadata(client, gates, vapp_href, METADATA_OP_LEASE).await?;
    remove_metadata(client, gates, vapp_href, METADATA_OP_JOURNAL).await
}

/// The journal and lease of a vApp, when an operation is recorded.
pub async fn read(
    client: &Client,
    vapp_href: &str,
) -> Result<Option<(Journal, Option<Lease>)>, VcdError> {
    let metadata: cse_core::vcd::Metadata = client
        .get_doc(&format!("{}/metadata", vapp_href.trim_end_matches('/')))
        .await?;
    let Some(text) = metadata.get(METADATA_OP_JOURNAL) else {
        return Ok(None);
    };
    let journal: Journal = match serde_json::from_str(text) {
        Ok(journal) => journal,
        Err(error) => {
            tracing::warn!(
                vapp = vapp_href,
                "unreadable operation journal ignored: {error}"
            );
            return Ok(None);
        }
    };
    let lease = metadata.get(METADATA_OP_LEASE).and_then(Lease::parse);
    Ok(Some((journal, lease)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn leases_round_trip_and_expire() {
        let lease = Lease::new("srv-1|x", Duration::from_secs(60));
        let parsed = Lease::parse(&lease.render()).unwrap();
        assert_eq!(parsed.owner, "srv-1|x");
        assert!(!parsed.expired());
        let old = Lease::new("srv-2", Duration::ZERO);
        assert!(Lease::parse(&old.render()).unwrap().expired());
        assert_eq!(Lease::parse("no separator"), None);
        assert_eq!(Lease::parse("a|not a date"), None);
    }
}
