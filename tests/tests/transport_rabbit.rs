//! The extension transport end to end over RabbitMQ (`CSE_TEST_AMQP_URL`):
//! tenant HTTP → simulator → broker → CSE listener pool → reply → HTTP.

use std::sync::Arc;
use std::time::Duration;

use cse_bus::{Bus, RabbitBus};
use cse_server::amqp::ReplyJournal;
use cse_server::service::Service;
use tests::transport::{
    Recorder, cse_extension, serve_front, start_server, tenant_client, unique_names,
};
use vcd_sim::ext::ExtensionRouter;

async fn cleanup(bus: &RabbitBus, exchange: &str, queue: &str) {
    bus.delete_queue(queue).await.expect("delete the queue");
    bus.delete_exchange(exchange)
        .await
        .expect("delete the exchange");
    bus.close().await;
}

#[tokio::test]
async fn system_info_comes_back_from_the_server_over_rabbitmq() {
    cse_bus::tls::install_crypto_provider();
    let Some(broker) = cse_bus::testing::test_broker().await else {
        return;
    };
    let _lock = cse_bus::testing::broker_lock_shared().unwrap();
    let (exchange, key) = unique_names("system");
    let server_bus = Arc::new(RabbitBus::from_url(&broker.url).unwrap());
    let pool = start_server(
        server_bus.clone(),
        &exchange,
        &key,
        Arc::new(Service::new()),
        ReplyJournal::in_memory(64),
    )
    .await;
    let sim_bus = Arc::new(RabbitBus::from_url(&broker.url).unwrap());
    let router = Arc::new(ExtensionRouter::new(
        sim_bus.clone() as Arc<dyn Bus>,
        Duration::from_secs(10),
    ));
    let front = serve_front(router, vec![cse_extension(&exchange, &key, true)]).await;

    let client = tenant_client();
    for _ in 0..3 {
        let resp = client
            .get(format!("{}/api/cse/system", front.base_url))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["product"], "CSE");
        assert_eq!(body["version"], cse_core::CSE_VERSION);
    }
    pool.stop(Duration::from_secs(5)).await;
    cleanup(&server_bus, &exchange, &key).await;
    sim_bus.close().await;
}

#[tokio::test]
async fn a_slow_handler_produces_vcds_504_over_rabbitmq() {
    cse_bus::tls::install_crypto_provider();
    let Some(broker) = cse_bus::testing::test_broker().await else {
        return;
    };
    let _lock = cse_bus::testing::broker_lock_shared().unwrap();
    let (exchange, key) = unique_names("slow");
    let handler = Recorder::new(Duration::from_millis(1500));
    let server_bus = Arc::new(RabbitBus::from_url(&broker.url).unwrap());
    let pool = start_server(
        server_bus.clone(),
        &exchange,
        &key,
        handler.clone(),
        ReplyJournal::in_memory(64),
    )
    .await;
    let sim_bus = Arc::new(RabbitBus::from_url(&broker.url).unwrap());
    let router = Arc::new(ExtensionRouter::new(
        sim_bus.clone() as Arc<dyn Bus>,
        Duration::from_secs(1),
    ));
    let front = serve_front(router, vec![cse_extension(&exchange, &key, true)]).await;
    let resp = tenant_client()
        .get(format!("{}/api/cse/slow/info?n=1", front.base_url))
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
    assert_eq!(handler.runs().get("n=1"), Some(&1));
    cleanup(&server_bus, &exchange, &key).await;
    sim_bus.close().await;
}
