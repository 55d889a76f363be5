//! The tenant CLI's side of the one vCD client (`cse_vcd::vcd`): which connection settings
//! `vcd-cse` uses, the API versions it speaks, and how the client's answers and failures
//! become [`TenantError`] texts. Login, version negotiation, re-hydration of a stored token,
//! task reads and `/api/cse` calls are the shared client's; nothing here speaks HTTP itself.
//!
//! Headers follow vcd-cli's CSE plugin: `Accept: application/*+json;version=<api>` for
//! `/api/cse`, `text/x-yaml;version=<api>` for a kubeconfig, `application/*+xml;version=<api>`
//! for vCD documents, and the session token on every call after login: `x-vcloud-authorization`
//! for a legacy login (API below 33.0), `Authorization: Bearer <jwt>` for a CloudAPI one.

use std::time::Duration;

use cse_core::config::Secret;
use cse_vcd::vcd::xml::Element;
use cse_vcd::vcd::{
    ApiVersion, Client, Credentials, HttpTimeouts, RetryPolicy, SessionInfo, SessionToken,
    TlsOptions, VcdConnector, VcdError, VcdSettings, media,
};
use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::errors::{Endpoint, TenantError, excerpt};

/// API versions this client speaks: the shared client's, vCD 9.5 (29.0) to 10.6 (39.0).
pub const SUPPORTED_API_VERSIONS: &[&str] = cse_vcd::vcd::SUPPORTED_API_VERSIONS;
/// Session token header.
pub const AUTH_HEADER: &str = cse_vcd::vcd::AUTH_HEADER;
/// Media type of an org document.
pub const ORG_MEDIA_TYPE: &str = media::ORG;
/// Media type of a VDC reference.
pub const VDC_MEDIA_TYPE: &str = media::VDC;

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

/// `<base>/api/<segments...>`, each segment percent-encoded.
pub fn api_url(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.clear().push("api");
        for segment in segments {
            path.push(segment);
        }
    }
    url
}

/// The versions `vcd-cse` speaks, as [`ApiVersion`]s.
pub fn supported_versions() -> Vec<ApiVersion> {
    SUPPORTED_API_VERSIONS
        .iter()
        .filter_map(|v| ApiVersion::parse(v))
        .collect()
}

/// A vCD endpoint as `vcd-cse` reaches it: the shared client's connector with the CLI's
/// time-outs and user agent, no automatic retries (a command reports what happened), and
/// the certificate check the user chose.
#[derive(Debug, Clone)]
pub struct VcdEndpoint {
    connector: VcdConnector,
    base: Url,
}

impl VcdEndpoint {
    /// An endpoint for `base` (see [`base_url`]); `verify` = check the TLS certificate.
    pub fn new(base: Url, verify: bool) -> Result<VcdEndpoint, TenantError> {
        crate::install_tls();
        let setup_error = |cause: String| TenantError::Connection {
            url: base.to_string(),
            cause,
            hint: String::new(),
        };
        let default_version = supported_versions()
            .pop()
            .ok_or_else(|| setup_error("no supported API version".to_owned()))?;
        let mut settings = VcdSettings::new(api_url(&base, &[]).as_str(), default_version)
            .map_err(|e| setup_error(e.to_string()))?;
        settings.tls = TlsOptions::verify(verify);
        settings.http = HttpTimeouts {
            connect: CONNECT_TIMEOUT,
            request: REQUEST_TIMEOUT,
        };
        settings.retry = RetryPolicy::never();
        settings.busy_retry = RetryPolicy::never();
        settings.user_agent = Some(concat!("vcd-cse/", env!("CARGO_PKG_VERSION")).to_owned());
        let connector = VcdConnector::new(settings).map_err(|e| match e {
            VcdError::HttpClient(source) => setup_error(error_chain(&source)),
            other => setup_error(other.to_string()),
        })?;
        Ok(VcdEndpoint { connector, base })
    }

    /// The base URL.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The highest version both vCD (`GET /api/versions`) and [`SUPPORTED_API_VERSIONS`]
    /// list.
    pub async fn negotiate(&self) -> Result<ApiVersion, TenantError> {
        self.connector
            .negotiate(&supported_versions())
            .await
            .map_err(|e| match e {
                VcdError::NoCommonVersion { offered, .. } => TenantError::NoCommonApiVersion {
                    offered,
                    supported: SUPPORTED_API_VERSIONS.join(", "),
                },
                other => from_vcd(Endpoint::Vcd, other),
            })
    }

    /// Log in with Basic `user@org:password` at `version` (`POST /api/sessions` below
    /// 33.0, a CloudAPI session from 33.0).
    pub async fn login(
        &self,
        org: &str,
        user: &str,
        password: &Secret,
        version: ApiVersion,
    ) -> Result<VcdSession, TenantError> {
        let credentials = Credentials {
            user: user.to_owned(),
            org: org.to_owned(),
            password: password.clone(),
        };
        let client = self
            .connector
            .login_at(credentials, version)
            .await
            .map_err(|e| from_vcd(Endpoint::Login, e))?;
        Ok(self.session(client))
    }

