//! Building the reqwest clients used for vCD and vCenter: rustls, connect and
//! request time-outs, a bounded pool of kept-alive connections (idle
//! connections per host and their idle life are capped, so a burst of
//! concurrent calls does not leave hundreds of sockets open afterwards), no
//! redirects (a redirect must never carry a session token to another host),
//! and certificate checking as the config says.

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

/// How many kept-alive connections a client holds on to, and for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolLimits {
    /// Idle connections kept per host; more are closed as their request ends.
    pub max_idle_per_host: usize,
    /// An idle connection is closed after this long.
    pub idle_timeout: Duration,
}

/// Idle connections kept per host unless told otherwise.
pub const DEFAULT_MAX_IDLE_PER_HOST: usize = 16;
/// Idle life of a kept-alive connection unless told otherwise.
pub const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// TCP keep-alive probes on every connection, so dead peers are noticed.
pub const TCP_KEEPALIVE: Duration = Duration::from_secs(60);

impl Default for PoolLimits {
    fn default() -> Self {
        Self {
            max_idle_per_host: DEFAULT_MAX_IDLE_PER_HOST,
            idle_timeout: DEFAULT_POOL_IDLE_TIMEOUT,
        }
    }
}

impl PoolLimits {
    /// Keeps at most `max_idle_per_host` idle connections (at least one).
    pub fn keeping(max_idle_per_host: usize) -> Self {
        Self {
            max_idle_per_host: max_idle_per_host.max(1),
            ..Self::default()
        }
    }
}

/// A reqwest client with these TLS options and time-outs and the default
/// [`PoolLimits`].
pub fn build_http_client(
    tls: &TlsOptions,
    timeouts: HttpTimeouts,
) -> Result<reqwest::Client, reqwest::Error> {
    build_pooled_http_client(tls, timeouts, PoolLimits::default())
}

/// A reqwest client with these TLS options, time-outs and pool limits.
pub fn build_pooled_http_client(
    tls: &TlsOptions,
    timeouts: HttpTimeouts,
    pool: PoolLimits,
) -> Result<reqwest::Client, reqwest::Error> {
    build_http_client_as(tls, timeouts, pool, None)
}

/// A reqwest client with these TLS options, time-outs and pool limits, sending
/// `user_agent` (a command names itself, e.g. `vcd-cse/0.1.0`) when given.
pub fn build_http_client_as(
    tls: &TlsOptions,
    timeouts: HttpTimeouts,
    pool: PoolLimits,
    user_agent: Option<&str>,
) -> Result<reqwest::Client, reqwest::Error> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(timeouts.connect)
        .timeout(timeouts.request)
        .pool_max_idle_per_host(pool.max_idle_per_host)
        .pool_idle_timeout(pool.idle_timeout)
        .tcp_keepalive(TCP_KEEPALIVE)
        .redirect(reqwest::redirect::Policy::none())
        .tls_danger_accept_invalid_certs(!tls.verify);
    if let Some(agent) = user_agent {
        builder = builder.user_agent(agent);
    }
    if tls.verify && !tls.trusted_roots.is_empty() {
        builder = builder.tls_certs_only(tls.trusted_roots.iter().cloned());
    }
    builder.build()
}
