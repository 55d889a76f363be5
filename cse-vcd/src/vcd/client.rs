//! The vCD REST client: one [`VcdConnector`] per vCD endpoint (a pooled HTTP
//! client and the settings), and [`Client`] sessions made from it, either by
//! logging in (the system administrator) or by re-hydrating a tenant's forwarded
//! `x-vcloud-authorization` token at the version of the tenant's `Accept` header.
//!
//! Every session of a connector shares its HTTP pool and its request slots: at
//! most `vcd.max_concurrent_requests` requests are open to vCD at once (a
//! request holds its slot until its body is read); the others wait for a slot
//! before they are sent, so their time-outs start only once they are. The
//! pool keeps at most that many idle connections, so the connections open to
//! vCD stay bounded however many operations and tenants are active.
//!
//! Every request sends `Accept: application/*+xml;version=<v>` and the session
//! token; idempotent requests are retried with backoff; a 401 on a session that
//! was opened with credentials logs in again once and repeats the request.

use std::sync::Arc;
use std::time::Duration;

use cse_core::config::{Config, Secret};
use cse_core::vcd::VcdDocument;
use parking_lot::RwLock;
use reqwest::{Method, StatusCode};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use url::Url;

use super::error::{VcdError, VcdErrorDocument};
use super::http::{HttpTimeouts, PoolLimits, TlsOptions, build_http_client_as};
use super::query::{Query, QueryPage, QueryRecord};
use super::retry::{RetryPolicy, TransportFailure, status_is_retryable, transport_is_retryable};
use super::session::{AUTH_HEADER, Credentials, REQUEST_ID_HEADER, SYSTEM_ORG, SessionInfo};
use super::tasks::{TaskInfo, wait_until_done};
use super::version::{ApiVersion, highest_common_version};
use super::xml::{self, Element};

/// Most pages a single query may return before the client stops (a guard against
/// a server whose `nextPage` never ends).
pub const MAX_QUERY_PAGES: usize = 10_000;

/// Settings of one vCD endpoint.
#[derive(Clone, Debug)]
pub struct VcdSettings {
    /// API root, `https://host[:port]/api`.
    pub api_root: Url,
    /// Version for sessions opened with [`VcdConnector::login`] (the config's `vcd.api_version`).
    pub default_version: ApiVersion,
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
            ApiVersion::parse(&config.vcd.api_version).ok_or_else(|| VcdError::InvalidUrl {
                url: api_url.clone(),
                reason: format!(
                    "api_version '{}' is not of the form NN.N",
                    config.vcd.api_version
                ),
            })?;
        let mut settings = Self::new(&api_url, version)?;
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
            default_version,
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
}

/// A vCD endpoint: its settings, one pooled HTTP client and the request slots
/// its sessions share. Cheap to clone (clones share pool and slots).
#[derive(Clone, Debug)]
pub struct VcdConnector {
    transport: Transport,
    settings: Arc<VcdSettings>,
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

    /// `POST /api/sessions` with user, org and password at the default version. The
    /// session logs in again by itself when vCD later answers 401.
    pub async fn login(&self, credentials: Credentials) -> Result<Client, VcdError> {
        let version = self.settings.default_version.clone();
        self.login_at(credentials, version).await
    }

