//! The connector against the simulator's vCD release profiles: the version it
//! negotiates and the login that version needs (legacy below 33.0, CloudAPI
//! from 33.0, only CloudAPI at 38.0+), API-token logins, renewal after a JWT
//! ends or expires, logout by the session's kind, and re-hydration of a
//! bearer caller.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cse_core::config::Secret;
use cse_vcd::vcd::{
    ApiTokenCredentials, ApiVersion, Client, Credentials, LoginKind, RetryPolicy, SessionToken,
    TokenKind, VcdConnector, VcdError, VcdSettings, VersionChoice,
};
use reqwest::Method;
use vcd_sim::{SimBuilder, SimHandle, VcdRelease};

async fn start(builder: SimBuilder) -> (SimHandle, VcdConnector) {
    cse_bus::tls::install_crypto_provider();
    let sim = builder.start_vcd().await.unwrap();
    let connector = connector(&sim, VersionChoice::Negotiate);
    (sim, connector)
}

fn connector(sim: &SimHandle, version: VersionChoice) -> VcdConnector {
    let mut settings =
        VcdSettings::with_version(&format!("{}/api", sim.base_url), version).unwrap();
    settings.retry = RetryPolicy::immediate(2);
    settings.http.request = Duration::from_secs(20);
    VcdConnector::new(settings).unwrap()
}

fn sysadmin(sim: &SimHandle) -> Credentials {
    let info = sim.info();
    Credentials {
        user: info.sysadmin.user,
        org: "System".into(),
        password: Secret::new(info.sysadmin.password),
    }
}

fn alice() -> Credentials {
    Credentials {
        user: "alice".into(),
        org: "acme".into(),
        password: Secret::new("alice-pw"),
    }
}

/// A GET that needs a working session: the logged-in org.
async fn org_name(client: &Client) -> String {
    let href = client.session().org_href().unwrap().to_owned();
    let org = client.get(&href).await.unwrap();
    org.attr("name").unwrap_or_default().to_owned()
}

