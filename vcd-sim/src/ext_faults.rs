//! Faults of vCD's extension delivery (a request that matched an extension's
//! API filter, on its way to the extension and back), as rules of the
//! simulator's one fault vocabulary (`crate::faults`).
//!
//! The match is an [`ExtMatch`] (service namespace, method, path), the effect
//! an [`ExtEffect`]: answer as vCD does when the extension does not reply in
//! time (504), when the message cannot be published (500), or with any error
//! status. A delay-only rule holds the request back before it is published.
//! [`FaultingForwarder`] applies the rules in front of the real forwarder;
//! the first matching rule's effect is taken, after every matching delay.

use std::sync::Arc;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::ext::ExtensionForwarder;
use crate::ext::responses::{cannot_send_response, error_response, timeout_response};
use crate::ext::{ExtensionTarget, ForwardedRequest, ForwardedResponse};
use crate::faults::{Effect, FaultError, FaultRule, FaultSet, Match};

/// Which extension requests a rule applies to. `Default` matches every one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtMatch {
    /// Only requests for the service with this namespace (`cse`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Only requests with this HTTP method (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Only requests whose path contains this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_contains: Option<String>,
}

/// One extension request as the rules see it.
#[derive(Debug, Clone, Copy)]
pub struct ExtCall<'a> {
    /// The service it goes to.
    pub target: &'a ExtensionTarget,
    /// The request.
    pub request: &'a ForwardedRequest,
}

impl Match<ExtCall<'_>> for ExtMatch {
    fn matches(&self, call: &ExtCall<'_>) -> bool {
        self.namespace
            .as_deref()
            .is_none_or(|n| n == call.target.namespace)
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(&call.request.method))
            && self
                .path_contains
                .as_deref()
                .is_none_or(|p| call.request.request_uri.contains(p))
    }
}

/// What an injected extension request gets instead of the extension's reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ExtEffect {
    /// vCD's 504 `GATEWAY_TIMEOUT`, as when no reply comes within the
    /// extensibility timeout (answered at once; add a delay to wait first).
    Timeout,
    /// vCD's 500 when the message cannot be published.
    CannotSend,
    /// A vCD `Error` document with this status (400–599).
    Status(u16),
}

impl Effect for ExtEffect {
    const SURFACE: &'static str = "extension";

    fn check(&self) -> Result<(), FaultError> {
        match self {
            ExtEffect::Status(s) if !(400..=599).contains(s) => Err(FaultError::BadEffect(
                format!("extension fault status {s} is not an error status (400-599)"),
            )),
            _ => Ok(()),
        }
    }
}

/// An extension delivery fault rule.
pub type ExtFaultRule = FaultRule<ExtMatch, ExtEffect>;

/// The extension delivery fault rules of one simulator. Cheap to clone.
pub type ExtFaults = FaultSet<ExtMatch, ExtEffect>;

/// Sees every extension message and its answer (the recorder).
pub type ExtObserver =
    Arc<dyn Fn(&ExtensionTarget, &ForwardedRequest, &ForwardedResponse) + Send + Sync>;

/// Where an [`ExtObserver`] is plugged in once the simulator runs. Cheap to clone.
pub type ExtTap = Arc<parking_lot::RwLock<Option<ExtObserver>>>;

/// Applies [`ExtFaults`] in front of another forwarder, and shows every
/// message with its answer to the [`ExtTap`]'s observer.
pub struct FaultingForwarder {
    inner: Arc<dyn ExtensionForwarder>,
    faults: ExtFaults,
    tap: ExtTap,
}

impl FaultingForwarder {
    /// `inner` behind `faults`, observed through `tap`.
    pub fn new(inner: Arc<dyn ExtensionForwarder>, faults: ExtFaults, tap: ExtTap) -> Self {
        Self { inner, faults, tap }
    }
}

