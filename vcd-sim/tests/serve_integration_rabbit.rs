//! vCD's extension routing through a real `vcd-sim serve --amqp-url` process
//! and RabbitMQ: the system administrator registers an extension service over
//! REST, a consumer on the broker answers the envelope it receives, and a
//! tenant's `GET /api/cse/...` gets that reply; with nobody consuming, the
//! tenant gets 504 after `--extension-timeout`.
//!
//! Needs a broker (`CSE_TEST_AMQP_URL`); skipped without one unless `CI=true`.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use cse_bus::{Bus, ConsumeOptions, ExchangeOptions, QueueOptions, RabbitBus};
use cse_core::ext::{ExtReply, ExtRequest};

const ACCEPT_XML: &str = "application/*+xml;version=29.0";

/// The `vcd-sim serve` child; killed when dropped.
struct Served {
    child: Child,
    base: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(dir: &Path, amqp_url: &str) -> Served {
    let info_path = dir.join("info.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_vcd-sim"))
        .args([
            "serve",
            "--plain-http",
            "--bind",
            "127.0.0.1:0",
            "--time-scale",
            "0",
            "--extension-timeout",
            "1",
            "--amqp-url",
            amqp_url,
            "--info-file",
        ])
        .arg(&info_path)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start vcd-sim serve");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(text) = std::fs::read_to_string(&info_path)
            && let Ok(info) = serde_json::from_str::<serde_json::Value>(&text)
        {
            let base = info["vcd_url"].as_str().expect("vcd_url").to_string();
            return Served { child, base };
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("vcd-sim serve exited early: {status}");
        }
        assert!(Instant::now() < deadline, "no info file after 20 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn login(base: &str, org: &str, user: &str, password: &str) -> String {
    let r = reqwest::Client::new()
        .post(format!("{base}/api/sessions"))
        .basic_auth(format!("{user}@{org}"), Some(password))
        .header("Accept", ACCEPT_XML)
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), 200, "login of {user}@{org}");
    r.headers()["x-vcloud-authorization"]
        .to_str()
        .expect("token")
        .to_string()
}

/// Registers extension `name` for `/api/{name}/...` on `exchange`/`key`, as CSE's installer does.
async fn register(base: &str, name: &str, exchange: &str, key: &str) {
    let token = login(base, "System", "administrator", "vmware-sim-admin").await;
    let service = format!(
        r#"<vmext:Service xmlns="http://www.vmware.com/vcloud/v1.5" xmlns:vmext="http://www.vmware.com/vcloud/extension/v1.5" name="{name}">
  <vmext:Namespace>{name}</vmext:Namespace>
  <vmext:Enabled>true</vmext:Enabled>
  <vmext:RoutingKey>{key}</vmext:RoutingKey>
  <vmext:Exchange>{exchange}</vmext:Exchange>
  <vmext:ApiFilters>
    <vmext:ApiFilter><vmext:UrlPattern>/api/{name}</vmext:UrlPattern></vmext:ApiFilter>
    <vmext:ApiFilter><vmext:UrlPattern>/api/{name}/.*</vmext:UrlPattern></vmext:ApiFilter>
  </vmext:ApiFilters>
</vmext:Service>"#
    );
    let r = reqwest::Client::new()
        .post(format!("{base}/api/admin/extension/service"))
        .header("Accept", ACCEPT_XML)
        .header("Content-Type", "application/vnd.vmware.admin.service+xml")
        .header("x-vcloud-authorization", token)
        .body(service)
        .send()
        .await
        .expect("register the extension");
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
}

