//! `vcd-cse` against the vCD simulator: real login/session/org documents, vCD's extension
//! routing of `/api/cse` (to an in-test CSE stand-in through the simulator's forwarder hook,
//! and once the whole way: simulator → AMQP (in-memory broker) → the CSE server's listeners),
//! tasks created and finished in the simulator and followed with `--wait`, and vCD's own
//! answers when no extension is registered or the extension does not reply in time.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cse_core::api::{ClusterTaskReply, TemplateEntry};
use cse_tenant::{self as tenant, Io, ProgressMode, Prompter, Settings};
use futures::future::BoxFuture;
use vcd_sim::ext::responses::timeout_response;
use vcd_sim::ext::{ExtensionTarget, ForwardedRequest, ForwardedResponse};
use vcd_sim::rest::ExtensionForwarder;
use vcd_sim::state::admin::ServiceInput;
use vcd_sim::state::tasks::TaskInput;
use vcd_sim::state::{Caller, ErrorInfo, Sim, TaskStatus, uuid_of};
use vcd_sim::{SimBuilder, SimHandle, VcdRelease};

/// What the stand-in saw and how it answers.
#[derive(Default)]
struct CseLog {
    requests: Vec<ForwardedRequest>,
}

/// A minimal CSE: templates, node deletion with a vCD task (finished at once, in error when
/// the node is `node-bad`), and a silent route that makes vCD time out.
struct StandIn {
    sim: Arc<Sim>,
    admin: Caller,
    base: String,
    log: Arc<Mutex<CseLog>>,
}

impl StandIn {
    fn answer(&self, target: &ExtensionTarget, req: &ForwardedRequest) -> ForwardedResponse {
        let accept = req
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("accept"))
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let json = |status: u16, body: String| ForwardedResponse {
            status,
            headers: vec![("Content-Type".into(), accept.clone())],
            body: body.into(),
        };
        match (req.method.as_str(), req.request_uri.as_str()) {
            ("GET", "/api/cse/template") => json(
                200,
                serde_json::to_string(&vec![TemplateEntry {
                    name: "photon-v2".into(),
                    is_default: true,
                    catalog: "cse".into(),
                    catalog_item: "photon-custom-hw11-2.0-304b817-k8s".into(),
                    description: "PhotonOS v2".into(),
                }])
                .unwrap(),
            ),
            ("DELETE", "/api/cse/c1/node") => {
                let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
                let bad = body["nodes"]
                    .as_array()
                    .is_some_and(|n| n.iter().any(|v| v == "node-bad"));
                let org = uuid_of(&req.security.org_urn).expect("org urn");
                let task = self
                    .sim
                    .create_external_task(
                        &self.admin,
                        org,
                        TaskInput {
                            status: Some(TaskStatus::Running),
                            operation: Some("Deleting 1 node(s) from c1(5e0e)".into()),
                            operation_name: Some("delete_nodes".into()),
                            service_namespace: Some("vcloud.cse".into()),
                            ..TaskInput::default()
                        },
                    )
                    .unwrap();
                let end = if bad {
                    TaskInput {
                        status: Some(TaskStatus::Error),
                        error: Some(ErrorInfo {
                            major: 500,
                            minor: "INTERNAL_SERVER_ERROR".into(),
                            message: "Couldn't delete node(s):\nError from server (NotFound): nodes \"node-bad\" not found".into(),
                            stack_trace: String::new(),
                        }),
                        ..TaskInput::default()
                    }
                } else {
                    TaskInput {
                        status: Some(TaskStatus::Success),
                        operation: Some("Deleted 1 node(s) to cluster c1(5e0e)".into()),
                        ..TaskInput::default()
                    }
                };
                self.sim.update_task(&self.admin, task.id, end).unwrap();
                json(
                    202,
                    serde_json::to_string(&ClusterTaskReply {
                        cluster_name: "c1".into(),
                        task_href: format!("{}/api/task/{}", self.base, task.id),
                    })
                    .unwrap(),
                )
            }
            ("GET", "/api/cse/silent/info") => timeout_response(req, target, 10),
            (m, p) => json(
                404,
                serde_json::json!({ "message": format!("Unknown request: {m} {p}") }).to_string(),
            ),
        }
    }
}

/// The forwarder is installed before the simulator exists, so the stand-in is filled in
/// after start.
#[derive(Default)]
struct Forwarder {
    cse: Mutex<Option<Arc<StandIn>>>,
}

impl ExtensionForwarder for Forwarder {
    fn forward(
        &self,
        target: ExtensionTarget,
        req: ForwardedRequest,
    ) -> BoxFuture<'static, ForwardedResponse> {
        let cse = self
            .cse
            .lock()
            .unwrap()
            .clone()
            .expect("stand-in installed");
        Box::pin(async move {
            cse.log.lock().unwrap().requests.push(req.clone());
            cse.answer(&target, &req)
        })
    }
}

