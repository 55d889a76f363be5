//! Taking over operations after a crash. On start (and whenever called) the
//! server looks, as system administrator, for cluster vApps whose journal's
//! lease has lapsed, takes the lease and finishes the operation: a create
//! (cluster or nodes) is rolled back unless it asked not to be, a delete
//! (cluster or nodes) is completed, and one whose task had already ended (it
//! was stopped while clearing its journal) is only cleared. Then every CSE
//! task still `running` that no journal owns and that is older than a lease
//! is ended in error; the empty vApp of a create that died before its first
//! journal entry is removed.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use cse_core::api::{ApiError, TaskOperation};
use cse_core::naming::{METADATA_CLUSTER_ID, METADATA_OP_JOURNAL, METADATA_OP_LEASE};
use cse_core::vcd::Task;

use super::error::OpError;
use super::journal::{self, Journal, OpKind};
use super::lease::{self, ClaimKind, LeaseError, LeaseKeeper};
use super::steps::{self, Run};
use super::task::{self, TaskIdentity};
use super::{create, delete, nodes};
use crate::context::Context;
use cse_vcd::vcd::{Client, Filter, Query, QueryFormat, QueryRecord};

/// The message of an operation a server finished for a crashed one.
pub const INTERRUPTED: &str = "The CSE server stopped while this operation was running";

/// What a resume pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResumeReport {
    /// Operations taken over (journals with a lapsed lease).
    pub taken_over: usize,
    /// Lapsed operations another server claimed first (this pass backed off).
    pub lost_claims: usize,
    /// Running tasks no journal owned, ended in error.
    pub orphan_tasks: usize,
    /// Lapsed leases without a journal (an operation that died before
    /// journaling, or whose clean-up failed), removed.
    pub stale_leases: usize,
}

/// One resume pass.
pub async fn resume(ctx: &Arc<Context>) -> Result<ResumeReport, OpError> {
    let admin = ctx.admin().await?;
    let mut report = ResumeReport::default();
    let mut owned_tasks = Vec::new();
    let mut complete = true;
    for record in clusters_with_an_operation(&admin).await? {
        let Some(vapp_href) = record.href().map(str::to_owned) else {
            continue;
        };
        // One cluster's trouble (deleted meanwhile, vCD refusing) does not
        // stop the pass for the others.
        if let Err(error) = resume_vapp(
            ctx,
            &admin,
            &record,
            &vapp_href,
            &mut report,
            &mut owned_tasks,
        )
        .await
        {
            tracing::warn!(vapp = %vapp_href, "cannot check a cluster for an interrupted operation: {error}");
            complete = false;
        }
    }
    // Without every journal read, a task might look unowned: orphans wait
    // for the next pass.
    if complete {
        report.orphan_tasks = end_orphan_tasks(ctx, &admin, &owned_tasks).await?;
    }
    Ok(report)
}

/// The cluster vApps that carry an operation's journal or lease, with both
/// entries: a pass costs vCD two queries whose answers hold only those
/// clusters (most have neither), not a record of every cluster. Two AND-only
/// queries rather than one with `,` (or): the same filter form as every
/// other cluster query. A vApp with both entries is in both answers, once here.
async fn clusters_with_an_operation(admin: &Client) -> Result<Vec<QueryRecord>, OpError> {
    let mut records = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for entry in [METADATA_OP_JOURNAL, METADATA_OP_LEASE] {
        let query = Query::new("adminVApp", QueryFormat::Records)
            .filter(
                Filter::default()
                    .and_metadata_string(METADATA_CLUSTER_ID, "*")
                    .and_metadata_string(entry, "*"),
            )
            .fields([
                format!("metadata:{METADATA_OP_JOURNAL}"),
                format!("metadata:{METADATA_OP_LEASE}"),
            ])
            .page_size(128);
        for record in admin.query(&query).await? {
            if record
                .href()
                .is_some_and(|href| seen.insert(href.to_owned()))
            {
                records.push(record);
            }
        }
    }
    Ok(records)
}

