//! `vcd-cse` without a network: argument parsing of every command and flag (with vcd-cli's
//! defaults), request bodies (every key present, unused ones null), golden tables and JSON,
//! error texts, and the profile file (mode 0600, token never shown).

use std::path::PathBuf;

use clap::Parser;
use cse_core::api::{
    Cluster, ClusterTaskReply, CreateClusterReply, MessageBody, NodeInfo, NodeSummary,
    ServiceStatus, SystemDetails, SystemInfo, TemplateEntry,
};
use cse_core::config::Secret;
use cse_core::naming::NodeType;
use cse_tenant::args::{
    Cli, ClusterCommand, Command, NodeCommand, NodeKind, SystemCommand, TemplateCommand,
};
use cse_tenant::commands::{
    create_cluster_body, create_nodes_body, delete_nodes_body, read_ssh_key,
};
use cse_tenant::errors::{Endpoint, TenantError};
use cse_tenant::profile::{Profile, ProfileStore, TokenType, default_path};
use cse_tenant::render;
use cse_tenant::wait::TaskState;

fn parse(args: &[&str]) -> Cli {
    let mut all = vec!["vcd-cse"];
    all.extend_from_slice(args);
    Cli::try_parse_from(all).unwrap_or_else(|e| panic!("{args:?} should parse: {e}"))
}

fn parse_err(args: &[&str]) -> clap::Error {
    let mut all = vec!["vcd-cse"];
    all.extend_from_slice(args);
    match Cli::try_parse_from(all) {
        Ok(cli) => panic!("{args:?} should be refused, got {cli:?}"),
        Err(e) => e,
    }
}

// ---------------------------------------------------------------- arguments

#[test]
fn login_takes_host_org_user_and_vcd_cli_flags() {
    let cli = parse(&["login", "vcd.example.com", "acme", "alice"]);
    let Command::Login(login) = cli.command else {
        panic!("not login")
    };
    assert_eq!(
        (login.host.as_str(), login.org.as_str(), login.user.as_str()),
        ("vcd.example.com", "acme", "alice")
    );
    assert!(!login.insecure && !login.disable_warnings);
    assert_eq!(login.api_version, None);
    assert_eq!(login.vdc, None);

    let cli = parse(&[
        "login", "h", "o", "u", "-i", "-w", "-p", "pw", "-V", "31.0", "-v", "vdc1", "-d", "tok",
    ]);
    let Command::Login(login) = cli.command else {
        panic!("not login")
    };
    assert!(login.insecure && login.disable_warnings);
    assert_eq!(login.password.as_deref(), Some("pw"));
    assert_eq!(login.api_version.as_deref(), Some("31.0"));
    assert_eq!(login.vdc.as_deref(), Some("vdc1"));
    assert_eq!(login.session_id.as_deref(), Some("tok"));
}

#[test]
fn login_insecure_has_long_forms_and_the_last_of_s_and_i_wins() {
    for flag in ["--insecure", "--no-verify-ssl-certs", "-i"] {
        let Command::Login(login) = parse(&["login", "h", "o", "u", flag]).command else {
            panic!()
        };
        assert!(login.insecure, "{flag}");
    }
    let Command::Login(login) = parse(&["login", "h", "o", "u", "-i", "-s"]).command else {
        panic!()
    };
    assert!(!login.insecure);
    let Command::Login(login) = parse(&["login", "h", "o", "u", "-s", "-i"]).command else {
        panic!()
    };
    assert!(login.insecure);
}

#[test]
fn login_requires_three_arguments() {
    let err = parse_err(&["login", "h", "o"]);
    assert_eq!(err.kind(), clap::error::ErrorKind::MissingRequiredArgument);
    assert_eq!(err.exit_code(), 2);
}

#[test]
fn cluster_create_defaults_match_vcd_cli() {
    let cli = parse(&["cluster", "create", "c1", "--network", "net1"]);
    assert!(!cli.json && !cli.follow_tasks());
    let Command::Cluster(ClusterCommand::Create(create)) = cli.command else {
        panic!()
    };
    assert_eq!(create.name, "c1");
    assert_eq!(create.nodes, 2);
    assert!(!create.enable_nfs);
    assert_eq!(create.vm.network, "net1");
    assert_eq!(create.vm.cpu, None);
    assert_eq!(create.vm.memory, None);
    assert_eq!(create.vm.storage_profile, None);
    assert_eq!(create.vm.ssh_key, None);
    assert_eq!(create.vm.template, None);
    assert_eq!(create.vm.vdc, None);
    assert!(!create.vm.disable_rollback);
}

