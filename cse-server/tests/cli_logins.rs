//! `cse check` and `cse install` against vCD release profiles: the login the admin
//! CLI uses (legacy, CloudAPI, API token) and the API version, as `cse check` says.

mod cli_support;

use cli_support::Env;
use cse_core::config::Secret;
use cse_vcd::vcd::{Credentials, VcdConnector, VcdSettings};
use reqwest::Method;
use vcd_sim::{SimBuilder, VcdRelease};

/// A refresh token of the system administrator, made with a password login.
async fn provider_api_token(env: &Env) -> Secret {
    let mut config = env.config();
    config.vcd.verify = false;
    config.vcd.api_version = "auto".into();
    let vcd = VcdConnector::new(VcdSettings::from_config(&config).unwrap()).unwrap();
    let admin = vcd
        .login(Credentials {
            user: config.vcd.username.clone(),
            org: "System".into(),
            password: config.vcd.password.clone().unwrap(),
        })
        .await
        .unwrap();
    let reply = admin
        .exchange(
            Method::POST,
            &admin.cloudapi_url("tokens"),
            &admin.api_version().accept_cloudapi(),
            Some(("application/json", r#"{"name":"cse-rs"}"#)),
        )
        .await
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    let doc: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    Secret::new(doc["token"].as_str().unwrap())
}

#[tokio::test]
async fn check_names_the_login_and_version_it_used() {
    // The 1.2.x config (api_version 29.0) on vCD 9.5: a legacy login.
    let env = Env::start().await;
    let (code, out) = env.cse(&["check"]).await;
    assert_eq!(code, 0, "{out}");
    insta::assert_snapshot!("check_login_legacy_9_5", out);

    // api_version auto on vCD 10.6: 39.0 and a CloudAPI provider session.
    let env = Env::start_with(SimBuilder::new().vcd_release(VcdRelease::V10_6)).await;
    let mut config = env.config();
    config.vcd.api_version = "auto".into();
    env.set_config(&config);
    let (code, out) = env.cse(&["check"]).await;
    assert_eq!(code, 0, "{out}");
    insta::assert_snapshot!("check_login_cloudapi_10_6", out);

    // An API token in place of the password on vCD 10.4.
    let env = Env::start_with(SimBuilder::new().vcd_release(VcdRelease::V10_4)).await;
    let mut config = env.config();
    config.vcd.api_version = "auto".into();
    let token = provider_api_token(&env).await;
    config.vcd.password = None;
    config.vcd.api_token = Some(token.clone());
    env.set_config(&config);
    let (code, out) = env.cse(&["check"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains(token.expose()), "{out}");
    insta::assert_snapshot!("check_login_api_token_10_4", out);

    // A revoked or wrong token is a clear failure naming the key's endpoint.
    config.vcd.api_token = Some(Secret::new("no-such-token-0042"));
    env.set_config(&config);
    let (code, out) = env.cse(&["check"]).await;
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("oauth/provider/token"), "{out}");
    assert!(out.contains("Invalid refresh token"), "{out}");
    assert!(!out.contains("no-such-token-0042"), "{out}");
}

#[tokio::test]
async fn install_check_and_uninstall_work_on_vcd_10_6_at_api_39() {
    let env = Env::start_with(SimBuilder::new().vcd_release(VcdRelease::V10_6)).await;
    let mut config = env.config();
    config.vcd.api_version = "auto".into();
    env.set_config(&config);
    let (code, out) = env.cse(&["install", "-a", "config", "-e", "config"]).await;
    assert_eq!(code, 0, "{out}");
    let (code, out) = env.cse(&["check", "-i"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("CSE installation is valid"), "{out}");
    insta::assert_snapshot!("check_install_10_6", out);
}
