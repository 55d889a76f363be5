//! `cse-scenario`: replays scenario files.

fn main() {
    cse_bus::tls::install_crypto_provider();
    println!("cse-scenario {}", env!("CARGO_PKG_VERSION"));
}
