//! The vCD task that tracks one operation: created in the caller's org's task
//! list by the system administrator (extension tasks need `TASK_UPDATE`), with
//! the caller as `User` and the cluster as `Owner`; updated with each stage's
//! text; ended in `success` or `error`. Its href is kept in the journal, so a
//! restarted server can still finish it.

use cse_core::api::tasks::task_owner_href;
use cse_core::vcd::task::{TaskOwner, TaskUser};
use cse_core::vcd::{Task, TaskStatus, VcdErrorDocument};
use serde::{Deserialize, Serialize};

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::metadata::Lease;
use crate::coordination::ClusterClaims;
use cse_vcd::vcd::{Client, VcdError, find_link, links_of, media};

/// Prefix of the task lease in a task's `Details`.
pub const TASK_LEASE_PREFIX: &str = "cse.task.lease=";

/// The server whose lease a task carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskLeaseHolder {
    /// The server's owner id.
    pub owner: String,
    /// Life of the lease in milliseconds (`timeouts.lease_ttl`).
    pub ttl_ms: u64,
}

impl TaskLeaseHolder {
    /// `Details` text with a lease lasting from now.
    fn details(&self) -> String {
        let lease = Lease::new(&self.owner, Duration::from_millis(self.ttl_ms));
        format!("{TASK_LEASE_PREFIX}{}", lease.render())
    }
}

/// The lease in a task's `Details`, when it carries one.
pub fn lease_of(details: Option<&str>) -> Option<Lease> {
    Lease::parse(details?.trim().strip_prefix(TASK_LEASE_PREFIX)?)
}

/// Who and what a task is about (serialisable into the journal).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskIdentity {
    /// The task's href once created.
    pub href: String,
    /// `create_cluster`, `delete_cluster`, `create_nodes`, `delete_nodes`.
    pub operation_name: String,
    /// Cluster name (owner name).
    pub cluster: String,
    /// Cluster id (owner href `urn:cse:cluster:<id>`).
    pub cluster_id: String,
    /// Caller's name.
    pub user_name: String,
    /// Caller's URN.
    pub user_id: String,
    /// The server whose lease the task carries while it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease: Option<TaskLeaseHolder>,
}

impl TaskIdentity {
    fn document(&self, status: TaskStatus, text: &str, error: Option<&str>) -> Task {
        let mut task = self.bare_document(status, text, error);
        if status == TaskStatus::Running
            && let Some(holder) = &self.lease
        {
            task.details = Some(holder.details());
        }
        task
    }

    fn bare_document(&self, status: TaskStatus, text: &str, error: Option<&str>) -> Task {
        Task::cse_task(
            status,
            text,
            &self.operation_name,
            TaskOwner {
                href: task_owner_href(&self.cluster_id),
                id: None,
                name: Some(self.cluster.clone()),
                media_type: Some("application/vcloud.cse.cluster+xml".to_owned()),
            },
            TaskUser {
                href: self.user_id.clone(),
                id: None,
                name: Some(self.user_name.clone()),
                media_type: Some("application/vnd.vmware.admin.user+xml".to_owned()),
            },
            error.map(VcdErrorDocument::cse_task_error),
        )
    }
}

/// Creates the task (status `running`) in the org at `org_href`, as `admin`.
pub async fn create(
    admin: &Client,
    org_href: &str,
    mut identity: TaskIdentity,
    text: &str,
) -> Result<TaskIdentity, VcdError> {
    let org = admin.get(org_href).await?;
    let links = links_of(&org);
    let tasks_list = find_link(&links, "down", Some(media::TASKS_LIST))
        .map(|l| l.href.clone())
        .ok_or_else(|| VcdError::MissingLink {
            document: format!("org {org_href}"),
            rel: "down".to_owned(),
            media_type: Some(media::TASKS_LIST.to_owned()),
        })?;
    let answer = admin
        .post_doc(
            &tasks_list,
            &identity.document(TaskStatus::Running, text, None),
        )
        .await?;
    let task: Task = answer.parse()?;
    identity.href = task.href.unwrap_or_default();
    Ok(identity)
}

/// Reports a stage (status stays `running`).
pub async fn progress(admin: &Client, task: &TaskIdentity, text: &str) -> Result<(), VcdError> {
    admin
        .put_doc(&task.href, &task.document(TaskStatus::Running, text, None))
        .await
        .map(drop)
}

/// Ends the task in `success` with `text`; the cluster's claim is released
/// first, so a tenant who sees the task end can start the next operation.
pub async fn succeed(
    admin: &Client,
    claims: &ClusterClaims,
    task: &TaskIdentity,
    text: &str,
) -> Result<(), VcdError> {
    claims.end_task(&task.href).await;
    write_end(admin, task, &task.document(TaskStatus::Success, text, None)).await
}

/// How often a task's end is tried before the error is given up on.
const END_ATTEMPTS: u32 = 5;

