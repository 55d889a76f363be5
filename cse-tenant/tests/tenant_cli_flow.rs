//! `vcd-cse` end to end against a scripted vCD stub (axum on a local port): login and the
//! stored profile, the exact requests each command sends (paths, headers, bodies), `--wait`
//! task following, confirmations, and the error texts for 401/403/404/406/504.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use cse_tenant::{self as tenant, Io, ProgressMode, Prompter, Settings};
use serde_json::{Value, json};

const TOKEN: &str = "b1946ac92492d2347c6235b4d2611184";
const PASSWORD: &str = "t0pS3cret!";

/// One request the stub received.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    accept: String,
    token: Option<String>,
    body: String,
}

#[derive(Default)]
struct StubState {
    seen: Vec<Seen>,
    /// Task documents served one per GET (the last one repeats).
    task_script: VecDeque<String>,
    /// `/api/cse` answered by vCD itself (no extension registered).
    cse_unregistered: bool,
    /// Tokens vCD no longer accepts.
    revoked: bool,
    base: String,
}

type Shared = Arc<Mutex<StubState>>;

fn xml(status: StatusCode, body: String) -> Response {
    (
        status,
        [(
            "Content-Type",
            "application/vnd.vmware.vcloud+xml;version=31.0",
        )],
        body,
    )
        .into_response()
}

fn json_reply(status: StatusCode, body: Value) -> Response {
    (
        status,
        [("Content-Type", "application/*+json;version=31.0")],
        body.to_string(),
    )
        .into_response()
}

fn vcd_error(code: u16, minor: &str, message: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Error xmlns="http://www.vmware.com/vcloud/v1.5" majorErrorCode="{code}" minorErrorCode="{minor}" message="{message}"/>"#
    )
}

fn task_doc(base: &str, id: &str, status: &str, operation: &str, error: Option<&str>) -> String {
    let error = error
        .map(|m| {
            format!(
                r#"<Error majorErrorCode="500" minorErrorCode="INTERNAL_SERVER_ERROR" message="{m}"/>"#
            )
        })
        .unwrap_or_default();
    format!(
        r#"<Task xmlns="http://www.vmware.com/vcloud/v1.5" href="{base}/api/task/{id}" id="urn:vcloud:task:{id}" name="task" status="{status}" operation="{operation}" operationName="create_cluster" serviceNamespace="vcloud.cse">{error}<Details/></Task>"#
    )
}

fn cluster_json(name: &str) -> Value {
    json!({
        "name": name, "vapp_id": "2b4f", "vapp_href": "https://h/api/vApp/vapp-2b4f",
        "vdc_name": "vdc1", "vdc_href": "https://h/api/vdc/8c1d", "leader_endpoint": "10.0.0.10",
        "master_nodes": [{"name": "mstr-7xk2", "ipAddress": "10.0.0.10"}],
        "nodes": [{"name": "node-dj3s", "ipAddress": "10.0.0.11"}],
        "nfs_nodes": [{"name": "nfsd-p0q9", "ipAddress": "10.0.0.12"}],
        "number_of_vms": "3", "template": "photon-v2", "cse_version": "0.1.0",
        "cluster_id": "5e0e", "status": "POWERED_ON"
    })
}

