//! The administrator's path into service, end to end: `cse install` from zero
//! on a fresh simulator, `cse check -i` says the installation is valid, and a
//! tenant then creates a cluster from the template install built — no test
//! shortcut prepares the template.

mod cli_support;
mod support;

use std::sync::Arc;

use cli_support::Env;
use cse_server::context::Context;
use cse_server::handlers::Operations;
use serde_json::json;
use support::Harness;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_creates_a_cluster_from_the_template_cse_install_built() {
    let env = Env::start().await;
    let (code, out) = env.cse(&["check", "-i"]).await;
    assert_ne!(code, 0, "nothing is installed yet: {out}");

    let (code, out) = env.cse(&["install", "--yes"]).await;
    assert_eq!(code, 0, "{out}");
    let (code, out) = env.cse(&["check", "-i"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("CSE installation is valid"), "{out}");

    // The server runs on the config install used, with the simulator's
    // instant clock mirrored by short polls.
    let mut config = env.config();
    config.timeouts = cse_core::config::Timeouts::default().scaled_down(100);
    // A lease claim's metadata write is an HTTP exchange and takes real
    // time: its settle stays real, capped by the scaled lease (ttl / 8).
    config.timeouts.lease_claim_settle = cse_core::config::Timeouts::default().lease_claim_settle;
    config.timeouts.vcd_task_poll_interval = cse_core::config::Seconds::from_millis(5);
    config.timeouts.guest_ops_poll_interval = cse_core::config::Seconds::from_millis(5);
    let Env {
        sim,
        dir,
        config_path,
        ..
    } = env;
    let context = Context::new(config.clone(), config_path.display().to_string()).unwrap();
    let h = Harness {
        sim,
        config,
        ops: Operations::new(Arc::new(context)),
    };

    let alice = h.alice().await;
    let (status, templates) = h.call(&alice, "GET", "/api/cse/template", None).await;
    assert_eq!(status, 200, "{templates}");
    assert_eq!(templates[0]["catalog_item"], cli_support::TEMPLATE_ITEM);

    let (status, body) = h
        .call(
            &alice,
            "POST",
            "/api/cse",
            Some(
                json!({"name": "prod", "node_count": 1, "vdc": "vdc1", "network": "net1",
                        "enable_nfs": false, "cpu": null, "memory": null,
                        "storage_profile": null, "ssh_key": null, "template": null}),
            ),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let (status, operation, error) = h.wait_task(body["task_href"].as_str().unwrap()).await;
    assert_eq!(status, "success", "{operation}: {error}");

    let (status, info) = h.call(&alice, "GET", "/api/cse/prod/info", None).await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["master_nodes"].as_array().unwrap().len(), 1);
    assert_eq!(info["nodes"].as_array().unwrap().len(), 1);

    // Both nodes joined and Ready in the simulated guests.
    let master_vm = h
        .sim
        .handle
        .state()
        .vms()
        .into_iter()
        .find(|vm| vm.name.starts_with("mstr-"))
        .unwrap();
    let nodes = h
        .sim
        .guests
        .cluster_nodes(master_vm.moref.as_deref().unwrap());
    assert_eq!(nodes.len(), 2, "{nodes:?}");
    assert!(nodes.iter().all(|n| n.ready), "{nodes:?}");

    let (status, kubeconfig) = h.call(&alice, "GET", "/api/cse/prod/config", None).await;
    assert_eq!(status, 200);
    assert!(
        kubeconfig
            .as_str()
            .unwrap_or_default()
            .contains("clusters:"),
        "{kubeconfig}"
    );
    drop(dir);
}
