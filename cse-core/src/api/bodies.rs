//! Request bodies of the `/api/cse` routes (as vcd-cli sends them: every key present, unused
//! ones `null`; unknown keys tolerated) and their validation into typed specs carrying only
//! what a handler needs.
//!
//! Validation applies the server's `limits:` ([`Limits`]) before any work starts: node
//! counts, cluster size, vCPUs, memory, name and key lengths, and the number of nodes in a
//! delete. A value over a limit is a 400 naming the field, the value and the limit.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::config::Limits;
use crate::naming::{NodeType, validate_cluster_name};

use super::errors::ApiError;

/// Node count of a cluster create when the body leaves it `null` (vcd-cli's default).
pub const DEFAULT_CLUSTER_NODE_COUNT: u32 = 2;
/// Node count of a node create when the body leaves it `null` (vcd-cli's default).
pub const DEFAULT_ADD_NODE_COUNT: u32 = 1;

/// Parse a JSON request body. An empty (or whitespace-only, or literal `null`) body is
/// [`ApiError::MissingBody`]; anything that is not JSON of the right shape is
/// [`ApiError::InvalidBody`] (1.2.x silently treated non-JSON bodies as "no body").
pub fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|e| ApiError::InvalidBody(format!("body is not UTF-8: {e}")))?;
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed == "null" {
        return Err(ApiError::MissingBody);
    }
    serde_json::from_str(trimmed).map_err(|e| ApiError::InvalidBody(e.to_string()))
}

/// Body of `POST /api/cse`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CreateClusterBody {
    /// Cluster (vApp) name.
    pub name: Option<String>,
    /// Number of workers (may be 0; `null` → 2).
    pub node_count: Option<i64>,
    /// Org VDC name.
    pub vdc: Option<String>,
    /// vCPUs per VM (`null` → template's).
    pub cpu: Option<i64>,
    /// Memory per VM in MB (`null` → template's).
    pub memory: Option<i64>,
    /// Org VDC network name.
    pub network: Option<String>,
    /// Storage profile name.
    pub storage_profile: Option<String>,
    /// Public SSH key for root.
    pub ssh_key: Option<String>,
    /// Template name (`null` → default template).
    pub template: Option<String>,
    /// Also create an NFS node.
    pub enable_nfs: Option<bool>,
    /// Keep what a failed create built (1.2.6 flag; default false = roll back).
    pub disable_rollback: Option<bool>,
}

/// A validated cluster create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterSpec {
    /// Cluster name (validated).
    pub name: String,
    /// Number of workers.
    pub node_count: u32,
    /// Org VDC name.
    pub vdc: String,
    /// Org VDC network name.
    pub network: String,
    /// Hardware override.
    pub resources: VmResources,
    /// Storage profile name.
    pub storage_profile: Option<String>,
    /// Public SSH key.
    pub ssh_key: Option<String>,
    /// Template name (`None` → default template).
    pub template: Option<String>,
    /// Also create an NFS node.
    pub enable_nfs: bool,
    /// Keep partial results on failure.
    pub disable_rollback: bool,
}

/// Optional per-VM hardware overrides.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VmResources {
    /// vCPUs.
    pub cpu: Option<u32>,
    /// Memory in MB.
    pub memory_mb: Option<u32>,
}

impl CreateClusterBody {
    /// Parse the JSON body.
    pub fn from_json(body: &[u8]) -> Result<Self, ApiError> {
        parse_body(body)
    }

    /// Check the body against the default [`Limits`].
    pub fn validate(&self) -> Result<ClusterSpec, ApiError> {
        self.validate_with(&Limits::default())
    }

