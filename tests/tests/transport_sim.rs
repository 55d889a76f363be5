//! The whole extension path through the vCD simulator's REST API: a tenant
//! logs in, calls `/api/cse/...`, the simulator matches the registered API
//! filters, the router publishes on the bus, the CSE listener pool answers,
//! and the tenant gets the server's reply — with both bus implementations.

use std::sync::Arc;
use std::time::Duration;

use cse_bus::{Bus, MemoryBroker, RabbitBus};
use cse_server::amqp::{Handler, ReplyJournal};
use cse_server::service::Service;
use tests::transport::{
    Recorder, register_cse, sim_tenant, start_server, start_vcd_sim, unique_names,
};
use vcd_sim::ext::ExtensionRouter;

/// Runs the system-info and slow-handler checks against one broker.
async fn through_the_simulator(
    server_bus: Arc<dyn Bus>,
    sim_bus: Arc<dyn Bus>,
    exchange: &str,
    key: &str,
) {
    // The server answers system info itself; every other route goes to a
    // handler that takes 2 s, longer than the simulator's 1 s timeout.
    let slow = Recorder::new(Duration::from_secs(2));
    let handler: Arc<dyn Handler> = Arc::new(Service::with_operations(slow.clone()));
    let pool = start_server(
        server_bus,
        exchange,
        key,
        handler,
        ReplyJournal::in_memory(64),
    )
    .await;
    let router = ExtensionRouter::new(sim_bus, Duration::from_secs(1));
    let sim = start_vcd_sim(router).await;
    register_cse(&sim.base_url, exchange, key).await;
    let tenant = sim_tenant(&sim.base_url).await;

    let resp = tenant
        .get(format!("{}/api/cse/system", sim.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"],
        "application/*+json;version=29.0"
    );
    assert!(resp.headers().contains_key("x-vmware-vcloud-request-id"));
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["product"], "CSE");
    assert_eq!(body["version"], cse_core::CSE_VERSION);

    let resp = tenant
        .get(format!("{}/api/cse/c1/info?n=slow", sim.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 504);
    let text = resp.text().await.unwrap();
    assert!(
        text.contains(
            "External service 'cse' failed to respond in the specified timeout (1 SECONDS)"
        ),
        "{text}"
    );
    pool.stop(Duration::from_secs(5)).await;
    assert_eq!(slow.runs().get("n=slow"), Some(&1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_request_through_the_simulator_over_the_memory_bus() {
    let broker = MemoryBroker::new();
    through_the_simulator(
        Arc::new(broker.connect()),
        Arc::new(broker.connect()),
        "vcdext",
        "cse",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_request_through_the_simulator_over_rabbitmq() {
    cse_bus::tls::install_crypto_provider();
    let Some(broker) = cse_bus::testing::test_broker().await else {
        return;
    };
    let _lock = cse_bus::testing::broker_lock_shared().unwrap();
    let (exchange, key) = unique_names("sim");
    let server_bus = Arc::new(RabbitBus::from_url(&broker.url).unwrap());
    let sim_bus = Arc::new(RabbitBus::from_url(&broker.url).unwrap());
    through_the_simulator(server_bus.clone(), sim_bus.clone(), &exchange, &key).await;
    server_bus.delete_queue(&key).await.unwrap();
    server_bus.delete_exchange(&exchange).await.unwrap();
    server_bus.close().await;
    sim_bus.close().await;
}
