//! System-administrator surface: extension services and API filters (and
//! the routing of matching requests to an extension), service rights with
//! vCD's duplicate message, extension-owned tasks through an org's tasks
//! list, AMQP settings, vCenter registrations.

mod common;

use std::sync::Arc;

use common::*;
use futures::future::BoxFuture;
use parking_lot::Mutex;
use reqwest::StatusCode;
use vcd_sim::SimBuilder;
use vcd_sim::ext::{ExtensionTarget, ForwardedRequest, ForwardedResponse};
use vcd_sim::rest::ExtensionForwarder;

const SERVICE: &str = r#"<vmext:Service xmlns="http://www.vmware.com/vcloud/v1.5" xmlns:vmext="http://www.vmware.com/vcloud/extension/v1.5" name="cse">
  <vmext:Namespace>cse</vmext:Namespace><vmext:Enabled>true</vmext:Enabled><vmext:RoutingKey>cse</vmext:RoutingKey><vmext:Exchange>vcdext</vmext:Exchange>
  <vmext:ApiFilters><vmext:ApiFilter><vmext:UrlPattern>/api/cse</vmext:UrlPattern></vmext:ApiFilter>
  <vmext:ApiFilter><vmext:UrlPattern>/api/cse/.*</vmext:UrlPattern></vmext:ApiFilter></vmext:ApiFilters>
  <Description>CSE</Description></vmext:Service>"#;

#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<(ExtensionTarget, ForwardedRequest)>>,
}

impl ExtensionForwarder for Recorder {
    fn forward(
        &self,
        target: ExtensionTarget,
        req: ForwardedRequest,
    ) -> BoxFuture<'static, ForwardedResponse> {
        self.seen.lock().push((target, req));
        Box::pin(async {
            ForwardedResponse {
                status: 202,
                headers: vec![("Content-Type".into(), "application/json".into())],
                body: bytes::Bytes::from_static(br#"{"task_href": "x"}"#),
            }
        })
    }
}

