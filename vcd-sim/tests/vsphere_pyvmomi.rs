//! Real pyVmomi against the simulated vCenter over HTTPS: the current 9.x
//! (Fetch, vimServiceVersions.xml) and 6.7.1 (RetrievePropertiesEx), each
//! connecting, finding the VM, running a program until it exits and moving a
//! file both ways (tests/python/pyvmomi_guest_ops.py).
//!
//! Also unmodified vsphere-guest-run 0.0.7 (what CSE 1.2.x runs scripts with)
//! on both pyVmomi versions: tools wait, the readiness probe's full cycle and
//! the call sequence it produces.
//!
//! The Python environments come from scripts/python-vsphere-clients.sh, which
//! this test runs once (it is quick when they already exist).

mod vsphere_support;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use vcd_sim::faults::FaultRule;
use vcd_sim::guest_api::{PowerState, ToolsRunningStatus};
use vcd_sim::vsphere::values::MoRef;
use vcd_sim::vsphere::{InjectedFault, VimFault, VimMatch};
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

struct ClientRun {
    stdout: String,
    calls: Vec<String>,
    guests: Arc<FakeGuests>,
    live_sessions: usize,
}

async fn run_client(venv: &str) -> ClientRun {
    let guests = FakeGuests::with_ready_vm();
    guests.add_vm("vm-43", "node-cd34", Some("10.150.0.12"));
    run_script(
        venv,
        "pyvmomi_guest_ops.py",
        "mstr-ab12",
        "PYVMOMI-GUEST-OPS-PASSED",
        guests,
        &[],
    )
    .await
}

