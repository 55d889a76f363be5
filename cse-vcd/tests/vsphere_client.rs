//! The vSphere guest-operations client against the simulator's vCenter (SOAP
//! `/sdk` and `/guestFile` over HTTPS on its own port) backed by the guest
//! model: one session reused and renewed, the script flow with outputs and
//! cleanup, deadlines on tools waits and programs, typed faults, TLS as
//! `vcs[].verify` says, `*` transfer hosts, and the vCD-registered vCenter URL.

use std::sync::Arc;
use std::time::Duration;

use cse_core::config::{Secret, VcenterConfig};
use cse_vcd::vcd::{HttpTimeouts, RetryPolicy};
use cse_vcd::vsphere::{
    FaultKind, GuestCredentials, PollSettings, ProgramSpec, VcenterPool, VcenterSession,
    VcenterSettings, VsphereError,
};
use tokio::time::Instant;
use vcd_sim::faults::FaultRule;
use vcd_sim::guest::{FaultScope, GuestConfig, GuestFaultKind, GuestWorld};
use vcd_sim::guest_api::{Customization, GuestLifecycle};
use vcd_sim::vsphere::{InjectedFault, VCenterConfig, VCenterSim, VimMatch};
use vcd_sim::{SimBuilder, SimHandle};

const VM: &str = "vm-42";
const ROOT_PASSWORD: &str = "guest-secret";
const VC_USER: &str = "administrator@vsphere.local";
const VC_PASSWORD: &str = "vc-secret";

struct Harness {
    sim: SimHandle,
    vcenter: VCenterSim,
    world: Arc<GuestWorld>,
}

fn fast_poll() -> PollSettings {
    PollSettings {
        initial: Duration::from_millis(5),
        max: Duration::from_millis(20),
    }
}

fn soon(millis: u64) -> Instant {
    Instant::now() + Duration::from_millis(millis)
}

fn root() -> GuestCredentials {
    GuestCredentials::root(Secret::new(ROOT_PASSWORD))
}

fn customization() -> Customization {
    Customization {
        computer_name: "mstr-ab12".into(),
        admin_password: Some(ROOT_PASSWORD.into()),
        script: None,
    }
}

async fn start_with(configure: impl FnOnce(&mut VCenterConfig)) -> Harness {
    cse_bus::tls::install_crypto_provider();
    let world = Arc::new(GuestWorld::new(GuestConfig::instant(42)));
    let disk = world.import_disk("ubuntu-16.04-server-cloudimg-amd64.ova");
    world.create_vm(VM, "mstr-ab12", disk).unwrap();
    world
        .set_ip_address(VM, Some("10.150.0.11".into()))
        .unwrap();
    world.power_on(VM, Some(customization())).unwrap();
    let mut config = VCenterConfig::new("vc1").with_user(VC_USER, VC_PASSWORD);
    configure(&mut config);
    let vcenter = VCenterSim::new(config, world.clone());
    let sim = SimBuilder::new()
        .https(true)
        .vcenter_routes(vcenter.router())
        .vcenter_bind("127.0.0.1:0".parse().unwrap())
        .start_vcd()
        .await
        .unwrap();
    Harness {
        sim,
        vcenter,
        world,
    }
}

async fn start() -> Harness {
    start_with(|_| {}).await
}

impl Harness {
    fn account(&self, password: &str, verify: bool) -> VcenterConfig {
        VcenterConfig {
            name: "vc1".into(),
            password: Secret::new(password),
            username: VC_USER.into(),
            verify,
        }
    }

    fn settings(&self, trust_sim: bool) -> VcenterSettings {
        let pem = self.sim.cert_pem.as_ref().unwrap();
        VcenterSettings {
            http: HttpTimeouts {
                connect: Duration::from_secs(5),
                request: Duration::from_secs(10),
            },
            retry: RetryPolicy::immediate(2),
            trusted_roots: if trust_sim {
                vec![reqwest::Certificate::from_pem(pem.as_bytes()).unwrap()]
            } else {
                Vec::new()
            },
            ..VcenterSettings::default()
        }
    }

    fn session(&self) -> VcenterSession {
        VcenterSession::new(
            &self.account(VC_PASSWORD, true),
            &self.sim.vcenter_url,
            &self.settings(true),
        )
        .unwrap()
    }

    fn tmp_cse_files(&self) -> Vec<String> {
        self.world
            .lock()
            .vm(VM)
            .map(|vm| vm.disk.fs.glob("/tmp/cse-*"))
            .unwrap_or_default()
    }
}

