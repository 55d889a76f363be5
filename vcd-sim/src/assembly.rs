//! The whole simulator put together: vCD's REST API over the guest model, the
//! simulated vCenter (SOAP `/sdk` and file transfers) over the same guests, and
//! vCD's API-extension routing over a message bus (in memory or RabbitMQ).
//!
//! `vcd-sim serve`, the scenario runner and the end-to-end tests all start the
//! simulator through [`crate::SimBuilder::start`], which calls [`assemble`], so
//! they exercise one assembly.

use std::sync::Arc;
use std::time::Duration;

use cse_bus::{Bus, BusError, MemoryBroker, RabbitBus};

use crate::ext::router::{ExtensionRouter, RouterOptions};
use crate::ext_faults::{ExtFaults, ExtTap, FaultingForwarder};
use crate::guest::{GuestConfig, GuestTimings, GuestWorld};
use crate::rest::faults::RestFaults;
use crate::serve::{ServeError, SimHandle, VcdOptions, start_vcd};
use crate::vsphere::{VCenterConfig, VCenterSim};

/// Which broker vCD's extension routing publishes to.
#[derive(Clone)]
pub enum BusChoice {
    /// An in-memory broker (the server must connect to the same one).
    Memory(MemoryBroker),
    /// A RabbitMQ broker at this `amqp://` URL.
    Rabbit(String),
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum AssemblyError {
    /// The vCD or vCenter listener could not start.
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// The AMQP URL for extension routing is not valid.
    #[error("bad AMQP URL for the simulator's extension routing: {0}")]
    Bus(#[from] BusError),
    /// The world has no vCenter to register.
    #[error("the world describes no vCenter; the simulator needs at least one")]
    NoVcenter,
    /// A setting that only a vCD-only simulator takes was given to the full one.
    #[error(
        "{0} is a setting of the vCD-only simulator (start_vcd); the full simulator assembles its own"
    )]
    VcdOnlySetting(&'static str),
}

/// What the full assembly adds to the vCD listener's options.
pub struct AssemblyOptions {
    /// Guest boot and tools timings (default: the guest model's defaults).
    pub timings: Option<GuestTimings>,
    /// Which broker vCD's extension routing publishes to.
    pub bus: BusChoice,
    /// vCD's `extensibility.timeout`.
    pub extension_timeout: Duration,
}

impl Default for AssemblyOptions {
    fn default() -> Self {
        AssemblyOptions {
            timings: None,
            bus: BusChoice::Memory(MemoryBroker::new()),
            extension_timeout: crate::ext::router::DEFAULT_TIMEOUT,
        }
    }
}

/// Puts the whole simulator together over `vcd` (whose guests, extension
/// forwarder and vCenter routes the assembly sets) and starts it; returns once
/// the listeners accept connections.
pub async fn assemble(
    mut vcd: VcdOptions,
    options: AssemblyOptions,
) -> Result<FullSim, AssemblyError> {
    let vcenter = vcd.world.vcenters.first().ok_or(AssemblyError::NoVcenter)?;
    let mut guest_config = GuestConfig::instant(vcd.world.seed);
    guest_config.clock = vcd.clock.clone();
    if let Some(timings) = options.timings {
        guest_config.timings = timings;
    }
    let guests = GuestWorld::new(guest_config);
    let mut vcenter_config = VCenterConfig::new(vcenter.name.clone())
        .with_user(vcenter.username.clone(), vcenter.password.clone());
    for other in vcd.world.vcenters.iter().skip(1) {
        vcenter_config = vcenter_config.with_user(other.username.clone(), other.password.clone());
    }
    let vcenter_sim = VCenterSim::new(vcenter_config, Arc::new(guests.clone()));

    let (bus, amqp_url, memory_broker): (Arc<dyn Bus>, Option<String>, Option<MemoryBroker>) =
        match &options.bus {
            BusChoice::Memory(broker) => (Arc::new(broker.connect()), None, Some(broker.clone())),
            BusChoice::Rabbit(url) => {
                (Arc::new(RabbitBus::from_url(url)?), Some(url.clone()), None)
            }
        };
    let router = ExtensionRouter::with_options(
        Arc::clone(&bus),
        RouterOptions::with_prefix(&vcd.world.amqp.prefix, options.extension_timeout),
    );
    vcd.guests = Some(Arc::new(guests.clone()));
    let ext_faults = ExtFaults::new();
    let ext_tap = ExtTap::default();
    vcd.forwarder = Some(Arc::new(FaultingForwarder::new(
        Arc::new(router),
        ext_faults.clone(),
        ext_tap.clone(),
    )));
    // Requests to MQTT extensions meet the same rules and the same tap.
    vcd.ext_faults = Some((ext_faults.clone(), ext_tap.clone()));
    vcd.vcenter_routes = Some(vcenter_sim.router());
    if amqp_url.is_some() {
        vcd.amqp_url = amqp_url;
    }
    let handle = start_vcd(vcd).await?;
    handle.mqtt().set_timeout(options.extension_timeout);
    Ok(FullSim {
        handle,
        guests,
        vcenter: vcenter_sim,
        bus,
        memory_broker,
        ext_faults,
        ext_tap,
    })
}

/// A running full simulator.
pub struct FullSim {
    /// The vCD side: URLs, certificate, state inspection.
    pub handle: SimHandle,
    /// The guest model behind every VM (inspection and fault injection).
    pub guests: GuestWorld,
    /// The simulated vCenter (sessions, transfers, SOAP fault injection).
    pub vcenter: VCenterSim,
    /// The bus vCD publishes extension requests on.
    pub bus: Arc<dyn Bus>,
    /// The in-memory broker, when one is used (the server connects to it).
    pub memory_broker: Option<MemoryBroker>,
    /// The fault rules of vCD's extension delivery.
    pub ext_faults: ExtFaults,
    /// Where an observer of every extension message is plugged in.
    pub ext_tap: ExtTap,
}

impl FullSim {
    /// `scheme://host:port` of the vCD API.
    pub fn base_url(&self) -> &str {
        &self.handle.base_url
    }

    /// The run-time fault rules of the vCD REST API.
    pub fn http_faults(&self) -> &RestFaults {
        self.handle.http_faults()
    }

    /// Stops the listeners.
    pub async fn shutdown(self) {
        self.handle.shutdown().await;
    }
}
