//! `vcd-sim serve` as a process with the control API, snapshots and
//! recording: `/_sim/` is 404 unless `--control-api`, the token comes from
//! the info file (0600); `--load` starts from an exported snapshot and
//! exports the same bytes; `--record` writes every exchange with secrets
//! redacted, and `vcd-sim replay-check` agrees on two identical runs and
//! reports where a faulted run differs.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Sim {
    child: Child,
    info: serde_json::Value,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

fn serve(dir: &Path, name: &str, extra: &[&str]) -> Sim {
    let info_file = dir.join(format!("{name}.json"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_vcd-sim"))
        .args([
            "serve",
            "--plain-http",
            "--bind",
            "127.0.0.1:0",
            "--time-scale",
            "0",
        ])
        .arg("--info-file")
        .arg(&info_file)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start vcd-sim");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(text) = std::fs::read_to_string(&info_file)
            && let Ok(info) = serde_json::from_str(&text)
        {
            return Sim { child, info };
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("vcd-sim exited early: {status}");
        }
        assert!(Instant::now() < deadline, "no info file");
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Sim {
    fn url(&self) -> String {
        self.info["vcd_url"].as_str().unwrap().to_owned()
    }
    fn token(&self) -> String {
        self.info["control_token"].as_str().unwrap().to_owned()
    }
}

async fn session(http: &reqwest::Client, sim: &Sim) -> String {
    let r = http
        .post(format!("{}/api/sessions", sim.url()))
        .basic_auth("alice@acme", Some("alice-pw"))
        .header("Accept", "application/*+xml;version=32.0")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.headers()["x-vcloud-authorization"]
        .to_str()
        .unwrap()
        .to_owned()
}

/// The same few calls every run makes: log in, list orgs, read the org.
async fn some_calls(http: &reqwest::Client, sim: &Sim) {
    let token = session(http, sim).await;
    for path in ["/api/org", "/api/versions", "/api/org"] {
        let r = http
            .get(format!("{}{path}", sim.url()))
            .header("x-vcloud-authorization", &token)
            .header("Accept", "application/*+xml;version=32.0")
            .send()
            .await
            .unwrap();
        let _ = r.text().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_api_is_off_unless_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let plain = serve(dir.path(), "plain", &[]);
    assert!(plain.info.get("control_token").is_none());
    let r = reqwest::get(format!("{}/_sim/about", plain.url()))
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    let controlled = serve(dir.path(), "controlled", &["--control-api"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("controlled.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the info file holds the token");
    }
    assert_eq!(
        controlled.info["control_url"].as_str().unwrap(),
        format!("{}/_sim", controlled.url())
    );
    let http = reqwest::Client::new();
    let r = http
        .get(format!("{}/_sim/about", controlled.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = http
        .get(format!("{}/_sim/about", controlled.url()))
        .bearer_auth(controlled.token())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_starts_from_a_snapshot_and_reset_goes_back_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let http = reqwest::Client::new();
    let first = serve(dir.path(), "first", &["--control-api"]);
    // Some state beyond the world: a session-independent change (guest time).
    let r = http
        .post(format!("{}/_sim/clock/advance", first.url()))
        .bearer_auth(first.token())
        .json(&serde_json::json!({"by_ms": 86_400_000}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let snapshot = http
        .get(format!("{}/_sim/snapshot", first.url()))
        .bearer_auth(first.token())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let file = dir.path().join("snapshot.json");
    std::fs::write(&file, &snapshot).unwrap();

    let second = serve(
        dir.path(),
        "second",
        &["--control-api", "--load", file.to_str().unwrap()],
    );
    let export = |sim: &Sim| {
        let http = http.clone();
        let (url, token) = (sim.url(), sim.token());
        async move {
            http.get(format!("{url}/_sim/snapshot"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap()
        }
    };
    let without_ports = |b: &[u8]| {
        regex::Regex::new(r"127\.0\.0\.1:\d+")
            .unwrap()
            .replace_all(&String::from_utf8_lossy(b), "{host}")
            .into_owned()
    };
    let loaded = export(&second).await;
    assert!(
        without_ports(&loaded) == without_ports(&snapshot),
        "a loaded snapshot exports the same (but the vCenter's port)"
    );
    assert!(String::from_utf8_lossy(&loaded).contains("\"time_offset_ms\": 86400000"));
    let r = http
        .post(format!("{}/_sim/reset", second.url()))
        .bearer_auth(second.token())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(without_ports(&export(&second).await) == without_ports(&snapshot));

    let broken = dir.path().join("broken.json");
    std::fs::write(
        &broken,
        "{\"format\": \"vcd-sim-snapshot\", \"version\": 7}",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_vcd-sim"))
        .args(["serve", "--plain-http", "--bind", "127.0.0.1:0", "--load"])
        .arg(&broken)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("version 7"), "{err}");
}

fn replay_check(a: &Path, b: &Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vcd-sim"))
        .arg("replay-check")
        .args([a, b])
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recordings_redact_secrets_and_replay_check_finds_differences() {
    let dir = tempfile::tempdir().unwrap();
    let http = reqwest::Client::new();
    let mut recordings: Vec<PathBuf> = Vec::new();
    for (i, fault) in [false, false, true].into_iter().enumerate() {
        let rec = dir.path().join(format!("run{i}"));
        let sim = serve(
            dir.path(),
            &format!("run{i}"),
            &["--control-api", "--record", rec.to_str().unwrap()],
        );
        if fault {
            let r = http
                .post(format!("{}/_sim/faults", sim.url()))
                .bearer_auth(sim.token())
                .json(&serde_json::json!({"surface": "vcd", "match": {"path_contains": "/api/versions"}, "effect": 503}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
        }
        some_calls(&http, &sim).await;
        drop(sim);
        recordings.push(rec);
    }
    let text = std::fs::read_to_string(recordings[0].join("exchanges.jsonl")).unwrap();
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(!text.contains("alice-pw") && !text.contains("YWxpY2VAYWNtZTphbGljZS1wdw"));
    assert!(text.contains("\"authorization\":\"<redacted>\""), "{text}");
    assert!(
        text.contains("\"x-vcloud-authorization\":\"<redacted>\""),
        "{text}"
    );
    assert!(!text.contains("/_sim/"), "control calls are not recorded");
    let login: serde_json::Value =
        serde_json::from_str(&vcd_sim::record::normalize(text.lines().next().unwrap())).unwrap();
    insta::assert_json_snapshot!("recorded_login", login);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(recordings[0].join("exchanges.jsonl"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let (same, out) = replay_check(&recordings[0], &recordings[1]);
    assert!(same, "two identical runs agree: {out}");
    let (same, out) = replay_check(&recordings[0], &recordings[2]);
    assert!(!same);
    assert!(
        out.contains("GET /api/versions: status Some(200) became Some(503)"),
        "{out}"
    );
}
