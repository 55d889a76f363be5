//! A real `vcd-sim serve` process (HTTPS, vCenter on its own arbitrary port,
//! instant clock) driven as a user would: a tenant uploads a Photon OVA and
//! instantiates a customized vApp over vCD REST; the system administrator
//! reads the VM's moref and vCenter from vCD's XML and the vCenter URL from
//! `vimServerReferences`; then unmodified pyVmomi (9.x and 6.7.1) logs in to
//! that vCenter with the info file's credentials, finds the VM by moref and
//! runs guest operations as root with vCD's AdminPassword
//! (tests/python/pyvmomi_guest_ops.py).

mod assembly_support;
mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use assembly_support::{CATALOG, VDC, instantiate, login, vm_facts};
use common::{make_ova, named_link, upload_ova};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// Runs scripts/python-vsphere-clients.sh once per test binary; returns the venv's python.
fn python_for(venv: &str) -> PathBuf {
    static SETUP: Mutex<Option<bool>> = Mutex::new(None);
    let root = workspace_root();
    let mut done = SETUP.lock().unwrap_or_else(|e| e.into_inner());
    if done.is_none() {
        let status = Command::new(root.join("scripts/python-vsphere-clients.sh"))
            .current_dir(&root)
            .stdout(Stdio::null())
            .status()
            .expect("scripts/python-vsphere-clients.sh runs");
        *done = Some(status.success());
    }
    assert_eq!(
        *done,
        Some(true),
        "scripts/python-vsphere-clients.sh failed"
    );
    root.join("target/python-vsphere")
        .join(venv)
        .join("bin/python")
}

/// The `vcd-sim serve` child; killed when dropped (a failed test leaves nothing behind).
struct Served {
    child: Child,
    info: serde_json::Value,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(dir: &Path) -> Served {
    let info_path = dir.join("info.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_vcd-sim"))
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--vcenter-bind",
            "127.0.0.1:0",
            "--time-scale",
            "0",
            "--info-file",
        ])
        .arg(&info_path)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start vcd-sim serve");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(text) = std::fs::read_to_string(&info_path)
            && let Ok(info) = serde_json::from_str::<serde_json::Value>(&text)
        {
            return Served { child, info };
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("vcd-sim serve exited early: {status}");
        }
        assert!(Instant::now() < deadline, "no info file after 20 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn text(v: &serde_json::Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_string()
}

/// `https://host:port` → (host, port).
fn host_port(url: &str) -> (String, u16) {
    let u = url::Url::parse(url).expect("URL");
    (
        u.host_str().expect("host").to_string(),
        u.port().expect("explicit port"),
    )
}

