//! Names CSE gives to things: node VM names, vApp metadata keys, cluster-name rules.
//!
//! * **Node VM names** are `<prefix>-<4 chars of [a-z0-9]>` with prefix `mstr` (master),
//!   `node` (worker) or `nfsd` (NFS server), exactly as CSE 1.2.x named them, so clusters
//!   created by the original keep being recognised. Generation takes an injected [`rand::Rng`]
//!   so tests and the simulator are deterministic. Generation is bounded: `N` names for a
//!   vApp of `M` VMs cost O(N + M) expected (random draws while the name space is mostly
//!   free, then at most one ordered pass over it), and a request for more names than are
//!   left is refused at once with [`NamingError::NotEnoughNames`], never searched for.
//! * **Metadata keys** on the cluster vApp: the four 1.2.x keys plus two new ones for the
//!   operation journal and the replica lease (see [`METADATA_OP_JOURNAL`], [`METADATA_OP_LEASE`]).
//! * **Cluster-name validation**: the original rule (≤ 25 chars, one trailing `.` stripped,
//!   DNS-style labels) re-implemented without regex look-around, plus rejection of the names that
//!   the `/api/cse/...` router can never address as a cluster (`system`, `template`, `swagger*`).

use std::collections::HashSet;
use std::fmt;
use std::hash::BuildHasher;

use rand::{Rng, RngExt};

/// Metadata key holding the cluster's uuid4; its presence makes a vApp a CSE cluster.
pub const METADATA_CLUSTER_ID: &str = "cse.cluster.id";
/// Metadata key holding the CSE version that created the cluster.
pub const METADATA_VERSION: &str = "cse.version";
/// Metadata key holding the template name the cluster was created from.
pub const METADATA_TEMPLATE: &str = "cse.template";
/// Metadata key holding the master's IP address (the cluster's `leader_endpoint`).
pub const METADATA_MASTER_IP: &str = "cse.master.ip";
/// New key (not in 1.2.x): the journal of the operation in flight on this cluster, written by
/// `cse-server` before and after every step (operation id, kind, current step, task href,
/// what was created so far) so a restarted server can resume or roll back. The value is a
/// JSON document owned by the server's `ops` module; absent when no operation is in flight.
/// 1.2.x servers ignore unknown keys, so clusters stay readable by the original.
pub const METADATA_OP_JOURNAL: &str = "cse.op.journal";
/// New key (not in 1.2.x): the lease of the server replica currently driving an operation on
/// this cluster (holder id and expiry instant, format owned by `cse-server`). Another replica
/// takes over an operation only after the lease has expired.
pub const METADATA_OP_LEASE: &str = "cse.op.lease";

/// The metadata keys 1.2.x reads in its cluster query (`fields=metadata:<key>,...`), in the
/// original order.
pub const CLUSTER_QUERY_METADATA_KEYS: [&str; 4] = [
    METADATA_CLUSTER_ID,
    METADATA_MASTER_IP,
    METADATA_VERSION,
    METADATA_TEMPLATE,
];

/// Every metadata key CSE-RS may write on a cluster vApp.
pub const ALL_METADATA_KEYS: [&str; 6] = [
    METADATA_CLUSTER_ID,
    METADATA_VERSION,
    METADATA_TEMPLATE,
    METADATA_MASTER_IP,
    METADATA_OP_JOURNAL,
    METADATA_OP_LEASE,
];

/// The vCD query filter that finds CSE clusters (`metadata:cse.cluster.id==STRING:*`),
/// optionally narrowed to one vApp name as 1.2.x did (`;name==<name>`).
pub fn cluster_query_filter(name: Option<&str>) -> String {
    match name {
        Some(name) => format!("metadata:{METADATA_CLUSTER_ID}==STRING:*;name=={name}"),
        None => format!("metadata:{METADATA_CLUSTER_ID}==STRING:*"),
    }
}

/// Number of random characters after the `<prefix>-` of a node name.
pub const NODE_SUFFIX_LEN: usize = 4;
/// Characters the random suffix is drawn from.
pub const NODE_SUFFIX_ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
/// How many random names [`generate_unused_node_name`] tries before scanning for a free one.
const RANDOM_ATTEMPTS: usize = 1000;

