//! The optional `limits:` section (new in CSE-RS): a bound on every number and string a
//! tenant controls in a request, checked before any work starts. 1.2.x had none: a
//! `node_count` of 2147483648 was accepted and the server searched forever for node names.
//! Every key has a default, so the section and any of its keys may be left out and 1.2.x
//! files load unchanged.
//!
//! Why the defaults (what a production operator would accept):
//! * `max_node_count` 50 and `max_cluster_vms` 100: CSE 1.2.x clusters are built with one
//!   recompose per request and joined one `kubeadm join` at a time; a request for more than
//!   50 VMs keeps a vCD task and the server busy for hours and is almost certainly a
//!   mistake. 100 VMs per cluster is far above what 1.2.x users ran and far below the 36^4
//!   node names of each type.
//! * `max_delete_nodes` 100: the largest cluster, minus nothing (the master cannot be deleted).
//! * `max_cpu` 128 and `max_memory_mb` 6 TiB: the per-VM maxima of vSphere 6.7 (hardware
//!   version 14); vCD refuses more anyway, but only after the server has started the work.
//! * `max_ssh_key_length` 16384: several RSA-16384 public keys with comments fit; the key is
//!   written into the guest customization script.
//! * `max_name_length` 128: vCD's own limit for entity names (VDC, network, storage profile,
//!   template, node).
//! * `max_guest_file_bytes` 16 MiB: a file the server reads from a cluster VM through guest
//!   operations (a script's output, the kubeconfig). A tenant has root in its VMs and can make
//!   any of them as large as it likes; the server would read it whole into memory. The
//!   largest legitimate one, a template build's package log, is a few MiB.
//! * `max_request_body_bytes` 1 MiB: the largest legitimate `/api/cse` body (a create with a
//!   16 KiB key) is a few KiB; the envelope decoder refuses bigger bodies before decoding.

use serde::{Deserialize, Serialize};

/// One key of the `limits:` section: its name, default, accepted range and meaning.
#[derive(Clone, Copy, Debug)]
pub struct LimitField {
    /// Key in the YAML section.
    pub key: &'static str,
    /// Default value.
    pub default: u64,
    /// Smallest accepted value.
    pub min: u64,
    /// Largest accepted value.
    pub max: u64,
    /// One-line explanation (also written as a comment by `cse sample`).
    pub doc: &'static str,
}

/// Every key of the `limits:` section in the order `cse sample` writes them (sorted).
pub const LIMIT_FIELDS: &[LimitField] = &[
    LimitField {
        key: "max_cluster_vms",
        default: 100,
        min: 1,
        max: 10_000,
        doc: "VMs in one cluster (master + workers + NFS), checked at create and node create",
    },
    LimitField {
        key: "max_cpu",
        default: 128,
        min: 1,
        max: 1024,
        doc: "vCPUs per VM a request may ask for (cpu)",
    },
    LimitField {
        key: "max_delete_nodes",
        default: 100,
        min: 1,
        max: 10_000,
        doc: "node names in one node delete request",
    },
    LimitField {
        key: "max_guest_file_bytes",
        default: 16 * 1024 * 1024,
        min: 4096,
        max: 1024 * 1024 * 1024,
        doc: "size of a file read from a cluster VM (script output, kubeconfig); longer ones fail the step",
    },
    LimitField {
        key: "max_memory_mb",
        default: 6 * 1024 * 1024,
        min: 256,
        max: 16 * 1024 * 1024,
        doc: "memory per VM in MB a request may ask for (memory)",
    },
    LimitField {
        key: "max_name_length",
        default: 128,
        min: 1,
        max: 128,
        doc: "characters in a name given in a request (vdc, network, storage_profile, template, nodes)",
    },
    LimitField {
        key: "max_node_count",
        default: 50,
        min: 1,
        max: 10_000,
        doc: "VMs added by one request (node_count of cluster create and node create)",
    },
    LimitField {
        key: "max_request_body_bytes",
        default: 1024 * 1024,
        min: 1024,
        max: 64 * 1024 * 1024,
        doc: "size of a request body; larger ones are refused before decoding",
    },
    LimitField {
        key: "max_ssh_key_length",
        default: 16_384,
        min: 1,
        max: 1024 * 1024,
        doc: "characters in ssh_key",
    },
];

fn field(key: &str) -> &'static LimitField {
    LIMIT_FIELDS
        .iter()
        .find(|field| field.key == key)
        .unwrap_or(&LIMIT_FIELDS[0])
}

