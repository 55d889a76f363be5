//! A real `cse run` process against the simulator, with requests routed by
//! the simulator over RabbitMQ (`CSE_TEST_AMQP_URL`): the rig behind the crash
//! and lifecycle tests.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use cse_bus::{Bus, ExchangeOptions, RabbitBus};
use cse_core::config::{Seconds, Secret};
use serde_json::Value;
use vcd_sim::assembly::BusChoice;
use vcd_sim::clock::Clock;

use super::{API, Harness, prepare_template, register_extension, start_with};

/// A `cse run` child process.
pub struct Server {
    pub config: PathBuf,
    pub log: PathBuf,
    /// `RUST_LOG` of the process.
    pub log_filter: String,
    pub child: Option<Child>,
}

impl Server {
    pub fn start(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_cse"))
            .args(["run", "-c"])
            .arg(&self.config)
            .arg("-s")
            .env("RUST_LOG", &self.log_filter)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("cse run starts");
        self.child = Some(child);
    }

    /// SIGKILL.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL");
            child.wait().unwrap();
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A simulator whose extension routing goes over the test broker
/// (`CSE_TEST_AMQP_URL`) on an exchange and routing key of the test's own,
/// its template prepared and the extension registered: what the tests with
/// real `cse run` processes start from.
pub struct OnRabbit {
    pub h: Harness,
    pub rabbit: RabbitBus,
    pub exchange: String,
    pub key: String,
    pub lock: cse_bus::testing::BrokerLock,
}

impl OnRabbit {
    /// `None` when no broker is configured (the test is skipped). `prefix`
    /// names the exchange and key; the config (one listener, a 500 ms
    /// shutdown grace, the broker's address) can be changed by `configure`.
    pub async fn start(
        prefix: &str,
        scale: f64,
        configure: impl FnOnce(&mut cse_core::config::Config),
    ) -> Option<OnRabbit> {
        cse_bus::tls::install_crypto_provider();
        let broker = cse_bus::testing::test_broker().await?;
        let lock = cse_bus::testing::broker_lock_shared().unwrap();
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let (exchange, key) = (
            format!("{prefix}-ex-{suffix}"),
            format!("{prefix}-q-{suffix}"),
        );
        let rabbit = RabbitBus::from_url(&broker.url).unwrap();
        rabbit
            .declare_exchange(&exchange, ExchangeOptions::default())
            .await
            .unwrap();
        let url = url::Url::parse(&broker.url).unwrap();
        let h = start_with(
            |b| {
                b.bus(BusChoice::Rabbit(broker.url.clone()))
                    .clock(Clock::scaled(scale))
            },
            |config| {
                config.amqp.host = url.host_str().unwrap().to_owned();
                config.amqp.port = url.port().unwrap_or(5672);
                config.amqp.username = url.username().to_owned();
                config.amqp.password = Secret::new(url.password().unwrap_or_default());
                config.amqp.vhost = "/".into();
                config.amqp.exchange = exchange.clone();
                config.amqp.routing_key = key.clone();
                config.service.listeners = 1;
                config.timeouts.shutdown_grace = Seconds::from_millis(500);
                configure(config);
            },
        )
        .await;
        prepare_template(&h).await;
        register_extension(&h).await;
        Some(OnRabbit {
            h,
            rabbit,
            exchange,
            key,
            lock,
        })
    }
}

/// Writes `h`'s config into `dir` (0600); its path.
pub fn write_config(h: &Harness, dir: &Path) -> PathBuf {
    let path = dir.join("config.yaml");
    std::fs::write(&path, h.config.to_yaml()).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

/// Simulator (RabbitMQ routing, clock scaled by `scale`), template, extension
/// registration and a started `cse run`.
pub struct Rig {
    pub h: Harness,
    pub server: Server,
    pub rabbit: RabbitBus,
    pub exchange: String,
    pub key: String,
    /// The config file's directory (and the server's `cse-state/`).
    pub dir: tempfile::TempDir,
    _lock: cse_bus::testing::BrokerLock,
}

impl Rig {
    /// `None` when no broker is configured (the test is skipped).
    pub async fn start(scale: f64) -> Option<Rig> {
        Rig::start_logging(scale, "info,cse_server=debug").await
    }

    /// Like [`Rig::start`], the server logging with this `RUST_LOG` filter.
    pub async fn start_logging(scale: f64, log_filter: &str) -> Option<Rig> {
        let OnRabbit {
            h,
            rabbit,
            exchange,
            key,
            lock,
        } = OnRabbit::start("crash", scale, |config| {
            config.timeouts.lease_ttl = Seconds::from_millis(600);
        })
        .await?;
        let dir = tempfile::tempdir().unwrap();
        let mut server = Server {
            config: write_config(&h, dir.path()),
            log: dir.path().join("cse.log"),
            log_filter: log_filter.to_owned(),
            child: None,
        };
        server.start();
        Some(Rig {
            h,
            server,
            rabbit,
            exchange,
            key,
            dir,
            _lock: lock,
        })
    }

    pub async fn cleanup(self) {
        let Rig {
            mut server,
            rabbit,
            exchange,
            key,
            ..
        } = self;
        server.kill();
        rabbit.delete_queue(&key).await.ok();
        rabbit.delete_exchange(&exchange).await.ok();
        rabbit.close().await;
    }
}

/// A tenant's HTTP request through the simulator's `/api/cse` (extension routing).
pub async fn tenant_call(
    h: &Harness,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let mut request = http
        .request(
            method.parse().unwrap(),
            format!("{}{path}", h.sim.base_url()),
        )
        .header("Accept", format!("application/*+json;version={API}"))
        .header("x-vcloud-authorization", token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}
