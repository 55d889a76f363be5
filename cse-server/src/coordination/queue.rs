//! Admission of long operations: at most `service.max_operations` run at once;
//! past that, accepted operations wait in a bounded queue
//! (`service.max_queued_operations`) and the tenant still gets its 202 and a
//! task saying it is queued. A freed slot goes to the orgs with waiting
//! operations in turn (round robin, FIFO within an org), so one tenant's burst
//! cannot starve the others. Only a full queue refuses a request.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use cse_core::api::ApiError;
use parking_lot::Mutex;
use tokio::sync::oneshot;

/// The admission queue of one server process. Cheap to clone.
#[derive(Debug, Clone)]
pub struct OperationQueue {
    shared: Arc<Mutex<State>>,
    max_running: u32,
    max_queued: u32,
}

#[derive(Debug, Default)]
struct State {
    running: usize,
    /// Waiters counted until a release hands them a slot or skips them.
    queued: usize,
    waiting: HashMap<String, VecDeque<oneshot::Sender<Handover>>>,
    /// Orgs with waiters, in the order they get the next slots.
    turns: VecDeque<String>,
}

/// A slot passed from a finished operation to a waiting one.
#[derive(Debug)]
struct Handover;

/// One running operation's slot; the next waiter gets it on drop.
#[derive(Debug)]
pub struct OperationSlot {
    queue: OperationQueue,
}

impl Drop for OperationSlot {
    fn drop(&mut self) {
        self.queue.release();
    }
}

/// A queued operation's place; [`QueuedTicket::wait`] resolves to its slot.
#[derive(Debug)]
pub struct QueuedTicket {
    queue: OperationQueue,
    receiver: Option<oneshot::Receiver<Handover>>,
}

impl QueuedTicket {
    /// Waits for a slot. `None` only if the queue itself went away.
    pub async fn wait(mut self) -> Option<OperationSlot> {
        let receiver = self.receiver.take()?;
        receiver.await.ok().map(|Handover| OperationSlot {
            queue: self.queue.clone(),
        })
    }
}

impl Drop for QueuedTicket {
    fn drop(&mut self) {
        // Given up while queued: a slot handed over in the meantime is passed on.
        if let Some(mut receiver) = self.receiver.take() {
            receiver.close();
            if receiver.try_recv().is_ok() {
                self.queue.release();
            }
        }
    }
}

/// The outcome of [`OperationQueue::admit`].
#[derive(Debug)]
pub enum Admission {
    /// A slot was free.
    Now(OperationSlot),
    /// Queued behind other operations.
    Queued(QueuedTicket),
}

impl OperationQueue {
    /// A queue running `max_running` operations (at least one) with room for
    /// `max_queued` more.
    pub fn new(max_running: u32, max_queued: u32) -> Self {
        Self {
            shared: Arc::new(Mutex::new(State::default())),
            max_running: max_running.max(1),
            max_queued,
        }
    }

    /// Admits one operation of the org `org`: a slot now, a place in the queue,
    /// or [`ApiError::OperationQueueFull`].
    pub fn admit(&self, org: &str) -> Result<Admission, ApiError> {
        let mut state = self.shared.lock();
        if state.running < self.max_running as usize {
            state.running += 1;
            return Ok(Admission::Now(OperationSlot {
                queue: self.clone(),
            }));
        }
        if state.queued >= self.max_queued as usize {
            return Err(ApiError::OperationQueueFull {
                running: self.max_running,
                queued: self.max_queued,
            });
        }
        let (sender, receiver) = oneshot::channel();
        let waiting = state.waiting.entry(org.to_owned()).or_default();
        waiting.push_back(sender);
        if waiting.len() == 1 {
            state.turns.push_back(org.to_owned());
        }
        state.queued += 1;
        Ok(Admission::Queued(QueuedTicket {
            queue: self.clone(),
            receiver: Some(receiver),
        }))
    }

    /// Operations running and waiting.
    pub fn counts(&self) -> (usize, usize) {
        let state = self.shared.lock();
        (state.running, state.queued)
    }

