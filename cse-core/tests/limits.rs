//! Bounded inputs: the `limits:` section of config.yaml, the request validation that applies
//! it before any work starts, and node-name generation that is bounded and refuses at once
//! when a request needs more names than are left.

use std::collections::HashSet;

use cse_core::api::{
    ApiError, CreateClusterBody, CreateNodesBody, DeleteNodesBody, check_cluster_capacity,
};
use cse_core::config::{Config, LIMIT_FIELDS, Limits, sample_config};
use cse_core::naming::{
    NODE_NAMES_PER_TYPE, NamingError, NodeName, NodeType, generate_unused_node_names,
};
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_yaml::{Mapping, Value};

const FILE: &str = "c.yaml";

fn load_with_limits(yaml: Option<&str>) -> Result<Config, cse_core::config::ConfigError> {
    let mut doc: Value = serde_yaml::from_str(&sample_config()).unwrap();
    let root: &mut Mapping = doc.as_mapping_mut().unwrap();
    match yaml {
        Some(yaml) => {
            root.insert("limits".into(), serde_yaml::from_str(yaml).unwrap());
        }
        None => {
            root.remove("limits");
        }
    }
    Config::from_yaml_str(&serde_yaml::to_string(&doc).unwrap(), FILE)
}

fn create(json: serde_json::Value) -> CreateClusterBody {
    CreateClusterBody::from_json(json.to_string().as_bytes()).unwrap()
}

fn create_body(node_count: i64) -> CreateClusterBody {
    create(serde_json::json!({
        "name": "c1", "node_count": node_count, "vdc": "vdc1", "network": "net1"
    }))
}

fn add_nodes(json: serde_json::Value) -> CreateNodesBody {
    CreateNodesBody::from_json(json.to_string().as_bytes()).unwrap()
}

// ---- config ----

#[test]
fn a_config_without_limits_gets_the_defaults() {
    let config = load_with_limits(None).unwrap();
    assert_eq!(config.limits, Limits::default());
    assert_eq!(config.limits.max_node_count, 50);
    assert_eq!(config.limits.max_cluster_vms, 100);
    assert_eq!(config.limits.max_request_body_bytes, 1024 * 1024);
    let config = load_with_limits(Some("null")).unwrap();
    assert_eq!(config.limits, Limits::default());
}

#[test]
fn limits_can_be_set_one_by_one() {
    let config = load_with_limits(Some("{max_node_count: 5, max_ssh_key_length: 100}")).unwrap();
    assert_eq!(config.limits.max_node_count, 5);
    assert_eq!(config.limits.max_ssh_key_length, 100);
    assert_eq!(config.limits.max_cpu, Limits::default().max_cpu);
}

#[test]
fn bad_limits_are_reported_together() {
    let error = load_with_limits(Some(
        "{max_node_count: 0, max_cluster_vms: 2000000, max_cpu: lots, max_nodes: 3, max_name_length: 1.5}",
    ))
    .unwrap_err();
    let found: Vec<String> = error.problems().iter().map(ToString::to_string).collect();
    let at = "config file 'c.yaml', 'limits' section";
    assert_eq!(
        found,
        [
            format!("Invalid keys in {at}: {{'max_nodes'}}"),
            format!("{at} key 'max_cluster_vms': value should be between 1 and 10000"),
            format!("{at} key 'max_cpu': value type should be 'number'"),
            format!("{at} key 'max_name_length': value should be a whole number"),
            format!("{at} key 'max_node_count': value should be between 1 and 10000"),
        ]
    );
}

#[test]
fn the_sample_documents_every_limit() {
    let text = sample_config();
    let limits = text.split("\nlimits:\n").nth(1).expect("a limits section");
    for field in LIMIT_FIELDS {
        assert!(
            limits.contains(&format!(
                "  # {}\n  {}: {}\n",
                field.doc, field.key, field.default
            )),
            "{}",
            field.key
        );
    }
}

// ---- request validation ----

#[test]
fn a_huge_node_count_is_refused_with_the_limit() {
    for n in [2_147_483_648_i64, 1_700_000, 51, i64::MAX] {
        let error = create_body(n).validate().unwrap_err();
        assert_eq!(error.status(), 400, "{n}");
        assert_eq!(
            error.to_string(),
            format!(
                "Invalid node_count: {n} is over the limit of 50 VMs per request (limits.max_node_count)."
            )
        );
    }
    assert_eq!(create_body(50).validate().unwrap().node_count, 50);
}

