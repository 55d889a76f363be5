//! vCD misbehaving during a batch of cluster operations (RELIABILITY.md R3):
//! the simulator's REST fault rules answer about 10% of the server's vCD
//! requests with a 5xx and delay every one, and the server's vCD session is
//! ended again and again while the operations run. Every operation ends in
//! success or a clean error (a message, no Rust internals), no task is left
//! running and every task's end is written once.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use support::{Harness, prepare_template, start};
use vcd_sim::faults::FaultRule;
use vcd_sim::rest::faults::{HttpMatch, HttpStatus};

/// Batches of operations: 1, or 4 in the reliability suite's long form.
fn rounds() -> u32 {
    if support::figures::long_form() { 4 } else { 1 }
}

/// Texts an error shown to a tenant must never contain: Rust internals.
const RAW: &[&str] = &[
    "panicked",
    "backtrace",
    "RUST_BACKTRACE",
    ".rs:",
    "Error {",
    "Some(",
    "called `",
];

fn assert_clean(what: &str, message: &str) {
    assert!(!message.trim().is_empty(), "{what}: an empty error");
    for raw in RAW {
        assert!(
            !message.contains(raw),
            "{what}: the error shows `{raw}`: {message}"
        );
    }
}

/// An operation's request: accepted with a task, or refused with a clean error.
fn accepted(what: &str, status: u16, body: &serde_json::Value) -> Option<String> {
    if status == 202 {
        return Some(body["task_href"].as_str().expect("task_href").to_owned());
    }
    assert!(
        (400..600).contains(&status),
        "{what}: status {status}: {body}"
    );
    let message = body["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: an error without a message: {body}"));
    assert_clean(what, message);
    eprintln!("{what}: refused with {status}: {message}");
    None
}

/// Waits (on the simulator's state, not through the faulty REST API) until
/// no CSE task runs or is queued.
async fn settle(h: &Harness) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let running = h
            .cse_tasks()
            .into_iter()
            .filter(|(_, s)| s == "Running" || s == "Queued" || s == "PreRunning")
            .count();
        if running == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{running} tasks still running after 120 s: {:?}",
            h.cse_tasks()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_under_vcd_5xx_latency_and_expiring_sessions_end_in_success_or_a_clean_error() {
    let _ = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_test_writer()
        .try_init();
    let h = start().await;
    prepare_template(&h).await;
    let alice = h.alice().await;
    let admin = h.ctx().admin().await.expect("the server's vCD session");

    let faults = h.sim.http_faults();
    let rules = [
        faults
            .add(FaultRule::new(HttpMatch::default(), HttpStatus(503)).with_probability(0.05))
            .expect("503 rule"),
        faults
            .add(FaultRule::new(HttpMatch::default(), HttpStatus(500)).with_probability(0.05))
            .expect("500 rule"),
        faults
            .add(FaultRule::delay_only(
                HttpMatch::default(),
                Duration::from_millis(15),
            ))
            .expect("latency rule"),
    ];

    // The server's session ends every 400 ms while the operations run (as
    // when vCD's idle timeout or an administrator ends it).
    let stop = Arc::new(AtomicBool::new(false));
    let expiries = {
        let (stop, admin, state) = (stop.clone(), admin.clone(), h.sim.handle.state().clone());
        tokio::spawn(async move {
            let mut ended = 0u32;
            while !stop.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(400)).await;
                if state.logout(admin.token().secret().expose()) {
                    ended += 1;
                }
            }
            ended
        })
    };

    let started = Instant::now();
    let (mut accepted_ops, mut refused) = (0u32, 0u32);
    for round in 0..rounds() {
        let names: Vec<String> = (0..3).map(|i| format!("r{round}c{i}")).collect();
        let mut tasks = Vec::new();
        for name in &names {
            let (status, body) = h
                .call(
                    &alice,
                    "POST",
                    "/api/cse",
                    Some(json!({"name": name, "node_count": 1, "vdc": "vdc1", "network": "net1"})),
                )
                .await;
            match accepted(&format!("create {name}"), status, &body) {
                Some(task) => tasks.push(task),
                None => refused += 1,
            }
        }
        accepted_ops += tasks.len() as u32;
        settle(&h).await;
        // Then a node added to and each cluster deleted, whatever its create did.
        for name in &names {
            let (status, body) = h
                .call(
                    &alice,
                    "POST",
                    &format!("/api/cse/{name}/node"),
                    Some(json!({"node_count": 1, "network": "net1"})),
                )
                .await;
            match accepted(&format!("add a node to {name}"), status, &body) {
                Some(_) => accepted_ops += 1,
                None => refused += 1,
            }
        }
        settle(&h).await;
        for name in &names {
            let (status, body) = h
                .call(&alice, "DELETE", &format!("/api/cse/{name}"), None)
                .await;
            match accepted(&format!("delete {name}"), status, &body) {
                Some(_) => accepted_ops += 1,
                None => refused += 1,
            }
        }
        settle(&h).await;
    }
    let took = started.elapsed();
    stop.store(true, Ordering::SeqCst);
    let sessions_ended = expiries.await.expect("the expiring task");
    let requests = faults.stats().requests;
    // The latency rule takes part in every request: count the 5xx rules' hits.
    let faulted = faults.hits(rules[0]) + faults.hits(rules[1]);
    for rule in rules {
        faults.remove(rule);
    }

    let tasks: Vec<_> = h
        .sim
        .handle
        .state()
        .task_list()
        .into_iter()
        .filter(|t| {
            matches!(
                t.operation_name.as_str(),
                "create_cluster" | "delete_cluster" | "create_nodes" | "delete_nodes"
            )
        })
        .collect();
    let mut succeeded = 0u32;
    for task in &tasks {
        let status = format!("{:?}", task.status);
        assert!(
            status == "Success" || status == "Error",
            "task {} ({}) ended as {status}",
            task.id,
            task.operation
        );
        assert_eq!(task.terminal_updates, 1, "{} ended once", task.operation);
        match &task.error {
            Some(message) => {
                assert_clean(&task.operation, message);
                eprintln!("{}: ended in error: {message}", task.operation);
            }
            None => succeeded += 1,
        }
    }
    assert_eq!(tasks.len() as u32, accepted_ops, "one task per accepted op");
    assert!(sessions_ended > 0, "the server's session was ended");
    assert!(faulted > 0, "vCD answered with injected 5xx");
    support::figures::record(
        "R3",
        &format!(
            "{} operations in {:.1} s: {} accepted ({succeeded} succeeded, {} ended in a clean error), {refused} refused with a clean error; {faulted} injected 5xx in {} vCD requests (each 15 ms late), {sessions_ended} sessions ended, {} renewals by the server; tasks left running 0",
            accepted_ops + refused,
            took.as_secs_f64(),
            accepted_ops,
            accepted_ops - succeeded,
            requests,
            admin.renewals(),
        ),
    );
}
