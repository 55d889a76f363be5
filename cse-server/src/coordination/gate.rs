//! One call at a time on a cluster vApp from this process. vCD refuses a call
//! on an entity another task holds (`400 BUSY_ENTITY`), and every metadata
//! write (journal, lease) runs a short task on the vApp. Without this gate an
//! operation's lease renewal could land in the middle of its own recompose or
//! rollback delete and make it fail. Every mutating call an operation makes on
//! its vApp or the vApp's VMs (and the renewal) enters the vApp's gate for the
//! call and its task; calls on different vApps never wait for each other.
//! Other processes are not covered: their overlaps end in `BUSY_ENTITY`, which
//! the vCD client retries with backoff.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use parking_lot::Mutex;
use tokio::sync::OwnedMutexGuard;

use super::held::vapp_key;

/// Gates by vApp id, shared by every operation of one server process.
#[derive(Debug, Clone, Default)]
pub struct VappGates(Arc<Mutex<Gates>>);

#[derive(Debug, Default)]
struct Gates {
    by_vapp: HashMap<String, Weak<tokio::sync::Mutex<()>>>,
    /// Size at which dead entries are swept next (amortised O(1) per entry).
    sweep_at: usize,
}

/// Held while a call and its task run; the next caller enters on drop.
#[derive(Debug)]
pub struct GateTurn {
    _guard: OwnedMutexGuard<()>,
}

impl VappGates {
    /// Waits for the vApp at `vapp_href` to be free of this process's calls
    /// and holds it until the turn is dropped.
    pub async fn enter(&self, vapp_href: &str) -> GateTurn {
        let gate = self.gate(vapp_key(vapp_href));
        GateTurn {
            _guard: gate.lock_owned().await,
        }
    }

    /// Number of vApps with a live gate (tests).
    pub fn live(&self) -> usize {
        self.0
            .lock()
            .by_vapp
            .values()
            .filter(|gate| gate.strong_count() > 0)
            .count()
    }

    fn gate(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut gates = self.0.lock();
        if let Some(gate) = gates.by_vapp.get(key).and_then(Weak::upgrade) {
            return gate;
        }
        if gates.by_vapp.len() >= gates.sweep_at {
            gates.by_vapp.retain(|_, gate| gate.strong_count() > 0);
            gates.sweep_at = (gates.by_vapp.len() * 2).max(64);
        }
        let gate = Arc::new(tokio::sync::Mutex::new(()));
        gates.by_vapp.insert(key.to_owned(), Arc::downgrade(&gate));
        gate
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn one_turn_per_vapp_and_none_across_vapps() {
        let gates = VappGates::default();
        let first = gates.enter("https://vcd/api/vApp/vapp-1").await;
        // Another vApp is free.
        let other = tokio::time::timeout(
            Duration::from_millis(50),
            gates.enter("https://vcd/api/vApp/vapp-2"),
        )
        .await;
        assert!(other.is_ok());
        // The same vApp (another spelling of its href) waits.
        let same = tokio::time::timeout(
            Duration::from_millis(50),
            gates.enter("https://127.0.0.1/api/vApp/vapp-1/"),
        )
        .await;
        assert!(same.is_err(), "a second turn on vapp-1 must wait");
        drop(first);
        let same = tokio::time::timeout(
            Duration::from_millis(500),
            gates.enter("https://vcd/api/vApp/vapp-1"),
        )
        .await;
        assert!(same.is_ok());
    }

    #[tokio::test]
    async fn gates_of_finished_vapps_are_swept() {
        let gates = VappGates::default();
        for i in 0..1000 {
            drop(gates.enter(&format!("https://vcd/api/vApp/vapp-{i}")).await);
        }
        assert_eq!(gates.live(), 0);
        assert!(gates.0.lock().by_vapp.len() <= 128);
    }
}
