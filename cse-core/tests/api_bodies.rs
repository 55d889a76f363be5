//! Request bodies as vcd-cli sends them, and their validation (API-DECISIONS.md 18–30).

use cse_core::api::{
    ApiError, ClusterSpec, CreateClusterBody, CreateNodesBody, DeleteNodesBody, NodeDeletion,
    NodesSpec, SystemAction, SystemUpdateBody, VmResources, is_system_org, parse_body,
    python_list_repr, python_str_repr, require_system_org,
};
use cse_core::naming::NodeType;
use proptest::prelude::*;
use serde_json::json;

fn bytes(value: serde_json::Value) -> Vec<u8> {
    value.to_string().into_bytes()
}

/// What `vcd cse cluster create c1 --network net1` sends.
fn vcd_cli_create() -> serde_json::Value {
    json!({
        "name": "c1", "node_count": 2, "vdc": "vdc1", "cpu": null, "memory": null,
        "network": "net1", "storage_profile": null, "ssh_key": null, "template": null,
        "enable_nfs": false
    })
}

fn create(value: serde_json::Value) -> Result<ClusterSpec, ApiError> {
    CreateClusterBody::from_json(&bytes(value))?.validate()
}

#[test]
fn create_cluster_from_vcd_cli() {
    assert_eq!(
        create(vcd_cli_create()).unwrap(),
        ClusterSpec {
            name: "c1".into(),
            node_count: 2,
            vdc: "vdc1".into(),
            network: "net1".into(),
            resources: VmResources::default(),
            storage_profile: None,
            ssh_key: None,
            template: None,
            enable_nfs: false,
            disable_rollback: false,
        }
    );
}

#[test]
fn create_cluster_with_everything() {
    let mut body = vcd_cli_create();
    body["node_count"] = json!(0);
    body["cpu"] = json!(4);
    body["memory"] = json!(4096);
    body["storage_profile"] = json!("gold");
    body["ssh_key"] = json!("ssh-rsa AAAA user@host");
    body["template"] = json!("ubuntu-16.04");
    body["enable_nfs"] = json!(true);
    body["disable_rollback"] = json!(true);
    body["unknown_future_key"] = json!({"x": 1});
    let spec = create(body).unwrap();
    assert_eq!(spec.node_count, 0);
    assert_eq!(
        spec.resources,
        VmResources {
            cpu: Some(4),
            memory_mb: Some(4096)
        }
    );
    assert_eq!(spec.storage_profile.as_deref(), Some("gold"));
    assert_eq!(spec.ssh_key.as_deref(), Some("ssh-rsa AAAA user@host"));
    assert_eq!(spec.template.as_deref(), Some("ubuntu-16.04"));
    assert!(spec.enable_nfs);
    assert!(spec.disable_rollback);
}

#[test]
fn create_cluster_defaults_and_blank_strings() {
    let spec =
        create(json!({"name": "c1", "vdc": "v", "network": "n", "template": " ", "ssh_key": ""}))
            .unwrap();
    assert_eq!(spec.node_count, 2);
    assert_eq!(spec.template, None);
    assert_eq!(spec.ssh_key, None);
}

#[test]
fn create_cluster_validation_errors() {
    let with = |key: &str, value: serde_json::Value| {
        let mut body = vcd_cli_create();
        body[key] = value;
        create(body).unwrap_err()
    };
    assert_eq!(with("name", json!(null)), ApiError::MissingField("name"));
    assert_eq!(with("name", json!("")), ApiError::MissingField("name"));
    assert_eq!(
        with("name", json!("bad_name")).to_string(),
        "Invalid cluster name"
    );
    assert_eq!(
        with("name", json!("system")).to_string(),
        "Invalid cluster name: 'system' is reserved (system, template and swagger* cannot be used as cluster names)"
    );
    assert_eq!(
        with("node_count", json!(-1)),
        ApiError::InvalidNodeCount(-1)
    );
    assert_eq!(
        with("node_count", json!(-1)).to_string(),
        "Invalid node count: -1."
    );
    assert_eq!(with("vdc", json!(null)), ApiError::MissingField("vdc"));
    assert_eq!(
        with("network", json!(null)),
        ApiError::MissingField("network")
    );
    assert_eq!(with("cpu", json!(0)), ApiError::InvalidCpu(0));
    assert_eq!(with("memory", json!(-512)), ApiError::InvalidMemory(-512));
    assert!(matches!(
        with("node_count", json!("2")),
        ApiError::InvalidBody(_)
    ));
    assert!(matches!(
        with("enable_nfs", json!("yes")),
        ApiError::InvalidBody(_)
    ));
}

#[test]
fn body_parsing_errors() {
    assert_eq!(
        CreateClusterBody::from_json(b""),
        Err(ApiError::MissingBody)
    );
    assert_eq!(
        CreateClusterBody::from_json(b"  \n"),
        Err(ApiError::MissingBody)
    );
    assert_eq!(
        CreateClusterBody::from_json(b"null"),
        Err(ApiError::MissingBody)
    );
    let err = CreateClusterBody::from_json(b"name=c1").unwrap_err();
    assert_eq!(err.status(), 400);
    assert!(
        err.to_string().starts_with("Invalid request body: "),
        "{err}"
    );
    let err = CreateClusterBody::from_json(b"[1]").unwrap_err();
    assert!(matches!(err, ApiError::InvalidBody(_)));
    let err = parse_body::<CreateClusterBody>(&[0xff, 0xfe]).unwrap_err();
    assert!(err.to_string().contains("not UTF-8"), "{err}");
}

