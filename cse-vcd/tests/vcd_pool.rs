//! The vCD client's bounds under a burst of concurrent calls: at most
//! `max_concurrent_requests` requests are open at once over every session of a
//! connector, so at most that many connections are ever made, and the ones made
//! are reused, and no more idle ones than that are kept afterwards. The server
//! here is a small local HTTP endpoint that counts the connections (distinct
//! peer addresses) and the requests it is handling; the connections still open
//! are read from `/proc/net/tcp` (this process holds both ends).

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::{ConnectInfo, State};
use cse_core::config::Secret;
use cse_vcd::vcd::{ApiVersion, SessionToken, VcdConnector, VcdSettings};
use parking_lot::Mutex;

const SESSION: &str = r#"<Session xmlns="http://www.vmware.com/vcloud/v1.5" user="alice" org="acme" href="/api/session"/>"#;

#[derive(Default)]
struct Seen {
    peers: Mutex<HashSet<SocketAddr>>,
    busy: AtomicUsize,
    most_busy: AtomicUsize,
    requests: AtomicUsize,
}

async fn answer(
    State(seen): State<Arc<Seen>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> &'static str {
    seen.peers.lock().insert(peer);
    seen.requests.fetch_add(1, Ordering::SeqCst);
    let now = seen.busy.fetch_add(1, Ordering::SeqCst) + 1;
    seen.most_busy.fetch_max(now, Ordering::SeqCst);
    // Long enough for the burst's requests to overlap.
    tokio::time::sleep(Duration::from_millis(20)).await;
    seen.busy.fetch_sub(1, Ordering::SeqCst);
    SESSION
}

/// Established connections from this process to `port` (the client ends).
fn open_connections_to(port: u16) -> usize {
    let text = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    text.lines()
        .skip(1)
        .filter(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            cols.len() > 3
                && cols[3] == "01"
                && cols[2]
                    .rsplit(':')
                    .next()
                    .and_then(|p| u16::from_str_radix(p, 16).ok())
                    == Some(port)
        })
        .count()
}

async fn serve(seen: Arc<Seen>) -> (String, u16) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .route("/api/session", axum::routing::get(answer))
        .route("/api/thing", axum::routing::get(answer))
        .with_state(seen);
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    (format!("http://{addr}/api"), addr.port())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_calls_opens_no_more_connections_than_the_cap() {
    cse_bus::tls::install_crypto_provider();
    let seen = Arc::new(Seen::default());
    let (api, port) = serve(seen.clone()).await;
    let version = ApiVersion::parse("29.0").unwrap();
    let mut settings = VcdSettings::new(&api, version.clone()).unwrap();
    settings.max_concurrent_requests = 4;
    let connector = VcdConnector::new(settings).unwrap();

    // Two tenants' sessions on the one connector share its slots and pool.
    let alice = connector
        .rehydrate(SessionToken::Legacy(Secret::new("a")), version.clone())
        .await
        .unwrap();
    let bob = connector
        .rehydrate(SessionToken::Legacy(Secret::new("b")), version)
        .await
        .unwrap();
    let url = format!("{api}/thing");
    let calls = (0..80).map(|i| {
        let client = if i % 2 == 0 { &alice } else { &bob };
        client.get_answer(&url)
    });
    let answers = futures::future::join_all(calls).await;
    assert!(answers.iter().all(Result::is_ok), "{answers:?}");

    assert_eq!(seen.requests.load(Ordering::SeqCst), 82);
    let most_busy = seen.most_busy.load(Ordering::SeqCst);
    assert!(most_busy <= 4, "{most_busy} requests were open at once");
    // Reused: a connection finishing a request may be handed back to the pool
    // just after the next request started a connection of its own, so a few
    // more than the cap may be made, never one per request.
    let connections = seen.peers.lock().len();
    assert!(
        (1..=8).contains(&connections),
        "{connections} connections for 82 requests"
    );
    assert_eq!(connector.requests_in_flight(), 0);
    // Idle connections beyond the cap are closed once the burst is over.
    let mut open = open_connections_to(port);
    for _ in 0..100 {
        if open <= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        open = open_connections_to(port);
    }
    assert!(open <= 4, "{open} connections still open after the burst");
}

#[test]
fn the_cap_comes_from_the_config_and_defaults() {
    let mut config = cse_core::config::sample_model();
    assert_eq!(
        VcdSettings::from_config(&config)
            .unwrap()
            .max_concurrent_requests,
        32
    );
    config.vcd.max_concurrent_requests = 7;
    assert_eq!(
        VcdSettings::from_config(&config)
            .unwrap()
            .max_concurrent_requests,
        7
    );
}

#[tokio::test]
async fn a_transport_failure_says_why() {
    cse_bus::tls::install_crypto_provider();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let version = ApiVersion::parse("29.0").unwrap();
    let mut settings =
        VcdSettings::new(&format!("http://127.0.0.1:{port}/api"), version.clone()).unwrap();
    settings.retry = cse_vcd::vcd::RetryPolicy::immediate(1);
    let err = VcdConnector::new(settings)
        .unwrap()
        .rehydrate(SessionToken::Legacy(Secret::new("t")), version)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!(
            "GET http://127.0.0.1:{port}/api/session failed: error sending request: "
        )),
        "{err}"
    );
    assert!(err.to_lowercase().contains("connection refused"), "{err}");
}
