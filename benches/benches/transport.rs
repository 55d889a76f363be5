//! The extension round trip (simulated vCD → RabbitMQ → CSE listener pool →
//! reply → vCD) next to a raw lapin request/reply round trip on the same
//! broker in the same run, and the ratio of the two means.
//!
//! Then the whole tenant round trip over each transport, same handler, same
//! run: tenant HTTPS → simulated vCD → RabbitMQ → listener pool → reply →
//! HTTPS answer (`https_round_trip_amqp`, vCD 9.5, legacy session token),
//! and tenant HTTPS → simulated vCD 10.6 → its MQTT broker → websocket →
//! `MqttBus` listener → respond topic → HTTPS answer
//! (`https_round_trip_mqtt`, CloudAPI bearer JWT); the ratio MQTT/AMQP of
//! the two means is printed.
//!
//! Needs a broker: `CSE_TEST_AMQP_URL` (default
//! `amqp://guest:guest@127.0.0.1:5672/%2f`). Without one the benchmark says
//! so and measures nothing.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use cse_bus::{Bus, ExchangeOptions, RabbitBus};
use cse_server::amqp::{ListenerConfig, ListenerPool, ReplyJournal};
use cse_server::service::Service;
use futures_lite::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, QueueDeclareOptions,
    QueueDeleteOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Connection, ConnectionProperties};
use vcd_sim::ext::{ExtensionRouter, ExtensionTarget, ForwardedRequest, SecurityContext};

fn broker_url() -> String {
    std::env::var(cse_bus::testing::TEST_AMQP_URL_VAR)
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// Total time and iterations measured per benchmark, for the ratio.
#[derive(Default)]
struct Tally {
    extension: (Duration, u64),
    raw: (Duration, u64),
    https_amqp: (Duration, u64),
    https_mqtt: (Duration, u64),
}

/// The server side of the HTTPS round trips: a fixed small JSON answer, so
/// the two transports are compared on the same work.
struct Echo;

#[async_trait::async_trait]
impl cse_server::amqp::Handler for Echo {
    async fn handle(&self, request: cse_core::ext::ExtRequest) -> cse_core::ext::ExtReply {
        cse_core::ext::ExtReply::json(&request, 200, &serde_json::json!({"echo": "ok"}))
            .unwrap_or_else(|_| cse_core::ext::ExtReply::new(&request, 500, Vec::new()))
    }
}

/// A simulated vCD, a listener pool behind it and a tenant's HTTPS client.
struct HttpsPath {
    sim: vcd_sim::serve::SimHandle,
    pool: ListenerPool,
    client: reqwest::Client,
    url: String,
    /// `(header, value)` authenticating the tenant.
    auth: (String, String),
    accept: &'static str,
    /// The AMQP exchange to delete afterwards.
    exchange: Option<(Arc<RabbitBus>, String, String)>,
}

impl HttpsPath {
    async fn round_trip(&self) {
        let resp = self
            .client
            .get(&self.url)
            .header(self.auth.0.as_str(), self.auth.1.as_str())
            .header("Accept", self.accept)
            .send()
            .await
            .expect("the tenant's request");
        assert_eq!(resp.status(), 200);
        let _ = resp.bytes().await.expect("the answer's body");
    }
}

fn https_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())
}

