//! `lifecycle.yaml` with `--target live`, the way it runs against a real
//! installation: a separate `vcd-sim serve` process (HTTPS) routes `/api/cse`
//! over RabbitMQ to a separate `cse run` process; `cse install` prepared it;
//! `cse-scenario run --target live` knows only the vCD URL, the tenants and
//! the `cse` config.

mod live_support;

use live_support::{
    LiveSim, cse_install, provider_api_token, replay_live, sibling_bin, start_cse_run,
    tidy_rabbitmq, use_rabbitmq, write_config,
};

use scenarios::format::SimulatorSpec;
use scenarios::targets::sim::{config_for, write_ova};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_yaml_passes_against_separate_vcd_sim_and_cse_processes() {
    live_lifecycle(vcd_sim::VcdRelease::V9_5, Login::Password).await;
}

/// vCD 10.6 (API 39.0, no `POST /api/sessions`) and a `cse` configured with
/// an API token instead of a password: install, run and the replay all log in
/// through CloudAPI.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_yaml_passes_live_on_vcd_10_6_with_an_api_token() {
    live_lifecycle(vcd_sim::VcdRelease::V10_6, Login::ApiToken).await;
}

/// How the `cse` config authenticates its system administrator.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Login {
    Password,
    ApiToken,
}

async fn live_lifecycle(release: vcd_sim::VcdRelease, login: Login) {
    cse_bus::tls::install_crypto_provider();
    let Some(broker) = cse_bus::testing::test_broker().await else {
        return;
    };
    let _lock = cse_bus::testing::broker_lock_shared().unwrap();
    let dir = tempfile::tempdir().unwrap();

    // 1. vCD (and vCenter) in their own process, over HTTPS, routing
    //    extension requests through RabbitMQ.
    let release_text = release.to_string();
    let mut sim = LiveSim::start(
        sibling_bin("vcd-sim"),
        dir.path(),
        &[
            "--amqp-url",
            &broker.url,
            "--time-scale",
            "0",
            "--extension-timeout",
            "5",
            "--vcd-release",
            &release_text,
        ],
    );

    // 2. The administrator's config: this vCD, this broker, an exchange of
    //    its own, a template from a local OVA.
    let (ova, sha256) = write_ova(dir.path()).unwrap();
    let spec = SimulatorSpec {
        vcd_release: release,
        ..SimulatorSpec::default()
    };
    let mut config = config_for(&sim.info, &ova, &sha256, &spec);
    if login == Login::ApiToken {
        let token = provider_api_token(
            sim.vcd_url(),
            &sim.info.sysadmin.user,
            &sim.info.sysadmin.password,
        )
        .await;
        config.vcd.password = None;
        config.vcd.api_token = Some(cse_core::config::Secret::new(token));
    }
    use_rabbitmq(&mut config, &broker.url);
    let config_path = write_config(dir.path(), &config);

    // 3. `cse install`, then `cse run` in its own process.
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

    // 5. The server stops cleanly on SIGTERM; the broker is left tidy.
    let status = server.terminate().expect("cse run stops on SIGTERM");
    assert!(status.success(), "{status}:\n{}", server.log());
    sim.process.terminate();
    tidy_rabbitmq(&broker.url, &config).await;
}