/// Creates an API token for `client`'s user (the simulator's `POST /cloudapi/1.0.0/tokens`).
async fn create_api_token(client: &Client, name: &str) -> Secret {
    let reply = client
        .exchange(
            Method::POST,
            &client.cloudapi_url("tokens"),
            &client.api_version().accept_cloudapi(),
            Some(("application/json", &format!(r#"{{"name":"{name}"}}"#))),
        )
        .await
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    let doc: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    Secret::new(doc["token"].as_str().unwrap())
}

#[tokio::test]
async fn every_release_negotiates_its_version_and_logs_in_the_way_it_needs() {
    for (release, version, kind) in [
        (VcdRelease::V9_5, "32.0", LoginKind::Legacy),
        (VcdRelease::V10_0, "33.0", LoginKind::CloudApi),
        (VcdRelease::V10_3, "36.0", LoginKind::CloudApi),
        (VcdRelease::V10_4, "37.0", LoginKind::CloudApi),
        (VcdRelease::V10_6, "39.0", LoginKind::CloudApi),
    ] {
        let (sim, vcd) = start(SimBuilder::new().vcd_release(release)).await;
        assert_eq!(vcd.login_version().await.unwrap().as_str(), version);
        for (credentials, org) in [(sysadmin(&sim), "System"), (alice(), "acme")] {
            let client = vcd.login(credentials).await.unwrap();
            assert_eq!(client.api_version().as_str(), version, "{release}");
            assert_eq!(client.login_kind(), kind, "{release}");
            let token_kind = if kind == LoginKind::Legacy {
                TokenKind::Legacy
            } else {
                TokenKind::Bearer
            };
            assert_eq!(client.token().kind(), token_kind, "{release}");
            assert_eq!(client.session().org, org);
            assert_eq!(org_name(&client).await, org, "{release}");
            // Logout takes the route the token needs (10.6 has no DELETE /api/session
            // at 39.0); afterwards the token is refused.
            let stale = vcd.resume(client.token(), client.api_version().clone());
            client.logout().await.unwrap();
            let err = stale.get(&client.api_url("session")).await.unwrap_err();
            assert!(
                matches!(err, VcdError::Unauthorized { .. }),
                "{release}: {err}"
            );
        }
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn a_fixed_version_is_kept_and_one_vcd_does_not_serve_is_refused() {
    let (sim, _) = start(SimBuilder::new().vcd_release(VcdRelease::V10_6)).await;
    // 37.0 on 10.6 (deprecated there, still served).
    let at_37 = connector(
        &sim,
        VersionChoice::Fixed(ApiVersion::parse("37.0").unwrap()),
    );
    let client = at_37.login(alice()).await.unwrap();
    assert_eq!(client.login_kind(), LoginKind::CloudApi);
    // A legacy login asked for at 39.0 is refused by vCD (405): the connector
    // never asks for one there.
    let err = client
        .exchange(
            Method::POST,
            &client.api_url("sessions"),
            "application/*+xml;version=39.0",
            None,
        )
        .await
        .unwrap();
    assert_eq!(err.status, 405);
    // 32.0 is not served by 10.6 at all.
    let at_32 = connector(
        &sim,
        VersionChoice::Fixed(ApiVersion::parse("32.0").unwrap()),
    );
    let err = at_32.login(alice()).await.unwrap_err();
    assert_eq!(err.status(), Some(406), "{err}");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_refused_cloudapi_login_names_user_and_org_but_not_the_password() {
    let (sim, vcd) = start(SimBuilder::new().vcd_release(VcdRelease::V10_4)).await;
    let err = vcd
        .login(Credentials {
            password: Secret::new("wrong-pw-123"),
            ..alice()
        })
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, VcdError::LoginRefused { .. }), "{text}");
    assert!(text.contains("cloudapi/1.0.0/sessions"), "{text}");
    assert!(text.contains("'alice@acme'"), "{text}");
    assert!(!text.contains("wrong-pw-123"), "{text}");
    sim.shutdown().await;
}

#[tokio::test]
async fn api_tokens_log_in_as_tenant_and_provider_and_renew_after_expiry() {
    for release in [VcdRelease::V10_4, VcdRelease::V10_6] {
        let (sim, vcd) = start(
            SimBuilder::new()
                .vcd_release(release)
                .session_lifetime(Duration::from_secs(1)),
        )
        .await;
        for (credentials, org) in [(alice(), "acme"), (sysadmin(&sim), "System")] {
            let password_session = vcd.login(credentials).await.unwrap();
            let secret = create_api_token(&password_session, "cse").await;
            let client = vcd
                .login(ApiTokenCredentials {
                    org: org.to_owned(),
                    token: secret.clone(),
                })
                .await
                .unwrap();
            assert_eq!(client.login_kind(), LoginKind::ApiToken);
            assert_eq!(client.token().kind(), TokenKind::Bearer);
            let shown = format!("{client:?}");
            assert!(!shown.contains(secret.expose()), "{shown}");
            assert!(!shown.contains(client.token().secret().expose()), "{shown}");
            assert_eq!(client.session().org, org);
            assert_eq!(org_name(&client).await, org);
            // The JWT lives one second; the next request finds it expired (401) and
            // the session exchanges the API token again by itself.
            let first = client.token();
            tokio::time::sleep(Duration::from_millis(2100)).await;
            assert_eq!(org_name(&client).await, org, "{release}");
            assert_eq!(client.renewals(), 1);
            assert_ne!(client.token(), first);
        }
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn a_wrong_or_foreign_api_token_is_refused_without_showing_it() {
    let (sim, vcd) = start(SimBuilder::new().vcd_release(VcdRelease::V10_4)).await;
    let alice_session = vcd.login(alice()).await.unwrap();
    let secret = create_api_token(&alice_session, "mine").await;
    for (org, token) in [
        ("acme", Secret::new("not-a-real-token-42")),
        // alice's token presented for another org.
        ("beta", secret.clone()),
    ] {
        let err = vcd
            .login(ApiTokenCredentials {
                org: org.into(),
                token: token.clone(),
            })
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, VcdError::ApiTokenRefused { .. }), "{text}");
        assert_eq!(err.status(), Some(401));
        assert!(
            text.contains(&format!("oauth/tenant/{org}/token")),
            "{text}"
        );
        assert!(text.contains("Invalid refresh token"), "{text}");
        assert!(!text.contains(token.expose()), "{text}");
    }
    // Before 10.3.1 there are no API tokens.
    let (old, old_vcd) = start(SimBuilder::new().vcd_release(VcdRelease::V10_0)).await;
    let err = old_vcd
        .login(ApiTokenCredentials {
            org: "acme".into(),
            token: secret,
        })
        .await
        .unwrap_err();
    assert!(matches!(err, VcdError::ApiTokenRefused { .. }), "{err}");
    assert!(err.to_string().contains("vCD 10.3.1 or later"), "{err}");
    old.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_cloudapi_session_renews_itself_after_its_jwt_is_revoked() {
    let (sim, vcd) = start(SimBuilder::new().vcd_release(VcdRelease::V10_6)).await;
    let admin = vcd.login(sysadmin(&sim)).await.unwrap();
    let first = admin.token();
    // Someone ends the session (the same JWT, presented by another client).
    let other = vcd.resume(first.clone(), admin.api_version().clone());
    other.logout().await.unwrap();
    assert_eq!(org_name(&admin).await, "System");
    assert_eq!(admin.renewals(), 1);
    assert_eq!(admin.token().kind(), TokenKind::Bearer);
    assert_ne!(admin.token(), first);
    // A resumed token cannot renew: its 401 is returned.
    let err = other.get(&admin.api_url("session")).await.unwrap_err();
    assert!(matches!(err, VcdError::Unauthorized { .. }), "{err}");
    sim.shutdown().await;
}

#[tokio::test]
async fn bearer_and_legacy_callers_are_rehydrated_with_their_own_header() {
    let (sim, vcd) = start(SimBuilder::new().vcd_release(VcdRelease::V10_4)).await;
    let tenant = vcd.login(alice()).await.unwrap();
    let jwt = tenant.token();
    assert_eq!(jwt.kind(), TokenKind::Bearer);
    let version = ApiVersion::parse("36.0").unwrap();
    let rehydrated = vcd.rehydrate(jwt.clone(), version.clone()).await.unwrap();
    assert_eq!(rehydrated.session().user, "alice");
    assert_eq!(rehydrated.login_kind(), LoginKind::Token);
    assert_eq!(rehydrated.api_version(), &version);
    assert_eq!(org_name(&rehydrated).await, "acme");
    // The same JWT sent as a legacy token is not a session token.
    let wrong = SessionToken::Legacy(jwt.secret().clone());
    let err = vcd.rehydrate(wrong, version.clone()).await.unwrap_err();
    assert!(matches!(err, VcdError::Unauthorized { .. }), "{err}");
    assert!(!err.to_string().contains(jwt.secret().expose()));
    // A legacy token re-hydrates with x-vcloud-authorization (9.5).
    let (old, old_vcd) = start(SimBuilder::new()).await;
    let legacy = old_vcd.login(alice()).await.unwrap();
    assert_eq!(legacy.token().kind(), TokenKind::Legacy);
    let back = old_vcd
        .rehydrate(legacy.token(), ApiVersion::parse("31.0").unwrap())
        .await
        .unwrap();
    assert_eq!(back.session().org, "acme");
    old.shutdown().await;
    sim.shutdown().await;
}

/// `(x-vcloud-authorization, Authorization)` of each request a route got.
type SeenHeaders = Arc<Mutex<Vec<(Option<String>, Option<String>)>>>;

/// A route that records the credential headers of each request it gets.
fn recording_route(seen: SeenHeaders) -> axum::Router {
    let handler = move |headers: axum::http::HeaderMap| {
        let seen = seen.clone();
        async move {
            let get = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            seen.lock()
                .unwrap()
                .push((get("x-vcloud-authorization"), get("authorization")));
            r#"<Task xmlns="http://www.vmware.com/vcloud/v1.5" href="h" status="success"/>"#
        }
    };
    axum::Router::new().route("/recorded", axum::routing::get(handler))
}

#[tokio::test]
async fn each_session_kind_sends_only_its_own_header() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (sim, vcd) = start(SimBuilder::new().extra_routes(recording_route(seen.clone()))).await;
    let url = format!("{}/recorded", sim.base_url);
    let version = ApiVersion::parse("32.0").unwrap();
    let legacy = vcd.resume(
        SessionToken::Legacy(Secret::new("plain-1")),
        version.clone(),
    );
    legacy.get_answer(&url).await.unwrap();
    let bearer = vcd.resume(SessionToken::Bearer(Secret::new("eyJ.a.b")), version);
    bearer.get_answer(&url).await.unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        [
            (Some("plain-1".to_owned()), None),
            (None, Some("Bearer eyJ.a.b".to_owned())),
        ]
    );
    sim.shutdown().await;
}
