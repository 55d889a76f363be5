//! `faults.yaml` with `--target live` against a separate `vcd-sim serve
//! --control-api` process routing `/api/cse` over RabbitMQ to a separate
//! `cse run`: the runner reads the control URL and token from the
//! simulator's info file (`--sim-info`) and injects every fault through the
//! control API; the run leaves no fault behind.

mod live_support;

use std::process::Command;

use live_support::{
    LiveSim, cse_install, replay_live, sibling_bin, start_cse_run, tidy_rabbitmq, use_rabbitmq,
    write_config,
};
use scenarios::format::Scenario;
use scenarios::targets::sim::{config_for, write_ova};

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

    let mut sim = LiveSim::start(
        vcd_sim_bin(),
        dir.path(),
        &[
            "--control-api",
            "--amqp-url",
            &broker.url,
            "--time-scale",
            "1",
            "--extension-timeout",
            "5",
        ],
    );
    let control_url = sim.json["control_url"].as_str().unwrap().to_owned();
    let token = sim.json["control_token"].as_str().unwrap().to_owned();

    // The administrator's config, with the scenario's time scale as the sim
    // target would write it.
    let (ova, sha256) = write_ova(dir.path()).unwrap();
    let mut config = config_for(&sim.info, &ova, &sha256, &scenario.simulator);
    use_rabbitmq(&mut config, &broker.url);
    let config_path = write_config(dir.path(), &config);
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
    cse_install(&config_path, &[]);
    let mut server = start_cse_run(&config_path, &sim).await;

    let info_path = sim.info_path.display().to_string();
    let run = replay_live(
        &config_path,
        &sim,
        &["--sim-info", &info_path],
        &file,
        &server,
    )
    .await;
    let steps = run["steps"].as_array().unwrap();
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
    sim.process.terminate();
    tidy_rabbitmq(&broker.url, &config).await;
}
