//! `faults.yaml` with `--target live` against a separate `vcd-sim serve
//! --control-api` process routing `/api/cse` over RabbitMQ to a separate
//! `cse run`: the runner reads the control URL and token from the
//! simulator's info file (`--sim-info`) and injects every fault through the
//! control API; the run leaves no fault behind.

mod live_support;

use std::process::Command;

use live_support::{Process, sibling_bin, wait_for_file, wait_until_serving};
use scenarios::format::Scenario;
use scenarios::targets::sim::{apply_amqp_url, config_for, write_ova};

/// The simulator binary, rebuilt when an older build lacks the control API.
fn vcd_sim_bin() -> std::path::PathBuf {
    let bin = sibling_bin("vcd-sim");
    let help = Command::new(&bin)
        .args(["serve", "--help"])
        .output()
        .unwrap();
    if !String::from_utf8_lossy(&help.stdout).contains("--control-api") {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "vcd-sim", "--bins"])
            .status()
            .unwrap();
        assert!(status.success(), "building vcd-sim failed");
    }
    bin
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_yaml_passes_live_against_a_vcd_sim_with_its_control_api() {
    cse_bus::tls::install_crypto_provider();
    let Some(broker) = cse_bus::testing::test_broker().await else {
        return;
    };
    let _lock = cse_bus::testing::broker_lock_shared().unwrap();
    let file = scenarios::scenario_dir().join("faults.yaml");
    let scenario = Scenario::load(&file).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let info_path = dir.path().join("sim.json");

    let mut sim = Process::spawn(
        "vcd-sim serve",
        Command::new(vcd_sim_bin()).args([
            "serve",
            "--control-api",
            "--bind",
            "127.0.0.1:0",
            "--amqp-url",
            &broker.url,
            "--time-scale",
            "1",
            "--extension-timeout",
            "5",
            "--info-file",
            info_path.to_str().unwrap(),
        ]),
        dir.path().join("vcd-sim.log"),
    );
    let info_text = wait_for_file(&info_path, &mut sim);
    let sim_info: vcd_sim::serve::SimInfo = serde_json::from_str(&info_text).unwrap();
    let info: serde_json::Value = serde_json::from_str(&info_text).unwrap();
    let control_url = info["control_url"].as_str().unwrap().to_owned();
    let token = info["control_token"].as_str().unwrap().to_owned();
    let vcd_url = sim_info.vcd_url.clone();

    // The administrator's config, with the scenario's time scale as the sim
    // target would write it.
    let (ova, sha256) = write_ova(dir.path()).unwrap();
    let mut config = config_for(&sim_info, &ova, &sha256, &scenario.simulator);
    apply_amqp_url(&mut config, &broker.url).unwrap();
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    config.amqp.exchange = format!("cse-live-{suffix}");
    config.amqp.routing_key = format!("cse-live-{suffix}");
    config.service.listeners = 2;
    let config_path = dir.path().join("config.yaml");
    std::fs::write(&config_path, config.to_yaml()).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config_path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let cse = sibling_bin("cse");
    // The scenario's clock while CSE installs (the template build runs on it).
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let r = http
        .put(format!("{control_url}/clock"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"scale": scenario.simulator.time_scale}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let install = Command::new(&cse)
        .args(["install", "--yes", "-c"])
        .arg(&config_path)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        install.status.success(),
        "cse install failed:\n{}{}",
        String::from_utf8_lossy(&install.stdout),
        String::from_utf8_lossy(&install.stderr)
    );
    let mut server = Process::spawn(
        "cse run",
        Command::new(&cse)
            .args(["run", "-c"])
            .arg(&config_path)
            .current_dir(dir.path())
            .env("RUST_LOG", "info"),
        dir.path().join("cse-run.log"),
    );
    wait_until_serving(
        &vcd_url,
        &sim_info.sysadmin.user,
        &sim_info.sysadmin.password,
        &mut server,
    )
    .await;

    let report_path = dir.path().join("report.json");
    let replay = tokio::process::Command::new(env!("CARGO_BIN_EXE_cse-scenario"))
        .args(["run", "--target", "live", "--insecure", "-c"])
        .arg(&config_path)
        .arg("--vcd-url")
        .arg(&vcd_url)
        .arg("--sim-info")
        .arg(&info_path)
        .arg("--report")
        .arg(&report_path)
        .arg(&file)
        .current_dir(dir.path())
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
        sim.log()
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    let run = &report["scenarios"][0];
    assert_eq!(run["target"], "live");
    assert_eq!(run["passed"], true);
    let steps = run["steps"].as_array().unwrap();
    assert!(steps.iter().all(|s| s["status"] == "passed"), "{report:#}");
    let details: Vec<&str> = steps.iter().filter_map(|s| s["detail"].as_str()).collect();
    assert!(
        details.iter().any(|d| d.contains("HTTP 503")),
        "{details:?}"
    );
    assert!(
        details
            .iter()
            .any(|d| d.contains("VMware Tools never start")),
        "{details:?}"
    );

    // The control API saw the faults take part, and the run left none behind.
    let faults: serde_json::Value = http
        .get(format!("{control_url}/faults"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(faults["rules"], serde_json::json!([]), "{faults:#}");
    assert!(
        faults["stats"]["vcd"]["faulted"].as_u64().unwrap() >= 3,
        "{faults:#}"
    );
    assert!(
        faults["stats"]["guest"]["faulted"].as_u64().unwrap() >= 1,
        "{faults:#}"
    );
    assert!(
        faults["stats"]["extension"]["added"].as_u64().unwrap() >= 1,
        "{faults:#}"
    );

    let status = server.terminate().expect("cse run stops on SIGTERM");
    assert!(status.success(), "{status}:\n{}", server.log());
    sim.terminate();
    let rabbit = cse_bus::RabbitBus::from_url(&broker.url).unwrap();
    use cse_bus::Bus;
    rabbit.delete_queue(&config.amqp.routing_key).await.ok();
    rabbit.delete_exchange(&config.amqp.exchange).await.ok();
    rabbit.close().await;
}
