//! The simulated vCenter's SOAP surface, request by request: golden
//! envelopes for every response shape, sessions and cookies, the property
//! reads (RetrievePropertiesEx, RetrieveProperties, Fetch), every guest
//! operation, the precondition order, faults, transfers and injections.

mod vsphere_support;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util_shim::collect;
use tower::ServiceExt;
use vcd_sim::faults::FaultRule;
use vcd_sim::guest_api::{PowerState, ToolsRunningStatus};
use vcd_sim::vsphere::{
    InjectedFault, TRANSFER_GET, VCenterConfig, VCenterSim, VimFault, VimMatch,
};
use vsphere_support::{FakeGuests, ROOT_PASSWORD, VC_PASSWORD, VC_USER, vcenter};

/// Reads a body without another dependency.
mod http_body_util_shim {
    pub async fn collect(body: axum::body::Body) -> Vec<u8> {
        axum::body::to_bytes(body, usize::MAX)
            .await
            .expect("body")
            .to_vec()
    }
}

const HOST: &str = "vc.sim.test:8443";

struct Reply {
    status: StatusCode,
    set_cookie: Option<String>,
    body: String,
}

async fn send(app: &Router, cookie: Option<&str>, body: String) -> Reply {
    let mut request = Request::post("/sdk")
        .header(header::HOST, HOST)
        .header(header::CONTENT_TYPE, "text/xml; charset=UTF-8")
        .header("SOAPAction", "\"urn:vim25/6.7.1\"");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::from(body)).expect("request"))
        .await
        .expect("response");
    let status = response.status();
    let set_cookie = response
        .headers()
        .get(header::SET_COOKIE)
        .map(|v| v.to_str().expect("ascii cookie").to_owned());
    let content_type = response.headers().get(header::CONTENT_TYPE).cloned();
    let body = String::from_utf8(collect(response.into_body()).await).expect("utf-8 body");
    assert_eq!(
        content_type.as_ref().and_then(|v| v.to_str().ok()),
        Some("text/xml; charset=utf-8")
    );
    Reply {
        status,
        set_cookie,
        body,
    }
}

/// A request shaped like pyVmomi's (default namespace, `versionId` attributes).
fn envelope(method: &str, this_type: &str, this_id: &str, params: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<soapenv:Body><{method} xmlns="urn:vim25"><_this versionId="6.7.1" type="{this_type}">{this_id}</_this>{params}</{method}></soapenv:Body></soapenv:Envelope>"#
    )
}

fn auth(password: &str) -> String {
    format!(
        r#"<vm type="VirtualMachine">vm-42</vm><auth xsi:type="NamePasswordAuthentication"><interactiveSession>false</interactiveSession><username>root</username><password>{password}</password></auth>"#
    )
}

fn auth_for(vm: &str, password: &str) -> String {
    auth(password).replace("vm-42", vm)
}

