//! What the live-target tests share: child processes killed when dropped,
//! sibling binaries, a `vcd-sim serve` process and its info file, the
//! administrator's config (0600), `cse install`, a `cse run` process and
//! waiting for it to serve, the `cse-scenario run --target live` replay.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use cse_core::config::Config;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// A child process killed when dropped.
pub struct Process {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Process {
    pub fn spawn(name: &'static str, command: &mut Command, log: PathBuf) -> Process {
        let file = std::fs::File::create(&log).unwrap();
        let child = command
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Process { name, child, log }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn assert_running(&mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!("{} exited early ({status}):\n{}", self.name, self.log());
        }
    }

    /// SIGTERM, then a bounded wait; the exit status.
    pub fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A binary of another workspace package, next to `cse-scenario`; built
/// when a partial build did not produce it.
pub fn sibling_bin(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_BIN_EXE_cse-scenario"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = dir.join(name);
    if !path.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "vcd-sim", "-p", "cse-server", "--bins"])
            .status()
            .unwrap();
        assert!(
            status.success(),
            "building the vcd-sim and cse binaries failed"
        );
    }
    assert!(path.exists(), "{} not found", path.display());
    path
}

pub fn wait_for_file(path: &Path, sim: &mut Process) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && text.trim_end().ends_with('}')
        {
            return text;
        }
        sim.assert_running();
        assert!(Instant::now() < deadline, "no info file:\n{}", sim.log());
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until `cse run` answers `GET /api/cse/system` through vCD.
pub async fn wait_until_serving(vcd_url: &str, user: &str, password: &str, server: &mut Process) {
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    // The legacy login at 29.0 where the release has it, else CloudAPI at 39.0.
    let (header, token, version) = match legacy_login(&http, vcd_url, user, password).await {
        Some(token) => ("x-vcloud-authorization", token, "29.0"),
        None => (
            "authorization",
            format!("Bearer {}", provider_jwt(vcd_url, user, password).await),
            "39.0",
        ),
    };
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        server.assert_running();
        let reply = http
            .get(format!("{vcd_url}/api/cse/system"))
            .header("Accept", format!("application/*+json;version={version}"))
            .header(header, &token)
            .send()
            .await;
        if let Ok(reply) = reply
            && reply.status().as_u16() == 200
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "cse run never answered:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `POST /api/sessions` as the system administrator; `None` where the vCD
/// release no longer has it (405 from API 38.0).
async fn legacy_login(
    http: &reqwest::Client,
    vcd_url: &str,
    user: &str,
    password: &str,
) -> Option<String> {
    let login = http
        .post(format!("{vcd_url}/api/sessions"))
        .header("Accept", "application/*+xml;version=29.0")
        .basic_auth(format!("{user}@System"), Some(password))
        .send()
        .await
        .unwrap();
    if login.status().as_u16() != 200 {
        return None;
    }
    Some(
        login.headers()["x-vcloud-authorization"]
            .to_str()
            .unwrap()
            .to_owned(),
    )
}

/// A CloudAPI provider session's JWT for the system administrator.
pub async fn provider_jwt(vcd_url: &str, user: &str, password: &str) -> String {
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let login = http
        .post(format!("{vcd_url}/cloudapi/1.0.0/sessions/provider"))
        .header("Accept", "application/json;version=39.0")
        .basic_auth(format!("{user}@System"), Some(password))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 200, "provider login");
    login.headers()["x-vmware-vcloud-access-token"]
        .to_str()
        .unwrap()
        .to_owned()
}

