//! Kubernetes in the guest model: cluster state shared across VMs, token
//! rules, kubeadm preconditions and errors, kubectl tables.

mod guest_common;

use std::time::Duration;

use guest_common::{
    Cluster, OwnScripts, base_vm, bootstrap_cluster, execute_script, node_script, sh, world,
};
use vcd_sim::guest_api::GuestLifecycle as _;

async fn extra_worker(cluster: &Cluster, name: &str, ip: &str) -> String {
    guest_common::add_node(
        &cluster.world,
        cluster.template_disk,
        &cluster.template_password,
        name,
        ip,
        &cluster.password,
    )
    .await
}

#[tokio::test]
async fn kubectl_get_nodes_on_the_master_lists_joined_workers() {
    let cluster = bootstrap_cluster(&OwnScripts, "photon-v2").await;
    let run = sh(
        &cluster.world,
        &cluster.master,
        &cluster.password,
        "kubectl get nodes",
    )
    .await;
    assert_eq!(run.exit_code, 0, "{run:?}");
    // AGE depends on wall-clock time between join and listing.
    let table = regex::Regex::new(r" \d+s ")
        .unwrap()
        .replace_all(&run.stdout, " <age> ");
    insta::assert_snapshot!("kubectl_get_nodes", table);
}

#[tokio::test]
async fn join_with_a_wrong_token_fails_like_kubeadm() {
    let cluster = bootstrap_cluster(&OwnScripts, "photon-v2").await;
    let worker = extra_worker(&cluster, "node-bad1", "10.0.0.21").await;
    let script = node_script(
        &OwnScripts,
        "photon-v2",
        "abcdef.0123456789abcdef",
        &cluster.master_ip,
    );
    let run = execute_script(&cluster.world, &worker, &cluster.password, &script)
        .await
        .unwrap();
    assert_eq!(run.exit_code, 1);
    insta::assert_snapshot!("join_wrong_token_stderr", run.stderr);
    assert!(
        cluster
            .world
            .cluster_nodes(&cluster.master)
            .iter()
            .all(|n| n.name != "node-bad1")
    );
    assert!(
        cluster
            .world
            .file(&worker, "/etc/kubernetes/kubelet.conf")
            .is_none()
    );
}

#[tokio::test]
async fn join_with_a_malformed_token_or_an_unreachable_master_fails() {
    let cluster = bootstrap_cluster(&OwnScripts, "ubuntu-16.04").await;
    let worker = extra_worker(&cluster, "node-bad2", "10.0.0.22").await;
    let malformed = node_script(
        &OwnScripts,
        "ubuntu-16.04",
        "not-a-token",
        &cluster.master_ip,
    );
    let run = execute_script(&cluster.world, &worker, &cluster.password, &malformed)
        .await
        .unwrap();
    assert_eq!(run.exit_code, 1);
    assert!(
        run.stderr.contains("token \"not-a-token\" was not of form"),
        "{run:?}"
    );
    let (token, _) =
        guest_common::init_info(&cluster.world, &cluster.master, &cluster.password).await;
    let unreachable = node_script(&OwnScripts, "ubuntu-16.04", &token, "10.0.0.99");
    let run = execute_script(&cluster.world, &worker, &cluster.password, &unreachable)
        .await
        .unwrap();
    assert_eq!(run.exit_code, 1);
    assert!(
        run.stderr
            .contains("dial tcp 10.0.0.99:6443: getsockopt: no route to host"),
        "{run:?}"
    );
    // A VM that is up but runs no API server refuses the connection.
    let not_master = node_script(&OwnScripts, "ubuntu-16.04", &token, "10.0.0.13");
    let run = execute_script(&cluster.world, &worker, &cluster.password, &not_master)
        .await
        .unwrap();
    assert!(run.stderr.contains("connection refused"), "{run:?}");
    // The right token works.
    let good = node_script(&OwnScripts, "ubuntu-16.04", &token, &cluster.master_ip);
    let run = execute_script(&cluster.world, &worker, &cluster.password, &good)
        .await
        .unwrap();
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert!(run.stdout.contains("This node has joined the cluster"));
    // Joining twice trips the preflight check.
    let run = execute_script(&cluster.world, &worker, &cluster.password, &good)
        .await
        .unwrap();
    assert_eq!(run.exit_code, 2);
    assert!(
        run.stderr
            .contains("/etc/kubernetes/kubelet.conf already exists"),
        "{run:?}"
    );
}