    /// Check the body. Order of checks: name present, name valid, node count ≥ 0 and within
    /// `max_node_count`, cluster size within `max_cluster_vms`, vdc and network present,
    /// name lengths, cpu/memory positive and within their limits, ssh key length.
    pub fn validate_with(&self, limits: &Limits) -> Result<ClusterSpec, ApiError> {
        let name = non_empty(&self.name).ok_or(ApiError::MissingField("name"))?;
        validate_cluster_name(&name)?;
        let node_count = match self.node_count {
            None => DEFAULT_CLUSTER_NODE_COUNT,
            Some(n) if n < 0 => return Err(ApiError::InvalidNodeCount(n)),
            Some(n) => node_count_within(n, limits)?,
        };
        let enable_nfs = self.enable_nfs.unwrap_or(false);
        let total = 1 + u64::from(node_count) + u64::from(enable_nfs);
        if total > u64::from(limits.max_cluster_vms) {
            return Err(ApiError::OverLimit {
                field: "node_count",
                value: format!(
                    "{node_count} (a cluster of {total} VMs with the master{})",
                    if enable_nfs { " and the NFS node" } else { "" }
                ),
                limit: format!("{} VMs per cluster", limits.max_cluster_vms),
                setting: "limits.max_cluster_vms",
            });
        }
        let vdc = non_empty(&self.vdc).ok_or(ApiError::MissingField("vdc"))?;
        let network = non_empty(&self.network).ok_or(ApiError::MissingField("network"))?;
        check_name_lengths(
            [
                ("vdc", &self.vdc),
                ("network", &self.network),
                ("storage_profile", &self.storage_profile),
                ("template", &self.template),
            ],
            limits,
        )?;
        let resources = resources(self.cpu, self.memory, limits)?;
        check_ssh_key(&self.ssh_key, limits)?;
        Ok(ClusterSpec {
            name,
            node_count,
            vdc,
            network,
            resources,
            storage_profile: non_empty(&self.storage_profile),
            ssh_key: non_empty(&self.ssh_key),
            template: non_empty(&self.template),
            enable_nfs,
            disable_rollback: self.disable_rollback.unwrap_or(false),
        })
    }
}

/// Body of `POST /api/cse/{cluster}/node`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CreateNodesBody {
    /// Cluster name (optional; must equal the URL's when given).
    pub name: Option<String>,
    /// Number of VMs to add (`null` → 1; must be ≥ 1).
    pub node_count: Option<i64>,
    /// Org VDC name (informational; the cluster's VDC is used).
    pub vdc: Option<String>,
    /// vCPUs per VM.
    pub cpu: Option<i64>,
    /// Memory per VM in MB.
    pub memory: Option<i64>,
    /// Org VDC network name.
    pub network: Option<String>,
    /// Storage profile name.
    pub storage_profile: Option<String>,
    /// Public SSH key for root.
    pub ssh_key: Option<String>,
    /// Template name (`null` → default template).
    pub template: Option<String>,
    /// `node` (default) or `nfsd`.
    pub node_type: Option<String>,
    /// Keep what a failed add built.
    pub disable_rollback: Option<bool>,
}

/// A validated node create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodesSpec {
    /// Cluster name (from the URL).
    pub cluster: String,
    /// Number of VMs to add (≥ 1).
    pub node_count: u32,
    /// [`NodeType::Worker`] or [`NodeType::Nfs`].
    pub node_type: NodeType,
    /// Org VDC name from the body, if any.
    pub vdc: Option<String>,
    /// Org VDC network name.
    pub network: String,
    /// Hardware override.
    pub resources: VmResources,
    /// Storage profile name.
    pub storage_profile: Option<String>,
    /// Public SSH key.
    pub ssh_key: Option<String>,
    /// Template name (`None` → default template).
    pub template: Option<String>,
    /// Keep partial results on failure.
    pub disable_rollback: bool,
}

impl CreateNodesBody {
    /// Parse the JSON body.
    pub fn from_json(body: &[u8]) -> Result<Self, ApiError> {
        parse_body(body)
    }

    /// Check the body against the URL's cluster and the default [`Limits`].
    pub fn validate(&self, url_cluster: &str) -> Result<NodesSpec, ApiError> {
        self.validate_with(url_cluster, &Limits::default())
    }

    /// Check the body against the URL's cluster. Order: cluster name match, node count ≥ 1
    /// and within `max_node_count`, node type, network present, name lengths, cpu/memory
    /// positive and within their limits, ssh key length. The cluster's size is checked
    /// once its VMs are known, with [`check_cluster_capacity`].
    pub fn validate_with(&self, url_cluster: &str, limits: &Limits) -> Result<NodesSpec, ApiError> {
        check_cluster_match(&self.name, url_cluster)?;
        let node_count = match self.node_count {
            None => DEFAULT_ADD_NODE_COUNT,
            Some(n) if n < 1 => return Err(ApiError::InvalidNodeCount(n)),
            Some(n) => node_count_within(n, limits)?,
        };
        let node_type = match self.node_type.as_deref() {
            None | Some("node") => NodeType::Worker,
            Some("nfsd") => NodeType::Nfs,
            Some(other) => return Err(ApiError::InvalidNodeType(other.to_owned())),
        };
        let network = non_empty(&self.network).ok_or(ApiError::MissingField("network"))?;
        check_name_lengths(
            [
                ("vdc", &self.vdc),
                ("network", &self.network),
                ("storage_profile", &self.storage_profile),
                ("template", &self.template),
            ],
            limits,
        )?;
        let resources = resources(self.cpu, self.memory, limits)?;
        check_ssh_key(&self.ssh_key, limits)?;
        Ok(NodesSpec {
            cluster: url_cluster.to_owned(),
            node_count,
            node_type,
            vdc: non_empty(&self.vdc),
            network,
            resources,
            storage_profile: non_empty(&self.storage_profile),
            ssh_key: non_empty(&self.ssh_key),
            template: non_empty(&self.template),
            disable_rollback: self.disable_rollback.unwrap_or(false),
        })
    }
}

