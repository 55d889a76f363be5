//! The vCD REST client: one [`VcdConnector`] per vCD endpoint (a pooled HTTP
//! client and the settings), and [`Client`] sessions made from it, either by
//! logging in (the system administrator, a tenant's CLI) or by re-hydrating a
//! tenant's forwarded token (`x-vcloud-authorization` or `Authorization:
//! Bearer`) at the version of the tenant's `Accept` header.
//!
//! Logins follow the API version (a fixed one, or the highest both sides speak):
//! below 33.0 `POST /api/sessions` (a legacy token), from 33.0 CloudAPI sessions
//! (`POST /cloudapi/1.0.0/sessions`, `/sessions/provider` for the System org; a
//! bearer JWT, which vCD 10.6 requires at 38.0+); an API token is exchanged at
//! `/oauth/tenant/{org}/token` (`/oauth/provider/token`) for a bearer JWT.
//!
//! Every session of a connector shares its HTTP pool and its request slots: at
//! most `vcd.max_concurrent_requests` requests are open to vCD at once (a
//! request holds its slot until its body is read); the others wait for a slot
//! before they are sent, so their time-outs start only once they are. The
//! pool keeps at most that many idle connections, so the connections open to
//! vCD stay bounded however many operations and tenants are active.
//!
//! Every request sends `Accept: application/*+xml;version=<v>` and the session
//! token in the header its kind needs; idempotent requests are retried with
//! backoff; a 401 on a session that was opened with a password or an API token
//! logs in again once (the same way) and repeats the request.

use std::sync::Arc;
use std::time::Duration;

use cse_core::config::{Config, Secret};
use cse_core::vcd::VcdDocument;
use parking_lot::RwLock;
use reqwest::{Method, StatusCode};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use url::Url;

use super::body::{self, drain};
use super::error::{VcdError, VcdErrorDocument};
use super::http::{HttpTimeouts, PoolLimits, TlsOptions, build_http_client_as};
use super::links::{Link, links_of};
use super::query::{Query, QueryPage, QueryRecord};
use super::retry::{RetryPolicy, TransportFailure, status_is_retryable, transport_is_retryable};
use super::session::{
    ACCESS_TOKEN_HEADER, AUTH_HEADER, AUTHORIZATION_HEADER, ApiTokenCredentials, AuthHeader,
    Credentials, LoginKind, LoginSecret, REQUEST_ID_HEADER, SYSTEM_ORG, SessionInfo, SessionToken,
    TokenKind,
};
use super::tasks::{TaskInfo, wait_until_done};
use super::version::{
    ApiVersion, VersionChoice, highest_common_version, media, supported_versions,
};
use super::xml::{self, Element};

/// Most pages a single query may return before the client stops (a guard against
/// a server whose `nextPage` never ends).
pub const MAX_QUERY_PAGES: usize = 10_000;

/// Settings of one vCD endpoint.
#[derive(Clone, Debug)]
pub struct VcdSettings {
    /// API root, `https://host[:port]/api`.
    pub api_root: Url,
    /// Version of sessions opened with [`VcdConnector::login`] (the config's
    /// `vcd.api_version`: a fixed `NN.N`, or `auto` to negotiate).
    pub version: VersionChoice,
    /// Certificate checking.
    pub tls: TlsOptions,
    /// Connect / request time-outs.
    pub http: HttpTimeouts,
    /// Most requests open to vCD at once over every session of the connector
    /// (`vcd.max_concurrent_requests`); also the idle connections kept.
    pub max_concurrent_requests: usize,
    /// Retries of idempotent requests.
    pub retry: RetryPolicy,
    /// Retries of any request vCD refused as `BUSY_ENTITY`.
    pub busy_retry: RetryPolicy,
    /// Pause between polls of a task.
    pub task_poll_interval: Duration,
    /// Longest wait for one task.
    pub task_timeout: Duration,
    /// `User-Agent` sent (`None`: the HTTP library's default).
    pub user_agent: Option<String>,
}

impl VcdSettings {
    /// Settings from `config.yaml`: `vcd.host`/`port`/`verify`/`api_version` and the
    /// `timeouts:` section.
    pub fn from_config(config: &Config) -> Result<Self, VcdError> {
        let api_url = config.vcd.api_url().map_err(|e| VcdError::InvalidUrl {
            url: config.vcd.host.clone(),
            reason: e.to_string(),
        })?;
        let version =
            VersionChoice::parse(&config.vcd.api_version).ok_or_else(|| VcdError::InvalidUrl {
                url: api_url.clone(),
                reason: format!(
                    "api_version '{}' is neither 'auto' nor of the form NN.N",
                    config.vcd.api_version
                ),
            })?;
        let mut settings = Self::with_version(&api_url, version)?;
        settings.tls = TlsOptions::verify(config.vcd.verify);
        settings.http = HttpTimeouts::from_config(&config.timeouts);
        settings.max_concurrent_requests =
            usize::try_from(config.vcd.max_concurrent_requests.max(1)).unwrap_or(usize::MAX);
        settings.task_poll_interval = config.timeouts.vcd_task_poll_interval.duration();
        settings.task_timeout = config.timeouts.vcd_task.duration();
        Ok(settings)
    }

    /// Settings for the API root `api_url` (`…/api`) with defaults for the rest.
    pub fn new(api_url: &str, default_version: ApiVersion) -> Result<Self, VcdError> {
        Self::with_version(api_url, VersionChoice::Fixed(default_version))
    }

    /// Settings for the API root `api_url` (`…/api`) whose logins use `version`.
    pub fn with_version(api_url: &str, version: VersionChoice) -> Result<Self, VcdError> {
        let mut api_root = Url::parse(api_url).map_err(|e| VcdError::InvalidUrl {
            url: api_url.to_owned(),
            reason: e.to_string(),
        })?;
        if !matches!(api_root.scheme(), "http" | "https") || api_root.host_str().is_none() {
            return Err(VcdError::InvalidUrl {
                url: api_url.to_owned(),
                reason: "expected an http(s) URL with a host".to_owned(),
            });
        }
        if !api_root.path().ends_with('/') {
            let path = format!("{}/", api_root.path());
            api_root.set_path(&path);
        }
        let timeouts = cse_core::config::Timeouts::default();
        Ok(Self {
            api_root,
            version,
            tls: TlsOptions::verify(true),
            http: HttpTimeouts::default(),
            max_concurrent_requests: usize::try_from(
                cse_core::config::DEFAULT_MAX_CONCURRENT_REQUESTS,
            )
            .unwrap_or(usize::MAX),
            retry: RetryPolicy::default(),
            busy_retry: RetryPolicy::busy_default(),
            task_poll_interval: timeouts.vcd_task_poll_interval.duration(),
            task_timeout: timeouts.vcd_task.duration(),
            user_agent: None,
        })
    }

    /// `<api root>/<path>`.
    pub fn api_url(&self, path: &str) -> String {
        format!("{}{}", self.api_root, path.trim_start_matches('/'))
    }

    /// `<site root>/<path>`: the API root without its `api/` (where `cloudapi/`
    /// and `oauth/` live).
    pub fn site_url(&self, path: &str) -> String {
        let root = self.api_root.as_str();
        let site = root.strip_suffix("api/").unwrap_or(root);
        format!("{site}{}", path.trim_start_matches('/'))
    }

