//! `cse-scenario`: `run FILE...` replays scenario files on the embedded
//! simulator (default) or a live vCD and prints a step table per file
//! (`--transport mqtt` and `--vcd-release` override the scenarios' own);
//! `serve` keeps an embedded simulator with CSE installed running for
//! interactive use, until SIGINT or SIGTERM (both remove its temporary
//! directory); its `--info-file` holds passwords and is written 0600.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::format::{Scenario, TargetKind, Tenant, Transport};
use crate::report::{RunReport, ScenarioReport, millis};
use crate::runner::{Runner, runnable_with};
use crate::targets::Target;
use crate::targets::control::ControlSettings;
use crate::targets::live::{LiveSettings, LiveTarget};
use crate::targets::sim::{SimSettings, SimTarget};

/// Exit code when a scenario failed.
pub const EXIT_FAILED: i32 = 1;
/// Exit code for bad arguments or unreadable files.
pub const EXIT_USAGE: i32 = 2;

/// The `cse-scenario` command line.
#[derive(Debug, Parser)]
#[command(
    name = "cse-scenario",
    version,
    about = "Replay CSE scenarios against the embedded simulator or a live vCD"
)]
pub(crate) struct Cli {
    /// The subcommand to run.
    #[command(subcommand)]
    pub command: Command,
}

/// `cse-scenario`'s subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Replay scenario files; exits non-zero when any expectation fails.
    Run(RunArgs),
    /// Run the simulator with CSE installed and the server serving, until Ctrl+C or SIGTERM.
    Serve(ServeArgs),
}

/// Arguments of `cse-scenario run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Scenario files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Where to replay.
    #[arg(long, value_enum, default_value_t = TargetKind::Sim)]
    pub target: TargetKind,
    /// Write a JSON report here.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Live: the `cse` config of the server behind the vCD.
    #[arg(short = 'c', long = "config", env = "CSE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Live: the vCD URL (default: the config's vcd.host).
    #[arg(long = "vcd-url", env = "CSE_SCENARIO_VCD_URL")]
    pub vcd_url: Option<String>,
    /// Live: do not verify vCD's certificate (default: the config's vcd.verify).
    #[arg(short = 'k', long)]
    pub insecure: bool,
    /// Live: YAML map of tenant name → {org, user, password} replacing the scenario's.
    #[arg(long)]
    pub tenants: Option<PathBuf>,
    /// Live: the info file of a `vcd-sim serve --control-api` playing the vCD
    /// (its control URL and token); `fault:` steps then run on the live target.
    #[arg(long = "sim-info", env = "CSE_SCENARIO_SIM_INFO")]
    pub sim_info: Option<PathBuf>,
    /// Sim: route extension requests over RabbitMQ at this URL instead of memory.
    #[arg(long = "amqp-url", env = "CSE_SCENARIO_AMQP_URL")]
    pub amqp_url: Option<String>,
    /// Sim: how vCD hands requests to the server (`amqp` or `mqtt`), replacing
    /// each scenario's `simulator.transport`. MQTT needs vCD 10.3 or later.
    #[arg(long, value_enum)]
    pub transport: Option<Transport>,
    /// Sim: the vCD release to play (9.5, 10.0, 10.3, 10.4, 10.6), replacing
    /// each scenario's `simulator.vcd_release`.
    #[arg(long = "vcd-release", value_name = "RELEASE")]
    pub vcd_release: Option<vcd_sim::VcdRelease>,
}

impl RunArgs {
    /// `cse-scenario run FILES --target TARGET` with every other flag left
    /// out (their defaults), as a caller in Rust would write it.
    pub fn new(files: Vec<PathBuf>, target: TargetKind) -> Self {
        RunArgs {
            files,
            target,
            report: None,
            config: None,
            vcd_url: None,
            insecure: false,
            tenants: None,
            amqp_url: None,
            sim_info: None,
            transport: None,
            vcd_release: None,
        }
    }
}