async fn handle(
    State(state): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let path = uri.path().to_owned();
    let token = header("x-vcloud-authorization");
    let mut st = state.lock().unwrap();
    st.seen.push(Seen {
        method: method.to_string(),
        path: path.clone(),
        accept: header("accept").unwrap_or_default(),
        token: token.clone(),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let base = st.base.clone();
    if path == "/api/versions" {
        // A vCD 9.5: legacy logins only, so nothing from 33.0 on.
        let infos: String = ["27.0", "29.0", "30.0", "31.0", "32.0"]
            .iter()
            .map(|v| {
                format!(
                    "<VersionInfo deprecated=\"false\"><Version>{v}</Version><LoginUrl>{base}/api/sessions</LoginUrl></VersionInfo>"
                )
            })
            .collect();
        return xml(
            StatusCode::OK,
            format!(
                r#"<SupportedVersions xmlns="http://www.vmware.com/vcloud/versions">{infos}</SupportedVersions>"#
            ),
        );
    }
    let session = format!(
        r#"<Session xmlns="http://www.vmware.com/vcloud/v1.5" href="{base}/api/session" user="alice" org="acme" userId="urn:vcloud:user:9a1"><Link rel="down" href="{base}/api/org/" type="application/vnd.vmware.vcloud.orgList+xml"/><Link rel="remove" href="{base}/api/session"/><Link rel="down" href="{base}/api/org/11aa" name="acme" type="application/vnd.vmware.vcloud.org+xml"/></Session>"#
    );
    if path == "/api/sessions" && method == Method::POST {
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("alice@acme:{PASSWORD}"))
        );
        if header("authorization").as_deref() != Some(expected.as_str()) {
            return xml(
                StatusCode::UNAUTHORIZED,
                vcd_error(401, "UNAUTHORIZED", "Bad credentials"),
            );
        }
        st.revoked = false;
        return (StatusCode::OK, [("x-vcloud-authorization", TOKEN)], session).into_response();
    }
    if token.as_deref() != Some(TOKEN) || st.revoked {
        return xml(
            StatusCode::UNAUTHORIZED,
            vcd_error(401, "UNAUTHORIZED", "Not authenticated"),
        );
    }
    let m = method.as_str();
    match (m, path.as_str()) {
        ("GET", "/api/session") => xml(StatusCode::OK, session),
        ("DELETE", "/api/session") => {
            st.revoked = true;
            StatusCode::NO_CONTENT.into_response()
        }
        ("GET", "/api/org/11aa") => xml(
            StatusCode::OK,
            format!(
                r#"<Org xmlns="http://www.vmware.com/vcloud/v1.5" name="acme"><Link rel="down" href="{base}/api/vdc/8c1d" name="vdc1" type="application/vnd.vmware.vcloud.vdc+xml"/><Link rel="down" href="{base}/api/vdc/77ee" name="vdc2" type="application/vnd.vmware.vcloud.vdc+xml"/><Link rel="down" href="{base}/api/catalog/1" name="cse" type="application/vnd.vmware.vcloud.catalog+xml"/></Org>"#
            ),
        ),
        (_, p) if p.starts_with("/api/task/") => {
            let doc = if st.task_script.len() > 1 {
                st.task_script.pop_front()
            } else {
                st.task_script.front().cloned()
            };
            match doc {
                Some(doc) => xml(StatusCode::OK, doc),
                None => xml(
                    StatusCode::FORBIDDEN,
                    vcd_error(403, "ACCESS_TO_RESOURCE_IS_FORBIDDEN", "no such task"),
                ),
            }
        }
        (_, p) if p.starts_with("/api/cse") && st.cse_unregistered => xml(
            StatusCode::NOT_ACCEPTABLE,
            vcd_error(
                406,
                "NOT_ACCEPTABLE",
                "The request has invalid accept header",
            ),
        ),
        ("GET", "/api/cse") => json_reply(StatusCode::OK, json!([cluster_json("mycluster")])),
        ("POST", "/api/cse") => json_reply(
            StatusCode::ACCEPTED,
            json!({"name": "mycluster", "cluster_id": "5e0e", "task_href": format!("{base}/api/task/t1")}),
        ),
        ("GET", "/api/cse/template") => json_reply(
            StatusCode::OK,
            json!([{"name": "photon-v2", "is_default": true, "catalog": "cse",
                    "catalog_item": "photon-custom-hw11-2.0-304b817-k8s", "description": "PhotonOS v2"}]),
        ),
        ("GET", "/api/cse/system") => json_reply(
            StatusCode::OK,
            json!({"product": "CSE", "description": "Container Service Extension for VMware vCloud Director", "version": "0.1.0"}),
        ),
        ("PUT", "/api/cse/system") => json_reply(StatusCode::OK, json!({"message": "Updated"})),
        ("GET", "/api/cse/mycluster/info") => json_reply(StatusCode::OK, cluster_json("mycluster")),
        ("GET", "/api/cse/mycluster/config") => json_reply(
            StatusCode::OK,
            json!(
                "apiVersion: v1\nclusters:\n- cluster:\n    server: https://10.0.0.10:6443\n  name: kubernetes\n"
            ),
        ),
        ("GET", "/api/cse/mycluster/node-dj3s/info") => json_reply(
            StatusCode::OK,
            json!({"name": "node-dj3s", "numberOfCpus": 2, "memoryMB": 2048, "status": "Powered on",
                   "ipAddress": "10.0.0.11", "node_type": "node"}),
        ),
        ("DELETE", "/api/cse/mycluster")
        | ("POST", "/api/cse/mycluster/node")
        | ("DELETE", "/api/cse/mycluster/node") => json_reply(
            StatusCode::ACCEPTED,
            json!({"cluster_name": "mycluster", "task_href": format!("{base}/api/task/t1")}),
        ),
        ("GET", "/api/cse/slow/info") => xml(
            StatusCode::GATEWAY_TIMEOUT,
            vcd_error(
                504,
                "GATEWAY_TIMEOUT",
                "External service 'cse' failed to respond in the specified timeout (10 SECONDS)",
            ),
        ),
        ("GET", "/api/cse/secret/info") => xml(
            StatusCode::FORBIDDEN,
            vcd_error(403, "ACCESS_TO_RESOURCE_IS_FORBIDDEN", "Access denied"),
        ),
        (_, p) if p.starts_with("/api/cse/") && p.ends_with("/info") => json_reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"message": format!("Cluster '{}' not found.", p.split('/').nth(3).unwrap_or_default())}),
        ),
        (_, p) if p.starts_with("/api/cse") => json_reply(
            StatusCode::NOT_FOUND,
            json!({"message": format!("Unknown request: {m} {p}")}),
        ),
        _ => xml(
            StatusCode::NOT_FOUND,
            vcd_error(404, "RESOURCE_NOT_FOUND", "Not found"),
        ),
    }
}