/// Declares the extension's exchange and queue, bound by `key`.
async fn declare(bus: &RabbitBus, exchange: &str, queue: &str, key: &str) {
    bus.declare_exchange(exchange, ExchangeOptions::default())
        .await
        .expect("exchange");
    bus.declare_queue(
        queue,
        QueueOptions {
            auto_delete: true,
            ..QueueOptions::default()
        },
    )
    .await
    .expect("queue");
    bus.bind_queue(queue, exchange, key).await.expect("bind");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extension_requests_go_through_rabbitmq_and_time_out_without_a_consumer() {
    cse_bus::tls::install_crypto_provider();
    let Some(broker) = cse_bus::testing::test_broker().await else {
        return;
    };
    let _lock = cse_bus::testing::broker_lock_shared().expect("broker lock");
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let exchange = format!("vcd-sim-it-{suffix}");
    let (answered, silent) = (format!("answered-{suffix}"), format!("silent-{suffix}"));
    let dir = tempfile::tempdir().expect("temp dir");
    let served = serve(dir.path(), &broker.url);
    let base = served.base.clone();

    let bus = std::sync::Arc::new(RabbitBus::from_url(&broker.url).expect("AMQP URL"));
    declare(&bus, &exchange, &answered, &answered).await;
    declare(&bus, &exchange, &silent, &silent).await;
    register(&base, "cse", &exchange, &answered).await;
    register(&base, "quiet", &exchange, &silent).await;

    // the consumer answers one request with what it saw
    let mut consumer = bus
        .consume(&answered, ConsumeOptions::default())
        .await
        .expect("consume");
    let responder = {
        let bus = bus.clone();
        tokio::spawn(async move {
            let delivery = tokio::time::timeout(Duration::from_secs(20), consumer.next())
                .await
                .expect("a request within 20 s")
                .expect("a delivery");
            let request = ExtRequest::from_json(&delivery.message.body).expect("vCD's envelope");
            let seen = serde_json::json!({
                "method": request.method,
                "uri": request.request_uri,
                "query": request.query_string,
                "user": request.security_context.as_ref().and_then(|c| c.user.clone()),
                "has_token": request.auth_token().is_some(),
            });
            let reply = ExtReply::json(&request, 200, &seen).expect("reply");
            cse_bus::reply(
                bus.as_ref(),
                &delivery.message.properties,
                Bytes::from(reply.to_json()),
            )
            .await
            .expect("publish the reply");
            delivery.ack().await.expect("ack");
            consumer.cancel().await.expect("cancel");
        })
    };

    let tenant = login(&base, "acme", "alice", "alice-pw").await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client");
    let r = http
        .get(format!("{base}/api/cse/system?verbose=true"))
        .header("Accept", "application/*+json;version=29.0")
        .header("x-vcloud-authorization", &tenant)
        .send()
        .await
        .expect("GET /api/cse/system");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "application/*+json;version=29.0"
    );
    let body: serde_json::Value = r.json().await.expect("JSON reply");
    assert_eq!(body["method"], "GET");
    assert_eq!(body["uri"], "/api/cse/system");
    assert_eq!(body["query"], "verbose=true");
    assert_eq!(body["has_token"], true);
    assert!(
        body["user"]
            .as_str()
            .is_some_and(|u| u.starts_with("urn:vcloud:user:")),
        "{body}"
    );
    responder.await.expect("responder");

    // nobody consumes the other extension's queue: 504 after the 1 s timeout
    let started = Instant::now();
    let r = http
        .get(format!("{base}/api/quiet/anything"))
        .header("Accept", "application/*+json;version=29.0")
        .header("x-vcloud-authorization", &tenant)
        .send()
        .await
        .expect("GET /api/quiet/anything");
    let waited = started.elapsed();
    assert_eq!(r.status(), 504);
    let text = r.text().await.expect("body");
    assert!(
        text.contains(
            "External service 'quiet' failed to respond in the specified timeout (1 SECONDS)"
        ),
        "{text}"
    );
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(10),
        "{waited:?}"
    );

    bus.delete_queue(&answered).await.expect("delete queue");
    bus.delete_queue(&silent).await.expect("delete queue");
    bus.delete_exchange(&exchange)
        .await
        .expect("delete exchange");
    bus.close().await;
    drop(served);
}
