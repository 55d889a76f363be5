//! The extension round trip as vCD performs it: wrap the HTTP request into
//! the extension envelope with the caller's security context, publish it to
//! the service's exchange and routing key with `reply_to`, `correlation_id`
//! and the `replyToExchange` header, wait for the correlated reply on the
//! cell's reply queue, and turn it back into an HTTP response — or answer 504
//! when the extensibility timeout passes first.
//!
//! One background task keeps the reply queue subscribed, resubscribing with
//! backoff after the broker went away. Replies nobody waits for any more
//! (late, duplicate) are dropped, as vCD drops them.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use cse_bus::{
    Backoff, Bus, BusError, ConsumeOptions, ExchangeOptions, Message, QueueOptions,
    REPLY_TO_EXCHANGE_HEADER,
};
use cse_core::ext::{ExtReply, ExtRequestBuilder, SecurityContext as EnvelopeSecurity};
use parking_lot::Mutex;
use tokio::sync::{oneshot, watch};

use super::responses::{
    cannot_send_response, invalid_reply_response, not_routed_response, timeout_response,
};
use super::{ExtensionTarget, ForwardedRequest, ForwardedResponse};

/// vCD's default `extensibility.timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Settings of the vCD side of the extension transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterOptions {
    /// `extensibility.timeout`.
    pub timeout: Duration,
    /// The exchange replies come back on (vCD: `<AmqpPrefix>.replyExchange`).
    pub reply_exchange: String,
    /// This cell's reply queue (vCD: `<AmqpPrefix>.replyQueue.<uuid>`).
    pub reply_queue: String,
    /// First and longest delay between attempts to resubscribe the reply queue.
    pub reconnect_initial: Duration,
    /// Longest delay between resubscribe attempts (the delay grows up to it).
    pub reconnect_max: Duration,
}

impl RouterOptions {
    /// vCD's names for the AMQP prefix `vcd` and the given timeout.
    pub fn new(timeout: Duration) -> Self {
        RouterOptions::with_prefix("vcd", timeout)
    }

    /// Names derived from an AMQP prefix (vCD's `AmqpPrefix` setting).
    pub fn with_prefix(prefix: &str, timeout: Duration) -> Self {
        RouterOptions {
            timeout,
            reply_exchange: format!("{prefix}.replyExchange"),
            reply_queue: format!("{prefix}.replyQueue.{}", uuid::Uuid::new_v4()),
            reconnect_initial: Duration::from_millis(50),
            reconnect_max: Duration::from_secs(2),
        }
    }
}

/// State of the reply-queue subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Link {
    /// First attempt not finished yet.
    Connecting,
    /// Replies can be received.
    Ready,
    /// The last attempt failed; retrying.
    Down(String),
}

type Pending = Arc<Mutex<HashMap<String, oneshot::Sender<Message>>>>;

struct Shared {
    bus: Arc<dyn Bus>,
    options: RouterOptions,
    pending: Pending,
    link: watch::Sender<Link>,
}

/// vCD's API-extension routing over a [`Bus`]. Clones share one reply queue.
#[derive(Clone)]
pub struct ExtensionRouter {
    shared: Arc<Shared>,
    listener: Arc<ListenerTask>,
}

/// The reply-queue task, started on first use and stopped with the last clone.
#[derive(Default)]
struct ListenerTask(OnceLock<tokio::task::JoinHandle<()>>);

impl Drop for ListenerTask {
    fn drop(&mut self) {
        if let Some(handle) = self.0.get() {
            handle.abort();
        }
    }
}

impl ExtensionRouter {
    /// A router with vCD's default names and the given extensibility timeout.
    pub fn new(bus: Arc<dyn Bus>, timeout: Duration) -> Self {
        Self::with_options(bus, RouterOptions::new(timeout))
    }

