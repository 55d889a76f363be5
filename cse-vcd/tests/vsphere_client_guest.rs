//! The vSphere client against the simulator's vCenter backed by the full guest
//! model (a bash-subset interpreter over a simulated Linux): real scripts with
//! exit codes and both outputs, customization passwords, tools that never come
//! up, agents that flap, and commands that hang until the deadline.

use std::sync::Arc;
use std::time::Duration;

use cse_core::config::{Secret, VcenterConfig};
use cse_vcd::vcd::{HttpTimeouts, RetryPolicy};
use cse_vcd::vsphere::{
    FaultKind, GuestCredentials, PollSettings, VcenterSession, VcenterSettings, VsphereError,
};
use tokio::time::Instant;
use vcd_sim::faults::FaultRule;
use vcd_sim::guest::{FaultScope, GuestConfig, GuestFaultKind, GuestWorld};
use vcd_sim::guest_api::{Customization, GuestLifecycle};
use vcd_sim::vsphere::{VCenterConfig, VCenterSim};
use vcd_sim::{SimBuilder, SimHandle};

const VM: &str = "vm-1042";
const ROOT_PW: &str = "Root-pw-1";
const VC_USER: &str = "administrator@vsphere.local";
const VC_PW: &str = "vc-pw";

struct Harness {
    sim: SimHandle,
    world: Arc<GuestWorld>,
    session: VcenterSession,
}

fn poll() -> PollSettings {
    PollSettings {
        initial: Duration::from_millis(5),
        max: Duration::from_millis(20),
    }
}

fn soon(millis: u64) -> Instant {
    Instant::now() + Duration::from_millis(millis)
}

fn root() -> GuestCredentials {
    GuestCredentials::root(Secret::new(ROOT_PW))
}

/// A powered-on Photon VM customized with root password [`ROOT_PW`], or one left
/// powered off when `power_on` is false.
async fn start(power_on: bool) -> Harness {
    cse_bus::tls::install_crypto_provider();
    let world = Arc::new(GuestWorld::new(GuestConfig::instant(7)));
    let disk = world.import_disk("photon-custom-hw11-2.0-304b817.ova");
    world.create_vm(VM, "mstr-ab12", disk).unwrap();
    world.set_ip_address(VM, Some("10.0.0.11".into())).unwrap();
    if power_on {
        world
            .power_on(
                VM,
                Some(Customization {
                    computer_name: "mstr-ab12".into(),
                    admin_password: Some(ROOT_PW.into()),
                    script: None,
                }),
            )
            .unwrap();
    }
    let vcenter = VCenterSim::new(
        VCenterConfig::new("vc1").with_user(VC_USER, VC_PW),
        world.clone(),
    );
    let sim = SimBuilder::new()
        .https(true)
        .vcenter_routes(vcenter.router())
        .vcenter_bind("127.0.0.1:0".parse().unwrap())
        .start_vcd()
        .await
        .unwrap();
    let pem = sim.cert_pem.as_ref().unwrap();
    let settings = VcenterSettings {
        http: HttpTimeouts {
            connect: Duration::from_secs(5),
            request: Duration::from_secs(10),
        },
        retry: RetryPolicy::immediate(2),
        trusted_roots: vec![reqwest::Certificate::from_pem(pem.as_bytes()).unwrap()],
        ..VcenterSettings::default()
    };
    let account = VcenterConfig {
        name: "vc1".into(),
        password: Secret::new(VC_PW),
        username: VC_USER.into(),
        verify: true,
    };
    let session = VcenterSession::new(&account, &sim.vcenter_url, &settings).unwrap();
    Harness {
        sim,
        world,
        session,
    }
}

