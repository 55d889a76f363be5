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
    options.heartbeat = Some(amqp.heartbeat);
    options.connection_name = Some(format!("cse {}", cse_core::CSE_VERSION));
    options
}

/// The MQTT bus of the config's `mqtt` section, on the broker of the vCD
/// in `vcd.host` (certificate checked as `vcd.verify` says); `None` without
/// an `mqtt` section.
pub fn mqtt_bus(
    config: &cse_core::config::Config,
) -> Result<Option<cse_bus::MqttBus>, cse_core::config::EndpointError> {
    let Some(mqtt) = &config.mqtt else {
        return Ok(None);
    };
    let mut options = cse_bus::MqttConnectionOptions::for_vcd(
        &config.vcd.base_url()?,
        mqtt.triplet(),
        mqtt.token.expose(),
    );
    options.verify = config.vcd.verify;
    options.client_id_prefix = format!("{}-{}", mqtt.vendor, mqtt.name);
    options.connect_timeout = config.timeouts.http_connect.duration();
    Ok(Some(cse_bus::MqttBus::new(options)))
}

/// Starts the listener pool `cse run` needs on the config's transport: vCD's
/// MQTT bus with an `mqtt` section (its `token` must be filled in; RabbitMQ
/// is never connected to then), else a RabbitMQ connection from the `amqp`
/// section with `service.listeners` consumers and `service.prefetch`, the
/// exchange checked passively (`cse install` creates it); a reply journal in
/// `state_dir` (in memory when `None`: then redeliveries are de-duplicated
/// only within this process).
pub fn start_from_config(
    config: &cse_core::config::Config,
    handler: std::sync::Arc<dyn Handler>,
    state_dir: Option<&std::path::Path>,
) -> anyhow::Result<ListenerPool> {
    let bus: std::sync::Arc<dyn cse_bus::Bus> = match mqtt_bus(config)? {
        Some(mqtt) => std::sync::Arc::new(mqtt),
        None => std::sync::Arc::new(cse_bus::RabbitBus::new(connection_options(&config.amqp))),
    };
    Ok(start_on_bus(config, bus, handler, state_dir)?)
}

/// Like [`start_from_config`] on a bus the caller opened (an embedded
/// deployment's in-memory broker, or a RabbitMQ connection set up elsewhere).
pub fn start_on_bus(
    config: &cse_core::config::Config,
    bus: std::sync::Arc<dyn cse_bus::Bus>,
    handler: std::sync::Arc<dyn Handler>,
    state_dir: Option<&std::path::Path>,
) -> Result<ListenerPool, JournalError> {
    let journal = match state_dir {
        Some(dir) => ReplyJournal::open(dir, journal::DEFAULT_CAPACITY)?,
        None => ReplyJournal::in_memory(journal::DEFAULT_CAPACITY),
    };
    Ok(ListenerPool::start(
        bus,
        ListenerConfig::from_config(config),
        handler,
        journal,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_and_listener_settings_come_from_the_config() {
        let mut config = cse_core::config::sample_model();
        config.amqp.password = cse_core::config::Secret::new("s3cr3t-broker-pw");
        let options = connection_options(&config.amqp);
        assert_eq!(options.host, config.amqp.host);
        assert_eq!(options.port, config.amqp.port);
        assert_eq!(options.vhost, config.amqp.vhost);
        assert_eq!(options.tls, config.amqp.ssl);
        assert_eq!(options.password, config.amqp.password.expose());
        assert!(!format!("{options:?}").contains(config.amqp.password.expose()));
        assert_eq!(options.heartbeat, Some(10), "the default heartbeat");
        config.amqp.heartbeat = 3;
        assert_eq!(connection_options(&config.amqp).heartbeat, Some(3));
        let listeners = ListenerConfig::from_config(&config);
        assert_eq!(listeners.exchange, config.amqp.exchange);
        assert_eq!(listeners.routing_key, config.amqp.routing_key);
        assert_eq!(listeners.listeners, config.service.listeners);
        assert_eq!(listeners.prefetch, config.service.prefetch);
        assert!(listeners.passive_exchange);
    }
}
