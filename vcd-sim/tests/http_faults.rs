//! Run-time faults of the vCD REST API ([`RestFaults`]) on a running full
//! simulator: counted error answers, method and path matching, latency, the
//! vCD `Error` document, the vCenter routes left alone, and clearing.

use std::time::{Duration, Instant};

use http::Method;
use reqwest::StatusCode;
use vcd_sim::faults::FaultRule;
use vcd_sim::rest::faults::{HttpMatch, HttpStatus, RestFaults};
use vcd_sim::{FullSim, SimBuilder};

const ACCEPT: &str = "application/*+xml;version=31.0";

async fn start() -> (FullSim, reqwest::Client) {
    cse_bus::tls::install_crypto_provider();
    let sim = SimBuilder::new().start().await.expect("simulator starts");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    (sim, http)
}

async fn get(http: &reqwest::Client, sim: &FullSim, path: &str) -> StatusCode {
    http.get(format!("{}{path}", sim.base_url()))
        .header("Accept", ACCEPT)
        .send()
        .await
        .expect("request")
        .status()
}

#[tokio::test]
async fn a_counted_503_fails_that_many_requests_then_lets_them_through() {
    let (sim, http) = start().await;
    let id = sim
        .http_faults()
        .add(
            FaultRule::new(
                HttpMatch {
                    method: Some(Method::GET),
                    path_contains: Some("/api/versions".into()),
                },
                HttpStatus(503),
            )
            .times(2),
        )
        .unwrap();
    let r = http
        .get(format!("{}/api/versions", sim.base_url()))
        .header("Accept", ACCEPT)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        r.headers()["content-type"],
        "application/vnd.vmware.vcloud.error+xml;version=31.0"
    );
    insta::assert_snapshot!("injected_503_error_document", r.text().await.unwrap());
    assert_eq!(
        get(&http, &sim, "/api/versions").await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(get(&http, &sim, "/api/versions").await, StatusCode::OK);
    assert_eq!(sim.http_faults().hits(id), 2);
    assert!(sim.http_faults().active().is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn rules_match_on_method_and_path_including_extension_paths() {
    let (sim, http) = start().await;
    let faults = sim.http_faults();
    let post_only = faults
        .add(FaultRule::new(
            HttpMatch {
                method: Some(Method::POST),
                path_contains: Some("/api/sessions".into()),
            },
            HttpStatus(500),
        ))
        .unwrap();
    let cse = faults
        .add(FaultRule::new(
            HttpMatch {
                method: None,
                path_contains: Some("/api/cse".into()),
            },
            HttpStatus(502),
        ))
        .unwrap();
    // GET /api/versions matches neither rule.
    assert_eq!(get(&http, &sim, "/api/versions").await, StatusCode::OK);
    // GET /api/session (no session: 401) is not a POST to /api/sessions.
    assert_eq!(
        get(&http, &sim, "/api/session").await,
        StatusCode::UNAUTHORIZED
    );
    let login = http
        .post(format!("{}/api/sessions", sim.base_url()))
        .basic_auth("alice@acme", Some("alice-pw"))
        .header("Accept", ACCEPT)
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        get(&http, &sim, "/api/cse/system").await,
        StatusCode::BAD_GATEWAY
    );
    assert_eq!((faults.hits(post_only), faults.hits(cse)), (1, 1));
    assert!(faults.remove(post_only));
    let login = http
        .post(format!("{}/api/sessions", sim.base_url()))
        .basic_auth("alice@acme", Some("alice-pw"))
        .header("Accept", ACCEPT)
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    sim.shutdown().await;
}

#[tokio::test]
async fn latency_delays_the_answer_and_combines_with_a_status() {
    let (sim, http) = start().await;
    let delay = Duration::from_millis(300);
    let id = sim
        .http_faults()
        .add(FaultRule::delay_only(
            HttpMatch {
                method: None,
                path_contains: Some("/api/versions".into()),
            },
            delay,
        ))
        .unwrap();
    let started = Instant::now();
    assert_eq!(get(&http, &sim, "/api/versions").await, StatusCode::OK);
    assert!(started.elapsed() >= delay, "{:?}", started.elapsed());
    sim.http_faults()
        .add(
            FaultRule::new(HttpMatch::default(), HttpStatus(504))
                .with_delay(delay)
                .times(1),
        )
        .unwrap();
    let started = Instant::now();
    assert_eq!(
        get(&http, &sim, "/api/versions").await,
        StatusCode::GATEWAY_TIMEOUT
    );
    assert!(started.elapsed() >= delay * 2, "{:?}", started.elapsed());
    assert_eq!(sim.http_faults().hits(id), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn vcenter_routes_are_unaffected_and_clear_removes_every_rule() {
    let (sim, http) = start().await;
    let everything = sim
        .http_faults()
        .add(FaultRule::new(HttpMatch::default(), HttpStatus(503)))
        .unwrap();
    assert_eq!(
        get(&http, &sim, "/api/versions").await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        get(&http, &sim, "/sdk/vimServiceVersions.xml").await,
        StatusCode::OK
    );
    assert_eq!(sim.http_faults().hits(everything), 1);
    sim.http_faults().clear();
    assert!(sim.http_faults().active().is_empty());
    assert_eq!(get(&http, &sim, "/api/versions").await, StatusCode::OK);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_shared_handle_given_to_the_builder_controls_the_simulator() {
    cse_bus::tls::install_crypto_provider();
    let faults = RestFaults::new();
    let shared = faults.clone();
    let sim = SimBuilder::new()
        .http_faults(shared)
        .start()
        .await
        .expect("simulator starts");
    let http = reqwest::Client::new();
    assert!(sim.http_faults().active().is_empty());
    faults
        .add(FaultRule::new(HttpMatch::default(), HttpStatus(429)).times(1))
        .unwrap();
    assert_eq!(
        get(&http, &sim, "/api/versions").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(get(&http, &sim, "/api/versions").await, StatusCode::OK);
    sim.shutdown().await;
}