struct World {
    sim: SimHandle,
    log: Arc<Mutex<CseLog>>,
    settings: Settings,
    _dir: tempfile::TempDir,
}

impl World {
    async fn start(register_cse: bool) -> World {
        World::start_release(register_cse, VcdRelease::default()).await
    }

    async fn start_release(register_cse: bool, release: VcdRelease) -> World {
        tenant::install_tls();
        let forwarder = Arc::new(Forwarder::default());
        let sim = SimBuilder::new()
            .vcd_release(release)
            .extension_forwarder(forwarder.clone())
            .start_vcd()
            .await
            .expect("simulator starts");
        let state = sim.state().clone();
        let (_, admin) = state
            .login("System", "administrator", "vmware-sim-admin")
            .unwrap();
        if register_cse {
            state
                .create_service(
                    &admin,
                    ServiceInput {
                        name: "cse".into(),
                        namespace: "cse".into(),
                        vendor: None,
                        enabled: true,
                        exchange: "cse-ext".into(),
                        routing_key: "cse".into(),
                        priority: None,
                        authorization_enabled: None,
                        description: None,
                        filters: vec![
                            "/api/cse".into(),
                            "/api/cse/.*".into(),
                            "/api/cse/.*/.*".into(),
                        ],
                    },
                )
                .unwrap();
        }
        let log = Arc::new(Mutex::new(CseLog::default()));
        *forwarder.cse.lock().unwrap() = Some(Arc::new(StandIn {
            sim: state,
            admin,
            base: sim.base_url.clone(),
            log: log.clone(),
        }));
        let dir = tempfile::tempdir().unwrap();
        World {
            settings: Settings {
                profile_path: dir.path().join("profile.yaml"),
                poll_interval: Duration::from_millis(5),
            },
            sim,
            log,
            _dir: dir,
        }
    }

    fn base(&self) -> String {
        self.sim.base_url.clone()
    }

    async fn run(&self, args: &[&str]) -> (i32, String, String) {
        struct NoPrompts;
        impl Prompter for NoPrompts {
            fn password(&mut self, _: &str) -> std::io::Result<String> {
                Err(std::io::Error::other("no terminal"))
            }
            fn confirm(&mut self, _: &str) -> std::io::Result<bool> {
                Ok(false)
            }
        }
        let mut out = Vec::new();
        let mut err = Vec::new();
        let mut all = vec!["vcd-cse"];
        all.extend_from_slice(args);
        let code = {
            let mut io = Io {
                stdout: &mut out,
                stderr: &mut err,
                prompter: &mut NoPrompts,
                progress: ProgressMode::Hidden,
            };
            tenant::run(all, &self.settings, &mut io).await
        };
        (
            code,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    async fn login_alice(&self) {
        let base = self.base();
        let (code, out, err) = self
            .run(&["login", &base, "acme", "alice", "-p", "alice-pw"])
            .await;
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (0, "alice logged in, org: 'acme', vdc: 'vdc1'\n", "")
        );
    }
}

#[tokio::test]
async fn login_and_template_list_through_vcd_extension_routing() {
    let world = World::start(true).await;
    world.login_alice().await;
    let profile = std::fs::read_to_string(&world.settings.profile_path).unwrap();
    assert!(profile.contains("api_version: '32.0'"), "{profile}");

    let (code, out, err) = world.run(&["template", "list"]).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "name       description    catalog    catalog_item                        is_default\n\
         ---------  -------------  ---------  ----------------------------------  ------------\n\
         photon-v2  PhotonOS v2    cse        photon-custom-hw11-2.0-304b817-k8s  true\n"
    );
    // vCD forwarded the CLI's headers and the caller's identity.
    let log = world.log.lock().unwrap();
    let req = log.requests.last().unwrap();
    let header = |name: &str| {
        req.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        header("accept").as_deref(),
        Some("application/*+json;version=32.0")
    );
    assert!(header("x-vcloud-authorization").is_some_and(|t| !t.is_empty()));
    assert_eq!(req.security.user_name, "alice");
    assert_eq!(req.security.org_name, "acme");
}