#[test]
fn the_limit_comes_from_the_config() {
    let limits = Limits {
        max_node_count: 3,
        ..Limits::default()
    };
    assert!(create_body(3).validate_with(&limits).is_ok());
    assert!(matches!(
        create_body(4).validate_with(&limits),
        Err(ApiError::OverLimit {
            field: "node_count",
            ..
        })
    ));
    // A negative count keeps its 1.2.x-compatible error.
    assert_eq!(
        create_body(-1).validate_with(&limits),
        Err(ApiError::InvalidNodeCount(-1))
    );
}

#[test]
fn the_cluster_size_counts_the_master_and_the_nfs_node() {
    let limits = Limits {
        max_cluster_vms: 5,
        ..Limits::default()
    };
    assert!(create_body(4).validate_with(&limits).is_ok());
    let mut body = create_body(4);
    body.enable_nfs = Some(true);
    let error = body.validate_with(&limits).unwrap_err();
    assert_eq!(
        error.to_string(),
        "Invalid node_count: 4 (a cluster of 6 VMs with the master and the NFS node) is over the limit of 5 VMs per cluster (limits.max_cluster_vms)."
    );
    assert_eq!(error.status(), 400);
}

#[test]
fn cpu_memory_names_and_keys_are_bounded() {
    let base = serde_json::json!({"name": "c1", "vdc": "vdc1", "network": "net1"});
    let with = |key: &str, value: serde_json::Value| {
        let mut body = base.clone();
        body[key] = value;
        create(body).validate().unwrap_err().to_string()
    };
    assert_eq!(
        with("cpu", 129.into()),
        "Invalid cpu: 129 is over the limit of 128 vCPUs per VM (limits.max_cpu)."
    );
    assert_eq!(
        with("memory", (7 * 1024 * 1024).into()),
        "Invalid memory: 7340032 MB is over the limit of 6291456 MB per VM (limits.max_memory_mb)."
    );
    for field in ["vdc", "network", "storage_profile", "template"] {
        assert_eq!(
            with(field, "é".repeat(129).into()),
            format!(
                "Invalid {field}: 129 characters is over the limit of 128 characters (limits.max_name_length)."
            )
        );
    }
    let key = "x".repeat(16_385);
    let text = with("ssh_key", key.clone().into());
    assert_eq!(
        text,
        "Invalid ssh_key: 16385 characters is over the limit of 16384 characters (limits.max_ssh_key_length)."
    );
    let mut ok = base.clone();
    ok["ssh_key"] = "x".repeat(16_384).into();
    ok["vdc"] = "é".repeat(128).into();
    assert!(create(ok).validate().is_ok());
}

#[test]
fn node_create_is_bounded_by_request_and_by_cluster_size() {
    let error = add_nodes(serde_json::json!({"node_count": 2_147_483_648_i64, "network": "n"}))
        .validate("c1")
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "Invalid node_count: 2147483648 is over the limit of 50 VMs per request (limits.max_node_count)."
    );
    assert_eq!(error.status(), 400);
    let spec = add_nodes(serde_json::json!({"node_count": 10, "network": "n"}))
        .validate("c1")
        .unwrap();
    let limits = Limits::default();
    assert_eq!(
        check_cluster_capacity("c1", 90, spec.node_count, &limits),
        Ok(())
    );
    let error = check_cluster_capacity("c1", 91, spec.node_count, &limits).unwrap_err();
    assert_eq!(
        error.to_string(),
        "Invalid node_count: 10. Cluster 'c1' has 91 VMs and can have at most 100 (limits.max_cluster_vms)."
    );
    assert_eq!(error.status(), 400);
    assert!(check_cluster_capacity("c1", u64::MAX, u32::MAX, &limits).is_err());
}

