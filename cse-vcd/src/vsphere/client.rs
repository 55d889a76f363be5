//! One logged-in vCenter session ([`VcenterSession`]) and the vim25 calls the
//! server needs: service content, login with the `vmware_soap_session` cookie
//! (logged in again once when vCenter answers `NotAuthenticated`), VM property
//! reads, and the guest process and file operations with their HTTP transfers.
//! SOAP calls and transfers share one client whose pool of kept-alive
//! connections is bounded ([`VcenterSettings::pool`]); every answer is read to
//! its end so its connection is reused rather than dropped.

use std::time::Duration;

use cse_core::config::{Limits, Secret, VcenterConfig};
use parking_lot::RwLock;
use reqwest::StatusCode;
use tokio::sync::{Mutex, OnceCell};

use super::endpoint::VcenterEndpoint;
use super::error::VsphereError;
use super::requests;
use super::soap::{self, FaultKind, MoRef, SoapOutcome};
use crate::vcd::body::{self, BodyError, drain};
use crate::vcd::http::{HttpTimeouts, PoolLimits, TlsOptions, build_pooled_http_client};
use crate::vcd::retry::{RetryPolicy, TransportFailure};
use crate::vcd::xml::Element;

/// The cookie vCenter keeps its session in.
pub const SESSION_COOKIE: &str = "vmware_soap_session";
/// `SOAPAction` version used before the service content names the real one.
pub const DEFAULT_API_VERSION: &str = "6.7.1";

pub use super::guest_spec::{
    AUTH_MANAGER, FILE_MANAGER, GuestCredentials, PROCESS_MANAGER, ProgramSpec,
};

/// The parts of `ServiceContent` the client uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceContent {
    /// `propertyCollector`.
    pub property_collector: MoRef,
    /// `sessionManager`.
    pub session_manager: MoRef,
    /// `guestOperationsManager`, when the server has one.
    pub guest_operations_manager: Option<MoRef>,
    /// `about.apiVersion`, e.g. `6.7.1`.
    pub api_version: String,
    /// `about.apiType`: `VirtualCenter` or `HostAgent`.
    pub api_type: String,
}

/// What vCenter reports about a VM's power and tools.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VmGuestState {
    /// `runtime.powerState`: `poweredOn`, `poweredOff`, `suspended`.
    pub power_state: Option<String>,
    /// `guest.toolsRunningStatus`: `guestToolsRunning`, `guestToolsNotRunning`, `guestToolsExecutingScripts`.
    pub tools_running_status: Option<String>,
    /// `guest.guestOperationsReady`.
    pub guest_operations_ready: bool,
    /// `guest.ipAddress`.
    pub ip_address: Option<String>,
}

impl VmGuestState {
    /// Powered on, tools running and guest operations ready.
    pub fn is_ready(&self) -> bool {
        self.power_state.as_deref() == Some("poweredOn")
            && self.tools_running_status.as_deref() == Some("guestToolsRunning")
            && self.guest_operations_ready
    }

    /// A one-line description for messages.
    pub fn describe(&self) -> String {
        format!(
            "power {}, tools {}, guest operations {}",
            self.power_state.as_deref().unwrap_or("unknown"),
            self.tools_running_status.as_deref().unwrap_or("unknown"),
            if self.guest_operations_ready {
                "ready"
            } else {
                "not ready"
            }
        )
    }
}

/// One entry of `ListProcessesInGuest`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestProcess {
    /// Pid.
    pub pid: i64,
    /// Process name.
    pub name: String,
    /// Exit code once it has ended.
    pub exit_code: Option<i32>,
    /// End time once it has ended.
    pub end_time: Option<String>,
}

/// Where a download comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileTransferInfo {
    /// File size in bytes, when vCenter stated it.
    pub size: Option<u64>,
    /// Transfer URL (already with `*` replaced).
    pub url: url::Url,
}

