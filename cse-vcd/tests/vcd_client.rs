//! The vCD client against the simulator's vCD REST API over HTTPS: sysadmin login,
//! tenant re-hydration from a forwarded token and `Accept` version, 401 renewal,
//! error documents, paged queries, extension tasks with deadlines, the vCenter
//! registration lookup, typed documents and TLS verification.

use std::time::Duration;

use cse_core::config::Secret;
use cse_core::vcd::task::{TaskOwner, TaskUser};
use cse_core::vcd::{Org, Task, TaskStatus as DocStatus, VcdErrorDocument as DocError};
use cse_vcd::vcd::{
    ApiVersion, Client, Credentials, Filter, Query, QueryFormat, RetryPolicy, SessionToken,
    TaskInfo, TaskStatus, TlsOptions, VcdConnector, VcdError, VcdSettings, version_from_accept,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use vcd_sim::{SimBuilder, SimHandle};

struct Harness {
    sim: SimHandle,
    connector: VcdConnector,
}

fn settings(sim: &SimHandle, tls: TlsOptions) -> VcdSettings {
    let mut settings = VcdSettings::new(
        &format!("{}/api", sim.base_url),
        ApiVersion::parse("29.0").unwrap(),
    )
    .unwrap();
    settings.tls = tls;
    settings.retry = RetryPolicy::immediate(2);
    settings.task_poll_interval = Duration::from_millis(20);
    settings.task_timeout = Duration::from_secs(5);
    settings.http.request = Duration::from_secs(20);
    settings
}

fn trusted(sim: &SimHandle) -> TlsOptions {
    let pem = sim.cert_pem.as_ref().expect("the simulator serves HTTPS");
    TlsOptions::trusting(vec![
        reqwest::Certificate::from_pem(pem.as_bytes()).unwrap(),
    ])
}

async fn start() -> Harness {
    cse_bus::tls::install_crypto_provider();
    let sim = SimBuilder::new().https(true).start_vcd().await.unwrap();
    let connector = VcdConnector::new(settings(&sim, trusted(&sim))).unwrap();
    Harness { sim, connector }
}

impl Harness {
    async fn sysadmin(&self) -> Client {
        let info = self.sim.info();
        self.connector
            .login(Credentials {
                user: info.sysadmin.user,
                org: "System".into(),
                password: Secret::new(info.sysadmin.password),
            })
            .await
            .unwrap()
    }

    async fn alice(&self) -> Client {
        self.connector
            .login(Credentials {
                user: "alice".into(),
                org: "acme".into(),
                password: Secret::new("alice-pw"),
            })
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn sysadmin_login_gives_a_system_session_with_admin_links() {
    let h = start().await;
    let admin = h.sysadmin().await;
    let session = admin.session();
    assert!(admin.is_sysadmin());
    assert_eq!(session.org, "System");
    assert_eq!(session.user, "administrator");
    assert!(
        session
            .extension_href()
            .unwrap()
            .ends_with("/api/admin/extension")
    );
    let token = admin.token();
    assert!(!token.secret().expose().is_empty());
    let shown = format!("{admin:?}");
    assert!(!shown.contains(token.secret().expose()), "{shown}");
    assert!(!shown.contains(&h.sim.info().sysadmin.password), "{shown}");
    h.sim.shutdown().await;
}

#[tokio::test]
async fn tenant_session_is_rehydrated_from_token_and_accept_version() {
    let h = start().await;
    let alice = h.alice().await;
    let version = version_from_accept("application/*+json;version=31.0").unwrap();
    let rehydrated = h
        .connector
        .rehydrate(alice.token(), version.clone())
        .await
        .unwrap();
    let session = rehydrated.session();
    assert_eq!(
        (session.user.as_str(), session.org.as_str()),
        ("alice", "acme")
    );
    assert!(session.user_id.starts_with("urn:vcloud:user:"));
    assert!(!rehydrated.is_sysadmin());
    assert_eq!(rehydrated.api_version(), &version);
    let org: Org = rehydrated
        .get_doc(session.org_href().unwrap())
        .await
        .unwrap();
    assert_eq!(org.name, "acme");
    h.sim.shutdown().await;
}

#[tokio::test]
async fn bad_tokens_and_bad_passwords_are_typed_errors_without_secrets() {
    let h = start().await;
    let version = ApiVersion::parse("31.0").unwrap();
    let err = h
        .connector
        .rehydrate(
            SessionToken::Legacy(Secret::new("0123456789abcdef-not-a-token")),
            version,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, VcdError::Unauthorized { .. }), "{err}");
    assert!(!format!("{err} {err:?}").contains("0123456789abcdef"));

    let err = h
        .connector
        .login(Credentials {
            user: "alice".into(),
            org: "acme".into(),
            password: Secret::new("wrong-horse"),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, VcdError::LoginRefused { .. }), "{err}");
    assert_eq!(err.status(), Some(401));
    let shown = format!("{err} {err:?}");
    assert!(
        shown.contains("'alice@acme'") && !shown.contains("wrong-horse"),
        "{shown}"
    );
    h.sim.shutdown().await;
}

#[tokio::test]
async fn a_logged_in_session_renews_itself_after_401_but_a_tenant_token_does_not() {
    let h = start().await;
    let admin = h.sysadmin().await;
    let old_token = admin.token();
    // Another holder of the same token logs it out.
    let other = h
        .connector
        .rehydrate(old_token.clone(), ApiVersion::parse("29.0").unwrap())
        .await
        .unwrap();
    other.logout().await.unwrap();
    let orgs = admin.get(&admin.api_url("org/")).await.unwrap();
    assert_eq!(orgs.name, "OrgList");
    assert_ne!(admin.token(), old_token, "a new session was opened");
    assert_eq!(admin.renewals(), 1);

    // Many requests failing together renew the session once.
    let other = h
        .connector
        .rehydrate(admin.token(), ApiVersion::parse("29.0").unwrap())
        .await
        .unwrap();
    other.logout().await.unwrap();
    let url = admin.api_url("org/");
    let results = futures::future::join_all((0..8).map(|_| admin.get(&url))).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(admin.renewals(), 2);

    let alice = h.alice().await;
    let tenant = h
        .connector
        .rehydrate(alice.token(), ApiVersion::parse("31.0").unwrap())
        .await
        .unwrap();
    alice.logout().await.unwrap();
    let err = tenant.get(&tenant.api_url("org/")).await.unwrap_err();
    assert!(matches!(err, VcdError::Unauthorized { .. }), "{err}");
    h.sim.shutdown().await;
}

#[tokio::test]
async fn logins_and_renewals_meeting_a_transient_5xx_are_retried() {
    let h = start().await;
    let sessions = vcd_sim::rest::faults::HttpMatch {
        method: Some(reqwest::Method::POST),
        path_contains: Some("/api/sessions".into()),
    };
    let faults = h.sim.http_faults();
    let rule = faults
        .add(
            vcd_sim::faults::FaultRule::new(
                sessions.clone(),
                vcd_sim::rest::faults::HttpStatus(503),
            )
            .times(1),
        )
        .unwrap();
    let admin = h.sysadmin().await;
    assert_eq!(faults.hits(rule), 1, "the first login met a 503");

    // The session ends; the renewal's login meets a 500, then a 502.
    let other = h
        .connector
        .rehydrate(admin.token(), ApiVersion::parse("29.0").unwrap())
        .await
        .unwrap();
    other.logout().await.unwrap();
    let mut settings = settings(&h.sim, trusted(&h.sim));
    settings.retry = RetryPolicy::immediate(3);
    let patient = VcdConnector::new(settings).unwrap();
    let info = h.sim.info();
    let admin = patient
        .login(Credentials {
            user: info.sysadmin.user,
            org: "System".into(),
            password: Secret::new(info.sysadmin.password),
        })
        .await
        .unwrap();
    let other = h
        .connector
        .rehydrate(admin.token(), ApiVersion::parse("29.0").unwrap())
        .await
        .unwrap();
    other.logout().await.unwrap();
    let failing = [500, 502].map(|status| {
        faults
            .add(
                vcd_sim::faults::FaultRule::new(
                    sessions.clone(),
                    vcd_sim::rest::faults::HttpStatus(status),
                )
                .times(1),
            )
            .unwrap()
    });
    let orgs = admin.get(&admin.api_url("org/")).await.unwrap();
    assert_eq!(orgs.name, "OrgList");
    assert_eq!(admin.renewals(), 1);
    assert!(
        failing.iter().all(|&r| faults.hits(r) == 1),
        "both answered"
    );

    // A login refused (401) is not repeated.
    let refusals = faults.stats().requests;
    let err = patient
        .login(Credentials {
            user: "alice".into(),
            org: "acme".into(),
            password: Secret::new("wrong"),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            VcdError::LoginRefused { .. } | VcdError::Unauthorized { .. }
        ),
        "{err}"
    );
    assert_eq!(faults.stats().requests - refusals, 1, "one attempt");
    h.sim.shutdown().await;
}

#[tokio::test]
async fn error_documents_become_api_errors_with_vcd_codes() {
    let h = start().await;
    let alice = h.alice().await;
    let href = alice.api_url("vApp/vapp-00000000-0000-4000-8000-000000000000");
    let err = alice.get(&href).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert_eq!(err.status(), Some(403));
    assert_eq!(
        err.minor_error_code(),
        Some("ACCESS_TO_RESOURCE_IS_FORBIDDEN")
    );
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "GET {href} answered 403/ACCESS_TO_RESOURCE_IS_FORBIDDEN: "
        )),
        "{text}"
    );
    assert!(text.contains("(request id: "), "{text}");

    let err = alice
        .get(&alice.api_url("admin/extension"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
    h.sim.shutdown().await;
}

#[tokio::test]
async fn queries_follow_next_page_links_until_the_end() {
    let h = start().await;
    let admin = h.sysadmin().await;
    let all = admin
        .query(&Query::new("organization", QueryFormat::Records))
        .await
        .unwrap();
    let mut names: Vec<_> = all.iter().filter_map(|r| r.name()).collect();
    names.sort_unstable();
    assert_eq!(names, ["System", "acme", "beta"]);

    let query = Query::new("organization", QueryFormat::Records).page_size(1);
    let first = admin
        .query_page(
            query
                .url(&admin.settings().api_root, admin.api_version())
                .as_str(),
        )
        .await
        .unwrap();
    assert_eq!(first.total, Some(3));
    assert_eq!(first.records.len(), 1);
    assert!(first.next_page.is_some());
    let paged = admin.query(&query).await.unwrap();
    assert_eq!(paged, all);

    let filtered = admin
        .query(&Query::new("organization", QueryFormat::Records).filter(Filter::eq("name", "acme")))
        .await
        .unwrap();
    assert_eq!(filtered.len(), 1);
    assert_eq!(filtered[0].name(), Some("acme"));
    h.sim.shutdown().await;
}

async fn post_cse_task(admin: &Client, tenant: &Client) -> TaskInfo {
    let org: Org = admin
        .get_doc(tenant.session().org_href().unwrap())
        .await
        .unwrap();
    let tasks_href = org.tasks_list_href().unwrap().to_owned();
    let session = tenant.session();
    let task = Task::cse_task(
        DocStatus::Running,
        "Creating cluster c1(1234)",
        "create_cluster",
        TaskOwner {
            href: "urn:cse:cluster:1234".into(),
            name: Some("c1".into()),
            media_type: Some("application/vcloud.cse.cluster+xml".into()),
            ..TaskOwner::default()
        },
        TaskUser {
            href: session.user_id.clone(),
            name: Some(session.user.clone()),
            media_type: Some("application/vnd.vmware.admin.user+xml".into()),
            ..TaskUser::default()
        },
        None,
    );
    let answer = admin.post_doc(&tasks_href, &task).await.unwrap();
    TaskInfo::parse(&answer.url, &answer.body).unwrap()
}

#[tokio::test]
async fn tasks_are_waited_for_until_they_end_or_the_deadline_passes() {
    let h = start().await;
    let admin = h.sysadmin().await;
    let alice = h.alice().await;
    let task = post_cse_task(&admin, &alice).await;
    assert_eq!(task.status, TaskStatus::Running);

    let deadline = tokio::time::Instant::now() + Duration::from_millis(150);
    let err = alice
        .wait_for_task_until(task.clone(), deadline)
        .await
        .unwrap_err();
    assert!(matches!(err, VcdError::TaskTimeout { .. }), "{err}");
    assert!(
        err.to_string().contains("'Creating cluster c1(1234)'"),
        "{err}"
    );

    let mut done: Task = admin.get_doc(&task.href).await.unwrap();
    done.status = DocStatus::Success;
    admin.put_doc(&task.href, &done).await.unwrap();
    let finished = alice.wait_for_task(task.clone()).await.unwrap();
    assert_eq!(finished.status, TaskStatus::Success);

    let failed_task = post_cse_task(&admin, &alice).await;
    let mut failed: Task = admin.get_doc(&failed_task.href).await.unwrap();
    failed.status = DocStatus::Error;
    failed.error = Some(DocError::cse_task_error("kubeadm init failed"));
    admin.put_doc(&failed_task.href, &failed).await.unwrap();
    let err = alice
        .wait_for_task_href(&failed_task.href)
        .await
        .unwrap_err();
    assert!(matches!(err, VcdError::TaskFailed { .. }), "{err}");
    assert_eq!(err.vcd_message(), Some("kubeadm init failed"));
    h.sim.shutdown().await;
}

#[tokio::test]
async fn the_registered_vcenter_url_keeps_its_port() {
    let h = start().await;
    let admin = h.sysadmin().await;
    let vc = admin.vim_server("vc1").await.unwrap();
    assert_eq!(vc.url, h.sim.vcenter_url);
    assert_eq!(vc.username.as_deref(), Some("administrator@vsphere.local"));
    let err = admin.vim_server("nope").await.unwrap_err();
    assert!(err.to_string().contains("no vCenter named 'nope'"), "{err}");
    h.sim.shutdown().await;
}

#[tokio::test]
async fn tls_is_verified_unless_the_config_says_not_to() {
    let h = start().await;
    let strict = VcdConnector::new(settings(&h.sim, TlsOptions::verify(true))).unwrap();
    let credentials = Credentials {
        user: "alice".into(),
        org: "acme".into(),
        password: Secret::new("alice-pw"),
    };
    let err = strict.login(credentials.clone()).await.unwrap_err();
    assert!(matches!(err, VcdError::Transport { .. }), "{err}");

    let lax = VcdConnector::new(settings(&h.sim, TlsOptions::verify(false))).unwrap();
    assert_eq!(
        lax.login(credentials).await.unwrap().session().user,
        "alice"
    );
    h.sim.shutdown().await;
}

#[tokio::test]
async fn connection_failures_are_retried_then_reported() {
    cse_bus::tls::install_crypto_provider();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut settings = VcdSettings::new(
        &format!("https://127.0.0.1:{port}/api"),
        ApiVersion::parse("29.0").unwrap(),
    )
    .unwrap();
    settings.retry = RetryPolicy::immediate(3);
    let connector = VcdConnector::new(settings).unwrap();
    let started = std::time::Instant::now();
    let err = connector
        .rehydrate(
            SessionToken::Legacy(Secret::new("t")),
            ApiVersion::parse("29.0").unwrap(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, VcdError::Transport { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with(&format!("GET https://127.0.0.1:{port}/api/session failed")),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// A route added to the simulator at `path` that answers `status` with an
/// `Error` document of `minor_code` for its first `failures` requests, then
/// `done` with a finished `Task`.
fn scripted_route(
    path: &str,
    failures: usize,
    (status, minor_code): (u16, &'static str),
    done: u16,
    hits: Arc<AtomicUsize>,
) -> axum::Router {
    use axum::http::StatusCode;
    let handler = move || {
        let hits = hits.clone();
        async move {
            let n = hits.fetch_add(1, Ordering::SeqCst);
            if n < failures {
                (
                    StatusCode::from_u16(status).unwrap(),
                    format!(
                        r#"<Error xmlns="http://www.vmware.com/vcloud/v1.5" majorErrorCode="{status}" minorErrorCode="{minor_code}" message="try later"/>"#
                    ),
                )
            } else {
                (
                    StatusCode::from_u16(done).unwrap(),
                    r#"<Task xmlns="http://www.vmware.com/vcloud/v1.5" href="h" status="success"/>"#.to_owned(),
                )
            }
        }
    };
    axum::Router::new().route(path, axum::routing::any(handler))
}

/// Answers 503 for its first `failures` requests, then a finished `Task`.
fn flaky_route(failures: usize, hits: Arc<AtomicUsize>) -> axum::Router {
    scripted_route("/flaky", failures, (503, "SERVICE_UNAVAILABLE"), 200, hits)
}

#[tokio::test]
async fn transient_statuses_are_retried_for_idempotent_requests_only() {
    cse_bus::tls::install_crypto_provider();
    let hits = Arc::new(AtomicUsize::new(0));
    let sim = SimBuilder::new()
        .https(true)
        .extra_routes(flaky_route(2, hits.clone()))
        .start_vcd()
        .await
        .unwrap();
    let mut settings = settings(&sim, trusted(&sim));
    settings.retry = RetryPolicy::immediate(3);
    let connector = VcdConnector::new(settings).unwrap();
    let admin = connector
        .login(Credentials {
            user: "alice".into(),
            org: "acme".into(),
            password: Secret::new("alice-pw"),
        })
        .await
        .unwrap();
    let url = format!("{}/flaky", sim.base_url);
    let task = admin.get(&url).await.unwrap();
    assert_eq!(task.attr("status"), Some("success"));
    assert_eq!(hits.load(Ordering::SeqCst), 3, "two retries");

    hits.store(0, Ordering::SeqCst);
    let err = admin
        .post(&url, "application/vnd.vmware.vcloud.task+xml", "<Task/>")
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503), "{err}");
    assert_eq!(err.minor_error_code(), Some("SERVICE_UNAVAILABLE"));
    assert_eq!(hits.load(Ordering::SeqCst), 1, "a POST is not repeated");

    hits.store(0, Ordering::SeqCst);
    admin.delete(&url).await.unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 3, "DELETE is idempotent");
    hits.store(0, Ordering::SeqCst);
    admin.put(&url, "text/xml", "<x/>").await.unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 3, "PUT is idempotent");

    hits.store(0, Ordering::SeqCst);
    let mut once = self::settings(&sim, trusted(&sim));
    once.retry = RetryPolicy::immediate(2);
    let impatient = VcdConnector::new(once)
        .unwrap()
        .rehydrate(admin.token(), ApiVersion::parse("29.0").unwrap())
        .await
        .unwrap();
    let err = impatient.get(&url).await.unwrap_err();
    assert_eq!(err.status(), Some(503), "attempts exhausted: {err}");
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    sim.shutdown().await;
}

/// Answers `400 BUSY_ENTITY` for its first `busy` requests, then 202 `Task`.
fn busy_route(busy: usize, hits: Arc<AtomicUsize>) -> axum::Router {
    scripted_route("/busy", busy, (400, "BUSY_ENTITY"), 202, hits)
}

#[tokio::test]
async fn busy_entity_is_retried_with_backoff_for_every_method_then_reported() {
    cse_bus::tls::install_crypto_provider();
    let hits = Arc::new(AtomicUsize::new(0));
    let sim = SimBuilder::new()
        .https(true)
        .extra_routes(busy_route(3, hits.clone()))
        .start_vcd()
        .await
        .unwrap();
    let mut settings = settings(&sim, trusted(&sim));
    settings.busy_retry = RetryPolicy {
        max_attempts: 5,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
    };
    let connector = VcdConnector::new(settings).unwrap();
    let client = connector
        .login(Credentials {
            user: "alice".into(),
            org: "acme".into(),
            password: Secret::new("alice-pw"),
        })
        .await
        .unwrap();
    let url = format!("{}/busy", sim.base_url);
    // A POST refused as busy was never executed: it is sent again.
    let answer = client
        .post(
            &url,
            "application/vnd.vmware.vcloud.recomposeVAppParams+xml",
            "<x/>",
        )
        .await
        .unwrap();
    assert_eq!(answer.status, 202);
    assert_eq!(
        hits.load(Ordering::SeqCst),
        4,
        "three refusals, then the call"
    );
    for method in ["PUT", "DELETE"] {
        hits.store(0, Ordering::SeqCst);
        let result = if method == "PUT" {
            client.put(&url, "text/xml", "<x/>").await
        } else {
            client.delete(&url).await
        };
        assert!(result.is_ok(), "{method}: {result:?}");
        assert_eq!(hits.load(Ordering::SeqCst), 4, "{method}");
    }

    // Busy for longer than the policy's attempts: the refusal is reported.
    hits.store(0, Ordering::SeqCst);
    let mut patient_for_two = self::settings(&sim, trusted(&sim));
    patient_for_two.busy_retry = RetryPolicy::immediate(2);
    let short = VcdConnector::new(patient_for_two)
        .unwrap()
        .rehydrate(client.token(), ApiVersion::parse("29.0").unwrap())
        .await
        .unwrap();
    let err = short.post(&url, "text/xml", "<x/>").await.unwrap_err();
    assert!(err.is_busy(), "{err}");
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn negotiation_login_at_a_version_and_resumed_sessions() {
    let h = start().await;
    let supported: Vec<ApiVersion> = ["27.0", "30.0", "31.0"]
        .iter()
        .filter_map(|v| ApiVersion::parse(v))
        .collect();
    let version = h.connector.negotiate(&supported).await.unwrap();
    assert_eq!(version.as_str(), "31.0");
    let offered = h.connector.offered_versions().await.unwrap();
    assert!(offered.contains(&version), "{offered:?}");

    let err = h
        .connector
        .negotiate(&[ApiVersion::parse("9.0").unwrap()])
        .await
        .unwrap_err();
    assert!(matches!(err, VcdError::NoCommonVersion { .. }), "{err}");
    assert!(err.to_string().contains("([9.0])"), "{err}");

    let alice = h
        .connector
        .login_at(
            Credentials {
                user: "alice".into(),
                org: "acme".into(),
                password: Secret::new("alice-pw"),
            },
            version.clone(),
        )
        .await
        .unwrap();
    assert_eq!(alice.api_version(), &version);

    let resumed = h.connector.resume(alice.token(), version.clone());
    assert_eq!(resumed.session().org, "", "no Session document was read");
    let org = resumed
        .get(alice.session().org_href().unwrap())
        .await
        .unwrap();
    assert_eq!(org.attr("name"), Some("acme"));

    let stale = h
        .connector
        .resume(SessionToken::Legacy(Secret::new("not-a-token")), version);
    let err = stale.get(&stale.api_url("session")).await.unwrap_err();
    assert!(matches!(err, VcdError::Unauthorized { .. }), "{err}");
    assert!(!err.to_string().contains("not-a-token"), "{err}");
    h.sim.shutdown().await;
}

#[tokio::test]
async fn extension_replies_come_back_as_they_are_whatever_their_status() {
    cse_bus::tls::install_crypto_provider();
    let seen = Arc::new(parking_lot::Mutex::new(Vec::<String>::new()));
    let record = seen.clone();
    let route = axum::Router::new().route(
        "/api/ext-test/{name}",
        axum::routing::any(
            move |headers: axum::http::HeaderMap, body: String| async move {
                let accept = headers
                    .get("accept")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                record.lock().push(format!("{accept} {body}"));
                (
                    axum::http::StatusCode::UNAUTHORIZED,
                    r#"{"message": "Unauthorized"}"#,
                )
            },
        ),
    );
    let sim = SimBuilder::new()
        .extra_routes(route)
        .start_vcd()
        .await
        .unwrap();
    let connector = VcdConnector::new(settings(&sim, TlsOptions::verify(false))).unwrap();
    let alice = connector
        .login(Credentials {
            user: "alice".into(),
            org: "acme".into(),
            password: Secret::new("alice-pw"),
        })
        .await
        .unwrap();
    let url = alice.api_url("ext-test/system");
    let reply = alice
        .exchange(
            reqwest::Method::PUT,
            &url,
            &alice.api_version().accept_json(),
            Some(("application/json", r#"{"enabled": true}"#)),
        )
        .await
        .unwrap();
    assert_eq!(reply.status, 401);
    assert!(!reply.is_success());
    assert_eq!(reply.body, r#"{"message": "Unauthorized"}"#);
    assert_eq!(
        alice.renewals(),
        0,
        "an extension's 401 is its answer, not an expired session"
    );
    assert_eq!(
        seen.lock().as_slice(),
        [r#"application/*+json;version=29.0 {"enabled": true}"#]
    );
    sim.shutdown().await;
}
