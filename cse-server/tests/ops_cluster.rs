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
    insta::assert_json_snapshot!("cluster_info", info, {
        ".vapp_id" => "[uuid]",
        ".vapp_href" => "[vapp href]",
        ".vdc_href" => "[vdc href]",
        ".cluster_id" => "[uuid]",
        ".cse_version" => "[version]",
        ".master_nodes[].name" => "[mstr-xxxx]",
        ".nodes[].name" => "[node-xxxx]",
        ".nfs_nodes[].name" => "[nfsd-xxxx]",
    });

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

fn vm_names(h: &Harness, vapp: &str) -> Vec<String> {
    let mut names: Vec<String> = h
        .sim
        .handle
        .state()
        .vms()
        .into_iter()
        .filter(|vm| vm.vapp == vapp)
        .map(|vm| vm.name)
        .collect();
    names.sort();
    names
}

fn master_moref(h: &Harness, vapp: &str) -> String {
    h.sim
        .handle
        .state()
        .vms()
        .into_iter()
        .find(|vm| vm.vapp == vapp && vm.name.starts_with("mstr-"))
        .and_then(|vm| vm.moref)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_are_added_joined_deleted_and_the_cluster_removed() {
    let h = start_ready().await;
    let alice = h.alice().await;
    let (task, cluster_id) = create(&h, &alice, "c2", 1, false).await;
    assert_eq!(h.wait_task(&task).await.0, "success");

    // add 2 workers
    let (status, body) = h
        .call(
            &alice,
            "POST",
            "/api/cse/c2/node",
            Some(json!({"name": "c2", "node_count": 2, "network": "net1", "node_type": "node"})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["cluster_name"], "c2");
    let (status, operation, error) = h.wait_task(body["task_href"].as_str().unwrap()).await;
    assert_eq!(status, "success", "{error}");
    assert_eq!(
        operation,
        format!("Added 2 node(s) to cluster c2({cluster_id})")
    );
    let names = vm_names(&h, "c2");
    assert_eq!(names.len(), 4, "{names:?}");
    let k8s = h.sim.guests.cluster_nodes(&master_moref(&h, "c2"));
    assert_eq!(k8s.len(), 4);
    assert!(k8s.iter().all(|n| n.ready), "{k8s:?}");

    // an NFS node
    let (status, body) = h
        .call(
            &alice,
            "POST",
            "/api/cse/c2/node",
            Some(json!({"node_count": 1, "network": "net1", "node_type": "nfsd"})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let (status, operation, _) = h.wait_task(body["task_href"].as_str().unwrap()).await;
    assert_eq!(status, "success");
    assert_eq!(operation, format!("Created 1 node(s) for c2({cluster_id})"));
    let nfs = vm_names(&h, "c2")
        .into_iter()
        .find(|n| n.starts_with("nfsd-"))
        .unwrap();
    let (status, info) = h
        .call(&alice, "GET", &format!("/api/cse/c2/{nfs}/info"), None)
        .await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["node_type"], "nfsd");
    assert!(info["exports"].is_array(), "{info}");

    // delete one worker
    let worker = vm_names(&h, "c2")
        .into_iter()
        .find(|n| n.starts_with("node-"))
        .unwrap();
    let (status, body) = h
        .call(
            &alice,
            "DELETE",
            "/api/cse/c2/node",
            Some(json!({"nodes": [worker.clone()], "force": false})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let (status, operation, error) = h.wait_task(body["task_href"].as_str().unwrap()).await;
    assert_eq!(status, "success", "{error}");
    assert_eq!(
        operation,
        format!("Deleted 1 node(s) to cluster c2({cluster_id})")
    );
    assert!(!vm_names(&h, "c2").contains(&worker));
    let k8s = h.sim.guests.cluster_nodes(&master_moref(&h, "c2"));
    assert!(k8s.iter().all(|n| n.name != worker), "{k8s:?}");
    assert!(
        !h.sim
            .handle
            .state()
            .vapp_metadata("c2")
            .unwrap()
            .contains_key("cse.op.lease")
    );

    // delete the cluster
    let (status, body) = h.call(&alice, "DELETE", "/api/cse/c2", None).await;
    assert_eq!(status, 202, "{body}");
    let (status, operation, _) = h.wait_task(body["task_href"].as_str().unwrap()).await;
    assert_eq!(status, "success");
    assert_eq!(operation, format!("Deleted cluster c2({cluster_id})"));
    assert!(vm_names(&h, "c2").is_empty());
    assert!(!h.sim.handle.state().vapp_names().contains(&"c2".to_owned()));
    let (status, list) = h.call(&alice, "GET", "/api/cse", None).await;
    assert_eq!((status, list), (200, json!([])));
    assert!(
        h.cse_tasks().iter().all(|(_, s)| s == "Success"),
        "{:?}",
        h.cse_tasks()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cpu_memory_storage_profile_and_ssh_key_are_applied() {
    let h = start_ready().await;
    let alice = h.alice().await;
    let (status, body) = h
        .call(
            &alice,
            "POST",
            "/api/cse",
            Some(
                json!({"name": "sized", "node_count": 0, "vdc": "vdc1", "network": "net1",
                        "cpu": 3, "memory": 3072, "storage_profile": "gold",
                        "ssh_key": "ssh-rsa AAAAB3Nza test@example"}),
            ),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let (status, _, error) = h.wait_task(body["task_href"].as_str().unwrap()).await;
    assert_eq!(status, "success", "{error}");
    let master = h
        .sim
        .handle
        .state()
        .vms()
        .into_iter()
        .find(|vm| vm.vapp == "sized")
        .unwrap();
    assert_eq!((master.cpus, master.memory_mb), (3, 3072));
    let keys = h
        .sim
        .guests
        .file(
            master.moref.as_deref().unwrap(),
            "/root/.ssh/authorized_keys",
        )
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    assert!(keys.contains("ssh-rsa AAAAB3Nza test@example"), "{keys:?}");
    let (status, info) = h
        .call(
            &alice,
            "GET",
            &format!("/api/cse/sized/{}/info", master.name),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(info["numberOfCpus"], 3);
    assert_eq!(info["memoryMB"], 3072);
    assert_eq!(info["node_type"], "master");
    assert_eq!(info["status"], "Powered on");
    assert!(info.get("exports").is_none());
    insta::assert_json_snapshot!("node_info_master", info, {".name" => "[mstr-xxxx]"});
}
