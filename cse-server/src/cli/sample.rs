//! `cse sample [--transport amqp|mqtt]`: prints a valid configuration with the
//! original sample values (`amqp`, the 1.2.x output, byte for byte) or its
//! MQTT variant (an `mqtt` section in place of `amqp`).

use std::io::Write;

use super::error::CliError;

/// The transport of the sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum SampleTransport {
    /// RabbitMQ (the 1.2.x sample).
    #[default]
    Amqp,
    /// vCD's MQTT extension bus (vCD 10.2+).
    Mqtt,
}

/// Arguments of `cse sample`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SampleArgs {
    /// Which transport section the sample has.
    #[arg(long = "transport", value_enum, default_value = "amqp")]
    pub transport: SampleTransport,
}

/// Writes the sample configuration to `out`.
pub fn run(args: &SampleArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let text = match args.transport {
        SampleTransport::Amqp => cse_core::config::sample_config(),
        SampleTransport::Mqtt => cse_core::config::sample_mqtt_config(),
    };
    out.write_all(text.as_bytes())
        .map_err(|e| CliError::io("writing the sample", e))
}