    /// `<site root>/cloudapi/1.0.0/<path>`.
    pub fn cloudapi_url(&self, path: &str) -> String {
        self.site_url(&format!("cloudapi/1.0.0/{}", path.trim_start_matches('/')))
    }
}

/// A vCD endpoint: its settings, one pooled HTTP client and the request slots
/// its sessions share. Cheap to clone (clones share pool and slots).
#[derive(Clone, Debug)]
pub struct VcdConnector {
    transport: Transport,
    settings: Arc<VcdSettings>,
    /// The version negotiated for `auto` (shared by clones).
    negotiated: Arc<RwLock<Option<ApiVersion>>>,
}

/// The HTTP client and the slots bounding the requests open through it.
#[derive(Clone, Debug)]
struct Transport {
    http: reqwest::Client,
    slots: Arc<Semaphore>,
}

impl VcdConnector {
    /// Builds the HTTP client for these settings.
    pub fn new(settings: VcdSettings) -> Result<Self, VcdError> {
        let max = settings.max_concurrent_requests.max(1);
        let http = build_http_client_as(
            &settings.tls,
            settings.http,
            PoolLimits::keeping(max),
            settings.user_agent.as_deref(),
        )
        .map_err(VcdError::HttpClient)?;
        Ok(Self {
            transport: Transport {
                http,
                slots: Arc::new(Semaphore::new(max)),
            },
            settings: Arc::new(settings),
            negotiated: Arc::new(RwLock::new(None)),
        })
    }

    /// The settings.
    pub fn settings(&self) -> &VcdSettings {
        &self.settings
    }

    /// Requests open to vCD right now (sent, body not yet read), over every
    /// session of this connector.
    pub fn requests_in_flight(&self) -> usize {
        self.settings
            .max_concurrent_requests
            .max(1)
            .saturating_sub(self.transport.slots.available_permits())
    }

    /// Logs in with a password ([`Credentials`]) or an API token
    /// ([`ApiTokenCredentials`]) at the configured version ([`VcdSettings::version`];
    /// negotiated once per connector when `auto`). The session logs in again by
    /// itself when vCD later answers 401.
    pub async fn login(&self, secret: impl Into<LoginSecret>) -> Result<Client, VcdError> {
        let version = self.login_version().await?;
        self.login_at(secret, version).await
    }

    /// The version [`Self::login`] uses: the fixed one, or the one negotiated
    /// (`GET /api/versions` the first time, remembered after).
    pub async fn login_version(&self) -> Result<ApiVersion, VcdError> {
        match &self.settings.version {
            VersionChoice::Fixed(version) => Ok(version.clone()),
            VersionChoice::Negotiate => {
                if let Some(version) = self.negotiated.read().clone() {
                    return Ok(version);
                }
                let version = self.negotiate(&supported_versions()).await?;
                *self.negotiated.write() = Some(version.clone());
                Ok(version)
            }
        }
    }

    /// Logs in at `version` (one negotiated with [`Self::negotiate`], or chosen by
    /// the user): with a password `POST /api/sessions` below 33.0 and a CloudAPI
    /// session from 33.0; with an API token the OAuth exchange. The token to store
    /// for later runs is [`Client::token`].
    ///
    /// ```
    /// use cse_core::config::Secret;
    /// use cse_vcd::vcd::{ApiVersion, Credentials, LoginKind, TokenKind, VcdConnector, VcdSettings};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # cse_bus::tls::install_crypto_provider();
    /// # let sim = vcd_sim::SimBuilder::new().start_vcd().await?;
    /// # let api_url = format!("{}/api", sim.base_url);
    /// let default = ApiVersion::parse("29.0").ok_or("bad version")?;
    /// let vcd = VcdConnector::new(VcdSettings::new(&api_url, default)?)?;
    ///
    /// // The highest version vCD (GET /api/versions) and this caller both speak.
    /// let supported: Vec<ApiVersion> = ["29.0", "30.0", "31.0", "32.0"]
    ///     .iter()
    ///     .filter_map(|v| ApiVersion::parse(v))
    ///     .collect();
    /// let version = vcd.negotiate(&supported).await?;
    /// assert_eq!(version.as_str(), "32.0");
    ///
    /// let alice = vcd
    ///     .login_at(
    ///         Credentials {
    ///             user: "alice".into(),
    ///             org: "acme".into(),
    ///             password: Secret::new("alice-pw"),
    ///         },
    ///         version.clone(),
    ///     )
    ///     .await?;
    /// assert_eq!(alice.session().org, "acme");
    /// // Below 33.0: POST /api/sessions and an x-vcloud-authorization token.
    /// assert_eq!(alice.login_kind(), LoginKind::Legacy);
    /// assert_eq!(alice.token().kind(), TokenKind::Legacy);
    ///
    /// // A later run resumes the session from the stored token, without a request.
    /// let later = vcd.resume(alice.token(), version);
    /// let org = later.get(alice.session().org_href()?).await?;
    /// assert_eq!(org.attr("name"), Some("acme"));
    /// # sim.shutdown().await;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn login_at(
        &self,
        secret: impl Into<LoginSecret>,
        version: ApiVersion,
    ) -> Result<Client, VcdError> {
        let secret = secret.into();
        let opened = open_session(&self.transport, &self.settings, &version, &secret).await?;
        Ok(self.client(version, opened, Some(secret)))
    }

    /// The API versions vCD offers (`GET /api/versions`, no session needed), in the
    /// order vCD lists them. Entries that are not `NN.N` are skipped.
    pub async fn offered_versions(&self) -> Result<Vec<ApiVersion>, VcdError> {
        let url = self.settings.api_url("versions");
        let (response, slot) = send_retrying(
            &self.transport,
            self.settings.retry,
            &Method::GET,
            &url,
            ACCEPT_ANY_XML,
            None,
            None,
        )
        .await?;
        let answer = read_answer(Method::GET, &url, response).await;
        drop(slot);
        Ok(versions_offered(&answer?.document()?))
    }

    /// The highest version both vCD offers (`GET /api/versions`) and `supported` lists.
    pub async fn negotiate(&self, supported: &[ApiVersion]) -> Result<ApiVersion, VcdError> {
        let offered = self.offered_versions().await?;
        highest_common_version(&offered, supported).ok_or_else(|| VcdError::NoCommonVersion {
            offered: join_versions(&offered),
            supported: join_versions(supported),
        })
    }

    /// Logs in as the configured system administrator (org `System`): with
    /// `vcd.api_token` when the config has one, else `vcd.username`/`password`.
    pub async fn login_sysadmin(&self, config: &Config) -> Result<Client, VcdError> {
        self.login(sysadmin_secret(config)).await
    }

    /// Re-hydrates a tenant's session from its forwarded token (`GET /api/session`
    /// with `x-vcloud-authorization` for a legacy token, `Authorization: Bearer`
    /// for a JWT) at `version` (from the tenant's `Accept`). Such a session cannot
    /// be renewed: a later 401 is returned as [`VcdError::Unauthorized`].
    pub async fn rehydrate(
        &self,
        token: SessionToken,
        version: ApiVersion,
    ) -> Result<Client, VcdError> {
        let session = read_session(&self.transport, &self.settings, &version, &token).await?;
        Ok(self.client(
            version,
            Opened {
                token,
                session,
                kind: LoginKind::Token,
            },
            None,
        ))
    }

    /// A session from a forwarded token whose `Session` document was read
    /// before ([`Self::rehydrate`]'s [`Client::session`]), without a request.
    /// Such a session cannot be renewed.
    pub fn with_session(
        &self,
        token: SessionToken,
        version: ApiVersion,
        session: SessionInfo,
    ) -> Client {
        self.client(
            version,
            Opened {
                token,
                session,
                kind: LoginKind::Token,
            },
            None,
        )
    }

    /// A session from a token stored by an earlier run (a tenant's saved login), without
    /// a request: the first call tells whether vCD still accepts it
    /// ([`VcdError::Unauthorized`] when not). Its [`Client::session`] is empty, since the
    /// `Session` document was not read; use [`Self::rehydrate`] when it is needed. Such
    /// a session cannot be renewed.
    pub fn resume(&self, token: SessionToken, version: ApiVersion) -> Client {
        self.with_session(token, version, SessionInfo::default())
    }

    fn client(&self, version: ApiVersion, opened: Opened, secret: Option<LoginSecret>) -> Client {
        Client {
            inner: Arc::new(Inner {
                transport: self.transport.clone(),
                settings: self.settings.clone(),
                version,
                auth: RwLock::new(Auth {
                    token: opened.token,
                    session: opened.session,
                    generation: 0,
                }),
                login_kind: opened.kind,
                secret,
                renewal: tokio::sync::Mutex::new(()),
            }),
        }
    }
}

