//! The shipped scenarios over vCD's MQTT extension bus: the simulator plays
//! vCD 10.6, the MQTT extension is registered through CloudAPI, and the
//! in-process server serves on `MqttBus` over a real websocket to the
//! simulator's broker. Each replay checks that the requests went through
//! that broker (its acknowledgement count) and that nothing consumed from
//! the AMQP side.

use std::collections::BTreeMap;

use scenarios::cli::{self, RunArgs};
use scenarios::format::{Scenario, TargetKind, Transport};
use scenarios::runner::Runner;
use scenarios::targets::Target;
use scenarios::targets::sim::{SimSettings, SimTarget};

/// Replays a shipped file over MQTT; the report and the broker's counters.
async fn replay_over_mqtt(file: &str) -> (serde_json::Value, vcd_sim::mqtt::BrokerStats) {
    let path = scenarios::scenario_dir().join(file);
    let mut scenario = Scenario::load(&path).unwrap();
    scenario.simulator.transport = Transport::Mqtt;
    scenario.simulator.vcd_release = vcd_sim::VcdRelease::V10_6;
    let settings = SimSettings {
        amqp_url: None,
        base_dir: scenarios::scenario_dir(),
        observer: None,
    };
    let mut target = SimTarget::start(&scenario.simulator, &settings)
        .await
        .unwrap_or_else(|e| panic!("{file}: the MQTT target did not start: {e}"));
    let mqtt = target
        .config()
        .mqtt
        .clone()
        .expect("the generated config has an mqtt section");
    assert_eq!(mqtt.triplet(), "VMware/cse/1.0.0");
    // `cse install` wrote the EXTENSION token where the server reads it
    // (a private file next to the config).
    let token = cse_server::cli::mqtt::read_token(&mqtt, target.config_path())
        .expect("a private token file")
        .expect("an EXTENSION token");
    assert!(!token.expose().is_empty(), "an EXTENSION token");
    let routing_key = target.config().amqp.routing_key.clone();
    let memory = target.sim.memory_broker.clone().expect("in-memory broker");
    assert_eq!(
        memory.consumer_count(&routing_key),
        0,
        "nobody consumes from AMQP"
    );
    let report = Runner::new(&scenario, &mut target, &BTreeMap::new())
        .run(&path.display().to_string())
        .await;
    let stats = target.sim.handle.mqtt().stats();
    assert_eq!(memory.consumer_count(&routing_key), 0);
    Box::new(target).shutdown().await;
    let report = serde_json::to_value(&report).unwrap();
    println!("{report:#}");
    assert_eq!(report["passed"], true, "{file} over MQTT: {report:#}");
    let steps = report["steps"].as_array().unwrap();
    assert!(steps.iter().all(|s| s["status"] == "passed"), "{report:#}");
    (report, stats)
}

/// Requests the broker handed to the server for the first time, against
/// the steps that call `/api/cse` (each calls it at least once; faults,
/// clock moves and waits do not).
fn assert_every_call_went_over_mqtt(
    report: &serde_json::Value,
    stats: &vcd_sim::mqtt::BrokerStats,
) {
    let api_steps = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| !matches!(s["kind"].as_str(), Some("fault" | "clock" | "wait")))
        .count() as u64;
    assert!(api_steps > 0);
    assert!(
        stats.deliveries - stats.redeliveries >= api_steps,
        "{api_steps} steps calling /api/cse: {stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_yaml_over_mqtt() {
    let (report, stats) = replay_over_mqtt("lifecycle.yaml").await;
    let steps = report["steps"].as_array().unwrap();
    assert!(
        steps.iter().any(|s| s["detail"]
            .as_str()
            .unwrap()
            .contains("Kubernetes: 6 node(s) Ready")),
        "{report:#}"
    );
    assert_every_call_went_over_mqtt(&report, &stats);
    assert_eq!(stats.expired, 0, "{stats:?}");
    assert_eq!(stats.unmatched_responses, 0, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_yaml_over_mqtt() {
    let (report, stats) = replay_over_mqtt("faults.yaml").await;
    let steps = report["steps"].as_array().unwrap();
    // The broker restart stopped the MQTT broker: the server's connection was
    // refused while it was down and came back by itself.
    assert!(
        steps.iter().any(|s| s["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("MQTT broker was down for")),
        "{report:#}"
    );
    assert!(
        stats.connections >= 2,
        "the server reconnected after the broker restart: {stats:?}"
    );
    assert_every_call_went_over_mqtt(&report, &stats);
}

fn run_args(file: &str, report: std::path::PathBuf) -> RunArgs {
    RunArgs {
        report: Some(report),
        transport: Some(Transport::Mqtt),
        vcd_release: Some(vcd_sim::VcdRelease::V10_4),
        ..RunArgs::new(vec![scenarios::scenario_dir().join(file)], TargetKind::Sim)
    }
}

/// `cse-scenario run --transport mqtt --vcd-release 10.4` overrides the
/// file's (default) simulator section.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_flags_choose_mqtt_and_the_release() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let mut out = Vec::new();
    let code = cli::run(&run_args("modern.yaml", report.clone()), &mut out).await;
    let text = String::from_utf8_lossy(&out).into_owned();
    assert_eq!(code, 0, "modern.yaml over MQTT on 10.4:\n{text}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
    assert_eq!(report["passed"], true, "{report:#}");
}

/// MQTT on a release without it is refused before anything starts, with a
/// message saying what to change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_on_vcd_9_5_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let args = RunArgs {
        vcd_release: Some(vcd_sim::VcdRelease::V9_5),
        ..run_args("lifecycle.yaml", report)
    };
    let mut out = Vec::new();
    let code = cli::run(&args, &mut out).await;
    let text = String::from_utf8_lossy(&out).into_owned();
    assert_eq!(code, cli::EXIT_FAILED, "{text}");
    assert!(
        text.contains("transport mqtt needs vCD 10.3 or later") && text.contains("--vcd-release"),
        "{text}"
    );
}