/// Body of `DELETE /api/cse/{cluster}/node`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeleteNodesBody {
    /// Cluster name (optional; must equal the URL's when given).
    pub name: Option<String>,
    /// Org VDC name (informational).
    pub vdc: Option<String>,
    /// VM names to delete.
    pub nodes: Option<Vec<String>>,
    /// Delete even if `kubectl delete node` fails.
    pub force: Option<bool>,
}

/// A validated node delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeDeletion {
    /// Cluster name (from the URL).
    pub cluster: String,
    /// VM names, duplicates removed, order kept.
    pub nodes: Vec<String>,
    /// Ignore Kubernetes errors.
    pub force: bool,
}

impl DeleteNodesBody {
    /// Parse the JSON body.
    pub fn from_json(body: &[u8]) -> Result<Self, ApiError> {
        parse_body(body)
    }

    /// Check the body against the URL's cluster and the default [`Limits`].
    pub fn validate(&self, url_cluster: &str) -> Result<NodeDeletion, ApiError> {
        self.validate_with(url_cluster, &Limits::default())
    }

    /// Check the body against the URL's cluster. Order: cluster name match, at most
    /// `max_delete_nodes` names, list non-empty and without empty names, name lengths,
    /// no master (name starting with `mstr`, as 1.2.x checked).
    pub fn validate_with(
        &self,
        url_cluster: &str,
        limits: &Limits,
    ) -> Result<NodeDeletion, ApiError> {
        check_cluster_match(&self.name, url_cluster)?;
        let given: &[String] = self.nodes.as_deref().unwrap_or_default();
        if given.len() > limits.max_delete_nodes as usize {
            return Err(ApiError::OverLimit {
                field: "nodes",
                value: format!("{} names", given.len()),
                limit: format!("{} nodes per request", limits.max_delete_nodes),
                setting: "limits.max_delete_nodes",
            });
        }
        if given.is_empty() || given.iter().any(|n| n.trim().is_empty()) {
            return Err(ApiError::InvalidNodeList(given.to_vec()));
        }
        for node in given {
            check_length(
                "nodes",
                node,
                limits.max_name_length,
                "limits.max_name_length",
            )?;
        }
        if let Some(master) = given
            .iter()
            .find(|n| NodeType::classify(n) == Some(NodeType::Master))
        {
            return Err(ApiError::CannotDeleteMaster(master.clone()));
        }
        let mut seen = std::collections::HashSet::with_capacity(given.len());
        let nodes: Vec<String> = given
            .iter()
            .filter(|node| seen.insert(node.as_str()))
            .cloned()
            .collect();
        Ok(NodeDeletion {
            cluster: url_cluster.to_owned(),
            nodes,
            force: self.force.unwrap_or(false),
        })
    }
}

/// Body of `PUT /api/cse/system`: `{"enabled": bool}` or `{"stopped": ...}`.
/// Key presence matters (`{"stopped": null}` is a stop request, as in 1.2.x).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemUpdateBody {
    /// Present → enable (`true`) or disable (`false`).
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub enabled: Option<Value>,
    /// Present → graceful stop (any value except `false`).
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub stopped: Option<Value>,
}

/// What a system update asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemAction {
    /// `{"enabled": true}`.
    Enable,
    /// `{"enabled": false}`.
    Disable,
    /// `{"stopped": true}`.
    Stop,
}

impl SystemUpdateBody {
    /// `{"enabled": <enabled>}`.
    pub fn set_enabled(enabled: bool) -> Self {
        SystemUpdateBody {
            enabled: Some(Value::Bool(enabled)),
            stopped: None,
        }
    }

    /// `{"stopped": true}`.
    pub fn stop() -> Self {
        SystemUpdateBody {
            enabled: None,
            stopped: Some(Value::Bool(true)),
        }
    }

    /// Parse the JSON body.
    pub fn from_json(body: &[u8]) -> Result<Self, ApiError> {
        parse_body(body)
    }