    /// A session from a token given on the command line, checked with `GET /api/session`.
    pub async fn rehydrate(
        &self,
        token: SessionToken,
        version: ApiVersion,
    ) -> Result<VcdSession, TenantError> {
        let client = self
            .connector
            .rehydrate(token, version)
            .await
            .map_err(|e| from_vcd(Endpoint::Vcd, e))?;
        Ok(self.session(client))
    }

    /// A session from the profile's stored token (no request until the first call).
    pub fn resume(&self, token: SessionToken, version: ApiVersion) -> VcdSession {
        self.session(self.connector.resume(token, version))
    }

    fn session(&self, client: Client) -> VcdSession {
        VcdSession {
            client,
            base: self.base.clone(),
        }
    }
}

/// A `Link` to a VDC in an org document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VdcLink {
    /// Target URL.
    pub href: String,
    /// `name` attribute (empty when absent).
    pub name: String,
}

/// A logged-in (or resumed) session of the shared client, with the CLI's error texts.
#[derive(Debug, Clone)]
pub struct VcdSession {
    client: Client,
    base: Url,
}

impl VcdSession {
    /// The session token with its kind (to store in the profile; never printed).
    pub fn token(&self) -> SessionToken {
        self.client.token()
    }

    /// The API version in use.
    pub fn api_version(&self) -> &ApiVersion {
        self.client.api_version()
    }

    /// The `Session` document's user, org and links (empty for a resumed session).
    pub fn info(&self) -> SessionInfo {
        self.client.session()
    }

    /// `<base>/api/<segments...>`.
    pub fn api_url(&self, segments: &[&str]) -> Url {
        api_url(&self.base, segments)
    }

    /// `DELETE /api/session` (legacy token) or `DELETE /cloudapi/1.0.0/sessions/current`
    /// (bearer token).
    pub async fn logout(&self) -> Result<(), TenantError> {
        self.client
            .logout()
            .await
            .map_err(|e| from_vcd(Endpoint::Vcd, e))
    }

    /// GET a vCD XML document by href (a relative href is resolved against the base URL).
    pub async fn get_xml(&self, href: &str) -> Result<Element, TenantError> {
        let url = self.href_url(href)?;
        self.client
            .get(url.as_str())
            .await
            .map_err(|e| from_vcd(Endpoint::Vcd, e))
    }

    /// The VDC links of an org document (in its own links below API 33.0, in the
    /// `records` query it links from 33.0).
    pub async fn vdc_links(&self, org: &Element) -> Result<Vec<VdcLink>, TenantError> {
        let links = self
            .client
            .org_vdc_links(org)
            .await
            .map_err(|e| from_vcd(Endpoint::Vcd, e))?;
        Ok(links
            .into_iter()
            .map(|l| VdcLink {
                href: l.href,
                name: l.name.unwrap_or_default(),
            })
            .collect())
    }

