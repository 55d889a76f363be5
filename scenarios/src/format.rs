//! The scenario file format: a name, which targets it runs on, how the
//! embedded simulator is set up, the tenants it acts as, and a list of steps.
//! Every step is a one-key mapping (`- create_cluster: {...}`) with an
//! optional `label`; unknown keys anywhere are errors naming the step.
//! The format is documented in `scenarios/FORMAT.md`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// Why a scenario file was refused.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file's path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid YAML or breaks a rule of the format.
    #[error("{path}: not a valid scenario: {message}")]
    Invalid {
        /// The file's path.
        path: String,
        /// What is wrong, naming the step where there is one.
        message: String,
    },
}

/// Where a scenario runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    /// The simulator and the server in this process.
    Sim,
    /// A running vCD with a CSE server behind it.
    Live,
}

impl fmt::Display for TargetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TargetKind::Sim => "sim",
            TargetKind::Live => "live",
        })
    }
}

/// How vCD hands `/api/cse` requests to the server.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize, clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    /// An AMQP exchange (RabbitMQ, or the simulator's in-memory broker), as
    /// CSE 1.2.x: the default.
    #[default]
    Amqp,
    /// vCD's MQTT extension bus (`wss://<vcd>/messaging/mqtt`, vCD 10.2+;
    /// the simulator's 10.3+ releases).
    Mqtt,
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::Amqp => "amqp",
            Transport::Mqtt => "mqtt",
        })
    }
}

/// A whole scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Shown in the report; needs not be unique.
    pub name: String,
    /// Free text for readers of the file; not used by the runner.
    #[serde(default)]
    pub description: String,
    /// Targets the scenario can run on (default: both).
    #[serde(default = "both_targets")]
    pub targets: Vec<TargetKind>,
    /// The embedded simulator (ignored on a live target).
    #[serde(default)]
    pub simulator: SimulatorSpec,
    /// Tenants by the name steps use in `as:` (default: the simulator's
    /// `alice`, `bob` of acme and `carol` of beta).
    #[serde(default = "default_tenants")]
    pub tenants: BTreeMap<String, Tenant>,
    /// Values steps fall back on.
    #[serde(default)]
    pub defaults: Defaults,
    /// The steps, replayed in order until one fails.
    pub steps: Vec<Step>,
}

fn both_targets() -> Vec<TargetKind> {
    vec![TargetKind::Sim, TargetKind::Live]
}

/// The tenants of the simulator's default world.
pub fn default_tenants() -> BTreeMap<String, Tenant> {
    [
        ("alice", "acme", "alice-pw"),
        ("bob", "acme", "bob-pw"),
        ("carol", "beta", "carol-pw"),
    ]
    .into_iter()
    .map(|(user, org, password)| {
        (
            user.to_owned(),
            Tenant {
                org: org.to_owned(),
                user: user.to_owned(),
                password: password.to_owned(),
            },
        )
    })
    .collect()
}

/// A vCD user the scenario acts as.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Tenant {
    /// The vCD organization the user logs in to.
    pub org: String,
    /// The user name (without `@org`).
    pub user: String,
    /// The user's password (never printed by `Debug`).
    pub password: String,
}

impl fmt::Debug for Tenant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{} (password hidden)", self.user, self.org)
    }
}

/// Fallbacks for steps.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// The tenant of steps without `as:`.
    #[serde(default = "default_tenant")]
    pub tenant: String,
    /// The VDC of steps that name none (default: the server config's).
    pub vdc: Option<String>,
    /// The org network of steps that name none (default: the server config's).
    pub network: Option<String>,
    /// How long a followed task may run before the step fails.
    #[serde(default = "default_task_timeout", deserialize_with = "duration")]
    pub task_timeout: Duration,
}

fn default_tenant() -> String {
    "alice".into()
}

fn default_task_timeout() -> Duration {
    Duration::from_secs(300)
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            tenant: default_tenant(),
            vdc: None,
            network: None,
            task_timeout: default_task_timeout(),
        }
    }
}

/// The embedded simulator and server of the `sim` target.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulatorSpec {
    /// Simulated durations × this factor (0: no delays).
    #[serde(default)]
    pub time_scale: f64,
    /// The world (default: the simulator's built-in one).
    #[serde(default, deserialize_with = "one_key_enum")]
    pub world: WorldSpec,
    /// Run `cse install` before the first step (default true).
    #[serde(default = "yes")]
    pub installed: bool,
    /// vCD's extension timeout (default 10 s).
    #[serde(default, deserialize_with = "optional_duration")]
    pub extension_timeout: Option<Duration>,
    /// `service.max_operations` of the server (default: the config's).
    pub max_operations: Option<u32>,
    /// `service.listeners` of the server (default: the config's).
    pub listeners: Option<u32>,
    /// The vCD release the simulator plays (`9.5`, `10.0`, `10.3`, `10.4`,
    /// `10.6`; default 9.5).
    #[serde(default, deserialize_with = "release")]
    pub vcd_release: vcd_sim::VcdRelease,
    /// How requests reach the server (`amqp`, the default, or `mqtt`, which
    /// needs a `vcd_release` of 10.3 or later); `cse-scenario run
    /// --transport` overrides it.
    #[serde(default)]
    pub transport: Transport,
}

impl SimulatorSpec {
    /// Refuses a transport the release does not have (MQTT before 10.3).
    pub fn check_transport(&self) -> Result<(), String> {
        if self.transport == Transport::Mqtt && !self.vcd_release.has_mqtt() {
            return Err(format!(
                "transport mqtt needs vCD 10.3 or later, but the simulator plays vCD {} \
                 (set simulator.vcd_release, or pass --vcd-release 10.6)",
                self.vcd_release
            ));
        }
        Ok(())
    }
}

