//! Serving the simulated vCD: [`start_vcd`] builds the state from
//! [`VcdOptions`], mounts the vCD REST router (behind the REST fault rules)
//! and (optionally) a separate vCenter listener, serves them over HTTPS with a
//! self-signed certificate or plain HTTP, and returns a [`SimHandle`] with the
//! URLs, the certificate and the state for inspection. Callers go through
//! [`crate::SimBuilder`]. `vcd-sim serve` is a thin CLI over the builder; its
//! `--info-file` (every account's password) is written by [`write_info_file`],
//! readable by its owner only.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum_server::tls_rustls::RustlsConfig;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::guest_api::GuestLifecycle;
use crate::rest::faults::RestFaults;
use crate::rest::{AppState, ExtensionForwarder};
use crate::state::guests::RecordingGuests;
use crate::state::{Sim, SimConfig};
use crate::world::{RoleName, World};

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address is taken or not allowed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The self-signed certificate could not be generated.
    #[error("cannot make the self-signed certificate: {0}")]
    Certificate(String),
    /// The TLS listener could not start.
    #[error("cannot start the TLS listener: {0}")]
    Tls(std::io::Error),
    /// The AMQP URL is not valid.
    #[error("invalid AMQP URL: {0}")]
    AmqpUrl(String),
    /// The info file could not be written (0600).
    #[error("cannot write info file: {0}")]
    InfoFile(#[from] cse_core::config::PrivateFileError),
}

/// Writes the info JSON (URLs and every account's password) to `path` with mode 0600,
/// created that way and replaced whole. The directory is the user's choice and is left as
/// it is.
pub fn write_info_file(path: &std::path::Path, info: &str) -> Result<(), ServeError> {
    cse_core::config::write_private_file(path, info.as_bytes())?;
    Ok(())
}

/// Applies an `amqp://user:pass@host:port/vhost` URL to the world's AMQP
/// settings (what `/api/admin/extension/settings/amqp` shows).
pub fn apply_amqp_url(world: &mut World, amqp_url: &str) -> Result<(), ServeError> {
    let u = url::Url::parse(amqp_url).map_err(|e| ServeError::AmqpUrl(format!("{e}")))?;
    let tls = match u.scheme() {
        "amqp" => false,
        "amqps" => true,
        other => {
            return Err(ServeError::AmqpUrl(format!(
                "scheme {other} is not amqp or amqps"
            )));
        }
    };
    let host = u
        .host_str()
        .ok_or_else(|| ServeError::AmqpUrl("no host".into()))?;
    let a = &mut world.amqp;
    a.host = host.to_string();
    a.port = u.port().unwrap_or(if tls { 5671 } else { 5672 });
    a.use_ssl = tls;
    if !u.username().is_empty() {
        a.username = percent_encoding::percent_decode_str(u.username())
            .decode_utf8_lossy()
            .into_owned();
    }
    if let Some(p) = u.password() {
        a.password = percent_encoding::percent_decode_str(p)
            .decode_utf8_lossy()
            .into_owned();
    }
    let vhost = u.path().trim_start_matches('/');
    a.vhost = if vhost.is_empty() {
        "/".into()
    } else {
        percent_encoding::percent_decode_str(vhost)
            .decode_utf8_lossy()
            .into_owned()
    };
    Ok(())
}

/// Everything the vCD listener needs: the world, the guests behind its VMs,
/// the extension forwarder, the listeners and the REST fault rules.
/// [`crate::SimBuilder`] fills it in; [`start_vcd`] serves it.
pub struct VcdOptions {
    /// The world the state is built from.
    pub world: World,
    /// The time scale of simulated work.
    pub clock: Clock,
    /// The guests behind the VMs (default: [`RecordingGuests`]).
    pub guests: Option<Arc<dyn GuestLifecycle>>,
    /// Where requests matching an extension's API filters go.
    pub forwarder: Option<Arc<dyn ExtensionForwarder>>,
    /// The vCD listener's address.
    pub bind: SocketAddr,
    /// HTTPS with a self-signed certificate (else plain HTTP).
    pub tls: bool,
    /// Fixed public base URL for hrefs (default: the request's Host).
    pub public_url: Option<String>,
    /// Routes merged into the vCD listener, outside the fault layer.
    pub extra_routes: Option<Router>,
    /// The vCenter SOAP router (`/sdk`, file transfers).
    pub vcenter_routes: Option<Router>,
    /// A listener of its own for the vCenter routes (default: the vCD listener).
    pub vcenter_bind: Option<SocketAddr>,
    /// How long the template import task stays running after the last byte.
    pub import_linger: Duration,
    /// Tasks follow vCD's strict rules (see [`SimConfig`]).
    pub strict_tasks: bool,
    /// The broker extension requests go through (reported in the info).
    pub amqp_url: Option<String>,
    /// The REST fault rules applied to the vCD API.
    pub http_faults: RestFaults,
    /// The vCD release played (default: 9.5).
    pub release: crate::release::VcdRelease,
    /// How long a CloudAPI JWT lives.
    pub session_lifetime: Duration,
    /// Wraps every listener's whole router (control API call counts, recording).
    pub wrap: Option<ListenerWrap>,
    /// Extension delivery fault rules and the recorder's tap, applied to
    /// requests for MQTT extensions (the AMQP ones go through `forwarder`,
    /// which applies them itself).
    pub ext_faults: Option<(crate::ext_faults::ExtFaults, crate::ext_faults::ExtTap)>,
}

