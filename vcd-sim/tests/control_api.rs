//! The control API (`/_sim/`) over a running full simulator, assembled the
//! way `vcd-sim serve --control-api` does: token checks, fault rules on
//! every surface with their bounds, the clock, reset, the operations served,
//! and snapshots (round trip to the same bytes; a vApp made before the
//! snapshot deleted after the load; guest processes listed after the load;
//! version 1 documents still loaded).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{ACCEPT, Session, running_vapp};
use reqwest::StatusCode;
use serde_json::{Value, json};
use vcd_sim::assembly::FullSim;
use vcd_sim::clock::Clock;
use vcd_sim::control::{ControlApi, Observer, Targets};
use vcd_sim::faults::FaultRule;
use vcd_sim::guest::{FaultScope, GuestFaultKind};
use vcd_sim::guest_api::{GuestCredentials, GuestFault, GuestOps, ProgramSpec};
use vcd_sim::rest::xml::Dom;
use vcd_sim::{SimBuilder, VcdRelease};

struct Controlled {
    full: FullSim,
    control: ControlApi,
    http: reqwest::Client,
}

async fn start() -> Controlled {
    start_release(VcdRelease::default()).await
}

async fn start_release(release: VcdRelease) -> Controlled {
    cse_bus::tls::install_crypto_provider();
    let observer = Arc::new(Observer::new(None));
    let control = ControlApi::new(Arc::clone(&observer));
    let full = SimBuilder::new()
        .vcd_release(release)
        .clock(Clock::controlled(0.0))
        .extra_routes(control.router())
        .wrap_listeners(observer.wrap())
        .start()
        .await
        .expect("simulator starts");
    control.attach(Targets::of(&full, release));
    Controlled {
        full,
        control,
        http: reqwest::Client::new(),
    }
}

impl Controlled {
    fn url(&self, path: &str) -> String {
        format!("{}/_sim/{path}", self.full.base_url())
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, self.url(path))
            .bearer_auth(self.control.token());
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn snapshot(&self) -> Vec<u8> {
        let r = self
            .http
            .get(self.url("snapshot"))
            .bearer_auth(self.control.token())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.bytes().await.unwrap().to_vec()
    }