/// The role of a cluster VM, encoded in its name prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeType {
    /// Kubernetes control plane (`mstr-xxxx`).
    Master,
    /// Kubernetes worker (`node-xxxx`).
    Worker,
    /// NFS server (`nfsd-xxxx`).
    Nfs,
}

impl NodeType {
    /// All node types, masters first.
    pub const ALL: [NodeType; 3] = [NodeType::Master, NodeType::Worker, NodeType::Nfs];

    /// The name prefix without the dash: `mstr`, `node`, `nfsd` (1.2.x `TYPE_*` constants).
    pub fn prefix(self) -> &'static str {
        match self {
            NodeType::Master => "mstr",
            NodeType::Worker => "node",
            NodeType::Nfs => "nfsd",
        }
    }

    /// The value of `node_type` in the node-info reply: `master`, `node`, `nfsd`.
    pub fn api_name(self) -> &'static str {
        match self {
            NodeType::Master => "master",
            NodeType::Worker => "node",
            NodeType::Nfs => "nfsd",
        }
    }

    /// Classify a VM name the way 1.2.x did: by prefix only (`mstr`, `node`, `nfsd`), without
    /// requiring the dash or the 4-character suffix. Returns `None` for foreign VMs.
    /// 1.2.x refused to delete any VM whose name starts with `mstr`; this keeps that safety.
    pub fn classify(vm_name: &str) -> Option<NodeType> {
        NodeType::ALL
            .into_iter()
            .find(|t| vm_name.starts_with(t.prefix()))
    }
}

impl serde::Serialize for NodeType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.api_name())
    }
}

impl<'de> serde::Deserialize<'de> for NodeType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        NodeType::ALL
            .into_iter()
            .find(|t| t.api_name() == text)
            .ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "unknown node type '{text}' (expected master, node or nfsd)"
                ))
            })
    }
}

impl fmt::Display for NodeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.api_name())
    }
}

/// A node name that follows the generated form exactly: `<prefix>-<4 chars of [a-z0-9]>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NodeName {
    node_type: NodeType,
    name: String,
}

impl NodeName {
    /// Parse a name of the exact generated form; anything else is a [`NamingError`].
    pub fn parse(name: &str) -> Result<NodeName, NamingError> {
        let invalid = || NamingError::InvalidNodeName {
            name: name.to_owned(),
        };
        let (prefix, suffix) = name.split_once('-').ok_or_else(invalid)?;
        let node_type = NodeType::ALL
            .into_iter()
            .find(|t| t.prefix() == prefix)
            .ok_or_else(invalid)?;
        let suffix_ok = suffix.len() == NODE_SUFFIX_LEN
            && suffix.bytes().all(|b| NODE_SUFFIX_ALPHABET.contains(&b));
        if !suffix_ok {
            return Err(invalid());
        }
        Ok(NodeName {
            node_type,
            name: name.to_owned(),
        })
    }

    /// The node's role.
    pub fn node_type(&self) -> NodeType {
        self.node_type
    }

    /// The full VM name.
    pub fn as_str(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for NodeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// Problems with names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NamingError {
    /// The string is not `<mstr|node|nfsd>-<4 chars of [a-z0-9]>`.
    #[error(
        "'{name}' is not a CSE node name (expected mstr-, node- or nfsd- and 4 characters of [a-z0-9])"
    )]
    InvalidNodeName {
        /// The rejected name.
        name: String,
    },
    /// Every one of the 36^4 names of a type is taken.
    #[error("no unused {node_type} name is left: all {prefix}-xxxx names are taken", prefix = node_type.prefix())]
    NamesExhausted {
        /// The type whose name space is full.
        node_type: NodeType,
    },
    /// More names were asked for than are left unused.
    #[error("cannot name {wanted} new {node_type} VMs: only {left} unused {prefix}-xxxx names are left", prefix = node_type.prefix())]
    NotEnoughNames {
        /// The type asked for.
        node_type: NodeType,
        /// Names asked for.
        wanted: usize,
        /// Names still unused.
        left: usize,
    },
}

