//! GET throughput of the assembled simulator's vCD REST API over loopback
//! HTTP, next to a baseline measured in the same run: a trivial axum handler
//! returning a fixed small XML body over the same kind of connection (one
//! kept-alive reqwest client, one request per iteration). The simulator's
//! GETs are the session re-hydrate (`GET /api/session`), an org document and
//! a typed query. At the end the run prints requests/s of each and the ratio
//! of each simulator GET to the baseline.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vcd_sim::SimBuilder;

const ACCEPT: &str = "application/*+xml;version=32.0";
const BASELINE: &str = "baseline_fixed_xml";

/// A small fixed XML body, about the size of a session document's head.
const FIXED_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Session xmlns="http://www.vmware.com/vcloud/v1.5" user="alice" org="acme" type="application/vnd.vmware.vcloud.session+xml"/>"#;

async fn fixed_xml() -> ([(&'static str, &'static str); 1], &'static str) {
    (
        [("content-type", "application/vnd.vmware.vcloud.session+xml")],
        FIXED_XML,
    )
}

/// Starts the baseline server on a loopback port; returns its URL.
async fn start_baseline() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("baseline listener");
    let addr = listener.local_addr().expect("baseline address");
    let app = Router::new().route("/api/session", get(fixed_xml));
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("sim_rest baseline server stopped: {e}");
        }
    });
    format!("http://{addr}/api/session")
}

fn bench(c: &mut Criterion) {
    cse_bus::tls::install_crypto_provider();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let (sim, token, org_href, baseline_url) = rt.block_on(async {
        let sim = SimBuilder::new().start().await.expect("simulator starts");
        let r = reqwest::Client::new()
            .post(format!("{}/api/sessions", sim.base_url()))
            .basic_auth("alice@acme", Some("alice-pw"))
            .header("Accept", ACCEPT)
            .send()
            .await
            .expect("login");
        let token = r.headers()["x-vcloud-authorization"]
            .to_str()
            .expect("token")
            .to_string();
        let body = r.text().await.expect("session");
        let org = body
            .split("<Link ")
            .find(|l| l.contains("vcloud.org+xml"))
            .and_then(|l| l.split("href=\"").nth(1))
            .and_then(|l| l.split('"').next())
            .expect("org link")
            .to_string();
        (sim, token, org, start_baseline().await)
    });
    let base = sim.base_url().to_string();
    let http = reqwest::Client::new();
    let tally: Arc<Mutex<BTreeMap<&'static str, (Duration, u64)>>> = Arc::default();
    let rt_ref = &rt;
    let mut group = c.benchmark_group("sim_rest_get");
    group.throughput(Throughput::Elements(1));
    for (name, url) in [
        (BASELINE, baseline_url),
        ("session", format!("{base}/api/session")),
        ("org", org_href),
        (
            "query_catalog_idrecords",
            format!("{base}/api/query?type=catalog&format=idrecords&page=1"),
        ),
    ] {
        let tally = Arc::clone(&tally);
        let http = http.clone();
        let token = token.clone();
        group.bench_function(name, move |b| {
            b.to_async(rt_ref).iter_custom(|iters| {
                let http = http.clone();
                let url = url.clone();
                let token = token.clone();
                let tally = Arc::clone(&tally);
                async move {
                    let start = Instant::now();
                    for _ in 0..iters {
                        let r = http
                            .get(&url)
                            .header("Accept", ACCEPT)
                            .header("x-vcloud-authorization", &token)
                            .send()
                            .await
                            .expect("GET");
                        assert_eq!(r.status(), 200, "GET {url}");
                        r.bytes().await.expect("body");
                    }
                    let elapsed = start.elapsed();
                    let mut t = tally.lock().unwrap_or_else(|e| e.into_inner());
                    let entry = t.entry(name).or_default();
                    entry.0 += elapsed;
                    entry.1 += iters;
                    elapsed
                }
            })
        });
    }
    group.finish();
    report(&tally.lock().unwrap_or_else(|e| e.into_inner()));
    rt.block_on(sim.shutdown());
}

fn per_second((total, iters): (Duration, u64)) -> f64 {
    if total.is_zero() {
        0.0
    } else {
        iters as f64 / total.as_secs_f64()
    }
}

/// Prints requests/s of every GET and its ratio to the baseline.
fn report(tally: &BTreeMap<&'static str, (Duration, u64)>) {
    let Some(baseline) = tally.get(BASELINE).copied().map(per_second) else {
        return;
    };
    println!("sim_rest: baseline (fixed XML, axum) {baseline:.0} req/s");
    for (name, totals) in tally.iter().filter(|(n, _)| **n != BASELINE) {
        let rate = per_second(*totals);
        println!(
            "sim_rest: {name} {rate:.0} req/s over {} requests; ratio to baseline {:.2}",
            totals.1,
            if baseline > 0.0 { rate / baseline } else { 0.0 }
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