#[test]
fn cluster_create_short_and_long_flags() {
    let short = parse(&[
        "cluster",
        "create",
        "c1",
        "-N",
        "0",
        "-c",
        "4",
        "-m",
        "4096",
        "-n",
        "net1",
        "-s",
        "gold",
        "-k",
        "/k.pub",
        "-t",
        "photon-v2",
    ]);
    let long = parse(&[
        "cluster",
        "create",
        "c1",
        "--nodes",
        "0",
        "--cpu",
        "4",
        "--memory",
        "4096",
        "--network",
        "net1",
        "--storage-profile",
        "gold",
        "--ssh-key",
        "/k.pub",
        "--template",
        "photon-v2",
    ]);
    assert_eq!(short, long);
    let Command::Cluster(ClusterCommand::Create(create)) = short.command else {
        panic!()
    };
    assert_eq!(create.nodes, 0);
    assert_eq!(create.vm.cpu, Some(4));
    assert_eq!(create.vm.memory, Some(4096));
    assert_eq!(create.vm.storage_profile.as_deref(), Some("gold"));
    assert_eq!(create.vm.ssh_key, Some(PathBuf::from("/k.pub")));
    assert_eq!(create.vm.template.as_deref(), Some("photon-v2"));

    let cli = parse(&[
        "cluster",
        "create",
        "c1",
        "-n",
        "net1",
        "--enable-nfs",
        "--disable-rollback",
        "--vdc",
        "vdc2",
        "--wait",
        "--json",
    ]);
    assert!(cli.json && cli.follow_tasks());
    let Command::Cluster(ClusterCommand::Create(create)) = cli.command else {
        panic!()
    };
    assert!(create.enable_nfs && create.vm.disable_rollback);
    assert_eq!(create.vm.vdc.as_deref(), Some("vdc2"));
}

#[test]
fn cluster_create_requires_a_network_and_sane_numbers() {
    let err = parse_err(&["cluster", "create", "c1"]);
    assert_eq!(err.kind(), clap::error::ErrorKind::MissingRequiredArgument);
    assert!(err.to_string().contains("--network"));
    parse_err(&["cluster", "create", "c1", "-n", "x", "--nodes", "-1"]);
    parse_err(&["cluster", "create", "c1", "-n", "x", "--cpu", "0"]);
    parse_err(&["cluster", "create", "c1", "-n", "x", "--memory", "lots"]);
}

#[test]
fn cluster_list_info_config_delete() {
    assert_eq!(
        parse(&["cluster", "list"]).command,
        Command::Cluster(ClusterCommand::List)
    );
    assert_eq!(
        parse(&["cluster", "info", "c1"]).command,
        Command::Cluster(ClusterCommand::Info { name: "c1".into() })
    );
    assert_eq!(
        parse(&["cluster", "config", "c1"]).command,
        Command::Cluster(ClusterCommand::Config { name: "c1".into() })
    );
    assert_eq!(
        parse(&["cluster", "delete", "c1"]).command,
        Command::Cluster(ClusterCommand::Delete {
            name: "c1".into(),
            yes: false
        })
    );
    for yes in ["-y", "--yes"] {
        assert_eq!(
            parse(&["cluster", "delete", "c1", yes]).command,
            Command::Cluster(ClusterCommand::Delete {
                name: "c1".into(),
                yes: true
            })
        );
    }
    parse_err(&["cluster", "info"]);
}

#[test]
fn node_create_defaults_and_type() {
    let cli = parse(&["node", "create", "c1", "-n", "net1"]);
    let Command::Node(NodeCommand::Create(create)) = cli.command else {
        panic!()
    };
    assert_eq!(create.nodes, 1);
    assert_eq!(create.node_type, NodeKind::Node);
    let cli = parse(&[
        "node",
        "create",
        "c1",
        "-n",
        "net1",
        "--type",
        "nfsd",
        "-N",
        "3",
        "-c",
        "2",
        "-m",
        "1024",
        "-s",
        "gold",
        "-t",
        "ubuntu-16.04",
        "--vdc",
        "v",
        "--disable-rollback",
    ]);
    let Command::Node(NodeCommand::Create(create)) = cli.command else {
        panic!()
    };
    assert_eq!(create.node_type, NodeKind::Nfsd);
    assert_eq!(create.nodes, 3);
    assert!(create.vm.disable_rollback);
    let err = parse_err(&["node", "create", "c1", "-n", "x", "--type", "master"]);
    assert_eq!(err.kind(), clap::error::ErrorKind::InvalidValue);
    parse_err(&["node", "create", "c1", "-n", "x", "--nodes", "0"]);
    parse_err(&["node", "create", "c1"]);
}

