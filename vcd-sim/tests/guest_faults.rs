//! Fault injection: each fault shows up as the right vim25 fault or as a
//! process that hangs until terminated; vCenter's precondition order.

mod guest_common;

use guest_common::{
    OwnScripts, ScriptSource as _, base_vm, creds, execute_script, run_with_output, sh, world,
};
use vcd_sim::faults::FaultRule;
use vcd_sim::guest::{FaultScope, GuestFaultKind};
use vcd_sim::guest_api::{
    GuestFault, GuestFileAttributes, GuestLifecycle as _, GuestOps as _, ProgramSpec,
    ToolsRunningStatus,
};

const PW: &str = "Root-pw1";

fn program(path: &str, arguments: &str) -> ProgramSpec {
    ProgramSpec {
        program_path: path.into(),
        arguments: arguments.into(),
        working_directory: None,
        env: vec![],
    }
}

#[tokio::test]
async fn tools_that_never_start_make_guest_ops_unavailable_until_cleared() {
    let world = world();
    world
        .add_fault(FaultRule::new(
            FaultScope::Vm("vm-1".into()),
            GuestFaultKind::ToolsNeverReady,
        ))
        .expect("guest fault rule");
    base_vm(&world, "vm-1", "photon-v2", "10.0.0.5", PW);
    let info = world.vm_info("vm-1").unwrap();
    assert_eq!(info.tools_running_status, ToolsRunningStatus::NotRunning);
    assert!(!info.guest_operations_ready);
    assert_eq!(info.ip_address, None);
    assert_eq!(
        world.check_access("vm-1", &creds(PW)),
        Err(GuestFault::GuestOperationsUnavailable)
    );
    // The customization is still pending: the old (OVA) password is in place.
    assert!(world.customization_record("vm-1").is_none());
    world.remove_faults(&FaultScope::Vm("vm-1".into()));
    let info = world.vm_info("vm-1").unwrap();
    assert_eq!(info.tools_running_status, ToolsRunningStatus::Running);
    assert_eq!(info.ip_address.as_deref(), Some("10.0.0.5"));
    world.check_access("vm-1", &creds(PW)).unwrap();
}

#[tokio::test]
async fn a_hanging_process_runs_until_terminated() {
    let world = world();
    base_vm(&world, "vm-1", "photon-v2", "10.0.0.5", PW);
    world
        .add_fault(FaultRule::new(
            FaultScope::Global,
            GuestFaultKind::HangProcess {
                cmd_contains: Some("hang-me".into()),
            },
        ))
        .expect("guest fault rule");
    let c = creds(PW);
    let pid = world
        .start_program("vm-1", &c, program("/bin/echo", " hang-me > /tmp/h.out"))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let listed = world.list_processes("vm-1", &c, Some(&[pid])).unwrap();
    assert_eq!((listed[0].exit_code, listed[0].end_time), (None, None));
    // Other programs are unaffected.
    let other = world
        .start_program("vm-1", &c, program("/bin/true", ""))
        .await
        .unwrap();
    assert_eq!(
        world.list_processes("vm-1", &c, Some(&[other])).unwrap()[0].exit_code,
        Some(0)
    );
    world.terminate_process("vm-1", &c, pid).unwrap();
    let listed = world.list_processes("vm-1", &c, Some(&[pid])).unwrap();
    assert_eq!(listed[0].exit_code, Some(137));
    assert!(listed[0].end_time.is_some());
    assert_eq!(
        world.terminate_process("vm-1", &c, 99_999),
        Err(GuestFault::GuestProcessNotFound { pid: 99_999 })
    );
}

#[tokio::test]
async fn a_hanging_command_inside_a_script_hangs_the_script() {
    let world = world();
    let (disk, password) =
        guest_common::build_template(&world, &OwnScripts, "photon-v2", "10.0.0.9").await;
    let master =
        guest_common::add_node(&world, disk, &password, "mstr-h001", "10.0.0.10", PW).await;
    world
        .add_fault(FaultRule::new(
            FaultScope::Vm(master.clone()),
            GuestFaultKind::HangCommand {
                name: "kubeadm".into(),
            },
        ))
        .expect("guest fault rule");
    let c = creds(PW);
    world
        .write_file(
            &master,
            &c,
            "/tmp/m.sh",
            OwnScripts.script("mstr", "photon-v2").as_bytes(),
            false,
        )
        .unwrap();
    let chmod = world
        .start_program(&master, &c, program("/bin/chmod", " u+rx /tmp/m.sh"))
        .await
        .unwrap();
    assert_eq!(
        guest_common::wait_for_exit(&world, &master, &c, chmod)
            .await
            .unwrap(),
        0
    );
    let pid = world
        .start_program(
            &master,
            &c,
            program("/tmp/m.sh", " > /tmp/m.out 2> /tmp/m.err"),
        )
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert_eq!(
        world.list_processes(&master, &c, Some(&[pid])).unwrap()[0].exit_code,
        None
    );
    world.terminate_process(&master, &c, pid).unwrap();
    assert_eq!(
        guest_common::wait_for_exit(&world, &master, &c, pid)
            .await
            .unwrap(),
        137
    );
    assert!(world.cluster_nodes(&master).is_empty());
}

