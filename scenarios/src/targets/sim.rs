//! The simulator target: the full simulator (vCD REST, vCenter, guests,
//! extension routing) and the real CSE server (`cse run`'s serving loop) in
//! this process, joined by an in-memory broker, a RabbitMQ at a URL, or
//! (`transport: mqtt`) the simulated vCD's own MQTT broker, reached by the
//! server's `MqttBus` over a real websocket on loopback. The server gets a
//! config file written next to a generated Photon OVA, exactly what an
//! administrator's `cse install` would use. `cse-scenario serve` keeps one
//! of these running.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use cse_bus::{Bus, MemoryBroker, RabbitBus};
use cse_core::config::{Config, IpAllocationMode, Seconds, Secret, TemplateConfig, VcenterConfig};
use cse_server::cli::FixedBus;
use cse_server::context::Context;
use cse_server::server::{ServeOptions, serve};
use sha2::{Digest, Sha256};
use tokio::task::JoinHandle;
use vcd_sim::assembly::BusChoice;
use vcd_sim::clock::Clock;
use vcd_sim::control::Observer;
use vcd_sim::faults::FaultRule;
use vcd_sim::guest::{FaultScope, GuestFaultKind, GuestTimings};
use vcd_sim::ova::{self, OvaSpec};
use vcd_sim::world::World;
use vcd_sim::{FullSim, SimBuilder};

use super::{Target, TargetResult, run_cse};
use crate::api::VcdApi;
use crate::format::{
    ClockStep, FaultStep, ServerState, SimStep, SimulatorSpec, TargetKind, Tenant, Transport,
    WorldSpec,
};

/// The catalog `cse install` fills (the default world's published one).
pub const CATALOG: &str = "cse";
/// The template the config names.
pub const TEMPLATE: &str = "photon-v2";

/// A running embedded server.
struct ServerTask {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: JoinHandle<anyhow::Result<()>>,
}

/// The simulator and the server in this process.
pub struct SimTarget {
    /// The simulator (vCD, vCenter, guests, extension routing) the server talks to.
    pub sim: FullSim,
    /// The bus `cse` commands get (the in-memory broker, or RabbitMQ); the
    /// server serves on it too, unless the config has an `mqtt` section.
    bus: Arc<dyn Bus>,
    transport: Transport,
    broker: Option<MemoryBroker>,
    dir: tempfile::TempDir,
    config_path: PathBuf,
    config: Config,
    context: Arc<Context>,
    api: VcdApi,
    server: Option<ServerTask>,
    exit: Option<Result<(), String>>,
    normal_timings: GuestTimings,
}

/// How to start the simulator target.
#[derive(Debug, Clone, Default)]
pub struct SimSettings {
    /// Route extension requests over RabbitMQ at this URL instead of memory.
    pub amqp_url: Option<String>,
    /// Where relative world files are found.
    pub base_dir: PathBuf,
    /// Counts every vCD and vCenter operation the simulator serves
    /// (benchmarks reporting calls per cluster).
    pub observer: Option<Arc<Observer>>,
}

impl SimTarget {
    /// Starts the simulator; runs `cse install` and starts the server when
    /// `spec.installed`.
    pub async fn start(spec: &SimulatorSpec, settings: &SimSettings) -> Result<SimTarget, String> {
        Self::start_with(spec, settings, |_| {}).await
    }

