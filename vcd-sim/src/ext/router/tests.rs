//! The vCD side of the extension transport over the in-memory bus, with a
//! scripted extension on the other end. Paused time makes the timeout cases instant.

use std::time::Duration;

use base64::Engine as _;
use cse_bus::{Delivery, MemoryBroker, reply};
use serde_json::Value;

use super::*;
use crate::ext::SecurityContext;

fn target() -> ExtensionTarget {
    ExtensionTarget {
        name: "cse".into(),
        namespace: "cse".into(),
        exchange: "vcdext".into(),
        routing_key: "cse".into(),
        enabled: true,
        id: "urn:vcloud:service:0d2f1c1e-1111-2222-3333-444455556666".into(),
        mqtt: None,
    }
}

fn request(path: &str) -> ForwardedRequest {
    ForwardedRequest {
        method: "GET".into(),
        request_uri: path.into(),
        query_string: None,
        headers: vec![
            ("Accept".into(), "application/*+json;version=29.0".into()),
            ("x-vcloud-authorization".into(), "token-1".into()),
        ],
        body: Bytes::new(),
        security: SecurityContext {
            user_urn: "urn:vcloud:user:u1".into(),
            user_name: "alice".into(),
            org_urn: "urn:vcloud:org:o1".into(),
            org_name: "acme".into(),
            rights: vec!["CSE NATIVE DEPLOY RIGHT".into()],
        },
        remote_addr: Some("10.0.0.7:50123".into()),
    }
}

/// The extension's side: exchange `vcdext`, queue `cse` bound with key `cse`.
async fn extension(broker: &MemoryBroker) -> (Arc<cse_bus::MemoryBus>, Box<dyn cse_bus::Consumer>) {
    let bus = Arc::new(broker.connect());
    bus.declare_exchange("vcdext", ExchangeOptions::default())
        .await
        .unwrap();
    bus.declare_queue("cse", QueueOptions::default())
        .await
        .unwrap();
    bus.bind_queue("cse", "vcdext", "cse").await.unwrap();
    let consumer = bus.consume("cse", ConsumeOptions::default()).await.unwrap();
    (bus, consumer)
}

async fn answer(bus: &cse_bus::MemoryBus, delivery: &Delivery, status: u16, body: &str) {
    let req = cse_core::ext::ExtRequest::from_json(&delivery.message.body).unwrap();
    let r = ExtReply::new(&req, status, body.as_bytes().to_vec());
    reply(bus, &delivery.message.properties, Bytes::from(r.to_json()))
        .await
        .unwrap();
    delivery.ack().await.unwrap();
}

fn router(broker: &MemoryBroker, timeout: Duration) -> ExtensionRouter {
    ExtensionRouter::new(Arc::new(broker.connect()), timeout)
}

