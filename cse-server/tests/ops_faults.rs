//! Failures inside operations: deadlines (tools never ready, a hanging
//! script, a guest refusing the password) end the task in error within the
//! configured time, with a text naming what went wrong, the work is
//! rolled back unless `disable_rollback`, failed node additions remove their
//! VMs, a worker that never joined needs `force` to be deleted.

mod support;

use std::time::{Duration, Instant};

use cse_core::config::Seconds;
use serde_json::json;
use support::{Harness, TEMPLATE_PASSWORD, prepare_template, start_with};
use vcd_sim::faults::FaultRule;
use vcd_sim::guest::{FaultScope, GuestFaultKind};

const DEADLINE: Duration = Duration::from_millis(1500);

async fn harness() -> Harness {
    let h = start_with(
        |b| b,
        |config| {
            config.timeouts.tools_ready = Seconds::from_millis(1500);
            config.timeouts.script = Seconds::from_millis(1500);
        },
    )
    .await;
    prepare_template(&h).await;
    h
}

async fn create(h: &Harness, token: &str, name: &str, nodes: u32, rollback: bool) -> String {
    let (status, body) = h
        .call(
            token,
            "POST",
            "/api/cse",
            Some(
                json!({"name": name, "node_count": nodes, "vdc": "vdc1", "network": "net1",
                        "disable_rollback": !rollback}),
            ),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    body["task_href"].as_str().unwrap().to_owned()
}

/// Faulty operations per test: 1, or 5 in the reliability suite's long form.
fn rounds() -> u32 {
    if support::figures::long_form() { 5 } else { 1 }
}

/// Records how long one faulty operation took to end in error, and its text.
fn record_round(fault: &str, took: Duration, error: &str) {
    support::figures::record(
        "R4",
        &format!(
            "{fault}: task ended in error after {} ms (deadline {} ms): \"{error}\"",
            took.as_millis(),
            DEADLINE.as_millis()
        ),
    );
}

fn vms_of(h: &Harness, vapp: &str) -> Vec<String> {
    h.sim
        .handle
        .state()
        .vms()
        .into_iter()
        .filter(|vm| vm.vapp == vapp)
        .map(|vm| vm.name)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_never_ready_fails_within_the_deadline_and_rolls_back() {
    let h = harness().await;
    h.sim
        .guests
        .add_fault(FaultRule::new(
            FaultScope::Global,
            GuestFaultKind::ToolsNeverReady,
        ))
        .expect("guest fault rule");
    let alice = h.alice().await;
    for round in 0..rounds() {
        let name = format!("slow{round}");
        let started = Instant::now();
        let task = create(&h, &alice, &name, 2, true).await;
        let (status, operation, error) = h.wait_task(&task).await;
        let took = started.elapsed();
        assert_eq!(status, "error");
        assert_eq!(operation, "create cluster");
        assert!(
            error.starts_with("Error while adding master node: ") && error.contains("not ready"),
            "{error}"
        );
        assert!(took < DEADLINE * 3, "the task ended after {took:?}");
        assert!(!h.sim.handle.state().vapp_names().contains(&name));
        assert!(vms_of(&h, &name).is_empty());
        record_round("tools never ready", took, &error);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_guest_password_fails_within_the_deadline_naming_the_refused_login() {
    let h = harness().await;
    h.sim
        .guests
        .add_fault(FaultRule::new(
            FaultScope::Global,
            GuestFaultKind::WrongCredentials,
        ))
        .expect("guest fault rule");
    let alice = h.alice().await;
    for round in 0..rounds() {
        let name = format!("locked{round}");
        let started = Instant::now();
        let task = create(&h, &alice, &name, 1, true).await;
        let (status, operation, error) = h.wait_task(&task).await;
        let took = started.elapsed();
        assert_eq!(status, "error");
        assert_eq!(operation, "create cluster");
        assert!(
            error.starts_with("Error while adding master node: ")
                && error.contains("InvalidGuestLogin"),
            "{error}"
        );
        assert!(!error.contains(TEMPLATE_PASSWORD), "{error}");
        assert!(took < DEADLINE * 3, "the task ended after {took:?}");
        assert!(!h.sim.handle.state().vapp_names().contains(&name));
        assert!(vms_of(&h, &name).is_empty());
        record_round("wrong guest password", took, &error);
    }
    assert!(h.cse_tasks().iter().all(|(_, s)| s != "Running"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_script_fails_within_the_deadline_and_disable_rollback_keeps_the_vapp() {
    let h = harness().await;
    h.sim
        .guests
        .add_fault(FaultRule::new(
            FaultScope::Global,
            GuestFaultKind::HangCommand {
                name: "kubeadm".into(),
            },
        ))
        .expect("guest fault rule");
    let alice = h.alice().await;
    for round in 0..rounds() {
        let name = format!("hang{round}");
        let started = Instant::now();
        let task = create(&h, &alice, &name, 1, false).await;
        let (status, _, error) = h.wait_task(&task).await;
        let took = started.elapsed();
        assert_eq!(status, "error");
        assert!(
            error.starts_with("Error while adding master node: ")
                && error.contains("did not finish within"),
            "{error}"
        );
        assert!(took < DEADLINE * 3, "the task ended after {took:?}");
        record_round("hanging script", took, &error);
        // disable_rollback: the vApp and its master stay, the journal is gone.
        let vms = vms_of(&h, &name);
        assert_eq!(vms.len(), 1, "{vms:?}");
        let metadata = h.sim.handle.state().vapp_metadata(&name).unwrap();
        assert!(!metadata.contains_key("cse.op.journal"), "{metadata:?}");
        assert!(metadata.contains_key("cse.cluster.id"));
        // kubeadm never finished: no kubeconfig to hand out.
        let path = format!("/api/cse/{name}/config");
        let (status, body) = h.call(&alice, "GET", &path, None).await;
        assert_eq!(status, 500);
        assert_eq!(body["message"], "Couldn't get cluster configuration");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_node_additions_remove_their_vms_and_unjoined_nodes_need_force() {
    let h = harness().await;
    let alice = h.alice().await;
    let task = create(&h, &alice, "c3", 0, true).await;
    assert_eq!(h.wait_task(&task).await.0, "success");
    h.sim
        .guests
        .add_fault(FaultRule::new(
            FaultScope::Global,
            GuestFaultKind::HangCommand {
                name: "kubeadm".into(),
            },
        ))
        .expect("guest fault rule");
    let (status, body) = h
        .call(
            &alice,
            "POST",
            "/api/cse/c3/node",
            Some(json!({"node_count": 2, "network": "net1"})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let (status, operation, error) = h.wait_task(body["task_href"].as_str().unwrap()).await;
    assert_eq!(
        (status.as_str(), operation.as_str()),
        ("error", "create nodes in cluster")
    );
    assert!(!error.is_empty());
    assert_eq!(vms_of(&h, "c3").len(), 1, "the two new VMs were removed");
    h.sim.guests.remove_faults(&FaultScope::Global);

    // A worker that never joined: kubectl fails, force deletes anyway.
    h.sim
        .guests
        .add_fault(FaultRule::new(
            FaultScope::Global,
            GuestFaultKind::HangCommand {
                name: "kubeadm".into(),
            },
        ))
        .expect("guest fault rule");
    let (status, body) = h
        .call(
            &alice,
            "POST",
            "/api/cse/c3/node",
            Some(json!({"node_count": 1, "network": "net1", "disable_rollback": true})),
        )
        .await;
    assert_eq!(status, 202);
    let (status, _, _) = h.wait_task(body["task_href"].as_str().unwrap()).await;
    h.sim.guests.remove_faults(&FaultScope::Global);
    assert_eq!(status, "error");
    let stray: Vec<String> = vms_of(&h, "c3")
        .into_iter()
        .filter(|n| n.starts_with("node-"))
        .collect();
    assert_eq!(stray.len(), 1, "disable_rollback keeps the VM");
    let (status, body) = h
        .call(
            &alice,
            "DELETE",
            "/api/cse/c3/node",
            Some(json!({"nodes": stray.clone()})),
        )
        .await;
    assert_eq!(status, 202);
    let (status, _, error) = h.wait_task(body["task_href"].as_str().unwrap()).await;
    assert_eq!(status, "error");
    assert!(error.starts_with("Couldn't delete node(s):\n"), "{error}");
    assert_eq!(vms_of(&h, "c3").len(), 2, "nothing deleted without force");
    let (status, body) = h
        .call(
            &alice,
            "DELETE",
            "/api/cse/c3/node",
            Some(json!({"nodes": stray.clone(), "force": true})),
        )
        .await;
    assert_eq!(status, 202);
    assert_eq!(
        h.wait_task(body["task_href"].as_str().unwrap()).await.0,
        "success"
    );
    assert_eq!(vms_of(&h, "c3").len(), 1);
    assert!(h.cse_tasks().iter().all(|(_, s)| s != "Running"));
}
