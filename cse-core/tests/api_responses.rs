//! Golden JSON of every response document, with the exact 1.2.x keys, and the VM status
//! table.

use cse_core::api::{
    ApiError, Cluster, ClusterTaskReply, CreateClusterReply, KubeConfigReply, MessageBody,
    NodeInfo, NodeSummary, ServiceStatus, SystemDetails, SystemInfo, TemplateEntry,
    exports_from_showmount, vm_status_text,
};
use cse_core::naming::NodeType;
use serde_json::json;

fn listed_cluster() -> Cluster {
    Cluster {
        name: "c1".into(),
        vapp_id: "9a1b2c3d-0000-4000-8000-000000000001".into(),
        vapp_href: "https://vcd.example.com/api/vApp/vapp-9a1b2c3d-0000-4000-8000-000000000001"
            .into(),
        vdc_name: "vdc1".into(),
        vdc_href: "https://vcd.example.com/api/vdc/5e6f7a8b-0000-4000-8000-000000000002".into(),
        leader_endpoint: "10.0.0.10".into(),
        number_of_vms: "4".into(),
        template: "photon-v2".into(),
        cse_version: "0.1.0".into(),
        cluster_id: "1f2e3d4c-0000-4000-8000-000000000003".into(),
        status: "POWERED_ON".into(),
        ..Cluster::default()
    }
}

#[test]
fn cluster_list_entry() {
    let cluster = listed_cluster();
    insta::assert_json_snapshot!("cluster_list_entry", cluster);
    let text = serde_json::to_string(&cluster).unwrap();
    let keys: Vec<String> =
        serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&text)
            .unwrap()
            .keys()
            .cloned()
            .collect();
    assert_eq!(keys.len(), 14);
    assert_eq!(serde_json::from_str::<Cluster>(&text).unwrap(), cluster);
}

#[test]
fn cluster_info_classifies_vms_by_prefix() {
    let mut cluster = listed_cluster();
    assert!(cluster.add_vm("mstr-ab12", "10.0.0.10"));
    assert!(cluster.add_vm("node-cd34", "10.0.0.11"));
    assert!(cluster.add_vm("node-ef56", ""));
    assert!(cluster.add_vm("nfsd-gh78", "10.0.0.13"));
    assert!(!cluster.add_vm("photon2-temp", "10.0.0.99"));
    assert_eq!(
        cluster.master_nodes,
        vec![NodeSummary {
            name: "mstr-ab12".into(),
            ip_address: "10.0.0.10".into()
        }]
    );
    assert_eq!(cluster.nodes.len(), 2);
    assert_eq!(cluster.nfs_nodes.len(), 1);
    insta::assert_json_snapshot!("cluster_info", cluster);
}

#[test]
fn node_info_documents() {
    let worker = NodeInfo {
        name: "node-cd34".into(),
        number_of_cpus: Some(2),
        memory_mb: Some(2048),
        status: vm_status_text(4).into(),
        ip_address: "10.0.0.11".into(),
        node_type: NodeType::Worker,
        exports: None,
    };
    insta::assert_json_snapshot!("node_info_worker", worker);
    let nfs = NodeInfo {
        name: "nfsd-gh78".into(),
        number_of_cpus: None,
        memory_mb: None,
        status: vm_status_text(8).into(),
        ip_address: "10.0.0.13".into(),
        node_type: NodeType::Nfs,
        exports: Some(vec!["/home".into()]),
    };
    insta::assert_json_snapshot!("node_info_nfsd", nfs);
    let master = NodeInfo {
        node_type: NodeType::Master,
        name: "mstr-ab12".into(),
        ..worker.clone()
    };
    let value = serde_json::to_value(&master).unwrap();
    assert_eq!(value["node_type"], "master");
    assert!(value.get("exports").is_none());
    for doc in [&worker, &nfs, &master] {
        let text = serde_json::to_string(doc).unwrap();
        assert_eq!(&serde_json::from_str::<NodeInfo>(&text).unwrap(), doc);
    }
}

#[test]
fn node_info_parses_numbers_given_as_strings() {
    let doc: NodeInfo = serde_json::from_value(json!({
        "name": "node-a", "numberOfCpus": "4", "memoryMB": null, "status": "Powered on",
        "ipAddress": "", "node_type": "node"
    }))
    .unwrap();
    assert_eq!(doc.number_of_cpus, Some(4));
    assert_eq!(doc.memory_mb, None);
    assert!(
        serde_json::from_value::<NodeInfo>(json!({
            "name": "n", "numberOfCpus": "x", "memoryMB": "", "status": "", "ipAddress": "",
            "node_type": "node"
        }))
        .is_err()
    );
    assert!(
        serde_json::from_value::<NodeInfo>(json!({
            "name": "n", "numberOfCpus": 1, "memoryMB": 1, "status": "", "ipAddress": "",
            "node_type": "gpu"
        }))
        .is_err()
    );
}