fn release<'de, D: serde::Deserializer<'de>>(d: D) -> Result<vcd_sim::VcdRelease, D::Error> {
    // YAML reads 10.0 as a number: accept numbers and strings alike
    let v = serde_yaml::Value::deserialize(d)?;
    let text = match &v {
        serde_yaml::Value::String(s) => s.clone(),
        serde_yaml::Value::Number(n) => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            format!("{f:.1}")
        }
        _ => String::new(),
    };
    text.parse().map_err(serde::de::Error::custom)
}

fn yes() -> bool {
    true
}

impl Default for SimulatorSpec {
    fn default() -> Self {
        SimulatorSpec {
            time_scale: 0.0,
            world: WorldSpec::default(),
            installed: true,
            extension_timeout: None,
            vcd_release: vcd_sim::VcdRelease::default(),
            max_operations: None,
            listeners: None,
            transport: Transport::default(),
        }
    }
}

/// Which world the simulator serves.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum WorldSpec {
    /// The built-in world (System, acme, beta).
    #[default]
    Default,
    /// A generated world: acme plus `orgs - 1` generated tenant orgs.
    Generated {
        /// Seed of the generator (same seed, same world).
        seed: u64,
        /// Number of tenant orgs, acme included (clamped to 1..=`World::MAX_GENERATED_ORGS`).
        orgs: usize,
    },
    /// A world file, relative to the scenario file.
    File(String),
}

/// One step: what it does plus an optional label for the report.
#[derive(Debug, Clone)]
pub struct Step {
    /// Shown in the report instead of the step's generated summary.
    pub label: Option<String>,
    /// What the step does.
    pub action: Action,
}

/// What a step does.
#[derive(Debug, Clone)]
pub enum Action {
    /// `install`: `cse install`.
    Install(InstallStep),
    /// `create_cluster`: `POST /api/cse` (one request per cluster).
    CreateCluster(CreateClusterStep),
    /// `add_nodes`: `POST /api/cse/{cluster}/node`.
    AddNodes(AddNodesStep),
    /// `delete_nodes`: `DELETE /api/cse/{cluster}/node`.
    DeleteNodes(DeleteNodesStep),
    /// `delete_cluster`: `DELETE /api/cse/{cluster}`.
    DeleteCluster(DeleteClusterStep),
    /// `cluster_config`: `GET /api/cse/{cluster}/config`.
    ClusterConfig(ClusterConfigStep),
    /// `system`: `/api/cse/system` as the system administrator.
    System(SystemStep),
    /// `fault`: a misbehaviour of the simulator switched on or off.
    Fault(FaultStep),
    /// `clock`: the simulator's time scale changed, or simulated time moved on.
    Clock(ClockStep),
    /// `sim`: the simulator's state reset, saved to or loaded from a snapshot.
    Sim(SimStep),
    /// `wait`: a pause, tasks to end, or the server to exit.
    Wait(WaitStep),
    /// `expect`: checks on the state reached so far.
    Expect(ExpectStep),
}

/// Every step kind, as written in files.
pub const STEP_KINDS: &[&str] = &[
    "install",
    "create_cluster",
    "add_nodes",
    "delete_nodes",
    "delete_cluster",
    "cluster_config",
    "system",
    "fault",
    "clock",
    "sim",
    "wait",
    "expect",
];

impl Action {
    /// The kind as written in files.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Install(_) => "install",
            Action::CreateCluster(_) => "create_cluster",
            Action::AddNodes(_) => "add_nodes",
            Action::DeleteNodes(_) => "delete_nodes",
            Action::DeleteCluster(_) => "delete_cluster",
            Action::ClusterConfig(_) => "cluster_config",
            Action::System(_) => "system",
            Action::Fault(_) => "fault",
            Action::Clock(_) => "clock",
            Action::Sim(_) => "sim",
            Action::Wait(_) => "wait",
            Action::Expect(_) => "expect",
        }
    }
}

/// What a request step expects of the request and, when followed, its task.
/// Without it: the request is accepted and its task succeeds.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    /// The HTTP status of the request.
    pub status: Option<u16>,
    /// Text the request's error message contains.
    pub error_contains: Option<String>,
    /// The task's end: `success` or `error`.
    pub task: Option<TaskResult>,
    /// Text the task's error message contains.
    pub task_error_contains: Option<String>,
    /// The step (request plus task) takes at most this long.
    #[serde(default, deserialize_with = "optional_duration")]
    pub within: Option<Duration>,
    /// Of the step's requests (sent at once), exactly this many are accepted
    /// and their tasks end as `task` says; the others are refused as
    /// `status` / `error_contains` say.
    pub accepted: Option<u32>,
}

impl Outcome {
    /// Checks `accepted` against the number of requests the step sends.
    fn check_accepted(&self, step: usize, requests: u32) -> Result<(), String> {
        match self.accepted {
            Some(accepted) if accepted > requests => Err(format!(
                "step {step}: `accepted: {accepted}` of only {requests} request(s)"
            )),
            Some(_) if self.status.is_some_and(|s| (200..300).contains(&s)) => Err(format!(
                "step {step}: with `accepted`, `status` is the status of the refused requests (not 2xx)"
            )),
            _ => Ok(()),
        }
    }
}

/// How a vCD task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskResult {
    /// The task ended with status `success`.
    Success,
    /// The task ended with status `error` (or was aborted or canceled).
    Error,
}

