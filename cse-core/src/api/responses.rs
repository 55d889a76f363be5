//! Response documents of the `/api/cse` routes with the exact 1.2.x JSON keys: cluster
//! objects, node info, create/delete replies, template list entries and system info.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::naming::NodeType;

/// One VM of a cluster in list/info replies: `{"name", "ipAddress"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeSummary {
    /// VM name.
    pub name: String,
    /// First NIC's IP address, `""` when unknown.
    #[serde(rename = "ipAddress")]
    pub ip_address: String,
}

/// A cluster as listed by `GET /api/cse` (node arrays empty) and `GET /api/cse/{c}/info`
/// (node arrays filled). Keys and their order are 1.2.x's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cluster {
    /// vApp name.
    pub name: String,
    /// vApp uuid.
    pub vapp_id: String,
    /// `<api>/vApp/vapp-<uuid>`.
    pub vapp_href: String,
    /// VDC name.
    pub vdc_name: String,
    /// `<api>/vdc/<uuid>`.
    pub vdc_href: String,
    /// `cse.master.ip` metadata or `""`.
    pub leader_endpoint: String,
    /// Masters (info only).
    pub master_nodes: Vec<NodeSummary>,
    /// Workers (info only).
    pub nodes: Vec<NodeSummary>,
    /// NFS servers (info only).
    pub nfs_nodes: Vec<NodeSummary>,
    /// VM count as a string (from the query record).
    pub number_of_vms: String,
    /// `cse.template` metadata.
    pub template: String,
    /// `cse.version` metadata.
    pub cse_version: String,
    /// `cse.cluster.id` metadata.
    pub cluster_id: String,
    /// vApp status from the query record, e.g. `POWERED_ON`.
    pub status: String,
}

impl Cluster {
    /// File a VM into `master_nodes`, `nodes` or `nfs_nodes` by its name prefix. VMs that are
    /// not CSE nodes are ignored (returns `false`), as 1.2.x did.
    pub fn add_vm(&mut self, name: impl Into<String>, ip_address: impl Into<String>) -> bool {
        let name = name.into();
        let list = match NodeType::classify(&name) {
            Some(NodeType::Master) => &mut self.master_nodes,
            Some(NodeType::Worker) => &mut self.nodes,
            Some(NodeType::Nfs) => &mut self.nfs_nodes,
            None => return false,
        };
        list.push(NodeSummary {
            name,
            ip_address: ip_address.into(),
        });
        true
    }
}

/// Text of a vCD entity status code (pyvcloud's `VCLOUD_STATUS_MAP`, -1..15). Codes outside
/// the table give `Unknown state` (6's text) instead of failing.
pub fn vm_status_text(code: i32) -> &'static str {
    match code {
        -1 => "Could not be created",
        0 => "Unresolved",
        1 => "Resolved",
        2 => "Deployed",
        3 => "Suspended",
        4 => "Powered on",
        5 => "Waiting for user input",
        6 => "Unknown state",
        7 => "Unrecognized state",
        8 => "Powered off",
        9 => "Inconsistent state",
        10 => "Children do not all have the same status",
        11 => "Upload initiated, OVF descriptor pending",
        12 => "Upload initiated, copying contents",
        13 => "Upload initiated , disk contents pending",
        14 => "Upload has been quarantined",
        15 => "Upload quarantine period has expired",
        _ => "Unknown state",
    }
}

/// Reply of `GET /api/cse/{c}/{n}/info`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// VM name.
    pub name: String,
    /// vCPUs, serialised as `""` when unknown (1.2.x).
    #[serde(rename = "numberOfCpus", with = "int_or_empty")]
    pub number_of_cpus: Option<u32>,
    /// Memory in MB, serialised as `""` when unknown (1.2.x).
    #[serde(rename = "memoryMB", with = "int_or_empty")]
    pub memory_mb: Option<u32>,
    /// Status text ([`vm_status_text`]).
    pub status: String,
    /// First NIC's IP address or `""`.
    #[serde(rename = "ipAddress")]
    pub ip_address: String,
    /// `master`, `node` or `nfsd`.
    pub node_type: NodeType,
    /// NFS exports, only for `nfsd` nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exports: Option<Vec<String>>,
}

