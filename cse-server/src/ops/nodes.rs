//! Node operations (spec §3.6): join workers with a fresh token, add nodes to
//! a cluster (workers joined, or NFS servers), delete nodes (drained from
//! Kubernetes with `kubectl delete node`, then undeployed and removed).

use std::sync::Arc;

use cse_core::api::{ApiError, NodeDeletion, NodesSpec, TaskMessage, TaskOperation};
use cse_core::config::TemplateConfig;
use cse_core::naming::NodeType;

use super::error::OpError;
use super::journal::{Journal, OpKind};
use super::lease::LeaseKeeper;
use super::scripts::{self, TemplateScripts};
use super::steps::{self, Run, VmOptions};
use super::task::{self, TaskIdentity};
use crate::context::Context;
use cse_vcd::vcd::Client;
use cse_vcd::vsphere::GuestCredentials;

/// Joins `workers` (name, href), made from `template`, to the cluster of the
/// master at `master_href` (root on the master: `master`).
pub async fn join_workers(
    run: &Run,
    master: &GuestCredentials,
    template: &TemplateConfig,
    family: &TemplateScripts,
    master_href: &str,
    workers: &[(String, String)],
) -> Result<(), OpError> {
    let output = run
        .run_script(master_href, master, scripts::TOKEN_AND_IP)
        .await?;
    if !output.success() {
        return Err(ApiError::JoinFailed {
            stderr: output.stderr,
        }
        .into());
    }
    let mut words = output.stdout.split_whitespace();
    let (Some(token), Some(ip)) = (words.next(), words.next()) else {
        return Err(ApiError::JoinFailed {
            stderr: format!("no token and address from the master: {}", output.stdout),
        }
        .into());
    };
    let join = scripts::join_script(family, token, ip);
    for (_, href) in workers {
        let credentials = run.root(href, template).await?;
        let output = run.run_script(href, &credentials, &join).await?;
        if !output.success() {
            return Err(ApiError::JoinFailed {
                stderr: output.stderr,
            }
            .into());
        }
    }
    Ok(())
}

fn report(result: Result<(), cse_vcd::vcd::VcdError>) {
    if let Err(error) = result {
        tracing::error!("cannot update the operation's vCD task: {error}");
    }
}

/// The master VMs (name, href) of the vApp.
async fn masters(run: &Run) -> Result<Vec<(String, String)>, OpError> {
    Ok(run
        .vapp()
        .await?
        .vms()
        .iter()
        .filter(|vm| NodeType::classify(&vm.name) == Some(NodeType::Master))
        .map(|vm| (vm.name.clone(), vm.href.clone()))
        .collect())
}

/// Runs an add-nodes operation to its end.
pub async fn run_create(
    ctx: Arc<Context>,
    admin: Client,
    spec: NodesSpec,
    template: TemplateConfig,
    cluster_template: String,
    task: TaskIdentity,
    vapp_href: String,
) {
    let _in_flight = ctx.system.begin();
    let mut run = Run::new(
        ctx.clone(),
        admin.clone(),
        vapp_href,
        Journal::new(OpKind::CreateNodes, task.clone(), spec.disable_rollback),
        false,
    );
    let mut keeper = None;
    let result = async {
        // The lease first: a journal without a lease looks abandoned to a
        // resume pass.
        keeper = Some(
            LeaseKeeper::start(
                admin.clone(),
                run.vapp_href.clone(),
                &super::lease::settings(&ctx),
                super::lease::ClaimKind::Fresh,
            )
            .await
            .map_err(OpError::lease(&task.cluster, "create_nodes"))?,
        );
        run.save().await?;
        add_nodes(&mut run, &spec, &template, &cluster_template).await
    }
    .await;
    let (n, name, id) = (spec.node_count, &task.cluster, &task.cluster_id);
    if run.taken_over() {
        tracing::warn!(cluster = %name, "add nodes taken over by another server");
        return;
    }
    match result {
        // Task first, then the journal (see `create::run`).
        Ok(()) => {
            let done = if spec.node_type == NodeType::Nfs {
                TaskMessage::CreatedNodes(n)
            } else {
                TaskMessage::AddedNodes(n)
            };
            report(task::succeed(&admin, &ctx.claims, &task, &done.render(name, id)).await);
            report(run.clear().await);
        }
        Err(error) if error.is_lease_lost() => {
            // Another server holds the cluster: its journal is not ours to clear.
            tracing::warn!(cluster = %name, "add nodes refused: {error}");
            report(
                task::fail(
                    &admin,
                    &ctx.claims,
                    &task,
                    TaskOperation::CreateNodes.default_operation_text(),
                    &ApiError::from(error).to_string(),
                )
                .await,
            );
        }
        Err(error) => {
            tracing::warn!(cluster = %name, "add nodes failed: {error}");
            finish_failed_create(&run, &ApiError::from(error).to_string()).await;
        }
    }
    drop(keeper);
}

