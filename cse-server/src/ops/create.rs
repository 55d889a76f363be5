//! Cluster create (spec §3.3 with journal, lease, deadlines and rollback):
//! compose the vApp with its network, mark it with the cluster metadata and
//! the journal, add the master and run `kubeadm init`, record the master's
//! address, add and join the workers, add the NFS node.

use std::sync::Arc;

use cse_core::api::{ApiError, ClusterSpec, OperationStage, TaskMessage, TaskOperation};
use cse_core::config::TemplateConfig;
use cse_core::naming::{
    METADATA_CLUSTER_ID, METADATA_MASTER_IP, METADATA_TEMPLATE, METADATA_VERSION, NodeType,
};
use cse_core::vcd::{ComposeVAppParams, VApp, Vdc};

use super::error::OpError;
use super::journal::{Journal, OpKind};
use super::lease::LeaseKeeper;
use super::nodes::join_workers;
use super::scripts;
use super::steps::{self, Run, VmOptions};
use super::task::{self, TaskIdentity};
use crate::context::Context;
use cse_vcd::vcd::Client;

fn stage(stage: OperationStage) -> impl Fn(OpError) -> OpError {
    OpError::in_stage(stage)
}

/// Runs a create to its end: the task ends in success, or in error after the
/// rollback (the vApp is deleted unless `disable_rollback`).
pub async fn run(
    ctx: Arc<Context>,
    admin: Client,
    spec: ClusterSpec,
    template: TemplateConfig,
    task: TaskIdentity,
    vdc_href: String,
) {
    let _in_flight = ctx.system.begin();
    let mut run = Run::new(
        ctx.clone(),
        admin.clone(),
        String::new(),
        Journal::new(OpKind::CreateCluster, task.clone(), spec.disable_rollback),
        false,
    );
    let mut keeper = None;
    let result = create(&mut run, &spec, &template, &vdc_href, &mut keeper).await;
    let (id, name) = (&task.cluster_id, &task.cluster);
    if run.taken_over() {
        tracing::warn!(cluster = %name, "create taken over by another server");
        return;
    }
    match result {
        // The task ends first, then the journal is cleared: stopped in
        // between, a resume pass finds the journal of an ended task and only
        // clears it (the cluster is whole and the tenant was told so).
        Ok(()) => {
            report(
                task::succeed(
                    &admin,
                    &ctx.claims,
                    &task,
                    &TaskMessage::CreatedCluster.render(name, id),
                )
                .await,
            );
            if let Err(error) = run.clear().await {
                tracing::warn!("cannot clear the journal of {name}: {error}");
            }
        }
        Err(error) => {
            tracing::warn!(cluster = %name, "create failed: {error}");
            finish_failed(&run, &ApiError::from(error).to_string()).await;
        }
    }
    drop(keeper);
}

/// Rolls a failed create back (unless told not to) and ends its task in error.
pub async fn finish_failed(run: &Run, message: &str) {
    let task = &run.journal.task;
    if run.taken_over() {
        tracing::warn!(vapp = %run.vapp_href, "create taken over by another server");
        return;
    }
    let composed = !run.vapp_href.is_empty();
    let keep = composed && run.journal.disable_rollback;
    if composed
        && !keep
        && let Err(error) =
            steps::delete_vapp(&run.admin, &run.ctx.vapp_gates, &run.vapp_href).await
    {
        tracing::error!(vapp = %run.vapp_href, "rollback failed: {error}");
    }
    report(
        task::fail(
            &run.admin,
            &run.ctx.claims,
            task,
            TaskOperation::CreateCluster.default_operation_text(),
            message,
        )
        .await,
    );
    // Kept for inspection (`disable_rollback`): its journal goes after the
    // task's end, as on success.
    if keep && let Err(error) = run.clear().await {
        tracing::warn!("cannot clear the journal: {error}");
    }
}

fn report(result: Result<(), cse_vcd::vcd::VcdError>) {
    if let Err(error) = result {
        tracing::error!("cannot update the operation's vCD task: {error}");
    }
}

