//! One operation per cluster, decided when the request arrives. A cluster is
//! named uniquely within its org (1.2.x: per org, case-sensitive), so an
//! operation claims `(org, cluster name)` before it answers 202 and keeps the
//! claim until its task has ended, queued time included. A second request for
//! the same cluster in this process is refused at once with a clear text
//! instead of failing late on vCD's `BUSY_ENTITY` or `DUPLICATE_NAME`.
//! Requests handled by other server processes are caught by the journal check
//! (an operation recorded in the vApp's metadata) and, for creates, by vCD's
//! name uniqueness, translated into the same texts.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use cse_core::api::{ApiError, TaskOperation};
use parking_lot::Mutex;

type Key = (String, String);

#[derive(Debug)]
struct Holder {
    id: u64,
    operation: TaskOperation,
    started: Arc<AtomicBool>,
    task: Option<String>,
}

#[derive(Debug, Default)]
struct Claims {
    by_cluster: HashMap<Key, Holder>,
    next_id: u64,
    /// Per task: held while its lease is renewed or its end written; `true`
    /// once it has ended (renewals stop).
    task_turns: HashMap<String, TaskTurn>,
}

/// The turn of one task between its lease renewals and its end: `true`
/// inside once the task has ended.
pub type TaskTurn = Arc<tokio::sync::Mutex<bool>>;

/// The clusters this process has an operation for, running or queued.
#[derive(Debug, Clone, Default)]
pub struct ClusterClaims(Arc<Mutex<Claims>>);

/// Holds a cluster for one operation; released when its task ends
/// ([`ClusterClaims::release_task`], so a tenant who sees the task end can
/// start the next operation at once), or at the latest on drop.
#[derive(Debug)]
pub struct ClusterClaim {
    claims: ClusterClaims,
    key: Key,
    id: u64,
    started: Arc<AtomicBool>,
}

impl ClusterClaim {
    /// Records that the operation left the queue and runs.
    pub fn mark_started(&self) {
        self.started.store(true, Ordering::SeqCst);
    }

    /// Records the operation's task, whose end releases the claim.
    pub fn attach_task(&self, task_href: &str) {
        if let Some(holder) = self.claims.0.lock().by_cluster.get_mut(&self.key)
            && holder.id == self.id
        {
            holder.task = Some(task_href.to_owned());
        }
    }
}

impl Drop for ClusterClaim {
    fn drop(&mut self) {
        let mut claims = self.claims.0.lock();
        if claims
            .by_cluster
            .get(&self.key)
            .is_some_and(|holder| holder.id == self.id)
        {
            claims.by_cluster.remove(&self.key);
        }
    }
}

impl ClusterClaims {
    /// Claims cluster `cluster` of the org `org` (its href or id) for
    /// `operation`; refused when another operation holds it.
    pub fn claim(
        &self,
        org: &str,
        cluster: &str,
        operation: TaskOperation,
    ) -> Result<ClusterClaim, ApiError> {
        let key = (org.to_owned(), cluster.to_owned());
        let mut claims = self.0.lock();
        if let Some(holder) = claims.by_cluster.get(&key) {
            return Err(conflict(cluster, operation, holder));
        }
        claims.next_id += 1;
        let id = claims.next_id;
        let started = Arc::new(AtomicBool::new(false));
        claims.by_cluster.insert(
            key.clone(),
            Holder {
                id,
                operation,
                started: started.clone(),
                task: None,
            },
        );
        Ok(ClusterClaim {
            claims: self.clone(),
            key,
            id,
            started,
        })
    }

    /// Releases the claim of the operation whose task is `task_href`: called
    /// right before the task's final status is written.
    pub fn release_task(&self, task_href: &str) {
        self.0
            .lock()
            .by_cluster
            .retain(|_, holder| holder.task.as_deref() != Some(task_href));
    }

