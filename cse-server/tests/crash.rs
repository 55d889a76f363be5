//! Crash safety with a real `cse run` process: the server is killed with
//! SIGKILL at many points of a cluster create, of a node addition and of a
//! node deletion, then started again. Every operation must end in success or
//! error, no VM may be left that no cluster owns, and no task may stay
//! running. Requests travel through the simulator's extension routing over
//! RabbitMQ (the broker of `CSE_TEST_AMQP_URL`).

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::Harness;
use support::process::tenant_call;

/// Retries until the (re)started server answers.
async fn call_until_answered(
    h: &Harness,
    token: &str,
    method: &str,
    path: &str,
    body: Value,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, reply) = tenant_call(h, token, method, path, Some(body.clone())).await;
        if status == 202 {
            return reply;
        }
        assert!(
            Instant::now() < deadline,
            "{method} {path}: {status} {reply}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the task's text contains `stage`; false if it ended first.
async fn wait_for_stage(h: &Harness, task_href: &str, stage: &str) -> bool {
    let id = task_href.rsplit('/').next().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let task = h
            .sim
            .handle
            .state()
            .task_list()
            .into_iter()
            .find(|t| t.id.to_string() == id)
            .expect("the task exists");
        if format!("{:?}", task.status) != "Running" {
            return false;
        }
        if task.operation.contains(stage) {
            return true;
        }
        assert!(Instant::now() < deadline, "stage '{stage}' never reached");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Checks the world once the operations' clean-up is done: journals are
/// removed after their tasks end, so this waits (10 s at most) for them.
async fn assert_consistent(h: &Harness) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let state = h.sim.handle.state();
        let journaled = state.vapp_names().into_iter().any(|vapp| {
            state
                .vapp_metadata(&vapp)
                .is_some_and(|m| m.contains_key("cse.op.journal"))
        });
        if !journaled || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let state = h.sim.handle.state();
    for (operation, status) in h.cse_tasks() {
        assert_ne!(status, "Running", "task {operation} still running");
    }
    for vm in state.vms() {
        let metadata = state.vapp_metadata(&vm.vapp).unwrap_or_default();
        assert!(
            metadata.contains_key("cse.cluster.id"),
            "VM {} in vApp {} belongs to no cluster",
            vm.name,
            vm.vapp
        );
    }
    for vapp in state.vapp_names() {
        let metadata = state.vapp_metadata(&vapp).unwrap_or_default();
        assert!(
            !metadata.contains_key("cse.op.journal"),
            "{vapp} still has a journal"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_servers_leave_no_running_task_and_no_orphan_vm() {
    let Some(mut rig) = support::process::Rig::start(0.008).await else {
        return;
    };
    let h = &rig.h;
    let server = &mut rig.server;
    let alice = h.alice().await;
    let mut kills = 0;
    let mut outcomes: Vec<String> = Vec::new();

    // Create, killed at each stage.
    let stages = [
        "Creating cluster vApp",
        "Creating master node",
        "Initializing cluster",
        "Creating 2 node(s)",
        "Adding 2 node(s) to",
        "Creating NFS node",
    ];
    for (n, stage) in stages.iter().enumerate() {
        let name = format!("k{n}");
        let reply = call_until_answered(
            h,
            &alice,
            "POST",
            "/api/cse",
            json!({"name": name, "node_count": 2, "vdc": "vdc1", "network": "net1", "enable_nfs": true}),
        )
        .await;
        let task = reply["task_href"].as_str().unwrap().to_owned();
        if wait_for_stage(h, &task, stage).await {
            server.kill();
            kills += 1;
        }
        server.kill();
        server.start();
        let (status, _, error) = h.wait_task(&task).await;
        outcomes.push(format!("{stage}: kills={kills} {status} {error}"));
        assert!(status == "error" || status == "success", "{status}");
        if status == "error" {
            assert!(
                !h.sim.handle.state().vapp_names().contains(&name),
                "{name} rolled back: {error}"
            );
        }
        assert_consistent(h).await;
    }

    // A cluster to work on.
    let reply = call_until_answered(
        h,
        &alice,
        "POST",
        "/api/cse",
        json!({"name": "base", "node_count": 1, "vdc": "vdc1", "network": "net1"}),
    )
    .await;
    assert_eq!(
        h.wait_task(reply["task_href"].as_str().unwrap()).await.0,
        "success"
    );

    // Add nodes, killed while adding and while joining.
    for stage in ["Creating 1 node(s)", "Adding 1 node(s) to base"] {
        let before = h.sim.handle.state().vm_count("base").unwrap();
        let reply = call_until_answered(
            h,
            &alice,
            "POST",
            "/api/cse/base/node",
            json!({"node_count": 1, "network": "net1"}),
        )
        .await;
        let task = reply["task_href"].as_str().unwrap().to_owned();
        if wait_for_stage(h, &task, stage).await {
            server.kill();
            kills += 1;
        }
        server.kill();
        server.start();
        let (status, _, error) = h.wait_task(&task).await;
        outcomes.push(format!("{stage}: kills={kills} {status} {error}"));
        let after = h.sim.handle.state().vm_count("base").unwrap();
        match status.as_str() {
            "error" => assert_eq!(after, before, "the new VM was removed"),
            "success" => assert_eq!(after, before + 1),
            other => panic!("{other}"),
        }
        assert_consistent(h).await;
    }

    // Delete nodes, killed in Kubernetes and while deleting VMs.
    for stage in ["Deleting 1 node(s) from base", "Deleting 1 VM(s)"] {
        let (_, info) = tenant_call(h, &alice, "GET", "/api/cse/base/info", None).await;
        let worker = info["nodes"][0]["name"].as_str().map(str::to_owned);
        let Some(worker) = worker else {
            let reply = call_until_answered(
                h,
                &alice,
                "POST",
                "/api/cse/base/node",
                json!({"node_count": 1, "network": "net1"}),
            )
            .await;
            assert_eq!(
                h.wait_task(reply["task_href"].as_str().unwrap()).await.0,
                "success"
            );
            continue;
        };
        let reply = call_until_answered(
            h,
            &alice,
            "DELETE",
            "/api/cse/base/node",
            json!({"nodes": [worker.clone()], "force": true}),
        )
        .await;
        let task = reply["task_href"].as_str().unwrap().to_owned();
        if wait_for_stage(h, &task, stage).await {
            server.kill();
            kills += 1;
        }
        server.kill();
        server.start();
        let (status, _, error) = h.wait_task(&task).await;
        assert_eq!(
            status, "success",
            "deletes are completed after a crash: {error}"
        );
        assert!(
            !h.sim
                .handle
                .state()
                .vms()
                .iter()
                .any(|vm| vm.name == worker)
        );
        assert_consistent(h).await;
    }
    server.kill();
    let log = server.log_text();
    assert!(
        kills >= 5,
        "only {kills} kills landed mid-operation: {outcomes:#?}\n{log}"
    );
    assert!(
        !log.contains(h.config.vcd.password.as_ref().map_or("", |p| p.expose())),
        "no secret in the logs"
    );
    assert!(
        !log.contains(support::TEMPLATE_PASSWORD),
        "no secret in the logs"
    );
    rig.cleanup().await;
}
