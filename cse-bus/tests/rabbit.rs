//! The lapin bus against the real broker (`CSE_TEST_AMQP_URL`): the same
//! semantics the in-memory bus promises.

use std::time::Duration;

use cse_bus::{
    Bus, BusError, ConsumeOptions, Consumer, Delivery, ExchangeOptions, Message, QueueOptions,
    RabbitBus,
};

struct Names {
    exchange: String,
    queue: String,
    _lock: cse_bus::testing::BrokerLock,
}

async fn setup() -> Option<(RabbitBus, Names)> {
    let broker = cse_bus::testing::test_broker().await?;
    let lock = cse_bus::testing::broker_lock_shared().expect("broker lock");
    let bus = RabbitBus::from_url(&broker.url).expect("valid broker URL");
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let names = Names {
        exchange: format!("cse-bus-test-{suffix}"),
        queue: format!("cse-bus-test-{suffix}"),
        _lock: lock,
    };
    bus.declare_exchange(
        &names.exchange,
        ExchangeOptions {
            durable: false,
            passive: false,
        },
    )
    .await
    .expect("declare exchange");
    bus.declare_queue(
        &names.queue,
        QueueOptions {
            auto_delete: false,
            durable: false,
            exclusive: false,
        },
    )
    .await
    .expect("declare queue");
    bus.bind_queue(&names.queue, &names.exchange, "cse")
        .await
        .expect("bind");
    Some((bus, names))
}

async fn cleanup(bus: &RabbitBus, names: &Names) {
    bus.delete_queue(&names.queue).await.expect("delete queue");
    bus.delete_exchange(&names.exchange)
        .await
        .expect("delete exchange");
    bus.close().await;
}

async fn next(consumer: &mut Box<dyn Consumer>) -> Delivery {
    tokio::time::timeout(Duration::from_secs(5), consumer.next())
        .await
        .expect("a delivery within 5 s")
        .expect("the consumer is open")
}

#[tokio::test]
async fn publish_consume_ack_with_properties() {
    let Some((bus, names)) = setup().await else {
        return;
    };
    let mut consumer = bus
        .consume(&names.queue, ConsumeOptions::default())
        .await
        .unwrap();
    let msg = Message::new("hello")
        .with_correlation_id("c1")
        .with_reply_to("vcd.replyQueue.x")
        .with_header("replyToExchange", "vcd.replyExchange")
        .with_header("replyByTimestamp", 12_i64);
    bus.publish(&names.exchange, "cse", msg.clone())
        .await
        .unwrap();
    let d = next(&mut consumer).await;
    assert_eq!(d.message, msg);
    assert!(!d.redelivered);
    assert_eq!(d.exchange, names.exchange);
    d.ack().await.unwrap();
    drop(consumer);
    cleanup(&bus, &names).await;
}

#[tokio::test]
async fn dropped_consumer_requeues_unacked_as_redelivered() {
    let Some((bus, names)) = setup().await else {
        return;
    };
    let mut first = bus
        .consume(&names.queue, ConsumeOptions::default())
        .await
        .unwrap();
    bus.publish(&names.exchange, "cse", Message::new("m"))
        .await
        .unwrap();
    let d = next(&mut first).await;
    assert!(!d.redelivered);
    drop(first);
    let mut second = bus
        .consume(&names.queue, ConsumeOptions::default())
        .await
        .unwrap();
    let again = next(&mut second).await;
    assert!(again.redelivered);
    assert_eq!(again.message.body, "m");
    again.ack().await.unwrap();
    drop(second);
    cleanup(&bus, &names).await;
}

#[tokio::test]
async fn prefetch_bounds_outstanding_and_nack_requeues() {
    let Some((bus, names)) = setup().await else {
        return;
    };
    for i in 0..3 {
        bus.publish(&names.exchange, "cse", Message::new(format!("m{i}")))
            .await
            .unwrap();
    }
    let mut consumer = bus
        .consume(
            &names.queue,
            ConsumeOptions {
                prefetch: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let a = next(&mut consumer).await;
    assert_eq!(a.message.body, "m0");
    assert!(
        tokio::time::timeout(Duration::from_millis(200), consumer.next())
            .await
            .is_err(),
        "prefetch 1 allows a single outstanding delivery"
    );
    a.nack(true).await.unwrap();
    let again = next(&mut consumer).await;
    assert_eq!(again.message.body, "m0");
    assert!(again.redelivered);
    again.ack().await.unwrap();
    let b = next(&mut consumer).await;
    assert_eq!(b.message.body, "m1");
    b.ack().await.unwrap();
    drop(consumer);
    cleanup(&bus, &names).await;
}

#[tokio::test]
async fn missing_exchange_is_reported_and_the_bus_keeps_working() {
    let Some((bus, names)) = setup().await else {
        return;
    };
    let missing = format!("{}-missing", names.exchange);
    assert_eq!(
        bus.publish(&missing, "cse", Message::new("x")).await,
        Err(BusError::ExchangeNotFound(missing.clone()))
    );
    assert_eq!(
        bus.declare_exchange(
            &missing,
            ExchangeOptions {
                durable: true,
                passive: true
            }
        )
        .await,
        Err(BusError::ExchangeNotFound(missing.clone()))
    );
    let mut consumer = bus
        .consume(&names.queue, ConsumeOptions::default())
        .await
        .unwrap();
    bus.publish(&names.exchange, "cse", Message::new("after"))
        .await
        .unwrap();
    let d = next(&mut consumer).await;
    assert_eq!(d.message.body, "after");
    d.ack().await.unwrap();
    drop(consumer);
    cleanup(&bus, &names).await;
}