#[test]
fn node_list_info_delete() {
    assert_eq!(
        parse(&["node", "list", "c1"]).command,
        Command::Node(NodeCommand::List { name: "c1".into() })
    );
    assert_eq!(
        parse(&["node", "info", "c1", "node-ab12"]).command,
        Command::Node(NodeCommand::Info {
            cluster_name: "c1".into(),
            node_name: "node-ab12".into()
        })
    );
    let Command::Node(NodeCommand::Delete(delete)) =
        parse(&["node", "delete", "c1", "node-a", "node-b"]).command
    else {
        panic!()
    };
    assert_eq!(delete.node_names, ["node-a", "node-b"]);
    assert!(!delete.yes && !delete.force);
    assert_eq!(delete.vdc, None);
    let Command::Node(NodeCommand::Delete(delete)) =
        parse(&["node", "delete", "c1", "node-a", "-y", "-f", "--vdc", "v1"]).command
    else {
        panic!()
    };
    assert!(delete.yes && delete.force);
    assert_eq!(delete.vdc.as_deref(), Some("v1"));
    let Command::Node(NodeCommand::Delete(delete)) =
        parse(&["node", "delete", "c1", "node-a", "--yes", "--force"]).command
    else {
        panic!()
    };
    assert!(delete.yes && delete.force);
    let err = parse_err(&["node", "delete", "c1"]);
    assert_eq!(err.kind(), clap::error::ErrorKind::MissingRequiredArgument);
}

#[test]
fn template_system_version_and_global_flags() {
    assert_eq!(
        parse(&["template", "list"]).command,
        Command::Template(TemplateCommand::List)
    );
    assert_eq!(
        parse(&["system", "info"]).command,
        Command::System(SystemCommand::Info)
    );
    assert_eq!(
        parse(&["system", "enable"]).command,
        Command::System(SystemCommand::Enable)
    );
    assert_eq!(
        parse(&["system", "disable"]).command,
        Command::System(SystemCommand::Disable)
    );
    assert_eq!(
        parse(&["system", "stop", "-y"]).command,
        Command::System(SystemCommand::Stop { yes: true })
    );
    assert_eq!(
        parse(&["system", "stop"]).command,
        Command::System(SystemCommand::Stop { yes: false })
    );
    assert_eq!(parse(&["version"]).command, Command::Version);
    // --json / -j anywhere; --wait and --no-wait: the last one wins.
    assert!(parse(&["-j", "template", "list"]).json);
    assert!(parse(&["template", "list", "--json"]).json);
    assert!(parse(&["--wait", "cluster", "delete", "c", "-y"]).follow_tasks());
    assert!(!parse(&["cluster", "delete", "c", "--wait", "--no-wait"]).follow_tasks());
    assert!(parse(&["cluster", "delete", "c", "--no-wait", "--wait"]).follow_tasks());
    parse_err(&["cluster", "frobnicate"]);
    parse_err(&[]);
}

// ---------------------------------------------------------------- bodies

fn create_args(extra: &[&str]) -> cse_tenant::args::ClusterCreateArgs {
    let mut args = vec!["cluster", "create", "mycluster", "-n", "intranet"];
    args.extend_from_slice(extra);
    match parse(&args).command {
        Command::Cluster(ClusterCommand::Create(create)) => create,
        other => panic!("{other:?}"),
    }
}

#[test]
fn cluster_create_body_has_every_key_and_nulls() {
    let body = create_cluster_body(&create_args(&[]), "vdc1", None);
    insta::assert_snapshot!(
        "body_create_cluster_defaults",
        serde_json::to_string_pretty(&body).unwrap()
    );
    let full = create_cluster_body(
        &create_args(&[
            "-N",
            "3",
            "-c",
            "4",
            "-m",
            "4096",
            "-s",
            "gold",
            "-t",
            "photon-v2",
            "--enable-nfs",
            "--disable-rollback",
        ]),
        "vdc1",
        Some("ssh-rsa AAAA alice@host".into()),
    );
    insta::assert_snapshot!(
        "body_create_cluster_full",
        serde_json::to_string_pretty(&full).unwrap()
    );
    // The server-side validation accepts what the CLI sends.
    let spec = full.validate().unwrap();
    assert_eq!(spec.node_count, 3);
    assert!(spec.enable_nfs && spec.disable_rollback);
}

