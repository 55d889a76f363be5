//! The assembled simulator in process ([`SimBuilder`]): vCD's REST API
//! drives the real guest model, and what vCD reports (moref, IP, password,
//! computer name) is what the vCenter side and the guest see. Covers the
//! customization script, power off, delete (moref gone, IP back in the pool)
//! and capture into a template whose instances carry the captured disk.

mod assembly_support;
mod common;

use std::time::Duration;

use assembly_support::{CATALOG, VDC, instantiate, login, vm_facts};
use common::{Session, make_ova, named_link, upload_ova};
use reqwest::StatusCode;
use vcd_sim::guest_api::{
    GuestCredentials, GuestFault, GuestOps, PowerState, ProgramSpec, ToolsRunningStatus,
};
use vcd_sim::{FullSim, SimBuilder};

fn root(password: &str) -> GuestCredentials {
    GuestCredentials {
        username: "root".into(),
        password: password.into(),
    }
}

/// Runs `/bin/bash -c command` as root through guest operations; returns the exit code.
async fn run(sim: &FullSim, moref: &str, password: &str, command: &str) -> Result<i32, GuestFault> {
    let creds = root(password);
    let pid = sim
        .guests
        .start_program(
            moref,
            &creds,
            ProgramSpec {
                program_path: "/bin/bash".into(),
                arguments: format!("-c '{command}'"),
                ..ProgramSpec::default()
            },
        )
        .await?;
    for _ in 0..200 {
        let listed = sim.guests.list_processes(moref, &creds, Some(&[pid]))?;
        if let Some(code) = listed.first().and_then(|p| p.exit_code) {
            return Ok(code);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{command} did not exit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vcd_vcenter_and_guest_agree_from_instantiate_to_capture_and_delete() {
    cse_bus::tls::install_crypto_provider();
    let sim = SimBuilder::new().start().await.expect("simulator starts");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client");
    let alice = login(&http, sim.base_url(), "acme", "alice", "alice-pw").await;
    let admin = login(
        &http,
        sim.base_url(),
        "System",
        "administrator",
        "vmware-sim-admin",
    )
    .await;

    let org = alice.doc(&alice.org_href()).await;
    let vdc = alice.doc(&named_link(&org, VDC, "vdc1")).await;
    let cat_href = named_link(&org, CATALOG, "cse");
    let net_href = vdc
        .child("AvailableNetworks")
        .and_then(|n| n.child("Network"))
        .and_then(|n| n.attr("href"))
        .expect("net1")
        .to_string();

    // upload a Photon OVA and instantiate it with a customization script
    let ova = make_ova(&[7u8; 600]);
    let item = upload_ova(&alice, &cat_href, "photon", &ova, 256).await;
    let tpl_href = item
        .child("Entity")
        .and_then(|e| e.attr("href"))
        .expect("template")
        .to_string();
    let vapp_href = instantiate(&alice, &vdc, &net_href, &tpl_href, "c1").await;
    let vm = vm_facts(&admin, &vapp_href).await;
    assert!(vm.moref.starts_with("vm-"), "{}", vm.moref);
    assert_eq!(vm.vcenter, "vc1");
    assert_eq!(vm.computer_name, "c1-vm");

    // the moref resolves in the vCenter, with vCD's IP and computer name
    let info = sim.guests.vm_info(&vm.moref).expect("vCenter knows the VM");
    assert_eq!(info.power_state, PowerState::PoweredOn);
    assert_eq!(info.tools_running_status, ToolsRunningStatus::Running);
    assert!(info.guest_operations_ready);
    assert_eq!(info.ip_address.as_deref(), Some(vm.ip.as_str()));
    assert_eq!(info.host_name.as_deref(), Some("c1-vm"));
    assert!(
        sim.guests.list_vms().iter().any(|v| v.moref == vm.moref),
        "the container view lists it"
    );
    let pool = sim.handle.state().allocated_ips("net1");
    assert_eq!(
        pool,
        vec![vm.ip.parse::<std::net::Ipv4Addr>().expect("IPv4")],
        "from net1's pool"
    );

    // the customization script ran in both phases; the host name applied
    assert_eq!(
        sim.guests
            .file(&vm.moref, "/root/customized.txt")
            .as_deref(),
        Some(&b"precustomization\npostcustomization\n"[..])
    );
    assert_eq!(
        sim.guests.file(&vm.moref, "/etc/hostname").as_deref(),
        Some(&b"c1-vm\n"[..])
    );
    // vCD's AdminPassword is root's password in the guest
    assert_eq!(
        run(
            &sim,
            &vm.moref,
            &vm.admin_password,
            "echo captured > /root/marker"
        )
        .await,
        Ok(0)
    );
    assert_eq!(
        run(&sim, &vm.moref, "not-the-password", "true").await,
        Err(GuestFault::InvalidGuestLogin)
    );

    // power off in vCD: guest operations refuse
    let vm_doc = alice.doc(&vm.href).await;
    let r = alice
        .post(&Session::link(&vm_doc, "power:powerOff", None), "", "")
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    alice.task_ok(r.dom().attr("href").expect("task")).await;
    assert_eq!(
        sim.guests.vm_info(&vm.moref).map(|i| i.power_state),
        Some(PowerState::PoweredOff)
    );
    assert_eq!(
        run(&sim, &vm.moref, &vm.admin_password, "true").await,
        Err(GuestFault::InvalidPowerState)
    );

    // capture into the catalog; an instance of the capture has the disk's files
    let cat = alice.doc(&cat_href).await;
    let capture = Session::link(
        &cat,
        "add",
        Some("application/vnd.vmware.vcloud.captureVAppParams+xml"),
    );
    let r = alice
        .post(
            &capture,
            "application/vnd.vmware.vcloud.captureVAppParams+xml",
            format!(
                r#"<CaptureVAppParams xmlns="http://www.vmware.com/vcloud/v1.5" name="c1-captured"><Description/><Source href="{vapp_href}"/></CaptureVAppParams>"#
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let task = r.dom();
    let captured_href = task
        .child("Owner")
        .and_then(|o| o.attr("href"))
        .expect("the capture task's owner is the template")
        .to_string();
    alice.task_ok(task.attr("href").unwrap()).await;
    let copy_href = instantiate(&alice, &vdc, &net_href, &captured_href, "c2").await;
    let copy = vm_facts(&admin, &copy_href).await;
    assert_ne!(copy.moref, vm.moref);
    assert_ne!(copy.ip, vm.ip);
    assert_eq!(
        sim.guests.file(&copy.moref, "/root/marker").as_deref(),
        Some(&b"captured\n"[..]),
        "the captured disk's file"
    );
    assert_eq!(
        sim.guests.file(&copy.moref, "/etc/hostname").as_deref(),
        Some(&b"c2-vm\n"[..]),
        "customized again with the new name"
    );
    assert_eq!(
        run(&sim, &copy.moref, &copy.admin_password, "true").await,
        Ok(0)
    );

    // delete the first vApp in vCD: its moref is gone, its IP back in the pool
    let r = alice
        .delete(&format!("{vapp_href}?force=true&recursive=true"))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    alice.task_ok(r.dom().attr("href").expect("task")).await;
    assert_eq!(sim.guests.vm_info(&vm.moref), None);
    assert_eq!(
        run(&sim, &vm.moref, &vm.admin_password, "true").await,
        Err(GuestFault::ManagedObjectNotFound {
            moref: vm.moref.clone()
        })
    );
    assert_eq!(
        sim.handle.state().allocated_ips("net1"),
        vec![copy.ip.parse::<std::net::Ipv4Addr>().expect("IPv4")],
        "only the copy's address is still allocated"
    );
    sim.shutdown().await;
}
