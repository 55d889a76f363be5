//! Snapshots: the whole simulated world (vCD entities, tasks, metadata,
//! extension registrations, guest VMs with their filesystems, disks and
//! Kubernetes clusters) as one versioned JSON document in a canonical order,
//! so that export → import → export gives the same bytes. Version 2 adds
//! each guest VM's processes and the CloudAPI API tokens (as digests);
//! version 1 documents still load (a powered-on VM then gets a freshly
//! booted process table).
//!
//! `GET /_sim/snapshot` exports, `PUT /_sim/snapshot` and
//! `vcd-sim serve --load FILE` import. A snapshot holds every account's
//! password, vCenter and AMQP credentials and guest files (private keys,
//! tokens) as they are in the simulator: it is a test fixture; files are
//! written 0600. Not in a snapshot: sessions (legacy and JWT), fault
//! rules, and work under way (a task or guest process running at export is
//! imported as running and never ends, though a process can be terminated;
//! export a quiet simulator).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::auth::Auth;
use crate::guest::GuestWorld;
use crate::guest::disk::Disk;
use crate::guest::k8s::{Cluster, Clusters};
use crate::guest::process::{ProcessRecord, ProcessTable};
use crate::guest::vm::{BootPhase, CustomizationRecord, Vm};
use crate::guest_api::{DiskId, PowerState};
use crate::state::Sim;
use crate::state::snapshot::VcdState;

/// The `format` of every snapshot.
pub const FORMAT: &str = "vcd-sim-snapshot";
/// The version written.
pub const VERSION: u32 = 2;
/// The oldest version imported (version 1 has no guest processes).
pub const OLDEST_VERSION: u32 = 1;
/// The furthest guest time may be from real time in a snapshot (100 years).
pub const MAX_TIME_OFFSET_MS: u64 = 100 * 366 * 24 * 3600 * 1000;
/// The largest snapshot imported.
pub const MAX_BYTES: usize = 64 * 1024 * 1024;

/// Why a snapshot cannot be read or imported.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Not JSON, or not a snapshot.
    #[error("not a vcd-sim snapshot: {0}")]
    Invalid(String),
    /// A version this simulator does not read.
    #[error(
        "snapshot version {0} is not supported (this simulator reads versions {OLDEST_VERSION} to {VERSION})"
    )]
    Version(u32),
    /// Larger than [`MAX_BYTES`].
    #[error("snapshot of {0} bytes is larger than the {MAX_BYTES} bytes allowed")]
    TooLarge(usize),
    /// Entities refer to ones that are missing, or appear twice.
    #[error("inconsistent snapshot: {0}")]
    Inconsistent(String),
    /// The file could not be read or written.
    #[error("snapshot file {path}: {reason}")]
    File {
        /// The path.
        path: String,
        /// What went wrong.
        reason: String,
    },
}

/// One guest VM.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuestVm {
    /// Its moref.
    pub moref: String,
    /// Its name.
    pub name: String,
    /// Power state.
    pub power: PowerState,
    /// Boot phase (work under way is exported as done).
    pub phase: BootPhase,
    /// Guest IP address.
    pub ip: Option<String>,
    /// The customization run's record.
    pub customization: Option<CustomizationRecord>,
    /// The disk: filesystem, users, packages, services, images.
    pub disk: Disk,
    /// Its processes (from version 2; absent in version 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processes: Option<GuestProcesses>,
}

/// The process table of one guest VM.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuestProcesses {
    /// The pid the next process gets.
    pub next_pid: i64,
    /// Every process listed, running or exited (and not yet pruned), by pid.
    pub list: Vec<GuestProcess>,
}

/// One guest process: a system process or a program started through guest
/// operations. The model keeps no output (programs write files, which are
/// on the disk).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuestProcess {
    /// Process id.
    pub pid: i64,
    /// Program name.
    pub name: String,
    /// The user it runs as.
    pub owner: String,
    /// The whole command line.
    pub cmd_line: String,
    /// Start, in guest time.
    pub start_time: chrono::DateTime<chrono::Utc>,
    /// End, in guest time; absent while running.
    pub end_time: Option<chrono::DateTime<chrono::Utc>>,
    /// Exit code; absent while running.
    pub exit_code: Option<i32>,
    /// Started through `StartProgramInGuest` (else a system process).
    pub via_guest_ops: bool,
}

