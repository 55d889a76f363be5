//! Experiment (temporary).

use std::time::Instant;

use benches::gauges::Snapshot;
use benches::scale::{Scale, ScaleSpec, names};

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("scale: run with `cargo bench --bench scale`");
        return;
    }
    cse_bus::tls::install_crypto_provider();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let scale = Scale::start(&ScaleSpec::default()).await.expect("start");
        scale.login_all().await.expect("login");
        println!("start: {}", Snapshot::now());
        let port = |u: &str| {
            url::Url::parse(u)
                .ok()
                .and_then(|u| u.port_or_known_default())
                .unwrap_or(0)
        };
        let info = scale.target.sim.handle.info();
        let ports = vec![port(&info.vcd_url), port(&info.vcenters[0].url)];
        println!("ports vcd {} vc {}", ports[0], ports[1]);
        for batch in 0..1 {
            let tenant = scale.tenant(batch).clone();
            let names = names(&format!("b{batch}"), 100);
            let started = Instant::now();
            let replies =
                futures::future::join_all(names.iter().map(|n| scale.create(&tenant, n, 0))).await;
            let accept = started.elapsed();
            let ops: Vec<_> = replies
                .into_iter()
                .filter_map(|r| r.map_err(|e| eprintln!("{e}")).ok())
                .collect();
            let errors = scale.finish_all(&ops).await;
            println!(
                "batch {batch}: accepted {} in {:?}, done in {:?}, {} errors; {}",
                ops.len(),
                accept,
                started.elapsed(),
                errors.len(),
                Snapshot::now()
            );
            println!(
                "  conns (port, client, server): {:?}",
                benches::gauges::connections_at(&ports)
            );
            for e in errors.iter().take(3) {
                println!("  {e}");
            }
        }
        for _ in 0..0 {
            tokio::time::sleep(std::time::Duration::from_secs(30)).await;
            println!(
                "idle: {} {:?}",
                Snapshot::now(),
                benches::gauges::connections_at(&ports)
            );
        }
        scale.shutdown().await;
    });
}