/// The part of a resume pass for one cluster vApp.
async fn resume_vapp(
    ctx: &Arc<Context>,
    admin: &Client,
    record: &QueryRecord,
    vapp_href: &str,
    report: &mut ResumeReport,
    owned_tasks: &mut Vec<String>,
) -> Result<(), OpError> {
    let admin = admin.clone();
    let vapp_href = vapp_href.to_owned();
    // The query brings both entries: most clusters have neither and
    // cost no further request.
    let recorded_lease = record.metadata.get(METADATA_OP_LEASE);
    if !record.metadata.contains_key(METADATA_OP_JOURNAL) {
        if let Some(stale) = recorded_lease.and_then(|l| journal::Lease::parse(l))
            && stale.expired()
            && !ctx.held_leases.holds(&vapp_href)
        {
            remove_stale_lease(ctx, &admin, &vapp_href).await;
            report.stale_leases += 1;
        }
        return Ok(());
    }
    let Some((journal, lease)) = journal::read(&admin, &vapp_href).await? else {
        return Ok(());
    };
    owned_tasks.push(journal.task.href.clone());
    if lease.as_ref().is_some_and(|l| !l.expired()) || ctx.held_leases.holds(&vapp_href) {
        return Ok(());
    }
    // Its holder cannot renew while vCD runs a task on the vApp (vCD
    // refuses metadata writes then): the lease lapses only when it is idle.
    if vapp_busy(&admin, &vapp_href).await? {
        return Ok(());
    }
    // A holder whose renewal waited for a long vCD step writes it as
    // soon as the step ends: give it one settle time to show it lives.
    let timing = lease::timing(&ctx.config.timeouts);
    tokio::time::sleep(timing.settle).await;
    let (_, now_lease) = journal::read_metadata(&admin, &vapp_href).await?;
    if now_lease != lease || vapp_busy(&admin, &vapp_href).await? {
        return Ok(());
    }
    // An operation of this server may have started on the vApp while the
    // pass waited (the journal it saw was an ended operation's, being
    // cleared): its lease has this server's owner, so the claim below would
    // not see it as another's. Such a vApp is left to the operation.
    if ctx.held_leases.holds(&vapp_href) {
        return Ok(());
    }
    let keeper = match LeaseKeeper::start(
        admin.clone(),
        vapp_href.clone(),
        &lease::settings(ctx),
        ClaimKind::Journaled,
    )
    .await
    {
        Ok(keeper) => keeper,
        Err(LeaseError::Vcd(error)) => return Err(error.into()),
        Err(slow @ LeaseError::Slow { .. }) => {
            tracing::warn!(vapp = %vapp_href, "not taking over an interrupted operation: {slow}");
            report.lost_claims += 1;
            return Ok(());
        }
        Err(lost) => {
            tracing::info!(vapp = %vapp_href, "not taking over an interrupted operation: {lost}");
            report.lost_claims += 1;
            return Ok(());
        }
    };
    // Held by this pass's keeper alone, or an operation of this server
    // started meanwhile: then the lease (same owner) and the journal are its.
    let alone = || ctx.held_leases.holders(&vapp_href) <= 1;
    if !alone() {
        return Ok(());
    }
    // The journal as it is now that the lease is ours.
    let Some((journal, _)) = journal::read(&admin, &vapp_href).await? else {
        if let Err(error) = super::metadata::remove_lease_unless_claimed(
            &admin,
            &ctx.vapp_gates,
            &vapp_href,
            || !alone(),
        )
        .await
        {
            tracing::warn!(vapp = %vapp_href, "cannot remove a stale operation lease: {error}");
        }
        return Ok(());
    };
    if !alone() {
        return Ok(());
    }
    tracing::info!(vapp = %vapp_href, kind = ?journal.kind, "taking over an interrupted operation");
    take_over(ctx, &admin, vapp_href, journal).await;
    drop(keeper);
    report.taken_over += 1;
    Ok(())
}

/// Removes a lapsed lease that no journal goes with, when it is still
/// lapsed (read again just before) and no operation of this server has
/// started claiming the vApp since the pass's query (the claim would
/// otherwise lose its fresh lease and fail as if another server had won).
async fn remove_stale_lease(ctx: &Context, admin: &Client, vapp_href: &str) {
    let still_stale = match journal::read_metadata(admin, vapp_href).await {
        Ok((None, Some(lease))) => lease.expired(),
        Ok(_) => false,
        Err(error) => {
            tracing::warn!(vapp = %vapp_href, "cannot read a stale operation lease: {error}");
            false
        }
    };
    if !still_stale {
        return;
    }
    if let Err(error) =
        super::metadata::remove_lease_unless_claimed(admin, &ctx.vapp_gates, vapp_href, || {
            ctx.held_leases.holds(vapp_href)
        })
        .await
    {
        tracing::warn!(vapp = %vapp_href, "cannot remove a stale operation lease: {error}");
    }
}