#[tokio::test]
async fn tokens_are_well_formed_and_expire() {
    let cluster = bootstrap_cluster(&OwnScripts, "photon-v2").await;
    let (token, _) =
        guest_common::init_info(&cluster.world, &cluster.master, &cluster.password).await;
    let format = regex::Regex::new(r"^[a-z0-9]{6}\.[a-z0-9]{16}$").unwrap();
    assert!(format.is_match(&token), "{token}");
    cluster
        .world
        .advance_guest_time(Duration::from_secs(25 * 3600));
    let worker = extra_worker(&cluster, "node-late", "10.0.0.23").await;
    let run = execute_script(
        &cluster.world,
        &worker,
        &cluster.password,
        &node_script(&OwnScripts, "photon-v2", &token, &cluster.master_ip),
    )
    .await
    .unwrap();
    assert_eq!(run.exit_code, 1);
    assert!(
        run.stderr
            .contains("is invalid for this cluster or it has expired"),
        "{run:?}"
    );
}

/// Join tokens are credentials: two clusters built the same way from the same
/// seed get different ones (they come from the CSPRNG, not the seed).
#[tokio::test]
async fn join_tokens_never_come_from_the_seed() {
    let mut tokens = Vec::new();
    for _ in 0..2 {
        let cluster = bootstrap_cluster(&OwnScripts, "photon-v2").await;
        tokens.push(
            guest_common::init_info(&cluster.world, &cluster.master, &cluster.password)
                .await
                .0,
        );
    }
    assert_ne!(tokens[0], tokens[1]);
}

#[tokio::test]
async fn kubectl_delete_node_removes_known_nodes_and_reports_unknown_ones() {
    let cluster = bootstrap_cluster(&OwnScripts, "photon-v2").await;
    let run = sh(
        &cluster.world,
        &cluster.master,
        &cluster.password,
        "kubectl delete node node-a1b2 node-zzzz",
    )
    .await;
    assert_eq!(run.exit_code, 1);
    assert_eq!(run.stdout, "node \"node-a1b2\" deleted\n");
    assert_eq!(
        run.stderr,
        "Error from server (NotFound): nodes \"node-zzzz\" not found\n"
    );
    let names: Vec<String> = cluster
        .world
        .cluster_nodes(&cluster.master)
        .into_iter()
        .map(|n| n.name)
        .collect();
    assert_eq!(names, vec!["mstr-k3x9", "node-c3d4"]);
}

#[tokio::test]
async fn nodes_are_not_ready_without_a_pod_network_or_when_powered_off() {
    let world = world();
    let (disk, password) =
        guest_common::build_template(&world, &OwnScripts, "photon-v2", "10.0.0.9").await;
    let master =
        guest_common::add_node(&world, disk, &password, "mstr-nn01", "10.0.0.30", "Pw-x1").await;
    let run = sh(&world, &master, "Pw-x1", "kubeadm init --kubernetes-version=v1.10.11 > /dev/null\nmkdir -p /root/.kube\ncp /etc/kubernetes/admin.conf /root/.kube/config\nkubectl get nodes").await;
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert!(
        run.stdout.contains("mstr-nn01     NotReady   master"),
        "{}",
        run.stdout
    );
    let run = sh(&world, &master, "Pw-x1", "kubectl apply -f /root/weave.yml").await;
    assert_eq!(run.exit_code, 0, "{run:?}");
    insta::assert_snapshot!("kubectl_apply_weave", run.stdout);
    let (token, ip) = guest_common::init_info(&world, &master, "Pw-x1").await;
    let worker =
        guest_common::add_node(&world, disk, &password, "node-nn02", "10.0.0.31", "Pw-x1").await;
    let run = execute_script(
        &world,
        &worker,
        "Pw-x1",
        &node_script(&OwnScripts, "photon-v2", &token, &ip),
    )
    .await
    .unwrap();
    assert_eq!(run.exit_code, 0, "{run:?}");
    world.power_off(&worker).unwrap();
    let ready: Vec<(String, bool)> = world
        .cluster_nodes(&master)
        .into_iter()
        .map(|n| (n.name, n.ready))
        .collect();
    assert_eq!(
        ready,
        vec![
            ("mstr-nn01".to_owned(), true),
            ("node-nn02".to_owned(), false)
        ]
    );
}

