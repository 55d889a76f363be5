//! `GuestWorld`: every simulated guest of one simulator, their disks, the
//! Kubernetes clusters spanning them and the active faults, behind one lock.
//! It implements `GuestLifecycle` (see `lifecycle`, which also removes fault
//! rules and resumes blocked boots) and `GuestOps` (see `ops`, which also
//! runs scripts as root for tests). This module runs no guest code, so the
//! shell and the programs can reach the world without an import circle.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use parking_lot::{Mutex, MutexGuard, RwLock};
use tokio::runtime::Handle;

use crate::clock::Clock;
use crate::guest_api::{DiskId, GuestFault};

use super::config::{GuestConfig, GuestTimings};
use super::disk::Disk;
use super::faults::{GuestFaultRule, GuestFaults};
use super::k8s::{Cluster, Clusters, NodeRole};
use super::vm::Vm;
use crate::faults::{FaultError, RuleId};

/// Mutable state of the world.
#[derive(Debug)]
pub struct WorldState {
    /// VMs by moref.
    pub vms: BTreeMap<String, Vm>,
    /// Disk images VMs are created from (imported templates, snapshots), by id.
    pub disks: BTreeMap<DiskId, Arc<Disk>>,
    pub(crate) next_disk: u64,
    /// Kubernetes clusters, keyed by master moref.
    pub clusters: Clusters,
    /// Guest fault rules.
    pub faults: GuestFaults,
    /// Added to the real time to get guest time (tests move it forward).
    pub time_offset: chrono::Duration,
}

impl WorldState {
    /// Guest wall-clock time.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.time_offset
    }

    /// Stores `disk` and returns its new id.
    pub(crate) fn add_disk(&mut self, disk: Disk) -> DiskId {
        self.next_disk += 1;
        let id = DiskId(self.next_disk);
        self.disks.insert(id, Arc::new(disk));
        id
    }

    /// The VM `moref`, or `ManagedObjectNotFound`.
    pub fn vm(&self, moref: &str) -> Result<&Vm, GuestFault> {
        self.vms
            .get(moref)
            .ok_or_else(|| GuestFault::ManagedObjectNotFound {
                moref: moref.to_owned(),
            })
    }

    /// The VM `moref` for changes, or `ManagedObjectNotFound`.
    pub(crate) fn vm_mut(&mut self, moref: &str) -> Result<&mut Vm, GuestFault> {
        self.vms
            .get_mut(moref)
            .ok_or_else(|| GuestFault::ManagedObjectNotFound {
                moref: moref.to_owned(),
            })
    }

    /// The powered-on VM whose guest network holds `ip`.
    pub fn vm_by_ip(&self, ip: &str) -> Option<&Vm> {
        self.vms
            .values()
            .find(|vm| vm.ip.as_deref() == Some(ip) && vm.network_up())
    }
}

struct Shared {
    state: Mutex<WorldState>,
    /// The construction parameters; `timings` here is only the initial value.
    config: GuestConfig,
    /// The timings in force (changed at run time by [`GuestWorld::set_timings`]).
    timings: RwLock<GuestTimings>,
    runtime: Option<Handle>,
}

/// All simulated guests. Cheap to clone (shared).
#[derive(Clone)]
pub struct GuestWorld {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for GuestWorld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuestWorld")
            .field("config", &self.config())
            .finish_non_exhaustive()
    }
}

/// What a test or an operator can read about a node of a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeStatus {
    /// The node's name.
    pub name: String,
    /// The VM running it.
    pub moref: String,
    /// Master or worker.
    pub role: NodeRole,
    /// Whether `kubectl get nodes` would show it `Ready`.
    pub ready: bool,
}

impl GuestWorld {
    /// A world with no VMs. Captures the current tokio runtime, if any, to run
    /// guest processes and boots on.
    pub fn new(config: GuestConfig) -> Self {
        let state = WorldState {
            vms: BTreeMap::new(),
            disks: BTreeMap::new(),
            next_disk: 0,
            clusters: Clusters::default(),
            faults: GuestFaults::new(),
            time_offset: chrono::Duration::zero(),
        };
        GuestWorld {
            shared: Arc::new(Shared {
                state: Mutex::new(state),
                timings: RwLock::new(config.timings.clone()),
                config,
                runtime: Handle::try_current().ok(),
            }),
        }
    }

