//! Run-time faults of vCD's REST API: rules, added and removed while the
//! simulator runs, that delay requests and/or answer them with an error
//! status and a vCD `Error` document instead of handling them.
//!
//! [`HttpFaults`] is a cheap-to-clone shared handle; [`middleware`] applies it
//! to the vCD listener's REST router only (every vCD path, `/api/cse` and the
//! other API-extension paths included; never the vCenter `/sdk` routes).
//!
//! Rule semantics:
//! - A rule matches a request when its `method` (if any) equals the request's
//!   and its `path_contains` (if any) is a substring of the request's path and
//!   query (`/api/query?type=vApp`). A rule with no criteria matches every request.
//! - A rule with `times: Some(n)` affects at most `n` requests, then stays
//!   listed (so [`HttpFaults::hits`] still answers) but no longer matches;
//!   `times: None` applies until removed or cleared.
//! - Latency: the latencies of all matching rules add up. They are real time,
//!   not scaled by the simulator's clock (a fault is about the network and
//!   the client's timeouts, not simulated work).
//! - Status: the first matching rule (in the order added) that has a status
//!   answers the request, after the latency; the request is not handled.
//! - A rule "affects" a request (counts a hit and uses up one of its `times`)
//!   when it matches and contributes: its latency, or its status as the one
//!   answering. A status-only rule behind another status rule is not used up.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use serde::Serialize;

use super::{SUPPORTED_VERSIONS, VcdErrorResponse, accept_version};

/// One fault rule. `Default` is a rule that matches everything and does nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultRule {
    /// Only requests with this method (any method if `None`).
    pub method: Option<Method>,
    /// Only requests whose path and query contain this (any path if `None`).
    pub path_contains: Option<String>,
    /// Answer with this status and a vCD `Error` document (100–999; other
    /// values are answered as 500, see [`FaultRule::check`]).
    pub status: Option<u16>,
    /// Delay the request by this much real time.
    pub latency: Option<Duration>,
    /// How many requests the rule affects (`None`: until removed).
    pub times: Option<u32>,
}

/// Why a rule cannot be added by [`HttpFaults::try_add`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultRuleError {
    #[error("fault rule status {0} is not an HTTP status code (100-999)")]
    BadStatus(u16),
}

impl FaultRule {
    /// Checks the status is one HTTP can carry.
    pub fn check(&self) -> Result<(), FaultRuleError> {
        match self.status {
            Some(s) if StatusCode::from_u16(s).is_err() => Err(FaultRuleError::BadStatus(s)),
            _ => Ok(()),
        }
    }

    fn matches(&self, method: &Method, path_and_query: &str) -> bool {
        self.method.as_ref().is_none_or(|m| m == method)
            && self
                .path_contains
                .as_deref()
                .is_none_or(|p| path_and_query.contains(p))
    }
}

/// Identifies a rule added to an [`HttpFaults`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct RuleId(pub u64);

/// A rule as listed by [`HttpFaults::active`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveRule {
    pub id: RuleId,
    pub rule: FaultRule,
    /// Requests affected so far.
    pub hits: u32,
    /// Requests it may still affect (`None`: unlimited).
    pub remaining: Option<u32>,
}

#[derive(Debug)]
struct Entry {
    id: RuleId,
    rule: FaultRule,
    hits: u32,
}

impl Entry {
    fn remaining(&self) -> Option<u32> {
        self.rule.times.map(|t| t.saturating_sub(self.hits))
    }

    fn exhausted(&self) -> bool {
        self.remaining() == Some(0)
    }
}

#[derive(Debug, Default)]
struct Rules {
    next_id: u64,
    entries: Vec<Entry>,
}

/// What the rules decided for one request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FaultDecision {
    /// Total real-time delay before answering.
    pub latency: Duration,
    /// The status to answer with instead of handling the request.
    pub status: Option<u16>,
    /// The rule whose status answers.
    pub status_rule: Option<RuleId>,
}

/// The shared set of REST fault rules of one simulator. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct HttpFaults {
    rules: Arc<Mutex<Rules>>,
}

