//! The synchronous routes: cluster list and info, kubeconfig, node info and
//! the template list. Every lookup is made with the caller's own session, so a
//! tenant never sees another tenant's cluster; guest operations (kubeconfig,
//! NFS exports) run through the system administrator's vCenter view with one
//! deadline each from `timeouts.script`.

use cse_core::api::{
    ApiError, Cluster, KubeConfigReply, NodeInfo, TemplateEntry, exports_from_showmount, json_body,
    reply_json, vm_status_text,
};
use cse_core::ext::{ExtReply, ExtRequest};
use cse_core::naming::NodeType;

use crate::auth::{Caller, vcd_failure};
use crate::clusters::{FoundCluster, VmView, find_cluster, find_clusters, vms_of};
use crate::context::{Context, ListKey};
use cse_vcd::vsphere::PollSettings;
use std::sync::Arc;

/// `GET /api/cse`. Calls with the same session arriving while its list is
/// being read from vCD share that read and its JSON text
/// ([`Context::cluster_lists`]).
pub async fn list_clusters(
    ctx: &Context,
    caller: &Caller,
    request: &ExtRequest,
) -> Result<ExtReply, ApiError> {
    let client = caller.client.clone();
    let key: ListKey = caller.key.clone();
    let (body, _) = ctx
        .cluster_lists
        .run(key, async move {
            let found = find_clusters(&client, None)
                .await
                .map_err(|e| vcd_failure(&e))?;
            let clusters: Vec<Cluster> = found.into_iter().map(|f| f.cluster).collect();
            json_body(&clusters).map(Arc::from)
        })
        .await;
    Ok(ExtReply::new(request, 200, body?.to_vec()))
}

/// `GET /api/cse/template`.
pub fn list_templates(ctx: &Context, request: &ExtRequest) -> Result<ExtReply, ApiError> {
    let broker = &ctx.config.broker;
    let entries: Vec<TemplateEntry> = broker
        .templates
        .iter()
        .map(|t| TemplateEntry {
            name: t.name.clone(),
            is_default: t.name == broker.default_template,
            catalog: broker.catalog.clone(),
            catalog_item: t.catalog_item.clone(),
            description: t.description.clone(),
        })
        .collect();
    reply_json(request, 200, &entries)
}

/// The cluster and its VMs as the caller sees them.
pub async fn cluster_with_vms(
    caller: &Caller,
    name: &str,
) -> Result<(FoundCluster, Vec<VmView>), ApiError> {
    let found = find_cluster(&caller.client, name).await?;
    let vapp = caller
        .client
        .get(&found.vapp_href)
        .await
        .map_err(|e| vcd_failure(&e))?;
    Ok((found, vms_of(&vapp)))
}

/// `GET /api/cse/{c}/info`.
pub async fn cluster_info(
    _ctx: &Context,
    caller: &Caller,
    request: &ExtRequest,
    name: &str,
) -> Result<ExtReply, ApiError> {
    let (found, vms) = cluster_with_vms(caller, name).await?;
    let mut cluster = found.cluster;
    for vm in vms {
        cluster.add_vm(vm.name, vm.ip_address);
    }
    reply_json(request, 200, &cluster)
}

fn script_deadline(ctx: &Context) -> tokio::time::Instant {
    tokio::time::Instant::now() + ctx.config.timeouts.script.duration()
}

/// `GET /api/cse/{c}/config`: `/root/.kube/config` of the first master that has one.
pub async fn cluster_config(
    ctx: &Context,
    caller: &Caller,
    request: &ExtRequest,
    name: &str,
) -> Result<ExtReply, ApiError> {
    let (found, vms) = cluster_with_vms(caller, name).await?;
    let admin = ctx.admin().await?;
    for master in vms
        .iter()
        .filter(|vm| NodeType::classify(&vm.name) == Some(NodeType::Master))
    {
        let credentials = crate::ops::credentials::of_cluster_vm(
            ctx,
            &admin,
            &master.href,
            &found.cluster.template,
        )
        .await?;
        let target = match ctx.vcenters.target_for_vm(&admin, &master.href).await {
            Ok(target) => target,
            Err(error) => {
                tracing::warn!(vm = %master.name, "cannot locate the master's guest: {error}");
                continue;
            }
        };
        let download = tokio::time::timeout_at(
            script_deadline(ctx),
            target
                .session
                .download(&target.vm, &credentials, "/root/.kube/config"),
        )
        .await;
        match download {
            Ok(Ok(bytes)) => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                return reply_json(request, 200, &KubeConfigReply(text));
            }
            Ok(Err(error)) => {
                tracing::warn!(vm = %master.name, "cannot download the kubeconfig: {error}")
            }
            Err(_) => tracing::warn!(vm = %master.name, "the kubeconfig download timed out"),
        }
    }
    Err(ApiError::ClusterConfigUnavailable)
}

/// `GET /api/cse/{c}/{n}/info`.
pub async fn node_info(
    ctx: &Context,
    caller: &Caller,
    request: &ExtRequest,
    cluster: &str,
    node: &str,
) -> Result<ExtReply, ApiError> {
    let (found, vms) = cluster_with_vms(caller, cluster).await?;
    let not_found = || ApiError::NodeNotFound {
        node: node.to_owned(),
        cluster: cluster.to_owned(),
    };
    let vm = vms
        .iter()
        .find(|vm| vm.name == node)
        .ok_or_else(not_found)?;
    let node_type = NodeType::classify(&vm.name).ok_or_else(not_found)?;
    let exports = if node_type == NodeType::Nfs {
        Some(nfs_exports(ctx, &found, vm).await?)
    } else {
        None
    };
    let info = NodeInfo {
        name: vm.name.clone(),
        number_of_cpus: vm.cpus,
        memory_mb: vm.memory_mb,
        status: vm_status_text(vm.status).to_owned(),
        ip_address: vm.ip_address.clone(),
        node_type,
        exports,
    };
    reply_json(request, 200, &info)
}

async fn nfs_exports(
    ctx: &Context,
    found: &FoundCluster,
    vm: &VmView,
) -> Result<Vec<String>, ApiError> {
    let admin = ctx.admin().await?;
    let credentials =
        crate::ops::credentials::of_cluster_vm(ctx, &admin, &vm.href, &found.cluster.template)
            .await?;
    let target = ctx
        .vcenters
        .target_for_vm(&admin, &vm.href)
        .await
        .map_err(|e| ApiError::Internal(format!("Couldn't reach node '{}': {e}", vm.name)))?;
    let script = format!("#!/usr/bin/env bash\nshowmount -e {}\n", vm.ip_address);
    let output = target
        .session
        .run_script(
            &target.vm,
            &credentials,
            &script,
            PollSettings::from_config(&ctx.config.timeouts),
            script_deadline(ctx),
        )
        .await
        .map_err(|e| {
            ApiError::Internal(format!("Couldn't list the exports of '{}': {e}", vm.name))
        })?;
    Ok(exports_from_showmount(&output.stdout))
}