#[tokio::test]
async fn scripts_run_with_outputs_and_leave_no_files_behind_on_one_session() {
    let h = start().await;
    assert_ne!(
        h.sim.vcenter_url, h.sim.base_url,
        "vCenter has its own port"
    );
    let pool = VcenterPool::new(vec![h.account(VC_PASSWORD, true)], h.settings(true));
    let session = pool.session("vc1", &h.sim.vcenter_url).unwrap();

    let state = session
        .wait_for_tools(VM, fast_poll(), soon(5_000))
        .await
        .unwrap();
    assert_eq!(state.ip_address.as_deref(), Some("10.150.0.11"));
    session
        .wait_until_ready(VM, &root(), fast_poll(), soon(5_000))
        .await
        .unwrap();
    for _ in 0..2 {
        let output = session
            .run_script(
                VM,
                &root(),
                "#!/usr/bin/env bash\necho 'hello world'\n",
                fast_poll(),
                soon(5_000),
            )
            .await
            .unwrap();
        assert!(output.success(), "{output:?}");
        assert_eq!(output.stdout, "hello world\n");
        assert_eq!(output.stderr, "");
        assert_eq!(h.tmp_cse_files(), Vec::<String>::new());
    }
    let again = pool.session("vc1", &h.sim.vcenter_url).unwrap();
    assert!(Arc::ptr_eq(&session, &again));
    assert_eq!(session.login_count(), 1);
    assert_eq!(h.vcenter.live_sessions(), 1);
    let calls = h.vcenter.call_log();
    assert_eq!(calls.iter().filter(|c| *c == "Login").count(), 1);
    assert_eq!(
        calls
            .iter()
            .filter(|c| *c == "RetrieveServiceContent")
            .count(),
        1
    );
    pool.logout_all().await;
    assert_eq!(h.vcenter.live_sessions(), 0);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn the_pool_dials_the_vcenter_url_vcd_registered() {
    let h = start().await;
    let pem = h.sim.cert_pem.as_ref().unwrap();
    let mut settings = cse_vcd::vcd::VcdSettings::new(
        &format!("{}/api", h.sim.base_url),
        cse_vcd::vcd::ApiVersion::parse("29.0").unwrap(),
    )
    .unwrap();
    settings.tls = cse_vcd::vcd::TlsOptions::trusting(vec![
        reqwest::Certificate::from_pem(pem.as_bytes()).unwrap(),
    ]);
    let info = h.sim.info();
    let admin = cse_vcd::vcd::VcdConnector::new(settings)
        .unwrap()
        .login(cse_vcd::vcd::Credentials {
            user: info.sysadmin.user,
            org: "System".into(),
            password: Secret::new(info.sysadmin.password),
        })
        .await
        .unwrap();
    let registered = admin.vim_server("vc1").await.unwrap();
    let port = url::Url::parse(&registered.url).unwrap().port();
    assert!(port.is_some_and(|p| p != 443), "{}", registered.url);

    let pool = VcenterPool::new(vec![h.account(VC_PASSWORD, true)], h.settings(true));
    let placement = cse_vcd::vcd::VmPlacement {
        vcenter: "vc1".into(),
        moref: VM.into(),
    };
    let target = pool.target_for_placement(&admin, &placement).await.unwrap();
    assert_eq!(target.session.endpoint().sdk_url.port(), port);
    assert_eq!(
        pool.cached_url("vc1").as_deref(),
        Some(registered.url.as_str())
    );
    assert!(
        target
            .session
            .vm_state(&target.vm)
            .await
            .unwrap()
            .is_ready()
    );
    let again = pool.target_for_placement(&admin, &placement).await.unwrap();
    assert!(Arc::ptr_eq(&target.session, &again.session));

    let unknown = cse_vcd::vcd::VmPlacement {
        vcenter: "vc9".into(),
        moref: VM.into(),
    };
    let err = pool
        .target_for_placement(&admin, &unknown)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no vCenter named 'vc9'"), "{err}");
    let org_href = admin.session().org_href().unwrap().to_owned();
    let err = pool.target_for_vm(&admin, &org_href).await.unwrap_err();
    assert!(
        matches!(err, cse_vcd::vsphere::LocateError::NoPlacement { .. }),
        "{err}"
    );
    h.sim.shutdown().await;
}

#[tokio::test]
async fn an_expired_session_is_renewed_once() {
    let h = start_with(|c| c.session_idle_timeout = Duration::from_millis(150)).await;
    let session = h.session();
    session.vm_state(VM).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let state = session.vm_state(VM).await.unwrap();
    assert!(state.is_ready());
    assert_eq!(session.login_count(), 2);

    // Calls failing together log in once.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let results = futures::future::join_all((0..8).map(|_| session.vm_state(VM))).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(session.login_count(), 3);
    let shown = format!("{session:?}");
    assert!(
        !shown.contains(VC_PASSWORD) && !shown.contains("vmware_soap_session=\""),
        "{shown}"
    );
    h.sim.shutdown().await;
}

#[tokio::test]
async fn wrong_vcenter_and_guest_passwords_are_typed_faults_without_secrets() {
    let h = start().await;
    let session = VcenterSession::new(
        &h.account("not-the-vc-password", true),
        &h.sim.vcenter_url,
        &h.settings(true),
    )
    .unwrap();
    let err = session.vm_state(VM).await.unwrap_err();
    assert_eq!(err.fault_kind(), Some(FaultKind::InvalidLogin), "{err}");
    assert!(!format!("{err} {err:?}").contains("not-the-vc-password"));

    let session = h.session();
    let wrong = GuestCredentials::root(Secret::new("bad-guest-pw"));
    let err = session
        .run_script(VM, &wrong, "#!/bin/sh\n", fast_poll(), soon(2_000))
        .await
        .unwrap_err();
    assert_eq!(
        err.fault_kind(),
        Some(FaultKind::InvalidGuestLogin),
        "{err}"
    );
    let shown = format!("{err} {err:?}");
    assert!(
        shown.starts_with("InitiateFileTransferToGuest on vCenter 'vc1' failed: InvalidGuestLogin"),
        "{shown}"
    );
    assert!(!shown.contains("bad-guest-pw"));
    h.sim.shutdown().await;
}

#[tokio::test]
async fn tools_waits_end_at_the_deadline_or_on_a_bad_moref() {
    let h = start().await;
    let session = h.session();
    h.world.shutdown(VM).unwrap();
    let started = Instant::now();
    let err = session
        .wait_for_tools(VM, fast_poll(), soon(200))
        .await
        .unwrap_err();
    assert!(matches!(err, VsphereError::NotReady { .. }), "{err}");
    assert!(err.to_string().contains("power poweredOff"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));

    // Powered on while the client waits.
    let world = h.world.clone();
    let powering = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        world.power_on(VM, None).unwrap();
    });
    let state = session
        .wait_for_tools(VM, fast_poll(), soon(5_000))
        .await
        .unwrap();
    assert!(state.is_ready());
    powering.await.unwrap();

    let err = session
        .wait_for_tools("vm-9", fast_poll(), soon(5_000))
        .await
        .unwrap_err();
    assert_eq!(
        err.fault_kind(),
        Some(FaultKind::ManagedObjectNotFound),
        "{err}"
    );
    h.sim.shutdown().await;
}

