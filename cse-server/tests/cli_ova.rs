//! The source OVA: a wrong sha256 stops the install before anything is uploaded
//! (local file and URL), a URL is downloaded into the cache, verified, and reused
//! from the cache on the next run. The OVA is served by a local HTTP server.

mod cli_support;

use std::net::SocketAddr;

use cli_support::{Env, OVA_NAME, make_ova, sha256_hex};

fn ova_items(env: &Env) -> usize {
    env.vcd_state()
        .iter()
        .filter(|l| l.starts_with(&format!("item {OVA_NAME}")) || l.starts_with("template "))
        .count()
}

async fn serve(bytes: Vec<u8>) -> SocketAddr {
    let app = axum::Router::new().route(
        &format!("/ova/{OVA_NAME}"),
        axum::routing::get(move || {
            let bytes = bytes.clone();
            async move { bytes }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

#[tokio::test]
async fn a_wrong_sha256_stops_before_any_upload() {
    let env = Env::start().await;
    let mut config = env.config();
    config.broker.templates[0].sha256_ova = "0".repeat(64);
    env.set_config(&config);
    let (code, out) = env.cse(&["install", "--yes"]).await;
    assert_ne!(code, 0, "{out}");
    let last = out.lines().last().unwrap();
    insta::assert_snapshot!("bad_sha256_local", last);
    assert_eq!(ova_items(&env), 0, "nothing uploaded");
}

#[tokio::test]
async fn a_url_is_downloaded_verified_and_cached() {
    let env = Env::start().await;
    let ova = make_ova(5000);
    let addr = serve(ova.clone()).await;
    let url = format!("http://{addr}/ova/{OVA_NAME}");

    // Wrong hash: downloaded, refused after download, nothing uploaded, nothing cached.
    let mut config = env.config();
    config.broker.templates[0].source_ova = url.clone();
    config.broker.templates[0].sha256_ova = "a".repeat(64);
    env.set_config(&config);
    let (code, out) = env.cse(&["install", "--yes"]).await;
    assert_ne!(code, 0, "{out}");
    let last = out
        .lines()
        .last()
        .unwrap()
        .replace(&addr.to_string(), "[OVA HOST]");
    insta::assert_snapshot!("bad_sha256_url", last);
    assert_eq!(ova_items(&env), 0);
    let cache = env.dir.path().join("cse_cache");
    assert!(!cache.join(OVA_NAME).exists());
    assert!(!cache.join(format!("{OVA_NAME}.part")).exists());

    // Right hash: downloaded once, then taken from the cache.
    config.broker.templates[0].sha256_ova = sha256_hex(&ova);
    env.set_config(&config);
    let (code, out) = env.cse(&["install", "--yes"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("(sha256 verified)"), "{out}");
    assert_eq!(std::fs::read(cache.join(OVA_NAME)).unwrap(), ova);
    let (code, out) = env.cse(&["install", "--update", "--yes"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(
            "Using cached '[DIR]/cse_cache/photon-custom-hw11-2.0-304b817.ova' (sha256 verified)"
        ),
        "{out}"
    );
    // A cached copy that no longer matches is fetched again.
    std::fs::write(cache.join(OVA_NAME), b"corrupted").unwrap();
    let (code, out) = env.cse(&["install", "--update", "--yes"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("does not match the configured sha256; downloading it again"),
        "{out}"
    );
    assert_eq!(std::fs::read(cache.join(OVA_NAME)).unwrap(), ova);
}

#[tokio::test]
async fn an_unreachable_url_is_named() {
    let env = Env::start().await;
    let mut config = env.config();
    config.broker.templates[0].source_ova = format!("http://127.0.0.1:9/ova/{OVA_NAME}");
    env.set_config(&config);
    let (code, out) = env.cse(&["install", "--yes"]).await;
    assert_ne!(code, 0);
    assert!(
        out.contains(&format!(
            "Cannot download 'http://127.0.0.1:9/ova/{OVA_NAME}'"
        )),
        "{out}"
    );
    assert_eq!(ova_items(&env), 0);
}
