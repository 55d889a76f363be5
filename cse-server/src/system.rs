//! The service's run state behind `GET`/`PUT /api/cse/system`: enabled or
//! disabled, whether a graceful stop was requested, and how many operations
//! are in flight. `cse run` waits on [`SystemState::stopped`] to exit once a
//! stop was requested and the last operation finished.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use cse_core::api::{ApiError, MessageBody, ServiceStatus, SystemAction};
use tokio::sync::Notify;

/// Shared, cheap-to-clone run state of one server process.
#[derive(Clone, Debug, Default)]
pub struct SystemState {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    enabled: AtomicBool,
    stop_requested: AtomicBool,
    in_flight: AtomicU64,
    changed: Notify,
}

/// Marks one operation in flight; dropping it ends the operation.
#[derive(Debug)]
pub struct InFlight {
    state: SystemState,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.state.inner.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.state.inner.changed.notify_waiters();
    }
}

impl SystemState {
    /// A state that is enabled (as `cse run` sets it after starting the listeners).
    pub fn enabled() -> Self {
        let state = Self::default();
        state.inner.enabled.store(true, Ordering::SeqCst);
        state
    }

    /// Whether new non-system requests are served.
    pub fn is_enabled(&self) -> bool {
        self.inner.enabled.load(Ordering::SeqCst)
    }

    /// Whether a graceful stop was requested.
    pub fn stop_requested(&self) -> bool {
        self.inner.stop_requested.load(Ordering::SeqCst)
    }

    /// Operations running now.
    pub fn in_flight(&self) -> u64 {
        self.inner.in_flight.load(Ordering::SeqCst)
    }

    /// `Running`, `Shutting down` or `Disabled`.
    pub fn status(&self) -> ServiceStatus {
        ServiceStatus::from_flags(self.is_enabled(), self.stop_requested())
    }

    /// Counts an operation until the guard is dropped.
    pub fn begin(&self) -> InFlight {
        self.inner.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight {
            state: self.clone(),
        }
    }

    /// Applies `PUT /api/cse/system` (1.2.x rules and texts).
    pub fn apply(&self, action: SystemAction) -> Result<MessageBody, ApiError> {
        let message = match action {
            SystemAction::Enable => {
                if self.stop_requested() {
                    return Err(ApiError::CannotEnableWhileStopping);
                }
                self.inner.enabled.store(true, Ordering::SeqCst);
                MessageBody::updated()
            }
            SystemAction::Disable => {
                self.inner.enabled.store(false, Ordering::SeqCst);
                MessageBody::updated()
            }
            SystemAction::Stop => {
                if self.is_enabled() {
                    return Err(ApiError::CannotStopWhileEnabled);
                }
                self.inner.stop_requested.store(true, Ordering::SeqCst);
                MessageBody::shutdown_started(
                    usize::try_from(self.in_flight()).unwrap_or(usize::MAX),
                )
            }
        };
        self.inner.changed.notify_waiters();
        Ok(message)
    }

    /// Requests a stop from outside the API (a signal): disables and stops.
    pub fn request_stop(&self) {
        self.inner.enabled.store(false, Ordering::SeqCst);
        self.inner.stop_requested.store(true, Ordering::SeqCst);
        self.inner.changed.notify_waiters();
    }

    /// Resolves once a stop was requested and no operation is in flight.
    pub async fn stopped(&self) {
        loop {
            let notified = self.inner.changed.notified();
            if self.stop_requested() && self.in_flight() == 0 {
                return;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enable_disable_stop_follow_the_original_rules() {
        let state = SystemState::enabled();
        assert_eq!(state.status(), ServiceStatus::Running);
        assert_eq!(
            state.apply(SystemAction::Stop).unwrap_err(),
            ApiError::CannotStopWhileEnabled
        );
        state.apply(SystemAction::Disable).unwrap();
        assert_eq!(state.status(), ServiceStatus::Disabled);
        let guard = state.begin();
        let message = state.apply(SystemAction::Stop).unwrap();
        assert!(
            message.message.contains("finish processing 1 requests"),
            "{message:?}"
        );
        assert_eq!(state.status(), ServiceStatus::ShuttingDown);
        assert_eq!(
            state.apply(SystemAction::Enable).unwrap_err(),
            ApiError::CannotEnableWhileStopping
        );
        drop(guard);
        assert_eq!(state.in_flight(), 0);
    }

    #[tokio::test]
    async fn stopped_resolves_after_the_last_operation() {
        let state = SystemState::enabled();
        let guard = state.begin();
        state.request_stop();
        let waiter = tokio::spawn({
            let state = state.clone();
            async move { state.stopped().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(guard);
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .unwrap()
            .unwrap();
    }
}