async fn create(
    run: &mut Run,
    spec: &ClusterSpec,
    template: &TemplateConfig,
    vdc_href: &str,
    keeper: &mut Option<LeaseKeeper>,
) -> Result<(), OpError> {
    let task = run.journal.task.clone();
    let (name, id) = (task.cluster.as_str(), task.cluster_id.as_str());
    let admin = run.admin.clone();
    let progress = |message: TaskMessage| {
        let admin = admin.clone();
        let task = task.clone();
        async move {
            task::progress(
                &admin,
                &task,
                &message.render(&task.cluster, &task.cluster_id),
            )
            .await
            .map_err(OpError::from)
        }
    };

    // vApp, metadata, journal, lease.
    progress(TaskMessage::CreatingClusterVapp).await?;
    async {
        let vdc: Vdc = run.admin.get_doc(vdc_href).await?;
        let network = vdc
            .network(&spec.network)
            .ok_or_else(|| OpError::Cse(ApiError::NetworkNotFound(spec.network.clone())))?;
        let compose = vdc
            .compose_href()
            .map_err(|e| OpError::Unexpected(e.to_string()))?;
        let answer = run
            .admin
            .post_doc(
                compose,
                &ComposeVAppParams::cse_cluster(name, &spec.network, &network.href),
            )
            .await
            .map_err(|error| {
                // Another server created the name since this one checked.
                if error.is_duplicate_name() {
                    OpError::Cse(ApiError::ClusterBeingCreated(name.to_owned()))
                } else {
                    OpError::Vcd(error)
                }
            })?;
        let vapp: VApp = answer.parse()?;
        run.vapp_href = vapp.href.clone();
        run.admin.wait_for_answer(&answer).await?;
        *keeper = Some(
            LeaseKeeper::start(
                run.admin.clone(),
                run.vapp_href.clone(),
                &super::lease::settings(&run.ctx),
                super::lease::ClaimKind::New,
            )
            .await
            .map_err(OpError::lease(name, "create_cluster"))?,
        );
        // The cluster's keys and the journal in one write, after the lease:
        // from the cluster id on other servers find the cluster, and they
        // find it leased and journaled.
        run.done_with(
            "vapp",
            &[
                (METADATA_VERSION, cse_core::CSE_VERSION),
                (METADATA_TEMPLATE, template.name.as_str()),
                (METADATA_CLUSTER_ID, id),
            ],
        )
        .await
    }
    .await
    .map_err(stage(OperationStage::CreatingVapp))?;

    let options = VmOptions {
        network: spec.network.clone(),
        cpu: spec.resources.cpu,
        memory_mb: spec.resources.memory_mb,
        storage_profile: spec.storage_profile.clone(),
        ssh_key: spec.ssh_key.clone(),
    };
    let family = scripts::for_template(&template.name);

    // Master.
    progress(TaskMessage::CreatingMasterNode).await?;
    let master = steps::add_vms(run, template, NodeType::Master, 1, &options)
        .await
        .map_err(stage(OperationStage::AddingMaster))?;
    let (_, master_href) = master
        .first()
        .cloned()
        .ok_or_else(|| OpError::Unexpected("no master VM was made".into()))?;
    run.done("master").await?;
    let credentials = run
        .root(&master_href, template)
        .await
        .map_err(stage(OperationStage::AddingMaster))?;
    progress(TaskMessage::InitializingCluster).await?;
    async {
        let output = run
            .run_script(&master_href, &credentials, family.mstr)
            .await?;
        if !output.success() {
            return Err(ApiError::ClusterInitFailed {
                stderr: output.stderr,
            }
            .into());
        }
        let output = run
            .run_script(&master_href, &credentials, scripts::MASTER_IP)
            .await?;
        let ip = output.stdout.split_whitespace().next().unwrap_or_default();
        run.done_with("init", &[(METADATA_MASTER_IP, ip)]).await
    }
    .await
    .map_err(stage(OperationStage::AddingMaster))?;

    // Workers.
    if spec.node_count > 0 {
        let n = spec.node_count;
        progress(TaskMessage::CreatingNodes(n)).await?;
        let workers = steps::add_vms(run, template, NodeType::Worker, n, &options)
            .await
            .map_err(stage(OperationStage::CreatingWorkers))?;
        run.done("workers").await?;
        progress(TaskMessage::JoiningNodes(n)).await?;
        join_workers(run, &credentials, template, &family, &master_href, &workers)
            .await
            .map_err(stage(OperationStage::CreatingWorkers))?;
        run.done("join").await?;
    }

    // NFS.
    if spec.enable_nfs {
        progress(TaskMessage::CreatingNfsNode).await?;
        steps::add_vms(run, template, NodeType::Nfs, 1, &options)
            .await
            .map_err(stage(OperationStage::CreatingNfs))?;
        run.done("nfs").await?;
    }
    Ok(())
}
