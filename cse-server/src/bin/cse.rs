//! `cse`: the administrator's command (sample, check, install, run, version, uninstall).

fn main() -> std::process::ExitCode {
    cse_bus::tls::install_crypto_provider();
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some("run") {
        return cse_server::cli::run::main_from(argv);
    }
    println!(
        "CSE, Container Service Extension for VMware vCloud Director, version {}",
        cse_core::CSE_VERSION
    );
    std::process::ExitCode::SUCCESS
}
