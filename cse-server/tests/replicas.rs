//! Several server replicas on one vCD: an operation whose server is killed
//! (its runtime dropped: tasks aborted, no graceful drain) at a journaled
//! step is taken over by exactly one of three other replicas whose resume
//! passes run at the same moment, and its task ends exactly once.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use cse_core::ext::{ExtRequest, ExtRequestBuilder};
use cse_server::amqp::Handler;
use cse_server::context::Context;
use cse_server::handlers::Operations;
use cse_server::ops::resume::{self, ResumeReport};
use serde_json::{Value, json};
use support::{API, Harness, decode, prepare_template, start_with};
use vcd_sim::clock::Clock;

/// A cluster vApp's metadata: key → value.
type Metadata = std::collections::BTreeMap<String, String>;

fn request(token: &str, method: &str, path: &str, body: Option<Value>) -> ExtRequest {
    let mut builder = ExtRequestBuilder::new(uuid::Uuid::new_v4().to_string(), method, path)
        .header("Accept", format!("application/*+json;version={API}"))
        .header("x-vcloud-authorization", token);
    if let Some(body) = body {
        builder = builder.body(serde_json::to_vec(&body).unwrap());
    }
    builder.build()
}

/// A server replica on a runtime of its own, so that killing it aborts
/// everything it runs at once.
struct Killable {
    runtime: Option<tokio::runtime::Runtime>,
    ops: Arc<Operations>,
}

