//! `vcd-cse`: the tenant's command, the equivalent of the original `vcd cse ...`.

use std::io::Write;

use cse_tenant::{self as tenant, Io, ProgressMode, Settings, TerminalPrompter};

fn main() {
    tenant::install_tls();
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("Error: {message}");
            std::process::exit(tenant::EXIT_FAILURE);
        }
    };
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let mut out = stdout.lock();
    let mut err = stderr.lock();
    let mut prompter = TerminalPrompter;
    let mut io = Io {
        stdout: &mut out,
        stderr: &mut err,
        prompter: &mut prompter,
        progress: ProgressMode::Stderr,
    };
    let code = tenant::run_blocking(std::env::args_os().collect(), &settings, &mut io);
    let _ = out.flush();
    std::process::exit(code);
}
