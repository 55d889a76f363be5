//! Root passwords of cluster VMs: by default vCD generates one per VM and the
//! server reads it whenever it needs guest operations, so no two VMs (and no
//! two tenants) share one and the template's `admin_password` stays on the
//! template; `broker.node_root_password: template` keeps the 1.2.x behaviour.

mod support;

use cse_core::config::NodeRootPassword;
use serde_json::json;
use support::{Harness, TEMPLATE_PASSWORD, prepare_template, start_with};

async fn create_and_grow(h: &Harness, token: &str, name: &str) {
    let (status, body) = h
        .call(
            token,
            "POST",
            "/api/cse",
            Some(
                json!({"name": name, "node_count": 2, "vdc": "vdc1", "network": "net1",
                        "enable_nfs": true}),
            ),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let (status, _, error) = h.wait_task(body["task_href"].as_str().unwrap()).await;
    assert_eq!(status, "success", "{error}");
    let (status, body) = h
        .call(
            token,
            "POST",
            &format!("/api/cse/{name}/node"),
            Some(json!({"node_count": 1, "network": "net1"})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let (status, _, error) = h.wait_task(body["task_href"].as_str().unwrap()).await;
    assert_eq!(status, "success", "{error}");
}

/// (VM name, root password the guest accepts) for every VM of vApp `vapp`.
fn root_passwords(h: &Harness, vapp: &str) -> Vec<(String, String)> {
    let vms: Vec<_> = h
        .sim
        .handle
        .state()
        .vms()
        .into_iter()
        .filter(|vm| vm.vapp == vapp)
        .collect();
    let guests = h.sim.guests.lock();
    vms.into_iter()
        .map(|vm| {
            let guest = guests.vm(vm.moref.as_deref().unwrap()).unwrap();
            assert!(
                guest.disk.users.verify("root", &vm.admin_password),
                "{}: the guest's root password is the one vCD reports",
                vm.name
            );
            (vm.name, vm.admin_password)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_vm_gets_its_own_generated_root_password() {
    let h = start_with(|b| b, |_| {}).await;
    prepare_template(&h).await;
    let alice = h.alice().await;
    let carol = h.carol().await;
    create_and_grow(&h, &alice, "gen1").await;
    create_and_grow(&h, &carol, "gen2").await;

    let mut all = root_passwords(&h, "gen1");
    assert_eq!(all.len(), 5, "master, 3 workers, nfs: {all:?}");
    all.extend(root_passwords(&h, "gen2"));
    let mut passwords: Vec<&str> = all.iter().map(|(_, p)| p.as_str()).collect();
    assert!(
        passwords
            .iter()
            .all(|p| *p != TEMPLATE_PASSWORD && p.len() >= 8)
    );
    passwords.sort_unstable();
    passwords.dedup();
    assert_eq!(passwords.len(), all.len(), "no two VMs share a password");

    // Everything that needs the guests still works with per-VM passwords.
    let (status, config) = h.call(&alice, "GET", "/api/cse/gen1/config", None).await;
    assert_eq!(status, 200, "{config}");
    let (_, info) = h.call(&alice, "GET", "/api/cse/gen1/info", None).await;
    let nfs = info["nfs_nodes"][0]["name"].as_str().unwrap().to_owned();
    let (status, node) = h
        .call(&alice, "GET", &format!("/api/cse/gen1/{nfs}/info"), None)
        .await;
    assert_eq!(status, 200, "{node}");
    let worker = info["nodes"][0]["name"].as_str().unwrap().to_owned();
    let (status, body) = h
        .call(
            &alice,
            "DELETE",
            "/api/cse/gen1/node",
            Some(json!({"nodes": [worker]})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let (status, _, error) = h.wait_task(body["task_href"].as_str().unwrap()).await;
    assert_eq!(status, "success", "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_template_setting_keeps_the_shared_password_of_1_2() {
    let h = start_with(
        |b| b,
        |config| config.broker.node_root_password = NodeRootPassword::Template,
    )
    .await;
    prepare_template(&h).await;
    let alice = h.alice().await;
    create_and_grow(&h, &alice, "shared").await;
    let guests = h.sim.guests.lock();
    let vms: Vec<_> = h
        .sim
        .handle
        .state()
        .vms()
        .into_iter()
        .filter(|vm| vm.vapp == "shared")
        .collect();
    assert_eq!(vms.len(), 5);
    for vm in vms {
        let guest = guests.vm(vm.moref.as_deref().unwrap()).unwrap();
        assert!(
            guest.disk.users.verify("root", TEMPLATE_PASSWORD),
            "{}: root has the template's password",
            vm.name
        );
    }
}