#[test]
fn node_bodies_have_every_key_and_nulls() {
    let Command::Node(NodeCommand::Create(create)) =
        parse(&["node", "create", "mycluster", "-n", "intranet"]).command
    else {
        panic!()
    };
    let body = create_nodes_body(&create, None, None);
    insta::assert_snapshot!(
        "body_create_nodes_defaults",
        serde_json::to_string_pretty(&body).unwrap()
    );
    assert_eq!(body.validate("mycluster").unwrap().node_count, 1);

    let Command::Node(NodeCommand::Create(create)) = parse(&[
        "node",
        "create",
        "mycluster",
        "-n",
        "intranet",
        "--type",
        "nfsd",
        "-N",
        "2",
    ])
    .command
    else {
        panic!()
    };
    let body = create_nodes_body(&create, Some("vdc1"), Some("ssh-ed25519 AAAA".into()));
    insta::assert_snapshot!(
        "body_create_nodes_nfsd",
        serde_json::to_string_pretty(&body).unwrap()
    );
    assert_eq!(body.validate("mycluster").unwrap().node_type, NodeType::Nfs);

    let Command::Node(NodeCommand::Delete(delete)) = parse(&[
        "node",
        "delete",
        "mycluster",
        "node-dj3s",
        "node-b4rt",
        "--force",
    ])
    .command
    else {
        panic!()
    };
    let body = delete_nodes_body(&delete, Some("vdc1"));
    insta::assert_snapshot!(
        "body_delete_nodes",
        serde_json::to_string_pretty(&body).unwrap()
    );
    assert!(body.validate("mycluster").unwrap().force);
}

#[test]
fn system_bodies() {
    use cse_core::api::SystemUpdateBody;
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
fn ssh_key_file_is_read_and_trimmed() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("id.pub");
    std::fs::write(&key, "ssh-rsa AAAA alice@host\n\n").unwrap();
    let mut args = create_args(&[]);
    args.vm.ssh_key = Some(key.clone());
    assert_eq!(
        read_ssh_key(&args.vm).unwrap().as_deref(),
        Some("ssh-rsa AAAA alice@host")
    );
    std::fs::write(&key, "  \n").unwrap();
    assert!(
        read_ssh_key(&args.vm)
            .unwrap_err()
            .to_string()
            .ends_with("the file is empty")
    );
    args.vm.ssh_key = Some(dir.path().join("missing.pub"));
    let err = read_ssh_key(&args.vm).unwrap_err().to_string();
    assert!(
        err.starts_with("Cannot read the SSH key file '") && err.contains("missing.pub"),
        "{err}"
    );
    args.vm.ssh_key = None;
    assert_eq!(read_ssh_key(&args.vm).unwrap(), None);
}

// ---------------------------------------------------------------- rendering

fn node(name: &str, ip: &str) -> NodeSummary {
    NodeSummary {
        name: name.into(),
        ip_address: ip.into(),
    }
}

fn cluster(name: &str, ip: &str, vms: &str, status: &str) -> Cluster {
    Cluster {
        name: name.into(),
        vapp_id: "2b4f3c1e-4d8a-4a57-9d55-6b0f3d1c9a01".into(),
        vapp_href: "https://vcd.example.com/api/vApp/vapp-2b4f3c1e-4d8a-4a57-9d55-6b0f3d1c9a01"
            .into(),
        vdc_name: "vdc1".into(),
        vdc_href: "https://vcd.example.com/api/vdc/8c1d6a0e-2f0b-4e4f-8a55-0d5e2a1b7c33".into(),
        leader_endpoint: ip.into(),
        number_of_vms: vms.into(),
        template: "photon-v2".into(),
        cse_version: "0.1.0".into(),
        cluster_id: "5e0e8a7c-0b8f-4bfb-9f7e-3a3a0c1f2d44".into(),
        status: status.into(),
        ..Cluster::default()
    }
}

fn cluster_with_nodes() -> Cluster {
    let mut c = cluster("mycluster", "10.0.0.10", "4", "POWERED_ON");
    c.master_nodes = vec![node("mstr-7xk2", "10.0.0.10")];
    c.nodes = vec![node("node-dj3s", "10.0.0.11"), node("node-b4rt", "")];
    c.nfs_nodes = vec![node("nfsd-p0q9", "10.0.0.13")];
    c
}

