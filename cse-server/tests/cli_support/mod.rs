//! Shared helpers of the `cse` CLI tests: a fresh full simulator, a config file
//! pointing at it, a tiny generated OVA, and a way to run `cse ...` in process.

#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cse_bus::Bus;
use cse_core::config::{Config, IpAllocationMode, Secret, TemplateConfig, VcenterConfig};
use cse_server::cli::{self, CliContext, FixedBus, Prompter, ScriptedAnswers};
use sha2::{Digest, Sha256};
use vcd_sim::ova::{self, OvaSpec};
use vcd_sim::{FullSim, SimBuilder};

/// Catalog the tests install into (not in the default world: install creates it).
pub const CATALOG: &str = "k8s-templates";
/// The template's catalog item.
pub const TEMPLATE_ITEM: &str = "photon-custom-hw11-2.0-304b817-k8s";
/// The uploaded OVA's item name.
pub const OVA_NAME: &str = "photon-custom-hw11-2.0-304b817.ova";

/// A running simulator plus a working directory with config and OVA.
pub struct Env {
    pub sim: FullSim,
    pub bus: Arc<dyn Bus>,
    pub dir: tempfile::TempDir,
    pub config_path: PathBuf,
    pub ova_path: PathBuf,
}

/// The OVF descriptor of the Photon appliance with a disk file of `disk_size` bytes.
pub fn ovf_descriptor(disk_size: usize) -> String {
    ova::ovf_descriptor(&OvaSpec::photon(disk_size))
}

/// A tiny Photon OVA (tar of the descriptor and a disk of `disk_size` bytes).
pub fn make_ova(disk_size: usize) -> Vec<u8> {
    build(OvaSpec::photon(disk_size))
}

/// A tiny Ubuntu OVA (the OS hint names Ubuntu).
pub fn make_ubuntu_ova(disk_size: usize) -> Vec<u8> {
    build(OvaSpec::ubuntu(disk_size))
}