/// The export paths in `showmount -e <ip>` output: the first column of every line except the
/// `Export list for ...:` header and empty lines.
pub fn exports_from_showmount(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .skip(1)
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

mod int_or_empty {
    use super::*;

    pub fn serialize<S: Serializer>(value: &Option<u32>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(n) => serializer.serialize_u32(*n),
            None => serializer.serialize_str(""),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<u32>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(u32),
            Text(String),
            Null(()),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Int(n) => Ok(Some(n)),
            Raw::Null(()) => Ok(None),
            Raw::Text(s) if s.trim().is_empty() => Ok(None),
            Raw::Text(s) => s.trim().parse().map(Some).map_err(|_| {
                serde::de::Error::custom(format!("expected a number or \"\", got '{s}'"))
            }),
        }
    }
}

/// Reply of `POST /api/cse` (202).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateClusterReply {
    /// Cluster name.
    pub name: String,
    /// New `cse.cluster.id`.
    pub cluster_id: String,
    /// vCD task tracking the creation.
    pub task_href: String,
}

/// Reply of `DELETE /api/cse/{c}`, `POST` and `DELETE /api/cse/{c}/node` (202).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterTaskReply {
    /// Cluster name.
    pub cluster_name: String,
    /// vCD task tracking the operation.
    pub task_href: String,
}

/// Reply of `GET /api/cse/{c}/config`: the kubeconfig YAML text, sent as a JSON string literal
/// (1.2.x; vcd-cli strips the quotes and unescapes `\n`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KubeConfigReply(pub String);

/// One entry of `GET /api/cse/template`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateEntry {
    /// Template name.
    pub name: String,
    /// Whether it is `broker.default_template`.
    pub is_default: bool,
    /// Catalog name.
    pub catalog: String,
    /// Catalog item name.
    pub catalog_item: String,
    /// Description from the config.
    pub description: String,
}

/// `status` of the service in system info.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServiceStatus {
    /// Enabled.
    #[serde(rename = "Running")]
    Running,
    /// A stop was requested; finishing in-flight operations.
    #[serde(rename = "Shutting down")]
    ShuttingDown,
    /// Disabled, not stopping.
    #[serde(rename = "Disabled")]
    Disabled,
}

impl ServiceStatus {
    /// 1.2.x rule: `Running` if enabled, else `Shutting down` if a stop was requested, else
    /// `Disabled`.
    pub fn from_flags(enabled: bool, stop_requested: bool) -> ServiceStatus {
        if enabled {
            ServiceStatus::Running
        } else if stop_requested {
            ServiceStatus::ShuttingDown
        } else {
            ServiceStatus::Disabled
        }
    }
}

/// Product name in system info.
pub const PRODUCT: &str = "CSE";
/// Product description in system info.
pub const PRODUCT_DESCRIPTION: &str = "Container Service Extension for VMware vCloud Director";

/// Reply of `GET /api/cse/system`. Tenants get the first three keys; callers in the `System`
/// org also get the runtime (key `python`, kept for 1.2.x clients) and the process details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemInfo {
    /// `CSE`.
    pub product: String,
    /// [`PRODUCT_DESCRIPTION`].
    pub description: String,
    /// Server version.
    pub version: String,
    /// Runtime version (1.2.x: the Python version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub python: Option<String>,
    /// Listeners started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer_threads: Option<u64>,
    /// Threads/tasks of the process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all_threads: Option<u64>,
    /// Operations in flight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_in_progress: Option<u64>,
    /// Config file path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_file: Option<String>,
    /// Service status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ServiceStatus>,
}

/// Process details shown to System-org callers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemDetails {
    /// Runtime version string (reported under `python`).
    pub runtime: String,
    /// Listeners started.
    pub consumer_threads: u64,
    /// Threads/tasks of the process.
    pub all_threads: u64,
    /// Operations in flight.
    pub requests_in_progress: u64,
    /// Config file path.
    pub config_file: String,
    /// Service status.
    pub status: ServiceStatus,
}

impl SystemInfo {
    /// What a tenant sees.
    pub fn base(version: impl Into<String>) -> SystemInfo {
        SystemInfo {
            product: PRODUCT.to_owned(),
            description: PRODUCT_DESCRIPTION.to_owned(),
            version: version.into(),
            python: None,
            consumer_threads: None,
            all_threads: None,
            requests_in_progress: None,
            config_file: None,
            status: None,
        }
    }

    /// What a System-org caller sees.
    pub fn for_system(version: impl Into<String>, details: SystemDetails) -> SystemInfo {
        SystemInfo {
            python: Some(details.runtime),
            consumer_threads: Some(details.consumer_threads),
            all_threads: Some(details.all_threads),
            requests_in_progress: Some(details.requests_in_progress),
            config_file: Some(details.config_file),
            status: Some(details.status),
            ..SystemInfo::base(version)
        }
    }
}