/// Number of distinct names of one type (36^4).
pub const NODE_NAMES_PER_TYPE: usize = 36 * 36 * 36 * 36;

/// A random node name `<prefix>-<4 chars of [a-z0-9]>` (may collide; see
/// [`generate_unused_node_name`]).
pub fn generate_node_name<R: Rng + ?Sized>(node_type: NodeType, rng: &mut R) -> String {
    let mut name = String::with_capacity(node_type.prefix().len() + 1 + NODE_SUFFIX_LEN);
    name.push_str(node_type.prefix());
    name.push('-');
    for _ in 0..NODE_SUFFIX_LEN {
        let index = rng.random_range(0..NODE_SUFFIX_ALPHABET.len());
        name.push(char::from(NODE_SUFFIX_ALPHABET[index]));
    }
    name
}

/// A node name not present in `existing` (1.2.x regenerated until unused in the vApp).
/// Random attempts are bounded; after them the name space is scanned in order, so the call
/// always terminates and fails only when all 36^4 names of the type are taken.
pub fn generate_unused_node_name<R: Rng + ?Sized, S: BuildHasher>(
    node_type: NodeType,
    existing: &HashSet<String, S>,
    rng: &mut R,
) -> Result<String, NamingError> {
    generate_node_name_unless(node_type, |name| existing.contains(name), rng)
}

/// Like [`generate_unused_node_name`], with any "is this name taken?" predicate (for callers
/// holding the VM names in another collection).
pub fn generate_node_name_unless<R: Rng + ?Sized>(
    node_type: NodeType,
    is_taken: impl Fn(&str) -> bool,
    rng: &mut R,
) -> Result<String, NamingError> {
    for _ in 0..RANDOM_ATTEMPTS {
        let candidate = generate_node_name(node_type, rng);
        if !is_taken(&candidate) {
            return Ok(candidate);
        }
    }
    all_node_names(node_type)
        .find(|candidate| !is_taken(candidate))
        .ok_or(NamingError::NamesExhausted { node_type })
}

/// `count` distinct node names, none present in `existing` (for adding several VMs at once).
///
/// Cost: O(`count` + `existing.len()`) expected. More names than are left unused is
/// [`NamingError::NotEnoughNames`] at once. While at most half the name space would be
/// used, names are drawn at random (expected < 2 draws each, with a total budget); names
/// still missing after the budget come from one ordered pass over the name space from a
/// random start, so the call always ends after at most 36^4 candidates in all.
pub fn generate_unused_node_names<R: Rng + ?Sized, S: BuildHasher>(
    node_type: NodeType,
    count: usize,
    existing: &HashSet<String, S>,
    rng: &mut R,
) -> Result<Vec<String>, NamingError> {
    let taken_of_type = existing
        .iter()
        .filter(|name| NodeName::parse(name).is_ok_and(|n| n.node_type() == node_type))
        .count();
    let left = NODE_NAMES_PER_TYPE - taken_of_type;
    if count > left {
        return Err(NamingError::NotEnoughNames {
            node_type,
            wanted: count,
            left,
        });
    }
    let mut chosen: HashSet<String> = HashSet::with_capacity(count);
    let mut names = Vec::with_capacity(count);
    let is_free =
        |name: &str, chosen: &HashSet<String>| !existing.contains(name) && !chosen.contains(name);
    if (taken_of_type + count) * 2 <= NODE_NAMES_PER_TYPE {
        let mut budget = count.saturating_mul(4).saturating_add(64);
        while names.len() < count && budget > 0 {
            budget -= 1;
            let candidate = generate_node_name(node_type, rng);
            if is_free(&candidate, &chosen) {
                chosen.insert(candidate.clone());
                names.push(candidate);
            }
        }
    }
    if names.len() < count {
        let start = rng.random_range(0..NODE_NAMES_PER_TYPE);
        for index in (start..NODE_NAMES_PER_TYPE).chain(0..start) {
            let candidate = node_name_at(node_type, index);
            if is_free(&candidate, &chosen) {
                chosen.insert(candidate.clone());
                names.push(candidate);
                if names.len() == count {
                    break;
                }
            }
        }
    }
    if names.len() < count {
        // Only reachable if `existing` held names of this type twice, which a set cannot.
        return Err(NamingError::NamesExhausted { node_type });
    }
    Ok(names)
}

