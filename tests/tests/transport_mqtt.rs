//! The MQTT extension transport end to end: the vCD simulator on the 10.6
//! profile (CloudAPI registration, EXTENSION token, API filter, broker at
//! `wss://…/messaging/mqtt`), the server's listener pool on `MqttBus`, and a
//! tenant calling `/api/cse/...` over HTTPS — plus a websocket dropped while
//! requests are in flight.

use std::sync::Arc;
use std::time::Duration;

use cse_bus::{MqttBus, MqttConnectionOptions};
use cse_server::amqp::{Handler, ListenerConfig, ListenerPool, ReplyJournal};
use tests::transport::Recorder;

const ACCEPT: &str = "application/json;version=39.0";

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("HTTP client")
}

async fn cloudapi_login(
    base: &str,
    user: &str,
    org: &str,
    password: &str,
    provider: bool,
) -> String {
    let path = if provider {
        "sessions/provider"
    } else {
        "sessions"
    };
    let resp = http()
        .post(format!("{base}/cloudapi/1.0.0/{path}"))
        .basic_auth(format!("{user}@{org}"), Some(password))
        .header("Accept", ACCEPT)
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status(), 200, "login of {user}@{org}");
    resp.headers()["x-vmware-vcloud-access-token"]
        .to_str()
        .expect("token text")
        .to_owned()
}

struct Registered {
    token: String,
    monitor: String,
    respond: String,
}

