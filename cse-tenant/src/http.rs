//! A small vCD client for the tenant CLI: API version negotiation, login (`POST
//! /api/sessions` with Basic `user@org:password`, token from the `x-vcloud-authorization`
//! header), the session and org documents, logout, `/api/cse` calls and task reads.
//!
//! Headers follow vcd-cli's CSE plugin: `Accept: application/*+json;version=<api>` for
//! `/api/cse`, `text/x-yaml;version=<api>` for a kubeconfig, `application/*+xml;version=<api>`
//! for vCD documents, and `x-vcloud-authorization: <token>` on every call after login.

use std::time::Duration;

use cse_core::config::Secret;
use reqwest::{Method, RequestBuilder};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::errors::{Endpoint, TenantError, excerpt};
use super::vcd_xml::{self, Element, Link};

/// API versions this client speaks (the CSE 1.2 server's vCD library knows 29.0–32.0).
pub const SUPPORTED_API_VERSIONS: [&str; 4] = ["29.0", "30.0", "31.0", "32.0"];
/// Session token header.
pub const AUTH_HEADER: &str = "x-vcloud-authorization";
/// Media type of an org document.
pub const ORG_MEDIA_TYPE: &str = "application/vnd.vmware.vcloud.org+xml";
/// Media type of a VDC reference.
pub const VDC_MEDIA_TYPE: &str = "application/vnd.vmware.vcloud.vdc+xml";

const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(180);

/// The base URL (`scheme://host[:port]`) of a host given as `vcd.example.com`, `host:8443` or
/// a full URL; `https` when no scheme is given, as vcd-cli does. A path is dropped.
pub fn base_url(host: &str) -> Result<Url, TenantError> {
    let trimmed = host.trim();
    let invalid = |cause: &str| TenantError::InvalidHost {
        host: host.to_owned(),
        cause: cause.to_owned(),
    };
    if trimmed.is_empty() {
        return Err(invalid("the host is empty"));
    }
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_owned()
    } else {
        format!("https://{trimmed}")
    };
    let mut url = Url::parse(&with_scheme).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be https or http"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("no host name"));
    }
    url.set_path("");
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

/// A client bound to one vCD and API version, with or without a session token.
#[derive(Debug, Clone)]
pub struct VcdHttp {
    client: reqwest::Client,
    base: Url,
    api_version: String,
    token: Option<Secret>,
}

/// What a successful login returns.
#[derive(Debug, Clone)]
pub struct LoginSession {
    /// The session token.
    pub token: Secret,
    /// The `Session` document.
    pub session: Element,
}

impl VcdHttp {
    /// A client for `base` (see [`base_url`]); `verify` = check the TLS certificate.
    pub fn new(base: Url, verify: bool, api_version: &str) -> Result<VcdHttp, TenantError> {
        crate::install_tls();
        let client = reqwest::Client::builder()
            .tls_danger_accept_invalid_certs(!verify)
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("vcd-cse/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(cse_vcd::vcd::http::DEFAULT_MAX_IDLE_PER_HOST)
            .pool_idle_timeout(cse_vcd::vcd::http::DEFAULT_POOL_IDLE_TIMEOUT)
            .build()
            .map_err(|e| TenantError::Connection {
                url: base.to_string(),
                cause: error_chain(&e),
                hint: String::new(),
            })?;
        Ok(VcdHttp {
            client,
            base,
            api_version: api_version.to_owned(),
            token: None,
        })
    }

    /// The same client with a session token.
    pub fn with_token(mut self, token: Secret) -> VcdHttp {
        self.token = Some(token);
        self
    }

    /// The same client speaking another API version.
    pub fn with_api_version(mut self, api_version: &str) -> VcdHttp {
        api_version.clone_into(&mut self.api_version);
        self
    }

    /// The API version in use.
    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    /// The base URL.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// `<base>/api/<segments...>`, each segment percent-encoded.
    pub fn api_url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        {
            let mut path = url
                .path_segments_mut()
                .expect("http(s) URLs always have a path");
            path.clear().push("api");
            for segment in segments {
                path.push(segment);
            }
        }
        url
    }

    /// The versions `GET /api/versions` lists.
    pub async fn offered_versions(&self) -> Result<Vec<String>, TenantError> {
        let url = self.api_url(&["versions"]);
        let request = self.client.get(url.clone());
        let body = self.send(request, Endpoint::Vcd, &url).await?;
        let root = parse_document(&url, &body)?;
        Ok(root
            .children_named("VersionInfo")
            .filter_map(|info| info.child("Version"))
            .map(|v| v.text.clone())
            .collect())
    }

