//! The listener pool: N consumers, reconnecting with backoff, dispatching to
//! the handler with reply-then-ack and redelivery de-duplication.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use cse_bus::{
    Backoff, Bus, BusError, ConsumeOptions, Consumer, Delivery, ExchangeOptions, QueueOptions,
};
use cse_core::api::ApiError;
use cse_core::ext::mqtt::{MqttRequest, MqttResponse};
use cse_core::ext::{ExtLimits, ExtReply, ExtRequest};
use futures::FutureExt;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::handler::Handler;
use super::journal::{Claim, ReplyJournal, journals_method};

/// How the listeners attach to the broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerConfig {
    /// `amqp.exchange` (direct; created by `cse install`).
    pub exchange: String,
    /// `amqp.routing_key`: the binding key and the queue's name.
    pub routing_key: String,
    /// `service.listeners`: competing consumers, each on its own channel.
    pub listeners: u32,
    /// `service.prefetch`: unacknowledged deliveries per listener.
    pub prefetch: u16,
    /// Only check that the exchange exists (1.2.x behaviour) instead of declaring it.
    pub passive_exchange: bool,
    /// First reconnect delay.
    pub reconnect_initial: Duration,
    /// Longest reconnect delay.
    pub reconnect_max: Duration,
    /// Largest request body decoded (`limits.max_request_body_bytes`); bigger requests
    /// are answered 400 without being decoded.
    pub max_body_bytes: usize,
    /// A change (`POST`, `PUT`, `DELETE`) starts only while at least this
    /// much time is left before vCD's reply deadline (`replyByTimestamp`);
    /// reads start until the deadline itself. See [`past_reply_deadline`].
    pub reply_start_margin: Duration,
    /// MQTT transport (vCD 10.2+): the topic responses go to. Requests then
    /// come in the MQTT envelope on the topic named by `routing_key`.
    pub mqtt_respond_topic: Option<String>,
}

/// Header vCD puts on extension requests: when it stops waiting for the
/// reply (epoch milliseconds) and answers the tenant 504 itself.
pub const REPLY_BY_HEADER: &str = "replyByTimestamp";

/// Default [`ListenerConfig::reply_start_margin`]: how long a change takes
/// to be answered (its task created) on a loaded vCD.
pub const DEFAULT_REPLY_START_MARGIN: Duration = Duration::from_millis(500);

/// vCD's reply deadline of a request, in epoch milliseconds (a number, or
/// digits in a string), when it carries one.
pub fn reply_deadline(properties: &cse_bus::Properties) -> Option<i64> {
    match properties.headers.get(REPLY_BY_HEADER)? {
        cse_bus::HeaderValue::Int(ms) => Some(*ms),
        cse_bus::HeaderValue::Str(text) => text.trim().parse().ok(),
        cse_bus::HeaderValue::Bool(_) => None,
    }
}

/// Whether a request must not start: vCD has answered it (504) or will
/// before a change could be answered. `now_ms` is the epoch time in
/// milliseconds; `margin` applies to journaled methods (changes) only, so a
/// change that starts has at least that long to be answered. A change that
/// starts inside its margin and still misses the deadline keeps running:
/// its task exists in vCD and a repeated request is refused as busy.
pub fn past_reply_deadline(
    reply_by_ms: Option<i64>,
    method: &str,
    margin: Duration,
    now_ms: i64,
) -> bool {
    let Some(reply_by) = reply_by_ms else {
        return false;
    };
    let margin = if journals_method(method) {
        i64::try_from(margin.as_millis()).unwrap_or(i64::MAX)
    } else {
        0
    };
    now_ms.saturating_add(margin) >= reply_by
}

