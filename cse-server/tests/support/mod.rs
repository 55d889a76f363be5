//! Shared test support for the server's operation tests: the full simulator
//! (vCD REST, vCenter, guests, extension routing over an in-memory bus), a
//! config pointing at it, a server context, tenant sessions and requests, and
//! a template in the catalog prepared the way `cse install` does it, minimally:
//! upload a tiny OVA, instantiate a temporary vApp with the init script as
//! customization, run the cust script as root, capture it into the catalog
//! item the config names. Replace [`prepare_template`] with `cse install`
//! once that exists.

#![allow(dead_code)]

pub mod figures;
pub mod process;

use std::sync::Arc;
use std::time::Duration;

use cse_core::config::{Config, Secret, TemplateConfig, VcenterConfig};
use cse_core::ext::{ExtReply, ExtRequest, ExtRequestBuilder};
use cse_server::amqp::Handler;
use cse_server::context::Context;
use cse_server::handlers::Operations;
use cse_server::ops::scripts;
use cse_vcd::vcd::xml::{self, Element};
use cse_vcd::vcd::{ApiVersion, Credentials, SessionToken, VcdConnector, VcdSettings};
use cse_vcd::vsphere::{GuestCredentials, PollSettings};
use vcd_sim::{FullSim, SimBuilder};

pub const TEMPLATE: &str = "photon-v2";
pub const TEMPLATE_ITEM: &str = "photon-custom-hw11-2.0-304b817-k8s";
pub const TEMPLATE_PASSWORD: &str = "tpl-root-Pw1";
pub const API: &str = "29.0";

/// A running simulator with a server context on it.
pub struct Harness {
    pub sim: FullSim,
    pub config: Config,
    pub ops: Operations,
}

/// A config for the simulator: System administrator, vCenter `vc1`, catalog
/// `cse` in `acme`, one photon template, deadlines scaled down.
pub fn config_for(sim: &FullSim) -> Config {
    let mut config = cse_core::config::sample_model();
    config.vcd.host = sim.base_url().to_owned();
    config.vcd.port = sim.handle.addr.port();
    config.vcd.verify = false;
    config.vcd.username = "administrator".into();
    config.vcd.password = Some(Secret::new("vmware-sim-admin"));
    config.vcd.api_version = API.into();
    config.vcs = vec![VcenterConfig {
        name: "vc1".into(),
        username: "administrator@vsphere.local".into(),
        password: Secret::new("vc-sim-pw"),
        verify: false,
    }];
    config.broker.org = "acme".into();
    config.broker.vdc = "vdc1".into();
    config.broker.network = "net1".into();
    config.broker.catalog = "cse".into();
    config.broker.default_template = TEMPLATE.into();
    let mut template: TemplateConfig = config.broker.templates[0].clone();
    template.name = TEMPLATE.into();
    template.catalog_item = TEMPLATE_ITEM.into();
    template.admin_password = Secret::new(TEMPLATE_PASSWORD);
    config.broker.templates = vec![template];
    config.timeouts = cse_core::config::Timeouts::default().scaled_down(100);
    // A lease claim's metadata write is an HTTP exchange and takes real
    // time: its settle stays real, capped by the scaled lease (ttl / 8).
    config.timeouts.lease_claim_settle = cse_core::config::Timeouts::default().lease_claim_settle;
    config.timeouts.vcd_task_poll_interval = cse_core::config::Seconds::from_millis(5);
    config.timeouts.guest_ops_poll_interval = cse_core::config::Seconds::from_millis(5);
    config
}

/// Starts the simulator and a server context on it.
pub async fn start() -> Harness {
    start_with(|b| b, |_| {}).await
}

/// Starts with a customized simulator and config.
pub async fn start_with(
    sim: impl FnOnce(SimBuilder) -> SimBuilder,
    configure: impl FnOnce(&mut Config),
) -> Harness {
    cse_bus::tls::install_crypto_provider();
    let sim = sim(SimBuilder::new().https(true))
        .start()
        .await
        .expect("simulator");
    let mut config = config_for(&sim);
    configure(&mut config);
    let context = Context::new(config.clone(), "tests/config.yaml").expect("context");
    Harness {
        sim,
        config,
        ops: Operations::new(Arc::new(context)),
    }
}

