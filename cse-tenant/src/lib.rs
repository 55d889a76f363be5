//! `vcd-cse`, the tenant's command line: the equivalent of vcd-cli's `vcd cse ...` plugin
//! (CSE 1.2.x) plus `login`/`logout`. It talks to vCD only (`/api/sessions`, `/api/cse/...`,
//! tasks); vCD forwards `/api/cse` to the CSE server.
//!
//! [`run`] takes the arguments and an [`Io`] (output streams, prompts, progress mode), so the
//! whole CLI runs in-process in tests with captured output. Exit codes: 0 success, 1 failure
//! (request refused, task failed, aborted), 2 invalid arguments.

pub mod args;
pub mod commands;
pub mod errors;
pub mod http;
pub mod profile;
pub mod render;
pub mod terminal;
pub mod wait;

use std::ffi::OsString;
use std::io::{self, BufRead, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

pub use args::Cli;
pub use errors::{EXIT_FAILURE, TenantError};
pub use wait::ProgressMode;

/// Default interval between task polls with `--wait`.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(3);

/// Questions the CLI may ask.
pub trait Prompter {
    /// Ask for a password without echoing it.
    fn password(&mut self, prompt: &str) -> io::Result<String>;
    /// Ask a yes/no question; `true` only for an explicit yes.
    fn confirm(&mut self, question: &str) -> io::Result<bool>;
}

/// Prompts on the terminal: the password from the controlling terminal without echo, the
/// confirmation as a `[y/N]` line on stdin.
#[derive(Debug, Default, Clone, Copy)]
pub struct TerminalPrompter;

impl Prompter for TerminalPrompter {
    fn password(&mut self, prompt: &str) -> io::Result<String> {
        let term = console::Term::stderr();
        term.write_str(prompt)?;
        term.read_secure_line()
    }

    fn confirm(&mut self, question: &str) -> io::Result<bool> {
        let mut stderr = io::stderr();
        write!(stderr, "{question} [y/N]: ")?;
        stderr.flush()?;
        let mut answer = String::new();
        io::stdin().lock().read_line(&mut answer)?;
        Ok(matches!(
            answer.trim().to_ascii_lowercase().as_str(),
            "y" | "yes"
        ))
    }
}

/// Where the CLI writes and how it asks.
pub struct Io<'a> {
    /// Results.
    pub stdout: &'a mut dyn Write,
    /// Warnings, errors, prompts.
    pub stderr: &'a mut dyn Write,
    /// Password and confirmation prompts.
    pub prompter: &'a mut dyn Prompter,
    /// How `--wait` shows progress.
    pub progress: ProgressMode,
}

/// Settings that come from the environment rather than the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The profile file.
    pub profile_path: PathBuf,
    /// Interval between task polls.
    pub poll_interval: Duration,
}

impl Settings {
    /// From the process environment (`$VCD_CSE_HOME`, `$HOME`).
    pub fn from_env() -> Result<Settings, String> {
        let profile_path =
            profile::default_path(|name| std::env::var_os(name)).ok_or_else(|| {
                format!(
                    "Cannot locate the profile file: set {} or HOME",
                    profile::HOME_ENV
                )
            })?;
        Ok(Settings {
            profile_path,
            poll_interval: DEFAULT_POLL_INTERVAL,
        })
    }
}

/// Parse `args` (program name first) and run the command; the process exit code.
pub async fn run<I, T>(args: I, settings: &Settings, io: &mut Io<'_>) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let text = error.render().to_string();
            let stream: &mut dyn Write = if error.use_stderr() {
                io.stderr
            } else {
                io.stdout
            };
            let _ = write!(stream, "{text}");
            return error.exit_code();
        }
    };
    match commands::execute(&cli, settings, io).await {
        Ok(()) => 0,
        Err(error) => {
            report(&cli, &error, io);
            EXIT_FAILURE
        }
    }
}

/// Print a failure: `{"error": ...}` on stdout with `--json` (as vcd-cli), else
/// `Error: ...` on stderr.
fn report(cli: &Cli, error: &TenantError, io: &mut Io<'_>) {
    let message = render::sanitize(&error.to_string());
    if cli.json {
        let body = serde_json::json!({ "error": message });
        let _ = writeln!(io.stdout, "{}", render::to_json(&body));
    } else {
        let _ = writeln!(io.stderr, "Error: {message}");
    }
}

/// Run in a fresh single-threaded runtime (for the binary).
pub fn run_blocking(args: Vec<OsString>, settings: &Settings, io: &mut Io<'_>) -> i32 {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run(args, settings, io)),
        Err(e) => {
            let _ = writeln!(io.stderr, "Error: cannot start the runtime: {e}");
            EXIT_FAILURE
        }
    }
}

/// Install the rustls crypto provider (idempotent).
pub fn install_tls() {
    cse_bus::tls::install_crypto_provider();
}
