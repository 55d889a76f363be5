//! `vcd-sim`: the standalone simulator. `vcd-sim serve` runs vCD's REST API,
//! its API-extension routing (over RabbitMQ with `--amqp-url`, else in memory)
//! and the simulated vCenter over the guest model (HTTPS with a self-signed
//! certificate by default), over a world file, a generated world
//! (`--world generated:SEED:ORGS`) or the built-in world, prints URLs and
//! credentials as JSON, and stops cleanly on SIGINT/SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use std::sync::Arc;

use clap::{Parser, Subcommand};
use vcd_sim::assembly::BusChoice;
use vcd_sim::clock::Clock;
use vcd_sim::control::{ControlApi, Observer, Targets};
use vcd_sim::world::{World, WorldSource};
use vcd_sim::{SimBuilder, VcdRelease};

#[derive(Parser)]
#[command(
    name = "vcd-sim",
    version,
    about = "Simulator of vCloud Director, its API extensions and vCenter guest operations"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the simulated vCD (and vCenter) until interrupted.
    Serve(ServeArgs),
    /// Compare a new recording with an earlier one (`serve --record`); exit 1 when they differ.
    ReplayCheck {
        /// The earlier recording (directory or exchanges.jsonl).
        recorded: PathBuf,
        /// The new recording.
        new: PathBuf,
        /// Report at most this many differences.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
}

#[derive(Parser)]
struct ServeArgs {
    /// Address of the vCD API listener.
    #[arg(long, default_value = "127.0.0.1:8443")]
    bind: SocketAddr,
    /// Address of the simulated vCenter's own listener (vCD's vimServer URL shows it).
    #[arg(long)]
    vcenter_bind: Option<SocketAddr>,
    /// Serve plain HTTP instead of HTTPS.
    #[arg(long)]
    plain_http: bool,
    /// Route extension requests through this RabbitMQ (in memory without it).
    #[arg(long)]
    amqp_url: Option<String>,
    /// World file (YAML), or generated:SEED:ORGS for a generated world of
    /// ORGS tenant orgs (acme and ORGS-1 more); a default world is built in.
    #[arg(long, value_name = "FILE|generated:SEED:ORGS")]
    world: Option<WorldSource>,
    /// Time scale of simulated durations (1 = realistic, 0 = instant).
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// Write URLs and credentials as JSON to this file.
    #[arg(long)]
    info_file: Option<PathBuf>,
    /// vCD's extensibility timeout in seconds (how long vCD waits for an extension's reply).
    #[arg(long, default_value_t = 10.0)]
    extension_timeout: f64,
    /// The vCD release to play: 9.5 (API 29–32, legacy login), 10.0, 10.3,
    /// 10.4 or 10.6 (CloudAPI sessions with JWTs; API tokens from 10.3).
    #[arg(long, default_value = "9.5", value_name = "RELEASE")]
    vcd_release: VcdRelease,
    /// Serve the control API under /_sim/ (faults, clock, reset, snapshots); its
    /// bearer token is in the info JSON as control_token.
    #[arg(long)]
    control_api: bool,
    /// Start from this snapshot (GET /_sim/snapshot) instead of the world's starting state.
    #[arg(long, value_name = "FILE")]
    load: Option<PathBuf>,
    /// Record every exchange (secrets redacted) as JSON lines in DIR/exchanges.jsonl.
    #[arg(long, value_name = "DIR")]
    record: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    cse_bus::tls::install_crypto_provider();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::ReplayCheck {
            recorded,
            new,
            limit,
        } => {
            let differences = vcd_sim::record::replay_check(&recorded, &new, limit)?;
            if differences.is_empty() {
                println!("the runs agree");
                Ok(())
            } else {
                for d in &differences {
                    println!("{d}");
                }
                std::process::exit(1);
            }
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let world = match &args.world {
        Some(source) => source.load()?,
        None => World::default_world(),
    };
    let clock = if args.control_api {
        Clock::controlled(args.time_scale)
    } else {
        Clock::scaled(args.time_scale)
    };
    let snapshot = match &args.load {
        Some(path) => Some(vcd_sim::snapshot::load_file(path)?),
        None => None,
    };
    let start_snapshot = match &snapshot {
        Some(s) => Some(vcd_sim::snapshot::to_bytes(s)?),
        None => None,
    };
    let recorder = match &args.record {
        Some(dir) => Some(Arc::new(vcd_sim::record::Recorder::create(dir)?)),
        None => None,
    };
    let observer = Arc::new(Observer::new(recorder.clone()));
    let control = args
        .control_api
        .then(|| ControlApi::new(Arc::clone(&observer)));
    let linger = if clock.is_instant() {
        Duration::ZERO
    } else {
        Duration::from_secs(2)
    };
    if !(args.extension_timeout.is_finite() && args.extension_timeout > 0.0) {
        anyhow::bail!(
            "--extension-timeout must be a positive number of seconds, got {}",
            args.extension_timeout
        );
    }
    let mut b = SimBuilder::new()
        .world(world)
        .clock(clock)
        .bind(args.bind)
        .https(!args.plain_http)
        .extension_timeout(Duration::from_secs_f64(args.extension_timeout))
        .import_linger(linger)
        .vcd_release(args.vcd_release);
    if let Some(control) = &control {
        b = b.extra_routes(control.router());
    }
    if control.is_some() || recorder.is_some() {
        b = b.wrap_listeners(observer.wrap());
    }
    if let Some(v) = args.vcenter_bind {
        b = b.vcenter_bind(v);
    }
    if let Some(u) = &args.amqp_url {
        b = b.bus(BusChoice::Rabbit(u.clone()));
    }
    let full = b.start().await?;
    if let Some(snapshot) = snapshot {
        vcd_sim::snapshot::import_with_tokens(
            full.handle.state(),
            &full.guests,
            full.handle.auth(),
            snapshot,
        )?;
    }
    if let Some(recorder) = &recorder {
        let r = Arc::clone(recorder);
        *full.ext_tap.write() = Some(Arc::new(move |t, q, a| {
            r.write(&vcd_sim::record::Exchange::extension(t, q, a));
        }));
    }
    let handle = &full.handle;
    let mut info = serde_json::to_value(handle.info())?;
    if let Some(control) = &control {
        control.attach(Targets {
            start_snapshot,
            ..Targets::of(&full, args.vcd_release)
        });
        if let Some(map) = info.as_object_mut() {
            map.insert(
                "control_url".into(),
                format!("{}{}", handle.base_url, vcd_sim::control::PREFIX).into(),
            );
            map.insert("control_token".into(), control.token().into());
        }
    }
    let info = serde_json::to_string_pretty(&info)?;
    if let Some(f) = &args.info_file {
        vcd_sim::serve::write_info_file(f, &info)?;
    }
    println!("{info}");
    wait_for_signal().await;
    eprintln!("vcd-sim: stopping");
    full.shutdown().await;
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