fn epoch_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl ListenerConfig {
    /// The listener settings of a server config.
    pub fn from_config(config: &cse_core::config::Config) -> Self {
        if let Some(mqtt) = &config.mqtt {
            // One subscription: every subscriber of an MQTT topic gets every
            // message, so more listeners would only receive copies.
            return ListenerConfig {
                exchange: String::new(),
                routing_key: mqtt.monitor_topic(),
                listeners: 1,
                prefetch: config.service.prefetch,
                passive_exchange: true,
                reconnect_initial: Duration::from_millis(200),
                reconnect_max: Duration::from_secs(5),
                max_body_bytes: config.limits.max_body_bytes(),
                reply_start_margin: DEFAULT_REPLY_START_MARGIN,
                mqtt_respond_topic: Some(mqtt.respond_topic()),
            };
        }
        ListenerConfig {
            exchange: config.amqp.exchange.clone(),
            routing_key: config.amqp.routing_key.clone(),
            listeners: config.service.listeners.max(1),
            prefetch: config.service.prefetch,
            passive_exchange: true,
            reconnect_initial: Duration::from_millis(200),
            reconnect_max: Duration::from_secs(5),
            max_body_bytes: config.limits.max_body_bytes(),
            reply_start_margin: DEFAULT_REPLY_START_MARGIN,
            mqtt_respond_topic: None,
        }
    }

    /// Settings for the given exchange and routing key with the defaults of
    /// CSE's sample config (5 listeners, prefetch 10), declaring the exchange.
    pub fn new(exchange: impl Into<String>, routing_key: impl Into<String>) -> Self {
        ListenerConfig {
            exchange: exchange.into(),
            routing_key: routing_key.into(),
            listeners: 5,
            prefetch: cse_core::config::DEFAULT_PREFETCH,
            passive_exchange: false,
            reconnect_initial: Duration::from_millis(100),
            reconnect_max: Duration::from_secs(5),
            max_body_bytes: cse_core::config::Limits::default().max_body_bytes(),
            reply_start_margin: DEFAULT_REPLY_START_MARGIN,
            mqtt_respond_topic: None,
        }
    }
}

/// Live numbers of a pool (for `GET /api/cse/system` and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolStats {
    /// Listeners started.
    pub listeners: u32,
    /// Listeners currently consuming.
    pub connected: u32,
    /// Requests being handled now.
    pub in_flight: u64,
    /// Requests answered since start (executed or replayed).
    pub replied: u64,
    /// Redelivered requests answered from the journal without executing.
    pub replayed: u64,
    /// Requests dropped unexecuted because vCD's reply deadline had passed.
    pub expired: u64,
    /// (Re)connections made, over all listeners.
    pub connections: u64,
}

#[derive(Default)]
struct Counters {
    connected: AtomicU64,
    in_flight: AtomicU64,
    replied: AtomicU64,
    replayed: AtomicU64,
    expired: AtomicU64,
    connections: AtomicU64,
}

struct Shared {
    bus: Arc<dyn Bus>,
    config: ListenerConfig,
    handler: Arc<dyn Handler>,
    journal: ReplyJournal,
    counters: Counters,
    stop: CancellationToken,
    connected_tx: watch::Sender<u32>,
    /// Every request task, whatever connection it came from.
    all_tasks: TaskTracker,
}

/// Running listeners. Stop them with [`ListenerPool::stop`].
pub struct ListenerPool {
    shared: Arc<Shared>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl ListenerPool {
    /// Starts `config.listeners` listeners on the bus.
    pub fn start(
        bus: Arc<dyn Bus>,
        config: ListenerConfig,
        handler: Arc<dyn Handler>,
        journal: ReplyJournal,
    ) -> Self {
        let (connected_tx, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            bus,
            config,
            handler,
            journal,
            counters: Counters::default(),
            stop: CancellationToken::new(),
            connected_tx,
            all_tasks: TaskTracker::new(),
        });
        let tasks = (0..shared.config.listeners.max(1))
            .map(|n| tokio::spawn(run_listener(shared.clone(), n)))
            .collect();
        ListenerPool { shared, tasks }
    }

    /// Current numbers.
    pub fn stats(&self) -> PoolStats {
        let c = &self.shared.counters;
        PoolStats {
            listeners: self.shared.config.listeners.max(1),
            connected: u32::try_from(c.connected.load(Ordering::SeqCst)).unwrap_or(u32::MAX),
            in_flight: c.in_flight.load(Ordering::SeqCst),
            replied: c.replied.load(Ordering::SeqCst),
            replayed: c.replayed.load(Ordering::SeqCst),
            expired: c.expired.load(Ordering::SeqCst),
            connections: c.connections.load(Ordering::SeqCst),
        }
    }

    /// Waits until every listener is consuming (or the timeout passes).
    pub async fn wait_connected(&self, timeout: Duration) -> bool {
        let want = self.shared.config.listeners.max(1);
        let mut rx = self.shared.connected_tx.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|n| *n >= want))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Graceful stop: stop consuming, let in-flight requests finish (their
    /// replies are published and acknowledged), then return. Requests still
    /// running after `grace` are abandoned; the broker redelivers them.
    pub async fn stop(self, grace: Duration) {
        self.shared.stop.cancel();
        let shared = self.shared.clone();
        let all = async move {
            futures::future::join_all(self.tasks).await;
            // Requests of connections lost earlier finish too.
            shared.all_tasks.close();
            shared.all_tasks.wait().await;
        };
        if tokio::time::timeout(grace, all).await.is_err() {
            tracing::warn!("requests still running after the stop grace period; abandoning them");
        }
    }
}

