//! The simulated vCenter: the vim25 SOAP subset CSE and pyVmomi use
//! (`/sdk`), version negotiation (`/sdk/vimServiceVersions.xml`) and guest
//! file transfers (`/guestFile`), backed by the guest model through
//! [`GuestOps`].
//!
//! ```
//! use std::sync::Arc;
//! use vcd_sim::guest_api::GuestOps;
//! use vcd_sim::vsphere::{VCenterConfig, VCenterSim};
//!
//! /// The vCenter listener's routes (`serve` mounts them on `--vcenter-bind`).
//! fn vcenter_routes(guests: Arc<dyn GuestOps>) -> axum::Router {
//!     let config = VCenterConfig::new("vc1").with_user("administrator@vsphere.local", "secret");
//!     VCenterSim::new(config, guests).router()
//! }
//! ```
//!
//! Serve the router with `into_make_service_with_connect_info::<SocketAddr>()`
//! so sessions record the client address. Transfer URLs point at the host and
//! port the SOAP request named (`Host`), unless `public_base_url` is set.
//!
//! Module map: `xml_tree` (request parsing), `xml_out` and `values` (response
//! writing), `faults`, `sessions`, `service_content`, `properties` (what each
//! object exposes), `property_collector` (RetrievePropertiesEx, Fetch),
//! `guest_ops`, `transfers`, `views`, `injection`, `dispatch`, `http`.

mod dispatch;
pub mod faults;
mod guest_ops;
mod http;
pub mod injection;
mod properties;
mod property_collector;
pub mod service_content;
pub mod sessions;
pub mod transfers;
pub mod values;
mod views;
pub mod xml_out;
pub mod xml_tree;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::guest_api::GuestOps;

pub use dispatch::SOAP_METHODS;
pub use faults::VimFault;
pub use injection::{
    InjectedFault, TRANSFER_GET, TRANSFER_PUT, VimCall, VimFaultRule, VimFaults, VimMatch,
};
pub use properties::vm_uuid;
pub use service_content::API_VERSION;

/// Configuration of one simulated vCenter.
#[derive(Clone)]
pub struct VCenterConfig {
    /// The vCenter's name (as registered in vCD).
    pub name: String,
    /// vCenter logins: user name → password.
    pub users: BTreeMap<String, String>,
    /// `about.instanceUuid`.
    pub instance_uuid: String,
    /// Base of transfer URLs (`https://esx-01.sim.test:443`). `None`: the
    /// host and port the SOAP request came in on (HTTPS).
    pub public_base_url: Option<url::Url>,
    /// Give out `https://*:port/…` transfer URLs as ESXi does (only to test
    /// clients that must replace `*`).
    pub star_transfer_host: bool,
    /// Idle time after which a session expires (vCenter default: 30 min).
    pub session_idle_timeout: Duration,
    /// Lifetime of a transfer URL (10 min).
    pub transfer_ttl: Duration,
}

impl VCenterConfig {
    /// A vCenter with no users, a random instance UUID and default timeouts.
    pub fn new(name: impl Into<String>) -> Self {
        VCenterConfig {
            name: name.into(),
            users: BTreeMap::new(),
            instance_uuid: uuid::Uuid::new_v4().to_string(),
            public_base_url: None,
            star_transfer_host: false,
            session_idle_timeout: Duration::from_secs(30 * 60),
            transfer_ttl: Duration::from_secs(10 * 60),
        }
    }

    /// Adds a vCenter login.
    pub fn with_user(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.users.insert(user.into(), password.into());
        self
    }
}

impl fmt::Debug for VCenterConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VCenterConfig")
            .field("name", &self.name)
            .field(
                "users",
                &self
                    .users
                    .keys()
                    .map(|u| (u, "***"))
                    .collect::<BTreeMap<_, _>>(),
            )
            .field("instance_uuid", &self.instance_uuid)
            .field(
                "public_base_url",
                &self.public_base_url.as_ref().map(url::Url::as_str),
            )
            .field("star_transfer_host", &self.star_transfer_host)
            .field("session_idle_timeout", &self.session_idle_timeout)
            .field("transfer_ttl", &self.transfer_ttl)
            .finish()
    }
}

/// Shared state behind the routes.
pub(crate) struct Inner {
    config: VCenterConfig,
    guests: Arc<dyn GuestOps>,
    sessions: sessions::SessionStore,
    transfers: transfers::TransferStore,
    views: views::ViewStore,
    faults: VimFaults,
    /// vcsim's bug of never sending `exitCode` 0, reproduced on demand.
    omit_zero_exit_codes: std::sync::atomic::AtomicBool,
    calls: parking_lot::Mutex<std::collections::VecDeque<String>>,
}

/// How many SOAP method names the call log keeps.
const CALL_LOG_LIMIT: usize = 10_000;

impl Inner {
    fn record_call(&self, method: &str) {
        let mut calls = self.calls.lock();
        if calls.len() == CALL_LOG_LIMIT {
            calls.pop_front();
        }
        calls.push_back(method.to_owned());
    }
}

/// A simulated vCenter. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct VCenterSim {
    inner: Arc<Inner>,
}

impl fmt::Debug for VCenterSim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VCenterSim")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl VCenterSim {
    /// A vCenter serving `config` with guest operations answered by `guests`.
    pub fn new(config: VCenterConfig, guests: Arc<dyn GuestOps>) -> Self {
        let inner = Inner {
            sessions: sessions::SessionStore::new(config.session_idle_timeout),
            transfers: transfers::TransferStore::new(config.transfer_ttl),
            views: views::ViewStore::default(),
            faults: VimFaults::new(),
            omit_zero_exit_codes: std::sync::atomic::AtomicBool::new(false),
            calls: parking_lot::Mutex::new(std::collections::VecDeque::new()),
            config,
            guests,
        };
        VCenterSim {
            inner: Arc::new(inner),
        }
    }

    /// `/sdk`, `/sdk/vimServiceVersions.xml` and `/guestFile`.
    pub fn router(&self) -> axum::Router {
        http::router(self.inner.clone())
    }

    /// The settings it was built with.
    pub fn config(&self) -> &VCenterConfig {
        &self.inner.config
    }

    /// Sessions logged in and not expired (CSE 1.2.x leaks one per call).
    pub fn live_sessions(&self) -> usize {
        self.inner.sessions.live_count()
    }

    /// Transfer URLs handed out and not yet used or expired.
    pub fn open_transfers(&self) -> usize {
        self.inner.transfers.open_count()
    }

    /// Invalidates a VM's open transfer URLs (call on power-off, suspend,
    /// reboot or unregister).
    pub fn invalidate_transfers(&self, vm: &str) {
        self.inner.transfers.invalidate_vm(vm);
    }

    /// The fault rules of this vCenter: make SOAP methods (by name, e.g.
    /// `ListProcessesInGuest`) or transfers ([`TRANSFER_PUT`],
    /// [`TRANSFER_GET`]) wait, fail or stall.
    pub fn faults(&self) -> &VimFaults {
        &self.inner.faults
    }

    /// SOAP method names received, oldest first (the last 10 000).
    pub fn call_log(&self) -> Vec<String> {
        self.inner.calls.lock().iter().cloned().collect()
    }

    /// Reproduces vcsim's bug of never sending `exitCode` 0.
    pub fn set_omit_zero_exit_codes(&self, omit: bool) {
        self.inner
            .omit_zero_exit_codes
            .store(omit, std::sync::atomic::Ordering::Relaxed);
    }
}