/// Bounds on tenant-controlled request values (section `limits:`). Each key is optional;
/// see [`LIMIT_FIELDS`] for defaults and accepted ranges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// VMs in one cluster: master + workers + NFS.
    #[serde(default = "defaults::max_cluster_vms")]
    pub max_cluster_vms: u32,
    /// vCPUs per VM.
    #[serde(default = "defaults::max_cpu")]
    pub max_cpu: u32,
    /// Node names in one node delete.
    #[serde(default = "defaults::max_delete_nodes")]
    pub max_delete_nodes: u32,
    /// Bytes of a file read from a cluster VM.
    #[serde(default = "defaults::max_guest_file_bytes")]
    pub max_guest_file_bytes: u32,
    /// Memory per VM in MB.
    #[serde(default = "defaults::max_memory_mb")]
    pub max_memory_mb: u32,
    /// Characters in a name (VDC, network, storage profile, template, node).
    #[serde(default = "defaults::max_name_length")]
    pub max_name_length: u32,
    /// VMs added by one create or node create.
    #[serde(default = "defaults::max_node_count")]
    pub max_node_count: u32,
    /// Bytes of a request body.
    #[serde(default = "defaults::max_request_body_bytes")]
    pub max_request_body_bytes: u32,
    /// Characters in `ssh_key`.
    #[serde(default = "defaults::max_ssh_key_length")]
    pub max_ssh_key_length: u32,
}

mod defaults {
    macro_rules! default_fns {
        ($($name:ident),* $(,)?) => {
            $(pub(super) fn $name() -> u32 {
                u32::try_from(super::field(stringify!($name)).default).unwrap_or(u32::MAX)
            })*
        };
    }

    default_fns!(
        max_cluster_vms,
        max_cpu,
        max_delete_nodes,
        max_guest_file_bytes,
        max_memory_mb,
        max_name_length,
        max_node_count,
        max_request_body_bytes,
        max_ssh_key_length,
    );
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_cluster_vms: defaults::max_cluster_vms(),
            max_cpu: defaults::max_cpu(),
            max_delete_nodes: defaults::max_delete_nodes(),
            max_guest_file_bytes: defaults::max_guest_file_bytes(),
            max_memory_mb: defaults::max_memory_mb(),
            max_name_length: defaults::max_name_length(),
            max_node_count: defaults::max_node_count(),
            max_request_body_bytes: defaults::max_request_body_bytes(),
            max_ssh_key_length: defaults::max_ssh_key_length(),
        }
    }
}

impl Limits {
    /// Every `(key, value)` pair, in [`LIMIT_FIELDS`] order.
    pub fn entries(&self) -> [(&'static str, u32); 9] {
        [
            ("max_cluster_vms", self.max_cluster_vms),
            ("max_cpu", self.max_cpu),
            ("max_delete_nodes", self.max_delete_nodes),
            ("max_guest_file_bytes", self.max_guest_file_bytes),
            ("max_memory_mb", self.max_memory_mb),
            ("max_name_length", self.max_name_length),
            ("max_node_count", self.max_node_count),
            ("max_request_body_bytes", self.max_request_body_bytes),
            ("max_ssh_key_length", self.max_ssh_key_length),
        ]
    }

    /// The guest file limit in bytes, for the vCenter client.
    pub fn guest_file_bytes(&self) -> u64 {
        u64::from(self.max_guest_file_bytes)
    }

    /// The request body limit in bytes, for the envelope decoder.
    pub fn max_body_bytes(&self) -> usize {
        usize::try_from(self.max_request_body_bytes).unwrap_or(usize::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_follow_the_field_table_and_defaults() {
        let entries = Limits::default().entries();
        assert_eq!(entries.len(), LIMIT_FIELDS.len());
        for ((key, value), field) in entries.iter().zip(LIMIT_FIELDS) {
            assert_eq!(*key, field.key);
            assert_eq!(u64::from(*value), field.default);
            assert!((field.min..=field.max).contains(&field.default), "{key}");
        }
        let mut sorted: Vec<_> = LIMIT_FIELDS.iter().map(|f| f.key).collect();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            LIMIT_FIELDS.iter().map(|f| f.key).collect::<Vec<_>>()
        );
    }

    #[test]
    fn serialized_keys_match_the_field_table() {
        let value = serde_yaml::to_value(Limits::default()).unwrap();
        let keys: Vec<_> = value
            .as_mapping()
            .unwrap()
            .keys()
            .map(|k| k.as_str().unwrap().to_owned())
            .collect();
        let table: Vec<_> = LIMIT_FIELDS.iter().map(|f| f.key.to_owned()).collect();
        assert_eq!(keys, table);
    }

    #[test]
    fn missing_keys_take_defaults() {
        let limits: Limits = serde_yaml::from_str("max_node_count: 7\n").unwrap();
        assert_eq!(limits.max_node_count, 7);
        assert_eq!(limits.max_cluster_vms, Limits::default().max_cluster_vms);
    }

    #[test]
    fn the_cluster_limit_stays_far_below_the_node_name_space() {
        let names_per_type = crate::naming::NODE_SUFFIX_ALPHABET
            .len()
            .pow(crate::naming::NODE_SUFFIX_LEN as u32) as u64;
        for key in ["max_cluster_vms", "max_node_count", "max_delete_nodes"] {
            assert!(field(key).max * 100 < names_per_type, "{key}");
        }
    }
}
