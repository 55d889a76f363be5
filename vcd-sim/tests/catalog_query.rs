//! Catalog operations beyond upload (capture with and without overwrite,
//! publish, delete), query paging, and metadata domains.

mod common;

use common::*;
use reqwest::StatusCode;
use vcd_sim::state::guests::GuestCall;

const CATALOG: &str = "application/vnd.vmware.vcloud.catalog+xml";

async fn instantiate(alice: &Session, vdc_href: &str, tpl_href: &str, name: &str) -> String {
    let body = format!(
        r#"<InstantiateVAppTemplateParams xmlns="http://www.vmware.com/vcloud/v1.5" name="{name}" deploy="true" powerOn="true"><Source href="{tpl_href}"/></InstantiateVAppTemplateParams>"#
    );
    let r = alice
        .post(
            &format!("{vdc_href}/action/instantiateVAppTemplate"),
            "application/vnd.vmware.vcloud.instantiateVAppTemplateParams+xml",
            body,
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
    r.dom().attr("href").unwrap().to_string()
}

#[tokio::test]
async fn capture_a_vapp_into_a_template_and_overwrite_it() {
    let sim = start().await;
    let alice = sim.alice().await;
    let org = alice.doc(&alice.org_href()).await;
    let vdc_href = named_link(&org, "application/vnd.vmware.vcloud.vdc+xml", "vdc1");
    let cat_href = named_link(&org, CATALOG, "cse");
    let item = upload_ova(&alice, &cat_href, "base", &make_ova(&[3u8; 200]), 200).await;
    let tpl_href = item
        .child("Entity")
        .unwrap()
        .attr("href")
        .unwrap()
        .to_string();
    let vapp_href = instantiate(&alice, &vdc_href, &tpl_href, "temp").await;
    let vapp = alice.doc(&vapp_href).await;
    let vm = vapp.child("Children").unwrap().child("Vm").unwrap();
    let password = vm
        .child("GuestCustomizationSection")
        .unwrap()
        .child_text("AdminPassword")
        .unwrap()
        .to_string();
    let moref = vm
        .child("Environment")
        .unwrap()
        .attr("vCenterId")
        .unwrap()
        .to_string();

    // CSE shuts the vApp down first (the link is there while it runs)
    let r = alice
        .post(
            &Session::link(&vapp, "power:shutdown", None),
            "application/xml",
            "",
        )
        .await;
    alice.task_ok(r.dom().attr("href").unwrap()).await;
    let vapp = alice.doc(&vapp_href).await;
    assert!(
        find_link(&vapp, "power:shutdown", None).is_none(),
        "no shutdown link once off"
    );

    let cat = alice.doc(&cat_href).await;
    let capture = Session::link(
        &cat,
        "add",
        Some("application/vnd.vmware.vcloud.captureVAppParams+xml"),
    );
    let body = |target: &str| {
        format!(
            r#"<CaptureVAppParams xmlns="http://www.vmware.com/vcloud/v1.5" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" name="k8s-tmpl"><Description>k8s</Description><Source href="{vapp_href}"/><CustomizationSection><ovf:Info>x</ovf:Info><CustomizeOnInstantiate>true</CustomizeOnInstantiate></CustomizationSection>{target}</CaptureVAppParams>"#
        )
    };
    let r = alice
        .post(
            &capture,
            "application/vnd.vmware.vcloud.captureVAppParams+xml",
            body(""),
        )
        .await;
    // POST-CaptureVApp-catalog (since 5.5): 202 with the Task, whose Owner is the template
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(
        r.content_type(),
        "application/vnd.vmware.vcloud.task+xml;version=31.0"
    );
    let task = r.dom();
    assert_eq!(task.name, "Task");
    assert_eq!(task.attr("operationName"), Some("vdcCaptureTemplate"));
    let owner = task.child("Owner").unwrap();
    assert_eq!(
        owner.attr("type"),
        Some("application/vnd.vmware.vcloud.vAppTemplate+xml")
    );
    assert_eq!(owner.attr("name"), Some("k8s-tmpl"));
    let captured_href = owner.attr("href").unwrap().to_string();
    alice.task_ok(task.attr("href").unwrap()).await;
    let captured = alice.doc(&captured_href).await;
    assert_eq!(captured.attr("status"), Some("8"));
    let cvm = captured.child("Children").unwrap().child("Vm").unwrap();
    assert_eq!(
        cvm.child("GuestCustomizationSection")
            .unwrap()
            .child_text("AdminPassword"),
        Some(password.as_str()),
        "the captured template keeps the temp VM's password"
    );
    assert!(
        sim.guests
            .calls()
            .iter()
            .any(|c| matches!(c, GuestCall::SnapshotDisk { moref: m, .. } if *m == moref))
    );
    // a second capture under the same name is a duplicate; with TargetCatalogItem it overwrites
    let r = alice
        .post(
            &capture,
            "application/vnd.vmware.vcloud.captureVAppParams+xml",
            body(""),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let item_href = Session::link(
        &captured,
        "catalogItem",
        Some("application/vnd.vmware.vcloud.catalogItem+xml"),
    );
    let target = format!(
        r#"<TargetCatalogItem href="{item_href}" name="k8s-tmpl" type="application/vnd.vmware.vcloud.catalogItem+xml"/>"#
    );
    let r = alice
        .post(
            &capture,
            "application/vnd.vmware.vcloud.captureVAppParams+xml",
            body(&target),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let task = r.dom();
    alice.task_ok(task.attr("href").unwrap()).await;
    let item = alice.doc(&item_href).await;
    assert_eq!(
        item.child("Entity").unwrap().attr("href"),
        task.child("Owner").unwrap().attr("href"),
        "item re-pointed to the new template"
    );
    assert_eq!(
        alice.get(captured.attr("href").unwrap()).await.status,
        StatusCode::FORBIDDEN,
        "old template gone"
    );
    // the tenant of another org instantiates from the published catalog
    let carol = sim.carol().await;
    let beta = carol.doc(&carol.org_href()).await;
    let beta_vdc = named_link(&beta, "application/vnd.vmware.vcloud.vdc+xml", "vdc1");
    let new_tpl = item
        .child("Entity")
        .unwrap()
        .attr("href")
        .unwrap()
        .to_string();
    let tvm = carol.doc(&new_tpl).await;
    assert_eq!(
        tvm.child("Children")
            .unwrap()
            .child("Vm")
            .unwrap()
            .child("GuestCustomizationSection")
            .unwrap()
            .child_text("AdminPassword"),
        Some(password.as_str())
    );
    instantiate(&carol, &beta_vdc, &new_tpl, "beta-app").await;
    // delete the item and an (empty) catalog
    let r = alice
        .delete(&format!("{item_href}?force=False&recursive=False"))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let add = format!(
        "{}/catalogs",
        alice.org_href().replace("/api/org/", "/api/admin/org/")
    );
    let r = alice
        .post(
            &add,
            "application/vnd.vmware.admin.catalog+xml",
            r#"<AdminCatalog name="tmp"/>"#,
        )
        .await;
    let admin_cat = r.dom().attr("href").unwrap().to_string();
    // publish through the tenant view's link (API ≥ 30)
    let tenant_view = alice
        .doc(&admin_cat.replace("/api/admin/catalog/", "/api/catalog/"))
        .await;
    let publish = Session::link(
        &tenant_view,
        "publish",
        Some("application/vnd.vmware.admin.publishCatalogParams+xml"),
    );
    let r = alice
        .post(
            &publish,
            "application/vnd.vmware.admin.publishCatalogParams+xml",
            r#"<PublishCatalogParams><IsPublished>true</IsPublished></PublishCatalogParams>"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let beta = carol.doc(&carol.org_href()).await;
    named_link(&beta, CATALOG, "tmp");
    assert_eq!(
        alice.delete(&admin_cat).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(alice.get(&admin_cat).await.status, StatusCode::FORBIDDEN);
}

/// A powered-off vApp instantiated from an uploaded OVA; returns (VDC, catalog, vApp) hrefs.
async fn stopped_vapp(alice: &Session, name: &str) -> (String, String, String) {
    let org = alice.doc(&alice.org_href()).await;
    let vdc_href = named_link(&org, "application/vnd.vmware.vcloud.vdc+xml", "vdc1");
    let cat_href = named_link(&org, CATALOG, "cse");
    let item = upload_ova(
        alice,
        &cat_href,
        &format!("{name}-base"),
        &make_ova(&[3u8; 200]),
        200,
    )
    .await;
    let tpl_href = item
        .child("Entity")
        .unwrap()
        .attr("href")
        .unwrap()
        .to_string();
    let vapp_href = instantiate(alice, &vdc_href, &tpl_href, name).await;
    let vapp = alice.doc(&vapp_href).await;
    let r = alice
        .post(
            &Session::link(&vapp, "power:shutdown", None),
            "application/xml",
            "",
        )
        .await;
    alice.task_ok(r.dom().attr("href").unwrap()).await;
    (vdc_href, cat_href, vapp_href)
}

fn capture_body(name: &str, vapp_href: &str) -> String {
    format!(
        r#"<CaptureVAppParams xmlns="http://www.vmware.com/vcloud/v1.5" name="{name}"><Description/><Source href="{vapp_href}"/></CaptureVAppParams>"#
    )
}

#[tokio::test]
async fn the_deprecated_vdc_capture_answers_201_with_the_template() {
    let sim = start().await;
    let alice = sim.alice().await;
    let (vdc_href, _, vapp_href) = stopped_vapp(&alice, "old-style").await;
    let r = alice
        .post(
            &format!("{vdc_href}/action/captureVApp"),
            "application/vnd.vmware.vcloud.captureVAppParams+xml",
            capture_body("vdc-tmpl", &vapp_href),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(
        r.content_type(),
        "application/vnd.vmware.vcloud.vAppTemplate+xml;version=31.0"
    );
    let tpl = r.dom();
    assert_eq!(tpl.name, "VAppTemplate");
    let task = tpl.child("Tasks").unwrap().child("Task").unwrap();
    assert_eq!(task.attr("operationName"), Some("vdcCaptureTemplate"));
    alice.task_ok(task.attr("href").unwrap()).await;
    let captured = alice.doc(tpl.attr("href").unwrap()).await;
    assert_eq!(captured.attr("status"), Some("8"));
    assert!(
        find_link(
            &captured,
            "catalogItem",
            Some("application/vnd.vmware.vcloud.catalogItem+xml")
        )
        .is_none(),
        "a VDC capture adds no catalog item"
    );
}

#[tokio::test]
async fn a_failed_capture_task_ends_in_error_and_leaves_a_failed_template() {
    let sim = start().await;
    let alice = sim.alice().await;
    let (_, cat_href, vapp_href) = stopped_vapp(&alice, "doomed").await;
    sim.handle
        .state()
        .fail_tasks("vdcCaptureTemplate", "Datastore full.", 1);
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
            capture_body("doomed-tmpl", &vapp_href),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let task = alice.wait_task(r.dom().attr("href").unwrap()).await;
    assert_eq!(task.attr("status"), Some("error"));
    assert_eq!(
        task.child("Error").unwrap().attr("message"),
        Some("Datastore full.")
    );
    let tpl = alice
        .doc(task.child("Owner").unwrap().attr("href").unwrap())
        .await;
    assert_eq!(tpl.attr("status"), Some("-1"));
    // the fault was used up: the next capture works
    let r = alice
        .post(
            &capture,
            "application/vnd.vmware.vcloud.captureVAppParams+xml",
            capture_body("second-tmpl", &vapp_href),
        )
        .await;
    alice.task_ok(r.dom().attr("href").unwrap()).await;
}

#[tokio::test]
async fn query_paging_and_metadata_domains() {
    let sim = start().await;
    let alice = sim.alice().await;
    let org = alice.doc(&alice.org_href()).await;
    let vdc_href = named_link(&org, "application/vnd.vmware.vcloud.vdc+xml", "vdc1");
    for name in ["a1", "a2", "a3"] {
        let r = alice
            .post(
                &format!("{vdc_href}/action/composeVApp"),
                "application/vnd.vmware.vcloud.composeVAppParams+xml",
                format!(r#"<ComposeVAppParams name="{name}"/>"#),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    // follow nextPage as pyvcloud does
    let mut href = "/api/query?type=vApp&format=records&page=1&pageSize=2&sortAsc=name".to_string();
    let mut names = vec![];
    loop {
        let page = alice.doc(&href).await;
        assert_eq!(page.attr("total"), Some("3"));
        names.extend(
            page.all("VAppRecord")
                .map(|r| r.attr("name").unwrap().to_string()),
        );
        match find_link(
            &page,
            "nextPage",
            Some("application/vnd.vmware.vcloud.query.records+xml"),
        ) {
            Some(next) => href = next,
            None => break,
        }
    }
    assert_eq!(names, vec!["a1", "a2", "a3"]);
    let desc = alice
        .doc("/api/query?type=vApp&format=references&sortDesc=name")
        .await;
    let refs: Vec<&str> = desc
        .all("VAppReference")
        .map(|r| r.attr("name").unwrap())
        .collect();
    assert_eq!(refs, vec!["a3", "a2", "a1"]);
    // OR filter and wildcard
    let q = alice
        .doc("/api/query?type=vApp&format=records&filter=name==a1,name==a3")
        .await;
    assert_eq!(q.attr("total"), Some("2"));
    let q = alice
        .doc("/api/query?type=vApp&format=records&filter=name==a*")
        .await;
    assert_eq!(q.attr("total"), Some("3"));
    // reference attributes match by UUID whatever the form
    let vdc_uuid = vdc_href.rsplit('/').next().unwrap();
    for v in [
        vdc_href.clone(),
        format!("urn:vcloud:vdc:{vdc_uuid}"),
        vdc_uuid.to_string(),
    ] {
        let q = alice
            .doc(&format!(
                "/api/query?type=vApp&format=records&filterEncoded=true&filter={}",
                urlencode(&format!("vdc=={v};name==a2"))
            ))
            .await;
        assert_eq!(q.attr("total"), Some("1"), "{v}");
    }
    // bad query: 400
    assert_eq!(
        alice
            .get("/api/query?type=nonsense&format=records")
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    // SYSTEM metadata: system administrators only
    let sys_entry = r#"<Metadata xmlns="http://www.vmware.com/vcloud/v1.5" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><MetadataEntry><Domain visibility="READONLY">SYSTEM</Domain><Key>pks_plans</Key><TypedValue xsi:type="MetadataStringValue"><Value>small</Value></TypedValue></MetadataEntry></Metadata>"#;
    let r = alice
        .post(
            &format!("{vdc_href}/metadata"),
            "application/vnd.vmware.vcloud.metadata+xml",
            sys_entry,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let admin = sim.admin().await;
    let r = admin
        .post(
            &format!("{vdc_href}/metadata"),
            "application/vnd.vmware.vcloud.metadata+xml",
            sys_entry,
        )
        .await;
    admin.task_ok(r.dom().attr("href").unwrap()).await;
    let v = alice
        .doc(&format!("{vdc_href}/metadata/SYSTEM/pks_plans"))
        .await;
    assert_eq!(
        v.child("Domain").unwrap().attr("visibility"),
        Some("READONLY")
    );
    // invalid pairs and values
    let bad = sys_entry.replace("READONLY", "READWRITE");
    assert_eq!(
        admin
            .post(
                &format!("{vdc_href}/metadata"),
                "application/vnd.vmware.vcloud.metadata+xml",
                bad
            )
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let number = r#"<MetadataValue xmlns="http://www.vmware.com/vcloud/v1.5" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><TypedValue xsi:type="MetadataNumberValue"><Value>x</Value></TypedValue></MetadataValue>"#;
    assert_eq!(
        alice
            .put(
                &format!("{vdc_href}/metadata/GENERAL/n"),
                "application/vnd.vmware.vcloud.metadata.value+xml",
                number
            )
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let r = alice
        .put(
            &format!("{vdc_href}/metadata/GENERAL/n"),
            "application/vnd.vmware.vcloud.metadata.value+xml",
            number.replace(">x<", ">42<"),
        )
        .await;
    alice.task_ok(r.dom().attr("href").unwrap()).await;
    let r = alice
        .delete(&format!("{vdc_href}/metadata/GENERAL/n"))
        .await;
    alice.task_ok(r.dom().attr("href").unwrap()).await;
    assert_eq!(
        alice
            .get(&format!("{vdc_href}/metadata/GENERAL/n"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn media_upload_into_a_catalog() {
    let sim = start().await;
    let alice = sim.alice().await;
    let org = alice.doc(&alice.org_href()).await;
    let cat_href = named_link(&org, CATALOG, "cse");
    let cat = alice.doc(&cat_href).await;
    let upload = Session::link(&cat, "add", Some("application/vnd.vmware.vcloud.media+xml"));
    let iso: Vec<u8> = (0..3000u32).map(|i| (i % 7) as u8).collect();
    let r = alice
        .post(
            &upload,
            "application/vnd.vmware.vcloud.media+xml",
            format!(r#"<Media xmlns="http://www.vmware.com/vcloud/v1.5" name="tools.iso" size="{}" imageType="iso"><Description>tools</Description></Media>"#, iso.len()),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let item = r.dom();
    let media_href = item
        .child("Entity")
        .unwrap()
        .attr("href")
        .unwrap()
        .to_string();
    assert_eq!(
        item.child("Entity").unwrap().attr("type"),
        Some("application/vnd.vmware.vcloud.media+xml")
    );
    let media = alice.doc(&media_href).await;
    assert_eq!(media.attr("status"), Some("0"));
    let file_href = media
        .child("Files")
        .unwrap()
        .child("File")
        .unwrap()
        .child("Link")
        .unwrap()
        .attr("href")
        .unwrap()
        .to_string();
    for (i, chunk) in iso.chunks(1024).enumerate() {
        let first = i * 1024;
        let r = alice
            .http
            .put(&file_href)
            .header("x-vcloud-authorization", &alice.token)
            .header(
                "Content-Range",
                format!("bytes {}-{}/{}", first, first + chunk.len() - 1, iso.len()),
            )
            .body(chunk.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    let media = alice.doc(&media_href).await;
    assert_eq!(media.attr("status"), Some("1"));
    assert!(media.child("Files").is_none());
    let items = alice
        .doc("/api/query?type=catalogItem&format=records&filter=catalogName==cse")
        .await;
    let rec = items.child("CatalogItemRecord").unwrap();
    assert_eq!(
        (rec.attr("entityType"), rec.attr("status")),
        (Some("media"), Some("RESOLVED"))
    );
    let cats = alice
        .doc("/api/query?type=catalog&format=records&filter=name==cse")
        .await;
    assert_eq!(
        cats.child("CatalogRecord").unwrap().attr("numberOfMedia"),
        Some("1")
    );
    // a bad image type and a duplicate name are refused
    let bad = alice
        .post(
            &upload,
            "application/vnd.vmware.vcloud.media+xml",
            r#"<Media name="x" size="10" imageType="dvd"/>"#,
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let dup = alice
        .post(
            &upload,
            "application/vnd.vmware.vcloud.media+xml",
            r#"<Media name="tools.iso" size="10" imageType="iso"/>"#,
        )
        .await;
    assert_eq!(dup.status, StatusCode::BAD_REQUEST);
    // deleting the item deletes the media
    let r = alice
        .delete(&format!(
            "{}?force=False&recursive=False",
            item.attr("href").unwrap()
        ))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(alice.get(&media_href).await.status, StatusCode::FORBIDDEN);
}