async fn run_script(
    venv: &str,
    script: &str,
    vm: &str,
    marker: &str,
    guests: Arc<FakeGuests>,
    extra_args: &[&str],
) -> ClientRun {
    let python = python_for(venv);
    let sim = vcenter(guests.clone());
    let server = HttpsServer::start(sim.router()).await;
    let script_path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(script);
    let child = tokio::process::Command::new(python)
        .arg(script_path)
        .args([
            "127.0.0.1",
            &server.addr.port().to_string(),
            VC_USER,
            VC_PASSWORD,
            vm,
            ROOT_PASSWORD,
        ])
        .args(extra_args)
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
        output.status.success() && stdout.contains(marker),
        "{script:?} on {venv} failed:\n{stdout}\n{stderr}"
    );
    println!("{stdout}");
    let live_sessions = sim.live_sessions();
    server.stop().await;
    ClientRun {
        stdout,
        calls: sim.call_log(),
        guests,
        live_sessions,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn current_pyvmomi_runs_guest_operations() {
    let ClientRun {
        stdout,
        calls,
        guests,
        live_sessions: sessions,
    } = run_client("pyvmomi9").await;
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
    let ClientRun {
        stdout,
        calls,
        live_sessions: sessions,
        ..
    } = run_client("pyvmomi671").await;
    assert!(stdout.starts_with("pyvmomi 6.7.1"), "{stdout}");
    assert!(
        calls.iter().any(|c| c == "RetrievePropertiesEx"),
        "pyVmomi 6.7.1 reads properties with RetrievePropertiesEx: {calls:?}"
    );
    assert!(!calls.iter().any(|c| c == "Fetch"), "{calls:?}");
    assert_eq!(sessions, 0);
}

/// Runs vgr_execute_script.py with tools that come up at the fourth read; returns
/// the guest-operation calls it made (property reads and service content left out).
async fn run_vsphere_guest_run(venv: &str) -> (ClientRun, Vec<String>) {
    let guests = FakeGuests::with_ready_vm();
    guests.update("vm-42", |vm| {
        vm.info.tools_running_status = ToolsRunningStatus::NotRunning;
        vm.info.guest_operations_ready = false;
        vm.tools_up_after_reads = 3;
    });
    let run = run_script(
        venv,
        "vgr_execute_script.py",
        "vm-42",
        "VGR-EXECUTE-SCRIPT-PASSED",
        guests,
        &["4"],
    )
    .await;
    let guest_calls = run
        .calls
        .iter()
        .filter(|c| c.contains("Guest"))
        .cloned()
        .collect();
    (run, guest_calls)
}

/// The sequence of §4.3 (probe with output capture) plus fire-and-forget and a download.
const VGR_SEQUENCE: [&str; 14] = [
    "InitiateFileTransferToGuest",
    "StartProgramInGuest",
    "ListProcessesInGuest",
    "InitiateFileTransferFromGuest",
    "InitiateFileTransferFromGuest",
    "StartProgramInGuest",
    "StartProgramInGuest",
    "ListProcessesInGuest",
    "InitiateFileTransferFromGuest",
    "InitiateFileTransferFromGuest",
    "StartProgramInGuest",
    "DeleteFileInGuest",
    "StartProgramInGuest",
    "InitiateFileTransferFromGuest",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vsphere_guest_run_0_0_7_runs_the_probe_on_pyvmomi_6_7_1() {
    let (run, guest_calls) = run_vsphere_guest_run("pyvmomi671").await;
    assert_eq!(guest_calls, VGR_SEQUENCE);
    let service_contents = run
        .calls
        .iter()
        .filter(|c| *c == "RetrieveServiceContent")
        .count();
    assert!(
        service_contents >= 9,
        "vsphere-guest-run asks for the service content before every op: {service_contents}"
    );
    assert!(
        run.calls
            .iter()
            .filter(|c| *c == "RetrievePropertiesEx")
            .count()
            >= 2,
        "tools were polled"
    );
    assert_eq!(run.live_sessions, 1, "vsphere-guest-run never logs out");
    let files: Vec<String> = run.guests.vms.lock()["vm-42"]
        .files
        .keys()
        .cloned()
        .collect();
    assert!(
        !files.iter().any(|f| f.starts_with("/tmp/")),
        "script and outputs cleaned up: {files:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vsphere_guest_run_0_0_7_runs_the_probe_on_current_pyvmomi() {
    let (run, guest_calls) = run_vsphere_guest_run("pyvmomi9").await;
    assert_eq!(guest_calls, VGR_SEQUENCE);
    assert!(run.calls.iter().filter(|c| *c == "Fetch").count() >= 2);
}

/// Every fault of the catalogue, with the fields pyVmomi must expose.
fn fault_catalogue() -> Vec<(VimFault, serde_json::Value)> {
    use serde_json::json;
    let vm = MoRef::vm("vm-9");
    vec![
        (VimFault::InvalidLogin, json!({})),
        (
            VimFault::NotAuthenticated {
                object: MoRef::new("SessionManager", "SessionManager"),
            },
            json!({"object": "SessionManager", "privilegeId": "System.View"}),
        ),
        (
            VimFault::ManagedObjectNotFound { obj: vm.clone() },
            json!({"obj": "vm-9"}),
        ),
        (
            VimFault::InvalidProperty {
                name: "guest.bogus".into(),
            },
            json!({"name": "guest.bogus"}),
        ),
        (
            VimFault::InvalidPowerState {
                existing: PowerState::Suspended,
            },
            json!({"requestedState": "poweredOn", "existingState": "suspended"}),
        ),
        (VimFault::InvalidState, json!({})),
        (VimFault::GuestOperationsUnavailable, json!({})),
        (VimFault::InvalidGuestLogin, json!({})),
        (VimFault::GuestPermissionDenied, json!({})),
        (
            VimFault::GuestProcessNotFound { pid: 4711 },
            json!({"pid": 4711}),
        ),
        (
            VimFault::FileNotFound {
                file: "/tmp/a & b".into(),
            },
            json!({"file": "/tmp/a & b"}),
        ),
        (
            VimFault::FileAlreadyExists {
                file: "/tmp/x".into(),
            },
            json!({"file": "/tmp/x"}),
        ),
        (
            VimFault::NotAFile {
                file: "/tmp".into(),
            },
            json!({"file": "/tmp"}),
        ),
        (
            VimFault::SystemError {
                reason: "vix error codes = (3016, 0).".into(),
            },
            json!({"reason": "vix error codes = (3016, 0)."}),
        ),
        (
            VimFault::InvalidArgument {
                invalid_property: Some("guestFilePath".into()),
            },
            json!({"invalidProperty": "guestFilePath"}),
        ),
        (
            VimFault::InvalidRequest {
                reason: "bad <request>".into(),
            },
            json!({}),
        ),
        (
            VimFault::MethodNotFound {
                receiver: vm.clone(),
                method: "Nope".into(),
            },
            json!({"receiver": "vm-9", "method": "Nope"}),
        ),
        (
            VimFault::TaskInProgress {
                task: MoRef::new("Task", "task-1"),
            },
            json!({"task": "task-1"}),
        ),
    ]
}

async fn faults_reach_pyvmomi_as_their_classes(venv: &str) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let guests = FakeGuests::with_ready_vm();
    let sim = vcenter(guests);
    let server = HttpsServer::start(sim.router()).await;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/pyvmomi_faults.py");
    let mut child = tokio::process::Command::new(python_for(venv))
        .arg(script)
        .args([
            "127.0.0.1",
            &server.addr.port().to_string(),
            VC_USER,
            VC_PASSWORD,
            "vm-42",
            ROOT_PASSWORD,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("python starts");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut next_line = async || {
        tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .expect("pyVmomi answers within 60 s")
            .expect("read")
            .unwrap_or_default()
    };
    assert_eq!(next_line().await, "ready");
    for (fault, fields) in fault_catalogue() {
        sim.faults().clear();
        sim.faults()
            .add(FaultRule::new(
                VimMatch::method("ListProcessesInGuest"),
                InjectedFault::Fault(fault.clone()),
            ))
            .unwrap();
        let request = serde_json::json!({"type": fault.type_name(), "msg": fault.to_string(), "fields": fields});
        stdin
            .write_all(format!("{request}\n").as_bytes())
            .await
            .expect("write");
        let answer = next_line().await;
        assert!(
            answer.starts_with(&format!("ok {} ", fault.type_name())),
            "{venv}: {answer}"
        );
    }
    stdin.write_all(b"\n").await.expect("write");
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("exit")
        .expect("status");
    assert!(status.success());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_reaches_current_pyvmomi_as_its_class() {
    faults_reach_pyvmomi_as_their_classes("pyvmomi9").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_reaches_pyvmomi_6_7_1_as_its_class() {
    faults_reach_pyvmomi_as_their_classes("pyvmomi671").await;
}

/// vcsim's bug reproduced on demand: with exit code 0 left out of
/// `ListProcessesInGuest`, vsphere-guest-run 0.0.7 polls its first `chmod`
/// forever (it has no timeout). The test watches it poll, then stops it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vsphere_guest_run_polls_forever_when_exit_code_zero_is_omitted() {
    let guests = FakeGuests::with_ready_vm();
    let sim = vcenter(guests);
    sim.set_omit_zero_exit_codes(true);
    let server = HttpsServer::start(sim.router()).await;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/vgr_execute_script.py");
    let mut child = tokio::process::Command::new(python_for("pyvmomi671"))
        .arg(script)
        .args([
            "127.0.0.1",
            &server.addr.port().to_string(),
            VC_USER,
            VC_PASSWORD,
            "vm-42",
            ROOT_PASSWORD,
        ])
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("python starts");
    let polls = || {
        sim.call_log()
            .iter()
            .filter(|c| *c == "ListProcessesInGuest")
            .count()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while polls() < 3 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "vsphere-guest-run started polling"
        );
        assert!(
            child.try_wait().expect("child state").is_none(),
            "vsphere-guest-run gave up instead of hanging"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        child.try_wait().expect("child state").is_none(),
        "still waiting for an exit code"
    );
    let guest_calls: Vec<String> = sim
        .call_log()
        .into_iter()
        .filter(|c| c.contains("Guest"))
        .collect();
    assert_eq!(
        &guest_calls[..3],
        [
            "InitiateFileTransferToGuest",
            "StartProgramInGuest",
            "ListProcessesInGuest"
        ]
    );
    assert!(
        guest_calls[2..].iter().all(|c| c == "ListProcessesInGuest"),
        "stuck on the chmod: {guest_calls:?}"
    );
    child.kill().await.expect("kill");
    server.stop().await;
}