/// Removes the VMs a failed add-nodes made (unless `disable_rollback`),
/// ends the task in error and clears the journal.
pub async fn finish_failed_create(run: &Run, message: &str) {
    if run.taken_over() {
        tracing::warn!(vapp = %run.vapp_href, "add nodes taken over by another server");
        return;
    }
    if !run.journal.disable_rollback && !run.journal.new_vms.is_empty() {
        if let Err(error) = forget_in_kubernetes(run, &run.journal.new_vms).await {
            tracing::warn!("cannot remove the new nodes from Kubernetes: {error}");
        }
        if let Err(error) = steps::remove_vms(run, &run.journal.new_vms).await {
            tracing::error!("rollback of the new VMs failed: {error}");
        }
    }
    report(
        task::fail(
            &run.admin,
            &run.ctx.claims,
            &run.journal.task,
            TaskOperation::CreateNodes.default_operation_text(),
            message,
        )
        .await,
    );
    report(run.clear().await);
}

async fn forget_in_kubernetes(run: &Run, names: &[String]) -> Result<(), OpError> {
    let template = cluster_template_password(run).await?;
    for (_, href) in masters(run).await? {
        let credentials = run.root_with(&href, &template).await?;
        run.run_script(&href, &credentials, &scripts::kubectl_delete(names))
            .await?;
    }
    Ok(())
}

/// The template password of the cluster's template (`cse.template`), else of
/// the default template.
async fn cluster_template_password(run: &Run) -> Result<cse_core::config::Secret, OpError> {
    let metadata: cse_core::vcd::Metadata = run
        .admin
        .get_doc(&format!("{}/metadata", run.vapp_href))
        .await?;
    let name = metadata
        .get(cse_core::naming::METADATA_TEMPLATE)
        .unwrap_or_default()
        .to_owned();
    let broker = &run.ctx.config.broker;
    broker
        .template(&name)
        .or_else(|| broker.default_template())
        .map(|t| t.admin_password.clone())
        .ok_or(OpError::Cse(ApiError::TemplateNotFound(name)))
}

async fn add_nodes(
    run: &mut Run,
    spec: &NodesSpec,
    template: &TemplateConfig,
    cluster_template: &str,
) -> Result<(), OpError> {
    let task = run.journal.task.clone();
    let (name, id) = (task.cluster.as_str(), task.cluster_id.as_str());
    let n = spec.node_count;
    task::progress(
        &run.admin,
        &task,
        &TaskMessage::CreatingNodes(n).render(name, id),
    )
    .await?;
    let options = VmOptions {
        network: spec.network.clone(),
        cpu: spec.resources.cpu,
        memory_mb: spec.resources.memory_mb,
        storage_profile: spec.storage_profile.clone(),
        ssh_key: spec.ssh_key.clone(),
    };
    let made = steps::add_vms(run, template, spec.node_type, n, &options).await?;
    run.done("vms").await?;
    if spec.node_type == NodeType::Worker {
        task::progress(
            &run.admin,
            &task,
            &TaskMessage::JoiningNodes(n).render(name, id),
        )
        .await?;
        let family = scripts::for_template(cluster_template);
        let master =
            masters(run).await?.into_iter().next().ok_or_else(|| {
                OpError::Unexpected(format!("Cluster '{name}' has no master node."))
            })?;
        let master_password = cluster_template_password(run).await?;
        let master_root = run.root_with(&master.1, &master_password).await?;
        join_workers(run, &master_root, template, &family, &master.1, &made).await?;
        run.done("join").await?;
    }
    Ok(())
}

