//! `VcdError`: everything that can go wrong talking to vCD, with messages that
//! name the request and vCD's own error text. Tokens and passwords never appear.

use std::time::Duration;

use super::xml::{self, Element, XmlError};

/// The `Error` document vCD returns with a failed request or a failed task.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VcdErrorDocument {
    /// `majorErrorCode` (the HTTP status for request errors).
    pub major_error_code: Option<String>,
    /// `minorErrorCode`, e.g. `ACCESS_TO_RESOURCE_IS_FORBIDDEN`.
    pub minor_error_code: Option<String>,
    /// `message`.
    pub message: String,
}

impl VcdErrorDocument {
    /// Reads an `Error` element (a document root or a `Task/Error` child).
    pub fn from_element(element: &Element) -> Self {
        Self {
            major_error_code: element.attr("majorErrorCode").map(str::to_owned),
            minor_error_code: element.attr("minorErrorCode").map(str::to_owned),
            message: element.attr("message").unwrap_or_default().to_owned(),
        }
    }

    /// Reads an error body; `None` when it is empty or not an `Error` document.
    pub fn parse(body: &str) -> Option<Self> {
        let root = xml::parse(body).ok()?;
        (root.name == "Error").then(|| Self::from_element(&root))
    }
}

/// Errors of the vCD client.
#[derive(Debug, thiserror::Error)]
pub enum VcdError {
    /// The configured or given URL cannot be used.
    #[error("invalid vCD URL '{url}': {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The HTTP client could not be built (TLS setup).
    #[error("cannot set up the HTTP client for vCD: {0}")]
    HttpClient(#[source] reqwest::Error),
    /// No answer: connection refused, TLS failure, time-out, broken body.
    #[error("{method} {url} failed: {}", transport_text(.source))]
    Transport {
        /// HTTP method.
        method: String,
        /// Request URL.
        url: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// vCD's answer is longer than the client reads ([`super::body::MAX_ANSWER_BYTES`]).
    #[error("{method} {url} answered with a body longer than {limit} bytes; it was not read")]
    AnswerTooLarge {
        /// HTTP method.
        method: String,
        /// Request URL.
        url: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// vCD answered with an error status.
    #[error("{method} {url} answered {status}{}: {}{}", minor_code_text(.minor_error_code), display_message(.message), request_id_text(.request_id))]
    Api {
        /// HTTP method.
        method: String,
        /// Request URL.
        url: String,
        /// HTTP status code.
        status: u16,
        /// vCD's `minorErrorCode`, when the body was an `Error` document.
        minor_error_code: Option<String>,
        /// vCD's `message` (empty when there was no `Error` document).
        message: String,
        /// `X-VMWARE-VCLOUD-REQUEST-ID` of the response.
        request_id: Option<Box<str>>,
    },
    /// The session token was refused (expired, logged out or invalid) and could not be renewed.
    #[error(
        "vCD refused the session for {method} {url} (401{}): session has expired or user not logged in",
        minor_code_text(.minor_error_code)
    )]
    Unauthorized {
        /// HTTP method.
        method: String,
        /// Request URL.
        url: String,
        /// vCD's `minorErrorCode`.
        minor_error_code: Option<String>,
    },
    /// Login with user name and password was refused.
    #[error("login to vCD at {url} as '{user}@{org}' was refused: {message}")]
    LoginRefused {
        /// Login URL.
        url: String,
        /// User name.
        user: String,
        /// Organization name.
        org: String,
        /// vCD's message.
        message: String,
    },
    /// An API token (refresh token) was refused at the OAuth token endpoint
    /// (unknown, revoked, or of another organization).
    #[error("login to vCD at {url} with the API token of org '{org}' was refused: {message}")]
    ApiTokenRefused {
        /// Token endpoint URL.
        url: String,
        /// Organization name.
        org: String,
        /// vCD's message.
        message: String,
    },
    /// A login answer lacked the header or field carrying the session token.
    #[error("{url} answered without {carrier}")]
    MissingToken {
        /// Request URL.
        url: String,
        /// Where the token was expected (a header name or a JSON field).
        carrier: &'static str,
    },
    /// An answer could not be read as the expected document.
    #[error("cannot read the answer of {url}: {reason}")]
    Parse {
        /// Request URL.
        url: String,
        /// What was wrong.
        reason: String,
    },
    /// An answer is not the typed document the caller asked for, or a request
    /// document cannot be written.
    #[error("{url}: {source}")]
    Document {
        /// Request URL.
        url: String,
        /// The document error.
        #[source]
        source: cse_core::vcd::VcdXmlError,
    },
    /// A document lacks a link the caller needs.
    #[error("{document} has no link rel='{rel}'{}", link_type_text(.media_type))]
    MissingLink {
        /// The document searched (href or kind).
        document: String,
        /// Wanted `rel`.
        rel: String,
        /// Wanted `type` (`None` = a link without type).
        media_type: Option<String>,
    },
    /// A vCD task ended in `error`, `canceled` or `aborted`.
    #[error("vCD task '{operation}' ({href}) ended {status}{}", task_error_text(.error))]
    TaskFailed {
        /// Task href.
        href: String,
        /// Task `operation` text.
        operation: String,
        /// Final status.
        status: String,
        /// The task's `Error` child.
        error: Option<Box<VcdErrorDocument>>,
    },
    /// A vCD task did not end before its deadline.
    #[error("vCD task '{operation}' ({href}) still {status} after {waited:?}; gave up waiting")]
    TaskTimeout {
        /// Task href.
        href: String,
        /// Task `operation` text.
        operation: String,
        /// Last status seen.
        status: String,
        /// How long the client waited.
        waited: Duration,
    },
    /// No vCenter of this name is registered in vCD.
    #[error("no vCenter named '{name}' is registered in vCD ({url})")]
    UnknownVcenter {
        /// The name looked for.
        name: String,
        /// The registrations list read.
        url: String,
    },
    /// None of the API versions vCD offers is one the caller speaks.
    #[error(
        "vCD offers API versions [{offered}], none of which this client speaks ([{supported}])"
    )]
    NoCommonVersion {
        /// Versions in `/api/versions`, comma-separated.
        offered: String,
        /// Versions the caller supports, comma-separated.
        supported: String,
    },
    /// A paged query did not end within the page limit.
    #[error("query {url} returned more than {max_pages} pages; stopped reading")]
    TooManyPages {
        /// First page URL.
        url: String,
        /// The limit.
        max_pages: usize,
    },
}

