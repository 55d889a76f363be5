//! `lifecycle.yaml` with `--target live`, the way it runs against a real
//! installation: a separate `vcd-sim serve` process (HTTPS) routes `/api/cse`
//! over RabbitMQ to a separate `cse run` process; `cse install` prepared it;
//! `cse-scenario run --target live` knows only the vCD URL, the tenants and
//! the `cse` config.

mod live_support;

use std::process::Command;

use live_support::{Process, provider_api_token, sibling_bin, wait_for_file, wait_until_serving};

use scenarios::format::SimulatorSpec;
use scenarios::targets::sim::{apply_amqp_url, config_for, write_ova};

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
    let info_path = dir.path().join("sim.json");

    // 1. vCD (and vCenter) in their own process, over HTTPS, routing
    //    extension requests through RabbitMQ.
    let mut sim = Process::spawn(
        "vcd-sim serve",
        Command::new(sibling_bin("vcd-sim")).args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--amqp-url",
            &broker.url,
            "--time-scale",
            "0",
            "--extension-timeout",
            "5",
            "--info-file",
            info_path.to_str().unwrap(),
            "--vcd-release",
            &release.to_string(),
        ]),
        dir.path().join("vcd-sim.log"),
    );
    let sim_info: vcd_sim::serve::SimInfo =
        serde_json::from_str(&wait_for_file(&info_path, &mut sim)).unwrap();
    let vcd_url = sim_info.vcd_url.clone();
    assert!(vcd_url.starts_with("https://"), "{vcd_url}");

    // 2. The administrator's config: this vCD, this broker, an exchange of
    //    its own, a template from a local OVA.
    let (ova, sha256) = write_ova(dir.path()).unwrap();
    let spec = SimulatorSpec {
        vcd_release: release,
        ..SimulatorSpec::default()
    };
    let mut config = config_for(&sim_info, &ova, &sha256, &spec);
    if login == Login::ApiToken {
        let token = provider_api_token(
            &vcd_url,
            &sim_info.sysadmin.user,
            &sim_info.sysadmin.password,
        )
        .await;
        config.vcd.password = None;
        config.vcd.api_token = Some(cse_core::config::Secret::new(token));
    }
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

    // 3. `cse install`, then `cse run` in its own process.
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

    // 4. The replay, in a process of its own, through public surfaces only.
    let report_path = dir.path().join("report.json");
    let replay = tokio::process::Command::new(env!("CARGO_BIN_EXE_cse-scenario"))
        .args(["run", "--target", "live", "--insecure", "-c"])
        .arg(&config_path)
        .arg("--vcd-url")
        .arg(&vcd_url)
        .arg("--report")
        .arg(&report_path)
        .arg(scenarios::scenario_dir().join("lifecycle.yaml"))
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
    let scenario = &report["scenarios"][0];
    assert_eq!(scenario["target"], "live");
    assert_eq!(scenario["passed"], true);
    let steps = scenario["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 11);
    assert!(steps.iter().all(|s| s["status"] == "passed"), "{report:#}");
    assert!(
        steps.iter().any(|s| s["detail"]
            .as_str()
            .unwrap()
            .contains("Kubernetes: 6 node(s) Ready")),
        "{report:#}"
    );

    // 5. The server stops cleanly on SIGTERM; the broker is left tidy.
    let status = server.terminate().expect("cse run stops on SIGTERM");
    assert!(status.success(), "{status}:\n{}", server.log());
    sim.terminate();
    let rabbit = cse_bus::RabbitBus::from_url(&broker.url).unwrap();
    use cse_bus::Bus;
    rabbit.delete_queue(&config.amqp.routing_key).await.ok();
    rabbit.delete_exchange(&config.amqp.exchange).await.ok();
    rabbit.close().await;
}
