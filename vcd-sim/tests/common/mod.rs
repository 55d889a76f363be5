//! Shared helpers of the vcd-sim HTTP tests: start a simulator, log in, send
//! vCD requests, wait for tasks, and make a small OVA (a tar written by hand)
//! the way a client unpacks it before uploading.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use vcd_sim::rest::xml::Dom;
use vcd_sim::state::guests::RecordingGuests;
use vcd_sim::{SimBuilder, SimHandle};

pub const ACCEPT: &str = "application/*+xml;version=31.0";

pub struct TestSim {
    pub handle: SimHandle,
    pub guests: Arc<RecordingGuests>,
    pub http: reqwest::Client,
}

pub async fn start() -> TestSim {
    start_with(SimBuilder::new()).await
}

pub async fn start_with(b: SimBuilder) -> TestSim {
    cse_bus::tls::install_crypto_provider();
    let guests = Arc::new(RecordingGuests::new());
    let handle = b
        .guests(guests.clone())
        .start_vcd()
        .await
        .expect("simulator starts");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    TestSim {
        handle,
        guests,
        http,
    }
}

/// A logged-in client.
#[derive(Clone)]
pub struct Session {
    pub base: String,
    pub token: String,
    pub http: reqwest::Client,
    pub session: Dom,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn dom(&self) -> Dom {
        Dom::parse(&self.text).unwrap_or_else(|e| panic!("not XML ({e}): {}", self.text))
    }
    pub fn content_type(&self) -> String {
        self.headers
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    }
}

impl TestSim {
    pub fn base(&self) -> &str {
        &self.handle.base_url
    }

    pub async fn login(&self, org: &str, user: &str, password: &str) -> Session {
        let r = self
            .http
            .post(format!("{}/api/sessions", self.base()))
            .basic_auth(format!("{user}@{org}"), Some(password))
            .header("Accept", ACCEPT)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "login of {user}@{org}");
        let token = r
            .headers()
            .get("x-vcloud-authorization")
            .expect("token header")
            .to_str()
            .unwrap()
            .to_string();
        let text = r.text().await.unwrap();
        Session {
            base: self.base().to_string(),
            token,
            http: self.http.clone(),
            session: Dom::parse(&text).unwrap(),
        }
    }

    pub async fn alice(&self) -> Session {
        self.login("acme", "alice", "alice-pw").await
    }
    pub async fn bob(&self) -> Session {
        self.login("acme", "bob", "bob-pw").await
    }
    pub async fn carol(&self) -> Session {
        self.login("beta", "carol", "carol-pw").await
    }
    pub async fn admin(&self) -> Session {
        self.login("System", "administrator", "vmware-sim-admin")
            .await
    }
}

impl Session {
    pub fn url(&self, href_or_path: &str) -> String {
        if href_or_path.starts_with("http") {
            href_or_path.to_string()
        } else {
            format!("{}{href_or_path}", self.base)
        }
    }

