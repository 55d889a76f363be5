//! What scenario steps send to vCD, exactly as a tenant's tools would: log in
//! at `/api/sessions`, call `/api/cse/...` (which vCD forwards to the CSE
//! server), and read vCD tasks until they end. Statuses and bodies come back
//! as they are so steps can check refusals as well as successes.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use cse_core::config::Secret;
use cse_vcd::vcd::{
    Client, Credentials, HttpTimeouts, RetryPolicy, SessionToken, TaskInfo, TlsOptions,
    VcdConnector, VcdSettings, VersionChoice,
};
use serde_json::Value;
use tokio::sync::Mutex;

use crate::format::Tenant;

/// The lowest API version the runner speaks (CSE 1.2.x's); it logs in at the
/// highest one both vCD and the shared client speak (29.0 to 39.0), so a vCD
/// 10.x profile gets a CloudAPI session and a bearer token.
pub const API_VERSION: &str = "29.0";
/// Requests the runner may have open to vCD at once (scale scenarios send many in
/// parallel; a step should never wait for the runner's own slots).
const MAX_CONCURRENT_REQUESTS: usize = 256;
/// Longest time one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Why a request could not be made or understood.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// vCD could not be reached, or the client could not be set up.
    #[error("{url}: {message}")]
    Transport {
        /// The URL (or base URL) concerned.
        url: String,
        /// What went wrong, from the HTTP client.
        message: String,
    },
    /// `POST /api/sessions` failed (wrong password, unknown org, vCD down).
    #[error("login as {who} failed: {detail}")]
    Login {
        /// `user@org`.
        who: String,
        /// vCD's or the client's reason.
        detail: String,
    },
    /// vCD answered with something the runner cannot read (e.g. no task in the reply).
    #[error("{url}: unexpected reply: {detail}")]
    Unexpected {
        /// The URL that was called.
        url: String,
        /// What was wrong with the reply.
        detail: String,
    },
    /// A followed task was still not terminal when the step's limit passed.
    #[error("task {href} did not end within {within:?} (last status: {status})")]
    TaskTimeout {
        /// The task's href.
        href: String,
        /// The limit that passed.
        within: Duration,
        /// The last status read (lower case).
        status: String,
    },
}

/// One `/api/cse` reply.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The HTTP status vCD answered with.
    pub status: u16,
    /// The JSON body, or the text as a JSON string when it is not JSON.
    pub body: Value,
}

impl Reply {
    /// The reply of `status` whose body is `text`: its JSON, or the text as
    /// a JSON string when it is not JSON.
    pub fn from_text(status: u16, text: String) -> Self {
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Self { status, body }
    }

    /// The error message of a refusal (`{"message": ...}`), or the body.
    pub fn message(&self) -> String {
        match &self.body {
            Value::Object(o) => o
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| self.body.to_string()),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }

    /// Whether the status is 2xx (the request was accepted).
    pub fn accepted(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// `task_href` of an accepted operation.
    pub fn task_href(&self) -> Option<String> {
        self.body
            .get("task_href")
            .and_then(Value::as_str)
            .map(str::to_owned)
    }
}

/// What a task read says: its status (lower case) and, for a failed task, its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskState {
    /// `queued`, `prerunning`, `running`, `success`, `error`, `canceled`, `aborted`.
    pub status: String,
    /// `Error@message` of a failed task.
    pub error_message: Option<String>,
}

impl TaskState {
    fn of(task: TaskInfo) -> TaskState {
        TaskState {
            status: task.status.as_str().to_ascii_lowercase(),
            error_message: task.error.map(|e| {
                if e.message.is_empty() {
                    "(no message)".to_owned()
                } else {
                    e.message
                }
            }),
        }
    }

    /// `success`, `error`, `aborted` or `canceled`.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self.status.as_str(),
            "success" | "error" | "aborted" | "canceled"
        )
    }
}

/// How a followed task ended.
#[derive(Debug, Clone)]
pub struct TaskEnd {
    /// The last task read (its terminal status and error message).
    pub state: TaskState,
    /// Time from the start of following until the task ended.
    pub took: Duration,
}

/// A vCD endpoint with a session per user, all through the one vCD client
/// (`cse_vcd`): logins, `/api/cse` calls (replies kept as they are, since
/// steps check refusals as well as successes) and task reads. Nothing is
/// retried behind a step's back.
pub struct VcdApi {
    base: String,
    connector: VcdConnector,
    sessions: Mutex<HashMap<String, Client>>,
    /// Pause between task polls.
    pub poll_interval: Duration,
}

impl VcdApi {
    /// `base` is `scheme://host[:port]` (a trailing `/api` is accepted).
    pub fn new(base: &str, verify_tls: bool) -> Result<VcdApi, CallError> {
        let base = base
            .trim_end_matches('/')
            .trim_end_matches("/api")
            .to_owned();
        let setup = |message: String| CallError::Transport {
            url: base.clone(),
            message,
        };
        let mut settings =
            VcdSettings::with_version(&format!("{base}/api"), VersionChoice::Negotiate)
                .map_err(|e| setup(e.to_string()))?;
        settings.tls = TlsOptions::verify(verify_tls);
        settings.http = HttpTimeouts {
            request: REQUEST_TIMEOUT,
            ..HttpTimeouts::default()
        };
        settings.max_concurrent_requests = MAX_CONCURRENT_REQUESTS;
        settings.retry = RetryPolicy::never();
        settings.busy_retry = RetryPolicy::never();
        // One connector for every tenant: its kept-alive connections are
        // reused across steps, and idle ones beyond its bound are closed.
        let connector = VcdConnector::new(settings).map_err(|e| setup(e.to_string()))?;
        Ok(VcdApi {
            base,
            connector,
            sessions: Mutex::new(HashMap::new()),
            poll_interval: Duration::from_millis(50),
        })
    }