#[tokio::test]
async fn a_hanging_program_is_terminated_at_its_deadline() {
    let h = start().await;
    let session = h.session();
    h.world
        .add_fault(FaultRule::new(
            FaultScope::Vm(VM.into()),
            GuestFaultKind::HangProcess {
                cmd_contains: Some("/tmp/cse-".into()),
            },
        ))
        .expect("guest fault rule");
    let err = session
        .run_script(VM, &root(), "#!/bin/sh\n", fast_poll(), soon(200))
        .await
        .unwrap_err();
    let VsphereError::ProgramTimeout { pid, program, .. } = &err else {
        panic!("{err}");
    };
    assert!(program.starts_with("/tmp/cse-"), "{program}");
    let processes = session.list_processes(VM, &root(), &[*pid]).await.unwrap();
    assert!(
        processes[0].exit_code.is_some(),
        "terminated: {processes:?}"
    );
    assert_eq!(
        h.tmp_cse_files(),
        Vec::<String>::new(),
        "cleaned up after a failure"
    );
    h.sim.shutdown().await;
}

#[tokio::test]
async fn exit_codes_come_back_and_the_vcsim_exit_code_bug_does_not_hang() {
    let h = start().await;
    let session = h.session();
    let chmod_missing = ProgramSpec {
        program_path: "/bin/chmod".into(),
        arguments: " u+rx /tmp/does-not-exist".into(),
        working_directory: None,
        env: Vec::new(),
    };
    let code = session
        .run_program(VM, &root(), &chmod_missing, fast_poll(), soon(2_000))
        .await
        .unwrap();
    assert_ne!(code, 0);

    h.vcenter.set_omit_zero_exit_codes(true);
    let err = session
        .run_script(VM, &root(), "#!/bin/sh\n", fast_poll(), soon(200))
        .await
        .unwrap_err();
    assert!(matches!(err, VsphereError::ProgramTimeout { .. }), "{err}");
    h.sim.shutdown().await;
}

