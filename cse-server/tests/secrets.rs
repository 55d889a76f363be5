//! Secrets at rest and in logs (RELIABILITY.md R6):
//! - a real `cse run` logging at DEBUG for every crate through a whole cluster
//!   lifecycle (create, kubeconfig, add a node, delete it, delete the cluster)
//!   writes no password, session token, JWT or kubeconfig key to its log, and
//!   its state directory is 0700 with 0600 files;
//! - `cse install` leaves its cache 0700 with 0600 files and prints no secret.

mod cli_support;
mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;
use support::process::{Rig, tenant_call};

/// Every directory under `root` (itself included) is 0700, every file 0600;
/// returns how many files were checked.
fn assert_private_tree(root: &Path) -> usize {
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(root), 0o700, "{} is not 0700", root.display());
    let mut files = 0;
    for entry in std::fs::read_dir(root).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files += assert_private_tree(&path);
        } else {
            assert_eq!(mode(&path), 0o600, "{} is not 0600", path.display());
            files += 1;
        }
    }
    files
}

/// The secrets found in `text`, by name.
fn leaked<'a>(text: &str, secrets: &'a [(String, String)]) -> Vec<&'a str> {
    secrets
        .iter()
        .filter(|(_, value)| !value.is_empty() && text.contains(value.as_str()))
        .map(|(name, _)| name.as_str())
        .collect()
}

async fn wait(rig: &Rig, body: &serde_json::Value) {
    let href = body["task_href"].as_str().expect("a task");
    let (status, operation, error) = rig.h.wait_task(href).await;
    assert_eq!(status, "success", "{operation}: {error}");
}

fn vm_passwords(rig: &Rig, secrets: &mut Vec<(String, String)>) {
    for vm in rig.h.sim.handle.state().vms() {
        secrets.push((format!("root password of {}", vm.name), vm.admin_password));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lifecycle_logged_at_debug_leaves_no_secret_in_the_log_and_keeps_state_private() {
    let Some(mut rig) = Rig::start_logging(0.008, "debug").await else {
        return;
    };
    let h = &rig.h;
    let alice = h.alice().await;
    let mut secrets: Vec<(String, String)> = vec![
        ("alice's password".into(), "alice-pw".into()),
        ("alice's session token".into(), alice.clone()),
        (
            "template root password".into(),
            support::TEMPLATE_PASSWORD.into(),
        ),
    ];
    if let Some(p) = &h.config.vcd.password {
        secrets.push(("vCD password".into(), p.expose().to_owned()));
    }
    for vc in &h.config.vcs {
        secrets.push((
            format!("vCenter {} password", vc.name),
            vc.password.expose().to_owned(),
        ));
    }
    for t in &h.config.broker.templates {
        secrets.push((
            format!("template {} password", t.name),
            t.admin_password.expose().to_owned(),
        ));
    }
    // Known text of every kubeconfig key and JWT.
    secrets.push(("a kubeconfig key".into(), "client-key-data".into()));
    secrets.push(("a JWT".into(), "eyJhbGci".into()));

    // The server answers once it is up.
    let deadline = Instant::now() + Duration::from_secs(60);
    let (mut status, mut body) = (0, serde_json::Value::Null);
    while status != 202 {
        assert!(Instant::now() < deadline, "{status}: {body}");
        (status, body) = tenant_call(
            h,
            &alice,
            "POST",
            "/api/cse",
            Some(json!({"name": "sec", "node_count": 1, "vdc": "vdc1", "network": "net1"})),
        )
        .await;
        if status != 202 {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    wait(&rig, &body).await;
    vm_passwords(&rig, &mut secrets);

    let (status, config) = tenant_call(h, &alice, "GET", "/api/cse/sec/config", None).await;
    assert_eq!(status, 200, "{config}");
    let config = config
        .as_str()
        .map_or_else(|| config.to_string(), str::to_owned);
    let key = config
        .lines()
        .find_map(|l| l.trim().strip_prefix("client-key-data:"))
        .expect("the kubeconfig has a client key")
        .trim()
        .to_owned();
    secrets.push(("the kubeconfig's client key".into(), key));

    let (status, body) = tenant_call(
        h,
        &alice,
        "POST",
        "/api/cse/sec/node",
        Some(json!({"node_count": 1, "network": "net1"})),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    wait(&rig, &body).await;
    vm_passwords(&rig, &mut secrets);
    let added: Vec<String> = h
        .sim
        .handle
        .state()
        .vms()
        .into_iter()
        .filter(|vm| vm.vapp == "sec" && vm.name.starts_with("node-"))
        .map(|vm| vm.name)
        .collect();
    assert_eq!(added.len(), 2, "{added:?}");
    let (status, body) = tenant_call(
        h,
        &alice,
        "DELETE",
        "/api/cse/sec/node",
        Some(json!({"nodes": [added[1]]})),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    wait(&rig, &body).await;
    let (status, body) = tenant_call(h, &alice, "DELETE", "/api/cse/sec", None).await;
    assert_eq!(status, 202, "{body}");
    wait(&rig, &body).await;

    rig.server.kill();
    let log = rig.server.log_text();
    assert!(
        log.lines().count() > 100,
        "a DEBUG log of the whole lifecycle:\n{log}"
    );
    let found = leaked(&log, &secrets);
    assert!(found.is_empty(), "the server's log shows {found:?}");
    let files = assert_private_tree(&rig.dir.path().join("cse-state"));
    support::figures::record(
        "R6",
        &format!(
            "lifecycle at DEBUG: {} log lines, {} secrets looked for, 0 found; cse-state/ 0700 with {files} files 0600",
            log.lines().count(),
            secrets.len()
        ),
    );
    rig.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cse_install_keeps_its_cache_private_and_prints_no_secret() {
    let env = cli_support::Env::start().await;
    // The OVA comes from a URL, so it is downloaded into the cache.
    let ova = cli_support::make_ova(5000);
    let sha256 = cli_support::sha256_hex(&ova);
    let route = format!("/ova/{}", cli_support::OVA_NAME);
    let app = axum::Router::new().route(
        &route,
        axum::routing::get(move || {
            let ova = ova.clone();
            async move { ova }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let mut config = env.config();
    config.broker.templates[0].source_ova = format!("http://{addr}{route}");
    config.broker.templates[0].sha256_ova = sha256;
    env.set_config(&config);

    let (code, out) = env.cse(&["install", "-a", "config", "-e", "config"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Downloaded"), "{out}");
    let config = env.config();
    let mut secrets = vec![(
        "template root password".to_owned(),
        config.broker.templates[0]
            .admin_password
            .expose()
            .to_owned(),
    )];
    if let Some(p) = &config.vcd.password {
        secrets.push(("vCD password".into(), p.expose().to_owned()));
    }
    for vc in &config.vcs {
        secrets.push(("vCenter password".into(), vc.password.expose().to_owned()));
    }
    let found = leaked(&out, &secrets);
    assert!(found.is_empty(), "cse install printed {found:?}");
    let files = assert_private_tree(&env.dir.path().join("cse_cache"));
    assert!(files > 0, "cse install cached the OVA");
    support::figures::record(
        "R6",
        &format!("cse install: cse_cache/ 0700 with {files} files 0600, no secret printed"),
    );
}