impl fmt::Display for TaskResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TaskResult::Success => "success",
            TaskResult::Error => "error",
        })
    }
}

/// `install`: `cse install` with the target's config.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstallStep {
    /// `--update`: rebuild templates that exist.
    #[serde(default)]
    pub update: bool,
    /// Only this template (`--template`).
    pub template: Option<String>,
    /// What `cse check -i` must say afterwards (default: valid).
    #[serde(default = "yes")]
    pub check: bool,
}

/// `create_cluster`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateClusterStep {
    /// Cluster name; `{i}` is replaced by 1..=count.
    pub name: String,
    /// Worker nodes (default 2, as `vcd cse cluster create`).
    #[serde(default = "two")]
    pub nodes: u32,
    /// Also create an NFS server node (`--enable-nfs`).
    #[serde(default)]
    pub nfs: bool,
    /// Create this many clusters at once (names need `{i}`).
    #[serde(default = "one")]
    pub count: u32,
    /// The VDC (default: `defaults.vdc`, then the server config's).
    pub vdc: Option<String>,
    /// The org network (default: `defaults.network`, then the server config's).
    pub network: Option<String>,
    /// Virtual CPUs per node (default: the template's).
    pub cpu: Option<u32>,
    /// Memory per node in MB (default: the template's).
    pub memory: Option<u32>,
    /// Storage profile of the nodes' disks (default: the VDC's default).
    pub storage_profile: Option<String>,
    /// Template name (default: the server config's default template).
    pub template: Option<String>,
    /// Path of a public key file.
    pub ssh_key: Option<String>,
    /// `--disable-rollback`: keep the VMs of a failed create.
    #[serde(default)]
    pub disable_rollback: bool,
    /// The tenant (a key of `tenants`) sending the request (default: `defaults.tenant`).
    #[serde(rename = "as")]
    pub tenant: Option<String>,
    /// Wait for the task before the next step (default true).
    #[serde(default = "yes")]
    pub wait: bool,
    /// Name later `wait`/`expect` steps use for the task(s).
    pub id: Option<String>,
    /// What the request and its task must do (default: accepted, task succeeds).
    #[serde(default)]
    pub expect: Outcome,
}

fn one() -> u32 {
    1
}

fn two() -> u32 {
    2
}

/// `add_nodes`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddNodesStep {
    /// Name of the cluster to grow.
    pub cluster: String,
    /// Nodes to add (≥ 1).
    #[serde(default = "one")]
    pub count: u32,
    /// `node` (worker) or `nfsd`.
    #[serde(default = "worker", rename = "type")]
    pub node_type: String,
    /// The VDC (default: `defaults.vdc`, then the server config's).
    pub vdc: Option<String>,
    /// The org network (default: `defaults.network`, then the server config's).
    pub network: Option<String>,
    /// Virtual CPUs per node (default: the template's).
    pub cpu: Option<u32>,
    /// Memory per node in MB (default: the template's).
    pub memory: Option<u32>,
    /// Storage profile of the nodes' disks (default: the VDC's default).
    pub storage_profile: Option<String>,
    /// Template name (default: the server config's default template).
    pub template: Option<String>,
    /// Path of a public key file.
    pub ssh_key: Option<String>,
    /// `--disable-rollback`: keep the VMs of a failed add.
    #[serde(default)]
    pub disable_rollback: bool,
    /// The tenant (a key of `tenants`) sending the request (default: `defaults.tenant`).
    #[serde(rename = "as")]
    pub tenant: Option<String>,
    /// Wait for the task before the next step (default true).
    #[serde(default = "yes")]
    pub wait: bool,
    /// Name later `wait`/`expect` steps use for the task(s).
    pub id: Option<String>,
    /// What the request and its task must do (default: accepted, task succeeds).
    #[serde(default)]
    pub expect: Outcome,
}

fn worker() -> String {
    "node".into()
}

/// `delete_nodes`: by name, or the last `count` workers of `cluster info`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteNodesStep {
    /// Name of the cluster to shrink.
    pub cluster: String,
    /// VM names of the nodes to delete (give this or `count`, not both).
    #[serde(default)]
    pub nodes: Vec<String>,
    /// Delete the last `count` workers that `cluster info` lists (give this or `nodes`).
    pub count: Option<u32>,
    /// Delete the VMs even if Kubernetes cannot remove the nodes.
    #[serde(default)]
    pub force: bool,
    /// The VDC (default: `defaults.vdc`, then the server config's).
    pub vdc: Option<String>,
    /// The tenant (a key of `tenants`) sending the request (default: `defaults.tenant`).
    #[serde(rename = "as")]
    pub tenant: Option<String>,
    /// Wait for the task before the next step (default true).
    #[serde(default = "yes")]
    pub wait: bool,
    /// Name later `wait`/`expect` steps use for the task(s).
    pub id: Option<String>,
    /// What the request and its task must do (default: accepted, task succeeds).
    #[serde(default)]
    pub expect: Outcome,
}

/// `delete_cluster`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteClusterStep {
    /// Name; `{i}` is replaced by 1..=count.
    pub cluster: String,
    /// Clusters to delete at once (the name needs `{i}` when > 1).
    #[serde(default = "one")]
    pub count: u32,
    /// The tenant (a key of `tenants`) sending the request (default: `defaults.tenant`).
    #[serde(rename = "as")]
    pub tenant: Option<String>,
    /// Wait for the task before the next step (default true).
    #[serde(default = "yes")]
    pub wait: bool,
    /// Name later `wait`/`expect` steps use for the task(s).
    pub id: Option<String>,
    /// What the request and its task must do (default: accepted, task succeeds).
    #[serde(default)]
    pub expect: Outcome,
}