    /// Call `/api/cse/<segments>` and decode the JSON reply.
    pub async fn cse<T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<String>,
    ) -> Result<T, TenantError> {
        let url = self.cse_url(segments);
        let accept = self.client.api_version().accept_json();
        let body = body.as_deref().map(|text| ("application/json", text));
        let text = self.call_cse(method, &url, &accept, body).await?;
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
        let accept = format!("text/x-yaml;version={}", self.client.api_version());
        let text = self.call_cse(Method::GET, &url, &accept, None).await?;
        Ok(serde_json::from_str::<String>(&text).unwrap_or(text))
    }

    /// `<base>/api/cse/<segments...>`.
    pub fn cse_url(&self, segments: &[&str]) -> Url {
        let mut all = vec!["cse"];
        all.extend_from_slice(segments);
        self.api_url(&all)
    }

    async fn call_cse(
        &self,
        method: Method,
        url: &Url,
        accept: &str,
        body: Option<(&str, &str)>,
    ) -> Result<String, TenantError> {
        let reply = self
            .client
            .exchange(method, url.as_str(), accept, body)
            .await
            .map_err(|e| from_vcd(Endpoint::Cse, e))?;
        if reply.is_success() {
            Ok(reply.body)
        } else {
            Err(TenantError::from_reply(
                Endpoint::Cse,
                &reply.url,
                reply.status,
                &reply.body,
            ))
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
}

/// The JSON text of a request body (plain structs of strings, numbers and booleans, whose
/// serialisation cannot fail).
pub fn json_body<T: Serialize>(body: &T) -> String {
    serde_json::to_string(body).unwrap_or_else(|_| "null".to_owned())
}

/// Choose the API version: the highest one both `offered` and [`SUPPORTED_API_VERSIONS`]
/// contain (the shared client's negotiation, on a list already read).
pub fn negotiate_version(offered: &[String]) -> Result<String, TenantError> {
    let offered_versions: Vec<ApiVersion> = offered
        .iter()
        .filter_map(|v| ApiVersion::parse(v))
        .collect();
    cse_vcd::vcd::highest_common_version(&offered_versions, &supported_versions())
        .map(|v| v.to_string())
        .ok_or_else(|| TenantError::NoCommonApiVersion {
            offered: offered.join(", "),
            supported: SUPPORTED_API_VERSIONS.join(", "),
        })
}

/// A failure of the shared client as the CLI reports it (the same texts as
/// [`TenantError::from_reply`] gives for a raw reply).
pub fn from_vcd(endpoint: Endpoint, error: VcdError) -> TenantError {
    let detail = |message: String| Some(message).filter(|m| !m.trim().is_empty());
    match error {
        VcdError::Transport { url, source, .. } => connection_error(&url, &source),
        VcdError::LoginRefused { .. } => TenantError::LoginRejected,
        VcdError::Unauthorized { .. } => match endpoint {
            Endpoint::Login => TenantError::LoginRejected,
            Endpoint::Vcd | Endpoint::Cse => TenantError::SessionExpired,
        },
        VcdError::Api {
            url,
            status,
            message,
            ..
        } => match (status, detail(message)) {
            (403, message) => TenantError::Forbidden(message),
            (404 | 406, message) if endpoint == Endpoint::Cse => TenantError::CseNotRegistered {
                status,
                detail: message,
            },
            (406, message) => TenantError::NotAcceptable(message),
            (404, message) => TenantError::NotFound {
                url,
                detail: message,
            },
            (504, message) => TenantError::GatewayTimeout {
                message: message
                    .map(|m| m.trim_end_matches('.').to_owned())
                    .unwrap_or_else(|| "vCD answered 504 Gateway Timeout".to_owned()),
            },
            (_, Some(message)) => TenantError::Vcd { status, message },
            (_, None) => TenantError::UnexpectedReply {
                url,
                status,
                detail: "no vCD Error document in the reply".to_owned(),
            },
        },
        VcdError::MissingToken { url, carrier } => TenantError::UnexpectedReply {
            url,
            status: 200,
            detail: format!("no session token ({carrier}) in the login reply"),
        },
        VcdError::Parse { url, reason } => TenantError::UnexpectedReply {
            url,
            status: 200,
            detail: reason,
        },
        other => TenantError::UnexpectedReply {
            url: String::new(),
            status: 200,
            detail: other.to_string(),
        },
    }
}

fn connection_error(url: &str, error: &reqwest::Error) -> TenantError {
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
        url: url.to_owned(),
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
        assert_eq!(negotiate_version(&offered).unwrap(), "33.0");
        // vCD 10.6 also offers versions this client does not know yet.
        let offered: Vec<String> = ["36.0", "37.0", "38.0", "39.0", "40.0"]
            .map(String::from)
            .to_vec();
        assert_eq!(negotiate_version(&offered).unwrap(), "39.0");
        let none = vec!["5.5".to_owned()];
        assert!(matches!(
            negotiate_version(&none),
            Err(TenantError::NoCommonApiVersion { .. })
        ));
    }

    #[test]
    fn cluster_names_are_encoded_as_one_path_segment() {
        let endpoint = VcdEndpoint::new(base_url("https://h").unwrap(), true).unwrap();
        let session = endpoint.resume(
            SessionToken::Legacy(Secret::new("t")),
            ApiVersion::parse("31.0").unwrap(),
        );
        assert_eq!(
            session.cse_url(&["a/b?c", "info"]).as_str(),
            "https://h/api/cse/a%2Fb%3Fc/info"
        );
    }

    #[test]
    fn client_failures_read_as_the_cli_reports_replies() {
        let api = |status: u16, message: &str| VcdError::Api {
            method: "GET".into(),
            url: "https://h/api/org/1".into(),
            status,
            minor_error_code: None,
            message: message.into(),
            request_id: None,
        };
        let unauthorized = || VcdError::Unauthorized {
            method: "GET".into(),
            url: "https://h/api/session".into(),
            minor_error_code: None,
        };
        for (error, endpoint, expected) in [
            (unauthorized(), Endpoint::Vcd, TenantError::SessionExpired),
            (unauthorized(), Endpoint::Login, TenantError::LoginRejected),
            (
                api(403, "Access denied"),
                Endpoint::Vcd,
                TenantError::Forbidden(Some("Access denied".into())),
            ),
            (
                api(406, ""),
                Endpoint::Cse,
                TenantError::CseNotRegistered {
                    status: 406,
                    detail: None,
                },
            ),
            (
                api(500, "boom"),
                Endpoint::Vcd,
                TenantError::Vcd {
                    status: 500,
                    message: "boom".into(),
                },
            ),
        ] {
            assert_eq!(
                from_vcd(endpoint, error).to_string(),
                expected.to_string(),
                "{endpoint:?}"
            );
        }
    }
}