#[test]
fn cluster_list_table_and_json() {
    let clusters = vec![
        cluster("mycluster", "10.0.0.10", "3", "POWERED_ON"),
        cluster("big-cluster-with-long-name", "", "12", "POWERED_OFF"),
    ];
    insta::assert_snapshot!("table_cluster_list", render::clusters_table(&clusters));
    insta::assert_snapshot!("table_cluster_list_empty", render::clusters_table(&[]));
    insta::assert_snapshot!("json_cluster_list", render::to_json(&clusters));
}

#[test]
fn cluster_info_and_node_list() {
    let c = cluster_with_nodes();
    insta::assert_snapshot!("table_cluster_info", render::cluster_info_table(&c));
    insta::assert_snapshot!("json_cluster_info", render::to_json(&c));
    insta::assert_snapshot!("table_node_list", render::nodes_table(&c));
    insta::assert_snapshot!("json_node_list", render::nodes_json(&c));
}

#[test]
fn node_info_tables() {
    let worker = NodeInfo {
        name: "node-dj3s".into(),
        number_of_cpus: Some(2),
        memory_mb: Some(2048),
        status: "Powered on".into(),
        ip_address: "10.0.0.11".into(),
        node_type: NodeType::Worker,
        exports: None,
    };
    insta::assert_snapshot!("table_node_info", render::node_info_table(&worker));
    insta::assert_snapshot!("json_node_info", render::to_json(&worker));
    let nfs = NodeInfo {
        name: "nfsd-p0q9".into(),
        number_of_cpus: None,
        memory_mb: None,
        status: "Powered off".into(),
        ip_address: "".into(),
        node_type: NodeType::Nfs,
        exports: Some(vec!["/home".into(), "/export/data".into()]),
    };
    insta::assert_snapshot!("table_node_info_nfsd", render::node_info_table(&nfs));
    insta::assert_snapshot!("json_node_info_nfsd", render::to_json(&nfs));
}

#[test]
fn template_list_table_and_json() {
    let templates = vec![
        TemplateEntry {
            name: "photon-v2".into(),
            is_default: true,
            catalog: "cse".into(),
            catalog_item: "photon-custom-hw11-2.0-304b817-k8s".into(),
            description: "PhotonOS v2\nDocker 17.06.0-4\nKubernetes 1.10.11\nweave 2.3.0".into(),
        },
        TemplateEntry {
            name: "ubuntu-16.04".into(),
            is_default: false,
            catalog: "cse".into(),
            catalog_item: "ubuntu-16.04-server-cloudimg-amd64-k8s".into(),
            description: "Ubuntu 16.04".into(),
        },
    ];
    insta::assert_snapshot!("table_template_list", render::templates_table(&templates));
    insta::assert_snapshot!("json_template_list", render::to_json(&templates));
}

fn system_info() -> SystemInfo {
    SystemInfo::for_system(
        "1.2.5",
        SystemDetails {
            runtime: "3.6.4".into(),
            consumer_threads: 6,
            all_threads: 10,
            requests_in_progress: 3,
            config_file: "/opt/vmware/cse/testbed-202-34.yaml".into(),
            status: ServiceStatus::Running,
        },
    )
}

#[test]
fn system_info_matches_the_documented_table() {
    // The docs' example output of `vcd cse system info`, byte for byte.
    let expected = "\
property              value
--------------------  ------------------------------------------------------
all_threads           10
config_file           /opt/vmware/cse/testbed-202-34.yaml
consumer_threads      6
description           Container Service Extension for VMware vCloud Director
product               CSE
python                3.6.4
requests_in_progress  3
status                Running
version               1.2.5";
    assert_eq!(render::system_info_table(&system_info()), expected);
    insta::assert_snapshot!("json_system_info", render::to_json(&system_info()));
    let tenant = SystemInfo::base("1.2.5");
    insta::assert_snapshot!(
        "table_system_info_tenant",
        render::system_info_table(&tenant)
    );
}

#[test]
fn system_messages_match_the_documented_tables() {
    assert_eq!(
        render::message_table(&MessageBody::updated()),
        "property    value\n----------  -------\nmessage     Updated"
    );
    assert_eq!(
        render::message_table(&MessageBody::shutdown_started(4)),
        "property    value\n----------  ---------------------------------------------------------------------\nmessage     CSE graceful shutdown started. CSE will finish processing 4 requests."
    );
    insta::assert_snapshot!("json_message", render::to_json(&MessageBody::updated()));
}

