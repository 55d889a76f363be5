//! Request collapsing for read-only lookups: while one lookup for a key is in
//! flight, identical lookups wait for its answer instead of sending their own.
//! The cluster list uses it keyed by the caller's session, so a tenant (or a
//! dashboard, or a hostile script) calling `GET /api/cse` many times at once
//! costs vCD one query, not one per call. A joined answer is as fresh as the
//! caller arriving a few milliseconds earlier; nothing is kept once the flight
//! lands, so this is not a cache. The table holds one entry per distinct key
//! in flight, which the server's listener and operation bounds already limit.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};

type Flight<V> = Shared<BoxFuture<'static, V>>;

/// Lookups in flight, by key.
pub struct Flights<K, V: Clone> {
    in_flight: Arc<Mutex<HashMap<K, Flight<V>>>>,
}

impl<K, V: Clone> Default for Flights<K, V> {
    fn default() -> Self {
        Self {
            in_flight: Arc::new(Mutex::new(HashMap::new())),
        }
    }
}

impl<K, V: Clone> std::fmt::Debug for Flights<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let in_flight = self
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("Flights")
            .field("in_flight", &in_flight)
            .finish()
    }
}

/// Whether a call sent its own lookup or joined one in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Boarding {
    /// This call's lookup was sent.
    Led,
    /// This call waited for an identical lookup already in flight.
    Joined,
}

impl<K, V> Flights<K, V>
where
    K: Eq + Hash + Clone + Send + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// The answer of the lookup for `key`: the one in flight if there is one,
    /// else `lookup()`'s. The lookup runs to its end even when the call that
    /// started it is dropped, as long as another call waits for it.
    pub async fn run<F>(&self, key: K, lookup: F) -> (V, Boarding)
    where
        F: Future<Output = V> + Send + 'static,
    {
        let (flight, boarding) = {
            let mut table = self
                .in_flight
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            match table.get(&key) {
                Some(flight) => (flight.clone(), Boarding::Joined),
                None => {
                    let table_ref = Arc::clone(&self.in_flight);
                    let landing_key = key.clone();
                    let flight = async move {
                        let answer = lookup.await;
                        table_ref
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .remove(&landing_key);
                        answer
                    }
                    .boxed()
                    .shared();
                    table.insert(key, flight.clone());
                    (flight, Boarding::Led)
                }
            }
        };
        (flight.await, boarding)
    }

    /// Lookups in flight now.
    pub fn len(&self) -> usize {
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// True when nothing is in flight.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::sync::Notify;

    #[tokio::test]
    async fn concurrent_identical_lookups_share_one_and_a_later_one_runs_again() {
        let flights: Arc<Flights<&'static str, usize>> = Arc::default();
        let runs = Arc::new(AtomicUsize::new(0));
        let release = Arc::new(Notify::new());
        let lookup = |runs: Arc<AtomicUsize>, release: Arc<Notify>| async move {
            let n = runs.fetch_add(1, Ordering::SeqCst) + 1;
            release.notified().await;
            n
        };
        let calls: Vec<_> = (0..5)
            .map(|_| {
                let flights = Arc::clone(&flights);
                let work = lookup(Arc::clone(&runs), Arc::clone(&release));
                tokio::spawn(async move { flights.run("alice", work).await })
            })
            .collect();
        while flights.is_empty() {
            tokio::task::yield_now().await;
        }
        // Every call has boarded before the lookup is let go.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        release.notify_waiters();
        let mut led = 0;
        for call in calls {
            let (answer, boarding) = call.await.expect("call");
            assert_eq!(answer, 1, "every caller gets the one lookup's answer");
            led += usize::from(boarding == Boarding::Led);
        }
        assert_eq!(led, 1);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert!(flights.is_empty(), "a landed flight leaves nothing behind");

        // After landing, the next call looks up again.
        release.notify_one();
        let (answer, boarding) = flights
            .run("alice", lookup(Arc::clone(&runs), release))
            .await;
        assert_eq!((answer, boarding), (2, Boarding::Led));
    }

    #[tokio::test]
    async fn different_keys_never_share() {
        let flights: Flights<String, String> = Flights::default();
        let (a, b) = tokio::join!(
            flights.run("alice".into(), async { "alice's".to_string() }),
            flights.run("bob".into(), async { "bob's".to_string() }),
        );
        assert_eq!(a, ("alice's".to_string(), Boarding::Led));
        assert_eq!(b, ("bob's".to_string(), Boarding::Led));
    }

    #[tokio::test]
    async fn the_lookup_lands_when_its_leader_is_dropped_and_another_waits() {
        let flights: Arc<Flights<u8, u8>> = Arc::default();
        let release = Arc::new(Notify::new());
        let gate = Arc::clone(&release);
        let leader = {
            let flights = Arc::clone(&flights);
            tokio::spawn(async move {
                flights
                    .run(1, async move {
                        gate.notified().await;
                        7
                    })
                    .await
            })
        };
        while flights.is_empty() {
            tokio::task::yield_now().await;
        }
        let follower = {
            let flights = Arc::clone(&flights);
            tokio::spawn(async move { flights.run(1, async { 0 }).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        leader.abort();
        release.notify_waiters();
        release.notify_one();
        let (answer, boarding) = follower.await.expect("follower");
        assert_eq!((answer, boarding), (7, Boarding::Joined));
        assert!(flights.is_empty());
    }
}
