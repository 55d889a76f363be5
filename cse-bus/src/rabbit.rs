//! The RabbitMQ implementation of [`Bus`] over lapin.
//!
//! A [`RabbitBus`] is one AMQP connection, opened on first use and opened
//! again by the next operation after it was lost (callers retry with a
//! [`crate::Backoff`]). Declarations run on a short-lived channel each (a
//! failed passive declare closes its channel); publishing uses one channel in
//! confirm mode, so `publish` returns only once the broker has the message;
//! each consumer has a channel of its own with its prefetch bound
//! (`basic.qos`), so closing it requeues exactly its unacknowledged deliveries.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures_lite::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicNackOptions,
    BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions, ExchangeDeclareOptions,
    QueueBindOptions, QueueDeclareOptions,
};
use lapin::protocol::{AMQPErrorKind, AMQPSoftError};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::uri::{AMQPAuthority, AMQPQueryString, AMQPScheme, AMQPUri, AMQPUserInfo};
use lapin::{BasicProperties, Confirmation, Connection, ConnectionProperties, ExchangeKind};
use tokio::sync::Mutex;

use crate::bus::{
    Acknowledger, Bus, ConsumeOptions, Consumer, Delivery, ExchangeOptions, QueueOptions,
};
use crate::error::BusError;
use crate::message::{HeaderValue, Message, Properties};

/// Where and how to connect: the `amqp.*` keys of CSE's config.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectionOptions {
    /// Broker host.
    pub host: String,
    /// Broker port.
    pub port: u16,
    /// User name.
    pub username: String,
    /// Password (never logged).
    pub password: String,
    /// Virtual host, e.g. `/`.
    pub vhost: String,
    /// AMQP over TLS (`amqp.ssl`).
    pub tls: bool,
    /// PEM CA certificates to trust for TLS besides the platform's roots.
    pub ca_certificates_pem: Option<String>,
    /// Heartbeat interval in seconds (None = the broker's proposal).
    pub heartbeat: Option<u16>,
    /// How long to wait for a connection to open.
    pub connect_timeout: Duration,
    /// Connection name shown by the broker's management tools.
    pub connection_name: Option<String>,
}

impl fmt::Debug for ConnectionOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionOptions")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("vhost", &self.vhost)
            .field("tls", &self.tls)
            .field("ca_certificates_pem", &self.ca_certificates_pem.is_some())
            .field("heartbeat", &self.heartbeat)
            .field("connect_timeout", &self.connect_timeout)
            .field("connection_name", &self.connection_name)
            .finish()
    }
}

impl ConnectionOptions {
    /// Options for `host:port` with guest credentials on vhost `/`, no TLS.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        ConnectionOptions {
            host: host.into(),
            port,
            username: "guest".into(),
            password: "guest".into(),
            vhost: "/".into(),
            tls: false,
            ca_certificates_pem: None,
            heartbeat: Some(10),
            connect_timeout: Duration::from_secs(5),
            connection_name: None,
        }
    }

    /// Parses `amqp[s]://user:pass@host:port/vhost` (vhost percent-encoded, `%2f` = `/`).
    pub fn from_url(url: &str) -> Result<Self, BusError> {
        let uri: AMQPUri = url
            .parse()
            .map_err(|e: String| BusError::InvalidOptions(format!("{e} (in the broker URL)")))?;
        Ok(ConnectionOptions {
            host: uri.authority.host,
            port: uri.authority.port,
            username: uri.authority.userinfo.username,
            password: uri.authority.userinfo.password,
            vhost: uri.vhost,
            tls: uri.scheme == AMQPScheme::AMQPS,
            ca_certificates_pem: None,
            heartbeat: uri.query.heartbeat.or(Some(10)),
            connect_timeout: Duration::from_secs(5),
            connection_name: None,
        })
    }

    /// `host:port/vhost`, for messages (no credentials).
    pub fn address(&self) -> String {
        let scheme = if self.tls { "amqps" } else { "amqp" };
        format!("{scheme}://{}:{}/{}", self.host, self.port, self.vhost)
    }

    fn uri(&self) -> AMQPUri {
        AMQPUri {
            scheme: if self.tls {
                AMQPScheme::AMQPS
            } else {
                AMQPScheme::AMQP
            },
            authority: AMQPAuthority {
                userinfo: AMQPUserInfo {
                    username: self.username.clone(),
                    password: self.password.clone(),
                },
                host: self.host.clone(),
                port: self.port,
            },
            vhost: self.vhost.clone(),
            query: AMQPQueryString {
                heartbeat: self.heartbeat,
                connection_timeout: Some(
                    u64::try_from(self.connect_timeout.as_millis()).unwrap_or(u64::MAX),
                ),
                ..Default::default()
            },
        }
    }
}