/// A new API token (a refresh token) of the system administrator, created
/// through CloudAPI the way an operator creates one for automation.
pub async fn provider_api_token(vcd_url: &str, user: &str, password: &str) -> String {
    let jwt = provider_jwt(vcd_url, user, password).await;
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let created = http
        .post(format!("{vcd_url}/cloudapi/1.0.0/tokens"))
        .header("Accept", "application/json;version=39.0")
        .bearer_auth(jwt)
        .json(&serde_json::json!({"name": "cse-live", "type": "REFRESH"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 200, "token creation");
    let doc: serde_json::Value = created.json().await.unwrap();
    doc["token"]
        .as_str()
        .expect("the token's secret")
        .to_owned()
}

/// A `vcd-sim serve` process and what its info file says.
pub struct LiveSim {
    /// The process (killed when dropped).
    pub process: Process,
    /// The info file's path.
    pub info_path: PathBuf,
    /// The info file, typed.
    pub info: vcd_sim::serve::SimInfo,
    /// The info file as JSON (`control_url`, `control_token`, …).
    pub json: serde_json::Value,
}

impl LiveSim {
    /// Starts `vcd-sim serve --bind 127.0.0.1:0 --info-file … <args>` from
    /// `bin` and waits for its info file.
    pub fn start(bin: PathBuf, dir: &Path, args: &[&str]) -> LiveSim {
        let info_path = dir.join("sim.json");
        let mut command = Command::new(bin);
        command
            .args(["serve", "--bind", "127.0.0.1:0", "--info-file"])
            .arg(&info_path)
            .args(args);
        let mut process = Process::spawn("vcd-sim serve", &mut command, dir.join("vcd-sim.log"));
        let text = wait_for_file(&info_path, &mut process);
        let info: vcd_sim::serve::SimInfo = serde_json::from_str(&text).unwrap();
        let json = serde_json::from_str(&text).unwrap();
        assert!(info.vcd_url.starts_with("https://"), "{}", info.vcd_url);
        LiveSim {
            process,
            info_path,
            info,
            json,
        }
    }

    /// The vCD's URL.
    pub fn vcd_url(&self) -> &str {
        &self.info.vcd_url
    }
}

/// The broker section of a config for RabbitMQ at `url`: an exchange and a
/// routing key of the test's own, two listeners.
pub fn use_rabbitmq(config: &mut Config, url: &str) {
    scenarios::targets::sim::apply_amqp_url(config, url).unwrap();
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    config.amqp.exchange = format!("cse-live-{suffix}");
    config.amqp.routing_key = format!("cse-live-{suffix}");
    config.service.listeners = 2;
}

/// Writes the administrator's config into `dir` (0600); its path.
pub fn write_config(dir: &Path, config: &Config) -> PathBuf {
    let path = dir.join("config.yaml");
    cse_core::config::write_private_file(&path, config.to_yaml().as_bytes()).unwrap();
    path
}

/// `cse install --yes <extra>` in a process of its own (it reaches the
/// config's RabbitMQ).
pub fn cse_install(config_path: &Path, extra: &[&str]) {
    let install = Command::new(sibling_bin("cse"))
        .args(["install", "--yes"])
        .args(extra)
        .arg("-c")
        .arg(config_path)
        .current_dir(config_path.parent().unwrap())
        .output()
        .unwrap();
    assert!(
        install.status.success(),
        "cse install failed:\n{}{}",
        String::from_utf8_lossy(&install.stdout),
        String::from_utf8_lossy(&install.stderr)
    );
}

/// `cse run -c <config>` in a process of its own, once it answers
/// `GET /api/cse/system` through the vCD.
pub async fn start_cse_run(config_path: &Path, sim: &LiveSim) -> Process {
    let dir = config_path.parent().unwrap();
    let mut server = Process::spawn(
        "cse run",
        Command::new(sibling_bin("cse"))
            .args(["run", "-c"])
            .arg(config_path)
            .current_dir(dir)
            .env("RUST_LOG", "info"),
        dir.join("cse-run.log"),
    );
    wait_until_serving(
        sim.vcd_url(),
        &sim.info.sysadmin.user,
        &sim.info.sysadmin.password,
        &mut server,
    )
    .await;
    server
}

/// `cse-scenario run --target live --insecure -c <config> --vcd-url …
/// <extra> <file>` in a process of its own; asserts it passed and returns
/// the report's first scenario.
pub async fn replay_live(
    config_path: &Path,
    sim: &LiveSim,
    extra: &[&str],
    file: &Path,
    server: &Process,
) -> serde_json::Value {
    let dir = config_path.parent().unwrap();
    let report_path = dir.join("report.json");
    let replay = tokio::process::Command::new(env!("CARGO_BIN_EXE_cse-scenario"))
        .args(["run", "--target", "live", "--insecure", "-c"])
        .arg(config_path)
        .arg("--vcd-url")
        .arg(sim.vcd_url())
        .args(extra)
        .arg("--report")
        .arg(&report_path)
        .arg(file)
        .current_dir(dir)
        .output()
        .await
        .unwrap();
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&replay.stdout),
        String::from_utf8_lossy(&replay.stderr)
    );
    println!("{output}");
    assert!(
        replay.status.success(),
        "live replay failed:\n{output}\n--- cse run ---\n{}\n--- vcd-sim ---\n{}",
        server.log(),
        sim.process.log()
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    let scenario = report["scenarios"][0].clone();
    assert_eq!(scenario["target"], "live");
    assert_eq!(scenario["passed"], true);
    let steps = scenario["steps"].as_array().unwrap();
    assert!(steps.iter().all(|s| s["status"] == "passed"), "{report:#}");
    scenario
}

/// Removes the test's exchange and queue from RabbitMQ.
pub async fn tidy_rabbitmq(url: &str, config: &Config) {
    use cse_bus::Bus;
    let rabbit = cse_bus::RabbitBus::from_url(url).unwrap();
    rabbit.delete_queue(&config.amqp.routing_key).await.ok();
    rabbit.delete_exchange(&config.amqp.exchange).await.ok();
    rabbit.close().await;
}