/// `cluster_config`: the kubeconfig must contain each text.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfigStep {
    /// Name of the cluster whose kubeconfig is read.
    pub cluster: String,
    /// Texts the kubeconfig must contain (default: `apiVersion`, `clusters:`, `server:`).
    #[serde(default = "kubeconfig_markers")]
    pub contains: Vec<String>,
    /// The tenant (a key of `tenants`) sending the request (default: `defaults.tenant`).
    #[serde(rename = "as")]
    pub tenant: Option<String>,
    /// What the request must do (default: accepted).
    #[serde(default)]
    pub expect: Outcome,
}

fn kubeconfig_markers() -> Vec<String> {
    vec!["apiVersion".into(), "clusters:".into(), "server:".into()]
}

/// `system`: `GET`/`PUT /api/cse/system` as the system administrator.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemStep {
    /// Read, enable, disable or stop the service.
    pub action: SystemAction,
    /// A tenant instead of the system administrator (to show refusals).
    #[serde(rename = "as")]
    pub tenant: Option<String>,
    /// What the request and its task must do (default: accepted, task succeeds).
    #[serde(default)]
    pub expect: Outcome,
    /// For `info`: the expected `status` field (`Running`, `Disabled`, ...).
    pub status: Option<String>,
}

/// What a `system` step asks of `/api/cse/system`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SystemAction {
    /// `GET`: the service's status and version.
    Info,
    /// `PUT` `{"enabled": true}`.
    Enable,
    /// `PUT` `{"enabled": false}`.
    Disable,
    /// `PUT` `{"stopped": true}`: the server stops (vCD CSE's `system stop`).
    Stop,
}

/// `fault` (simulator only): one misbehaviour to switch on, or `clear`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultStep {
    /// vCD answers matching requests with an error status and/or late.
    Vcd(VcdFault),
    /// Guests of VMs powered on from now on boot and start tools this slowly.
    SlowTools {
        /// Time from power-on until tools report running.
        #[serde(deserialize_with = "duration")]
        boot: Duration,
    },
    /// VMware Tools never start in VMs powered on from now on.
    ToolsNeverReady,
    /// The next `calls` guest operations fail as if tools were restarting.
    GuestOpsUnavailable {
        /// Number of guest operations that fail.
        calls: u32,
    },
    /// The broker goes away for `down_for`, then comes back.
    BrokerRestart {
        /// How long the broker stays away.
        #[serde(deserialize_with = "duration")]
        down_for: Duration,
    },
    /// Every fault switched on so far is switched off.
    Clear,
}

/// `clock` (simulator, or a live `vcd-sim` with its control API): the
/// simulator's time scale from now on, and/or simulated time moved on.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockStep {
    /// Simulated durations × this from now on (0: no delays; at most 3600).
    #[serde(default)]
    pub time_scale: Option<f64>,
    /// Simulated time moves on by this: simulated waits under way (tasks,
    /// boots, guest commands) end that much earlier; guest time moves forward.
    #[serde(default, deserialize_with = "optional_duration")]
    pub advance: Option<Duration>,
}

impl ClockStep {
    /// Checks the step says something and its numbers are in bounds.
    pub fn check(&self) -> Result<(), String> {
        if self.time_scale.is_none() && self.advance.is_none() {
            return Err("a clock step needs `time_scale`, `advance` or both".into());
        }
        if let Some(x) = self.time_scale
            && !(x.is_finite() && (0.0..=vcd_sim::clock::MAX_SCALE).contains(&x))
        {
            return Err(format!(
                "clock time_scale {x} is not a number from 0 to {}",
                vcd_sim::clock::MAX_SCALE
            ));
        }
        if let Some(d) = self.advance
            && d > vcd_sim::control::MAX_ADVANCE
        {
            return Err(format!("clock advance {d:?} is more than 30 days"));
        }
        Ok(())
    }

    /// The report's words for the step.
    pub fn describe(&self) -> String {
        let mut what = Vec::new();
        if let Some(x) = self.time_scale {
            what.push(format!("time scale {x}"));
        }
        if let Some(d) = self.advance {
            what.push(format!("simulated time moved on by {d:?}"));
        }
        what.join(", ")
    }
}

/// `sim` (simulator, or a live `vcd-sim` with its control API): the
/// simulator's whole state reset, or saved to or loaded from a snapshot file
/// (`vcd_sim::snapshot`; paths relative to the current directory).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SimStep {
    /// Back to the starting world (or the `--load` snapshot): everything made
    /// since, sessions and fault rules gone.
    Reset,
    /// The simulator's state replaced by this snapshot file's.
    Load(String),
    /// The simulator's state written to this file (0600).
    Save(String),
}

impl SimStep {
    /// The report's words for the step.
    pub fn describe(&self) -> String {
        match self {
            SimStep::Reset => "the simulator is back to its starting state".into(),
            SimStep::Load(path) => format!("the simulator's state loaded from {path}"),
            SimStep::Save(path) => format!("the simulator's state saved to {path}"),
        }
    }
}

/// A vCD REST fault.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VcdFault {
    /// Answer with this status.
    pub status: Option<u16>,
    /// Answer this late.
    #[serde(default, deserialize_with = "optional_duration")]
    pub latency: Option<Duration>,
    /// Only this method.
    pub method: Option<String>,
    /// Only paths containing this text.
    pub path: Option<String>,
    /// Only the first `times` matching requests (default: until cleared).
    pub times: Option<u32>,
}