fn bump_connected(shared: &Shared, delta: i64) {
    let c = &shared.counters.connected;
    let now = if delta > 0 {
        c.fetch_add(1, Ordering::SeqCst) + 1
    } else {
        c.fetch_sub(1, Ordering::SeqCst) - 1
    };
    shared
        .connected_tx
        .send_replace(u32::try_from(now).unwrap_or(u32::MAX));
}

/// Declares the topology and starts consuming.
async fn attach(shared: &Shared, n: u32) -> Result<Box<dyn Consumer>, BusError> {
    let c = &shared.config;
    shared
        .bus
        .declare_exchange(
            &c.exchange,
            ExchangeOptions {
                durable: true,
                passive: c.passive_exchange,
            },
        )
        .await?;
    // Non-durable like 1.2.x: vCD's messages are transient, and an existing
    // `cse` queue declared by an older server keeps working.
    shared
        .bus
        .declare_queue(&c.routing_key, QueueOptions::default())
        .await?;
    shared
        .bus
        .bind_queue(&c.routing_key, &c.exchange, &c.routing_key)
        .await?;
    shared
        .bus
        .consume(
            &c.routing_key,
            ConsumeOptions {
                tag: format!("cse-listener-{n}-{}", uuid::Uuid::new_v4().simple()),
                prefetch: c.prefetch,
                auto_ack: false,
            },
        )
        .await
}

async fn run_listener(shared: Arc<Shared>, n: u32) {
    let mut backoff = Backoff::new(shared.config.reconnect_initial, shared.config.reconnect_max);
    loop {
        if shared.stop.is_cancelled() {
            return;
        }
        match attach(&shared, n).await {
            Ok(mut consumer) => {
                backoff.reset();
                shared.counters.connections.fetch_add(1, Ordering::SeqCst);
                bump_connected(&shared, 1);
                tracing::info!(listener = n, queue = %shared.config.routing_key, "listening");
                let tracker = TaskTracker::new();
                let stopped = loop {
                    tokio::select! {
                        biased;
                        () = shared.stop.cancelled() => break true,
                        delivery = consumer.next() => match delivery {
                            Some(d) => {
                                let s = shared.clone();
                                tracker.spawn(shared.all_tasks.track_future(async move {
                                    process(&s, d).await;
                                }));
                            }
                            None => break false,
                        },
                    }
                };
                bump_connected(&shared, -1);
                if stopped && let Err(e) = consumer.cancel().await {
                    tracing::debug!(listener = n, error = %e, "cancel on stop");
                }
                // In-flight requests settle on this consumer's channel: keep it
                // open until they are done.
                tracker.close();
                if stopped {
                    tracker.wait().await;
                    drop(consumer);
                    tracing::info!(listener = n, "stopped");
                    return;
                }
                // Connection lost: reconnect at once; the old consumer lives
                // on until its requests are done (their copies may come back
                // on the new connection and wait for them in the journal).
                tokio::spawn(async move {
                    tracker.wait().await;
                    drop(consumer);
                });
                tracing::warn!(listener = n, "lost the broker connection; reconnecting");
            }
            Err(e) => {
                tracing::warn!(listener = n, error = %e, "cannot attach to the broker");
            }
        }
        let delay = backoff.next_delay();
        tokio::select! {
            () = shared.stop.cancelled() => return,
            () = tokio::time::sleep(delay) => {}
        }
    }
}

/// Handles one delivery: claim, execute or replay, publish the reply, ack.
async fn process(shared: &Shared, delivery: Delivery) {
    shared.counters.in_flight.fetch_add(1, Ordering::SeqCst);
    let replied = answer(shared, &delivery).await;
    if replied {
        shared.counters.replied.fetch_add(1, Ordering::SeqCst);
        if let Err(e) = delivery.ack().await {
            // The broker redelivers it; the journal answers the copy.
            tracing::warn!(error = %e, "could not acknowledge a replied request");
        }
    }
    shared.counters.in_flight.fetch_sub(1, Ordering::SeqCst);
}

