//! Every `/api/cse` route through the server's handler against the
//! simulator: answers, the error texts of spec §2.4 (and the 4xx of
//! API-DECISIONS), tenant isolation, system control by the System org only,
//! the optional rights check, and one request over vCD's extension routing.

mod support;

use std::sync::Arc;
use std::time::Duration;

use cse_core::ext::{ExtRequestBuilder, SecurityContext};
use serde_json::{Value, json};
use support::{API, Harness, start, start_ready, start_with};

fn message(body: &Value) -> &str {
    body["message"].as_str().unwrap_or_default()
}

async fn expect_error(
    h: &Harness,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
    status: u16,
    text: &str,
) {
    let (got, reply) = h.call(token, method, path, body).await;
    assert_eq!(
        (got, message(&reply)),
        (status, text),
        "{method} {path}: {reply}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_routes_answer_and_every_validation_error_has_its_text() {
    let h = start().await;
    let alice = h.alice().await;

    let (status, list) = h.call(&alice, "GET", "/api/cse", None).await;
    assert_eq!((status, list), (200, json!([])));
    let (status, templates) = h.call(&alice, "GET", "/api/cse/template", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        templates,
        json!([{"name": support::TEMPLATE, "is_default": true, "catalog": "cse",
                 "catalog_item": support::TEMPLATE_ITEM,
                 "description": h.config.broker.templates[0].description}])
    );

    let (status, swagger) = h.call(&alice, "GET", "/api/cse/swagger.json", None).await;
    assert_eq!((status, &swagger["swagger"]), (200, &json!("2.0")));
    let (status, yaml) = h.call(&alice, "GET", "/api/cse/swagger.yaml", None).await;
    assert_eq!(status, 200);
    assert!(
        yaml.as_str().unwrap().contains("basePath: /api/cse"),
        "{yaml}"
    );

    let not_found = "Cluster 'nope' not found.";
    for (method, path) in [
        ("GET", "/api/cse/nope/info"),
        ("GET", "/api/cse/nope/config"),
        ("DELETE", "/api/cse/nope"),
        ("GET", "/api/cse/nope/node-abcd/info"),
    ] {
        expect_error(&h, &alice, method, path, None, 500, not_found).await;
    }
    expect_error(
        &h,
        &alice,
        "POST",
        "/api/cse/nope/node",
        Some(json!({"network": "net1"})),
        500,
        not_found,
    )
    .await;
    expect_error(
        &h,
        &alice,
        "DELETE",
        "/api/cse/nope/node",
        Some(json!({"nodes": ["node-abcd"]})),
        500,
        not_found,
    )
    .await;

    let create = |extra: Value| {
        let mut body = json!({"name": "ok1", "vdc": "vdc1", "network": "net1"});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    for (body, status, text) in [
        (
            create(json!({"name": "bad_name"})),
            500,
            "Invalid cluster name",
        ),
        (
            create(json!({"name": "a-very-long-cluster-name-over-25"})),
            500,
            "Invalid cluster name",
        ),
        (
            create(json!({"name": "system"})),
            500,
            "Invalid cluster name: 'system' is reserved (system, template and swagger* cannot be used as cluster names)",
        ),
        (
            create(json!({"name": ""})),
            400,
            "Missing required field 'name' in the request body",
        ),
        (create(json!({"name": "."})), 500, "Invalid cluster name"),
        (
            create(json!({"node_count": -1})),
            500,
            "Invalid node count: -1.",
        ),
        (create(json!({"cpu": 0})), 400, "Invalid number of CPUs: 0."),
        (
            create(json!({"memory": -5})),
            400,
            "Invalid memory size: -5 MB.",
        ),
        (
            create(json!({"template": "nope"})),
            500,
            "Template nope not found",
        ),
        (
            create(json!({"vdc": null})),
            400,
            "Missing required field 'vdc' in the request body",
        ),
        (
            create(json!({"network": null})),
            400,
            "Missing required field 'network' in the request body",
        ),
        (
            json!({"vdc": "vdc1"}),
            400,
            "Missing required field 'name' in the request body",
        ),
    ] {
        expect_error(&h, &alice, "POST", "/api/cse", Some(body), status, text).await;
    }
    expect_error(
        &h,
        &alice,
        "POST",
        "/api/cse",
        None,
        400,
        "A JSON request body is required",
    )
    .await;

    for (body, status, text) in [
        (
            json!({"network": "net1", "node_count": 0}),
            500,
            "Invalid node count: 0.",
        ),
        (
            json!({"network": "net1", "node_type": "gpu"}),
            400,
            "Invalid node type: 'gpu'. Expected 'node' or 'nfsd'.",
        ),
        (
            json!({"network": "net1", "name": "other"}),
            400,
            "Cluster name in the request body ('other') does not match the cluster in the URL ('c9').",
        ),
        (
            json!({"node_count": 1}),
            400,
            "Missing required field 'network' in the request body",
        ),
    ] {
        expect_error(
            &h,
            &alice,
            "POST",
            "/api/cse/c9/node",
            Some(body),
            status,
            text,
        )
        .await;
    }
    for (body, text) in [
        (json!({"nodes": []}), "Invalid list of nodes: []."),
        (json!({"nodes": null}), "Invalid list of nodes: []."),
        (
            json!({"nodes": ["node-a", "mstr-abcd"]}),
            "Can't delete a master node: 'mstr-abcd'.",
        ),
    ] {
        expect_error(
            &h,
            &alice,
            "DELETE",
            "/api/cse/c9/node",
            Some(body),
            500,
            text,
        )
        .await;
    }

    expect_error(
        &h,
        &alice,
        "GET",
        "/api/cse/a/b/c/d",
        None,
        404,
        "Unknown request: GET /api/cse/a/b/c/d",
    )
    .await;
    expect_error(
        &h,
        &alice,
        "DELETE",
        "/api/cse",
        None,
        405,
        "Method DELETE is not allowed on /api/cse (allowed: GET, POST)",
    )
    .await;

    // Envelope and identity problems.
    let no_token = ExtRequestBuilder::new("r1", "GET", "/api/cse")
        .header("Accept", format!("application/*+json;version={API}"))
        .build();
    let (status, body) = h.raw(no_token).await;
    assert_eq!(
        (status, message(&body)),
        (401, "Missing x-vcloud-authorization header")
    );
    let no_version = ExtRequestBuilder::new("r2", "GET", "/api/cse")
        .header("Accept", "application/json")
        .header("x-vcloud-authorization", alice.as_str())
        .build();
    assert_eq!(h.raw(no_version).await.0, 400);
    expect_error(
        &h,
        "not-a-session",
        "GET",
        "/api/cse",
        None,
        401,
        "Unauthorized",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_state_is_changed_by_the_system_org_only() {
    let h = start().await;
    let alice = h.alice().await;
    let admin = h.sysadmin().await;

    let (status, info) = h.call(&alice, "GET", "/api/cse/system", None).await;
    assert_eq!(status, 200);
    assert!(
        info.get("python").is_none() && info.get("status").is_none(),
        "{info}"
    );
    let (status, info) = h.call(&admin, "GET", "/api/cse/system", None).await;
    assert_eq!(status, 200);
    assert_eq!(info["status"], "Running");
    assert_eq!(info["config_file"], "tests/config.yaml");

    for body in [
        json!({"enabled": false}),
        json!({"stopped": true}),
        json!({"enabled": true}),
    ] {
        expect_error(
            &h,
            &alice,
            "PUT",
            "/api/cse/system",
            Some(body),
            401,
            "Unauthorized",
        )
        .await;
    }
    assert!(h.ctx().system.is_enabled());

    expect_error(
        &h,
        &admin,
        "PUT",
        "/api/cse/system",
        Some(json!({"stopped": true})),
        500,
        "Cannot stop CSE while is enabled. Disable the service first.",
    )
    .await;
    expect_error(
        &h,
        &admin,
        "PUT",
        "/api/cse/system",
        Some(json!({"other": 1})),
        500,
        "Unknown status",
    )
    .await;
    expect_error(
        &h,
        &admin,
        "PUT",
        "/api/cse/system",
        Some(json!({"enabled": false})),
        200,
        "Updated",
    )
    .await;
    let disabled = "CSE service is disabled. Contact the System Administrator.";
    expect_error(&h, &alice, "GET", "/api/cse", None, 500, disabled).await;
    expect_error(&h, &alice, "GET", "/api/cse/template", None, 500, disabled).await;
    expect_error(
        &h,
        &alice,
        "POST",
        "/api/cse",
        Some(json!({"name": "x"})),
        500,
        disabled,
    )
    .await;
    assert_eq!(h.call(&alice, "GET", "/api/cse/system", None).await.0, 200);
    let (_, info) = h.call(&admin, "GET", "/api/cse/system", None).await;
    assert_eq!(info["status"], "Disabled");

    expect_error(
        &h,
        &admin,
        "PUT",
        "/api/cse/system",
        Some(json!({"stopped": true})),
        200,
        "CSE graceful shutdown started.",
    )
    .await;
    let (_, info) = h.call(&admin, "GET", "/api/cse/system", None).await;
    assert_eq!(info["status"], "Shutting down");
    expect_error(
        &h,
        &admin,
        "PUT",
        "/api/cse/system",
        Some(json!({"enabled": true})),
        500,
        "Cannot enable while being stopped.",
    )
    .await;
    tokio::time::timeout(Duration::from_secs(5), h.ctx().system.stopped())
        .await
        .expect("a stop with nothing in flight completes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_see_and_touch_only_their_own_clusters() {
    let h = start_ready().await;
    let alice = h.alice().await;
    let carol = h.carol().await;
    let admin = h.sysadmin().await;

    let (status, body) = h
        .call(
            &alice,
            "POST",
            "/api/cse",
            Some(json!({"name": "mine", "node_count": 0, "vdc": "vdc1", "network": "net1"})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let task = body["task_href"].as_str().unwrap().to_owned();
    assert_eq!(h.wait_task(&task).await.0, "success");

    // An operation holding its lease makes the cluster busy for others.
    let admin_client = h.ctx().admin().await.unwrap();
    let (_, info) = h.call(&alice, "GET", "/api/cse/mine/info", None).await;
    let vapp_href = info["vapp_href"].as_str().unwrap().to_owned();
    let journal = cse_server::ops::journal::Journal::new(
        cse_server::ops::journal::OpKind::CreateNodes,
        cse_server::ops::task::TaskIdentity {
            href: String::new(),
            operation_name: "create_nodes".into(),
            cluster: "mine".into(),
            cluster_id: String::new(),
            user_name: "alice".into(),
            user_id: String::new(),
            lease: None,
        },
        false,
    );
    cse_server::ops::journal::write(&admin_client, &h.ctx().vapp_gates, &vapp_href, &journal)
        .await
        .unwrap();
    let lease = cse_server::ops::journal::Lease::new("another-replica", Duration::from_secs(60));
    cse_server::ops::journal::write_lease(&admin_client, &h.ctx().vapp_gates, &vapp_href, &lease)
        .await
        .unwrap();
    let (status, busy) = h.call(&alice, "DELETE", "/api/cse/mine", None).await;
    assert_eq!(status, 409);
    assert_eq!(
        message(&busy),
        "Cluster 'mine' is busy: another operation (create_nodes) is in progress. Try again when its task has finished."
    );
    cse_server::ops::journal::clear(&admin_client, &h.ctx().vapp_gates, &vapp_href)
        .await
        .unwrap();

    expect_error(
        &h,
        &alice,
        "POST",
        "/api/cse",
        Some(json!({"name": "mine", "vdc": "vdc1", "network": "net1"})),
        500,
        "Cluster already exists.",
    )
    .await;
    let (status, body) = h
        .call(
            &alice,
            "POST",
            "/api/cse",
            Some(json!({"name": "nonet", "node_count": 0, "vdc": "vdc1", "network": "nowhere"})),
        )
        .await;
    assert_eq!(status, 202);
    let (status, _, error) = h.wait_task(body["task_href"].as_str().unwrap()).await;
    assert_eq!(status, "error");
    assert_eq!(
        error,
        "Error while creating vApp: Network 'nowhere' not found in the Virtual Datacenter."
    );

    let (_, list) = h.call(&alice, "GET", "/api/cse", None).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["name"], "mine");
    assert_eq!(list[0]["vdc_name"], "vdc1");
    let (_, list) = h.call(&admin, "GET", "/api/cse", None).await;
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "the System org sees every cluster"
    );

    let (status, list) = h.call(&carol, "GET", "/api/cse", None).await;
    assert_eq!((status, list), (200, json!([])));
    let hidden = "Cluster 'mine' not found.";
    expect_error(&h, &carol, "GET", "/api/cse/mine/info", None, 500, hidden).await;
    expect_error(&h, &carol, "GET", "/api/cse/mine/config", None, 500, hidden).await;
    expect_error(&h, &carol, "DELETE", "/api/cse/mine", None, 500, hidden).await;
    expect_error(
        &h,
        &carol,
        "POST",
        "/api/cse/mine/node",
        Some(json!({"network": "net1"})),
        500,
        hidden,
    )
    .await;
    let (_, info) = h.call(&alice, "GET", "/api/cse/mine/info", None).await;
    let master = info["master_nodes"][0]["name"].as_str().unwrap().to_owned();
    expect_error(
        &h,
        &carol,
        "DELETE",
        "/api/cse/mine/node",
        Some(json!({"nodes": ["node-zzzz"]})),
        500,
        hidden,
    )
    .await;
    expect_error(
        &h,
        &carol,
        "GET",
        &format!("/api/cse/mine/{master}/info"),
        None,
        500,
        hidden,
    )
    .await;
    expect_error(
        &h,
        &alice,
        "GET",
        "/api/cse/mine/node-zzzz/info",
        None,
        500,
        "Node 'node-zzzz' not found in cluster 'mine'",
    )
    .await;
    expect_error(
        &h,
        &alice,
        "DELETE",
        "/api/cse/mine/node",
        Some(json!({"nodes": ["node-zzzz"]})),
        500,
        "Node 'node-zzzz' not found in cluster 'mine'",
    )
    .await;
    assert!(
        h.sim
            .handle
            .state()
            .vapp_names()
            .contains(&"mine".to_owned())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enforce_authorization_needs_the_cse_right_outside_the_system_org() {
    let h = start_with(|b| b, |c| c.service.enforce_authorization = true).await;
    let alice = h.alice().await;
    expect_error(&h, &alice, "GET", "/api/cse", None, 401, "Unauthorized").await;
    let request = |rights: Vec<String>| {
        ExtRequestBuilder::new("r", "GET", "/api/cse")
            .header("Accept", format!("application/*+json;version={API}"))
            .header("x-vcloud-authorization", alice.as_str())
            .security_context(SecurityContext {
                user: None,
                org: None,
                rights,
            })
            .build()
    };
    assert_eq!(
        h.raw(request(vec!["{cse}:CSE NATIVE DEPLOY RIGHT".into()]))
            .await
            .0,
        200
    );
    assert_eq!(h.raw(request(vec!["vApp: View".into()])).await.0, 401);
    let admin = h.sysadmin().await;
    assert_eq!(h.call(&admin, "GET", "/api/cse", None).await.0, 200);
    assert_eq!(h.call(&alice, "GET", "/api/cse/system", None).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_request_travels_through_vcd_extension_routing() {
    let h = start().await;
    let broker = h.sim.memory_broker.clone().unwrap();
    let mut listener = cse_server::amqp::ListenerConfig::from_config(&h.config);
    listener.passive_exchange = false;
    let service = cse_server::service::Service::with_all_routes(Arc::new(h.ops.clone()));
    let pool = cse_server::amqp::ListenerPool::start(
        Arc::new(broker.connect()),
        listener,
        Arc::new(service),
        cse_server::amqp::ReplyJournal::in_memory(16),
    );
    assert!(pool.wait_connected(Duration::from_secs(5)).await);
    support::register_extension(&h).await;
    let alice = h.alice().await;
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let response = http
        .get(format!("{}/api/cse/template", h.sim.base_url()))
        .header("Accept", format!("application/*+json;version={API}"))
        .header("x-vcloud-authorization", &alice)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body[0]["name"], support::TEMPLATE);
    pool.stop(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bearer_tenant_on_vcd_10_4_is_rehydrated_from_the_forwarded_request() {
    let h = start_with(
        |b| b.vcd_release(vcd_sim::VcdRelease::V10_4),
        |c| c.vcd.api_version = "auto".into(),
    )
    .await;
    let broker = h.sim.memory_broker.clone().unwrap();
    let mut listener = cse_server::amqp::ListenerConfig::from_config(&h.config);
    listener.passive_exchange = false;
    let service = cse_server::service::Service::with_all_routes(Arc::new(h.ops.clone()));
    let pool = cse_server::amqp::ListenerPool::start(
        Arc::new(broker.connect()),
        listener,
        Arc::new(service),
        cse_server::amqp::ReplyJournal::in_memory(16),
    );
    assert!(pool.wait_connected(Duration::from_secs(5)).await);
    support::register_extension_at(&h, "37.0").await;
    let alice = h.session_token("acme", "alice", "alice-pw", "37.0").await;
    assert_eq!(alice.kind(), cse_vcd::vcd::TokenKind::Bearer);
    let jwt = alice.secret().expose().to_owned();

    // Through vCD: the tenant's CloudAPI session reaches the server as
    // Authorization: Bearer, which it re-hydrates (cluster list reads vCD as alice).
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    for path in ["/api/cse/template", "/api/cse"] {
        let response = http
            .get(format!("{}{path}", h.sim.base_url()))
            .header("Accept", "application/*+json;version=37.0")
            .bearer_auth(&jwt)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
    pool.stop(Duration::from_secs(5)).await;

    // The bearer token wins over a legacy token in the same request.
    // A legacy token of alice's (10.4 still answers POST /api/sessions at 37.0).
    let legacy = http
        .post(format!("{}/api/sessions", h.sim.base_url()))
        .header("Accept", "application/*+xml;version=37.0")
        .basic_auth("alice@acme", Some("alice-pw"))
        .send()
        .await
        .unwrap()
        .headers()
        .get("x-vcloud-authorization")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let with_legacy_only =
        ExtRequestBuilder::new(uuid::Uuid::new_v4().to_string(), "GET", "/api/cse/system")
            .header("Accept", "application/*+json;version=37.0")
            .header("x-vcloud-authorization", &legacy)
            .build();
    assert_eq!(h.raw(with_legacy_only).await.0, 200);
    let request = |bearer: &str, legacy: &str| {
        ExtRequestBuilder::new(uuid::Uuid::new_v4().to_string(), "GET", "/api/cse/system")
            .header("Accept", "application/*+json;version=37.0")
            .header("Authorization", format!("Bearer {bearer}"))
            .header("x-vcloud-authorization", legacy)
            .build()
    };
    assert_eq!(h.raw(request(&jwt, "not-a-token")).await.0, 200);
    let (status, body) = h.raw(request(&format!("{jwt}x"), &legacy)).await;
    assert_eq!(status, 401, "{body}");
    assert!(!body.to_string().contains(&jwt));
}
