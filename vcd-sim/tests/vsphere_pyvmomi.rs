//! Real pyVmomi against the simulated vCenter over HTTPS: the current 9.x
//! (Fetch, vimServiceVersions.xml) and 6.7.1 (RetrievePropertiesEx), each
//! connecting, finding the VM, running a program until it exits and moving a
//! file both ways (tests/python/pyvmomi_guest_ops.py).
//!
//! The Python environments come from scripts/python-vsphere-clients.sh, which
//! this test runs once (it is quick when they already exist).

mod vsphere_support;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use vsphere_support::{FakeGuests, HttpsServer, ROOT_PASSWORD, VC_PASSWORD, VC_USER, vcenter};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// Runs the venv script once per test binary; returns the venv's python.
fn python_for(venv: &str) -> PathBuf {
    static SETUP: Mutex<Option<bool>> = Mutex::new(None);
    let root = workspace_root();
    let mut done = SETUP.lock().unwrap_or_else(|e| e.into_inner());
    if done.is_none() {
        let status = std::process::Command::new(root.join("scripts/python-vsphere-clients.sh"))
            .current_dir(&root)
            .status()
            .expect("scripts/python-vsphere-clients.sh runs");
        *done = Some(status.success());
    }
    assert_eq!(
        *done,
        Some(true),
        "scripts/python-vsphere-clients.sh failed"
    );
    root.join("target/python-vsphere")
        .join(venv)
        .join("bin/python")
}

async fn run_client(venv: &str) -> (String, Vec<String>, Arc<FakeGuests>, usize) {
    let python = python_for(venv);
    let guests = FakeGuests::with_ready_vm();
    guests.add_vm("vm-43", "node-cd34", Some("10.150.0.12"));
    let sim = vcenter(guests.clone());
    let server = HttpsServer::start(sim.router()).await;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/pyvmomi_guest_ops.py");
    let child = tokio::process::Command::new(python)
        .arg(script)
        .args([
            "127.0.0.1",
            &server.addr.port().to_string(),
            VC_USER,
            VC_PASSWORD,
            "mstr-ab12",
            ROOT_PASSWORD,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("python starts");
    let output = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("pyVmomi client finishes within 120 s")
        .expect("pyVmomi client output");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("PYVMOMI-GUEST-OPS-PASSED"),
        "pyVmomi ({venv}) failed:\n{stdout}\n{stderr}"
    );
    println!("{stdout}");
    let sessions = sim.live_sessions();
    server.stop().await;
    (stdout, sim.call_log(), guests, sessions)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn current_pyvmomi_runs_guest_operations() {
    let (stdout, calls, guests, sessions) = run_client("pyvmomi9").await;
    assert!(stdout.starts_with("pyvmomi 9."), "{stdout}");
    assert!(
        calls.iter().any(|c| c == "Fetch"),
        "pyVmomi 9 reads properties with Fetch: {calls:?}"
    );
    assert!(
        !calls.iter().any(|c| c == "RetrievePropertiesEx"),
        "{calls:?}"
    );
    assert_eq!(
        calls.first().map(String::as_str),
        Some("RetrieveServiceContent")
    );
    assert_eq!(calls.get(1).map(String::as_str), Some("Login"));
    assert_eq!(calls.last().map(String::as_str), Some("Logout"));
    assert_eq!(sessions, 0, "Disconnect logged the session out");
    assert!(
        guests.file("vm-42", "/tmp/probe.sh").is_none(),
        "the script was deleted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyvmomi_6_7_1_runs_guest_operations() {
    let (stdout, calls, _guests, sessions) = run_client("pyvmomi671").await;
    assert!(stdout.starts_with("pyvmomi 6.7.1"), "{stdout}");
    assert!(
        calls.iter().any(|c| c == "RetrievePropertiesEx"),
        "pyVmomi 6.7.1 reads properties with RetrievePropertiesEx: {calls:?}"
    );
    assert!(!calls.iter().any(|c| c == "Fetch"), "{calls:?}");
    assert_eq!(sessions, 0);
}
