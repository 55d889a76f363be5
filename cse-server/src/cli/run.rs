//! `cse run`: validate the configuration, check the installation (unless
//! skipped), take over operations a crashed server left behind, start the
//! AMQP listeners and serve until a graceful stop (`PUT /api/cse/system`
//! `{"stopped": true}`) or SIGINT/SIGTERM; in-flight operations finish within
//! `timeouts.shutdown_grace`. Logs are structured `tracing` events (one span
//! per request carrying its request id); secrets never reach them.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use anyhow::Context as _;
use cse_core::config::Config;

use crate::handlers::{Context, Operations};
use crate::ops::{resume, steps};
use crate::service::Service;

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

/// Checks that vCD accepts the system administrator and that every
/// configured template is in the catalog.
pub async fn check_installation(context: &Context) -> anyhow::Result<()> {
    let admin = context
        .admin()
        .await
        .map_err(|e| anyhow::anyhow!("cannot log in to vCD as the system administrator: {e}"))?;
    for template in &context.config.broker.templates {
        steps::template_vm(context, &admin, template)
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "template '{}' is not installed in catalog '{}' ({e}); run `cse install`",
                    template.name,
                    context.config.broker.catalog
                )
            })?;
    }
    Ok(())
}

/// Runs the server until it is stopped: RabbitMQ from the config's `amqp`
/// section, reply journal in `cse-state/` (0700) next to the config file, stop on
/// SIGINT/SIGTERM or through the API.
pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    let config = Config::load(&args.config)
        .with_context(|| format!("invalid configuration {}", args.config.display()))?;
    let state_dir = state_dir_of(&args.config)?;
    let bus = Arc::new(cse_bus::RabbitBus::new(crate::amqp::connection_options(
        &config.amqp,
    )));
    let options = ServeOptions {
        config_file: args.config.display().to_string(),
        skip_check: args.skip_check,
        state_dir,
        ready: None,
    };
    serve(config, bus, options, wait_for_signal()).await
}

/// Name of the state directory next to the config file.
pub const STATE_DIR: &str = "cse-state";

/// The state directory of `cse run`: `cse-state/` next to the config file, created 0700 (an
/// existing one is tightened to 0700). It holds the reply journal, so a directory that
/// cannot be made private (another user's) stops the server with a message naming it
/// instead of leaving replies readable by others.
pub fn state_dir_of(config_file: &std::path::Path) -> anyhow::Result<Option<PathBuf>> {
    let dir = config_file
        .parent()
        .unwrap_or(std::path::Path::new(""))
        .join(STATE_DIR);
    cse_core::config::create_private_dir(&dir).context("cannot prepare the state directory")?;
    Ok(Some(dir))
}

/// How [`serve`] runs besides its config.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// The config file's path, as `GET /api/cse/system` reports it.
    pub config_file: String,
    /// Skip the installation check.
    pub skip_check: bool,
    /// Where the reply journal lives (in memory when `None`).
    pub state_dir: Option<PathBuf>,
    /// Notified once every listener consumes (embedders wait on it before
    /// sending requests; a request published before the queue exists is lost).
    pub ready: Option<Arc<tokio::sync::Notify>>,
}

/// Serves `config` on `bus` until a graceful stop through the API or until
/// `signal` completes (an error from it is returned after stopping), then
/// stops the listeners and lets running operations finish within
/// `timeouts.shutdown_grace`. `cse run` and embedded deployments (the
/// scenario runner's simulator target) share it.
pub async fn serve(
    config: Config,
    bus: Arc<dyn cse_bus::Bus>,
    options: ServeOptions,
    signal: impl std::future::Future<Output = anyhow::Result<()>>,
) -> anyhow::Result<()> {
    for warning in config.warnings() {
        tracing::warn!("{warning}");
    }
    let context = Arc::new(
        Context::new(config.clone(), options.config_file.clone())
            .context("cannot set up the vCD client")?,
    );
    if options.skip_check {
        tracing::info!("installation check skipped");
    } else {
        check_installation(&context).await?;
        tracing::info!("installation check passed");
    }
    let handler = Arc::new(Service::with_all_routes(Arc::new(Operations::new(
        context.clone(),
    ))));
    let pool = crate::amqp::start_on_bus(&config, bus, handler, options.state_dir.as_deref())
        .context("cannot open the reply journal")?;
    if let Some(ready) = &options.ready {
        let connected = pool
            .wait_connected(config.timeouts.broker_reconnect_max.duration() * 4)
            .await;
        if !connected {
            tracing::warn!("listeners not connected yet; serving anyway while they retry");
        }
        ready.notify_one();
    }
    context
        .consumer_threads
        .store(u64::from(config.service.listeners), Ordering::SeqCst);
    tracing::info!(
        config = %options.config_file,
        exchange = %config.amqp.exchange,
        routing_key = %config.amqp.routing_key,
        "CSE {} serving; press Ctrl+C to stop",
        cse_core::CSE_VERSION
    );

    // Finish what crashed servers left behind, now and whenever a lease lapses.
    let resuming = context.clone();
    let every = config.timeouts.lease_ttl.duration();
    tokio::spawn(async move {
        loop {
            if resuming.system.stop_requested() {
                return;
            }
            match resume::resume(&resuming).await {
                Ok(report) if report != resume::ResumeReport::default() => tracing::info!(
                    taken_over = report.taken_over,
                    orphan_tasks = report.orphan_tasks,
                    "interrupted operations finished"
                ),
                Ok(_) => {}
                Err(error) => tracing::error!("cannot finish interrupted operations: {error}"),
            }
            tokio::time::sleep(every).await;
        }
    });

    let mut signal_error = None;
    tokio::select! {
        () = context.system.stopped() => tracing::info!("graceful stop requested through the API"),
        result = signal => {
            match result {
                Ok(()) => tracing::info!("signal received; stopping"),
                Err(error) => {
                    tracing::error!("stopping: {error:#}");
                    signal_error = Some(error);
                }
            }
            context.system.request_stop();
        }
    }
    let grace = config.timeouts.shutdown_grace.duration();
    pool.stop(grace).await;
    context.tracker.close();
    if tokio::time::timeout(grace, context.tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            "operations still running after {grace:?}; their leases lapse and the next server finishes them"
        );
    }
    context.vcenters.logout_all().await;
    tracing::info!("stopped");
    signal_error.map_or(Ok(()), Err)
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
