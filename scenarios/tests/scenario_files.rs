//! Every scenario file shipped in `scenarios/files` replays green on the
//! embedded simulator, through the same entry point as `cse-scenario run`.

use std::path::PathBuf;

use scenarios::cli::{self, RunArgs};
use scenarios::format::TargetKind;

fn args(file: &str, report: Option<PathBuf>) -> RunArgs {
    RunArgs {
        report,
        ..RunArgs::new(vec![scenarios::scenario_dir().join(file)], TargetKind::Sim)
    }
}

async fn replay(file: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let mut out = Vec::new();
    let code = cli::run(&args(file, Some(report.clone())), &mut out).await;
    let text = String::from_utf8_lossy(&out).into_owned();
    println!("{text}");
    assert_eq!(code, 0, "{file} failed:\n{text}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
    assert_eq!(report["passed"], true);
    let steps = report["scenarios"][0]["steps"].as_array().unwrap();
    assert!(!steps.is_empty());
    assert!(steps.iter().all(|s| s["status"] == "passed"), "{report:#}");
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modern_yaml() {
    let report = replay("modern.yaml").await;
    let steps = report["scenarios"][0]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 7, "{report:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_yaml() {
    replay("install.yaml").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_yaml() {
    let report = replay("lifecycle.yaml").await;
    let steps = report["scenarios"][0]["steps"].as_array().unwrap();
    // The steps' details name what was checked, e.g. Kubernetes node counts.
    assert!(
        steps.iter().any(|s| s["detail"]
            .as_str()
            .unwrap()
            .contains("Kubernetes: 6 node(s) Ready")),
        "{report:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_yaml() {
    replay("scale.yaml").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_yaml() {
    replay("shutdown.yaml").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_yaml() {
    let report = replay("faults.yaml").await;
    let steps = report["scenarios"][0]["steps"].as_array().unwrap();
    assert!(
        steps.iter().any(|s| s["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("simulated time moved on by 86400s")),
        "{report:#}"
    );
}

#[test]
fn every_shipped_file_parses_and_is_tested() {
    let mut names: Vec<String> = std::fs::read_dir(scenarios::scenario_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "contention.yaml",
            "faults.yaml",
            "install.yaml",
            "lifecycle.yaml",
            "modern.yaml",
            "scale.yaml",
            "shutdown.yaml"
        ]
    );
    for name in names {
        scenarios::format::Scenario::load(&scenarios::scenario_dir().join(&name))
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contention_yaml() {
    let report = replay("contention.yaml").await;
    let steps = report["scenarios"][0]["steps"].as_array().unwrap();
    // The losers of the races were refused, and said why.
    let details: Vec<&str> = steps
        .iter()
        .map(|s| s["detail"].as_str().unwrap())
        .collect();
    assert!(
        details
            .iter()
            .any(|d| d.contains("5 refused: twin: HTTP 409 Cluster 'twin' already exists")),
        "{details:#?}"
    );
    assert!(
        details
            .iter()
            .any(|d| d.contains("3 refused: twin: HTTP 409")),
        "{details:#?}"
    );
}

/// `lifecycle.yaml` on every vCD release the simulator plays: the server,
/// the runner and the tenant calls negotiate each release's highest version
/// and log in the way it requires (legacy below API 33.0, CloudAPI from it,
/// legacy login gone at 38.0 on 10.6).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_yaml_on_every_vcd_release() {
    let source = std::fs::read_to_string(scenarios::scenario_dir().join("lifecycle.yaml")).unwrap();
    assert!(
        !source.contains("\nsimulator:"),
        "the file already names a simulator section"
    );
    for release in vcd_sim::release::ALL_RELEASES {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("lifecycle.yaml");
        let text = source.replacen(
            "\nsteps:\n",
            &format!("\nsimulator:\n  vcd_release: '{release}'\nsteps:\n"),
            1,
        );
        std::fs::write(&file, text).unwrap();
        let report = dir.path().join("report.json");
        let run = RunArgs {
            files: vec![file],
            ..args("lifecycle.yaml", Some(report.clone()))
        };
        let mut out = Vec::new();
        let code = cli::run(&run, &mut out).await;
        let text = String::from_utf8_lossy(&out).into_owned();
        assert_eq!(code, 0, "lifecycle.yaml on vCD {release} failed:\n{text}");
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
        assert_eq!(report["passed"], true, "vCD {release}: {report:#}");
    }
}