#[test]
fn task_replies_and_results() {
    let create = CreateClusterReply {
        name: "mycluster".into(),
        cluster_id: "5e0e8a7c-0b8f-4bfb-9f7e-3a3a0c1f2d44".into(),
        task_href: "https://vcd.example.com/api/task/0c5a7f2e-1d3b-4c6a-8e9f-112233445566".into(),
    };
    insta::assert_snapshot!(
        "table_create_cluster_reply",
        render::create_cluster_reply_table(&create)
    );
    insta::assert_snapshot!("json_create_cluster_reply", render::to_json(&create));
    let reply = ClusterTaskReply {
        cluster_name: "mycluster".into(),
        task_href: "https://vcd.example.com/api/task/0c5a7f2e-1d3b-4c6a-8e9f-112233445566".into(),
    };
    insta::assert_snapshot!("table_task_reply", render::task_reply_table(&reply));
    insta::assert_snapshot!("json_task_reply", render::to_json(&reply));
    let done = TaskState {
        id: "0c5a7f2e-1d3b-4c6a-8e9f-112233445566".into(),
        href: reply.task_href.clone(),
        status: "success".into(),
        operation: "Created cluster mycluster(5e0e8a7c-0b8f-4bfb-9f7e-3a3a0c1f2d44)".into(),
        operation_name: "create_cluster".into(),
        progress: None,
        error_message: None,
    };
    insta::assert_snapshot!("text_task_success", render::task_result_text(&done));
    insta::assert_snapshot!("json_task_success", render::task_result_json(&done));
}

#[test]
fn version_and_login_texts() {
    let info = SystemInfo::base("0.1.0");
    assert_eq!(
        render::version_text(&info),
        "CSE, Container Service Extension for VMware vCloud Director, version 0.1.0"
    );
    insta::assert_snapshot!("json_version", render::to_json(&info));
    assert_eq!(
        render::login_text("alice", "acme", "vdc1"),
        "alice logged in, org: 'acme', vdc: 'vdc1'"
    );
}

#[test]
fn tables_neutralise_terminal_escapes() {
    let mut evil = cluster("c1", "10.0.0.1", "1", "POWERED_ON");
    evil.template = "\u{1b}[31mred\u{7}".into();
    let text = render::clusters_table(&[evil]);
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
    assert!(text.contains("\u{fffd}[31mred\u{fffd}"));
}

// ---------------------------------------------------------------- errors

fn vcd_error(code: u16, minor: &str, message: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Error xmlns="http://www.vmware.com/vcloud/v1.5" majorErrorCode="{code}" minorErrorCode="{minor}" message="{message}" stackTrace=""/>"#
    )
}