impl GuestProcesses {
    fn of(table: &ProcessTable) -> Self {
        GuestProcesses {
            next_pid: table.next_pid(),
            list: table
                .all()
                .map(|p| GuestProcess {
                    pid: p.pid,
                    name: p.name.clone(),
                    owner: p.owner.clone(),
                    cmd_line: p.cmd_line.clone(),
                    start_time: p.start_time,
                    end_time: p.end_time,
                    exit_code: p.exit_code,
                    via_guest_ops: p.via_guest_ops,
                })
                .collect(),
        }
    }

    fn table(self, moref: &str) -> Result<ProcessTable, SnapshotError> {
        if !(0..=MAX_PID).contains(&self.next_pid) {
            return Err(SnapshotError::Inconsistent(format!(
                "guest VM {moref}: next_pid {} is not between 0 and {MAX_PID}",
                self.next_pid
            )));
        }
        let records = self
            .list
            .into_iter()
            .map(|p| ProcessRecord {
                pid: p.pid,
                name: p.name,
                owner: p.owner,
                cmd_line: p.cmd_line,
                start_time: p.start_time,
                end_time: p.end_time,
                exit_code: p.exit_code,
                cancel: tokio_util::sync::CancellationToken::new(),
                via_guest_ops: p.via_guest_ops,
            })
            .collect();
        ProcessTable::restore(self.next_pid, records)
            .map_err(|e| SnapshotError::Inconsistent(format!("guest VM {moref}: {e}")))
    }
}

/// The largest `next_pid` of a snapshot's process table.
pub const MAX_PID: i64 = 1 << 40;

/// The guest model's part.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuestState {
    /// VMs by moref.
    pub vms: Vec<GuestVm>,
    /// Disk images VMs are made from (imported templates), by id.
    pub disks: Vec<(DiskId, Disk)>,
    /// The next disk id.
    pub next_disk: u64,
    /// Kubernetes clusters, by master moref.
    pub clusters: Vec<Cluster>,
    /// Guest time ahead of real time, in milliseconds.
    pub time_offset_ms: i64,
}

/// A whole snapshot.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`VERSION`].
    pub version: u32,
    /// The vCD side.
    pub vcd: VcdState,
    /// The guests.
    pub guests: GuestState,
    /// CloudAPI API tokens (`REFRESH`, and `EXTENSION` tokens of MQTT
    /// extensions), secrets as digests; from version 2 (none in version 1).
    #[serde(default)]
    pub api_tokens: Vec<crate::auth::StoredToken>,
}

/// Where work under way at export stands once imported.
fn settled(power: PowerState, phase: BootPhase) -> BootPhase {
    match (power, phase) {
        (PowerState::PoweredOn, BootPhase::Off | BootPhase::Suspended) => BootPhase::Ready,
        (PowerState::PoweredOn, p) if p != BootPhase::ToolsBlocked => BootPhase::Ready,
        (PowerState::PoweredOn, p) => p,
        (PowerState::PoweredOff, _) => BootPhase::Off,
        (PowerState::Suspended, _) => BootPhase::Suspended,
    }
}

/// The simulator's whole state with the API tokens of `auth`.
pub fn export_with_tokens(sim: &Sim, guests: &GuestWorld, auth: &Auth) -> Snapshot {
    Snapshot {
        api_tokens: auth.export_tokens(),
        ..export(sim, guests)
    }
}

/// [`import`], and the snapshot's API tokens replace those of `auth`
/// (checked first: owners among the snapshot's users; nothing changes on
/// a refusal).
pub fn import_with_tokens(
    sim: &Sim,
    guests: &GuestWorld,
    auth: &Auth,
    snapshot: Snapshot,
) -> Result<(), SnapshotError> {
    let tokens = Auth::check_tokens(&snapshot.api_tokens).map_err(SnapshotError::Inconsistent)?;
    if let Some(t) = snapshot
        .api_tokens
        .iter()
        .find(|t| !snapshot.vcd.users.iter().any(|u| u.id == t.owner))
    {
        return Err(SnapshotError::Inconsistent(format!(
            "API token {} belongs to user {}, who is not in the snapshot",
            t.id, t.owner
        )));
    }
    import(sim, guests, snapshot)?;
    auth.replace_tokens(tokens);
    Ok(())
}

