//! Shared helpers of the vcd-sim HTTP tests: start a simulator, log in, send
//! vCD requests, wait for tasks, and make a small OVA (a tar written by hand)
//! the way a client unpacks it before uploading.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use vcd_sim::rest::xml::Dom;
use vcd_sim::serve::{SimBuilder, SimHandle};
use vcd_sim::state::guests::RecordingGuests;

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
        .start()
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

/// The OVF descriptor of a one-VM appliance with one disk file.
pub fn ovf_descriptor(disk_size: usize) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
          xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
          xmlns:vmw="http://www.vmware.com/schema/ovf">
  <References><File ovf:href="photon-disk1.vmdk" ovf:id="file1" ovf:size="{disk_size}"/></References>
  <DiskSection><Info>Virtual disk information</Info>
    <Disk ovf:capacity="16" ovf:capacityAllocationUnits="byte * 2^30" ovf:diskId="vmdisk1" ovf:fileRef="file1"/></DiskSection>
  <NetworkSection><Info>The list of logical networks</Info><Network ovf:name="VM Network"><Description/></Network></NetworkSection>
  <VirtualSystem ovf:id="photon2-temp"><Info>A virtual machine</Info><Name>photon2-temp</Name>
    <OperatingSystemSection ovf:id="100" vmw:osType="other3xLinux64Guest"><Info>OS</Info><Description>VMware Photon OS 2.0</Description></OperatingSystemSection>
    <VirtualHardwareSection><Info>Virtual hardware requirements</Info>
      <Item><rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>2</rasd:VirtualQuantity></Item>
      <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>2048</rasd:VirtualQuantity></Item>
      <Item><rasd:AddressOnParent>0</rasd:AddressOnParent><rasd:Connection>VM Network</rasd:Connection><rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceType>10</rasd:ResourceType></Item>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>"#
    )
}

fn tar_header(name: &str, size: usize) -> [u8; 512] {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..108].copy_from_slice(b"0000644\0");
    h[108..116].copy_from_slice(b"0000000\0");
    h[116..124].copy_from_slice(b"0000000\0");
    h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
    h[136..148].copy_from_slice(b"00000000000\0");
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|b| *b as u32).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    h
}

/// An OVA: a tar holding the descriptor and the disk.
pub fn make_ova(disk: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in [
        ("photon.ovf", ovf_descriptor(disk.len()).into_bytes()),
        ("photon-disk1.vmdk", disk.to_vec()),
    ] {
        out.extend_from_slice(&tar_header(name, data.len()));
        out.extend_from_slice(&data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

/// Unpacks an OVA as pyvcloud does: (file name, content) per member.
pub fn unpack_ova(ova: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut pos = 0;
    while pos + 512 <= ova.len() {
        let h = &ova[pos..pos + 512];
        if h.iter().all(|b| *b == 0) {
            break;
        }
        let name = String::from_utf8_lossy(&h[..100])
            .trim_end_matches('\0')
            .to_string();
        let size_text = String::from_utf8_lossy(&h[124..135]).to_string();
        let size =
            usize::from_str_radix(size_text.trim_matches(|c: char| c == '\0' || c == ' '), 8)
                .unwrap();
        pos += 512;
        files.push((name, ova[pos..pos + size].to_vec()));
        pos += size.div_ceil(512) * 512;
    }
    files
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