/// Settings shared by every vCenter session.
#[derive(Clone, Debug)]
pub struct VcenterSettings {
    /// Time-outs of one HTTP exchange.
    pub http: HttpTimeouts,
    /// Kept-alive connections per vCenter (SOAP calls and file transfers).
    pub pool: PoolLimits,
    /// Retries of idempotent calls after transport failures.
    pub retry: RetryPolicy,
    /// Roots to trust instead of the platform's when verifying (tests, private CAs).
    pub trusted_roots: Vec<reqwest::Certificate>,
    /// The longest guest file read (`limits.max_guest_file_bytes`): a longer
    /// one is refused before its transfer when vCenter states its size, and
    /// at the limit otherwise.
    pub max_download_bytes: u64,
}

impl Default for VcenterSettings {
    fn default() -> Self {
        Self {
            http: HttpTimeouts::default(),
            pool: PoolLimits::default(),
            retry: RetryPolicy::default(),
            trusted_roots: Vec::new(),
            max_download_bytes: Limits::default().guest_file_bytes(),
        }
    }
}

/// One vCenter, one logged-in session, shared by every operation.
#[derive(Debug)]
pub struct VcenterSession {
    name: String,
    endpoint: VcenterEndpoint,
    username: String,
    password: Secret,
    http: reqwest::Client,
    retry: RetryPolicy,
    max_download_bytes: u64,
    content: OnceCell<ServiceContent>,
    cookie: RwLock<CookieState>,
    login_lock: Mutex<()>,
}

#[derive(Debug, Default)]
struct CookieState {
    cookie: Option<Secret>,
    generation: u64,
}

impl VcenterSession {
    /// A session (not yet logged in) to the vCenter at vCD's `VimServer/Url`, with the
    /// account and TLS checking of its `vcs[]` entry.
    pub fn new(
        account: &VcenterConfig,
        vim_server_url: &str,
        settings: &VcenterSettings,
    ) -> Result<Self, VsphereError> {
        let endpoint = VcenterEndpoint::from_vim_server_url(vim_server_url)?;
        let tls = if account.verify && !settings.trusted_roots.is_empty() {
            TlsOptions::trusting(settings.trusted_roots.clone())
        } else {
            TlsOptions::verify(account.verify)
        };
        let http =
            build_pooled_http_client(&tls, settings.http, settings.pool).map_err(|source| {
                VsphereError::HttpClient {
                    vcenter: account.name.clone(),
                    source,
                }
            })?;
        Ok(Self {
            name: account.name.clone(),
            endpoint,
            username: account.username.clone(),
            password: account.password.clone(),
            http,
            retry: settings.retry,
            max_download_bytes: settings.max_download_bytes,
            content: OnceCell::new(),
            cookie: RwLock::new(CookieState::default()),
            login_lock: Mutex::new(()),
        })
    }

