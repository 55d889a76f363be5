//! Faults on the extension transport, against the real broker:
//! - RabbitMQ is stopped and started under about 100 tenant requests a second:
//!   no request the client was told succeeded is lost, none runs twice, and the
//!   server reconnects by itself (figures: reconnect time, requests lost);
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
use tests::figures;
use tests::transport::{
    BrokerOutage, Recorder, cse_extension, serve_front, start_server, tenant_client, unique_names,
};
use tokio::io::{AsyncBufReadExt, BufReader};
use vcd_sim::ext::ExtensionRouter;

/// One tenant request of the load and how it ended.
#[derive(Debug, Clone)]
struct Outcome {
    n: u32,
    sent: Instant,
    status: u16,
    echo: Option<String>,
    at: Instant,
}

/// One broker restart: when the broker was stopped and back.
struct Restart {
    stopped: Instant,
    back: Instant,
}

/// About 100 tenant requests a second (a change each: `POST`), through the
/// simulator's extension routing and the real broker into a listener pool;
/// RabbitMQ is restarted (`stop_app`, `start_app`) mid-stream, once in the
/// short form and three times over a minute in the long form
/// (`CSE_RELIABILITY=long`). No request the tenant was told succeeded is lost
/// or runs twice, failures during the outage are vCD's errors, and the
/// server reconnects by itself. Figures: reconnect time (stop → first request
/// sent after the restart served) and requests lost / executed twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_restart_under_100_requests_per_second_loses_none_and_runs_none_twice() {
    cse_bus::tls::install_crypto_provider();
    let Some(broker) = cse_bus::testing::test_broker().await else {
        return;
    };
    let long = figures::long_form();
    let (restarts, between, outage) = if long {
        (3, Duration::from_secs(15), Duration::from_secs(2))
    } else {
        (1, Duration::from_secs(2), Duration::from_millis(500))
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
        ReplyJournal::in_memory(16_384),
    )
    .await;
    let sim_bus = Arc::new(RabbitBus::from_url(&broker.url).unwrap());
    let router = Arc::new(ExtensionRouter::new(
        sim_bus.clone() as Arc<dyn Bus>,
        Duration::from_secs(2),
    ));
    let front = serve_front(router, vec![cse_extension(&exchange, &key, true)]).await;

    // The load: one request every 10 ms, each on its own task, whatever the
    // earlier ones are doing.
    let stop = Arc::new(AtomicBool::new(false));
    let outcomes = Arc::new(std::sync::Mutex::new(Vec::<Outcome>::new()));
    let load = {
        let (stop, outcomes, base) = (stop.clone(), outcomes.clone(), front.base_url.clone());
        tokio::spawn(async move {
            let client = tenant_client();
            let mut tick = tokio::time::interval(Duration::from_millis(10));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            let mut requests = Vec::new();
            let mut n = 0u32;
            while !stop.load(Ordering::SeqCst) {
                tick.tick().await;
                let (client, outcomes, base) = (client.clone(), outcomes.clone(), base.clone());
                requests.push(tokio::spawn(async move {
                    let sent = Instant::now();
                    let result = client
                        .post(format!("{base}/api/cse/stream/node?n={n}"))
                        .header("Content-Type", "application/json")
                        .body("{}")
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
                    let at = Instant::now();
                    outcomes.lock().unwrap().push(Outcome {
                        n,
                        sent,
                        status,
                        echo,
                        at,
                    });
                }));
                n += 1;
            }
            for r in requests {
                r.await.unwrap();
            }
            n
        })
    };
    let served_after = |since: Instant| {
        outcomes
            .lock()
            .unwrap()
            .iter()
            .filter(|o| o.status == 200 && o.sent > since)
            .map(|o| o.at)
            .min()
    };
    let started = Instant::now();
    let mut history = Vec::new();
    for _ in 0..restarts {
        let quiet = Instant::now();
        while served_after(quiet).is_none() {
            assert!(
                quiet.elapsed() < Duration::from_secs(30),
                "no request served before the restart"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(between).await;
        let stopped = Instant::now();
        let mut broker_down = BrokerOutage::begin().expect("rabbitmqctl stop_app");
        tokio::time::sleep(outage).await;
        broker_down.end().expect("rabbitmqctl start_app");
        history.push(Restart {
            stopped,
            back: Instant::now(),
        });
    }
    let last = history.last().expect("a restart").back;
    while served_after(last).is_none() {
        assert!(
            last.elapsed() < Duration::from_secs(30),
            "the server did not come back by itself within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(between).await;
    stop.store(true, Ordering::SeqCst);
    let sent = load.await.unwrap();
    let load_time = started.elapsed();
    pool.stop(Duration::from_secs(5)).await;

    let outcomes = outcomes.lock().unwrap().clone();
    let runs: BTreeMap<String, u32> = handler.runs();
    let ok: Vec<&Outcome> = outcomes.iter().filter(|o| o.status == 200).collect();
    assert_eq!(outcomes.len(), sent as usize, "every request ended");
    // Lost: told success, yet not executed (exactly once) or not its own answer.
    let lost: Vec<u32> = ok
        .iter()
        .filter(|o| {
            let key = format!("n={}", o.n);
            o.echo.as_deref() != Some(key.as_str()) || runs.get(&key) != Some(&1)
        })
        .map(|o| o.n)
        .collect();
    let twice: Vec<(&String, &u32)> = runs.iter().filter(|&(_, &r)| r > 1).collect();
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| o.status != 200).collect();
    let failed_but_run = failed
        .iter()
        .filter(|o| runs.contains_key(&format!("n={}", o.n)))
        .count();
    for o in &failed {
        assert!(
            o.status == 500 || o.status == 504,
            "failures during the outage are vCD's errors, got {}",
            o.status
        );
    }
    for (i, restart) in history.iter().enumerate() {
        let served = served_after(restart.back).expect("served after each restart");
        figures::record(
            "R2",
            &format!(
                "restart {}: broker down {} ms (rabbitmqctl stop_app, 0.5-2 s, start_app, await_startup); reconnect: stop -> first request sent after the restart served {} ms, broker back -> served {} ms",
                i + 1,
                (restart.back - restart.stopped).as_millis(),
                (served - restart.stopped).as_millis(),
                (served - restart.back).as_millis(),
            ),
        );
    }
    figures::record(
        "R2",
        &format!(
            "{sent} requests in {:.1} s ({:.0}/s): {} served, {} answered with vCD's error during the outage ({failed_but_run} of them executed); lost acknowledged {}, executed twice {}",
            load_time.as_secs_f64(),
            f64::from(sent) / load_time.as_secs_f64(),
            ok.len(),
            failed.len(),
            lost.len(),
            twice.len(),
        ),
    );
    assert!(lost.is_empty(), "requests told success but lost: {lost:?}");
    assert!(twice.is_empty(), "requests executed twice: {twice:?}");
    assert!(ok.len() >= 100, "only {} requests served", ok.len());

    server_bus.delete_queue(&key).await.unwrap();
    server_bus.delete_exchange(&exchange).await.unwrap();
    server_bus.close().await;
    sim_bus.close().await;
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