#[tokio::test]
async fn wrong_credentials_are_refused_even_with_the_right_password() {
    let world = world();
    base_vm(&world, "vm-1", "photon-v2", "10.0.0.5", PW);
    assert_eq!(
        world.check_access("vm-1", &creds("nope")),
        Err(GuestFault::InvalidGuestLogin)
    );
    world
        .add_fault(FaultRule::new(
            FaultScope::Global,
            GuestFaultKind::WrongCredentials,
        ))
        .expect("guest fault rule");
    assert_eq!(
        world.check_access("vm-1", &creds(PW)),
        Err(GuestFault::InvalidGuestLogin)
    );
    assert_eq!(
        world
            .start_program("vm-1", &creds(PW), program("/bin/true", ""))
            .await,
        Err(GuestFault::InvalidGuestLogin)
    );
    world.remove_faults(&FaultScope::Global);
    world.check_access("vm-1", &creds(PW)).unwrap();
}

#[tokio::test]
async fn guest_ops_unavailable_for_a_while() {
    let world = world();
    base_vm(&world, "vm-1", "photon-v2", "10.0.0.5", PW);
    world
        .add_fault(
            FaultRule::new(
                FaultScope::Vm("vm-1".into()),
                GuestFaultKind::OpsUnavailable,
            )
            .times(2),
        )
        .expect("guest fault rule");
    assert_eq!(
        world.read_file("vm-1", &creds(PW), "/etc/hostname"),
        Err(GuestFault::GuestOperationsUnavailable)
    );
    assert_eq!(
        world.check_access("vm-1", &creds(PW)),
        Err(GuestFault::GuestOperationsUnavailable)
    );
    assert_eq!(
        world
            .read_file("vm-1", &creds(PW), "/etc/hostname")
            .unwrap(),
        b"vm-1\n"
    );
    world
        .add_fault(FaultRule::new(
            FaultScope::Vm("vm-1".into()),
            GuestFaultKind::OpsUnavailable,
        ))
        .expect("guest fault rule");
    assert_eq!(
        world.check_access("vm-1", &creds(PW)),
        Err(GuestFault::GuestOperationsUnavailable)
    );
    world.remove_faults(&FaultScope::Vm("vm-1".into()));
    let run = sh(&world, "vm-1", PW, "hostname").await;
    assert_eq!(run.stdout, "vm-1\n");
}

#[tokio::test]
async fn preconditions_come_in_vcenter_order() {
    let world = world();
    let c = creds(PW);
    assert_eq!(
        world.check_access("vm-9", &c),
        Err(GuestFault::ManagedObjectNotFound {
            moref: "vm-9".into()
        })
    );
    let disk = world.import_disk("photon");
    world.create_vm("vm-1", "vm-1", disk).unwrap();
    world
        .add_fault(FaultRule::new(
            FaultScope::Global,
            GuestFaultKind::WrongCredentials,
        ))
        .expect("guest fault rule");
    assert_eq!(
        world.check_access("vm-1", &c),
        Err(GuestFault::InvalidPowerState)
    );
    world
        .add_fault(FaultRule::new(
            FaultScope::Global,
            GuestFaultKind::OpsUnavailable,
        ))
        .expect("guest fault rule");
    world.power_on("vm-1", None).unwrap();
    assert_eq!(
        world.check_access("vm-1", &c),
        Err(GuestFault::GuestOperationsUnavailable)
    );
    world.remove_faults(&FaultScope::Global);
    // No customization: the OVA's own root password still applies.
    assert_eq!(
        world.check_access("vm-1", &c),
        Err(GuestFault::InvalidGuestLogin)
    );
    world.check_access("vm-1", &creds("changeme")).unwrap();
    world.suspend("vm-1").unwrap();
    assert_eq!(
        world.check_access("vm-1", &creds("changeme")),
        Err(GuestFault::InvalidPowerState)
    );
}

