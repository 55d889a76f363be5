//! The server as a library function: [`serve`] runs the listeners, the
//! request path and the resume passes on a bus until a graceful stop, for
//! `cse run` (RabbitMQ, signals) and for embedders (the scenario runner's
//! simulator target, tests). The binary only parses arguments.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use anyhow::Context as _;
use cse_core::config::Config;

use crate::context::Context;
use crate::handlers::Operations;
use crate::ops::{resume, steps};
use crate::service::Service;

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

/// The pause between two resume passes: a fifth of `lease_ttl`, so an
/// operation is taken over at most `lease_ttl` (its lease lapsing) plus one
/// jittered pause (at most 0.24 × `lease_ttl`) plus the grace given to a
/// late renewal and the lease claim (each the claim settle, at most
/// `lease_ttl / 8`) after its server died: at most 1.49 × `lease_ttl`,
/// 48.6 s at the defaults (36 s, settle 2 s). A pass costs
/// two vApp queries answering only the clusters with an operation's journal
/// or lease, a metadata read per cluster with a journal and a task query.
pub fn resume_cadence(lease_ttl: std::time::Duration) -> std::time::Duration {
    lease_ttl / 5
}

/// `every` scaled by a factor in 0.8..1.2 from `draw` (0..1).
pub fn jittered(every: std::time::Duration, draw: f64) -> std::time::Duration {
    every.mul_f64(0.8 + 0.4 * draw.clamp(0.0, 1.0))
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
    let listener = crate::amqp::ListenerConfig::from_config(&config);
    tracing::info!(
        config = %options.config_file,
        transport = if config.mqtt.is_some() { "mqtt" } else { "amqp" },
        exchange = %listener.exchange,
        routing_key = %listener.routing_key,
        "CSE {} serving; press Ctrl+C to stop",
        cse_core::CSE_VERSION
    );

    // Finish what crashed servers left behind, now and every fifth of a
    // lease (jittered, so replicas started together drift apart).
    let resuming = context.clone();
    let every = resume_cadence(config.timeouts.lease_ttl.duration());
    tokio::spawn(async move {
        loop {
            if resuming.system.stop_requested() {
                return;
            }
            match resume::resume(&resuming).await {
                Ok(report) if report != resume::ResumeReport::default() => tracing::info!(
                    taken_over = report.taken_over,
                    lost_claims = report.lost_claims,
                    orphan_tasks = report.orphan_tasks,
                    stale_leases = report.stale_leases,
                    "interrupted operations finished"
                ),
                Ok(_) => {}
                Err(error) => tracing::error!("cannot finish interrupted operations: {error}"),
            }
            tokio::time::sleep(jittered(every, rand::random::<f64>())).await;
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn resume_passes_run_five_times_per_lease_with_jitter() {
        let every = resume_cadence(Duration::from_secs(40));
        assert_eq!(every, Duration::from_secs(8));
        assert_eq!(jittered(every, 0.0), Duration::from_millis(6_400));
        assert_eq!(jittered(every, 1.0), Duration::from_millis(9_600));
        assert_eq!(
            jittered(every, 7.0),
            Duration::from_millis(9_600),
            "draws are clamped"
        );
        // Worst-case takeover at the default lease: lapse + longest pause +
        // grace for a late renewal + claim.
        let ttl = cse_core::config::Timeouts::default().lease_ttl.duration();
        assert_eq!(ttl, Duration::from_secs(36));
        let settle = crate::ops::lease::timing(&cse_core::config::Timeouts::default()).settle;
        assert_eq!(settle, Duration::from_secs(2), "the default claim settle");
        let worst = ttl + jittered(resume_cadence(ttl), 1.0) + settle * 2;
        assert!(worst <= Duration::from_millis(48_640), "{worst:?}");
    }
}
