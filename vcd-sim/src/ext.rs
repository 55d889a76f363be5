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
use futures::future::BoxFuture;

/// A registered extension service as routing needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionTarget {
    /// Service name, e.g. `cse`.
    pub name: String,
    /// Namespace (`cse`); the service's rights are prefixed with it.
    pub namespace: String,
    /// AMQP exchange requests are published to.
    pub exchange: String,
    /// Routing key of the requests.
    pub routing_key: String,
    /// Whether vCD routes to it; a disabled service gets no requests.
    pub enabled: bool,
    /// vCD id of the service (`urn:vcloud:service:...`), used in error texts.
    pub id: String,
    /// Set for an MQTT API extension: requests go to its topics, not to AMQP.
    pub mqtt: Option<MqttTopics>,
}

/// The topics vCD gave an MQTT API extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MqttTopics {
    /// vCD publishes requests here (`topic/extension/<vendor>/<name>/<version>/ext`).
    pub monitor: String,
    /// The extension publishes responses here (`…/vcd`).
    pub respond: String,
}

/// Who makes the request, as vCD puts it into the envelope's security context.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecurityContext {
    /// `urn:vcloud:user:...` of the caller.
    pub user_urn: String,
    /// The caller's user name.
    pub user_name: String,
    /// `urn:vcloud:org:...` of the caller's org.
    pub org_urn: String,
    /// The org's name.
    pub org_name: String,
    /// Names of the caller's rights.
    pub rights: Vec<String>,
}

/// An HTTP request vCD forwards to an extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardedRequest {
    /// HTTP method (`GET`, `POST`, ...).
    pub method: String,
    /// Path only, e.g. `/api/cse/c1/info`.
    pub request_uri: String,
    /// The query string without `?`, if any.
    pub query_string: Option<String>,
    /// Request headers, names as received.
    pub headers: Vec<(String, String)>,
    /// Request body.
    pub body: Bytes,
    /// Who makes the request.
    pub security: SecurityContext,
    /// Client address, `ip:port`.
    pub remote_addr: Option<String>,
}

/// What goes back to the HTTP client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardedResponse {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: Vec<(String, String)>,
    /// Response body.
    pub body: Bytes,
}

/// Hands a request that matched an extension's API filter to the extension
/// (over AMQP in the real routing). Implemented by the extension router.
pub trait ExtensionForwarder: Send + Sync {
    /// Sends `req` to the extension `target` and resolves to what the client gets:
    /// the extension's answer, or vCD's error when the extension does not answer.
    fn forward(
        &self,
        target: ExtensionTarget,
        req: ForwardedRequest,
    ) -> BoxFuture<'static, ForwardedResponse>;
}

/// An [`ExtensionForwarder`] made from a closure, e.g. over the AMQP
/// extension router:
/// `FnForwarder::new(move |t, r| { let x = router.clone(); Box::pin(async move { x.forward(&t, r).await }) })`.
pub struct FnForwarder<F>(F);

impl<F> FnForwarder<F>
where
    F: Fn(ExtensionTarget, ForwardedRequest) -> BoxFuture<'static, ForwardedResponse> + Send + Sync,
{
    /// A forwarder calling `f` for every request.
    pub fn new(f: F) -> Self {
        FnForwarder(f)
    }
}

impl<F> ExtensionForwarder for FnForwarder<F>
where
    F: Fn(ExtensionTarget, ForwardedRequest) -> BoxFuture<'static, ForwardedResponse> + Send + Sync,
{
    fn forward(
        &self,
        target: ExtensionTarget,
        req: ForwardedRequest,
    ) -> BoxFuture<'static, ForwardedResponse> {
        (self.0)(target, req)
    }
}