    /// `scheme://host[:port]` of vCD, without a trailing `/api`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Negotiates the API version now (`GET /api/versions`), so it is not the
    /// first step's login that does it (a fault a step injects is then met by
    /// the step's own requests, not by the runner's negotiation).
    pub async fn negotiate(&self) -> Result<String, CallError> {
        self.connector
            .login_version()
            .await
            .map(|v| v.to_string())
            .map_err(|e| transport(&format!("{}/api/versions", self.base), &e))
    }

    /// The session of `tenant`, logging in on first use.
    pub async fn session(&self, tenant: &Tenant) -> Result<Client, CallError> {
        self.labelled_session(tenant, "").await
    }

    /// Another session of `tenant`, one per `label` (the empty label is
    /// [`VcdApi::session`]'s), logging in on first use: a user with several
    /// sessions at once, as several browsers or scripts have.
    pub async fn labelled_session(
        &self,
        tenant: &Tenant,
        label: &str,
    ) -> Result<Client, CallError> {
        let key = if label.is_empty() {
            format!("{}@{}", tenant.user, tenant.org)
        } else {
            format!("{}@{}#{label}", tenant.user, tenant.org)
        };
        if let Some(client) = self.sessions.lock().await.get(&key) {
            return Ok(client.clone());
        }
        let credentials = Credentials {
            user: tenant.user.clone(),
            org: tenant.org.clone(),
            password: Secret::new(tenant.password.clone()),
        };
        let client = self
            .connector
            .login(credentials)
            .await
            .map_err(|e| CallError::Login {
                who: key.clone(),
                detail: e.to_string(),
            })?;
        self.sessions.lock().await.insert(key, client.clone());
        Ok(client)
    }

    /// The session token of `tenant` (legacy or bearer), logging in on first use.
    pub async fn token(&self, tenant: &Tenant) -> Result<SessionToken, CallError> {
        Ok(self.session(tenant).await?.token())
    }

    /// `method /api/cse<path>` as `tenant`.
    pub async fn cse(
        &self,
        tenant: &Tenant,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, CallError> {
        let client = self.session(tenant).await?;
        self.cse_in(&client, method, path, body).await
    }

    /// `method /api/cse<path>` in the session `client`.
    pub async fn cse_in(
        &self,
        client: &Client,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, CallError> {
        let (status, text) = self.cse_text(client, method, path, body).await?;
        Ok(Reply::from_text(status, text))
    }

    /// Like [`VcdApi::cse_in`], the status and the body's text as it came
    /// (a caller that reads only part of a large body parses it its own way).
    pub async fn cse_text(
        &self,
        client: &Client,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, String), CallError> {
        let url = format!("{}/api/cse{}", self.base, path);
        let method: reqwest::Method = method.parse().map_err(|_| CallError::Transport {
            url: url.clone(),
            message: format!("bad method {method}"),
        })?;
        let json = body.map(Value::to_string);
        let body = json.as_deref().map(|text| ("application/json", text));
        let reply = client
            .exchange(method, &url, &client.api_version().accept_json(), body)
            .await
            .map_err(|e| transport(&url, &e))?;
        Ok((reply.status, reply.body))
    }

    /// Reads the task at `href` as `tenant`.
    pub async fn task(&self, tenant: &Tenant, href: &str) -> Result<TaskState, CallError> {
        let client = self.session(tenant).await?;
        let unexpected = |detail: String| CallError::Unexpected {
            url: href.to_owned(),
            detail,
        };
        let answer = client
            .get_answer(href)
            .await
            .map_err(|e| unexpected(e.to_string()))?;
        TaskInfo::parse(&answer.url, &answer.body)
            .map(TaskState::of)
            .map_err(|e| unexpected(e.to_string()))
    }

    /// Polls the task until it ends or `within` passes. Transient read
    /// failures (a vCD fault being replayed) are retried until the deadline.
    pub async fn follow(
        &self,
        tenant: &Tenant,
        href: &str,
        started: Instant,
        within: Duration,
    ) -> Result<TaskEnd, CallError> {
        let deadline = started + within;
        loop {
            match self.task(tenant, href).await {
                Ok(state) if state.is_terminal() => {
                    return Ok(TaskEnd {
                        state,
                        took: started.elapsed(),
                    });
                }
                Ok(state) if Instant::now() >= deadline => {
                    return Err(CallError::TaskTimeout {
                        href: href.to_owned(),
                        within,
                        status: state.status,
                    });
                }
                Ok(_) => {}
                Err(error) if Instant::now() >= deadline => {
                    return Err(CallError::TaskTimeout {
                        href: href.to_owned(),
                        within,
                        status: format!("unreadable: {error}"),
                    });
                }
                Err(error) => tracing::debug!("reading task {href}: {error}"),
            }
            tokio::time::sleep(self.poll_interval).await;
        }
    }
}

fn transport(url: &str, error: &cse_vcd::vcd::VcdError) -> CallError {
    use std::error::Error;
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    CallError::Transport {
        url: url.to_owned(),
        message,
    }
}
