//! The simulator's time scale. Every simulated duration (task run time, boot,
//! tools start, `sleep` in a guest script, `kubeadm init`) goes through a
//! [`Clock`], so tests run with no delays and `serve` runs in real time.
//!
//! A clock made with [`Clock::controlled`] can be changed while the simulator
//! runs (the control API's `PUT /_sim/clock` and `POST /_sim/clock/advance`):
//! its clones share one scale, and [`Clock::advance`] moves simulated time
//! forward, ending or shortening every simulated wait under way.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

/// The largest time scale a clock takes (a simulated second lasting over an
/// hour is never what a test means).
pub const MAX_SCALE: f64 = 3600.0;

#[derive(Debug)]
struct Shared {
    /// The scale's `f64` bits.
    scale: AtomicU64,
    /// Simulated nanoseconds skipped by [`Clock::advance`] so far.
    advanced: AtomicU64,
    /// Wakes waits when the scale changes or time is advanced.
    changed: Notify,
}

/// Scales simulated durations into real ones. Cheap to clone; clones of a
/// controlled clock share its scale.
#[derive(Debug, Clone)]
pub struct Clock {
    scale: f64,
    shared: Option<Arc<Shared>>,
}

impl PartialEq for Clock {
    fn eq(&self, other: &Self) -> bool {
        self.scale() == other.scale()
    }
}

fn sanitize(scale: f64) -> f64 {
    if scale.is_finite() && scale > 0.0 {
        scale.min(MAX_SCALE)
    } else {
        0.0
    }
}

impl Clock {
    /// Every simulated delay is skipped (tests).
    pub const fn instant() -> Self {
        Clock {
            scale: 0.0,
            shared: None,
        }
    }

    /// Simulated delays take their real duration (demos, `serve` default).
    pub const fn realtime() -> Self {
        Clock {
            scale: 1.0,
            shared: None,
        }
    }

    /// Simulated delays take `scale` times their nominal duration. Negative or
    /// non-finite scales are treated as 0; scales above [`MAX_SCALE`] as it.
    pub fn scaled(scale: f64) -> Self {
        Clock {
            scale: sanitize(scale),
            shared: None,
        }
    }

    /// A clock whose scale can be changed, and whose time advanced, while it
    /// runs ([`Self::set_scale`], [`Self::advance`]); clones share it.
    pub fn controlled(scale: f64) -> Self {
        let scale = sanitize(scale);
        Clock {
            scale,
            shared: Some(Arc::new(Shared {
                scale: AtomicU64::new(scale.to_bits()),
                advanced: AtomicU64::new(0),
                changed: Notify::new(),
            })),
        }
    }

    /// Whether [`Self::set_scale`] and [`Self::advance`] take effect.
    pub fn is_controlled(&self) -> bool {
        self.shared.is_some()
    }

    /// The factor applied to simulated durations.
    pub fn scale(&self) -> f64 {
        match &self.shared {
            Some(s) => f64::from_bits(s.scale.load(Ordering::Acquire)),
            None => self.scale,
        }
    }

    /// Changes the scale of a controlled clock (and of its clones); waits
    /// under way continue at the new scale. Returns false, changing nothing,
    /// for a clock that is not controlled.
    pub fn set_scale(&self, scale: f64) -> bool {
        match &self.shared {
            Some(s) => {
                s.scale.store(sanitize(scale).to_bits(), Ordering::Release);
                s.changed.notify_waiters();
                true
            }
            None => false,
        }
    }

    /// Moves the simulated time of a controlled clock forward: every wait
    /// under way ends `by` earlier (at once when less remains). Returns
    /// false, changing nothing, for a clock that is not controlled.
    pub fn advance(&self, by: Duration) -> bool {
        match &self.shared {
            Some(s) => {
                let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
                let _ = s
                    .advanced
                    .fetch_update(Ordering::AcqRel, Ordering::Acquire, |a| {
                        Some(a.saturating_add(nanos))
                    });
                s.changed.notify_waiters();
                true
            }
            None => false,
        }
    }