#[test]
fn vm_status_table_is_complete() {
    let table: Vec<String> = (-2..=16)
        .map(|code| format!("{code}: {}", vm_status_text(code)))
        .collect();
    insta::assert_snapshot!("vm_status_table", table.join("\n"));
}

#[test]
fn showmount_exports() {
    let stdout = "Export list for 10.0.0.13:\n/home *\n/data 10.0.0.0/24\n\n";
    assert_eq!(exports_from_showmount(stdout), vec!["/home", "/data"]);
    assert!(exports_from_showmount("").is_empty());
    assert!(exports_from_showmount("Export list for x:\n").is_empty());
}

#[test]
fn async_replies() {
    insta::assert_json_snapshot!(
        "create_cluster_reply",
        CreateClusterReply {
            name: "c1".into(),
            cluster_id: "1f2e3d4c-0000-4000-8000-000000000003".into(),
            task_href: "https://vcd.example.com/api/task/7a8b9c0d".into(),
        }
    );
    insta::assert_json_snapshot!(
        "cluster_task_reply",
        ClusterTaskReply {
            cluster_name: "c1".into(),
            task_href: "https://vcd.example.com/api/task/7a8b9c0d".into(),
        }
    );
}

#[test]
fn kubeconfig_is_a_json_string() {
    let reply = KubeConfigReply("apiVersion: v1\nkind: Config\n".into());
    assert_eq!(
        serde_json::to_string(&reply).unwrap(),
        r#""apiVersion: v1\nkind: Config\n""#
    );
    insta::assert_json_snapshot!("kubeconfig_reply", reply);
}

#[test]
fn template_list() {
    let templates = vec![
        TemplateEntry {
            name: "photon-v2".into(),
            is_default: true,
            catalog: "cse".into(),
            catalog_item: "photon-custom-hw11-2.0-304b817-k8s".into(),
            description: "PhotonOS v2\nDocker 17.06.0-4\nKubernetes 1.9.1\nweave 2.3.0".into(),
        },
        TemplateEntry {
            name: "ubuntu-16.04".into(),
            is_default: false,
            catalog: "cse".into(),
            catalog_item: "ubuntu-16.04-server-cloudimg-amd64-k8s".into(),
            description: "Ubuntu 16.04\nDocker 18.03.0~ce\nKubernetes 1.10.1\nweave 2.3.0".into(),
        },
    ];
    insta::assert_json_snapshot!("template_list", templates);
}

#[test]
fn system_info_for_tenants_and_system_admins() {
    let tenant = SystemInfo::base("0.1.0");
    insta::assert_json_snapshot!("system_info_tenant", tenant);
    let admin = SystemInfo::for_system(
        "0.1.0",
        SystemDetails {
            runtime: "rustc 1.95.0".into(),
            consumer_threads: 5,
            all_threads: 12,
            requests_in_progress: 2,
            config_file: "/home/cse/config.yaml".into(),
            status: ServiceStatus::from_flags(false, true),
        },
    );
    insta::assert_json_snapshot!("system_info_system", admin);
    let text = serde_json::to_string(&admin).unwrap();
    assert_eq!(serde_json::from_str::<SystemInfo>(&text).unwrap(), admin);
}

#[test]
fn service_status_texts() {
    assert_eq!(
        serde_json::to_value(ServiceStatus::from_flags(true, false)).unwrap(),
        "Running"
    );
    assert_eq!(
        serde_json::to_value(ServiceStatus::from_flags(true, true)).unwrap(),
        "Running"
    );
    assert_eq!(
        serde_json::to_value(ServiceStatus::from_flags(false, true)).unwrap(),
        "Shutting down"
    );
    assert_eq!(
        serde_json::to_value(ServiceStatus::from_flags(false, false)).unwrap(),
        "Disabled"
    );
}

#[test]
fn message_bodies() {
    insta::assert_json_snapshot!("message_updated", MessageBody::updated());
    insta::assert_json_snapshot!("message_shutdown", MessageBody::shutdown_started(2));
    insta::assert_json_snapshot!(
        "error_cluster_not_found",
        ApiError::ClusterNotFound("c1".into()).body()
    );
}