    /// The vCenter's registered name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &VcenterEndpoint {
        &self.endpoint
    }

    /// True once a login succeeded (and the session was not logged out since).
    pub fn is_logged_in(&self) -> bool {
        self.cookie.read().cookie.is_some()
    }

    /// How many times this session logged in (1 after the first login).
    pub fn login_count(&self) -> u64 {
        self.cookie.read().generation
    }

    /// `ServiceInstance.RetrieveServiceContent`, fetched once and cached.
    pub async fn service_content(&self) -> Result<&ServiceContent, VsphereError> {
        self.content
            .get_or_try_init(|| async {
                let response = self
                    .send_request(requests::retrieve_service_content(), None)
                    .await?;
                self.parse_service_content(&response)
            })
            .await
    }

    fn parse_service_content(&self, response: &Element) -> Result<ServiceContent, VsphereError> {
        let missing = |what: &str| self.parse_error("RetrieveServiceContent", format!("no {what}"));
        let value = soap::returnvals(response)
            .next()
            .ok_or_else(|| missing("returnval"))?;
        let moref = |name: &str| value.child(name).and_then(MoRef::from_element);
        let about = value.child("about");
        Ok(ServiceContent {
            property_collector: moref("propertyCollector")
                .ok_or_else(|| missing("propertyCollector"))?,
            session_manager: moref("sessionManager").ok_or_else(|| missing("sessionManager"))?,
            guest_operations_manager: moref("guestOperationsManager"),
            api_version: about
                .and_then(|a| a.child_text("apiVersion"))
                .unwrap_or(DEFAULT_API_VERSION)
                .to_owned(),
            api_type: about
                .and_then(|a| a.child_text("apiType"))
                .unwrap_or("VirtualCenter")
                .to_owned(),
        })
    }

    /// Logs in unless another task did so since `seen_generation`.
    async fn login(&self, seen_generation: u64) -> Result<(), VsphereError> {
        let _guard = self.login_lock.lock().await;
        if self.cookie.read().generation != seen_generation {
            return Ok(());
        }
        let content = self.service_content().await?.clone();
        let request = requests::login(
            &content.session_manager,
            &self.username,
            self.password.expose(),
        );
        let response = self.send("Login", request.envelope(), None, false).await?;
        let cookie = response
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(session_cookie)
            .map(Secret::new);
        self.read_outcome("Login", response).await?;
        let cookie = cookie.ok_or_else(|| {
            self.parse_error("Login", format!("no {SESSION_COOKIE} cookie in the answer"))
        })?;
        tracing::info!(vcenter = %self.name, user = %self.username, "logged in to vCenter");
        let mut state = self.cookie.write();
        state.cookie = Some(cookie);
        state.generation += 1;
        Ok(())
    }

    /// Sends `request` with the session cookie, logging in first when needed and
    /// once more on `NotAuthenticated`. Idempotent requests are retried after
    /// transport failures.
    pub async fn execute(&self, request: requests::Request) -> Result<Element, VsphereError> {
        let method = request.method;
        let idempotent = request.idempotent;
        let body = request.envelope();
        let mut relogged = false;
        loop {
            let (cookie, generation) = {
                let state = self.cookie.read();
                (state.cookie.clone(), state.generation)
            };
            let Some(cookie) = cookie else {
                self.login(generation).await?;
                continue;
            };
            let outcome = match self
                .send(method, body.clone(), Some(&cookie), idempotent)
                .await
            {
                Ok(response) => self.read_outcome(method, response).await,
                Err(error) => Err(error),
            };
            match outcome {
                Err(error)
                    if error.fault_kind() == Some(FaultKind::NotAuthenticated) && !relogged =>
                {
                    relogged = true;
                    tracing::info!(vcenter = %self.name, "vCenter session expired; logging in again");
                    self.login(generation).await?;
                }
                other => return other,
            }
        }
    }

    async fn send_request(
        &self,
        request: requests::Request,
        cookie: Option<&Secret>,
    ) -> Result<Element, VsphereError> {
        let method = request.method;
        let idempotent = request.idempotent;
        let response = self
            .send(method, request.envelope(), cookie, idempotent)
            .await?;
        self.read_outcome(method, response).await
    }

    async fn send(
        &self,
        method: &str,
        body: String,
        cookie: Option<&Secret>,
        idempotent: bool,
    ) -> Result<reqwest::Response, VsphereError> {
        let version = self
            .content
            .get()
            .map_or(DEFAULT_API_VERSION, |c| c.api_version.as_str());
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut request = self
                .http
                .post(self.endpoint.sdk_url.clone())
                .header(reqwest::header::CONTENT_TYPE, "text/xml; charset=utf-8")
                .header("SOAPAction", format!("\"urn:vim25/{version}\""))
                .body(body.clone());
            if let Some(cookie) = cookie {
                request = request.header(reqwest::header::COOKIE, cookie.expose());
            }
            match request.send().await {
                Ok(response) => return Ok(response),
                Err(source) => {
                    let failure = TransportFailure::of(&source);
                    let retryable = failure == TransportFailure::Connect
                        || (idempotent && failure == TransportFailure::AfterSend);
                    if retryable && self.retry.allows_another(attempt) {
                        tracing::debug!(vcenter = %self.name, method, attempt, "vCenter call failed; retrying: {source}");
                        tokio::time::sleep(self.retry.backoff(attempt)).await;
                        continue;
                    }
                    return Err(VsphereError::Transport {
                        operation: method.to_owned(),
                        vcenter: self.name.clone(),
                        source: source.without_url(),
                    });
                }
            }
        }
    }

    async fn read_outcome(
        &self,
        method: &str,
        response: reqwest::Response,
    ) -> Result<Element, VsphereError> {
        let status = response.status();
        if status != StatusCode::OK && status != StatusCode::INTERNAL_SERVER_ERROR {
            drain(response).await;
            return Err(VsphereError::Http {
                operation: method.to_owned(),
                vcenter: self.name.clone(),
                status: status.as_u16(),
            });
        }
        let text = body::read_text(response, body::MAX_ANSWER_BYTES)
            .await
            .map_err(|error| match error {
                BodyError::Transport(source) => VsphereError::Transport {
                    operation: method.to_owned(),
                    vcenter: self.name.clone(),
                    source: source.without_url(),
                },
                BodyError::TooLarge { limit } => VsphereError::AnswerTooLarge {
                    operation: method.to_owned(),
                    vcenter: self.name.clone(),
                    limit,
                },
            })?;
        match soap::parse_response(method, &text) {
            Ok(SoapOutcome::Response(element)) => Ok(element),
            Ok(SoapOutcome::Fault(fault)) => Err(VsphereError::Fault {
                operation: method.to_owned(),
                vcenter: self.name.clone(),
                fault,
            }),
            Err(reason) => {
                Err(self.parse_error(method, format!("HTTP {} with {reason}", status.as_u16())))
            }
        }
    }

    fn parse_error(&self, operation: &str, reason: String) -> VsphereError {
        VsphereError::Parse {
            operation: operation.to_owned(),
            vcenter: self.name.clone(),
            reason,
        }
    }

    /// `SessionManager.Logout` (best effort; the cookie is dropped either way).
    pub async fn logout(&self) -> Result<(), VsphereError> {
        let cookie = self.cookie.write().cookie.take();
        let Some(cookie) = cookie else {
            return Ok(());
        };
        let content = self.service_content().await?.clone();
        self.send_request(requests::logout(&content.session_manager), Some(&cookie))
            .await
            .map(drop)
    }

    /// Reads power state, tools status, guest-operations readiness and IP of `vm`
    /// (`RetrievePropertiesEx` with dotted paths).
    pub async fn vm_state(&self, vm: &str) -> Result<VmGuestState, VsphereError> {
        let content = self.service_content().await?.clone();
        let response = self
            .execute(requests::retrieve_vm_state(&content.property_collector, vm))
            .await?;
        let mut state = VmGuestState::default();
        let objects = soap::returnvals(&response).flat_map(|r| r.children_named("objects"));
        for prop in objects.flat_map(|o| o.children_named("propSet")) {
            let (Some(name), Some(value)) = (prop.child_text("name"), prop.child("val")) else {
                continue;
            };
            let text = value.text.trim().to_owned();
            match name {
                "runtime.powerState" => state.power_state = Some(text),
                "guest.toolsRunningStatus" => state.tools_running_status = Some(text),
                "guest.guestOperationsReady" => {
                    state.guest_operations_ready = matches!(text.as_str(), "true" | "1");
                }
                "guest.ipAddress" => state.ip_address = Some(text).filter(|t| !t.is_empty()),
                _ => {}
            }
        }
        Ok(state)
    }

    /// `GuestAuthManager.ValidateCredentialsInGuest`.
    pub async fn validate_credentials(
        &self,
        vm: &str,
        credentials: &GuestCredentials,
    ) -> Result<(), VsphereError> {
        self.execute(requests::validate_credentials(vm, credentials))
            .await
            .map(drop)
    }

    /// `StartProgramInGuest` → pid.
    pub async fn start_program(
        &self,
        vm: &str,
        credentials: &GuestCredentials,
        spec: &ProgramSpec,
    ) -> Result<i64, VsphereError> {
        let response = self
            .execute(requests::start_program(vm, credentials, spec))
            .await?;
        let text = soap::returnvals(&response)
            .next()
            .map(|r| r.text.trim().to_owned())
            .unwrap_or_default();
        text.parse().map_err(|_| {
            self.parse_error(
                "StartProgramInGuest",
                format!("the pid '{text}' is not a number"),
            )
        })
    }

    /// `ListProcessesInGuest` for these pids (unknown pids are left out by vCenter).
    pub async fn list_processes(
        &self,
        vm: &str,
        credentials: &GuestCredentials,
        pids: &[i64],
    ) -> Result<Vec<GuestProcess>, VsphereError> {
        let response = self
            .execute(requests::list_processes(vm, credentials, pids))
            .await?;
        soap::returnvals(&response)
            .map(|r| {
                let pid = r
                    .child_text("pid")
                    .and_then(|p| p.trim().parse().ok())
                    .ok_or_else(|| {
                        self.parse_error("ListProcessesInGuest", "a process without pid".into())
                    })?;
                Ok(GuestProcess {
                    pid,
                    name: r.child_text("name").unwrap_or_default().to_owned(),
                    exit_code: r.child_text("exitCode").and_then(|c| c.trim().parse().ok()),
                    end_time: r.child_text("endTime").map(str::to_owned),
                })
            })
            .collect()
    }

    /// `TerminateProcessInGuest`.
    pub async fn terminate_process(
        &self,
        vm: &str,
        credentials: &GuestCredentials,
        pid: i64,
    ) -> Result<(), VsphereError> {
        self.execute(requests::terminate_process(vm, credentials, pid))
            .await
            .map(drop)
    }

    /// `InitiateFileTransferToGuest` + `PUT` of `content` (mode `permissions`).
    pub async fn upload(
        &self,
        vm: &str,
        credentials: &GuestCredentials,
        guest_path: &str,
        content: Vec<u8>,
        permissions: u32,
        overwrite: bool,
    ) -> Result<(), VsphereError> {
        let size = u64::try_from(content.len()).unwrap_or(u64::MAX);
        let request =
            requests::initiate_upload(vm, credentials, guest_path, size, permissions, overwrite);
        let response = self.execute(request).await?;
        let raw = soap::returnvals(&response)
            .next()
            .map(|r| r.text.trim().to_owned())
            .unwrap_or_default();
        let url = self.endpoint.transfer_url(&raw)?;
        let response = self
            .http
            .put(url)
            .body(content)
            .send()
            .await
            .map_err(|source| self.transfer_error("upload", source))?;
        let status = response.status();
        // Read the (empty) answer to the end so the connection can be reused.
        drain(response).await;
        if status != StatusCode::OK {
            return Err(VsphereError::Transfer {
                direction: "upload",
                path: guest_path.to_owned(),
                vm: vm.to_owned(),
                status: status.as_u16(),
            });
        }
        Ok(())
    }

    /// `InitiateFileTransferFromGuest`.
    pub async fn initiate_download(
        &self,
        vm: &str,
        credentials: &GuestCredentials,
        guest_path: &str,
    ) -> Result<FileTransferInfo, VsphereError> {
        let response = self
            .execute(requests::initiate_download(vm, credentials, guest_path))
            .await?;
        let value = soap::returnvals(&response).next().ok_or_else(|| {
            self.parse_error("InitiateFileTransferFromGuest", "no returnval".into())
        })?;
        let raw = value
            .child_text("url")
            .unwrap_or_default()
            .trim()
            .to_owned();
        Ok(FileTransferInfo {
            size: value.child_text("size").and_then(|s| s.trim().parse().ok()),
            url: self.endpoint.transfer_url(&raw)?,
        })
    }

    /// `InitiateFileTransferFromGuest` + `GET` → the file's bytes. A file
    /// vCenter states to be empty is not fetched (a script's empty `stderr`
    /// costs one call, not two).
    pub async fn download(
        &self,
        vm: &str,
        credentials: &GuestCredentials,
        guest_path: &str,
    ) -> Result<Vec<u8>, VsphereError> {
        let info = self.initiate_download(vm, credentials, guest_path).await?;
        if info.size == Some(0) {
            return Ok(Vec::new());
        }
        let too_large = |limit| VsphereError::FileTooLarge {
            path: guest_path.to_owned(),
            vm: vm.to_owned(),
            limit,
        };
        let limit = self.max_download_bytes;
        if info.size.is_some_and(|size| size > limit) {
            return Err(too_large(limit));
        }
        let response = self
            .http
            .get(info.url)
            .send()
            .await
            .map_err(|source| self.transfer_error("download", source))?;
        if response.status() != StatusCode::OK {
            let status = response.status().as_u16();
            drain(response).await;
            return Err(VsphereError::Transfer {
                direction: "download",
                path: guest_path.to_owned(),
                vm: vm.to_owned(),
                status,
            });
        }
        body::read_bytes(response, limit)
            .await
            .map_err(|error| match error {
                BodyError::Transport(source) => self.transfer_error("download", source),
                BodyError::TooLarge { limit } => too_large(limit),
            })
    }

    fn transfer_error(&self, direction: &str, source: reqwest::Error) -> VsphereError {
        VsphereError::Transport {
            operation: format!("guest file {direction}"),
            vcenter: self.name.clone(),
            source: source.without_url(),
        }
    }

    /// `DeleteFileInGuest`.
    pub async fn delete_file(
        &self,
        vm: &str,
        credentials: &GuestCredentials,
        guest_path: &str,
    ) -> Result<(), VsphereError> {
        self.execute(requests::delete_file(vm, credentials, guest_path))
            .await
            .map(drop)
    }

    /// `MakeDirectoryInGuest`.
    pub async fn make_directory(
        &self,
        vm: &str,
        credentials: &GuestCredentials,
        guest_path: &str,
        create_parents: bool,
    ) -> Result<(), VsphereError> {
        self.execute(requests::make_directory(
            vm,
            credentials,
            guest_path,
            create_parents,
        ))
        .await
        .map(drop)
    }
}

