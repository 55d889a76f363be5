//! Open connections stay bounded under load (issue 13, finding 4): after a
//! wave of concurrent creates through the whole path (tenant HTTPS → simulator
//! → bus → server → vCD and vCenter), the sockets this process holds (both
//! ends of every loopback connection: the tenants' client, the server's vCD
//! and vCenter clients, the simulator's side) are within what the pools keep,
//! however large the wave. Counted in `/proc/self/fd`.

use benches::gauges::Snapshot;
use benches::scale::{Scale, ScaleSpec, names};
use cse_vcd::vcd::http::DEFAULT_MAX_IDLE_PER_HOST;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wave_of_creates_leaves_no_more_sockets_than_the_pools_keep() {
    cse_bus::tls::install_crypto_provider();
    let scale = Scale::start(&ScaleSpec {
        orgs: 2,
        max_operations: 64,
        ..ScaleSpec::default()
    })
    .await
    .unwrap();
    scale.login_all().await.unwrap();
    let cap = scale.target.config().vcd.max_concurrent_requests as usize;
    let start = Snapshot::now();

    let tenant = scale.tenant(1).clone();
    let small = scale.create_wave(&tenant, &names("small", 10), 0).await;
    assert!(small.is_empty(), "{small:?}");
    let after_small = Snapshot::now();
    let large = scale.create_wave(&tenant, &names("large", 40), 0).await;
    assert!(large.is_empty(), "{large:?}");
    let after_large = Snapshot::now();

    // Kept-alive connections: the server's vCD pool (the cap), its vCenter
    // pool (as many as operations may run, so at most one per create of the
    // wave: 40), the runner's two clients (at most one per concurrent create,
    // 40); each connection is two sockets here. A quarter more for
    // connections opened while an idle one was on its way back to its pool.
    let max_operations = scale.target.config().service.max_operations as usize;
    let vcenter = max_operations.clamp(DEFAULT_MAX_IDLE_PER_HOST, 40);
    let kept = cap + vcenter + 2 * 40;
    let bound = start.sockets + 2 * kept * 5 / 4;
    println!(
        "start {start}; after 10 creates {after_small}; after 40 more {after_large}; bound {bound} sockets"
    );
    assert!(
        after_large.sockets <= bound,
        "{} sockets after a wave of 40 creates (start {}, bound {bound})",
        after_large.sockets,
        start.sockets
    );
    scale.shutdown().await;
}
