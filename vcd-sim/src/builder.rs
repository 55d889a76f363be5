//! The one way to start a simulator: [`SimBuilder`] collects every setting
//! (world, clock, listeners, TLS, guests, broker, REST fault rules) and starts
//! either the whole simulator ([`SimBuilder::start`]: vCD REST over the guest
//! model, the simulated vCenter and vCD's extension routing, see
//! [`crate::assembly`]) or the vCD REST listener alone over guests of the
//! caller's choice ([`SimBuilder::start_vcd`], see [`crate::serve`]).
//!
//! # Example
//!
//! Start the whole simulator, log in as the system administrator and list
//! the organisations:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let sim = vcd_sim::SimBuilder::new().start().await?;
//! let info = sim.handle.info();
//! let http = reqwest::Client::new();
//! let login = http
//!     .post(format!("{}/api/sessions", sim.base_url()))
//!     .basic_auth(format!("{}@System", info.sysadmin.user), Some(&info.sysadmin.password))
//!     .header("Accept", "application/*+xml;version=32.0")
//!     .send()
//!     .await?;
//! assert_eq!(login.status(), 200);
//! let token = login.headers()["x-vcloud-authorization"].to_str()?.to_owned();
//! let orgs = http
//!     .get(format!("{}/api/org", sim.base_url()))
//!     .header("x-vcloud-authorization", token)
//!     .header("Accept", "application/*+xml;version=32.0")
//!     .send()
//!     .await?
//!     .text()
//!     .await?;
//! assert!(orgs.contains("<OrgList"));
//! assert!(orgs.contains("name=\"System\""));
//! sim.shutdown().await;
//! # Ok(())
//! # }
//! ```

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;

use crate::assembly::{AssemblyError, AssemblyOptions, BusChoice, FullSim, assemble};
use crate::clock::Clock;
use crate::ext::ExtensionForwarder;
use crate::guest::GuestTimings;
use crate::guest_api::GuestLifecycle;
use crate::rest::faults::RestFaults;
use crate::serve::{ServeError, SimHandle, VcdOptions, start_vcd};
use crate::world::World;

/// Builds and starts a simulator (see the [module documentation](self)).
#[derive(Default)]
pub struct SimBuilder {
    vcd: VcdOptions,
    assembly: AssemblyOptions,
}

impl SimBuilder {
    /// The default world, an instant clock, plain HTTP on an ephemeral
    /// loopback port, the vCenter on the vCD listener, a fresh in-memory
    /// broker, vCD's 10 s extensibility timeout and no fault rules.
    pub fn new() -> Self {
        Self::default()
    }

    /// The world (orgs, users, VDCs, catalogs, vCenters) to start from.
    pub fn world(mut self, world: World) -> Self {
        self.vcd.world = world;
        self
    }

