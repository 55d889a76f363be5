//! What the live-target tests share: child processes killed when dropped,
//! sibling binaries, the info file, waiting for `cse run` to serve.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
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
