//! Keeps an operation's lease alive: writes `cse.op.lease` now and every
//! third of `timeouts.lease_ttl` until the keeper is dropped, so another
//! replica (or this server after a restart) takes an operation over only when
//! its holder has really gone.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use tokio_util::sync::CancellationToken;

use super::gate::VappGates;
use super::journal::{Lease, read_lease, write_lease};
use crate::vcd::{Client, VcdError};

/// Resources this process is working on, by the last segment of their href:
/// the vApps whose lease it keeps and the tasks of the operations it runs.
/// A resume pass never takes over an operation this process is still
/// running, even when a renewal came late (a slow vCD) and the lease in
/// metadata looks lapsed, nor ends its task as orphaned before the journal
/// is written.
#[derive(Debug, Clone, Default)]
pub struct HeldLeases(Arc<Mutex<HashMap<String, usize>>>);

impl HeldLeases {
    /// Whether this process keeps the lease of the vApp at `vapp_href`.
    pub fn holds(&self, vapp_href: &str) -> bool {
        self.0.lock().contains_key(vapp_key(vapp_href))
    }

    /// Marks `href` as held until the guard is dropped.
    pub fn hold(&self, href: &str) -> HeldGuard {
        self.add(href);
        HeldGuard {
            held: self.clone(),
            href: href.to_owned(),
        }
    }

    fn add(&self, vapp_href: &str) {
        *self
            .0
            .lock()
            .entry(vapp_key(vapp_href).to_owned())
            .or_default() += 1;
    }

    fn remove(&self, vapp_href: &str) {
        let mut held = self.0.lock();
        let key = vapp_key(vapp_href);
        if let Some(count) = held.get_mut(key) {
            *count -= 1;
            if *count == 0 {
                held.remove(key);
            }
        }
    }
}

/// Releases a [`HeldLeases::hold`] when dropped.
#[derive(Debug)]
pub struct HeldGuard {
    held: HeldLeases,
    href: String,
}

impl Drop for HeldGuard {
    fn drop(&mut self) {
        self.held.remove(&self.href);
    }
}

/// The vApp's id segment (hrefs of one vApp differ in host form, never in it).
pub(crate) fn vapp_key(vapp_href: &str) -> &str {
    vapp_href
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(vapp_href)
}

/// Renews a lease in the background; dropping it stops the renewals.
#[derive(Debug)]
pub struct LeaseKeeper {
    stop: CancellationToken,
    held: HeldLeases,
    vapp_href: String,
}

impl Drop for LeaseKeeper {
    fn drop(&mut self) {
        self.stop.cancel();
        self.held.remove(&self.vapp_href);
    }
}

/// What taking a lease needs from the server process.
#[derive(Debug, Clone)]
pub struct LeaseSettings {
    /// This process's identity in leases.
    pub owner: String,
    /// Life of a lease (`timeouts.lease_ttl`).
    pub ttl: Duration,
    /// Leases this process keeps.
    pub held: HeldLeases,
    /// One call at a time per vApp.
    pub gates: VappGates,
}

/// Why a lease could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// vCD refused or failed the metadata write or read.
    #[error(transparent)]
    Vcd(#[from] VcdError),
    /// Another server wrote its lease at the same time and kept it.
    #[error("another CSE server ({owner}) took the cluster's operation lease at the same time")]
    HeldElsewhere {
        /// The other server's owner id.
        owner: String,
    },
}

impl LeaseKeeper {
    /// Takes the lease on `vapp_href` and keeps renewing it (each write in the
    /// vApp's gate, so a renewal never overlaps the operation's own calls);
    /// `settings.held` knows about it until the keeper is dropped. The lease is
    /// read back after the first write: when another server wrote its own at the
    /// same moment and won, this one backs off with [`LeaseError::HeldElsewhere`].
    pub async fn start(
        admin: Client,
        vapp_href: String,
        settings: &LeaseSettings,
    ) -> Result<Self, LeaseError> {
        let LeaseSettings {
            owner,
            ttl,
            held,
            gates,
        } = settings.clone();
        held.add(&vapp_href);
        let keeper = LeaseKeeper {
            stop: CancellationToken::new(),
            held: held.clone(),
            vapp_href: vapp_href.clone(),
        };
        write_lease(&admin, &gates, &vapp_href, &Lease::new(&owner, ttl)).await?;
        match read_lease(&admin, &vapp_href).await? {
            Some(lease) if lease.owner != owner => {
                return Err(LeaseError::HeldElsewhere { owner: lease.owner });
            }
            _ => {}
        }
        let token = keeper.stop.clone();
        let every = (ttl / 3).max(Duration::from_millis(50));
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = token.cancelled() => return,
                    () = tokio::time::sleep(every) => {}
                }
                let lease = Lease::new(&owner, ttl);
                let renewal = write_lease(&admin, &gates, &vapp_href, &lease);
                tokio::select! {
                    () = token.cancelled() => return,
                    result = renewal => if let Err(error) = result {
                        tracing::warn!(vapp = %vapp_href, "cannot renew the operation lease: {error}");
                    }
                }
            }
        });
        Ok(keeper)
    }
}

#[cfg(test)]
mod held_tests {
    use super::*;

    #[test]
    fn held_leases_count_and_match_by_vapp_id() {
        let held = HeldLeases::default();
        held.add("https://vcd.example/api/vApp/vapp-1");
        held.add("https://127.0.0.1:8443/api/vApp/vapp-1/");
        assert!(held.holds("https://other/api/vApp/vapp-1"));
        assert!(!held.holds("https://vcd.example/api/vApp/vapp-2"));
        held.remove("https://vcd.example/api/vApp/vapp-1");
        assert!(held.holds("https://vcd.example/api/vApp/vapp-1"));
        held.remove("https://vcd.example/api/vApp/vapp-1");
        assert!(!held.holds("https://vcd.example/api/vApp/vapp-1"));
    }
}
