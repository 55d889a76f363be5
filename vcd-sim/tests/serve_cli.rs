//! `vcd-sim serve` as a process: HTTPS by default, `--plain-http`,
//! `--vcenter-bind`, `--world`, `--info-file`, `--vcd-release`; clean stop on
//! SIGTERM/SIGINT.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_vcd-sim"))
        .arg("serve")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start vcd-sim")
}

fn read_info(path: &Path, child: &mut Child) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
        {
            return v;
        }
        if let Ok(Some(status)) = child.try_wait() {
            let out = child.wait_with_output_ref();
            panic!("vcd-sim exited early ({status}): {out}");
        }
        assert!(Instant::now() < deadline, "no info file");
        std::thread::sleep(Duration::from_millis(50));
    }
}

trait OutputRef {
    fn wait_with_output_ref(&mut self) -> String;
}
impl OutputRef for Child {
    fn wait_with_output_ref(&mut self) -> String {
        use std::io::Read;
        let mut s = String::new();
        if let Some(e) = self.stderr.as_mut() {
            let _ = e.read_to_string(&mut s);
        }
        s
    }
}

fn stop(mut child: Child, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "clean exit after SIG{signal}: {status}");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "vcd-sim did not stop on SIG{signal}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn login(http: &reqwest::Client, base: &str, org: &str, user: &str, pw: &str) -> String {
    let r = http
        .post(format!("{base}/api/sessions"))
        .basic_auth(format!("{user}@{org}"), Some(pw))
        .header("Accept", "application/*+xml;version=32.0")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.headers()["x-vcloud-authorization"]
        .to_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn plain_http_with_separate_vcenter_listener_and_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let info_path = dir.path().join("info.json");
    let mut child = spawn(&[
        "--plain-http",
        "--bind",
        "127.0.0.1:0",
        "--vcenter-bind",
        "127.0.0.1:0",
        "--time-scale",
        "0",
        "--amqp-url",
        "amqp://guest:guest@127.0.0.1:5699/%2f",
        "--info-file",
        info_path.to_str().unwrap(),
    ]);
    let info = read_info(&info_path, &mut child);
    let base = info["vcd_url"].as_str().unwrap().to_string();
    assert!(base.starts_with("http://127.0.0.1:"));
    let vc_url = info["vcenters"][0]["url"].as_str().unwrap().to_string();
    assert!(
        vc_url.starts_with("http://127.0.0.1:") && vc_url != base,
        "{vc_url}"
    );
    assert_eq!(info["sysadmin"]["org"], "System");
    assert_eq!(info["tenants"][0]["vdc"], "vdc1");
    assert_eq!(info["tenants"][0]["network"], "net1");
    let http = reqwest::Client::new();
    let token = login(
        &http,
        &base,
        "System",
        info["sysadmin"]["user"].as_str().unwrap(),
        info["sysadmin"]["password"].as_str().unwrap(),
    )
    .await;
    let refs = http
        .get(format!("{base}/api/admin/extension/vimServerReferences"))
        .header("Accept", "application/*+xml;version=32.0")
        .header("x-vcloud-authorization", &token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let href = refs
        .split("VimServerReference href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let server = http
        .get(href)
        .header("Accept", "application/*+xml;version=32.0")
        .header("x-vcloud-authorization", &token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        server.contains(&format!("<vmext:Url>{vc_url}</vmext:Url>")),
        "{server}"
    );
    // vCD's AMQP settings follow --amqp-url
    assert_eq!(info["amqp_url"], "amqp://guest:guest@127.0.0.1:5699/%2f");
    let amqp = http
        .get(format!("{base}/api/admin/extension/settings/amqp"))
        .header("Accept", "application/*+xml;version=32.0")
        .header("x-vcloud-authorization", &token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        amqp.contains("<vmext:AmqpPort>5699</vmext:AmqpPort>"),
        "{amqp}"
    );
    // the vCenter listener is really there
    assert!(std::net::TcpStream::connect(vc_url.trim_start_matches("http://")).is_ok());
    stop(child, "TERM");
}

#[tokio::test]
async fn https_by_default_with_a_world_file_and_sigint() {
    let dir = tempfile::tempdir().unwrap();
    let world = dir.path().join("world.yaml");
    std::fs::write(
        &world,
        r#"seed: 7
system_users: [{name: root, password: toor, role: system_administrator}]
orgs:
  - name: tenant1
    users: [{name: dev, password: devpw, role: tenant_user}]
    vdcs:
      - name: ovdc
        networks: [{name: lan, gateway: 192.168.5.1, netmask: 255.255.255.0, ip_ranges: [{start: 192.168.5.10, end: 192.168.5.20}]}]
vcenters: [{name: vcsa, username: admin, password: pw}]
"#,
    )
    .unwrap();
    let info_path = dir.path().join("info.json");
    let mut child = spawn(&[
        "--bind",
        "127.0.0.1:0",
        "--world",
        world.to_str().unwrap(),
        "--info-file",
        info_path.to_str().unwrap(),
    ]);
    let info = read_info(&info_path, &mut child);
    let base = info["vcd_url"].as_str().unwrap().to_string();
    assert!(base.starts_with("https://"), "{base}");
    assert_eq!(info["tenants"][0]["org"], "tenant1");
    assert_eq!(info["vcenters"][0]["name"], "vcsa");
    cse_bus::tls::install_crypto_provider();
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let token = login(&http, &base, "tenant1", "dev", "devpw").await;
    let orgs = http
        .get(format!("{base}/api/org/"))
        .header("Accept", "application/*+xml;version=32.0")
        .header("x-vcloud-authorization", token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(orgs.contains("name=\"tenant1\"") && orgs.contains(&base));
    stop(child, "INT");
}

#[test]
fn a_bad_world_file_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let world = dir.path().join("bad.yaml");
    std::fs::write(&world, "orgs: [{name: System}]\nsystem_users: []\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_vcd-sim"))
        .args([
            "serve",
            "--plain-http",
            "--bind",
            "127.0.0.1:0",
            "--world",
            world.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid world"), "{err}");
}

#[tokio::test]
async fn a_generated_world_serves_its_generated_tenants() {
    let dir = tempfile::tempdir().unwrap();
    let info_path = dir.path().join("info.json");
    let mut child = spawn(&[
        "--plain-http",
        "--bind",
        "127.0.0.1:0",
        "--time-scale",
        "0",
        "--world",
        "generated:21:4",
        "--info-file",
        info_path.to_str().unwrap(),
    ]);
    let info = read_info(&info_path, &mut child);
    let base = info["vcd_url"].as_str().unwrap().to_string();
    let expected = vcd_sim::world::World::generated(21, 4);
    let tenants = info["tenants"].as_array().unwrap();
    // acme's alice and bob, then one admin per generated org.
    assert_eq!(tenants.len(), 2 + 3, "{tenants:?}");
    assert_eq!(tenants[0]["org"], "acme");
    let last = &expected.orgs[3];
    assert_eq!(tenants[4]["org"], last.name.as_str());
    assert_eq!(tenants[4]["network"], "net1");
    let http = reqwest::Client::new();
    login(
        &http,
        &base,
        &last.name,
        &last.users[0].name,
        &last.users[0].password,
    )
    .await;
    stop(child, "TERM");
}

#[test]
fn a_bad_generated_world_spec_is_refused_with_a_clear_message() {
    let out = Command::new(env!("CARGO_BIN_EXE_vcd-sim"))
        .args(["serve", "--plain-http", "--world", "generated:1:none"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("generated:SEED:ORGS"), "{err}");
}

#[tokio::test]
async fn vcd_release_picks_the_profile() {
    let dir = tempfile::tempdir().unwrap();
    let info_path = dir.path().join("info.json");
    let mut child = spawn(&[
        "--plain-http",
        "--bind",
        "127.0.0.1:0",
        "--time-scale",
        "0",
        "--vcd-release",
        "10.6",
        "--info-file",
        info_path.to_str().unwrap(),
    ]);
    let info = read_info(&info_path, &mut child);
    let base = info["vcd_url"].as_str().unwrap().to_string();
    let http = reqwest::Client::new();
    let versions = http
        .get(format!("{base}/api/versions"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(versions.contains("<Version>39.0</Version>"), "{versions}");
    assert!(!versions.contains("<Version>32.0</Version>"), "{versions}");
    let r = http
        .post(format!("{base}/api/sessions"))
        .basic_auth("alice@acme", Some("alice-pw"))
        .header("Accept", "application/*+xml;version=39.0")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::METHOD_NOT_ALLOWED);
    stop(child, "TERM");
}

#[test]
fn an_unknown_vcd_release_is_refused_with_a_clear_message() {
    let out = Command::new(env!("CARGO_BIN_EXE_vcd-sim"))
        .args(["serve", "--plain-http", "--vcd-release", "10.5"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown vCD release \"10.5\""), "{err}");
}
