//! The simulator as a new user meets it: `vcd-sim serve`-equivalent HTTPS
//! instance driven by pyvcloud 23.0.4 and vcd-cli 24.1.0 (installed into
//! target/pyclients/venv by scripts/python-clients.sh, which this test runs
//! when the virtualenv is missing; an install failure fails the test) — on
//! the legacy path (9.5 profile, API 32.0) and on the modern one (10.3 and
//! 10.4 profiles: API 36.0, CloudAPI login, JWT Bearer).

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;
use reqwest::StatusCode;
use vcd_sim::{SimBuilder, VcdRelease};

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn python() -> PathBuf {
    let root = workspace_root();
    let venv = std::env::var("PYCLIENTS_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target/pyclients/venv"));
    let py = venv.join("bin/python");
    if !venv
        .join(".installed-pyvcloud-23.0.4-vcd-cli-24.1.0")
        .exists()
    {
        let status = Command::new(root.join("scripts/python-clients.sh"))
            .current_dir(&root)
            .status()
            .expect("run scripts/python-clients.sh");
        assert!(
            status.success(),
            "installing pyvcloud/vcd-cli failed ({status})"
        );
    }
    assert!(py.exists(), "{} missing after install", py.display());
    py
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyvcloud_and_vcd_cli_work_against_the_simulator() {
    run_clients(VcdRelease::V9_5, "clients.py", "32.0").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyvcloud_and_vcd_cli_log_in_the_modern_way_on_10_3() {
    run_clients(VcdRelease::V10_3, "clients_modern.py", "36.0").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyvcloud_and_vcd_cli_log_in_the_modern_way_on_10_4() {
    run_clients(VcdRelease::V10_4, "clients_modern.py", "36.0").await;
}

/// Starts an HTTPS simulator playing `release`, gives alice a vApp, and
/// runs a client script against it; `version` is what the clients should
/// negotiate.
async fn run_clients(release: VcdRelease, script: &str, version: &str) {
    let py = python();
    let sim = start_with(SimBuilder::new().https(true).vcd_release(release)).await;
    assert!(sim.handle.base_url.starts_with("https://"));
    // give the tenant a vApp so list commands have something to show
    let http = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(sim.handle.cert_pem.as_ref().unwrap().as_bytes())
                .unwrap(),
        )
        .build()
        .unwrap();
    let base = sim.handle.base_url.clone();
    let accept = format!("application/*+xml;version={version}");
    let login = http
        .post(format!("{base}/api/sessions"))
        .basic_auth("alice@acme", Some("alice-pw"))
        .header("Accept", &accept)
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let token = login.headers()["x-vcloud-authorization"]
        .to_str()
        .unwrap()
        .to_string();
    let q = http
        .get(format!(
            "{base}/api/query?type=orgVdc&format=records&filter=name==vdc1"
        ))
        .header("x-vcloud-authorization", &token)
        .header("Accept", &accept)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let vdc = vcd_sim::rest::xml::Dom::parse(&q)
        .unwrap()
        .child("OrgVdcRecord")
        .and_then(|r| r.attr("href"))
        .expect("vdc1 record")
        .to_string();
    let r = http
        .post(format!("{vdc}/action/composeVApp"))
        .header("x-vcloud-authorization", &token)
        .header("Accept", &accept)
        .header(
            "Content-Type",
            "application/vnd.vmware.vcloud.composeVAppParams+xml",
        )
        .body(r#"<ComposeVAppParams name="web-app"/>"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let handle = sim.handle;

    let host = base.trim_start_matches("https://").to_string();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(script);
    let version = version.to_string();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(py)
            .arg(script)
            .env("VCD_HOST", host)
            .env("VCD_URL", base)
            .env("TENANT_ORG", "acme")
            .env("TENANT_USER", "alice")
            .env("TENANT_PASSWORD", "alice-pw")
            .env("SYS_PASSWORD", "vmware-sim-admin")
            .env("EXPECT_VAPP", "web-app")
            .env("EXPECT_VERSION", version)
            .output()
            .expect("run python")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}\n{stderr}");
    assert!(
        out.status.success(),
        "python clients failed ({release}):\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("vcd-cli: ok"));
    handle.shutdown().await;
}