/// What the configured system administrator logs in with: `vcd.api_token` when
/// set, else `vcd.username` and `vcd.password` (org `System` either way).
pub fn sysadmin_secret(config: &Config) -> LoginSecret {
    match &config.vcd.api_token {
        Some(token) => LoginSecret::ApiToken(ApiTokenCredentials {
            org: SYSTEM_ORG.to_owned(),
            token: token.clone(),
        }),
        None => LoginSecret::Password(Credentials {
            user: config.vcd.username.clone(),
            org: SYSTEM_ORG.to_owned(),
            password: config.vcd.password.clone().unwrap_or_default(),
        }),
    }
}

impl From<Credentials> for LoginSecret {
    fn from(credentials: Credentials) -> Self {
        Self::Password(credentials)
    }
}

impl From<ApiTokenCredentials> for LoginSecret {
    fn from(token: ApiTokenCredentials) -> Self {
        Self::ApiToken(token)
    }
}

/// A session just opened: its token, its `Session` document and how it was opened.
struct Opened {
    token: SessionToken,
    session: SessionInfo,
    kind: LoginKind,
}

/// A logged-in vCD session. Cheap to clone; clones share the session.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    transport: Transport,
    settings: Arc<VcdSettings>,
    version: ApiVersion,
    auth: RwLock<Auth>,
    /// How the session was opened.
    login_kind: LoginKind,
    /// What it is opened again with after a 401 (`None`: it cannot be).
    secret: Option<LoginSecret>,
    renewal: tokio::sync::Mutex<()>,
}

#[derive(Debug)]
struct Auth {
    token: SessionToken,
    session: SessionInfo,
    /// Bumped on every renewal, so concurrent 401s renew only once.
    generation: u64,
}

/// A successful answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// HTTP status (2xx).
    pub status: u16,
    /// Body text (may be empty).
    pub body: String,
    /// The request URL.
    pub url: String,
}

/// A CloudAPI reply of any status (see [`Client::cloudapi_call`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloudApiReply {
    /// HTTP status.
    pub status: u16,
    /// Body text (JSON, or empty).
    pub body: String,
    /// Every `Link` header value.
    pub links: Vec<String>,
}

impl CloudApiReply {
    /// True for a 2xx status.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// A reply of any status (see [`Client::exchange`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Body text (may be empty).
    pub body: String,
    /// The request URL.
    pub url: String,
}

impl Reply {
    /// True for a 2xx status.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

impl Answer {
    /// The body as an XML element; `None` for an empty body.
    pub fn element(&self) -> Result<Option<Element>, VcdError> {
        if self.body.trim().is_empty() {
            return Ok(None);
        }
        xml::parse(&self.body)
            .map(Some)
            .map_err(|e| VcdError::parse(&self.url, e))
    }

    /// The body as the typed document `T` (from `cse_core::vcd`).
    pub fn parse<T: VcdDocument>(&self) -> Result<T, VcdError> {
        T::from_xml(&self.body).map_err(|source| VcdError::Document {
            url: self.url.clone(),
            source,
        })
    }

    /// The body as an XML element; an error when it is empty.
    pub fn document(&self) -> Result<Element, VcdError> {
        self.element()?.ok_or_else(|| VcdError::Parse {
            url: self.url.clone(),
            reason: "the answer has no body".to_owned(),
        })
    }
}

impl Client {
    /// The session's user, org, roles and links.
    pub fn session(&self) -> SessionInfo {
        self.inner.auth.read().session.clone()
    }

    /// The current session token with its kind (for handing on or storing; never
    /// log it).
    pub fn token(&self) -> SessionToken {
        self.inner.auth.read().token.clone()
    }

    /// How the session was opened (legacy, CloudAPI, API token, or from a token).
    pub fn login_kind(&self) -> LoginKind {
        self.inner.login_kind
    }

    /// `<site root>/cloudapi/1.0.0/<path>`.
    pub fn cloudapi_url(&self, path: &str) -> String {
        self.inner.settings.cloudapi_url(path)
    }

    /// How many times this session logged in again after a 401.
    pub fn renewals(&self) -> u64 {
        self.inner.auth.read().generation
    }

    /// The API version this session speaks.
    pub fn api_version(&self) -> &ApiVersion {
        &self.inner.version
    }

    /// The endpoint settings.
    pub fn settings(&self) -> &VcdSettings {
        &self.inner.settings
    }

    /// `<api root>/<path>`, e.g. `api_url("admin/extension")`.
    pub fn api_url(&self, path: &str) -> String {
        self.inner.settings.api_url(path)
    }

    /// True when the session belongs to the system organization.
    pub fn is_sysadmin(&self) -> bool {
        self.inner.auth.read().session.is_sysadmin()
    }

    /// `GET href` → the parsed document.
    pub async fn get(&self, href: &str) -> Result<Element, VcdError> {
        self.request(Method::GET, href, None).await?.document()
    }

    /// `GET href` → the typed document `T`.
    pub async fn get_doc<T: VcdDocument>(&self, href: &str) -> Result<T, VcdError> {
        self.get_answer(href).await?.parse()
    }

    /// `POST href` with the typed document `doc` (its media type as `Content-Type`).
    pub async fn post_doc<T: VcdDocument>(&self, href: &str, doc: &T) -> Result<Answer, VcdError> {
        let body = to_xml(href, doc)?;
        self.post(href, T::MEDIA_TYPE, &body).await
    }

    /// `PUT href` with the typed document `doc`.
    pub async fn put_doc<T: VcdDocument>(&self, href: &str, doc: &T) -> Result<Answer, VcdError> {
        let body = to_xml(href, doc)?;
        self.put(href, T::MEDIA_TYPE, &body).await
    }

