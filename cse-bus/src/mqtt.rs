//! The MQTT implementation of [`Bus`]: vCD's built-in message bus for API
//! extensions (vCD 10.2+), MQTT 3.1.1 over a secure websocket at
//! `wss://<vcd>/messaging/mqtt`, through rumqttc.
//!
//! vCD gives each registered extension two topics: it publishes requests on
//! the `monitor` topic and reads responses from the `respond` topic. The
//! extension logs in with its name triplet `vendor/name/version` as user name
//! and an API token of type `EXTENSION` as password.
//!
//! Mapping onto the AMQP-shaped trait:
//! - exchanges, queues and bindings do not exist on this bus: declaring,
//!   binding and deleting them succeed and do nothing (vCD made the topics
//!   when the extension was registered);
//! - [`Bus::consume`] opens a connection of its own (a fresh client id, clean
//!   session: vCD keeps no durable sessions), subscribes the topic named by
//!   `queue` at QoS 1 with manual acknowledgement, and hands each `PUBLISH`
//!   out as a [`Delivery`] (`redelivered` is the packet's DUP flag). `ack`
//!   sends the `PUBACK`; MQTT has no negative acknowledgement, so
//!   `nack(requeue: true)` sends nothing (the broker hands the message out
//!   again once this connection ends) and `nack(requeue: false)` acknowledges;
//! - [`Bus::publish`] publishes to the topic named by `routing_key` (the
//!   exchange is ignored) at QoS 1 on a shared publishing connection and
//!   returns once the broker's `PUBACK` came back (the publisher confirm).
//!
//! Connections never reconnect by themselves: a consumer whose connection
//! ended returns `None` (the listener reconnects with its backoff), and the
//! next publish after a lost connection opens a new one.
//!
//! The hand-off from the task polling rumqttc's event loop to the consumer
//! is bounded ([`MqttConnectionOptions::delivery_queue`], default
//! [`DELIVERY_QUEUE`]). The polling task never waits on it: MQTT 3.1.1 has
//! no flow control towards the client, and waiting would stop the same
//! poll that sends keep-alives and reads PUBACKs. A delivery that finds the
//! queue full ends the connection instead (no PUBACK is sent for anything
//! still unacknowledged): the consumer hands out what was queued, returns
//! `None`, and the broker hands every unacknowledged message out again, DUP
//! set, on the next connection — nothing is lost, nothing is acknowledged
//! twice (an acknowledgement on an ended connection fails and is not sent),
//! and the reply journal answers a redelivered request that already ran.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use parking_lot::Mutex;
use rumqttc::{
    AsyncClient, ConnectReturnCode, Event, EventLoop, MqttOptions as ClientOptions, Outgoing,
    Packet, Publish, QoS, SubscribeReasonCode, TlsConfiguration, Transport,
};
use tokio::sync::{mpsc, oneshot};

use crate::bus::{
    Acknowledger, Bus, ConsumeOptions, Consumer, Delivery, ExchangeOptions, QueueOptions,
};
use crate::error::BusError;
use crate::message::Message;

/// The broker's path on a vCD cell.
pub const BROKER_PATH: &str = "/messaging/mqtt";

/// Largest MQTT packet sent or accepted (a request carries a body of up to
/// the server's `limits.max_request_body_bytes`, base64-encoded twice).
pub const MAX_PACKET_BYTES: usize = 16 * 1024 * 1024;

/// Deliveries queued between the connection's polling task and its consumer
/// by default. A broker keeps at most its in-flight window of deliveries
/// unacknowledged on a connection (vCD's simulator: 100), and the listener
/// acknowledges each after its reply, so the queue fills only behind a
/// broker that ignores its window; then the connection is ended and
/// reopened (see the module documentation).
pub const DELIVERY_QUEUE: usize = 256;