/// vCD 9.5 routing `/api/cse` to a RabbitMQ exchange of its own.
async fn https_amqp_setup(url: &str) -> Result<HttpsPath, String> {
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let (exchange, key) = (
        format!("cse-bench-https-{suffix}"),
        format!("cse-bench-https-{suffix}"),
    );
    let admin = Arc::new(RabbitBus::from_url(url).map_err(|e| e.to_string())?);
    admin
        .declare_exchange(&exchange, ExchangeOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    let router = ExtensionRouter::new(
        Arc::new(RabbitBus::from_url(url).map_err(|e| e.to_string())?) as Arc<dyn Bus>,
        Duration::from_secs(10),
    );
    let sim = vcd_sim::SimBuilder::new()
        .https(true)
        .extension_forwarder(Arc::new(router))
        .start_vcd()
        .await
        .map_err(|e| e.to_string())?;
    let client = https_client()?;
    let login = |org: &str, user: &str, password: &str| {
        client
            .post(format!("{}/api/sessions", sim.base_url))
            .basic_auth(format!("{user}@{org}"), Some(password.to_owned()))
            .header("Accept", "application/*+xml;version=29.0")
            .send()
    };
    let token = |resp: reqwest::Response| -> Result<String, String> {
        resp.headers()
            .get("x-vcloud-authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| format!("login answered {}", resp.status()))
    };
    let admin_token = token(
        login("System", "administrator", "vmware-sim-admin")
            .await
            .map_err(|e| e.to_string())?,
    )?;
    let service = format!(
        r#"<vmext:Service xmlns="http://www.vmware.com/vcloud/v1.5" xmlns:vmext="http://www.vmware.com/vcloud/extension/v1.5" name="cse">
  <vmext:Namespace>cse</vmext:Namespace>
  <vmext:Enabled>true</vmext:Enabled>
  <vmext:RoutingKey>{key}</vmext:RoutingKey>
  <vmext:Exchange>{exchange}</vmext:Exchange>
  <vmext:ApiFilters>
    <vmext:ApiFilter><vmext:UrlPattern>/api/cse/.*</vmext:UrlPattern></vmext:ApiFilter>
  </vmext:ApiFilters>
</vmext:Service>"#
    );
    let registered = client
        .post(format!("{}/api/admin/extension/service", sim.base_url))
        .header("Accept", "application/*+xml;version=29.0")
        .header("Content-Type", "application/vnd.vmware.admin.service+xml")
        .header("x-vcloud-authorization", admin_token)
        .body(service)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if registered.status() != 201 {
        return Err(format!("registration answered {}", registered.status()));
    }
    let pool = ListenerPool::start(
        Arc::new(RabbitBus::from_url(url).map_err(|e| e.to_string())?),
        ListenerConfig {
            listeners: 1,
            passive_exchange: true,
            ..ListenerConfig::new(exchange.clone(), key.clone())
        },
        Arc::new(Echo),
        ReplyJournal::in_memory(4096),
    );
    if !pool.wait_connected(Duration::from_secs(10)).await {
        return Err("the AMQP listener did not attach".into());
    }
    let tenant = token(
        login("acme", "alice", "alice-pw")
            .await
            .map_err(|e| e.to_string())?,
    )?;
    let path = HttpsPath {
        url: format!("{}/api/cse/c1/info", sim.base_url),
        sim,
        pool,
        client,
        auth: ("x-vcloud-authorization".into(), tenant),
        accept: "application/*+json;version=29.0",
        exchange: Some((admin, exchange, key)),
    };
    path.round_trip().await; // warm up
    Ok(path)
}

/// The MQTT extension registered on the simulated vCD at `base` as `cse
/// install` registers it (extension, `/api/cse` filters, EXTENSION token):
/// its `mqtt:` section with the token filled in.
async fn register_mqtt_extension(base: &str) -> Result<cse_core::config::MqttConfig, String> {
    use cse_server::cli::mqtt;
    let api = scenarios::api::VcdApi::new(base, false).map_err(|e| e.to_string())?;
    let admin = scenarios::format::Tenant {
        org: "System".into(),
        user: "administrator".into(),
        password: "vmware-sim-admin".into(),
    };
    let client = api.session(&admin).await.map_err(|e| e.to_string())?;
    let mut section = scenarios::targets::mqtt::section();
    let mut quiet = std::io::sink();
    let (id, service) = mqtt::ensure_registration(&client, &section, &mut quiet)
        .await
        .map_err(|e| e.to_string())?;
    mqtt::ensure_filters(&client, &service, &mut quiet)
        .await
        .map_err(|e| e.to_string())?;
    section.token = mqtt::create_token(&client, &id)
        .await
        .map_err(|e| e.to_string())?;
    Ok(section)
}

/// vCD 10.6 routing `/api/cse` to the MQTT extension, served by `MqttBus`.
async fn https_mqtt_setup() -> Result<HttpsPath, String> {
    let sim = vcd_sim::SimBuilder::new()
        .https(true)
        .vcd_release(vcd_sim::VcdRelease::V10_6)
        .start_vcd()
        .await
        .map_err(|e| e.to_string())?;
    let mqtt = register_mqtt_extension(&sim.base_url).await?;
    let mut options =
        cse_bus::MqttConnectionOptions::for_vcd(&sim.base_url, mqtt.triplet(), mqtt.token.expose());
    options.verify = false;
    let pool = ListenerPool::start(
        Arc::new(cse_bus::MqttBus::new(options)),
        ListenerConfig {
            listeners: 1,
            mqtt_respond_topic: Some(mqtt.respond_topic()),
            ..ListenerConfig::new("", mqtt.monitor_topic())
        },
        Arc::new(Echo),
        ReplyJournal::in_memory(4096),
    );
    if !pool.wait_connected(Duration::from_secs(10)).await {
        return Err("the MQTT listener did not subscribe".into());
    }
    let client = https_client()?;
    let login = client
        .post(format!("{}/cloudapi/1.0.0/sessions", sim.base_url))
        .basic_auth("alice@acme", Some("alice-pw"))
        .header("Accept", "application/json;version=39.0")
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let jwt = login
        .headers()
        .get("x-vmware-vcloud-access-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| format!("login answered {}", login.status()))?;
    let path = HttpsPath {
        url: format!("{}/api/cse/c1/info", sim.base_url),
        sim,
        pool,
        client,
        auth: ("Authorization".into(), format!("Bearer {jwt}")),
        accept: "application/*+json;version=39.0",
        exchange: None,
    };
    path.round_trip().await; // warm up
    Ok(path)
}

fn bench_https(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    rt: &Arc<tokio::runtime::Runtime>,
    path: &Arc<HttpsPath>,
    tally: &Arc<Mutex<Tally>>,
    slot: fn(&mut Tally) -> &mut (Duration, u64),
) {
    let (path, tally, rt) = (path.clone(), tally.clone(), rt.clone());
    group.bench_function(name, move |b| {
        let (path, tally) = (path.clone(), tally.clone());
        b.to_async(&*rt).iter_custom(move |iters| {
            let (path, tally) = (path.clone(), tally.clone());
            async move {
                let start = Instant::now();
                for _ in 0..iters {
                    path.round_trip().await;
                }
                let elapsed = start.elapsed();
                let mut t = tally.lock().unwrap();
                let s = slot(&mut t);
                s.0 += elapsed;
                s.1 += iters;
                elapsed
            }
        });
    });
}

fn system_request() -> ForwardedRequest {
    ForwardedRequest {
        method: "GET".into(),
        request_uri: "/api/cse/system".into(),
        query_string: None,
        headers: vec![
            ("Accept".into(), "application/*+json;version=29.0".into()),
            ("x-vcloud-authorization".into(), "bench-token".into()),
        ],
        body: bytes::Bytes::new(),
        security: SecurityContext::default(),
        remote_addr: None,
    }
}

struct Extension {
    router: ExtensionRouter,
    target: ExtensionTarget,
    pool: ListenerPool,
    admin: Arc<RabbitBus>,
}

async fn extension_setup(url: &str) -> Result<Extension, String> {
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let (exchange, key) = (format!("cse-bench-{suffix}"), format!("cse-bench-{suffix}"));
    let admin = Arc::new(RabbitBus::from_url(url).map_err(|e| e.to_string())?);
    admin
        .declare_exchange(&exchange, ExchangeOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    let pool = ListenerPool::start(
        Arc::new(RabbitBus::from_url(url).map_err(|e| e.to_string())?),
        ListenerConfig {
            passive_exchange: true,
            ..ListenerConfig::new(exchange.clone(), key.clone())
        },
        Arc::new(Service::new()),
        ReplyJournal::in_memory(4096),
    );
    if !pool.wait_connected(Duration::from_secs(10)).await {
        return Err("the listeners did not attach".into());
    }
    let router = ExtensionRouter::new(
        Arc::new(RabbitBus::from_url(url).map_err(|e| e.to_string())?) as Arc<dyn Bus>,
        Duration::from_secs(10),
    );
    let target = ExtensionTarget {
        name: "cse".into(),
        namespace: "cse".into(),
        exchange,
        routing_key: key,
        enabled: true,
        id: "urn:vcloud:service:bench".into(),
        mqtt: None,
    };
    // Warm up (reply queue subscription, connections).
    let resp = router.forward(&target, system_request()).await;
    if resp.status != 200 {
        return Err(format!("warm-up request answered {}", resp.status));
    }
    Ok(Extension {
        router,
        target,
        pool,
        admin,
    })
}

/// A raw lapin request/reply pair: a responder (own connection) consuming one
/// queue, acknowledging and publishing to the reply queue, and a requester
/// waiting for each reply: the floor under any extension round trip.
struct Raw {
    connection: Connection,
    channel: lapin::Channel,
    replies: lapin::Consumer,
    request_queue: String,
    reply_queue: String,
    responder: tokio::task::JoinHandle<()>,
}

async fn raw_setup(url: &str) -> Result<Raw, lapin::Error> {
    let connection = Connection::connect_with_runtime(
        url,
        ConnectionProperties::default(),
        async_rs::Runtime::tokio_current(),
    )
    .await?;
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let request_queue = format!("cse-bench-raw-req-{suffix}");
    let reply_queue = format!("cse-bench-raw-reply-{suffix}");
    let channel = connection.create_channel().await?;
    for q in [&request_queue, &reply_queue] {
        channel
            .queue_declare(
                q.as_str().into(),
                QueueDeclareOptions::default(),
                FieldTable::default(),
            )
            .await?;
    }
    // The responder has a connection of its own, as the CSE server does.
    let responder_connection = Connection::connect_with_runtime(
        url,
        ConnectionProperties::default(),
        async_rs::Runtime::tokio_current(),
    )
    .await?;
    let responder_channel = responder_connection.create_channel().await?;
    let mut requests = responder_channel
        .basic_consume(
            request_queue.as_str().into(),
            "raw-responder".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    let responder = tokio::spawn(async move {
        while let Some(Ok(d)) = requests.next().await {
            let reply_to = d
                .properties
                .reply_to()
                .as_ref()
                .map(|r| r.to_string())
                .unwrap_or_default();
            let props = BasicProperties::default()
                .with_correlation_id(d.properties.correlation_id().clone().unwrap_or_default());
            let published = responder_channel
                .basic_publish(
                    "".into(),
                    reply_to.as_str().into(),
                    BasicPublishOptions::default(),
                    &d.data,
                    props,
                )
                .await;
            if published.is_err() {
                break;
            }
            let _ = d.ack(BasicAckOptions::default()).await;
        }
        let _ = responder_connection.close(200, "done".into()).await;
    });
    let replies = channel
        .basic_consume(
            reply_queue.as_str().into(),
            "raw-requester".into(),
            BasicConsumeOptions {
                no_ack: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await?;
    Ok(Raw {
        connection,
        channel,
        replies,
        request_queue,
        reply_queue,
        responder,
    })
}

impl Raw {
    async fn round_trip(&mut self, payload: &[u8]) {
        let correlation = uuid::Uuid::new_v4().to_string();
        self.channel
            .basic_publish(
                "".into(),
                self.request_queue.as_str().into(),
                BasicPublishOptions::default(),
                payload,
                BasicProperties::default()
                    .with_reply_to(self.reply_queue.as_str().into())
                    .with_correlation_id(correlation.as_str().into()),
            )
            .await
            .expect("publish the request");
        loop {
            let d = self
                .replies
                .next()
                .await
                .expect("reply stream open")
                .expect("a reply");
            if d.properties.correlation_id().as_ref().map(|c| c.as_str())
                == Some(correlation.as_str())
            {
                break;
            }
        }
    }
}

fn transport(c: &mut Criterion) {
    cse_bus::tls::install_crypto_provider();
    let rt = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime"),
    );
    let url = broker_url();
    let extension = match rt.block_on(extension_setup(&url)) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("transport benchmark skipped: no usable broker at {url}: {e}");
            return;
        }
    };
    let raw = match rt.block_on(raw_setup(&url)) {
        Ok(r) => Arc::new(tokio::sync::Mutex::new(r)),
        Err(e) => {
            eprintln!("transport benchmark skipped: raw lapin setup failed: {e}");
            return;
        }
    };
    let https_amqp = match rt.block_on(https_amqp_setup(&url)) {
        Ok(p) => Some(Arc::new(p)),
        Err(e) => {
            eprintln!("transport benchmark: HTTPS over AMQP skipped: {e}");
            None
        }
    };
    let https_mqtt = match rt.block_on(https_mqtt_setup()) {
        Ok(p) => Some(Arc::new(p)),
        Err(e) => {
            eprintln!("transport benchmark: HTTPS over MQTT skipped: {e}");
            None
        }
    };
    // The raw payload is the size of the extension's request envelope.
    let payload = vec![b'x'; 600];
    let tally = Arc::new(Mutex::new(Tally::default()));
    let extension = Arc::new(extension);

    let mut group = c.benchmark_group("transport");
    group.sample_size(30);
    group.measurement_time(Duration::from_secs(5));
    {
        let (ext, tally, rt) = (extension.clone(), tally.clone(), rt.clone());
        group.bench_function("extension_round_trip_system_info", move |b| {
            let (ext, tally) = (ext.clone(), tally.clone());
            b.to_async(&*rt).iter_custom(move |iters| {
                let (ext, tally) = (ext.clone(), tally.clone());
                async move {
                    let start = Instant::now();
                    for _ in 0..iters {
                        let resp = ext.router.forward(&ext.target, system_request()).await;
                        assert_eq!(resp.status, 200);
                    }
                    let elapsed = start.elapsed();
                    let mut t = tally.lock().unwrap();
                    t.extension.0 += elapsed;
                    t.extension.1 += iters;
                    elapsed
                }
            });
        });
    }
    {
        let (raw, tally, payload, rt) = (raw.clone(), tally.clone(), payload.clone(), rt.clone());
        group.bench_function("raw_lapin_round_trip", move |b| {
            let (raw, tally, payload) = (raw.clone(), tally.clone(), payload.clone());
            b.to_async(&*rt).iter_custom(move |iters| {
                let (raw, tally, payload) = (raw.clone(), tally.clone(), payload.clone());
                async move {
                    let mut raw = raw.lock().await;
                    let start = Instant::now();
                    for _ in 0..iters {
                        raw.round_trip(&payload).await;
                    }
                    let elapsed = start.elapsed();
                    let mut t = tally.lock().unwrap();
                    t.raw.0 += elapsed;
                    t.raw.1 += iters;
                    elapsed
                }
            });
        });
    }
    if let Some(path) = &https_amqp {
        bench_https(
            &mut group,
            "https_round_trip_amqp",
            &rt,
            path,
            &tally,
            |t| &mut t.https_amqp,
        );
    }
    if let Some(path) = &https_mqtt {
        bench_https(
            &mut group,
            "https_round_trip_mqtt",
            &rt,
            path,
            &tally,
            |t| &mut t.https_mqtt,
        );
    }
    group.finish();

    // Every timed request reached the handler and was answered by it.
    let replied = |p: &Option<Arc<HttpsPath>>| p.as_ref().map_or(0, |p| p.pool.stats().replied);
    let t = tally.lock().unwrap();
    assert!(
        replied(&https_amqp) >= t.https_amqp.1,
        "AMQP replies missing"
    );
    assert!(
        replied(&https_mqtt) >= t.https_mqtt.1,
        "MQTT replies missing"
    );
    if t.https_amqp.1 > 0 && t.https_mqtt.1 > 0 {
        let amqp_mean = t.https_amqp.0.as_secs_f64() / t.https_amqp.1 as f64;
        let mqtt_mean = t.https_mqtt.0.as_secs_f64() / t.https_mqtt.1 as f64;
        println!(
            "transport: tenant HTTPS round trip over AMQP mean {:.1} µs over {} requests; over MQTT mean {:.1} µs over {}; ratio MQTT/AMQP {:.2}",
            amqp_mean * 1e6,
            t.https_amqp.1,
            mqtt_mean * 1e6,
            t.https_mqtt.1,
            mqtt_mean / amqp_mean
        );
    }
    if t.extension.1 > 0 && t.raw.1 > 0 {
        let ext_mean = t.extension.0.as_secs_f64() / t.extension.1 as f64;
        let raw_mean = t.raw.0.as_secs_f64() / t.raw.1 as f64;
        println!(
            "transport: extension round trip mean {:.1} µs over {} requests; raw lapin round trip mean {:.1} µs over {}; ratio {:.2}",
            ext_mean * 1e6,
            t.extension.1,
            raw_mean * 1e6,
            t.raw.1,
            ext_mean / raw_mean
        );
    }
    drop(t);

    rt.block_on(async {
        let raw = raw.lock().await;
        raw.responder.abort();
        let _ = raw
            .channel
            .queue_delete(
                raw.request_queue.as_str().into(),
                QueueDeleteOptions::default(),
            )
            .await;
        let _ = raw
            .channel
            .queue_delete(
                raw.reply_queue.as_str().into(),
                QueueDeleteOptions::default(),
            )
            .await;
        let _ = raw.connection.close(200, "done".into()).await;
    });
    for path in [https_amqp, https_mqtt].into_iter().flatten() {
        if let Ok(path) = Arc::try_unwrap(path) {
            rt.block_on(async {
                path.pool.stop(Duration::from_secs(5)).await;
                if let Some((admin, exchange, key)) = &path.exchange {
                    let _ = admin.delete_queue(key).await;
                    let _ = admin.delete_exchange(exchange).await;
                    admin.close().await;
                }
                path.sim.shutdown().await;
            });
        }
    }
    if let Ok(ext) = Arc::try_unwrap(extension) {
        rt.block_on(async {
            let Extension {
                router,
                target,
                pool,
                admin,
            } = ext;
            drop(router);
            pool.stop(Duration::from_secs(5)).await;
            let _ = admin.delete_queue(&target.routing_key).await;
            let _ = admin.delete_exchange(&target.exchange).await;
            admin.close().await;
        });
    }
}

criterion_group!(benches, transport);
criterion_main!(benches);