struct Stub {
    state: Shared,
    base: String,
    settings: Settings,
    _dir: tempfile::TempDir,
}

impl Stub {
    async fn start() -> Stub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state: Shared = Arc::new(Mutex::new(StubState {
            base: base.clone(),
            ..StubState::default()
        }));
        let app = Router::new().fallback(handle).with_state(state.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings {
            profile_path: dir.path().join("home").join("profile.yaml"),
            poll_interval: Duration::from_millis(5),
        };
        Stub {
            state,
            base,
            settings,
            _dir: dir,
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    fn last(&self) -> Seen {
        self.seen().last().cloned().unwrap()
    }

    fn clear_seen(&self) {
        self.state.lock().unwrap().seen.clear();
    }

    fn script_tasks(&self, docs: Vec<String>) {
        self.state.lock().unwrap().task_script = docs.into();
    }

    async fn run(&self, args: &[&str]) -> Outcome {
        self.run_with(args, &mut Scripted::default()).await
    }

    async fn run_with(&self, args: &[&str], prompter: &mut Scripted) -> Outcome {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let mut all = vec!["vcd-cse"];
        all.extend_from_slice(args);
        let code = {
            let mut io = Io {
                stdout: &mut out,
                stderr: &mut err,
                prompter,
                progress: ProgressMode::Hidden,
            };
            tenant::run(all, &self.settings, &mut io).await
        };
        Outcome {
            code,
            stdout: String::from_utf8(out).unwrap(),
            stderr: String::from_utf8(err).unwrap(),
        }
    }

    async fn login(&self) {
        let out = self
            .run(&["login", &self.base, "acme", "alice", "-p", PASSWORD])
            .await;
        assert_eq!(out.code, 0, "{out:?}");
        self.clear_seen();
    }

    fn profile_path(&self) -> PathBuf {
        self.settings.profile_path.clone()
    }
}

#[derive(Debug)]
struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Answers prompts from a script and counts them.
#[derive(Default)]
struct Scripted {
    password: Option<String>,
    confirm: bool,
    asked: Vec<String>,
}

impl Prompter for Scripted {
    fn password(&mut self, prompt: &str) -> std::io::Result<String> {
        self.asked.push(prompt.to_owned());
        self.password
            .clone()
            .ok_or_else(|| std::io::Error::other("no terminal"))
    }

    fn confirm(&mut self, question: &str) -> std::io::Result<bool> {
        self.asked.push(question.to_owned());
        Ok(self.confirm)
    }
}

#[tokio::test]
async fn login_stores_a_private_profile_and_logout_forgets_the_token() {
    let stub = Stub::start().await;
    let out = stub
        .run(&["login", &stub.base, "acme", "alice", "-p", PASSWORD])
        .await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout, "alice logged in, org: 'acme', vdc: 'vdc1'\n");
    assert_eq!(out.stderr, "", "no TLS warning for plain http");
    assert!(!out.stdout.contains(TOKEN) && !out.stderr.contains(TOKEN));

    let seen = stub.seen();
    let calls: Vec<String> = seen
        .iter()
        .map(|s| format!("{} {}", s.method, s.path))
        .collect();
    assert_eq!(
        calls,
        [
            "GET /api/versions",
            "POST /api/sessions",
            "GET /api/org/11aa"
        ]
    );
    // Highest version both sides know (vCD also offers 33.0).
    assert_eq!(seen[1].accept, "application/*+xml;version=32.0");
    assert_eq!(seen[2].token.as_deref(), Some(TOKEN));

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(stub.profile_path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let stored = std::fs::read_to_string(stub.profile_path()).unwrap();
    assert!(
        stored.contains("api_version: '32.0'") || stored.contains("api_version: \"32.0\""),
        "{stored}"
    );
    assert!(stored.contains("vdc: vdc1"), "{stored}");

    let out = stub.run(&["--json", "logout"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout, "{\n    \"message\": \"alice logged out.\"\n}\n");
    assert_eq!(stub.last().method, "DELETE");
    let out = stub.run(&["cluster", "list"]).await;
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr,
        "Error: Not logged in. Log in first with 'vcd-cse login HOST ORG USER'.\n"
    );
}

#[tokio::test]
async fn login_options_prompt_version_vdc_and_session_id() {
    let stub = Stub::start().await;
    let mut prompter = Scripted {
        password: Some(PASSWORD.into()),
        ..Scripted::default()
    };
    let out = stub
        .run_with(
            &[
                "login", &stub.base, "acme", "alice", "-V", "31.0", "--vdc", "vdc2", "--json",
            ],
            &mut prompter,
        )
        .await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(prompter.asked, ["Password: "]);
    insta::assert_snapshot!("flow_login_json", out.stdout);
    let calls: Vec<String> = stub.seen().iter().map(|s| s.path.clone()).collect();
    assert!(
        !calls.contains(&"/api/versions".to_owned()),
        "-V skips negotiation"
    );
    assert_eq!(stub.seen()[0].accept, "application/*+xml;version=31.0");

    let out = stub
        .run(&[
            "login", &stub.base, "acme", "alice", "-p", PASSWORD, "-v", "nope",
        ])
        .await;
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr,
        "Error: VDC 'nope' not found in the organization.\n"
    );

    // Reusing a session token: GET /api/session instead of a password login.
    stub.clear_seen();
    let out = stub
        .run(&["login", &stub.base, "acme", "alice", "-d", TOKEN])
        .await;
    assert_eq!(out.code, 0, "{out:?}");
    let calls: Vec<String> = stub
        .seen()
        .iter()
        .map(|s| format!("{} {}", s.method, s.path))
        .collect();
    assert_eq!(
        calls,
        ["GET /api/versions", "GET /api/session", "GET /api/org/11aa"]
    );
}

#[tokio::test]
async fn a_failed_login_is_clear_and_clears_the_old_session() {
    let stub = Stub::start().await;
    stub.login().await;
    let out = stub
        .run(&["login", &stub.base, "acme", "alice", "-p", "wrong"])
        .await;
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr,
        "Error: Login failed: wrong organization, user name or password.\n"
    );
    let out = stub.run(&["template", "list"]).await;
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("Not logged in"), "{out:?}");

    // No password and no terminal to ask on.
    let out = stub.run(&["login", &stub.base, "acme", "alice"]).await;
    assert_eq!(out.code, 1);
    assert_eq!(out.stderr, "Error: Cannot read the password: no terminal\n");

    let out = stub
        .run(&["login", "http://127.0.0.1:1", "acme", "alice", "-p", "x"])
        .await;
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .starts_with("Error: Cannot reach http://127.0.0.1:1/api/versions: "),
        "{out:?}"
    );
}