/// Arguments of `cse-scenario serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Route extension requests over RabbitMQ at this URL (default: in memory).
    #[arg(long = "amqp-url")]
    pub amqp_url: Option<String>,
    /// Write the simulator's JSON (URLs, accounts) plus the cse config path here.
    #[arg(long = "info-file")]
    pub info_file: Option<PathBuf>,
    /// Simulated durations × this factor (0: none, 1: real time).
    #[arg(long = "time-scale", default_value_t = 0.01)]
    pub time_scale: f64,
    /// How vCD hands requests to the server: `amqp`, or `mqtt` (vCD's
    /// MQTT extension bus; needs a --vcd-release of 10.3 or later).
    #[arg(long, value_enum, default_value_t = Transport::Amqp)]
    pub transport: Transport,
    /// The vCD release the simulator plays (9.5, 10.0, 10.3, 10.4, 10.6).
    #[arg(long = "vcd-release", value_name = "RELEASE", default_value = "9.5")]
    pub vcd_release: vcd_sim::VcdRelease,
}

/// Parses `args` and runs; the exit code.
pub async fn main_with(args: Vec<std::ffi::OsString>, out: &mut dyn Write) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = write!(out, "{}", e.render());
            return if e.use_stderr() { EXIT_USAGE } else { 0 };
        }
    };
    match cli.command {
        Command::Run(args) => run(&args, out).await,
        Command::Serve(args) => match serve(&args, out).await {
            Ok(()) => 0,
            Err(e) => {
                let _ = writeln!(out, "Error: {e}");
                EXIT_FAILED
            }
        },
    }
}

/// `run`: every file in turn; the exit code.
pub async fn run(args: &RunArgs, out: &mut dyn Write) -> i32 {
    let mut scenarios = Vec::new();
    for file in &args.files {
        match Scenario::load(file) {
            Ok(mut s) => {
                if let Some(transport) = args.transport {
                    s.simulator.transport = transport;
                }
                if let Some(release) = args.vcd_release {
                    s.simulator.vcd_release = release;
                }
                scenarios.push((file.clone(), s));
            }
            Err(e) => {
                let _ = writeln!(out, "Error: {e}");
                return EXIT_USAGE;
            }
        }
    }
    let tenants = match &args.tenants {
        Some(path) => match load_tenants(path) {
            Ok(t) => t,
            Err(e) => {
                let _ = writeln!(out, "Error: {e}");
                return EXIT_USAGE;
            }
        },
        None => BTreeMap::new(),
    };
    if args.target == TargetKind::Live && args.config.is_none() {
        let _ = writeln!(
            out,
            "Error: --target live needs the server's cse config (-c FILE or $CSE_CONFIG)"
        );
        return EXIT_USAGE;
    }
    let mut reports = Vec::new();
    for (file, scenario) in &scenarios {
        let report = replay(args, file, scenario, &tenants).await;
        let _ = write!(out, "{}", report.render());
        let _ = out.flush();
        reports.push(report);
    }
    let all = RunReport {
        passed: reports.iter().all(|r| r.passed),
        scenarios: reports,
    };
    if let Some(path) = &args.report {
        let json = serde_json::to_string_pretty(&all).unwrap_or_default();
        if let Err(e) = std::fs::write(path, json) {
            let _ = writeln!(out, "Error: cannot write report {}: {e}", path.display());
            return EXIT_FAILED;
        }
    }
    let _ = writeln!(
        out,
        "{} of {} scenario(s) passed",
        all.scenarios.iter().filter(|r| r.passed).count(),
        all.scenarios.len()
    );
    if all.passed { 0 } else { EXIT_FAILED }
}

