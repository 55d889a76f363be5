//! `vcd-cse`: the tenant's command, the equivalent of the original `vcd cse ...`.

fn main() {
    cse_bus::tls::install_crypto_provider();
    println!("vcd-cse {}", cse_core::CSE_VERSION);
}