#[tokio::test]
async fn on_vcd_10_6_the_login_is_a_cloudapi_session_kept_as_a_bearer_token() {
    let world = World::start_release(true, VcdRelease::V10_6).await;
    // The org links a query of its VDCs at 39.0; the login still finds vdc1.
    world.login_alice().await;
    let profile = std::fs::read_to_string(&world.settings.profile_path).unwrap();
    assert!(profile.contains("api_version: '39.0'"), "{profile}");
    assert!(profile.contains("token_type: bearer"), "{profile}");

    let (code, _, err) = world.run(&["template", "list"]).await;
    assert_eq!(code, 0, "{err}");
    {
        let log = world.log.lock().unwrap();
        let req = log.requests.last().unwrap();
        let header = |name: &str| {
            req.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        assert!(
            header("authorization").is_some_and(|v| v.starts_with("Bearer ey")),
            "{:?}",
            req.headers.iter().map(|(k, _)| k).collect::<Vec<_>>()
        );
        assert_eq!(req.security.user_name, "alice");
    }
    // Logout goes through DELETE /cloudapi/1.0.0/sessions/current (vCD 10.6 has no
    // DELETE /api/session at 39.0); the stored token is forgotten.
    let token = |text: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix("token: "))
            .unwrap_or_default()
            .to_owned()
    };
    let jwt = token(&profile);
    assert!(jwt.starts_with("ey"), "{profile}");
    let (code, _, err) = world.run(&["logout"]).await;
    assert_eq!(code, 0, "{err}");
    let after = std::fs::read_to_string(&world.settings.profile_path).unwrap();
    assert!(!after.contains(&jwt), "{after}");
    let http = reqwest::Client::new();
    let status = http
        .get(format!("{}/api/session", world.base()))
        .bearer_auth(&jwt)
        .header("Accept", "application/*+xml;version=39.0")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 401, "the session was ended in vCD");

    // A JWT handed over with --session-id is taken as a bearer token.
    let login = http
        .post(format!("{}/cloudapi/1.0.0/sessions", world.base()))
        .header("Accept", "application/json;version=39.0")
        .basic_auth("alice@acme", Some("alice-pw"))
        .send()
        .await
        .unwrap();
    let jwt = login
        .headers()
        .get("x-vmware-vcloud-access-token")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let base = world.base();
    let (code, out, err) = world
        .run(&["login", &base, "acme", "alice", "--session-id", &jwt])
        .await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "alice logged in, org: 'acme', vdc: 'vdc1'\n");
    let profile = std::fs::read_to_string(&world.settings.profile_path).unwrap();
    assert!(profile.contains("token_type: bearer"), "{profile}");
    let (code, _, err) = world.run(&["template", "list"]).await;
    assert_eq!(code, 0, "{err}");
}

#[tokio::test]
async fn wrong_password_and_unknown_org_are_refused_by_vcd() {
    let world = World::start(true).await;
    let base = world.base();
    let (code, _, err) = world
        .run(&["login", &base, "acme", "alice", "-p", "nope"])
        .await;
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "Error: Login failed: wrong organization, user name or password.\n"
    );
    let (code, _, err) = world
        .run(&["login", &base, "nosuchorg", "alice", "-p", "alice-pw"])
        .await;
    assert_eq!(code, 1);
    assert!(err.contains("Login failed"), "{err}");
    let (code, _, err) = world
        .run(&[
            "login", &base, "acme", "alice", "-p", "alice-pw", "-V", "99.0",
        ])
        .await;
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "Error: vCD refused the request (HTTP 406) (The request has invalid accept header: Invalid API version requested: 99.0). Log in again without -V/--version, or with a version vCD offers.\n"
    );
}

#[tokio::test]
async fn node_delete_follows_the_vcd_task_to_its_end() {
    let world = World::start(true).await;
    world.login_alice().await;
    let (code, out, err) = world
        .run(&["node", "delete", "c1", "node-ab12", "--yes", "--wait"])
        .await;
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("task: ")
            && out.ends_with(", Deleted 1 node(s) to cluster c1(5e0e), result: success\n"),
        "{out}"
    );
    let (code, out, err) = world
        .run(&["node", "delete", "c1", "node-bad", "-y", "--wait"])
        .await;
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(
        err.starts_with("Error: task: ")
            && err.ends_with(", result: error, message: Couldn't delete node(s):\nError from server (NotFound): nodes \"node-bad\" not found\n"),
        "{err}"
    );
}

#[tokio::test]
async fn vcd_answers_for_a_missing_or_silent_extension() {
    let world = World::start(true).await;
    world.login_alice().await;
    let (code, _, err) = world.run(&["cluster", "info", "silent"]).await;
    assert_eq!(code, 1);
    assert!(
        err.starts_with("Error: External service 'cse' failed to respond in the specified timeout (10 SECONDS). The CSE server did not answer in time"),
        "{err}"
    );

    let bare = World::start(false).await;
    bare.login_alice().await;
    let (code, _, err) = bare.run(&["template", "list"]).await;
    assert_eq!(code, 1);
    assert!(
        err.starts_with("Error: CSE is not available on this vCloud Director: the request to /api/cse was answered by vCD itself (HTTP 4"),
        "{err}"
    );
    let (code, _, err) = bare.run(&["cluster", "config", "c1"]).await;
    assert_eq!(code, 1);
    assert!(err.contains("probably not registered"), "{err}");
}

