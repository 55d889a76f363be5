//! `cse run`: validate the configuration, check the installation (unless
//! skipped), take over operations a crashed server left behind, start the
//! AMQP listeners and serve until a graceful stop (`PUT /api/cse/system`
//! `{"stopped": true}`) or SIGINT/SIGTERM; in-flight operations finish within
//! `timeouts.shutdown_grace`. Logs are structured `tracing` events (one span
//! per request carrying its request id); secrets never reach them.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use cse_core::config::Config;

use crate::server::{ServeOptions, serve, state_dir_of};

/// Arguments of `cse run`.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Config file (default: $CSE_CONFIG, else config.yaml).
    #[arg(
        short = 'c',
        long = "config",
        env = "CSE_CONFIG",
        default_value = "config.yaml"
    )]
    pub config: PathBuf,
    /// Skip the installation check.
    #[arg(short = 's', long = "skip-check")]
    pub skip_check: bool,
}

/// Structured logs to stderr; `RUST_LOG` filters (default `info`),
/// `CSE_LOG_FORMAT=json` for JSON lines.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,lapin=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = if std::env::var("CSE_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    if result.is_err() {
        tracing::debug!("a logger was already installed");
    }
}

/// Runs the server until it is stopped: vCD's MQTT bus with an `mqtt`
/// section, else RabbitMQ from the config's `amqp` section, reply journal in `cse-state/` (0700) next to the config file, stop on
/// SIGINT/SIGTERM or through the API.
pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    let mut config = Config::load(&args.config)
        .with_context(|| format!("invalid configuration {}", args.config.display()))?;
    crate::cli::mqtt::fill_token(&mut config, &args.config).map_err(|e| anyhow::anyhow!("{e}"))?;
    let state_dir = state_dir_of(&args.config)?;
    let bus: Arc<dyn cse_bus::Bus> =
        match crate::amqp::mqtt_bus(&config).context("invalid vcd.host for the MQTT broker")? {
            Some(mqtt) => Arc::new(mqtt),
            None => Arc::new(cse_bus::RabbitBus::new(crate::amqp::connection_options(
                &config.amqp,
            ))),
        };
    let options = ServeOptions {
        config_file: args.config.display().to_string(),
        skip_check: args.skip_check,
        state_dir,
        ready: None,
    };
    serve(config, bus, options, wait_for_signal()).await
}

async fn wait_for_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("cannot listen for SIGTERM")?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result.context("cannot listen for SIGINT"),
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c()
            .await
            .context("cannot listen for Ctrl+C")
    }
}