/// The simulator's whole state (without API tokens, which the listener's
/// `Auth` holds: [`export_with_tokens`]).
pub fn export(sim: &Sim, guests: &GuestWorld) -> Snapshot {
    let vcd = sim.export_state();
    let state = guests.lock();
    let vms = state
        .vms
        .values()
        .map(|vm| GuestVm {
            moref: vm.moref.clone(),
            name: vm.name.clone(),
            power: vm.power,
            phase: settled(vm.power, vm.phase),
            ip: vm.ip.clone(),
            customization: vm.customization.clone(),
            disk: vm.disk.clone(),
            processes: Some(GuestProcesses::of(&vm.processes)),
        })
        .collect();
    let guest_state = GuestState {
        vms,
        disks: state
            .disks
            .iter()
            .map(|(id, d)| (*id, Disk::clone(d)))
            .collect(),
        next_disk: state.next_disk,
        clusters: state.clusters.by_master.values().cloned().collect(),
        time_offset_ms: state.time_offset.num_milliseconds(),
    };
    Snapshot {
        format: FORMAT.into(),
        version: VERSION,
        vcd,
        guests: guest_state,
        api_tokens: Vec::new(),
    }
}

/// Replaces the simulator's whole state with `snapshot` (fault rules and
/// guest timings stay as they are; API tokens are [`import_with_tokens`]'s).
pub fn import(sim: &Sim, guests: &GuestWorld, snapshot: Snapshot) -> Result<(), SnapshotError> {
    check_header(&snapshot)?;
    let seed = id_seed(&snapshot.vcd);
    let g = snapshot.guests;
    if g.next_disk > crate::state::snapshot::MAX_COUNTER {
        return Err(SnapshotError::Inconsistent(format!(
            "guests.next_disk {} is above the most allowed, {}",
            g.next_disk,
            crate::state::snapshot::MAX_COUNTER
        )));
    }
    if g.time_offset_ms.unsigned_abs() > MAX_TIME_OFFSET_MS {
        return Err(SnapshotError::Inconsistent(format!(
            "guests.time_offset_ms {} is beyond 100 years",
            g.time_offset_ms
        )));
    }
    let now = chrono::Utc::now() + chrono::Duration::milliseconds(g.time_offset_ms);
    let mut vms = BTreeMap::new();
    for v in g.vms {
        if snapshot.version >= 2 && v.processes.is_none() {
            return Err(SnapshotError::Invalid(format!(
                "guest VM {} has no `processes` (version {} snapshots list them)",
                v.moref, snapshot.version
            )));
        }
        let mut vm = Vm::new(&v.moref, &v.name, v.disk);
        vm.power = v.power;
        vm.phase = settled(v.power, v.phase);
        vm.ip = v.ip;
        vm.customization = v.customization;
        vm.processes = match v.processes {
            Some(p) => p.table(&v.moref)?,
            // Version 1 kept no processes: a running guest has booted.
            None if v.power == PowerState::PoweredOn => ProcessTable::booted(now),
            None => ProcessTable::default(),
        };
        if vms.insert(v.moref.clone(), vm).is_some() {
            return Err(SnapshotError::Inconsistent(format!(
                "guest VM {} appears twice",
                v.moref
            )));
        }
    }
    let disks: BTreeMap<DiskId, Arc<Disk>> = g
        .disks
        .into_iter()
        .map(|(id, d)| (id, Arc::new(d)))
        .collect();
    let clusters = Clusters {
        by_master: g
            .clusters
            .into_iter()
            .map(|c| (c.master_moref.clone(), c))
            .collect(),
    };
    sim.import_state(snapshot.vcd, seed)
        .map_err(SnapshotError::Inconsistent)?;
    let mut state = guests.lock();
    state.vms = vms;
    state.disks = disks;
    state.next_disk = g.next_disk;
    state.clusters = clusters;
    state.time_offset = chrono::Duration::milliseconds(g.time_offset_ms);
    Ok(())
}

/// The seed of the ids made after a load: a hash of the ids loaded, so the
/// same snapshot always continues with the same ids, and never with the
/// sequence of a world seed (whose ids the snapshot may already hold).
fn id_seed(vcd: &VcdState) -> u64 {
    use std::hash::{Hash as _, Hasher as _};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    "vcd-sim snapshot ids".hash(&mut h);
    for id in vcd
        .orgs
        .iter()
        .map(|o| o.id)
        .chain(vcd.users.iter().map(|u| u.id))
        .chain(vcd.vapps.iter().map(|v| v.id))
        .chain(vcd.vms.iter().map(|v| v.id))
        .chain(vcd.tasks.iter().map(|t| t.id))
    {
        id.hash(&mut h);
    }
    (vcd.next_moref, vcd.next_mac).hash(&mut h);
    h.finish()
}

