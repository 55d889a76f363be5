//! Access control and errors as vCD answers them: a tenant sees and changes
//! only its own org, admin endpoints need the system administrator, and
//! every error is an `Error` document with the right status.

mod common;

use common::*;
use reqwest::StatusCode;

const VDC: &str = "application/vnd.vmware.vcloud.vdc+xml";

async fn compose(s: &Session, vdc_href: &str, name: &str) -> String {
    let vdc = s.doc(vdc_href).await;
    let r = s
        .post(
            &Session::link(
                &vdc,
                "add",
                Some("application/vnd.vmware.vcloud.composeVAppParams+xml"),
            ),
            "application/vnd.vmware.vcloud.composeVAppParams+xml",
            format!(
                r#"<ComposeVAppParams xmlns="http://www.vmware.com/vcloud/v1.5" name="{name}"/>"#
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    s.task_ok(
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

fn assert_error(r: &Reply, status: StatusCode, minor: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    assert!(
        r.content_type()
            .starts_with("application/vnd.vmware.vcloud.error+xml"),
        "{}",
        r.content_type()
    );
    let d = r.dom();
    assert_eq!(d.name, "Error");
    assert_eq!(d.attr("majorErrorCode"), Some(status.as_str()));
    assert_eq!(d.attr("minorErrorCode"), Some(minor));
    assert!(!d.attr("message").unwrap_or_default().is_empty());
}

#[tokio::test]
async fn cross_org_access_is_refused() {
    let sim = start().await;
    let alice = sim.alice().await;
    let carol = sim.carol().await;
    let acme = alice.doc(&alice.org_href()).await;
    let vdc_href = named_link(&acme, VDC, "vdc1");
    let vapp_href = compose(&alice, &vdc_href, "secret").await;

    // carol (beta) cannot read or change acme's things
    assert_error(
        &carol.get(&alice.org_href()).await,
        StatusCode::FORBIDDEN,
        "ACCESS_TO_RESOURCE_IS_FORBIDDEN",
    );
    assert_error(
        &carol.get(&vdc_href).await,
        StatusCode::FORBIDDEN,
        "ACCESS_TO_RESOURCE_IS_FORBIDDEN",
    );
    assert_error(
        &carol.get(&vapp_href).await,
        StatusCode::FORBIDDEN,
        "ACCESS_TO_RESOURCE_IS_FORBIDDEN",
    );
    assert_error(
        &carol.delete(&format!("{vapp_href}?force=True")).await,
        StatusCode::FORBIDDEN,
        "ACCESS_TO_RESOURCE_IS_FORBIDDEN",
    );
    assert_error(
        &carol.get(&format!("{vapp_href}/metadata")).await,
        StatusCode::FORBIDDEN,
        "ACCESS_TO_RESOURCE_IS_FORBIDDEN",
    );
    let r = carol
        .post(
            &format!("{vdc_href}/action/composeVApp"),
            "application/vnd.vmware.vcloud.composeVAppParams+xml",
            r#"<ComposeVAppParams name="intruder"/>"#,
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "ACCESS_TO_RESOURCE_IS_FORBIDDEN");
    // carol's org list and queries show only beta (plus published catalogs)
    let orgs = carol.doc("/api/org/").await;
    let names: Vec<&str> = orgs.all("Org").map(|o| o.attr("name").unwrap()).collect();
    assert_eq!(names, vec!["beta"]);
    let q = carol
        .doc("/api/query?type=vApp&format=records&page=1")
        .await;
    assert_eq!(q.attr("total"), Some("0"));
    let cats = carol
        .doc("/api/query?type=catalog&format=idrecords&page=1")
        .await;
    assert_eq!(
        cats.attr("total"),
        Some("1"),
        "acme's published catalog is visible"
    );
    // the published catalog appears in beta's org and in System's
    let beta = carol.doc(&carol.org_href()).await;
    named_link(&beta, "application/vnd.vmware.vcloud.catalog+xml", "cse");
    let admin = sim.admin().await;
    let system = admin.doc(&admin.org_href()).await;
    named_link(&system, "application/vnd.vmware.vcloud.catalog+xml", "cse");
    // but carol cannot upload into it
    let cat_href = named_link(&beta, "application/vnd.vmware.vcloud.catalog+xml", "cse");
    let r = carol
        .post(
            &format!("{cat_href}/action/upload"),
            "application/vnd.vmware.vcloud.uploadVAppTemplateParams+xml",
            r#"<UploadVAppTemplateParams name="x"/>"#,
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "ACCESS_TO_RESOURCE_IS_FORBIDDEN");
    // the system administrator may
    assert_eq!(admin.get(&vapp_href).await.status, StatusCode::OK);
}

#[tokio::test]
async fn tenant_users_and_admin_endpoints() {
    let sim = start().await;
    let bob = sim.bob().await;
    let alice = sim.alice().await;
    // a plain tenant user cannot create catalogs; the org admin can
    let add = format!(
        "{}/catalogs",
        alice.org_href().replace("/api/org/", "/api/admin/org/")
    );
    let body = r#"<AdminCatalog xmlns="http://www.vmware.com/vcloud/v1.5" name="mine"><Description>d</Description></AdminCatalog>"#;
    assert_error(
        &bob.post(&add, "application/vnd.vmware.admin.catalog+xml", body)
            .await,
        StatusCode::FORBIDDEN,
        "ACCESS_TO_RESOURCE_IS_FORBIDDEN",
    );
    let r = alice
        .post(&add, "application/vnd.vmware.admin.catalog+xml", body)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let created = r.dom();
    alice
        .task_ok(
            created
                .child("Tasks")
                .unwrap()
                .child("Task")
                .unwrap()
                .attr("href")
                .unwrap(),
        )
        .await;
    assert!(created.child("CatalogItems").is_some());
    assert_error(
        &alice
            .post(&add, "application/vnd.vmware.admin.catalog+xml", body)
            .await,
        StatusCode::BAD_REQUEST,
        "DUPLICATE_NAME",
    );
    // bob's session has no admin links; admin URLs are refused for tenants
    assert!(
        find_link(
            &bob.session,
            "down",
            Some("application/vnd.vmware.admin.vcloud+xml")
        )
        .is_none()
    );
    assert!(
        find_link(
            &alice.session,
            "down",
            Some("application/vnd.vmware.admin.vmwExtension+xml")
        )
        .is_none()
    );
    for path in [
        "/api/admin/extension",
        "/api/admin/extension/service",
        "/api/admin/extension/settings/amqp",
        "/api/admin/extension/vimServerReferences",
    ] {
        assert_error(
            &alice.get(path).await,
            StatusCode::FORBIDDEN,
            "ACCESS_TO_RESOURCE_IS_FORBIDDEN",
        );
    }
    assert_error(
        &alice.get("/api/query?type=adminVApp&format=records").await,
        StatusCode::FORBIDDEN,
        "ACCESS_TO_RESOURCE_IS_FORBIDDEN",
    );
    // the query list offers admin types to the system administrator only
    let ql = alice.doc("/api/query").await;
    assert!(
        ql.all("Link")
            .all(|l| !l.attr("name").unwrap().starts_with("admin"))
    );
    let admin = sim.admin().await;
    let ql = admin.doc("/api/query").await;
    assert!(ql.all("Link").any(|l| l.attr("name") == Some("adminVApp")));
    assert!(
        ql.all("Link")
            .all(|l| l.attr("href").unwrap().contains('?'))
    );
}

#[tokio::test]
async fn sessions_versions_and_errors() {
    let sim = start().await;
    let http = &sim.http;
    let base = sim.base();
    // versions ignore Accept (pv20 sends ";version=32.0")
    let r = http
        .get(format!("{base}/api/versions"))
        .header("Accept", ";version=32.0")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    for v in ["29.0", "30.0", "31.0", "32.0"] {
        assert!(text.contains(&format!("<Version>{v}</Version>")));
    }
    // bad credentials: 401 Error
    let r = http
        .post(format!("{base}/api/sessions"))
        .basic_auth("alice@acme", Some("wrong"))
        .header("Accept", ACCEPT)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("minorErrorCode=\"UNAUTHORIZED\"")
    );
    // names are case-insensitive
    let s = sim.login("ACME", "Alice", "alice-pw").await;
    // rehydrate: GET /api/session returns the same token header
    let r = s.get("/api/session").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.headers
            .get("x-vcloud-authorization")
            .unwrap()
            .to_str()
            .unwrap(),
        s.token
    );
    assert!(r.headers.get("X-VMWARE-VCLOUD-REQUEST-ID").is_some());
    assert!(
        r.content_type()
            .starts_with("application/vnd.vmware.vcloud.session+xml;version=31.0")
    );
    // exactly one logged-in org link
    let orgs = r
        .dom()
        .all("Link")
        .filter(|l| l.attr("type") == Some("application/vnd.vmware.vcloud.org+xml"))
        .count();
    assert_eq!(orgs, 1);
    // unsupported version: 406
    let r = http
        .get(format!("{base}/api/session"))
        .header("Accept", "application/*+xml;version=5.1")
        .header("x-vcloud-authorization", &s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_ACCEPTABLE);
    // unknown route: 404 Error document
    assert_error(
        &s.get("/api/nothing/here").await,
        StatusCode::NOT_FOUND,
        "RESOURCE_NOT_FOUND",
    );
    // malformed body: 400
    let r = s
        .post(
            &format!(
                "{}/catalogs",
                s.org_href().replace("/api/org/", "/api/admin/org/")
            ),
            "application/vnd.vmware.admin.catalog+xml",
            "<oops",
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "BAD_REQUEST");
    // logout invalidates the token for every holder
    let r = s.delete("/api/session").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_error(
        &s.get("/api/org/").await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
    );
    // no token at all
    let r = http
        .get(format!("{base}/api/org/"))
        .header("Accept", ACCEPT)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}