    /// Hands a finished operation's slot to the next org's first live waiter,
    /// or frees it. Each waiter is looked at once, so this ends.
    fn release(&self) {
        let mut state = self.shared.lock();
        while let Some(org) = state.turns.pop_front() {
            let Some(waiting) = state.waiting.get_mut(&org) else {
                continue;
            };
            let next = waiting.pop_front();
            if waiting.is_empty() {
                state.waiting.remove(&org);
            } else {
                state.turns.push_back(org);
            }
            if let Some(sender) = next {
                state.queued = state.queued.saturating_sub(1);
                if sender.send(Handover).is_ok() {
                    return;
                }
            }
        }
        state.running = state.running.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now(admission: Admission) -> OperationSlot {
        match admission {
            Admission::Now(slot) => slot,
            Admission::Queued(_) => panic!("expected a free slot"),
        }
    }

    fn queued(admission: Admission) -> QueuedTicket {
        match admission {
            Admission::Queued(ticket) => ticket,
            Admission::Now(_) => panic!("expected a place in the queue"),
        }
    }

    #[tokio::test]
    async fn past_the_slots_requests_queue_and_past_the_queue_they_are_refused() {
        let queue = OperationQueue::new(2, 2);
        let a = now(queue.admit("org-a").unwrap());
        let _b = now(queue.admit("org-a").unwrap());
        let c = queued(queue.admit("org-a").unwrap());
        let _d = queued(queue.admit("org-b").unwrap());
        let refused = queue.admit("org-c").unwrap_err();
        assert_eq!(
            refused,
            ApiError::OperationQueueFull {
                running: 2,
                queued: 2
            }
        );
        assert_eq!(queue.counts(), (2, 2));
        drop(a);
        let c = c.wait().await.expect("c gets a's slot");
        assert_eq!(queue.counts(), (2, 1));
        drop(c);
        assert_eq!(queue.counts(), (2, 0));
    }

    #[tokio::test]
    async fn freed_slots_go_to_the_orgs_in_turn() {
        let queue = OperationQueue::new(1, 100);
        let running = now(queue.admit("busy").unwrap());
        // One org queues ten operations, then two others queue one each.
        let mut tickets: Vec<(String, QueuedTicket)> = (0..10)
            .map(|i| (format!("busy-{i}"), queued(queue.admit("busy").unwrap())))
            .collect();
        tickets.push(("quiet-a".into(), queued(queue.admit("quiet-a").unwrap())));
        tickets.push(("quiet-b".into(), queued(queue.admit("quiet-b").unwrap())));
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut waits = Vec::new();
        for (name, ticket) in tickets {
            let order = order.clone();
            waits.push(tokio::spawn(async move {
                let slot = ticket.wait().await.unwrap();
                order.lock().push(name);
                tokio::task::yield_now().await;
                drop(slot);
            }));
        }
        drop(running);
        for wait in waits {
            wait.await.unwrap();
        }
        let order = order.lock().clone();
        // The burst's first, then each quiet org, then the rest of the burst.
        assert_eq!(&order[..3], ["busy-0", "quiet-a", "quiet-b"], "{order:?}");
        assert_eq!(order.len(), 12);
        assert_eq!(queue.counts(), (0, 0));
    }

    #[tokio::test]
    async fn a_waiter_that_gives_up_never_keeps_a_slot() {
        let queue = OperationQueue::new(1, 10);
        let running = now(queue.admit("o").unwrap());
        let gone = queued(queue.admit("o").unwrap());
        let next = queued(queue.admit("o").unwrap());
        drop(gone);
        drop(running);
        let slot = next.wait().await.expect("the live waiter gets the slot");
        assert_eq!(queue.counts(), (1, 0));
        drop(slot);
        assert_eq!(queue.counts(), (0, 0));
        // Handed a slot, then dropped before waiting on it: the slot is freed.
        let running = now(queue.admit("o").unwrap());
        let ticket = queued(queue.admit("o").unwrap());
        drop(running);
        drop(ticket);
        assert_eq!(queue.counts(), (0, 0));
        let _again = now(queue.admit("o").unwrap());
    }
}
