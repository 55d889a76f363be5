//! `cse`: the administrator's command (sample, check, install, run, version, uninstall).

use std::io::{IsTerminal, Write};

use cse_server::cli::{self, CliContext, RabbitConnector, TerminalPrompter};

/// mimalloc instead of the system allocator: under concurrent requests glibc's
/// arenas serialise the many small allocations of XML and JSON handling (the
/// `scale` benchmark's P2 spent about a quarter of its CPU in malloc/free).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    cse_bus::tls::install_crypto_provider();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("Error: cannot start the async runtime: {e}");
            std::process::exit(cli::EXIT_FAILURE);
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut err = std::io::stderr();
    let mut prompter = TerminalPrompter;
    let mut ctx = CliContext {
        out: &mut out,
        err: &mut err,
        prompter: &mut prompter,
        bus: &RabbitConnector,
        progress: std::io::stderr().is_terminal(),
        cache_dir: std::path::PathBuf::from("cse_cache"),
    };
    let code = runtime.block_on(cli::main_with(std::env::args_os().collect(), &mut ctx));
    let _ = out.flush();
    std::process::exit(code);
}