/// Where and how to connect: the `mqtt` section of CSE's config.
#[derive(Clone, PartialEq, Eq)]
pub struct MqttConnectionOptions {
    /// `wss://host[:port]/messaging/mqtt` (or `ws://` for a plain listener).
    pub url: String,
    /// The extension's `vendor/name/version`.
    pub username: String,
    /// The extension's API token (type `EXTENSION`); never logged.
    pub token: String,
    /// Prefix of the client ids; each connection adds a random suffix.
    pub client_id_prefix: String,
    /// Check the broker's certificate (vCD's `verify`).
    pub verify: bool,
    /// PEM CA certificates to trust besides the platform's roots.
    pub ca_certificates_pem: Option<String>,
    /// MQTT keep-alive interval.
    pub keep_alive: Duration,
    /// How long opening a connection (websocket, CONNECT, SUBSCRIBE) may take.
    pub connect_timeout: Duration,
    /// How long a publish may wait for the broker's PUBACK.
    pub publish_timeout: Duration,
    /// Deliveries a consumer's connection queues for it at most
    /// ([`DELIVERY_QUEUE`]); one more ends the connection.
    pub delivery_queue: usize,
}

impl fmt::Debug for MqttConnectionOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MqttConnectionOptions")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("token", &"<redacted>")
            .field("client_id_prefix", &self.client_id_prefix)
            .field("verify", &self.verify)
            .field("ca_certificates_pem", &self.ca_certificates_pem.is_some())
            .field("keep_alive", &self.keep_alive)
            .field("connect_timeout", &self.connect_timeout)
            .field("publish_timeout", &self.publish_timeout)
            .field("delivery_queue", &self.delivery_queue)
            .finish()
    }
}

impl MqttConnectionOptions {
    /// Options for the broker of the vCD at `base_url` (`https://host[:port]`).
    pub fn for_vcd(base_url: &str, username: impl Into<String>, token: impl Into<String>) -> Self {
        let trimmed = base_url.trim_end_matches('/');
        let url = if let Some(rest) = trimmed.strip_prefix("https://") {
            format!("wss://{rest}{BROKER_PATH}")
        } else if let Some(rest) = trimmed.strip_prefix("http://") {
            format!("ws://{rest}{BROKER_PATH}")
        } else {
            format!("wss://{trimmed}{BROKER_PATH}")
        };
        MqttConnectionOptions {
            url,
            username: username.into(),
            token: token.into(),
            client_id_prefix: "cse".into(),
            verify: true,
            ca_certificates_pem: None,
            keep_alive: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            publish_timeout: Duration::from_secs(10),
            delivery_queue: DELIVERY_QUEUE,
        }
    }

    fn transport(&self) -> Result<Transport, BusError> {
        if self.url.starts_with("ws://") {
            return Ok(Transport::Ws);
        }
        if !self.url.starts_with("wss://") {
            return Err(BusError::InvalidOptions(format!(
                "the MQTT broker URL must start with wss:// or ws://, got '{}'",
                self.url
            )));
        }
        crate::tls::install_crypto_provider();
        let config = if self.verify {
            let mut roots = rustls::RootCertStore::empty();
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(cert);
            }
            if let Some(pem) = &self.ca_certificates_pem {
                use rustls::pki_types::CertificateDer;
                use rustls::pki_types::pem::PemObject;
                for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                    let cert = cert.map_err(|e| {
                        BusError::InvalidOptions(format!("bad CA certificate PEM: {e}"))
                    })?;
                    roots.add(cert).map_err(|e| {
                        BusError::InvalidOptions(format!("unusable CA certificate: {e}"))
                    })?;
                }
            }
            rustls::ClientConfig::builder()
                .with_root_certificates(roots)
                .with_no_client_auth()
        } else {
            rustls::ClientConfig::builder()
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerification::new()))
                .with_no_client_auth()
        };
        Ok(Transport::Wss(TlsConfiguration::Rustls(Arc::new(config))))
    }

    fn client_options(&self) -> Result<ClientOptions, BusError> {
        let client_id = format!(
            "{}-{}",
            self.client_id_prefix,
            uuid::Uuid::new_v4().simple()
        );
        // With a websocket transport rumqttc takes the whole URL as the address.
        let mut o = ClientOptions::new(client_id, self.url.clone(), 0);
        o.set_transport(self.transport()?);
        o.set_credentials(self.username.clone(), self.token.clone());
        o.set_keep_alive(self.keep_alive.max(Duration::from_secs(1)));
        o.set_clean_session(true);
        o.set_manual_acks(true);
        o.set_max_packet_size(MAX_PACKET_BYTES, MAX_PACKET_BYTES);
        Ok(o)
    }
}