#[tokio::test]
async fn a_real_script_gives_its_exit_code_and_both_outputs() {
    let h = start(true).await;
    h.session
        .wait_until_ready(VM, &root(), poll(), soon(10_000))
        .await
        .unwrap();
    let script = "#!/usr/bin/env bash\n\
                  echo \"running in $(pwd) as $(id -u)\"\n\
                  echo 'to stderr' >&2\n\
                  exit 3\n";
    let output = h
        .session
        .run_script(VM, &root(), script, poll(), soon(10_000))
        .await
        .unwrap();
    assert_eq!(output.exit_code, 3, "{output:?}");
    assert_eq!(output.stdout, "running in /root as 0\n");
    assert_eq!(output.stderr, "to stderr\n");
    let leftovers: Vec<_> = ["sh", "out", "err"]
        .iter()
        .flat_map(|ext| {
            h.world
                .lock()
                .vm(VM)
                .map(|vm| vm.disk.fs.glob(&format!("/tmp/cse-*.{ext}")))
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(leftovers, Vec::<String>::new());

    let ip = h
        .session
        .run_script(
            VM,
            &root(),
            "#!/usr/bin/env bash\nip route get 1 | awk '{print $NF;exit}'\n",
            poll(),
            soon(10_000),
        )
        .await
        .unwrap();
    assert_eq!(ip.stdout.trim(), "10.0.0.11", "{ip:?}");
    h.sim.shutdown().await;
}

#[tokio::test]
async fn readiness_waits_for_tools_and_the_customized_password() {
    let h = start(false).await;
    let err = h
        .session
        .wait_for_tools(VM, poll(), soon(150))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("power poweredOff"), "{err}");

    h.world
        .power_on(
            VM,
            Some(Customization {
                computer_name: "mstr-ab12".into(),
                admin_password: Some(ROOT_PW.into()),
                script: None,
            }),
        )
        .unwrap();
    let wrong = GuestCredentials::root(Secret::new("template-old-pw"));
    let err = h
        .session
        .wait_until_ready(VM, &wrong, poll(), soon(150))
        .await
        .unwrap_err();
    let VsphereError::NotReady { last_state, .. } = &err else {
        panic!("{err}");
    };
    assert!(last_state.contains("InvalidGuestLogin"), "{last_state}");
    assert!(!err.to_string().contains("template-old-pw"));
    h.session
        .wait_until_ready(VM, &root(), poll(), soon(10_000))
        .await
        .unwrap();
    h.sim.shutdown().await;
}

#[tokio::test]
async fn guest_faults_are_waited_through_or_end_at_the_deadline() {
    let h = start(true).await;
    let scope = FaultScope::Vm(VM.into());
    h.world
        .add_fault(FaultRule::new(scope.clone(), GuestFaultKind::OpsUnavailable).times(3))
        .expect("guest fault rule");
    h.session
        .wait_until_ready(VM, &root(), poll(), soon(10_000))
        .await
        .unwrap();

    h.world
        .add_fault(FaultRule::new(
            scope.clone(),
            GuestFaultKind::HangCommand {
                name: "kubeadm".into(),
            },
        ))
        .expect("guest fault rule");
    let started = Instant::now();
    let err = h
        .session
        .run_script(
            VM,
            &root(),
            "#!/usr/bin/env bash\nkubeadm init\n",
            poll(),
            soon(300),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, VsphereError::ProgramTimeout { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
    h.world.remove_faults(&scope);

    h.world
        .add_fault(FaultRule::new(
            scope.clone(),
            GuestFaultKind::WrongCredentials,
        ))
        .expect("guest fault rule");
    let err = h
        .session
        .run_script(VM, &root(), "#!/bin/sh\n", poll(), soon(2_000))
        .await
        .unwrap_err();
    assert_eq!(
        err.fault_kind(),
        Some(FaultKind::InvalidGuestLogin),
        "{err}"
    );
    h.world.remove_faults(&scope);

    h.world
        .add_fault(FaultRule::new(scope, GuestFaultKind::ToolsNeverReady))
        .expect("guest fault rule");
    h.world.shutdown(VM).unwrap();
    h.world.power_on(VM, None).unwrap();
    let err = h
        .session
        .wait_for_tools(VM, poll(), soon(200))
        .await
        .unwrap_err();
    assert!(matches!(err, VsphereError::NotReady { .. }), "{err}");
    h.sim.shutdown().await;
}
