//! The administrator's command `cse`: argument parsing and one module per
//! subcommand (sample, version, check, install, uninstall, run).
//!
//! Every subcommand writes its messages to a [`Context`]'s output and asks its
//! questions through the context's [`Prompter`], so the binary and the tests run
//! the same code. The broker is reached through a [`BusConnector`] (RabbitMQ in
//! the binary, the in-memory broker in tests).

pub mod check;
pub mod error;
pub mod install;
pub mod lookup;
pub mod mqtt;
pub mod prompt;
pub mod run;
pub mod sample;
pub mod uninstall;
pub mod version;

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use cse_bus::{Bus, RabbitBus};
use cse_core::config::Config;

pub use error::CliError;
pub use prompt::{AssumeYes, NoTerminal, Prompter, ScriptedAnswers, TerminalPrompter};

/// Exit code of a failed command.
pub const EXIT_FAILURE: i32 = 1;
/// Exit code of a usage error.
pub const EXIT_USAGE: i32 = 2;

/// `cse`: Container Service Extension for VMware vCloud Director, administrator's command.
#[derive(Debug, clap::Parser)]
#[command(
    name = "cse",
    about = "Container Service Extension for VMware vCloud Director"
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print a sample configuration file.
    Sample(sample::SampleArgs),
    /// Print the version.
    Version,
    /// Validate the configuration file and, with -i, the installation.
    Check(check::CheckArgs),
    /// Install CSE on vCD: exchange, AMQP settings, extension, catalog, templates.
    Install(install::InstallArgs),
    /// Remove what `cse install` created.
    Uninstall(uninstall::UninstallArgs),
    /// Run the CSE service.
    Run(run::RunArgs),
}

/// Opens a connection to the broker of a configuration.
pub trait BusConnector: Send + Sync {
    /// A bus for `config`'s `amqp` section (never asked for on an MQTT config).
    fn connect(&self, config: &Config) -> Result<Arc<dyn Bus>, CliError>;
}

/// Connects to RabbitMQ with the config's `amqp` settings.
#[derive(Debug, Default, Clone, Copy)]
pub struct RabbitConnector;

impl BusConnector for RabbitConnector {
    fn connect(&self, config: &Config) -> Result<Arc<dyn Bus>, CliError> {
        let address = format!("{}:{}", config.amqp.host, config.amqp.port);
        let uri = config
            .amqp
            .uri()
            .map_err(|e| CliError::Usage(format!("amqp section: {e}")))?;
        let bus = RabbitBus::from_url(uri.expose()).map_err(|source| CliError::Amqp {
            address,
            source: Box::new(source),
        })?;
        Ok(Arc::new(bus))
    }
}

/// A fixed bus (tests: the in-memory broker).
pub struct FixedBus(pub Arc<dyn Bus>);

impl BusConnector for FixedBus {
    fn connect(&self, _config: &Config) -> Result<Arc<dyn Bus>, CliError> {
        Ok(Arc::clone(&self.0))
    }
}

/// Where a subcommand writes and how it asks.
pub struct CliContext<'a> {
    /// Messages (stdout in the binary).
    pub out: &'a mut dyn Write,
    /// The final `Error: ...` line and usage errors (stderr in the binary).
    pub err: &'a mut dyn Write,
    /// Yes/no questions.
    pub prompter: &'a mut dyn Prompter,
    /// The broker.
    pub bus: &'a dyn BusConnector,
    /// Show progress bars on stderr.
    pub progress: bool,
    /// Directory for downloaded OVAs (`cse_cache` in the original).
    pub cache_dir: PathBuf,
}

impl CliContext<'_> {
    /// Writes one line (output errors are ignored: nothing to report them to).
    pub fn say(&mut self, line: impl AsRef<str>) {
        let _ = writeln!(self.out, "{}", line.as_ref());
    }
}

/// Runs a parsed command line.
pub async fn execute(command: Command, ctx: &mut CliContext<'_>) -> Result<(), CliError> {
    match command {
        Command::Sample(args) => sample::run(&args, ctx.out),
        Command::Version => version::run(ctx.out),
        Command::Check(args) => check::run(&args, ctx).await,
        Command::Install(args) => install::run(&args, ctx).await,
        Command::Uninstall(args) => uninstall::run(&args, ctx).await,
        Command::Run(args) => {
            run::init_logging();
            run::run(args)
                .await
                .map_err(|e| CliError::Run(format!("{e:#}")))
        }
    }
}

/// Parses `args` (program name first) and runs the command; returns the exit code.
/// Errors are written to `ctx.out` as `Error: ...`.
pub async fn main_with(args: Vec<std::ffi::OsString>, ctx: &mut CliContext<'_>) -> i32 {
    use clap::Parser;
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            if e.use_stderr() {
                let _ = write!(ctx.err, "{}", e.render());
                return EXIT_USAGE;
            }
            let _ = write!(ctx.out, "{}", e.render());
            return 0;
        }
    };
    match execute(cli.command, ctx).await {
        Ok(()) => 0,
        Err(e) => {
            let _ = writeln!(ctx.err, "Error: {e}");
            EXIT_FAILURE
        }
    }
}
