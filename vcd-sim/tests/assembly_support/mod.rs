//! Shared helpers of the assembled-simulator tests (in process and `vcd-sim
//! serve`): log in, instantiate a one-VM vApp with a customization script,
//! and read what vCD reports about its VM (moref, vCenter, IP, password).

#![allow(dead_code)]

use reqwest::StatusCode;
use vcd_sim::rest::xml::Dom;

use crate::common::{ACCEPT, Session};

pub const VDC: &str = "application/vnd.vmware.vcloud.vdc+xml";
pub const CATALOG: &str = "application/vnd.vmware.vcloud.catalog+xml";
pub const INSTANTIATE: &str = "application/vnd.vmware.vcloud.instantiateVAppTemplateParams+xml";

/// Writes one line per customization phase, so the test sees both ran.
pub const SCRIPT: &str = "#!/bin/bash\necho \"$1\" >> /root/customized.txt\n";

/// Logs in over `http` (which must trust the simulator's certificate).
pub async fn login(
    http: &reqwest::Client,
    base: &str,
    org: &str,
    user: &str,
    password: &str,
) -> Session {
    let r = http
        .post(format!("{base}/api/sessions"))
        .basic_auth(format!("{user}@{org}"), Some(password))
        .header("Accept", ACCEPT)
        .send()
        .await
        .expect("login request");
    assert_eq!(r.status(), StatusCode::OK, "login of {user}@{org}");
    let token = r.headers()["x-vcloud-authorization"]
        .to_str()
        .expect("token")
        .to_string();
    let text = r.text().await.expect("session body");
    Session {
        base: base.to_string(),
        token,
        http: http.clone(),
        session: Dom::parse(&text).expect("session XML"),
    }
}

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Instantiates `template_href` as a one-VM vApp named `name`, powered on,
/// with a POOL address and the customization script; returns the vApp href.
pub async fn instantiate(
    s: &Session,
    vdc: &Dom,
    net_href: &str,
    template_href: &str,
    name: &str,
) -> String {
    let tpl = s.doc(template_href).await;
    let tvm_href = tpl
        .child("Children")
        .and_then(|c| c.child("Vm"))
        .and_then(|v| v.attr("href"))
        .expect("template VM")
        .to_string();
    let vm_name = format!("{name}-vm");
    let body = format!(
        r#"<InstantiateVAppTemplateParams xmlns="http://www.vmware.com/vcloud/v1.5" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" name="{name}" deploy="true" powerOn="true">
  <InstantiationParams><NetworkConfigSection><ovf:Info/>
    <NetworkConfig networkName="net1"><Configuration><ParentNetwork href="{net_href}"/><FenceMode>bridged</FenceMode></Configuration></NetworkConfig>
  </NetworkConfigSection></InstantiationParams>
  <Source href="{template_href}"/>
  <SourcedItem><Source href="{tvm_href}"/>
    <VmGeneralParams><Name>{vm_name}</Name><NeedsCustomization>true</NeedsCustomization></VmGeneralParams>
    <InstantiationParams>
      <NetworkConnectionSection><ovf:Info/><NetworkConnection network="net1"><NetworkConnectionIndex>0</NetworkConnectionIndex>
        <IsConnected>true</IsConnected><IpAddressAllocationMode>POOL</IpAddressAllocationMode></NetworkConnection></NetworkConnectionSection>
      <GuestCustomizationSection><ovf:Info/><Enabled>true</Enabled><AdminPasswordEnabled>true</AdminPasswordEnabled><AdminPasswordAuto>true</AdminPasswordAuto>
        <CustomizationScript>{script}</CustomizationScript><ComputerName>{vm_name}</ComputerName></GuestCustomizationSection>
    </InstantiationParams>
  </SourcedItem>
  <AllEULAsAccepted>true</AllEULAsAccepted>
</InstantiateVAppTemplateParams>"#,
        script = escape(SCRIPT)
    );
    let r = s
        .post(
            &Session::link(vdc, "add", Some(INSTANTIATE)),
            INSTANTIATE,
            body,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let vapp = r.dom();
    let task = vapp
        .child("Tasks")
        .and_then(|t| t.child("Task"))
        .and_then(|t| t.attr("href"))
        .expect("instantiate task")
        .to_string();
    s.task_ok(&task).await;
    vapp.attr("href").expect("vApp href").to_string()
}

/// What vCD says about the only VM of a vApp.
pub struct VmFacts {
    pub href: String,
    pub moref: String,
    pub vcenter: String,
    pub ip: String,
    pub computer_name: String,
    pub admin_password: String,
}

pub async fn vm_facts(admin: &Session, vapp_href: &str) -> VmFacts {
    let vapp = admin.doc(vapp_href).await;
    let vm = vapp
        .child("Children")
        .and_then(|c| c.child("Vm"))
        .expect("one VM");
    let vim = vm
        .child("VCloudExtension")
        .and_then(|e| e.child("VmVimInfo"))
        .and_then(|i| i.child("VmVimObjectRef"))
        .expect("the system administrator sees VmVimObjectRef");
    let ip = vm
        .child("NetworkConnectionSection")
        .and_then(|n| n.child("NetworkConnection"))
        .and_then(|c| c.child_text("IpAddress"))
        .expect("allocated IP")
        .to_string();
    let gc = vm
        .child("GuestCustomizationSection")
        .expect("customization");
    VmFacts {
        href: vm.attr("href").expect("VM href").to_string(),
        moref: vim.child_text("MoRef").expect("moref").to_string(),
        vcenter: vim
            .child("VimServerRef")
            .and_then(|r| r.attr("name"))
            .expect("vCenter name")
            .to_string(),
        ip,
        computer_name: gc.child_text("ComputerName").expect("name").to_string(),
        admin_password: gc
            .child_text("AdminPassword")
            .expect("AdminPassword")
            .to_string(),
    }
}
