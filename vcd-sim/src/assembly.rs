//! The whole simulator put together: vCD's REST API over the guest model, the
//! simulated vCenter (SOAP `/sdk` and file transfers) over the same guests, and
//! vCD's API-extension routing over a message bus (in memory or RabbitMQ).
//!
//! `vcd-sim serve`, the scenario runner and the end-to-end tests all start the
//! simulator through [`FullSimBuilder`], so they exercise one assembly.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use cse_bus::{Bus, BusError, MemoryBroker, RabbitBus};

use crate::clock::Clock;
use crate::ext::router::{ExtensionRouter, RouterOptions};
use crate::guest::{GuestConfig, GuestTimings, GuestWorld};
use crate::rest::faults::HttpFaults;
use crate::serve::{ServeError, SimBuilder, SimHandle};
use crate::vsphere::{VCenterConfig, VCenterSim};
use crate::world::World;

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
    #[error(transparent)]
    Serve(#[from] ServeError),
    #[error("bad AMQP URL for the simulator's extension routing: {0}")]
    Bus(#[from] BusError),
    #[error("the world describes no vCenter; the simulator needs at least one")]
    NoVcenter,
}

/// Builds and starts the full simulator.
pub struct FullSimBuilder {
    world: World,
    clock: Clock,
    timings: Option<GuestTimings>,
    https: bool,
    bind: Option<SocketAddr>,
    vcenter_bind: Option<SocketAddr>,
    bus: BusChoice,
    extension_timeout: Duration,
    http_faults: Option<HttpFaults>,
    customize: Option<Box<dyn FnOnce(SimBuilder) -> SimBuilder + Send>>,
}

impl Default for FullSimBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl FullSimBuilder {
    /// The default world, an instant clock, plain HTTP on a loopback port, the
    /// vCenter on the vCD listener, a fresh in-memory broker and vCD's 10 s
    /// extensibility timeout.
    pub fn new() -> Self {
        FullSimBuilder {
            world: World::default_world(),
            clock: Clock::instant(),
            timings: None,
            https: false,
            bind: None,
            vcenter_bind: None,
            bus: BusChoice::Memory(MemoryBroker::new()),
            extension_timeout: crate::ext::router::DEFAULT_TIMEOUT,
            http_faults: None,
            customize: None,
        }
    }

    pub fn world(mut self, world: World) -> Self {
        self.world = world;
        self
    }

    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Guest boot and tools timings (default: the guest model's defaults).
    pub fn guest_timings(mut self, timings: GuestTimings) -> Self {
        self.timings = Some(timings);
        self
    }

    /// HTTPS with a self-signed certificate on both listeners.
    pub fn https(mut self, on: bool) -> Self {
        self.https = on;
        self
    }

    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = Some(addr);
        self
    }

    /// A listener of its own for the vCenter (default: the vCD listener).
    pub fn vcenter_bind(mut self, addr: SocketAddr) -> Self {
        self.vcenter_bind = Some(addr);
        self
    }

    pub fn bus(mut self, bus: BusChoice) -> Self {
        self.bus = bus;
        self
    }

    /// vCD's `extensibility.timeout`.
    pub fn extension_timeout(mut self, timeout: Duration) -> Self {
        self.extension_timeout = timeout;
        self
    }

    /// Shares these REST fault rules with the simulator (default: a fresh
    /// set, reachable through [`FullSim::http_faults`]).
    pub fn http_faults(mut self, faults: HttpFaults) -> Self {
        self.http_faults = Some(faults);
        self
    }

    /// Further settings of the vCD side (fault routes, task timings, ...).
    pub fn customize(mut self, f: impl FnOnce(SimBuilder) -> SimBuilder + Send + 'static) -> Self {
        self.customize = Some(Box::new(f));
        self
    }

    /// Starts everything; returns once the listeners accept connections.
    pub async fn start(self) -> Result<FullSim, AssemblyError> {
        let vcenter = self
            .world
            .vcenters
            .first()
            .ok_or(AssemblyError::NoVcenter)?;
        let mut guest_config = GuestConfig::instant(self.world.seed);
        guest_config.clock = self.clock;
        if let Some(timings) = self.timings {
            guest_config.timings = timings;
        }
        let guests = GuestWorld::new(guest_config);
        let mut vcenter_config = VCenterConfig::new(vcenter.name.clone())
            .with_user(vcenter.username.clone(), vcenter.password.clone());
        for other in self.world.vcenters.iter().skip(1) {
            vcenter_config =
                vcenter_config.with_user(other.username.clone(), other.password.clone());
        }
        let vcenter_sim = VCenterSim::new(vcenter_config, Arc::new(guests.clone()));

        let (bus, amqp_url, memory_broker): (Arc<dyn Bus>, Option<String>, Option<MemoryBroker>) =
            match &self.bus {
                BusChoice::Memory(broker) => {
                    (Arc::new(broker.connect()), None, Some(broker.clone()))
                }
                BusChoice::Rabbit(url) => {
                    (Arc::new(RabbitBus::from_url(url)?), Some(url.clone()), None)
                }
            };
        let router = ExtensionRouter::with_options(
            Arc::clone(&bus),
            RouterOptions::with_prefix(&self.world.amqp.prefix, self.extension_timeout),
        );

        let mut builder = SimBuilder::new()
            .world(self.world.clone())
            .clock(self.clock)
            .guests(Arc::new(guests.clone()))
            .extension_forwarder(Arc::new(router))
            .vcenter_routes(vcenter_sim.router())
            .https(self.https);
        if let Some(addr) = self.bind {
            builder = builder.bind(addr);
        }
        if let Some(addr) = self.vcenter_bind {
            builder = builder.vcenter_bind(addr);
        }
        if let Some(url) = &amqp_url {
            builder = builder.amqp_url(url.clone());
        }
        if let Some(faults) = self.http_faults {
            builder = builder.http_faults(faults);
        }
        if let Some(customize) = self.customize {
            builder = customize(builder);
        }
        let handle = builder.start().await?;
        Ok(FullSim {
            handle,
            guests,
            vcenter: vcenter_sim,
            bus,
            memory_broker,
        })
    }
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
}

impl FullSim {
    /// `scheme://host:port` of the vCD API.
    pub fn base_url(&self) -> &str {
        &self.handle.base_url
    }

    /// The run-time fault rules of the vCD REST API.
    pub fn http_faults(&self) -> &HttpFaults {
        self.handle.http_faults()
    }

    /// Stops the listeners.
    pub async fn shutdown(self) {
        self.handle.shutdown().await;
    }
}
