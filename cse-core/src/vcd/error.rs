//! The vCD `Error` document (every non-2xx body on `/api/...`) and the same attributes as they
//! appear inside a failed `Task` (spec vcd-rest §10).

use instant_xml::{FromXml, ToXml};

use super::media;
use super::ns::VCLOUD;

/// `<Error majorErrorCode minorErrorCode message stackTrace?/>`.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "Error", ns(VCLOUD))]
pub struct VcdErrorDocument {
    /// HTTP status as text, e.g. `403`; CSE's tasks use `500`.
    #[xml(attribute, rename = "majorErrorCode")]
    pub major_error_code: Option<String>,
    /// vCD's symbolic code, e.g. `ACCESS_TO_RESOURCE_IS_FORBIDDEN`.
    #[xml(attribute, rename = "minorErrorCode")]
    pub minor_error_code: Option<String>,
    /// Human-readable message.
    #[xml(attribute)]
    pub message: Option<String>,
    /// Optional stack trace (CSE sends an empty one).
    #[xml(attribute, rename = "stackTrace")]
    pub stack_trace: Option<String>,
}

impl VcdErrorDocument {
    /// An error with major/minor codes and a message.
    pub fn new(major: u16, minor: &str, message: &str) -> Self {
        VcdErrorDocument {
            major_error_code: Some(major.to_string()),
            minor_error_code: Some(minor.to_owned()),
            message: Some(message.to_owned()),
            stack_trace: None,
        }
    }

    /// The error CSE attaches to its own failed tasks (`500` / `INTERNAL_SERVER_ERROR`, empty
    /// stack trace).
    pub fn cse_task_error(message: &str) -> Self {
        VcdErrorDocument {
            stack_trace: Some(String::new()),
            ..VcdErrorDocument::new(500, "INTERNAL_SERVER_ERROR", message)
        }
    }

    /// The error document in a non-2xx response body: `None` for an empty body or a body
    /// that is not a vCD `Error` (callers then report the HTTP status alone).
    pub fn from_body(body: &str) -> Option<Self> {
        use super::VcdDocument as _;
        if body.trim().is_empty() {
            return None;
        }
        Self::from_xml(body).ok()
    }

    /// `majorErrorCode` as a number, when it is one.
    pub fn major_code(&self) -> Option<u16> {
        self.major_error_code.as_deref()?.trim().parse().ok()
    }

    /// The message, or an empty string.
    pub fn message_or_empty(&self) -> &str {
        self.message.as_deref().unwrap_or_default()
    }
}

super::vcd_document! {
    VcdErrorDocument => "Error", media::ERROR;
}