/// What `vcd cse node create c1 --nodes 2 --network net1` sends.
fn vcd_cli_add_nodes() -> serde_json::Value {
    json!({
        "name": "c1", "node_count": 2, "vdc": "vdc1", "cpu": null, "memory": null,
        "network": "net1", "storage_profile": null, "ssh_key": null, "template": null,
        "node_type": "node"
    })
}

fn add_nodes(value: serde_json::Value, url_cluster: &str) -> Result<NodesSpec, ApiError> {
    CreateNodesBody::from_json(&bytes(value))?.validate(url_cluster)
}

#[test]
fn create_nodes_from_vcd_cli() {
    assert_eq!(
        add_nodes(vcd_cli_add_nodes(), "c1").unwrap(),
        NodesSpec {
            cluster: "c1".into(),
            node_count: 2,
            node_type: NodeType::Worker,
            vdc: Some("vdc1".into()),
            network: "net1".into(),
            resources: VmResources::default(),
            storage_profile: None,
            ssh_key: None,
            template: None,
            disable_rollback: false,
        }
    );
}

#[test]
fn create_nodes_types_and_defaults() {
    let mut body = vcd_cli_add_nodes();
    body["node_type"] = json!("nfsd");
    body["node_count"] = json!(null);
    let spec = add_nodes(body, "c1").unwrap();
    assert_eq!(spec.node_type, NodeType::Nfs);
    assert_eq!(spec.node_count, 1);
    let spec = add_nodes(json!({"network": "n", "node_type": null}), "c9").unwrap();
    assert_eq!(spec.node_type, NodeType::Worker);
    assert_eq!(spec.cluster, "c9");
    assert_eq!(spec.vdc, None);
}

#[test]
fn create_nodes_validation_errors() {
    let with = |key: &str, value: serde_json::Value| {
        let mut body = vcd_cli_add_nodes();
        body[key] = value;
        add_nodes(body, "c1").unwrap_err()
    };
    let err = with("node_count", json!(0));
    assert_eq!(err.to_string(), "Invalid node count: 0.");
    assert_eq!(err.status(), 500);
    assert_eq!(
        with("node_count", json!(-2)),
        ApiError::InvalidNodeCount(-2)
    );
    assert_eq!(
        with("node_type", json!("master")),
        ApiError::InvalidNodeType("master".into())
    );
    assert_eq!(
        with("network", json!(null)),
        ApiError::MissingField("network")
    );
    assert_eq!(with("cpu", json!(-1)), ApiError::InvalidCpu(-1));
    assert_eq!(with("memory", json!(0)), ApiError::InvalidMemory(0));
}

#[test]
fn node_routes_reject_a_body_name_that_disagrees_with_the_url() {
    let err = add_nodes(vcd_cli_add_nodes(), "other").unwrap_err();
    assert_eq!(
        err,
        ApiError::ClusterNameMismatch {
            body: "c1".into(),
            url: "other".into()
        }
    );
    assert_eq!(err.status(), 400);
    let err = delete_nodes(json!({"name": "c1", "nodes": ["node-ab12"]}), "other").unwrap_err();
    assert!(matches!(err, ApiError::ClusterNameMismatch { .. }));
    // A null or blank body name is fine: the URL decides.
    assert!(delete_nodes(json!({"name": null, "nodes": ["node-ab12"]}), "c1").is_ok());
    assert!(delete_nodes(json!({"name": "", "nodes": ["node-ab12"]}), "c1").is_ok());
}

fn delete_nodes(value: serde_json::Value, url_cluster: &str) -> Result<NodeDeletion, ApiError> {
    DeleteNodesBody::from_json(&bytes(value))?.validate(url_cluster)
}

#[test]
fn delete_nodes_from_vcd_cli() {
    let body = json!({"name": "c1", "vdc": "vdc1", "nodes": ["node-ab12", "nfsd-zz99", "node-ab12"], "force": true});
    assert_eq!(
        delete_nodes(body, "c1").unwrap(),
        NodeDeletion {
            cluster: "c1".into(),
            nodes: vec!["node-ab12".into(), "nfsd-zz99".into()],
            force: true,
        }
    );
    let spec = delete_nodes(json!({"nodes": ["node-ab12"]}), "c1").unwrap();
    assert!(!spec.force);
}