    /// The world's parameters, with the timings currently in force.
    pub fn config(&self) -> GuestConfig {
        GuestConfig {
            timings: self.timings(),
            ..self.shared.config.clone()
        }
    }

    /// The simulated durations currently in force.
    pub fn timings(&self) -> GuestTimings {
        self.shared.timings.read().clone()
    }

    /// Changes the simulated durations of a running world ("slow tools",
    /// slow package installs, ...). They are read when work starts: a boot
    /// uses the timings in force at power-on for its whole sequence (a
    /// customization reboot included), a guest command those in force when it
    /// runs; boots and commands already under way keep theirs.
    pub fn set_timings(&self, timings: GuestTimings) {
        *self.shared.timings.write() = timings;
    }

    /// Back to a world with no VMs, disks, clusters or fault rules, guest
    /// time at real time and the timings it was made with. Boots under way
    /// find their VM gone and stop.
    pub fn reset(&self) {
        {
            let mut state = self.lock();
            state.faults.clear();
            state.vms.clear();
            state.disks.clear();
            state.next_disk = 0;
            state.clusters = Clusters::default();
            state.time_offset = chrono::Duration::zero();
        }
        self.set_timings(self.shared.config.timings.clone());
    }

    /// The clock of the world (time scale of every simulated delay).
    pub fn clock(&self) -> Clock {
        self.shared.config.clock.clone()
    }

    /// Locks the state. Never hold the guard across an `.await`.
    pub fn lock(&self) -> MutexGuard<'_, WorldState> {
        self.shared.state.lock()
    }

    /// A runtime to spawn background work on.
    pub(crate) fn runtime(&self) -> Option<Handle> {
        Handle::try_current()
            .ok()
            .or_else(|| self.shared.runtime.clone())
    }

    /// Guest wall-clock time.
    pub fn now(&self) -> DateTime<Utc> {
        self.lock().now()
    }

    /// Moves guest time forward (token expiry, process retention).
    pub fn advance_guest_time(&self, by: std::time::Duration) {
        let mut state = self.lock();
        state.time_offset +=
            chrono::Duration::from_std(by).unwrap_or_else(|_| chrono::Duration::zero());
    }

    /// The world's guest fault rules (list, hits, stats). Add and remove
    /// rules with [`Self::add_fault`] and the `remove`/`clear` methods here,
    /// so guests whose tools were blocked resume booting.
    pub fn faults(&self) -> GuestFaults {
        self.lock().faults.clone()
    }

    /// Adds a guest fault rule.
    pub fn add_fault(&self, rule: GuestFaultRule) -> Result<RuleId, FaultError> {
        self.lock().faults.add(rule)
    }

    /// A copy of a file of a VM's disk (test and debugging helper).
    pub fn file(&self, moref: &str, path: &str) -> Option<Vec<u8>> {
        let state = self.lock();
        let vm = state.vms.get(moref)?;
        vm.disk.fs.get(path)?.data().map(|d| d.to_vec())
    }

    /// A copy of a VM's whole disk (test and debugging helper).
    pub fn disk_of(&self, moref: &str) -> Option<Disk> {
        self.lock().vms.get(moref).map(|vm| vm.disk.clone())
    }

    /// Outcome of the last guest customization of a VM.
    pub fn customization_record(&self, moref: &str) -> Option<super::vm::CustomizationRecord> {
        self.lock()
            .vms
            .get(moref)
            .and_then(|vm| vm.customization.clone())
    }

    /// Nodes of the cluster whose master is `master_moref`, with readiness as
    /// `kubectl get nodes` reports it.
    pub fn cluster_nodes(&self, master_moref: &str) -> Vec<NodeStatus> {
        let state = self.lock();
        let Some(cluster) = state.clusters.by_master.get(master_moref) else {
            return Vec::new();
        };
        cluster
            .nodes
            .values()
            .map(|n| NodeStatus {
                name: n.name.clone(),
                moref: n.moref.clone(),
                role: n.role,
                ready: node_ready(&state, cluster, &n.moref),
            })
            .collect()
    }
}

/// Whether a node reports Ready: its VM runs, its kubelet is active and a pod
/// network exists.
pub fn node_ready(state: &WorldState, cluster: &Cluster, moref: &str) -> bool {
    let Some(vm) = state.vms.get(moref) else {
        return false;
    };
    vm.network_up()
        && cluster.has_pod_network()
        && vm.disk.services.get("kubelet").is_some_and(|s| s.active)
}
