//! The simulator as a new user meets it: `vcd-sim serve`-equivalent HTTPS
//! instance driven by pyvcloud 23.0.4 and vcd-cli 24.1.0 (installed into
//! target/pyclients/venv by scripts/python-clients.sh, which this test runs
//! when the virtualenv is missing; an install failure fails the test).

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;
use reqwest::StatusCode;
use vcd_sim::SimBuilder;

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
    let py = python();
    let sim = start_with(SimBuilder::new().https(true)).await;
    assert!(sim.handle.base_url.starts_with("https://"));
    // give the tenant a vApp so list commands have something to show
    let http = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(sim.handle.cert_pem.as_ref().unwrap().as_bytes())
                .unwrap(),
        )
        .build()
        .unwrap();
    let tls = TestSim {
        handle: sim.handle,
        guests: sim.guests,
        http,
    };
    let alice = tls.alice().await;
    let org = alice.doc(&alice.org_href()).await;
    let vdc = named_link(&org, "application/vnd.vmware.vcloud.vdc+xml", "vdc1");
    let r = alice
        .post(
            &format!("{vdc}/action/composeVApp"),
            "application/vnd.vmware.vcloud.composeVAppParams+xml",
            r#"<ComposeVAppParams name="web-app"/>"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    let host = tls
        .handle
        .base_url
        .trim_start_matches("https://")
        .to_string();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/clients.py");
    let base = tls.handle.base_url.clone();
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
        "python clients failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("vcd-cli: ok"));
    tls.handle.shutdown().await;
}