impl Harness {
    pub fn ctx(&self) -> &Arc<Context> {
        self.ops.context()
    }

    /// A token for `user@org`.
    pub async fn token(&self, org: &str, user: &str, password: &str) -> String {
        self.session_token(org, user, password, API)
            .await
            .secret()
            .expose()
            .to_owned()
    }

    /// A session token (legacy below API 33.0, bearer from 33.0) for `user@org`
    /// logged in at `version`.
    pub async fn session_token(
        &self,
        org: &str,
        user: &str,
        password: &str,
        version: &str,
    ) -> SessionToken {
        let mut settings = VcdSettings::new(
            &format!("{}/api", self.sim.base_url()),
            ApiVersion::parse(version).unwrap(),
        )
        .unwrap();
        settings.tls = cse_vcd::vcd::TlsOptions::verify(false);
        let client = VcdConnector::new(settings)
            .unwrap()
            .login(Credentials {
                user: user.into(),
                org: org.into(),
                password: Secret::new(password),
            })
            .await
            .expect("login");
        client.token()
    }

    pub async fn alice(&self) -> String {
        self.token("acme", "alice", "alice-pw").await
    }

    pub async fn carol(&self) -> String {
        self.token("beta", "carol", "carol-pw").await
    }

    pub async fn sysadmin(&self) -> String {
        self.token("System", "administrator", "vmware-sim-admin")
            .await
    }

    /// Sends one request through the handler.
    pub async fn call(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut builder = ExtRequestBuilder::new(uuid::Uuid::new_v4().to_string(), method, path)
            .header("Accept", format!("application/*+json;version={API}"))
            .header("x-vcloud-authorization", token);
        if let Some(body) = body {
            builder = builder.body(serde_json::to_vec(&body).unwrap());
        }
        let reply = self.ops.handle(builder.build()).await;
        decode(&reply)
    }

    pub async fn raw(&self, request: ExtRequest) -> (u16, serde_json::Value) {
        decode(&self.ops.handle(request).await)
    }

    /// Waits for the operation of the task at `href` to be over: its task
    /// ended and its journal (removed after the task's end) gone from every
    /// vApp, 10 s at most for the latter; returns (status, operation, error
    /// message).
    pub async fn wait_task(&self, href: &str) -> (String, String, String) {
        let ended = self.wait_task_end(href).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while self.journal_of(href) && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        ended
    }

    /// Whether a vApp's journal still names the task at `href`.
    pub fn journal_of(&self, href: &str) -> bool {
        let id = href.rsplit('/').next().unwrap_or(href);
        let state = self.sim.handle.state();
        state.vapp_names().into_iter().any(|vapp| {
            state
                .vapp_metadata(&vapp)
                .and_then(|m| m.get("cse.op.journal").cloned())
                .is_some_and(|journal| journal.contains(id))
        })
    }

    /// Creates cluster `name` (a master and `workers` workers in `vdc1` on
    /// `net1`) as `token` and waits for its operation: it must succeed.
    pub async fn create_cluster(&self, token: &str, name: &str, workers: u32) {
        let body = serde_json::json!(
            {"name": name, "node_count": workers, "vdc": "vdc1", "network": "net1"}
        );
        let (status, reply) = self.call(token, "POST", "/api/cse", Some(body)).await;
        assert_eq!(status, 202, "create {name}: {reply}");
        let (status, _, error) = self.wait_task(reply["task_href"].as_str().unwrap()).await;
        assert_eq!(status, "success", "create {name}: {error}");
    }

    /// Waits for the task at `href` to end (its operation may still be
    /// clearing its journal); returns (status, operation, error message).
    pub async fn wait_task_end(&self, href: &str) -> (String, String, String) {
        let admin = self.ctx().admin().await.unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let task = admin.get(href).await.expect("task readable");
            let status = task.attr("status").unwrap_or_default().to_owned();
            if status != "running" && status != "queued" {
                let message = task
                    .child("Error")
                    .and_then(|e| e.attr("message"))
                    .unwrap_or_default()
                    .to_owned();
                return (
                    status,
                    task.attr("operation").unwrap_or_default().to_owned(),
                    message,
                );
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "task {href} never ended"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Every CSE task's status.
    pub fn cse_tasks(&self) -> Vec<(String, String)> {
        self.sim
            .handle
            .state()
            .task_list()
            .into_iter()
            .filter(|t| {
                matches!(
                    t.operation_name.as_str(),
                    "create_cluster" | "delete_cluster" | "create_nodes" | "delete_nodes"
                )
            })
            .map(|t| (t.operation_name.clone(), format!("{:?}", t.status)))
            .collect()
    }
}

pub fn decode(reply: &ExtReply) -> (u16, serde_json::Value) {
    let body = if reply.body.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&reply.body).unwrap_or_else(|_| {
            serde_json::Value::String(String::from_utf8_lossy(&reply.body).into_owned())
        })
    };
    (reply.status_code, body)
}