    /// A router with explicit options.
    pub fn with_options(bus: Arc<dyn Bus>, options: RouterOptions) -> Self {
        let (link, _) = watch::channel(Link::Connecting);
        ExtensionRouter {
            shared: Arc::new(Shared {
                bus,
                options,
                pending: Arc::new(Mutex::new(HashMap::new())),
                link,
            }),
            listener: Arc::new(ListenerTask::default()),
        }
    }

    /// The extensibility timeout.
    pub fn timeout(&self) -> Duration {
        self.shared.options.timeout
    }

    /// The options in use.
    pub fn options(&self) -> &RouterOptions {
        &self.shared.options
    }

    /// Forwards one HTTP request to the extension and returns what the
    /// client gets: the extension's reply, 504 after the timeout, 500 when
    /// the message cannot be sent, or vCD's fall-through for a disabled service.
    pub async fn forward(
        &self,
        target: &ExtensionTarget,
        req: ForwardedRequest,
    ) -> ForwardedResponse {
        if !target.enabled {
            return not_routed_response(&req);
        }
        self.listener
            .0
            .get_or_init(|| tokio::spawn(listen(self.shared.clone())));
        let timeout = self.shared.options.timeout;
        let deadline = tokio::time::Instant::now() + timeout;
        let timeout_secs = timeout.as_secs();

        // Without a reply subscription the answer could not come back.
        let mut link = self.shared.link.subscribe();
        let ready = tokio::time::timeout_at(deadline, async {
            loop {
                match link.borrow_and_update().clone() {
                    Link::Ready => return true,
                    Link::Down(reason) => {
                        tracing::warn!(%reason, "extension reply queue unavailable");
                        return false;
                    }
                    Link::Connecting => {}
                }
                if link.changed().await.is_err() {
                    return false;
                }
            }
        })
        .await;
        match ready {
            Ok(true) => {}
            Ok(false) => return cannot_send_response(&req, target),
            Err(_) => return timeout_response(&req, target, timeout_secs),
        }

        let message_id = uuid::Uuid::new_v4().to_string();
        let correlation_id = uuid::Uuid::new_v4().to_string();
        let envelope = build_envelope(&message_id, &req);
        let reply_by = chrono::Utc::now().timestamp_millis()
            + i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX / 2);
        let message = Message::new(envelope)
            .with_content_type("application/octet-stream")
            .with_correlation_id(correlation_id.clone())
            .with_reply_to(self.shared.options.reply_queue.clone())
            .with_delivery_mode(1)
            .with_header("messageType", "ProcessHttpRequest")
            .with_header(
                REPLY_TO_EXCHANGE_HEADER,
                self.shared.options.reply_exchange.clone(),
            )
            .with_header("replyByTimestamp", reply_by);

        let (tx, rx) = oneshot::channel();
        self.shared
            .pending
            .lock()
            .insert(correlation_id.clone(), tx);
        let _guard = PendingGuard {
            pending: self.shared.pending.clone(),
            correlation_id: correlation_id.clone(),
        };
        let published = tokio::time::timeout_at(
            deadline,
            self.shared
                .bus
                .publish(&target.exchange, &target.routing_key, message),
        )
        .await;
        match published {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, exchange = %target.exchange, "cannot publish extension request");
                return cannot_send_response(&req, target);
            }
            Err(_) => return timeout_response(&req, target, timeout_secs),
        }
        match tokio::time::timeout_at(deadline, rx).await {
            Ok(Ok(reply)) => translate_reply(&req, target, &reply.body),
            // The sender went away: the router is shutting down.
            Ok(Err(_)) | Err(_) => timeout_response(&req, target, timeout_secs),
        }
    }
}

/// The simulator's REST layer hands matching requests over through this.
impl super::ExtensionForwarder for ExtensionRouter {
    fn forward(
        &self,
        target: ExtensionTarget,
        req: ForwardedRequest,
    ) -> futures::future::BoxFuture<'static, ForwardedResponse> {
        let router = self.clone();
        Box::pin(async move { ExtensionRouter::forward(&router, &target, req).await })
    }
}