/// Writes a task's final state unless it has ended already, trying again (after
/// 200 ms, doubling) when the read or the write fails: the client's own retries
/// cover one request, and an end not written leaves the tenant's task running
/// until a resume pass ends it as orphaned. Each try reads first, so an end that
/// landed though its answer was lost is not written twice.
async fn write_end(admin: &Client, task: &TaskIdentity, document: &Task) -> Result<(), VcdError> {
    let mut pause = std::time::Duration::from_millis(200);
    let mut attempt = 1;
    loop {
        let result = async {
            if already_ended(admin, task).await? {
                return Ok(());
            }
            admin.put_doc(&task.href, document).await.map(drop)
        }
        .await;
        match result {
            Err(error) if attempt < END_ATTEMPTS => {
                tracing::warn!(task = %task.href, attempt, "cannot end the task yet: {error}; trying again");
                tokio::time::sleep(pause).await;
                pause *= 2;
                attempt += 1;
            }
            result => return result,
        }
    }
}

/// Whether the task has ended already (final states are written once).
async fn already_ended(admin: &Client, task: &TaskIdentity) -> Result<bool, VcdError> {
    let current: Task = admin.get_doc(&task.href).await?;
    if current.status.is_terminal() {
        tracing::warn!(task = %task.href, status = current.status.as_str(), "the task has ended already; its final state is kept");
        return Ok(true);
    }
    Ok(false)
}

/// Whether the task at `task_href` has ended (`success`, `error`, ...). An
/// operation ends its task before it clears its journal, so a journal whose
/// task has ended belongs to an operation that only has its clean-up left.
/// A task vCD no longer has (purged) has not ended as far as this knows.
pub async fn has_ended(admin: &Client, task_href: &str) -> Result<bool, VcdError> {
    match admin.get_doc::<Task>(task_href).await {
        Ok(current) => Ok(current.status.is_terminal()),
        Err(error) if error.is_not_found() => Ok(false),
        Err(error) => Err(error),
    }
}

/// Ends the task in `error` with `message`; the operation text keeps the
/// 1.2.x default for the operation, e.g. `create cluster` (claim released
/// first, as for [`succeed`]).
pub async fn fail(
    admin: &Client,
    claims: &ClusterClaims,
    task: &TaskIdentity,
    operation_text: &str,
    message: &str,
) -> Result<(), VcdError> {
    claims.end_task(&task.href).await;
    write_end(
        admin,
        task,
        &task.document(TaskStatus::Error, operation_text, Some(message)),
    )
    .await
}

/// Renews the task's lease until dropped or until the task ends.
#[derive(Debug)]
pub struct TaskLeaseKeeper {
    stop: CancellationToken,
}

impl Drop for TaskLeaseKeeper {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Renews the lease in the task's `Details` every `every` (a third of
/// `lease_ttl`) until the keeper is dropped or the task ends
/// ([`ClusterClaims::end_task`]); the renewal leaves the task's text alone.
pub fn keep_lease(
    admin: Client,
    claims: &ClusterClaims,
    task: &TaskIdentity,
    every: Duration,
) -> TaskLeaseKeeper {
    let stop = CancellationToken::new();
    let Some(holder) = task.lease.clone() else {
        return TaskLeaseKeeper { stop };
    };
    let turn = claims.task_turn(&task.href);
    let token = stop.clone();
    let task = task.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = token.cancelled() => return,
                () = tokio::time::sleep(every) => {}
            }
            let ended = turn.lock().await;
            if *ended || token.is_cancelled() {
                return;
            }
            let mut renewal = task.bare_document(TaskStatus::Running, "", None);
            renewal.operation = None;
            renewal.details = Some(holder.details());
            if let Err(error) = admin.put_doc(&task.href, &renewal).await {
                tracing::warn!(task = %task.href, "cannot renew the task's lease: {error}");
            }
            drop(ended);
        }
    });
    TaskLeaseKeeper { stop }
}

/// Claims a running task no journal owns for `owner` before ending it as
/// orphaned: its lease in `Details` is taken with the same timed
/// write-then-read-back as an operation lease (`super::lease::claim`), so
/// of several servers whose resume passes find it at once exactly one
/// ends it. False when another server's lease is live or won.
pub async fn claim(
    admin: &Client,
    task: &TaskIdentity,
    owner: &str,
    timing: super::lease::LeaseTiming,
) -> Result<bool, VcdError> {
    let started = tokio::time::Instant::now();
    let current: Task = admin.get_doc(&task.href).await?;
    if current.status.is_terminal() {
        return Ok(false);
    }
    if lease_of(current.details.as_deref()).is_some_and(|l| l.owner != owner && !l.expired()) {
        return Ok(false);
    }
    let holder = TaskLeaseHolder {
        owner: owner.to_owned(),
        ttl_ms: u64::try_from(timing.ttl.as_millis()).unwrap_or(u64::MAX),
    };
    let mut write = task.bare_document(TaskStatus::Running, "", None);
    write.operation = None;
    write.details = Some(holder.details());
    admin.put_doc(&task.href, &write).await?;
    if started.elapsed() > timing.write_bound {
        return Ok(false);
    }
    tokio::time::sleep(timing.settle).await;
    let current: Task = admin.get_doc(&task.href).await?;
    Ok(!current.status.is_terminal()
        && lease_of(current.details.as_deref()).is_some_and(|l| l.owner == owner))
}
