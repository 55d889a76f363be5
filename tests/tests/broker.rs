//! The broker is real: lapin talks to the RabbitMQ named by `CSE_TEST_AMQP_URL`
//! with the message shape vCD uses for extension requests.

use futures_lite::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, ExchangeDeclareOptions,
    QueueBindOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{BasicProperties, Connection, ConnectionProperties, ExchangeKind};

#[tokio::test]
async fn lapin_round_trip_with_vcd_extension_properties() {
    cse_bus::tls::install_crypto_provider();
    let Some(broker) = cse_bus::testing::test_broker().await else {
        return;
    };
    let conn = Connection::connect_with_runtime(
        &broker.url,
        ConnectionProperties::default(),
        async_rs::Runtime::tokio_current(),
    )
    .await
    .expect("connect to the test broker");
    let channel = conn.create_channel().await.expect("open a channel");

    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let exchange = format!("cse-test-{suffix}");
    let routing_key = format!("cse-{suffix}");
    channel
        .exchange_declare(
            exchange.as_str().into(),
            ExchangeKind::Direct,
            ExchangeDeclareOptions {
                durable: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .expect("declare a durable direct exchange");
    // The queue is named after the routing key, as CSE does.
    channel
        .queue_declare(
            routing_key.as_str().into(),
            QueueDeclareOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("declare the queue");
    channel
        .queue_bind(
            routing_key.as_str().into(),
            exchange.as_str().into(),
            routing_key.as_str().into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("bind the queue");

    let mut headers = FieldTable::default();
    headers.insert(
        ShortString::from("replyToExchange"),
        AMQPValue::LongString("vcd.replyExchange".into()),
    );
    let correlation_id = uuid::Uuid::new_v4().to_string();
    let body = br#"[{"id":"1","method":"GET","requestUri":"/api/cse/system"},{}]"#;
    channel
        .basic_publish(
            exchange.as_str().into(),
            routing_key.as_str().into(),
            BasicPublishOptions::default(),
            body,
            BasicProperties::default()
                .with_reply_to("vcd.replyQueue.test".into())
                .with_correlation_id(correlation_id.as_str().into())
                .with_headers(headers),
        )
        .await
        .expect("publish")
        .await
        .expect("publisher confirmation");

    let mut consumer = channel
        .basic_consume(
            routing_key.as_str().into(),
            "broker-test".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("consume");
    let delivery = tokio::time::timeout(std::time::Duration::from_secs(10), consumer.next())
        .await
        .expect("a delivery within 10 s")
        .expect("the consumer stream is open")
        .expect("a delivery, not an error");

    assert_eq!(delivery.data, body);
    let props = &delivery.properties;
    assert_eq!(
        props.reply_to().as_ref().map(|s| s.as_str()),
        Some("vcd.replyQueue.test")
    );
    assert_eq!(
        props.correlation_id().as_ref().map(|s| s.as_str()),
        Some(correlation_id.as_str())
    );
    let reply_exchange = props
        .headers()
        .as_ref()
        .and_then(|h| h.inner().get("replyToExchange").cloned());
    match reply_exchange {
        Some(AMQPValue::LongString(s)) => assert_eq!(s.to_string(), "vcd.replyExchange"),
        other => panic!("replyToExchange header missing or of the wrong type: {other:?}"),
    }
    delivery.ack(BasicAckOptions::default()).await.expect("ack");

    channel
        .queue_delete(routing_key.as_str().into(), QueueDeleteOptions::default())
        .await
        .expect("delete the queue");
    channel
        .exchange_delete(exchange.as_str().into(), Default::default())
        .await
        .expect("delete the exchange");
    conn.close(200, "done".into()).await.expect("close");
}