/// A function wrapping a listener's whole router in layers of the caller's.
pub type ListenerWrap = Arc<dyn Fn(Router) -> Router + Send + Sync>;

impl Default for VcdOptions {
    fn default() -> Self {
        VcdOptions {
            world: World::default_world(),
            clock: Clock::instant(),
            guests: None,
            forwarder: None,
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls: false,
            public_url: None,
            extra_routes: None,
            vcenter_routes: None,
            vcenter_bind: None,
            import_linger: Duration::ZERO,
            strict_tasks: false,
            amqp_url: None,
            http_faults: RestFaults::new(),
            release: crate::release::VcdRelease::default(),
            session_lifetime: crate::auth::DEFAULT_SESSION_LIFETIME,
            wrap: None,
            ext_faults: None,
        }
    }
}

/// Binds, spawns the vCD listener (and the vCenter's, if it has its own) and
/// returns once they accept connections.
///
/// Over HTTPS, clients trust the handle's self-signed certificate:
///
/// ```
/// use vcd_sim::serve::{VcdOptions, start_vcd};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// cse_bus::tls::install_crypto_provider();
/// let sim = start_vcd(VcdOptions {
///     tls: true,
///     ..VcdOptions::default()
/// })
/// .await?;
/// assert!(sim.base_url.starts_with("https://127.0.0.1:"));
/// let pem = sim.cert_pem.as_deref().expect("HTTPS has a certificate");
/// let http = reqwest::Client::builder()
///     .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes())?)
///     .build()?;
/// let versions = http
///     .get(format!("{}/api/versions", sim.base_url))
///     .send()
///     .await?;
/// assert_eq!(versions.status(), 200);
/// assert!(versions.text().await?.contains("<SupportedVersions"));
/// assert!(sim.http_faults().list().is_empty());
/// sim.shutdown().await;
/// # Ok(())
/// # }
/// ```
pub async fn start_vcd(opts: VcdOptions) -> Result<SimHandle, ServeError> {
    let guests: Arc<dyn GuestLifecycle> = opts
        .guests
        .clone()
        .unwrap_or_else(|| Arc::new(RecordingGuests::new()));
    let config = SimConfig {
        clock: opts.clock,
        import_linger: opts.import_linger,
        strict_tasks: opts.strict_tasks,
    };
    let mut world = opts.world.clone();
    if let Some(u) = &opts.amqp_url {
        apply_amqp_url(&mut world, u)?;
    }
    let sim = Sim::new(&world, guests, config);
    let (cert_pem, tls) = if opts.tls {
        let ck = rcgen::generate_simple_self_signed(vec![
            "localhost".to_string(),
            "127.0.0.1".to_string(),
        ])
        .map_err(|e| ServeError::Certificate(e.to_string()))?;
        let cert = ck.cert.pem();
        let key = ck.signing_key.serialize_pem();
        let cfg = RustlsConfig::from_pem(cert.clone().into_bytes(), key.into_bytes())
            .await
            .map_err(ServeError::Tls)?;
        (Some(cert), Some(cfg))
    } else {
        (None, None)
    };
    let scheme = if opts.tls { "https" } else { "http" };
    let listener = std::net::TcpListener::bind(opts.bind).map_err(|source| ServeError::Bind {
        addr: opts.bind,
        source,
    })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Bind {
        addr: opts.bind,
        source,
    })?;
    let base_url = opts
        .public_url
        .clone()
        .unwrap_or_else(|| format!("{scheme}://{}", display_addr(addr)));
    let state = AppState {
        sim: Arc::clone(&sim),
        scheme,
        public_url: opts.public_url.clone(),
        forwarder: opts.forwarder.clone(),
        release: opts.release,
        auth: Arc::new(crate::auth::Auth::new(opts.session_lifetime)),
        mqtt: crate::mqtt::MqttBroker::default(),
        ext_faults: opts.ext_faults.clone(),
    };
    let mqtt = state.mqtt.clone();
    let auth = Arc::clone(&state.auth);
    // Faults cover the vCD API only: the extra routes and the vCenter's
    // are merged after the layer.
    let mut app = crate::rest::router(state).layer(axum::middleware::from_fn_with_state(
        opts.http_faults.clone(),
        crate::rest::faults::middleware,
    ));
    if let Some(extra) = opts.extra_routes {
        app = app.merge(extra);
    }
    let mut listeners = Vec::new();
    let vcenter_url = match opts.vcenter_bind {
        Some(vaddr) => {
            let vl = std::net::TcpListener::bind(vaddr).map_err(|source| ServeError::Bind {
                addr: vaddr,
                source,
            })?;
            let real = vl.local_addr().map_err(|source| ServeError::Bind {
                addr: vaddr,
                source,
            })?;
            let router = opts.vcenter_routes.unwrap_or_default();
            let router = match &opts.wrap {
                Some(wrap) => wrap(router),
                None => router,
            };
            listeners.push(spawn(vl, router, tls.clone())?);
            format!("{scheme}://{}", display_addr(real))
        }
        None => {
            if let Some(v) = opts.vcenter_routes {
                app = app.merge(v);
            }
            format!("{scheme}://{}", display_addr(addr))
        }
    };
    // vCD shows the URL the vCenter really listens on, port included.
    let names: Vec<String> = opts
        .world
        .vcenters
        .iter()
        .filter(|v| v.url.is_none())
        .map(|v| v.name.clone())
        .collect();
    for name in names {
        sim.set_vcenter_url(&name, &vcenter_url);
    }
    if let Some(wrap) = &opts.wrap {
        app = wrap(app);
    }
    listeners.push(spawn(listener, app, tls)?);
    Ok(SimHandle {
        base_url,
        addr,
        vcenter_url,
        cert_pem,
        sim,
        world,
        amqp_url: opts.amqp_url,
        http_faults: opts.http_faults,
        listeners,
        mqtt,
        auth,
    })
}