    pub async fn send(&self, method: Method, href: &str, body: Option<(&str, String)>) -> Reply {
        let mut req = self
            .http
            .request(method, self.url(href))
            .header("Accept", ACCEPT)
            .header("x-vcloud-authorization", &self.token);
        if let Some((ct, b)) = body {
            req = req.header("Content-Type", ct).body(b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        Reply {
            status,
            headers,
            text,
        }
    }

    pub async fn get(&self, href: &str) -> Reply {
        self.send(Method::GET, href, None).await
    }

    /// GET that must succeed; returns the document.
    pub async fn doc(&self, href: &str) -> Dom {
        let r = self.get(href).await;
        assert_eq!(r.status, StatusCode::OK, "GET {href}: {}", r.text);
        r.dom()
    }

    pub async fn post(&self, href: &str, ct: &str, body: impl Into<String>) -> Reply {
        self.send(Method::POST, href, Some((ct, body.into()))).await
    }

    pub async fn put(&self, href: &str, ct: &str, body: impl Into<String>) -> Reply {
        self.send(Method::PUT, href, Some((ct, body.into()))).await
    }

    pub async fn delete(&self, href: &str) -> Reply {
        self.send(Method::DELETE, href, None).await
    }

    /// Polls a task until it ends; returns the final document.
    pub async fn wait_task(&self, href: &str) -> Dom {
        for _ in 0..200 {
            let t = self.doc(href).await;
            let s = t.attr("status").unwrap().to_string();
            if ["success", "error", "aborted", "canceled"].contains(&s.as_str()) {
                return t;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("task {href} did not finish");
    }

    /// Waits for a task and asserts it succeeded.
    pub async fn task_ok(&self, href: &str) -> Dom {
        let t = self.wait_task(href).await;
        assert_eq!(t.attr("status"), Some("success"), "task failed: {t:?}");
        t
    }

    /// The href of a link with this rel and type (type None: links without type).
    pub fn link(d: &Dom, rel: &str, ty: Option<&str>) -> String {
        find_link(d, rel, ty)
            .unwrap_or_else(|| panic!("no link rel={rel} type={ty:?} in <{}>", d.name))
    }

    pub fn org_href(&self) -> String {
        Self::link(
            &self.session,
            "down",
            Some("application/vnd.vmware.vcloud.org+xml"),
        )
    }
}

pub fn find_link(d: &Dom, rel: &str, ty: Option<&str>) -> Option<String> {
    let found: Vec<&Dom> = d
        .all("Link")
        .filter(|l| l.attr("rel") == Some(rel) && l.attr("type") == ty)
        .collect();
    assert!(found.len() <= 1, "two links rel={rel} type={ty:?}");
    found.first().map(|l| l.attr("href").unwrap().to_string())
}

pub fn named_link(d: &Dom, ty: &str, name: &str) -> String {
    d.all("Link")
        .find(|l| l.attr("type") == Some(ty) && l.attr("name") == Some(name))
        .and_then(|l| l.attr("href"))
        .unwrap_or_else(|| panic!("no {ty} link named {name}"))
        .to_string()
}

// ----- OVA -----

/// The OVF descriptor of the Photon appliance with a disk file of `disk_size` bytes.
pub fn ovf_descriptor(disk_size: usize) -> String {
    vcd_sim::ova::ovf_descriptor(&vcd_sim::ova::OvaSpec::photon(disk_size))
}

/// A Photon OVA: a tar holding the descriptor and `disk`.
pub fn make_ova(disk: &[u8]) -> Vec<u8> {
    vcd_sim::ova::build_ova_with_disk(&vcd_sim::ova::OvaSpec::photon(disk.len()), disk)
        .expect("OVA built")
}

/// Unpacks an OVA as pyvcloud does: (file name, content) per member.
pub fn unpack_ova(ova: &[u8]) -> Vec<(String, Vec<u8>)> {
    vcd_sim::ova::read_ova(ova).expect("a readable OVA")
}

/// Uploads an OVA into a catalog the way pyvcloud's `upload_ovf` does;
/// returns the catalog item document.
pub async fn upload_ova(
    s: &Session,
    catalog_href: &str,
    item_name: &str,
    ova: &[u8],
    chunk: usize,
) -> Dom {
    let files = unpack_ova(ova);
    let cat = s.doc(catalog_href).await;
    let upload = Session::link(
        &cat,
        "add",
        Some("application/vnd.vmware.vcloud.uploadVAppTemplateParams+xml"),
    );
    let r = s
        .post(
            &upload,
            "application/vnd.vmware.vcloud.uploadVAppTemplateParams+xml",
            format!(r#"<UploadVAppTemplateParams xmlns="http://www.vmware.com/vcloud/v1.5" name="{item_name}"><Description/></UploadVAppTemplateParams>"#),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let item = r.dom();
    let tpl_href = item
        .child("Entity")
        .unwrap()
        .attr("href")
        .unwrap()
        .to_string();
    let tpl = s.doc(&tpl_href).await;
    let desc_link = tpl
        .child("Files")
        .unwrap()
        .child("File")
        .unwrap()
        .child("Link")
        .unwrap()
        .attr("href")
        .unwrap()
        .to_string();
    let (_, ovf) = files.iter().find(|(n, _)| n.ends_with(".ovf")).unwrap();
    let r = s
        .put(
            &desc_link,
            "text/xml",
            String::from_utf8(ovf.clone()).unwrap(),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    let tpl = s.doc(&tpl_href).await;
    let file_els: Vec<&Dom> = tpl.child("Files").unwrap().all("File").collect();
    assert!(
        file_els.len() > 1,
        "referenced files are listed after the descriptor"
    );
    for f in file_els.iter().skip(1) {
        let name = f.attr("name").unwrap();
        let href = f.child("Link").unwrap().attr("href").unwrap();
        let (_, data) = files.iter().find(|(n, _)| n == name).unwrap();
        let total = data.len();
        let mut start = 0;
        while start < total {
            let end = (start + chunk).min(total);
            let r = s
                .http
                .put(href)
                .header("x-vcloud-authorization", &s.token)
                .header(
                    "Content-Range",
                    format!("bytes {}-{}/{}", start, end - 1, total),
                )
                .body(data[start..end].to_vec())
                .send()
                .await
                .unwrap();
            assert_eq!(
                r.status(),
                StatusCode::OK,
                "chunk upload answers exactly 200"
            );
            start = end;
        }
    }
    item
}

/// A powered-on vApp instantiated from a freshly uploaded OVA in alice's
/// catalog `cse` and VDC `vdc1`; returns its href.
pub async fn running_vapp(s: &Session, name: &str) -> String {
    let org = s.doc(&s.org_href()).await;
    let vdc_href = named_link(&org, "application/vnd.vmware.vcloud.vdc+xml", "vdc1");
    let cat_href = named_link(&org, "application/vnd.vmware.vcloud.catalog+xml", "cse");
    let item = upload_ova(
        s,
        &cat_href,
        &format!("{name}-base"),
        &make_ova(&[5u8; 200]),
        200,
    )
    .await;
    let tpl_href = item
        .child("Entity")
        .unwrap()
        .attr("href")
        .unwrap()
        .to_string();
    let r = s
        .post(
            &format!("{vdc_href}/action/instantiateVAppTemplate"),
            "application/vnd.vmware.vcloud.instantiateVAppTemplateParams+xml",
            format!(
                r#"<InstantiateVAppTemplateParams xmlns="http://www.vmware.com/vcloud/v1.5" name="{name}" deploy="true" powerOn="true"><Source href="{tpl_href}"/></InstantiateVAppTemplateParams>"#
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let vapp = r.dom();
    let task = vapp.child("Tasks").unwrap().child("Task").unwrap();
    s.task_ok(task.attr("href").unwrap()).await;
    vapp.attr("href").unwrap().to_string()
}