#[tokio::test]
async fn read_commands_send_vcd_cli_headers_and_print_tables() {
    let stub = Stub::start().await;
    stub.login().await;

    let out = stub.run(&["template", "list"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    insta::assert_snapshot!("flow_template_list", out.stdout);
    let seen = stub.last();
    assert_eq!(
        (seen.method.as_str(), seen.path.as_str()),
        ("GET", "/api/cse/template")
    );
    assert_eq!(seen.accept, "application/*+json;version=32.0");
    assert_eq!(seen.token.as_deref(), Some(TOKEN));

    let out = stub.run(&["cluster", "list"]).await;
    insta::assert_snapshot!("flow_cluster_list", out.stdout);
    assert_eq!(stub.last().path, "/api/cse");

    let out = stub.run(&["cluster", "info", "mycluster"]).await;
    insta::assert_snapshot!("flow_cluster_info", out.stdout);

    let out = stub.run(&["node", "list", "mycluster", "-j"]).await;
    insta::assert_snapshot!("flow_node_list_json", out.stdout);
    assert_eq!(stub.last().path, "/api/cse/mycluster/info");

    let out = stub.run(&["node", "info", "mycluster", "node-dj3s"]).await;
    insta::assert_snapshot!("flow_node_info", out.stdout);
    assert_eq!(stub.last().path, "/api/cse/mycluster/node-dj3s/info");

    let out = stub.run(&["system", "info"]).await;
    insta::assert_snapshot!("flow_system_info", out.stdout);

    let out = stub.run(&["version"]).await;
    assert_eq!(
        out.stdout,
        format!(
            "CSE, Container Service Extension for VMware vCloud Director, version {}\n",
            cse_core::CSE_VERSION
        )
    );
}

#[tokio::test]
async fn cluster_config_is_the_unescaped_yaml() {
    let stub = Stub::start().await;
    stub.login().await;
    let out = stub.run(&["cluster", "config", "mycluster"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stdout,
        "apiVersion: v1\nclusters:\n- cluster:\n    server: https://10.0.0.10:6443\n  name: kubernetes\n"
    );
    assert_eq!(stub.last().accept, "text/x-yaml;version=32.0");
    let out = stub
        .run(&["cluster", "config", "mycluster", "--json"])
        .await;
    insta::assert_snapshot!("flow_cluster_config_json", out.stdout);
}

#[tokio::test]
async fn cluster_create_sends_every_key_and_follows_the_task() {
    let stub = Stub::start().await;
    stub.login().await;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("id_rsa.pub");
    std::fs::write(&key, "ssh-rsa AAAAB3 alice@laptop\n").unwrap();
    stub.script_tasks(vec![
        task_doc(
            &stub.base,
            "t1",
            "running",
            "Creating cluster vApp mycluster(5e0e)",
            None,
        ),
        task_doc(
            &stub.base,
            "t1",
            "running",
            "Creating master node for mycluster(5e0e)",
            None,
        ),
        task_doc(
            &stub.base,
            "t1",
            "success",
            "Created cluster mycluster(5e0e)",
            None,
        ),
    ]);
    let out = stub
        .run(&[
            "cluster",
            "create",
            "mycluster",
            "--network",
            "intranet",
            "--ssh-key",
            key.to_str().unwrap(),
            "--wait",
        ])
        .await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stdout,
        "task: t1, Created cluster mycluster(5e0e), result: success\n"
    );
    let seen = stub.seen();
    let post = seen.iter().find(|s| s.method == "POST").unwrap();
    assert_eq!(post.path, "/api/cse");
    let body: Value = serde_json::from_str(&post.body).unwrap();
    assert_eq!(
        body,
        json!({"name": "mycluster", "node_count": 2, "vdc": "vdc1", "cpu": null, "memory": null,
               "network": "intranet", "storage_profile": null, "ssh_key": "ssh-rsa AAAAB3 alice@laptop",
               "template": null, "enable_nfs": false, "disable_rollback": false})
    );
    let task_reads = seen.iter().filter(|s| s.path == "/api/task/t1").count();
    assert_eq!(task_reads, 3, "polled until success");
    assert!(
        seen.iter()
            .filter(|s| s.path == "/api/task/t1")
            .all(|s| s.accept == "application/*+xml;version=32.0"
                && s.token.as_deref() == Some(TOKEN))
    );

    // Without --wait: the reply (here as JSON; tables have golden tests of their own), no
    // task reads.
    stub.clear_seen();
    let out = stub
        .run(&[
            "cluster",
            "create",
            "mycluster",
            "-n",
            "intranet",
            "--vdc",
            "vdc2",
            "-N",
            "0",
            "--json",
        ])
        .await;
    assert_eq!(out.code, 0, "{out:?}");
    insta::assert_snapshot!(
        "flow_cluster_create_no_wait",
        out.stdout.replace(&stub.base, "http://VCD")
    );
    assert!(stub.seen().iter().all(|s| !s.path.starts_with("/api/task")));
    let body: Value = serde_json::from_str(&stub.last().body).unwrap();
    assert_eq!(
        (body["vdc"].as_str(), body["node_count"].as_i64()),
        (Some("vdc2"), Some(0))
    );
}

#[tokio::test]
async fn a_failed_task_exits_non_zero_with_its_message() {
    let stub = Stub::start().await;
    stub.login().await;
    stub.script_tasks(vec![
        task_doc(&stub.base, "t1", "running", "Creating master node", None),
        task_doc(
            &stub.base,
            "t1",
            "error",
            "Creating master node",
            Some("Error while adding master node: Network 'intranet' not found in the Virtual Datacenter."),
        ),
    ]);
    let out = stub
        .run(&["cluster", "create", "mycluster", "-n", "intranet", "--wait"])
        .await;
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        "Error: task: t1, result: error, message: Error while adding master node: Network 'intranet' not found in the Virtual Datacenter.\n"
    );
    let out = stub
        .run(&[
            "--json",
            "--wait",
            "node",
            "create",
            "mycluster",
            "-n",
            "intranet",
        ])
        .await;
    assert_eq!(out.code, 1);
    insta::assert_snapshot!("flow_task_error_json", out.stdout);
}

#[tokio::test]
async fn deletes_ask_for_confirmation_unless_yes() {
    let stub = Stub::start().await;
    stub.login().await;
    let mut no = Scripted::default();
    let out = stub
        .run_with(&["cluster", "delete", "mycluster"], &mut no)
        .await;
    assert_eq!(out.code, 1);
    assert_eq!(out.stderr, "Error: Aborted!\n");
    assert_eq!(no.asked, ["Are you sure you want to delete the cluster?"]);
    assert!(stub.seen().is_empty(), "nothing sent when declined");

    let mut yes = Scripted {
        confirm: true,
        ..Scripted::default()
    };
    let out = stub
        .run_with(&["cluster", "delete", "mycluster"], &mut yes)
        .await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        (stub.last().method.as_str(), stub.last().path.as_str()),
        ("DELETE", "/api/cse/mycluster")
    );
    // Column widths depend on the stub's port, so compare line by line.
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", out.stdout);
    assert!(lines[0].starts_with("property      value"));
    assert_eq!(lines[2], "cluster_name  mycluster");
    assert_eq!(lines[3], format!("task_href     {}/api/task/t1", stub.base));

    stub.clear_seen();
    let mut never = Scripted::default();
    let out = stub
        .run_with(
            &[
                "node",
                "delete",
                "mycluster",
                "node-dj3s",
                "node-b4rt",
                "--yes",
                "--force",
            ],
            &mut never,
        )
        .await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(never.asked.is_empty());
    let delete = stub.last();
    assert_eq!(
        (delete.method.as_str(), delete.path.as_str()),
        ("DELETE", "/api/cse/mycluster/node")
    );
    assert_eq!(
        serde_json::from_str::<Value>(&delete.body).unwrap(),
        json!({"name": "mycluster", "vdc": "vdc1", "nodes": ["node-dj3s", "node-b4rt"], "force": true})
    );

    let out = stub
        .run_with(&["system", "stop"], &mut Scripted::default())
        .await;
    assert_eq!(out.code, 1);
    let out = stub.run(&["system", "stop", "-y"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(stub.last().body, r#"{"stopped":true}"#);
}

#[tokio::test]
async fn node_create_and_system_switches_send_their_bodies() {
    let stub = Stub::start().await;
    stub.login().await;
    let out = stub
        .run(&[
            "node",
            "create",
            "mycluster",
            "-n",
            "intranet",
            "--type",
            "nfsd",
            "-c",
            "2",
            "-m",
            "4096",
        ])
        .await;
    assert_eq!(out.code, 0, "{out:?}");
    let post = stub.last();
    assert_eq!(
        (post.method.as_str(), post.path.as_str()),
        ("POST", "/api/cse/mycluster/node")
    );
    assert_eq!(
        serde_json::from_str::<Value>(&post.body).unwrap(),
        json!({"name": "mycluster", "node_count": 1, "vdc": "vdc1", "cpu": 2, "memory": 4096,
               "network": "intranet", "storage_profile": null, "ssh_key": null, "template": null,
               "node_type": "nfsd", "disable_rollback": false})
    );
    for (command, body) in [
        ("enable", r#"{"enabled":true}"#),
        ("disable", r#"{"enabled":false}"#),
    ] {
        let out = stub.run(&["system", command]).await;
        assert_eq!(out.code, 0, "{out:?}");
        assert_eq!(
            out.stdout,
            "property    value\n----------  -------\nmessage     Updated\n"
        );
        let put = stub.last();
        assert_eq!(
            (put.method.as_str(), put.path.as_str(), put.body.as_str()),
            ("PUT", "/api/cse/system", body)
        );
    }
}

#[tokio::test]
async fn errors_from_vcd_and_cse_are_explained() {
    let stub = Stub::start().await;
    stub.login().await;
    let mut texts = String::new();
    for args in [
        vec!["cluster", "info", "slow"],
        vec!["cluster", "info", "secret"],
        vec!["cluster", "info", "ghost"],
        vec![
            "node",
            "info",
            "mycluster",
            "node-a",
            "extra-arg-is-refused-by-clap",
        ],
    ] {
        let out = stub.run(&args).await;
        texts.push_str(&format!(
            "$ vcd-cse {}\nexit {}\n{}\n",
            args.join(" "),
            out.code,
            out.stderr
        ));
    }
    stub.state.lock().unwrap().cse_unregistered = true;
    let out = stub.run(&["template", "list"]).await;
    texts.push_str(&format!(
        "$ vcd-cse template list (no extension)\nexit {}\n{}\n",
        out.code, out.stderr
    ));
    let out = stub.run(&["--json", "template", "list"]).await;
    texts.push_str(&format!(
        "$ vcd-cse --json template list (no extension)\nexit {}\n{}\n",
        out.code, out.stdout
    ));
    stub.state.lock().unwrap().revoked = true;
    let out = stub.run(&["cluster", "list"]).await;
    texts.push_str(&format!(
        "$ vcd-cse cluster list (token revoked)\nexit {}\n{}",
        out.code, out.stderr
    ));
    let texts = texts.replace(&stub.base, "http://VCD");
    insta::assert_snapshot!("flow_error_texts", texts);
}

#[tokio::test]
async fn create_needs_a_vdc_when_the_login_has_none() {
    use cse_tenant::profile::ProfileStore;
    let stub = Stub::start().await;
    stub.login().await;
    let store = ProfileStore::new(stub.profile_path());
    let mut profile = store.load().unwrap().unwrap();
    profile.vdc.clear();
    profile.vdc_href.clear();
    store.save(&profile).unwrap();
    let out = stub
        .run(&["cluster", "create", "mycluster", "-n", "intranet"])
        .await;
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr,
        "Error: No virtual datacenter selected: pass --vdc NAME (or log in again with --vdc NAME).\n"
    );
    assert!(stub.seen().is_empty(), "nothing sent");
    // Node operations send `vdc: null` instead (the server uses the cluster's VDC).
    let out = stub
        .run(&["node", "delete", "mycluster", "node-a", "-y"])
        .await;
    assert_eq!(out.code, 0, "{out:?}");
    let body: Value = serde_json::from_str(&stub.last().body).unwrap();
    assert_eq!(body["vdc"], Value::Null);
    let out = stub
        .run(&[
            "cluster",
            "create",
            "mycluster",
            "-n",
            "intranet",
            "--vdc",
            "vdc2",
        ])
        .await;
    assert_eq!(out.code, 0, "{out:?}");
}
