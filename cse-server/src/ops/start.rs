//! The four asynchronous routes: validate the request with the caller's own
//! session (so a tenant can only start work on what it can see), claim the
//! cluster (one operation per cluster, decided here), take a slot or a place
//! in the org-fair queue, create the vCD task, hand the operation to the
//! tracker, and answer 202 with the task.

use std::sync::Arc;

use cse_core::api::{
    ApiError, ClusterTaskReply, CreateClusterBody, CreateClusterReply, CreateNodesBody,
    DeleteNodesBody, TaskMessage, TaskOperation, check_cluster_capacity, reply_json,
};
use cse_core::ext::{ExtReply, ExtRequest};

use super::journal;
use super::task::{self, TaskIdentity};
use super::{create, delete, nodes};
use crate::auth::{Caller, vcd_failure};
use crate::clusters::{FoundCluster, find_cluster, find_clusters, vms_of};
use crate::context::Context;
use crate::coordination::Admission;
use crate::coordination::ClusterClaim;
use cse_vcd::vcd::Client;

/// An operation that may run: its cluster claimed and a slot or a queue
/// place taken.
struct Admitted {
    claim: ClusterClaim,
    admission: Admission,
}

impl Admitted {
    /// Claims the cluster `name` in the caller's org for `operation` and
    /// admits it to the queue; refused at once on a conflict or a full queue.
    fn new(
        ctx: &Context,
        caller: &Caller,
        name: &str,
        operation: TaskOperation,
    ) -> Result<Self, ApiError> {
        let org = caller
            .session
            .org_href()
            .map_err(|e| vcd_failure(&e))?
            .to_owned();
        let claim = ctx.claims.claim(&org, name, operation)?;
        let admission = ctx.queue.admit(&org)?;
        Ok(Admitted { claim, admission })
    }

    /// The task's first text: the operation's own, or that it is queued.
    fn first_message(&self, operation: TaskOperation, own: TaskMessage) -> TaskMessage {
        match self.admission {
            Admission::Now(_) => own,
            Admission::Queued(_) => TaskMessage::Queued(operation),
        }
    }
}

/// Runs an accepted operation in the background: waits for its slot when
/// queued (then shows `first` in its task), runs it, and frees slot and claim.
/// Its task is marked as this process's meanwhile (resume passes leave it alone).
fn spawn_operation(
    ctx: &Arc<Context>,
    admin: Client,
    task: TaskIdentity,
    first: TaskMessage,
    admitted: Admitted,
    operation: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let held = ctx.local_tasks.hold(&task.href);
    admitted.claim.attach_task(&task.href);
    let every = super::lease::timing(&ctx.config.timeouts).renew_every;
    let task_lease = task::keep_lease(admin.clone(), &ctx.claims, &task, every);
    ctx.tracker.spawn(async move {
        let Admitted { claim, admission } = admitted;
        let slot = match admission {
            Admission::Now(slot) => slot,
            Admission::Queued(ticket) => {
                let Some(slot) = ticket.wait().await else {
                    return;
                };
                let text = first.render(&task.cluster, &task.cluster_id);
                if let Err(error) = task::progress(&admin, &task, &text).await {
                    tracing::warn!("cannot update the operation's vCD task: {error}");
                }
                slot
            }
        };
        claim.mark_started();
        operation.await;
        drop(slot);
        drop(claim);
        drop(task_lease);
        drop(held);
    });
}

fn identity(
    ctx: &Context,
    caller: &Caller,
    operation: TaskOperation,
    cluster: &str,
    id: &str,
) -> TaskIdentity {
    TaskIdentity {
        lease: Some(task::TaskLeaseHolder {
            owner: ctx.owner_id.clone(),
            ttl_ms: u64::try_from(ctx.config.timeouts.lease_ttl.duration().as_millis())
                .unwrap_or(u64::MAX),
        }),
        href: String::new(),
        operation_name: operation.operation_name().to_owned(),
        cluster: cluster.to_owned(),
        cluster_id: id.to_owned(),
        user_name: caller.session.user.clone(),
        user_id: caller.session.user_id.clone(),
    }
}

async fn open_task(
    admin: &Client,
    caller: &Caller,
    identity: TaskIdentity,
    first: TaskMessage,
) -> Result<TaskIdentity, ApiError> {
    let org_href = caller
        .session
        .org_href()
        .map_err(|e| vcd_failure(&e))?
        .to_owned();
    let text = first.render(&identity.cluster, &identity.cluster_id);
    task::create(admin, &org_href, identity, &text)
        .await
        .map_err(|e| vcd_failure(&e))
}