async fn pyvmomi_runs_guest_ops_on_a_vm_made_through_vcd(venv: &str, version_prefix: &str) {
    cse_bus::tls::install_crypto_provider();
    let dir = tempfile::tempdir().expect("temp dir");
    let served = serve(dir.path());
    let info = &served.info;
    let base = text(&info["vcd_url"]);
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client");

    // a tenant uploads a Photon OVA and instantiates it with a customization script
    let tenant = &info["tenants"][0];
    let alice = login(
        &http,
        &base,
        &text(&tenant["org"]),
        &text(&tenant["user"]),
        &text(&tenant["password"]),
    )
    .await;
    let org = alice.doc(&alice.org_href()).await;
    let vdc = alice
        .doc(&named_link(&org, VDC, &text(&tenant["vdc"])))
        .await;
    let cat_href = named_link(&org, CATALOG, "cse");
    let net_href = vdc
        .child("AvailableNetworks")
        .and_then(|n| n.child("Network"))
        .and_then(|n| n.attr("href"))
        .expect("a network")
        .to_string();
    let item = upload_ova(&alice, &cat_href, "photon", &make_ova(&[1u8; 700]), 300).await;
    let tpl_href = item
        .child("Entity")
        .and_then(|e| e.attr("href"))
        .expect("template")
        .to_string();
    let vapp_href = instantiate(&alice, &vdc, &net_href, &tpl_href, "py").await;

    // the system administrator sees the moref, the vCenter and its URL
    let sys = &info["sysadmin"];
    let admin = login(
        &http,
        &base,
        &text(&sys["org"]),
        &text(&sys["user"]),
        &text(&sys["password"]),
    )
    .await;
    let vm = vm_facts(&admin, &vapp_href).await;
    let refs = admin.doc("/api/admin/extension/vimServerReferences").await;
    let server_href = refs
        .all("VimServerReference")
        .find(|r| r.attr("name") == Some(vm.vcenter.as_str()))
        .and_then(|r| r.attr("href"))
        .unwrap_or_else(|| panic!("no reference to vCenter {}", vm.vcenter))
        .to_string();
    let server = admin.doc(&server_href).await;
    let vc_url = server.child_text("Url").expect("vimServer Url").to_string();
    let vc_info = info["vcenters"]
        .as_array()
        .expect("vcenters")
        .iter()
        .find(|v| v["name"] == vm.vcenter.as_str())
        .expect("the info file lists vCD's vCenter");
    assert_eq!(text(&vc_info["url"]), vc_url, "info file and vCD agree");
    let (host, port) = host_port(&vc_url);
    assert!(vc_url.starts_with("https://"), "{vc_url}");
    assert_ne!(port, 0, "the real port, not the requested 0");
    assert_ne!(port, host_port(&base).1, "its own listener");

    // pyVmomi against that vCenter, the VM taken by moref, root with vCD's password
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/pyvmomi_guest_ops.py");
    let child = tokio::process::Command::new(python_for(venv))
        .arg(script)
        .args([
            host,
            port.to_string(),
            text(&vc_info["user"]),
            text(&vc_info["password"]),
            format!("moref:{}", vm.moref),
            vm.admin_password.clone(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("python starts");
    let output = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("pyVmomi finishes within 120 s")
        .expect("pyVmomi output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("PYVMOMI-GUEST-OPS-PASSED"),
        "{venv} failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.starts_with(version_prefix), "{stdout}");
    assert!(
        stdout.contains(&format!("moref {} is VM ", vm.moref)),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("script output b'Linux {} ", vm.computer_name)),
        "uname in the guest shows vCD's computer name: {stdout}"
    );
    assert!(
        stdout.contains(&format!("IP {}", vm.ip)),
        "vCenter reports vCD's IP: {stdout}"
    );

    // deleting the vApp in vCD removes the VM from that vCenter
    let r = alice
        .delete(&format!("{vapp_href}?force=true&recursive=true"))
        .await;
    assert_eq!(r.status, reqwest::StatusCode::ACCEPTED, "{}", r.text);
    alice.task_ok(r.dom().attr("href").expect("task")).await;
    let soap = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><RetrievePropertiesEx xmlns="urn:vim25"><_this type="PropertyCollector">propertyCollector</_this><specSet><propSet><type>VirtualMachine</type><pathSet>runtime.powerState</pathSet></propSet><objectSet><obj type="VirtualMachine">{}</obj></objectSet></specSet><options/></RetrievePropertiesEx></soapenv:Body></soapenv:Envelope>"#,
        vm.moref
    );
    let login_body = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><Login xmlns="urn:vim25"><_this type="SessionManager">SessionManager</_this><userName>{}</userName><password>{}</password></Login></soapenv:Body></soapenv:Envelope>"#,
        text(&vc_info["user"]),
        text(&vc_info["password"])
    );
    let vc_http = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .cookie_store(true)
        .build()
        .expect("vCenter client");
    let r = vc_http
        .post(format!("{vc_url}/sdk"))
        .header("Content-Type", "text/xml")
        .header("SOAPAction", "urn:vim25/6.7.1")
        .body(login_body)
        .send()
        .await
        .expect("Login");
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let r = vc_http
        .post(format!("{vc_url}/sdk"))
        .header("Content-Type", "text/xml")
        .header("SOAPAction", "urn:vim25/6.7.1")
        .body(soap)
        .send()
        .await
        .expect("RetrievePropertiesEx");
    assert_eq!(r.status(), 500);
    let fault = r.text().await.expect("fault body");
    assert!(fault.contains("ManagedObjectNotFound"), "{fault}");
    drop(admin);
    drop(served);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn current_pyvmomi_runs_guest_ops_on_a_vm_made_through_vcd() {
    pyvmomi_runs_guest_ops_on_a_vm_made_through_vcd("pyvmomi9", "pyvmomi 9.").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyvmomi_6_7_1_runs_guest_ops_on_a_vm_made_through_vcd() {
    pyvmomi_runs_guest_ops_on_a_vm_made_through_vcd("pyvmomi671", "pyvmomi 6.7.1").await;
}