    /// Log in with Basic `user@org:password` and return the token and session document.
    pub async fn login(
        &self,
        org: &str,
        user: &str,
        password: &Secret,
    ) -> Result<LoginSession, TenantError> {
        let url = self.api_url(&["sessions"]);
        let request = self
            .client
            .post(url.clone())
            .header("Accept", self.xml_accept())
            .basic_auth(format!("{user}@{org}"), Some(password.expose()));
        let response = self.execute(request, &url).await?;
        let status = response.status().as_u16();
        let token = response
            .headers()
            .get(AUTH_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = read_body(response, &url).await?;
        if status != 200 {
            return Err(TenantError::from_reply(
                Endpoint::Login,
                url.as_str(),
                status,
                &body,
            ));
        }
        let token = token.ok_or_else(|| TenantError::UnexpectedReply {
            url: url.to_string(),
            status,
            detail: format!("no {AUTH_HEADER} header in the login reply"),
        })?;
        Ok(LoginSession {
            token: Secret::new(token),
            session: parse_document(&url, &body)?,
        })
    }

    /// `GET /api/session` with the token (checks that it is still valid).
    pub async fn session(&self) -> Result<Element, TenantError> {
        let url = self.api_url(&["session"]);
        self.get_xml(url.as_str()).await
    }

    /// `DELETE /api/session`.
    pub async fn logout(&self) -> Result<(), TenantError> {
        let url = self.api_url(&["session"]);
        let request = self.authorized(self.client.delete(url.clone()), self.xml_accept());
        self.send(request, Endpoint::Vcd, &url).await.map(|_| ())
    }

    /// GET a vCD XML document by href.
    pub async fn get_xml(&self, href: &str) -> Result<Element, TenantError> {
        let url = self.href_url(href)?;
        let request = self.authorized(self.client.get(url.clone()), self.xml_accept());
        let body = self.send(request, Endpoint::Vcd, &url).await?;
        parse_document(&url, &body)
    }

    /// The VDC links of an org document.
    pub fn vdc_links(org: &Element) -> Vec<Link> {
        org.children_named("Link")
            .filter(|l| l.attr("type") == Some(VDC_MEDIA_TYPE))
            .filter_map(|l| {
                Some(Link {
                    href: l.attr("href")?.to_owned(),
                    name: l.attr("name").unwrap_or_default().to_owned(),
                })
            })
            .collect()
    }

    /// Call `/api/cse/<segments>` and decode the JSON reply.
    pub async fn cse<T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<String>,
    ) -> Result<T, TenantError> {
        let url = self.cse_url(segments);
        let mut request = self.authorized(
            self.client.request(method, url.clone()),
            format!("application/*+json;version={}", self.api_version),
        );
        if let Some(body) = body {
            request = request
                .header("Content-Type", "application/json")
                .body(body);
        }
        let text = self.send(request, Endpoint::Cse, &url).await?;
        serde_json::from_str(&text).map_err(|e| TenantError::UnexpectedReply {
            url: url.to_string(),
            status: 200,
            detail: format!("{e}: {}", excerpt(&text)),
        })
    }

    /// `GET /api/cse/<cluster>/config`: the kubeconfig text. CSE sends it as a JSON string
    /// literal; a reply that is not one is taken as the YAML text itself.
    pub async fn cse_config(&self, cluster: &str) -> Result<String, TenantError> {
        let url = self.cse_url(&[cluster, "config"]);
        let request = self.authorized(
            self.client.get(url.clone()),
            format!("text/x-yaml;version={}", self.api_version),
        );
        let text = self.send(request, Endpoint::Cse, &url).await?;
        Ok(serde_json::from_str::<String>(&text).unwrap_or(text))
    }

    fn cse_url(&self, segments: &[&str]) -> Url {
        let mut all = vec!["cse"];
        all.extend_from_slice(segments);
        self.api_url(&all)
    }

    fn xml_accept(&self) -> String {
        format!("application/*+xml;version={}", self.api_version)
    }

    fn authorized(&self, request: RequestBuilder, accept: String) -> RequestBuilder {
        let request = request.header("Accept", accept);
        match &self.token {
            Some(token) => request.header(AUTH_HEADER, token.expose()),
            None => request,
        }
    }