impl VcdError {
    /// HTTP status of an API error (401 included), if any.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            Self::Unauthorized { .. }
            | Self::LoginRefused { .. }
            | Self::ApiTokenRefused { .. } => Some(401),
            _ => None,
        }
    }

    /// vCD's `minorErrorCode`, if the error carried one.
    pub fn minor_error_code(&self) -> Option<&str> {
        match self {
            Self::Api {
                minor_error_code, ..
            }
            | Self::Unauthorized {
                minor_error_code, ..
            } => minor_error_code.as_deref(),
            Self::TaskFailed { error, .. } => {
                error.as_ref().and_then(|e| e.minor_error_code.as_deref())
            }
            _ => None,
        }
    }

    /// vCD's `message` (request or task error), if any.
    pub fn vcd_message(&self) -> Option<&str> {
        match self {
            Self::Api { message, .. } => Some(message),
            Self::TaskFailed { error, .. } => error.as_ref().map(|e| e.message.as_str()),
            _ => None,
        }
    }

    /// The error of a body that could not be read (`method` `url` name it).
    pub fn of_body(method: &str, url: &str, error: super::body::BodyError) -> Self {
        match error {
            super::body::BodyError::Transport(source) => Self::Transport {
                method: method.to_owned(),
                url: url.to_owned(),
                source: source.without_url(),
            },
            super::body::BodyError::TooLarge { limit } => Self::AnswerTooLarge {
                method: method.to_owned(),
                url: url.to_owned(),
                limit,
            },
        }
    }

    /// True when asking again later may succeed: no answer, or 500/502/503/504.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Transport { .. } => true,
            Self::Api { status, .. } => matches!(status, 500 | 502 | 503 | 504),
            _ => false,
        }
    }

    /// True for vCD's `400 BUSY_ENTITY` (another task holds the entity).
    pub fn is_busy(&self) -> bool {
        self.status()
            .is_some_and(|status| super::retry::is_busy_refusal(status, self.minor_error_code()))
    }

    /// True for `400 DUPLICATE_NAME` (an entity of that name exists already).
    pub fn is_duplicate_name(&self) -> bool {
        self.status() == Some(400)
            && self
                .minor_error_code()
                .is_some_and(|code| code.eq_ignore_ascii_case("DUPLICATE_NAME"))
    }

    /// True for "not there or not visible": 403 and 404 (vCD answers 403 for ids it will
    /// not reveal).
    pub fn is_not_found(&self) -> bool {
        matches!(self.status(), Some(403 | 404))
    }

    pub(crate) fn parse(url: &str, error: XmlError) -> Self {
        Self::Parse {
            url: url.to_owned(),
            reason: error.to_string(),
        }
    }
}

/// A transport error with its causes (`error sending request: … operation
/// timed out`), so an operator sees why, not only that, a request failed.
pub fn transport_text(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(c) = cause {
        let next = c.to_string();
        if !text.ends_with(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        cause = c.source();
    }
    text
}

fn minor_code_text(code: &Option<String>) -> String {
    code.as_deref().map(|c| format!("/{c}")).unwrap_or_default()
}

fn display_message(message: &str) -> &str {
    if message.is_empty() {
        "(no error document)"
    } else {
        message
    }
}

fn request_id_text(id: &Option<Box<str>>) -> String {
    id.as_deref()
        .map(|id| format!(" (request id: {id})"))
        .unwrap_or_default()
}

fn link_type_text(media_type: &Option<String>) -> String {
    match media_type {
        Some(t) => format!(" type='{t}'"),
        None => " without type".to_owned(),
    }
}

fn task_error_text(error: &Option<Box<VcdErrorDocument>>) -> String {
    match error {
        Some(e) if !e.message.is_empty() => format!(": {}", e.message),
        _ => String::new(),
    }
}