impl HttpFaults {
    /// No rules.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a rule (after the existing ones). A status HTTP cannot carry is
    /// answered as 500; use [`HttpFaults::try_add`] to refuse it instead.
    pub fn add(&self, rule: FaultRule) -> RuleId {
        let mut rules = self.rules.lock();
        rules.next_id += 1;
        let id = RuleId(rules.next_id);
        tracing::info!(?id, ?rule, "vcd-sim: REST fault rule added");
        rules.entries.push(Entry { id, rule, hits: 0 });
        id
    }

    /// Adds a rule after checking it.
    pub fn try_add(&self, rule: FaultRule) -> Result<RuleId, FaultRuleError> {
        rule.check()?;
        Ok(self.add(rule))
    }

    /// Removes a rule; returns whether it existed.
    pub fn remove(&self, id: RuleId) -> bool {
        let mut rules = self.rules.lock();
        let before = rules.entries.len();
        rules.entries.retain(|e| e.id != id);
        rules.entries.len() != before
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.rules.lock().entries.clear();
    }

    /// How many requests a rule affected (0 for a rule removed or unknown).
    pub fn hits(&self, id: RuleId) -> u32 {
        self.rules
            .lock()
            .entries
            .iter()
            .find(|e| e.id == id)
            .map_or(0, |e| e.hits)
    }

    /// The rules that still apply (used-up rules are left out), in order.
    pub fn active(&self) -> Vec<ActiveRule> {
        self.rules
            .lock()
            .entries
            .iter()
            .filter(|e| !e.exhausted())
            .map(|e| ActiveRule {
                id: e.id,
                rule: e.rule.clone(),
                hits: e.hits,
                remaining: e.remaining(),
            })
            .collect()
    }

    /// Decides what happens to a request and counts the hits (one atomic
    /// step, so concurrent requests use up `times` exactly).
    pub fn decide(&self, method: &Method, path_and_query: &str) -> FaultDecision {
        let mut rules = self.rules.lock();
        let mut decision = FaultDecision::default();
        for entry in rules.entries.iter_mut() {
            if entry.exhausted() || !entry.rule.matches(method, path_and_query) {
                continue;
            }
            let mut affected = false;
            if let Some(latency) = entry.rule.latency {
                decision.latency = decision.latency.saturating_add(latency);
                affected = true;
            }
            if let Some(status) = entry.rule.status
                && decision.status.is_none()
            {
                decision.status = Some(status);
                decision.status_rule = Some(entry.id);
                affected = true;
            }
            if affected {
                entry.hits = entry.hits.saturating_add(1);
            }
        }
        decision
    }
}

/// The minor error code vCD uses with a major code.
fn minor_code(status: StatusCode) -> String {
    match status.as_u16() {
        400 => "BAD_REQUEST".into(),
        401 => "UNAUTHORIZED".into(),
        403 => "ACCESS_TO_RESOURCE_IS_FORBIDDEN".into(),
        404 => "RESOURCE_NOT_FOUND".into(),
        500 => "INTERNAL_SERVER_ERROR".into(),
        _ => status
            .canonical_reason()
            .unwrap_or("ERROR")
            .to_ascii_uppercase()
            .replace([' ', '-'], "_"),
    }
}

/// The vCD `Error` response of an injected fault, in the request's API version.
pub fn fault_response(status: u16, rule: RuleId, accept: Option<&str>) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let reason = code.canonical_reason().unwrap_or("Error");
    let mut error = VcdErrorResponse::new(
        code,
        &minor_code(code),
        format!(
            "{reason} (fault injected by the simulator, rule {})",
            rule.0
        ),
    );
    if let Some(v) = accept
        .and_then(accept_version)
        .filter(|v| SUPPORTED_VERSIONS.contains(&v.as_str()))
    {
        error.version = v;
    }
    error.into_response()
}