    /// `PUT href` with `doc`, sent once even when vCD answers `BUSY_ENTITY`
    /// (the error is returned): for a write whose worth depends on when it
    /// lands, such as a lease claim, where someone else's write on the
    /// entity means backing off rather than writing later.
    pub async fn put_doc_once<T: VcdDocument>(
        &self,
        href: &str,
        doc: &T,
    ) -> Result<Answer, VcdError> {
        let body = to_xml(href, doc)?;
        let accept = self.inner.version.accept_xml();
        self.request_once(Method::PUT, href, &accept, Some((T::MEDIA_TYPE, &body)))
            .await
    }

    /// `GET href` → the raw answer.
    pub async fn get_answer(&self, href: &str) -> Result<Answer, VcdError> {
        self.request(Method::GET, href, None).await
    }

    /// `POST href` with an XML body of `media_type` (not retried once sent).
    pub async fn post(&self, href: &str, media_type: &str, body: &str) -> Result<Answer, VcdError> {
        self.request(Method::POST, href, Some((media_type, body)))
            .await
    }

    /// `POST href` without a body (actions such as `power/action/powerOn`).
    pub async fn post_empty(&self, href: &str) -> Result<Answer, VcdError> {
        self.request(Method::POST, href, None).await
    }

    /// `PUT href` with an XML body of `media_type`.
    pub async fn put(&self, href: &str, media_type: &str, body: &str) -> Result<Answer, VcdError> {
        self.request(Method::PUT, href, Some((media_type, body)))
            .await
    }

    /// `DELETE href`.
    pub async fn delete(&self, href: &str) -> Result<Answer, VcdError> {
        self.request(Method::DELETE, href, None).await
    }

    /// Waits for the task an answer stands for (a `Task`, or an entity's first
    /// `Tasks/Task`) until the configured task time-out. `Ok(None)` when the answer
    /// carries no task.
    pub async fn wait_for_answer(&self, answer: &Answer) -> Result<Option<TaskInfo>, VcdError> {
        let Some(root) = answer.element()? else {
            return Ok(None);
        };
        match TaskInfo::from_answer(&answer.url, &root)? {
            Some(task) => self.wait_for_task(task).await.map(Some),
            None => Ok(None),
        }
    }

    /// Waits for `task` until the configured task time-out.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use cse_core::config::Secret;
    /// use cse_core::vcd::task::{TaskOwner, TaskUser};
    /// use cse_core::vcd::{Org, Task, TaskStatus as DocStatus};
    /// use cse_vcd::vcd::{ApiVersion, Credentials, TaskInfo, TaskStatus, VcdConnector, VcdSettings};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # cse_bus::tls::install_crypto_provider();
    /// # let sim = vcd_sim::SimBuilder::new().start_vcd().await?;
    /// # let api_url = format!("{}/api", sim.base_url);
    /// # let sysadmin = sim.info().sysadmin;
    /// let mut settings = VcdSettings::new(&api_url, ApiVersion::parse("29.0").ok_or("bad version")?)?;
    /// settings.task_poll_interval = Duration::from_millis(20);
    /// let vcd = VcdConnector::new(settings)?;
    /// let login = |user: &str, org: &str, password: &str| Credentials {
    ///     user: user.into(),
    ///     org: org.into(),
    ///     password: Secret::new(password),
    /// };
    /// let admin = vcd.login(login(&sysadmin.user, "System", &sysadmin.password)).await?;
    /// let alice = vcd.login(login("alice", "acme", "alice-pw")).await?;
    ///
    /// // An extension's task in alice's org, as the CSE server writes one.
    /// let org: Org = admin.get_doc(alice.session().org_href()?).await?;
    /// let task = Task::cse_task(
    ///     DocStatus::Running,
    ///     "Creating cluster c1(1234)",
    ///     "create_cluster",
    ///     TaskOwner { href: "urn:cse:cluster:1234".into(), ..TaskOwner::default() },
    ///     TaskUser { href: alice.session().user_id, ..TaskUser::default() },
    ///     None,
    /// );
    /// let answer = admin.post_doc(org.tasks_list_href()?, &task).await?;
    /// let running = TaskInfo::parse(&answer.url, &answer.body)?;
    ///
    /// // The extension finishes it while alice waits.
    /// let mut done: Task = admin.get_doc(&running.href).await?;
    /// done.status = DocStatus::Success;
    /// let (finished, _) = tokio::join!(alice.wait_for_task(running.clone()), async {
    ///     tokio::time::sleep(Duration::from_millis(50)).await;
    ///     admin.put_doc(&running.href, &done).await
    /// });
    /// assert_eq!(finished?.status, TaskStatus::Success);
    /// # sim.shutdown().await;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn wait_for_task(&self, task: TaskInfo) -> Result<TaskInfo, VcdError> {
        let deadline = Instant::now() + self.inner.settings.task_timeout;
        self.wait_for_task_until(task, deadline).await
    }

    /// Waits for `task` until `deadline`, polling at the configured interval.
    pub async fn wait_for_task_until(
        &self,
        task: TaskInfo,
        deadline: Instant,
    ) -> Result<TaskInfo, VcdError> {
        let interval = self.inner.settings.task_poll_interval;
        wait_until_done(task, interval, deadline, |href| async move {
            let answer = self.get_answer(&href).await?;
            TaskInfo::parse(&answer.url, &answer.body)
        })
        .await
    }

    /// Reads the task at `href` and waits for it.
    pub async fn wait_for_task_href(&self, href: &str) -> Result<TaskInfo, VcdError> {
        let answer = self.get_answer(href).await?;
        let task = TaskInfo::parse(&answer.url, &answer.body)?;
        self.wait_for_task(task).await
    }

