//! `sim:` steps (`reset`, `save`, `load`): in process, a snapshot saved
//! after `cse install` brings the installation back after a reset; live, the
//! same steps go through the control API of a separate `vcd-sim serve
//! --control-api` process; a live vCD without the control API refuses them.

mod live_support;

use std::process::Command;

use live_support::{Process, sibling_bin, wait_for_file};
use scenarios::cli::{self, RunArgs};
use scenarios::format::{Scenario, TargetKind};
use scenarios::targets::sim::{config_for, write_ova};

fn args(file: std::path::PathBuf, target: TargetKind) -> RunArgs {
    RunArgs::new(vec![file], target)
}

fn snapshot_version(path: &std::path::Path) -> u64 {
    let text = std::fs::read_to_string(path).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["format"], "vcd-sim-snapshot");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "a snapshot holds passwords");
    }
    doc["version"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_steps_reset_save_and_load_the_embedded_simulator() {
    let dir = tempfile::tempdir().unwrap();
    let installed = dir.path().join("installed.json");
    let file = dir.path().join("sim-state.yaml");
    std::fs::write(
        &file,
        format!(
            "name: sim-state\n\
             targets: [sim]\n\
             simulator: {{time_scale: 0}}\n\
             steps:\n\
             \x20 - expect: {{installation_valid: true}}\n\
             \x20 - sim: {{save: '{path}'}}\n\
             \x20 - sim: reset\n\
             \x20 - label: the reset forgot the installation\n\
             \x20   expect: {{installation_valid: false}}\n\
             \x20 - sim: {{load: '{path}'}}\n\
             \x20 - label: the snapshot brought it back\n\
             \x20   expect: {{installation_valid: true}}\n\
             \x20 - sim: {{load: '{missing}'}}\n",
            path = installed.display(),
            missing = dir.path().join("missing.json").display(),
        ),
    )
    .unwrap();
    let report_path = dir.path().join("report.json");
    let mut run = args(file, TargetKind::Sim);
    run.report = Some(report_path.clone());
    let mut out = Vec::new();
    let code = cli::run(&run, &mut out).await;
    let text = String::from_utf8_lossy(&out);
    // Every step passes but the last: a missing file is named.
    assert_eq!(code, cli::EXIT_FAILED, "{text}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    let steps = report["scenarios"][0]["steps"].as_array().unwrap();
    let statuses: Vec<&str> = steps
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "passed", "passed", "passed", "passed", "passed", "passed", "failed"
        ],
        "{report:#}"
    );
    let detail = |i: usize| steps[i]["detail"].as_str().unwrap();
    assert!(detail(1).contains("saved to"), "{report:#}");
    assert!(
        detail(2).contains("back to its starting state"),
        "{report:#}"
    );
    assert!(detail(3).contains("installation invalid"), "{report:#}");
    assert!(detail(4).contains("loaded from"), "{report:#}");
    assert!(detail(5).contains("installation valid"), "{report:#}");
    assert!(detail(6).contains("missing.json"), "{report:#}");
    assert_eq!(
        snapshot_version(&installed),
        u64::from(vcd_sim::snapshot::VERSION)
    );
}

#[tokio::test]
async fn sim_steps_are_refused_on_a_live_vcd_without_the_control_api() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("reset.yaml");
    std::fs::write(&file, "name: reset\nsteps:\n  - sim: reset\n").unwrap();
    let mut run = args(file, TargetKind::Live);
    run.config = Some("/nonexistent/config.yaml".into());
    let mut out = Vec::new();
    let code = cli::run(&run, &mut out).await;
    let text = String::from_utf8_lossy(&out);
    assert_eq!(code, cli::EXIT_FAILED, "{text}");
    assert!(
        text.contains("drives the simulator") && text.contains("--sim-info"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_steps_pass_live_against_a_vcd_sim_with_its_control_api() {
    cse_bus::tls::install_crypto_provider();
    // The binary of this tree (snapshot version, reset), not an older build.
    let status = Command::new(env!("CARGO"))
        .args(["build", "-p", "vcd-sim", "--bins"])
        .status()
        .unwrap();
    assert!(status.success(), "building vcd-sim failed");
    let dir = tempfile::tempdir().unwrap();
    let info_path = dir.path().join("sim.json");
    let mut sim = Process::spawn(
        "vcd-sim serve",
        Command::new(sibling_bin("vcd-sim")).args([
            "serve",
            "--control-api",
            "--bind",
            "127.0.0.1:0",
            "--time-scale",
            "0",
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
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    // State beyond the starting world: guest time a day ahead.
    let r = http
        .post(format!("{control_url}/clock/advance"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"by_ms": 86_400_000}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let day = dir.path().join("day.json");
    let fresh = dir.path().join("fresh.json");
    let file = dir.path().join("sim-live.yaml");
    std::fs::write(
        &file,
        format!(
            "name: sim-live\n\
             targets: [live]\n\
             steps:\n\
             \x20 - sim: {{save: '{day}'}}\n\
             \x20 - sim: reset\n\
             \x20 - sim: {{save: '{fresh}'}}\n\
             \x20 - sim: {{load: '{day}'}}\n",
            day = day.display(),
            fresh = fresh.display(),
        ),
    )
    .unwrap();
    let scenario = Scenario::load(&file).unwrap();
    let (ova, sha256) = write_ova(dir.path()).unwrap();
    let config = config_for(&sim_info, &ova, &sha256, &scenario.simulator);
    let config_path = dir.path().join("config.yaml");
    cse_core::config::write_private_file(&config_path, config.to_yaml().as_bytes()).unwrap();

    let replay = tokio::process::Command::new(env!("CARGO_BIN_EXE_cse-scenario"))
        .args(["run", "--target", "live", "--insecure", "-c"])
        .arg(&config_path)
        .arg("--vcd-url")
        .arg(&sim_info.vcd_url)
        .arg("--sim-info")
        .arg(&info_path)
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
    assert!(
        replay.status.success(),
        "live replay failed:\n{output}\n--- vcd-sim ---\n{}",
        sim.log()
    );
    assert_eq!(
        snapshot_version(&day),
        u64::from(vcd_sim::snapshot::VERSION)
    );
    let day_text = std::fs::read_to_string(&day).unwrap();
    let fresh_text = std::fs::read_to_string(&fresh).unwrap();
    assert!(
        day_text.contains("\"time_offset_ms\": 86400000"),
        "saved a day ahead"
    );
    assert!(
        fresh_text.contains("\"time_offset_ms\": 0"),
        "the reset went back to the start"
    );
    // The load made the simulator what was saved, to the byte.
    let now = http
        .get(format!("{control_url}/snapshot"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(now == day_text, "the simulator exports what was loaded");
    sim.terminate();
}
