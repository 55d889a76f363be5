//! The admin CLI on an `mqtt` config against the simulator on vCD 10.6:
//! install (CloudAPI extension, API filters, EXTENSION token file 0600, no
//! AMQP settings) → check → `cse run` serving a tenant's request over MQTT
//! (its `amqp` section pointing at no broker) → uninstall → check reports
//! what is missing; install twice; MQTT-only configs load; bad configs.

mod cli_support;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use cli_support::Env;
use cse_core::config::{AmqpConfig, Config, MqttConfig};
use vcd_sim::{SimBuilder, VcdRelease};

/// A 10.6 simulator and an MQTT-only config (no `amqp` section).
async fn mqtt_env() -> Env {
    mqtt_env_on(VcdRelease::V10_6).await
}

/// A simulator of `release` and an MQTT-only config (no `amqp` section).
async fn mqtt_env_on(release: VcdRelease) -> Env {
    let env = Env::start_with(SimBuilder::new().vcd_release(release)).await;
    let mut config = env.config();
    config.vcd.api_version = "auto".into();
    config.amqp = AmqpConfig::default();
    config.mqtt = Some(MqttConfig {
        vendor: "VMware".into(),
        name: "cse".into(),
        version: "1.0.0".into(),
        token: Default::default(),
        token_file: None,
    });
    env.set_config(&config);
    env
}

fn token_path(env: &Env) -> std::path::PathBuf {
    env.dir.path().join("cse-state").join("mqtt-token")
}

fn amqp_line(env: &Env) -> String {
    env.vcd_state()
        .into_iter()
        .find(|l| l.starts_with("amqp "))
        .unwrap()
}