    /// The turn of the task at `task_href`: its lease renewals take it, and
    /// [`ClusterClaims::end_task`] marks it ended, so no renewal is written
    /// after (and brings back) a task's final state.
    pub fn task_turn(&self, task_href: &str) -> TaskTurn {
        self.0
            .lock()
            .task_turns
            .entry(task_href.to_owned())
            .or_default()
            .clone()
    }

    /// Releases the task's claim ([`ClusterClaims::release_task`]) and stops
    /// its lease renewals, waiting for one in flight: called right before the
    /// task's final status is written.
    pub async fn end_task(&self, task_href: &str) {
        self.release_task(task_href);
        let turn = self.task_turn(task_href);
        *turn.lock().await = true;
        self.0.lock().task_turns.remove(task_href);
    }

    /// Number of clusters claimed.
    pub fn len(&self) -> usize {
        self.0.lock().by_cluster.len()
    }

    /// True when no cluster is claimed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn conflict(cluster: &str, wanted: TaskOperation, holder: &Holder) -> ApiError {
    if wanted == TaskOperation::CreateCluster && holder.operation == TaskOperation::CreateCluster {
        return ApiError::ClusterBeingCreated(cluster.to_owned());
    }
    ApiError::ClusterBusy {
        cluster: cluster.to_owned(),
        operation: holder.operation.operation_name().to_owned(),
        state: if holder.started.load(Ordering::SeqCst) {
            "is in progress"
        } else {
            "is queued"
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_takes_one_operation_at_a_time() {
        let claims = ClusterClaims::default();
        let create = claims
            .claim("org-1", "c1", TaskOperation::CreateCluster)
            .unwrap();
        let again = claims
            .claim("org-1", "c1", TaskOperation::CreateCluster)
            .unwrap_err();
        assert_eq!(again, ApiError::ClusterBeingCreated("c1".into()));
        let delete = claims
            .claim("org-1", "c1", TaskOperation::DeleteCluster)
            .unwrap_err();
        assert_eq!(
            delete.to_string(),
            "Cluster 'c1' is busy: another operation (create_cluster) is queued. Try again when its task has finished."
        );
        create.mark_started();
        let delete = claims
            .claim("org-1", "c1", TaskOperation::DeleteCluster)
            .unwrap_err();
        assert!(delete.to_string().contains("is in progress"), "{delete}");
        // Same name in another org, another name in the same org, another case.
        let _other_org = claims
            .claim("org-2", "c1", TaskOperation::CreateCluster)
            .unwrap();
        let _other_name = claims
            .claim("org-1", "c2", TaskOperation::CreateCluster)
            .unwrap();
        let _other_case = claims
            .claim("org-1", "C1", TaskOperation::CreateCluster)
            .unwrap();
        assert_eq!(claims.len(), 4);
        drop(create);
        let delete = claims
            .claim("org-1", "c1", TaskOperation::DeleteCluster)
            .unwrap();
        // The task's end releases the claim; the old guard then leaves the
        // next operation's claim alone.
        delete.attach_task("https://vcd/api/task/1");
        claims.release_task("https://vcd/api/task/1");
        let next = claims
            .claim("org-1", "c1", TaskOperation::CreateNodes)
            .unwrap();
        drop(delete);
        assert!(
            claims
                .claim("org-1", "c1", TaskOperation::DeleteNodes)
                .is_err(),
            "the next operation still holds the cluster"
        );
        drop(next);
    }

    #[tokio::test]
    async fn an_ended_task_stops_its_renewals_after_the_one_in_flight() {
        let claims = ClusterClaims::default();
        let turn = claims.task_turn("https://vcd/api/task/7");
        let renewal = turn.clone().lock_owned().await;
        let ending = {
            let claims = claims.clone();
            tokio::spawn(async move { claims.end_task("https://vcd/api/task/7").await })
        };
        tokio::task::yield_now().await;
        assert!(
            !ending.is_finished(),
            "the end waits for the renewal in flight"
        );
        assert!(!*renewal);
        drop(renewal);
        ending.await.unwrap();
        assert!(*turn.lock().await, "renewals see the task ended");
        assert!(claims.0.lock().task_turns.is_empty());
    }
}