/// `verify: false`: any certificate is accepted (self-signed lab cells).
#[derive(Debug)]
struct NoVerification(rustls::crypto::WebPkiSupportedAlgorithms);

impl NoVerification {
    fn new() -> Self {
        let provider = rustls::crypto::CryptoProvider::get_default()
            .cloned()
            .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
        NoVerification(provider.signature_verification_algorithms)
    }
}

impl rustls::client::danger::ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// What the event-loop task reports to the connection's users.
#[derive(Default)]
struct Waiters {
    connack: Option<oneshot::Sender<Result<(), String>>>,
    suback: Option<oneshot::Sender<Result<(), String>>>,
    /// Publishes queued, waiting to learn their packet id (in order).
    pkids: VecDeque<oneshot::Sender<u16>>,
    /// Publishes sent, waiting for their PUBACK.
    pubacks: HashMap<u16, oneshot::Sender<()>>,
    /// PUBACKs that came before their publisher asked for them.
    early_acks: std::collections::HashSet<u16>,
    deliveries: Option<mpsc::Sender<Publish>>,
    closed: Option<String>,
}

/// One MQTT connection: the client handle and the task polling its event loop.
struct Connection {
    client: AsyncClient,
    waiters: Arc<Mutex<Waiters>>,
    task: tokio::task::JoinHandle<()>,
    /// Serialises "queue a publish, learn its packet id".
    publish_order: tokio::sync::Mutex<()>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        let _ = self.client.try_disconnect();
        self.task.abort();
    }
}

fn lost(reason: &str) -> BusError {
    BusError::ConnectionLost(format!("MQTT: {reason}"))
}

