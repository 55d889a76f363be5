//! The VM lifecycle as vCenter reports it: boot, tools start, customization
//! reboot, agent warm-up; scaled simulated time; process table per boot;
//! disk capture.

mod guest_common;

use std::time::Duration;

use guest_common::{base_vm, creds, sh, world};
use vcd_sim::clock::Clock;
use vcd_sim::faults::FaultRule;
use vcd_sim::guest::{FaultScope, GuestConfig, GuestFaultKind, GuestTimings, GuestWorld};
use vcd_sim::guest_api::{
    Customization, GuestFault, GuestLifecycle as _, GuestOps as _, ProgramSpec, ToolsRunningStatus,
};

fn timed_world(step: Duration) -> GuestWorld {
    GuestWorld::new(GuestConfig {
        clock: Clock::realtime(),
        seed: 1,
        timings: GuestTimings {
            boot: step,
            tools_starting: step,
            ops_warmup: step,
            customization_reboot: true,
            ..GuestTimings::default()
        },
    })
}

#[tokio::test]
async fn power_on_goes_through_tools_start_customization_reboot_and_warm_up() {
    let world = timed_world(Duration::from_millis(120));
    let disk = world.import_disk("photon");
    world.create_vm("vm-1", "vm-1", disk).unwrap();
    world
        .set_ip_address("vm-1", Some("10.0.0.5".into()))
        .unwrap();
    world
        .power_on(
            "vm-1",
            Some(Customization {
                computer_name: "node-1".into(),
                admin_password: Some("New-pw1".into()),
                script: None,
            }),
        )
        .unwrap();
    let mut seen: Vec<(ToolsRunningStatus, bool)> = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let info = world.vm_info("vm-1").unwrap();
        let state = (info.tools_running_status, info.guest_operations_ready);
        if seen.last() != Some(&state) {
            seen.push(state);
        }
        if !info.guest_operations_ready {
            assert_eq!(
                world.check_access("vm-1", &creds("New-pw1")),
                Err(GuestFault::GuestOperationsUnavailable)
            );
        }
        if info.guest_operations_ready || tokio::time::Instant::now() > deadline {
            assert_eq!(info.host_name.as_deref(), Some("node-1"));
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    use ToolsRunningStatus::*;
    assert_eq!(
        seen,
        vec![
            (NotRunning, false),
            (ExecutingScripts, false),
            (NotRunning, false),
            (ExecutingScripts, false),
            (Running, true)
        ],
        "the agent warms up while tools still report ExecutingScripts"
    );
    world.check_access("vm-1", &creds("New-pw1")).unwrap();
}

/// What the original CSE 1.2.5 `cse install` does: its first guest operation
/// goes out as soon as it first sees `guestToolsRunning`, with no retry.
#[tokio::test]
async fn the_first_guest_operation_after_tools_running_works() {
    let world = timed_world(Duration::from_millis(60));
    let disk = world.import_disk("photon");
    world.create_vm("vm-1", "vm-1", disk).unwrap();
    world
        .power_on(
            "vm-1",
            Some(Customization {
                computer_name: "node-1".into(),
                admin_password: Some("Pw-1".into()),
                script: None,
            }),
        )
        .unwrap();
    let mut statuses = Vec::new();
    for attempt in 0.. {
        assert!(
            attempt < 2_000,
            "tools never reported Running: {statuses:?}"
        );
        let info = world.vm_info("vm-1").unwrap();
        if statuses.last() != Some(&info.tools_running_status) {
            statuses.push(info.tools_running_status);
        }
        if info.tools_running_status == ToolsRunningStatus::Running {
            assert!(info.guest_operations_ready);
            world
                .check_access("vm-1", &creds("Pw-1"))
                .expect("guest operations work once tools report Running");
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    use ToolsRunningStatus::*;
    assert_eq!(
        statuses,
        vec![
            NotRunning,
            ExecutingScripts,
            NotRunning,
            ExecutingScripts,
            Running
        ]
    );
}

/// "Running but unavailable" is still there, as a fault, to test retries.
#[tokio::test]
async fn running_but_unavailable_is_an_injectable_fault() {
    let world = world();
    base_vm(&world, "vm-1", "photon-v2", "10.0.0.5", "Pw-1");
    world
        .add_fault(
            FaultRule::new(
                FaultScope::Vm("vm-1".into()),
                GuestFaultKind::OpsUnavailable,
            )
            .times(2),
        )
        .expect("guest fault rule");
    let info = world.vm_info("vm-1").unwrap();
    assert_eq!(info.tools_running_status, ToolsRunningStatus::Running);
    for _ in 0..2 {
        assert_eq!(
            world.check_access("vm-1", &creds("Pw-1")),
            Err(GuestFault::GuestOperationsUnavailable)
        );
    }
    world.check_access("vm-1", &creds("Pw-1")).unwrap();
}

#[tokio::test]
async fn sleep_takes_scaled_simulated_time() {
    let world = GuestWorld::new(GuestConfig {
        clock: Clock::scaled(0.01),
        seed: 1,
        timings: GuestTimings {
            customization_reboot: false,
            ..GuestTimings::default()
        },
    });
    base_vm(&world, "vm-1", "photon-v2", "10.0.0.5", "Pw-1");
    while !world.vm_info("vm-1").unwrap().guest_operations_ready {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let c = creds("Pw-1");
    let started = std::time::Instant::now();
    let pid = world
        .start_program(
            "vm-1",
            &c,
            ProgramSpec {
                program_path: "/bin/sleep".into(),
                arguments: " 20".into(),
                working_directory: None,
                env: vec![],
            },
        )
        .await
        .unwrap();
    assert!(
        world.list_processes("vm-1", &c, Some(&[pid])).unwrap()[0]
            .exit_code
            .is_none()
    );
    assert_eq!(
        guest_common::wait_for_exit(&world, "vm-1", &c, pid)
            .await
            .unwrap(),
        0
    );
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(190) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn on_an_instant_clock_work_is_done_when_start_program_returns() {
    let world = world();
    base_vm(&world, "vm-1", "photon-v2", "10.0.0.5", "Pw-1");
    let c = creds("Pw-1");
    let pid = world
        .start_program(
            "vm-1",
            &c,
            ProgramSpec {
                program_path: "/bin/sleep".into(),
                arguments: " 3600".into(),
                working_directory: None,
                env: vec![],
            },
        )
        .await
        .unwrap();
    let process = &world.list_processes("vm-1", &c, Some(&[pid])).unwrap()[0];
    assert_eq!(process.exit_code, Some(0));
    assert_eq!(process.owner, "root");
    assert_eq!(process.name, "sleep");
    assert_eq!(process.cmd_line, "\"/bin/sleep\"  3600");
}

#[tokio::test]
async fn a_reboot_clears_the_process_table_and_exited_processes_expire() {
    let world = world();
    base_vm(&world, "vm-1", "photon-v2", "10.0.0.5", "Pw-1");
    let c = creds("Pw-1");
    let spec = ProgramSpec {
        program_path: "/bin/true".into(),
        arguments: String::new(),
        working_directory: None,
        env: vec![],
    };
    let pid = world.start_program("vm-1", &c, spec.clone()).await.unwrap();
    assert_eq!(
        world
            .list_processes("vm-1", &c, Some(&[pid]))
            .unwrap()
            .len(),
        1
    );
    world.advance_guest_time(Duration::from_secs(301));
    assert!(
        world
            .list_processes("vm-1", &c, Some(&[pid]))
            .unwrap()
            .is_empty()
    );
    let pid = world.start_program("vm-1", &c, spec).await.unwrap();
    world.power_off("vm-1").unwrap();
    assert_eq!(
        world.list_processes("vm-1", &c, Some(&[pid])),
        Err(GuestFault::InvalidPowerState)
    );
    world.power_on("vm-1", None).unwrap();
    assert!(
        world
            .list_processes("vm-1", &c, Some(&[pid]))
            .unwrap()
            .is_empty()
    );
    let all = world.list_processes("vm-1", &c, None).unwrap();
    assert!(
        all.iter()
            .any(|p| p.name == "vmtoolsd" && p.exit_code.is_none())
    );
}

#[tokio::test]
async fn captured_disks_are_copies() {
    let world = world();
    base_vm(&world, "vm-1", "ubuntu-16.04", "10.0.0.5", "Pw-1");
    let run = sh(&world, "vm-1", "Pw-1", "echo before > /root/marker").await;
    assert_eq!(run.exit_code, 0);
    world.shutdown("vm-1").unwrap();
    let disk = world.snapshot_disk("vm-1").unwrap();
    world.power_on("vm-1", None).unwrap();
    sh(
        &world,
        "vm-1",
        "Pw-1",
        "echo after > /root/marker\nuseradd -m alice",
    )
    .await;
    world.create_vm("vm-2", "copy", disk).unwrap();
    world.power_on("vm-2", None).unwrap();
    assert_eq!(world.file("vm-2", "/root/marker").unwrap(), b"before\n");
    assert!(world.disk_of("vm-2").unwrap().users.get("alice").is_none());
    assert!(world.disk_of("vm-1").unwrap().users.get("alice").is_some());
    // The copy keeps the password set on the original (the template's).
    world.check_access("vm-2", &creds("Pw-1")).unwrap();
}

#[tokio::test]
async fn shutdown_needs_running_tools() {
    let world = world();
    world
        .add_fault(FaultRule::new(
            FaultScope::Global,
            GuestFaultKind::ToolsNeverReady,
        ))
        .expect("guest fault rule");
    base_vm(&world, "vm-1", "photon-v2", "10.0.0.5", "Pw-1");
    assert!(matches!(
        world.shutdown("vm-1"),
        Err(GuestFault::SystemError { .. })
    ));
    world.power_off("vm-1").unwrap();
    assert_eq!(world.shutdown("vm-1"), Err(GuestFault::InvalidPowerState));
    world.destroy("vm-1").unwrap();
    assert!(world.vm_info("vm-1").is_none());
    assert_eq!(
        world.destroy("vm-1"),
        Err(GuestFault::ManagedObjectNotFound {
            moref: "vm-1".into()
        })
    );
}

#[tokio::test]
async fn customization_script_runs_pre_and_post_with_the_phase_argument() {
    let world = world();
    let disk = world.import_disk("ubuntu");
    world.create_vm("vm-1", "vm-1", disk).unwrap();
    let script = "#!/bin/bash\necho \"$1 $(hostname)\" >> /root/phases\n";
    world
        .power_on(
            "vm-1",
            Some(Customization {
                computer_name: "custom-1".into(),
                admin_password: Some("Pw-9".into()),
                script: Some(script.into()),
            }),
        )
        .unwrap();
    assert_eq!(
        world.file("vm-1", "/root/phases").unwrap(),
        b"precustomization ubuntu\npostcustomization custom-1\n"
    );
    assert_eq!(
        world
            .customization_record("vm-1")
            .unwrap()
            .script_exit_codes,
        vec![0, 0]
    );
    world.check_access("vm-1", &creds("Pw-9")).unwrap();
}

#[tokio::test]
async fn a_pending_first_boot_customization_accepts_only_the_old_password() {
    let world = GuestWorld::new(GuestConfig {
        clock: Clock::realtime(),
        seed: 1,
        timings: GuestTimings {
            boot: Duration::from_millis(30),
            tools_starting: Duration::from_millis(30),
            ops_warmup: Duration::from_millis(30),
            customization_reboot: true,
            customization_pending: Duration::from_millis(300),
            ..GuestTimings::default()
        },
    });
    let disk = world.import_disk("photon");
    world.create_vm("vm-1", "vm-1", disk).unwrap();
    world
        .power_on(
            "vm-1",
            Some(Customization {
                computer_name: "node-1".into(),
                admin_password: Some("New-pw1".into()),
                script: None,
            }),
        )
        .unwrap();
    while !world.vm_info("vm-1").unwrap().guest_operations_ready {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        world.check_access("vm-1", &creds("New-pw1")),
        Err(GuestFault::InvalidGuestLogin)
    );
    world.check_access("vm-1", &creds("changeme")).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while world.check_access("vm-1", &creds("New-pw1")).is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "customization never applied"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        world.vm_info("vm-1").unwrap().host_name.as_deref(),
        Some("node-1")
    );
}

/// Polls (on paused tokio time) until the VM's tools run or `within` passes.
async fn tools_running_within(world: &GuestWorld, moref: &str, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if world.vm_info(moref).unwrap().tools_running_status == ToolsRunningStatus::Running {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(start_paused = true)]
async fn timings_changed_at_run_time_apply_to_later_power_ons() {
    let world = GuestWorld::new(GuestConfig {
        clock: Clock::scaled(0.001),
        seed: 1,
        timings: GuestTimings::default(),
    });
    let disk = world.import_disk("photon");
    world.create_vm("vm-1", "vm-1", disk).unwrap();
    let within = Duration::from_secs(1);

    // Default timings: 30 s boot + 3 s tools start, scaled to 33 ms.
    world.power_on("vm-1", None).unwrap();
    assert!(tools_running_within(&world, "vm-1", within).await);
    world.power_off("vm-1").unwrap();

    // Slow tools: an hour's boot is 3.6 s at this scale.
    let slow = GuestTimings {
        boot: Duration::from_secs(3600),
        ..GuestTimings::default()
    };
    world.set_timings(slow.clone());
    assert_eq!(world.timings(), slow);
    assert_eq!(world.config().timings, slow);
    world.power_on("vm-1", None).unwrap();
    assert!(!tools_running_within(&world, "vm-1", within).await);

    // A boot under way keeps the timings it started with.
    world.set_timings(GuestTimings::default());
    assert!(!tools_running_within(&world, "vm-1", within).await);
    assert!(tools_running_within(&world, "vm-1", Duration::from_secs(5)).await);

    // The next power cycle uses the restored timings.
    world.power_off("vm-1").unwrap();
    world.power_on("vm-1", None).unwrap();
    assert!(tools_running_within(&world, "vm-1", within).await);
}