    /// [`SimTarget::start`] with the generated config changed by `configure`
    /// before it is written (benchmarks setting production poll intervals).
    pub async fn start_with(
        spec: &SimulatorSpec,
        settings: &SimSettings,
        configure: impl FnOnce(&mut Config),
    ) -> Result<SimTarget, String> {
        cse_bus::tls::install_crypto_provider();
        spec.check_transport()?;
        if spec.transport == Transport::Mqtt && settings.amqp_url.is_some() {
            return Err(
                "--amqp-url routes requests over RabbitMQ; it cannot be used with transport mqtt"
                    .into(),
            );
        }
        let world = load_world(&spec.world, &settings.base_dir)?;
        let clock = Clock::controlled(spec.time_scale);
        let bus_choice = match &settings.amqp_url {
            Some(url) => BusChoice::Rabbit(url.clone()),
            None => BusChoice::Memory(MemoryBroker::new()),
        };
        let mut builder = SimBuilder::new()
            .world(world)
            .clock(clock)
            .https(true)
            .bus(bus_choice);
        builder = builder.vcd_release(spec.vcd_release);
        if let Some(observer) = &settings.observer {
            builder = builder.wrap_listeners(observer.wrap());
        }
        if let Some(timeout) = spec.extension_timeout {
            builder = builder.extension_timeout(timeout);
        }
        let sim = builder
            .start()
            .await
            .map_err(|e| format!("the simulator did not start: {e}"))?;
        let normal_timings = sim.guests.timings();
        let (bus, broker): (Arc<dyn Bus>, Option<MemoryBroker>) = match &settings.amqp_url {
            Some(url) => (
                Arc::new(RabbitBus::from_url(url).map_err(|e| e.to_string())?),
                None,
            ),
            None => {
                let broker = sim
                    .memory_broker
                    .clone()
                    .ok_or("the simulator has no in-memory broker")?;
                (Arc::new(broker.connect()), Some(broker))
            }
        };
        let dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
        // The generated config (passwords) and the reply journal live here: 0700.
        cse_core::config::create_private_dir(dir.path()).map_err(|e| e.to_string())?;
        let (ova_path, sha256) = write_ova(dir.path())?;
        let info = sim.handle.info();
        let mut config = config_for(&info, &ova_path, &sha256, spec);
        if let Some(url) = &settings.amqp_url {
            apply_amqp_url(&mut config, url)?;
        }
        if spec.transport == Transport::Mqtt {
            // `cse install` registers the extension and writes its token.
            config.mqtt = Some(super::mqtt::section());
        }
        configure(&mut config);
        let config_path = dir.path().join("config.yaml");
        write_private(&config_path, &config.to_yaml())?;
        let context = Arc::new(
            Context::new(config.clone(), config_path.display().to_string())
                .map_err(|e| format!("cannot set up the vCD client: {e}"))?,
        );
        let api = VcdApi::new(sim.base_url(), false).map_err(|e| e.to_string())?;
        api.negotiate().await.map_err(|e| e.to_string())?;
        let mut target = SimTarget {
            sim,
            bus,
            transport: spec.transport,
            broker,
            dir,
            config_path,
            config,
            context,
            api,
            server: None,
            exit: None,
            normal_timings,
        };
        if spec.installed {
            let (code, output) = target.cse(&["install", "--yes"]).await;
            if code != 0 {
                return Err(format!("cse install failed:\n{output}"));
            }
            target.start_server().await?;
        }
        Ok(target)
    }

    /// The config file the server and `cse` use.
    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    /// The server's configuration, as loaded from [`SimTarget::config_path`].
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The server's config and bus: on MQTT its token read from where
    /// `cse install` wrote it (as `cse run` does) and the simulated vCD's
    /// broker, else the simulator's AMQP bus.
    fn server_config_and_bus(&self) -> Result<(Config, Arc<dyn Bus>), String> {
        let mut config = self.config.clone();
        cse_server::cli::mqtt::fill_token(&mut config, &self.config_path)
            .map_err(|e| e.to_string())?;
        let bus: Arc<dyn Bus> = match cse_server::amqp::mqtt_bus(&config)
            .map_err(|e| format!("the MQTT broker's address: {e}"))?
        {
            Some(mqtt) => Arc::new(mqtt),
            None => Arc::clone(&self.bus),
        };
        Ok((config, bus))
    }

    /// Starts the server and waits until it consumes requests.
    pub async fn start_server(&mut self) -> Result<(), String> {
        if self.server_state() == Some(ServerState::Running) {
            return Ok(());
        }
        let ready = Arc::new(tokio::sync::Notify::new());
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let options = ServeOptions {
            config_file: self.config_path.display().to_string(),
            skip_check: false,
            state_dir: Some(self.dir.path().join("cse-state")),
            ready: Some(Arc::clone(&ready)),
        };
        let (config, bus) = self.server_config_and_bus()?;
        let mut handle = tokio::spawn(serve(config, bus, options, async move {
            let _ = stop_rx.await;
            Ok(())
        }));
        tokio::select! {
            () = ready.notified() => {}
            result = &mut handle => {
                return Err(match result {
                    Ok(Ok(())) => "the server stopped at once".to_owned(),
                    Ok(Err(e)) => format!("the server did not start: {e:#}"),
                    Err(e) => format!("the server task failed: {e}"),
                });
            }
            () = tokio::time::sleep(Duration::from_secs(60)) => {
                return Err("the server did not start listening within 60 s".into());
            }
        }
        self.exit = None;
        self.server = Some(ServerTask {
            stop: Some(stop_tx),
            handle,
        });
        Ok(())
    }

