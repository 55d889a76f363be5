//! `lifecycle.yaml` with `--target live` over vCD's MQTT extension bus, with
//! no RabbitMQ anywhere: a separate `vcd-sim serve --vcd-release 10.6`
//! process (no `--amqp-url`) serves `/messaging/mqtt`; `cse install` in a
//! process of its own registers the MQTT extension, its API filters and its
//! `EXTENSION` token, as an administrator would; a separate `cse run` process
//! serves with the `mqtt:` section (the config's `amqp:` section points at a
//! closed port, so any attempt to use it would fail); `cse-scenario run
//! --target live` knows only the vCD URL and the `cse` config.

mod live_support;

use live_support::{LiveSim, cse_install, replay_live, sibling_bin, start_cse_run, write_config};
use scenarios::format::{SimulatorSpec, Transport};
use scenarios::targets::sim::{config_for, write_ova};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_yaml_passes_live_over_mqtt_without_rabbitmq() {
    cse_bus::tls::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();

    // 1. vCD 10.6 (and vCenter) in their own process, over HTTPS; its
    //    extension requests go over its own MQTT broker.
    let mut sim = LiveSim::start(
        sibling_bin("vcd-sim"),
        dir.path(),
        &[
            "--time-scale",
            "0",
            "--extension-timeout",
            "5",
            "--vcd-release",
            "10.6",
        ],
    );

    // 2. The administrator's config: an `mqtt:` section, and an `amqp:`
    //    section pointing nowhere (it must stay unused).
    let (ova, sha256) = write_ova(dir.path()).unwrap();
    let spec = SimulatorSpec {
        vcd_release: vcd_sim::VcdRelease::V10_6,
        transport: Transport::Mqtt,
        ..SimulatorSpec::default()
    };
    let mut config = config_for(&sim.info, &ova, &sha256, &spec);
    config.amqp.host = "127.0.0.1".into();
    config.amqp.port = 1;
    config.mqtt = Some(scenarios::targets::mqtt::section());
    config.service.listeners = 2;
    let config_path = write_config(dir.path(), &config);

    // 3. `cse install` (the MQTT extension, its filters and token, the
    //    templates), then `cse run`, each in a process of its own.
    cse_install(&config_path, &[]);
    let mut server = start_cse_run(&config_path, &sim).await;

    // 4. The replay, in a process of its own, through public surfaces only.
    let file = scenarios::scenario_dir().join("lifecycle.yaml");
    let scenario = replay_live(&config_path, &sim, &[], &file, &server).await;
    let steps = scenario["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 11);
    assert!(
        steps.iter().any(|s| s["detail"]
            .as_str()
            .unwrap()
            .contains("Kubernetes: 6 node(s) Ready")),
        "{scenario:#}"
    );

    // 5. The server never touched the AMQP side and stops cleanly on SIGTERM.
    let log = server.log();
    assert!(
        !log.contains("amqp://") && !log.contains("cannot attach to the broker"),
        "cse run used its amqp section:\n{log}"
    );
    let status = server.terminate().expect("cse run stops on SIGTERM");
    assert!(status.success(), "{status}:\n{}", server.log());
    sim.process.terminate();
}