#[tokio::test]
async fn kubeadm_and_kubectl_exist_only_once_installed() {
    let world = world();
    base_vm(&world, "vm-1", "photon-v2", "10.0.0.5", "Pw-1");
    let run = sh(&world, "vm-1", "Pw-1", "kubeadm version").await;
    assert_eq!(run.exit_code, 127);
    let run = sh(&world, "vm-1", "Pw-1", "kubectl version --client").await;
    assert_eq!(run.exit_code, 127);
    let run = sh(
        &world,
        "vm-1",
        "Pw-1",
        "tdnf install -yq kubernetes-kubeadm-1.10.11-1.ph2\nkubectl version --client",
    )
    .await;
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert!(run.stdout.contains("GitVersion:\"v1.10.11\""));
}

#[tokio::test]
async fn kubeadm_init_needs_docker_and_the_control_plane_images() {
    let world = world();
    base_vm(&world, "vm-1", "photon-v2", "10.0.0.5", "Pw-1");
    let install = sh(
        &world,
        "vm-1",
        "Pw-1",
        "tdnf install -yq kubernetes-kubeadm-1.10.11-1.ph2",
    )
    .await;
    assert_eq!(install.exit_code, 0, "{install:?}");
    let run = sh(
        &world,
        "vm-1",
        "Pw-1",
        "kubeadm init --kubernetes-version=v1.10.11",
    )
    .await;
    assert_eq!(run.exit_code, 2);
    insta::assert_snapshot!("kubeadm_init_docker_inactive_stderr", run.stderr);
    let run = sh(
        &world,
        "vm-1",
        "Pw-1",
        "systemctl start docker\nkubeadm init --kubernetes-version=v1.10.11",
    )
    .await;
    assert_eq!(run.exit_code, 1);
    insta::assert_snapshot!("kubeadm_init_images_missing_stderr", run.stderr);
    assert!(world.cluster_nodes("vm-1").is_empty());
}

#[tokio::test]
async fn kubeadm_reset_tears_the_master_down_and_init_works_again() {
    let cluster = bootstrap_cluster(&OwnScripts, "photon-v2").await;
    let run = sh(
        &cluster.world,
        &cluster.master,
        &cluster.password,
        "kubeadm reset",
    )
    .await;
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert!(cluster.world.cluster_nodes(&cluster.master).is_empty());
    let run = sh(
        &cluster.world,
        &cluster.master,
        &cluster.password,
        "kubectl get nodes",
    )
    .await;
    assert_eq!(run.exit_code, 1);
    assert_eq!(
        run.stderr,
        "The connection to the server 10.0.0.10:6443 was refused - did you specify the right host or port?\n"
    );
    let run = sh(
        &cluster.world,
        &cluster.master,
        &cluster.password,
        "kubeadm token create",
    )
    .await;
    assert_eq!(run.exit_code, 1);
    let run = sh(
        &cluster.world,
        &cluster.master,
        &cluster.password,
        "kubeadm init --kubernetes-version=v1.10.11 > /dev/null && kubectl get nodes",
    )
    .await;
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert!(
        run.stdout.contains("mstr-k3x9     NotReady   master"),
        "{run:?}"
    );
}
