//! `vcd-sim`: the standalone simulator.

fn main() {
    cse_bus::tls::install_crypto_provider();
    println!("vcd-sim {}", env!("CARGO_PKG_VERSION"));
}