/// Whether vCD runs a task on the vApp now.
async fn vapp_busy(admin: &Client, vapp_href: &str) -> Result<bool, OpError> {
    let vapp: cse_core::vcd::VApp = admin.get_doc(vapp_href).await?;
    Ok(vapp
        .tasks
        .as_ref()
        .is_some_and(|tasks| tasks.tasks.iter().any(|t| !t.status.is_terminal())))
}

async fn take_over(ctx: &Arc<Context>, admin: &Client, vapp_href: String, mut journal: Journal) {
    let _in_flight = ctx.system.begin();
    // Updates of the task now carry this server's lease.
    journal.task.lease = Some(task::TaskLeaseHolder {
        owner: ctx.owner_id.clone(),
        ttl_ms: u64::try_from(ctx.config.timeouts.lease_ttl.duration().as_millis())
            .unwrap_or(u64::MAX),
    });
    let mut run = Run::new(ctx.clone(), admin.clone(), vapp_href, journal, true);
    // An operation ends its task before it clears its journal: stopped in
    // between, only the clean-up is left (its work is done and the tenant
    // was told the outcome).
    match task::has_ended(admin, &run.journal.task.href).await {
        Ok(true) => {
            tracing::info!(vapp = %run.vapp_href, task = %run.journal.task.href, "the interrupted operation had ended its task; clearing its journal");
            if let Err(error) = run.clear().await {
                tracing::warn!(vapp = %run.vapp_href, "cannot clear the journal of an ended operation: {error}");
            }
            return;
        }
        Ok(false) => {}
        Err(error) => {
            tracing::warn!(vapp = %run.vapp_href, "cannot read the task of an interrupted operation: {error}; the next pass tries again");
            return;
        }
    }
    match run.journal.kind {
        OpKind::CreateCluster => create::finish_failed(&run, INTERRUPTED).await,
        OpKind::CreateNodes => nodes::finish_failed_create(&run, INTERRUPTED).await,
        OpKind::DeleteNodes => {
            let n = u32::try_from(run.journal.doomed_vms.len()).unwrap_or(u32::MAX);
            let result = nodes::remove_doomed(&mut run, n).await;
            nodes::finish_delete(&run, result, n).await;
        }
        OpKind::DeleteCluster => {
            let result = steps::delete_vapp(admin, &ctx.vapp_gates, &run.vapp_href)
                .await
                .map_err(|e| ApiError::from(e).to_string());
            if !run.taken_over() {
                delete::finish(ctx, admin, &run.journal.task, result).await;
            }
        }
    }
}

fn operation_of(name: &str) -> Option<TaskOperation> {
    [
        TaskOperation::CreateCluster,
        TaskOperation::DeleteCluster,
        TaskOperation::CreateNodes,
        TaskOperation::DeleteNodes,
    ]
    .into_iter()
    .find(|op| op.operation_name() == name)
}

async fn end_orphan_tasks(
    ctx: &Arc<Context>,
    admin: &Client,
    owned: &[String],
) -> Result<usize, OpError> {
    let query = Query::new("adminTask", QueryFormat::Records)
        .filter(Filter::eq("status", "running").and_eq("serviceNamespace", "vcloud.cse"));
    let min_age = ctx.config.timeouts.lease_ttl.duration();
    let mut ended = 0;
    for record in admin.query(&query).await? {
        let Some(href) = record.href() else { continue };
        if owned.iter().any(|o| o == href)
            || ctx.local_tasks.holds(href)
            || !older_than(record.attr("startDate"), min_age)
        {
            continue;
        }
        let doc: Task = admin.get_doc(href).await?;
        // Its server still renews the task's lease: queued, or a create
        // before its vApp exists.
        if task::lease_of(doc.details.as_deref()).is_some_and(|lease| !lease.expired()) {
            continue;
        }
        let Some(operation) = doc.operation_name.as_deref().and_then(operation_of) else {
            continue;
        };
        let owner = doc.owner.clone().unwrap_or_default();
        let user = doc.user.clone().unwrap_or_default();
        let identity = TaskIdentity {
            href: href.to_owned(),
            operation_name: operation.operation_name().to_owned(),
            cluster: owner.name.clone().unwrap_or_default(),
            cluster_id: owner.href.rsplit(':').next().unwrap_or_default().to_owned(),
            user_name: user.name.clone().unwrap_or_default(),
            user_id: user.href.clone(),
            lease: None,
        };
        let timing = lease::timing(&ctx.config.timeouts);
        if !task::claim(admin, &identity, &ctx.owner_id, timing).await? {
            tracing::info!(task = %href, "another server ends this orphaned task");
            continue;
        }
        tracing::info!(task = %href, operation = operation.operation_name(), "ending an orphaned task");
        if operation == TaskOperation::DeleteCluster {
            // Killed between its lease and its journal: finish the delete.
            match complete_delete(ctx, admin, &identity).await {
                Ok(true) => ended += 1,
                Ok(false) => {}
                Err(error) => {
                    tracing::warn!(task = %href, "cannot finish an interrupted delete: {error}");
                }
            }
            continue;
        }
        if operation == TaskOperation::CreateCluster {
            remove_unmarked_vapp(ctx, admin, &identity.cluster, &identity.cluster_id).await;
        }
        if let Err(error) = task::fail(
            admin,
            &ctx.claims,
            &identity,
            operation.default_operation_text(),
            INTERRUPTED,
        )
        .await
        {
            tracing::warn!(task = %href, "cannot end an orphaned task: {error}");
            continue;
        }
        ended += 1;
    }
    Ok(ended)
}