struct Live {
    connection: Arc<Connection>,
    publisher: Option<lapin::Channel>,
}

/// A lapin connection to RabbitMQ that reopens itself on demand.
pub struct RabbitBus {
    options: ConnectionOptions,
    live: Mutex<Option<Live>>,
}

impl RabbitBus {
    /// A bus for these options; nothing is opened until the first operation.
    pub fn new(options: ConnectionOptions) -> Self {
        RabbitBus {
            options,
            live: Mutex::new(None),
        }
    }

    /// A bus for an `amqp://` URL.
    pub fn from_url(url: &str) -> Result<Self, BusError> {
        Ok(Self::new(ConnectionOptions::from_url(url)?))
    }

    /// The options this bus connects with.
    pub fn options(&self) -> &ConnectionOptions {
        &self.options
    }

    /// Closes the connection (unacknowledged deliveries are requeued by the broker).
    pub async fn close(&self) {
        if let Some(live) = self.live.lock().await.take() {
            let _ = live.connection.close(200, "closing".into()).await;
        }
    }

    async fn open(&self) -> Result<Connection, BusError> {
        crate::tls::install_crypto_provider();
        let mut properties = ConnectionProperties::default();
        if let Some(name) = &self.options.connection_name {
            properties = properties.with_connection_name(LongString::from(name.as_str()));
        }
        let tls = lapin::tcp::OwnedTLSConfig {
            identity: None,
            cert_chain: self.options.ca_certificates_pem.clone(),
        };
        let connect = Connection::connect_uri_with_config(
            self.options.uri(),
            properties,
            tls,
            async_rs::Runtime::tokio_current(),
        );
        let fail = |reason: String| BusError::Connect {
            address: self.options.address(),
            reason,
        };
        match tokio::time::timeout(
            self.options.connect_timeout + Duration::from_secs(1),
            connect,
        )
        .await
        {
            Ok(Ok(connection)) => Ok(connection),
            Ok(Err(e)) => Err(fail(e.to_string())),
            Err(_) => Err(fail(format!(
                "no answer within {} s",
                self.options.connect_timeout.as_secs()
            ))),
        }
    }

    /// The live connection, opening one when there is none or it was lost.
    async fn connection(&self) -> Result<Arc<Connection>, BusError> {
        let mut live = self.live.lock().await;
        if let Some(l) = live.as_ref()
            && l.connection.status().connected()
        {
            return Ok(l.connection.clone());
        }
        *live = None;
        let connection = Arc::new(self.open().await?);
        tracing::debug!(address = %self.options.address(), "AMQP connection opened");
        *live = Some(Live {
            connection: connection.clone(),
            publisher: None,
        });
        Ok(connection)
    }

    async fn channel(&self) -> Result<lapin::Channel, BusError> {
        let connection = self.connection().await?;
        connection
            .create_channel()
            .await
            .map_err(|e| map_error(e, "opening a channel", || None))
    }

    /// The confirm-mode publishing channel, (re)opened when needed.
    async fn publisher(&self) -> Result<lapin::Channel, BusError> {
        let connection = self.connection().await?;
        let mut live = self.live.lock().await;
        let Some(l) = live.as_mut() else {
            return Err(BusError::ConnectionLost("connection closed".into()));
        };
        if !Arc::ptr_eq(&l.connection, &connection) {
            return Err(BusError::ConnectionLost("connection replaced".into()));
        }
        if let Some(ch) = &l.publisher
            && ch.status().connected()
        {
            return Ok(ch.clone());
        }
        let ch = connection
            .create_channel()
            .await
            .map_err(|e| map_error(e, "opening the publishing channel", || None))?;
        ch.confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(|e| map_error(e, "enabling publisher confirms", || None))?;
        l.publisher = Some(ch.clone());
        Ok(ch)
    }

