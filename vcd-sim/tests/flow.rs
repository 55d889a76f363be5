//! A complete tenant flow over HTTP, as CSE and vcd-cli drive it: login →
//! org/VDC → upload a generated OVA → instantiate → recompose (+2 VMs, then
//! delete one) → reconfigure → power → metadata → typed query with a
//! metadata filter → delete; every task checked.

mod common;

use common::*;
use reqwest::StatusCode;
use vcd_sim::state::TaskStatus;
use vcd_sim::state::guests::GuestCall;

const VDC: &str = "application/vnd.vmware.vcloud.vdc+xml";
const CATALOG: &str = "application/vnd.vmware.vcloud.catalog+xml";

fn vm_named<'a>(vapp: &'a vcd_sim::rest::xml::Dom, name: &str) -> &'a vcd_sim::rest::xml::Dom {
    vapp.child("Children")
        .unwrap()
        .all("Vm")
        .find(|v| v.attr("name") == Some(name))
        .unwrap_or_else(|| panic!("no VM {name}"))
}

fn primary_ip(vm: &vcd_sim::rest::xml::Dom) -> Option<String> {
    let hw = vm.child("VirtualHardwareSection").unwrap();
    let item = hw.all("Item").find(|i| i.child("Connection").is_some())?;
    item.child("Connection")
        .unwrap()
        .attr("ipAddress")
        .map(str::to_string)
}

