//! Errors of the bus layer: one enum for both implementations.

/// What went wrong talking to the broker.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BusError {
    /// No connection could be opened.
    #[error("cannot connect to the AMQP broker at {address}: {reason}")]
    Connect {
        /// `host:port` of the broker.
        address: String,
        /// Why the connection failed.
        reason: String,
    },
    /// The connection (or the channel an operation needs) went away.
    #[error("the connection to the AMQP broker was lost: {0}")]
    ConnectionLost(String),
    /// An exchange named in an operation does not exist.
    #[error("exchange '{0}' does not exist on the broker")]
    ExchangeNotFound(String),
    /// A queue named in an operation does not exist.
    #[error("queue '{0}' does not exist on the broker")]
    QueueNotFound(String),
    /// The broker refused an operation (e.g. redeclaring with other settings).
    #[error("the broker refused {operation}: {reason}")]
    Refused {
        /// What was asked.
        operation: String,
        /// The broker's reason.
        reason: String,
    },
    /// A reply was asked for a message that names no reply queue.
    #[error("the request has no reply_to property, so there is nowhere to send the reply")]
    NoReplyTo,
    /// A delivery can no longer be acknowledged: its channel is closed (the
    /// broker requeues it by itself).
    #[error("delivery {0} cannot be settled: its channel is closed")]
    ChannelClosed(u64),
    /// The connection options are unusable.
    #[error("invalid AMQP connection options: {0}")]
    InvalidOptions(String),
}

impl BusError {
    /// Whether retrying after reconnecting may help (the broker or the network
    /// failed rather than the request).
    pub fn is_connection_error(&self) -> bool {
        matches!(
            self,
            BusError::Connect { .. } | BusError::ConnectionLost(_) | BusError::ChannelClosed(_)
        )
    }
}