/// `wait`: a pause, tasks to end, or the server to exit.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitStep {
    /// A plain pause.
    #[serde(default, deserialize_with = "optional_duration", rename = "for")]
    pub pause: Option<Duration>,
    /// Task ids (from steps' `id`) to end; `all` for every task started.
    #[serde(default)]
    pub tasks: Vec<String>,
    /// The embedded server to exit (simulator only).
    #[serde(default)]
    pub server_exit: bool,
    /// Limit for tasks and server exit (default: `defaults.task_timeout`).
    #[serde(default, deserialize_with = "optional_duration")]
    pub within: Option<Duration>,
}

/// `expect`: checks on the state reached so far; each is reported.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectStep {
    /// The clusters a tenant sees.
    pub clusters: Option<ClustersCheck>,
    /// One cluster's shape and Kubernetes state.
    pub cluster: Option<ClusterCheck>,
    /// Tasks' results and durations.
    #[serde(default)]
    pub tasks: Vec<TaskCheck>,
    /// The embedded server: `running` or `exited` (simulator only).
    pub server: Option<ServerState>,
    /// `cse check -i` says the installation is valid (true) or not (false).
    pub installation_valid: Option<bool>,
    /// Retry the checks until they hold or this time has passed (for states
    /// reached eventually, e.g. after a broker restart).
    #[serde(default, deserialize_with = "optional_duration")]
    pub within: Option<Duration>,
}

/// The clusters `as` sees, exactly or by count.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClustersCheck {
    /// The tenant whose clusters are listed (default: `defaults.tenant`).
    #[serde(rename = "as")]
    pub tenant: Option<String>,
    /// Exactly these cluster names, in any order.
    pub names: Option<Vec<String>>,
    /// Exactly this many clusters.
    pub count: Option<usize>,
}

/// One cluster as `cluster info` shows it, plus Kubernetes inside it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterCheck {
    /// Cluster name.
    pub name: String,
    /// The tenant reading the cluster (default: `defaults.tenant`).
    #[serde(rename = "as")]
    pub tenant: Option<String>,
    /// The cluster must not exist (for this tenant).
    #[serde(default)]
    pub absent: bool,
    /// Number of master nodes.
    pub masters: Option<usize>,
    /// Number of worker nodes.
    pub workers: Option<usize>,
    /// Number of NFS server nodes.
    pub nfs: Option<usize>,
    /// Every node has an IP address.
    #[serde(default)]
    pub addresses: bool,
    /// `kubectl get nodes` on the master, through vCenter guest operations.
    pub kubernetes: Option<KubernetesCheck>,
}

/// What `kubectl get nodes` must show.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubernetesCheck {
    /// Number of nodes registered (masters + workers).
    pub nodes: Option<usize>,
    /// Every node `Ready` (default true).
    #[serde(default = "yes")]
    pub all_ready: bool,
    /// Every worker VM of the cluster is a node, and nothing else is.
    #[serde(default = "yes")]
    pub matches_vms: bool,
}

/// A task's result and duration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskCheck {
    /// A step id, or `all`.
    pub id: String,
    /// How the task ended (`success` or `error`).
    pub result: Option<TaskResult>,
    /// Text the task's error message contains.
    pub error_contains: Option<String>,
    /// Ran at most this long.
    #[serde(default, deserialize_with = "optional_duration")]
    pub within: Option<Duration>,
}

/// The embedded server's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerState {
    /// The server task is still running.
    Running,
    /// The server task has returned (e.g. after `system: stop`).
    Exited,
}

/// YAML enums are written `{variant: value}` or `variant`; the YAML library
/// wants `!variant value`, so a one-key mapping becomes a tagged value.
fn tagged(value: serde_yaml::Value) -> serde_yaml::Value {
    match value {
        serde_yaml::Value::Mapping(map) if map.len() == 1 => {
            let Some((serde_yaml::Value::String(key), inner)) = map.clone().into_iter().next()
            else {
                return serde_yaml::Value::Mapping(map);
            };
            serde_yaml::Value::Tagged(Box::new(serde_yaml::value::TaggedValue {
                tag: serde_yaml::value::Tag::new(key),
                value: inner,
            }))
        }
        other => other,
    }
}

fn one_key_enum<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let value = serde_yaml::Value::deserialize(d)?;
    serde_yaml::from_value(tagged(value)).map_err(serde::de::Error::custom)
}

fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    parse_duration(&text).map_err(serde::de::Error::custom)
}

fn optional_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let text: Option<String> = Option::deserialize(d)?;
    text.map(|t| parse_duration(&t).map_err(serde::de::Error::custom))
        .transpose()
}

/// `250ms`, `2s`, `1m 30s`, ...
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|e| format!("`{text}` is not a duration like 250ms, 2s or 1m ({e})"))
}

impl Scenario {
    /// Reads and checks a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, FormatError> {
        let text = std::fs::read_to_string(path).map_err(|source| FormatError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Scenario::parse(&text).map_err(|message| FormatError::Invalid {
            path: path.display().to_string(),
            message,
        })
    }

