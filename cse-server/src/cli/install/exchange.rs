//! Install step 1: the AMQP exchange vCD publishes to (direct, durable; declared
//! non-passively, so an existing compatible exchange is left as it is).

use cse_bus::ExchangeOptions;

use crate::cli::CliContext;
use crate::cli::check::Validated;
use crate::cli::error::CliError;

/// Declares `amqp.exchange`.
pub async fn ensure(validated: &Validated, ctx: &mut CliContext<'_>) -> Result<(), CliError> {
    let exchange = &validated.config.amqp.exchange;
    let Some(bus) = &validated.bus else {
        return Err(CliError::Missing(
            "no AMQP broker: the config's transport is MQTT".into(),
        ));
    };
    bus.declare_exchange(exchange, ExchangeOptions::default())
        .await
        .map_err(|source| CliError::Exchange {
            exchange: exchange.clone(),
            source: Box::new(source),
        })?;
    ctx.say(format!("AMQP exchange '{exchange}' is ready"));
    Ok(())
}
