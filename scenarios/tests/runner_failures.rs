//! A scenario whose expectation does not hold fails: the step is reported
//! with what was found, later steps are not run, and `run` exits non-zero.

use scenarios::cli::{self, RunArgs};
use scenarios::format::TargetKind;

fn args(file: std::path::PathBuf, target: TargetKind) -> RunArgs {
    RunArgs::new(vec![file], target)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_expectation_stops_the_replay_and_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wrong.yaml");
    std::fs::write(
        &file,
        "name: wrong\n\
         defaults: {vdc: vdc1, network: net1}\n\
         steps:\n\
         \x20 - create_cluster: {name: small, nodes: 1}\n\
         \x20 - label: wrong on purpose\n\
         \x20   expect: {cluster: {name: small, workers: 3}}\n\
         \x20 - delete_cluster: {cluster: small}\n",
    )
    .unwrap();
    let mut out = Vec::new();
    let code = cli::run(&args(file, TargetKind::Sim), &mut out).await;
    let text = String::from_utf8_lossy(&out);
    assert_eq!(code, cli::EXIT_FAILED, "{text}");
    assert!(text.contains("FAILED"), "{text}");
    assert!(
        text.contains("cluster small has 1 workers"),
        "the failure says what was found: {text}"
    );
    assert!(text.contains("not run"), "{text}");
    assert!(text.contains("0 of 1 scenario(s) passed"), "{text}");
}

#[tokio::test]
async fn a_simulator_only_scenario_is_refused_on_a_live_target() {
    let mut out = Vec::new();
    let mut run = args(
        scenarios::scenario_dir().join("shutdown.yaml"),
        TargetKind::Live,
    );
    run.config = Some("/nonexistent/config.yaml".into());
    let code = cli::run(&run, &mut out).await;
    let text = String::from_utf8_lossy(&out);
    assert_eq!(code, cli::EXIT_FAILED, "{text}");
    assert!(text.contains("runs on [Sim] only"), "{text}");
}

#[tokio::test]
async fn faults_on_a_live_target_need_a_simulator_control_api() {
    let mut out = Vec::new();
    let mut run = args(
        scenarios::scenario_dir().join("faults.yaml"),
        TargetKind::Live,
    );
    run.config = Some("/nonexistent/config.yaml".into());
    let code = cli::run(&run, &mut out).await;
    let text = String::from_utf8_lossy(&out);
    assert_eq!(code, cli::EXIT_FAILED, "{text}");
    assert!(
        text.contains("injects faults") && text.contains("--sim-info"),
        "{text}"
    );

    // an info file without the control API is named as the problem
    let dir = tempfile::tempdir().unwrap();
    let info = dir.path().join("sim.json");
    std::fs::write(&info, r#"{"vcd_url": "https://127.0.0.1:1"}"#).unwrap();
    run.sim_info = Some(info);
    let mut out = Vec::new();
    let code = cli::run(&run, &mut out).await;
    let text = String::from_utf8_lossy(&out);
    assert_eq!(code, cli::EXIT_FAILED, "{text}");
    assert!(
        text.contains("no `control_url`") && text.contains("--control-api"),
        "{text}"
    );
}

#[tokio::test]
async fn a_broken_file_is_a_usage_error_naming_the_step() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.yaml");
    std::fs::write(
        &file,
        "name: broken\nsteps:\n  - create_clustr: {name: x}\n",
    )
    .unwrap();
    let mut out = Vec::new();
    let code = cli::run(&args(file, TargetKind::Sim), &mut out).await;
    let text = String::from_utf8_lossy(&out);
    assert_eq!(code, cli::EXIT_USAGE, "{text}");
    assert!(text.contains("unknown step kind `create_clustr`"), "{text}");
}

#[tokio::test]
async fn live_needs_a_config() {
    let mut out = Vec::new();
    let run = args(
        scenarios::scenario_dir().join("lifecycle.yaml"),
        TargetKind::Live,
    );
    let code = cli::run(&run, &mut out).await;
    assert_eq!(code, cli::EXIT_USAGE);
    assert!(String::from_utf8_lossy(&out).contains("needs the server's cse config"));
}
