//! Faults on the extension transport, against the real broker:
//! - RabbitMQ is stopped and started during a stream of tenant requests: no
//!   request the client was told succeeded is lost or run twice, and the server
//!   reconnects by itself;
//! - the server process is killed in the middle of a request, or dies after
//!   doing the work but before replying: the request is redelivered to a new
//!   process and executed exactly once; the tenant gets the answer.
//!
//! The broker restart takes the test-broker lock exclusively, so no other
//! broker test (in this or another test binary) runs meanwhile; the broker is
//! restarted even when the test fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use cse_bus::{Bus, ExchangeOptions, RabbitBus};
use cse_server::amqp::ReplyJournal;
use tests::transport::{
    BrokerOutage, Recorder, cse_extension, serve_front, start_server, tenant_client, unique_names,
};
use tokio::io::{AsyncBufReadExt, BufReader};
use vcd_sim::ext::ExtensionRouter;

#[derive(Debug, Clone)]
struct Outcome {
    n: u32,
    status: u16,
    echo: Option<String>,
    at: Instant,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_restart_during_a_stream_loses_no_acknowledged_request() {
    cse_bus::tls::install_crypto_provider();
    let Some(broker) = cse_bus::testing::test_broker().await else {
        return;
    };
    let _lock = cse_bus::testing::broker_lock_exclusive().unwrap();
    let (exchange, key) = unique_names("restart");
    let handler = Recorder::new(Duration::from_millis(20));
    let server_bus = Arc::new(RabbitBus::from_url(&broker.url).unwrap());
    let pool = start_server(
        server_bus.clone(),
        &exchange,
        &key,
        handler.clone(),
        ReplyJournal::in_memory(1024),
    )
    .await;
    let sim_bus = Arc::new(RabbitBus::from_url(&broker.url).unwrap());
    let router = Arc::new(ExtensionRouter::new(
        sim_bus.clone() as Arc<dyn Bus>,
        Duration::from_secs(2),
    ));
    let front = serve_front(router, vec![cse_extension(&exchange, &key, true)]).await;

    // Two tenants sending requests back to back.
    let stop = Arc::new(AtomicBool::new(false));
    let outcomes = Arc::new(std::sync::Mutex::new(Vec::<Outcome>::new()));
    let mut streams = Vec::new();
    for stream in 0..2u32 {
        let (stop, outcomes, base) = (stop.clone(), outcomes.clone(), front.base_url.clone());
        streams.push(tokio::spawn(async move {
            let client = tenant_client();
            let mut i = 0u32;
            while !stop.load(Ordering::SeqCst) {
                let n = stream * 100_000 + i;
                i += 1;
                let result = client
                    .get(format!("{base}/api/cse/stream/info?n={n}"))
                    .send()
                    .await;
                let (status, echo) = match result {
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        let echo = resp
                            .json::<serde_json::Value>()
                            .await
                            .ok()
                            .and_then(|v| v["echo"].as_str().map(str::to_owned));
                        (status, echo)
                    }
                    Err(_) => (0, None),
                };
                outcomes.lock().unwrap().push(Outcome {
                    n,
                    status,
                    echo,
                    at: Instant::now(),
                });
                if status != 200 {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }));
    }
    let successes_since = |since: Instant| {
        outcomes
            .lock()
            .unwrap()
            .iter()
            .filter(|o| o.status == 200 && o.at > since)
            .count()
    };
    let t0 = Instant::now();
    while successes_since(t0) < 10 {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "no traffic before the restart"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let mut outage = BrokerOutage::begin().expect("rabbitmqctl stop_app");
    tokio::time::sleep(Duration::from_millis(500)).await;
    outage.end().expect("rabbitmqctl start_app");
    let restarted = Instant::now();
    while successes_since(restarted) < 10 {
        assert!(
            restarted.elapsed() < Duration::from_secs(30),
            "the server did not come back by itself within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.store(true, Ordering::SeqCst);
    for s in streams {
        s.await.unwrap();
    }
    pool.stop(Duration::from_secs(5)).await;

    let outcomes = outcomes.lock().unwrap().clone();
    let runs: BTreeMap<String, u32> = handler.runs();
    let ok: Vec<&Outcome> = outcomes.iter().filter(|o| o.status == 200).collect();
    assert!(ok.len() >= 20);
    for o in &ok {
        let key = format!("n={}", o.n);
        assert_eq!(
            o.echo.as_deref(),
            Some(key.as_str()),
            "answer for its own request"
        );
        assert_eq!(
            runs.get(&key),
            Some(&1),
            "request {key} told success ran once"
        );
    }
    assert!(
        runs.values().all(|&r| r == 1),
        "nothing ran twice: {runs:?}"
    );
    for o in outcomes.iter().filter(|o| o.status != 200) {
        assert!(
            o.status == 500 || o.status == 504,
            "failures during the outage are vCD's errors, got {}",
            o.status
        );
    }
    assert!(
        pool_reconnected(&outcomes, restarted),
        "requests succeeded after the restart"
    );

    server_bus.delete_queue(&key).await.unwrap();
    server_bus.delete_exchange(&exchange).await.unwrap();
    server_bus.close().await;
    sim_bus.close().await;
}

fn pool_reconnected(outcomes: &[Outcome], restarted: Instant) -> bool {
    outcomes.iter().any(|o| o.status == 200 && o.at > restarted)
}

/// A `transport-server` child process, killed when dropped.
struct ServerProcess {
    child: tokio::process::Child,
}

impl ServerProcess {
    async fn start(
        url: &str,
        exchange: &str,
        key: &str,
        state: &Path,
        log: &Path,
        delay_ms: u64,
        crash_before_reply: bool,
    ) -> Self {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_transport-server"));
        cmd.args(["--url", url, "--exchange", exchange, "--routing-key", key])
            .arg("--state-dir")
            .arg(state)
            .arg("--log")
            .arg(log)
            .args(["--delay-ms", &delay_ms.to_string()])
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true);
        if crash_before_reply {
            cmd.arg("--crash-before-reply");
        }
        let mut child = cmd.spawn().expect("start transport-server");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(Duration::from_secs(20), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if line.trim() == "ready" {
                    return true;
                }
            }
            false
        })
        .await;
        assert_eq!(ready, Ok(true), "transport-server became ready");
        ServerProcess { child }
    }
}

fn log_lines(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn count(lines: &[String], wanted: &str) -> usize {
    lines.iter().filter(|l| l.as_str() == wanted).count()
}

struct CrashSetup {
    url: String,
    exchange: String,
    key: String,
    dir: tempfile::TempDir,
    admin: RabbitBus,
    _lock: cse_bus::testing::BrokerLock,
}

impl CrashSetup {
    async fn new(name: &str) -> Option<Self> {
        cse_bus::tls::install_crypto_provider();
        let broker = cse_bus::testing::test_broker().await?;
        let lock = cse_bus::testing::broker_lock_shared().unwrap();
        let (exchange, key) = unique_names(name);
        let admin = RabbitBus::from_url(&broker.url).unwrap();
        // What `cse install` does: the server only checks the exchange exists.
        admin
            .declare_exchange(&exchange, ExchangeOptions::default())
            .await
            .unwrap();
        Some(CrashSetup {
            url: broker.url.clone(),
            exchange,
            key,
            dir: tempfile::tempdir().unwrap(),
            admin,
            _lock: lock,
        })
    }

    fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("executions.log")
    }

    async fn server(&self, delay_ms: u64, crash_before_reply: bool) -> ServerProcess {
        ServerProcess::start(
            &self.url,
            &self.exchange,
            &self.key,
            &self.state(),
            &self.log(),
            delay_ms,
            crash_before_reply,
        )
        .await
    }

    async fn cleanup(self) {
        let _ = self.admin.delete_queue(&self.key).await;
        let _ = self.admin.delete_exchange(&self.exchange).await;
        self.admin.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_server_mid_request_leads_to_redelivery_and_one_execution() {
    let Some(setup) = CrashSetup::new("kill").await else {
        return;
    };
    let mut first = setup.server(1500, false).await;
    let sim_bus = Arc::new(RabbitBus::from_url(&setup.url).unwrap());
    let router = Arc::new(ExtensionRouter::new(
        sim_bus.clone() as Arc<dyn Bus>,
        Duration::from_secs(10),
    ));
    let front = serve_front(
        router,
        vec![cse_extension(&setup.exchange, &setup.key, true)],
    )
    .await;
    let url = format!("{}/api/cse/c1/info?n=kill", front.base_url);
    let request = tokio::spawn(async move { tenant_client().get(url).send().await });

    let started = Instant::now();
    while count(&log_lines(&setup.log()), "start n=kill") == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the request reached the server"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    first.child.kill().await.expect("SIGKILL the server");
    assert_eq!(
        count(&log_lines(&setup.log()), "done n=kill"),
        0,
        "killed mid-request"
    );

    let mut second = setup.server(100, false).await;
    let resp = request.await.unwrap().expect("HTTP answer");
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["echo"], "n=kill");
    let lines = log_lines(&setup.log());
    assert_eq!(count(&lines, "start n=kill"), 2, "{lines:?}");
    assert_eq!(
        count(&lines, "done n=kill"),
        1,
        "one complete execution: {lines:?}"
    );

    second.child.kill().await.unwrap();
    sim_bus.close().await;
    setup.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_dying_after_the_work_before_the_reply_does_not_run_it_again() {
    let Some(setup) = CrashSetup::new("crash").await else {
        return;
    };
    let mut first = setup.server(0, true).await;
    let sim_bus = Arc::new(RabbitBus::from_url(&setup.url).unwrap());
    let router = Arc::new(ExtensionRouter::new(
        sim_bus.clone() as Arc<dyn Bus>,
        Duration::from_secs(10),
    ));
    let front = serve_front(
        router,
        vec![cse_extension(&setup.exchange, &setup.key, true)],
    )
    .await;
    // A request with effects (a node create): its reply is journaled before it
    // is published. (Reads are not journaled: they may run again.)
    let url = format!("{}/api/cse/c1/node?n=crash", front.base_url);
    let request = tokio::spawn(async move {
        tenant_client()
            .post(url)
            .header("Content-Type", "application/json")
            .body("{}")
            .send()
            .await
    });

    let status = tokio::time::timeout(Duration::from_secs(10), first.child.wait())
        .await
        .expect("the server aborts")
        .unwrap();
    assert!(!status.success());
    let lines = log_lines(&setup.log());
    assert_eq!(
        count(&lines, "done n=crash"),
        1,
        "the work was done: {lines:?}"
    );

    let mut second = setup.server(0, false).await;
    let resp = request.await.unwrap().expect("HTTP answer");
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["echo"], "n=crash");
    let lines = log_lines(&setup.log());
    assert_eq!(
        count(&lines, "start n=crash"),
        1,
        "not executed again: {lines:?}"
    );
    assert_eq!(count(&lines, "done n=crash"), 1, "{lines:?}");

    second.child.kill().await.unwrap();
    sim_bus.close().await;
    setup.cleanup().await;
}