/// Masks what changes from run to run (keys, times, tokens).
fn stable(body: &str) -> String {
    let uuid =
        regex::Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").unwrap();
    let time = regex::Regex::new(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z").unwrap();
    let token = regex::Regex::new(r"token=[0-9a-f]{32}").unwrap();
    let body = uuid.replace_all(body, "[uuid]");
    let body = time.replace_all(&body, "[time]");
    token.replace_all(&body, "token=[token]").into_owned()
}

struct Fixture {
    guests: Arc<FakeGuests>,
    sim: VCenterSim,
    app: Router,
    cookie: String,
}

async fn logged_in() -> Fixture {
    let guests = FakeGuests::with_ready_vm();
    let sim = vcenter(guests.clone());
    let app = sim.router();
    let reply = send(&app, None, login(VC_USER, VC_PASSWORD)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let cookie = reply.set_cookie.expect("Login sets the session cookie");
    Fixture {
        guests,
        sim,
        app,
        cookie,
    }
}

fn login(user: &str, password: &str) -> String {
    envelope(
        "Login",
        "SessionManager",
        "SessionManager",
        &format!("<userName>{user}</userName><password>{password}</password>"),
    )
}

impl Fixture {
    async fn call(&self, method: &str, this: (&str, &str), params: &str) -> Reply {
        send(
            &self.app,
            Some(&self.cookie),
            envelope(method, this.0, this.1, params),
        )
        .await
    }

    async fn guest_call(&self, method: &str, params: &str) -> Reply {
        let this = match method {
            "StartProgramInGuest" | "ListProcessesInGuest" | "TerminateProcessInGuest" => {
                ("GuestProcessManager", "guestOperationsProcessManager")
            }
            "ValidateCredentialsInGuest" => ("GuestAuthManager", "guestOperationsAuthManager"),
            _ => ("GuestFileManager", "guestOperationsFileManager"),
        };
        self.call(method, this, params).await
    }

    async fn http(&self, method: &str, url: &str, body: Vec<u8>) -> (StatusCode, Vec<u8>) {
        let path = url.split_once(HOST).map_or(url, |(_, p)| p);
        let response = self
            .app
            .clone()
            .oneshot(
                Request::builder()
                    .method(method)
                    .uri(path)
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await
            .unwrap();
        let status = response.status();
        (status, collect(response.into_body()).await)
    }
}

/// The fault type name of a fault envelope (from its `detail`).
fn fault_type(reply: &Reply) -> String {
    assert_eq!(
        reply.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{}",
        reply.body
    );
    let re = regex::Regex::new(r#"<(\w+)Fault xmlns="urn:vim25" xsi:type="(\w+)""#).unwrap();
    let caps = re.captures(&reply.body).expect("fault detail");
    assert_eq!(&caps[1], &caps[2]);
    caps[2].to_owned()
}

fn returnval_text(reply: &Reply) -> String {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let re = regex::Regex::new(r"<returnval[^>]*>([^<]*)</returnval>").unwrap();
    let text = re.captures(&reply.body).expect("returnval")[1].to_owned();
    text.replace("&amp;", "&")
}

#[tokio::test]
async fn version_document_lists_6_7_1_and_prior_versions() {
    let app = vcenter(FakeGuests::with_ready_vm()).router();
    let response = app
        .oneshot(
            Request::get("/sdk/vimServiceVersions.xml")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = String::from_utf8(collect(response.into_body()).await).unwrap();
    insta::assert_snapshot!(body);
}

#[tokio::test]
async fn service_content_needs_no_session() {
    let app = vcenter(FakeGuests::with_ready_vm()).router();
    let reply = send(
        &app,
        None,
        envelope(
            "RetrieveServiceContent",
            "ServiceInstance",
            "ServiceInstance",
            "",
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    insta::assert_snapshot!(reply.body);
}

#[tokio::test]
async fn login_returns_a_user_session_and_a_quoted_cookie() {
    let guests = FakeGuests::with_ready_vm();
    let sim = vcenter(guests);
    let app = sim.router();
    let reply = send(&app, None, login(VC_USER, VC_PASSWORD)).await;
    let cookie = reply.set_cookie.clone().unwrap();
    let re =
        regex::Regex::new(r#"^vmware_soap_session="[0-9a-f-]{36}"; Path=/; HttpOnly; Secure;$"#)
            .unwrap();
    assert!(re.is_match(&cookie), "{cookie}");
    insta::assert_snapshot!(stable(&reply.body));
    assert_eq!(sim.live_sessions(), 1);

    // pyVmomi echoes the whole Set-Cookie value back.
    let current = envelope(
        "Fetch",
        "SessionManager",
        "SessionManager",
        "<prop>currentSession</prop>",
    );
    let reply = send(&app, Some(&cookie), current.clone()).await;
    assert!(
        reply
            .body
            .contains(&format!("<userName>{VC_USER}</userName>")),
        "{}",
        reply.body
    );
    assert!(
        reply.body.contains("<callCount>1</callCount>"),
        "{}",
        reply.body
    );

    // Without a session the probe reads "unset" instead of failing.
    let reply = send(&app, None, current).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply
            .body
            .contains(r#"<FetchResponse xmlns="urn:vim25"></FetchResponse>"#),
        "{}",
        reply.body
    );

    let reply = send(
        &app,
        Some(&cookie),
        envelope("Logout", "SessionManager", "SessionManager", ""),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply
            .body
            .contains(r#"<LogoutResponse xmlns="urn:vim25"></LogoutResponse>"#)
    );
    assert_eq!(sim.live_sessions(), 0);
    let reply = send(
        &app,
        Some(&cookie),
        envelope("Logout", "SessionManager", "SessionManager", ""),
    )
    .await;
    assert_eq!(fault_type(&reply), "NotAuthenticated");
}

/// SessionManager.SessionIsActive: `true` for a live session of the named
/// user, `false` for another user's name, an unknown key or a logged-out
/// session; a caller without a live session gets `NotAuthenticated`.
#[tokio::test]
async fn session_is_active_tells_live_sessions_from_logged_out_ones() {
    let fx = logged_in().await;
    let key = regex::Regex::new(r#"vmware_soap_session="([0-9a-f-]{36})""#)
        .unwrap()
        .captures(&fx.cookie)
        .expect("session key in the cookie")[1]
        .to_owned();
    let is_active =
        |key: &str, user: &str| format!("<sessionID>{key}</sessionID><userName>{user}</userName>");
    let manager = ("SessionManager", "SessionManager");

    let reply = fx
        .call("SessionIsActive", manager, &is_active(&key, VC_USER))
        .await;
    assert_eq!(returnval_text(&reply), "true");
    assert!(
        reply
            .body
            .contains(r#"<SessionIsActiveResponse xmlns="urn:vim25">"#),
        "{}",
        reply.body
    );
    insta::assert_snapshot!(stable(&reply.body));
    let reply = fx
        .call("SessionIsActive", manager, &is_active(&key, "someone-else"))
        .await;
    assert_eq!(returnval_text(&reply), "false");
    let reply = fx
        .call(
            "SessionIsActive",
            manager,
            &is_active("00000000-0000-0000-0000-000000000000", VC_USER),
        )
        .await;
    assert_eq!(returnval_text(&reply), "false");

    // a second session asks about the first once it has logged out
    let other = send(&fx.app, None, login(VC_USER, VC_PASSWORD)).await;
    let other_cookie = other.set_cookie.expect("second session");
    let reply = fx.call("Logout", manager, "").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let ask = envelope(
        "SessionIsActive",
        manager.0,
        manager.1,
        &is_active(&key, VC_USER),
    );
    let reply = send(&fx.app, Some(&other_cookie), ask.clone()).await;
    assert_eq!(returnval_text(&reply), "false");
    // the logged-out session itself may no longer ask
    let reply = send(&fx.app, Some(&fx.cookie), ask.clone()).await;
    assert_eq!(fault_type(&reply), "NotAuthenticated");
    let reply = send(&fx.app, None, ask).await;
    assert_eq!(fault_type(&reply), "NotAuthenticated");
    // a request without a sessionID is refused, not answered
    let reply = send(
        &fx.app,
        Some(&other_cookie),
        envelope(
            "SessionIsActive",
            manager.0,
            manager.1,
            &format!("<userName>{VC_USER}</userName>"),
        ),
    )
    .await;
    assert_eq!(fault_type(&reply), "InvalidRequest");
}

#[tokio::test]
async fn wrong_credentials_are_an_invalid_login() {
    let app = vcenter(FakeGuests::with_ready_vm()).router();
    for (user, password) in [(VC_USER, "nope"), ("someone", VC_PASSWORD), ("", "")] {
        let reply = send(&app, None, login(user, password)).await;
        assert_eq!(fault_type(&reply), "InvalidLogin");
        assert!(reply.set_cookie.is_none());
    }
    let reply = send(&app, None, login(VC_USER, "nope")).await;
    insta::assert_snapshot!(reply.body);
}

#[tokio::test]
async fn calls_without_a_live_session_are_not_authenticated() {
    let fx = logged_in().await;
    let list = envelope(
        "ListProcessesInGuest",
        "GuestProcessManager",
        "guestOperationsProcessManager",
        &auth(ROOT_PASSWORD),
    );
    let reply = send(&fx.app, None, list.clone()).await;
    assert_eq!(fault_type(&reply), "NotAuthenticated");
    insta::assert_snapshot!(reply.body);
    let reply = send(
        &fx.app,
        Some("vmware_soap_session=\"made-up\""),
        list.clone(),
    )
    .await;
    assert_eq!(fault_type(&reply), "NotAuthenticated");
    let guest = envelope("Fetch", "VirtualMachine", "vm-42", "<prop>guest</prop>");
    assert_eq!(
        fault_type(&send(&fx.app, None, guest).await),
        "NotAuthenticated"
    );
    let reply = send(&fx.app, Some(&fx.cookie), list).await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn idle_sessions_expire() {
    let mut config = VCenterConfig::new("vc1").with_user(VC_USER, VC_PASSWORD);
    config.session_idle_timeout = Duration::from_millis(50);
    let sim = VCenterSim::new(config, FakeGuests::with_ready_vm());
    let app = sim.router();
    let cookie = send(&app, None, login(VC_USER, VC_PASSWORD))
        .await
        .set_cookie
        .unwrap();
    tokio::time::sleep(Duration::from_millis(120)).await;
    let reply = send(
        &app,
        Some(&cookie),
        envelope("CurrentTime", "ServiceInstance", "ServiceInstance", ""),
    )
    .await;
    assert_eq!(fault_type(&reply), "NotAuthenticated");
    assert_eq!(sim.live_sessions(), 0);
}

#[tokio::test]
async fn retrieve_properties_ex_returns_guest_info_with_xsi_types() {
    let fx = logged_in().await;
    let spec = r#"<specSet><propSet><type>VirtualMachine</type><all>false</all><pathSet>guest</pathSet></propSet><objectSet><obj type="VirtualMachine">vm-42</obj><skip>false</skip></objectSet></specSet><options><maxObjects>1</maxObjects></options>"#;
    let reply = fx
        .call(
            "RetrievePropertiesEx",
            ("PropertyCollector", "propertyCollector"),
            spec,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    insta::assert_snapshot!(reply.body);
}

#[tokio::test]
async fn dotted_paths_come_back_as_primitives_and_unset_ones_are_left_out() {
    let fx = logged_in().await;
    fx.guests.update("vm-42", |vm| vm.info.ip_address = None);
    let paths = [
        "runtime.powerState",
        "guest.toolsRunningStatus",
        "guest.guestOperationsReady",
        "guest.ipAddress",
        "name",
        "config.instanceUuid",
    ]
    .map(|p| format!("<pathSet>{p}</pathSet>"))
    .concat();
    let spec = format!(
        r#"<specSet><propSet><type>VirtualMachine</type>{paths}</propSet><objectSet><obj type="VirtualMachine">vm-42</obj></objectSet></specSet><options></options>"#
    );
    let reply = fx
        .call(
            "RetrievePropertiesEx",
            ("PropertyCollector", "propertyCollector"),
            &spec,
        )
        .await;
    assert!(
        !reply.body.contains("guest.ipAddress"),
        "unset → no propSet"
    );
    let expected_uuid =
        vcd_sim::vsphere::vm_uuid(&fx.sim.config().instance_uuid, "vm-42", "instance");
    assert!(reply.body.contains(&expected_uuid));
    insta::assert_snapshot!(stable(&reply.body));
}

#[tokio::test]
async fn retrieve_properties_lists_vms_through_a_container_view() {
    let fx = logged_in().await;
    fx.guests.add_vm("vm-43", "node-cd34", None);
    let reply = fx
        .call(
            "CreateContainerView",
            ("ViewManager", "ViewManager"),
            r#"<container type="Folder">group-d1</container><type>VirtualMachine</type><recursive>true</recursive>"#,
        )
        .await;
    let view = returnval_text(&reply);
    assert!(reply.body.contains(r#"<returnval type="ContainerView">"#));
    let spec = format!(
        r#"<specSet><propSet><type>VirtualMachine</type><pathSet>name</pathSet><pathSet>runtime.powerState</pathSet></propSet><objectSet><obj type="ContainerView">{view}</obj><skip>true</skip><selectSet xsi:type="TraversalSpec"><name>traverseEntities</name><type>ContainerView</type><path>view</path><skip>false</skip></selectSet></objectSet></specSet>"#
    );
    let reply = fx
        .call(
            "RetrieveProperties",
            ("PropertyCollector", "propertyCollector"),
            &spec,
        )
        .await;
    insta::assert_snapshot!(reply.body);
    let reply = fx
        .call("Fetch", ("ContainerView", &view), "<prop>view</prop>")
        .await;
    assert!(reply.body.contains(r#"<returnval type="VirtualMachine">vm-42</returnval><returnval type="VirtualMachine">vm-43</returnval>"#), "{}", reply.body);
    let reply = fx
        .call(
            "Fetch",
            ("ViewManager", "ViewManager"),
            "<prop>viewList</prop>",
        )
        .await;
    assert!(reply.body.contains(&format!(
        r#"<returnval type="ContainerView">{view}</returnval>"#
    )));
    let reply = fx.call("DestroyView", ("ContainerView", &view), "").await;
    assert_eq!(reply.status, StatusCode::OK);
    let reply = fx
        .call("Fetch", ("ContainerView", &view), "<prop>view</prop>")
        .await;
    assert_eq!(fault_type(&reply), "ManagedObjectNotFound");

    // Views die with the session that made them.
    let create = r#"<container type="Folder">group-d1</container><recursive>true</recursive>"#;
    let view = returnval_text(
        &fx.call(
            "CreateContainerView",
            ("ViewManager", "ViewManager"),
            create,
        )
        .await,
    );
    fx.call("Logout", ("SessionManager", "SessionManager"), "")
        .await;
    let cookie = send(&fx.app, None, login(VC_USER, VC_PASSWORD))
        .await
        .set_cookie
        .unwrap();
    let fetch = envelope("Fetch", "ContainerView", &view, "<prop>view</prop>");
    assert_eq!(
        fault_type(&send(&fx.app, Some(&cookie), fetch).await),
        "ManagedObjectNotFound"
    );
}

#[tokio::test]
async fn fetch_reads_data_objects_references_and_service_content() {
    let fx = logged_in().await;
    let reply = fx
        .call(
            "Fetch",
            ("VirtualMachine", "vm-42"),
            "<prop versionId=\"6.7.1\">guest</prop>",
        )
        .await;
    insta::assert_snapshot!("fetch_guest", reply.body);
    let reply = fx
        .call(
            "Fetch",
            ("GuestOperationsManager", "guestOperationsManager"),
            "<prop>processManager</prop>",
        )
        .await;
    assert!(reply.body.contains(r#"<returnval type="GuestProcessManager" xsi:type="ManagedObjectReference">guestOperationsProcessManager</returnval>"#), "{}", reply.body);
    let reply = fx
        .call(
            "Fetch",
            ("VirtualMachine", "vm-42"),
            "<prop>runtime.powerState</prop>",
        )
        .await;
    assert!(
        reply
            .body
            .contains(r#"<returnval xsi:type="VirtualMachinePowerState">poweredOn</returnval>"#)
    );
    let reply = fx
        .call(
            "Fetch",
            ("ServiceInstance", "ServiceInstance"),
            "<prop>content</prop>",
        )
        .await;
    assert!(reply.body.contains(
        r#"<returnval xsi:type="ServiceContent"><rootFolder type="Folder">group-d1</rootFolder>"#
    ));
    let reply = fx
        .call("Fetch", ("VirtualMachine", "vm-42"), "<prop>runtime</prop>")
        .await;
    insta::assert_snapshot!("fetch_runtime", reply.body);
    let reply = fx
        .call("Fetch", ("VirtualMachine", "vm-42"), "<prop>summary</prop>")
        .await;
    insta::assert_snapshot!("fetch_summary", stable(&reply.body));
}

#[tokio::test]
async fn bad_objects_and_properties_fault() {
    let fx = logged_in().await;
    let reply = fx
        .call("Fetch", ("VirtualMachine", "vm-9"), "<prop>guest</prop>")
        .await;
    assert_eq!(fault_type(&reply), "ManagedObjectNotFound");
    insta::assert_snapshot!("managed_object_not_found", reply.body);
    let reply = fx
        .call(
            "Fetch",
            ("VirtualMachine", "vm-42"),
            "<prop>guest.bogus</prop>",
        )
        .await;
    assert_eq!(fault_type(&reply), "InvalidProperty");
    assert!(reply.body.contains("<name>guest.bogus</name>"));
    let reply = fx
        .call(
            "Fetch",
            ("VirtualMachine", "vm-42"),
            "<prop>name.more</prop>",
        )
        .await;
    assert_eq!(fault_type(&reply), "InvalidProperty");
    let reply = fx
        .call("Fetch", ("Datastore", "datastore-1"), "<prop>name</prop>")
        .await;
    assert_eq!(fault_type(&reply), "ManagedObjectNotFound");
    let reply = fx
        .call(
            "StartProgramInGuest",
            ("PropertyCollector", "propertyCollector"),
            "",
        )
        .await;
    assert_eq!(fault_type(&reply), "MethodNotFound");
    insta::assert_snapshot!("method_not_found", reply.body);
    let reply = fx
        .call("RetrieveServiceContent", ("ServiceInstance", "other"), "")
        .await;
    assert_eq!(fault_type(&reply), "ManagedObjectNotFound");
    let reply = fx
        .call("NoSuchMethod", ("ServiceInstance", "ServiceInstance"), "")
        .await;
    assert_eq!(fault_type(&reply), "MethodNotFound");
}

#[tokio::test]
async fn malformed_requests_are_invalid_requests() {
    let fx = logged_in().await;
    for body in [
        "not xml at all <".to_owned(),
        "<a/>".to_owned(),
        r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body></soapenv:Body></soapenv:Envelope>"#.to_owned(),
        envelope("Fetch", "VirtualMachine", "vm-42", "").replace(r#"<_this versionId="6.7.1" type="VirtualMachine">vm-42</_this>"#, ""),
        envelope("ListProcessesInGuest", "GuestProcessManager", "guestOperationsProcessManager", &auth(ROOT_PASSWORD).replace("<auth", "<pids>x</pids><auth")),
    ] {
        let reply = send(&fx.app, Some(&fx.cookie), body).await;
        assert_eq!(fault_type(&reply), "InvalidRequest", "{}", reply.body);
    }
    let reply = send(&fx.app, None, "<a".into()).await;
    insta::assert_snapshot!(reply.body);
}

#[tokio::test]
async fn prefixed_envelopes_parse_like_default_namespace_ones() {
    let fx = logged_in().await;
    let body = r#"<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:v="urn:vim25" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><s:Header/><s:Body><v:ListProcessesInGuest><v:_this type="GuestProcessManager">guestOperationsProcessManager</v:_this><v:vm type="VirtualMachine">vm-42</v:vm><v:auth i:type="v:NamePasswordAuthentication"><v:interactiveSession>0</v:interactiveSession><v:username>root</v:username><v:password>guest-secret</v:password></v:auth></v:ListProcessesInGuest></s:Body></s:Envelope>"#;
    let reply = send(&fx.app, Some(&fx.cookie), body.into()).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[tokio::test]
async fn programs_run_and_list_with_exit_code_zero() {
    let fx = logged_in().await;
    let spec = r#"<spec><programPath>/bin/chmod</programPath><arguments> u+rx /tmp/a.sh &gt; /tmp/x.out 2&gt; /tmp/x.err</arguments><envVariables>A=1</envVariables><envVariables>B=2</envVariables></spec>"#;
    let reply = fx
        .guest_call(
            "StartProgramInGuest",
            &format!("{}{spec}", auth(ROOT_PASSWORD)),
        )
        .await;
    insta::assert_snapshot!("start_program", reply.body);
    let pid = returnval_text(&reply);
    let process = fx.guests.vms.lock()["vm-42"].processes[0].clone();
    assert_eq!(
        process.cmd_line,
        "\"/bin/chmod\" u+rx /tmp/a.sh > /tmp/x.out 2> /tmp/x.err"
    );
    let list = format!("{}<pids>{pid}</pids><pids>999</pids>", auth(ROOT_PASSWORD));
    let reply = fx.guest_call("ListProcessesInGuest", &list).await;
    assert!(
        reply.body.contains("<exitCode>0</exitCode>"),
        "{}",
        reply.body
    );
    insta::assert_snapshot!("list_processes", stable(&reply.body));

    fx.sim.set_omit_zero_exit_codes(true);
    let reply = fx.guest_call("ListProcessesInGuest", &list).await;
    assert!(
        !reply.body.contains("exitCode"),
        "vcsim's bug reproduced: {}",
        reply.body
    );
    fx.sim.set_omit_zero_exit_codes(false);

    let reply = fx
        .guest_call(
            "ListProcessesInGuest",
            &format!("{}<pids>999</pids>", auth(ROOT_PASSWORD)),
        )
        .await;
    assert!(reply.body.contains(
        r#"<ListProcessesInGuestResponse xmlns="urn:vim25"></ListProcessesInGuestResponse>"#
    ));

    let reply = fx
        .guest_call(
            "StartProgramInGuest",
            &format!(
                "{}<spec><programPath>ls</programPath><arguments></arguments></spec>",
                auth(ROOT_PASSWORD)
            ),
        )
        .await;
    assert_eq!(fault_type(&reply), "FileNotFound");
    assert!(reply.body.contains("<file>ls</file>"));
    assert!(
        reply
            .body
            .contains("<faultstring>File ls was not found</faultstring>")
    );
}

#[tokio::test]
async fn terminate_kills_running_processes_and_faults_on_unknown_pids() {
    let fx = logged_in().await;
    fx.guests.update("vm-42", |vm| {
        vm.hanging.insert("/bin/chmod".into());
    });
    let spec = "<spec><programPath>/bin/chmod</programPath><arguments></arguments></spec>";
    let pid = returnval_text(
        &fx.guest_call(
            "StartProgramInGuest",
            &format!("{}{spec}", auth(ROOT_PASSWORD)),
        )
        .await,
    );
    let list = format!("{}<pids>{pid}</pids>", auth(ROOT_PASSWORD));
    let reply = fx.guest_call("ListProcessesInGuest", &list).await;
    assert!(!reply.body.contains("exitCode") && !reply.body.contains("endTime"));
    let reply = fx
        .guest_call(
            "TerminateProcessInGuest",
            &format!("{}<pid>{pid}</pid>", auth(ROOT_PASSWORD)),
        )
        .await;
    assert!(reply.body.contains(
        r#"<TerminateProcessInGuestResponse xmlns="urn:vim25"></TerminateProcessInGuestResponse>"#
    ));
    let reply = fx.guest_call("ListProcessesInGuest", &list).await;
    assert!(reply.body.contains("<exitCode>137</exitCode>"));
    let reply = fx
        .guest_call(
            "TerminateProcessInGuest",
            &format!("{}<pid>5</pid>", auth(ROOT_PASSWORD)),
        )
        .await;
    assert_eq!(fault_type(&reply), "GuestProcessNotFound");
    insta::assert_snapshot!("guest_process_not_found", reply.body);
}

#[tokio::test]
async fn preconditions_are_checked_in_vcenter_order() {
    let fx = logged_in().await;
    fx.guests.add_vm("vm-off", "off", None);
    fx.guests
        .update("vm-off", |vm| vm.info.power_state = PowerState::PoweredOff);
    fx.guests.add_vm("vm-boot", "boot", None);
    fx.guests.update("vm-boot", |vm| {
        vm.info.tools_running_status = ToolsRunningStatus::ExecutingScripts;
        vm.info.guest_operations_ready = false;
    });
    let delete =
        |vm: &str, password: &str| format!("{}<filePath>/nope</filePath>", auth_for(vm, password));
    let cases = [
        ("vm-9", "wrong", "ManagedObjectNotFound"),
        ("vm-off", "wrong", "InvalidPowerState"),
        ("vm-boot", "wrong", "GuestOperationsUnavailable"),
        ("vm-42", "wrong", "InvalidGuestLogin"),
        ("vm-42", ROOT_PASSWORD, "FileNotFound"),
    ];
    for (vm, password, expected) in cases {
        let reply = fx
            .guest_call("DeleteFileInGuest", &delete(vm, password))
            .await;
        assert_eq!(fault_type(&reply), expected, "{vm}");
    }
    let reply = fx
        .guest_call("DeleteFileInGuest", &delete("vm-off", ROOT_PASSWORD))
        .await;
    insta::assert_snapshot!("invalid_power_state", reply.body);
    let reply = fx
        .guest_call("DeleteFileInGuest", &delete("vm-boot", ROOT_PASSWORD))
        .await;
    insta::assert_snapshot!("guest_operations_unavailable", reply.body);
    let reply = fx
        .guest_call("DeleteFileInGuest", &delete("vm-42", "wrong"))
        .await;
    insta::assert_snapshot!("invalid_guest_login", reply.body);

    // Session before everything.
    let reply = send(
        &fx.app,
        None,
        envelope(
            "DeleteFileInGuest",
            "GuestFileManager",
            "guestOperationsFileManager",
            &delete("vm-9", "x"),
        ),
    )
    .await;
    assert_eq!(fault_type(&reply), "NotAuthenticated");

    // Credentials are checked per call: a password change applies at once.
    fx.guests
        .update("vm-42", |vm| vm.root_password = "rotated".into());
    let reply = fx
        .guest_call("ValidateCredentialsInGuest", &auth(ROOT_PASSWORD))
        .await;
    assert_eq!(fault_type(&reply), "InvalidGuestLogin");
    let reply = fx
        .guest_call("ValidateCredentialsInGuest", &auth("rotated"))
        .await;
    assert!(reply.body.contains(r#"<ValidateCredentialsInGuestResponse xmlns="urn:vim25"></ValidateCredentialsInGuestResponse>"#));
}

#[tokio::test]
async fn unsupported_authentication_kinds_are_refused() {
    let fx = logged_in().await;
    let interactive =
        auth(ROOT_PASSWORD).replace("<interactiveSession>false", "<interactiveSession>true");
    let reply = fx
        .guest_call("ValidateCredentialsInGuest", &interactive)
        .await;
    assert_eq!(fault_type(&reply), "GuestPermissionDenied");
    let saml = r#"<vm type="VirtualMachine">vm-42</vm><auth xsi:type="SAMLTokenAuthentication"><interactiveSession>false</interactiveSession><token>t</token></auth>"#;
    let reply = fx.guest_call("ValidateCredentialsInGuest", saml).await;
    assert_eq!(fault_type(&reply), "InvalidGuestLogin");
}

fn upload_params(path: &str, size: usize, overwrite: bool, attributes: &str) -> String {
    format!(
        "{}<guestFilePath>{path}</guestFilePath>{attributes}<fileSize>{size}</fileSize><overwrite>{overwrite}</overwrite>",
        auth(ROOT_PASSWORD)
    )
}

#[tokio::test]
async fn files_move_both_ways_through_single_use_urls() {
    let fx = logged_in().await;
    let data = b"#!/usr/bin/env bash\necho hi\n".to_vec();
    let attributes = r#"<fileAttributes xsi:type="GuestPosixFileAttributes"><permissions>448</permissions></fileAttributes>"#;
    let reply = fx
        .guest_call(
            "InitiateFileTransferToGuest",
            &upload_params("/tmp/a.sh", data.len(), false, attributes),
        )
        .await;
    insta::assert_snapshot!("initiate_to_guest", stable(&reply.body));
    let url = returnval_text(&reply);
    assert!(
        url.starts_with(&format!("https://{HOST}/guestFile?id=")),
        "{url}"
    );
    assert_eq!(fx.sim.open_transfers(), 1);
    assert_eq!(
        fx.http("GET", &url, Vec::new()).await.0,
        StatusCode::NOT_FOUND,
        "upload URL is not a download URL"
    );
    assert_eq!(fx.http("PUT", &url, data.clone()).await.0, StatusCode::OK);
    assert_eq!(
        fx.guests.file("vm-42", "/tmp/a.sh"),
        Some((data.clone(), 0o700))
    );
    assert_eq!(
        fx.http("PUT", &url, data.clone()).await.0,
        StatusCode::NOT_FOUND,
        "single use"
    );
    assert_eq!(fx.sim.open_transfers(), 0);

    let reply = fx
        .guest_call(
            "InitiateFileTransferToGuest",
            &upload_params("/tmp/a.sh", 1, false, "<fileAttributes></fileAttributes>"),
        )
        .await;
    assert_eq!(fault_type(&reply), "FileAlreadyExists");
    insta::assert_snapshot!("file_already_exists", reply.body);
    for (path, fault) in [
        ("/tmp", "NotAFile"),
        ("/missing/a.sh", "FileNotFound"),
        ("relative.sh", "InvalidArgument"),
    ] {
        let reply = fx
            .guest_call(
                "InitiateFileTransferToGuest",
                &upload_params(path, 1, true, "<fileAttributes></fileAttributes>"),
            )
            .await;
        assert_eq!(fault_type(&reply), fault, "{path}");
    }

    let reply = fx
        .guest_call(
            "InitiateFileTransferFromGuest",
            &format!(
                "{}<guestFilePath>/tmp/a.sh</guestFilePath>",
                auth(ROOT_PASSWORD)
            ),
        )
        .await;
    insta::assert_snapshot!("initiate_from_guest", stable(&reply.body));
    let url = regex::Regex::new(r"<url>([^<]*)</url>")
        .unwrap()
        .captures(&reply.body)
        .unwrap()[1]
        .replace("&amp;", "&");
    assert_eq!(
        fx.http("PUT", &url, Vec::new()).await.0,
        StatusCode::NOT_FOUND,
        "download URL is not an upload URL"
    );
    assert_eq!(
        fx.http("GET", &url, Vec::new()).await,
        (StatusCode::OK, data)
    );
    assert_eq!(
        fx.http("GET", &url, Vec::new()).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        fx.http("GET", "/guestFile?id=1", Vec::new()).await.0,
        StatusCode::NOT_FOUND
    );

    for (path, fault) in [("/tmp/none", "FileNotFound"), ("/tmp", "NotAFile")] {
        let reply = fx
            .guest_call(
                "InitiateFileTransferFromGuest",
                &format!(
                    "{}<guestFilePath>{path}</guestFilePath>",
                    auth(ROOT_PASSWORD)
                ),
            )
            .await;
        assert_eq!(fault_type(&reply), fault);
    }
}

#[tokio::test]
async fn transfers_fail_cleanly_when_the_guest_changes_in_between() {
    let fx = logged_in().await;
    let reply = fx
        .guest_call(
            "InitiateFileTransferToGuest",
            &upload_params("/tmp/b", 2, false, "<fileAttributes></fileAttributes>"),
        )
        .await;
    let url = returnval_text(&reply);
    fx.guests
        .update("vm-42", |vm| vm.info.guest_operations_ready = false);
    assert_eq!(
        fx.http("PUT", &url, b"hi".to_vec()).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    fx.guests
        .update("vm-42", |vm| vm.info.guest_operations_ready = true);
    assert_eq!(
        fx.http("PUT", &url, b"hi".to_vec()).await.0,
        StatusCode::OK,
        "a failed PUT keeps the URL"
    );
    let reply = fx
        .guest_call(
            "InitiateFileTransferFromGuest",
            &format!(
                "{}<guestFilePath>/tmp/b</guestFilePath>",
                auth(ROOT_PASSWORD)
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let download = regex::Regex::new(r"<url>([^<]*)</url>")
        .unwrap()
        .captures(&reply.body)
        .unwrap()[1]
        .replace("&amp;", "&");
    fx.guests
        .update("vm-42", |vm| vm.info.power_state = PowerState::PoweredOff);
    assert_eq!(
        fx.http("GET", &download, Vec::new()).await.0,
        StatusCode::NOT_FOUND,
        "power-off closes transfers"
    );
    fx.guests
        .update("vm-42", |vm| vm.info.power_state = PowerState::PoweredOn);
    assert_eq!(
        fx.http("GET", &download, Vec::new()).await.0,
        StatusCode::NOT_FOUND,
        "and they stay closed"
    );
    fx.guests.update("vm-42", |vm| {
        vm.files.insert("/tmp/c".into(), (b"c".to_vec(), 0o644));
    });
    let reply = fx
        .guest_call(
            "InitiateFileTransferFromGuest",
            &format!(
                "{}<guestFilePath>/tmp/c</guestFilePath>",
                auth(ROOT_PASSWORD)
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(fx.sim.open_transfers(), 1);
    fx.sim.invalidate_transfers("vm-42");
    assert_eq!(fx.sim.open_transfers(), 0);
}

#[tokio::test]
async fn transfer_urls_follow_the_configured_base_or_star_mode() {
    let mut config = VCenterConfig::new("vc1").with_user(VC_USER, VC_PASSWORD);
    config.public_base_url = Some("https://esx-01.sim.test:443/".parse().unwrap());
    let guests = FakeGuests::with_ready_vm();
    let app = VCenterSim::new(config.clone(), guests.clone()).router();
    let cookie = send(&app, None, login(VC_USER, VC_PASSWORD))
        .await
        .set_cookie
        .unwrap();
    let body = envelope(
        "InitiateFileTransferToGuest",
        "GuestFileManager",
        "guestOperationsFileManager",
        &upload_params("/tmp/c", 1, true, ""),
    );
    let url = returnval_text(&send(&app, Some(&cookie), body.clone()).await);
    assert!(
        url.starts_with("https://esx-01.sim.test/guestFile?id="),
        "{url}"
    );

    config.public_base_url = None;
    config.star_transfer_host = true;
    let app = VCenterSim::new(config, guests).router();
    let cookie = send(&app, None, login(VC_USER, VC_PASSWORD))
        .await
        .set_cookie
        .unwrap();
    let url = returnval_text(&send(&app, Some(&cookie), body).await);
    assert!(url.starts_with("https://*:8443/guestFile?id="), "{url}");
}

#[tokio::test]
async fn directories_and_deletes() {
    let fx = logged_in().await;
    let mkdir = |path: &str, parents: bool| {
        format!(
            "{}<directoryPath>{path}</directoryPath><createParentDirectories>{parents}</createParentDirectories>",
            auth(ROOT_PASSWORD)
        )
    };
    assert_eq!(
        fault_type(
            &fx.guest_call("MakeDirectoryInGuest", &mkdir("/a/b/c", false))
                .await
        ),
        "FileNotFound"
    );
    let reply = fx
        .guest_call("MakeDirectoryInGuest", &mkdir("/a/b/c", true))
        .await;
    assert!(reply.body.contains(
        r#"<MakeDirectoryInGuestResponse xmlns="urn:vim25"></MakeDirectoryInGuestResponse>"#
    ));
    assert_eq!(
        fault_type(
            &fx.guest_call("MakeDirectoryInGuest", &mkdir("/a/b", false))
                .await
        ),
        "FileAlreadyExists"
    );
    let delete = |path: &str| format!("{}<filePath>{path}</filePath>", auth(ROOT_PASSWORD));
    assert_eq!(
        fault_type(&fx.guest_call("DeleteFileInGuest", &delete("/a/b")).await),
        "NotAFile"
    );
    let reply = fx
        .guest_call("DeleteFileInGuest", &delete("/bin/chmod"))
        .await;
    assert!(
        reply.body.contains(
            r#"<DeleteFileInGuestResponse xmlns="urn:vim25"></DeleteFileInGuestResponse>"#
        )
    );
    assert!(fx.guests.file("vm-42", "/bin/chmod").is_none());
}

#[tokio::test]
async fn search_index_finds_vms_by_ip_and_dns_name() {
    let fx = logged_in().await;
    let find = |method: &str, key: &str, value: &str| {
        (
            method.to_owned(),
            format!("<{key}>{value}</{key}><vmSearch>true</vmSearch>"),
        )
    };
    for (method, params) in [
        find("FindByIp", "ip", "10.150.0.11"),
        find("FindByDnsName", "dnsName", "mstr-ab12"),
    ] {
        let reply = fx
            .call(&method, ("SearchIndex", "SearchIndex"), &params)
            .await;
        assert!(
            reply
                .body
                .contains(r#"<returnval type="VirtualMachine">vm-42</returnval>"#),
            "{}",
            reply.body
        );
    }
    let uuid = vcd_sim::vsphere::vm_uuid(&fx.sim.config().instance_uuid, "vm-42", "instance");
    let params = format!(
        "<uuid>{}</uuid><vmSearch>true</vmSearch><instanceUuid>true</instanceUuid>",
        uuid.to_uppercase()
    );
    let reply = fx
        .call("FindByUuid", ("SearchIndex", "SearchIndex"), &params)
        .await;
    assert!(
        reply
            .body
            .contains(r#"<returnval type="VirtualMachine">vm-42</returnval>"#),
        "{}",
        reply.body
    );
    let params = format!("<uuid>{uuid}</uuid><vmSearch>true</vmSearch>");
    let reply = fx
        .call("FindByUuid", ("SearchIndex", "SearchIndex"), &params)
        .await;
    assert!(
        !reply.body.contains("returnval"),
        "the BIOS UUID differs from the instance UUID"
    );
    let (method, params) = find("FindByIp", "ip", "10.9.9.9");
    let reply = fx
        .call(&method, ("SearchIndex", "SearchIndex"), &params)
        .await;
    assert!(
        reply
            .body
            .contains(r#"<FindByIpResponse xmlns="urn:vim25"></FindByIpResponse>"#)
    );
}

#[tokio::test]
async fn injected_faults_and_stalls() {
    let fx = logged_in().await;
    let list_processes = || VimMatch::method("ListProcessesInGuest");
    let system_error = fx
        .sim
        .faults()
        .add(FaultRule::new(
            list_processes(),
            InjectedFault::Fault(VimFault::SystemError {
                reason: "vix error codes = (3016, 0).".into(),
            }),
        ))
        .unwrap();
    let reply = fx
        .guest_call("ListProcessesInGuest", &auth(ROOT_PASSWORD))
        .await;
    assert_eq!(fault_type(&reply), "SystemError");
    insta::assert_snapshot!("system_error", reply.body);
    assert!(fx.sim.faults().remove(system_error));
    let stall = fx
        .sim
        .faults()
        .add(FaultRule::new(list_processes(), InjectedFault::Stall))
        .unwrap();
    let stalled = tokio::time::timeout(
        Duration::from_millis(200),
        fx.guest_call("ListProcessesInGuest", &auth(ROOT_PASSWORD)),
    )
    .await;
    assert!(stalled.is_err(), "a stalled method never answers");
    assert!(fx.sim.faults().remove(stall));
    assert_eq!(
        fx.guest_call("ListProcessesInGuest", &auth(ROOT_PASSWORD))
            .await
            .status,
        StatusCode::OK
    );

    fx.guests.update("vm-42", |vm| {
        vm.files.insert("/tmp/x".into(), (b"x".to_vec(), 0o644));
    });
    let reply = fx
        .guest_call(
            "InitiateFileTransferFromGuest",
            &format!(
                "{}<guestFilePath>/tmp/x</guestFilePath>",
                auth(ROOT_PASSWORD)
            ),
        )
        .await;
    let url = regex::Regex::new(r"<url>([^<]*)</url>")
        .unwrap()
        .captures(&reply.body)
        .unwrap()[1]
        .replace("&amp;", "&");
    let failed_download = fx
        .sim
        .faults()
        .add(FaultRule::new(
            VimMatch::method(TRANSFER_GET),
            InjectedFault::Fault(VimFault::InvalidState),
        ))
        .unwrap();
    assert_eq!(
        fx.http("GET", &url, Vec::new()).await.0,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(fx.sim.faults().hits(failed_download), 1);
    assert!(fx.sim.faults().remove(failed_download));
    assert_eq!(
        fx.http("GET", &url, Vec::new()).await,
        (StatusCode::OK, b"x".to_vec())
    );
}

#[tokio::test]
async fn call_log_records_methods_in_order() {
    let fx = logged_in().await;
    fx.call("CurrentTime", ("ServiceInstance", "ServiceInstance"), "")
        .await;
    assert_eq!(fx.sim.call_log(), ["Login", "CurrentTime"]);
}

#[tokio::test]
async fn sessions_record_the_client_address_and_agent() {
    let sim = vcenter(FakeGuests::with_ready_vm());
    let peer: std::net::SocketAddr = "192.0.2.7:50123".parse().unwrap();
    let app = sim
        .router()
        .layer(axum::extract::connect_info::MockConnectInfo(peer));
    let request = Request::post("/sdk")
        .header(header::HOST, HOST)
        .header(header::USER_AGENT, "pyvmomi Python/3.11.7")
        .body(Body::from(login(VC_USER, VC_PASSWORD)))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let body = String::from_utf8(collect(response.into_body()).await).unwrap();
    assert!(body.contains("<ipAddress>192.0.2.7</ipAddress>"), "{body}");
    assert!(
        body.contains("<userAgent>pyvmomi Python/3.11.7</userAgent>"),
        "{body}"
    );

    let app = sim.router();
    let request = Request::post("/sdk")
        .header("X-Forwarded-For", "198.51.100.4")
        .body(Body::from(login(VC_USER, VC_PASSWORD)))
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    let body = String::from_utf8(collect(response.into_body()).await).unwrap();
    assert!(
        body.contains("<ipAddress>198.51.100.4</ipAddress>"),
        "{body}"
    );
}

/// A guest model that implements only the required methods (no `stat_file`,
/// no `write_file_with_attributes`) still supports both transfers through the
/// trait's defaults.
#[tokio::test]
async fn trait_defaults_carry_transfers_for_minimal_guest_models() {
    use vcd_sim::guest_api::{
        GuestCredentials, GuestFault, GuestOps, GuestProcessInfo, GuestVmInfo, ProgramSpec,
    };

    /// Forwards the required methods to the fake, hiding its overrides.
    struct Minimal(Arc<FakeGuests>);
    impl GuestOps for Minimal {
        fn list_vms(&self) -> Vec<GuestVmInfo> {
            self.0.list_vms()
        }
        fn vm_info(&self, moref: &str) -> Option<GuestVmInfo> {
            self.0.vm_info(moref)
        }
        fn check_access(&self, moref: &str, creds: &GuestCredentials) -> Result<(), GuestFault> {
            self.0.check_access(moref, creds)
        }
        fn start_program<'a>(
            &'a self,
            moref: &'a str,
            creds: &'a GuestCredentials,
            spec: ProgramSpec,
        ) -> futures::future::BoxFuture<'a, Result<i64, GuestFault>> {
            self.0.start_program(moref, creds, spec)
        }
        fn list_processes(
            &self,
            moref: &str,
            creds: &GuestCredentials,
            pids: Option<&[i64]>,
        ) -> Result<Vec<GuestProcessInfo>, GuestFault> {
            self.0.list_processes(moref, creds, pids)
        }
        fn terminate_process(
            &self,
            moref: &str,
            creds: &GuestCredentials,
            pid: i64,
        ) -> Result<(), GuestFault> {
            self.0.terminate_process(moref, creds, pid)
        }
        fn write_file(
            &self,
            moref: &str,
            creds: &GuestCredentials,
            path: &str,
            data: &[u8],
            overwrite: bool,
        ) -> Result<(), GuestFault> {
            self.0.write_file(moref, creds, path, data, overwrite)
        }
        fn read_file(
            &self,
            moref: &str,
            creds: &GuestCredentials,
            path: &str,
        ) -> Result<Vec<u8>, GuestFault> {
            self.0.read_file(moref, creds, path)
        }
        fn delete_file(
            &self,
            moref: &str,
            creds: &GuestCredentials,
            path: &str,
        ) -> Result<(), GuestFault> {
            self.0.delete_file(moref, creds, path)
        }
        fn make_directory(
            &self,
            moref: &str,
            creds: &GuestCredentials,
            path: &str,
            create_parents: bool,
        ) -> Result<(), GuestFault> {
            self.0.make_directory(moref, creds, path, create_parents)
        }
    }

    let guests = FakeGuests::with_ready_vm();
    let mut config = VCenterConfig::new("vc1").with_user(VC_USER, VC_PASSWORD);
    config.instance_uuid = "6a8f2d3e-5b1c-4f7a-9e2d-1c3b5a7f9e0d".into();
    let sim = VCenterSim::new(config, Arc::new(Minimal(guests.clone())));
    let app = sim.router();
    let cookie = send(&app, None, login(VC_USER, VC_PASSWORD))
        .await
        .set_cookie
        .unwrap();
    let fx = Fixture {
        guests,
        sim,
        app,
        cookie,
    };

    let reply = fx
        .guest_call(
            "InitiateFileTransferToGuest",
            &upload_params("/tmp/m", 3, false, "<fileAttributes></fileAttributes>"),
        )
        .await;
    let url = returnval_text(&reply);
    assert_eq!(
        fx.http("PUT", &url, b"abc".to_vec()).await.0,
        StatusCode::OK
    );
    let reply = fx
        .guest_call(
            "InitiateFileTransferToGuest",
            &upload_params("/tmp", 3, true, "<fileAttributes></fileAttributes>"),
        )
        .await;
    assert_eq!(fault_type(&reply), "NotAFile");
    let reply = fx
        .guest_call(
            "InitiateFileTransferFromGuest",
            &format!(
                "{}<guestFilePath>/tmp/m</guestFilePath>",
                auth(ROOT_PASSWORD)
            ),
        )
        .await;
    assert!(reply.body.contains("<size>3</size>"), "{}", reply.body);
    let url = regex::Regex::new(r"<url>([^<]*)</url>")
        .unwrap()
        .captures(&reply.body)
        .unwrap()[1]
        .replace("&amp;", "&");
    assert_eq!(
        fx.http("GET", &url, Vec::new()).await,
        (StatusCode::OK, b"abc".to_vec())
    );
}

/// `SOAP_METHODS` (what `GET /_sim/about` lists) is what the vCenter
/// serves: each listed method is routed on some object (whatever fault its
/// empty parameters get, it is not `MethodNotFound`), and a method not
/// listed is refused on every object.
#[tokio::test]
async fn the_listed_soap_methods_are_exactly_the_ones_served() {
    let fx = logged_in().await;
    let objects = [
        ("ServiceInstance", "ServiceInstance"),
        ("PropertyCollector", "propertyCollector"),
        ("ViewManager", "ViewManager"),
        ("SessionManager", "SessionManager"),
        ("SearchIndex", "SearchIndex"),
        ("GuestProcessManager", "guestOperationsProcessManager"),
        ("GuestFileManager", "guestOperationsFileManager"),
        ("GuestAuthManager", "guestOperationsAuthManager"),
        ("ContainerView", "session[0]view-1"),
    ];
    // Logout last: it ends the session the others use.
    let mut methods: Vec<&str> = vcd_sim::vsphere::SOAP_METHODS.to_vec();
    methods.sort_by_key(|m| *m == "Logout");
    for method in methods {
        let mut routed = false;
        for object in objects {
            let reply = fx.call(method, object, "").await;
            if reply.status == StatusCode::OK || fault_type(&reply) != "MethodNotFound" {
                routed = true;
                break;
            }
        }
        assert!(routed, "{method} is listed but not served");
    }
    let fx = logged_in().await;
    for method in ["PowerOnVM_Task", "CloneVM_Task", "RetrieveContent"] {
        for object in objects {
            let reply = fx.call(method, object, "").await;
            assert_eq!(
                fault_type(&reply),
                "MethodNotFound",
                "{method} on {object:?}"
            );
        }
    }
}