impl Killable {
    fn start(h: &Harness) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let context = Context::new(h.config.clone(), "owner/config.yaml").unwrap();
        Killable {
            runtime: Some(runtime),
            ops: Arc::new(Operations::new(Arc::new(context))),
        }
    }

    async fn call(&self, request: ExtRequest) -> (u16, Value) {
        let ops = self.ops.clone();
        let reply = self
            .runtime
            .as_ref()
            .unwrap()
            .spawn(async move { ops.handle(request).await })
            .await
            .unwrap();
        decode(&reply)
    }

    /// Stops abruptly: every task of the runtime is dropped where it is.
    fn kill(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Three replicas' contexts on the test's runtime (their resume passes are
/// called by the test, all at once).
fn replicas(h: &Harness) -> Vec<Arc<Context>> {
    (0..3)
        .map(|n| {
            Arc::new(Context::new(h.config.clone(), format!("replica-{n}/config.yaml")).unwrap())
        })
        .collect()
}

fn task_summary(h: &Harness, href: &str) -> vcd_sim::state::TaskSummary {
    let id = href.rsplit('/').next().unwrap();
    h.sim
        .handle
        .state()
        .task_list()
        .into_iter()
        .find(|t| t.id.to_string() == id)
        .expect("the task exists")
}

fn running(h: &Harness, href: &str) -> bool {
    matches!(
        task_summary(h, href).status,
        vcd_sim::state::TaskStatus::Running | vcd_sim::state::TaskStatus::Queued
    )
}

/// Waits until `at` holds for the cluster vApp's metadata; false when the
/// task ended first.
async fn wait_for(h: &Harness, task: &str, vapp: &str, at: impl Fn(&Metadata) -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(metadata) = h.sim.handle.state().vapp_metadata(vapp)
            && at(&metadata)
        {
            return true;
        }
        if !running(h, task) {
            return false;
        }
        assert!(Instant::now() < deadline, "the kill point never came");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Runs the three replicas' resume passes together until the task ends;
/// the summed reports.
async fn resume_until_ended(h: &Harness, replicas: &[Arc<Context>], task: &str) -> ResumeReport {
    let mut total = ResumeReport::default();
    let deadline = Instant::now() + Duration::from_secs(20);
    while running(h, task) {
        assert!(
            Instant::now() < deadline,
            "nobody finished {task}: {total:?}"
        );
        let reports = futures::future::join_all(replicas.iter().map(resume::resume)).await;
        for report in reports {
            let report = report.expect("resume pass");
            total.taken_over += report.taken_over;
            total.lost_claims += report.lost_claims;
            total.orphan_tasks += report.orphan_tasks;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    total
}

fn journal_done(steps: &'static str) -> impl Fn(&Metadata) -> bool {
    move |metadata| {
        metadata
            .get("cse.op.journal")
            .is_some_and(|j| j.contains(&format!("\"done\":[{steps}]")))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_operation_is_taken_over_exactly_once_by_one_of_three_replicas() {
    let h = start_with(|b| b.clock(Clock::scaled(0.01)), |_| {}).await;
    prepare_template(&h).await;
    let alice = h.alice().await;
    let replicas = replicas(&h);
    let mut landed = Vec::new();

    // Creates killed after each journaled step: rolled back by one replica.
    for (n, steps) in [
        r#""vapp""#,
        r#""vapp","master""#,
        r#""vapp","master","init""#,
    ]
    .into_iter()
    .enumerate()
    {
        let name = format!("rc{n}");
        let mut owner = Killable::start(&h);
        let (status, body) = owner
            .call(request(
                &alice,
                "POST",
                "/api/cse",
                Some(json!({"name": name, "node_count": 1, "vdc": "vdc1", "network": "net1"})),
            ))
            .await;
        assert_eq!(status, 202, "{body}");
        let task = body["task_href"].as_str().unwrap().to_owned();
        let hit = wait_for(&h, &task, &name, journal_done(steps)).await;
        owner.kill();
        if !hit {
            continue;
        }
        let report = resume_until_ended(&h, &replicas, &task).await;
        let summary = task_summary(&h, &task);
        assert_eq!(
            report.taken_over, 1,
            "create killed after [{steps}]: {report:?}"
        );
        assert_eq!(
            summary.terminal_updates, 1,
            "the task ended once: {summary:?}"
        );
        assert_eq!(
            summary.error.as_deref(),
            Some(resume::INTERRUPTED),
            "{summary:?}"
        );
        assert!(
            !h.sim.handle.state().vapp_names().contains(&name),
            "{name} rolled back"
        );
        landed.push(format!("create [{steps}]"));
    }

    // A create killed after composing its vApp, before its lease (which comes
    // before the cluster id): once the task's lease lapses one replica
    // removes the vApp and ends the task.
    {
        let mut owner = Killable::start(&h);
        let (status, body) = owner
            .call(request(
                &alice,
                "POST",
                "/api/cse",
                Some(json!({"name": "rcm", "node_count": 1, "vdc": "vdc1", "network": "net1"})),
            ))
            .await;
        assert_eq!(status, 202, "{body}");
        let task = body["task_href"].as_str().unwrap().to_owned();
        let hit = wait_for(&h, &task, "rcm", |m| !m.contains_key("cse.op.lease")).await;
        owner.kill();
        if hit {
            let report = resume_until_ended(&h, &replicas, &task).await;
            let summary = task_summary(&h, &task);
            assert_eq!(
                (report.taken_over, report.orphan_tasks),
                (0, 1),
                "{report:?}"
            );
            assert_eq!(summary.terminal_updates, 1, "{summary:?}");
            assert_eq!(summary.error.as_deref(), Some(resume::INTERRUPTED));
            assert!(
                !h.sim
                    .handle
                    .state()
                    .vapp_names()
                    .contains(&"rcm".to_owned())
            );
            landed.push("create before its lease".to_owned());
        }
    }

    // Deletes killed once their journal is written: completed by one replica.
    for n in 0..2 {
        let name = format!("rd{n}");
        h.create_cluster(&alice, &name, 0).await;
        let mut owner = Killable::start(&h);
        let (status, body) = owner
            .call(request(&alice, "DELETE", &format!("/api/cse/{name}"), None))
            .await;
        assert_eq!(status, 202, "{body}");
        let task = body["task_href"].as_str().unwrap().to_owned();
        let at: Box<dyn Fn(&Metadata) -> bool> = if n == 0 {
            // Between the lease and the journal.
            Box::new(|m| m.contains_key("cse.op.lease") && !m.contains_key("cse.op.journal"))
        } else {
            Box::new(|m| m.contains_key("cse.op.journal"))
        };
        let hit = wait_for(&h, &task, &name, at).await;
        owner.kill();
        if !hit {
            continue;
        }
        let report = resume_until_ended(&h, &replicas, &task).await;
        let summary = task_summary(&h, &task);
        assert_eq!(
            report.taken_over + report.orphan_tasks,
            1,
            "delete {n}: {report:?}"
        );
        assert_eq!(
            summary.terminal_updates, 1,
            "the task ended once: {summary:?}"
        );
        assert_eq!(
            format!("{:?}", summary.status),
            "Success",
            "an interrupted delete is completed: {summary:?}"
        );
        assert!(!h.sim.handle.state().vapp_names().contains(&name));
        landed.push(format!("delete {n}"));
    }
    assert!(
        landed.len() >= 4,
        "too few kills landed mid-operation: {landed:?}"
    );
    for vapp in h.sim.handle.state().vapp_names() {
        let metadata = h
            .sim
            .handle
            .state()
            .vapp_metadata(&vapp)
            .unwrap_or_default();
        assert!(
            !metadata.contains_key("cse.op.lease"),
            "{vapp}: stale lease {metadata:?} {:?} {landed:?}",
            h.sim.handle.state().task_list()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_task_of_a_live_replica_is_never_ended_as_orphaned_and_is_once_it_dies() {
    let h = start_with(
        |b| b.clock(Clock::scaled(0.02)),
        |config| {
            config.service.max_operations = 1;
            // A lease claim's write (a 20 ms vCD task here) must stay under
            // an eighth of the lease, as a 1 s write under 36 s does.
            config.timeouts.lease_ttl = cse_core::config::Seconds::from_millis(1_200);
        },
    )
    .await;
    prepare_template(&h).await;
    let alice = h.alice().await;
    let replicas = replicas(&h);
    let ttl = h.config.timeouts.lease_ttl.duration();
    let mut owner = Killable::start(&h);
    let mut tasks = Vec::new();
    for name in ["busy", "waiting"] {
        let (status, body) = owner
            .call(request(
                &alice,
                "POST",
                "/api/cse",
                Some(json!({"name": name, "node_count": 2, "vdc": "vdc1", "network": "net1"})),
            ))
            .await;
        assert_eq!(status, 202, "{body}");
        tasks.push(body["task_href"].as_str().unwrap().to_owned());
    }
    assert!(
        task_summary(&h, &tasks[1]).operation.starts_with("Queued:"),
        "{:?}",
        task_summary(&h, &tasks[1])
    );
    // Older than a lease, still queued behind the first create: the live
    // replica's task lease keeps it from being ended.
    let started = Instant::now();
    while started.elapsed() < ttl * 2 {
        let reports = futures::future::join_all(replicas.iter().map(resume::resume)).await;
        for report in reports {
            assert_eq!(report.expect("resume pass"), ResumeReport::default());
        }
        assert!(running(&h, &tasks[0]), "the first create ended early");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(running(&h, &tasks[1]));
    assert!(
        task_summary(&h, &tasks[1]).operation.starts_with("Queued:"),
        "still queued"
    );

    // The replica dies: the running create is taken over, the queued one
    // ended as orphaned, each exactly once.
    owner.kill();
    let mut total = ResumeReport::default();
    for task in &tasks {
        let report = resume_until_ended(&h, &replicas, task).await;
        total.taken_over += report.taken_over;
        total.orphan_tasks += report.orphan_tasks;
    }
    assert_eq!((total.taken_over, total.orphan_tasks), (1, 1), "{total:?}");
    for task in &tasks {
        let summary = task_summary(&h, task);
        assert_eq!(summary.terminal_updates, 1, "{summary:?}");
        assert_eq!(summary.error.as_deref(), Some(resume::INTERRUPTED));
    }
    assert!(
        h.sim
            .handle
            .state()
            .vapp_names()
            .iter()
            .all(|n| n != "busy" && n != "waiting")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lapsed_lease_without_a_journal_is_removed_and_a_live_one_kept() {
    use cse_server::ops::journal::{Lease, write_lease};
    let h = start_with(|b| b, |_| {}).await;
    prepare_template(&h).await;
    let alice = h.alice().await;
    let mut vapps = Vec::new();
    for name in ["stale", "live"] {
        h.create_cluster(&alice, name, 0).await;
        vapps.push(
            cse_server::clusters::find_cluster(&h.ctx().admin().await.unwrap(), name)
                .await
                .unwrap()
                .vapp_href,
        );
    }
    // A server died after writing its lease and before its journal.
    let admin = h.ctx().admin().await.unwrap();
    let gates = &h.ctx().vapp_gates;
    write_lease(
        &admin,
        gates,
        &vapps[0],
        &Lease::new("gone-server", Duration::ZERO),
    )
    .await
    .unwrap();
    write_lease(
        &admin,
        gates,
        &vapps[1],
        &Lease::new("busy-server", Duration::from_secs(600)),
    )
    .await
    .unwrap();
    let replicas = replicas(&h);
    let reports = futures::future::join_all(replicas.iter().map(resume::resume)).await;
    let removed: usize = reports.into_iter().map(|r| r.unwrap().stale_leases).sum();
    assert!(removed >= 1, "the lapsed lease was removed");
    let state = h.sim.handle.state();
    assert!(
        !state
            .vapp_metadata("stale")
            .unwrap()
            .contains_key("cse.op.lease")
    );
    assert!(
        state.vapp_metadata("live").unwrap()["cse.op.lease"].starts_with("busy-server|"),
        "a live lease is left to its server"
    );
    // Another operation on a cluster with a lapsed lease simply takes it.
    write_lease(
        &admin,
        gates,
        &vapps[0],
        &Lease::new("gone-server", Duration::ZERO),
    )
    .await
    .unwrap();
    let (status, body) = h.call(&alice, "DELETE", "/api/cse/stale", None).await;
    assert_eq!(status, 202, "{body}");
    let (status, _, error) = h.wait_task(body["task_href"].as_str().unwrap()).await;
    assert_eq!(status, "success", "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_tiny_lease_a_failing_create_rolls_back_by_itself_while_other_replicas_watch() {
    use vcd_sim::faults::FaultRule;
    use vcd_sim::guest::{FaultScope, GuestFaultKind};
    // vCD steps (recompose, rollback delete) outlast the 150 ms lease: its
    // renewals wait for them, and the lease lapses in metadata meanwhile.
    let h = start_with(
        |b| b.clock(Clock::scaled(0.05)),
        |config| {
            config.timeouts.lease_ttl = cse_core::config::Seconds::from_millis(150);
        },
    )
    .await;
    prepare_template(&h).await;
    h.sim
        .guests
        .add_fault(FaultRule::new(
            FaultScope::Global,
            GuestFaultKind::HangCommand {
                name: "kubeadm".into(),
            },
        ))
        .expect("guest fault rule");
    let mut config = h.config.clone();
    config.timeouts.script = cse_core::config::Seconds::from_millis(800);
    let owner = Arc::new(Operations::new(Arc::new(
        Context::new(config, "owner/config.yaml").unwrap(),
    )));
    let alice = h.alice().await;
    let reply = owner
        .handle(request(
            &alice,
            "POST",
            "/api/cse",
            Some(json!({"name": "tiny", "node_count": 1, "vdc": "vdc1", "network": "net1"})),
        ))
        .await;
    let (status, body) = decode(&reply);
    assert_eq!(status, 202, "{body}");
    let task = body["task_href"].as_str().unwrap().to_owned();
    let replicas = replicas(&h);
    let mut total = ResumeReport::default();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut passes = 0;
    while running(&h, &task) {
        assert!(Instant::now() < deadline, "the create never ended");
        for report in futures::future::join_all(replicas.iter().map(resume::resume)).await {
            let report = report.expect("resume pass");
            total.taken_over += report.taken_over;
            total.orphan_tasks += report.orphan_tasks;
        }
        passes += 1;
        // A server's passes come every lease_ttl / 5 (30 ms here).
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    assert!(passes >= 3, "the replicas watched: {passes} passes");
    let summary = task_summary(&h, &task);
    assert_eq!(summary.terminal_updates, 1, "{summary:?}");
    let error = summary.error.clone().unwrap_or_default();
    assert!(
        error.starts_with("Error while adding master node: "),
        "the owner's own failure, not a takeover: {error} {total:?}"
    );
    assert_eq!((total.taken_over, total.orphan_tasks), (0, 0));
    assert!(
        !h.sim
            .handle
            .state()
            .vapp_names()
            .contains(&"tiny".to_owned())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_woken_after_its_lease_lapsed_starts_nothing_on_a_cluster_taken_over() {
    use cse_server::ops::lease::{self, ClaimKind, LeaseKeeper};
    let h = start_with(
        |b| b.clock(Clock::scaled(0.005)),
        |config| {
            config.timeouts.lease_ttl = cse_core::config::Seconds::from_millis(1_200);
        },
    )
    .await;
    prepare_template(&h).await;
    let alice = h.alice().await;
    for name in ["fz0", "fz1"] {
        h.create_cluster(&alice, name, 0).await;
    }
    let contexts = replicas(&h);
    let (a, b) = (&contexts[0], &contexts[1]);
    let (admin_a, admin_b) = (a.admin().await.unwrap(), b.admin().await.unwrap());
    let vapp_of = |name: &'static str| {
        let admin = admin_a.clone();
        async move {
            cse_server::clusters::find_cluster(&admin, name)
                .await
                .unwrap()
                .vapp_href
        }
    };
    let ttl = h.config.timeouts.lease_ttl.duration();

    // Taken over while A was frozen: A's next step is refused.
    let vapp = vapp_of("fz0").await;
    let settings_a = lease::settings(a);
    let _keeper_a =
        LeaseKeeper::start(admin_a.clone(), vapp.clone(), &settings_a, ClaimKind::Fresh)
            .await
            .expect("A leases fz0");
    lease::fence(&admin_a, &settings_a, &vapp, None)
        .await
        .expect("a fresh lease passes the fence");
    // The freeze: A's renewals stop running (as under SIGSTOP), its state stays.
    a.held_leases.stop_renewals(&vapp);
    tokio::time::sleep(ttl + ttl / 4).await;
    let _keeper_b = LeaseKeeper::start(
        admin_b.clone(),
        vapp.clone(),
        &lease::settings(b),
        ClaimKind::Journaled,
    )
    .await
    .expect("B takes the lapsed lease over");
    let refused = lease::fence(&admin_a, &settings_a, &vapp, None).await;
    assert!(
        matches!(refused, Err(lease::LeaseError::HeldElsewhere { .. })),
        "{refused:?}"
    );
    assert!(a.held_leases.is_lost(&vapp), "A's operation is marked lost");

    // Nobody took over while A was frozen: A claims its lease again before
    // the step, and a competitor arriving now finds it live.
    let vapp = vapp_of("fz1").await;
    let _keeper_a =
        LeaseKeeper::start(admin_a.clone(), vapp.clone(), &settings_a, ClaimKind::Fresh)
            .await
            .expect("A leases fz1");
    a.held_leases.stop_renewals(&vapp);
    tokio::time::sleep(ttl + ttl / 4).await;
    lease::fence(&admin_a, &settings_a, &vapp, None)
        .await
        .expect("A still holds fz1");
    assert!(!a.held_leases.is_lost(&vapp));
    let competitor = LeaseKeeper::start(
        admin_b.clone(),
        vapp.clone(),
        &lease::settings(b),
        ClaimKind::Journaled,
    )
    .await;
    assert!(
        matches!(competitor, Err(lease::LeaseError::HeldElsewhere { .. })),
        "{competitor:?}"
    );
}