/// What `cse install` does on an MQTT config: extension, API filter, token.
async fn register(base: &str) -> Registered {
    let admin = cloudapi_login(base, "administrator", "System", "vmware-sim-admin", true).await;
    let client = http();
    let resp = client
        .post(format!("{base}/cloudapi/extensions/api"))
        .bearer_auth(&admin)
        .header("Accept", ACCEPT)
        .json(&serde_json::json!({
            "name": "cse", "vendor": "VMware", "version": "1.0.0",
            "priority": 50, "enabled": "true", "authorizationEnabled": "false",
            "description": "Container Service Extension"
        }))
        .send()
        .await
        .expect("register");
    assert_eq!(resp.status(), 201);
    let link = resp.headers()["link"].to_str().unwrap().to_owned();
    let doc: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(doc["id"], "urn:vcloud:extension-api:VMware:cse:1.0.0");
    assert_eq!(
        doc["mqttTopics"]["monitor"],
        "topic/extension/VMware/cse/1.0.0/ext"
    );
    let service = link
        .trim_start_matches('<')
        .split('>')
        .next()
        .unwrap()
        .to_owned();
    let resp = client
        .post(format!("{service}/apifilters"))
        .bearer_auth(&admin)
        .header("Accept", "application/*+xml;version=39.0")
        .header("Content-Type", "application/vnd.vmware.admin.apifilter+xml")
        .body(r#"<vmext:ApiFilter xmlns:vmext="http://www.vmware.com/vcloud/extension/v1.5"><vmext:UrlPattern>/api/cse/.*</vmext:UrlPattern></vmext:ApiFilter>"#)
        .send()
        .await
        .expect("API filter");
    assert!(resp.status().is_success(), "API filter: {}", resp.status());
    let resp = client
        .post(format!("{base}/cloudapi/1.0.0/tokens"))
        .bearer_auth(&admin)
        .header("Accept", ACCEPT)
        .json(&serde_json::json!({
            "name": "cse-mqtt", "type": "EXTENSION", "extensionId": doc["id"]
        }))
        .send()
        .await
        .expect("token");
    assert_eq!(resp.status(), 200);
    let token: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(token["owner"]["name"], "VMware/cse/1.0.0");
    Registered {
        token: token["token"].as_str().unwrap().to_owned(),
        monitor: doc["mqttTopics"]["monitor"].as_str().unwrap().to_owned(),
        respond: doc["mqttTopics"]["respond"].as_str().unwrap().to_owned(),
    }
}

async fn setup(
    handler: Arc<dyn Handler>,
    timeout: Duration,
) -> (vcd_sim::SimHandle, ListenerPool, String) {
    cse_bus::tls::install_crypto_provider();
    let sim = vcd_sim::SimBuilder::new()
        .vcd_release(vcd_sim::VcdRelease::V10_6)
        .start_vcd()
        .await
        .expect("the simulator starts");
    sim.mqtt().set_timeout(timeout);
    let reg = register(&sim.base_url).await;
    let mut options = MqttConnectionOptions::for_vcd(&sim.base_url, "VMware/cse/1.0.0", reg.token);
    options.verify = false;
    let bus = Arc::new(MqttBus::new(options));
    let config = ListenerConfig {
        listeners: 1,
        mqtt_respond_topic: Some(reg.respond),
        reconnect_initial: Duration::from_millis(50),
        reconnect_max: Duration::from_millis(500),
        ..ListenerConfig::new("", reg.monitor)
    };
    let pool = ListenerPool::start(bus, config, handler, ReplyJournal::in_memory(64));
    assert!(
        pool.wait_connected(Duration::from_secs(10)).await,
        "subscribed"
    );
    let tenant = cloudapi_login(&sim.base_url, "alice", "acme", "alice-pw", false).await;
    (sim, pool, tenant)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_goes_over_mqtt_and_back() {
    let recorder = Recorder::new(Duration::ZERO);
    let (sim, pool, tenant) = setup(recorder.clone(), Duration::from_secs(10)).await;
    let resp = http()
        .get(format!("{}/api/cse/c1/info?n=1", sim.base_url))
        .bearer_auth(&tenant)
        .header("Accept", "application/*+json;version=39.0")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["echo"], "n=1");
    assert_eq!(recorder.runs().get("n=1"), Some(&1));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while sim.mqtt().stats().held > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let stats = sim.mqtt().stats();
    assert_eq!(stats.acknowledged, 1, "{stats:?}");
    assert_eq!(stats.held, 0, "{stats:?}");
    pool.stop(Duration::from_secs(5)).await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_is_refused_and_nothing_is_delivered() {
    cse_bus::tls::install_crypto_provider();
    let sim = vcd_sim::SimBuilder::new()
        .vcd_release(vcd_sim::VcdRelease::V10_6)
        .start_vcd()
        .await
        .unwrap();
    let reg = register(&sim.base_url).await;
    let mut options =
        MqttConnectionOptions::for_vcd(&sim.base_url, "VMware/cse/1.0.0", "not-the-token");
    options.verify = false;
    let bus = MqttBus::new(options);
    let err = cse_bus::Bus::consume(&bus, &reg.monitor, Default::default())
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("refused"), "{err}");
    assert!(!err.to_string().contains("not-the-token"), "{err}");
    assert_eq!(sim.mqtt().stats().refused, 1);
    sim.shutdown().await;
}

/// The websocket drops while the server runs five requests. What this
/// proves, per request: its tenant gets the one right answer, it ran exactly
/// once (counted per `requestId`), it was acknowledged exactly once, and the
/// listener reconnected by itself.
///
/// Why the pool's `replayed` counter is 5 here and not 0: the drop comes
/// only once the server holds all five (`in_flight == 5`), so each copy the
/// broker hands out again (DUP) on the new connection finds its original
/// still running and waits for its reply in the reply journal (or finds the
/// reply kept in memory, a `GET`), and is answered from there — a replay.
/// Dropping as soon as the broker had *sent* five (its `deliveries`
/// counter) left `replayed` at 0: the frames were still on their way, the
/// old connection never handed them to the server, and the first copy the
/// server saw was the redelivery, executed once as a first delivery. Both
/// orders lose nothing and run nothing twice; only this one exercises the
/// journal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_websocket_loses_no_request_and_runs_none_twice() {
    // Each request takes 800 ms, so all are running when the socket drops.
    let recorder = Recorder::new(Duration::from_millis(800));
    let (sim, pool, tenant) = setup(recorder.clone(), Duration::from_secs(30)).await;
    let base = sim.base_url.clone();
    let calls: Vec<_> = (1..=5)
        .map(|n| {
            let (base, tenant) = (base.clone(), tenant.clone());
            tokio::spawn(async move {
                let resp = http()
                    .get(format!("{base}/api/cse/c1/info?n={n}"))
                    .bearer_auth(&tenant)
                    .header("Accept", "application/*+json;version=39.0")
                    .send()
                    .await
                    .unwrap();
                let status = resp.status();
                let body: serde_json::Value = resp.json().await.unwrap();
                (n, status, body)
            })
        })
        .collect();
    // Wait until the server runs all five, then cut every connection.
    wait_for("the server runs all five", || pool.stats().in_flight >= 5).await;
    assert_eq!(sim.mqtt().stats().acknowledged, 0, "none answered yet");
    assert!(sim.mqtt().drop_connections() >= 1);
    for call in calls {
        let (n, status, body) = call.await.unwrap();
        assert_eq!(status, 200, "request {n}: {body}");
        assert_eq!(body["echo"], format!("n={n}"));
    }
    let runs = recorder.runs();
    for n in 1..=5 {
        assert_eq!(
            runs.get(&format!("n={n}")),
            Some(&1),
            "request {n} ran once: {runs:?}"
        );
    }
    let by_id = recorder.runs_by_id();
    assert_eq!(by_id.len(), 5, "five request ids: {by_id:?}");
    assert!(by_id.values().all(|&n| n == 1), "each ran once: {by_id:?}");
    // Acknowledgements follow the replies (reply, then ack): wait for them.
    wait_for("every request acknowledged", || {
        sim.mqtt().stats().held == 0 && pool.stats().in_flight == 0
    })
    .await;
    let stats = sim.mqtt().stats();
    assert_eq!(
        stats.redeliveries, 5,
        "every outstanding request handed out again: {stats:?}"
    );
    assert_eq!(
        stats.acknowledged, 5,
        "each acknowledged once (the originals' acks on the dead connection are not sent): {stats:?}"
    );
    let pool_stats = pool.stats();
    assert_eq!(
        pool_stats.replayed, 5,
        "each copy answered from the reply journal: {pool_stats:?}"
    );
    assert!(
        pool_stats.connections >= 2,
        "the listener reconnected by itself: {pool_stats:?}"
    );
    pool.stop(Duration::from_secs(5)).await;
    sim.shutdown().await;
}

