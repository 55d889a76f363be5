//! What scenario steps send to vCD, exactly as a tenant's tools would: log in
//! at `/api/sessions`, call `/api/cse/...` (which vCD forwards to the CSE
//! server), and read vCD tasks until they end. Statuses and bodies come back
//! as they are so steps can check refusals as well as successes.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use cse_core::config::Secret;
use cse_tenant::http::{VcdHttp, base_url};
use cse_tenant::wait::TaskState;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::format::Tenant;

/// The API version the runner speaks (CSE 1.2.x's).
pub const API_VERSION: &str = "29.0";
const AUTH_HEADER: &str = "x-vcloud-authorization";
/// Idle connections to vCD the runner keeps for later steps.
const MAX_IDLE_CONNECTIONS: usize = 16;

/// Why a request could not be made or understood.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{url}: {message}")]
    Transport { url: String, message: String },
    #[error("login as {who} failed: {detail}")]
    Login { who: String, detail: String },
    #[error("{url}: unexpected reply: {detail}")]
    Unexpected { url: String, detail: String },
    #[error("task {href} did not end within {within:?} (last status: {status})")]
    TaskTimeout {
        href: String,
        within: Duration,
        status: String,
    },
}

/// One `/api/cse` reply.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    /// The JSON body, or the text as a JSON string when it is not JSON.
    pub body: Value,
}

impl Reply {
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

/// How a followed task ended.
#[derive(Debug, Clone)]
pub struct TaskEnd {
    pub state: TaskState,
    pub took: Duration,
}

/// A vCD endpoint with a session cache per user. Logins and task reads go
/// through the tenant CLI's client; `/api/cse` calls use a plain one, since
/// steps need refusals' statuses and bodies as they are.
pub struct VcdApi {
    base: String,
    http: reqwest::Client,
    vcd: VcdHttp,
    tokens: Mutex<HashMap<String, Secret>>,
    /// Pause between task polls.
    pub poll_interval: Duration,
}

impl VcdApi {
    /// `base` is `scheme://host[:port]` (a trailing `/api` is accepted).
    pub fn new(base: &str, verify_tls: bool) -> Result<VcdApi, ApiError> {
        let base = base
            .trim_end_matches('/')
            .trim_end_matches("/api")
            .to_owned();
        // One client for every tenant: its kept-alive connections are
        // reused across steps, and idle ones beyond a few are closed.
        let http = reqwest::Client::builder()
            .danger_accept_invalid_certs(!verify_tls)
            .timeout(Duration::from_secs(120))
            .pool_max_idle_per_host(MAX_IDLE_CONNECTIONS)
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| ApiError::Transport {
                url: base.clone(),
                message: e.to_string(),
            })?;
        let url = base_url(&base).map_err(|e| ApiError::Transport {
            url: base.clone(),
            message: e.to_string(),
        })?;
        let vcd = VcdHttp::new(url, verify_tls, API_VERSION).map_err(|e| ApiError::Transport {
            url: base.clone(),
            message: e.to_string(),
        })?;
        Ok(VcdApi {
            base,
            http,
            vcd,
            tokens: Mutex::new(HashMap::new()),
            poll_interval: Duration::from_millis(50),
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// A session token for `tenant`, logging in on first use (the tenant
    /// CLI's login).
    pub async fn token(&self, tenant: &Tenant) -> Result<Secret, ApiError> {
        let key = format!("{}@{}", tenant.user, tenant.org);
        if let Some(token) = self.tokens.lock().await.get(&key) {
            return Ok(token.clone());
        }
        let session = self
            .vcd
            .login(
                &tenant.org,
                &tenant.user,
                &Secret::new(tenant.password.clone()),
            )
            .await
            .map_err(|e| ApiError::Login {
                who: key.clone(),
                detail: e.to_string(),
            })?;
        self.tokens.lock().await.insert(key, session.token.clone());
        Ok(session.token)
    }

    /// `method /api/cse/<path>` as `tenant`.
    pub async fn cse(
        &self,
        tenant: &Tenant,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, ApiError> {
        let token = self.token(tenant).await?;
        let url = format!("{}/api/cse{}", self.base, path);
        let method: reqwest::Method = method.parse().map_err(|_| ApiError::Transport {
            url: url.clone(),
            message: format!("bad method {method}"),
        })?;
        let mut request = self
            .http
            .request(method, &url)
            .header(
                "Accept",
                format!("application/*+json;version={API_VERSION}"),
            )
            .header(AUTH_HEADER, token.expose());
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| transport(&url, &e))?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| transport(&url, &e))?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok(Reply { status, body })
    }

    /// Reads the task at `href` as `tenant`.
    pub async fn task(&self, tenant: &Tenant, href: &str) -> Result<TaskState, ApiError> {
        let token = self.token(tenant).await?;
        let unexpected = |detail: String| ApiError::Unexpected {
            url: href.to_owned(),
            detail,
        };
        let root = self
            .vcd
            .clone()
            .with_token(token)
            .get_xml(href)
            .await
            .map_err(|e| unexpected(e.to_string()))?;
        TaskState::from_xml(href, &root).map_err(unexpected)
    }

    /// Polls the task until it ends or `within` passes. Transient read
    /// failures (a vCD fault being replayed) are retried until the deadline.
    pub async fn follow(
        &self,
        tenant: &Tenant,
        href: &str,
        started: Instant,
        within: Duration,
    ) -> Result<TaskEnd, ApiError> {
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
                    return Err(ApiError::TaskTimeout {
                        href: href.to_owned(),
                        within,
                        status: state.status,
                    });
                }
                Ok(_) => {}
                Err(error) if Instant::now() >= deadline => {
                    return Err(ApiError::TaskTimeout {
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

fn transport(url: &str, error: &reqwest::Error) -> ApiError {
    use std::error::Error;
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    ApiError::Transport {
        url: url.to_owned(),
        message,
    }
}
