//! Building the reqwest clients used for vCD and vCenter: rustls, connect and
//! request time-outs, no redirects (a redirect must never carry a session token
//! to another host), and certificate checking as the config says.

use std::time::Duration;

use reqwest::Certificate;

/// How to check a server's TLS certificate.
#[derive(Clone, Debug, Default)]
pub struct TlsOptions {
    /// Check the certificate chain and host name (`verify: true` in config.yaml).
    /// When false every certificate is accepted (the original's only behaviour).
    pub verify: bool,
    /// When not empty, trust only these roots instead of the platform's (private CAs,
    /// self-signed servers, tests).
    pub trusted_roots: Vec<Certificate>,
}

impl TlsOptions {
    /// Verify with the platform's roots (`verify = true`) or accept anything.
    pub fn verify(verify: bool) -> Self {
        Self {
            verify,
            trusted_roots: Vec::new(),
        }
    }

    /// Verify against exactly these roots.
    pub fn trusting(roots: Vec<Certificate>) -> Self {
        Self {
            verify: true,
            trusted_roots: roots,
        }
    }
}

/// Connect and whole-request time-outs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpTimeouts {
    /// TCP + TLS connect.
    pub connect: Duration,
    /// One request, body included.
    pub request: Duration,
}

impl HttpTimeouts {
    /// From the config's `timeouts:` section.
    pub fn from_config(timeouts: &cse_core::config::Timeouts) -> Self {
        Self {
            connect: timeouts.http_connect.duration(),
            request: timeouts.http_request.duration(),
        }
    }
}

impl Default for HttpTimeouts {
    fn default() -> Self {
        Self::from_config(&cse_core::config::Timeouts::default())
    }
}

/// A reqwest client with these TLS options and time-outs.
pub fn build_http_client(
    tls: &TlsOptions,
    timeouts: HttpTimeouts,
) -> Result<reqwest::Client, reqwest::Error> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(timeouts.connect)
        .timeout(timeouts.request)
        .redirect(reqwest::redirect::Policy::none())
        .tls_danger_accept_invalid_certs(!tls.verify);
    if tls.verify && !tls.trusted_roots.is_empty() {
        builder = builder.tls_certs_only(tls.trusted_roots.iter().cloned());
    }
    builder.build()
}