#[tokio::test]
async fn uploads_take_the_mode_and_owners_they_are_given() {
    let world = world();
    base_vm(&world, "vm-1", "photon-v2", "10.0.0.5", PW);
    let c = creds(PW);
    let script = b"#!/usr/bin/env bash\necho ran\n";
    // Default attributes: 0644, not executable.
    world
        .write_file("vm-1", &c, "/tmp/plain.sh", script, false)
        .unwrap();
    let plain = world.stat_file("vm-1", &c, "/tmp/plain.sh").unwrap();
    assert_eq!(plain.permissions & 0o7777, 0o644);
    let refused = run_with_output(&world, "vm-1", &c, "/tmp/plain.sh", "")
        .await
        .unwrap();
    assert_eq!(refused.exit_code, 126, "{refused:?}");
    assert!(refused.stderr.contains("Permission denied"), "{refused:?}");
    // Mode 0700 and owners given at the upload: runs as it is, no chmod.
    let attributes = GuestFileAttributes {
        permissions: Some(0o700),
        owner_id: Some(0),
        group_id: Some(0),
        ..GuestFileAttributes::default()
    };
    world
        .write_file_with_attributes("vm-1", &c, "/tmp/x.sh", script, false, &attributes)
        .unwrap();
    let stat = world.stat_file("vm-1", &c, "/tmp/x.sh").unwrap();
    assert_eq!(
        (stat.permissions & 0o7777, stat.owner_id, stat.group_id),
        (0o700, 0, 0)
    );
    let ran = run_with_output(&world, "vm-1", &c, "/tmp/x.sh", "")
        .await
        .unwrap();
    assert_eq!(
        (ran.exit_code, ran.stdout.as_str()),
        (0, "ran\n"),
        "{ran:?}"
    );
}

#[tokio::test]
async fn file_transfer_faults() {
    let world = world();
    base_vm(&world, "vm-1", "ubuntu-16.04", "10.0.0.5", PW);
    let c = creds(PW);
    world
        .write_file("vm-1", &c, "/tmp/a.sh", b"x", false)
        .unwrap();
    assert_eq!(
        world.write_file("vm-1", &c, "/tmp/a.sh", b"y", false),
        Err(GuestFault::FileAlreadyExists {
            path: "/tmp/a.sh".into()
        })
    );
    world
        .write_file("vm-1", &c, "/tmp/a.sh", b"y", true)
        .unwrap();
    assert_eq!(world.read_file("vm-1", &c, "/tmp/a.sh").unwrap(), b"y");
    assert_eq!(
        world.write_file("vm-1", &c, "/nope/a.sh", b"y", false),
        Err(GuestFault::FileNotFound {
            path: "/nope/a.sh".into()
        })
    );
    assert_eq!(
        world.write_file("vm-1", &c, "/tmp", b"y", true),
        Err(GuestFault::NotAFile {
            path: "/tmp".into()
        })
    );
    assert_eq!(
        world.read_file("vm-1", &c, "/root/.kube/config"),
        Err(GuestFault::FileNotFound {
            path: "/root/.kube/config".into()
        })
    );
    assert_eq!(
        world.read_file("vm-1", &c, "/tmp"),
        Err(GuestFault::NotAFile {
            path: "/tmp".into()
        })
    );
    assert_eq!(
        world.delete_file("vm-1", &c, "/tmp/none"),
        Err(GuestFault::FileNotFound {
            path: "/tmp/none".into()
        })
    );
    assert_eq!(
        world.delete_file("vm-1", &c, "/tmp"),
        Err(GuestFault::NotAFile {
            path: "/tmp".into()
        })
    );
    world.delete_file("vm-1", &c, "/tmp/a.sh").unwrap();
    assert_eq!(
        world.make_directory("vm-1", &c, "/tmp", false),
        Err(GuestFault::FileAlreadyExists {
            path: "/tmp".into()
        })
    );
    assert_eq!(
        world.make_directory("vm-1", &c, "/x/y", false),
        Err(GuestFault::FileNotFound {
            path: "/x/y".into()
        })
    );
    world.make_directory("vm-1", &c, "/x/y", true).unwrap();
    assert_eq!(
        world
            .start_program("vm-1", &c, program("/usr/bin/python", ""))
            .await,
        Err(GuestFault::FileNotFound {
            path: "/usr/bin/python".into()
        })
    );
    assert_eq!(
        world
            .start_program(
                "vm-1",
                &c,
                ProgramSpec {
                    working_directory: Some("/nowhere".into()),
                    ..program("/bin/true", "")
                }
            )
            .await,
        Err(GuestFault::FileNotFound {
            path: "/nowhere".into()
        })
    );
}

