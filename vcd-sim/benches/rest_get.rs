//! Plain GET throughput against the simulator over loopback HTTP: the
//! session re-hydrate (`GET /api/session`), an org document and a typed
//! query, each as one request per iteration on a kept-alive connection.
//! Criterion reports time per request; requests/s = 1 / time.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vcd_sim::serve::SimBuilder;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (handle, token, org_href) = rt.block_on(async {
        let h = SimBuilder::new().start().await.unwrap();
        let http = reqwest::Client::new();
        let r = http
            .post(format!("{}/api/sessions", h.base_url))
            .basic_auth("alice@acme", Some("alice-pw"))
            .header("Accept", "application/*+xml;version=32.0")
            .send()
            .await
            .unwrap();
        let token = r.headers()["x-vcloud-authorization"]
            .to_str()
            .unwrap()
            .to_string();
        let body = r.text().await.unwrap();
        let org = body
            .split("<Link ")
            .find(|l| l.contains("vcloud.org+xml"))
            .and_then(|l| l.split("href=\"").nth(1))
            .and_then(|l| l.split('"').next())
            .unwrap()
            .to_string();
        (h, token, org)
    });
    let http = reqwest::Client::new();
    let mut group = c.benchmark_group("vcd_sim_get");
    group.throughput(Throughput::Elements(1));
    for (name, url) in [
        ("session", format!("{}/api/session", handle.base_url)),
        ("org", org_href.clone()),
        (
            "query_catalog_idrecords",
            format!(
                "{}/api/query?type=catalog&format=idrecords&page=1",
                handle.base_url
            ),
        ),
    ] {
        group.bench_function(name, |b| {
            b.to_async(&rt).iter(|| {
                let req = http
                    .get(&url)
                    .header("Accept", "application/*+xml;version=32.0")
                    .header("x-vcloud-authorization", &token);
                async move {
                    let r = req.send().await.unwrap();
                    assert_eq!(r.status(), 200);
                    r.bytes().await.unwrap()
                }
            })
        });
    }
    group.finish();
    rt.block_on(handle.shutdown());
}

criterion_group!(benches, bench);
criterion_main!(benches);