impl Connection {
    /// Opens a connection; with `subscribe`, subscribes that topic at QoS 1
    /// and returns the stream of its messages.
    async fn open(
        options: &MqttConnectionOptions,
        subscribe: Option<&str>,
    ) -> Result<(Connection, Option<mpsc::Receiver<Publish>>), BusError> {
        let client_options = options.client_options()?;
        let (client, eventloop) = AsyncClient::new(client_options, 64);
        let (connack_tx, connack_rx) = oneshot::channel();
        let (deliveries_tx, deliveries_rx) = mpsc::channel(options.delivery_queue.max(1));
        let waiters = Arc::new(Mutex::new(Waiters {
            connack: Some(connack_tx),
            deliveries: subscribe.is_some().then_some(deliveries_tx),
            ..Waiters::default()
        }));
        let task = tokio::spawn(drive(eventloop, Arc::clone(&waiters)));
        let connection = Connection {
            client,
            waiters,
            task,
            publish_order: tokio::sync::Mutex::new(()),
        };
        let connect_error = |reason: String| BusError::Connect {
            address: options.url.clone(),
            reason,
        };
        match tokio::time::timeout(options.connect_timeout, connack_rx).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(reason))) => return Err(connect_error(reason)),
            Ok(Err(_)) => return Err(connect_error(connection.closed_reason())),
            Err(_) => return Err(connect_error("no CONNACK in time".into())),
        }
        let Some(topic) = subscribe else {
            return Ok((connection, None));
        };
        let (suback_tx, suback_rx) = oneshot::channel();
        connection.waiters.lock().suback = Some(suback_tx);
        connection
            .client
            .subscribe(topic, QoS::AtLeastOnce)
            .await
            .map_err(|e| lost(&e.to_string()))?;
        match tokio::time::timeout(options.connect_timeout, suback_rx).await {
            Ok(Ok(Ok(()))) => Ok((connection, Some(deliveries_rx))),
            Ok(Ok(Err(reason))) => Err(BusError::Refused {
                operation: format!("SUBSCRIBE {topic}"),
                reason,
            }),
            Ok(Err(_)) => Err(lost(&connection.closed_reason())),
            Err(_) => Err(lost("no SUBACK in time")),
        }
    }

    fn closed_reason(&self) -> String {
        self.waiters
            .lock()
            .closed
            .clone()
            .unwrap_or_else(|| "the connection ended".into())
    }

    fn is_closed(&self) -> bool {
        self.waiters.lock().closed.is_some() || self.task.is_finished()
    }

    /// Publishes at QoS 1 and waits for the PUBACK.
    async fn publish(
        &self,
        topic: &str,
        payload: Bytes,
        timeout: Duration,
    ) -> Result<(), BusError> {
        let (pkid_tx, pkid_rx) = oneshot::channel();
        let order = self.publish_order.lock().await;
        if self.is_closed() {
            return Err(lost(&self.closed_reason()));
        }
        self.waiters.lock().pkids.push_back(pkid_tx);
        self.client
            .publish_bytes(topic, QoS::AtLeastOnce, false, payload)
            .await
            .map_err(|e| lost(&e.to_string()))?;
        let pkid = match tokio::time::timeout(timeout, pkid_rx).await {
            Ok(Ok(pkid)) => pkid,
            Ok(Err(_)) => return Err(lost(&self.closed_reason())),
            Err(_) => return Err(lost("the publish was not sent in time")),
        };
        let (ack_tx, ack_rx) = oneshot::channel();
        {
            let mut w = self.waiters.lock();
            if w.early_acks.remove(&pkid) {
                return Ok(());
            }
            if w.closed.is_some() {
                drop(w);
                return Err(lost(&self.closed_reason()));
            }
            w.pubacks.insert(pkid, ack_tx);
        }
        drop(order);
        match tokio::time::timeout(timeout, ack_rx).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(lost(&self.closed_reason())),
            Err(_) => {
                self.waiters.lock().pubacks.remove(&pkid);
                Err(lost("no PUBACK in time"))
            }
        }
    }
}