#[tokio::test]
async fn the_network_fails_like_a_real_one_outside_the_simulated_internet() {
    let world = world();
    base_vm(&world, "vm-1", "photon-v2", "10.0.0.5", PW);
    let run = sh(
        &world,
        "vm-1",
        PW,
        "curl -fsSL https://example.org/install.sh | bash",
    )
    .await;
    assert_eq!(run.exit_code, 0, "bash reads an empty script: {run:?}");
    assert_eq!(
        run.stderr,
        "curl: (6) Could not resolve host: example.org\n"
    );
    let run = sh(
        &world,
        "vm-1",
        PW,
        "set -o pipefail\ncurl -fsSL https://example.org/install.sh | bash",
    )
    .await;
    assert_eq!(run.exit_code, 6);
    let run = sh(
        &world,
        "vm-1",
        PW,
        "curl -fsS https://download.docker.com/nope",
    )
    .await;
    assert_eq!(run.exit_code, 22);
    assert_eq!(
        run.stderr,
        "curl: (22) The requested URL returned error: 404 Not Found\n"
    );
    let run = sh(
        &world,
        "vm-1",
        PW,
        "tdnf install -yq wget\nwget -q -O /tmp/x http://unknown.invalid/x",
    )
    .await;
    assert_eq!(run.exit_code, 4);
    assert_eq!(
        run.stderr,
        "wget: unable to resolve host address 'unknown.invalid'\n"
    );
}

#[tokio::test]
async fn apt_needs_repositories_keys_and_yes() {
    let world = world();
    base_vm(&world, "vm-1", "ubuntu-16.04", "10.0.0.5", PW);
    let run = sh(&world, "vm-1", PW, "apt-get install -y curl").await;
    assert_eq!(
        (run.exit_code, run.stderr.as_str()),
        (100, "E: Unable to locate package curl\n")
    );
    let run = sh(
        &world,
        "vm-1",
        PW,
        "apt-get -q update > /dev/null\napt-get install curl < /dev/null",
    )
    .await;
    assert_eq!(run.exit_code, 1);
    assert!(
        run.stdout
            .ends_with("Do you want to continue? [Y/n] Abort.\n"),
        "{run:?}"
    );
    let run = sh(&world, "vm-1", PW, "apt-get install -y apt-transport-https curl software-properties-common > /dev/null\necho 'deb http://apt.kubernetes.io/ kubernetes-xenial main' > /etc/apt/sources.list.d/k.list\napt-get -q update > /dev/null\napt-get install -y kubectl=9.9.9-00").await;
    assert_eq!(run.exit_code, 100);
    assert!(run.stderr.contains("NO_PUBKEY BA07F4FB"), "{run:?}");
    assert!(
        run.stderr
            .ends_with("E: Version '9.9.9-00' for 'kubectl' was not found\n"),
        "{run:?}"
    );
    let run = sh(&world, "vm-1", PW, "apt-get install -y kubectl").await;
    assert_eq!(run.exit_code, 100);
    assert!(
        run.stderr.contains(
            "E: There were unauthenticated packages and -y was used without --allow-unauthenticated"
        ),
        "{run:?}"
    );
    let run = sh(&world, "vm-1", PW, "curl -s https://packages.cloud.google.com/apt/doc/apt-key.gpg | apt-key add -\napt-get -q update > /dev/null 2>&1\napt-get install -y kubectl > /dev/null\nkubectl version --client").await;
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert!(
        run.stdout
            .starts_with("OK\nClient Version: version.Info{Major:\"1\", Minor:\"12\""),
        "{run:?}"
    );
}

#[tokio::test]
async fn an_endless_wait_for_docker_is_a_hanging_process_on_an_instant_clock() {
    let world = world();
    let (disk, password) =
        guest_common::build_template(&world, &OwnScripts, "photon-v2", "10.0.0.9").await;
    let node = guest_common::add_node(&world, disk, &password, "node-w001", "10.0.0.11", PW).await;
    let c = creds(PW);
    let stop = execute_script(
        &world,
        &node,
        PW,
        "#!/usr/bin/env bash\nsystemctl stop docker\n",
    )
    .await
    .unwrap();
    assert_eq!(stop.exit_code, 0);
    // The original node script waits for docker without a bound.
    let original = "#!/usr/bin/env bash\nset -e\nwhile [ `systemctl is-active docker` != 'active' ]; do echo 'waiting for docker'; sleep 5; done\n";
    world
        .write_file(&node, &c, "/tmp/n.sh", original.as_bytes(), false)
        .unwrap();
    world
        .start_program(&node, &c, program("/bin/chmod", " u+rx /tmp/n.sh"))
        .await
        .unwrap();
    let pid = world
        .start_program(&node, &c, program("/tmp/n.sh", " > /tmp/n.out"))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    assert_eq!(
        world.list_processes(&node, &c, Some(&[pid])).unwrap()[0].exit_code,
        None
    );
    world.terminate_process(&node, &c, pid).unwrap();
    assert_eq!(
        guest_common::wait_for_exit(&world, &node, &c, pid)
            .await
            .unwrap(),
        137
    );
    let out = String::from_utf8(world.read_file(&node, &c, "/tmp/n.out").unwrap()).unwrap();
    assert!(out.lines().count() > 100 && out.lines().all(|l| l == "waiting for docker"));
}