    /// The time scale every simulated delay goes through.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.vcd.clock = clock;
        self
    }

    /// The vCD listener's address (default: an ephemeral loopback port).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.vcd.bind = addr;
        self
    }

    /// HTTPS with a self-signed certificate on every listener (default: plain HTTP).
    pub fn https(mut self, on: bool) -> Self {
        self.vcd.tls = on;
        self
    }

    /// Fixed public base URL for hrefs (default: the request's Host).
    pub fn public_url(mut self, url: impl Into<String>) -> Self {
        self.vcd.public_url = Some(url.into());
        self
    }

    /// Routes merged into the vCD listener, outside the REST fault layer.
    pub fn extra_routes(mut self, r: Router) -> Self {
        self.vcd.extra_routes = Some(r);
        self
    }

    /// A listener of its own for the vCenter (default: the vCD listener).
    pub fn vcenter_bind(mut self, addr: SocketAddr) -> Self {
        self.vcd.vcenter_bind = Some(addr);
        self
    }

    /// How long the template import task stays running after the last byte.
    pub fn import_linger(mut self, d: Duration) -> Self {
        self.vcd.import_linger = d;
        self
    }

    /// Tasks follow vCD's strict rules (see [`crate::state::SimConfig`]).
    pub fn strict_tasks(mut self, on: bool) -> Self {
        self.vcd.strict_tasks = on;
        self
    }

    /// The REST fault rules applied to the vCD API (default: a fresh, empty
    /// set); pass one to share it with whoever injects faults.
    pub fn http_faults(mut self, faults: RestFaults) -> Self {
        self.vcd.http_faults = faults;
        self
    }

    /// The vCD release to play (default: 9.5): the API versions served and
    /// advertised, the legacy login routes, CloudAPI sessions, API tokens.
    pub fn vcd_release(mut self, release: crate::release::VcdRelease) -> Self {
        self.vcd.release = release;
        self
    }

    /// How long a CloudAPI JWT lives (`exp - iat`; default 24 hours).
    pub fn session_lifetime(mut self, lifetime: Duration) -> Self {
        self.vcd.session_lifetime = lifetime;
        self
    }

    /// Wraps every listener's whole router (vCD and vCenter) in the
    /// caller's layers, e.g. to count or record every exchange.
    pub fn wrap_listeners(mut self, wrap: crate::serve::ListenerWrap) -> Self {
        self.vcd.wrap = Some(wrap);
        self
    }

    /// Guest boot and tools timings of the guest model ([`Self::start`] only).
    pub fn guest_timings(mut self, timings: GuestTimings) -> Self {
        self.assembly.timings = Some(timings);
        self
    }

    /// The broker vCD's extension routing publishes to ([`Self::start`] only;
    /// default: a fresh in-memory broker).
    pub fn bus(mut self, bus: BusChoice) -> Self {
        self.assembly.bus = bus;
        self
    }

    /// vCD's `extensibility.timeout` ([`Self::start`] only).
    pub fn extension_timeout(mut self, timeout: Duration) -> Self {
        self.assembly.extension_timeout = timeout;
        self
    }

    /// The guests behind the VMs ([`Self::start_vcd`] only; default: guests
    /// that record what they are asked).
    pub fn guests(mut self, guests: Arc<dyn GuestLifecycle>) -> Self {
        self.vcd.guests = Some(guests);
        self
    }

    /// Where requests matching an extension's API filters go
    /// ([`Self::start_vcd`] only; default: nowhere, answered 404).
    pub fn extension_forwarder(mut self, f: Arc<dyn ExtensionForwarder>) -> Self {
        self.vcd.forwarder = Some(f);
        self
    }

    /// The vCenter SOAP router (`/sdk`, file transfers) ([`Self::start_vcd`]
    /// only), served on the [`Self::vcenter_bind`] listener if set, else on
    /// the vCD listener.
    pub fn vcenter_routes(mut self, r: Router) -> Self {
        self.vcd.vcenter_routes = Some(r);
        self
    }

    /// The broker reported in the info ([`Self::start_vcd`] only; the
    /// routing itself is the extension forwarder's).
    pub fn amqp_url(mut self, url: impl Into<String>) -> Self {
        self.vcd.amqp_url = Some(url.into());
        self
    }

    /// Starts the whole simulator (vCD over the guest model, the vCenter,
    /// the extension routing); returns once the listeners accept connections.
    pub async fn start(self) -> Result<FullSim, AssemblyError> {
        let vcd_only = [
            ("guests", self.vcd.guests.is_some()),
            ("extension_forwarder", self.vcd.forwarder.is_some()),
            ("vcenter_routes", self.vcd.vcenter_routes.is_some()),
            ("amqp_url", self.vcd.amqp_url.is_some()),
        ];
        if let Some((name, _)) = vcd_only.into_iter().find(|(_, set)| *set) {
            return Err(AssemblyError::VcdOnlySetting(name));
        }
        assemble(self.vcd, self.assembly).await
    }

    /// Starts the vCD REST listener alone, over the guests, forwarder and
    /// vCenter routes given; returns once it accepts connections.
    pub async fn start_vcd(self) -> Result<SimHandle, ServeError> {
        start_vcd(self.vcd).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_full_simulator_refuses_vcd_only_settings() {
        let guests = Arc::new(crate::state::guests::RecordingGuests::new());
        let err = SimBuilder::new().guests(guests).start().await.err();
        assert!(
            matches!(err, Some(AssemblyError::VcdOnlySetting("guests"))),
            "{err:?}"
        );
    }
}
