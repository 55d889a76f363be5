//! The listener pool over the in-memory broker: reply-then-ack, prefetch,
//! de-duplication of redeliveries, reconnects and graceful stop.

use std::collections::HashMap;
use std::sync::Mutex as StdMutex;

use async_trait::async_trait;
use cse_bus::{MemoryBroker, MemoryBus, Message};
use cse_core::ext::{ExtReply, ExtRequestBuilder};

use super::*;

const EXCHANGE: &str = "vcdext";
const KEY: &str = "cse";
const REPLY_EXCHANGE: &str = "vcd.replyExchange";
const REPLY_QUEUE: &str = "vcd.replyQueue.test";

/// Counts executions per request id; sleeps `delay` (except on `/fast`);
/// panics on `/panic`.
#[derive(Default)]
struct Recorder {
    delay: Duration,
    runs: StdMutex<HashMap<String, u32>>,
}

impl Recorder {
    fn slow(delay: Duration) -> Arc<Self> {
        Arc::new(Recorder {
            delay,
            ..Default::default()
        })
    }
    fn runs(&self, id: &str) -> u32 {
        self.runs.lock().unwrap().get(id).copied().unwrap_or(0)
    }
    fn total(&self) -> u32 {
        self.runs.lock().unwrap().values().sum()
    }
}

#[async_trait]
impl Handler for Recorder {
    async fn handle(&self, request: ExtRequest) -> ExtReply {
        *self
            .runs
            .lock()
            .unwrap()
            .entry(request.id.clone())
            .or_default() += 1;
        if request.request_uri != "/fast" {
            tokio::time::sleep(self.delay).await;
        }
        if request.request_uri == "/panic" {
            panic!("handler bug");
        }
        ExtReply::new(
            &request,
            200,
            format!("\"{}\"", request.request_uri).into_bytes(),
        )
    }
}

fn config(listeners: u32, prefetch: u16) -> ListenerConfig {
    ListenerConfig {
        listeners,
        prefetch,
        reconnect_initial: Duration::from_millis(50),
        reconnect_max: Duration::from_millis(400),
        ..ListenerConfig::new(EXCHANGE, KEY)
    }
}

/// vCD's side of the test: publishes requests, reads replies.
struct Vcd {
    bus: MemoryBus,
    replies: Box<dyn Consumer>,
}

