//! Cluster and node operations end to end against the simulator: create
//! (master, workers, NFS → Kubernetes nodes Ready, kubeconfig), add and
//! delete nodes, delete the cluster, with every task stage reported.

mod support;

use serde_json::json;
use support::{Harness, start_ready};

async fn create(h: &Harness, token: &str, name: &str, nodes: u32, nfs: bool) -> (String, String) {
    let (status, body) = h
        .call(
            token,
            "POST",
            "/api/cse",
            Some(
                json!({"name": name, "node_count": nodes, "vdc": "vdc1", "network": "net1",
                        "enable_nfs": nfs, "cpu": null, "memory": null, "storage_profile": null,
                        "ssh_key": null, "template": null}),
            ),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["name"], name);
    (
        body["task_href"].as_str().unwrap().to_owned(),
        body["cluster_id"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_with_workers_and_nfs_is_ready_and_serves_its_kubeconfig() {
    let h = start_ready().await;
    let alice = h.alice().await;
    let (task, cluster_id) = create(&h, &alice, "c1", 2, true).await;
    let (status, operation, error) = h.wait_task(&task).await;
    assert_eq!(status, "success", "{error}");
    assert_eq!(operation, format!("Created cluster c1({cluster_id})"));

    let (status, info) = h.call(&alice, "GET", "/api/cse/c1/info", None).await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["master_nodes"].as_array().unwrap().len(), 1);
    assert_eq!(info["nodes"].as_array().unwrap().len(), 2);
    assert_eq!(info["nfs_nodes"].as_array().unwrap().len(), 1);
    assert_eq!(info["cluster_id"], cluster_id.as_str());
    assert_eq!(info["template"], support::TEMPLATE);
    let master_ip = info["master_nodes"][0]["ipAddress"].as_str().unwrap();
    assert_eq!(info["leader_endpoint"], master_ip);

    // Kubernetes: every node Ready in the guests.
    let metadata = h.sim.handle.state().vapp_metadata("c1").unwrap();
    assert!(!metadata.contains_key("cse.op.journal"), "journal cleared");
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
    assert_eq!(nodes.len(), 3, "{nodes:?}");
    assert!(nodes.iter().all(|n| n.ready), "{nodes:?}");

    let (status, config) = h.call(&alice, "GET", "/api/cse/c1/config", None).await;
    assert_eq!(status, 200, "{config}");
    let text = config.as_str().unwrap();
    assert!(
        text.contains("apiVersion: v1") && text.contains(master_ip),
        "{text}"
    );
}
