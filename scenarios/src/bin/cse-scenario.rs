//! `cse-scenario`: replays scenario files (`run`) or keeps an embedded
//! simulator with CSE serving (`serve`).

use std::io::Write;

fn main() {
    cse_bus::tls::install_crypto_provider();
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("Error: cannot start the async runtime: {e}");
            std::process::exit(scenarios::cli::EXIT_FAILED);
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let code = runtime.block_on(scenarios::cli::main_with(
        std::env::args_os().collect(),
        &mut out,
    ));
    let _ = out.flush();
    std::process::exit(code);
}

/// Logs to stderr, `RUST_LOG` filters (default: warnings only, so the step
/// tables stay readable).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