/// Runs a delete-nodes operation to its end (a failure after the VMs were
/// taken out of Kubernetes still removes them: deletes roll forward).
pub async fn run_delete(
    ctx: Arc<Context>,
    admin: Client,
    deletion: NodeDeletion,
    task: TaskIdentity,
    vapp_href: String,
) {
    let _in_flight = ctx.system.begin();
    let mut journal = Journal::new(OpKind::DeleteNodes, task.clone(), false);
    journal.doomed_vms = deletion.nodes.clone();
    let mut run = Run::new(ctx.clone(), admin.clone(), vapp_href, journal, false);
    let n = u32::try_from(deletion.nodes.len()).unwrap_or(u32::MAX);
    let (name, id) = (task.cluster.clone(), task.cluster_id.clone());
    let mut keeper = None;
    let result = async {
        // The lease first: a journal without a lease looks abandoned to a
        // resume pass.
        keeper = Some(
            LeaseKeeper::start(
                admin.clone(),
                run.vapp_href.clone(),
                &super::lease::settings(&ctx),
                super::lease::ClaimKind::Fresh,
            )
            .await
            .map_err(OpError::lease(&task.cluster, "delete_nodes"))?,
        );
        run.save().await?;
        task::progress(
            &admin,
            &task,
            &TaskMessage::DeletingNodes(n).render(&name, &id),
        )
        .await?;
        let password = cluster_template_password(&run).await?;
        for (_, href) in masters(&run).await? {
            let credentials = run.root_with(&href, &password).await?;
            let output = run
                .run_script(
                    &href,
                    &credentials,
                    &scripts::kubectl_delete(&deletion.nodes),
                )
                .await?;
            if !output.success() && !deletion.force {
                return Err(ApiError::NodeDeleteFailed {
                    stderr: output.stderr,
                }
                .into());
            }
        }
        run.done("kubernetes").await?;
        remove_doomed(&mut run, n).await
    }
    .await;
    finish_delete(&run, result, n).await;
    drop(keeper);
}

/// Undeploys and deletes the journal's doomed VMs.
pub async fn remove_doomed(run: &mut Run, n: u32) -> Result<(), OpError> {
    let task = run.journal.task.clone();
    let (name, id) = (task.cluster.as_str(), task.cluster_id.as_str());
    task::progress(
        &run.admin,
        &task,
        &TaskMessage::UndeployingNodes(n).render(name, id),
    )
    .await?;
    task::progress(
        &run.admin,
        &task,
        &TaskMessage::DeletingVms(n).render(name, id),
    )
    .await?;
    let doomed = run.journal.doomed_vms.clone();
    steps::remove_vms(run, &doomed).await?;
    run.done("vms").await
}

/// Ends a delete-nodes task, then clears its journal.
pub async fn finish_delete(run: &Run, result: Result<(), OpError>, n: u32) {
    let task = &run.journal.task;
    if run.taken_over() {
        tracing::warn!(vapp = %run.vapp_href, "delete nodes taken over by another server");
        return;
    }
    // Lost to another server: its journal is not ours to clear.
    let ours = !result.as_ref().is_err_and(OpError::is_lease_lost);
    match result {
        Ok(()) => report(
            task::succeed(
                &run.admin,
                &run.ctx.claims,
                task,
                &TaskMessage::DeletedNodes(n).render(&task.cluster, &task.cluster_id),
            )
            .await,
        ),
        Err(error) => report(
            task::fail(
                &run.admin,
                &run.ctx.claims,
                task,
                TaskOperation::DeleteNodes.default_operation_text(),
                &ApiError::from(error).to_string(),
            )
            .await,
        ),
    }
    // After the task's end (see `create::run`).
    if ours {
        report(run.clear().await);
    }
}