/// Replays one scenario on a fresh target.
pub async fn replay(
    args: &RunArgs,
    file: &Path,
    scenario: &Scenario,
    tenants: &BTreeMap<String, Tenant>,
) -> ScenarioReport {
    let started = std::time::Instant::now();
    let failed = |error: String| ScenarioReport {
        scenario: scenario.name.clone(),
        file: file.display().to_string(),
        target: args.target,
        passed: false,
        millis: millis(started.elapsed()),
        steps: Vec::new(),
        error: Some(error),
    };
    if let Err(e) = runnable_with(scenario, args.target, args.sim_info.is_some()) {
        return failed(e);
    }
    let target: Result<Box<dyn Target>, String> = match args.target {
        TargetKind::Sim => {
            let settings = SimSettings {
                amqp_url: args.amqp_url.clone(),
                base_dir: file.parent().map(Path::to_path_buf).unwrap_or_default(),
                observer: None,
            };
            SimTarget::start(&scenario.simulator, &settings)
                .await
                .map(|t| Box::new(t) as Box<dyn Target>)
        }
        TargetKind::Live => {
            let control = match &args.sim_info {
                Some(path) => match ControlSettings::from_info_file(path) {
                    Ok(c) => Some(c),
                    Err(e) => return failed(e),
                },
                None => None,
            };
            let settings = LiveSettings {
                config: args.config.clone().unwrap_or_default(),
                vcd_url: args.vcd_url.clone(),
                verify: args.insecure.then_some(false),
                control,
            };
            match LiveTarget::connect(&settings) {
                Ok(mut t) => match t.prepare(&scenario.simulator).await {
                    Ok(()) => Ok(Box::new(t) as Box<dyn Target>),
                    Err(e) => Err(e),
                },
                Err(e) => Err(e),
            }
        }
    };
    let mut target = match target {
        Ok(t) => t,
        Err(e) => return failed(format!("cannot start the {} target: {e}", args.target)),
    };
    let mut report = Runner::new(scenario, target.as_mut(), tenants)
        .run(&file.display().to_string())
        .await;
    target.shutdown().await;
    report.millis = millis(started.elapsed());
    report
}

fn load_tenants(path: &Path) -> Result<BTreeMap<String, Tenant>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read tenants file {}: {e}", path.display()))?;
    serde_yaml::from_str(&text).map_err(|e| format!("tenants file {}: {e}", path.display()))
}

/// SIGINT (Ctrl+C) or SIGTERM, whichever comes first: `serve` removes its temporary
/// directory (generated config with passwords, reply journal) on both.
async fn stop_signal() -> Result<(), String> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())
            .map_err(|e| format!("cannot listen for SIGTERM: {e}"))?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => {
                result.map_err(|e| format!("cannot listen for Ctrl+C: {e}"))
            }
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c()
            .await
            .map_err(|e| format!("cannot listen for Ctrl+C: {e}"))
    }
}

/// `serve`: the simulator with CSE installed and serving, until Ctrl+C or SIGTERM.
pub async fn serve(args: &ServeArgs, out: &mut dyn Write) -> Result<(), String> {
    let spec = crate::format::SimulatorSpec {
        time_scale: args.time_scale,
        transport: args.transport,
        vcd_release: args.vcd_release,
        ..Default::default()
    };
    if !(spec.time_scale.is_finite() && spec.time_scale >= 0.0) {
        return Err("--time-scale must be a number ≥ 0".into());
    }
    spec.check_transport()?;
    let settings = SimSettings {
        amqp_url: args.amqp_url.clone(),
        base_dir: PathBuf::new(),
        observer: None,
    };
    let mut target = SimTarget::start(&spec, &settings).await?;
    let mut info = serde_json::to_value(target.sim.handle.info()).map_err(|e| e.to_string())?;
    info["cse_config"] = serde_json::Value::String(target.config_path().display().to_string());
    info["transport"] = serde_json::Value::String(args.transport.to_string());
    let text = serde_json::to_string_pretty(&info).map_err(|e| e.to_string())?;
    if let Some(path) = &args.info_file {
        // It holds passwords: 0600, written whole (the user's directory is left as it is).
        cse_core::config::write_private_file(path, text.as_bytes())
            .map_err(|e| format!("cannot write info file: {e}"))?;
    }
    let _ = writeln!(out, "{text}");
    let _ = writeln!(
        out,
        "CSE is installed and serving over {}; try: vcd-cse login {} acme alice -i -p alice-pw",
        match args.transport {
            Transport::Amqp => "AMQP",
            Transport::Mqtt => "MQTT",
        },
        target.sim.base_url()
    );
    let _ = writeln!(out, "press Ctrl+C to stop");
    let _ = out.flush();
    tokio::select! {
        result = stop_signal() => {
            if let Err(e) = result {
                // Still stop cleanly: the temporary directory holds the config's passwords.
                let _ = writeln!(out, "{e}; stopping");
            }
        }
        result = target.server_exited() => {
            if let Err(e) = result {
                let _ = writeln!(out, "the server failed: {e}");
            } else {
                let _ = writeln!(out, "the server stopped");
            }
        }
    }
    Box::new(target).shutdown().await;
    Ok(())
}
