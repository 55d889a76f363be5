//! The simulator's time scale. Every simulated duration (task run time, boot,
//! tools start, `sleep` in a guest script, `kubeadm init`) goes through a
//! [`Clock`], so tests run with no delays and `serve` runs in real time.

use std::time::Duration;

/// Scales simulated durations into real ones.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clock {
    scale: f64,
}

impl Clock {
    /// Every simulated delay is skipped (tests).
    pub const fn instant() -> Self {
        Clock { scale: 0.0 }
    }

    /// Simulated delays take their real duration (demos, `serve` default).
    pub const fn realtime() -> Self {
        Clock { scale: 1.0 }
    }

    /// Simulated delays take `scale` times their nominal duration. Negative or
    /// non-finite scales are treated as 0.
    pub fn scaled(scale: f64) -> Self {
        let scale = if scale.is_finite() && scale > 0.0 {
            scale
        } else {
            0.0
        };
        Clock { scale }
    }

    /// The factor applied to simulated durations.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Whether simulated delays are skipped altogether.
    pub fn is_instant(&self) -> bool {
        self.scale == 0.0
    }

    /// The real duration a simulated one takes.
    pub fn real(&self, simulated: Duration) -> Duration {
        if self.is_instant() {
            Duration::ZERO
        } else {
            simulated.mul_f64(self.scale)
        }
    }

    /// Waits for a simulated duration (returns at once on an instant clock).
    pub async fn sleep(&self, simulated: Duration) {
        let real = self.real(simulated);
        if !real.is_zero() {
            tokio::time::sleep(real).await;
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