async fn tenant_get(base: &str, path: &str) -> Result<(u16, String), String> {
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let login = http
        .post(format!("{base}/cloudapi/1.0.0/sessions"))
        .basic_auth("alice@acme", Some("alice-pw"))
        .header("Accept", "application/json;version=39.0")
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let token = login.headers()["x-vmware-vcloud-access-token"]
        .to_str()
        .unwrap()
        .to_owned();
    let resp = http
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .header("Accept", "application/json;version=39.0")
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    Ok((status, resp.text().await.unwrap_or_default()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_check_serve_uninstall_on_mqtt() {
    let env = mqtt_env().await;
    let amqp_before = amqp_line(&env);
    assert!(
        !std::fs::read_to_string(&env.config_path)
            .unwrap()
            .contains("amqp:")
    );

    let (code, out) = env.cse(&["install", "--yes"]).await;
    assert_eq!(code, 0, "{out}");
    insta::assert_snapshot!("mqtt_install", out);
    // vCD's AMQP settings are untouched; the extension is registered once.
    assert_eq!(amqp_line(&env), amqp_before);
    let services = env.sim.handle.state().extension_services();
    assert_eq!(services.len(), 1, "{services:?}");
    assert!(services[0].mqtt.is_some());

    // The token: 0600 in a 0700 directory, never printed.
    let path = token_path(&env);
    let token = std::fs::read_to_string(&path).unwrap();
    assert!(token.trim().len() > 10);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    assert!(!out.contains(token.trim()), "the token is never printed");

    let (code, out) = env.cse(&["check", "-i"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains(token.trim()));
    insta::assert_snapshot!("mqtt_check_installed", out);

    // `cse run` serves a tenant's request over MQTT; its `amqp` section
    // names a broker nobody listens on, which nothing connects to.
    let mut config = env.config();
    config.amqp = cse_core::config::sample_model().amqp;
    config.amqp.host = "127.0.0.1".into();
    config.amqp.port = 1;
    env.set_config(&config);
    let server = tokio::spawn(cse_server::cli::run::run(cse_server::cli::run::RunArgs {
        config: env.config_path.clone(),
        skip_check: false,
    }));
    let base = env.sim.base_url().to_owned();
    let mut answer = (0, String::new());
    for _ in 0..100 {
        assert!(!server.is_finished(), "cse run ended early");
        if let Ok(reply) = tenant_get(&base, "/api/cse/template").await {
            answer = reply;
            if answer.0 == 200 {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(answer.0, 200, "{}", answer.1);
    assert!(answer.1.contains("photon-v2"), "{}", answer.1);
    server.abort();
    let _ = server.await;

    // 130 other tokens sorted ahead of the extension's: it is on the list's
    // second page (128 a page), which uninstall still finds.
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let admin = admin_jwt(&http, &base).await;
    for i in 0..130 {
        let resp = http
            .post(format!("{base}/cloudapi/1.0.0/tokens"))
            .bearer_auth(&admin)
            .header("Accept", "application/json;version=39.0")
            .json(&serde_json::json!({"name": format!("a{i:03}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }

    let (code, out) = env.cse(&["uninstall", "--yes"]).await;
    assert_eq!(code, 0, "{out}");
    insta::assert_snapshot!("mqtt_uninstall", out);
    assert!(!path.exists(), "the token file goes with the registration");
    assert!(env.sim.handle.state().extension_services().is_empty());
    assert_eq!(amqp_line(&env), amqp_before);

    let (code, out) = env.cse(&["check", "-i"]).await;
    assert_eq!(code, 1, "{out}");
    insta::assert_snapshot!("mqtt_check_uninstalled", out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_twice_keeps_the_registration_and_the_token() {
    let env = mqtt_env().await;
    let (code, out) = env.cse(&["install", "--yes"]).await;
    assert_eq!(code, 0, "{out}");
    let token = std::fs::read_to_string(token_path(&env)).unwrap();
    let (code, out) = env.cse(&["install", "--yes"]).await;
    assert_eq!(code, 0, "{out}");
    insta::assert_snapshot!("mqtt_install_again", out);
    assert_eq!(std::fs::read_to_string(token_path(&env)).unwrap(), token);
    assert_eq!(env.sim.handle.state().extension_services().len(), 1);

    // A token that no longer logs in is replaced (the old ones revoked).
    std::fs::write(token_path(&env), "not-a-token\n").unwrap();
    let (code, out) = env.cse(&["install", "--yes"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("Revoked 1 EXTENSION token(s) of 'VMware/cse/1.0.0'"),
        "{out}"
    );
    let fresh = std::fs::read_to_string(token_path(&env)).unwrap();
    assert_ne!(fresh, token);
    assert_ne!(fresh.trim(), "not-a-token");
    let (code, out) = env.cse(&["check", "-i"]).await;
    assert_eq!(code, 0, "{out}");
}

/// The system administrator's bearer token (CloudAPI provider login).
async fn admin_jwt(http: &reqwest::Client, base: &str) -> String {
    let login = http
        .post(format!("{base}/cloudapi/1.0.0/sessions/provider"))
        .basic_auth("administrator@System", Some("vmware-sim-admin"))
        .header("Accept", "application/json;version=39.0")
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    login.headers()["x-vmware-vcloud-access-token"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_names_a_disabled_extension_and_a_missing_filter_and_install_repairs_them() {
    let env = mqtt_env().await;
    let (code, out) = env.cse(&["install", "--yes"]).await;
    assert_eq!(code, 0, "{out}");
    let base = env.sim.base_url().to_owned();
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let admin = admin_jwt(&http, &base).await;
    let urn = "urn:vcloud:extension-api:VMware:cse:1.0.0";
    let url = format!("{base}/cloudapi/extensions/api/{urn}");
    let resp = http
        .get(&url)
        .bearer_auth(&admin)
        .header("Accept", "application/json;version=39.0")
        .send()
        .await
        .unwrap();
    let service = resp.headers()["link"]
        .to_str()
        .unwrap()
        .trim_start_matches('<')
        .split('>')
        .next()
        .unwrap()
        .to_owned();
    let mut doc: serde_json::Value = resp.json().await.unwrap();
    doc["enabled"] = false.into();
    let resp = http
        .put(&url)
        .bearer_auth(&admin)
        .header("Accept", "application/json;version=39.0")
        .json(&doc)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // Remove the `/api/cse/.*/.*` filter.
    let filters = http
        .get(format!("{service}/apifilters"))
        .bearer_auth(&admin)
        .header("Accept", "application/*+xml;version=39.0")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let filter = filters
        .split("<vmext:ApiFilter ")
        .find(|f| f.contains("<vmext:UrlPattern>/api/cse/.*/.*</vmext:UrlPattern>"))
        .and_then(|f| f.split("href=\"").nth(1))
        .and_then(|f| f.split('"').next())
        .unwrap()
        .to_owned();
    let resp = http
        .delete(&filter)
        .bearer_auth(&admin)
        .header("Accept", "application/*+xml;version=39.0")
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());

    let (code, out) = env.cse(&["check", "-i"]).await;
    assert_eq!(code, 1, "{out}");
    insta::assert_snapshot!("mqtt_check_disabled_and_filter_missing", out);

    let (code, out) = env.cse(&["install", "--yes"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("Enabled MQTT API extension 'VMware/cse/1.0.0'"),
        "{out}"
    );
    assert!(
        out.contains("Registered API filters /api/cse/.*/.*"),
        "{out}"
    );
    let (code, out) = env.cse(&["check", "-i"]).await;
    assert_eq!(code, 0, "{out}");

    // A token file others can read is refused, naming the file.
    let path = token_path(&env);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, out) = env.cse(&["check", "-i"]).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("Remove read, write and execute permissions of Others for the file"),
        "{out}"
    );
    assert!(out.contains("mqtt-token"), "{out}");
}

#[tokio::test]
async fn install_on_a_vcd_without_mqtt_says_so() {
    let env = mqtt_env_on(VcdRelease::V10_0).await;
    let amqp_before = amqp_line(&env);
    let (code, out) = env.cse(&["install", "--yes"]).await;
    assert_eq!(code, 1, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    insta::assert_snapshot!("mqtt_install_vcd_10_0", lines[lines.len() - 2..].join("\n"));
    assert_eq!(amqp_line(&env), amqp_before);
    assert!(!token_path(&env).exists());
}

#[tokio::test]
async fn mqtt_only_configs_load_and_bad_ones_are_named() {
    let env = mqtt_env().await;
    let config = Config::load(&env.config_path).unwrap();
    assert!(config.mqtt.is_some());
    assert!(!config.has_amqp_section());

    // Neither transport section.
    let text = std::fs::read_to_string(&env.config_path).unwrap();
    let without: String = {
        let mut doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
        doc.as_mapping_mut().unwrap().remove("mqtt");
        serde_yaml::to_string(&doc).unwrap()
    };
    std::fs::write(&env.config_path, without).unwrap();
    let (code, out) = env.cse(&["check"]).await;
    assert_eq!(code, 1);
    insta::assert_snapshot!("mqtt_config_no_transport", out);

    // An mqtt section without its identity, with the token in two places.
    let mut doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let mqtt = doc.get_mut("mqtt").unwrap().as_mapping_mut().unwrap();
    mqtt.remove("version");
    mqtt.insert("token".into(), "s3cr3t-token".into());
    mqtt.insert("token_file".into(), "tok".into());
    std::fs::write(&env.config_path, serde_yaml::to_string(&doc).unwrap()).unwrap();
    let (code, out) = env.cse(&["check"]).await;
    assert_eq!(code, 1);
    assert!(!out.contains("s3cr3t-token"), "{out}");
    insta::assert_snapshot!("mqtt_config_bad_section", out);

    // `cse run` without the token file says what to do.
    env.set_config(&env_config_without_token(&env));
    let error = cse_server::cli::run::run(cse_server::cli::run::RunArgs {
        config: env.config_path.clone(),
        skip_check: true,
    })
    .await
    .unwrap_err();
    let text = format!("{error:#}");
    assert!(
        text.contains("mqtt-token' is missing: run `cse install` to create it"),
        "{text}"
    );
}

fn env_config_without_token(env: &Env) -> Config {
    let mut config = cli_support::config_for(&env.sim, "file:///nowhere.ova", &"0".repeat(64));
    config.vcd.api_version = "auto".into();
    config.amqp = AmqpConfig::default();
    config.mqtt = Some(MqttConfig {
        vendor: "VMware".into(),
        name: "cse".into(),
        version: "1.0.0".into(),
        token: Default::default(),
        token_file: None,
    });
    config
}

#[test]
fn sample_mqtt_is_printed_and_the_default_is_unchanged() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cse"))
        .args(["sample", "--transport", "mqtt"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text, cse_core::config::sample_mqtt_config());
    insta::assert_snapshot!("sample_mqtt", text);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cse"))
        .args(["sample"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        cse_core::config::sample_config()
    );
}