    async fn with_temp_channel<F, Fut>(&self, f: F) -> Result<(), BusError>
    where
        F: FnOnce(lapin::Channel) -> Fut,
        Fut: std::future::Future<Output = Result<(), BusError>>,
    {
        let ch = self.channel().await?;
        let result = f(ch.clone()).await;
        if ch.status().connected() {
            let _ = ch.close(200, "done".into()).await;
        }
        result
    }
}

/// Maps a lapin error: connection-level problems become `ConnectionLost`, a
/// 404 becomes what `not_found` says, other broker refusals `Refused`.
fn map_error(
    e: lapin::Error,
    operation: &str,
    not_found: impl FnOnce() -> Option<BusError>,
) -> BusError {
    match e.kind() {
        lapin::ErrorKind::ProtocolError(amqp) => match amqp.kind() {
            AMQPErrorKind::Soft(AMQPSoftError::NOTFOUND) => {
                not_found().unwrap_or_else(|| BusError::Refused {
                    operation: operation.to_owned(),
                    reason: amqp.get_message().to_string(),
                })
            }
            AMQPErrorKind::Soft(_) => BusError::Refused {
                operation: operation.to_owned(),
                reason: amqp.get_message().to_string(),
            },
            AMQPErrorKind::Hard(_) => BusError::ConnectionLost(e.to_string()),
        },
        _ => BusError::ConnectionLost(format!("{operation}: {e}")),
    }
}

fn to_lapin_properties(p: &Properties) -> BasicProperties {
    let mut out = BasicProperties::default();
    if let Some(v) = &p.content_type {
        out = out.with_content_type(v.as_str().into());
    }
    if let Some(v) = &p.correlation_id {
        out = out.with_correlation_id(v.as_str().into());
    }
    if let Some(v) = &p.reply_to {
        out = out.with_reply_to(v.as_str().into());
    }
    if let Some(v) = &p.message_id {
        out = out.with_message_id(v.as_str().into());
    }
    if let Some(v) = &p.app_id {
        out = out.with_app_id(v.as_str().into());
    }
    if let Some(v) = p.delivery_mode {
        out = out.with_delivery_mode(v);
    }
    if let Some(v) = p.priority {
        out = out.with_priority(v);
    }
    if !p.headers.is_empty() {
        let mut table = FieldTable::default();
        for (k, v) in &p.headers {
            let value = match v {
                HeaderValue::Str(s) => AMQPValue::LongString(s.as_str().into()),
                HeaderValue::Int(i) => AMQPValue::LongLongInt(*i),
                HeaderValue::Bool(b) => AMQPValue::Boolean(*b),
            };
            table.insert(ShortString::from(k.as_str()), value);
        }
        out = out.with_headers(table);
    }
    out
}

fn from_lapin_properties(p: &BasicProperties) -> Properties {
    let s = |v: &Option<ShortString>| v.as_ref().map(|v| v.to_string());
    let mut headers = BTreeMap::new();
    if let Some(table) = p.headers() {
        for (k, v) in table.inner() {
            let value = match v {
                AMQPValue::LongString(s) => HeaderValue::Str(s.to_string()),
                AMQPValue::ShortString(s) => HeaderValue::Str(s.to_string()),
                AMQPValue::Boolean(b) => HeaderValue::Bool(*b),
                AMQPValue::ShortShortInt(i) => HeaderValue::Int(i64::from(*i)),
                AMQPValue::ShortShortUInt(i) => HeaderValue::Int(i64::from(*i)),
                AMQPValue::ShortInt(i) => HeaderValue::Int(i64::from(*i)),
                AMQPValue::ShortUInt(i) => HeaderValue::Int(i64::from(*i)),
                AMQPValue::LongInt(i) => HeaderValue::Int(i64::from(*i)),
                AMQPValue::LongUInt(i) => HeaderValue::Int(i64::from(*i)),
                AMQPValue::LongLongInt(i) => HeaderValue::Int(*i),
                AMQPValue::Timestamp(t) => HeaderValue::Int(i64::try_from(*t).unwrap_or(i64::MAX)),
                _ => continue,
            };
            headers.insert(k.to_string(), value);
        }
    }
    Properties {
        content_type: s(p.content_type()),
        correlation_id: s(p.correlation_id()),
        reply_to: s(p.reply_to()),
        message_id: s(p.message_id()),
        app_id: s(p.app_id()),
        delivery_mode: *p.delivery_mode(),
        priority: *p.priority(),
        headers,
    }
}

