//! Semantics of the in-memory broker that the server and the simulator rely on.

use std::time::Duration;

use super::*;

async fn setup(broker: &MemoryBroker) -> MemoryBus {
    let bus = broker.connect();
    bus.declare_exchange("vcdext", ExchangeOptions::default())
        .await
        .unwrap();
    bus.declare_queue("cse", QueueOptions::default())
        .await
        .unwrap();
    bus.bind_queue("cse", "vcdext", "cse").await.unwrap();
    bus
}

async fn next(consumer: &mut Box<dyn Consumer>) -> Delivery {
    tokio::time::timeout(Duration::from_secs(1), consumer.next())
        .await
        .expect("a delivery in time")
        .expect("consumer open")
}

async fn nothing(consumer: &mut Box<dyn Consumer>) {
    assert!(
        tokio::time::timeout(Duration::from_millis(50), consumer.next())
            .await
            .is_err(),
        "expected no delivery"
    );
}

#[tokio::test(start_paused = true)]
async fn routes_by_exchange_and_key_and_keeps_properties() {
    let broker = MemoryBroker::new();
    let bus = setup(&broker).await;
    let mut consumer = bus.consume("cse", ConsumeOptions::default()).await.unwrap();
    let msg = Message::new("hello")
        .with_correlation_id("c1")
        .with_reply_to("vcd.replyQueue.x")
        .with_header("replyToExchange", "vcd.replyExchange");
    bus.publish("vcdext", "other", Message::new("lost"))
        .await
        .unwrap();
    bus.publish("vcdext", "cse", msg.clone()).await.unwrap();
    let d = next(&mut consumer).await;
    assert_eq!(d.message, msg);
    assert!(!d.redelivered);
    assert_eq!(
        (d.exchange.as_str(), d.routing_key.as_str()),
        ("vcdext", "cse")
    );
    d.ack().await.unwrap();
    nothing(&mut consumer).await;
    assert_eq!(broker.ready_count("cse"), Some(0));
}

#[tokio::test(start_paused = true)]
async fn default_exchange_routes_to_queue_by_name() {
    let broker = MemoryBroker::new();
    let bus = setup(&broker).await;
    let mut consumer = bus.consume("cse", ConsumeOptions::default()).await.unwrap();
    bus.publish("", "cse", Message::new("direct"))
        .await
        .unwrap();
    assert_eq!(next(&mut consumer).await.message.body, "direct");
}

#[tokio::test(start_paused = true)]
async fn publishing_to_a_missing_exchange_fails() {
    let broker = MemoryBroker::new();
    let bus = broker.connect();
    assert_eq!(
        bus.publish("nope", "k", Message::new("x")).await,
        Err(BusError::ExchangeNotFound("nope".into()))
    );
    assert_eq!(
        bus.declare_exchange(
            "nope",
            ExchangeOptions {
                passive: true,
                durable: true
            }
        )
        .await,
        Err(BusError::ExchangeNotFound("nope".into()))
    );
}

