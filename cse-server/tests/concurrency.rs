//! Concurrent requests against one server: one operation per cluster decided
//! at request time, the server's own metadata writes never failing its vApp
//! calls, and the org-fair queue past `service.max_operations`.

mod support;

use std::time::Duration;

use cse_core::config::Seconds;
use futures::future::join_all;
use serde_json::{Value, json};
use support::{Harness, prepare_template, start_with};
use vcd_sim::clock::Clock;

fn create_body(name: &str, nodes: u32) -> Value {
    json!({"name": name, "node_count": nodes, "vdc": "vdc1", "network": "net1"})
}

/// Sends the same request `n` times at once; the (status, body) of each.
async fn at_once(
    h: &Harness,
    token: &str,
    n: usize,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Vec<(u16, Value)> {
    join_all((0..n).map(|_| h.call(token, method, path, body.clone()))).await
}

/// Delays vCD requests `method` whose path contains `path` by `delay`: the
/// first `times` of them, or every one (`None`, also to count them).
fn delay_vcd(
    h: &Harness,
    method: axum::http::Method,
    path: &str,
    delay: Duration,
    times: Option<u32>,
) -> vcd_sim::faults::RuleId {
    let rule = vcd_sim::faults::FaultRule::delay_only(
        vcd_sim::rest::faults::HttpMatch {
            method: Some(method),
            path_contains: Some(path.into()),
        },
        delay,
    );
    let rule = match times {
        Some(n) => rule.times(n),
        None => rule,
    };
    h.sim.http_faults().add(rule).expect("fault rule")
}

fn accepted(replies: &[(u16, Value)]) -> Vec<String> {
    replies
        .iter()
        .filter(|(status, _)| *status == 202)
        .map(|(_, body)| body["task_href"].as_str().unwrap().to_owned())
        .collect()
}

fn refusals(replies: &[(u16, Value)]) -> Vec<(u16, String)> {
    replies
        .iter()
        .filter(|(status, _)| *status != 202)
        .map(|(status, body)| (*status, body["message"].as_str().unwrap_or("").to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_of_one_name_and_deletes_of_one_cluster_are_refused_at_once() {
    let h = start_with(|b| b, |_| {}).await;
    prepare_template(&h).await;
    let alice = h.alice().await;

    // Six creates of one name: one is accepted, five refused with a clear text.
    let replies = at_once(
        &h,
        &alice,
        6,
        "POST",
        "/api/cse",
        Some(create_body("twin", 0)),
    )
    .await;
    let tasks = accepted(&replies);
    assert_eq!(tasks.len(), 1, "{replies:?}");
    for (status, message) in refusals(&replies) {
        assert!(
            (status, message.as_str())
                == (
                    409,
                    "Cluster 'twin' already exists: another request is creating it."
                )
                || (status, message.as_str()) == (500, "Cluster already exists."),
            "{status} {message}"
        );
    }
    let (status, _, error) = h.wait_task(&tasks[0]).await;
    assert_eq!(status, "success", "{error}");

    // Four deletes of one cluster: one is accepted, three refused.
    let replies = at_once(&h, &alice, 4, "DELETE", "/api/cse/twin", None).await;
    let tasks = accepted(&replies);
    assert_eq!(tasks.len(), 1, "{replies:?}");
    for (status, message) in refusals(&replies) {
        assert_eq!(status, 409, "{message}");
        assert!(
            message.starts_with("Cluster 'twin' is busy: another operation (delete_cluster)"),
            "{message}"
        );
    }
    let (status, _, error) = h.wait_task(&tasks[0]).await;
    assert_eq!(status, "success", "{error}");
    assert!(h.sim.handle.state().vapp_metadata("twin").is_none());
    // Every claim is released: the name can be created again.
    assert!(h.ctx().claims.is_empty());
    let (status, body) = h
        .call(&alice, "POST", "/api/cse", Some(create_body("twin", 0)))
        .await;
    assert_eq!(status, 202, "{body}");
    let (status, _, error) = h.wait_task(body["task_href"].as_str().unwrap()).await;
    assert_eq!(status, "success", "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lease_renewals_never_make_the_servers_own_vapp_calls_busy() {
    // A lease renewed every 50 ms while vCD's metadata tasks take 20 ms: before
    // the vApp gate, recomposes and rollbacks collided with the renewals and
    // failed with BUSY_ENTITY.
    let h = start_with(
        |b| b.clock(Clock::scaled(0.02)),
        |config| {
            config.timeouts.lease_ttl = Seconds::from_millis(150);
        },
    )
    .await;
    prepare_template(&h).await;
    let alice = h.alice().await;
    let replies = join_all((0..6).map(|i| {
        let alice = alice.clone();
        let h = &h;
        async move {
            h.call(
                &alice,
                "POST",
                "/api/cse",
                Some(create_body(&format!("busy{i}"), 2)),
            )
            .await
        }
    }))
    .await;
    let tasks = accepted(&replies);
    assert_eq!(tasks.len(), 6, "{replies:?}");
    for task in &tasks {
        let (status, _, error) = h.wait_task(task).await;
        assert_eq!(status, "success", "{error}");
    }
    let (_, list) = h.call(&alice, "GET", "/api/cse", None).await;
    assert_eq!(list.as_array().unwrap().len(), 6, "{list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_max_operations_requests_queue_and_past_the_queue_they_are_refused() {
    let h = start_with(
        |b| b.clock(Clock::scaled(0.01)),
        |config| {
            config.service.max_operations = 2;
            config.service.max_queued_operations = 3;
        },
    )
    .await;
    prepare_template(&h).await;
    let alice = h.alice().await;
    let mut replies = Vec::new();
    for i in 0..6 {
        replies.push(
            h.call(
                &alice,
                "POST",
                "/api/cse",
                Some(create_body(&format!("q{i}"), 0)),
            )
            .await,
        );
    }
    let tasks = accepted(&replies);
    assert_eq!(tasks.len(), 5, "two run, three wait: {replies:?}");
    assert_eq!(
        refusals(&replies),
        vec![(
            503,
            "The server is busy: 2 operations are running and 3 are queued, the most it accepts. Try again later."
                .to_owned()
        )]
    );
    // The queued ones say so in their task until they start.
    let texts: Vec<String> = h
        .sim
        .handle
        .state()
        .task_list()
        .into_iter()
        .filter(|t| t.operation_name == "create_cluster")
        .map(|t| t.operation.clone())
        .collect();
    assert!(
        texts
            .iter()
            .any(|text| text.starts_with("Queued: create_cluster for q")),
        "{texts:?}"
    );
    for task in &tasks {
        let (status, _, error) = h.wait_task(task).await;
        assert_eq!(status, "success", "{error}");
    }
    // Slots are given back once the operations have also cleared their
    // journals (after their tasks' ends).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while h.ctx().queue.counts() != (0, 0) || !h.ctx().claims.is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "slots or claims kept: {:?}, {} claims",
            h.ctx().queue.counts(),
            h.ctx().claims.len()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_cluster_is_leased_before_any_server_can_find_it() {
    // A create writes its first lease without Fischer's settle. That is safe
    // only because no other server can find the vApp as a cluster (queries
    // filter on `cse.cluster.id`) before the lease is there: the lease's
    // write is held back 300 ms here, and the cluster id must not appear in
    // that time.
    let h = start_with(|b| b, |_| {}).await;
    prepare_template(&h).await;
    delay_vcd(
        &h,
        axum::http::Method::PUT,
        "metadata/cse.op.lease",
        Duration::from_millis(300),
        Some(1),
    );
    let alice = h.alice().await;
    let (status, body) = h
        .call(&alice, "POST", "/api/cse", Some(create_body("early", 0)))
        .await;
    assert_eq!(status, 202, "{body}");
    let task = body["task_href"].as_str().unwrap().to_owned();
    let mut seen_leased = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(metadata) = h.sim.handle.state().vapp_metadata("early") {
            let leased = metadata.contains_key("cse.op.lease");
            assert!(
                leased || !metadata.contains_key("cse.cluster.id"),
                "the vApp is findable as a cluster before it is leased: {metadata:?}"
            );
            seen_leased |= leased;
            if metadata.contains_key("cse.cluster.id") {
                break;
            }
        }
        assert!(tokio::time::Instant::now() < deadline, "no cluster id came");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert!(seen_leased);
    let (status, _, error) = h.wait_task(&task).await;
    assert_eq!(status, "success", "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_operation_is_accepted_while_an_ended_operations_journal_is_cleared() {
    // An operation ends its task before it clears its journal (so that a
    // crash in between never undoes finished work). A tenant who saw the
    // task end may ask for the next operation at once: it must be accepted,
    // not refused as busy because the clean-up still runs. The journal's
    // removal is held back 800 ms here.
    let h = start_with(|b| b, |_| {}).await;
    prepare_template(&h).await;
    delay_vcd(
        &h,
        axum::http::Method::DELETE,
        "metadata/cse.op.journal",
        Duration::from_millis(800),
        Some(1),
    );
    let alice = h.alice().await;
    let (status, body) = h
        .call(&alice, "POST", "/api/cse", Some(create_body("next", 0)))
        .await;
    assert_eq!(status, 202, "{body}");
    let (status, _, error) = h.wait_task_end(body["task_href"].as_str().unwrap()).await;
    assert_eq!(status, "success", "{error}");
    let metadata = h.sim.handle.state().vapp_metadata("next").unwrap();
    assert!(
        metadata.contains_key("cse.op.journal"),
        "the task ended before the journal was cleared: {metadata:?}"
    );
    let (status, body) = h.call(&alice, "DELETE", "/api/cse/next", None).await;
    assert_eq!(status, 202, "accepted once the clean-up is done: {body}");
    let (status, _, error) = h.wait_task(body["task_href"].as_str().unwrap()).await;
    assert_eq!(status, "success", "{error}");
    assert!(
        !h.sim
            .handle
            .state()
            .vapp_names()
            .contains(&"next".to_owned())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callers_session_is_read_once_for_many_requests() {
    // vCD authenticated the token before forwarding each request: the
    // server reads the session behind it once (shared while in flight,
    // remembered briefly), not once per request.
    let h = start_with(|b| b, |_| {}).await;
    let alice = h.alice().await;
    let carol = h.carol().await;
    let rule = delay_vcd(
        &h,
        axum::http::Method::GET,
        "/api/session",
        Duration::ZERO,
        None,
    );
    let replies = at_once(&h, &alice, 20, "GET", "/api/cse", None).await;
    assert!(
        replies.iter().all(|(status, _)| *status == 200),
        "{replies:?}"
    );
    for _ in 0..5 {
        let (status, body) = h.call(&alice, "GET", "/api/cse", None).await;
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(
        h.sim.http_faults().hits(rule),
        1,
        "25 requests with one token read its session once"
    );
    // Another caller's session is read on its own.
    let (status, body) = h.call(&carol, "GET", "/api/cse", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(h.sim.http_faults().hits(rule), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_lists_asked_for_at_once_with_one_session_share_one_query() {
    // A script hammering `GET /api/cse` with one session costs vCD one query
    // at a time, and every call gets the same list; another session's list
    // is its own, and nothing is cached once the shared query has ended.
    let h = start_with(|b| b, |_| {}).await;
    prepare_template(&h).await;
    let alice = h.alice().await;
    let carol = h.carol().await;
    h.create_cluster(&alice, "l1", 0).await;

    // Every cluster query waits long enough for all 20 calls to arrive.
    let rule = delay_vcd(
        &h,
        axum::http::Method::GET,
        "type=vApp",
        Duration::from_millis(300),
        None,
    );
    let replies = at_once(&h, &alice, 20, "GET", "/api/cse", None).await;
    let first = &replies[0].1;
    assert_eq!(first.as_array().map(Vec::len), Some(1), "{first}");
    assert_eq!(first[0]["name"], "l1");
    assert!(
        replies.iter().all(|reply| reply == &(200, first.clone())),
        "{replies:?}"
    );
    assert_eq!(
        h.sim.http_faults().hits(rule),
        1,
        "20 lists at once with one session made one query"
    );
    let (status, list) = h.call(&carol, "GET", "/api/cse", None).await;
    assert_eq!((status, list), (200, json!([])));
    let (status, list) = h.call(&alice, "GET", "/api/cse", None).await;
    assert_eq!((status, &list), (200, first));
    assert_eq!(h.sim.http_faults().hits(rule), 3, "later lists query again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lapsed_lease_is_not_removed_while_this_server_claims_the_vapp() {
    // A resume pass removes a lapsed lease that no journal goes with. vCD's
    // delete is blind, so if an operation of this server started claiming
    // the vApp meanwhile, the removal would take the claim's fresh lease and
    // fail the operation as if another server had won: it is skipped.
    use cse_server::ops::metadata::{Lease, read_lease, remove_lease_unless_claimed, write_lease};
    let h = start_with(|b| b, |_| {}).await;
    prepare_template(&h).await;
    let alice = h.alice().await;
    h.create_cluster(&alice, "s1", 0).await;
    let ctx = h.ctx().clone();
    let admin = ctx.admin().await.unwrap();
    let vapp = cse_server::clusters::find_cluster(&admin, "s1")
        .await
        .unwrap()
        .vapp_href;
    let lapsed = Lease::new("another-server", Duration::ZERO);
    write_lease(&admin, &ctx.vapp_gates, &vapp, &lapsed)
        .await
        .unwrap();
    let claimed = || ctx.held_leases.holds(&vapp);

    let claiming = ctx.held_leases.hold(&vapp);
    let removed = remove_lease_unless_claimed(&admin, &ctx.vapp_gates, &vapp, claimed)
        .await
        .unwrap();
    assert!(!removed);
    assert!(read_lease(&admin, &vapp).await.unwrap().is_some());

    drop(claiming);
    let removed = remove_lease_unless_claimed(&admin, &ctx.vapp_gates, &vapp, claimed)
        .await
        .unwrap();
    assert!(removed);
    assert_eq!(read_lease(&admin, &vapp).await.unwrap(), None);
}
