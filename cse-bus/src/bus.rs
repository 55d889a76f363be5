//! The bus abstraction: declare direct exchanges and queues, bind, publish,
//! consume with a prefetch bound, and settle deliveries (ack, nack with or
//! without requeue). A consumer owns its channel: dropping it (or losing the
//! connection) returns its unacknowledged deliveries to the queue, marked
//! `redelivered`.

use async_trait::async_trait;

use crate::error::BusError;
use crate::message::{Message, Properties, reply_address};
use bytes::Bytes;

/// Options of an exchange declaration. Exchanges are always of type `direct`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExchangeOptions {
    /// Survives a broker restart.
    pub durable: bool,
    /// Only check that the exchange exists (fail with `ExchangeNotFound` otherwise).
    pub passive: bool,
}

impl Default for ExchangeOptions {
    fn default() -> Self {
        ExchangeOptions {
            durable: true,
            passive: false,
        }
    }
}

/// Options of a queue declaration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueOptions {
    /// Survives a broker restart.
    pub durable: bool,
    /// Owned by the declaring connection; deleted when it closes.
    pub exclusive: bool,
    /// Deleted when its last consumer goes away.
    pub auto_delete: bool,
}

/// Options of a consumer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsumeOptions {
    /// Consumer tag (a name for logs; the broker makes one when empty).
    pub tag: String,
    /// Most deliveries outstanding (unacknowledged) at once; 0 = unlimited.
    pub prefetch: u16,
    /// Deliveries count as acknowledged when sent (no redelivery ever).
    pub auto_ack: bool,
}

/// A connection to a broker (or a handle that opens one on demand).
#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Declares a direct exchange (or checks it exists when passive).
    async fn declare_exchange(&self, name: &str, options: ExchangeOptions) -> Result<(), BusError>;
    /// Declares a queue; redeclaring with the same options is a no-op.
    async fn declare_queue(&self, name: &str, options: QueueOptions) -> Result<(), BusError>;
    /// Deletes a queue with its messages (no error when it does not exist).
    async fn delete_queue(&self, name: &str) -> Result<(), BusError>;
    /// Deletes an exchange with its bindings (no error when it does not exist).
    async fn delete_exchange(&self, name: &str) -> Result<(), BusError>;
    /// Binds a queue to a direct exchange under a routing key.
    async fn bind_queue(
        &self,
        queue: &str,
        exchange: &str,
        routing_key: &str,
    ) -> Result<(), BusError>;
    /// Publishes a message and returns once the broker has taken it
    /// (publisher confirm). The default exchange `""` routes to the queue
    /// named by the routing key. A message no queue is bound for is dropped.
    async fn publish(
        &self,
        exchange: &str,
        routing_key: &str,
        message: Message,
    ) -> Result<(), BusError>;
    /// Starts consuming from a queue on a channel of its own.
    async fn consume(
        &self,
        queue: &str,
        options: ConsumeOptions,
    ) -> Result<Box<dyn Consumer>, BusError>;
}

/// A stream of deliveries from one queue.
#[async_trait]
pub trait Consumer: Send {
    /// The next delivery; `None` once the consumer is cancelled or its
    /// connection is gone (reconnect and consume again).
    async fn next(&mut self) -> Option<Delivery>;
    /// Stops new deliveries. Deliveries already handed out can still be
    /// settled until the consumer is dropped; deliveries buffered but not yet
    /// taken are returned to the queue when it is dropped.
    async fn cancel(&mut self) -> Result<(), BusError>;
}

/// Settles one delivery on the channel it came from.
#[async_trait]
pub trait Acknowledger: Send + Sync {
    /// Acknowledges the delivery: the broker forgets the message.
    async fn ack(&self) -> Result<(), BusError>;
    /// Refuses the delivery; with `requeue` the broker hands it out again.
    async fn nack(&self, requeue: bool) -> Result<(), BusError>;
}

/// One message handed to a consumer.
pub struct Delivery {
    /// The message.
    pub message: Message,
    /// The broker handed this message out before (to this or another consumer).
    pub redelivered: bool,
    /// The exchange it was published to.
    pub exchange: String,
    /// The routing key it was published with.
    pub routing_key: String,
    /// Channel-local delivery number.
    pub delivery_tag: u64,
    acknowledger: Box<dyn Acknowledger>,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("delivery_tag", &self.delivery_tag)
            .field("redelivered", &self.redelivered)
            .field("exchange", &self.exchange)
            .field("routing_key", &self.routing_key)
            .field("message", &self.message)
            .finish()
    }
}

impl Delivery {
    /// Assembles a delivery (for bus implementations).
    pub fn new(
        message: Message,
        redelivered: bool,
        exchange: String,
        routing_key: String,
        delivery_tag: u64,
        acknowledger: Box<dyn Acknowledger>,
    ) -> Self {
        Delivery {
            message,
            redelivered,
            exchange,
            routing_key,
            delivery_tag,
            acknowledger,
        }
    }

    /// Acknowledges: the broker forgets the message.
    pub async fn ack(&self) -> Result<(), BusError> {
        self.acknowledger.ack().await
    }

    /// Negative acknowledgement: requeued (marked redelivered) or dropped.
    pub async fn nack(&self, requeue: bool) -> Result<(), BusError> {
        self.acknowledger.nack(requeue).await
    }
}

/// Publishes `body` as the reply to `request`, the way vCD expects it: to the
/// `replyToExchange` header's exchange with routing key `reply_to`, carrying
/// the request's `correlation_id` and nothing else.
pub async fn reply(bus: &dyn Bus, request: &Properties, body: Bytes) -> Result<(), BusError> {
    let (exchange, routing_key) = reply_address(request)?;
    let mut message = Message::new(body);
    message.properties.correlation_id = request.correlation_id.clone();
    bus.publish(&exchange, &routing_key, message).await
}
