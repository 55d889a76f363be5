//! Construction parameters of the guest model: the clock, the world seed
//! (never used for credentials: bootstrap tokens come from the CSPRNG in
//! `crate::secret`; pids are sequential), and the simulated
//! durations of boot, tools start, package installs and Kubernetes work.

use std::time::Duration;

use crate::clock::Clock;

/// Simulated durations (scaled by the clock; all skipped on an instant clock).
#[derive(Debug, Clone, PartialEq)]
pub struct GuestTimings {
    /// Power-on until VMware Tools start.
    pub boot: Duration,
    /// Tools starting (`guestToolsExecutingScripts`).
    pub tools_starting: Duration,
    /// Tools running until guest operations are accepted.
    pub ops_warmup: Duration,
    /// Whether guest customization reboots the guest once (not on an instant clock).
    pub customization_reboot: bool,
    /// How long a first boot accepts guest operations with the disk's old
    /// password before customization applies (zero: no such window).
    pub customization_pending: Duration,
    /// How long an exited guest-ops process stays listable.
    pub process_retention: Duration,
    /// `kubeadm init` on a master, preflight to a running control plane.
    pub kubeadm_init: Duration,
    /// `kubeadm join` of a worker whose discovery succeeds.
    pub kubeadm_join: Duration,
    /// How long `kubeadm join` retries discovery before giving up.
    pub discovery_timeout: Duration,
    /// How long `kubeadm init` waits for a control plane that cannot start.
    pub control_plane_timeout: Duration,
    /// One package install (`tdnf install`, `apt-get install`), per command.
    pub package_install: Duration,
    /// `apt-get update` / `tdnf makecache`: reading the repositories' indexes.
    pub package_index_update: Duration,
    /// One container image pull (`docker pull`, kubeadm's image pulls).
    pub image_pull: Duration,
    /// One file download (`wget`, `curl`).
    pub download: Duration,
}

impl Default for GuestTimings {
    fn default() -> Self {
        GuestTimings {
            boot: Duration::from_secs(30),
            tools_starting: Duration::from_secs(3),
            ops_warmup: Duration::from_secs(5),
            customization_reboot: true,
            customization_pending: Duration::ZERO,
            process_retention: Duration::from_secs(300),
            kubeadm_init: Duration::from_secs(60),
            kubeadm_join: Duration::from_secs(20),
            discovery_timeout: Duration::from_secs(300),
            control_plane_timeout: Duration::from_secs(240),
            package_install: Duration::from_secs(15),
            package_index_update: Duration::from_secs(5),
            image_pull: Duration::from_secs(8),
            download: Duration::from_secs(1),
        }
    }
}

/// Everything a `GuestWorld` is built from.
#[derive(Debug, Clone, PartialEq)]
pub struct GuestConfig {
    /// The time scale every simulated duration goes through.
    pub clock: Clock,
    /// The world's seed. Nothing a guest hands out as a credential (kubeadm
    /// bootstrap tokens) follows it.
    pub seed: u64,
    /// The simulated durations (changeable later with `GuestWorld::set_timings`).
    pub timings: GuestTimings,
}

impl GuestConfig {
    /// Instant clock, fixed seed: for tests.
    pub fn instant(seed: u64) -> Self {
        GuestConfig {
            clock: Clock::instant(),
            seed,
            timings: GuestTimings::default(),
        }
    }
}

impl Default for GuestConfig {
    fn default() -> Self {
        GuestConfig::instant(0x5eed)
    }
}
