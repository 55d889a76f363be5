//! One rustls crypto provider (aws-lc-rs) for every binary and test helper.

/// Installs aws-lc-rs as the process-wide rustls provider. Safe to call many
/// times; a provider already installed is kept.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