    /// Parses and checks scenario text.
    pub fn parse(text: &str) -> Result<Scenario, String> {
        let scenario: Scenario = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// Checks what serde cannot: references between steps and tenants.
    pub fn validate(&self) -> Result<(), String> {
        if self.steps.is_empty() {
            return Err("the scenario has no steps".into());
        }
        if self.targets.is_empty() {
            return Err("`targets` is empty; name `sim`, `live` or both".into());
        }
        if !(self.simulator.time_scale.is_finite() && self.simulator.time_scale >= 0.0) {
            return Err("simulator.time_scale must be a number ≥ 0".into());
        }
        let known_tenant = |name: &Option<String>, step: usize| -> Result<(), String> {
            let name = name.as_deref().unwrap_or(&self.defaults.tenant);
            if self.tenants.contains_key(name) || is_world_tenant(name) {
                Ok(())
            } else {
                Err(format!(
                    "step {step}: tenant `{name}` is not in `tenants` (known: {})",
                    self.tenants.keys().cloned().collect::<Vec<_>>().join(", ")
                ))
            }
        };
        let mut ids: Vec<String> = Vec::new();
        for (index, step) in self.steps.iter().enumerate() {
            let n = index + 1;
            let id = match &step.action {
                Action::CreateCluster(s) => {
                    known_tenant(&s.tenant, n)?;
                    if s.count == 0 {
                        return Err(format!("step {n}: count must be at least 1"));
                    }
                    if s.count > 1 && !s.name.contains("{i}") && s.expect.accepted.is_none() {
                        return Err(format!(
                            "step {n}: creating {} clusters needs `{{i}}` in the name (or `expect: {{accepted: N}}` for concurrent creates of one name)",
                            s.count
                        ));
                    }
                    s.expect.check_accepted(n, s.count)?;
                    s.id.clone()
                }
                Action::AddNodes(s) => {
                    known_tenant(&s.tenant, n)?;
                    if !matches!(s.node_type.as_str(), "node" | "nfsd") {
                        return Err(format!(
                            "step {n}: type `{}` is not `node` or `nfsd`",
                            s.node_type
                        ));
                    }
                    s.id.clone()
                }
                Action::DeleteNodes(s) => {
                    known_tenant(&s.tenant, n)?;
                    if s.nodes.is_empty() == s.count.is_none() {
                        return Err(format!(
                            "step {n}: give either `nodes` (names) or `count`, not both or neither"
                        ));
                    }
                    s.id.clone()
                }
                Action::DeleteCluster(s) => {
                    known_tenant(&s.tenant, n)?;
                    if s.count > 1 && !s.cluster.contains("{i}") && s.expect.accepted.is_none() {
                        return Err(format!(
                            "step {n}: deleting {} clusters needs `{{i}}` in the name (or `expect: {{accepted: N}}` for concurrent deletes of one cluster)",
                            s.count
                        ));
                    }
                    s.expect.check_accepted(n, s.count)?;
                    s.id.clone()
                }
                Action::ClusterConfig(s) => {
                    known_tenant(&s.tenant, n)?;
                    None
                }
                Action::System(s) => {
                    if s.tenant.is_some() {
                        known_tenant(&s.tenant, n)?;
                    }
                    None
                }
                Action::Wait(w) => {
                    if w.pause.is_none() && w.tasks.is_empty() && !w.server_exit {
                        return Err(format!(
                            "step {n}: wait needs `for`, `tasks` or `server_exit`"
                        ));
                    }
                    check_ids(&w.tasks, &ids, n)?;
                    None
                }
                Action::Expect(e) => {
                    if e.clusters.is_none()
                        && e.cluster.is_none()
                        && e.tasks.is_empty()
                        && e.server.is_none()
                        && e.installation_valid.is_none()
                    {
                        return Err(format!("step {n}: expect has no check"));
                    }
                    if let Some(c) = &e.clusters {
                        known_tenant(&c.tenant, n)?;
                    }
                    if let Some(c) = &e.cluster {
                        known_tenant(&c.tenant, n)?;
                    }
                    let task_ids: Vec<String> = e.tasks.iter().map(|t| t.id.clone()).collect();
                    check_ids(&task_ids, &ids, n)?;
                    None
                }
                Action::Install(_) | Action::Fault(_) => None,
                Action::Sim(SimStep::Load(path) | SimStep::Save(path))
                    if path.trim().is_empty() =>
                {
                    return Err(format!("step {n}: sim load and save need a file path"));
                }
                Action::Sim(_) => None,
                Action::Clock(c) => {
                    c.check().map_err(|e| format!("step {n}: {e}"))?;
                    None
                }
            };
            if let Some(id) = id {
                if id == "all" || ids.contains(&id) {
                    return Err(format!("step {n}: id `{id}` is reserved or used twice"));
                }
                ids.push(id);
            }
        }
        Ok(())
    }

    /// Whether any step watches the embedded server's process (`wait:
    /// server_exit`, `expect: server`), which only the simulator target runs.
    pub fn watches_server_process(&self) -> bool {
        self.steps.iter().any(|s| match &s.action {
            Action::Wait(w) => w.server_exit,
            Action::Expect(e) => e.server.is_some(),
            _ => false,
        })
    }

    /// Whether any step needs the simulator's fault injection or inspection.
    pub fn needs_simulator(&self) -> bool {
        self.steps.iter().any(|s| match &s.action {
            Action::Fault(_) | Action::Clock(_) | Action::Sim(_) => true,
            Action::Wait(w) => w.server_exit,
            Action::Expect(e) => e.server.is_some(),
            _ => false,
        })
    }
}

/// `org<N>`: the first user of the world's N-th tenant org, named by the
/// simulator target (generated worlds have generated user names).
pub fn is_world_tenant(name: &str) -> bool {
    name.strip_prefix("org")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn check_ids(wanted: &[String], known: &[String], step: usize) -> Result<(), String> {
    for id in wanted {
        if id != "all" && !known.iter().any(|k| k == id) {
            return Err(format!(
                "step {step}: no earlier step has id `{id}` (known: {})",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            ));
        }
    }
    Ok(())
}

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Step, D::Error> {
        use serde::de::Error;
        let mut map = serde_yaml::Mapping::deserialize(d)?;
        let label = match map.remove("label") {
            None => None,
            Some(serde_yaml::Value::String(s)) => Some(s),
            Some(_) => return Err(D::Error::custom("a step's `label` must be text")),
        };
        if map.len() != 1 {
            let keys: Vec<String> = map
                .keys()
                .map(|k| k.as_str().unwrap_or("?").to_owned())
                .collect();
            return Err(D::Error::custom(format!(
                "a step has exactly one kind (one of {}) besides `label`; found: {}",
                STEP_KINDS.join(", "),
                if keys.is_empty() {
                    "none".to_owned()
                } else {
                    keys.join(", ")
                }
            )));
        }
        let Some((key, value)) = map.into_iter().next() else {
            return Err(D::Error::custom("empty step"));
        };
        let kind = key.as_str().unwrap_or_default().to_owned();
        // `- install:` with nothing after it is an empty mapping.
        let value = if value.is_null() {
            serde_yaml::Value::Mapping(Default::default())
        } else {
            value
        };
        let invalid = |e: serde_yaml::Error| D::Error::custom(format!("in `{kind}`: {e}"));
        let action = match kind.as_str() {
            "install" => Action::Install(serde_yaml::from_value(value).map_err(invalid)?),
            "create_cluster" => {
                Action::CreateCluster(serde_yaml::from_value(value).map_err(invalid)?)
            }
            "add_nodes" => Action::AddNodes(serde_yaml::from_value(value).map_err(invalid)?),
            "delete_nodes" => Action::DeleteNodes(serde_yaml::from_value(value).map_err(invalid)?),
            "delete_cluster" => {
                Action::DeleteCluster(serde_yaml::from_value(value).map_err(invalid)?)
            }
            "cluster_config" => {
                Action::ClusterConfig(serde_yaml::from_value(value).map_err(invalid)?)
            }
            "system" => Action::System(serde_yaml::from_value(value).map_err(invalid)?),
            "fault" => Action::Fault(serde_yaml::from_value(tagged(value)).map_err(invalid)?),
            "clock" => Action::Clock(serde_yaml::from_value(value).map_err(invalid)?),
            "sim" => Action::Sim(serde_yaml::from_value(tagged(value)).map_err(invalid)?),
            "wait" => Action::Wait(serde_yaml::from_value(value).map_err(invalid)?),
            "expect" => Action::Expect(serde_yaml::from_value(value).map_err(invalid)?),
            other => {
                return Err(D::Error::custom(format!(
                    "unknown step kind `{other}`; known: {}",
                    STEP_KINDS.join(", ")
                )));
            }
        };
        Ok(Step { label, action })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(text: &str) -> String {
        Scenario::parse(text).unwrap_err()
    }

    #[test]
    fn the_simulator_section_names_a_vcd_release() {
        let with = |r: &str| {
            Scenario::parse(&format!(
                "name: x\nsimulator:\n  vcd_release: {r}\nsteps:\n  - install:\n"
            ))
        };
        assert_eq!(
            with("10.4").unwrap().simulator.vcd_release,
            vcd_sim::VcdRelease::V10_4
        );
        assert_eq!(
            with("10.0").unwrap().simulator.vcd_release,
            vcd_sim::VcdRelease::V10_0
        );
        assert_eq!(
            with("'9.5'").unwrap().simulator.vcd_release,
            vcd_sim::VcdRelease::V9_5
        );
        let err = format!("{:?}", with("10.5").unwrap_err());
        assert!(err.contains("10.5"), "{err}");
    }

    #[test]
    fn the_simulator_section_names_a_transport() {
        let with = |extra: &str| {
            Scenario::parse(&format!(
                "name: x\nsimulator:\n{extra}steps:\n  - install:\n"
            ))
        };
        let amqp = with("  time_scale: 0\n").unwrap().simulator;
        assert_eq!(amqp.transport, Transport::Amqp, "the default");
        assert!(amqp.check_transport().is_ok());
        let mqtt = with("  transport: mqtt\n  vcd_release: 10.6\n")
            .unwrap()
            .simulator;
        assert_eq!(mqtt.transport, Transport::Mqtt);
        assert!(mqtt.check_transport().is_ok());
        let old = with("  transport: mqtt\n").unwrap().simulator;
        let err = old.check_transport().unwrap_err();
        assert!(
            err.contains("10.3") && err.contains("vCD 9.5"),
            "names the release: {err}"
        );
        let err = format!("{:?}", with("  transport: stomp\n").unwrap_err());
        assert!(err.contains("stomp"), "{err}");
    }

    #[test]
    fn a_minimal_scenario_gets_its_defaults() {
        let s = Scenario::parse(
            "name: x\nsteps:\n  - install:\n  - label: hi\n    wait: {for: 250ms}\n",
        )
        .unwrap();
        assert_eq!(s.targets, vec![TargetKind::Sim, TargetKind::Live]);
        assert!(s.simulator.installed);
        assert_eq!(s.simulator.vcd_release, vcd_sim::VcdRelease::V9_5);
        assert_eq!(s.defaults.tenant, "alice");
        assert_eq!(s.steps[1].label.as_deref(), Some("hi"));
        match &s.steps[1].action {
            Action::Wait(w) => assert_eq!(w.pause, Some(Duration::from_millis(250))),
            other => panic!("{other:?}"),
        }
        assert!(s.tenants.contains_key("carol"));
    }

    #[test]
    fn mistakes_are_named() {
        let cases = [
            ("name: x\nsteps: []\n", "no steps"),
            (
                "name: x\nsteps:\n  - create_clustr: {name: a}\n",
                "unknown step kind `create_clustr`",
            ),
            (
                "name: x\nsteps:\n  - create_cluster: {name: a, nodez: 2}\n",
                "unknown field `nodez`",
            ),
            (
                "name: x\nsteps:\n  - wait: {for: soon}\n",
                "`soon` is not a duration",
            ),
            ("name: x\nsteps:\n  - wait: {}\n", "wait needs"),
            (
                "name: x\nsteps:\n  - wait: {tasks: [nope]}\n",
                "no earlier step has id `nope`",
            ),
            (
                "name: x\nsteps:\n  - create_cluster: {name: a, as: mallory}\n",
                "tenant `mallory`",
            ),
            (
                "name: x\nsteps:\n  - create_cluster: {name: a, count: 2}\n",
                "needs `{i}`",
            ),
            (
                "name: x\nsteps:\n  - delete_nodes: {cluster: a}\n",
                "either `nodes`",
            ),
            ("name: x\nsteps:\n  - expect: {}\n", "expect has no check"),
            (
                "name: x\nsteps:\n  - fault: {vcd: {status: 503}, clear: null}\n",
                "fault",
            ),
            (
                "name: x\nsteps:\n  - install: {}\n    wait: {for: 1s}\n",
                "exactly one kind",
            ),
            (
                "name: x\ntargets: []\nsteps:\n  - install: {}\n",
                "`targets` is empty",
            ),
            (
                "name: x\nsteps:\n  - create_cluster: {name: a, id: c}\n  - create_cluster: {name: b, id: c}\n",
                "used twice",
            ),
        ];
        for (text, wanted) in cases {
            let error = error_of(text);
            assert!(
                error.contains(wanted),
                "{text}\n→ {error}\n(wanted: {wanted})"
            );
        }
    }

    #[test]
    fn generated_org_tenants_need_no_credentials_in_the_file() {
        assert!(is_world_tenant("org2"));
        assert!(!is_world_tenant("org"));
        assert!(!is_world_tenant("orgx"));
        Scenario::parse("name: x\nsteps:\n  - create_cluster: {name: a, as: org3}\n").unwrap();
    }

    #[test]
    fn faults_read_as_written() {
        let s = Scenario::parse(
            "name: x\nsteps:\n  - fault: {vcd: {status: 503, method: GET, times: 3}}\n  - fault: {slow_tools: {boot: 2m}}\n  - fault: tools_never_ready\n  - fault: clear\n  - fault: {broker_restart: {down_for: 1s}}\n",
        )
        .unwrap();
        let kinds: Vec<String> = s
            .steps
            .iter()
            .map(|step| match &step.action {
                Action::Fault(f) => format!("{f:?}"),
                other => panic!("{other:?}"),
            })
            .collect();
        insta::assert_debug_snapshot!(kinds);
        assert!(s.needs_simulator());
    }

    #[test]
    fn clock_steps_need_something_in_bounds() {
        let s = Scenario::parse("name: x\nsteps:\n  - clock: {time_scale: 0.5, advance: 10m}\n")
            .unwrap();
        assert!(s.needs_simulator());
        match &s.steps[0].action {
            Action::Clock(c) => assert_eq!(
                c.describe(),
                "time scale 0.5, simulated time moved on by 600s"
            ),
            other => panic!("{other:?}"),
        }
        for (text, words) in [
            ("clock: {}", "needs `time_scale`"),
            ("clock: {time_scale: -1}", "time_scale -1"),
            ("clock: {advance: 900h}", "30 days"),
        ] {
            let err = Scenario::parse(&format!("name: x\nsteps:\n  - {text}\n")).unwrap_err();
            assert!(err.contains(words), "{text}: {err}");
        }
    }

    #[test]
    fn sim_steps_read_as_written() {
        let s = Scenario::parse(
            "name: x\nsteps:\n  - sim: reset\n  - sim: {save: a.json}\n  - sim: {load: a.json}\n",
        )
        .unwrap();
        let steps: Vec<&Action> = s.steps.iter().map(|s| &s.action).collect();
        assert!(matches!(steps[0], Action::Sim(SimStep::Reset)));
        assert!(matches!(steps[1], Action::Sim(SimStep::Save(p)) if p == "a.json"));
        assert!(matches!(steps[2], Action::Sim(SimStep::Load(p)) if p == "a.json"));
        assert_eq!(steps[0].kind(), "sim");
        assert!(s.needs_simulator());
        for (text, words) in [
            ("sim: restart", "unknown variant `restart`"),
            ("sim: {load: ''}", "need a file path"),
            ("sim: {save: a, load: b}", "sim"),
        ] {
            let err = Scenario::parse(&format!("name: x\nsteps:\n  - {text}\n")).unwrap_err();
            assert!(err.contains(words), "{text}: {err}");
        }
    }

    #[test]
    fn tenant_passwords_stay_out_of_debug_output() {
        let tenants = default_tenants();
        assert!(!format!("{tenants:?}").contains("alice-pw"));
    }

    proptest::proptest! {
        #[test]
        fn durations_in_milliseconds_and_seconds_parse(ms in 0u64..10_000_000) {
            proptest::prop_assert_eq!(parse_duration(&format!("{ms}ms")).unwrap(), Duration::from_millis(ms));
            proptest::prop_assert_eq!(parse_duration(&format!("{ms}s")).unwrap(), Duration::from_secs(ms));
        }

        #[test]
        fn arbitrary_text_never_panics_the_parser(text in ".{0,200}") {
            let _ = Scenario::parse(&text);
        }
    }
}
