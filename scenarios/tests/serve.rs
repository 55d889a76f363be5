//! `cse-scenario serve` as a user meets it: it writes its info file, the
//! tenant CLI `vcd-cse` logs in to the URL it names and creates a cluster
//! from the template it built, and Ctrl+C stops it cleanly; the same over
//! MQTT (`--transport mqtt --vcd-release 10.6`), refused on a release
//! without MQTT.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn vcd_cse_bin() -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_cse-scenario"))
        .parent()
        .unwrap()
        .join("vcd-cse");
    if !path.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "cse-tenant", "--bin", "vcd-cse"])
            .status()
            .unwrap();
        assert!(status.success());
    }
    path
}

fn vcd_cse(home: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(vcd_cse_bin())
        .args(args)
        .env("VCD_CSE_HOME", home)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn serve_writes_its_info_serves_vcd_cse_and_stops_on_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let info_path = dir.path().join("info.json");
    let log_path = dir.path().join("serve.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cse-scenario"))
        .args(["serve", "--time-scale", "0", "--info-file"])
        .arg(&info_path)
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let info: serde_json::Value = loop {
        if let Ok(text) = std::fs::read_to_string(&info_path)
            && let Ok(info) = serde_json::from_str(&text)
        {
            break info;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "serve exited early ({status}): {}",
                std::fs::read_to_string(&log_path).unwrap()
            );
        }
        assert!(Instant::now() < deadline, "no info file");
        std::thread::sleep(Duration::from_millis(100));
    };
    let url = info["vcd_url"].as_str().unwrap();
    let config = info["cse_config"].as_str().unwrap();
    assert!(
        std::fs::read_to_string(config)
            .unwrap()
            .contains("catalog: cse")
    );

    let home = dir.path().join("vcd-cse");
    let (ok, out) = vcd_cse(
        &home,
        &["login", url, "acme", "alice", "-i", "-p", "alice-pw"],
    );
    assert!(ok, "{out}");
    let (ok, out) = vcd_cse(&home, &["template", "list"]);
    assert!(ok && out.contains("photon-v2"), "{out}");
    let (ok, out) = vcd_cse(
        &home,
        &[
            "cluster", "create", "demo", "-n", "net1", "-N", "1", "--wait",
        ],
    );
    assert!(ok, "{out}");
    let (ok, out) = vcd_cse(&home, &["cluster", "list", "--json"]);
    assert!(ok && out.contains("\"demo\""), "{out}");

    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGINT");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        status.success(),
        "{status}: {}",
        std::fs::read_to_string(&log_path).unwrap()
    );
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
#[test]
fn serve_keeps_its_secrets_private_and_removes_them_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let info_path = dir.path().join("info.json");
    let log_path = dir.path().join("serve.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cse-scenario"))
        .args(["serve", "--time-scale", "0", "--info-file"])
        .arg(&info_path)
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let info: serde_json::Value = loop {
        if let Ok(text) = std::fs::read_to_string(&info_path)
            && let Ok(info) = serde_json::from_str(&text)
        {
            break info;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "serve exited early ({status}): {}",
                std::fs::read_to_string(&log_path).unwrap()
            );
        }
        assert!(Instant::now() < deadline, "no info file");
        std::thread::sleep(Duration::from_millis(100));
    };
    // The info file holds every account's password; the generated config and the reply
    // journal live in a private temporary directory.
    assert_eq!(mode(&info_path), 0o600, "info file");
    let config = PathBuf::from(info["cse_config"].as_str().unwrap());
    let temp_dir = config.parent().unwrap().to_path_buf();
    assert_eq!(mode(&config), 0o600, "generated config");
    assert_eq!(mode(&temp_dir), 0o700, "temporary directory");
    let state = temp_dir.join("cse-state");
    assert_eq!(mode(&state), 0o700, "state directory");
    assert_eq!(
        mode(&state.join("amqp-replies.jsonl")),
        0o600,
        "reply journal"
    );

    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        status.success(),
        "{status}: {}",
        std::fs::read_to_string(&log_path).unwrap()
    );
    assert!(
        !temp_dir.exists(),
        "the temporary directory with the config's passwords is removed"
    );
}

/// Starts `cse-scenario serve --time-scale 0 --info-file … <args>`; the
/// child and its info JSON.
fn start_serve(dir: &Path, args: &[&str]) -> (std::process::Child, serde_json::Value, PathBuf) {
    let info_path = dir.join("info.json");
    let log_path = dir.join("serve.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cse-scenario"))
        .args(["serve", "--time-scale", "0", "--info-file"])
        .arg(&info_path)
        .args(args)
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(text) = std::fs::read_to_string(&info_path)
            && let Ok(info) = serde_json::from_str(&text)
        {
            return (child, info, log_path);
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "serve exited early ({status}): {}",
                std::fs::read_to_string(&log_path).unwrap()
            );
        }
        assert!(Instant::now() < deadline, "no info file");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn serve_over_mqtt_serves_vcd_cse_through_the_simulated_broker() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, info, log_path) = start_serve(
        dir.path(),
        &["--transport", "mqtt", "--vcd-release", "10.6"],
    );
    assert_eq!(info["transport"], "mqtt");
    let config = std::fs::read_to_string(info["cse_config"].as_str().unwrap()).unwrap();
    assert!(
        config.contains("\nmqtt:") && config.contains("vendor: VMware"),
        "{config}"
    );
    let url = info["vcd_url"].as_str().unwrap();
    let home = dir.path().join("vcd-cse");
    let (ok, out) = vcd_cse(
        &home,
        &["login", url, "acme", "alice", "-i", "-p", "alice-pw"],
    );
    assert!(ok, "{out}");
    let (ok, out) = vcd_cse(&home, &["template", "list"]);
    assert!(ok && out.contains("photon-v2"), "{out}");
    let (ok, out) = vcd_cse(&home, &["cluster", "list", "--json"]);
    assert!(ok, "{out}");
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.contains("serving over MQTT"), "{log}");

    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGINT");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        status.success(),
        "{status}: {}",
        std::fs::read_to_string(&log_path).unwrap()
    );
}

#[test]
fn serve_over_mqtt_on_a_release_without_it_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_cse-scenario"))
        .args(["serve", "--transport", "mqtt", "--vcd-release", "10.0"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("transport mqtt needs vCD 10.3 or later, but the simulator plays vCD 10.0"),
        "{text}"
    );
}