    async fn login(&self, org: &str, user: &str, password: &str) -> Session {
        let r = self
            .http
            .post(format!("{}/api/sessions", self.full.base_url()))
            .basic_auth(format!("{user}@{org}"), Some(password))
            .header("Accept", ACCEPT)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "login of {user}@{org}");
        let token = r.headers()["x-vcloud-authorization"]
            .to_str()
            .unwrap()
            .to_owned();
        let text = r.text().await.unwrap();
        Session {
            base: self.full.base_url().to_owned(),
            token,
            http: self.http.clone(),
            session: Dom::parse(&text).unwrap(),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_without_the_token_are_refused() {
    let c = start().await;
    let none = c.http.get(c.url("about")).send().await.unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    let body = none.text().await.unwrap();
    assert!(body.contains("Bearer"), "{body}");
    let wrong = c
        .http
        .get(c.url("faults"))
        .bearer_auth("0".repeat(32))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let (status, _) = c.get("nothing-here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    c.full.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_rules_on_every_surface_are_added_listed_counted_and_removed() {
    let c = start().await;
    let (status, vcd) = c
        .post(
            "faults",
            json!({"surface": "vcd", "match": {"method": "get", "path_contains": "/api/versions"}, "effect": 503, "times": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{vcd}");
    assert_eq!(vcd["id"], "vcd-1");
    let versions = format!("{}/api/versions", c.full.base_url());
    assert_eq!(c.http.get(&versions).send().await.unwrap().status(), 503);
    assert_eq!(c.http.get(&versions).send().await.unwrap().status(), 200);
    for rule in [
        json!({"surface": "vcenter", "match": {"method": "StartProgramInGuest"}, "effect": {"fault": "GuestOperationsUnavailable"}, "times": 2}),
        json!({"surface": "vcenter", "match": {}, "delay_ms": 10, "probability": 0.5}),
        json!({"surface": "guest", "match": {"vm": "vm-1001"}, "effect": {"hang_command": {"name": "kubeadm"}}}),
        json!({"surface": "guest", "match": "global", "effect": "ops_unavailable", "times": 3}),
        json!({"surface": "extension", "match": {"namespace": "cse", "method": "POST"}, "effect": "timeout"}),
        json!({"surface": "extension", "match": {}, "effect": {"status": 502}, "times": 1}),
    ] {
        let (status, body) = c.post("faults", rule.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{rule}: {body}");
    }
    let (_, listed) = c.get("faults").await;
    insta::assert_json_snapshot!("fault_list", listed);
    let gone = c
        .call(reqwest::Method::DELETE, "faults/guest-2", None)
        .await;
    assert_eq!(gone.0, StatusCode::NO_CONTENT);
    let again = c
        .call(reqwest::Method::DELETE, "faults/guest-2", None)
        .await;
    assert_eq!(again.0, StatusCode::NOT_FOUND);
    assert_eq!(c.full.guests.faults().list().len(), 1);
    let cleared = c.call(reqwest::Method::DELETE, "faults", None).await;
    assert_eq!(cleared.0, StatusCode::NO_CONTENT);
    let (_, listed) = c.get("faults").await;
    assert_eq!(listed["rules"], json!([]));
    assert_eq!(
        listed["stats"]["vcd"]["faulted"], 1,
        "stats outlive the rules"
    );
    c.full.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_bounds_or_malformed_rules_get_400s_naming_the_field() {
    let c = start().await;
    for (rule, words) in [
        (
            json!({"surface": "vcd", "match": {}, "effect": 503, "times": 5_000_000}),
            "times",
        ),
        (
            json!({"surface": "vcd", "match": {}, "effect": 503, "probability": 2.0}),
            "probability",
        ),
        (
            json!({"surface": "vcd", "match": {}, "effect": 503, "delay_ms": 3_600_000}),
            "delay_ms",
        ),
        (
            json!({"surface": "vcd", "match": {"method": "GE T"}, "effect": 503}),
            "HTTP method",
        ),
        (
            json!({"surface": "vcd", "match": {}, "effect": 5000}),
            "status",
        ),
        (
            json!({"surface": "vcd", "match": {}, "colour": "red"}),
            "colour",
        ),
        (json!({"surface": "mars", "match": {}}), "mars"),
        (json!({"match": {}}), "surface"),
        (
            json!({"surface": "guest", "match": "global", "effect": "ops_unavailable", "delay_ms": 5}),
            "delay",
        ),
        (
            json!({"surface": "vcenter", "match": {}, "effect": {"fault": "Nope"}}),
            "Nope",
        ),
        (
            json!({"surface": "extension", "match": {}, "effect": {"status": 200}}),
            "400-599",
        ),
    ] {
        let (status, body) = c.post("faults", rule.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{rule}");
        let message = body["error"].as_str().unwrap_or_default();
        assert!(message.contains(words), "{rule}: {message}");
    }
    let r = c
        .http
        .post(c.url("faults"))
        .bearer_auth(c.control.token())
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("invalid fault rule"));
    let (status, body) = c.call(reqwest::Method::DELETE, "faults/vcd-x", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    c.full.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clock_is_read_set_and_advanced() {
    let c = start().await;
    let (status, clock) = c.get("clock").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(clock["scale"], 0.0);
    assert_eq!(clock["controlled"], true);
    let (status, clock) = c
        .call(
            reqwest::Method::PUT,
            "clock",
            Some(json!({"scale": 0.25, "guest_timings": {"boot_ms": 90000}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{clock}");
    assert_eq!(clock["scale"], 0.25);
    assert_eq!(clock["guest_timings"]["boot_ms"], 90000);
    assert_eq!(c.full.handle.state().clock().scale(), 0.25);
    assert_eq!(
        c.full.guests.clock().scale(),
        0.25,
        "one clock for vCD and guests"
    );
    assert_eq!(c.full.guests.timings().boot, Duration::from_secs(90));
    let before = c.full.guests.now();
    let (status, clock) = c.post("clock/advance", json!({"by_ms": 3_600_000})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(clock["advanced_ms"], 3_600_000);
    assert!(c.full.guests.now() - before >= chrono::Duration::hours(1));
    for (path, method, body, words) in [
        ("clock", reqwest::Method::PUT, json!({"scale": -1}), "scale"),
        (
            "clock",
            reqwest::Method::PUT,
            json!({"scale": 1e9}),
            "scale",
        ),
        (
            "clock",
            reqwest::Method::PUT,
            json!({"guest_timings": {"bot_ms": 1}}),
            "guest_timings.bot_ms",
        ),
        ("clock", reqwest::Method::PUT, json!({"speed": 1}), "speed"),
        (
            "clock/advance",
            reqwest::Method::POST,
            json!({"by_ms": u64::MAX}),
            "by_ms",
        ),
        (
            "clock/advance",
            reqwest::Method::POST,
            json!({"by": 1}),
            "by",
        ),
    ] {
        let (status, answer) = c.call(method, path, Some(body.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            answer["error"].as_str().unwrap_or_default().contains(words),
            "{body}: {answer}"
        );
    }
    assert_eq!(
        c.full.handle.state().clock().scale(),
        0.25,
        "refused changes change nothing"
    );
    c.full.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn about_lists_every_operation_served_and_counts_calls() {
    let c = start().await;
    let (status, about) = c.get("about").await;
    assert_eq!(status, StatusCode::OK);
    let operations = about["operations"].as_array().unwrap();
    assert!(
        operations.iter().all(|op| op["calls"] == 0),
        "a fresh simulator has served nothing"
    );
    assert_eq!(
        operations.len(),
        vcd_sim::control::observe::served_operations().len()
    );
    // The whole list, from the route table, the SOAP methods and transfers.
    insta::assert_json_snapshot!("about", about);

    let admin = c.login("System", "administrator", "vmware-sim-admin").await;
    admin.doc(&admin.org_href()).await;
    admin.doc(&admin.org_href()).await;
    let (_, about) = c.get("about").await;
    let calls = |name: &str| {
        about["operations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|op| op["surface"] == "vcd" && op["operation"] == name)
            .map(|op| op["calls"].as_u64().unwrap())
    };
    assert_eq!(calls("POST /api/sessions"), Some(1));
    assert_eq!(calls("GET /api/org/{id}"), Some(2));
    assert_eq!(calls("GET /api/vApp/{id}"), Some(0));
    let called: u64 = about["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|op| op["calls"].as_u64().unwrap())
        .sum();
    assert_eq!(called, 3, "only the calls made: {about:#}");
    c.full.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_goes_back_to_the_starting_world() {
    let c = start().await;
    let start_bytes = c.snapshot().await;
    let alice = c.login("acme", "alice", "alice-pw").await;
    running_vapp(&alice, "c1").await;
    c.post(
        "faults",
        json!({"surface": "vcd", "match": {"path_contains": "/nowhere"}, "effect": 500}),
    )
    .await;
    assert_ne!(c.snapshot().await, start_bytes);
    let (status, _) = c.post("reset", json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(c.full.handle.state().vapp_names().is_empty());
    assert!(c.full.guests.lock().vms.is_empty());
    assert!(c.full.http_faults().list().is_empty());
    assert_eq!(
        alice.get(&alice.org_href()).await.status,
        StatusCode::UNAUTHORIZED,
        "sessions end"
    );
    let after = c.snapshot().await;
    assert!(
        stable(&after) == stable(&start_bytes),
        "the same world, the same ids (only creation times differ)"
    );
    c.full.shutdown().await;
}

/// Creation times and listener ports are the only values that differ between runs.
fn stable(snapshot: &[u8]) -> Value {
    let text = String::from_utf8(snapshot.to_vec()).unwrap();
    let time = regex::Regex::new(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z").unwrap();
    let port = regex::Regex::new(r"127\.0\.0\.1:\d+").unwrap();
    let text = time.replace_all(&text, "[time]");
    serde_json::from_str(&port.replace_all(&text, "127.0.0.1:[port]")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_loads_into_a_new_simulator_and_exports_the_same_bytes() {
    let first = start().await;
    insta::assert_json_snapshot!("starting_world_snapshot", stable(&first.snapshot().await));
    let alice = first.login("acme", "alice", "alice-pw").await;
    let vapp = running_vapp(&alice, "cluster1").await;
    let meta = alice
        .put(
            &format!("{vapp}/metadata/cse.cluster.id"),
            "application/vnd.vmware.vcloud.metadataValue+xml",
            r#"<MetadataValue xmlns="http://www.vmware.com/vcloud/v1.5" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><TypedValue xsi:type="MetadataStringValue"><Value>abc</Value></TypedValue></MetadataValue>"#,
        )
        .await;
    assert!(meta.status.is_success(), "{}", meta.text);
    let task = meta.dom();
    alice.task_ok(task.attr("href").unwrap()).await;
    let exported = first.snapshot().await;
    let moref = first.full.handle.state().vms()[0].moref.clone().unwrap();
    let first_base = first.full.base_url().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("snap.json");
    let loaded = vcd_sim::snapshot::from_bytes(&exported).unwrap();
    vcd_sim::snapshot::save_file(&file, &loaded).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    first.full.shutdown().await;

    let second = start().await;
    let r = second
        .http
        .put(second.url("snapshot"))
        .bearer_auth(second.control.token())
        .body(std::fs::read(&file).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let again = second.snapshot().await;
    assert!(
        again == exported,
        "export → load → export gives the same bytes"
    );
    assert_eq!(
        second.full.handle.state().vapp_names(),
        vec!["cluster1".to_owned()]
    );
    assert_eq!(
        second
            .full
            .handle
            .state()
            .vapp_metadata("cluster1")
            .unwrap()["cse.cluster.id"],
        "abc"
    );
    assert!(
        second.full.guests.lock().vms.contains_key(&moref),
        "the guest came along"
    );

    // The vApp made before the snapshot is deleted after the load.
    let alice = second.login("acme", "alice", "alice-pw").await;
    let href = vapp.replace(&first_base, second.full.base_url());
    let undeploy = alice
        .post(
            &format!("{href}/action/undeploy"),
            "application/vnd.vmware.vcloud.undeployVAppParams+xml",
            r#"<UndeployVAppParams xmlns="http://www.vmware.com/vcloud/v1.5"><UndeployPowerAction>powerOff</UndeployPowerAction></UndeployVAppParams>"#,
        )
        .await;
    assert_eq!(undeploy.status, StatusCode::ACCEPTED, "{}", undeploy.text);
    alice.task_ok(undeploy.dom().attr("href").unwrap()).await;
    let delete = alice.delete(&href).await;
    assert_eq!(delete.status, StatusCode::ACCEPTED, "{}", delete.text);
    alice.task_ok(delete.dom().attr("href").unwrap()).await;
    assert!(second.full.handle.state().vapp_names().is_empty());
    second.full.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_snapshots_are_refused_with_the_reason() {
    let c = start().await;
    for (body, words) in [
        ("{", "not a vcd-sim snapshot"),
        (r#"{"format": "other", "version": 1}"#, "format"),
        (
            r#"{"format": "vcd-sim-snapshot", "version": 99}"#,
            "version 99",
        ),
        (
            r#"{"format": "vcd-sim-snapshot", "version": 1}"#,
            "missing field",
        ),
    ] {
        let r = c
            .http
            .put(c.url("snapshot"))
            .bearer_auth(c.control.token())
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{body}");
        let text = r.text().await.unwrap();
        assert!(text.contains(words), "{body}: {text}");
    }
    // An inconsistent snapshot changes nothing.
    let mut snap: Value = serde_json::from_slice(&c.snapshot().await).unwrap();
    snap["vcd"]["orgs"] = json!([]);
    let r = c
        .http
        .put(c.url("snapshot"))
        .bearer_auth(c.control.token())
        .json(&snap)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("inconsistent"));
    assert!(!c.full.handle.state().read().orgs.is_empty());
    // Counters that later work adds one to are bounded.
    for (path, value, words) in [
        (("vcd", "next_mac"), json!(u64::MAX), "vcd.next_mac"),
        (("guests", "next_disk"), json!(u64::MAX), "guests.next_disk"),
        (
            ("guests", "time_offset_ms"),
            json!(i64::MIN),
            "guests.time_offset_ms",
        ),
    ] {
        let mut snap: Value = serde_json::from_slice(&c.snapshot().await).unwrap();
        snap[path.0][path.1] = value;
        let r = c
            .http
            .put(c.url("snapshot"))
            .bearer_auth(c.control.token())
            .json(&snap)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{words}");
        let text = r.text().await.unwrap();
        assert!(text.contains(words), "{text}");
    }
    c.full.shutdown().await;
}

fn root(password: &str) -> GuestCredentials {
    GuestCredentials {
        username: "root".into(),
        password: password.into(),
    }
}

/// Starts `/bin/bash -c script` as root, retrying while guest operations warm up.
async fn start_program(full: &FullSim, moref: &str, script: &str) -> i64 {
    for _ in 0..500 {
        match full
            .guests
            .start_program(
                moref,
                &root("root-pw"),
                ProgramSpec {
                    program_path: "/bin/bash".into(),
                    arguments: format!("-c '{script}'"),
                    ..ProgramSpec::default()
                },
            )
            .await
        {
            Ok(pid) => return pid,
            Err(GuestFault::GuestOperationsUnavailable) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Err(e) => panic!("{script}: {e:?}"),
        }
    }
    panic!("guest operations never became ready");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guest_processes_are_in_snapshots_and_listed_after_the_load() {
    let first = start().await;
    let alice = first.login("acme", "alice", "alice-pw").await;
    running_vapp(&alice, "procs").await;
    let moref = first.full.handle.state().vms()[0].moref.clone().unwrap();
    {
        let mut state = first.full.guests.lock();
        let vm = state.vms.get_mut(&moref).unwrap();
        assert!(vm.disk.users.set_password("root", "root-pw"));
    }
    first
        .full
        .guests
        .add_fault(FaultRule::new(
            FaultScope::Global,
            GuestFaultKind::HangProcess {
                cmd_contains: Some("forever".into()),
            },
        ))
        .unwrap();
    let running = start_program(&first.full, &moref, "echo forever").await;
    let done = start_program(&first.full, &moref, "echo hi > /tmp/out; exit 3").await;
    let creds = root("root-pw");
    for _ in 0..500 {
        let listed = first
            .full
            .guests
            .list_processes(&moref, &creds, Some(&[done]))
            .unwrap();
        if listed[0].exit_code.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let before = first
        .full
        .guests
        .list_processes(&moref, &creds, None)
        .unwrap();
    let exported = first.snapshot().await;
    let text = String::from_utf8(exported.clone()).unwrap();
    assert!(
        text.contains("\"version\": 2,"),
        "the format version moved on"
    );
    assert!(
        text.contains("echo forever"),
        "the running process is exported"
    );
    first.full.shutdown().await;

    let second = start().await;
    let put = |body: Vec<u8>| {
        second
            .http
            .put(second.url("snapshot"))
            .bearer_auth(second.control.token())
            .body(body)
            .send()
    };
    let r = put(exported.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(
        second.snapshot().await == exported,
        "export → load → export gives the same bytes, processes included"
    );
    // ListProcessesInGuest after the load: the same processes, exit codes and times.
    let after = second
        .full
        .guests
        .list_processes(&moref, &creds, None)
        .unwrap();
    assert_eq!(after, before);
    let find = |pid: i64| after.iter().find(|p| p.pid == pid).unwrap().clone();
    assert_eq!(find(done).exit_code, Some(3));
    assert_eq!(
        find(running).exit_code,
        None,
        "still running after the load"
    );
    assert!(after.iter().any(|p| p.name == "systemd"));
    // A loaded running process can be terminated; new processes get new pids.
    second
        .full
        .guests
        .terminate_process(&moref, &creds, running)
        .unwrap();
    let killed = second
        .full
        .guests
        .list_processes(&moref, &creds, Some(&[running]))
        .unwrap();
    assert_eq!(killed[0].exit_code, Some(137));
    let next = start_program(&second.full, &moref, "true").await;
    assert!(next > done, "pid {next} follows {done}");

    // Version 1 (no processes) still loads: a running guest has just booted.
    let mut v1: Value = serde_json::from_slice(&exported).unwrap();
    v1["version"] = json!(1);
    for vm in v1["guests"]["vms"].as_array_mut().unwrap() {
        vm.as_object_mut().unwrap().remove("processes");
    }
    let r = put(serde_json::to_vec(&v1).unwrap()).await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let booted = second
        .full
        .guests
        .list_processes(&moref, &creds, None)
        .unwrap();
    let names: Vec<&str> = booted.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["systemd", "vmtoolsd", "sshd"]);
    // Version 2 without processes is refused, naming the VM.
    v1["version"] = json!(2);
    let r = put(serde_json::to_vec(&v1).unwrap()).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let text = r.text().await.unwrap();
    assert!(
        text.contains(&moref) && text.contains("processes"),
        "{text}"
    );
    second.full.shutdown().await;
}

/// A CloudAPI login; the access token.
async fn cloudapi_token(c: &Controlled, user: &str, org: &str, password: &str) -> String {
    let path = if org == "System" {
        "sessions/provider"
    } else {
        "sessions"
    };
    let r = c
        .http
        .post(format!("{}/cloudapi/1.0.0/{path}", c.full.base_url()))
        .basic_auth(format!("{user}@{org}"), Some(password))
        .header("Accept", "application/json;version=39.0")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "login of {user}@{org}");
    r.headers()["x-vmware-vcloud-access-token"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extension_faults_and_the_recording_cover_mqtt_extensions() {
    let c = start_release(VcdRelease::V10_6).await;
    let seen = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    *c.full.ext_tap.write() = Some(Arc::new(move |_t, q, a| {
        sink.lock().push((q.request_uri.clone(), a.status));
    }));
    // An MQTT extension with an API filter, as `cse install` registers it.
    let admin = cloudapi_token(&c, "administrator", "System", "vmware-sim-admin").await;
    let r = c
        .http
        .post(format!("{}/cloudapi/extensions/api", c.full.base_url()))
        .bearer_auth(&admin)
        .header("Accept", "application/json;version=39.0")
        .json(&json!({
            "name": "cse", "vendor": "VMware", "version": "1.0.0",
            "priority": 50, "enabled": true, "authorizationEnabled": false,
            "description": "Container Service Extension"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let service = r.headers()["link"]
        .to_str()
        .unwrap()
        .trim_start_matches('<')
        .split('>')
        .next()
        .unwrap()
        .to_owned();
    let r = c
        .http
        .post(format!("{service}/apifilters"))
        .bearer_auth(&admin)
        .header("Accept", "application/*+xml;version=39.0")
        .header("Content-Type", "application/vnd.vmware.admin.apifilter+xml")
        .body(r#"<vmext:ApiFilter xmlns:vmext="http://www.vmware.com/vcloud/extension/v1.5"><vmext:UrlPattern>/api/cse/.*</vmext:UrlPattern></vmext:ApiFilter>"#)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "API filter: {}", r.status());
    let (status, rule) = c
        .post(
            "faults",
            json!({"surface": "extension", "match": {"path_contains": "/api/cse"}, "effect": {"status": 502}, "times": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);

    // No extension is connected: without the rule the request would wait
    // for the extension timeout. The rule answers at once.
    let alice = cloudapi_token(&c, "alice", "acme", "alice-pw").await;
    let r = c
        .http
        .get(format!("{}/api/cse/clusters", c.full.base_url()))
        .bearer_auth(&alice)
        .header("Accept", "application/*+xml;version=39.0")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_GATEWAY);
    let (_, faults) = c.get("faults").await;
    let listed = faults["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == rule["id"])
        .unwrap()
        .clone();
    assert_eq!(listed["hits"], 1, "{faults:#}");
    assert_eq!(
        *seen.lock(),
        vec![("/api/cse/clusters".to_owned(), 502)],
        "the recording's tap saw the message and its answer"
    );
    c.full.shutdown().await;
}

/// Exchanges an API token at `/oauth/tenant/acme/token`; the status.
async fn exchange_token(c: &Controlled, secret: &str) -> StatusCode {
    c.http
        .post(format!("{}/oauth/tenant/acme/token", c.full.base_url()))
        .header("Accept", "application/json")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("grant_type=refresh_token&refresh_token={secret}"))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_tokens_are_in_snapshots_as_digests_and_gone_after_a_reset() {
    let first = start_release(VcdRelease::V10_6).await;
    let alice = cloudapi_token(&first, "alice", "acme", "alice-pw").await;
    let r = first
        .http
        .post(format!("{}/cloudapi/1.0.0/tokens", first.full.base_url()))
        .bearer_auth(&alice)
        .header("Accept", "application/json;version=39.0")
        .json(&json!({"name": "ci", "type": "REFRESH"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let secret = r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(exchange_token(&first, &secret).await, StatusCode::OK);
    let exported = first.snapshot().await;
    let text = String::from_utf8(exported.clone()).unwrap();
    assert!(text.contains("\"api_tokens\": ["), "{text}");
    assert!(!text.contains(&secret), "the secret itself is not exported");
    first.full.shutdown().await;

    let second = start_release(VcdRelease::V10_6).await;
    assert_ne!(exchange_token(&second, &secret).await, StatusCode::OK);
    let r = second
        .http
        .put(second.url("snapshot"))
        .bearer_auth(second.control.token())
        .body(exported.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(second.snapshot().await == exported, "the same bytes");
    assert_eq!(
        exchange_token(&second, &secret).await,
        StatusCode::OK,
        "the token made before the snapshot works after the load"
    );
    // A token of a user the snapshot does not hold is refused.
    let mut orphan: Value = serde_json::from_slice(&exported).unwrap();
    orphan["api_tokens"][0]["owner"] = json!("00000000-0000-0000-0000-000000000001");
    let r = second
        .http
        .put(second.url("snapshot"))
        .bearer_auth(second.control.token())
        .body(serde_json::to_vec(&orphan).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("not in the snapshot"));
    let jwt = cloudapi_token(&second, "alice", "acme", "alice-pw").await;
    let org_list = |jwt: String| {
        second
            .http
            .get(format!("{}/api/org", second.full.base_url()))
            .bearer_auth(jwt)
            .header("Accept", "application/*+xml;version=39.0")
            .send()
    };
    assert_eq!(
        org_list(jwt.clone()).await.unwrap().status(),
        StatusCode::OK
    );
    let (status, _) = second.post("reset", json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        org_list(jwt).await.unwrap().status(),
        StatusCode::UNAUTHORIZED,
        "a reset ends CloudAPI sessions too"
    );
    assert_ne!(
        exchange_token(&second, &secret).await,
        StatusCode::OK,
        "a reset drops tokens made since the start"
    );
    second.full.shutdown().await;
}