    /// `POST /api/sessions` at `version` (one negotiated with [`Self::negotiate`], or
    /// chosen by the user). The token to store for later runs is [`Client::token`].
    ///
    /// ```
    /// use cse_core::config::Secret;
    /// use cse_vcd::vcd::{ApiVersion, Credentials, VcdConnector, VcdSettings};
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
        credentials: Credentials,
        version: ApiVersion,
    ) -> Result<Client, VcdError> {
        let (token, session) =
            login(&self.transport, &self.settings, &version, &credentials).await?;
        Ok(self.client(version, token, session, Some(credentials)))
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

    /// Logs in as the configured system administrator (org `System`).
    pub async fn login_sysadmin(&self, config: &Config) -> Result<Client, VcdError> {
        self.login(Credentials {
            user: config.vcd.username.clone(),
            org: SYSTEM_ORG.to_owned(),
            password: config.vcd.password.clone(),
        })
        .await
    }

    /// Re-hydrates a tenant's session from its forwarded `x-vcloud-authorization`
    /// token (`GET /api/session`) at `version` (from the tenant's `Accept`). Such a
    /// session cannot be renewed: a later 401 is returned as [`VcdError::Unauthorized`].
    pub async fn rehydrate(&self, token: Secret, version: ApiVersion) -> Result<Client, VcdError> {
        let url = self.settings.api_url("session");
        let (response, slot) = send_retrying(
            &self.transport,
            self.settings.retry,
            &Method::GET,
            &url,
            &version.accept_xml(),
            Some(&token),
            None,
            None,
        )
        .await?;
        let answer = read_answer(Method::GET, &url, response).await;
        drop(slot);
        let answer = answer?;
        let session = SessionInfo::parse(&url, &answer.body)?;
        Ok(self.client(version, token, session, None))
    }

    /// A session from a token stored by an earlier run (a tenant's saved login), without
    /// a request: the first call tells whether vCD still accepts it
    /// ([`VcdError::Unauthorized`] when not). Its [`Client::session`] is empty, since the
    /// `Session` document was not read; use [`Self::rehydrate`] when it is needed. Such
    /// a session cannot be renewed.
    pub fn resume(&self, token: Secret, version: ApiVersion) -> Client {
        self.client(version, token, SessionInfo::default(), None)
    }

    fn client(
        &self,
        version: ApiVersion,
        token: Secret,
        session: SessionInfo,
        credentials: Option<Credentials>,
    ) -> Client {
        Client {
            inner: Arc::new(Inner {
                transport: self.transport.clone(),
                settings: self.settings.clone(),
                version,
                auth: RwLock::new(Auth {
                    token,
                    session,
                    generation: 0,
                }),
                credentials,
                renewal: tokio::sync::Mutex::new(()),
            }),
        }
    }
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
    credentials: Option<Credentials>,
    renewal: tokio::sync::Mutex<()>,
}

#[derive(Debug)]
struct Auth {
    token: Secret,
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