    /// Stops the server as SIGTERM would and waits for it.
    pub async fn stop_server(&mut self) {
        if let Some(mut server) = self.server.take() {
            if let Some(stop) = server.stop.take() {
                let _ = stop.send(());
            }
            let result = (&mut server.handle).await;
            self.exit = Some(flatten(result));
        }
    }

    /// Resolves when the server exits (never when none runs).
    pub async fn server_exited(&mut self) -> Result<(), String> {
        match self.server.as_mut() {
            Some(server) => {
                let result = (&mut server.handle).await;
                self.server = None;
                let result = flatten(result);
                self.exit = Some(result.clone());
                result
            }
            None => std::future::pending().await,
        }
    }
}

fn flatten(result: Result<anyhow::Result<()>, tokio::task::JoinError>) -> Result<(), String> {
    match result {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("{e:#}")),
        Err(e) => Err(e.to_string()),
    }
}

fn load_world(spec: &WorldSpec, base: &Path) -> Result<World, String> {
    match spec {
        WorldSpec::Default => Ok(World::default_world()),
        WorldSpec::Generated { seed, orgs } => {
            if *orgs == 0 {
                return Err("a generated world needs at least one org".into());
            }
            Ok(World::generated(*seed, *orgs))
        }
        WorldSpec::File(path) => {
            let path = base.join(path);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read world {}: {e}", path.display()))?;
            World::from_yaml(&text).map_err(|e| format!("world {}: {e}", path.display()))
        }
    }
}

/// Writes a file holding secrets: 0600 from its creation on.
fn write_private(path: &Path, text: &str) -> Result<(), String> {
    cse_core::config::write_private_file(path, text.as_bytes()).map_err(|e| e.to_string())
}

/// Writes a small Photon OVA into `dir`; its path and sha256.
pub fn write_ova(dir: &Path) -> Result<(PathBuf, String), String> {
    let ova = ova::build_ova(&OvaSpec::photon(4096)).map_err(|e| e.to_string())?;
    let path = dir.join("photon-custom-hw11-2.0-304b817.ova");
    std::fs::write(&path, &ova).map_err(|e| format!("writing the OVA: {e}"))?;
    Ok((path, hex::encode(Sha256::digest(&ova))))
}

/// The `amqp` section for a broker URL.
pub fn apply_amqp_url(config: &mut Config, url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("bad AMQP URL: {e}"))?;
    config.amqp.host = parsed.host_str().unwrap_or("127.0.0.1").to_owned();
    config.amqp.port = parsed.port().unwrap_or(5672);
    if !parsed.username().is_empty() {
        config.amqp.username = parsed.username().to_owned();
    }
    if let Some(password) = parsed.password() {
        config.amqp.password = Secret::new(password);
    }
    let vhost = parsed.path().trim_start_matches('/');
    config.amqp.vhost = if vhost.is_empty() || vhost == "%2f" || vhost == "%2F" {
        "/".into()
    } else {
        vhost.to_owned()
    };
    config.amqp.ssl = parsed.scheme() == "amqps";
    Ok(())
}

