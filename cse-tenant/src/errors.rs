//! Every way a `vcd-cse` command can fail, with the text the user sees.
//!
//! HTTP replies are classified once, in [`TenantError::from_reply`]: a JSON `{"message": ...}`
//! from CSE is shown as is; vCD's own refusals (401, 403, 404, 406 without JSON, 504 with its
//! XML `Error` document) get a text that says what happened and what to do. Secrets (password,
//! token) never appear in any variant.

use std::path::PathBuf;

use cse_core::api::MessageBody;

/// Exit code of a failed command (argument errors use clap's code 2).
pub const EXIT_FAILURE: i32 = 1;

/// A failure of a `vcd-cse` command.
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    /// No stored login, or its token was cleared by `logout` or a failed login.
    #[error("Not logged in. Log in first with 'vcd-cse login HOST ORG USER'.")]
    NotLoggedIn,
    /// The profile file exists but cannot be read.
    #[error("Cannot read the login profile '{path}': {cause}")]
    ProfileRead {
        /// Profile file.
        path: PathBuf,
        /// What went wrong.
        cause: String,
    },
    /// The profile file cannot be written.
    #[error("Cannot save the login profile '{path}': {cause}")]
    ProfileWrite {
        /// Profile file.
        path: PathBuf,
        /// What went wrong.
        cause: String,
    },
    /// The host given to `login` is not a usable URL.
    #[error("Invalid host '{host}': {cause}")]
    InvalidHost {
        /// What the user typed.
        host: String,
        /// Why it was refused.
        cause: String,
    },
    /// No connection (DNS, refused, TLS, timeout).
    #[error("Cannot reach {url}: {cause}{hint}")]
    Connection {
        /// Request URL.
        url: String,
        /// The transport error chain.
        cause: String,
        /// Extra advice (e.g. `-i` for a self-signed certificate), may be empty.
        hint: String,
    },
    /// `POST /api/sessions` answered 401.
    #[error("Login failed: wrong organization, user name or password.")]
    LoginRejected,
    /// vCD refused the session token (expired, logged out, invalid).
    #[error("Session has expired or is invalid, please login again.")]
    SessionExpired,
    /// CSE answered 401 `Unauthorized`: the operation needs a System-org login.
    #[error(
        "Unauthorized: this operation is only allowed to System administrators (log in to the 'System' organization)."
    )]
    SystemAdminRequired,
    /// vCD answered 403.
    #[error(
        "Access to the resource is forbidden, please login with the required credentials and access level.{}",
        detail_suffix(.0)
    )]
    Forbidden(Option<String>),
    /// vCD (not CSE) answered 404.
    #[error("Not found: {url}{}", detail_suffix(.detail))]
    NotFound {
        /// Request URL.
        url: String,
        /// vCD's message, if any.
        detail: Option<String>,
    },
    /// vCD answered 504: the CSE server did not reply within vCD's extension timeout.
    #[error(
        "{message}. The CSE server did not answer in time: it may be stopped, overloaded or disconnected from AMQP. Try again later or ask the System Administrator to check the CSE service (and vCD's extensibility.timeout)."
    )]
    GatewayTimeout {
        /// vCD's `Error@message`, or a generic text.
        message: String,
    },
    /// `/api/cse` was answered by vCD itself (a non-JSON 406, or 404): no extension is
    /// registered for it.
    #[error(
        "CSE is not available on this vCloud Director: the request to /api/cse was answered by vCD itself (HTTP {status}){}. The Container Service Extension is probably not registered; ask the System Administrator to run 'cse install'.",
        detail_suffix(.detail)
    )]
    CseNotRegistered {
        /// 406 or 404.
        status: u16,
        /// vCD's message, if any.
        detail: Option<String>,
    },
    /// vCD answered 406 to one of its own URLs: it does not speak the requested API version.
    #[error(
        "vCD refused the request (HTTP 406){}. Log in again without -V/--version, or with a version vCD offers.",
        detail_suffix(.0)
    )]
    NotAcceptable(Option<String>),
    /// CSE answered with an error and a `{"message": ...}` body.
    #[error("{message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// CSE's message text.
        message: String,
    },
    /// vCD itself refused the request with an `Error` document (e.g. 500 `Cannot send message
    /// to service ...` when it cannot reach CSE's AMQP exchange).
    #[error("vCD answered HTTP {status}: {message}")]
    Vcd {
        /// HTTP status.
        status: u16,
        /// vCD's `Error@message`.
        message: String,
    },
    /// A reply that is neither what was expected nor a known error shape.
    #[error("Unexpected reply from {url} (HTTP {status}): {detail}")]
    UnexpectedReply {
        /// Request URL.
        url: String,
        /// HTTP status.
        status: u16,
        /// What was wrong with it (body excerpt or parse error).
        detail: String,
    },
    /// None of the API versions vCD offers is one this client speaks.
    #[error(
        "No supported API version: vCD offers [{offered}], vcd-cse speaks [{supported}]. Pick one with -V/--version."
    )]
    NoCommonApiVersion {
        /// Versions in `/api/versions`.
        offered: String,
        /// Versions this client supports.
        supported: String,
    },
    /// `-V/--version` (or the profile) names something that is not an API version.
    #[error("Invalid API version '{0}': expected a version such as 32.0.")]
    InvalidApiVersion(String),
    /// `login --vdc NAME` named a VDC the organization does not have.
    #[error("VDC '{0}' not found in the organization.")]
    VdcNotFound(String),
    /// A command needs a VDC and neither the profile nor `--vdc` names one.
    #[error("No virtual datacenter selected: pass --vdc NAME (or log in again with --vdc NAME).")]
    NoVdc,
    /// The `--ssh-key` file cannot be read.
    #[error("Cannot read the SSH key file '{path}': {cause}")]
    SshKey {
        /// Key file.
        path: PathBuf,
        /// What went wrong.
        cause: String,
    },
    /// No password given and none can be asked for.
    #[error("Cannot read the password: {0}")]
    Password(String),
    /// The user declined a confirmation prompt (or none could be shown; use `--yes`).
    #[error("Aborted!")]
    Aborted,
    /// A followed vCD task ended in error.
    #[error("task: {task_id}, result: error, message: {message}")]
    TaskFailed {
        /// Task id (uuid).
        task_id: String,
        /// The task's `Error@message`.
        message: String,
    },
    /// A followed vCD task was aborted or canceled.
    #[error("task: {task_id}, result: {status}")]
    TaskEnded {
        /// Task id (uuid).
        task_id: String,
        /// `aborted` or `canceled`.
        status: String,
    },
    /// Writing to the terminal failed.
    #[error("Cannot write the output: {0}")]
    Output(#[from] std::io::Error),
}

