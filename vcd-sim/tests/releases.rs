//! Release profiles: per vCD release the advertised versions (golden
//! files), the Accept-version check, the legacy login routes removed at API
//! 38.0, CloudAPI JWT sessions (tenant, provider, current, logout, forged
//! and expired tokens), API tokens and the OAuth exchange, the Org document
//! from API 33.0, and the extension hand-over of a JWT caller.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use futures::future::BoxFuture;
use parking_lot::Mutex;
use reqwest::StatusCode;
use vcd_sim::ext::{ExtensionTarget, ForwardedRequest, ForwardedResponse};
use vcd_sim::release::ALL_RELEASES;
use vcd_sim::rest::ExtensionForwarder;
use vcd_sim::{SimBuilder, VcdRelease};

const ADMIN_PW: &str = "vmware-sim-admin";

fn snap(name: &str, text: &str) {
    insta::with_settings!({
        filters => vec![
            (r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "{uuid}"),
            (r"http://127\.0\.0\.1:\d+", "{B}"),
            (r#""token": "[0-9a-f]{32}""#, r#""token": "{secret}""#),
            (r#""access_token": "[A-Za-z0-9_\-\.]+""#, r#""access_token": "{jwt}""#),
        ],
        prepend_module_to_snapshot => false,
    }, {
        insta::assert_snapshot!(name, text);
    });
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap()
}

fn xml(v: &str) -> String {
    format!("application/*+xml;version={v}")
}

struct Reply {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Reply {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    }
}

async fn send(r: reqwest::RequestBuilder) -> Reply {
    let r = r.send().await.unwrap();
    Reply {
        status: r.status(),
        headers: r.headers().clone(),
        text: r.text().await.unwrap(),
    }
}

async fn release_sim(release: VcdRelease) -> TestSim {
    start_with(SimBuilder::new().vcd_release(release)).await
}

/// `POST /cloudapi/1.0.0/sessions[/provider]`.
async fn cloud_login(sim: &TestSim, org: &str, user: &str, pw: &str, version: &str) -> Reply {
    let path = if org.eq_ignore_ascii_case("system") {
        "/cloudapi/1.0.0/sessions/provider"
    } else {
        "/cloudapi/1.0.0/sessions"
    };
    send(
        sim.http
            .post(format!("{}{path}", sim.base()))
            .basic_auth(format!("{user}@{org}"), Some(pw))
            .header("Accept", format!("application/json;version={version}")),
    )
    .await
}

async fn jwt_of(sim: &TestSim, org: &str, user: &str, pw: &str, version: &str) -> String {
    let r = cloud_login(sim, org, user, pw, version).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.header("X-VMWARE-VCLOUD-ACCESS-TOKEN").unwrap()
}

async fn bearer_get(sim: &TestSim, path: &str, jwt: &str, accept: &str) -> Reply {
    send(
        sim.http
            .get(format!("{}{path}", sim.base()))
            .bearer_auth(jwt)
            .header("Accept", accept),
    )
    .await
}

#[tokio::test]
async fn every_release_advertises_its_versions() {
    for release in ALL_RELEASES {
        let sim = release_sim(*release).await;
        let r = send(sim.http.get(format!("{}/api/versions", sim.base()))).await;
        assert_eq!(r.status, StatusCode::OK);
        snap(&format!("versions_{release}"), &r.text);
        // the served versions are exactly the advertised ones
        for v in ["29.0", "32.0", "33.0", "36.0", "37.0", "39.0"] {
            let r = send(
                sim.http
                    .post(format!("{}/api/sessions", sim.base()))
                    .basic_auth("alice@acme", Some("alice-pw"))
                    .header("Accept", xml(v)),
            )
            .await;
            let advertised = release.serves(v);
            if !advertised {
                assert_eq!(r.status, StatusCode::NOT_ACCEPTABLE, "{release} {v}");
                assert!(r.text.contains("NOT_ACCEPTABLE"), "{}", r.text);
            } else if release.legacy_login_removed(v) {
                assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{release} {v}");
            } else {
                assert_eq!(r.status, StatusCode::OK, "{release} {v}: {}", r.text);
            }
        }
        sim.handle.shutdown().await;
    }
}

#[tokio::test]
async fn the_legacy_login_routes_are_gone_at_api_38() {
    // 10.4 (current 37.0): all there
    let sim = release_sim(VcdRelease::V10_4).await;
    let alice = send(
        sim.http
            .post(format!("{}/api/sessions", sim.base()))
            .basic_auth("alice@acme", Some("alice-pw"))
            .header("Accept", xml("37.0")),
    )
    .await;
    assert_eq!(alice.status, StatusCode::OK);
    let token = alice.header("x-vcloud-authorization").unwrap();
    let r = send(
        sim.http
            .delete(format!("{}/api/session", sim.base()))
            .header("x-vcloud-authorization", &token)
            .header("Accept", xml("37.0")),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    sim.handle.shutdown().await;

    // 10.6: refused at 38.0 and 39.0 (and without a version: the current one)
    let sim = release_sim(VcdRelease::V10_6).await;
    let b = sim.base().to_string();
    for accept in [xml("38.0"), xml("39.0"), "application/*+xml".to_string()] {
        for req in [
            sim.http
                .post(format!("{b}/api/sessions"))
                .basic_auth("alice@acme", Some("alice-pw")),
            sim.http.get(format!("{b}/api/login")),
            sim.http.post(format!("{b}/api/login")),
            sim.http.delete(format!("{b}/api/session")),
        ] {
            let r = send(req.header("Accept", &accept)).await;
            assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{accept}");
            let doc = vcd_sim::rest::xml::Dom::parse(&r.text).unwrap();
            assert_eq!(doc.name, "Error");
            assert_eq!(doc.attr("majorErrorCode"), Some("405"));
            assert_eq!(doc.attr("minorErrorCode"), Some("METHOD_NOT_ALLOWED"));
            assert_eq!(doc.attr("message"), Some("HTTP method not allowed"));
        }
    }
    snap(
        "removed_login_10.6",
        &send(
            sim.http
                .post(format!("{b}/api/sessions"))
                .basic_auth("alice@acme", Some("alice-pw"))
                .header("Accept", xml("39.0")),
        )
        .await
        .text,
    );
    // a JSON Accept gets the JSON error
    let r = send(
        sim.http
            .post(format!("{b}/api/sessions"))
            .basic_auth("alice@acme", Some("alice-pw"))
            .header("Accept", "application/*+json;version=39.0"),
    )
    .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.json()["minorErrorCode"], "METHOD_NOT_ALLOWED");
    // still served at the deprecated 37.0
    let r = send(
        sim.http
            .post(format!("{b}/api/sessions"))
            .basic_auth("alice@acme", Some("alice-pw"))
            .header("Accept", xml("37.0")),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    // GET /api/session stays: it is how a JWT is re-hydrated
    let jwt = jwt_of(&sim, "acme", "alice", "alice-pw", "39.0").await;
    let r = bearer_get(&sim, "/api/session", &jwt, &xml("39.0")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn cloudapi_sessions_answer_signed_jwts() {
    let sim = release_sim(VcdRelease::V10_4).await;
    let b = sim.base().to_string();
    let r = cloud_login(&sim, "acme", "alice", "alice-pw", "37.0").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.header("X-VMWARE-VCLOUD-TOKEN-TYPE").as_deref(),
        Some("Bearer")
    );
    let jwt = r.header("X-VMWARE-VCLOUD-ACCESS-TOKEN").unwrap();
    assert_eq!(jwt.split('.').count(), 3, "{jwt}");
    let session = r.json();
    snap("cloudapi_session_tenant", &pretty(&session));
    let id = session["id"].as_str().unwrap().to_string();

    // Bearer everywhere: /api (XML session, org list) and /cloudapi
    let r = bearer_get(&sim, "/api/session", &jwt, &xml("37.0")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("user=\"alice\""), "{}", r.text);
    let r = bearer_get(&sim, "/api/org/", &jwt, &xml("36.0")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("name=\"acme\""));
    let r = bearer_get(
        &sim,
        "/cloudapi/1.0.0/sessions/current",
        &jwt,
        "application/json;version=37.0",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["id"], id.as_str());
    assert_eq!(r.json()["user"]["name"], "alice");

    // forged: a changed claim, another simulator's key, garbage
    let mut parts: Vec<&str> = jwt.split('.').collect();
    let forged_claims = base64_url(
        r#"{"iss":"x","sub":"administrator","org":"System","iat":1,"exp":99999999999,"jti":"00000000-0000-0000-0000-000000000000"}"#,
    );
    parts[1] = &forged_claims;
    let forged = parts.join(".");
    let other = release_sim(VcdRelease::V10_4).await;
    let foreign = jwt_of(&other, "acme", "alice", "alice-pw", "37.0").await;
    for bad in [forged.as_str(), foreign.as_str(), "a.b.c"] {
        for path in ["/api/session", "/api/org/"] {
            let r = bearer_get(&sim, path, bad, &xml("37.0")).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}");
        }
        let r = bearer_get(
            &sim,
            "/cloudapi/1.0.0/sessions/current",
            bad,
            "application/json",
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.json()["minorErrorCode"], "UNAUTHORIZED");
    }
    other.handle.shutdown().await;

    // a plain session token is no Bearer token on 10.x
    let plain = r_header_token(&sim, "37.0").await;
    let r = bearer_get(&sim, "/api/session", &plain, &xml("37.0")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // provider login: System only, and only on the provider endpoint
    let r = cloud_login(&sim, "System", "administrator", ADMIN_PW, "37.0").await;
    assert_eq!(r.status, StatusCode::OK);
    snap("cloudapi_session_provider", &pretty(&r.json()));
    let r = send(
        sim.http
            .post(format!("{b}/cloudapi/1.0.0/sessions"))
            .basic_auth("administrator@System", Some(ADMIN_PW))
            .header("Accept", "application/json;version=37.0"),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = cloud_login(&sim, "acme", "alice", "wrong", "37.0").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(!r.text.contains("wrong"));

    // logout by id: someone else's session cannot be ended
    let bob = jwt_of(&sim, "acme", "bob", "bob-pw", "37.0").await;
    let r = send(
        sim.http
            .delete(format!("{b}/cloudapi/1.0.0/sessions/{id}"))
            .bearer_auth(&bob)
            .header("Accept", "application/json;version=37.0"),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = send(
        sim.http
            .delete(format!("{b}/cloudapi/1.0.0/sessions/{id}"))
            .bearer_auth(&jwt)
            .header("Accept", "application/json;version=37.0"),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        bearer_get(&sim, "/api/session", &jwt, &xml("37.0"))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // logout of the current session
    let r = send(
        sim.http
            .delete(format!("{b}/cloudapi/1.0.0/sessions/current"))
            .bearer_auth(&bob)
            .header("Accept", "application/json;version=37.0"),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        bearer_get(&sim, "/api/org/", &bob, &xml("37.0"))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // DELETE /api/session with a JWT (pyvcloud's logout) ends it too
    let carol = jwt_of(&sim, "beta", "carol", "carol-pw", "37.0").await;
    let r = send(
        sim.http
            .delete(format!("{b}/api/session"))
            .bearer_auth(&carol)
            .header("Accept", xml("36.0")),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        bearer_get(&sim, "/api/session", &carol, &xml("36.0"))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    sim.handle.shutdown().await;
}

fn base64_url(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

async fn r_header_token(sim: &TestSim, version: &str) -> String {
    let r = send(
        sim.http
            .post(format!("{}/api/sessions", sim.base()))
            .basic_auth("alice@acme", Some("alice-pw"))
            .header("Accept", xml(version)),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    r.header("x-vcloud-authorization").unwrap()
}

#[tokio::test]
async fn an_expired_jwt_is_refused() {
    let sim = start_with(
        SimBuilder::new()
            .vcd_release(VcdRelease::V10_3)
            .session_lifetime(Duration::ZERO),
    )
    .await;
    let jwt = jwt_of(&sim, "acme", "alice", "alice-pw", "36.0").await;
    let r = bearer_get(&sim, "/api/session", &jwt, &xml("36.0")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn the_9_5_profile_keeps_plain_bearer_tokens() {
    let sim = start().await;
    let plain = r_header_token(&sim, "32.0").await;
    let r = bearer_get(&sim, "/api/session", &plain, &xml("32.0")).await;
    assert_eq!(r.status, StatusCode::OK);
    // and API tokens are not there before 10.3
    let r = bearer_get(&sim, "/cloudapi/1.0.0/tokens", &plain, "application/json").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    sim.handle.shutdown().await;
}

async fn post_json(sim: &TestSim, path: &str, jwt: &str, body: serde_json::Value) -> Reply {
    send(
        sim.http
            .post(format!("{}{path}", sim.base()))
            .bearer_auth(jwt)
            .header("Accept", "application/json;version=36.0")
            .header("Content-Type", "application/json")
            .body(body.to_string()),
    )
    .await
}

async fn exchange(sim: &TestSim, path: &str, form: &str) -> Reply {
    send(
        sim.http
            .post(format!("{}{path}", sim.base()))
            .header("Accept", "application/json")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form.to_string()),
    )
    .await
}

#[tokio::test]
async fn api_tokens_are_exchanged_for_access_tokens() {
    let sim = release_sim(VcdRelease::V10_3).await;
    let alice = jwt_of(&sim, "acme", "alice", "alice-pw", "36.0").await;
    let r = post_json(
        &sim,
        "/cloudapi/1.0.0/tokens",
        &alice,
        serde_json::json!({"name": "ci", "type": "REFRESH"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let created = r.json();
    snap("api_token_created", &pretty(&created));
    let secret = created["token"].as_str().unwrap().to_string();
    let id = created["id"].as_str().unwrap().to_string();
    // EXTENSION tokens too
    let r = post_json(
        &sim,
        "/cloudapi/1.0.0/tokens",
        &alice,
        serde_json::json!({"name": "mqtt", "type": "EXTENSION"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["type"], "EXTENSION");
    for bad in [
        serde_json::json!({"type": "REFRESH"}),
        serde_json::json!({"name": "x", "type": "PROXY"}),
    ] {
        let r = post_json(&sim, "/cloudapi/1.0.0/tokens", &alice, bad).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
    }
    // listed without the secret (shown once)
    let r = bearer_get(
        &sim,
        "/cloudapi/1.0.0/tokens",
        &alice,
        "application/json;version=36.0",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.text.contains(&secret));
    snap("api_token_list", &pretty(&r.json()));
    // bob does not see alice's tokens
    let bob = jwt_of(&sim, "acme", "bob", "bob-pw", "36.0").await;
    let r = bearer_get(&sim, "/cloudapi/1.0.0/tokens", &bob, "application/json").await;
    assert_eq!(r.json()["resultTotal"], 0);

    // the exchange
    let form = format!("grant_type=refresh_token&refresh_token={secret}");
    let r = exchange(&sim, "/oauth/tenant/acme/token", &form).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let grant = r.json();
    snap("oauth_access_token", &pretty(&grant));
    assert_eq!(grant["token_type"], "Bearer");
    let access = grant["access_token"].as_str().unwrap();
    let r = bearer_get(&sim, "/api/session", access, &xml("36.0")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("user=\"alice\""));
    // wrong org, wrong token, wrong grant, the provider endpoint
    for (path, form) in [
        ("/oauth/tenant/beta/token", form.clone()),
        ("/oauth/provider/token", form.clone()),
        (
            "/oauth/tenant/acme/token",
            "grant_type=refresh_token&refresh_token=nope".to_string(),
        ),
    ] {
        let r = exchange(&sim, path, &form).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(r.json()["minorErrorCode"], "invalid_grant");
        assert!(!r.text.contains(&secret));
    }
    let r = exchange(&sim, "/oauth/tenant/acme/token", "grant_type=password").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // revoked: the exchange fails
    let r = send(
        sim.http
            .delete(format!("{}/cloudapi/1.0.0/tokens/{id}", sim.base()))
            .bearer_auth(&bob),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "not bob's");
    let r = send(
        sim.http
            .delete(format!("{}/cloudapi/1.0.0/tokens/{id}", sim.base()))
            .bearer_auth(&alice),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = exchange(&sim, "/oauth/tenant/acme/token", &form).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // the provider's tokens go through /oauth/provider/token
    let admin = jwt_of(&sim, "System", "administrator", ADMIN_PW, "36.0").await;
    let r = post_json(
        &sim,
        "/cloudapi/1.0.0/tokens",
        &admin,
        serde_json::json!({"name": "ops"}),
    )
    .await;
    let secret = r.json()["token"].as_str().unwrap().to_string();
    let r = exchange(
        &sim,
        "/oauth/provider/token",
        &format!("grant_type=refresh_token&refresh_token={secret}"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn api_tokens_are_read_one_at_a_time_and_listed_in_pages() {
    let sim = release_sim(VcdRelease::V10_6).await;
    let alice = jwt_of(&sim, "acme", "alice", "alice-pw", "39.0").await;
    let mut made = Vec::new();
    for name in ["a", "b", "c"] {
        let r = post_json(
            &sim,
            "/cloudapi/1.0.0/tokens",
            &alice,
            serde_json::json!({"name": name}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let doc = r.json();
        made.push((
            doc["id"].as_str().unwrap().to_string(),
            doc["token"].as_str().unwrap().to_string(),
        ));
    }
    let accept = "application/json;version=39.0";
    // one token, without its secret; another user's is not found
    let (id, secret) = &made[0];
    let r = bearer_get(
        &sim,
        &format!("/cloudapi/1.0.0/tokens/{id}"),
        &alice,
        accept,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["name"], "a");
    assert_eq!(r.json()["id"], id.as_str());
    assert!(!r.text.contains(secret.as_str()));
    let bob = jwt_of(&sim, "acme", "bob", "bob-pw", "39.0").await;
    let r = bearer_get(&sim, &format!("/cloudapi/1.0.0/tokens/{id}"), &bob, accept).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // pages: 25 by default, pageSize up to 128
    let r = bearer_get(&sim, "/cloudapi/1.0.0/tokens", &alice, accept).await;
    let page = r.json();
    assert_eq!(
        (&page["resultTotal"], &page["pageCount"], &page["pageSize"]),
        (
            &serde_json::json!(3),
            &serde_json::json!(1),
            &serde_json::json!(25)
        )
    );
    let names = |r: &Reply| -> Vec<String> {
        r.json()["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap().to_string())
            .collect()
    };
    let r = bearer_get(
        &sim,
        "/cloudapi/1.0.0/tokens?page=1&pageSize=2",
        &alice,
        accept,
    )
    .await;
    assert_eq!(r.json()["pageCount"], 2);
    assert_eq!(names(&r), ["a", "b"]);
    let r = bearer_get(
        &sim,
        "/cloudapi/1.0.0/tokens?page=2&pageSize=2",
        &alice,
        accept,
    )
    .await;
    assert_eq!(names(&r), ["c"]);
    // filtered (FIQL key==value terms joined by ';')
    let r = post_json(
        &sim,
        "/cloudapi/1.0.0/tokens",
        &alice,
        serde_json::json!({"name": "x", "type": "EXTENSION"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = bearer_get(
        &sim,
        "/cloudapi/1.0.0/tokens?filter=type==EXTENSION",
        &alice,
        accept,
    )
    .await;
    assert_eq!(names(&r), ["x"]);
    let r = bearer_get(
        &sim,
        "/cloudapi/1.0.0/tokens?filter=type==REFRESH;name==b",
        &alice,
        accept,
    )
    .await;
    assert_eq!(names(&r), ["b"]);
    for bad in [
        "page=0",
        "pageSize=129",
        "pageSize=x",
        "filter=id==1",
        "filter=name=lt=b",
    ] {
        let r = bearer_get(
            &sim,
            &format!("/cloudapi/1.0.0/tokens?{bad}"),
            &alice,
            accept,
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    // revoked: gone
    let r = send(
        sim.http
            .delete(format!("{}/cloudapi/1.0.0/tokens/{id}", sim.base()))
            .bearer_auth(&alice),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = bearer_get(
        &sim,
        &format!("/cloudapi/1.0.0/tokens/{id}"),
        &alice,
        accept,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn from_api_33_the_org_links_vdc_and_catalog_queries() {
    let sim = release_sim(VcdRelease::V10_4).await;
    let jwt = jwt_of(&sim, "acme", "alice", "alice-pw", "36.0").await;
    let s = bearer_get(&sim, "/api/session", &jwt, &xml("36.0")).await;
    let session = vcd_sim::rest::xml::Dom::parse(&s.text).unwrap();
    let org_href = named_link(&session, "application/vnd.vmware.vcloud.org+xml", "acme");
    let r = send(
        sim.http
            .get(&org_href)
            .bearer_auth(&jwt)
            .header("Accept", xml("36.0")),
    )
    .await;
    let org = vcd_sim::rest::xml::Dom::parse(&r.text).unwrap();
    assert!(
        org.all("Link")
            .all(|l| l.attr("type") != Some("application/vnd.vmware.vcloud.vdc+xml"))
    );
    let vdcs = named_link(
        &org,
        "application/vnd.vmware.vcloud.query.records+xml",
        "vdcs",
    );
    let r = send(
        sim.http
            .get(vdcs.replace("&amp;", "&"))
            .bearer_auth(&jwt)
            .header("Accept", xml("36.0")),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("name=\"vdc1\""), "{}", r.text);
    let cats = named_link(
        &org,
        "application/vnd.vmware.vcloud.query.records+xml",
        "catalogs",
    );
    let r = send(
        sim.http
            .get(cats.replace("&amp;", "&"))
            .bearer_auth(&jwt)
            .header("Accept", xml("36.0")),
    )
    .await;
    assert!(r.text.contains("name=\"cse\""), "{}", r.text);
    // at 32.0 (10.3 still serves it) the org links each VDC
    let sim = release_sim(VcdRelease::V10_3).await;
    let jwt = jwt_of(&sim, "acme", "alice", "alice-pw", "36.0").await;
    let r = bearer_get(&sim, "/api/session", &jwt, &xml("32.0")).await;
    let session = vcd_sim::rest::xml::Dom::parse(&r.text).unwrap();
    let org_href = named_link(&session, "application/vnd.vmware.vcloud.org+xml", "acme");
    let r = send(
        sim.http
            .get(&org_href)
            .bearer_auth(&jwt)
            .header("Accept", xml("32.0")),
    )
    .await;
    let org = vcd_sim::rest::xml::Dom::parse(&r.text).unwrap();
    named_link(&org, "application/vnd.vmware.vcloud.vdc+xml", "vdc1");
}

const SERVICE: &str = r#"<vmext:Service xmlns="http://www.vmware.com/vcloud/v1.5" xmlns:vmext="http://www.vmware.com/vcloud/extension/v1.5" name="cse">
  <vmext:Namespace>cse</vmext:Namespace><vmext:Enabled>true</vmext:Enabled><vmext:RoutingKey>cse</vmext:RoutingKey><vmext:Exchange>vcdext</vmext:Exchange>
  <vmext:ApiFilters><vmext:ApiFilter><vmext:UrlPattern>/api/cse/.*</vmext:UrlPattern></vmext:ApiFilter></vmext:ApiFilters>
  <Description>CSE</Description></vmext:Service>"#;

#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<ForwardedRequest>>,
}

impl ExtensionForwarder for Recorder {
    fn forward(
        &self,
        _target: ExtensionTarget,
        req: ForwardedRequest,
    ) -> BoxFuture<'static, ForwardedResponse> {
        self.seen.lock().push(req);
        Box::pin(async {
            ForwardedResponse {
                status: 200,
                headers: vec![("Content-Type".into(), "application/json".into())],
                body: bytes::Bytes::from_static(b"{}"),
            }
        })
    }
}

#[tokio::test]
async fn a_jwt_caller_reaches_the_extension_with_its_bearer_header() {
    let rec = Arc::new(Recorder::default());
    let sim = start_with(
        SimBuilder::new()
            .vcd_release(VcdRelease::V10_4)
            .extension_forwarder(rec.clone()),
    )
    .await;
    let b = sim.base().to_string();
    let admin = jwt_of(&sim, "System", "administrator", ADMIN_PW, "37.0").await;
    let r = send(
        sim.http
            .post(format!("{b}/api/admin/extension/service"))
            .bearer_auth(&admin)
            .header("Accept", xml("37.0"))
            .header("Content-Type", "application/vnd.vmware.admin.service+xml")
            .body(SERVICE),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let alice = jwt_of(&sim, "acme", "alice", "alice-pw", "36.0").await;
    let r = send(
        sim.http
            .get(format!("{b}/api/cse/3.0/clusters"))
            .bearer_auth(&alice)
            .header("Accept", "application/json;version=36.0"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    {
        let seen = rec.seen.lock();
        let req = seen.last().unwrap();
        // CSE 3.x reads message['headers']['Authorization'] and re-hydrates with it
        let auth = req
            .headers
            .iter()
            .find(|(k, _)| k == "Authorization")
            .map(|(_, v)| v.clone());
        assert_eq!(auth, Some(format!("Bearer {alice}")));
        assert!(
            req.headers
                .iter()
                .any(|(k, v)| k == "Accept" && v.contains("36.0"))
        );
        assert_eq!(req.security.user_name, "alice");
        assert_eq!(req.security.org_name, "acme");
    }
    // a forged JWT is refused before the extension sees anything
    let n = rec.seen.lock().len();
    let r = send(
        sim.http
            .get(format!("{b}/api/cse/3.0/clusters"))
            .bearer_auth(format!("{alice}x"))
            .header("Accept", "application/json;version=36.0"),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(rec.seen.lock().len(), n);
    sim.handle.shutdown().await;
}