fn check_header(s: &Snapshot) -> Result<(), SnapshotError> {
    if s.format != FORMAT {
        return Err(SnapshotError::Invalid(format!(
            "format is `{}`, not `{FORMAT}`",
            s.format
        )));
    }
    if !(OLDEST_VERSION..=VERSION).contains(&s.version) {
        return Err(SnapshotError::Version(s.version));
    }
    Ok(())
}

/// The snapshot as canonical JSON (pretty, fields in declaration order,
/// collections in id order), ending with a newline.
pub fn to_bytes(s: &Snapshot) -> Result<Vec<u8>, SnapshotError> {
    let mut out =
        serde_json::to_vec_pretty(s).map_err(|e| SnapshotError::Invalid(e.to_string()))?;
    out.push(b'\n');
    Ok(out)
}

/// Reads a snapshot, checking its size, format and version.
pub fn from_bytes(bytes: &[u8]) -> Result<Snapshot, SnapshotError> {
    if bytes.len() > MAX_BYTES {
        return Err(SnapshotError::TooLarge(bytes.len()));
    }
    #[derive(Deserialize)]
    struct Header {
        format: Option<String>,
        version: Option<u32>,
    }
    let h: Header =
        serde_json::from_slice(bytes).map_err(|e| SnapshotError::Invalid(e.to_string()))?;
    if h.format.as_deref() != Some(FORMAT) {
        return Err(SnapshotError::Invalid(format!(
            "`format` must be `{FORMAT}`"
        )));
    }
    match h.version {
        Some(v) if (OLDEST_VERSION..=VERSION).contains(&v) => {}
        Some(v) => return Err(SnapshotError::Version(v)),
        None => return Err(SnapshotError::Invalid("`version` is missing".into())),
    }
    serde_json::from_slice(bytes).map_err(|e| SnapshotError::Invalid(e.to_string()))
}

/// Reads a snapshot file.
pub fn load_file(path: &std::path::Path) -> Result<Snapshot, SnapshotError> {
    let file_error = |reason: String| SnapshotError::File {
        path: path.display().to_string(),
        reason,
    };
    let meta = std::fs::metadata(path).map_err(|e| file_error(e.to_string()))?;
    if meta.len() > MAX_BYTES as u64 {
        return Err(SnapshotError::TooLarge(
            usize::try_from(meta.len()).unwrap_or(usize::MAX),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| file_error(e.to_string()))?;
    from_bytes(&bytes)
}

/// Writes a snapshot file (0600, replaced whole).
pub fn save_file(path: &std::path::Path, s: &Snapshot) -> Result<(), SnapshotError> {
    let bytes = to_bytes(s)?;
    cse_core::config::write_private_file(path, &bytes).map_err(|e| SnapshotError::File {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// File contents in JSON: `{"text": ...}` for UTF-8, else `{"base64": ...}`.
pub(crate) mod file_bytes {
    use base64::Engine as _;
    use bytes::Bytes;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "snake_case", deny_unknown_fields)]
    enum Content {
        Text(String),
        Base64(String),
    }

    pub(crate) fn serialize<S: Serializer>(b: &Bytes, s: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(b) {
            Ok(t) => Content::Text(t.to_owned()),
            Err(_) => Content::Base64(base64::engine::general_purpose::STANDARD.encode(b)),
        }
        .serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        match Content::deserialize(d)? {
            Content::Text(t) => Ok(Bytes::from(t)),
            Content::Base64(b) => base64::engine::general_purpose::STANDARD
                .decode(b)
                .map(Bytes::from)
                .map_err(serde::de::Error::custom),
        }
    }
}

/// A map with keys JSON cannot hold as a list of `[key, value]` pairs.
pub(crate) mod map_as_pairs {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(crate) fn serialize<K: Serialize, V: Serialize, S: Serializer>(
        m: &BTreeMap<K, V>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(m.iter())
    }

    pub(crate) fn deserialize<'de, K, V, D>(d: D) -> Result<BTreeMap<K, V>, D::Error>
    where
        K: Deserialize<'de> + Ord,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Ok(Vec::<(K, V)>::deserialize(d)?.into_iter().collect())
    }
}
