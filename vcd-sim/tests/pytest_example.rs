//! Runs the pytest example of `examples/python` (a suite any Python user
//! could write against `vcd-sim serve --control-api`) with the project's
//! client virtualenv (scripts/python-clients.sh installs pyvcloud, requests
//! and pytest; run here when missing, a failure fails the test). The
//! snapshot it starts from is made here: a fresh simulator where alice
//! composes the vApp `web-app`, exported.

use std::path::PathBuf;
use std::process::Command;

use reqwest::StatusCode;

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
    if !venv.join(".installed-pytest-8.4.2").exists()
        || !venv
            .join(".installed-pyvcloud-23.0.4-vcd-cli-24.1.0")
            .exists()
    {
        let status = Command::new(root.join("scripts/python-clients.sh"))
            .current_dir(&root)
            .status()
            .expect("run scripts/python-clients.sh");
        assert!(
            status.success(),
            "installing the Python clients failed ({status})"
        );
    }
    venv.join("bin/python")
}

/// A snapshot of the default world where alice@acme has the vApp `web-app`.
async fn snapshot_with_a_vapp(path: &std::path::Path) {
    let full = vcd_sim::SimBuilder::new().start().await.unwrap();
    let base = full.base_url().to_owned();
    let http = reqwest::Client::new();
    let accept = "application/*+xml;version=32.0";
    let login = http
        .post(format!("{base}/api/sessions"))
        .basic_auth("alice@acme", Some("alice-pw"))
        .header("Accept", accept)
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let token = login.headers()["x-vcloud-authorization"]
        .to_str()
        .unwrap()
        .to_owned();
    let q = http
        .get(format!(
            "{base}/api/query?type=orgVdc&format=records&filter=name==vdc1"
        ))
        .header("x-vcloud-authorization", &token)
        .header("Accept", accept)
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
        .to_owned();
    let r = http
        .post(format!("{vdc}/action/composeVApp"))
        .header("x-vcloud-authorization", &token)
        .header("Accept", accept)
        .header(
            "Content-Type",
            "application/vnd.vmware.vcloud.composeVAppParams+xml",
        )
        .body(r#"<ComposeVAppParams name="web-app"/>"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(full.handle.state().vapp_names(), vec!["web-app".to_owned()]);
    let snapshot = vcd_sim::snapshot::export(full.handle.state(), &full.guests);
    vcd_sim::snapshot::save_file(path, &snapshot).unwrap();
    full.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pytest_example_passes() {
    let py = python();
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("world.json");
    snapshot_with_a_vapp(&snapshot).await;
    let root = workspace_root();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(py)
            .args([
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "examples/python",
            ])
            .current_dir(root)
            .env("VCD_SIM_BIN", env!("CARGO_BIN_EXE_vcd-sim"))
            .env("VCD_SIM_SNAPSHOT", &snapshot)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{text}");
    assert!(out.status.success(), "pytest failed:\n{text}");
    assert!(text.contains("5 passed"), "{text}");
}