#[test]
fn node_delete_names_are_bounded_and_deduplicated() {
    let nodes: Vec<String> = (0..101).map(|i| format!("node-{i:04}")).collect();
    let body = DeleteNodesBody {
        nodes: Some(nodes),
        ..Default::default()
    };
    let error = body.validate("c1").unwrap_err();
    assert_eq!(
        error.to_string(),
        "Invalid nodes: 101 names is over the limit of 100 nodes per request (limits.max_delete_nodes)."
    );
    let body = DeleteNodesBody {
        nodes: Some(vec!["n".repeat(129)]),
        ..Default::default()
    };
    assert_eq!(body.validate("c1").unwrap_err().status(), 400);
    let body = DeleteNodesBody {
        nodes: Some(["node-a", "node-b", "node-a"].map(String::from).to_vec()),
        ..Default::default()
    };
    assert_eq!(body.validate("c1").unwrap().nodes, ["node-a", "node-b"]);
}

// ---- node names ----

#[test]
fn asking_for_more_names_than_exist_is_refused_at_once() {
    let mut rng = StdRng::seed_from_u64(1);
    for count in [NODE_NAMES_PER_TYPE + 1, 2_147_483_648, usize::MAX] {
        assert_eq!(
            generate_unused_node_names(NodeType::Worker, count, &HashSet::new(), &mut rng),
            Err(NamingError::NotEnoughNames {
                node_type: NodeType::Worker,
                wanted: count,
                left: NODE_NAMES_PER_TYPE,
            })
        );
    }
}

#[test]
fn the_last_free_names_are_found_in_one_pass() {
    // Every worker name but 3 is taken: the random phase is skipped and one ordered pass
    // finds exactly the 3 free names; asking for 4 is refused.
    let free = ["node-aaaa", "node-m0m0", "node-9999"];
    let taken: HashSet<String> = (0..NODE_NAMES_PER_TYPE)
        .map(|i| {
            let mut n = i;
            let mut suffix = [0u8; 4];
            for slot in suffix.iter_mut().rev() {
                *slot = b"abcdefghijklmnopqrstuvwxyz0123456789"[n % 36];
                n /= 36;
            }
            format!("node-{}", std::str::from_utf8(&suffix).unwrap())
        })
        .filter(|name| !free.contains(&name.as_str()))
        .collect();
    let mut rng = StdRng::seed_from_u64(9);
    let mut names = generate_unused_node_names(NodeType::Worker, 3, &taken, &mut rng).unwrap();
    names.sort();
    assert_eq!(names, ["node-9999", "node-aaaa", "node-m0m0"]);
    assert!(matches!(
        generate_unused_node_names(NodeType::Worker, 4, &taken, &mut rng),
        Err(NamingError::NotEnoughNames { left: 3, .. })
    ));
    // Names of other types do not use up worker names.
    assert_eq!(
        generate_unused_node_names(NodeType::Nfs, 10, &taken, &mut rng)
            .unwrap()
            .len(),
        10
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(crate::fuzz_cases(64)))]

    #[test]
    fn generated_names_are_distinct_unused_and_well_formed(
        seed in any::<u64>(),
        count in 0usize..300,
        existing in prop::collection::hash_set("node-[a-z0-9]{4}", 0..300),
    ) {
        let mut rng = StdRng::seed_from_u64(seed);
        let names = generate_unused_node_names(NodeType::Worker, count, &existing, &mut rng).unwrap();
        prop_assert_eq!(names.len(), count);
        let unique: HashSet<&String> = names.iter().collect();
        prop_assert_eq!(unique.len(), count);
        for name in &names {
            prop_assert!(!existing.contains(name));
            prop_assert_eq!(NodeName::parse(name).unwrap().node_type(), NodeType::Worker);
        }
    }

    #[test]
    fn node_counts_over_the_limit_never_validate(n in 51i64..=i64::MAX) {
        let error = create_body(n).validate().unwrap_err();
        let is_over_limit = matches!(error, ApiError::OverLimit { field: "node_count", .. });
        prop_assert!(is_over_limit);
        let error = add_nodes(serde_json::json!({"node_count": n, "network": "n"}))
            .validate("c1")
            .unwrap_err();
        prop_assert_eq!(error.status(), 400);
    }
}

/// Cases per property: this file's own number, or `CSE_FUZZ_CASES` when set (the
/// reliability suite's long form, `scripts/reliability.sh --long`).
fn fuzz_cases(default: u32) -> u32 {
    std::env::var("CSE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
