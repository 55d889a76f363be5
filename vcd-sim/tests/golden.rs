//! Golden XML of every document type the simulator serves (insta snapshots
//! under tests/snapshots). UUIDs, timestamps, the port and generated admin
//! passwords (random on every run) are filtered.

mod common;

use common::*;
use reqwest::StatusCode;
use vcd_sim::SimBuilder;

fn snap(name: &str, text: &str) {
    insta::with_settings!({
        filters => vec![
            (r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "{uuid}"),
            (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", "{timestamp}"),
            (r"http://127\.0\.0\.1:\d+", "{B}"),
            (r"<AdminPassword>[^<]*</AdminPassword>", "<AdminPassword>{password}</AdminPassword>"),
        ],
        prepend_module_to_snapshot => false,
    }, {
        insta::assert_snapshot!(name, text);
    });
}

async fn snap_get(s: &Session, name: &str, href: &str) -> vcd_sim::rest::xml::Dom {
    let r = s.get(href).await;
    assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.text);
    snap(name, &r.text);
    r.dom()
}

#[tokio::test]
async fn every_document_type() {
    let sim = start_with(SimBuilder::new()).await;
    let alice = sim.alice().await;
    let admin = sim.admin().await;

    let r = sim
        .http
        .get(format!("{}/api/versions", sim.base()))
        .send()
        .await
        .unwrap();
    snap("versions", &r.text().await.unwrap());
    snap("session_tenant", &alice.get("/api/session").await.text);
    snap("session_sysadmin", &admin.get("/api/session").await.text);
    snap_get(&admin, "org_list_sysadmin", "/api/org/").await;
    let org = snap_get(&alice, "org", &alice.org_href()).await;
    snap_get(
        &alice,
        "admin_org",
        &alice.org_href().replace("/api/org/", "/api/admin/org/"),
    )
    .await;
    let vdc_href = named_link(&org, "application/vnd.vmware.vcloud.vdc+xml", "vdc1");
    let net_href = named_link(&org, "application/vnd.vmware.vcloud.orgNetwork+xml", "net1");
    let cat_href = named_link(&org, "application/vnd.vmware.vcloud.catalog+xml", "cse");
    snap_get(&alice, "network", &net_href).await;
    snap_get(
        &alice,
        "admin_vdc",
        &vdc_href.replace("/api/vdc/", "/api/admin/vdc/"),
    )
    .await;

    // a template while it waits for its descriptor
    let r = alice
        .post(
            &format!("{cat_href}/action/upload"),
            "application/vnd.vmware.vcloud.uploadVAppTemplateParams+xml",
            r#"<UploadVAppTemplateParams name="pending"/>"#,
        )
        .await;
    snap("catalog_item_created", &r.text);
    let pending_tpl = r
        .dom()
        .child("Entity")
        .unwrap()
        .attr("href")
        .unwrap()
        .to_string();
    snap_get(&alice, "template_uploading", &pending_tpl).await;

    let item = upload_ova(&alice, &cat_href, "photon", &make_ova(&[7u8; 300]), 128).await;
    let item_href = item.attr("href").unwrap().to_string();
    let item = snap_get(&alice, "catalog_item", &item_href).await;
    let tpl_href = item
        .child("Entity")
        .unwrap()
        .attr("href")
        .unwrap()
        .to_string();
    let tpl = snap_get(&alice, "template", &tpl_href).await;
    let tvm_href = tpl
        .child("Children")
        .unwrap()
        .child("Vm")
        .unwrap()
        .attr("href")
        .unwrap()
        .to_string();
    snap_get(&alice, "template_vm", &tvm_href).await;
    snap_get(&alice, "catalog", &cat_href).await;
    snap_get(
        &alice,
        "admin_catalog",
        &cat_href.replace("/api/catalog/", "/api/admin/catalog/"),
    )
    .await;

    let body = format!(
        r#"<InstantiateVAppTemplateParams xmlns="http://www.vmware.com/vcloud/v1.5" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" name="c1" deploy="true" powerOn="true">
  <InstantiationParams><NetworkConfigSection><ovf:Info/><NetworkConfig networkName="net1"><Configuration><ParentNetwork href="{net_href}"/><FenceMode>bridged</FenceMode></Configuration></NetworkConfig></NetworkConfigSection></InstantiationParams>
  <Source href="{tpl_href}"/>
  <SourcedItem><Source href="{tvm_href}"/><VmGeneralParams><Name>mstr-x1</Name></VmGeneralParams>
    <InstantiationParams><NetworkConnectionSection><ovf:Info/><NetworkConnection network="net1"><NetworkConnectionIndex>0</NetworkConnectionIndex><IsConnected>true</IsConnected><IpAddressAllocationMode>POOL</IpAddressAllocationMode></NetworkConnection></NetworkConnectionSection></InstantiationParams>
  </SourcedItem></InstantiateVAppTemplateParams>"#
    );
    let r = alice
        .post(
            &format!("{vdc_href}/action/instantiateVAppTemplate"),
            "application/vnd.vmware.vcloud.instantiateVAppTemplateParams+xml",
            body,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    snap("vapp_created", &r.text);
    let vapp_href = r.dom().attr("href").unwrap().to_string();
    snap_get(&alice, "vdc", &vdc_href).await;
    let vapp = snap_get(&alice, "vapp_tenant", &vapp_href).await;
    snap_get(&admin, "vapp_sysadmin", &vapp_href).await;
    let vm_href = vapp
        .child("Children")
        .unwrap()
        .child("Vm")
        .unwrap()
        .attr("href")
        .unwrap()
        .to_string();
    snap_get(&alice, "vm", &vm_href).await;
    snap_get(&alice, "vapp_owner", &format!("{vapp_href}/owner")).await;
    snap_get(
        &alice,
        "rasd_cpu",
        &format!("{vm_href}/virtualHardwareSection/cpu"),
    )
    .await;
    snap_get(
        &alice,
        "rasd_memory",
        &format!("{vm_href}/virtualHardwareSection/memory"),
    )
    .await;

    let r = alice
        .post(
            &format!("{vapp_href}/metadata"),
            "application/vnd.vmware.vcloud.metadata+xml",
            r#"<Metadata xmlns="http://www.vmware.com/vcloud/v1.5" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><MetadataEntry><Key>cse.cluster.id</Key><TypedValue xsi:type="MetadataStringValue"><Value>abc</Value></TypedValue></MetadataEntry></Metadata>"#,
        )
        .await;
    snap("task_metadata", &r.text);
    snap_get(&alice, "metadata", &format!("{vapp_href}/metadata")).await;
    snap_get(
        &alice,
        "metadata_value",
        &format!("{vapp_href}/metadata/GENERAL/cse.cluster.id"),
    )
    .await;
    snap_get(
        &alice,
        "tasks_list",
        &alice.org_href().replace("/api/org/", "/api/tasksList/"),
    )
    .await;

    snap_get(&alice, "query_list_tenant", "/api/query").await;
    snap_get(
        &alice,
        "query_vapp_records",
        "/api/query?type=vApp&format=records&page=1&pageSize=25",
    )
    .await;
    snap_get(&alice, "query_vapp_idrecords_metadata", "/api/query?type=vApp&format=idrecords&page=1&filterEncoded=true&filter=metadata%3Acse.cluster.id%3D%3DSTRING%3A%2A&fields=metadata:cse.cluster.id").await;
    // Named attributes limit each record to them (and its id).
    snap_get(&alice, "query_vapp_idrecords_named_fields", "/api/query?type=vApp&format=idrecords&page=1&filterEncoded=true&filter=metadata%3Acse.cluster.id%3D%3DSTRING%3A%2A&fields=name,status,metadata:cse.cluster.id").await;
    snap_get(
        &alice,
        "query_catalog_references",
        "/api/query?type=catalog&format=references&page=1",
    )
    .await;
    snap_get(
        &alice,
        "query_vm_records",
        "/api/query?type=vm&format=records&page=1&filter=containerName==c1",
    )
    .await;
    snap_get(
        &admin,
        "query_adminvm_idrecords",
        "/api/query?type=adminVM&format=idrecords&page=1",
    )
    .await;
    snap_get(
        &alice,
        "query_paged",
        "/api/query?type=orgNetwork&format=records&page=1&pageSize=1",
    )
    .await;

    // admin documents
    snap_get(&admin, "admin_vcloud", "/api/admin/").await;
    snap_get(&admin, "extension", "/api/admin/extension").await;
    let r = admin
        .post(
            "/api/admin/extension/service",
            "application/vnd.vmware.admin.service+xml",
            r#"<vmext:Service xmlns:vmext="http://www.vmware.com/vcloud/extension/v1.5" name="cse"><vmext:Namespace>cse</vmext:Namespace><vmext:Enabled>false</vmext:Enabled><vmext:RoutingKey>cse</vmext:RoutingKey><vmext:Exchange>vcdext</vmext:Exchange><vmext:ApiFilters><vmext:ApiFilter><vmext:UrlPattern>/api/cse/.*</vmext:UrlPattern></vmext:ApiFilter></vmext:ApiFilters></vmext:Service>"#,
        )
        .await;
    let svc_href = r.dom().attr("href").unwrap().to_string();
    snap_get(&admin, "service", &svc_href).await;
    snap_get(&admin, "services", "/api/admin/extension/service").await;
    let filters = snap_get(&admin, "api_filters", &format!("{svc_href}/apifilters")).await;
    snap_get(
        &admin,
        "api_filter",
        filters.child("ApiFilter").unwrap().attr("href").unwrap(),
    )
    .await;
    let r = admin
        .post(&format!("{svc_href}/rights"), "application/vnd.vmware.admin.right+xml", r#"<Right name="PKS DEPLOY RIGHT"><Description>d</Description><Category>pksRight</Category><BundleKey>pksBundleKey</BundleKey></Right>"#)
        .await;
    let right_href = r.dom().attr("href").unwrap().to_string();
    snap_get(&admin, "service_rights", &format!("{svc_href}/rights")).await;
    snap_get(&admin, "right", &right_href).await;
    snap_get(
        &admin,
        "query_admin_service",
        "/api/query?type=adminService&format=idrecords&page=1",
    )
    .await;
    let roles = admin.doc("/api/query?type=adminRole&format=records&page=1&filter=name==vApp%20User;orgName==acme").await;
    snap_get(
        &admin,
        "role",
        roles
            .child("AdminRoleRecord")
            .unwrap()
            .attr("href")
            .unwrap(),
    )
    .await;
    let users = admin
        .doc("/api/query?type=adminUser&format=records&page=1&filter=name==alice")
        .await;
    snap_get(
        &admin,
        "user",
        users
            .child("AdminUserRecord")
            .unwrap()
            .attr("href")
            .unwrap(),
    )
    .await;
    snap_get(
        &admin,
        "amqp_settings",
        "/api/admin/extension/settings/amqp",
    )
    .await;
    let refs = snap_get(
        &admin,
        "vim_server_references",
        "/api/admin/extension/vimServerReferences",
    )
    .await;
    snap_get(
        &admin,
        "vim_server",
        refs.child("VimServerReference")
            .unwrap()
            .attr("href")
            .unwrap(),
    )
    .await;
    let r = admin
        .post(
            "/api/admin/extension/settings/amqp/action/test",
            "application/vnd.vmware.admin.amqpSettings+xml",
            r#"<AmqpSettings><AmqpHost>127.0.0.1</AmqpHost><AmqpPort>1</AmqpPort></AmqpSettings>"#,
        )
        .await;
    snap("amqp_settings_test", &r.text);

    // a failed task and an error document
    let r = alice
        .post(
            &format!("{vapp_href}/power/action/powerOn"),
            "application/xml",
            "",
        )
        .await;
    snap("error_bad_request", &r.text);
    let r = alice.delete(&format!("{vapp_href}?force=False")).await;
    snap("error_delete_running", &r.text);
    let r = sim.carol().await.get(&vapp_href).await;
    snap("error_forbidden", &r.text);

    // a media image waiting for its bytes
    let r = alice
        .post(
            &format!("{cat_href}/action/upload"),
            "application/vnd.vmware.vcloud.media+xml",
            r#"<Media name="tools.iso" size="2048" imageType="iso"/>"#,
        )
        .await;
    snap_get(
        &alice,
        "media_uploading",
        r.dom().child("Entity").unwrap().attr("href").unwrap(),
    )
    .await;
}