#[test]
fn http_errors_have_clear_texts() {
    let url = "https://vcd.example.com/api/cse/c1/info";
    let cases: Vec<(&str, TenantError)> = vec![
        (
            "login 401",
            TenantError::from_reply(
                Endpoint::Login,
                url,
                401,
                &vcd_error(401, "UNAUTHORIZED", "x"),
            ),
        ),
        (
            "vcd 401",
            TenantError::from_reply(
                Endpoint::Cse,
                url,
                401,
                &vcd_error(401, "UNAUTHORIZED", "x"),
            ),
        ),
        (
            "cse 401 unauthorized",
            TenantError::from_reply(Endpoint::Cse, url, 401, r#"{"message": "Unauthorized"}"#),
        ),
        (
            "403",
            TenantError::from_reply(
                Endpoint::Vcd,
                url,
                403,
                &vcd_error(
                    403,
                    "ACCESS_TO_RESOURCE_IS_FORBIDDEN",
                    "Either you need some or all of the following rights [VAPP_VIEW]",
                ),
            ),
        ),
        (
            "404 vcd",
            TenantError::from_reply(Endpoint::Vcd, url, 404, ""),
        ),
        (
            "404 vcd on /api/cse",
            TenantError::from_reply(
                Endpoint::Cse,
                url,
                404,
                &vcd_error(
                    404,
                    "RESOURCE_NOT_FOUND",
                    "Resource not found: /api/cse/c1/config",
                ),
            ),
        ),
        (
            "404 cse",
            TenantError::from_reply(
                Endpoint::Cse,
                url,
                404,
                r#"{"message": "Unknown request: GET /api/cse/a/b/c/d"}"#,
            ),
        ),
        (
            "504",
            TenantError::from_reply(
                Endpoint::Cse,
                url,
                504,
                &vcd_error(
                    504,
                    "GATEWAY_TIMEOUT",
                    "External service 'cse' failed to respond in the specified timeout (10 SECONDS)",
                ),
            ),
        ),
        (
            "504 empty",
            TenantError::from_reply(Endpoint::Cse, url, 504, ""),
        ),
        (
            "406 not registered",
            TenantError::from_reply(
                Endpoint::Cse,
                url,
                406,
                &vcd_error(
                    406,
                    "NOT_ACCEPTABLE",
                    "The request has invalid accept header",
                ),
            ),
        ),
        (
            "406 on a vCD URL",
            TenantError::from_reply(
                Endpoint::Login,
                "https://vcd.example.com/api/sessions",
                406,
                &vcd_error(406, "NOT_ACCEPTABLE", "Invalid API version requested: 99.0"),
            ),
        ),
        (
            "500 cse message",
            TenantError::from_reply(
                Endpoint::Cse,
                url,
                500,
                r#"{"message": "CSE service is disabled. Contact the System Administrator."}"#,
            ),
        ),
        (
            "500 from vCD itself",
            TenantError::from_reply(
                Endpoint::Cse,
                url,
                500,
                &vcd_error(
                    500,
                    "INTERNAL_SERVER_ERROR",
                    "Cannot send message to service with id: urn:vcloud:service:7f3e. Check your service configuration.",
                ),
            ),
        ),
        (
            "502 html",
            TenantError::from_reply(Endpoint::Cse, url, 502, "<html>Bad gateway</html>"),
        ),
    ];
    let text: String = cases
        .iter()
        .map(|(name, err)| format!("{name}: {err}\n"))
        .collect();
    insta::assert_snapshot!("error_texts", text);
    assert!(matches!(cases[0].1, TenantError::LoginRejected));
    assert!(matches!(cases[1].1, TenantError::SessionExpired));
    assert!(matches!(cases[2].1, TenantError::SystemAdminRequired));
    assert!(matches!(cases[7].1, TenantError::GatewayTimeout { .. }));
    assert!(matches!(
        cases[9].1,
        TenantError::CseNotRegistered { status: 406, .. }
    ));
    assert!(matches!(cases[10].1, TenantError::NotAcceptable(_)));
    assert!(matches!(cases[11].1, TenantError::Api { status: 500, .. }));
}

// ---------------------------------------------------------------- profile

fn profile() -> Profile {
    Profile {
        host: "https://vcd.example.com".into(),
        org: "acme".into(),
        user: "alice".into(),
        token: Secret::new("0123456789abcdef0123456789abcdef"),
        token_type: TokenType::Legacy,
        api_version: "31.0".into(),
        verify: true,
        disable_warnings: false,
        vdc: "vdc1".into(),
        vdc_href: "https://vcd.example.com/api/vdc/8c1d".into(),
        org_href: "https://vcd.example.com/api/org/11aa".into(),
    }
}

#[cfg(unix)]
#[test]
fn profile_file_is_private_and_round_trips() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("profile.yaml");
    let store = ProfileStore::new(&path);
    assert_eq!(store.load().unwrap(), None);
    assert!(matches!(
        store.require_login().unwrap_err(),
        TenantError::NotLoggedIn
    ));
    store.save(&profile()).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let dir_mode = std::fs::metadata(path.parent().unwrap())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dir_mode, 0o700);
    assert_eq!(store.require_login().unwrap(), profile());
    assert_eq!(store.permission_warning(), None);

    // A file made world-readable by hand is reported, and fixed by the next save.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let warning = store.permission_warning().unwrap();
    assert!(
        warning.contains("mode 644") && warning.contains("chmod 600"),
        "{warning}"
    );
    store.save(&profile()).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    // Logout keeps the settings and forgets the token.
    assert!(store.clear_token().unwrap());
    let cleared = store.load().unwrap().unwrap();
    assert!(!cleared.is_logged_in());
    assert_eq!(cleared.host, "https://vcd.example.com");
    assert!(matches!(
        store.require_login().unwrap_err(),
        TenantError::NotLoggedIn
    ));
}