    /// The current session token (for handing on; never log it).
    pub fn token(&self) -> Secret {
        self.inner.auth.read().token.clone()
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
        self.request_once(Method::PUT, href, Some((T::MEDIA_TYPE, &body)))
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
            let page = self.query_page(&url).await?;
            pages += 1;
            records.extend(page.records);
            next = page.next_page.filter(|n| *n != url);
        }
        Ok(records)
    }

    /// Reads one page of query results.
    pub async fn query_page(&self, url: &str) -> Result<QueryPage, VcdError> {
        let answer = self.get_answer(url).await?;
        QueryPage::from_element(&answer.url, &answer.document()?)
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
        let token = self.token();
        let (response, slot) = send_retrying(
            &self.inner.transport,
            self.inner.settings.retry,
            &method,
            href,
            accept,
            Some(&token),
            None,
            body,
        )
        .await?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|source| VcdError::Transport {
            method: method.to_string(),
            url: href.to_owned(),
            source: source.without_url(),
        });
        drop(slot);
        tracing::debug!(%method, url = href, status, "vCD answered");
        Ok(Reply {
            status,
            body: text?,
            url: href.to_owned(),
        })
    }

    /// `DELETE /api/session`. Only for sessions this server opened itself: a tenant's
    /// token is shared with the tenant's own tools and must not be logged out.
    pub async fn logout(&self) -> Result<(), VcdError> {
        let url = self.api_url("session");
        self.request(Method::DELETE, &url, None).await.map(drop)
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
            match self.request_once(method.clone(), href, body).await {
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
        body: Option<(&str, &str)>,
    ) -> Result<Answer, VcdError> {
        let mut renewed = false;
        loop {
            let (token, generation) = {
                let auth = self.inner.auth.read();
                (auth.token.clone(), auth.generation)
            };
            let (response, slot) = send_retrying(
                &self.inner.transport,
                self.inner.settings.retry,
                &method,
                href,
                &self.inner.version.accept_xml(),
                Some(&token),
                None,
                body,
            )
            .await?;
            if response.status() == StatusCode::UNAUTHORIZED
                && !renewed
                && self.inner.credentials.is_some()
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

    /// Logs in again unless another task already did since `seen_generation`.
    async fn renew(&self, seen_generation: u64) -> Result<(), VcdError> {
        let Some(credentials) = &self.inner.credentials else {
            return Ok(());
        };
        let _guard = self.inner.renewal.lock().await;
        if self.inner.auth.read().generation != seen_generation {
            return Ok(());
        }
        tracing::info!(user = %credentials.user, org = %credentials.org, "vCD session expired; logging in again");
        let (token, session) = login(
            &self.inner.transport,
            &self.inner.settings,
            &self.inner.version,
            credentials,
        )
        .await?;
        let mut auth = self.inner.auth.write();
        auth.token = token;
        auth.session = session;
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

async fn login(
    transport: &Transport,
    settings: &VcdSettings,
    version: &ApiVersion,
    credentials: &Credentials,
) -> Result<(Secret, SessionInfo), VcdError> {
    let url = settings.api_url("sessions");
    let basic = credentials.basic_authorization();
    let (response, _slot) = send_retrying(
        transport,
        settings.retry,
        &Method::POST,
        &url,
        &version.accept_xml(),
        None,
        Some(&basic),
        None,
    )
    .await?;
    if response.status() == StatusCode::UNAUTHORIZED {
        let body = response.text().await.unwrap_or_default();
        let message = VcdErrorDocument::parse(&body)
            .map(|d| d.message)
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "invalid user name, organization or password".to_owned());
        return Err(VcdError::LoginRefused {
            url,
            user: credentials.user.clone(),
            org: credentials.org.clone(),
            message,
        });
    }
    let token = response
        .headers()
        .get(AUTH_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(Secret::new);
    let answer = read_answer(Method::POST, &url, response).await?;
    let token = token.ok_or_else(|| VcdError::MissingToken { url: url.clone() })?;
    let session = SessionInfo::parse(&url, &answer.body)?;
    Ok((token, session))
}

/// Sends a request, retrying transport failures and transient statuses as the
/// policy allows for its method. Returns the last response, whatever its status,
/// with the request slot it holds: drop the slot once the body is read. No slot
/// is held while waiting between attempts.
#[allow(clippy::too_many_arguments)]
async fn send_retrying(
    transport: &Transport,
    retry: RetryPolicy,
    method: &Method,
    url: &str,
    accept: &str,
    token: Option<&Secret>,
    authorization: Option<&Secret>,
    body: Option<(&str, &str)>,
) -> Result<(reqwest::Response, Option<OwnedSemaphorePermit>), VcdError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        // The slots are never closed, so this always yields one.
        let slot = transport.slots.clone().acquire_owned().await.ok();
        match send_once(
            &transport.http,
            method,
            url,
            accept,
            token,
            authorization,
            body,
        )
        .await
        {
            Ok(response) => {
                let status = response.status().as_u16();
                if status_is_retryable(method, status) && retry.allows_another(attempt) {
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
                if transport_is_retryable(method, failure) && retry.allows_another(attempt) {
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

/// Reads and drops a body nobody needs, so its connection goes back to the pool.
async fn drain(response: reqwest::Response) {
    let _ = response.bytes().await;
}

async fn send_once(
    http: &reqwest::Client,
    method: &Method,
    url: &str,
    accept: &str,
    token: Option<&Secret>,
    authorization: Option<&Secret>,
    body: Option<(&str, &str)>,
) -> Result<reqwest::Response, VcdError> {
    let mut request = http
        .request(method.clone(), url)
        .header(reqwest::header::ACCEPT, accept);
    if let Some(token) = token {
        request = request.header(AUTH_HEADER, token.expose());
    }
    if let Some(authorization) = authorization {
        request = request.header(reqwest::header::AUTHORIZATION, authorization.expose());
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
    let body = response
        .text()
        .await
        .map_err(|source| VcdError::Transport {
            method: method.to_string(),
            url: url.to_owned(),
            source: source.without_url(),
        })?;
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
        assert_eq!(settings.default_version.as_str(), config.vcd.api_version);
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
