//! Test harness for the extension transport: a minimal HTTP front playing
//! vCD's cell for `/api/...` (API-filter match → [`ExtensionRouter`] →
//! HTTP response), a recording handler, and broker control for fault tests.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{Request, Response, StatusCode};
use cse_core::ext::{ExtReply, ExtRequest};
use cse_server::amqp::Handler;
use vcd_sim::ext::{
    ExtensionRouter, ExtensionTarget, ForwardedRequest, RegisteredExtension, SecurityContext,
    find_extension, responses::not_routed_response,
};

/// The extension registration `cse install` makes, for the given names.
pub fn cse_extension(exchange: &str, routing_key: &str, enabled: bool) -> RegisteredExtension {
    RegisteredExtension::new(
        ExtensionTarget {
            name: "cse".into(),
            namespace: "cse".into(),
            exchange: exchange.into(),
            routing_key: routing_key.into(),
            enabled,
            id: "urn:vcloud:service:7f3e0b1c-0000-4000-8000-000000000001".into(),
            mqtt: None,
        },
        &["/api/cse", "/api/cse/.*", "/api/cse/.*/.*"],
    )
    .expect("valid API filters")
}

struct FrontState {
    router: Arc<ExtensionRouter>,
    extensions: Vec<RegisteredExtension>,
}

async fn front(
    State(state): State<Arc<FrontState>>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    request: Request<Body>,
) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 16 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let headers = parts
        .headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let forwarded = ForwardedRequest {
        method: parts.method.as_str().to_owned(),
        request_uri: parts.uri.path().to_owned(),
        query_string: parts.uri.query().map(str::to_owned),
        headers,
        body,
        security: SecurityContext {
            user_urn: "urn:vcloud:user:00000000-0000-4000-8000-00000000a11c".into(),
            user_name: "alice".into(),
            org_urn: "urn:vcloud:org:00000000-0000-4000-8000-00000000ac3e".into(),
            org_name: "acme".into(),
            rights: vec!["{cse}:CSE NATIVE DEPLOY RIGHT".into()],
        },
        remote_addr: Some(remote.to_string()),
    };
    let response = match find_extension(&state.extensions, parts.uri.path()) {
        Some(target) => state.router.forward(target, forwarded).await,
        None => not_routed_response(&forwarded),
    };
    let mut builder = Response::builder()
        .status(StatusCode::from_u16(response.status).unwrap_or(StatusCode::BAD_GATEWAY));
    for (k, v) in &response.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    builder
        .body(Body::from(response.body))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// A running HTTP front.