#[test]
fn delete_nodes_validation_errors() {
    for nodes in [json!([]), json!(null)] {
        let err = delete_nodes(json!({"name": "c1", "nodes": nodes}), "c1").unwrap_err();
        assert_eq!(err.to_string(), "Invalid list of nodes: [].");
        assert_eq!(err.status(), 500);
    }
    let err = delete_nodes(json!({"nodes": ["node-ab12", " "]}), "c1").unwrap_err();
    assert_eq!(
        err.to_string(),
        "Invalid list of nodes: ['node-ab12', ' ']."
    );
    let err = delete_nodes(json!({"nodes": ["node-ab12", "mstr-xy34"]}), "c1").unwrap_err();
    assert_eq!(err.to_string(), "Can't delete a master node: 'mstr-xy34'.");
    assert_eq!(err.status(), 500);
    let err = delete_nodes(json!({"nodes": "node-ab12"}), "c1").unwrap_err();
    assert!(matches!(err, ApiError::InvalidBody(_)));
}

fn system(value: serde_json::Value) -> Result<SystemAction, ApiError> {
    SystemUpdateBody::from_json(&bytes(value))?.validate()
}

#[test]
fn system_update_bodies() {
    assert_eq!(system(json!({"enabled": true})), Ok(SystemAction::Enable));
    assert_eq!(system(json!({"enabled": false})), Ok(SystemAction::Disable));
    assert_eq!(system(json!({"stopped": true})), Ok(SystemAction::Stop));
    assert_eq!(system(json!({"stopped": null})), Ok(SystemAction::Stop));
    assert_eq!(system(json!({"stopped": "now"})), Ok(SystemAction::Stop));
    assert_eq!(system(json!({"stopped": false})), Err(ApiError::StopFalse));
    assert_eq!(system(json!({"other": 1})), Err(ApiError::UnknownStatus));
    assert_eq!(system(json!({})).unwrap_err().to_string(), "Unknown status");
    assert_eq!(
        system(json!({"enabled": true, "stopped": true})),
        Err(ApiError::ConflictingSystemUpdate)
    );
    let err = system(json!({"enabled": "yes"})).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Invalid request body: 'enabled' must be true or false, got \"yes\""
    );
    assert_eq!(SystemUpdateBody::from_json(b""), Err(ApiError::MissingBody));
}

#[test]
fn system_update_bodies_serialise_like_vcd_cli() {
    assert_eq!(
        serde_json::to_string(&SystemUpdateBody::set_enabled(true)).unwrap(),
        r#"{"enabled":true}"#
    );
    assert_eq!(
        serde_json::to_string(&SystemUpdateBody::set_enabled(false)).unwrap(),
        r#"{"enabled":false}"#
    );
    assert_eq!(
        serde_json::to_string(&SystemUpdateBody::stop()).unwrap(),
        r#"{"stopped":true}"#
    );
}

#[test]
fn create_bodies_serialise_every_key_like_vcd_cli() {
    insta::assert_json_snapshot!("create_cluster_body_default", CreateClusterBody::default());
    insta::assert_json_snapshot!("create_nodes_body_default", CreateNodesBody::default());
    insta::assert_json_snapshot!("delete_nodes_body_default", DeleteNodesBody::default());
}

#[test]
fn system_org_check() {
    assert!(is_system_org("System"));
    assert!(is_system_org("system"));
    assert!(!is_system_org("Acme"));
    assert_eq!(require_system_org("System"), Ok(()));
    assert_eq!(require_system_org("Acme"), Err(ApiError::Unauthorized));
}

#[test]
fn python_reprs() {
    assert_eq!(python_list_repr(&[]), "[]");
    assert_eq!(python_list_repr(&["a".into(), "b".into()]), "['a', 'b']");
    assert_eq!(python_str_repr("it's"), "\"it's\"");
    assert_eq!(python_str_repr("both ' and \""), "'both \\' and \"'");
    assert_eq!(python_str_repr("a\\b\n\t\u{1}"), "'a\\\\b\\n\\t\\x01'");
    assert_eq!(python_str_repr("héllo"), "'héllo'");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(crate::fuzz_cases(128)))]

    #[test]
    fn create_body_round_trips(
        name in proptest::option::of("[a-z][a-z0-9-]{0,10}[a-z0-9]"),
        node_count in proptest::option::of(-3i64..50),
        cpu in proptest::option::of(-2i64..16),
        enable_nfs in proptest::option::of(any::<bool>()),
    ) {
        let body = CreateClusterBody { name, node_count, cpu, enable_nfs, vdc: Some("v".into()), network: Some("n".into()), ..Default::default() };
        let text = serde_json::to_vec(&body).unwrap();
        let parsed = CreateClusterBody::from_json(&text).unwrap();
        prop_assert_eq!(&parsed, &body);
        let _ = parsed.validate();
    }

    #[test]
    fn arbitrary_bodies_never_panic(text in r#"[\[\]{}",:0-9a-z ]{0,60}"#) {
        let bytes = text.as_bytes();
        if let Ok(body) = CreateClusterBody::from_json(bytes) { let _ = body.validate(); }
        if let Ok(body) = CreateNodesBody::from_json(bytes) { let _ = body.validate("c1"); }
        if let Ok(body) = DeleteNodesBody::from_json(bytes) { let _ = body.validate("c1"); }
        if let Ok(body) = SystemUpdateBody::from_json(bytes) { let _ = body.validate(); }
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