#[async_trait]
impl Bus for RabbitBus {
    async fn declare_exchange(&self, name: &str, options: ExchangeOptions) -> Result<(), BusError> {
        self.with_temp_channel(|ch| async move {
            ch.exchange_declare(
                name.into(),
                ExchangeKind::Direct,
                ExchangeDeclareOptions {
                    passive: options.passive,
                    durable: options.durable,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .map_err(|e| {
                map_error(e, &format!("declaring exchange '{name}'"), || {
                    Some(BusError::ExchangeNotFound(name.to_owned()))
                })
            })
        })
        .await
    }

    async fn declare_queue(&self, name: &str, options: QueueOptions) -> Result<(), BusError> {
        let QueueOptions {
            durable,
            exclusive,
            auto_delete,
        } = options;
        self.with_temp_channel(|ch| async move {
            ch.queue_declare(
                name.into(),
                QueueDeclareOptions {
                    durable,
                    exclusive,
                    auto_delete,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .map(|_| ())
            .map_err(|e| map_error(e, &format!("declaring queue '{name}'"), || None))
        })
        .await
    }

    async fn delete_queue(&self, name: &str) -> Result<(), BusError> {
        self.with_temp_channel(|ch| async move {
            ch.queue_delete(name.into(), Default::default())
                .await
                .map(|_| ())
                .map_err(|e| map_error(e, &format!("deleting queue '{name}'"), || None))
        })
        .await
    }

    async fn delete_exchange(&self, name: &str) -> Result<(), BusError> {
        self.with_temp_channel(|ch| async move {
            ch.exchange_delete(name.into(), Default::default())
                .await
                .map_err(|e| map_error(e, &format!("deleting exchange '{name}'"), || None))
        })
        .await
    }

    async fn bind_queue(
        &self,
        queue: &str,
        exchange: &str,
        routing_key: &str,
    ) -> Result<(), BusError> {
        self.with_temp_channel(|ch| async move {
            ch.queue_bind(
                queue.into(),
                exchange.into(),
                routing_key.into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(|e| {
                map_error(
                    e,
                    &format!("binding queue '{queue}' to exchange '{exchange}'"),
                    || None,
                )
            })
        })
        .await
    }

    async fn publish(
        &self,
        exchange: &str,
        routing_key: &str,
        message: Message,
    ) -> Result<(), BusError> {
        let ch = self.publisher().await?;
        let operation = format!("publishing to exchange '{exchange}'");
        let confirm = ch
            .basic_publish(
                exchange.into(),
                routing_key.into(),
                BasicPublishOptions::default(),
                &message.body,
                to_lapin_properties(&message.properties),
            )
            .await
            .map_err(|e| map_error(e, &operation, || None))?;
        match confirm.await {
            Ok(Confirmation::Ack(_)) | Ok(Confirmation::NotRequested) => Ok(()),
            Ok(Confirmation::Nack(_)) => Err(BusError::Refused {
                operation,
                reason: "the broker did not accept the message (nack)".into(),
            }),
            // A publish to a missing exchange closes the channel with 404.
            Err(e) => Err(map_error(e, &operation, || {
                Some(BusError::ExchangeNotFound(exchange.to_owned()))
            })),
        }
    }

    async fn consume(
        &self,
        queue: &str,
        options: ConsumeOptions,
    ) -> Result<Box<dyn Consumer>, BusError> {
        let ch = self.channel().await?;
        if options.prefetch > 0 {
            ch.basic_qos(options.prefetch, BasicQosOptions::default())
                .await
                .map_err(|e| map_error(e, "setting the prefetch bound", || None))?;
        }
        let consumer = ch
            .basic_consume(
                queue.into(),
                options.tag.as_str().into(),
                BasicConsumeOptions {
                    no_ack: options.auto_ack,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .map_err(|e| {
                map_error(e, &format!("consuming from queue '{queue}'"), || {
                    Some(BusError::QueueNotFound(queue.to_owned()))
                })
            })?;
        Ok(Box::new(RabbitConsumer {
            channel: ch,
            tag: consumer.tag(),
            consumer,
            cancelled: false,
        }))
    }
}

struct RabbitConsumer {
    channel: lapin::Channel,
    consumer: lapin::Consumer,
    tag: ShortString,
    cancelled: bool,
}

#[async_trait]
impl Consumer for RabbitConsumer {
    async fn next(&mut self) -> Option<Delivery> {
        if self.cancelled {
            return None;
        }
        match self.consumer.next().await {
            Some(Ok(d)) => {
                let tag = d.delivery_tag;
                Some(Delivery::new(
                    Message {
                        body: d.data.into(),
                        properties: from_lapin_properties(&d.properties),
                    },
                    d.redelivered,
                    d.exchange.to_string(),
                    d.routing_key.to_string(),
                    tag,
                    Box::new(RabbitAcker {
                        acker: d.acker,
                        tag,
                    }),
                ))
            }
            Some(Err(e)) => {
                tracing::warn!(error = %e, "AMQP consumer ended");
                None
            }
            None => None,
        }
    }

    async fn cancel(&mut self) -> Result<(), BusError> {
        self.cancelled = true;
        self.channel
            .basic_cancel(self.tag.clone(), BasicCancelOptions::default())
            .await
            .map_err(|e| map_error(e, "cancelling the consumer", || None))
    }
}

impl Drop for RabbitConsumer {
    fn drop(&mut self) {
        // Closing the channel returns its unacknowledged deliveries to the queue.
        if self.channel.status().connected()
            && let Ok(handle) = tokio::runtime::Handle::try_current()
        {
            let channel = self.channel.clone();
            handle.spawn(async move {
                let _ = channel.close(200, "consumer dropped".into()).await;
            });
        }
    }
}

struct RabbitAcker {
    acker: lapin::Acker,
    tag: u64,
}

fn settle_error(e: lapin::Error, tag: u64) -> BusError {
    match map_error(e, "settling a delivery", || None) {
        BusError::ConnectionLost(_) => BusError::ChannelClosed(tag),
        other => other,
    }
}

#[async_trait]
impl Acknowledger for RabbitAcker {
    async fn ack(&self) -> Result<(), BusError> {
        self.acker
            .ack(BasicAckOptions::default())
            .await
            .map(|_| ())
            .map_err(|e| settle_error(e, self.tag))
    }

    async fn nack(&self, requeue: bool) -> Result<(), BusError> {
        self.acker
            .nack(BasicNackOptions {
                requeue,
                ..Default::default()
            })
            .await
            .map(|_| ())
            .map_err(|e| settle_error(e, self.tag))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_parsing_and_redacted_debug() {
        let o = ConnectionOptions::from_url("amqps://cse:s3cret@rabbit.example:5671/cse-vhost")
            .unwrap();
        assert_eq!(o.host, "rabbit.example");
        assert_eq!(o.port, 5671);
        assert_eq!(o.username, "cse");
        assert_eq!(o.vhost, "cse-vhost");
        assert!(o.tls);
        let dbg = format!("{o:?}");
        assert!(!dbg.contains("s3cret"), "{dbg}");
        assert_eq!(o.address(), "amqps://rabbit.example:5671/cse-vhost");
        let d = ConnectionOptions::from_url("amqp://guest:guest@127.0.0.1:5672/%2f").unwrap();
        assert_eq!(d.vhost, "/");
        assert!(!d.tls);
    }

    #[test]
    fn bad_url_is_a_typed_error() {
        assert!(matches!(
            ConnectionOptions::from_url("http://x"),
            Err(BusError::InvalidOptions(_))
        ));
    }

    #[test]
    fn properties_round_trip_through_lapin() {
        let p = Message::new("")
            .with_correlation_id("c")
            .with_reply_to("r")
            .with_content_type("application/octet-stream")
            .with_delivery_mode(1)
            .with_header("replyToExchange", "vcd.replyExchange")
            .with_header("replyByTimestamp", 1_543_838_400_000_i64)
            .with_header("flag", true)
            .properties;
        assert_eq!(from_lapin_properties(&to_lapin_properties(&p)), p);
    }

    #[tokio::test]
    async fn unreachable_broker_is_a_connect_error() {
        let mut options = ConnectionOptions::new("127.0.0.1", 1);
        options.connect_timeout = Duration::from_secs(1);
        let bus = RabbitBus::new(options);
        let err = bus
            .publish("x", "y", Message::new("z"))
            .await
            .expect_err("nothing listens on port 1");
        assert!(matches!(err, BusError::Connect { .. }), "{err}");
        assert!(err.is_connection_error());
    }
}
