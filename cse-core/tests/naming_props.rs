//! Property tests of node names and cluster names.

use std::collections::HashSet;

use cse_core::naming::{
    ClusterNameError, NodeName, NodeType, generate_node_name, generate_unused_node_name,
    generate_unused_node_names, validate_cluster_name,
};
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn node_type() -> impl Strategy<Value = NodeType> {
    prop::sample::select(NodeType::ALL.to_vec())
}

/// Names the original rule accepts: 1–3 labels of `[A-Za-z0-9-]` without edge hyphens,
/// optionally a trailing dot, at most 25 characters, not reserved.
fn valid_cluster_name() -> impl Strategy<Value = String> {
    let label = "[A-Za-z0-9]([A-Za-z0-9-]{0,6}[A-Za-z0-9])?";
    (prop::collection::vec(label, 1..4), any::<bool>())
        .prop_map(|(labels, dot)| {
            let mut name = labels.join(".");
            if dot {
                name.push('.');
            }
            name
        })
        .prop_filter("at most 25 characters", |n| n.len() <= 25)
        .prop_filter("not reserved", |n| {
            let lower = n.trim_end_matches('.').to_ascii_lowercase();
            lower != "system" && lower != "template" && !lower.starts_with("swagger")
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(crate::fuzz_cases(128)))]

    #[test]
    fn generated_names_parse_back(t in node_type(), seed in any::<u64>()) {
        let name = generate_node_name(t, &mut StdRng::seed_from_u64(seed));
        let parsed = NodeName::parse(&name).unwrap();
        prop_assert_eq!(parsed.node_type(), t);
        prop_assert_eq!(parsed.as_str(), name.as_str());
        prop_assert_eq!(NodeType::classify(&name), Some(t));
    }

    #[test]
    fn unused_names_never_collide(
        t in node_type(),
        seed in any::<u64>(),
        existing in prop::collection::hash_set("(mstr|node|nfsd)-[a-z0-9]{4}", 0..50),
    ) {
        let mut rng = StdRng::seed_from_u64(seed);
        let name = generate_unused_node_name(t, &existing, &mut rng).unwrap();
        prop_assert!(!existing.contains(&name));
        let names = generate_unused_node_names(t, 5, &existing, &mut rng).unwrap();
        let unique: HashSet<&String> = names.iter().collect();
        prop_assert_eq!(unique.len(), 5);
        prop_assert!(names.iter().all(|n| !existing.contains(n)));
    }

    #[test]
    fn valid_cluster_names_are_accepted(name in valid_cluster_name()) {
        prop_assert_eq!(validate_cluster_name(&name), Ok(()));
    }

    #[test]
    fn random_strings_never_panic(name in any::<String>()) {
        match validate_cluster_name(&name) {
            Ok(()) => {
                prop_assert!(!name.is_empty() && name.chars().count() <= 25);
                prop_assert!(name.trim_end_matches('.').bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'));
            }
            Err(ClusterNameError::Empty) => prop_assert!(name.is_empty()),
            Err(e) => prop_assert!(e.to_string().starts_with("Invalid cluster name")),
        }
        let _ = NodeName::parse(&name);
        let _ = NodeType::classify(&name);
    }

    #[test]
    fn names_with_a_bad_character_are_refused(
        name in valid_cluster_name(),
        bad in "[_ /:@!é]",
        at in 0usize..25,
    ) {
        let mut chars: Vec<char> = name.chars().collect();
        let at = at.min(chars.len());
        chars.insert(at, bad.chars().next().unwrap());
        let broken: String = chars.into_iter().collect();
        prop_assert!(validate_cluster_name(&broken).is_err());
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