fn display_addr(addr: SocketAddr) -> String {
    addr.to_string()
}

enum Stopper {
    Tls(axum_server::Handle<SocketAddr>),
    Plain(oneshot::Sender<()>),
}

struct Listener {
    stop: Stopper,
    task: JoinHandle<()>,
}

fn spawn(
    listener: std::net::TcpListener,
    router: Router,
    tls: Option<RustlsConfig>,
) -> Result<Listener, ServeError> {
    listener.set_nonblocking(true).map_err(ServeError::Tls)?;
    // Early answers (401, 413, 404) must reach HTTP/2 clients as statuses.
    let router = router.layer(axum::middleware::from_fn(
        crate::unread_body::keep_unread_body,
    ));
    match tls {
        Some(cfg) => {
            let handle = axum_server::Handle::new();
            let server = axum_server::from_tcp_rustls(listener, cfg)
                .map_err(ServeError::Tls)?
                .handle(handle.clone());
            let task = tokio::spawn(async move {
                if let Err(e) = server
                    .serve(router.into_make_service_with_connect_info::<SocketAddr>())
                    .await
                {
                    tracing::error!("vcd-sim listener stopped: {e}");
                }
            });
            Ok(Listener {
                stop: Stopper::Tls(handle),
                task,
            })
        }
        None => {
            let l = tokio::net::TcpListener::from_std(listener).map_err(ServeError::Tls)?;
            let (tx, rx) = oneshot::channel();
            let task = tokio::spawn(async move {
                let r = axum::serve(
                    l,
                    router.into_make_service_with_connect_info::<SocketAddr>(),
                )
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                });
                if let Err(e) = r.await {
                    tracing::error!("vcd-sim listener stopped: {e}");
                }
            });
            Ok(Listener {
                stop: Stopper::Plain(tx),
                task,
            })
        }
    }
}

/// A running simulator.
pub struct SimHandle {
    /// `scheme://host:port` of the vCD API (the API root is `{base_url}/api`).
    pub base_url: String,
    /// The address the vCD listener is bound to.
    pub addr: SocketAddr,
    /// The URL vCD shows for its vCenter(s).
    pub vcenter_url: String,
    /// The self-signed certificate (HTTPS only), for clients to trust.
    pub cert_pem: Option<String>,
    sim: Arc<Sim>,
    world: World,
    amqp_url: Option<String>,
    http_faults: RestFaults,
    listeners: Vec<Listener>,
    mqtt: crate::mqtt::MqttBroker,
    auth: Arc<crate::auth::Auth>,
}

/// Credentials of one account in the info file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccountInfo {
    /// Org of the account.
    pub org: String,
    /// User name.
    pub user: String,
    /// Password.
    pub password: String,
}

/// A tenant account with the VDC and network it creates clusters in.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TenantInfo {
    /// Org of the account.
    pub org: String,
    /// User name.
    pub user: String,
    /// Password.
    pub password: String,
    /// VDC for clusters.
    pub vdc: String,
    /// Org network for clusters.
    pub network: String,
}