/// The simulator's AMQP round trip as its extension forwarder.
struct AmqpForwarder(Arc<vcd_sim::ext::ExtensionRouter>);

impl ExtensionForwarder for AmqpForwarder {
    fn forward(
        &self,
        target: ExtensionTarget,
        req: ForwardedRequest,
    ) -> BoxFuture<'static, ForwardedResponse> {
        let router = self.0.clone();
        Box::pin(async move { router.forward(&target, req).await })
    }
}

#[tokio::test]
async fn system_info_goes_through_amqp_to_the_cse_server() {
    use cse_server::amqp::{ListenerConfig, ListenerPool, ReplyJournal};

    tenant::install_tls();
    let broker = cse_bus::memory::MemoryBroker::new();
    let mut listener_config = ListenerConfig::new("cse-ext", "cse");
    listener_config.listeners = 2;
    let pool = ListenerPool::start(
        Arc::new(broker.connect()),
        listener_config,
        Arc::new(cse_server::service::Service::new()),
        ReplyJournal::in_memory(16),
    );
    assert!(pool.wait_connected(Duration::from_secs(10)).await);
    let router = Arc::new(vcd_sim::ext::ExtensionRouter::new(
        Arc::new(broker.connect()),
        Duration::from_secs(10),
    ));
    let sim = SimBuilder::new()
        .extension_forwarder(Arc::new(AmqpForwarder(router)))
        .start_vcd()
        .await
        .expect("simulator starts");
    let state = sim.state().clone();
    let (_, admin) = state
        .login("System", "administrator", "vmware-sim-admin")
        .unwrap();
    state
        .create_service(
            &admin,
            ServiceInput {
                name: "cse".into(),
                namespace: "cse".into(),
                vendor: None,
                enabled: true,
                exchange: "cse-ext".into(),
                routing_key: "cse".into(),
                priority: None,
                authorization_enabled: None,
                description: None,
                filters: vec![
                    "/api/cse".into(),
                    "/api/cse/.*".into(),
                    "/api/cse/.*/.*".into(),
                ],
            },
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let world = World {
        settings: Settings {
            profile_path: dir.path().join("profile.yaml"),
            poll_interval: Duration::from_millis(5),
        },
        sim,
        log: Arc::new(Mutex::new(CseLog::default())),
        _dir: dir,
    };
    world.login_alice().await;
    let (code, out, err) = world.run(&["system", "info"]).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!(
            "property     value\n\
             -----------  ------------------------------------------------------\n\
             description  Container Service Extension for VMware vCloud Director\n\
             product      CSE\n\
             version      {}\n",
            cse_core::CSE_VERSION
        )
    );
    let (code, out, _) = world.run(&["system", "info", "--json"]).await;
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["product"], "CSE");
    pool.stop(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn tls_is_verified_unless_disabled_with_i() {
    tenant::install_tls();
    let sim = SimBuilder::new()
        .https(true)
        .start_vcd()
        .await
        .expect("simulator starts");
    let dir = tempfile::tempdir().unwrap();
    let world = World {
        settings: Settings {
            profile_path: dir.path().join("profile.yaml"),
            poll_interval: Duration::from_millis(5),
        },
        sim,
        log: Arc::new(Mutex::new(CseLog::default())),
        _dir: dir,
    };
    let base = world.base();
    assert!(base.starts_with("https://"), "{base}");
    // The simulator's certificate is self-signed: refused by default.
    let (code, _, err) = world
        .run(&["login", &base, "acme", "alice", "-p", "alice-pw"])
        .await;
    assert_eq!(code, 1);
    assert!(
        err.starts_with(&format!("Error: Cannot reach {base}/api/versions: "))
            && err.ends_with("(the server's TLS certificate is not trusted; log in with -i/--no-verify-ssl-certs to skip the check)\n"),
        "{err}"
    );
    // -i: accepted, with vcd-cli's warning on stderr (here and on every later command).
    let (code, out, err) = world
        .run(&["login", &base, "acme", "alice", "-p", "alice-pw", "-i"])
        .await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "alice logged in, org: 'acme', vdc: 'vdc1'\n");
    assert_eq!(err, format!("{}\n", cse_tenant::commands::INSECURE_WARNING));
    let (code, _, err) = world.run(&["logout"]).await;
    assert_eq!(code, 0);
    assert_eq!(err, format!("{}\n", cse_tenant::commands::INSECURE_WARNING));
    // -w silences the warning.
    let (code, _, err) = world
        .run(&[
            "login", &base, "acme", "alice", "-p", "alice-pw", "-i", "-w",
        ])
        .await;
    assert_eq!((code, err.as_str()), (0, ""));
    let (code, _, err) = world.run(&["logout"]).await;
    assert_eq!((code, err.as_str()), (0, ""));
}