/// A config for the simulator: the System administrator, vCenter, org acme's
/// `vdc1`/`net1`, catalog [`CATALOG`], one Photon template built from the
/// generated OVA, deadlines scaled to the simulator's time scale.
pub fn config_for(
    info: &vcd_sim::serve::SimInfo,
    ova: &Path,
    sha256: &str,
    spec: &SimulatorSpec,
) -> Config {
    let mut config = cse_core::config::sample_model();
    let world = vcd_sim::world::World::default_world();
    config.amqp.host = world.amqp.host.clone();
    config.amqp.port = world.amqp.port;
    config.amqp.exchange = world.amqp.exchange.clone();
    config.vcd.host = info.vcd_url.clone();
    config.vcd.username = info.sysadmin.user.clone();
    config.vcd.password = Some(Secret::new(info.sysadmin.password.clone()));
    config.vcd.verify = false;
    // The 1.2.x sample's 29.0 on vCD 9.5; a 10.x profile does not serve it, so
    // there the server negotiates (CloudAPI login from 33.0).
    if spec.vcd_release != vcd_sim::VcdRelease::V9_5 {
        config.vcd.api_version = "auto".into();
    }
    config.vcs = info
        .vcenters
        .iter()
        .map(|v| VcenterConfig {
            name: v.name.clone(),
            username: v.user.clone(),
            password: Secret::new(v.password.clone()),
            verify: false,
        })
        .collect();
    config.broker.org = "acme".into();
    config.broker.vdc = "vdc1".into();
    config.broker.network = "net1".into();
    config.broker.catalog = CATALOG.into();
    config.broker.storage_profile = "*".into();
    config.broker.ip_allocation_mode = IpAllocationMode::Pool;
    let photon = config
        .template(TEMPLATE)
        .cloned()
        .unwrap_or_else(|| config.broker.templates[0].clone());
    config.broker.templates = vec![TemplateConfig {
        source_ova: format!("file://{}", ova.display()),
        sha256_ova: sha256.to_owned(),
        ..photon
    }];
    config.broker.default_template = TEMPLATE.into();
    // Deadlines shrink with the clock: simulated minutes take milliseconds.
    let factor = if spec.time_scale <= 0.0 {
        100
    } else {
        (1.0 / spec.time_scale).round().clamp(1.0, 100.0) as u32
    };
    config.timeouts = cse_core::config::Timeouts::default().scaled_down(factor);
    // HTTP exchanges take real time whatever the clock's scale: scaled down,
    // a loaded simulator's answers would time out (and their connections be
    // dropped) while the work goes on. So does a lease claim's metadata
    // write: its settle stays real, capped by the scaled lease (ttl / 8).
    let real = cse_core::config::Timeouts::default();
    config.timeouts.http_connect = real.http_connect;
    config.timeouts.http_request = real.http_request;
    config.timeouts.lease_claim_settle = real.lease_claim_settle;
    let poll = Seconds::from_millis(if spec.time_scale <= 0.0 { 5 } else { 20 });
    config.timeouts.vcd_task_poll_interval = poll;
    config.timeouts.guest_ops_poll_interval = poll;
    if let Some(max) = spec.max_operations {
        config.service.max_operations = max;
    }
    if let Some(listeners) = spec.listeners {
        config.service.listeners = listeners;
    }
    config
}

#[async_trait::async_trait(?Send)]
impl Target for SimTarget {
    fn kind(&self) -> TargetKind {
        TargetKind::Sim
    }

    fn api(&self) -> &VcdApi {
        &self.api
    }

    fn context(&self) -> &Arc<Context> {
        &self.context
    }

    fn tenants(&self) -> BTreeMap<String, Tenant> {
        let mut first_users = Vec::new();
        for tenant in self.sim.handle.info().tenants {
            if !first_users
                .iter()
                .any(|t: &vcd_sim::serve::TenantInfo| t.org == tenant.org)
            {
                first_users.push(tenant);
            }
        }
        first_users
            .into_iter()
            .enumerate()
            .map(|(index, t)| {
                (
                    format!("org{}", index + 1),
                    Tenant {
                        org: t.org,
                        user: t.user,
                        password: t.password,
                    },
                )
            })
            .collect()
    }

    async fn cse(&mut self, args: &[&str]) -> (i32, String) {
        run_cse(
            args,
            &self.config_path,
            &FixedBus(Arc::clone(&self.bus)),
            self.dir.path().join("cse_cache"),
        )
        .await
    }

    async fn installed(&mut self) -> TargetResult<()> {
        self.start_server().await
    }