    /// Simulated time skipped by [`Self::advance`] since the clock was made.
    pub fn advanced(&self) -> Duration {
        self.shared.as_ref().map_or(Duration::ZERO, |s| {
            Duration::from_nanos(s.advanced.load(Ordering::Acquire))
        })
    }

    /// Whether simulated delays are skipped altogether.
    pub fn is_instant(&self) -> bool {
        self.scale() == 0.0
    }

    /// The real duration a simulated one takes at the current scale.
    pub fn real(&self, simulated: Duration) -> Duration {
        let scale = self.scale();
        if scale == 0.0 {
            Duration::ZERO
        } else {
            simulated.mul_f64(scale)
        }
    }

    /// Waits for a simulated duration (returns at once on an instant clock).
    /// On a controlled clock the wait follows scale changes and advances.
    pub async fn sleep(&self, simulated: Duration) {
        let Some(shared) = &self.shared else {
            let real = self.real(simulated);
            if !real.is_zero() {
                tokio::time::sleep(real).await;
            }
            return;
        };
        let advanced_at_start = self.advanced();
        // Simulated time already waited at earlier scales.
        let mut waited = Duration::ZERO;
        loop {
            let skipped = self.advanced().saturating_sub(advanced_at_start);
            let remaining = simulated.saturating_sub(waited).saturating_sub(skipped);
            let scale = self.scale();
            if remaining.is_zero() || scale == 0.0 {
                return;
            }
            let changed = shared.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let started = tokio::time::Instant::now();
            tokio::select! {
                () = tokio::time::sleep(remaining.mul_f64(scale)) => return,
                () = &mut changed => {
                    waited += started.elapsed().div_f64(scale);
                }
            }
        }
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::instant()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instant_clock_skips_delays() {
        assert_eq!(
            Clock::instant().real(Duration::from_secs(60)),
            Duration::ZERO
        );
    }

    #[test]
    fn scaled_clock_multiplies() {
        assert_eq!(
            Clock::scaled(0.5).real(Duration::from_secs(10)),
            Duration::from_secs(5)
        );
    }

    #[test]
    fn bad_scales_mean_instant() {
        assert!(Clock::scaled(-1.0).is_instant());
        assert!(Clock::scaled(f64::NAN).is_instant());
    }
}

#[cfg(test)]
mod control_tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn advancing_a_controlled_clock_ends_waits_early() {
        let clock = Clock::controlled(1.0);
        let waiter = clock.clone();
        let wait = tokio::spawn(async move { waiter.sleep(Duration::from_secs(600)).await });
        tokio::task::yield_now().await;
        assert!(!wait.is_finished());
        assert!(clock.advance(Duration::from_secs(599)));
        tokio::task::yield_now().await;
        assert!(!wait.is_finished(), "one simulated second remains");
        assert!(clock.advance(Duration::from_secs(5)));
        wait.await.unwrap();
        assert_eq!(clock.advanced(), Duration::from_secs(604));
    }

    #[tokio::test(start_paused = true)]
    async fn a_scale_change_reaches_waits_under_way() {
        let clock = Clock::controlled(1000.0);
        let waiter = clock.clone();
        let wait = tokio::spawn(async move { waiter.sleep(Duration::from_secs(3600)).await });
        tokio::task::yield_now().await;
        assert!(clock.set_scale(0.0));
        assert!(clock.is_instant());
        wait.await.unwrap();
    }

    #[test]
    fn uncontrolled_clocks_refuse_changes_and_scales_are_bounded() {
        let clock = Clock::scaled(2.0);
        assert!(!clock.set_scale(0.0));
        assert!(!clock.advance(Duration::from_secs(1)));
        assert_eq!(clock.scale(), 2.0);
        assert_eq!(Clock::scaled(1e12).scale(), MAX_SCALE);
        let c = Clock::controlled(1.0);
        c.set_scale(f64::INFINITY);
        assert!(c.is_instant());
    }
}