/// Deletes the vApp of the cluster of a delete task no journal owns (its
/// server died after taking the lease, before writing the journal) and ends
/// the task in success; false when another server holds the cluster.
async fn complete_delete(
    ctx: &Arc<Context>,
    admin: &Client,
    identity: &TaskIdentity,
) -> Result<bool, OpError> {
    let query = Query::new("adminVApp", QueryFormat::Records)
        .filter(Filter::default().and_metadata_string(METADATA_CLUSTER_ID, &identity.cluster_id));
    for record in admin.query(&query).await? {
        let Some(vapp_href) = record.href().map(str::to_owned) else {
            continue;
        };
        let keeper = match LeaseKeeper::start(
            admin.clone(),
            vapp_href.clone(),
            &lease::settings(ctx),
            ClaimKind::Fresh,
        )
        .await
        {
            Ok(keeper) => keeper,
            Err(LeaseError::Vcd(error)) => return Err(error.into()),
            Err(lost) => {
                tracing::info!(vapp = %vapp_href, "not finishing an interrupted delete: {lost}");
                return Ok(false);
            }
        };
        steps::delete_vapp(admin, &ctx.vapp_gates, &vapp_href).await?;
        drop(keeper);
    }
    delete::finish(ctx, admin, identity, Ok(())).await;
    Ok(true)
}

fn older_than(start: Option<&str>, age: Duration) -> bool {
    let Some(start) = start.and_then(|s| DateTime::parse_from_rfc3339(s).ok()) else {
        return true;
    };
    let age = chrono::Duration::from_std(age).unwrap_or(chrono::Duration::zero());
    start.with_timezone(&Utc) + age <= Utc::now()
}

/// Deletes a vApp named `name` composed by CSE (`cluster <name>`
/// description) that carries no cluster id or this task's (`cluster_id`)
/// and no journal: a create that died after composing it, before its
/// journal (the task's lease has lapsed, so its server is gone).
async fn remove_unmarked_vapp(ctx: &Context, admin: &Client, name: &str, cluster_id: &str) {
    let query = Query::new("adminVApp", QueryFormat::Records).filter(Filter::eq("name", name));
    let Ok(records) = admin.query(&query).await else {
        return;
    };
    for record in records {
        let Some(href) = record.href() else { continue };
        let Ok(metadata) = admin
            .get_doc::<cse_core::vcd::Metadata>(&format!("{href}/metadata"))
            .await
        else {
            continue;
        };
        // Another cluster of that name, or one with an operation journaled.
        if metadata
            .get(METADATA_CLUSTER_ID)
            .is_some_and(|id| id != cluster_id)
            || metadata.get(METADATA_OP_JOURNAL).is_some()
        {
            continue;
        }
        let Ok(vapp) = admin.get_doc::<cse_core::vcd::VApp>(href).await else {
            continue;
        };
        if vapp.description.as_deref() == Some(&format!("cluster {name}"))
            && let Err(error) = steps::delete_vapp(admin, &ctx.vapp_gates, href).await
        {
            tracing::warn!(vapp = %href, "cannot remove an unmarked cluster vApp: {error}");
        }
    }
}