/// Produces and publishes the reply; true when the delivery may be acked.
async fn answer(shared: &Shared, delivery: &Delivery) -> bool {
    let properties = &delivery.message.properties;
    let limits = ExtLimits {
        max_body_bytes: shared.config.max_body_bytes,
    };
    let parsed = match &shared.config.mqtt_respond_topic {
        None => ExtRequest::from_json_with_limits(&delivery.message.body, &limits),
        Some(_) => MqttRequest::from_json_with_limits(&delivery.message.body, &limits).map(|m| {
            let mut request = m.request;
            // The response is paired by requestId: it is the request's key.
            request.id = m.request_id;
            request
        }),
    };
    let request = match parsed {
        Ok(r) => r,
        Err(e) => {
            // Not a request we can ever handle: answer if possible, never requeue.
            tracing::warn!(error = %e, "malformed extension request");
            let id = match &shared.config.mqtt_respond_topic {
                None => properties.correlation_id.clone().unwrap_or_default(),
                Some(_) => {
                    cse_core::ext::mqtt::request_id_of(&delivery.message.body).unwrap_or_default()
                }
            };
            let reply = malformed_reply(&id, &e.to_string());
            publish(shared, properties, Bytes::from(reply)).await;
            return true;
        }
    };
    let key = if request.id.is_empty() {
        properties.correlation_id.clone().unwrap_or_default()
    } else {
        request.id.clone()
    };
    let reply_by = reply_deadline(properties);
    if past_reply_deadline(
        reply_by,
        &request.method,
        shared.config.reply_start_margin,
        epoch_millis(),
    ) {
        // vCD has answered the tenant 504 (or will before this could be
        // answered): running it now would do work nobody waits for.
        tracing::warn!(
            request = %key,
            method = %request.method,
            uri = %request.request_uri,
            redelivered = delivery.redelivered,
            late_ms = epoch_millis() - reply_by.unwrap_or_default(),
            "vCD's reply deadline (replyByTimestamp) has passed: request acknowledged and dropped, not executed"
        );
        shared.counters.expired.fetch_add(1, Ordering::SeqCst);
        return true;
    }
    if key.is_empty() {
        let reply = run_handler(shared, request).await;
        return publish(shared, properties, Bytes::from(reply)).await;
    }
    let reply: Arc<str> = loop {
        match shared.journal.claim(&key) {
            Claim::Replay(reply) => {
                tracing::info!(request = %key, redelivered = delivery.redelivered, "answering a repeated request from the reply journal");
                shared.counters.replayed.fetch_add(1, Ordering::SeqCst);
                break reply;
            }
            Claim::Wait(mut rx) => {
                if let Ok(r) = rx.wait_for(Option::is_some).await
                    && let Some(reply) = r.clone()
                {
                    shared.counters.replayed.fetch_add(1, Ordering::SeqCst);
                    break reply;
                }
                // The other run was abandoned: claim again.
            }
            Claim::Execute(execution) => {
                let journaled = journals_method(&request.method);
                let reply: Arc<str> = Arc::from(run_handler(shared, request.clone()).await);
                if !journaled {
                    execution.complete_read(reply.clone());
                } else if let Err(e) = execution.complete(reply.clone()).await {
                    tracing::error!(error = %e, "could not record the reply; a crash now could run this request twice");
                }
                break reply;
            }
        }
    };
    publish(shared, properties, Bytes::from(reply.to_string())).await
}

async fn run_handler(shared: &Shared, request: ExtRequest) -> String {
    let fallback = request.clone();
    let result = std::panic::AssertUnwindSafe(shared.handler.handle(request))
        .catch_unwind()
        .await;
    match result {
        Ok(reply) => reply.to_json(),
        Err(_) => {
            tracing::error!(uri = %fallback.request_uri, "request handler panicked");
            ApiError::Internal("Internal error while handling the request".into())
                .reply_to(&fallback)
                .to_json()
        }
    }
}

fn malformed_reply(id: &str, reason: &str) -> String {
    let body = serde_json::json!({ "message": format!("Invalid extension request: {reason}") })
        .to_string();
    ExtReply {
        id: id.to_owned(),
        content_type: cse_core::ext::DEFAULT_REPLY_CONTENT_TYPE.to_owned(),
        status_code: 400,
        body: body.into_bytes(),
    }
    .to_json()
}

/// Publishes a reply; true when it reached the broker (or there is nowhere to send it).
async fn publish(shared: &Shared, request: &cse_bus::Properties, reply: Bytes) -> bool {
    let sent = match &shared.config.mqtt_respond_topic {
        None => cse_bus::reply(shared.bus.as_ref(), request, reply).await,
        Some(topic) => match ExtReply::from_json(&reply) {
            Ok(reply) => {
                let response = MqttResponse {
                    request_id: reply.id.clone(),
                    reply,
                };
                shared
                    .bus
                    .publish("", topic, cse_bus::Message::new(response.to_json()))
                    .await
            }
            Err(e) => {
                tracing::error!(error = %e, "a reply could not be re-read for the MQTT envelope; dropped");
                return true;
            }
        },
    };
    match sent {
        Ok(()) => true,
        Err(BusError::NoReplyTo) => {
            tracing::warn!("request without reply_to: the reply is dropped");
            true
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not publish a reply; leaving the request unacknowledged");
            false
        }
    }
}

#[cfg(test)]
mod tests;