#[tokio::test]
async fn extension_registration_and_routing() {
    let rec = Arc::new(Recorder::default());
    let sim = start_with(SimBuilder::new().extension_forwarder(rec.clone())).await;
    let admin = sim.admin().await;
    let alice = sim.alice().await;
    // before registration: not vCD's, 404 (406 for JSON Accept)
    let r = alice.get("/api/cse/clusters").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let ext = admin
        .doc(&Session::link(
            &admin.session,
            "down",
            Some("application/vnd.vmware.admin.vmwExtension+xml"),
        ))
        .await;
    let services = Session::link(
        &ext,
        "down",
        Some("application/vnd.vmware.admin.extensionServices+xml"),
    );
    let r = admin
        .post(
            &services,
            "application/vnd.vmware.admin.service+xml",
            SERVICE,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let svc = r.dom();
    let svc_href = svc.attr("href").unwrap().to_string();
    let svc_uuid = svc
        .attr("id")
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();
    // duplicate (name, namespace): 400
    assert_eq!(
        admin
            .post(
                &services,
                "application/vnd.vmware.admin.service+xml",
                SERVICE
            )
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    // CSE's lookups
    let q = admin.doc("/api/query?type=adminService&format=idrecords&page=1&filterEncoded=true&filter=name%3D%3Dcse%3Bnamespace%3D%3Dcse").await;
    let rec_el = q.child("AdminServiceRecord").unwrap();
    assert_eq!(rec_el.attr("enabled"), Some("true"));
    assert_eq!(rec_el.attr("exchange"), Some("vcdext"));
    assert_eq!(rec_el.attr("routingKey"), Some("cse"));
    let f = admin.doc(&format!("/api/query?type=apiFilter&format=idrecords&page=1&filterEncoded=true&filter=service%3D%3D{svc_uuid}")).await;
    let patterns: Vec<&str> = f
        .all("ApiFilterRecord")
        .map(|r| r.attr("urlPattern").unwrap())
        .collect();
    assert_eq!(patterns, vec!["/api/cse", "/api/cse/.*"]);

    // routed: the tenant's request goes to the extension with its security context
    let r = alice.get("/api/cse/clusters?x=1").await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    assert_eq!(r.text, r#"{"task_href": "x"}"#);
    {
        let seen = rec.seen.lock();
        let (target, req) = seen.last().unwrap();
        assert_eq!(
            (
                target.exchange.as_str(),
                target.routing_key.as_str(),
                target.name.as_str()
            ),
            ("vcdext", "cse", "cse")
        );
        assert_eq!(req.request_uri, "/api/cse/clusters");
        assert_eq!(req.query_string.as_deref(), Some("x=1"));
        assert!(
            req.headers
                .iter()
                .any(|(k, v)| k == "x-vcloud-authorization" && *v == alice.token)
        );
        assert!(req.headers.iter().any(|(k, _)| k == "Accept"));
        assert_eq!(req.security.org_name, "acme");
        assert_eq!(req.security.user_name, "alice");
        assert!(req.security.user_urn.starts_with("urn:vcloud:user:"));
        assert!(
            req.remote_addr
                .as_deref()
                .unwrap()
                .starts_with("127.0.0.1:")
        );
    }
    // unauthenticated: 401, not forwarded
    let n = rec.seen.lock().len();
    let r = sim
        .http
        .get(format!("{}/api/cse", sim.base()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(rec.seen.lock().len(), n);

    // disable (PUT without Content-Type, as pyvcloud does): routing stops
    let body = SERVICE.replace(
        "<vmext:Enabled>true</vmext:Enabled>",
        "<vmext:Enabled>false</vmext:Enabled>",
    );
    let r = admin
        .http
        .put(&svc_href)
        .header("Accept", ACCEPT)
        .header("x-vcloud-authorization", &admin.token)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        alice.get("/api/cse/clusters").await.status,
        StatusCode::NOT_FOUND
    );

    // rights: the second registration fails with vCD's exact text
    let svc_doc = admin.doc(&svc_href).await;
    let rights = admin
        .doc(&Session::link(
            &svc_doc,
            "rights",
            Some("application/vnd.vmware.admin.rights+xml"),
        ))
        .await;
    let add = Session::link(
        &rights,
        "add",
        Some("application/vnd.vmware.admin.right+xml"),
    );
    let right = r#"<Right xmlns="http://www.vmware.com/vcloud/v1.5" name="CSE NATIVE DEPLOY RIGHT"><Description>Right necessary to deploy kubernetes cluster via vCD apis in CSE</Description><Category>cseRight</Category><BundleKey>cseBundleKey</BundleKey></Right>"#;
    let r = admin
        .post(&add, "application/vnd.vmware.admin.right+xml", right)
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.dom().attr("name"), Some("{cse}:CSE NATIVE DEPLOY RIGHT"));
    let r = admin
        .post(&add, "application/vnd.vmware.admin.right+xml", right)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.dom()
            .attr("message")
            .unwrap()
            .contains(r#"Right with name "{cse}:CSE NATIVE DEPLOY RIGHT" already exists"#)
    );

    // delete: enabled services cannot be deleted; disabled can
    let r = admin
        .delete(&format!("{svc_href}?force=False&recursive=False"))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert!(sim.handle.state().extension_services().is_empty());
}

#[tokio::test]
async fn without_a_forwarder_vcd_cannot_publish() {
    let sim = start().await;
    let admin = sim.admin().await;
    let r = admin
        .post(
            "/api/admin/extension/service",
            "application/vnd.vmware.admin.service+xml",
            SERVICE,
        )
        .await;
    let urn = r.dom().attr("id").unwrap().to_string();
    let r = sim.alice().await.get("/api/cse").await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        r.dom()
            .attr("message")
            .unwrap()
            .contains(&format!("Cannot send message to service with id: {urn}"))
    );
}

#[tokio::test]
async fn extension_tasks_through_the_tasks_list() {
    let sim = start().await;
    let admin = sim.admin().await;
    let alice = sim.alice().await;
    let tasks_list = tasks_list_of(&admin, &alice).await;
    let user_id = alice.session.attr("userId").unwrap();
    let body = |status: &str, error: &str| {
        format!(
            r#"<Task xmlns="http://www.vmware.com/vcloud/v1.5" status="{status}" serviceNamespace="vcloud.cse" type="application/vnd.vmware.vcloud.task+xml" operation="Creating cluster c1(abc)" operationName="create_cluster" name="task">
  <Owner href="urn:cse:cluster:abc" name="c1" type="application/vcloud.cse.cluster+xml"/>{error}
  <User href="{user_id}" name="alice" type="application/vnd.vmware.admin.user+xml"/><Details></Details></Task>"#
        )
    };
    // tenants may not create extension tasks
    assert_eq!(
        alice
            .post(
                &tasks_list,
                "application/vnd.vmware.vcloud.task+xml",
                body("running", "")
            )
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let r = admin
        .post(
            &tasks_list,
            "application/vnd.vmware.vcloud.task+xml",
            body("running", ""),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let task_href = r.dom().attr("href").unwrap().to_string();
    // the tenant polls it
    let t = alice.doc(&task_href).await;
    assert_eq!(t.attr("status"), Some("running"));
    assert_eq!(
        t.child("Owner").unwrap().attr("href"),
        Some("urn:cse:cluster:abc")
    );
    assert_eq!(t.child("Organization").unwrap().attr("name"), Some("acme"));
    // reserved namespace refused
    let bad = body("running", "").replace("vcloud.cse", "com.vmware.vcloud.x");
    assert_eq!(
        admin
            .post(&tasks_list, "application/vnd.vmware.vcloud.task+xml", bad)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    // update to error with an Error child
    let err = r#"<Error stackTrace="" majorErrorCode="500" message="boom" minorErrorCode="INTERNAL_SERVER_ERROR"/>"#;
    let r = admin
        .put(
            &task_href,
            "application/vnd.vmware.vcloud.task+xml",
            body("error", err),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let t = alice.doc(&task_href).await;
    assert_eq!(t.attr("status"), Some("error"));
    assert!(t.attr("endTime").is_some());
    assert_eq!(t.child("Error").unwrap().attr("message"), Some("boom"));
    // tenants cannot update it; another org cannot see it
    assert_eq!(
        alice
            .put(
                &task_href,
                "application/vnd.vmware.vcloud.task+xml",
                body("success", "")
            )
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        sim.carol().await.get(&task_href).await.status,
        StatusCode::FORBIDDEN
    );
    let list = alice.doc(&tasks_list).await;
    assert_eq!(list.all("Task").count(), 1);
}

#[tokio::test]
async fn amqp_settings_and_vcenters() {
    let sim = start().await;
    let admin = sim.admin().await;
    let amqp = admin.doc("/api/admin/extension/settings/amqp").await;
    let names: Vec<&str> = amqp.children.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "AmqpHost",
            "AmqpPort",
            "AmqpUsername",
            "AmqpExchange",
            "AmqpVHost",
            "AmqpUseSSL",
            "AmqpSslAcceptAll",
            "AmqpPrefix"
        ],
        "exactly the eight children CSE compares"
    );
    let attrs: Vec<&str> = amqp.attrs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(attrs, vec!["href", "type"]);
    let put = r#"<vmext:AmqpSettings xmlns:vmext="http://www.vmware.com/vcloud/extension/v1.5"><vmext:AmqpHost>127.0.0.1</vmext:AmqpHost><vmext:AmqpPort>5673</vmext:AmqpPort><vmext:AmqpUsername>guest</vmext:AmqpUsername><vmext:AmqpPassword>guest</vmext:AmqpPassword><vmext:AmqpExchange>cse-ext</vmext:AmqpExchange><vmext:AmqpVHost>/</vmext:AmqpVHost><vmext:AmqpUseSSL>false</vmext:AmqpUseSSL><vmext:AmqpSslAcceptAll>false</vmext:AmqpSslAcceptAll><vmext:AmqpPrefix>vcd</vmext:AmqpPrefix></vmext:AmqpSettings>"#;
    let r = admin
        .put(
            "/api/admin/extension/settings/amqp",
            "application/vnd.vmware.admin.amqpSettings+xml",
            put,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.dom().child_text("AmqpExchange"), Some("cse-ext"));
    assert!(
        !r.text.contains("guest</vmext:AmqpPassword"),
        "the password is never shown"
    );
    // test against a port nobody listens on: Valid=false
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let r = admin
        .post(
            "/api/admin/extension/settings/amqp/action/test",
            "application/vnd.vmware.admin.amqpSettings+xml",
            put.replace("5673", &port.to_string()),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.dom().child_text("Valid"), Some("false"));
    // an open port with the right password: Valid=true
    let open = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = open.local_addr().unwrap().port();
    let r = admin
        .post(
            "/api/admin/extension/settings/amqp/action/test",
            "application/vnd.vmware.admin.amqpSettings+xml",
            put.replace("5673", &port.to_string()),
        )
        .await;
    assert_eq!(r.dom().child_text("Valid"), Some("true"));

    let refs = admin.doc("/api/admin/extension/vimServerReferences").await;
    let vc = refs.child("VimServerReference").unwrap();
    assert_eq!(vc.attr("name"), Some("vc1"));
    let server = admin.doc(vc.attr("href").unwrap()).await;
    assert_eq!(
        server.child_text("Url"),
        Some(sim.handle.vcenter_url.as_str())
    );
    assert!(
        url::Url::parse(server.child_text("Url").unwrap())
            .unwrap()
            .port()
            .is_some(),
        "explicit port"
    );
    assert_eq!(
        server.child_text("Username"),
        Some("administrator@vsphere.local")
    );
}

#[tokio::test]
async fn separate_vcenter_listener_is_what_vcd_shows() {
    let router = axum::Router::new().route("/sdk", axum::routing::get(|| async { "vcenter" }));
    let sim = start_with(
        SimBuilder::new()
            .vcenter_bind("127.0.0.1:0".parse().unwrap())
            .vcenter_routes(router),
    )
    .await;
    let admin = sim.admin().await;
    let refs = admin.doc("/api/admin/extension/vimServerReferences").await;
    let server = admin
        .doc(
            refs.child("VimServerReference")
                .unwrap()
                .attr("href")
                .unwrap(),
        )
        .await;
    let url = server.child_text("Url").unwrap().to_string();
    assert_eq!(url, sim.handle.vcenter_url);
    assert_ne!(url, sim.handle.base_url);
    let body = sim
        .http
        .get(format!("{url}/sdk"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "vcenter");
    sim.handle.shutdown().await;
}

/// POST-CancelTask on a running task of vCD's own: 204, the task ends
/// `canceled` with `cancelRequested="true"` and no cancel link, its work is
/// not done and its owner is free again; a finished task is refused (400).
#[tokio::test]
async fn canceling_a_running_task_ends_it_and_a_finished_one_is_refused() {
    let sim = start().await;
    let alice = sim.alice().await;
    let vapp_href = running_vapp(&alice, "cancel-me").await;
    sim.handle.state().hold_tasks("vappPowerOff", 1);
    let vapp = alice.doc(&vapp_href).await;
    let r = alice
        .post(
            &Session::link(&vapp, "power:powerOff", None),
            "application/xml",
            "",
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let task_href = r.dom().attr("href").unwrap().to_string();
    let task = alice.doc(&task_href).await;
    assert_eq!(task.attr("status"), Some("running"));
    assert_eq!(task.attr("cancelRequested"), Some("false"));
    let cancel = Session::link(&task, "task:cancel", None);
    assert_eq!(cancel, format!("{task_href}/action/cancel"));
    let vapp = alice.doc(&vapp_href).await;
    assert!(
        vapp.child("Tasks").is_some(),
        "the vApp lists its running task"
    );

    let r = alice.post(&cancel, "application/xml", "").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert!(r.text.is_empty(), "{}", r.text);
    let task = alice.doc(&task_href).await;
    assert_eq!(task.name, "Task");
    assert_eq!(task.attr("status"), Some("canceled"));
    assert_eq!(task.attr("cancelRequested"), Some("true"));
    assert!(task.attr("endTime").is_some());
    assert!(find_link(&task, "task:cancel", None).is_none());
    let vapp = alice.doc(&vapp_href).await;
    assert_eq!(vapp.attr("status"), Some("4"), "the power-off was not done");
    assert!(vapp.child("Tasks").is_none(), "the vApp is no longer busy");
    let r = alice
        .post(
            &Session::link(&vapp, "power:powerOff", None),
            "application/xml",
            "",
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let done = alice.task_ok(r.dom().attr("href").unwrap()).await;
    assert_eq!(alice.doc(&vapp_href).await.attr("status"), Some("8"));

    // finished tasks (canceled or succeeded) cannot be canceled
    for finished in [task_href.clone(), done.attr("href").unwrap().to_string()] {
        let r = alice
            .post(&format!("{finished}/action/cancel"), "application/xml", "")
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        let err = r.dom();
        assert_eq!(err.name, "Error");
        assert_eq!(err.attr("majorErrorCode"), Some("400"));
        assert_eq!(err.attr("minorErrorCode"), Some("BAD_REQUEST"));
        assert!(
            err.attr("message").unwrap().contains("cannot be canceled"),
            "{}",
            r.text
        );
    }
    let done = alice.doc(done.attr("href").unwrap()).await;
    assert_eq!(done.attr("status"), Some("success"));
    assert_eq!(done.attr("cancelRequested"), Some("false"));
    // another org's users cannot cancel
    let r = sim
        .carol()
        .await
        .post(&format!("{task_href}/action/cancel"), "application/xml", "")
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
}

/// POST-CancelTask on an extension's task: 204 and `cancelRequested="true"`;
/// the task keeps running until the extension ends it (`PUT` with status
/// `canceled`), after which a cancel is refused.
#[tokio::test]
async fn canceling_an_extension_task_asks_the_extension_to_end_it() {
    let sim = start().await;
    let admin = sim.admin().await;
    let alice = sim.alice().await;
    let tasks_list = tasks_list_of(&admin, &alice).await;
    let body = |status: &str| {
        format!(
            r#"<Task xmlns="http://www.vmware.com/vcloud/v1.5" status="{status}" serviceNamespace="vcloud.cse" type="application/vnd.vmware.vcloud.task+xml" operation="Creating cluster c1(abc)" operationName="create_cluster" name="task">
  <Owner href="urn:cse:cluster:abc" name="c1" type="application/vcloud.cse.cluster+xml"/><Details></Details></Task>"#
        )
    };
    let r = admin
        .post(
            &tasks_list,
            "application/vnd.vmware.vcloud.task+xml",
            body("running"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let task_href = r.dom().attr("href").unwrap().to_string();

    let r = alice
        .post(&format!("{task_href}/action/cancel"), "application/xml", "")
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let task = alice.doc(&task_href).await;
    assert_eq!(
        task.attr("status"),
        Some("running"),
        "the extension ends it"
    );
    assert_eq!(task.attr("cancelRequested"), Some("true"));
    assert!(task.attr("endTime").is_none());

    let r = admin
        .put(
            &task_href,
            "application/vnd.vmware.vcloud.task+xml",
            body("canceled"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let task = alice.doc(&task_href).await;
    assert_eq!(task.attr("status"), Some("canceled"));
    assert!(task.attr("endTime").is_some());
    let r = alice
        .post(&format!("{task_href}/action/cancel"), "application/xml", "")
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.dom().name, "Error");
}

#[tokio::test]
async fn ended_tasks_past_their_expiry_are_destroyed_and_running_ones_stay() {
    let sim = start().await;
    // Every task expires at its start; ended ones go at the next pass (one
    // per 256 new tasks), as vCD destroys tasks past their expiryTime.
    sim.handle
        .state()
        .set_task_lifetime(std::time::Duration::ZERO);
    let admin = sim.admin().await;
    let alice = sim.alice().await;
    let tasks_list = tasks_list_of(&admin, &alice).await;
    let body = |status: &str| {
        format!(
            r#"<Task xmlns="http://www.vmware.com/vcloud/v1.5" status="{status}" serviceNamespace="vcloud.cse" operation="op" operationName="op" name="task"/>"#
        )
    };
    let create = |status: &'static str| {
        let (admin, tasks_list, body) = (admin.clone(), tasks_list.clone(), body(status));
        async move {
            let r = admin
                .post(&tasks_list, "application/vnd.vmware.vcloud.task+xml", body)
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            r.dom().attr("href").unwrap().to_string()
        }
    };
    let tasks_now = || sim.handle.state().read().tasks.len();
    let before = tasks_now();
    let running = create("running").await;
    let ended = create("success").await;
    assert_eq!(alice.get(&ended).await.status, StatusCode::OK);
    let mut made = 2;
    while tasks_now() > before + 1 {
        assert!(made <= 256, "a pass came within 256 new tasks");
        create("success").await;
        made += 1;
    }
    // Only the running task is left of them; the ended one reads as a task
    // that does not exist.
    assert_eq!(alice.get(&ended).await.status, StatusCode::FORBIDDEN);
    assert_eq!(alice.doc(&running).await.attr("status"), Some("running"));
    let r = admin
        .put(
            &running,
            "application/vnd.vmware.vcloud.task+xml",
            body("success"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    for _ in 0..256 {
        create("success").await;
    }
    assert_eq!(alice.get(&running).await.status, StatusCode::FORBIDDEN);
    assert!(tasks_now() < before + 256, "{} tasks", tasks_now());
}

/// The href of `user`'s org tasks list, as the system administrator reads it.
async fn tasks_list_of(admin: &Session, user: &Session) -> String {
    let org = admin.doc(&user.org_href()).await;
    Session::link(
        &org,
        "down",
        Some("application/vnd.vmware.vcloud.tasksList+xml"),
    )
}