/// A vCenter as vCD has it registered.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct VcenterInfo {
    /// Name in vCD.
    pub name: String,
    /// SDK URL (`https://host:port/sdk`).
    pub url: String,
    /// User name.
    pub user: String,
    /// Password.
    pub password: String,
}

/// What `--info-file` holds and `serve` prints.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SimInfo {
    /// Base URL of vCD (`scheme://host:port`).
    pub vcd_url: String,
    /// The vCenters.
    pub vcenters: Vec<VcenterInfo>,
    /// A system administrator's account.
    pub sysadmin: AccountInfo,
    /// Tenant accounts.
    pub tenants: Vec<TenantInfo>,
    /// The AMQP URL extension routing uses, when not in memory.
    pub amqp_url: Option<String>,
}

impl SimHandle {
    /// The simulated vCD's state (inspection).
    pub fn state(&self) -> &Arc<Sim> {
        &self.sim
    }

    /// The world the state was built from (AMQP URL applied).
    pub fn world(&self) -> &World {
        &self.world
    }

    /// The MQTT extension bus (broker counters, the drop-connections fault).
    pub fn mqtt(&self) -> &crate::mqtt::MqttBroker {
        &self.mqtt
    }

    /// CloudAPI sessions and API tokens.
    pub fn auth(&self) -> &Arc<crate::auth::Auth> {
        &self.auth
    }

    /// The run-time fault rules of the vCD REST API (add, remove, count hits).
    pub fn http_faults(&self) -> &RestFaults {
        &self.http_faults
    }

    /// URLs and credentials of this instance.
    pub fn info(&self) -> SimInfo {
        let sys = &self.world.system_users[0];
        let vcs = self
            .sim
            .read()
            .vcenters
            .values()
            .map(|v| (v.name.clone(), v.url.clone()))
            .collect::<Vec<_>>();
        SimInfo {
            vcd_url: self.base_url.clone(),
            vcenters: self
                .world
                .vcenters
                .iter()
                .map(|v| VcenterInfo {
                    name: v.name.clone(),
                    url: vcs
                        .iter()
                        .find(|(n, _)| *n == v.name)
                        .map(|(_, u)| u.clone())
                        .unwrap_or_default(),
                    user: v.username.clone(),
                    password: v.password.clone(),
                })
                .collect(),
            sysadmin: AccountInfo {
                org: "System".into(),
                user: sys.name.clone(),
                password: sys.password.clone(),
            },
            tenants: self
                .world
                .orgs
                .iter()
                .flat_map(|o| {
                    let vdc = o.vdcs.first();
                    o.users
                        .iter()
                        .filter(|u| u.role != RoleName::SystemAdministrator)
                        .map(move |u| TenantInfo {
                            org: o.name.clone(),
                            user: u.name.clone(),
                            password: u.password.clone(),
                            vdc: vdc.map(|v| v.name.clone()).unwrap_or_default(),
                            network: vdc
                                .and_then(|v| v.networks.first())
                                .map(|n| n.name.clone())
                                .unwrap_or_default(),
                        })
                })
                .collect(),
            amqp_url: self.amqp_url.clone(),
        }
    }

    /// Stops every listener and waits for them.
    pub async fn shutdown(self) {
        for l in self.listeners {
            match l.stop {
                Stopper::Tls(h) => h.graceful_shutdown(Some(Duration::from_secs(1))),
                Stopper::Plain(tx) => {
                    let _ = tx.send(());
                }
            }
            let _ = l.task.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amqp_urls_become_vcd_settings() {
        let mut w = World::default_world();
        apply_amqp_url(&mut w, "amqp://cse:s%40cret@broker.local:5673/%2f").unwrap();
        assert_eq!(
            (w.amqp.host.as_str(), w.amqp.port, w.amqp.username.as_str()),
            ("broker.local", 5673, "cse")
        );
        assert_eq!(w.amqp.password, "s@cret");
        assert_eq!(w.amqp.vhost, "/");
        assert!(!w.amqp.use_ssl);
        apply_amqp_url(&mut w, "amqps://h/vh").unwrap();
        assert_eq!(
            (w.amqp.port, w.amqp.vhost.as_str(), w.amqp.use_ssl),
            (5671, "vh", true)
        );
        assert!(apply_amqp_url(&mut w, "http://h").is_err());
        assert!(apply_amqp_url(&mut w, "not a url").is_err());
    }
}

#[cfg(all(test, unix))]
mod info_file_tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn the_info_file_is_readable_by_its_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("info.json");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_info_file(&path, "{\"password\": \"x\"}").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"password\": \"x\"}"
        );
    }
}