// ----- template preparation -----

struct Raw {
    http: reqwest::Client,
    token: String,
}

impl Raw {
    async fn send(
        &self,
        method: reqwest::Method,
        href: &str,
        ct: Option<&str>,
        body: Vec<u8>,
    ) -> (u16, String) {
        let mut request = self
            .http
            .request(method, href)
            .header("Accept", format!("application/*+xml;version={API}"))
            .header("x-vcloud-authorization", &self.token);
        if let Some(ct) = ct {
            request = request.header("Content-Type", ct);
        }
        let response = request
            .body(body)
            .send()
            .await
            .expect("simulator reachable");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    async fn doc(&self, href: &str) -> Element {
        let (status, text) = self
            .send(reqwest::Method::GET, href, None, Vec::new())
            .await;
        assert_eq!(status, 200, "GET {href}: {text}");
        xml::parse(&text).unwrap()
    }

    async fn post(&self, href: &str, ct: &str, body: String) -> Element {
        let (status, text) = self
            .send(reqwest::Method::POST, href, Some(ct), body.into_bytes())
            .await;
        assert!((200..300).contains(&status), "POST {href}: {status} {text}");
        xml::parse(&text).unwrap()
    }

    async fn wait(&self, task_href: &str) {
        for _ in 0..2000 {
            let task = self.doc(task_href).await;
            match task.attr("status") {
                Some("success") => return,
                Some("error") | Some("aborted") | Some("canceled") => {
                    panic!("task {task_href} failed: {task:?}")
                }
                _ => tokio::time::sleep(Duration::from_millis(5)).await,
            }
        }
        panic!("task {task_href} never ended");
    }

    async fn wait_embedded(&self, entity: &Element) {
        if let Some(task) = entity
            .descend(&["Tasks", "Task"])
            .and_then(|t| t.attr("href"))
        {
            self.wait(task).await;
        } else if entity.name == "Task" {
            self.wait(entity.attr("href").unwrap()).await;
        }
    }
}

fn link(element: &Element, rel: &str, media_type: &str) -> String {
    element
        .children_named("Link")
        .find(|l| l.attr("rel") == Some(rel) && l.attr("type") == Some(media_type))
        .and_then(|l| l.attr("href"))
        .unwrap_or_else(|| panic!("no {rel} link of type {media_type} in {}", element.name))
        .to_owned()
}

fn named_link(element: &Element, media_type: &str, name: &str) -> String {
    element
        .children
        .iter()
        .find(|l| l.attr("type") == Some(media_type) && l.attr("name") == Some(name))
        .and_then(|l| l.attr("href"))
        .unwrap_or_else(|| panic!("no link to {name}"))
        .to_owned()
}

/// Puts the config's template into the catalog, as `cse install` does.
pub async fn prepare_template(h: &Harness) {
    let token = h.sysadmin().await;
    let raw = Raw {
        http: reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .build()
            .unwrap(),
        token,
    };
    let base = h.sim.base_url().to_owned();
    // acme's catalog and VDC, through the org list.
    let orgs = raw.doc(&format!("{base}/api/org")).await;
    let acme = named_link(&orgs, "application/vnd.vmware.vcloud.org+xml", "acme");
    let org = raw.doc(&acme).await;
    let catalog_href = named_link(&org, "application/vnd.vmware.vcloud.catalog+xml", "cse");
    let vdc_href = named_link(&org, "application/vnd.vmware.vcloud.vdc+xml", "vdc1");

    // Upload a tiny OVA.
    let disk = vcd_sim::ova::disk_image(512);
    let catalog = raw.doc(&catalog_href).await;
    let upload = link(
        &catalog,
        "add",
        "application/vnd.vmware.vcloud.uploadVAppTemplateParams+xml",
    );
    let item = raw
        .post(
            &upload,
            "application/vnd.vmware.vcloud.uploadVAppTemplateParams+xml",
            r#"<UploadVAppTemplateParams xmlns="http://www.vmware.com/vcloud/v1.5" name="photon-source"><Description/></UploadVAppTemplateParams>"#.to_owned(),
        )
        .await;
    let source_href = item
        .child("Entity")
        .unwrap()
        .attr("href")
        .unwrap()
        .to_owned();
    let source = raw.doc(&source_href).await;
    let descriptor_href = source
        .descend(&["Files", "File", "Link"])
        .and_then(|l| l.attr("href"))
        .unwrap()
        .to_owned();
    let (status, text) = raw
        .send(
            reqwest::Method::PUT,
            &descriptor_href,
            Some("text/xml"),
            vcd_sim::ova::ovf_descriptor(&vcd_sim::ova::OvaSpec::photon(disk.len())).into_bytes(),
        )
        .await;
    assert!((200..300).contains(&status), "{text}");
    let source = raw.doc(&source_href).await;
    for file in source
        .child("Files")
        .unwrap()
        .children_named("File")
        .skip(1)
    {
        let href = file.child("Link").unwrap().attr("href").unwrap();
        let response = raw
            .http
            .put(href)
            .header("x-vcloud-authorization", &raw.token)
            .header(
                "Content-Range",
                format!("bytes 0-{}/{}", disk.len() - 1, disk.len()),
            )
            .body(disk.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
    }
    let source = raw.doc(&source_href).await;
    let source_vm = source
        .descend(&["Children", "Vm"])
        .unwrap()
        .attr("href")
        .unwrap()
        .to_owned();

    // Temporary vApp with the init script as customization.
    let vdc = raw.doc(&vdc_href).await;
    let net_href = vdc
        .descend(&["AvailableNetworks", "Network"])
        .and_then(|n| n.attr("href"))
        .unwrap()
        .to_owned();
    let init = xml::escape(scripts::for_template(TEMPLATE).init);
    let body = format!(
        r#"<InstantiateVAppTemplateParams xmlns="http://www.vmware.com/vcloud/v1.5" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" name="photon2-temp" deploy="true" powerOn="true">
  <InstantiationParams><NetworkConfigSection><ovf:Info/>
    <NetworkConfig networkName="net1"><Configuration><ParentNetwork href="{net_href}"/><FenceMode>bridged</FenceMode></Configuration></NetworkConfig>
  </NetworkConfigSection></InstantiationParams>
  <Source href="{source_href}"/>
  <SourcedItem><Source href="{source_vm}"/>
    <VmGeneralParams><Name>photon2-temp</Name><NeedsCustomization>true</NeedsCustomization></VmGeneralParams>
    <InstantiationParams>
      <NetworkConnectionSection><ovf:Info/><NetworkConnection network="net1"><NetworkConnectionIndex>0</NetworkConnectionIndex>
        <IsConnected>true</IsConnected><IpAddressAllocationMode>POOL</IpAddressAllocationMode></NetworkConnection></NetworkConnectionSection>
      <GuestCustomizationSection><ovf:Info/><Enabled>true</Enabled><AdminPasswordEnabled>false</AdminPasswordEnabled><CustomizationScript>{init}</CustomizationScript><ComputerName>photon2-temp</ComputerName></GuestCustomizationSection>
    </InstantiationParams>
  </SourcedItem>
  <AllEULAsAccepted>true</AllEULAsAccepted>
</InstantiateVAppTemplateParams>"#
    );
    let vapp = raw
        .post(
            &link(
                &vdc,
                "add",
                "application/vnd.vmware.vcloud.instantiateVAppTemplateParams+xml",
            ),
            "application/vnd.vmware.vcloud.instantiateVAppTemplateParams+xml",
            body,
        )
        .await;
    raw.wait_embedded(&vapp).await;
    let vapp_href = vapp.attr("href").unwrap().to_owned();
    let vapp = raw.doc(&vapp_href).await;
    let vm = vapp.descend(&["Children", "Vm"]).unwrap();
    let vm_href = vm.attr("href").unwrap().to_owned();
    let password = vm
        .descend(&["GuestCustomizationSection", "AdminPassword"])
        .map(|e| e.text.clone())
        .unwrap();

    // cust.sh as root through guest operations.
    let admin = h.ctx().admin().await.unwrap();
    let target = h
        .ctx()
        .vcenters
        .target_for_vm(&admin, &vm_href)
        .await
        .unwrap();
    let credentials = GuestCredentials::root(Secret::new(password));
    let poll = PollSettings::up_to(Duration::from_millis(5));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    target
        .session
        .wait_until_ready(&target.vm, &credentials, poll, deadline)
        .await
        .expect("temp VM ready");
    let output = target
        .session
        .run_script(
            &target.vm,
            &credentials,
            scripts::for_template(TEMPLATE).cust,
            poll,
            deadline,
        )
        .await
        .expect("cust script ran");
    assert_eq!(output.exit_code, 0, "cust.sh: {}", output.stderr);

    // Capture into the configured catalog item, then drop the temp vApp.
    let catalog = raw.doc(&catalog_href).await;
    let capture = link(
        &catalog,
        "add",
        "application/vnd.vmware.vcloud.captureVAppParams+xml",
    );
    let item = raw
        .post(
            &capture,
            "application/vnd.vmware.vcloud.captureVAppParams+xml",
            format!(
                r#"<CaptureVAppParams xmlns="http://www.vmware.com/vcloud/v1.5" name="{TEMPLATE_ITEM}"><Description>k8s template</Description><Source href="{vapp_href}"/></CaptureVAppParams>"#
            ),
        )
        .await;
    if let Some(entity) = item.child("Entity").and_then(|e| e.attr("href")) {
        let template = raw.doc(entity).await;
        raw.wait_embedded(&template).await;
    } else {
        raw.wait_embedded(&item).await;
    }
    let (status, text) = raw
        .send(
            reqwest::Method::DELETE,
            &format!("{vapp_href}?force=true"),
            None,
            Vec::new(),
        )
        .await;
    assert!((200..300).contains(&status), "{text}");
    if let Ok(task) = xml::parse(&text) {
        raw.wait_embedded(&task).await;
    }
}

/// Starts a harness with the template in the catalog.
pub async fn start_ready() -> Harness {
    let h = start().await;
    prepare_template(&h).await;
    h
}

/// Registers the CSE extension (exchange and routing key of the config) in the simulator.
pub async fn register_extension(h: &Harness) {
    register_extension_at(h, API).await;
}

/// [`register_extension`] by a system administrator logged in at `version`.
pub async fn register_extension_at(h: &Harness, version: &str) {
    let token = h
        .session_token("System", "administrator", "vmware-sim-admin", version)
        .await
        .header();
    let service = format!(
        r#"<vmext:Service xmlns="http://www.vmware.com/vcloud/v1.5" xmlns:vmext="http://www.vmware.com/vcloud/extension/v1.5" name="cse">
  <vmext:Namespace>cse</vmext:Namespace>
  <vmext:Enabled>true</vmext:Enabled>
  <vmext:RoutingKey>{}</vmext:RoutingKey>
  <vmext:Exchange>{}</vmext:Exchange>
  <vmext:ApiFilters>
    <vmext:ApiFilter><vmext:UrlPattern>/api/cse</vmext:UrlPattern></vmext:ApiFilter>
    <vmext:ApiFilter><vmext:UrlPattern>/api/cse/.*</vmext:UrlPattern></vmext:ApiFilter>
    <vmext:ApiFilter><vmext:UrlPattern>/api/cse/.*/.*</vmext:UrlPattern></vmext:ApiFilter>
  </vmext:ApiFilters>
</vmext:Service>"#,
        h.config.amqp.routing_key, h.config.amqp.exchange
    );
    let response = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap()
        .post(format!("{}/api/admin/extension/service", h.sim.base_url()))
        .header("Accept", format!("application/*+xml;version={version}"))
        .header("Content-Type", "application/vnd.vmware.admin.service+xml")
        .header(token.name, token.value.expose())
        .body(service)
        .send()
        .await
        .expect("register the extension");
    assert_eq!(response.status(), 201, "extension registered");
}