/// The `index`-th name of a type in alphabet order (`index` < [`NODE_NAMES_PER_TYPE`]).
fn node_name_at(node_type: NodeType, mut index: usize) -> String {
    let base = NODE_SUFFIX_ALPHABET.len();
    let mut suffix = [0u8; NODE_SUFFIX_LEN];
    for slot in suffix.iter_mut().rev() {
        *slot = NODE_SUFFIX_ALPHABET[index % base];
        index /= base;
    }
    let mut name = String::with_capacity(node_type.prefix().len() + 1 + NODE_SUFFIX_LEN);
    name.push_str(node_type.prefix());
    name.push('-');
    name.extend(suffix.iter().map(|b| char::from(*b)));
    name
}

/// Every possible name of a type, in alphabet order.
fn all_node_names(node_type: NodeType) -> impl Iterator<Item = String> {
    (0..NODE_NAMES_PER_TYPE).map(move |n| node_name_at(node_type, n))
}

/// Longest accepted cluster name (1.2.x rule, counted before the trailing dot is stripped).
pub const CLUSTER_NAME_MAX_LEN: usize = 25;
/// Longest DNS label.
const LABEL_MAX_LEN: usize = 63;
/// Cluster names the router can never address as a cluster (compared case-insensitively).
pub const RESERVED_CLUSTER_NAMES: [&str; 2] = ["system", "template"];
/// Prefix reserved for the swagger routes (`swagger`, `swagger.json`, `swagger.yaml`), as the
/// 1.2.x documentation reserved `swagger*`.
pub const RESERVED_CLUSTER_NAME_PREFIX: &str = "swagger";

/// Why a cluster name was refused. The Display text of the original rule violations is the
/// 1.2.x text `Invalid cluster name`; new checks say what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClusterNameError {
    /// Empty name (1.2.x answered with a Python index error).
    #[error("Invalid cluster name: the name is empty")]
    Empty,
    /// Longer than [`CLUSTER_NAME_MAX_LEN`] characters.
    #[error("Invalid cluster name")]
    TooLong {
        /// The rejected name.
        name: String,
    },
    /// A dot-separated label is empty, too long, has a character other than `[A-Za-z0-9-]`,
    /// or starts/ends with `-`.
    #[error("Invalid cluster name")]
    InvalidLabel {
        /// The rejected name.
        name: String,
        /// The offending label.
        label: String,
    },
    /// A name the `/api/cse` router reserves for its own routes.
    #[error(
        "Invalid cluster name: '{name}' is reserved (system, template and swagger* cannot be used as cluster names)"
    )]
    Reserved {
        /// The rejected name.
        name: String,
    },
}

impl ClusterNameError {
    /// A detailed reason, for logs (the Display text stays the compatible one).
    pub fn reason(&self) -> String {
        match self {
            ClusterNameError::Empty => "the name is empty".to_owned(),
            ClusterNameError::TooLong { name } => format!(
                "'{name}' has {} characters, at most {CLUSTER_NAME_MAX_LEN} are allowed",
                name.chars().count()
            ),
            ClusterNameError::InvalidLabel { name, label } => format!(
                "label '{label}' of '{name}' must be 1-63 characters of letters, digits and '-', not starting or ending with '-'"
            ),
            ClusterNameError::Reserved { name } => format!("'{name}' is a reserved name"),
        }
    }
}