/// Polls the event loop until the connection fails, routing events to waiters.
async fn drive(mut eventloop: EventLoop, waiters: Arc<Mutex<Waiters>>) {
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                let result = if ack.code == ConnectReturnCode::Success {
                    Ok(())
                } else {
                    Err(format!("the broker refused the connection: {:?}", ack.code))
                };
                let failed = result.is_err();
                if let Some(tx) = waiters.lock().connack.take() {
                    let _ = tx.send(result);
                }
                if failed {
                    break;
                }
            }
            Ok(Event::Incoming(Packet::SubAck(ack))) => {
                let result = if ack
                    .return_codes
                    .iter()
                    .all(|c| matches!(c, SubscribeReasonCode::Success(_)))
                {
                    Ok(())
                } else {
                    Err("the broker refused the subscription".into())
                };
                if let Some(tx) = waiters.lock().suback.take() {
                    let _ = tx.send(result);
                }
            }
            Ok(Event::Incoming(Packet::Publish(publish))) => {
                let mut w = waiters.lock();
                let full = match &w.deliveries {
                    // Never waits: this task also sends keep-alives.
                    Some(tx) => matches!(
                        tx.try_send(publish),
                        Err(mpsc::error::TrySendError::Full(_))
                    ),
                    None => false,
                };
                if full {
                    let queued = w.deliveries.as_ref().map_or(0, |tx| tx.max_capacity());
                    tracing::warn!(
                        queued,
                        "MQTT delivery queue full; ending the connection so the broker hands \
                         the unacknowledged messages out again"
                    );
                    w.closed = Some(format!(
                        "the delivery queue was full ({queued} deliveries waiting)"
                    ));
                    break;
                }
            }
            Ok(Event::Incoming(Packet::PubAck(ack))) => {
                let mut w = waiters.lock();
                match w.pubacks.remove(&ack.pkid) {
                    Some(tx) => {
                        let _ = tx.send(());
                    }
                    None => {
                        w.early_acks.insert(ack.pkid);
                    }
                }
            }
            Ok(Event::Outgoing(Outgoing::Publish(pkid))) => {
                if let Some(tx) = waiters.lock().pkids.pop_front() {
                    let _ = tx.send(pkid);
                }
            }
            Ok(Event::Outgoing(Outgoing::Disconnect)) => {
                waiters.lock().closed = Some("disconnected".into());
            }
            Ok(_) => {}
            Err(e) => {
                let reason = e.to_string();
                tracing::debug!(error = %reason, "MQTT connection ended");
                let mut w = waiters.lock();
                w.closed = Some(reason);
                break;
            }
        }
    }
    // Wake everybody: dropping the senders ends their waits.
    let mut w = waiters.lock();
    if w.closed.is_none() {
        w.closed = Some("the connection ended".into());
    }
    w.connack = None;
    w.suback = None;
    w.pkids.clear();
    w.pubacks.clear();
    w.early_acks.clear();
    w.deliveries = None;
}

/// vCD's MQTT broker as a [`Bus`].
pub struct MqttBus {
    options: MqttConnectionOptions,
    publisher: tokio::sync::Mutex<Option<Arc<Connection>>>,
}

impl fmt::Debug for MqttBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MqttBus")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl MqttBus {
    /// A bus that connects on first use.
    pub fn new(options: MqttConnectionOptions) -> Self {
        MqttBus {
            options,
            publisher: tokio::sync::Mutex::new(None),
        }
    }

    /// The connection options.
    pub fn options(&self) -> &MqttConnectionOptions {
        &self.options
    }

    async fn publisher(&self) -> Result<Arc<Connection>, BusError> {
        let mut guard = self.publisher.lock().await;
        if let Some(c) = guard.as_ref()
            && !c.is_closed()
        {
            return Ok(Arc::clone(c));
        }
        *guard = None;
        let (connection, _) = Connection::open(&self.options, None).await?;
        let connection = Arc::new(connection);
        *guard = Some(Arc::clone(&connection));
        Ok(connection)
    }
}

#[async_trait]
impl Bus for MqttBus {
    async fn declare_exchange(&self, _: &str, _: ExchangeOptions) -> Result<(), BusError> {
        Ok(())
    }

    async fn declare_queue(&self, _: &str, _: QueueOptions) -> Result<(), BusError> {
        Ok(())
    }

    async fn delete_queue(&self, _: &str) -> Result<(), BusError> {
        Ok(())
    }

    async fn delete_exchange(&self, _: &str) -> Result<(), BusError> {
        Ok(())
    }

    async fn bind_queue(&self, _: &str, _: &str, _: &str) -> Result<(), BusError> {
        Ok(())
    }

    async fn publish(
        &self,
        _exchange: &str,
        topic: &str,
        message: Message,
    ) -> Result<(), BusError> {
        let connection = self.publisher().await?;
        let result = connection
            .publish(topic, message.body, self.options.publish_timeout)
            .await;
        if result.is_err() {
            // The next publish opens a new connection.
            let mut guard = self.publisher.lock().await;
            if guard.as_ref().is_some_and(|c| Arc::ptr_eq(c, &connection)) {
                *guard = None;
            }
        }
        result
    }