impl Vcd {
    async fn new(broker: &MemoryBroker) -> Self {
        let bus = broker.connect();
        bus.declare_exchange(REPLY_EXCHANGE, ExchangeOptions::default())
            .await
            .unwrap();
        bus.declare_queue(REPLY_QUEUE, QueueOptions::default())
            .await
            .unwrap();
        bus.bind_queue(REPLY_QUEUE, REPLY_EXCHANGE, REPLY_QUEUE)
            .await
            .unwrap();
        let replies = bus
            .consume(
                REPLY_QUEUE,
                ConsumeOptions {
                    auto_ack: true,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        Vcd { bus, replies }
    }

    fn request(id: &str, method: &str, path: &str) -> Message {
        let envelope = ExtRequestBuilder::new(id, method, path)
            .header("Accept", "application/*+json;version=29.0")
            .build()
            .to_json();
        Message::new(envelope)
            .with_correlation_id(format!("corr-{id}"))
            .with_reply_to(REPLY_QUEUE)
            .with_header(cse_bus::REPLY_TO_EXCHANGE_HEADER, REPLY_EXCHANGE)
    }

    async fn send(&self, id: &str, path: &str) {
        self.send_as(id, "GET", path).await;
    }

    async fn send_as(&self, id: &str, method: &str, path: &str) {
        self.bus
            .publish(EXCHANGE, KEY, Self::request(id, method, path))
            .await
            .unwrap();
    }

    async fn reply(&mut self) -> (String, ExtReply) {
        let d = loop {
            let next = tokio::time::timeout(Duration::from_secs(30), self.replies.next())
                .await
                .expect("a reply in time");
            match next {
                Some(d) => break d,
                // Our connection was dropped too: subscribe again.
                None => {
                    self.replies = self
                        .bus
                        .consume(
                            REPLY_QUEUE,
                            ConsumeOptions {
                                auto_ack: true,
                                ..Default::default()
                            },
                        )
                        .await
                        .unwrap();
                }
            }
        };
        let corr = d
            .message
            .properties
            .correlation_id
            .clone()
            .unwrap_or_default();
        (
            corr,
            ExtReply::from_json(&d.message.body).expect("a valid reply"),
        )
    }
}

async fn start(
    broker: &MemoryBroker,
    handler: Arc<dyn Handler>,
    cfg: ListenerConfig,
    journal: ReplyJournal,
) -> ListenerPool {
    // The exchange exists before the server starts (`cse install` creates it).
    broker
        .connect()
        .declare_exchange(EXCHANGE, ExchangeOptions::default())
        .await
        .unwrap();
    let pool = ListenerPool::start(Arc::new(broker.connect()), cfg, handler, journal);
    assert!(pool.wait_connected(Duration::from_secs(5)).await);
    pool
}

#[tokio::test(start_paused = true)]
async fn reply_goes_back_correlated_and_the_request_is_acked_after_it() {
    let broker = MemoryBroker::new();
    let mut vcd = Vcd::new(&broker).await;
    let handler = Recorder::slow(Duration::from_secs(2));
    let pool = start(
        &broker,
        handler.clone(),
        config(2, 4),
        ReplyJournal::in_memory(16),
    )
    .await;
    vcd.send("r1", "/api/cse/system").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(broker.unacked_count(KEY), 1, "held unacked while running");
    assert_eq!(pool.stats().in_flight, 1);
    let (corr, reply) = vcd.reply().await;
    assert_eq!(corr, "corr-r1");
    assert_eq!(reply.id, "r1");
    assert_eq!(reply.status_code, 200);
    assert_eq!(reply.body_text(), "\"/api/cse/system\"");
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(broker.unacked_count(KEY), 0);
    assert_eq!(broker.ready_count(KEY), Some(0));
    assert_eq!(handler.runs("r1"), 1);
    pool.stop(Duration::from_secs(1)).await;
}

#[tokio::test(start_paused = true)]
async fn prefetch_bounds_the_work_in_flight() {
    let broker = MemoryBroker::new();
    let mut vcd = Vcd::new(&broker).await;
    let handler = Recorder::slow(Duration::from_secs(5));
    let pool = start(
        &broker,
        handler.clone(),
        config(1, 2),
        ReplyJournal::in_memory(16),
    )
    .await;
    for i in 0..5 {
        vcd.send(&format!("p{i}"), "/x").await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(pool.stats().in_flight, 2);
    assert_eq!(broker.ready_count(KEY), Some(3));
    for _ in 0..5 {
        vcd.reply().await;
    }
    assert_eq!(handler.total(), 5);
    pool.stop(Duration::from_secs(1)).await;
}

/// A bus that loses its connection right after publishing the first reply,
/// before the request could be acknowledged.
struct LoseConnectionAfterReply {
    inner: MemoryBus,
    armed: std::sync::atomic::AtomicBool,
}

#[async_trait]
impl Bus for LoseConnectionAfterReply {
    async fn declare_exchange(&self, n: &str, o: ExchangeOptions) -> Result<(), BusError> {
        self.inner.declare_exchange(n, o).await
    }
    async fn declare_queue(&self, n: &str, o: QueueOptions) -> Result<(), BusError> {
        self.inner.declare_queue(n, o).await
    }
    async fn delete_queue(&self, n: &str) -> Result<(), BusError> {
        self.inner.delete_queue(n).await
    }
    async fn delete_exchange(&self, n: &str) -> Result<(), BusError> {
        self.inner.delete_exchange(n).await
    }
    async fn bind_queue(&self, q: &str, e: &str, k: &str) -> Result<(), BusError> {
        self.inner.bind_queue(q, e, k).await
    }
    async fn publish(&self, e: &str, k: &str, m: Message) -> Result<(), BusError> {
        self.inner.publish(e, k, m).await?;
        if e == REPLY_EXCHANGE && self.armed.swap(false, Ordering::SeqCst) {
            self.inner.close();
        }
        Ok(())
    }
    async fn consume(&self, q: &str, o: ConsumeOptions) -> Result<Box<dyn Consumer>, BusError> {
        self.inner.consume(q, o).await
    }
}

#[tokio::test(start_paused = true)]
async fn a_redelivered_request_whose_reply_was_sent_is_not_executed_again() {
    let broker = MemoryBroker::new();
    let mut vcd = Vcd::new(&broker).await;
    let handler = Recorder::slow(Duration::from_millis(10));
    broker
        .connect()
        .declare_exchange(EXCHANGE, ExchangeOptions::default())
        .await
        .unwrap();
    let bus = Arc::new(LoseConnectionAfterReply {
        inner: broker.connect(),
        armed: true.into(),
    });
    let pool = ListenerPool::start(
        bus,
        config(1, 4),
        handler.clone(),
        ReplyJournal::in_memory(16),
    );
    assert!(pool.wait_connected(Duration::from_secs(5)).await);
    vcd.send_as("once", "PUT", "/api/cse/system").await;
    let first = vcd.reply().await;
    // The ack was lost with the connection: the broker redelivers, the pool
    // reconnects and answers the copy from its journal.
    let second = vcd.reply().await;
    assert_eq!(first.0, second.0);
    assert_eq!(first.1, second.1);
    assert_eq!(handler.runs("once"), 1);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(broker.ready_count(KEY), Some(0));
    assert_eq!(broker.unacked_count(KEY), 0);
    let stats = pool.stats();
    assert_eq!(stats.replayed, 1);
    assert!(stats.connections >= 2);
    pool.stop(Duration::from_secs(1)).await;
}

#[tokio::test(start_paused = true)]
async fn a_copy_redelivered_while_the_first_still_runs_waits_for_it() {
    let broker = MemoryBroker::new();
    let mut vcd = Vcd::new(&broker).await;
    let handler = Recorder::slow(Duration::from_secs(3));
    let pool = start(
        &broker,
        handler.clone(),
        config(2, 4),
        ReplyJournal::in_memory(16),
    )
    .await;
    vcd.send("long", "/x").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(handler.runs("long"), 1);
    // Network blip: every connection drops while the handler runs.
    broker.drop_connections();
    let (corr, reply) = vcd.reply().await;
    assert_eq!(corr, "corr-long");
    assert_eq!(reply.status_code, 200);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(handler.runs("long"), 1, "executed exactly once");
    assert_eq!(broker.ready_count(KEY), Some(0));
    assert_eq!(broker.unacked_count(KEY), 0);
    assert!(pool.wait_connected(Duration::from_secs(5)).await);
    pool.stop(Duration::from_secs(1)).await;
}

#[tokio::test(start_paused = true)]
async fn listeners_reconnect_by_themselves_after_a_broker_restart() {
    let broker = MemoryBroker::new();
    let handler = Recorder::slow(Duration::ZERO);
    let pool = start(
        &broker,
        handler.clone(),
        config(3, 4),
        ReplyJournal::in_memory(16),
    )
    .await;
    broker.stop();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(pool.stats().connected, 0);
    broker.start();
    assert!(pool.wait_connected(Duration::from_secs(5)).await);
    let mut vcd = Vcd::new(&broker).await;
    vcd.send("after", "/api/cse/system").await;
    assert_eq!(vcd.reply().await.1.status_code, 200);
    assert!(pool.stats().connections >= 6);
    pool.stop(Duration::from_secs(1)).await;
}

#[tokio::test(start_paused = true)]
async fn graceful_stop_finishes_in_flight_work_and_consumes_nothing_more() {
    let broker = MemoryBroker::new();
    let mut vcd = Vcd::new(&broker).await;
    let handler = Recorder::slow(Duration::from_secs(3));
    let pool = start(
        &broker,
        handler.clone(),
        config(1, 1),
        ReplyJournal::in_memory(16),
    )
    .await;
    vcd.send("inflight", "/x").await;
    vcd.send("waiting", "/x").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let started = tokio::time::Instant::now();
    pool.stop(Duration::from_secs(30)).await;
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "waited for the handler"
    );
    let (corr, _) = vcd.reply().await;
    assert_eq!(corr, "corr-inflight");
    assert_eq!(handler.runs("waiting"), 0);
    assert_eq!(
        broker.ready_count(KEY),
        Some(1),
        "the waiting request stays queued"
    );
    assert_eq!(broker.unacked_count(KEY), 0);
    assert_eq!(broker.consumer_count(KEY), 0);
}

#[tokio::test(start_paused = true)]
async fn malformed_requests_and_handler_panics_get_error_replies() {
    let broker = MemoryBroker::new();
    let mut vcd = Vcd::new(&broker).await;
    let handler = Recorder::slow(Duration::ZERO);
    let pool = start(
        &broker,
        handler.clone(),
        config(1, 4),
        ReplyJournal::in_memory(16),
    )
    .await;
    vcd.bus
        .publish(
            EXCHANGE,
            KEY,
            Message::new("not an envelope")
                .with_correlation_id("corr-bad")
                .with_reply_to(REPLY_QUEUE)
                .with_header(cse_bus::REPLY_TO_EXCHANGE_HEADER, REPLY_EXCHANGE),
        )
        .await
        .unwrap();
    let (corr, reply) = vcd.reply().await;
    assert_eq!(corr, "corr-bad");
    assert_eq!(reply.status_code, 400);
    assert!(
        reply.body_text().contains("Invalid extension request"),
        "{}",
        reply.body_text()
    );

    vcd.send("boom", "/panic").await;
    let (corr, reply) = vcd.reply().await;
    assert_eq!(corr, "corr-boom");
    assert_eq!(reply.status_code, 500);
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(broker.ready_count(KEY), Some(0));
    assert_eq!(broker.unacked_count(KEY), 0);
    pool.stop(Duration::from_secs(1)).await;
}

#[tokio::test(start_paused = true)]
async fn a_restarted_server_answers_a_handled_request_from_its_state_dir() {
    let dir = tempfile::tempdir().unwrap();
    let broker = MemoryBroker::new();
    let mut vcd = Vcd::new(&broker).await;
    let first = Recorder::slow(Duration::ZERO);
    let pool = start(
        &broker,
        first.clone(),
        config(1, 4),
        ReplyJournal::open(dir.path(), 16).unwrap(),
    )
    .await;
    vcd.send_as("kept", "POST", "/api/cse").await;
    let original = vcd.reply().await;
    pool.stop(Duration::from_secs(1)).await;

    // The same request arrives again at a new process (its ack was lost).
    let second = Recorder::slow(Duration::ZERO);
    let pool = start(
        &broker,
        second.clone(),
        config(1, 4),
        ReplyJournal::open(dir.path(), 16).unwrap(),
    )
    .await;
    vcd.send_as("kept", "POST", "/api/cse").await;
    let again = vcd.reply().await;
    assert_eq!(original, again);
    assert_eq!(first.runs("kept"), 1);
    assert_eq!(second.runs("kept"), 0);
    pool.stop(Duration::from_secs(1)).await;
}

#[tokio::test(start_paused = true)]
async fn a_single_listener_reconnects_at_once_while_a_request_still_runs() {
    let broker = MemoryBroker::new();
    let mut vcd = Vcd::new(&broker).await;
    let handler = Recorder::slow(Duration::from_secs(20));
    let pool = start(
        &broker,
        handler.clone(),
        config(1, 4),
        ReplyJournal::in_memory(16),
    )
    .await;
    vcd.send("long", "/x").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    broker.drop_connections();
    // Back well before the running request ends, serving new requests.
    assert!(pool.wait_connected(Duration::from_secs(2)).await);
    vcd.send("other", "/fast").await;
    let (first, _) = vcd.reply().await;
    assert_eq!(handler.runs("long"), 1);
    // `other` is answered even though `long` still runs (20 s handler).
    assert_eq!(first, "corr-other");
    let (second, _) = vcd.reply().await;
    assert_eq!(second, "corr-long");
    assert_eq!(
        handler.runs("long"),
        1,
        "the redelivered copy waited for the first run"
    );
    pool.stop(Duration::from_secs(30)).await;
}

#[tokio::test(start_paused = true)]
async fn reads_are_executed_again_and_never_written_to_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("cse-state");
    let broker = MemoryBroker::new();
    let mut vcd = Vcd::new(&broker).await;
    let handler = Recorder::slow(Duration::ZERO);
    let pool = start(
        &broker,
        handler.clone(),
        config(1, 4),
        ReplyJournal::open(&state, 16).unwrap(),
    )
    .await;
    vcd.send("config", "/api/cse/c1/config").await;
    let first = vcd.reply().await;
    vcd.send("config", "/api/cse/c1/config").await;
    let again = vcd.reply().await;
    assert_eq!(first, again);
    assert_eq!(handler.runs("config"), 2, "a read is simply executed again");
    vcd.send_as("create", "POST", "/api/cse").await;
    let _ = vcd.reply().await;
    pool.stop(Duration::from_secs(1)).await;
    let text = std::fs::read_to_string(state.join(super::super::journal::JOURNAL_FILE)).unwrap();
    assert!(!text.contains("/api/cse/c1/config"), "{text}");
    assert!(!text.contains("\"config\""), "{text}");
    assert_eq!(text.lines().count(), 1, "only the POST: {text}");
}

#[tokio::test(start_paused = true)]
async fn a_body_over_the_configured_limit_is_refused_before_decoding() {
    let broker = MemoryBroker::new();
    let mut vcd = Vcd::new(&broker).await;
    let handler = Recorder::slow(Duration::ZERO);
    let mut cfg = config(1, 4);
    cfg.max_body_bytes = 1024;
    let pool = start(&broker, handler.clone(), cfg, ReplyJournal::in_memory(16)).await;
    let envelope = ExtRequestBuilder::new("big", "POST", "/api/cse")
        .header("Accept", "application/*+json;version=29.0")
        .body(vec![b' '; 1025])
        .build()
        .to_json();
    let message = Message::new(envelope)
        .with_correlation_id("corr-big")
        .with_reply_to(REPLY_QUEUE)
        .with_header(cse_bus::REPLY_TO_EXCHANGE_HEADER, REPLY_EXCHANGE);
    vcd.bus.publish(EXCHANGE, KEY, message).await.unwrap();
    let (corr, reply) = vcd.reply().await;
    assert_eq!(corr, "corr-big");
    assert_eq!(reply.status_code, 400);
    assert!(reply.body_text().contains("1024"), "{}", reply.body_text());
    assert_eq!(handler.total(), 0, "never handled");
    pool.stop(Duration::from_secs(1)).await;
}

fn now_ms() -> i64 {
    epoch_millis()
}

impl Vcd {
    async fn send_by(&self, id: &str, method: &str, path: &str, reply_by_ms: i64) {
        let message = Self::request(id, method, path).with_header(REPLY_BY_HEADER, reply_by_ms);
        self.bus.publish(EXCHANGE, KEY, message).await.unwrap();
    }
}

#[test]
fn the_reply_deadline_is_read_from_the_header_and_changes_keep_a_margin() {
    let mut properties = cse_bus::Properties::default();
    assert_eq!(reply_deadline(&properties), None);
    properties
        .headers
        .insert(REPLY_BY_HEADER.into(), cse_bus::HeaderValue::Int(1_000));
    assert_eq!(reply_deadline(&properties), Some(1_000));
    properties
        .headers
        .insert(REPLY_BY_HEADER.into(), " 2000 ".into());
    assert_eq!(reply_deadline(&properties), Some(2_000));
    properties
        .headers
        .insert(REPLY_BY_HEADER.into(), "soon".into());
    assert_eq!(reply_deadline(&properties), None, "unreadable: no deadline");

    let margin = Duration::from_millis(500);
    // No deadline: always started.
    assert!(!past_reply_deadline(None, "POST", margin, i64::MAX));
    // Passed: nothing starts.
    assert!(past_reply_deadline(Some(1_000), "GET", margin, 1_000));
    assert!(past_reply_deadline(Some(1_000), "DELETE", margin, 1_001));
    // 100 ms left: a read starts, a change does not (it could not be answered).
    assert!(!past_reply_deadline(Some(1_100), "GET", margin, 1_000));
    assert!(past_reply_deadline(Some(1_100), "POST", margin, 1_000));
    assert!(past_reply_deadline(Some(1_500), "PUT", margin, 1_000));
    // More than the margin left: a change starts.
    assert!(!past_reply_deadline(Some(1_501), "POST", margin, 1_000));
}

#[tokio::test]
async fn requests_past_vcds_reply_deadline_are_acked_and_dropped_unexecuted() {
    let broker = MemoryBroker::new();
    let mut vcd = Vcd::new(&broker).await;
    let handler = Recorder::slow(Duration::ZERO);
    let pool = start(
        &broker,
        handler.clone(),
        config(1, 4),
        ReplyJournal::in_memory(16),
    )
    .await;
    let now = now_ms();
    vcd.send_by("gone", "POST", "/api/cse", now - 1_000).await;
    vcd.send_by("gone-read", "GET", "/api/cse", now - 1).await;
    vcd.send_by("tight", "DELETE", "/api/cse/c1", now + 100)
        .await;
    vcd.send_by("read", "GET", "/api/cse/system", now + 100)
        .await;
    vcd.send_by("fine", "POST", "/api/cse", now + 60_000).await;
    let mut answered = vec![vcd.reply().await.1.id, vcd.reply().await.1.id];
    answered.sort();
    assert_eq!(answered, ["fine", "read"]);
    for dropped in ["gone", "gone-read", "tight"] {
        assert_eq!(handler.runs(dropped), 0, "{dropped} was executed");
    }
    assert_eq!(pool.stats().expired, 3);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        broker.ready_count(KEY),
        Some(0),
        "dropped requests are acked"
    );
    assert_eq!(broker.unacked_count(KEY), 0);
    assert!(
        tokio::time::timeout(Duration::from_millis(200), vcd.replies.next())
            .await
            .is_err(),
        "no reply for a request vCD stopped waiting for"
    );
    pool.stop(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn a_frozen_replicas_request_redelivered_after_vcds_deadline_is_run_by_nobody_else() {
    let broker = MemoryBroker::new();
    let vcd = Vcd::new(&broker).await;
    // The frozen replica: takes the request and never answers.
    let frozen = Recorder::slow(Duration::from_secs(3_600));
    let frozen_pool = start(
        &broker,
        frozen.clone(),
        config(1, 4),
        ReplyJournal::in_memory(16),
    )
    .await;
    vcd.send_by("late", "POST", "/api/cse", now_ms() + 700)
        .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while frozen.runs("late") == 0 {
        assert!(std::time::Instant::now() < deadline, "never delivered");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // vCD answers the tenant 504 at the deadline; only later does the broker
    // notice the frozen replica (heartbeat) and hand its request on.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let healthy = Recorder::slow(Duration::ZERO);
    let healthy_pool = start(
        &broker,
        healthy.clone(),
        config(2, 4),
        ReplyJournal::in_memory(16),
    )
    .await;
    broker.drop_connections();
    assert!(healthy_pool.wait_connected(Duration::from_secs(5)).await);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while broker.ready_count(KEY) != Some(0) || broker.unacked_count(KEY) != 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the copy was never settled"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(healthy.total(), 0, "the healthy replica ran none of it");
    assert_eq!(
        frozen.runs("late"),
        1,
        "only the frozen run, never a second"
    );
    assert_eq!(
        healthy_pool.stats().expired + frozen_pool.stats().expired,
        1,
        "the redelivered copy was dropped"
    );
    healthy_pool.stop(Duration::from_secs(1)).await;
    frozen_pool.stop(Duration::from_millis(10)).await;
}
