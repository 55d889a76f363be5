//! Run-time faults of vCD's REST API: rules of the simulator's one fault
//! vocabulary (`crate::faults`), added and removed while the simulator runs,
//! that delay requests and/or answer them with an error status and a vCD
//! `Error` document instead of handling them.
//!
//! [`RestFaults`] is a cheap-to-clone shared [`FaultSet`]; [`middleware`]
//! applies it to the vCD listener's REST router only (every vCD path,
//! `/api/cse` and the other API-extension paths included; never the vCenter
//! `/sdk` routes).
//!
//! REST specifics (the rest is `crate::faults`):
//! - Match ([`HttpMatch`]): a rule matches a request when its `method` (if
//!   any) equals the request's and its `path_contains` (if any) is a
//!   substring of the request's path and query (`/api/query?type=vApp`). A
//!   rule with no criteria matches every request.
//! - Effect ([`HttpStatus`]): the first matching rule (in the order added)
//!   with a status answers the request, after the delay; the request is not
//!   handled. A status-only rule behind another status rule is not used up.
//!
//! Add a rule to a running simulator, see it answer, read its hit count:
//!
//! ```
//! use vcd_sim::faults::FaultRule;
//! use vcd_sim::rest::faults::{HttpMatch, HttpStatus};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let sim = vcd_sim::SimBuilder::new().start_vcd().await?;
//! let only_versions = HttpMatch {
//!     method: Some(http::Method::GET),
//!     path_contains: Some("/api/versions".into()),
//! };
//! let rule = sim
//!     .http_faults()
//!     .add(FaultRule::new(only_versions, HttpStatus(503)).times(1))?;
//! let versions = format!("{}/api/versions", sim.base_url);
//! let first = reqwest::get(&versions).await?;
//! assert_eq!(first.status(), 503);
//! assert!(first.text().await?.contains("fault injected by the simulator"));
//! assert_eq!(reqwest::get(&versions).await?.status(), 200);
//! assert_eq!(sim.http_faults().hits(rule), 1);
//! assert_eq!(sim.http_faults().stats().faulted, 1);
//! sim.shutdown().await;
//! # Ok(())
//! # }
//! ```

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::context::{SUPPORTED_VERSIONS, VcdErrorResponse, accept_version};
use crate::faults::{Decision, Effect, FaultError, FaultRule, FaultSet, Match, RuleId};

/// Which REST requests a rule applies to. `Default` matches every request
/// (JSON: `{"method": "GET", "path_contains": "/api/query"}`, both optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpMatch {
    /// Only requests with this method (any method if `None`).
    #[serde(default, with = "method_json", skip_serializing_if = "Option::is_none")]
    pub method: Option<Method>,
    /// Only requests whose path and query contain this (any path if `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_contains: Option<String>,
}

/// An HTTP method as its name in JSON (upper case).
mod method_json {
    use axum::http::Method;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(m: &Option<Method>, s: S) -> Result<S::Ok, S::Error> {
        match m {
            Some(m) => s.serialize_str(m.as_str()),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Method>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|m| {
                Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                    .map_err(|_| serde::de::Error::custom(format!("`{m}` is not an HTTP method")))
            })
            .transpose()
    }
}

/// One REST request as the rules see it.
#[derive(Debug, Clone, Copy)]
pub struct HttpRequest<'a> {
    /// The request's method.
    pub method: &'a Method,
    /// The request's path and query (`/api/query?type=vApp`).
    pub path_and_query: &'a str,
}

impl Match<HttpRequest<'_>> for HttpMatch {
    fn matches(&self, request: &HttpRequest<'_>) -> bool {
        self.method.as_ref().is_none_or(|m| m == request.method)
            && self
                .path_contains
                .as_deref()
                .is_none_or(|p| request.path_and_query.contains(p))
    }
}

/// The effect of a REST rule: answer with this status and a vCD `Error`
/// document (a status HTTP can carry, 100–999).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct HttpStatus(pub u16);

impl Effect for HttpStatus {
    const SURFACE: &'static str = "REST";

    fn check(&self) -> Result<(), FaultError> {
        StatusCode::from_u16(self.0).map(drop).map_err(|_| {
            FaultError::BadEffect(format!(
                "fault rule status {} is not an HTTP status code (100-999)",
                self.0
            ))
        })
    }
}

/// A REST fault rule.
pub type RestFaultRule = FaultRule<HttpMatch, HttpStatus>;

/// The shared REST fault rules of one simulator. Cheap to clone.
pub type RestFaults = FaultSet<HttpMatch, HttpStatus>;

/// What the REST rules decide for one request (the first status answers).
pub fn decide(faults: &RestFaults, method: &Method, path_and_query: &str) -> Decision<HttpStatus> {
    faults.decide_first(&HttpRequest {
        method,
        path_and_query,
    })
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

/// Axum middleware applying the rules of a [`RestFaults`]: waits the
/// rules' delay, then answers with the rule's error or runs the handler.
pub async fn middleware(
    State(faults): State<RestFaults>,
    request: Request,
    next: Next,
) -> Response {
    let path_and_query = request.uri().path_and_query().map_or_else(
        || request.uri().path().to_string(),
        |p| p.as_str().to_string(),
    );
    let decision = decide(&faults, request.method(), &path_and_query);
    if !decision.delay.is_zero() {
        tokio::time::sleep(decision.delay).await;
    }
    match decision.first() {
        Some(&(rule, HttpStatus(status))) => {
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
    use std::time::Duration;

    use super::*;

    fn status(f: &RestFaults, method: Method, path: &str) -> Option<u16> {
        decide(f, &method, path).first().map(|(_, s)| s.0)
    }

    #[test]
    fn method_and_path_narrow_a_rule() {
        let f = RestFaults::new();
        let id = f
            .add(FaultRule::new(
                HttpMatch {
                    method: Some(Method::POST),
                    path_contains: Some("type=vApp".into()),
                },
                HttpStatus(500),
            ))
            .unwrap();
        assert_eq!(status(&f, Method::GET, "/api/query?type=vApp"), None);
        assert_eq!(status(&f, Method::POST, "/api/query?type=org"), None);
        assert_eq!(status(&f, Method::POST, "/api/query?type=vApp"), Some(500));
        assert_eq!(f.hits(id), 1);
    }

    #[test]
    fn latencies_add_up_and_the_first_status_answers() {
        let f = RestFaults::new();
        let any = HttpMatch::default;
        let slow = f
            .add(FaultRule::delay_only(any(), Duration::from_millis(30)))
            .unwrap();
        let first = f
            .add(FaultRule::new(any(), HttpStatus(502)).with_delay(Duration::from_millis(20)))
            .unwrap();
        let second = f
            .add(FaultRule::new(any(), HttpStatus(504)).times(1))
            .unwrap();
        let d = decide(&f, &Method::GET, "/api/session");
        assert_eq!(d.delay, Duration::from_millis(50));
        assert_eq!(d.effects, vec![(first, HttpStatus(502))]);
        assert_eq!((f.hits(slow), f.hits(first), f.hits(second)), (1, 1, 0));
    }

    #[test]
    fn statuses_http_cannot_carry_are_refused() {
        let f = RestFaults::new();
        let err = f
            .add(FaultRule::new(HttpMatch::default(), HttpStatus(42)))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "fault rule status 42 is not an HTTP status code (100-999)"
        );
        let r = fault_response(42, RuleId(1), None);
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