/// Refuses to start a second operation on a cluster while another one is
/// journaled (by another server process, or by this one after its task
/// ended): running (its lease held) or interrupted and about to be finished
/// by a server (its lease lapsed).
///
/// An operation ends its task before it clears its journal, so a tenant who
/// saw the task end may ask for the next operation while the clean-up still
/// runs: for a journal whose task has ended, this waits (up to
/// [`cleanup_wait`]) for the journal to go instead of refusing.
async fn ensure_idle(ctx: &Context, admin: &Client, found: &FoundCluster) -> Result<(), ApiError> {
    let read = || async {
        journal::read(admin, &found.vapp_href)
            .await
            .map_err(|e| vcd_failure(&e))
    };
    let Some((mut journal, mut lease)) = read().await? else {
        return Ok(());
    };
    // Unreadable: as before this wait existed, the journal counts as busy.
    if task::has_ended(admin, &journal.task.href)
        .await
        .unwrap_or(false)
    {
        let deadline = tokio::time::Instant::now() + cleanup_wait(ctx);
        let mut pause = std::time::Duration::from_millis(20);
        loop {
            if tokio::time::Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(std::time::Duration::from_millis(500));
            match read().await? {
                None => return Ok(()),
                // Another operation started meanwhile: busy.
                Some(now) if now.0.task.href != journal.task.href => {
                    (journal, lease) = now;
                    break;
                }
                Some(now) => (journal, lease) = now,
            }
        }
    }
    let state = if lease.is_some_and(|lease| !lease.expired()) {
        "is in progress"
    } else {
        "was interrupted and is being finished"
    };
    Err(ApiError::ClusterBusy {
        cluster: found.cluster.name.clone(),
        operation: journal.task.operation_name,
        state,
    })
}

/// How long a request waits for the clean-up of an operation whose task has
/// ended (two metadata removals): four claim settles, at least 2 s.
fn cleanup_wait(ctx: &Context) -> std::time::Duration {
    (super::lease::timing(&ctx.config.timeouts).settle * 4).max(std::time::Duration::from_secs(2))
}

/// `POST /api/cse`.
pub async fn create_cluster(
    ctx: &Arc<Context>,
    caller: &Caller,
    request: &ExtRequest,
) -> Result<ExtReply, ApiError> {
    let spec = CreateClusterBody::from_json(&request.body)?.validate_with(&ctx.config.limits)?;
    let template = ctx.template(spec.template.as_deref())?.clone();
    let operation = TaskOperation::CreateCluster;
    let admitted = Admitted::new(ctx, caller, &spec.name, operation)?;
    if !find_clusters(&caller.client, Some(&spec.name))
        .await
        .map_err(|e| vcd_failure(&e))?
        .is_empty()
    {
        return Err(ApiError::ClusterAlreadyExists);
    }
    let org_href = caller
        .session
        .org_href()
        .map_err(|e| vcd_failure(&e))?
        .to_owned();
    let org = caller
        .client
        .get(&org_href)
        .await
        .map_err(|e| vcd_failure(&e))?;
    // Below API 33.0 the org links its VDCs; from 33.0 a query of them.
    let vdc_href = caller
        .client
        .org_vdc_links(&org)
        .await
        .map_err(|e| vcd_failure(&e))?
        .into_iter()
        .find(|l| l.name.as_deref() == Some(spec.vdc.as_str()))
        .map(|l| l.href)
        .ok_or_else(|| {
            ApiError::Internal(format!(
                "Virtual Datacenter '{}' not found in organization '{}'.",
                spec.vdc, caller.session.org
            ))
        })?;
    let admin = ctx.admin().await?;
    let cluster_id = uuid::Uuid::new_v4().to_string();
    let first = TaskMessage::CreatingCluster;
    let task = open_task(
        &admin,
        caller,
        identity(ctx, caller, operation, &spec.name, &cluster_id),
        admitted.first_message(operation, first),
    )
    .await?;
    let reply = CreateClusterReply {
        name: spec.name.clone(),
        cluster_id,
        task_href: task.href.clone(),
    };
    let run = create::run(
        ctx.clone(),
        admin.clone(),
        spec,
        template,
        task.clone(),
        vdc_href,
    );
    spawn_operation(ctx, admin, task, first, admitted, run);
    reply_json(request, 202, &reply)
}