#[tokio::test]
async fn complete_cluster_flow_over_http() {
    let sim = start().await;
    let alice = sim.alice().await;

    // org → VDC, network, catalog
    let org = alice.doc(&alice.org_href()).await;
    assert_eq!(org.attr("name"), Some("acme"));
    let vdc_href = named_link(&org, VDC, "vdc1");
    let cat_href = named_link(&org, CATALOG, "cse");
    let vdc = alice.doc(&vdc_href).await;
    let net = vdc
        .child("AvailableNetworks")
        .unwrap()
        .child("Network")
        .unwrap();
    assert_eq!(net.attr("name"), Some("net1"));
    let net_href = net.attr("href").unwrap().to_string();

    // upload a small generated OVA in 100-byte chunks
    let disk: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
    let ova = make_ova(&disk);
    let item = upload_ova(&alice, &cat_href, "photon-custom-hw11", &ova, 100).await;
    let item = alice
        .doc(&Session::link(
            &item,
            "edit",
            Some("application/vnd.vmware.vcloud.catalogItem+xml"),
        ))
        .await;
    let tpl_href = item
        .child("Entity")
        .unwrap()
        .attr("href")
        .unwrap()
        .to_string();
    let tpl = alice.doc(&tpl_href).await;
    assert_eq!(
        tpl.attr("status"),
        Some("8"),
        "template resolved after the last chunk"
    );
    assert!(tpl.child("Files").is_none());
    let tvm = tpl.child("Children").unwrap().child("Vm").unwrap();
    assert_eq!(tvm.attr("name"), Some("photon2-temp"));
    let tvm_href = tvm.attr("href").unwrap().to_string();
    let template_password = tvm
        .child("GuestCustomizationSection")
        .unwrap()
        .child_text("AdminPassword")
        .unwrap()
        .to_string();
    assert_eq!(template_password.len(), 8);
    assert!(
        sim.guests.calls().iter().any(
            |c| matches!(c, GuestCall::ImportDisk { os_hint, .. } if os_hint.contains("Photon"))
        )
    );
    assert!(
        sim.handle
            .state()
            .task_list()
            .iter()
            .any(|t| t.operation_name == "vdcUploadOvfContents" && t.status == TaskStatus::Success),
        "the import task succeeded"
    );

    // instantiate (temp vApp style: AdminPasswordEnabled=false, POOL address, power on)
    let body = format!(
        r#"<InstantiateVAppTemplateParams xmlns="http://www.vmware.com/vcloud/v1.5" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" name="c1" deploy="true" powerOn="true">
  <Description>cluster c1</Description>
  <InstantiationParams><NetworkConfigSection><ovf:Info/>
    <NetworkConfig networkName="net1"><Configuration><ParentNetwork href="{net_href}"/><FenceMode>bridged</FenceMode></Configuration></NetworkConfig>
  </NetworkConfigSection></InstantiationParams>
  <Source href="{tpl_href}"/>
  <SourcedItem><Source href="{tvm_href}"/>
    <VmGeneralParams><Name>mstr-ab12</Name><NeedsCustomization>true</NeedsCustomization></VmGeneralParams>
    <InstantiationParams>
      <NetworkConnectionSection><ovf:Info/><NetworkConnection network="net1"><NetworkConnectionIndex>0</NetworkConnectionIndex>
        <IsConnected>True</IsConnected><IpAddressAllocationMode>POOL</IpAddressAllocationMode></NetworkConnection></NetworkConnectionSection>
      <GuestCustomizationSection><ovf:Info/><Enabled>true</Enabled><AdminPasswordEnabled>false</AdminPasswordEnabled><ComputerName>mstr-ab12</ComputerName></GuestCustomizationSection>
    </InstantiationParams>
  </SourcedItem>
  <AllEULAsAccepted>true</AllEULAsAccepted>
</InstantiateVAppTemplateParams>"#
    );
    let r = alice
        .post(
            &Session::link(
                &vdc,
                "add",
                Some("application/vnd.vmware.vcloud.instantiateVAppTemplateParams+xml"),
            ),
            "application/vnd.vmware.vcloud.instantiateVAppTemplateParams+xml",
            body,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let vapp = r.dom();
    let task_href = vapp
        .child("Tasks")
        .unwrap()
        .child("Task")
        .unwrap()
        .attr("href")
        .unwrap()
        .to_string();
    alice.task_ok(&task_href).await;
    let vapp_href = vapp.attr("href").unwrap().to_string();
    let vapp = alice.doc(&vapp_href).await;
    assert_eq!(vapp.attr("status"), Some("4"));
    let master = vm_named(&vapp, "mstr-ab12");
    assert_eq!(primary_ip(master).as_deref(), Some("10.0.0.10"));
    assert_eq!(
        master
            .child("GuestCustomizationSection")
            .unwrap()
            .child_text("AdminPassword"),
        Some(template_password.as_str())
    );
    assert!(
        master.child("VCloudExtension").is_none(),
        "tenants do not see the vCenter extension"
    );
    let moref = master
        .child("Environment")
        .unwrap()
        .attr("vCenterId")
        .unwrap()
        .to_string();
    assert!(moref.starts_with("vm-"));
    let recorded = sim.guests.vm(&moref).expect("guest created");
    assert_eq!(recorded.ip.as_deref(), Some("10.0.0.10"));
    assert_eq!(
        recorded.root_password.as_deref(),
        Some(template_password.as_str()),
        "first boot sets the reported password"
    );
    assert_eq!(recorded.host_name.as_deref(), Some("mstr-ab12"));
    // the system administrator sees the moref in VCloudExtension too
    let admin = sim.admin().await;
    let vapp_admin = admin.doc(&vapp_href).await;
    let ext = vm_named(&vapp_admin, "mstr-ab12")
        .child("VCloudExtension")
        .unwrap();
    let vim = ext
        .child("VmVimInfo")
        .unwrap()
        .child("VmVimObjectRef")
        .unwrap();
    assert_eq!(vim.child_text("MoRef"), Some(moref.as_str()));
    assert_eq!(vim.child("VimServerRef").unwrap().attr("name"), Some("vc1"));

    // recompose: +2 VMs, not powered on
    let add_item = |name: &str| {
        format!(
            r#"<SourcedItem><Source href="{tvm_href}"/><VmGeneralParams><Name>{name}</Name><NeedsCustomization>true</NeedsCustomization></VmGeneralParams>
  <InstantiationParams><NetworkConnectionSection><ovf:Info/><NetworkConnection network="net1"><NetworkConnectionIndex>0</NetworkConnectionIndex>
    <IsConnected>true</IsConnected><IpAddressAllocationMode>POOL</IpAddressAllocationMode></NetworkConnection></NetworkConnectionSection>
  <GuestCustomizationSection><ovf:Info/><Enabled>true</Enabled><AdminPasswordEnabled>false</AdminPasswordEnabled>
    <CustomizationScript>#!/bin/bash
echo key &gt;&gt; /root/.ssh/authorized_keys</CustomizationScript><ComputerName>{name}</ComputerName></GuestCustomizationSection></InstantiationParams></SourcedItem>"#
        )
    };
    let recompose_href = Session::link(
        &vapp,
        "recompose",
        Some("application/vnd.vmware.vcloud.recomposeVAppParams+xml"),
    );
    let body = format!(
        r#"<RecomposeVAppParams xmlns="http://www.vmware.com/vcloud/v1.5" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" deploy="true" powerOn="false">{}{}<AllEULAsAccepted>true</AllEULAsAccepted></RecomposeVAppParams>"#,
        add_item("node-a"),
        add_item("node-b")
    );
    let r = alice
        .post(
            &recompose_href,
            "application/vnd.vmware.vcloud.recomposeVAppParams+xml",
            body,
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(r.dom().name, "Task");
    alice.task_ok(r.dom().attr("href").unwrap()).await;
    let vapp = alice.doc(&vapp_href).await;
    assert_eq!(vapp.child("Children").unwrap().all("Vm").count(), 3);
    let node_a = vm_named(&vapp, "node-a");
    let node_b = vm_named(&vapp, "node-b");
    assert_eq!(primary_ip(node_a).as_deref(), Some("10.0.0.11"));
    assert_eq!(primary_ip(node_b).as_deref(), Some("10.0.0.12"));
    assert_eq!(node_a.attr("status"), Some("8"));
    assert_eq!(
        node_a
            .child("GuestCustomizationSection")
            .unwrap()
            .child_text("AdminPassword"),
        Some(template_password.as_str()),
        "AdminPasswordEnabled=false keeps the template VM's password"
    );
    let node_a_href = node_a.attr("href").unwrap().to_string();
    let node_b_href = node_b.attr("href").unwrap().to_string();
    assert_eq!(sim.handle.state().vm_count("c1"), Some(3));

    // deleting a deployed VM fails the task (with an Error child); undeploy first
    let del = format!(
        r#"<RecomposeVAppParams xmlns="http://www.vmware.com/vcloud/v1.5"><DeleteItem href="{node_b_href}"/></RecomposeVAppParams>"#
    );
    let r = alice
        .post(
            &recompose_href,
            "application/vnd.vmware.vcloud.recomposeVAppParams+xml",
            del.clone(),
        )
        .await;
    let t = alice.wait_task(r.dom().attr("href").unwrap()).await;
    assert_eq!(t.attr("status"), Some("error"));
    assert_eq!(
        t.child("Error").unwrap().attr("minorErrorCode"),
        Some("BAD_REQUEST")
    );
    let node_b_doc = alice.doc(&node_b_href).await;
    let undeploy = Session::link(
        &node_b_doc,
        "undeploy",
        Some("application/vnd.vmware.vcloud.undeployVAppParams+xml"),
    );
    let r = alice
        .post(&undeploy, "application/vnd.vmware.vcloud.undeployVAppParams+xml", r#"<UndeployVAppParams xmlns="http://www.vmware.com/vcloud/v1.5"><UndeployPowerAction>powerOff</UndeployPowerAction></UndeployVAppParams>"#)
        .await;
    alice.task_ok(r.dom().attr("href").unwrap()).await;
    let r = alice
        .post(
            &recompose_href,
            "application/vnd.vmware.vcloud.recomposeVAppParams+xml",
            del,
        )
        .await;
    alice.task_ok(r.dom().attr("href").unwrap()).await;
    assert_eq!(sim.handle.state().vm_count("c1"), Some(2));
    assert!(
        !sim.handle
            .state()
            .allocated_ips("net1")
            .contains(&"10.0.0.12".parse().unwrap()),
        "address given back"
    );

    // reconfigure CPU and memory of the powered-off node (pyvcloud style body)
    let cpu_href = format!("{node_a_href}/virtualHardwareSection/cpu");
    let cpu = alice.doc(&cpu_href).await;
    assert_eq!(cpu.child_text("VirtualQuantity"), Some("2"));
    let body = r#"<Item xmlns="http://www.vmware.com/vcloud/v1.5" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:py="http://codespeak.net/lxml/objectify/pytype" xmlns:vmw="http://www.vmware.com/schema/ovf">
      <rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits><rasd:ElementName py:pytype="str">4 virtual CPU(s)</rasd:ElementName>
      <rasd:InstanceID>4</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity py:pytype="int">4</rasd:VirtualQuantity>
      <vmw:CoresPerSocket py:pytype="int">2</vmw:CoresPerSocket></Item>"#;
    let r = alice
        .put(
            &cpu_href,
            "application/vnd.vmware.vcloud.rasdItem+xml",
            body,
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    alice.task_ok(r.dom().attr("href").unwrap()).await;
    let mem_href = format!("{node_a_href}/virtualHardwareSection/memory");
    let body = r#"<Item xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>4096</rasd:VirtualQuantity></Item>"#;
    let r = alice
        .put(
            &mem_href,
            "application/vnd.vmware.vcloud.rasdItem+xml",
            body,
        )
        .await;
    alice.task_ok(r.dom().attr("href").unwrap()).await;
    let node = alice.doc(&node_a_href).await;
    let spec = node.child("VmSpecSection").unwrap();
    assert_eq!(spec.child_text("NumCpus"), Some("4"));
    assert_eq!(spec.child_text("NumCoresPerSocket"), Some("2"));
    assert_eq!(
        spec.child("MemoryResourceMb")
            .unwrap()
            .child_text("Configured"),
        Some("4096")
    );

    // power on: first boot runs the customization
    let power_on = Session::link(&node, "power:powerOn", None);
    let r = alice
        .post(
            &power_on,
            "application/vnd.vmware.vcloud.deployVAppParams+xml",
            "",
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    alice.task_ok(r.dom().attr("href").unwrap()).await;
    let node = alice.doc(&node_a_href).await;
    assert_eq!(node.attr("status"), Some("4"));
    assert!(
        find_link(&node, "power:powerOn", None).is_none(),
        "powerOn link hidden while on"
    );
    let node_moref = node
        .child("Environment")
        .unwrap()
        .attr("vCenterId")
        .unwrap()
        .to_string();
    assert!(sim.guests.calls().iter().any(
        |c| matches!(c, GuestCall::PowerOn { moref, computer_name: Some(n), customized: true } if *moref == node_moref && n == "node-a")
    ));
    // powering on again is refused (no link, 400 if sent anyway)
    let r = alice.post(&power_on, "application/xml", "").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // metadata: one key at a time as CSE writes them
    let meta_href = format!("{vapp_href}/metadata");
    for (k, v) in [
        ("cse.cluster.id", "5b0f-cluster"),
        ("cse.version", "1.2.7"),
        ("cse.master.ip", "10.0.0.10"),
    ] {
        let body = format!(
            r#"<Metadata xmlns="http://www.vmware.com/vcloud/v1.5" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><MetadataEntry type="xs:string"><Domain visibility="READWRITE">GENERAL</Domain><Key>{k}</Key><TypedValue xsi:type="MetadataStringValue"><Value>{v}</Value></TypedValue></MetadataEntry></Metadata>"#
        );
        let r = alice
            .post(
                &meta_href,
                "application/vnd.vmware.vcloud.metadata+xml",
                body,
            )
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
        alice.task_ok(r.dom().attr("href").unwrap()).await;
    }
    let value = alice
        .doc(&format!("{meta_href}/GENERAL/cse.cluster.id"))
        .await;
    assert_eq!(
        value.child("TypedValue").unwrap().child_text("Value"),
        Some("5b0f-cluster")
    );
    let r = alice.get(&format!("{meta_href}/GENERAL/no.such.key")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(sim.handle.state().vapp_metadata("c1").unwrap().len(), 3);

    // an empty vApp without the metadata does not match the filter
    let r = alice
        .post(
            &Session::link(&vdc, "add", Some("application/vnd.vmware.vcloud.composeVAppParams+xml")),
            "application/vnd.vmware.vcloud.composeVAppParams+xml",
            r#"<ComposeVAppParams xmlns="http://www.vmware.com/vcloud/v1.5" name="other"><Description/></ComposeVAppParams>"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    alice
        .task_ok(
            r.dom()
                .child("Tasks")
                .unwrap()
                .child("Task")
                .unwrap()
                .attr("href")
                .unwrap(),
        )
        .await;

    // typed query with a metadata filter, as CSE 1.2 sends it (API < 35 encoding)
    let q = "/api/query?type=vApp&format=idrecords&page=1&filterEncoded=true&filter=metadata%3Acse.cluster.id%3D%3DSTRING%3A%2A&fields=metadata:cse.cluster.id,metadata:cse.master.ip";
    let res = alice.doc(q).await;
    assert_eq!(res.attr("total"), Some("1"));
    let rec = res.child("VAppRecord").unwrap();
    assert_eq!(rec.attr("name"), Some("c1"));
    assert!(rec.attr("id").unwrap().starts_with("urn:vcloud:vapp:"));
    assert!(rec.attr("vdc").unwrap().starts_with("urn:vcloud:vdc:"));
    assert_eq!(rec.attr("numberOfVMs"), Some("2"));
    assert_eq!(rec.attr("status"), Some("POWERED_ON"));
    let keys: Vec<&str> = rec
        .child("Metadata")
        .unwrap()
        .all("MetadataEntry")
        .map(|e| e.child_text("Key").unwrap())
        .collect();
    assert_eq!(keys, vec!["cse.cluster.id", "cse.master.ip"]);
    let q2 = "/api/query?type=vApp&format=idrecords&page=1&filterEncoded=true&filter=metadata%3Acse.cluster.id%3D%3DSTRING%3A%2A%3Bname%3D%3Dother";
    let res = alice.doc(q2).await;
    assert_eq!(res.attr("total"), Some("0"));

    // delete with force
    let r = alice
        .delete(&format!("{vapp_href}?force=True&recursive=False"))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    alice.task_ok(r.dom().attr("href").unwrap()).await;
    assert_eq!(alice.get(&vapp_href).await.status, StatusCode::FORBIDDEN);
    assert_eq!(sim.handle.state().vm_count("c1"), None);
    assert!(sim.handle.state().allocated_ips("net1").is_empty());
    assert!(
        sim.guests
            .calls()
            .iter()
            .any(|c| matches!(c, GuestCall::Destroy { moref: m } if *m == moref))
    );
    assert_eq!(sim.guests.vm_count(), 0);

    // every task of the flow ended, and only the deliberate one failed
    let tasks = sim.handle.state().task_list();
    assert!(tasks.iter().all(|t| t.status.is_terminal()));
    assert_eq!(
        tasks
            .iter()
            .filter(|t| t.status == TaskStatus::Error)
            .count(),
        1
    );
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn ten_mib_chunks_as_pyvcloud_sends_them() {
    let sim = start().await;
    let alice = sim.alice().await;
    let org = alice.doc(&alice.org_href()).await;
    let cat_href = named_link(&org, CATALOG, "cse");
    let disk = vec![0x5au8; 12 * 1024 * 1024];
    let item = upload_ova(&alice, &cat_href, "big", &make_ova(&disk), 10 * 1024 * 1024).await;
    let tpl = alice
        .doc(item.child("Entity").unwrap().attr("href").unwrap())
        .await;
    assert_eq!(tpl.attr("status"), Some("8"));
}

#[tokio::test]
async fn chunk_repeats_are_idempotent_and_zero_file_ovf_is_refused() {
    let sim = start().await;
    let alice = sim.alice().await;
    let org = alice.doc(&alice.org_href()).await;
    let cat_href = named_link(&org, CATALOG, "cse");
    let cat = alice.doc(&cat_href).await;
    let upload = Session::link(
        &cat,
        "add",
        Some("application/vnd.vmware.vcloud.uploadVAppTemplateParams+xml"),
    );
    let r = alice
        .post(
            &upload,
            "application/vnd.vmware.vcloud.uploadVAppTemplateParams+xml",
            r#"<UploadVAppTemplateParams name="empty"/>"#,
        )
        .await;
    let tpl_href = r
        .dom()
        .child("Entity")
        .unwrap()
        .attr("href")
        .unwrap()
        .to_string();
    let tpl = alice.doc(&tpl_href).await;
    let desc = tpl
        .child("Files")
        .unwrap()
        .child("File")
        .unwrap()
        .child("Link")
        .unwrap()
        .attr("href")
        .unwrap()
        .to_string();
    let no_files = ovf_descriptor(10).replace(
        r#"<File ovf:href="photon-disk1.vmdk" ovf:id="file1" ovf:size="10"/>"#,
        "",
    );
    let r = alice.put(&desc, "text/xml", no_files).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let dup = alice
        .post(
            &upload,
            "application/vnd.vmware.vcloud.uploadVAppTemplateParams+xml",
            r#"<UploadVAppTemplateParams name="empty"/>"#,
        )
        .await;
    assert_eq!(dup.status, StatusCode::BAD_REQUEST);
    assert!(dup.text.contains("DUPLICATE_NAME"));

    // the same descriptor with its file: repeated chunks count once
    let r = alice.put(&desc, "text/xml", ovf_descriptor(10)).await;
    assert!(r.status.is_success(), "{}", r.text);
    let tpl = alice.doc(&tpl_href).await;
    let file = tpl
        .child("Files")
        .unwrap()
        .all("File")
        .nth(1)
        .unwrap()
        .clone();
    let href = file
        .child("Link")
        .unwrap()
        .attr("href")
        .unwrap()
        .to_string();
    let put = |range: &'static str, body: Vec<u8>| {
        alice
            .http
            .put(&href)
            .header("x-vcloud-authorization", &alice.token)
            .header("Content-Range", range)
            .body(body)
            .send()
    };
    for _ in 0..2 {
        assert_eq!(
            put("bytes 0-4/10", vec![1; 5]).await.unwrap().status(),
            StatusCode::OK
        );
    }
    let tpl = alice.doc(&tpl_href).await;
    let file = tpl
        .child("Files")
        .unwrap()
        .all("File")
        .nth(1)
        .unwrap()
        .clone();
    assert_eq!(file.attr("bytesTransferred"), Some("5"));
    assert_eq!(tpl.attr("status"), Some("0"));
    // a range that does not match the body, or the wrong total, is refused
    assert_eq!(
        put("bytes 5-9/10", vec![1; 3]).await.unwrap().status(),
        StatusCode::RANGE_NOT_SATISFIABLE
    );
    assert_eq!(
        put("bytes 5-9/11", vec![1; 5]).await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        put("bytes 5-9/10", vec![1; 5]).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(alice.doc(&tpl_href).await.attr("status"), Some("8"));
}

/// POST-DiscardVAppState: a suspended vApp's state is discarded by a 202
/// `Task` (`vappDiscardSuspendedState`) that ends in success with every VM
/// powered off; the action is offered (and accepted) only while suspended.
#[tokio::test]
async fn discard_suspended_state_powers_the_suspended_vapp_off() {
    let sim = start().await;
    let alice = sim.alice().await;
    let vapp_href = running_vapp(&alice, "sleepy").await;
    let vapp = alice.doc(&vapp_href).await;
    assert!(
        find_link(&vapp, "discardState", None).is_none(),
        "not while on"
    );
    let refused = alice
        .post(
            &format!("{vapp_href}/action/discardSuspendedState"),
            "application/xml",
            "",
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_eq!(refused.dom().name, "Error");

    let r = alice
        .post(
            &Session::link(&vapp, "power:suspend", None),
            "application/xml",
            "",
        )
        .await;
    alice.task_ok(r.dom().attr("href").unwrap()).await;
    let vapp = alice.doc(&vapp_href).await;
    assert_eq!(vapp.attr("status"), Some("3"), "suspended");
    assert_eq!(vapp.attr("deployed"), Some("true"));

    let discard = Session::link(&vapp, "discardState", None);
    assert_eq!(discard, format!("{vapp_href}/action/discardSuspendedState"));
    let r = alice.post(&discard, "application/xml", "").await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(
        r.content_type(),
        "application/vnd.vmware.vcloud.task+xml;version=31.0"
    );
    let task = r.dom();
    assert_eq!(task.name, "Task");
    assert_eq!(
        task.attr("operationName"),
        Some("vappDiscardSuspendedState")
    );
    assert!(
        task.attr("operation")
            .unwrap()
            .starts_with("Discarding State Virtual Application sleepy("),
        "{:?}",
        task.attr("operation")
    );
    assert_eq!(
        task.child("Owner").unwrap().attr("href"),
        Some(vapp_href.as_str())
    );
    let done = alice.task_ok(task.attr("href").unwrap()).await;
    assert!(done.attr("endTime").is_some());

    let vapp = alice.doc(&vapp_href).await;
    assert_eq!(vapp.attr("status"), Some("8"), "powered off");
    assert!(vapp.child("Tasks").is_none(), "the task has ended");
    assert!(find_link(&vapp, "discardState", None).is_none());
    for vm in vapp.child("Children").unwrap().all("Vm") {
        assert_eq!(vm.attr("status"), Some("8"));
    }
    assert!(
        sim.guests
            .calls()
            .iter()
            .any(|c| matches!(c, GuestCall::PowerOff { .. })),
        "the suspended guest was powered off: {:?}",
        sim.guests.calls()
    );
    // nothing left to discard
    let again = alice.post(&discard, "application/xml", "").await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "{}", again.text);
}