impl ExtensionForwarder for FaultingForwarder {
    fn forward(
        &self,
        target: ExtensionTarget,
        req: ForwardedRequest,
    ) -> BoxFuture<'static, ForwardedResponse> {
        let decision = self.faults.decide_first(&ExtCall {
            target: &target,
            request: &req,
        });
        let inner = Arc::clone(&self.inner);
        let tap = self.tap.read().clone();
        Box::pin(async move {
            if !decision.delay.is_zero() {
                tokio::time::sleep(decision.delay).await;
            }
            let observed = tap.map(|t| (t, target.clone(), req.clone()));
            let response = match decision.first() {
                Some((rule, effect)) => {
                    tracing::info!(?rule, ?effect, path = %req.request_uri, "vcd-sim: injected extension fault");
                    match effect {
                        ExtEffect::Timeout => timeout_response(&req, &target, 0),
                        ExtEffect::CannotSend => cannot_send_response(&req, &target),
                        ExtEffect::Status(s) => error_response(
                            &req,
                            *s,
                            "INTERNAL_SERVER_ERROR",
                            &format!("fault injected by the simulator, rule {}", rule.0),
                        ),
                    }
                }
                None => inner.forward(target, req).await,
            };
            if let Some((tap, target, req)) = observed {
                tap(&target, &req, &response);
            }
            response
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> ExtensionTarget {
        ExtensionTarget {
            name: "cse".into(),
            namespace: "cse".into(),
            exchange: "vcdext".into(),
            routing_key: "cse".into(),
            enabled: true,
            id: "urn:vcloud:service:1".into(),
            mqtt: None,
        }
    }

    fn request(method: &str, path: &str) -> ForwardedRequest {
        ForwardedRequest {
            method: method.into(),
            request_uri: path.into(),
            query_string: None,
            headers: vec![],
            body: Default::default(),
            security: Default::default(),
            remote_addr: None,
        }
    }

    struct Answer;
    impl ExtensionForwarder for Answer {
        fn forward(
            &self,
            _t: ExtensionTarget,
            _r: ForwardedRequest,
        ) -> BoxFuture<'static, ForwardedResponse> {
            Box::pin(async {
                ForwardedResponse {
                    status: 200,
                    headers: vec![],
                    body: Default::default(),
                }
            })
        }
    }

    #[tokio::test]
    async fn matching_requests_get_the_effect_others_the_extension() {
        let faults = ExtFaults::new();
        let id = faults
            .add(
                FaultRule::new(
                    ExtMatch {
                        namespace: Some("cse".into()),
                        method: Some("post".into()),
                        path_contains: Some("/api/cse/cluster".into()),
                    },
                    ExtEffect::Timeout,
                )
                .times(1),
            )
            .unwrap();
        let f = FaultingForwarder::new(Arc::new(Answer), faults.clone(), ExtTap::default());
        let get = f
            .forward(target(), request("GET", "/api/cse/cluster"))
            .await;
        assert_eq!(get.status, 200);
        let post = f
            .forward(target(), request("POST", "/api/cse/cluster"))
            .await;
        assert_eq!(post.status, 504);
        let again = f
            .forward(target(), request("POST", "/api/cse/cluster"))
            .await;
        assert_eq!(again.status, 200, "the rule was used up");
        assert_eq!(faults.hits(id), 1);
    }

    #[tokio::test]
    async fn the_tap_sees_every_message_and_answer_for_the_recording() {
        let tap = ExtTap::default();
        let seen = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        *tap.write() = Some(Arc::new(move |t, q, a| {
            sink.lock()
                .push(crate::record::Exchange::extension(t, q, a));
        }));
        let faults = ExtFaults::new();
        faults
            .add(FaultRule::new(ExtMatch::default(), ExtEffect::CannotSend).times(1))
            .unwrap();
        let f = FaultingForwarder::new(Arc::new(Answer), faults, tap);
        let mut req = request("GET", "/api/cse/clusters");
        req.headers = vec![
            (
                "Authorization".into(),
                "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln".into(),
            ),
            (
                "x-vcloud-authorization".into(),
                "0123456789abcdef0123456789abcdef".into(),
            ),
        ];
        assert_eq!(f.forward(target(), req.clone()).await.status, 500);
        assert_eq!(f.forward(target(), req).await.status, 200);
        let seen = seen.lock();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0].surface, "extension");
        assert_eq!(seen[0].operation, "vcdext cse");
        assert_eq!(seen[0].response.status, Some(500));
        assert_eq!(seen[1].response.status, Some(200));
        let text = serde_json::to_string(&*seen).unwrap();
        assert!(
            !text.contains("eyJ") && !text.contains("0123456789abcdef"),
            "{text}"
        );
    }

    #[test]
    fn only_error_statuses_are_taken() {
        let faults = ExtFaults::new();
        let err = faults
            .add(FaultRule::new(ExtMatch::default(), ExtEffect::Status(200)))
            .unwrap_err();
        assert!(err.to_string().contains("400-599"), "{err}");
    }
}