    /// The requested action. Neither key → `Unknown status` (1.2.x).
    pub fn validate(&self) -> Result<SystemAction, ApiError> {
        match (&self.enabled, &self.stopped) {
            (Some(_), Some(_)) => Err(ApiError::ConflictingSystemUpdate),
            (Some(Value::Bool(true)), None) => Ok(SystemAction::Enable),
            (Some(Value::Bool(false)), None) => Ok(SystemAction::Disable),
            (Some(other), None) => Err(ApiError::InvalidBody(format!(
                "'enabled' must be true or false, got {other}"
            ))),
            (None, Some(Value::Bool(false))) => Err(ApiError::StopFalse),
            (None, Some(_)) => Ok(SystemAction::Stop),
            (None, None) => Err(ApiError::UnknownStatus),
        }
    }
}

fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

fn non_empty(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(str::to_owned)
}

fn check_cluster_match(body_name: &Option<String>, url_cluster: &str) -> Result<(), ApiError> {
    match non_empty(body_name) {
        Some(body) if body != url_cluster => Err(ApiError::ClusterNameMismatch {
            body,
            url: url_cluster.to_owned(),
        }),
        _ => Ok(()),
    }
}

/// Refuses a node create that would make a cluster of `current_vms` VMs bigger than
/// `limits.max_cluster_vms`. The server calls it once it knows the cluster's VM count,
/// before any work starts.
pub fn check_cluster_capacity(
    cluster: &str,
    current_vms: u64,
    adding: u32,
    limits: &Limits,
) -> Result<(), ApiError> {
    if current_vms.saturating_add(u64::from(adding)) > u64::from(limits.max_cluster_vms) {
        return Err(ApiError::ClusterTooLarge {
            cluster: cluster.to_owned(),
            current: current_vms,
            adding: u64::from(adding),
            limit: limits.max_cluster_vms,
        });
    }
    Ok(())
}

fn node_count_within(n: i64, limits: &Limits) -> Result<u32, ApiError> {
    u32::try_from(n)
        .ok()
        .filter(|n| *n <= limits.max_node_count)
        .ok_or_else(|| ApiError::OverLimit {
            field: "node_count",
            value: n.to_string(),
            limit: format!("{} VMs per request", limits.max_node_count),
            setting: "limits.max_node_count",
        })
}

fn check_length(
    field: &'static str,
    text: &str,
    max: u32,
    setting: &'static str,
) -> Result<(), ApiError> {
    // Bytes bound characters from above: only long texts are counted.
    if text.len() <= max as usize {
        return Ok(());
    }
    let chars = text.chars().count();
    if chars > max as usize {
        return Err(ApiError::OverLimit {
            field,
            value: format!("{chars} characters"),
            limit: format!("{max} characters"),
            setting,
        });
    }
    Ok(())
}

fn check_name_lengths<'a>(
    names: impl IntoIterator<Item = (&'static str, &'a Option<String>)>,
    limits: &Limits,
) -> Result<(), ApiError> {
    for (field, value) in names {
        if let Some(text) = value {
            check_length(
                field,
                text,
                limits.max_name_length,
                "limits.max_name_length",
            )?;
        }
    }
    Ok(())
}

fn check_ssh_key(key: &Option<String>, limits: &Limits) -> Result<(), ApiError> {
    match key {
        Some(key) => check_length(
            "ssh_key",
            key,
            limits.max_ssh_key_length,
            "limits.max_ssh_key_length",
        ),
        None => Ok(()),
    }
}

fn resources(
    cpu: Option<i64>,
    memory: Option<i64>,
    limits: &Limits,
) -> Result<VmResources, ApiError> {
    let positive = |v: i64| u32::try_from(v).ok().filter(|v| *v > 0);
    let cpu = cpu
        .map(|c| positive(c).ok_or(ApiError::InvalidCpu(c)))
        .transpose()?;
    let memory_mb = memory
        .map(|m| positive(m).ok_or(ApiError::InvalidMemory(m)))
        .transpose()?;
    if let Some(cpu) = cpu.filter(|c| *c > limits.max_cpu) {
        return Err(ApiError::OverLimit {
            field: "cpu",
            value: cpu.to_string(),
            limit: format!("{} vCPUs per VM", limits.max_cpu),
            setting: "limits.max_cpu",
        });
    }
    if let Some(memory) = memory_mb.filter(|m| *m > limits.max_memory_mb) {
        return Err(ApiError::OverLimit {
            field: "memory",
            value: format!("{memory} MB"),
            limit: format!("{} MB per VM", limits.max_memory_mb),
            setting: "limits.max_memory_mb",
        });
    }
    Ok(VmResources { cpu, memory_mb })
}
