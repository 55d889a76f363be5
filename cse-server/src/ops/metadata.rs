//! The operation's own entries in its vApp's metadata, beneath the journal,
//! the lease logic and the task writer that all use them: the lease value
//! (owner and expiry), and reading, writing and removing one entry, each
//! write through the vApp's gate so it never overlaps this process's other
//! calls on the vApp.

use chrono::{DateTime, Utc};
use cse_core::naming::{METADATA_OP_JOURNAL, METADATA_OP_LEASE};
use cse_core::vcd::{Metadata, MetadataEntry, MetadataValue};
use std::time::Duration;

use crate::coordination::VappGates;
use cse_vcd::vcd::{Client, VcdError};

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

/// Sets several string entries in one `POST …/metadata` (vCD merges them
/// into the vApp's metadata in one task: they land together) and waits for
/// vCD's task, in the vApp's gate.
pub async fn set_metadata_entries(
    client: &Client,
    gates: &VappGates,
    vapp_href: &str,
    entries: &[(&str, &str)],
) -> Result<(), VcdError> {
    let _turn = gates.enter(vapp_href).await;
    let body = Metadata::with_entries(
        entries
            .iter()
            .map(|(key, value)| MetadataEntry::string(key, value))
            .collect(),
    );
    let answer = client
        .post_doc(
            &format!("{}/metadata", vapp_href.trim_end_matches('/')),
            &body,
        )
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
    delete_entry(client, vapp_href, key).await
}

/// Removes a lapsed lease unless `claimed()`, asked inside the vApp's gate,
/// says an operation of this process has started claiming the vApp. vCD's
/// delete is blind: it would remove the claim's fresh lease. The claim's
/// write goes through the same gate, so it cannot land between the check and
/// the delete. True when the lease was removed.
pub async fn remove_lease_unless_claimed(
    client: &Client,
    gates: &VappGates,
    vapp_href: &str,
    claimed: impl FnOnce() -> bool,
) -> Result<bool, VcdError> {
    let _turn = gates.enter(vapp_href).await;
    if claimed() {
        return Ok(false);
    }
    delete_entry(client, vapp_href, METADATA_OP_LEASE)
        .await
        .map(|()| true)
}

async fn delete_entry(client: &Client, vapp_href: &str, key: &str) -> Result<(), VcdError> {
    match client.delete(&key_href(vapp_href, key)).await {
        Ok(answer) => client.wait_for_answer(&answer).await.map(drop),
        Err(error) if error.is_not_found() => Ok(()),
        Err(error) => Err(error),
    }
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
