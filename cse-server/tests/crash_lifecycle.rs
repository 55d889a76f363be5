//! A real `cse run` process stopped gracefully: through `PUT /api/cse/system`
//! (disable, then stop: the running operation finishes, new work is refused,
//! the process exits) and by SIGTERM.

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::process::tenant_call;

fn wait_exit(child: &mut std::process::Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "cse run did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cse_run_stops_gracefully_through_the_api_and_on_sigterm() {
    let Some(mut rig) = support::process::Rig::start(0.008).await else {
        return;
    };
    let h = &rig.h;
    let alice = h.alice().await;
    let admin = h.sysadmin().await;

    // Wait for the listener, then start an operation.
    let deadline = Instant::now() + Duration::from_secs(30);
    let created = loop {
        let (status, body) = tenant_call(
            h,
            &alice,
            "POST",
            "/api/cse",
            Some(json!({"name": "g1", "node_count": 1, "vdc": "vdc1", "network": "net1"})),
        )
        .await;
        if status == 202 {
            break body;
        }
        assert!(Instant::now() < deadline, "{status} {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let (status, info) = tenant_call(h, &admin, "GET", "/api/cse/system", None).await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["status"], "Running");
    assert_eq!(info["consumer_threads"], 1);

    let (status, body) = tenant_call(
        h,
        &admin,
        "PUT",
        "/api/cse/system",
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!((status, body["message"].as_str()), (200, Some("Updated")));
    let (status, body) = tenant_call(h, &alice, "GET", "/api/cse", None).await;
    assert_eq!(status, 500);
    assert_eq!(
        body["message"],
        "CSE service is disabled. Contact the System Administrator."
    );
    let (status, body) = tenant_call(
        h,
        &admin,
        "PUT",
        "/api/cse/system",
        Some(json!({"stopped": true})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("CSE graceful shutdown started."),
        "{body}"
    );
    let exit = wait_exit(rig.server.child.as_mut().unwrap(), Duration::from_secs(60));
    assert!(exit.success(), "{exit:?}\n{}", rig.server.log_text());
    rig.server.child = None;
    let (status, _, error) = h.wait_task(created["task_href"].as_str().unwrap()).await;
    assert_eq!(
        status, "success",
        "the running create finished before the exit: {error}"
    );

    // SIGTERM.
    rig.server.start();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, _) = tenant_call(h, &alice, "GET", "/api/cse/template", None).await;
        if status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "restarted server never answered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pid = rig.server.child.as_ref().unwrap().id();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let exit = wait_exit(rig.server.child.as_mut().unwrap(), Duration::from_secs(20));
    assert!(exit.success(), "{exit:?}");
    rig.server.child = None;
    let log = rig.server.log_text();
    assert!(log.contains("signal received"), "{log}");
    assert!(
        log.contains("request_id"),
        "requests are logged with their id"
    );
    rig.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cse_run_refuses_a_bad_config_and_a_missing_installation() {
    use std::os::unix::fs::PermissionsExt;
    let h = support::start().await;
    let dir = tempfile::tempdir().unwrap();
    let run = |config: &std::path::Path, extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_cse"))
            .args(["run", "-c"])
            .arg(config)
            .args(extra)
            .output()
            .unwrap()
    };

    let missing = run(&dir.path().join("nope.yaml"), &[]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("invalid configuration"));

    // A valid config, but the template was never installed: the check fails
    // before any listener starts.
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, h.config.to_yaml()).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let output = tokio::task::spawn_blocking(move || run(&path, &[]))
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("template 'photon-v2' is not installed in catalog 'cse'")
            && stderr.contains("run `cse install`"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(h.config.vcd.password.as_ref().map_or("", |p| p.expose())),
        "{stderr}"
    );
}