    async fn consume(
        &self,
        topic: &str,
        options: ConsumeOptions,
    ) -> Result<Box<dyn Consumer>, BusError> {
        let (connection, deliveries) = Connection::open(&self.options, Some(topic)).await?;
        let deliveries = deliveries.ok_or_else(|| lost("no delivery stream"))?;
        Ok(Box::new(MqttConsumer {
            connection: Arc::new(connection),
            deliveries,
            topic: topic.to_owned(),
            auto_ack: options.auto_ack,
            next_tag: 0,
        }))
    }
}

struct MqttConsumer {
    connection: Arc<Connection>,
    deliveries: mpsc::Receiver<Publish>,
    topic: String,
    auto_ack: bool,
    next_tag: u64,
}

#[async_trait]
impl Consumer for MqttConsumer {
    async fn next(&mut self) -> Option<Delivery> {
        let publish = self.deliveries.recv().await?;
        self.next_tag += 1;
        if self.auto_ack {
            let _ = self.connection.client.ack(&publish).await;
        }
        let message = Message::new(publish.payload.clone());
        Some(Delivery::new(
            message,
            publish.dup,
            String::new(),
            publish.topic.clone(),
            self.next_tag,
            Box::new(MqttAck {
                connection: Arc::clone(&self.connection),
                publish,
                tag: self.next_tag,
                done: self.auto_ack.into(),
            }),
        ))
    }

    async fn cancel(&mut self) -> Result<(), BusError> {
        self.connection
            .client
            .unsubscribe(self.topic.clone())
            .await
            .map_err(|e| lost(&e.to_string()))
    }
}

struct MqttAck {
    connection: Arc<Connection>,
    publish: Publish,
    tag: u64,
    done: std::sync::atomic::AtomicBool,
}

impl MqttAck {
    async fn puback(&self) -> Result<(), BusError> {
        if self.done.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return Ok(());
        }
        if self.connection.is_closed() {
            return Err(BusError::ChannelClosed(self.tag));
        }
        self.connection
            .client
            .ack(&self.publish)
            .await
            .map_err(|_| BusError::ChannelClosed(self.tag))
    }
}

#[async_trait]
impl Acknowledger for MqttAck {
    async fn ack(&self) -> Result<(), BusError> {
        self.puback().await
    }

    async fn nack(&self, requeue: bool) -> Result<(), BusError> {
        if requeue {
            // No negative acknowledgement in MQTT 3.1.1: left unacknowledged,
            // the message is handed out again once this connection ends.
            Ok(())
        } else {
            self.puback().await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_url_follows_the_vcd_url() {
        let o = MqttConnectionOptions::for_vcd("https://vcd.example:8443/", "v/n/1", "t");
        assert_eq!(o.url, "wss://vcd.example:8443/messaging/mqtt");
        let o = MqttConnectionOptions::for_vcd("http://127.0.0.1:1", "v/n/1", "t");
        assert_eq!(o.url, "ws://127.0.0.1:1/messaging/mqtt");
        let o = MqttConnectionOptions::for_vcd("vcd.example", "v/n/1", "t");
        assert_eq!(o.url, "wss://vcd.example/messaging/mqtt");
    }

    #[test]
    fn the_token_never_shows_in_debug_output() {
        let o = MqttConnectionOptions::for_vcd("https://vcd", "v/n/1", "s3cr3t-ext-token");
        assert!(!format!("{o:?}").contains("s3cr3t-ext-token"));
        assert!(!format!("{:?}", MqttBus::new(o)).contains("s3cr3t-ext-token"));
    }

    #[test]
    fn other_schemes_are_refused() {
        let mut o = MqttConnectionOptions::for_vcd("https://vcd", "v/n/1", "t");
        o.url = "mqtt://vcd:1883".into();
        assert!(matches!(
            o.client_options(),
            Err(BusError::InvalidOptions(_))
        ));
    }
}
