//! Resources this process is working on: the vApps whose operation lease it
//! keeps and the tasks of the operations it runs, so its own resume passes
//! never take over or end what it still runs.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

/// Resources this process is working on, by the last segment of their href:
/// the vApps whose lease it keeps and the tasks of the operations it runs.
/// A resume pass never takes over an operation this process is still
/// running, even when a renewal came late (a slow vCD) and the lease in
/// metadata looks lapsed, nor ends its task as orphaned before the journal
/// is written.
#[derive(Debug, Clone, Default)]
pub struct HeldLeases(Arc<Mutex<Held>>);

#[derive(Debug, Default)]
struct Held {
    counts: HashMap<String, usize>,
    /// Held vApps whose lease another server took over.
    lost: std::collections::HashSet<String>,
    /// The renewals of each held vApp's lease, stopped before the lease is removed.
    renewals: HashMap<String, Vec<tokio_util::sync::CancellationToken>>,
    /// Until when each held vApp's lease surely looks live to other servers.
    live_until: HashMap<String, tokio::time::Instant>,
}

impl HeldLeases {
    /// Whether this process keeps the lease of the vApp at `vapp_href`.
    pub fn holds(&self, vapp_href: &str) -> bool {
        self.0.lock().counts.contains_key(vapp_key(vapp_href))
    }

    /// How many of this process's operations (and resume passes) hold the
    /// vApp at `vapp_href` now.
    pub fn holders(&self, vapp_href: &str) -> usize {
        self.0
            .lock()
            .counts
            .get(vapp_key(vapp_href))
            .copied()
            .unwrap_or(0)
    }

    /// Records that another server took over the lease of a held vApp: the
    /// operation here stops touching the vApp and its task.
    pub fn mark_lost(&self, vapp_href: &str) {
        let mut held = self.0.lock();
        let key = vapp_key(vapp_href);
        if held.counts.contains_key(key) {
            held.lost.insert(key.to_owned());
        }
    }

    /// Registers the renewals of a held vApp's lease (`stop` cancels them).
    pub fn add_renewals(&self, vapp_href: &str, stop: tokio_util::sync::CancellationToken) {
        self.0
            .lock()
            .renewals
            .entry(vapp_key(vapp_href).to_owned())
            .or_default()
            .push(stop);
    }

    /// Stops the renewals of the vApp's lease: called before the lease is
    /// removed, so no renewal writes it back afterwards.
    pub fn stop_renewals(&self, vapp_href: &str) {
        if let Some(stops) = self.0.lock().renewals.remove(vapp_key(vapp_href)) {
            for stop in stops {
                stop.cancel();
            }
        }
    }

    /// Records until when the held vApp's lease surely looks live to others
    /// (set by its keeper after each claim or renewal).
    pub fn set_live_until(&self, vapp_href: &str, until: tokio::time::Instant) {
        let mut held = self.0.lock();
        let key = vapp_key(vapp_href);
        if held.counts.contains_key(key) {
            held.live_until.insert(key.to_owned(), until);
        }
    }

    /// Until when the held vApp's lease surely looks live to others; `None`
    /// when this process keeps no lease on it.
    pub fn live_until(&self, vapp_href: &str) -> Option<tokio::time::Instant> {
        self.0.lock().live_until.get(vapp_key(vapp_href)).copied()
    }

    /// Whether the lease of the held vApp at `vapp_href` was taken over by another server.
    pub fn is_lost(&self, vapp_href: &str) -> bool {
        self.0.lock().lost.contains(vapp_key(vapp_href))
    }

    /// Marks `href` as held until the guard is dropped.
    pub fn hold(&self, href: &str) -> HeldGuard {
        self.add(href);
        HeldGuard {
            held: self.clone(),
            href: href.to_owned(),
        }
    }

    pub(crate) fn add(&self, vapp_href: &str) {
        *self
            .0
            .lock()
            .counts
            .entry(vapp_key(vapp_href).to_owned())
            .or_default() += 1;
    }

    pub(crate) fn remove(&self, vapp_href: &str) {
        let mut held = self.0.lock();
        let key = vapp_key(vapp_href);
        if let Some(count) = held.counts.get_mut(key) {
            *count -= 1;
            if *count == 0 {
                held.counts.remove(key);
                held.lost.remove(key);
                held.renewals.remove(key);
                held.live_until.remove(key);
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

    #[test]
    fn lost_leases_are_known_while_held() {
        let held = HeldLeases::default();
        held.mark_lost("https://vcd/api/vApp/vapp-9");
        assert!(!held.is_lost("https://vcd/api/vApp/vapp-9"), "not held");
        held.add("https://vcd/api/vApp/vapp-9");
        held.mark_lost("https://vcd/api/vApp/vapp-9/");
        assert!(held.is_lost("https://vcd/api/vApp/vapp-9"));
        held.remove("https://vcd/api/vApp/vapp-9");
        assert!(!held.is_lost("https://vcd/api/vApp/vapp-9"));
    }
}
