//! Retry policy for vCD requests: which failures are worth another attempt, and
//! how long to pause between attempts (exponential backoff with jitter, capped).
//!
//! Only idempotent requests (GET, PUT, DELETE) are retried after an answer or a
//! broken connection; a POST is retried only when the connection could not be
//! opened at all, because vCD never saw it.
//!
//! `400 BUSY_ENTITY` is different: vCD refused the request before doing anything
//! because another task holds the entity (a metadata write, a power operation,
//! another client's recompose). Any method is retried then, with its own, more
//! patient policy ([`RetryPolicy::busy_default`]), as careful vCD clients do.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::Method;

/// How often and how patiently to retry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts including the first (1 = never retry).
    pub max_attempts: u32,
    /// Pause before the first retry.
    pub initial_backoff: Duration,
    /// Longest pause between attempts.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    /// Four attempts, 250 ms doubling up to 5 s.
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(5),
        }
    }
}

/// Minor error code of vCD's "the entity is busy with another task" refusal.
pub const BUSY_ENTITY: &str = "BUSY_ENTITY";

impl RetryPolicy {
    /// The policy for `BUSY_ENTITY` refusals: twelve attempts, 100 ms doubling
    /// up to 5 s (about 35 s of waiting in all, longer than any metadata or
    /// power task a cluster operation overlaps with).
    pub const fn busy_default() -> Self {
        Self {
            max_attempts: 12,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
        }
    }

    /// One attempt only.
    pub const fn never() -> Self {
        Self {
            max_attempts: 1,
            initial_backoff: Duration::ZERO,
            max_backoff: Duration::ZERO,
        }
    }

    /// `attempts` attempts without pauses (tests).
    pub const fn immediate(attempts: u32) -> Self {
        Self {
            max_attempts: attempts,
            initial_backoff: Duration::ZERO,
            max_backoff: Duration::ZERO,
        }
    }

    /// The pause after failed attempt number `attempt` (1-based): the capped
    /// exponential value, with up to a quarter taken off at random so replicas
    /// retrying together spread out.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let base = self.ceiling(attempt);
        let quarter = base / 4;
        if quarter.is_zero() {
            return base;
        }
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let quarter_nanos = u64::try_from(quarter.as_nanos()).unwrap_or(u64::MAX).max(1);
        base - Duration::from_nanos(u64::from(nanos) % quarter_nanos)
    }

    /// The pause before jitter: `initial × 2^(attempt-1)`, at most `max_backoff`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(31);
        self.initial_backoff
            .saturating_mul(1u32 << exponent)
            .min(self.max_backoff)
    }

    /// True when another attempt is allowed after `attempt` attempts.
    pub fn allows_another(&self, attempt: u32) -> bool {
        attempt < self.max_attempts
    }
}

/// True for methods that may be repeated without changing the outcome.
pub fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE
    )
}

/// Is an HTTP status worth retrying for this method?
pub fn status_is_retryable(method: &Method, status: u16) -> bool {
    match status {
        429 | 502 | 503 | 504 => is_idempotent(method),
        500 => *method == Method::GET || *method == Method::HEAD,
        _ => false,
    }
}

/// True for vCD's `400 BUSY_ENTITY`: refused before any work, safe to send
/// again whatever the method.
pub fn is_busy_refusal(status: u16, minor_error_code: Option<&str>) -> bool {
    status == 400 && minor_error_code.is_some_and(|code| code.eq_ignore_ascii_case(BUSY_ENTITY))
}

/// The kind of transport failure, as far as retrying is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportFailure {
    /// The connection could not be opened: the server never saw the request.
    Connect,
    /// The request may have reached the server (time-out, reset, broken body).
    AfterSend,
    /// A local problem (bad URL, builder): retrying cannot help.
    Local,
}

impl TransportFailure {
    /// Classifies a reqwest error.
    pub fn of(error: &reqwest::Error) -> Self {
        if error.is_connect() {
            Self::Connect
        } else if error.is_builder() || error.is_redirect() {
            Self::Local
        } else {
            Self::AfterSend
        }
    }
}

/// Is a transport failure worth retrying for this method?
pub fn transport_is_retryable(method: &Method, failure: TransportFailure) -> bool {
    match failure {
        TransportFailure::Connect => true,
        TransportFailure::AfterSend => is_idempotent(method),
        TransportFailure::Local => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1000),
        };
        let ceilings: Vec<_> = (1..=6).map(|a| policy.ceiling(a).as_millis()).collect();
        assert_eq!(ceilings, [100, 200, 400, 800, 1000, 1000]);
        for attempt in 1..=6 {
            let pause = policy.backoff(attempt);
            let ceiling = policy.ceiling(attempt);
            assert!(
                pause <= ceiling && pause >= ceiling - ceiling / 4,
                "{pause:?}"
            );
        }
        assert_eq!(policy.ceiling(u32::MAX), Duration::from_millis(1000));
    }

    #[test]
    fn attempts_are_counted_including_the_first() {
        let policy = RetryPolicy::immediate(3);
        assert!(policy.allows_another(1));
        assert!(policy.allows_another(2));
        assert!(!policy.allows_another(3));
        assert!(!RetryPolicy::never().allows_another(1));
        assert_eq!(policy.backoff(2), Duration::ZERO);
    }

    #[test]
    fn only_idempotent_methods_retry_on_server_errors() {
        for status in [502, 503, 504, 429] {
            assert!(status_is_retryable(&Method::GET, status));
            assert!(status_is_retryable(&Method::PUT, status));
            assert!(status_is_retryable(&Method::DELETE, status));
            assert!(!status_is_retryable(&Method::POST, status));
        }
        assert!(status_is_retryable(&Method::GET, 500));
        assert!(!status_is_retryable(&Method::PUT, 500));
        for status in [400, 401, 403, 404, 409] {
            assert!(!status_is_retryable(&Method::GET, status));
        }
    }

    #[test]
    fn busy_refusals_are_recognised_by_status_and_code() {
        assert!(is_busy_refusal(400, Some("BUSY_ENTITY")));
        assert!(is_busy_refusal(400, Some("busy_entity")));
        assert!(!is_busy_refusal(400, Some("DUPLICATE_NAME")));
        assert!(!is_busy_refusal(400, None));
        assert!(!is_busy_refusal(409, Some("BUSY_ENTITY")));
        let busy = RetryPolicy::busy_default();
        let total: Duration = (1..busy.max_attempts).map(|a| busy.ceiling(a)).sum();
        assert!(total >= Duration::from_secs(30), "{total:?}");
        assert!(!busy.allows_another(busy.max_attempts));
    }

    #[test]
    fn post_retries_only_when_never_sent() {
        assert!(transport_is_retryable(
            &Method::POST,
            TransportFailure::Connect
        ));
        assert!(!transport_is_retryable(
            &Method::POST,
            TransportFailure::AfterSend
        ));
        assert!(transport_is_retryable(
            &Method::GET,
            TransportFailure::AfterSend
        ));
        assert!(!transport_is_retryable(
            &Method::GET,
            TransportFailure::Local
        ));
    }
}
