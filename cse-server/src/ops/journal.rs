//! The operation journal and lease, kept in the cluster vApp's metadata so
//! that all state lives in vCD: `cse.op.journal` holds the running
//! operation (kind, task, parameters, completed steps, VMs it created) as JSON;
//! `cse.op.lease` holds `<owner>|<expiry RFC 3339>`. The owner renews the
//! lease while it works; a server that finds an expired lease on start takes
//! the operation over and finishes it (roll back or complete).

use std::time::Duration;

use chrono::{DateTime, Utc};
use cse_core::naming::{METADATA_OP_JOURNAL, METADATA_OP_LEASE};
use cse_core::vcd::MetadataValue;
use serde::{Deserialize, Serialize};

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

/// Who holds an operation and until when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    /// The holder's owner id.
    pub owner: String,
    /// When it lapses unless renewed.
    pub expires: DateTime<Utc>,
}

impl Lease {
    /// A lease for `owner` lasting `ttl` from now.
    pub fn new(owner: &str, ttl: Duration) -> Self {
        Lease {
            owner: owner.to_owned(),
            expires: Utc::now()
                + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::seconds(60)),
        }
    }

    /// `owner|expiry`.
    pub fn render(&self) -> String {
        format!("{}|{}", self.owner, self.expires.to_rfc3339())
    }

    /// Reads `owner|expiry`; `None` when malformed.
    pub fn parse(text: &str) -> Option<Self> {
        let (owner, expires) = text.rsplit_once('|')?;
        Some(Lease {
            owner: owner.to_owned(),
            expires: DateTime::parse_from_rfc3339(expires)
                .ok()?
                .with_timezone(&Utc),
        })
    }

    /// Whether it has lapsed.
    pub fn expired(&self) -> bool {
        self.expires <= Utc::now()
    }
}

/// The href of one metadata entry of a vApp.
pub(crate) fn key_href(vapp_href: &str, key: &str) -> String {
    format!("{}/metadata/{key}", vapp_href.trim_end_matches('/'))
}

/// Sets one string metadata entry and waits for vCD's task, in the vApp's gate.
pub async fn set_metadata(
    client: &Client,
    gates: &VappGates,
    vapp_href: &str,
    key: &str,
    value: &str,
) -> Result<(), VcdError> {
    let _turn = gates.enter(vapp_href).await;
    let answer = client
        .put_doc(&key_href(vapp_href, key), &MetadataValue::string(value))
        .await?;
    client.wait_for_answer(&answer).await.map(drop)
}

/// Removes one metadata entry (absent is fine), in the vApp's gate.
pub async fn remove_metadata(
    client: &Client,
    gates: &VappGates,
    vapp_href: &str,
    key: &str,
) -> Result<(), VcdError> {
    let _turn = gates.enter(vapp_href).await;
    match client.delete(&key_href(vapp_href, key)).await {
        Ok(answer) => client.wait_for_answer(&answer).await.map(drop),
        Err(error) if error.is_not_found() => Ok(()),
        Err(error) => Err(error),
    }
}

/// Writes the journal.
pub async fn write(
    client: &Client,
    gates: &VappGates,
    vapp_href: &str,
    journal: &Journal,
) -> Result<(), VcdError> {
    let text = serde_json::to_string(journal).map_err(|e| VcdError::Parse {
        url: vapp_href.to_owned(),
        reason: format!("cannot serialise the operation journal: {e}"),
    })?;
    set_metadata(client, gates, vapp_href, METADATA_OP_JOURNAL, &text).await
}

/// Writes (takes or renews) the lease.
pub async fn write_lease(
    client: &Client,
    gates: &VappGates,
    vapp_href: &str,
    lease: &Lease,
) -> Result<(), VcdError> {
    set_metadata(client, gates, vapp_href, METADATA_OP_LEASE, &lease.render()).await
}

/// Removes journal and lease: the operation is over.
pub async fn clear(client: &Client, gates: &VappGates, vapp_href: &str) -> Result<(), VcdError> {
    remove_metadata(client, gates, vapp_href, METADATA_OP_JOURNAL).await?;
    remove_metadata(client, gates, vapp_href, METADATA_OP_LEASE).await
}

/// The lease recorded on a vApp, if any (journal or not).
pub async fn read_lease(client: &Client, vapp_href: &str) -> Result<Option<Lease>, VcdError> {
    let metadata: cse_core::vcd::Metadata = client
        .get_doc(&format!("{}/metadata", vapp_href.trim_end_matches('/')))
        .await?;
    Ok(metadata.get(METADATA_OP_LEASE).and_then(Lease::parse))
}

/// The raw journal text and the lease of a vApp.
pub async fn read_metadata(
    client: &Client,
    vapp_href: &str,
) -> Result<(Option<String>, Option<Lease>), VcdError> {
    let metadata: cse_core::vcd::Metadata = client
        .get_doc(&format!("{}/metadata", vapp_href.trim_end_matches('/')))
        .await?;
    Ok((
        metadata.get(METADATA_OP_JOURNAL).map(str::to_owned),
        metadata.get(METADATA_OP_LEASE).and_then(Lease::parse),
    ))
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