    /// Runs a query and returns the records of every page.
    ///
    /// ```
    /// use cse_core::config::Secret;
    /// use cse_vcd::vcd::{ApiVersion, Credentials, Filter, Query, QueryFormat};
    /// use cse_vcd::vcd::{VcdConnector, VcdSettings};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # cse_bus::tls::install_crypto_provider();
    /// # let sim = vcd_sim::SimBuilder::new().start_vcd().await?;
    /// # let api_url = format!("{}/api", sim.base_url);
    /// # let sysadmin = sim.info().sysadmin;
    /// let version = ApiVersion::parse("29.0").ok_or("bad version")?;
    /// let vcd = VcdConnector::new(VcdSettings::new(&api_url, version)?)?;
    /// let admin = vcd
    ///     .login(Credentials {
    ///         user: sysadmin.user,
    ///         org: "System".into(),
    ///         password: Secret::new(sysadmin.password),
    ///     })
    ///     .await?;
    ///
    /// // Every page, two records at a time.
    /// let orgs = admin
    ///     .query(&Query::new("organization", QueryFormat::Records).page_size(2))
    ///     .await?;
    /// let mut names: Vec<&str> = orgs.iter().filter_map(|r| r.name()).collect();
    /// names.sort_unstable();
    /// assert_eq!(names, ["System", "acme", "beta"]);
    ///
    /// let acme = admin
    ///     .query(&Query::new("organization", QueryFormat::Records).filter(Filter::eq("name", "acme")))
    ///     .await?;
    /// assert_eq!(acme.len(), 1);
    /// # sim.shutdown().await;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn query(&self, query: &Query) -> Result<Vec<QueryRecord>, VcdError> {
        let first = query
            .url(&self.inner.settings.api_root, &self.inner.version)
            .to_string();
        self.records_from(first, &query.attributes).await
    }

    /// The records of every page from `first` on (`Link rel="nextPage"`), at
    /// most [`MAX_QUERY_PAGES`] pages, keeping the record attributes named in
    /// `attributes` (all when empty).
    async fn records_from(
        &self,
        first: String,
        attributes: &[String],
    ) -> Result<Vec<QueryRecord>, VcdError> {
        let mut records = Vec::new();
        let mut next = Some(first.clone());
        let mut pages = 0;
        while let Some(url) = next {
            if pages == MAX_QUERY_PAGES {
                return Err(VcdError::TooManyPages {
                    url: first,
                    max_pages: MAX_QUERY_PAGES,
                });
            }
            let page = self.query_page_keeping(&url, attributes).await?;
            pages += 1;
            records.extend(page.records);
            next = page.next_page.filter(|n| *n != url);
        }
        Ok(records)
    }

    /// The VDCs an `Org` document leads to, as `rel=down` VDC [`Link`]s with their
    /// names. Below API 33.0 the org links each VDC; from 33.0 vCD links a `records`
    /// query of the org's VDCs instead (`type=orgVdc`), whose `OrgVdcRecord`s (every
    /// page) are read here.
    pub async fn org_vdc_links(&self, org: &Element) -> Result<Vec<Link>, VcdError> {
        let links = links_of(org);
        let direct: Vec<Link> = links
            .iter()
            .filter(|l| l.rel == "down" && l.media_type.as_deref() == Some(media::VDC))
            .cloned()
            .collect();
        let query = links.iter().find(|l| {
            l.rel == "down"
                && l.media_type.as_deref() == Some(media::RECORDS)
                && (l.name.as_deref() == Some("vdcs")
                    || l.href.to_ascii_lowercase().contains("type=orgvdc"))
        });
        let Some(query) = query.filter(|_| direct.is_empty()) else {
            return Ok(direct);
        };
        let records = self.records_from(query.href.clone(), &[]).await?;
        Ok(records
            .iter()
            .filter_map(|record| {
                Some(Link {
                    rel: "down".to_owned(),
                    href: record.href()?.to_owned(),
                    media_type: Some(media::VDC.to_owned()),
                    name: record.name().map(str::to_owned),
                })
            })
            .collect())
    }

    /// Reads one page of query results.
    pub async fn query_page(&self, url: &str) -> Result<QueryPage, VcdError> {
        self.query_page_keeping(url, &[]).await
    }

    /// Reads one page, keeping the record attributes named in `attributes`
    /// (all when empty); long pages are read off the async workers.
    async fn query_page_keeping(
        &self,
        url: &str,
        attributes: &[String],
    ) -> Result<QueryPage, VcdError> {
        let answer = self.get_answer(url).await?;
        read_query_page(answer, attributes).await
    }

    /// Sends a request to an API vCD fronts for an extension (`/api/cse/...`) and
    /// returns the reply whatever its status: such refusals carry the extension's own
    /// body (JSON), which the caller reads. `accept` is the whole `Accept` value (e.g.
    /// [`ApiVersion::accept_json`]); `body` is `(content type, text)`. Transport
    /// failures and transient statuses are retried as [`VcdSettings::retry`] allows for
    /// the method; a 401 is returned as it is (an extension may answer 401 itself).
    pub async fn exchange(
        &self,
        method: Method,
        href: &str,
        accept: &str,
        body: Option<(&str, &str)>,
    ) -> Result<Reply, VcdError> {
        self.exchange_with_links(method, href, accept, body)
            .await
            .map(|(reply, _)| reply)
    }

    /// [`Client::exchange`], with every `Link` header value of the answer.
    async fn exchange_with_links(
        &self,
        method: Method,
        href: &str,
        accept: &str,
        body: Option<(&str, &str)>,
    ) -> Result<(Reply, Vec<String>), VcdError> {
        let header = self.token().header();
        let (response, slot) = send_retrying(
            &self.inner.transport,
            self.inner.settings.retry,
            &method,
            href,
            accept,
            Some(&header),
            body,
        )
        .await?;
        let status = response.status().as_u16();
        let links: Vec<String> = response
            .headers()
            .get_all("link")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        let text = body::read_text(response, body::MAX_ANSWER_BYTES)
            .await
            .map_err(|error| VcdError::of_body(method.as_str(), href, error));
        drop(slot);
        tracing::debug!(%method, url = href, status, "vCD answered");
        let reply = Reply {
            status,
            body: text?,
            url: href.to_owned(),
        };
        Ok((reply, links))
    }

    /// A CloudAPI JSON call (`/cloudapi/...`: API extensions, tokens) with this
    /// session, at this client's version: the reply whatever its status, with
    /// the `Link` headers vCD sends (an API extension's legacy service). `body`
    /// is JSON text. Transport failures and transient statuses are retried as
    /// [`VcdSettings::retry`] allows for the method.
    pub async fn cloudapi_call(
        &self,
        method: Method,
        url: &str,
        body: Option<&str>,
    ) -> Result<CloudApiReply, VcdError> {
        let accept = self.inner.version.accept_cloudapi();
        let (reply, links) = self
            .exchange_with_links(method, url, &accept, body.map(|b| ("application/json", b)))
            .await?;
        Ok(CloudApiReply {
            status: reply.status,
            body: reply.body,
            links,
        })
    }

    /// Ends the session: `DELETE /api/session` for a legacy token,
    /// `DELETE /cloudapi/1.0.0/sessions/current` for a bearer JWT (vCD 10.6 has no
    /// `DELETE /api/session` at 38.0+). Only for sessions this process opened
    /// itself: a tenant's token is shared with the tenant's own tools and must not
    /// be logged out.
    pub async fn logout(&self) -> Result<(), VcdError> {
        let (url, accept) = match self.token().kind() {
            TokenKind::Legacy => (self.api_url("session"), self.inner.version.accept_xml()),
            TokenKind::Bearer => (
                self.cloudapi_url("sessions/current"),
                self.inner.version.accept_cloudapi(),
            ),
        };
        self.request_once(Method::DELETE, &url, &accept, None)
            .await
            .map(drop)
    }

    /// Sends a request with the retry and renewal rules of this module: a
    /// `BUSY_ENTITY` refusal is sent again after a backoff, whatever the method.
    pub async fn request(
        &self,
        method: Method,
        href: &str,
        body: Option<(&str, &str)>,
    ) -> Result<Answer, VcdError> {
        let busy = self.inner.settings.busy_retry;
        let mut attempt = 1;
        loop {
            let accept = self.inner.version.accept_xml();
            match self.request_once(method.clone(), href, &accept, body).await {
                Err(error) if error.is_busy() && busy.allows_another(attempt) => {
                    tracing::debug!(%method, url = href, attempt, "vCD answered BUSY_ENTITY; retrying");
                    tokio::time::sleep(busy.backoff(attempt)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn request_once(
        &self,
        method: Method,
        href: &str,
        accept: &str,
        body: Option<(&str, &str)>,
    ) -> Result<Answer, VcdError> {
        let mut renewed = false;
        loop {
            let (header, generation) = {
                let auth = self.inner.auth.read();
                (auth.token.header(), auth.generation)
            };
            let (response, slot) = send_retrying(
                &self.inner.transport,
                self.inner.settings.retry,
                &method,
                href,
                accept,
                Some(&header),
                body,
            )
            .await?;
            if response.status() == StatusCode::UNAUTHORIZED
                && !renewed
                && self.inner.secret.is_some()
            {
                renewed = true;
                drain(response).await;
                // The login needs a slot of its own.
                drop(slot);
                self.renew(generation).await?;
                continue;
            }
            let answer = read_answer(method, href, response).await;
            drop(slot);
            return answer;
        }
    }

    /// Logs in again (the same way as the first time) unless another task
    /// already did since `seen_generation`.
    async fn renew(&self, seen_generation: u64) -> Result<(), VcdError> {
        let Some(secret) = &self.inner.secret else {
            return Ok(());
        };
        let _guard = self.inner.renewal.lock().await;
        if self.inner.auth.read().generation != seen_generation {
            return Ok(());
        }
        match secret {
            LoginSecret::Password(c) => {
                tracing::info!(user = %c.user, org = %c.org, "vCD session expired; logging in again");
            }
            LoginSecret::ApiToken(t) => {
                tracing::info!(org = %t.org, "vCD access token expired; exchanging the API token again");
            }
        }
        let opened = open_session(
            &self.inner.transport,
            &self.inner.settings,
            &self.inner.version,
            secret,
        )
        .await?;
        let mut auth = self.inner.auth.write();
        auth.token = opened.token;
        auth.session = opened.session;
        auth.generation += 1;
        Ok(())
    }
}

/// `Accept` of requests that do not depend on a version (`/api/versions`).
const ACCEPT_ANY_XML: &str = "application/*+xml";

fn join_versions(versions: &[ApiVersion]) -> String {
    versions
        .iter()
        .map(ApiVersion::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The versions a `SupportedVersions` document lists (`VersionInfo/Version`).
fn versions_offered(root: &Element) -> Vec<ApiVersion> {
    root.children_named("VersionInfo")
        .filter_map(|info| info.child_text("Version"))
        .filter_map(ApiVersion::parse)
        .collect()
}

fn to_xml<T: VcdDocument>(href: &str, doc: &T) -> Result<String, VcdError> {
    doc.to_xml().map_err(|source| VcdError::Document {
        url: href.to_owned(),
        source,
    })
}

/// Opens a session the way `secret` and `version` call for.
async fn open_session(
    transport: &Transport,
    settings: &VcdSettings,
    version: &ApiVersion,
    secret: &LoginSecret,
) -> Result<Opened, VcdError> {
    let (token, kind) = match secret {
        LoginSecret::Password(credentials) if !version.uses_cloudapi_login() => {
            let (token, session) = legacy_login(transport, settings, version, credentials).await?;
            return Ok(Opened {
                token,
                session,
                kind: LoginKind::Legacy,
            });
        }
        LoginSecret::Password(credentials) => (
            cloudapi_login(transport, settings, version, credentials).await?,
            LoginKind::CloudApi,
        ),
        LoginSecret::ApiToken(api_token) => (
            api_token_login(transport, settings, version, api_token).await?,
            LoginKind::ApiToken,
        ),
    };
    let session = read_session(transport, settings, version, &token).await?;
    Ok(Opened {
        token,
        session,
        kind,
    })
}

/// `GET /api/session` with `token`: the `Session` document of its user.
async fn read_session(
    transport: &Transport,
    settings: &VcdSettings,
    version: &ApiVersion,
    token: &SessionToken,
) -> Result<SessionInfo, VcdError> {
    let url = settings.api_url("session");
    let (response, slot) = send_retrying(
        transport,
        settings.retry,
        &Method::GET,
        &url,
        &version.accept_xml(),
        Some(&token.header()),
        None,
    )
    .await?;
    let answer = read_answer(Method::GET, &url, response).await;
    drop(slot);
    SessionInfo::parse(&url, &answer?.body)
}

/// `POST /api/sessions` (Basic `user@org:password`): a legacy token and the `Session`.
async fn legacy_login(
    transport: &Transport,
    settings: &VcdSettings,
    version: &ApiVersion,
    credentials: &Credentials,
) -> Result<(SessionToken, SessionInfo), VcdError> {
    let url = settings.api_url("sessions");
    let basic = basic_header(credentials);
    let (response, _slot) = send_login_retrying(
        transport,
        settings.retry,
        &url,
        &version.accept_xml(),
        Some(&basic),
        None,
    )
    .await?;
    if response.status() == StatusCode::UNAUTHORIZED {
        let body = body::read_text(response, body::MAX_ANSWER_BYTES)
            .await
            .unwrap_or_default();
        let message = VcdErrorDocument::parse(&body)
            .map(|d| d.message)
            .filter(|m| !m.is_empty());
        return Err(login_refused(url, credentials, message));
    }
    let token = header_secret(&response, AUTH_HEADER);
    let answer = read_answer(Method::POST, &url, response).await?;
    let token = token.ok_or_else(|| VcdError::MissingToken {
        url: url.clone(),
        carrier: "an x-vcloud-authorization header",
    })?;
    let session = SessionInfo::parse(&url, &answer.body)?;
    Ok((SessionToken::Legacy(token), session))
}

/// `POST /cloudapi/1.0.0/sessions` (`/sessions/provider` for the System org) with
/// Basic `user@org:password`: a bearer JWT from `X-VMWARE-VCLOUD-ACCESS-TOKEN`.
async fn cloudapi_login(
    transport: &Transport,
    settings: &VcdSettings,
    version: &ApiVersion,
    credentials: &Credentials,
) -> Result<SessionToken, VcdError> {
    let path = if credentials.org.eq_ignore_ascii_case(SYSTEM_ORG) {
        "sessions/provider"
    } else {
        "sessions"
    };
    let url = settings.cloudapi_url(path);
    let basic = basic_header(credentials);
    let (response, slot) = send_login_retrying(
        transport,
        settings.retry,
        &url,
        &version.accept_cloudapi(),
        Some(&basic),
        None,
    )
    .await?;
    if response.status() == StatusCode::UNAUTHORIZED {
        let body = body::read_text(response, body::MAX_ANSWER_BYTES)
            .await
            .unwrap_or_default();
        drop(slot);
        return Err(login_refused(url, credentials, json_message(&body)));
    }
    let token = header_secret(&response, ACCESS_TOKEN_HEADER);
    let answer = read_json_answer(Method::POST, &url, response).await;
    drop(slot);
    answer?;
    token
        .map(SessionToken::Bearer)
        .ok_or(VcdError::MissingToken {
            url,
            carrier: "an X-VMWARE-VCLOUD-ACCESS-TOKEN header",
        })
}

/// `POST /oauth/tenant/{org}/token` (`/oauth/provider/token` for the System org)
/// with `grant_type=refresh_token&refresh_token=…`: a bearer JWT from
/// `access_token`.
async fn api_token_login(
    transport: &Transport,
    settings: &VcdSettings,
    version: &ApiVersion,
    api_token: &ApiTokenCredentials,
) -> Result<SessionToken, VcdError> {
    let url = token_endpoint(settings, &api_token.org)?;
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "refresh_token")
        .append_pair("refresh_token", api_token.token.expose())
        .finish();
    let (response, slot) = send_login_retrying(
        transport,
        settings.retry,
        &url,
        &version.accept_cloudapi(),
        None,
        Some(("application/x-www-form-urlencoded", &form)),
    )
    .await?;
    let status = response.status();
    if matches!(status.as_u16(), 400 | 401 | 403 | 404) {
        let body = body::read_text(response, body::MAX_ANSWER_BYTES)
            .await
            .unwrap_or_default();
        drop(slot);
        let message = if status == StatusCode::NOT_FOUND {
            "vCD has no OAuth token endpoint (API tokens need vCD 10.3.1 or later)".to_owned()
        } else {
            json_message(&body)
                .unwrap_or_else(|| format!("HTTP {status}: the API token was not accepted"))
        };
        return Err(VcdError::ApiTokenRefused {
            url,
            org: api_token.org.clone(),
            message,
        });
    }
    let answer = read_json_answer(Method::POST, &url, response).await;
    drop(slot);
    let answer = answer?;
    let access_token = serde_json::from_str::<serde_json::Value>(&answer.body)
        .ok()
        .and_then(|doc| {
            doc.get("access_token")
                .and_then(serde_json::Value::as_str)
                .map(Secret::new)
        })
        .filter(|token| !token.is_empty());
    access_token
        .map(SessionToken::Bearer)
        .ok_or(VcdError::MissingToken {
            url,
            carrier: "an access_token field",
        })
}

/// The OAuth token endpoint of `org` (the org name is one escaped path segment).
fn token_endpoint(settings: &VcdSettings, org: &str) -> Result<String, VcdError> {
    if org.eq_ignore_ascii_case(SYSTEM_ORG) {
        return Ok(settings.site_url("oauth/provider/token"));
    }
    let base = settings.site_url("oauth/tenant/");
    let mut url = Url::parse(&base).map_err(|e| VcdError::InvalidUrl {
        url: base.clone(),
        reason: e.to_string(),
    })?;
    url.path_segments_mut()
        .map_err(|()| VcdError::InvalidUrl {
            url: base.clone(),
            reason: "the URL cannot have a path".to_owned(),
        })?
        .pop_if_empty()
        .extend([org, "token"]);
    Ok(url.to_string())
}

fn basic_header(credentials: &Credentials) -> AuthHeader {
    AuthHeader {
        name: AUTHORIZATION_HEADER,
        value: credentials.basic_authorization(),
    }
}

fn header_secret(response: &reqwest::Response, name: &str) -> Option<Secret> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(Secret::new)
}

fn login_refused(url: String, credentials: &Credentials, message: Option<String>) -> VcdError {
    VcdError::LoginRefused {
        url,
        user: credentials.user.clone(),
        org: credentials.org.clone(),
        message: message
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "invalid user name, organization or password".to_owned()),
    }
}

/// The `message` of a CloudAPI / OAuth JSON error body.
fn json_message(body: &str) -> Option<String> {
    let doc: serde_json::Value = serde_json::from_str(body).ok()?;
    doc.get("message")
        .or_else(|| doc.get("error_description"))
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
}

/// Like [`read_answer`] for CloudAPI answers: an error's text comes from its JSON
/// `message` and `minorErrorCode`.
async fn read_json_answer(
    method: Method,
    url: &str,
    response: reqwest::Response,
) -> Result<Answer, VcdError> {
    let status = response.status();
    if status.is_success() || status == StatusCode::UNAUTHORIZED {
        return read_answer(method, url, response).await;
    }
    let body = body::read_text(response, body::MAX_ANSWER_BYTES)
        .await
        .unwrap_or_default();
    let doc: Option<serde_json::Value> = serde_json::from_str(&body).ok();
    let field = |name: &str| {
        doc.as_ref()
            .and_then(|d| d.get(name))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    Err(VcdError::Api {
        method: method.to_string(),
        url: url.to_owned(),
        status: status.as_u16(),
        minor_error_code: field("minorErrorCode"),
        message: field("message").unwrap_or_default(),
        request_id: None,
    })
}

/// Sends a request, retrying transport failures and transient statuses as the
/// policy allows for its method. Returns the last response, whatever its status,
/// with the request slot it holds: drop the slot once the body is read. No slot
/// is held while waiting between attempts.
async fn send_retrying(
    transport: &Transport,
    retry: RetryPolicy,
    method: &Method,
    url: &str,
    accept: &str,
    auth: Option<&AuthHeader>,
    body: Option<(&str, &str)>,
) -> Result<(reqwest::Response, Option<OwnedSemaphorePermit>), VcdError> {
    send_with_retries(transport, retry, method, method, url, accept, auth, body).await
}

/// [`send_retrying`] for a login (`POST` of a session or token): sending it again
/// only opens another session, so it is retried like a `GET`. A renewal whose login
/// met one transient 5xx would otherwise fail the operation that needed it, and
/// leave a task its server could no longer end.
async fn send_login_retrying(
    transport: &Transport,
    retry: RetryPolicy,
    url: &str,
    accept: &str,
    auth: Option<&AuthHeader>,
    body: Option<(&str, &str)>,
) -> Result<(reqwest::Response, Option<OwnedSemaphorePermit>), VcdError> {
    send_with_retries(
        transport,
        retry,
        &Method::POST,
        &Method::GET,
        url,
        accept,
        auth,
        body,
    )
    .await
}

/// Sends `method`, retrying as the rules for `retry_as` allow.
#[allow(clippy::too_many_arguments)]
async fn send_with_retries(
    transport: &Transport,
    retry: RetryPolicy,
    method: &Method,
    retry_as: &Method,
    url: &str,
    accept: &str,
    auth: Option<&AuthHeader>,
    body: Option<(&str, &str)>,
) -> Result<(reqwest::Response, Option<OwnedSemaphorePermit>), VcdError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        // The slots are never closed, so this always yields one.
        let slot = transport.slots.clone().acquire_owned().await.ok();
        match send_once(&transport.http, method, url, accept, auth, body).await {
            Ok(response) => {
                let status = response.status().as_u16();
                if status_is_retryable(retry_as, status) && retry.allows_another(attempt) {
                    tracing::debug!(%method, url, attempt, status, "vCD answered a transient error; retrying");
                    drain(response).await;
                    drop(slot);
                    tokio::time::sleep(retry.backoff(attempt)).await;
                    continue;
                }
                return Ok((response, slot));
            }
            Err(VcdError::Transport {
                source,
                method: m,
                url: u,
            }) => {
                let failure = TransportFailure::of(&source);
                drop(slot);
                if transport_is_retryable(retry_as, failure) && retry.allows_another(attempt) {
                    tracing::debug!(%method, url, attempt, "vCD request failed; retrying: {source}");
                    tokio::time::sleep(retry.backoff(attempt)).await;
                    continue;
                }
                return Err(VcdError::Transport {
                    method: m,
                    url: u,
                    source,
                });
            }
            Err(error) => return Err(error),
        }
    }
}

async fn send_once(
    http: &reqwest::Client,
    method: &Method,
    url: &str,
    accept: &str,
    auth: Option<&AuthHeader>,
    body: Option<(&str, &str)>,
) -> Result<reqwest::Response, VcdError> {
    let mut request = http
        .request(method.clone(), url)
        .header(reqwest::header::ACCEPT, accept);
    if let Some(auth) = auth {
        request = request.header(auth.name, auth.value.expose());
    }
    if let Some((media_type, text)) = body {
        request = request
            .header(reqwest::header::CONTENT_TYPE, media_type)
            .body(text.to_owned());
    }
    request.send().await.map_err(|source| VcdError::Transport {
        method: method.to_string(),
        url: url.to_owned(),
        source: source.without_url(),
    })
}

/// Pages longer than this are read on the blocking pool, not on an async
/// worker: a full page of records with metadata takes about a millisecond.
const INLINE_PAGE_BYTES: usize = 32 * 1024;

/// Reads a query page (see [`QueryPage::parse_keeping`]), off the async
/// workers when it is long.
async fn read_query_page(answer: Answer, attributes: &[String]) -> Result<QueryPage, VcdError> {
    if answer.body.len() <= INLINE_PAGE_BYTES {
        return QueryPage::parse_keeping(&answer.url, &answer.body, attributes);
    }
    let attributes = attributes.to_vec();
    let url = answer.url.clone();
    tokio::task::spawn_blocking(move || {
        QueryPage::parse_keeping(&answer.url, &answer.body, &attributes)
    })
    .await
    .unwrap_or_else(|e| {
        Err(VcdError::Parse {
            url,
            reason: format!("the page reader stopped: {e}"),
        })
    })
}

async fn read_answer(
    method: Method,
    url: &str,
    response: reqwest::Response,
) -> Result<Answer, VcdError> {
    let status = response.status();
    let request_id = response
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(Box::from);
    let body = body::read_text(response, body::MAX_ANSWER_BYTES)
        .await
        .map_err(|error| VcdError::of_body(method.as_str(), url, error))?;
    tracing::debug!(%method, url, status = status.as_u16(), "vCD answered");
    if status.is_success() {
        return Ok(Answer {
            status: status.as_u16(),
            body,
            url: url.to_owned(),
        });
    }
    let document = VcdErrorDocument::parse(&body).unwrap_or_default();
    if status == StatusCode::UNAUTHORIZED {
        return Err(VcdError::Unauthorized {
            method: method.to_string(),
            url: url.to_owned(),
            minor_error_code: document.minor_error_code,
        });
    }
    Err(VcdError::Api {
        method: method.to_string(),
        url: url.to_owned(),
        status: status.as_u16(),
        minor_error_code: document.minor_error_code,
        message: document.message,
        request_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_of(records: usize) -> String {
        let record = r#"<VAppRecord id="urn:vcloud:vapp:1" name="c" vdc="urn:vcloud:vdc:9" ownerName="alice"><Metadata><MetadataEntry><Key>cse.cluster.id</Key><TypedValue><Value>abc</Value></TypedValue></MetadataEntry></Metadata></VAppRecord>"#;
        format!(
            r#"<QueryResultRecords xmlns="http://www.vmware.com/vcloud/v1.5" total="{records}">{}</QueryResultRecords>"#,
            record.repeat(records)
        )
    }

    #[tokio::test]
    async fn long_and_short_pages_read_alike_and_bad_long_pages_are_errors() {
        let keep = ["name".to_owned(), "id".to_owned()];
        for records in [1, 400] {
            let body = page_of(records);
            assert_eq!(body.len() > INLINE_PAGE_BYTES, records == 400);
            let answer = Answer {
                status: 200,
                body: body.clone(),
                url: "https://vcd/api/query".to_owned(),
            };
            let page = read_query_page(answer, &keep).await.unwrap();
            assert_eq!(
                page,
                QueryPage::parse_keeping("https://vcd/api/query", &body, &keep).unwrap()
            );
            assert_eq!(page.records.len(), records);
            assert_eq!(page.records[0].attributes.len(), 2);
            assert_eq!(page.records[0].metadata["cse.cluster.id"], "abc");
        }
        let truncated = Answer {
            status: 200,
            body: page_of(400)[..40_000].to_owned(),
            url: "https://vcd/api/query".to_owned(),
        };
        let error = read_query_page(truncated, &keep)
            .await
            .unwrap_err()
            .to_string();
        assert!(error.contains("https://vcd/api/query"), "{error}");
    }

    #[test]
    fn settings_normalise_the_api_root() {
        let v = ApiVersion::parse("29.0").unwrap();
        let settings = VcdSettings::new("https://vcd.example.com/api", v.clone()).unwrap();
        assert_eq!(
            settings.api_url("session"),
            "https://vcd.example.com/api/session"
        );
        assert_eq!(
            settings.api_url("/admin/extension"),
            "https://vcd.example.com/api/admin/extension"
        );
        assert_eq!(
            settings.cloudapi_url("sessions/provider"),
            "https://vcd.example.com/cloudapi/1.0.0/sessions/provider"
        );
        assert_eq!(
            token_endpoint(&settings, "SYSTEM").unwrap(),
            "https://vcd.example.com/oauth/provider/token"
        );
        assert_eq!(
            token_endpoint(&settings, "my org/x").unwrap(),
            "https://vcd.example.com/oauth/tenant/my%20org%2Fx/token"
        );
        let proxied = VcdSettings::new("https://proxy.example.com/vcd/api", v.clone()).unwrap();
        assert_eq!(
            proxied.cloudapi_url("/sessions"),
            "https://proxy.example.com/vcd/cloudapi/1.0.0/sessions"
        );
        assert!(VcdSettings::new("ftp://x/api", v.clone()).is_err());
        assert!(VcdSettings::new("not a url", v).is_err());
    }

    #[test]
    fn settings_from_the_sample_config() {
        let mut config = cse_core::config::sample_model();
        config.vcd.host = "vcd.example.com".into();
        config.vcd.port = 8443;
        config.vcd.verify = false;
        config.timeouts = config.timeouts.scaled_down(1000);
        let settings = VcdSettings::from_config(&config).unwrap();
        assert_eq!(
            settings.api_url("session"),
            "https://vcd.example.com:8443/api/session"
        );
        assert_eq!(
            VersionChoice::parse(&config.vcd.api_version),
            Some(settings.version.clone())
        );
        assert!(!settings.tls.verify);
        assert_eq!(settings.task_timeout, config.timeouts.vcd_task.duration());
        assert_eq!(
            settings.task_poll_interval,
            config.timeouts.vcd_task_poll_interval.duration()
        );
        assert_eq!(
            settings.http.connect,
            config.timeouts.http_connect.duration()
        );

        config.vcd.api_version = "auto".into();
        let settings = VcdSettings::from_config(&config).unwrap();
        assert_eq!(settings.version, VersionChoice::Negotiate);

        config.vcd.api_version = "latest".into();
        let err = VcdSettings::from_config(&config).unwrap_err();
        assert!(err.to_string().contains("api_version 'latest'"), "{err}");
    }

    #[test]
    fn answers_parse_their_body() {
        let answer = Answer {
            status: 200,
            body: r#"<Task href="t" status="success"/>"#.into(),
            url: "u".into(),
        };
        assert_eq!(answer.document().unwrap().name, "Task");
        let empty = Answer {
            status: 204,
            body: String::new(),
            url: "u".into(),
        };
        assert_eq!(empty.element().unwrap(), None);
        assert!(empty.document().is_err());
    }
}