/// Removes a pending entry when its request finishes (reply, time-out or cancellation).
struct PendingGuard {
    pending: Pending,
    correlation_id: String,
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        self.pending.lock().remove(&self.correlation_id);
    }
}

fn build_envelope(message_id: &str, req: &ForwardedRequest) -> Bytes {
    Bytes::from(build_request(message_id, req).to_json())
}

/// The request element vCD sends an extension, whatever the transport.
pub(crate) fn build_request(message_id: &str, req: &ForwardedRequest) -> cse_core::ext::ExtRequest {
    let uri = match &req.query_string {
        Some(q) if !q.is_empty() => format!("{}?{q}", req.request_uri),
        _ => req.request_uri.clone(),
    };
    let mut builder = ExtRequestBuilder::new(message_id, req.method.clone(), uri)
        .body(req.body.to_vec())
        .security_context(EnvelopeSecurity {
            user: Some(req.security.user_urn.clone()),
            org: Some(req.security.org_urn.clone()),
            rights: req.security.rights.clone(),
        });
    for (name, value) in &req.headers {
        builder = builder.header(name.clone(), value.clone());
    }
    if let Some(remote) = req
        .remote_addr
        .as_deref()
        .and_then(|a| a.parse::<std::net::SocketAddr>().ok())
    {
        builder = builder.connection(
            "https",
            "HTTP/1.1",
            ("127.0.0.1".to_owned(), 443),
            (remote.ip().to_string(), remote.port()),
        );
    }
    builder.build()
}

fn translate_reply(
    req: &ForwardedRequest,
    target: &ExtensionTarget,
    body: &[u8],
) -> ForwardedResponse {
    match ExtReply::from_json(body) {
        Ok(reply) => ForwardedResponse {
            status: reply.status_code,
            headers: vec![("Content-Type".into(), reply.content_type)],
            body: Bytes::from(reply.body),
        },
        Err(e) => invalid_reply_response(req, target, &e.to_string()),
    }
}

/// Keeps the reply queue subscribed and hands replies to their waiters.
async fn listen(shared: Arc<Shared>) {
    let options = &shared.options;
    let mut backoff = Backoff::new(options.reconnect_initial, options.reconnect_max);
    loop {
        match subscribe(&shared).await {
            Ok(mut consumer) => {
                backoff.reset();
                shared.link.send_replace(Link::Ready);
                while let Some(delivery) = consumer.next().await {
                    let Some(id) = delivery.message.properties.correlation_id.clone() else {
                        tracing::debug!("reply without correlation_id dropped");
                        continue;
                    };
                    let waiter = shared.pending.lock().remove(&id);
                    match waiter {
                        Some(tx) => {
                            let _ = tx.send(delivery.message);
                        }
                        None => {
                            tracing::debug!(correlation_id = %id, "late or unknown reply dropped")
                        }
                    }
                }
                tracing::warn!("extension reply queue subscription ended; resubscribing");
                shared
                    .link
                    .send_replace(Link::Down("the reply queue subscription ended".into()));
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot subscribe the extension reply queue");
                shared.link.send_replace(Link::Down(e.to_string()));
            }
        }
        tokio::time::sleep(backoff.next_delay()).await;
    }
}

async fn subscribe(shared: &Shared) -> Result<Box<dyn cse_bus::Consumer>, BusError> {
    let bus = &shared.bus;
    let o = &shared.options;
    bus.declare_exchange(&o.reply_exchange, ExchangeOptions::default())
        .await?;
    bus.declare_queue(
        &o.reply_queue,
        QueueOptions {
            durable: false,
            exclusive: true,
            auto_delete: true,
        },
    )
    .await?;
    bus.bind_queue(&o.reply_queue, &o.reply_exchange, &o.reply_queue)
        .await?;
    bus.consume(
        &o.reply_queue,
        ConsumeOptions {
            tag: format!("vcd-sim-{}", o.reply_queue),
            prefetch: 0,
            auto_ack: true,
        },
    )
    .await
}

#[cfg(test)]
mod tests;