    async fn fault(&mut self, fault: &FaultStep) -> TargetResult<String> {
        match fault {
            FaultStep::Vcd(rule) => crate::faults::add_vcd_fault(&self.sim, rule),
            FaultStep::SlowTools { boot } => {
                let mut timings = self.normal_timings.clone();
                timings.boot = *boot;
                self.sim.guests.set_timings(timings);
                Ok(format!("guests boot in {boot:?} (simulated)"))
            }
            FaultStep::ToolsNeverReady => {
                self.sim
                    .guests
                    .add_fault(FaultRule::new(
                        FaultScope::Global,
                        GuestFaultKind::ToolsNeverReady,
                    ))
                    .map_err(|e| e.to_string())?;
                Ok("VMware Tools never start".into())
            }
            FaultStep::GuestOpsUnavailable { calls } => {
                self.sim
                    .guests
                    .add_fault(
                        FaultRule::new(FaultScope::Global, GuestFaultKind::OpsUnavailable)
                            .times(*calls),
                    )
                    .map_err(|e| e.to_string())?;
                Ok(format!("the next {calls} guest operations fail"))
            }
            FaultStep::BrokerRestart { down_for } if self.transport == Transport::Mqtt => {
                let mqtt = self.sim.handle.mqtt();
                let dropped = mqtt.stop();
                tokio::time::sleep(*down_for).await;
                mqtt.start();
                Ok(format!(
                    "MQTT broker was down for {down_for:?} ({dropped} connection(s) dropped)"
                ))
            }
            FaultStep::BrokerRestart { down_for } => {
                let broker = self.broker.as_ref().ok_or(
                    "a broker restart needs the in-memory broker (run without --amqp-url)",
                )?;
                broker.stop();
                tokio::time::sleep(*down_for).await;
                broker.start();
                Ok(format!("broker was down for {down_for:?}"))
            }
            FaultStep::Clear => {
                crate::faults::clear_vcd_faults(&self.sim);
                self.sim.guests.clear_faults();
                self.sim.guests.set_timings(self.normal_timings.clone());
                Ok("all faults cleared".into())
            }
        }
    }

    async fn clock(&mut self, step: &ClockStep) -> TargetResult<String> {
        step.check()?;
        let clock = self.sim.handle.state().clock();
        if let Some(x) = step.time_scale {
            clock.set_scale(x);
        }
        if let Some(d) = step.advance {
            clock.advance(d);
            self.sim.guests.advance_guest_time(d);
        }
        Ok(step.describe())
    }

    async fn sim(&mut self, step: &SimStep) -> TargetResult<String> {
        // What the control API acts on (the release only matters to `about`).
        let targets = vcd_sim::control::Targets::of(&self.sim, vcd_sim::VcdRelease::default());
        match step {
            SimStep::Reset => targets.reset(Some(&self.normal_timings))?,
            SimStep::Save(path) => {
                vcd_sim::snapshot::save_file(Path::new(path), &targets.export_snapshot())
                    .map_err(|e| e.to_string())?;
            }
            SimStep::Load(path) => {
                let snapshot =
                    vcd_sim::snapshot::load_file(Path::new(path)).map_err(|e| e.to_string())?;
                targets
                    .import_snapshot(snapshot)
                    .map_err(|e| format!("snapshot {path}: {e}"))?;
            }
        }
        Ok(step.describe())
    }

    fn server_state(&mut self) -> Option<ServerState> {
        let running = self
            .server
            .as_ref()
            .is_some_and(|s| !s.handle.is_finished());
        Some(if running {
            ServerState::Running
        } else {
            ServerState::Exited
        })
    }

    async fn wait_server_exit(&mut self, within: Duration) -> TargetResult<String> {
        if self.server.is_none() {
            return match &self.exit {
                Some(Ok(())) => Ok("the server had exited".into()),
                Some(Err(e)) => Err(format!("the server had failed: {e}")),
                None => Err("no server was started".into()),
            };
        }
        match tokio::time::timeout(within, self.server_exited()).await {
            Ok(Ok(())) => Ok("the server exited".into()),
            Ok(Err(e)) => Err(format!("the server failed: {e}")),
            Err(_) => Err(format!("the server still runs after {within:?}")),
        }
    }

    async fn shutdown(mut self: Box<Self>) {
        self.stop_server().await;
        let SimTarget { sim, .. } = *self;
        sim.shutdown().await;
    }
}
