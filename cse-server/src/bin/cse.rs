//! `cse`: the administrator's command (sample, check, install, run, version, uninstall).

fn main() {
    cse_bus::tls::install_crypto_provider();
    println!(
        "CSE, Container Service Extension for VMware vCloud Director, version {}",
        cse_core::CSE_VERSION
    );
}