/// The CLI tests' OVAs name their descriptor `appliance.ovf` (the sha256 in
/// their snapshots depends on it).
fn build(spec: OvaSpec) -> Vec<u8> {
    let spec = OvaSpec {
        descriptor_file: "appliance.ovf".into(),
        ..spec
    };
    ova::build_ova(&spec).expect("OVA built")
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// A config for the simulator: org acme / vdc1 / net1, catalog [`CATALOG`], one
/// Photon template built from `source_ova` with `sha256`, fast polling.
pub fn config_for(sim: &FullSim, source_ova: &str, sha256: &str) -> Config {
    let mut config = cse_core::config::sample_model();
    let world = vcd_sim::world::World::default_world();
    config.amqp.host = world.amqp.host.clone();
    config.amqp.port = world.amqp.port;
    config.amqp.exchange = world.amqp.exchange.clone();
    config.vcd.host = sim.base_url().to_owned();
    config.vcd.password = Some(Secret::new("vmware-sim-admin"));
    config.vcd.verify = false;
    config.vcs = vec![VcenterConfig {
        name: "vc1".into(),
        username: "administrator@vsphere.local".into(),
        password: Secret::new("vc-sim-pw"),
        verify: false,
    }];
    config.broker.org = "acme".into();
    config.broker.vdc = "vdc1".into();
    config.broker.network = "net1".into();
    config.broker.catalog = CATALOG.into();
    config.broker.storage_profile = "*".into();
    config.broker.ip_allocation_mode = IpAllocationMode::Pool;
    let photon = config.template("photon-v2").unwrap().clone();
    config.broker.templates = vec![TemplateConfig {
        source_ova: source_ova.to_owned(),
        sha256_ova: sha256.to_owned(),
        ..photon
    }];
    config.broker.default_template = "photon-v2".into();
    let t = &mut config.timeouts;
    for (field, secs) in [
        (&mut t.vcd_task_poll_interval, 0.01),
        (&mut t.guest_ops_poll_interval, 0.01),
    ] {
        *field = cse_core::config::Seconds::from_secs_f64(secs).unwrap();
    }
    config
}

pub fn write_config(path: &Path, config: &Config) {
    std::fs::write(path, config.to_yaml()).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

impl Env {
    /// A fresh simulator, an OVA file and a config using it as a local path.
    pub async fn start() -> Env {
        Env::start_with(SimBuilder::new()).await
    }

    /// Like [`Env::start`] with a simulator made by `builder` (a vCD release profile).
    pub async fn start_with(builder: SimBuilder) -> Env {
        cse_bus::tls::install_crypto_provider();
        let sim = builder.https(true).start().await.unwrap();
        let bus: Arc<dyn Bus> = Arc::new(sim.memory_broker.as_ref().unwrap().connect());
        let dir = tempfile::tempdir().unwrap();
        let ova = make_ova(3000);
        let ova_path = dir.path().join(OVA_NAME);
        std::fs::write(&ova_path, &ova).unwrap();
        let config_path = dir.path().join("config.yaml");
        let config = config_for(
            &sim,
            &format!("file://{}", ova_path.display()),
            &sha256_hex(&ova),
        );
        write_config(&config_path, &config);
        Env {
            sim,
            bus,
            dir,
            config_path,
            ova_path,
        }
    }

    pub fn config(&self) -> Config {
        Config::load(&self.config_path).unwrap()
    }

    pub fn set_config(&self, config: &Config) {
        write_config(&self.config_path, config);
    }

    /// Runs `cse <args>` with `-c <config>` appended; returns (exit code, output).
    pub async fn cse(&self, args: &[&str]) -> (i32, String) {
        self.cse_with(args, &mut ScriptedAnswers::default()).await
    }

    /// Like [`Env::cse`] with this prompter.
    pub async fn cse_with(&self, args: &[&str], prompter: &mut dyn Prompter) -> (i32, String) {
        let mut argv: Vec<std::ffi::OsString> = vec!["cse".into()];
        argv.extend(args.iter().map(Into::into));
        if !matches!(args.first(), Some(&"sample") | Some(&"version")) {
            argv.push("-c".into());
            argv.push(self.config_path.clone().into());
        }
        let buffer = SharedBuf::default();
        let mut out = buffer.clone();
        let mut err = buffer.clone();
        let bus = FixedBus(Arc::clone(&self.bus));
        let code = {
            let mut ctx = CliContext {
                out: &mut out,
                err: &mut err,
                prompter,
                bus: &bus,
                progress: false,
                cache_dir: self.dir.path().join("cse_cache"),
            };
            cli::main_with(argv, &mut ctx).await
        };
        (code, self.scrub(buffer.text()))
    }

    /// Output with run-specific values replaced by placeholders.
    pub fn scrub(&self, text: String) -> String {
        let dir = self.dir.path().display().to_string();
        let base = self.sim.base_url().to_owned();
        let authority = base
            .trim_start_matches("http://")
            .trim_start_matches("https://")
            .to_owned();
        text.replace(&dir, "[DIR]")
            .replace(&base, "[VCD]")
            .replace(&authority, "[HOST:PORT]")
    }

    /// What `cse install`/`uninstall` may change in vCD, as sorted lines.
    pub fn vcd_state(&self) -> Vec<String> {
        let g = self.sim.handle.state().read();
        let mut lines = Vec::new();
        for c in g.catalogs.values() {
            lines.push(format!("catalog {} published={}", c.name, c.published));
        }
        for i in g.items.values() {
            lines.push(format!("item {} -> {:?}", i.name, i.entity));
        }
        for t in g.templates.values() {
            lines.push(format!("template {} {}", t.name, t.id));
        }
        for v in g.vapps.values() {
            lines.push(format!("vapp {} {}", v.name, v.id));
        }
        for s in g.services.values() {
            lines.push(format!(
                "service {} {} enabled={} {} {}",
                s.name, s.namespace, s.enabled, s.exchange, s.routing_key
            ));
        }
        for r in g.rights.values() {
            lines.push(format!("right {}", r.name));
        }
        let a = &g.amqp;
        lines.push(format!(
            "amqp {}:{} user={} exchange={} vhost={} ssl={} accept_all={} prefix={}",
            a.host, a.port, a.username, a.exchange, a.vhost, a.use_ssl, a.ssl_accept_all, a.prefix
        ));
        lines.sort();
        lines
    }
}

/// A writer into a buffer shared by its clones (stdout and stderr interleaved as a
/// terminal shows them).
#[derive(Clone, Default)]
pub struct SharedBuf(Arc<std::sync::Mutex<Vec<u8>>>);

impl SharedBuf {
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl std::io::Write for SharedBuf {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A writer that copies everything and wakes a waiter once `marker` was written.
struct Tripwire {
    buffer: Vec<u8>,
    marker: String,
    fired: Arc<tokio::sync::Notify>,
    done: bool,
}

impl std::io::Write for Tripwire {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if !self.done && String::from_utf8_lossy(&self.buffer).contains(&self.marker) {
            self.done = true;
            self.fired.notify_one();
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Env {
    /// Runs `cse <args> -c <config>` and drops it (as a kill would stop the process)
    /// at its first pause after `marker` was printed. Returns the output and
    /// whether the run was cut short.
    pub async fn cse_killed_after(&self, args: &[&str], marker: &str) -> (bool, String) {
        let mut argv: Vec<std::ffi::OsString> = vec!["cse".into()];
        argv.extend(args.iter().map(Into::into));
        argv.push("-c".into());
        argv.push(self.config_path.clone().into());
        let fired = Arc::new(tokio::sync::Notify::new());
        let mut out = Tripwire {
            buffer: Vec::new(),
            marker: marker.to_owned(),
            fired: Arc::clone(&fired),
            done: false,
        };
        let bus = FixedBus(Arc::clone(&self.bus));
        let mut prompter = ScriptedAnswers::default();
        let mut err = Vec::new();
        let killed = {
            let mut ctx = CliContext {
                out: &mut out,
                err: &mut err,
                prompter: &mut prompter,
                bus: &bus,
                progress: false,
                cache_dir: self.dir.path().join("cse_cache"),
            };
            tokio::select! {
                biased;
                _ = fired.notified() => true,
                _ = cli::main_with(argv, &mut ctx) => false,
            }
        };
        (killed, self.scrub(String::from_utf8(out.buffer).unwrap()))
    }

    /// A simulator on which `cse install` has run: the helper for tests that need a
    /// CSE installation (tenant flows creating clusters from the built template).
    pub async fn installed() -> Env {
        let env = Env::start().await;
        let (code, out) = env.cse(&["install", "--yes"]).await;
        assert_eq!(code, 0, "{out}");
        env
    }
}
