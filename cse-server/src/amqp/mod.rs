//! The server's AMQP side: `service.listeners` competing consumers on the
//! queue named after `amqp.routing_key` (bound to `amqp.exchange`), each with
//! a bounded prefetch; every request is dispatched to a [`Handler`], its reply
//! published to the request's `replyToExchange` / `reply_to` with its
//! `correlation_id`, and only then acknowledged. Redeliveries are answered
//! from the [`ReplyJournal`] instead of running twice. Listeners reconnect
//! with backoff when the broker goes away; [`ListenerPool::stop`] stops
//! consuming, lets in-flight requests finish and returns.
//!
//! This differs on purpose from CSE 1.2.x, which acknowledged every message
//! before processing it (a crash lost the request) and set no prefetch.

pub mod handler;
pub mod journal;
pub mod listener;

pub use handler::Handler;
pub use journal::{Claim, Execution, JournalError, ReplyJournal};
pub use listener::{ListenerConfig, ListenerPool, PoolStats};

/// Broker connection options from the config's `amqp` section.
pub fn connection_options(amqp: &cse_core::config::AmqpConfig) -> cse_bus::ConnectionOptions {
    let mut options = cse_bus::ConnectionOptions::new(amqp.host.clone(), amqp.port);
    options.username = amqp.username.clone();
    options.password = amqp.password.expose().to_owned();
    options.vhost = amqp.vhost.clone();
    options.tls = amqp.ssl;
    options.connection_name = Some(format!("cse {}", cse_core::CSE_VERSION));
    options
}
