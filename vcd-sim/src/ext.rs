//! vCD's API-extension routing: a request whose path matches an enabled
//! extension service's API filters is wrapped into the extension envelope,
//! published on the bus to the service's exchange and routing key, and the
//! correlated reply is turned back into the HTTP response.
//!
//! This file holds the types the REST layer uses to hand a request over;
//! [`filters`] matches paths against registered API filters, [`router`] does
//! the AMQP round trip ([`ExtensionRouter`]), [`responses`] builds vCD's own
//! answers (504 on time-out, 500 when the message cannot be sent, the
//! fall-through when no enabled extension matches).

pub mod filters;
pub mod responses;
pub mod router;

pub use filters::{ApiFilter, FilterError, RegisteredExtension, find_extension, first_routed};
pub use router::{ExtensionRouter, RouterOptions};

use bytes::Bytes;

/// A registered extension service as routing needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionTarget {
    /// Service name, e.g. `cse`.
    pub name: String,
    pub namespace: String,
    pub exchange: String,
    pub routing_key: String,
    pub enabled: bool,
    /// vCD id of the service (`urn:vcloud:service:...`), used in error texts.
    pub id: String,
}

/// Who makes the request, as vCD puts it into the envelope's security context.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecurityContext {
    pub user_urn: String,
    pub user_name: String,
    pub org_urn: String,
    pub org_name: String,
    pub rights: Vec<String>,
}

/// An HTTP request vCD forwards to an extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardedRequest {
    pub method: String,
    /// Path only, e.g. `/api/cse/c1/info`.
    pub request_uri: String,
    pub query_string: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    pub security: SecurityContext,
    pub remote_addr: Option<String>,
}

/// What goes back to the HTTP client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardedResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}
