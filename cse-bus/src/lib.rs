//! The message bus between vCD and CSE: a small trait (publish, consume,
//! ack/nack/requeue, reply) with a RabbitMQ implementation (lapin) and an
//! in-memory implementation with the same semantics, plus test helpers.
//!
//! Module map:
//! - [`message`]: messages, AMQP properties and headers, the reply rule.
//! - [`bus`]: the [`Bus`] and [`Consumer`] traits and [`Delivery`].
//! - [`memory`]: the in-memory broker (direct exchanges, queues, redelivery).
//! - [`rabbit`]: the lapin implementation with connection options (vhost, TLS).
//! - [`mqtt`]: vCD's MQTT extension bus (10.2+) over secure websockets (rumqttc).
//! - [`backoff`]: the reconnect delay policy.
//! - [`testing`], [`tls`]: broker discovery for tests, the rustls provider.

pub mod backoff;
pub mod bus;
pub mod error;
pub mod memory;
pub mod message;
pub mod mqtt;
pub mod rabbit;
pub mod testing;
pub mod tls;

pub use backoff::Backoff;
pub use bus::{
    Acknowledger, Bus, ConsumeOptions, Consumer, Delivery, ExchangeOptions, QueueOptions, reply,
};
pub use error::BusError;
pub use memory::{MemoryBroker, MemoryBus};
pub use message::{HeaderValue, Message, Properties, REPLY_TO_EXCHANGE_HEADER};
pub use mqtt::{MqttBus, MqttConnectionOptions};
pub use rabbit::{ConnectionOptions, RabbitBus};