/// The `vmware_soap_session=…` pair of a `Set-Cookie` value, as it must be sent back.
pub fn session_cookie(set_cookie: &str) -> Option<String> {
    let pair = set_cookie.split(';').next()?.trim();
    let (name, value) = pair.split_once('=')?;
    (name.trim() == SESSION_COOKIE && !value.trim().is_empty())
        .then(|| format!("{SESSION_COOKIE}={}", value.trim()))
}

/// A guest poll pause that grows from `initial` to `max` (doubling).
pub fn next_poll_pause(current: Duration, max: Duration) -> Duration {
    current.saturating_mul(2).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_cookie_is_taken_with_its_quotes_and_without_attributes() {
        assert_eq!(
            session_cookie("vmware_soap_session=\"52f1c3a0-7d2e\"; Path=/; HttpOnly; Secure;")
                .as_deref(),
            Some("vmware_soap_session=\"52f1c3a0-7d2e\"")
        );
        assert_eq!(session_cookie("other=1; Path=/"), None);
        assert_eq!(session_cookie("vmware_soap_session=; Path=/"), None);
        assert_eq!(session_cookie(""), None);
    }

    #[test]
    fn readiness_needs_power_tools_and_ops() {
        let mut state = VmGuestState {
            power_state: Some("poweredOn".into()),
            tools_running_status: Some("guestToolsRunning".into()),
            guest_operations_ready: false,
            ip_address: None,
        };
        assert!(!state.is_ready());
        state.guest_operations_ready = true;
        assert!(state.is_ready());
        state.power_state = Some("poweredOff".into());
        assert!(!state.is_ready());
        assert_eq!(
            state.describe(),
            "power poweredOff, tools guestToolsRunning, guest operations ready"
        );
    }

    #[test]
    fn poll_pauses_double_up_to_the_max() {
        let max = Duration::from_secs(2);
        let mut pause = Duration::from_millis(200);
        let mut seen = Vec::new();
        for _ in 0..6 {
            seen.push(pause.as_millis());
            pause = next_poll_pause(pause, max);
        }
        assert_eq!(seen, [200, 400, 800, 1600, 2000, 2000]);
    }

    #[test]
    fn credentials_debug_hides_the_password() {
        let credentials = GuestCredentials::root(Secret::new("s3cret!"));
        assert!(!format!("{credentials:?}").contains("s3cret"));
        assert_eq!(credentials.home(), "/root");
        let xml = super::super::requests::validate_credentials("vm-1", &credentials).envelope();
        assert!(xml.contains(
            "<auth xsi:type=\"NamePasswordAuthentication\"><interactiveSession>false</interactiveSession><username>root</username><password>s3cret!</password></auth>"
        ), "{xml}");
    }
}