    /// An href from a vCD document, resolved against the base URL (hrefs are absolute in
    /// practice; a relative one is accepted too).
    fn href_url(&self, href: &str) -> Result<Url, TenantError> {
        self.base
            .join(href)
            .map_err(|e| TenantError::UnexpectedReply {
                url: self.base.to_string(),
                status: 200,
                detail: format!("invalid href '{href}': {e}"),
            })
    }

    async fn execute(
        &self,
        request: RequestBuilder,
        url: &Url,
    ) -> Result<reqwest::Response, TenantError> {
        request.send().await.map_err(|e| connection_error(url, &e))
    }

    /// Send, read the body, and turn non-2xx replies into errors.
    async fn send(
        &self,
        request: RequestBuilder,
        endpoint: Endpoint,
        url: &Url,
    ) -> Result<String, TenantError> {
        let response = self.execute(request, url).await?;
        let status = response.status().as_u16();
        let body = read_body(response, url).await?;
        if (200..300).contains(&status) {
            Ok(body)
        } else {
            Err(TenantError::from_reply(
                endpoint,
                url.as_str(),
                status,
                &body,
            ))
        }
    }
}

/// The JSON text of a request body (plain structs of strings, numbers and booleans, whose
/// serialisation cannot fail).
pub fn json_body<T: Serialize>(body: &T) -> String {
    serde_json::to_string(body).unwrap_or_else(|_| "null".to_owned())
}

/// Choose the API version: the highest one both `offered` and [`SUPPORTED_API_VERSIONS`]
/// contain.
pub fn negotiate_version(offered: &[String]) -> Result<String, TenantError> {
    let mut common: Vec<&str> = SUPPORTED_API_VERSIONS
        .iter()
        .copied()
        .filter(|v| offered.iter().any(|o| o.trim() == *v))
        .collect();
    common.sort_by_key(|v| version_key(v));
    common
        .last()
        .map(|v| (*v).to_owned())
        .ok_or_else(|| TenantError::NoCommonApiVersion {
            offered: offered.join(", "),
            supported: SUPPORTED_API_VERSIONS.join(", "),
        })
}

fn version_key(version: &str) -> (u32, u32) {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

async fn read_body(response: reqwest::Response, url: &Url) -> Result<String, TenantError> {
    response.text().await.map_err(|e| connection_error(url, &e))
}

fn parse_document(url: &Url, body: &str) -> Result<Element, TenantError> {
    vcd_xml::parse_root(body).map_err(|e| TenantError::UnexpectedReply {
        url: url.to_string(),
        status: 200,
        detail: format!("{e}: {}", excerpt(body)),
    })
}

fn connection_error(url: &Url, error: &reqwest::Error) -> TenantError {
    let cause = error_chain(error);
    let lower = cause.to_ascii_lowercase();
    let hint = if lower.contains("certificate") || lower.contains("unknownissuer") {
        " (the server's TLS certificate is not trusted; log in with -i/--no-verify-ssl-certs to skip the check)".to_owned()
    } else if error.is_timeout() {
        " (timed out)".to_owned()
    } else {
        String::new()
    };
    TenantError::Connection {
        url: url.to_string(),
        cause,
        hint,
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_adds_https_and_drops_paths() {
        assert_eq!(
            base_url("vcd.example.com").unwrap().as_str(),
            "https://vcd.example.com/"
        );
        assert_eq!(
            base_url("http://127.0.0.1:8080/api").unwrap().as_str(),
            "http://127.0.0.1:8080/"
        );
        assert!(base_url("").is_err());
        assert!(base_url("ftp://x").is_err());
    }

    #[test]
    fn negotiation_picks_the_highest_common_version() {
        let offered: Vec<String> = ["27.0", "29.0", "31.0", "33.0"].map(String::from).to_vec();
        assert_eq!(negotiate_version(&offered).unwrap(), "31.0");
        let none = vec!["5.5".to_owned()];
        assert!(matches!(
            negotiate_version(&none),
            Err(TenantError::NoCommonApiVersion { .. })
        ));
    }

    #[test]
    fn cluster_names_are_encoded_as_one_path_segment() {
        let http = VcdHttp::new(base_url("https://h").unwrap(), true, "31.0").unwrap();
        assert_eq!(
            http.cse_url(&["a/b?c", "info"]).as_str(),
            "https://h/api/cse/a%2Fb%3Fc/info"
        );
    }
}