/// `DELETE /api/cse/{c}`.
pub async fn delete_cluster(
    ctx: &Arc<Context>,
    caller: &Caller,
    request: &ExtRequest,
    name: &str,
) -> Result<ExtReply, ApiError> {
    let operation = TaskOperation::DeleteCluster;
    let admitted = Admitted::new(ctx, caller, name, operation)?;
    let found = find_cluster(&caller.client, name).await?;
    let admin = ctx.admin().await?;
    ensure_idle(ctx, &admin, &found).await?;
    let first = TaskMessage::DeletingCluster;
    let task = open_task(
        &admin,
        caller,
        identity(ctx, caller, operation, name, &found.cluster.cluster_id),
        admitted.first_message(operation, first),
    )
    .await?;
    let reply = ClusterTaskReply {
        cluster_name: name.to_owned(),
        task_href: task.href.clone(),
    };
    let run = delete::run(ctx.clone(), admin.clone(), task.clone(), found.vapp_href);
    spawn_operation(ctx, admin, task, first, admitted, run);
    reply_json(request, 202, &reply)
}

/// `POST /api/cse/{c}/node`.
pub async fn create_nodes(
    ctx: &Arc<Context>,
    caller: &Caller,
    request: &ExtRequest,
    name: &str,
) -> Result<ExtReply, ApiError> {
    let spec =
        CreateNodesBody::from_json(&request.body)?.validate_with(name, &ctx.config.limits)?;
    let template = ctx.template(spec.template.as_deref())?.clone();
    let operation = TaskOperation::CreateNodes;
    let admitted = Admitted::new(ctx, caller, name, operation)?;
    let found = find_cluster(&caller.client, name).await?;
    let current_vms = found.cluster.number_of_vms.trim().parse().unwrap_or(0);
    check_cluster_capacity(name, current_vms, spec.node_count, &ctx.config.limits)?;
    let admin = ctx.admin().await?;
    ensure_idle(ctx, &admin, &found).await?;
    let first = TaskMessage::AddingNodesToCluster(spec.node_count);
    let task = open_task(
        &admin,
        caller,
        identity(ctx, caller, operation, name, &found.cluster.cluster_id),
        admitted.first_message(operation, first),
    )
    .await?;
    let reply = ClusterTaskReply {
        cluster_name: name.to_owned(),
        task_href: task.href.clone(),
    };
    let run = nodes::run_create(
        ctx.clone(),
        admin.clone(),
        spec,
        template,
        found.cluster.template.clone(),
        task.clone(),
        found.vapp_href,
    );
    spawn_operation(ctx, admin, task, first, admitted, run);
    reply_json(request, 202, &reply)
}

/// `DELETE /api/cse/{c}/node`.
pub async fn delete_nodes(
    ctx: &Arc<Context>,
    caller: &Caller,
    request: &ExtRequest,
    name: &str,
) -> Result<ExtReply, ApiError> {
    let deletion =
        DeleteNodesBody::from_json(&request.body)?.validate_with(name, &ctx.config.limits)?;
    let operation = TaskOperation::DeleteNodes;
    let admitted = Admitted::new(ctx, caller, name, operation)?;
    let found = find_cluster(&caller.client, name).await?;
    let vapp = caller
        .client
        .get(&found.vapp_href)
        .await
        .map_err(|e| vcd_failure(&e))?;
    let vms = vms_of(&vapp);
    if let Some(missing) = deletion
        .nodes
        .iter()
        .find(|node| !vms.iter().any(|vm| &vm.name == *node))
    {
        return Err(ApiError::NodeNotFound {
            node: missing.clone(),
            cluster: name.to_owned(),
        });
    }
    let admin = ctx.admin().await?;
    ensure_idle(ctx, &admin, &found).await?;
    let n = u32::try_from(deletion.nodes.len()).unwrap_or(u32::MAX);
    let first = TaskMessage::DeletingNodesFromCluster(n);
    let task = open_task(
        &admin,
        caller,
        identity(ctx, caller, operation, name, &found.cluster.cluster_id),
        admitted.first_message(operation, first),
    )
    .await?;
    let reply = ClusterTaskReply {
        cluster_name: name.to_owned(),
        task_href: task.href.clone(),
    };
    let run = nodes::run_delete(
        ctx.clone(),
        admin.clone(),
        deletion,
        task.clone(),
        found.vapp_href,
    );
    spawn_operation(ctx, admin, task, first, admitted, run);
    reply_json(request, 202, &reply)
}