#[tokio::test(start_paused = true)]
async fn round_trip_carries_envelope_properties_and_reply() {
    let broker = MemoryBroker::new();
    let (ext_bus, mut consumer) = extension(&broker).await;
    let router = router(&broker, Duration::from_secs(10));
    let server = tokio::spawn(async move {
        let d = consumer.next().await.unwrap();
        let props = d.message.properties.clone();
        let envelope: Value = serde_json::from_slice(&d.message.body).unwrap();
        answer(&ext_bus, &d, 200, r#"{"product":"CSE"}"#).await;
        (props, envelope)
    });
    let mut req = request("/api/cse/system");
    req.method = "POST".into();
    req.query_string = Some("a=1".into());
    req.body = Bytes::from_static(br#"{"name":"c1"}"#);
    let resp = router.forward(&target(), req).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, Bytes::from_static(br#"{"product":"CSE"}"#));
    assert_eq!(
        resp.headers,
        vec![(
            "Content-Type".to_owned(),
            "application/*+json;version=29.0".to_owned()
        )]
    );

    let (props, envelope) = server.await.unwrap();
    assert_eq!(
        props.reply_to.as_deref(),
        Some(router.options().reply_queue.as_str())
    );
    assert!(props.correlation_id.is_some());
    assert_eq!(
        props.header_str("replyToExchange"),
        Some("vcd.replyExchange")
    );
    assert_eq!(props.header_str("messageType"), Some("ProcessHttpRequest"));
    assert_eq!(
        props.content_type.as_deref(),
        Some("application/octet-stream")
    );
    assert_eq!(props.delivery_mode, Some(1));
    let r = &envelope[0];
    assert_eq!(r["method"], "POST");
    assert_eq!(r["requestUri"], "/api/cse/system");
    assert_eq!(r["queryString"], "a=1");
    assert_eq!(r["headers"]["x-vcloud-authorization"], "token-1");
    assert_eq!(r["request"], true);
    assert_eq!(r["statusCode"], 0);
    assert_eq!(r["remoteAddr"], "10.0.0.7");
    let body = base64::engine::general_purpose::STANDARD
        .decode(r["body"].as_str().unwrap())
        .unwrap();
    assert_eq!(body, br#"{"name":"c1"}"#);
    assert_eq!(envelope[1]["user"], "urn:vcloud:user:u1");
    assert_eq!(envelope[1]["org"], "urn:vcloud:org:o1");
    assert_eq!(envelope[1]["rights"][0], "CSE NATIVE DEPLOY RIGHT");
}

#[tokio::test(start_paused = true)]
async fn concurrent_requests_get_their_own_replies() {
    let broker = MemoryBroker::new();
    let (ext_bus, mut consumer) = extension(&broker).await;
    let router = Arc::new(router(&broker, Duration::from_secs(10)));
    tokio::spawn(async move {
        let mut held = Vec::new();
        for _ in 0..5 {
            held.push(consumer.next().await.unwrap());
        }
        // Answer in reverse order, each with its own path.
        for d in held.iter().rev() {
            let req = cse_core::ext::ExtRequest::from_json(&d.message.body).unwrap();
            answer(&ext_bus, d, 200, &format!("\"{}\"", req.request_uri)).await;
        }
    });
    let mut tasks = Vec::new();
    for i in 0..5 {
        let router = router.clone();
        tasks.push(tokio::spawn(async move {
            router
                .forward(&target(), request(&format!("/api/cse/c{i}/info")))
                .await
        }));
    }
    for (i, t) in tasks.into_iter().enumerate() {
        let resp = t.await.unwrap();
        assert_eq!(resp.body, Bytes::from(format!("\"/api/cse/c{i}/info\"")));
    }
}

#[tokio::test(start_paused = true)]
async fn no_reply_within_the_timeout_is_vcds_504_and_late_replies_are_dropped() {
    let broker = MemoryBroker::new();
    let (ext_bus, mut consumer) = extension(&broker).await;
    let router = router(&broker, Duration::from_secs(10));
    let started = tokio::time::Instant::now();
    let resp = router.forward(&target(), request("/api/cse/system")).await;
    assert_eq!(started.elapsed(), Duration::from_secs(10));
    assert_eq!(resp.status, 504);
    assert_eq!(
        resp.headers,
        vec![(
            "Content-Type".to_owned(),
            "application/vnd.vmware.vcloud.error+xml;version=29.0".to_owned()
        )]
    );
    insta::assert_snapshot!(
        "timeout_504_body",
        String::from_utf8(resp.body.to_vec()).unwrap()
    );
    // The late answer goes nowhere; the next request is unaffected.
    let late = consumer.next().await.unwrap();
    answer(&ext_bus, &late, 200, "\"late\"").await;
    tokio::spawn(async move {
        let d = consumer.next().await.unwrap();
        answer(&ext_bus, &d, 200, "\"fresh\"").await;
    });
    let resp = router.forward(&target(), request("/api/cse/again")).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, Bytes::from_static(b"\"fresh\""));
}

#[tokio::test(start_paused = true)]
async fn disabled_service_falls_through_to_vcd() {
    let broker = MemoryBroker::new();
    let (_ext_bus, _consumer) = extension(&broker).await;
    let router = router(&broker, Duration::from_secs(10));
    let mut t = target();
    t.enabled = false;
    let json = router.forward(&t, request("/api/cse/system")).await;
    assert_eq!(json.status, 406);
    let mut xml_req = request("/api/cse/system");
    xml_req.headers[0].1 = "application/*+xml;version=29.0".into();
    let xml = router.forward(&t, xml_req).await;
    assert_eq!(xml.status, 404);
    assert_eq!(broker.ready_count("cse"), Some(0), "nothing was published");
}

#[tokio::test(start_paused = true)]
async fn missing_exchange_is_cannot_send() {
    let broker = MemoryBroker::new();
    let router = router(&broker, Duration::from_secs(10));
    let resp = router.forward(&target(), request("/api/cse/system")).await;
    assert_eq!(resp.status, 500);
    insta::assert_snapshot!(
        "cannot_send_500_body",
        String::from_utf8(resp.body.to_vec()).unwrap()
    );
}

#[tokio::test(start_paused = true)]
async fn malformed_reply_is_a_500_naming_the_problem() {
    let broker = MemoryBroker::new();
    let (ext_bus, mut consumer) = extension(&broker).await;
    let router = router(&broker, Duration::from_secs(10));
    tokio::spawn(async move {
        let d = consumer.next().await.unwrap();
        reply(
            &*ext_bus,
            &d.message.properties,
            Bytes::from_static(b"not json"),
        )
        .await
        .unwrap();
        d.ack().await.unwrap();
    });
    let resp = router.forward(&target(), request("/api/cse/system")).await;
    assert_eq!(resp.status, 500);
    let text = String::from_utf8(resp.body.to_vec()).unwrap();
    assert!(
        text.contains("External service 'cse' sent an invalid response"),
        "{text}"
    );
}

#[tokio::test(start_paused = true)]
async fn broker_outage_fails_fast_then_recovers_by_itself() {
    let broker = MemoryBroker::new();
    let router = router(&broker, Duration::from_secs(10));
    let (ext_bus, mut consumer) = extension(&broker).await;
    // Warm up: reply subscription established.
    let ext = ext_bus.clone();
    tokio::spawn(async move {
        let d = consumer.next().await.unwrap();
        answer(&ext, &d, 200, "\"one\"").await;
    });
    assert_eq!(
        router
            .forward(&target(), request("/api/cse/system"))
            .await
            .status,
        200
    );

    broker.stop();
    broker.start();
    // The broker restarted: the transient `cse` queue is gone. Wait for the
    // router to resubscribe its reply queue.
    tokio::time::sleep(Duration::from_secs(5)).await;
    // The extension redeclares its queue (as the CSE server does on reconnect).
    let (ext_bus, mut consumer) = extension(&broker).await;
    tokio::spawn(async move {
        let d = consumer.next().await.unwrap();
        answer(&ext_bus, &d, 200, "\"two\"").await;
    });
    let resp = router.forward(&target(), request("/api/cse/system")).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, Bytes::from_static(b"\"two\""));
}

#[tokio::test(start_paused = true)]
async fn stopped_broker_answers_cannot_send_without_waiting_for_the_timeout() {
    let broker = MemoryBroker::new();
    let router = router(&broker, Duration::from_secs(10));
    broker.stop();
    let started = tokio::time::Instant::now();
    let resp = router.forward(&target(), request("/api/cse/system")).await;
    assert_eq!(resp.status, 500);
    assert!(started.elapsed() < Duration::from_secs(1));
}