/// Axum middleware applying the rules of an [`HttpFaults`]: waits the
/// rules' latency, then answers with the rule's error or runs the handler.
pub async fn middleware(
    State(faults): State<HttpFaults>,
    request: Request,
    next: Next,
) -> Response {
    let path_and_query = request.uri().path_and_query().map_or_else(
        || request.uri().path().to_string(),
        |p| p.as_str().to_string(),
    );
    let decision = faults.decide(request.method(), &path_and_query);
    if !decision.latency.is_zero() {
        tokio::time::sleep(decision.latency).await;
    }
    match (decision.status, decision.status_rule) {
        (Some(status), Some(rule)) => {
            tracing::info!(
                method = %request.method(),
                path = %path_and_query,
                status,
                ?rule,
                "vcd-sim: injected REST fault"
            );
            let accept = request
                .headers()
                .get(axum::http::header::ACCEPT)
                .and_then(|v| v.to_str().ok());
            fault_response(status, rule, accept)
        }
        _ => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> FaultRule {
        FaultRule::default()
    }

    #[test]
    fn times_limits_the_requests_a_rule_affects() {
        let f = HttpFaults::new();
        let id = f.add(FaultRule {
            status: Some(503),
            times: Some(2),
            ..rule()
        });
        let d = |f: &HttpFaults| f.decide(&Method::GET, "/api/org").status;
        assert_eq!((d(&f), d(&f), d(&f)), (Some(503), Some(503), None));
        assert_eq!(f.hits(id), 2);
        assert!(f.active().is_empty());
    }

    #[test]
    fn method_and_path_narrow_a_rule() {
        let f = HttpFaults::new();
        let id = f.add(FaultRule {
            method: Some(Method::POST),
            path_contains: Some("type=vApp".into()),
            status: Some(500),
            ..rule()
        });
        assert_eq!(f.decide(&Method::GET, "/api/query?type=vApp").status, None);
        assert_eq!(f.decide(&Method::POST, "/api/query?type=org").status, None);
        assert_eq!(
            f.decide(&Method::POST, "/api/query?type=vApp").status,
            Some(500)
        );
        assert_eq!(f.hits(id), 1);
    }

    #[test]
    fn latencies_add_up_and_the_first_status_answers() {
        let f = HttpFaults::new();
        let slow = f.add(FaultRule {
            latency: Some(Duration::from_millis(30)),
            ..rule()
        });
        let first = f.add(FaultRule {
            status: Some(502),
            latency: Some(Duration::from_millis(20)),
            ..rule()
        });
        let second = f.add(FaultRule {
            status: Some(504),
            times: Some(1),
            ..rule()
        });
        let d = f.decide(&Method::GET, "/api/session");
        assert_eq!(
            d,
            FaultDecision {
                latency: Duration::from_millis(50),
                status: Some(502),
                status_rule: Some(first),
            }
        );
        assert_eq!((f.hits(slow), f.hits(first), f.hits(second)), (1, 1, 0));
        assert!(f.remove(first));
        assert!(!f.remove(first));
        assert_eq!(f.decide(&Method::GET, "/api/session").status, Some(504));
        assert_eq!(f.active().len(), 1);
        f.clear();
        assert_eq!(
            f.decide(&Method::GET, "/api/session"),
            FaultDecision::default()
        );
        assert_eq!(f.hits(slow), 0);
    }

    #[test]
    fn active_lists_rules_with_their_counts() {
        let f = HttpFaults::new();
        let rule = FaultRule {
            status: Some(503),
            times: Some(3),
            ..rule()
        };
        let id = f.add(rule.clone());
        f.decide(&Method::GET, "/api");
        assert_eq!(
            f.active(),
            vec![ActiveRule {
                id,
                rule,
                hits: 1,
                remaining: Some(2)
            }]
        );
    }

    #[test]
    fn statuses_http_cannot_carry_are_refused_or_answered_as_500() {
        let f = HttpFaults::new();
        let bad = FaultRule {
            status: Some(42),
            ..rule()
        };
        assert_eq!(f.try_add(bad.clone()), Err(FaultRuleError::BadStatus(42)));
        let id = f.add(bad);
        let r = fault_response(42, id, None);
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn minor_codes_follow_vcd() {
        assert_eq!(minor_code(StatusCode::NOT_FOUND), "RESOURCE_NOT_FOUND");
        assert_eq!(
            minor_code(StatusCode::SERVICE_UNAVAILABLE),
            "SERVICE_UNAVAILABLE"
        );
        assert_eq!(minor_code(StatusCode::GATEWAY_TIMEOUT), "GATEWAY_TIMEOUT");
    }
}
