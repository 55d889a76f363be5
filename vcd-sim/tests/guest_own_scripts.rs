//! The project's own bootstrap scripts (cse-server/scripts/templates) run in
//! the guest model in the same order as the originals and reach the same end
//! state; plus properties the originals lack (bounded waits, idempotent NFS).

mod guest_common;

use guest_common::{
    OwnScripts, ScriptSource, bootstrap_cluster, check_cluster_state, execute_script,
};

#[tokio::test]
async fn own_photon_v2_scripts_bootstrap_a_cluster() {
    let cluster = bootstrap_cluster(&OwnScripts, "photon-v2").await;
    check_cluster_state(&cluster).await;
}

#[tokio::test]
async fn own_ubuntu_16_04_scripts_bootstrap_a_cluster() {
    let cluster = bootstrap_cluster(&OwnScripts, "ubuntu-16.04").await;
    check_cluster_state(&cluster).await;
}

#[test]
fn node_scripts_hold_only_the_two_placeholders() {
    for template in guest_common::TEMPLATES {
        let script = OwnScripts.script("node", template);
        assert!(script.contains("{token}") && script.contains("{ip}"));
        let rest = script.replace("{token}", "").replace("{ip}", "");
        assert!(
            !rest.contains('{') && !rest.contains('}'),
            "{template}: stray braces in node.sh"
        );
    }
}

#[tokio::test]
async fn own_nfsd_script_is_idempotent() {
    let cluster = bootstrap_cluster(&OwnScripts, "photon-v2").await;
    let again = execute_script(
        &cluster.world,
        &cluster.nfs,
        &cluster.password,
        &OwnScripts.script("nfsd", "photon-v2"),
    )
    .await
    .unwrap();
    assert_eq!(again.exit_code, 0, "{again:?}");
    let exports =
        String::from_utf8(cluster.world.file(&cluster.nfs, "/etc/exports").unwrap()).unwrap();
    assert_eq!(
        exports,
        "/home *(rw,sync,no_root_squash,no_subtree_check)\n"
    );
}

#[tokio::test]
async fn own_master_script_gives_up_when_docker_never_starts() {
    use vcd_sim::guest_api::GuestLifecycle as _;
    let world = guest_common::world();
    let (disk, password) =
        guest_common::build_template(&world, &OwnScripts, "photon-v2", "10.0.0.9").await;
    let master = guest_common::add_node(
        &world,
        disk,
        &password,
        "mstr-zz00",
        "10.0.0.10",
        "pw-Master1",
    )
    .await;
    // docker is enabled in the template; disabling it and rebooting leaves it stopped.
    let stop = execute_script(
        &world,
        &master,
        "pw-Master1",
        "#!/usr/bin/env bash\nsystemctl disable docker\n",
    )
    .await
    .unwrap();
    assert_eq!(stop.exit_code, 0, "{stop:?}");
    world.power_off(&master).unwrap();
    world.power_on(&master, None).unwrap();
    let run = execute_script(
        &world,
        &master,
        "pw-Master1",
        &OwnScripts.script("mstr", "photon-v2"),
    )
    .await
    .unwrap();
    assert_eq!(run.exit_code, 1, "{run:?}");
    assert_eq!(run.stdout.matches("waiting for docker").count(), 60);
    assert_eq!(run.stderr, "error: docker did not become active\n");
}
