//! Cluster delete: the vApp is removed with `force=true` (powered off and
//! undeployed by vCD), after the journal marks the operation so a restarted
//! server completes it.

use std::sync::Arc;

use cse_core::api::{ApiError, TaskMessage, TaskOperation};

use super::error::OpError;
use super::journal::{self, Journal, OpKind};
use super::lease::LeaseKeeper;
use super::steps;
use super::task::{self, TaskIdentity};
use crate::context::Context;
use cse_vcd::vcd::Client;

/// Deletes the cluster vApp and ends the task.
pub async fn run(ctx: Arc<Context>, admin: Client, task: TaskIdentity, vapp_href: String) {
    let _in_flight = ctx.system.begin();
    let journal = Journal::new(OpKind::DeleteCluster, task.clone(), false);
    let mut keeper = None;
    let result = async {
        // The lease first and kept alive: a journal without a live lease
        // looks abandoned to a resume pass.
        keeper = Some(
            LeaseKeeper::start(
                admin.clone(),
                vapp_href.clone(),
                &super::lease::settings(&ctx),
                super::lease::ClaimKind::Fresh,
            )
            .await
            .map_err(OpError::lease(&task.cluster, "delete_cluster"))?,
        );
        journal::write(&admin, &ctx.vapp_gates, &vapp_href, &journal).await?;
        super::lease::fence(
            &admin,
            &super::lease::settings(&ctx),
            &vapp_href,
            Some(&task.href),
        )
        .await
        .map_err(OpError::lease(&task.cluster, "delete_cluster"))?;
        steps::delete_vapp(&admin, &ctx.vapp_gates, &vapp_href).await
    }
    .await;
    if ctx.held_leases.is_lost(&vapp_href) {
        tracing::warn!(cluster = %task.cluster, "delete taken over by another server");
        return;
    }
    finish(
        &ctx,
        &admin,
        &task,
        result.map_err(|e: OpError| ApiError::from(e).to_string()),
    )
    .await;
    drop(keeper);
}

/// Ends a delete-cluster task.
pub async fn finish(
    ctx: &Context,
    admin: &Client,
    task: &TaskIdentity,
    result: Result<(), String>,
) {
    let outcome = match result {
        Ok(()) => {
            task::succeed(
                admin,
                &ctx.claims,
                task,
                &TaskMessage::DeletedCluster.render(&task.cluster, &task.cluster_id),
            )
            .await
        }
        Err(message) => {
            task::fail(
                admin,
                &ctx.claims,
                task,
                TaskOperation::DeleteCluster.default_operation_text(),
                &message,
            )
            .await
        }
    };
    if let Err(error) = outcome {
        tracing::error!("cannot update the operation's vCD task: {error}");
    }
}