fn detail_suffix(detail: &Option<String>) -> String {
    match detail {
        Some(d) if !d.trim().is_empty() => format!(" ({})", d.trim()),
        _ => String::new(),
    }
}

/// Which kind of request a reply answers: the login, other vCD calls, or a call to `/api/cse`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /api/sessions`.
    Login,
    /// Any other vCD URL (session, org, task).
    Vcd,
    /// `/api/cse/...`, answered by CSE through vCD.
    Cse,
}

impl TenantError {
    /// Classify a non-2xx reply. `body` is the raw reply text.
    pub fn from_reply(endpoint: Endpoint, url: &str, status: u16, body: &str) -> TenantError {
        let json_message = serde_json::from_str::<MessageBody>(body)
            .ok()
            .map(|m| m.message);
        let vcd_message = vcd_error_message(body);
        match (status, endpoint) {
            (401, Endpoint::Login) => TenantError::LoginRejected,
            (401, Endpoint::Cse) => match json_message.as_deref() {
                Some("Unauthorized") => TenantError::SystemAdminRequired,
                Some(other) => TenantError::Api {
                    status,
                    message: other.to_owned(),
                },
                None => TenantError::SessionExpired,
            },
            (401, Endpoint::Vcd) => TenantError::SessionExpired,
            (403, _) if json_message.is_none() => TenantError::Forbidden(vcd_message),
            (404 | 406, Endpoint::Cse) if json_message.is_none() => TenantError::CseNotRegistered {
                status,
                detail: vcd_message,
            },
            (406, _) if json_message.is_none() => TenantError::NotAcceptable(vcd_message),
            (404, _) if json_message.is_none() => TenantError::NotFound {
                url: url.to_owned(),
                detail: vcd_message,
            },
            (504, _) => TenantError::GatewayTimeout {
                message: vcd_message
                    .or(json_message)
                    .map(|m| m.trim_end_matches('.').to_owned())
                    .unwrap_or_else(|| "vCD answered 504 Gateway Timeout".to_owned()),
            },
            _ => match (json_message, vcd_message) {
                (Some(message), _) => TenantError::Api { status, message },
                (None, Some(message)) => TenantError::Vcd { status, message },
                (None, None) => TenantError::UnexpectedReply {
                    url: url.to_owned(),
                    status,
                    detail: excerpt(body),
                },
            },
        }
    }
}

/// The `message` attribute of a vCD `Error` XML document, if `body` is one.
pub fn vcd_error_message(body: &str) -> Option<String> {
    let root = cse_vcd::vcd::xml::parse(body).ok()?;
    if root.name != "Error" {
        return None;
    }
    root.attr("message").map(str::to_owned)
}

/// The first 200 characters of a body, on one line (for error texts).
pub fn excerpt(body: &str) -> String {
    let one_line: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let trimmed = one_line.trim();
    if trimmed.is_empty() {
        return "empty body".to_owned();
    }
    let mut out: String = trimmed.chars().take(200).collect();
    if trimmed.chars().count() > 200 {
        out.push('…');
    }
    out
}