#[test]
fn profile_debug_hides_the_token_and_broken_files_are_named() {
    let debug = format!("{:?}", profile());
    assert!(!debug.contains("0123456789abcdef"), "{debug}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("profile.yaml");
    std::fs::write(&path, "host: [unclosed").unwrap();
    let err = ProfileStore::new(&path).load().unwrap_err().to_string();
    assert!(err.starts_with("Cannot read the login profile '"), "{err}");
    assert!(err.contains("profile.yaml"));
}

#[test]
fn profile_location_follows_the_environment() {
    let env = |vars: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| std::ffi::OsString::from(v))
        }
    };
    assert_eq!(
        default_path(env(&[("VCD_CSE_HOME", "/etc/cse"), ("HOME", "/home/a")])),
        Some(PathBuf::from("/etc/cse/profile.yaml"))
    );
    assert_eq!(
        default_path(env(&[("HOME", "/home/a")])),
        Some(PathBuf::from("/home/a/.vcd-cse/profile.yaml"))
    );
    assert_eq!(
        default_path(env(&[("VCD_CSE_HOME", ""), ("HOME", "/home/a")])),
        Some(PathBuf::from("/home/a/.vcd-cse/profile.yaml"))
    );
    assert_eq!(default_path(env(&[])), None);
}

// ---------------------------------------------------------------- the binary

fn binary(args: &[&str], home: &std::path::Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_vcd-cse"))
        .args(args)
        .env("VCD_CSE_HOME", home)
        .env_remove("VCD_PASSWORD")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("vcd-cse runs")
}

#[test]
fn the_binary_runs_commands_and_reports_exit_codes() {
    let home = tempfile::tempdir().unwrap();
    let out = binary(&["version"], home.path());
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!(
            "CSE, Container Service Extension for VMware vCloud Director, version {}\n",
            cse_core::CSE_VERSION
        )
    );
    let out = binary(&["cluster", "list"], home.path());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Error: Not logged in. Log in first with 'vcd-cse login HOST ORG USER'.\n"
    );
    let out = binary(&["--json", "cluster", "list"], home.path());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "{\n    \"error\": \"Not logged in. Log in first with 'vcd-cse login HOST ORG USER'.\"\n}\n"
    );
    // A declined (here: unanswerable) confirmation sends nothing and fails.
    let out = binary(&["cluster", "delete", "c1"], home.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).ends_with("Error: Aborted!\n"));
    let out = binary(&["cluster", "create", "c1"], home.path());
    assert_eq!(out.status.code(), Some(2));
    let out = binary(&["--help"], home.path());
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for command in [
        "login", "logout", "cluster", "node", "template", "system", "version",
    ] {
        assert!(help.contains(command), "{help}");
    }
}

// ---------------------------------------------------------------- properties

mod properties {
    use proptest::prelude::*;

    use super::*;

    fn text() -> impl Strategy<Value = String> {
        // Printable text incl. quotes, colons and non-ASCII; YAML must keep it intact.
        "[ -~äß€]{0,24}"
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::fuzz_cases(48)))]

        #[test]
        fn any_profile_round_trips_through_the_file(
            host in text(), org in text(), user in text(), token in "[0-9a-f]{1,40}",
            api in "[0-9]{2}\\.0", verify in any::<bool>(), warn in any::<bool>(), vdc in text(),
            bearer in any::<bool>(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let store = ProfileStore::new(dir.path().join("profile.yaml"));
            let profile = Profile {
                host, org, user, token: Secret::new(token),
                token_type: if bearer { TokenType::Bearer } else { TokenType::Legacy },
                api_version: api, verify,
                disable_warnings: warn, vdc: vdc.clone(), vdc_href: vdc, org_href: String::new(),
            };
            store.save(&profile).unwrap();
            prop_assert_eq!(store.load().unwrap(), Some(profile));
        }

        #[test]
        fn tables_keep_their_shape_for_any_single_line_cells(
            rows in proptest::collection::vec(proptest::collection::vec("[ -~]{0,12}", 3), 0..6),
        ) {
            let text = render::table(&["a", "bb", "ccc"], &rows);
            // `split`, not `lines`: a last row of empty cells is an empty last line.
            let lines: Vec<&str> = text.split('\n').collect();
            prop_assert_eq!(lines.len(), rows.len() + 2);
            prop_assert!(lines.iter().all(|l| l.trim_end() == *l));
            // The underline is one dash run per column, two spaces apart.
            let runs: Vec<&str> = lines[1].split("  ").collect();
            prop_assert_eq!(runs.len(), 3);
            prop_assert!(runs.iter().all(|r| !r.is_empty() && r.chars().all(|c| c == '-')));
            for (cells, line) in rows.iter().zip(&lines[2..]) {
                for cell in cells {
                    prop_assert!(line.contains(cell.trim()), "{:?} not in {:?}", cell, line);
                }
            }
        }

        #[test]
        fn rendered_text_never_carries_control_characters(cell in any::<String>()) {
            let text = render::table(&["x"], &[vec![cell]]);
            prop_assert!(text.chars().all(|c| c == '\n' || !c.is_control()));
        }
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