pub struct Front {
    /// `http://127.0.0.1:port` of the front.
    pub base_url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Front {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves the HTTP front on an ephemeral local port.
pub async fn serve_front(
    router: Arc<ExtensionRouter>,
    extensions: Vec<RegisteredExtension>,
) -> Front {
    let app = axum::Router::new()
        .fallback(front)
        .with_state(Arc::new(FrontState { router, extensions }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a local port");
    let addr = listener.local_addr().expect("local address");
    let task = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    Front {
        base_url: format!("http://{addr}"),
        task,
    }
}

/// A tenant's HTTP client with vcd-cli's headers.
pub fn tenant_client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "Accept",
        reqwest::header::HeaderValue::from_static("application/*+json;version=29.0"),
    );
    headers.insert(
        "x-vcloud-authorization",
        reqwest::header::HeaderValue::from_static("tenant-token"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client")
}

/// A handler that records how often each request (by its query string,
/// e.g. `n=7`) ran, optionally sleeping first, and echoes the query back.
#[derive(Default)]
pub struct Recorder {
    /// How long each request sleeps before it is answered.
    pub delay: Duration,
    runs: Mutex<BTreeMap<String, u32>>,
    by_id: Mutex<BTreeMap<String, u32>>,
}

impl Recorder {
    /// A recorder answering after `delay`.
    pub fn new(delay: Duration) -> Arc<Self> {
        Arc::new(Recorder {
            delay,
            runs: Mutex::default(),
            by_id: Mutex::default(),
        })
    }

    /// Executions per query string.
    pub fn runs(&self) -> BTreeMap<String, u32> {
        self.runs.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Executions per request id (AMQP: the message id; MQTT: `requestId`).
    pub fn runs_by_id(&self) -> BTreeMap<String, u32> {
        self.by_id.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl Handler for Recorder {
    async fn handle(&self, request: ExtRequest) -> ExtReply {
        let key = request.query_string.clone().unwrap_or_default();
        if let Ok(mut runs) = self.runs.lock() {
            *runs.entry(key.clone()).or_default() += 1;
        }
        if let Ok(mut by_id) = self.by_id.lock() {
            *by_id.entry(request.id.clone()).or_default() += 1;
        }
        tokio::time::sleep(self.delay).await;
        ExtReply::json(&request, 200, &serde_json::json!({ "echo": key })).expect("JSON reply")
    }
}

/// Unique exchange and routing-key names for one test on a shared broker.
pub fn unique_names(test: &str) -> (String, String) {
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    (
        format!("cse-e2e-{test}-{suffix}"),
        format!("cse-e2e-{test}-{suffix}"),
    )
}

/// Runs `rabbitmqctl` with the given arguments; Err with its output on failure.
pub fn rabbitmqctl(args: &[&str]) -> Result<(), String> {
    let out = std::process::Command::new(rabbitmqctl_path())
        .args(args)
        .output()
        .map_err(|e| format!("cannot run rabbitmqctl: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "rabbitmqctl {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn rabbitmqctl_path() -> String {
    std::env::var("CSE_TEST_RABBITMQCTL").unwrap_or_else(|_| {
        if std::path::Path::new("/usr/sbin/rabbitmqctl").exists() {
            "/usr/sbin/rabbitmqctl".into()
        } else {
            "rabbitmqctl".into()
        }
    })
}

/// Stops the broker application; restarts it when dropped (also on panic).
pub struct BrokerOutage {
    running: bool,
}

impl BrokerOutage {
    /// `rabbitmqctl stop_app`.
    pub fn begin() -> Result<Self, String> {
        rabbitmqctl(&["stop_app"])?;
        Ok(BrokerOutage { running: false })
    }

    /// `rabbitmqctl start_app` and wait for it.
    pub fn end(&mut self) -> Result<(), String> {
        if !self.running {
            rabbitmqctl(&["start_app"])?;
            let _ = rabbitmqctl(&["await_startup"]);
            self.running = true;
        }
        Ok(())
    }
}

impl Drop for BrokerOutage {
    fn drop(&mut self) {
        if let Err(e) = self.end() {
            eprintln!("could not restart the broker after the test: {e}");
        }
    }
}

/// What `cse install` leaves on the broker (the durable direct exchange) and
/// a running listener pool on it, attached.
pub async fn start_server(
    bus: Arc<dyn cse_bus::Bus>,
    exchange: &str,
    routing_key: &str,
    handler: Arc<dyn Handler>,
    journal: cse_server::amqp::ReplyJournal,
) -> cse_server::amqp::ListenerPool {
    bus.declare_exchange(exchange, cse_bus::ExchangeOptions::default())
        .await
        .expect("declare the extension exchange");
    let config = cse_server::amqp::ListenerConfig {
        listeners: 3,
        prefetch: 4,
        passive_exchange: true,
        reconnect_initial: Duration::from_millis(100),
        reconnect_max: Duration::from_secs(1),
        ..cse_server::amqp::ListenerConfig::new(exchange, routing_key)
    };
    let pool = cse_server::amqp::ListenerPool::start(bus, config, handler, journal);
    assert!(
        pool.wait_connected(Duration::from_secs(10)).await,
        "the listeners attach to the broker"
    );
    pool
}

/// The vCD simulator's REST API (plain HTTP) with the router as its extension forwarder.
pub async fn start_vcd_sim(router: ExtensionRouter) -> vcd_sim::serve::SimHandle {
    cse_bus::tls::install_crypto_provider();
    vcd_sim::SimBuilder::new()
        .https(false)
        .extension_forwarder(Arc::new(router))
        .start_vcd()
        .await
        .expect("the simulator starts")
}

/// Logs in (`POST /api/sessions`) and returns the `x-vcloud-authorization` token.
pub async fn vcd_login(base_url: &str, org: &str, user: &str, password: &str) -> String {
    let resp = reqwest::Client::new()
        .post(format!("{base_url}/api/sessions"))
        .basic_auth(format!("{user}@{org}"), Some(password))
        .header("Accept", "application/*+xml;version=29.0")
        .send()
        .await
        .expect("login request");
    assert_eq!(resp.status(), 200, "login of {user}@{org}");
    resp.headers()["x-vcloud-authorization"]
        .to_str()
        .expect("token text")
        .to_owned()
}

/// Registers the `cse` extension service the way `cse install` does.
pub async fn register_cse(base_url: &str, exchange: &str, routing_key: &str) {
    let token = vcd_login(base_url, "System", "administrator", "vmware-sim-admin").await;
    let service = format!(
        r#"<vmext:Service xmlns="http://www.vmware.com/vcloud/v1.5" xmlns:vmext="http://www.vmware.com/vcloud/extension/v1.5" name="cse">
  <vmext:Namespace>cse</vmext:Namespace>
  <vmext:Enabled>true</vmext:Enabled>
  <vmext:RoutingKey>{routing_key}</vmext:RoutingKey>
  <vmext:Exchange>{exchange}</vmext:Exchange>
  <vmext:ApiFilters>
    <vmext:ApiFilter><vmext:UrlPattern>/api/cse</vmext:UrlPattern></vmext:ApiFilter>
    <vmext:ApiFilter><vmext:UrlPattern>/api/cse/.*</vmext:UrlPattern></vmext:ApiFilter>
    <vmext:ApiFilter><vmext:UrlPattern>/api/cse/.*/.*</vmext:UrlPattern></vmext:ApiFilter>
  </vmext:ApiFilters>
</vmext:Service>"#
    );
    let resp = reqwest::Client::new()
        .post(format!("{base_url}/api/admin/extension/service"))
        .header("Accept", "application/*+xml;version=29.0")
        .header("Content-Type", "application/vnd.vmware.admin.service+xml")
        .header("x-vcloud-authorization", token)
        .body(service)
        .send()
        .await
        .expect("register the extension");
    assert_eq!(resp.status(), 201, "extension registered");
}

/// A tenant client logged in to the simulator as alice@acme, with vcd-cli's headers.
pub async fn sim_tenant(base_url: &str) -> reqwest::Client {
    let token = vcd_login(base_url, "acme", "alice", "alice-pw").await;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "Accept",
        reqwest::header::HeaderValue::from_static("application/*+json;version=29.0"),
    );
    headers.insert(
        "x-vcloud-authorization",
        reqwest::header::HeaderValue::from_str(&token).expect("token header"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client")
}