/// Validate a cluster name with the 1.2.x rule plus the reserved-name check.
///
/// Rule: at most 25 characters; one trailing `.` is stripped; every `.`-separated label is
/// 1–63 ASCII letters, digits or `-`, neither starting nor ending with `-` (the original
/// regex `(?!-)[A-Z\d-]{1,63}(?<!-)`, case-insensitive). Unlike Python's `re.match(...$)`,
/// a trailing newline is not accepted and only ASCII digits count.
pub fn validate_cluster_name(name: &str) -> Result<(), ClusterNameError> {
    if name.is_empty() {
        return Err(ClusterNameError::Empty);
    }
    if name.chars().count() > CLUSTER_NAME_MAX_LEN {
        return Err(ClusterNameError::TooLong {
            name: name.to_owned(),
        });
    }
    let stripped = name.strip_suffix('.').unwrap_or(name);
    for label in stripped.split('.') {
        if !is_valid_label(label) {
            return Err(ClusterNameError::InvalidLabel {
                name: name.to_owned(),
                label: label.to_owned(),
            });
        }
    }
    if is_reserved_cluster_name(stripped) {
        return Err(ClusterNameError::Reserved {
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// Whether `name` collides with a route keyword (`system`, `template`, `swagger*`),
/// compared case-insensitively.
pub fn is_reserved_cluster_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    RESERVED_CLUSTER_NAMES.contains(&lower.as_str())
        || lower.starts_with(RESERVED_CLUSTER_NAME_PREFIX)
}

fn is_valid_label(label: &str) -> bool {
    (1..=LABEL_MAX_LEN).contains(&label.len())
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn prefixes_and_api_names_match_the_original() {
        assert_eq!(NodeType::Master.prefix(), "mstr");
        assert_eq!(NodeType::Worker.prefix(), "node");
        assert_eq!(NodeType::Nfs.prefix(), "nfsd");
        assert_eq!(NodeType::Master.api_name(), "master");
        assert_eq!(NodeType::Worker.to_string(), "node");
        assert_eq!(NodeType::Nfs.to_string(), "nfsd");
    }

    #[test]
    fn generated_names_have_the_original_shape() {
        let mut rng = StdRng::seed_from_u64(7);
        for node_type in NodeType::ALL {
            let name = generate_node_name(node_type, &mut rng);
            assert_eq!(name.len(), 9, "{name}");
            assert!(name.starts_with(&format!("{}-", node_type.prefix())));
            assert_eq!(NodeName::parse(&name).unwrap().node_type(), node_type);
        }
    }

    #[test]
    fn same_seed_same_names() {
        let a = generate_node_name(NodeType::Worker, &mut StdRng::seed_from_u64(1));
        let b = generate_node_name(NodeType::Worker, &mut StdRng::seed_from_u64(1));
        assert_eq!(a, b);
    }

    #[test]
    fn parse_rejects_foreign_names() {
        for bad in [
            "",
            "mstr",
            "mstr-",
            "mstr-abc",
            "mstr-abcde",
            "mstr-ABCD",
            "mstr_abcd",
            "work-abcd",
            "node-ab.d",
            "nfsd-abc\n",
        ] {
            assert_eq!(
                NodeName::parse(bad),
                Err(NamingError::InvalidNodeName {
                    name: bad.to_owned()
                }),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn classify_is_prefix_based_like_the_original() {
        assert_eq!(NodeType::classify("mstr-ab12"), Some(NodeType::Master));
        assert_eq!(NodeType::classify("mstrx"), Some(NodeType::Master));
        assert_eq!(NodeType::classify("node-zz99"), Some(NodeType::Worker));
        assert_eq!(NodeType::classify("nfsd-0000"), Some(NodeType::Nfs));
        assert_eq!(NodeType::classify("photon2-temp"), None);
        assert_eq!(NodeType::classify(""), None);
    }

    #[test]
    fn unused_name_skips_taken_ones() {
        let mut rng = StdRng::seed_from_u64(3);
        let first = generate_node_name(NodeType::Worker, &mut StdRng::seed_from_u64(3));
        let existing: HashSet<String> = [first.clone()].into();
        let name = generate_unused_node_name(NodeType::Worker, &existing, &mut rng).unwrap();
        assert_ne!(name, first);
        assert!(!existing.contains(&name));
    }

    #[test]
    fn name_space_has_every_suffix_once() {
        let names: Vec<String> = all_node_names(NodeType::Nfs).collect();
        assert_eq!(names.len(), 36usize.pow(4));
        assert_eq!(names[0], "nfsd-aaaa");
        assert_eq!(names[names.len() - 1], "nfsd-9999");
    }

    #[test]
    fn unused_name_falls_back_to_scanning_and_reports_exhaustion() {
        let mut rng = StdRng::seed_from_u64(0);
        assert_eq!(
            generate_node_name_unless(NodeType::Nfs, |_| true, &mut rng),
            Err(NamingError::NamesExhausted {
                node_type: NodeType::Nfs
            })
        );
        assert_eq!(
            NamingError::NamesExhausted {
                node_type: NodeType::Nfs
            }
            .to_string(),
            "no unused nfsd name is left: all nfsd-xxxx names are taken"
        );
        assert_eq!(
            generate_node_name_unless(NodeType::Nfs, |n| n != "nfsd-q7z0", &mut rng).unwrap(),
            "nfsd-q7z0"
        );
    }

    #[test]
    fn several_names_are_distinct() {
        let mut rng = StdRng::seed_from_u64(11);
        let names =
            generate_unused_node_names(NodeType::Worker, 50, &HashSet::new(), &mut rng).unwrap();
        let unique: HashSet<&String> = names.iter().collect();
        assert_eq!(unique.len(), 50);
    }

    #[test]
    fn metadata_keys_are_the_original_ones_plus_journal_and_lease() {
        assert_eq!(
            ALL_METADATA_KEYS,
            [
                "cse.cluster.id",
                "cse.version",
                "cse.template",
                "cse.master.ip",
                "cse.op.journal",
                "cse.op.lease"
            ]
        );
        assert_eq!(
            cluster_query_filter(None),
            "metadata:cse.cluster.id==STRING:*"
        );
        assert_eq!(
            cluster_query_filter(Some("c1")),
            "metadata:cse.cluster.id==STRING:*;name==c1"
        );
    }

    #[test]
    fn valid_cluster_names() {
        for good in [
            "c1",
            "my-cluster",
            "A",
            "a.b.c",
            "trailing.",
            "1234567890123456789012345",
            "Dev-01.Team",
            "systems",
            "templates1",
        ] {
            assert_eq!(validate_cluster_name(good), Ok(()), "{good}");
        }
    }

    #[test]
    fn invalid_cluster_names_give_the_original_text() {
        for bad in [
            "12345678901234567890123456",
            "-a",
            "a-",
            "a..b",
            ".",
            "a.-b",
            "a_b",
            "a b",
            "é",
            "a\n",
            "a/b",
            "trailing..",
        ] {
            let err = validate_cluster_name(bad).unwrap_err();
            assert_eq!(err.to_string(), "Invalid cluster name", "{bad:?}");
            assert!(!err.reason().is_empty());
        }
    }

    #[test]
    fn empty_cluster_name_is_a_clear_error() {
        let err = validate_cluster_name("").unwrap_err();
        assert_eq!(err, ClusterNameError::Empty);
        assert_eq!(err.to_string(), "Invalid cluster name: the name is empty");
    }

    #[test]
    fn too_long_counts_before_stripping_the_dot() {
        let name = format!("{}.", "a".repeat(25));
        assert!(matches!(
            validate_cluster_name(&name),
            Err(ClusterNameError::TooLong { .. })
        ));
        assert_eq!(
            validate_cluster_name(&format!("{}.", "a".repeat(24))),
            Ok(())
        );
    }

    #[test]
    fn reserved_names_are_rejected() {
        for reserved in [
            "system",
            "System",
            "template",
            "TEMPLATE.",
            "swagger",
            "swagger.json",
            "swagger.yaml",
            "swagger-ui",
        ] {
            let err = validate_cluster_name(reserved).unwrap_err();
            assert!(
                matches!(err, ClusterNameError::Reserved { .. }),
                "{reserved}"
            );
            assert_eq!(
                err.to_string(),
                format!(
                    "Invalid cluster name: '{reserved}' is reserved (system, template and swagger* cannot be used as cluster names)"
                )
            );
        }
    }
}
