//! Bounded inputs against the simulator: a create or node create asking for billions of VMs,
//! more names than exist, or more than the configured limits is refused at once with a 400
//! naming the field, the value and the limit, no task is started, and the server keeps
//! answering every tenant. A file the server reads from a cluster VM (whose root is the
//! tenant) is refused past `limits.max_guest_file_bytes` instead of being read whole.

mod support;

use serde_json::{Value, json};
use support::{Harness, prepare_template, start_with};

fn message(body: &Value) -> &str {
    body["message"].as_str().unwrap_or_default()
}

async fn harness() -> Harness {
    let h = start_with(|b| b, |config| config.limits.max_cluster_vms = 4).await;
    prepare_template(&h).await;
    h
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_node_counts_are_refused_at_once_and_other_tenants_are_served() {
    let h = harness().await;
    let alice = h.alice().await;
    let carol = h.carol().await;
    let tasks_before = h.cse_tasks().len();

    for n in [2_147_483_648_u64, 1_700_000, 51] {
        let (status, body) = h
            .call(
                &alice,
                "POST",
                "/api/cse",
                Some(json!({"name": "huge", "node_count": n, "vdc": "vdc1", "network": "net1"})),
            )
            .await;
        assert_eq!(
            (status, message(&body)),
            (
                400,
                format!(
                    "Invalid node_count: {n} is over the limit of 50 VMs per request (limits.max_node_count)."
                )
                .as_str()
            ),
            "{body}"
        );
        // Every other tenant, and the same one, is answered at once.
        let (status, list) = h.call(&carol, "GET", "/api/cse", None).await;
        assert_eq!((status, list), (200, json!([])));
    }
    // The configured cluster size counts the master and the NFS node.
    let (status, body) = h
        .call(
            &alice,
            "POST",
            "/api/cse",
            Some(json!({"name": "big", "node_count": 3, "enable_nfs": true, "vdc": "vdc1", "network": "net1"})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        message(&body),
        "Invalid node_count: 3 (a cluster of 5 VMs with the master and the NFS node) is over the limit of 4 VMs per cluster (limits.max_cluster_vms)."
    );
    assert_eq!(h.cse_tasks().len(), tasks_before, "no task was started");

    // A cluster of 2 VMs: adding 3 would make 5, over the limit of 4.
    let (status, body) = h
        .call(
            &alice,
            "POST",
            "/api/cse",
            Some(json!({"name": "c1", "node_count": 1, "vdc": "vdc1", "network": "net1"})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let (state, _, error) = h.wait_task(body["task_href"].as_str().unwrap()).await;
    assert_eq!(state, "success", "{error}");
    let tasks_before = h.cse_tasks().len();
    for (n, text) in [
        (
            2_147_483_648_u64,
            "Invalid node_count: 2147483648 is over the limit of 50 VMs per request (limits.max_node_count).",
        ),
        (
            3,
            "Invalid node_count: 3. Cluster 'c1' has 2 VMs and can have at most 4 (limits.max_cluster_vms).",
        ),
    ] {
        let (status, body) = h
            .call(
                &alice,
                "POST",
                "/api/cse/c1/node",
                Some(json!({"node_count": n, "network": "net1"})),
            )
            .await;
        assert_eq!((status, message(&body)), (400, text), "{body}");
    }
    let names: Vec<String> = (0..101).map(|i| format!("node-{i:04}")).collect();
    let (status, body) = h
        .call(
            &alice,
            "DELETE",
            "/api/cse/c1/node",
            Some(json!({"nodes": names})),
        )
        .await;
    assert_eq!(
        (status, message(&body)),
        (
            400,
            "Invalid nodes: 101 names is over the limit of 100 nodes per request (limits.max_delete_nodes)."
        ),
        "{body}"
    );
    assert_eq!(h.cse_tasks().len(), tasks_before, "no task was started");

    // The cluster is idle and can be deleted; the other tenant is still served.
    let (status, list) = h.call(&carol, "GET", "/api/cse", None).await;
    assert_eq!((status, list), (200, json!([])));
    let (status, body) = h.call(&alice, "DELETE", "/api/cse/c1", None).await;
    assert_eq!(status, 202, "{body}");
    let (state, _, error) = h.wait_task(body["task_href"].as_str().unwrap()).await;
    assert_eq!(state, "success", "{error}");
}

/// Puts `content` at `path` on the master of cluster `cluster`, as the tenant can (it has
/// root in its VMs).
fn write_on_master(h: &Harness, cluster: &str, path: &str, content: Vec<u8>) {
    let master = h
        .sim
        .handle
        .state()
        .vms()
        .into_iter()
        .find(|vm| vm.vapp == cluster && vm.name.starts_with("mstr-"))
        .and_then(|vm| vm.moref)
        .expect("the cluster's master");
    let mut guests = h.sim.guests.lock();
    let now = guests.now();
    let vm = guests.vms.get_mut(&master).expect("the master's guest");
    vm.disk
        .fs
        .write(path, content, vcd_sim::guest::fs::Actor::ROOT, 0o600, now)
        .expect("root writes the file");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kubeconfig_past_the_guest_file_limit_is_refused_not_read() {
    let h = start_with(|b| b, |config| config.limits.max_guest_file_bytes = 4096).await;
    prepare_template(&h).await;
    let alice = h.alice().await;
    h.create_cluster(&alice, "k1", 0).await;

    // At the limit, the file is read and handed out.
    let at_limit = format!("# {}\n", "k".repeat(4096 - 3));
    assert_eq!(at_limit.len(), 4096);
    write_on_master(
        &h,
        "k1",
        "/root/.kube/config",
        at_limit.clone().into_bytes(),
    );
    let (status, body) = h.call(&alice, "GET", "/api/cse/k1/config", None).await;
    assert_eq!((status, body), (200, json!(at_limit)));

    // One byte more (the tenant could as well write gigabytes) and it is not read.
    write_on_master(&h, "k1", "/root/.kube/config", vec![b'k'; 4097]);
    let (status, body) = h.call(&alice, "GET", "/api/cse/k1/config", None).await;
    assert_eq!(
        (status, message(&body)),
        (500, "Couldn't get cluster configuration"),
        "{body}"
    );
    // The server goes on serving.
    let (status, list) = h.call(&alice, "GET", "/api/cse", None).await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
}
