//! The extension transport end to end over the in-memory bus: tenant HTTP →
//! simulator (API filters, envelope, AMQP publish) → CSE listener pool →
//! handler → reply → HTTP.

use std::sync::Arc;
use std::time::Duration;

use cse_bus::{Bus, MemoryBroker};
use cse_server::amqp::ReplyJournal;
use cse_server::service::Service;
use tests::transport::{Recorder, cse_extension, serve_front, start_server, tenant_client};
use vcd_sim::ext::ExtensionRouter;

#[tokio::test]
async fn system_info_comes_back_from_the_server() {
    let broker = MemoryBroker::new();
    let pool = start_server(
        Arc::new(broker.connect()),
        "vcdext",
        "cse",
        Arc::new(Service::new()),
        ReplyJournal::in_memory(64),
    )
    .await;
    let router = Arc::new(ExtensionRouter::new(
        Arc::new(broker.connect()) as Arc<dyn Bus>,
        Duration::from_secs(10),
    ));
    let front = serve_front(router, vec![cse_extension("vcdext", "cse", true)]).await;

    let resp = tenant_client()
        .get(format!("{}/api/cse/system", front.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"],
        "application/*+json;version=29.0"
    );
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["product"], "CSE");
    assert_eq!(
        body["description"],
        "Container Service Extension for VMware vCloud Director"
    );
    assert_eq!(body["version"], cse_core::CSE_VERSION);
    assert_eq!(broker.ready_count("cse"), Some(0));
    assert_eq!(broker.unacked_count("cse"), 0);
    pool.stop(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_slow_handler_produces_vcds_504() {
    let broker = MemoryBroker::new();
    let handler = Recorder::new(Duration::from_millis(1500));
    let pool = start_server(
        Arc::new(broker.connect()),
        "vcdext",
        "cse",
        handler.clone(),
        ReplyJournal::in_memory(64),
    )
    .await;
    let router = Arc::new(ExtensionRouter::new(
        Arc::new(broker.connect()) as Arc<dyn Bus>,
        Duration::from_secs(1),
    ));
    let front = serve_front(router, vec![cse_extension("vcdext", "cse", true)]).await;
    let started = std::time::Instant::now();
    let resp = tenant_client()
        .get(format!("{}/api/cse/slow/info?n=1", front.base_url))
        .send()
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(resp.status(), 504);
    // vCD waited its full timeout (the 504 itself shows the handler's late
    // answer was not used).
    assert!(elapsed >= Duration::from_secs(1), "{elapsed:?}");
    assert_eq!(
        resp.headers()["content-type"],
        "application/vnd.vmware.vcloud.error+xml;version=29.0"
    );
    let text = resp.text().await.unwrap();
    assert!(text.contains(r#"majorErrorCode="504""#), "{text}");
    assert!(
        text.contains(r#"minorErrorCode="GATEWAY_TIMEOUT""#),
        "{text}"
    );
    assert!(
        text.contains(
            "External service 'cse' failed to respond in the specified timeout (1 SECONDS)"
        ),
        "{text}"
    );
    // The handler still finishes; its late reply is dropped by vCD.
    pool.stop(Duration::from_secs(5)).await;
    assert_eq!(handler.runs().get("n=1"), Some(&1));
}

#[tokio::test]
async fn unregistered_or_disabled_extension_behaves_as_vcd() {
    let broker = MemoryBroker::new();
    let handler = Recorder::new(Duration::ZERO);
    let pool = start_server(
        Arc::new(broker.connect()),
        "vcdext",
        "cse",
        handler.clone(),
        ReplyJournal::in_memory(64),
    )
    .await;
    let router = Arc::new(ExtensionRouter::new(
        Arc::new(broker.connect()) as Arc<dyn Bus>,
        Duration::from_secs(1),
    ));
    let disabled = serve_front(router.clone(), vec![cse_extension("vcdext", "cse", false)]).await;
    let unregistered = serve_front(router, vec![]).await;
    for front in [&disabled, &unregistered] {
        let json = tenant_client()
            .get(format!("{}/api/cse/system", front.base_url))
            .send()
            .await
            .unwrap();
        assert_eq!(json.status(), 406);
        let xml = tenant_client()
            .get(format!("{}/api/cse/system", front.base_url))
            .header("Accept", "application/*+xml;version=29.0")
            .send()
            .await
            .unwrap();
        assert_eq!(xml.status(), 404);
        assert!(xml.text().await.unwrap().contains("RESOURCE_NOT_FOUND"));
    }
    pool.stop(Duration::from_secs(5)).await;
    assert!(handler.runs().is_empty(), "nothing reached the server");
}

#[tokio::test]
async fn many_concurrent_tenants_each_get_their_own_answer() {
    let broker = MemoryBroker::new();
    let handler = Recorder::new(Duration::from_millis(20));
    let pool = start_server(
        Arc::new(broker.connect()),
        "vcdext",
        "cse",
        handler.clone(),
        ReplyJournal::in_memory(256),
    )
    .await;
    let router = Arc::new(ExtensionRouter::new(
        Arc::new(broker.connect()) as Arc<dyn Bus>,
        Duration::from_secs(10),
    ));
    let front = serve_front(router, vec![cse_extension("vcdext", "cse", true)]).await;
    let client = tenant_client();
    let mut tasks = Vec::new();
    for n in 0..40 {
        let url = format!("{}/api/cse/c{n}/info?n={n}", front.base_url);
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let resp = client.get(url).send().await.unwrap();
            (
                resp.status().as_u16(),
                resp.json::<serde_json::Value>().await.unwrap(),
            )
        }));
    }
    for (n, task) in tasks.into_iter().enumerate() {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, 200);
        assert_eq!(body["echo"], format!("n={n}"));
    }
    let runs = handler.runs();
    assert_eq!(runs.len(), 40);
    assert!(runs.values().all(|&r| r == 1));
    pool.stop(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_frozen_servers_request_answered_504_by_vcd_is_executed_by_no_other_server() {
    let broker = MemoryBroker::new();
    // Frozen (as under SIGSTOP): takes the request, never answers.
    let frozen = Recorder::new(Duration::from_secs(3_600));
    let frozen_pool = start_server(
        Arc::new(broker.connect()),
        "vcdext",
        "cse",
        frozen.clone(),
        ReplyJournal::in_memory(64),
    )
    .await;
    let router = Arc::new(ExtensionRouter::new(
        Arc::new(broker.connect()) as Arc<dyn Bus>,
        // Over the 500 ms a change needs left to start.
        Duration::from_millis(900),
    ));
    let front = serve_front(router, vec![cse_extension("vcdext", "cse", true)]).await;
    let resp = tenant_client()
        .post(format!("{}/api/cse?n=frozen", front.base_url))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 504, "vCD stopped waiting");
    assert_eq!(frozen.runs().get("n=frozen"), Some(&1));

    // A healthy server joins; the broker gives up on the frozen one's
    // connection and redelivers its unacknowledged request.
    let healthy = Recorder::new(Duration::ZERO);
    let healthy_pool = start_server(
        Arc::new(broker.connect()),
        "vcdext",
        "cse",
        healthy.clone(),
        ReplyJournal::in_memory(64),
    )
    .await;
    broker.drop_connections();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while broker.ready_count("cse") != Some(0) || broker.unacked_count("cse") != 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the copy was never settled"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(healthy.runs().is_empty(), "{:?}", healthy.runs());
    assert_eq!(
        frozen.runs().get("n=frozen"),
        Some(&1),
        "never a second run"
    );
    assert_eq!(
        healthy_pool.stats().expired + frozen_pool.stats().expired,
        1,
        "the copy was dropped as expired"
    );
    healthy_pool.stop(Duration::from_secs(1)).await;
    frozen_pool.stop(Duration::from_millis(10)).await;
}