#[tokio::test(start_paused = true)]
async fn prefetch_bounds_outstanding_deliveries() {
    let broker = MemoryBroker::new();
    let bus = setup(&broker).await;
    for i in 0..3 {
        bus.publish("vcdext", "cse", Message::new(format!("m{i}")))
            .await
            .unwrap();
    }
    let mut consumer = bus
        .consume(
            "cse",
            ConsumeOptions {
                prefetch: 2,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let a = next(&mut consumer).await;
    let _b = next(&mut consumer).await;
    nothing(&mut consumer).await;
    assert_eq!(broker.ready_count("cse"), Some(1));
    a.ack().await.unwrap();
    assert_eq!(next(&mut consumer).await.message.body, "m2");
}

#[tokio::test(start_paused = true)]
async fn competing_consumers_share_round_robin() {
    let broker = MemoryBroker::new();
    let bus = setup(&broker).await;
    let mut c1 = bus.consume("cse", ConsumeOptions::default()).await.unwrap();
    let mut c2 = bus.consume("cse", ConsumeOptions::default()).await.unwrap();
    for i in 0..4 {
        bus.publish("vcdext", "cse", Message::new(format!("m{i}")))
            .await
            .unwrap();
    }
    let got1 = [
        next(&mut c1).await.message.body,
        next(&mut c1).await.message.body,
    ];
    let got2 = [
        next(&mut c2).await.message.body,
        next(&mut c2).await.message.body,
    ];
    assert_eq!(got1, ["m0", "m2"]);
    assert_eq!(got2, ["m1", "m3"]);
}

#[tokio::test(start_paused = true)]
async fn nack_requeue_redelivers_and_nack_drop_discards() {
    let broker = MemoryBroker::new();
    let bus = setup(&broker).await;
    let mut consumer = bus.consume("cse", ConsumeOptions::default()).await.unwrap();
    bus.publish("vcdext", "cse", Message::new("m"))
        .await
        .unwrap();
    let d = next(&mut consumer).await;
    d.nack(true).await.unwrap();
    let again = next(&mut consumer).await;
    assert!(again.redelivered);
    assert_eq!(again.message.body, "m");
    again.nack(false).await.unwrap();
    nothing(&mut consumer).await;
    assert_eq!(broker.ready_count("cse"), Some(0));
    assert!(matches!(again.ack().await, Err(BusError::Refused { .. })));
}

#[tokio::test(start_paused = true)]
async fn unacked_messages_return_when_the_consumer_goes_away() {
    let broker = MemoryBroker::new();
    let bus = setup(&broker).await;
    let mut first = bus.consume("cse", ConsumeOptions::default()).await.unwrap();
    let mut second = bus
        .consume(
            "cse",
            ConsumeOptions {
                prefetch: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // Keep `second` busy so that `first` gets the message.
    bus.publish("vcdext", "cse", Message::new("busy"))
        .await
        .unwrap();
    bus.publish("vcdext", "cse", Message::new("m"))
        .await
        .unwrap();
    let busy = next(&mut first).await;
    let m = next(&mut second).await;
    assert_eq!(
        (busy.message.body.as_ref(), m.message.body.as_ref()),
        (&b"busy"[..], &b"m"[..])
    );
    drop(first);
    assert!(matches!(busy.ack().await, Err(BusError::ChannelClosed(_))));
    m.ack().await.unwrap();
    let again = next(&mut second).await;
    assert_eq!(again.message.body, "busy");
    assert!(again.redelivered);
}

#[tokio::test(start_paused = true)]
async fn lost_connection_ends_consumers_requeues_and_reconnects() {
    let broker = MemoryBroker::new();
    let server = setup(&broker).await;
    let client = broker.connect();
    let mut consumer = server
        .consume("cse", ConsumeOptions::default())
        .await
        .unwrap();
    client
        .publish("vcdext", "cse", Message::new("m"))
        .await
        .unwrap();
    let d = next(&mut consumer).await;
    server.close();
    assert!(consumer.next().await.is_none());
    assert!(d.ack().await.is_err());
    // The handle reconnects on its next operation.
    let mut consumer = server
        .consume("cse", ConsumeOptions::default())
        .await
        .unwrap();
    let again = next(&mut consumer).await;
    assert!(again.redelivered);
    again.ack().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn cancel_stops_deliveries_but_in_flight_can_be_acked() {
    let broker = MemoryBroker::new();
    let bus = setup(&broker).await;
    let mut consumer = bus.consume("cse", ConsumeOptions::default()).await.unwrap();
    bus.publish("vcdext", "cse", Message::new("a"))
        .await
        .unwrap();
    let a = next(&mut consumer).await;
    consumer.cancel().await.unwrap();
    bus.publish("vcdext", "cse", Message::new("b"))
        .await
        .unwrap();
    assert!(consumer.next().await.is_none());
    a.ack().await.unwrap();
    assert_eq!(broker.ready_count("cse"), Some(1));
}

#[tokio::test(start_paused = true)]
async fn exclusive_queue_belongs_to_its_connection_and_dies_with_it() {
    let broker = MemoryBroker::new();
    let owner = broker.connect();
    let other = broker.connect();
    let opts = QueueOptions {
        exclusive: true,
        auto_delete: true,
        durable: false,
    };
    owner.declare_queue("reply", opts).await.unwrap();
    assert!(matches!(
        other.declare_queue("reply", opts).await,
        Err(BusError::Refused { .. })
    ));
    assert!(matches!(
        other.consume("reply", ConsumeOptions::default()).await,
        Err(BusError::Refused { .. })
    ));
    owner.close();
    assert_eq!(broker.ready_count("reply"), None);
    other.declare_queue("reply", opts).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn redeclaring_with_other_options_is_refused() {
    let broker = MemoryBroker::new();
    let bus = setup(&broker).await;
    assert!(matches!(
        bus.declare_queue(
            "cse",
            QueueOptions {
                durable: true,
                ..Default::default()
            }
        )
        .await,
        Err(BusError::Refused { .. })
    ));
    bus.declare_queue("cse", QueueOptions::default())
        .await
        .unwrap();
}

#[tokio::test(start_paused = true)]
async fn restart_keeps_durable_things_and_persistent_messages_only() {
    let broker = MemoryBroker::new();
    let bus = setup(&broker).await; // durable exchange, transient queue `cse`
    bus.declare_queue(
        "kept",
        QueueOptions {
            durable: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    bus.bind_queue("kept", "vcdext", "k").await.unwrap();
    bus.publish(
        "vcdext",
        "k",
        Message::new("persistent").with_delivery_mode(2),
    )
    .await
    .unwrap();
    bus.publish("vcdext", "k", Message::new("transient"))
        .await
        .unwrap();
    broker.stop();
    assert!(matches!(
        bus.publish("vcdext", "k", Message::new("x")).await,
        Err(BusError::Connect { .. })
    ));
    broker.start();
    assert!(broker.has_exchange("vcdext"));
    assert_eq!(broker.ready_count("cse"), None);
    assert_eq!(broker.ready_count("kept"), Some(1));
    let mut consumer = bus
        .consume("kept", ConsumeOptions::default())
        .await
        .unwrap();
    assert_eq!(next(&mut consumer).await.message.body, "persistent");
}

#[tokio::test(start_paused = true)]
async fn reply_goes_to_the_reply_exchange_with_the_correlation_id() {
    let broker = MemoryBroker::new();
    let bus = broker.connect();
    bus.declare_exchange("vcd.replyExchange", ExchangeOptions::default())
        .await
        .unwrap();
    bus.declare_queue("vcd.replyQueue.1", QueueOptions::default())
        .await
        .unwrap();
    bus.bind_queue("vcd.replyQueue.1", "vcd.replyExchange", "vcd.replyQueue.1")
        .await
        .unwrap();
    let mut consumer = bus
        .consume("vcd.replyQueue.1", ConsumeOptions::default())
        .await
        .unwrap();
    let request = Message::new("req")
        .with_correlation_id("corr-7")
        .with_reply_to("vcd.replyQueue.1")
        .with_header("replyToExchange", "vcd.replyExchange");
    crate::reply(&bus, &request.properties, "answer".into())
        .await
        .unwrap();
    let d = next(&mut consumer).await;
    assert_eq!(d.message.body, "answer");
    assert_eq!(
        d.message.properties.correlation_id.as_deref(),
        Some("corr-7")
    );
    assert_eq!(d.exchange, "vcd.replyExchange");
}

#[tokio::test(start_paused = true)]
async fn deleting_a_queue_ends_its_consumers() {
    let broker = MemoryBroker::new();
    let bus = setup(&broker).await;
    let mut consumer = bus.consume("cse", ConsumeOptions::default()).await.unwrap();
    bus.delete_queue("cse").await.unwrap();
    assert!(consumer.next().await.is_none());
    assert_eq!(broker.ready_count("cse"), None);
    bus.delete_exchange("vcdext").await.unwrap();
    assert!(!broker.has_exchange("vcdext"));
    bus.delete_queue("cse").await.unwrap();
}

#[derive(Debug, Clone)]
enum Op {
    Publish,
    /// Take one delivery on consumer `i % consumers` (if one is ready).
    Take(usize),
    /// Settle the oldest held delivery: ack, requeue or drop.
    Ack,
    Requeue,
    Reject,
    /// Drop consumer `i` (its unacked messages go back) and open a new one.
    Replace(usize),
    /// Lose the whole connection (every consumer) and reconnect.
    LoseConnection,
}

fn op() -> impl proptest::strategy::Strategy<Value = Op> {
    use proptest::prelude::*;
    prop_oneof![
        3 => Just(Op::Publish),
        4 => (0usize..3).prop_map(Op::Take),
        3 => Just(Op::Ack),
        1 => Just(Op::Requeue),
        1 => Just(Op::Reject),
        1 => (0usize..3).prop_map(Op::Replace),
        1 => Just(Op::LoseConnection),
    ]
}

async fn try_next(consumer: &mut Box<dyn Consumer>) -> Option<Delivery> {
    tokio::time::timeout(Duration::from_millis(1), consumer.next())
        .await
        .ok()
        .flatten()
}

proptest::proptest! {
    /// Whatever consumers do, no message is lost or acknowledged twice, a
    /// message rejected without requeue is gone, and a message handed out
    /// before comes back flagged `redelivered`.
    #[test]
    fn messages_are_conserved_and_redelivery_is_flagged(ops in proptest::collection::vec(op(), 1..80)) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        rt.block_on(async move {
            let broker = MemoryBroker::new();
            let publisher = broker.connect();
            let server = setup(&broker).await;
            let opts = ConsumeOptions { prefetch: 2, ..Default::default() };
            let mut consumers = Vec::new();
            for _ in 0..3 {
                consumers.push(server.consume("cse", opts.clone()).await.unwrap());
            }
            let mut published = 0u32;
            let mut held: std::collections::VecDeque<Delivery> = Default::default();
            let mut seen = std::collections::HashSet::new();
            let mut acked = std::collections::HashMap::<String, u32>::new();
            let mut rejected = std::collections::HashSet::new();
            // A message handed out before carries the flag. (The converse does
            // not hold: a message prefetched into a consumer's buffer and never
            // taken is also redelivered, as with RabbitMQ.)
            let check = |d: &Delivery, seen: &mut std::collections::HashSet<String>| {
                let body = String::from_utf8(d.message.body.to_vec()).unwrap();
                if seen.contains(&body) {
                    assert!(d.redelivered, "redelivered flag of {body}");
                }
                seen.insert(body);
            };
            for op in ops {
                match op {
                    Op::Publish => {
                        publisher
                            .publish("vcdext", "cse", Message::new(format!("m{published}")))
                            .await
                            .unwrap();
                        published += 1;
                    }
                    Op::Take(i) => {
                        let n = consumers.len();
                        if let Some(d) = try_next(&mut consumers[i % n]).await {
                            check(&d, &mut seen);
                            held.push_back(d);
                        }
                    }
                    Op::Ack | Op::Requeue | Op::Reject => {
                        if let Some(d) = held.pop_front() {
                            let body = String::from_utf8(d.message.body.to_vec()).unwrap();
                            let result = match op {
                                Op::Ack => d.ack().await,
                                Op::Requeue => d.nack(true).await,
                                _ => d.nack(false).await,
                            };
                            // Settling fails only when its channel was closed
                            // (the message went back to the queue then).
                            if result.is_ok() {
                                match op {
                                    Op::Ack => *acked.entry(body).or_default() += 1,
                                    Op::Reject => { rejected.insert(body); }
                                    _ => {}
                                }
                            } else {
                                assert!(matches!(result, Err(BusError::ChannelClosed(_))));
                            }
                        }
                    }
                    Op::Replace(i) => {
                        let n = consumers.len();
                        consumers[i % n] = server.consume("cse", opts.clone()).await.unwrap();
                    }
                    Op::LoseConnection => {
                        server.close();
                        consumers.clear();
                        for _ in 0..3 {
                            consumers.push(server.consume("cse", opts.clone()).await.unwrap());
                        }
                    }
                }
            }
            // Drain: whatever is held is abandoned (its channels close); a
            // fresh consumer gets everything not yet acked or rejected.
            held.clear();
            consumers.clear();
            let mut drain = server
                .consume("cse", ConsumeOptions::default())
                .await
                .unwrap();
            while let Some(d) = try_next(&mut drain).await {
                check(&d, &mut seen);
                let body = String::from_utf8(d.message.body.to_vec()).unwrap();
                d.ack().await.unwrap();
                *acked.entry(body).or_default() += 1;
            }
            for i in 0..published {
                let body = format!("m{i}");
                let times = acked.get(&body).copied().unwrap_or(0);
                if rejected.contains(&body) {
                    assert_eq!(times, 0, "{body} was rejected");
                } else {
                    assert_eq!(times, 1, "{body} acknowledged exactly once");
                }
            }
            assert_eq!(broker.ready_count("cse"), Some(0));
            assert_eq!(broker.unacked_count("cse"), 0);
        });
    }
}