/// Sends `GET /api/cse/c1/info?n=<n>` as the tenant in the background (its
/// answer does not matter here: nobody replies).
fn background_request(base: &str, tenant: &str, n: u32) -> tokio::task::JoinHandle<()> {
    let (base, tenant) = (base.to_owned(), tenant.to_owned());
    tokio::spawn(async move {
        let _ = http()
            .get(format!("{base}/api/cse/c1/info?n={n}"))
            .bearer_auth(&tenant)
            .header("Accept", "application/*+json;version=39.0")
            .send()
            .await;
    })
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The bounded hand-off between `MqttBus`'s polling task and its consumer:
/// while the queue is full and nobody takes from it, keep-alives still flow
/// (the broker ends a connection silent for 1.5 keep-alives); one delivery
/// more ends the connection without acknowledging anything, the queued
/// deliveries are still handed out but cannot be acknowledged on the ended
/// connection, and the next connection gets every request again (DUP), each
/// once, and acknowledges each once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_delivery_queue_keeps_keep_alives_and_loses_nothing() {
    use cse_bus::Bus;
    cse_bus::tls::install_crypto_provider();
    let sim = vcd_sim::SimBuilder::new()
        .vcd_release(vcd_sim::VcdRelease::V10_6)
        .start_vcd()
        .await
        .expect("the simulator starts");
    sim.mqtt().set_timeout(Duration::from_secs(60));
    let reg = register(&sim.base_url).await;
    let mut options = MqttConnectionOptions::for_vcd(&sim.base_url, "VMware/cse/1.0.0", reg.token);
    options.verify = false;
    options.keep_alive = Duration::from_secs(1);
    options.delivery_queue = 3;
    let mut roomy = options.clone();
    roomy.delivery_queue = cse_bus::mqtt::DELIVERY_QUEUE;
    let bus = MqttBus::new(options);
    let mut first = bus.consume(&reg.monitor, Default::default()).await.unwrap();
    let tenant = cloudapi_login(&sim.base_url, "alice", "acme", "alice-pw", false).await;

    let mut calls: Vec<_> = (1..=3)
        .map(|n| background_request(&sim.base_url, &tenant, n))
        .collect();
    wait_for("three deliveries", || sim.mqtt().stats().deliveries >= 3).await;
    // Three keep-alive intervals with a full queue nobody takes from.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let stats = sim.mqtt().stats();
    assert_eq!(
        (stats.connections, stats.connected),
        (1, 1),
        "the connection outlived the full queue: {stats:?}"
    );

    // One more: the queue overflows and the connection ends.
    calls.push(background_request(&sim.base_url, &tenant, 4));
    wait_for("the connection ended", || sim.mqtt().stats().connected == 0).await;
    let mut queued = Vec::new();
    while let Ok(Some(d)) = tokio::time::timeout(Duration::from_secs(10), first.next()).await {
        queued.push(d);
    }
    assert_eq!(queued.len(), 3, "the queued deliveries are handed out");
    for d in &queued {
        assert!(d.ack().await.is_err(), "no PUBACK on the ended connection");
    }
    assert_eq!(sim.mqtt().stats().acknowledged, 0);

    // The next connection (room for all) gets all four again, each once.
    let mut second = MqttBus::new(roomy)
        .consume(&reg.monitor, Default::default())
        .await
        .unwrap();
    let mut seen = std::collections::BTreeMap::new();
    while seen.len() < 4 {
        let d = tokio::time::timeout(Duration::from_secs(10), second.next())
            .await
            .expect("a redelivery in time")
            .expect("the connection lives");
        assert!(d.redelivered, "handed out before, so DUP");
        let id = cse_core::ext::mqtt::request_id_of(&d.message.body).expect("a request id");
        *seen.entry(id).or_insert(0) += 1;
        d.ack().await.unwrap();
        d.ack().await.unwrap(); // a second ack sends nothing
    }
    assert!(seen.values().all(|&n| n == 1), "{seen:?}");
    wait_for("every request acknowledged", || {
        sim.mqtt().stats().held == 0
    })
    .await;
    let stats = sim.mqtt().stats();
    assert_eq!(stats.acknowledged, 4, "each acknowledged once: {stats:?}");
    assert_eq!(stats.connections, 2, "{stats:?}");
    for call in calls {
        call.abort();
    }
    sim.shutdown().await;
}

/// `MqttBroker::stop` (the scenarios' broker restart over MQTT) refuses
/// connections until `start`; the listener pool reconnects by itself after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_broker_refuses_connections_until_it_starts_again() {
    let recorder = Recorder::new(Duration::ZERO);
    let (sim, pool, tenant) = setup(recorder.clone(), Duration::from_secs(30)).await;
    assert_eq!(sim.mqtt().stop(), 1, "the listener's connection ended");
    wait_for("a refused reconnection", || sim.mqtt().stats().refused >= 1).await;
    assert_eq!(sim.mqtt().stats().connected, 0);
    sim.mqtt().start();
    let resp = http()
        .get(format!("{}/api/cse/c1/info?n=7", sim.base_url))
        .bearer_auth(&tenant)
        .header("Accept", "application/*+json;version=39.0")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(recorder.runs().get("n=7"), Some(&1));
    assert!(sim.mqtt().stats().connections >= 2);
    pool.stop(Duration::from_secs(5)).await;
    sim.shutdown().await;
}
