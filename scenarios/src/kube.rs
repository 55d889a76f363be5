//! Kubernetes state inside a cluster, read the way an operator would: find
//! the cluster's master VM through vCD (system administrator of the `cse`
//! config), then run `kubectl get nodes` in it through vCenter guest
//! operations with the master's root credentials (the password vCD generated
//! for it, read as the system administrator, or the template's). Works on a
//! real vCD as on the simulator.

use std::sync::Arc;
use std::time::Duration;

use cse_core::naming::NodeType;
use cse_server::clusters;
use cse_server::context::Context;
use cse_vcd::vsphere::PollSettings;

/// One line of `kubectl get nodes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeNode {
    /// The node's name (the VM's host name).
    pub name: String,
    /// Whether the `STATUS` column reads `Ready`.
    pub ready: bool,
}

/// The script run on the master.
pub const GET_NODES: &str = "export KUBECONFIG=/etc/kubernetes/admin.conf\nkubectl get nodes\n";

/// `kubectl get nodes` on the first master of `cluster` that answers.
pub async fn nodes(ctx: &Arc<Context>, cluster: &str) -> Result<Vec<KubeNode>, String> {
    let admin = ctx
        .admin()
        .await
        .map_err(|e| format!("cannot log in as the system administrator: {e}"))?;
    let found = clusters::find_cluster(&admin, cluster)
        .await
        .map_err(|e| e.to_string())?;
    let vapp = admin
        .get(&found.vapp_href)
        .await
        .map_err(|e| format!("cannot read the cluster's vApp: {e}"))?;
    let mut failures = Vec::new();
    for master in clusters::vms_of(&vapp)
        .into_iter()
        .filter(|vm| NodeType::classify(&vm.name) == Some(NodeType::Master))
    {
        let credentials = match cse_server::ops::credentials::of_cluster_vm(
            ctx,
            &admin,
            &master.href,
            &found.cluster.template,
        )
        .await
        {
            Ok(credentials) => credentials,
            Err(e) => {
                failures.push(format!("{}: {e}", master.name));
                continue;
            }
        };
        let target = match ctx.vcenters.target_for_vm(&admin, &master.href).await {
            Ok(target) => target,
            Err(e) => {
                failures.push(format!("{}: {e}", master.name));
                continue;
            }
        };
        let deadline = tokio::time::Instant::now()
            + ctx
                .config
                .timeouts
                .script
                .duration()
                .max(Duration::from_secs(5));
        match target
            .session
            .run_script(
                &target.vm,
                &credentials,
                GET_NODES,
                PollSettings::from_config(&ctx.config.timeouts),
                deadline,
            )
            .await
        {
            Ok(output) if output.exit_code == 0 => return Ok(parse_get_nodes(&output.stdout)),
            Ok(output) => failures.push(format!(
                "{}: kubectl exited with {}: {}",
                master.name,
                output.exit_code,
                output.stderr.trim()
            )),
            Err(e) => failures.push(format!("{}: {e}", master.name)),
        }
    }
    if failures.is_empty() {
        Err(format!("cluster '{cluster}' has no master VM"))
    } else {
        Err(failures.join("; "))
    }
}

/// Reads `kubectl get nodes` output (header line, then `NAME STATUS ...`).
pub fn parse_get_nodes(text: &str) -> Vec<KubeNode> {
    text.lines()
        .skip_while(|line| !line.trim_start().starts_with("NAME"))
        .skip(1)
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let name = words.next()?.to_owned();
            let status = words.next().unwrap_or_default();
            Some(KubeNode {
                name,
                ready: status.split(',').any(|s| s == "Ready"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_names_and_readiness() {
        let text = "NAME          STATUS     ROLES     AGE       VERSION\n\
                    mstr-ab12     Ready      master    5m        v1.10.11\n\
                    node-cd34     NotReady   <none>    1m        v1.10.11\n\
                    node-ef56     Ready,SchedulingDisabled   <none>   1m   v1.10.11\n";
        assert_eq!(
            parse_get_nodes(text),
            vec![
                KubeNode {
                    name: "mstr-ab12".into(),
                    ready: true
                },
                KubeNode {
                    name: "node-cd34".into(),
                    ready: false
                },
                KubeNode {
                    name: "node-ef56".into(),
                    ready: true
                },
            ]
        );
    }

    #[test]
    fn no_header_means_no_nodes() {
        assert!(parse_get_nodes("No resources found.\n").is_empty());
    }
}