#[tokio::test]
async fn file_operations_round_trip_and_report_missing_files() {
    let h = start().await;
    let session = h.session();
    session
        .make_directory(VM, &root(), "/root/.kube", false)
        .await
        .unwrap();
    session
        .upload(
            VM,
            &root(),
            "/root/.kube/config",
            b"apiVersion: v1\n".to_vec(),
            0o600,
            false,
        )
        .await
        .unwrap();
    assert_eq!(
        h.world.file(VM, "/root/.kube/config"),
        Some(b"apiVersion: v1\n".to_vec())
    );
    let err = session
        .upload(
            VM,
            &root(),
            "/root/.kube/config",
            b"x".to_vec(),
            0o600,
            false,
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.fault_kind(),
        Some(FaultKind::FileAlreadyExists),
        "{err}"
    );
    let bytes = session
        .download(VM, &root(), "/root/.kube/config")
        .await
        .unwrap();
    assert_eq!(bytes, b"apiVersion: v1\n");
    session
        .delete_file(VM, &root(), "/root/.kube/config")
        .await
        .unwrap();
    let err = session
        .download(VM, &root(), "/root/.kube/config")
        .await
        .unwrap_err();
    assert_eq!(err.fault_kind(), Some(FaultKind::FileNotFound), "{err}");
    assert_eq!(err.fault().unwrap().details["file"], "/root/.kube/config");
    h.sim.shutdown().await;
}

#[tokio::test]
async fn star_transfer_hosts_are_replaced_with_the_vcenter_address() {
    let h = start_with(|c| c.star_transfer_host = true).await;
    let session = h.session();
    let info = session
        .upload(VM, &root(), "/tmp/a.txt", b"abc".to_vec(), 0o644, false)
        .await;
    info.unwrap();
    let transfer = session
        .initiate_download(VM, &root(), "/tmp/a.txt")
        .await
        .unwrap();
    assert_eq!(transfer.size, Some(3));
    assert_eq!(transfer.url.host_str(), Some("127.0.0.1"));
    assert_eq!(
        session.download(VM, &root(), "/tmp/a.txt").await.unwrap(),
        b"abc"
    );
    h.sim.shutdown().await;
}

#[tokio::test]
async fn tls_follows_the_verify_flag() {
    let h = start().await;
    let strict = VcenterSession::new(
        &h.account(VC_PASSWORD, true),
        &h.sim.vcenter_url,
        &h.settings(false),
    )
    .unwrap();
    let err = strict.vm_state(VM).await.unwrap_err();
    assert!(matches!(err, VsphereError::Transport { .. }), "{err}");

    let lax = VcenterSession::new(
        &h.account(VC_PASSWORD, false),
        &h.sim.vcenter_url,
        &h.settings(false),
    )
    .unwrap();
    assert!(lax.vm_state(VM).await.unwrap().is_ready());
    h.sim.shutdown().await;
}

#[tokio::test]
async fn a_stalled_vcenter_call_ends_at_the_request_timeout() {
    let h = start().await;
    let mut settings = h.settings(true);
    settings.http.request = Duration::from_millis(300);
    settings.retry = RetryPolicy::never();
    let session =
        VcenterSession::new(&h.account(VC_PASSWORD, true), &h.sim.vcenter_url, &settings).unwrap();
    session.vm_state(VM).await.unwrap();
    h.vcenter
        .faults()
        .add(FaultRule::new(
            VimMatch::method("RetrievePropertiesEx"),
            InjectedFault::Stall,
        ))
        .unwrap();
    let started = Instant::now();
    let err = session.vm_state(VM).await.unwrap_err();
    assert!(matches!(err, VsphereError::Transport { .. }), "{err}");
    assert!(err.is_transient());
    assert!(started.elapsed() < Duration::from_secs(3));
    h.sim.shutdown().await;
}
