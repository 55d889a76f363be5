//! An in-memory broker with RabbitMQ's semantics for what CSE and vCD use:
//! direct exchanges and the default exchange, bindings, queues (durable,
//! exclusive, auto-delete), competing consumers served round-robin within a
//! prefetch bound, manual acknowledgement, and redelivery (with the
//! `redelivered` flag) of unacknowledged messages when a consumer's channel or
//! connection goes away.
//!
//! [`MemoryBroker`] is the broker; [`MemoryBus`] is a connection handle that,
//! like [`crate::RabbitBus`], opens a new connection on demand after the old one
//! was lost. [`MemoryBroker::stop`] / [`MemoryBroker::start`] model a broker
//! restart (non-durable queues and transient messages are lost).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use async_trait::async_trait;
use parking_lot::Mutex;
use tokio::sync::mpsc;

use crate::bus::{
    Acknowledger, Bus, ConsumeOptions, Consumer, Delivery, ExchangeOptions, QueueOptions,
};
use crate::error::BusError;
use crate::message::Message;

const ADDRESS: &str = "memory";

/// The broker. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct MemoryBroker {
    state: Arc<Mutex<State>>,
}

struct State {
    running: bool,
    exchanges: HashMap<String, Exchange>,
    queues: HashMap<String, Queue>,
    connections: HashMap<u64, Vec<u64>>,
    channels: HashMap<u64, Channel>,
    next_id: u64,
}

struct Exchange {
    options: ExchangeOptions,
    /// (routing key, queue)
    bindings: Vec<(String, String)>,
}

struct Queue {
    options: QueueOptions,
    owner: Option<u64>,
    ready: VecDeque<Queued>,
    consumers: Vec<u64>,
    next_consumer: usize,
}

#[derive(Clone)]
struct Queued {
    message: Message,
    redelivered: bool,
    exchange: String,
    routing_key: String,
}

struct Channel {
    connection: u64,
    queue: String,
    prefetch: u16,
    auto_ack: bool,
    consuming: bool,
    sender: Option<mpsc::UnboundedSender<Delivery>>,
    unacked: BTreeMap<u64, Queued>,
    next_tag: u64,
}

impl Default for MemoryBroker {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryBroker {
    /// A running broker with no exchanges (besides the default one) and no queues.
    pub fn new() -> Self {
        MemoryBroker {
            state: Arc::new(Mutex::new(State {
                running: true,
                exchanges: HashMap::new(),
                queues: HashMap::new(),
                connections: HashMap::new(),
                channels: HashMap::new(),
                next_id: 1,
            })),
        }
    }

    /// A connection handle (connects on first use, reconnects after a loss).
    pub fn connect(&self) -> MemoryBus {
        MemoryBus {
            broker: self.clone(),
            connection: Mutex::new(None),
        }
    }

    /// Stops the broker: every connection is closed (unacknowledged messages
    /// requeued first), then non-durable exchanges and queues and transient
    /// messages are lost. Operations fail until [`start`](Self::start).
    pub fn stop(&self) {
        let mut state = self.state.lock();
        let connections: Vec<u64> = state.connections.keys().copied().collect();
        for c in connections {
            state.close_connection(c);
        }
        state.running = false;
        state.exchanges.retain(|_, e| e.options.durable);
        state.queues.retain(|_, q| q.options.durable);
        for queue in state.queues.values_mut() {
            queue
                .ready
                .retain(|m| m.message.properties.delivery_mode == Some(2));
        }
        let names: Vec<String> = state.queues.keys().cloned().collect();
        for exchange in state.exchanges.values_mut() {
            exchange.bindings.retain(|(_, q)| names.contains(q));
        }
    }

    /// Starts a stopped broker.
    pub fn start(&self) {
        self.state.lock().running = true;
    }

    /// Closes every client connection, as a network failure would; the broker
    /// keeps running.
    pub fn drop_connections(&self) {
        let mut state = self.state.lock();
        let connections: Vec<u64> = state.connections.keys().copied().collect();
        for c in connections {
            state.close_connection(c);
        }
    }

    /// Messages waiting in a queue (not handed to a consumer), or `None` when
    /// the queue does not exist.
    pub fn ready_count(&self, queue: &str) -> Option<usize> {
        self.state.lock().queues.get(queue).map(|q| q.ready.len())
    }

    /// Messages of a queue handed out and not yet settled.
    pub fn unacked_count(&self, queue: &str) -> usize {
        self.state
            .lock()
            .channels
            .values()
            .filter(|c| c.queue == queue)
            .map(|c| c.unacked.len())
            .sum()
    }

    /// Whether an exchange exists.
    pub fn has_exchange(&self, name: &str) -> bool {
        self.state.lock().exchanges.contains_key(name)
    }

    /// Number of consumers on a queue.
    pub fn consumer_count(&self, queue: &str) -> usize {
        self.state
            .lock()
            .queues
            .get(queue)
            .map_or(0, |q| q.consumers.len())
    }

    fn settle(&self, channel: u64, tag: u64, outcome: Settle) -> Result<(), BusError> {
        let mut state = self.state.lock();
        let Some(ch) = state.channels.get_mut(&channel) else {
            return Err(BusError::ChannelClosed(tag));
        };
        let Some(mut queued) = ch.unacked.remove(&tag) else {
            return Err(BusError::Refused {
                operation: format!("settling delivery {tag}"),
                reason: "unknown delivery tag (already settled?)".into(),
            });
        };
        let queue_name = ch.queue.clone();
        if let Settle::Requeue = outcome {
            queued.redelivered = true;
            if let Some(queue) = state.queues.get_mut(&queue_name) {
                queue.ready.push_front(queued);
            }
        }
        state.dispatch(&queue_name, &self.state);
        Ok(())
    }
}

enum Settle {
    Ack,
    Requeue,
    Drop,
}

impl State {
    fn ensure_running(&self) -> Result<(), BusError> {
        if self.running {
            Ok(())
        } else {
            Err(BusError::ConnectionLost("the broker is stopped".into()))
        }
    }

    fn check_connection(&self, connection: u64) -> Result<(), BusError> {
        self.ensure_running()?;
        if self.connections.contains_key(&connection) {
            Ok(())
        } else {
            Err(BusError::ConnectionLost("connection closed".into()))
        }
    }

    fn id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn close_connection(&mut self, connection: u64) {
        let Some(channels) = self.connections.remove(&connection) else {
            return;
        };
        for ch in channels {
            self.close_channel(ch);
        }
        let exclusive: Vec<String> = self
            .queues
            .iter()
            .filter(|(_, q)| q.owner == Some(connection))
            .map(|(n, _)| n.clone())
            .collect();
        for name in exclusive {
            self.delete_queue(&name);
        }
    }

    fn delete_queue(&mut self, name: &str) {
        self.queues.remove(name);
        for exchange in self.exchanges.values_mut() {
            exchange.bindings.retain(|(_, q)| q != name);
        }
    }

    /// Closes a channel: its consumer ends, unacknowledged deliveries go back
    /// to the head of the queue marked redelivered.
    fn close_channel(&mut self, channel: u64) {
        let Some(ch) = self.channels.remove(&channel) else {
            return;
        };
        if let Some(conn) = self.connections.get_mut(&ch.connection) {
            conn.retain(|c| *c != channel);
        }
        let Some(queue) = self.queues.get_mut(&ch.queue) else {
            return;
        };
        queue.consumers.retain(|c| *c != channel);
        for (_, mut queued) in ch.unacked.into_iter().rev() {
            queued.redelivered = true;
            queue.ready.push_front(queued);
        }
        if queue.options.auto_delete && queue.consumers.is_empty() {
            let name = ch.queue.clone();
            self.delete_queue(&name);
        }
    }

    fn route(
        &mut self,
        exchange: &str,
        routing_key: &str,
        message: Message,
    ) -> Result<(), BusError> {
        let targets: Vec<String> = if exchange.is_empty() {
            vec![routing_key.to_owned()]
        } else {
            let ex = self
                .exchanges
                .get(exchange)
                .ok_or_else(|| BusError::ExchangeNotFound(exchange.to_owned()))?;
            let mut qs: Vec<String> = ex
                .bindings
                .iter()
                .filter(|(k, _)| k == routing_key)
                .map(|(_, q)| q.clone())
                .collect();
            qs.dedup();
            qs
        };
        for name in targets {
            if let Some(queue) = self.queues.get_mut(&name) {
                queue.ready.push_back(Queued {
                    message: message.clone(),
                    redelivered: false,
                    exchange: exchange.to_owned(),
                    routing_key: routing_key.to_owned(),
                });
            }
        }
        Ok(())
    }

    fn dispatch_all(&mut self, shared: &Arc<Mutex<State>>) {
        let queues: Vec<String> = self.queues.keys().cloned().collect();
        for q in queues {
            self.dispatch(&q, shared);
        }
    }

    /// Hands ready messages to consumers with room under their prefetch bound,
    /// round-robin.
    fn dispatch(&mut self, queue_name: &str, shared: &Arc<Mutex<State>>) {
        loop {
            let Some(queue) = self.queues.get_mut(queue_name) else {
                return;
            };
            if queue.ready.is_empty() || queue.consumers.is_empty() {
                return;
            }
            let n = queue.consumers.len();
            let mut chosen = None;
            for i in 0..n {
                let idx = (queue.next_consumer + i) % n;
                let ch_id = queue.consumers[idx];
                if let Some(ch) = self.channels.get(&ch_id) {
                    let room = ch.prefetch == 0 || ch.unacked.len() < usize::from(ch.prefetch);
                    if ch.consuming && ch.sender.is_some() && room {
                        chosen = Some((idx, ch_id));
                        break;
                    }
                }
            }
            let Some((idx, ch_id)) = chosen else {
                return;
            };
            queue.next_consumer = (idx + 1) % n;
            let Some(queued) = queue.ready.pop_front() else {
                return;
            };
            let Some(ch) = self.channels.get_mut(&ch_id) else {
                return;
            };
            let tag = ch.next_tag;
            ch.next_tag += 1;
            let delivery = Delivery::new(
                queued.message.clone(),
                queued.redelivered,
                queued.exchange.clone(),
                queued.routing_key.clone(),
                tag,
                Box::new(MemoryAcker {
                    broker: MemoryBroker {
                        state: shared.clone(),
                    },
                    channel: ch_id,
                    tag,
                }),
            );
            if !ch.auto_ack {
                ch.unacked.insert(tag, queued.clone());
            }
            let sent = ch.sender.as_ref().is_some_and(|s| s.send(delivery).is_ok());
            if !sent {
                // The consumer is gone without closing its channel: treat as closed.
                ch.sender = None;
                ch.unacked.remove(&tag);
                if let Some(queue) = self.queues.get_mut(queue_name) {
                    let mut queued = queued;
                    queued.redelivered = true;
                    queue.ready.push_front(queued);
                }
            }
        }
    }
}

struct MemoryAcker {
    broker: MemoryBroker,
    channel: u64,
    tag: u64,
}

#[async_trait]
impl Acknowledger for MemoryAcker {
    async fn ack(&self) -> Result<(), BusError> {
        self.broker.settle(self.channel, self.tag, Settle::Ack)
    }

    async fn nack(&self, requeue: bool) -> Result<(), BusError> {
        let outcome = if requeue {
            Settle::Requeue
        } else {
            Settle::Drop
        };
        self.broker.settle(self.channel, self.tag, outcome)
    }
}

/// A connection to a [`MemoryBroker`].
pub struct MemoryBus {
    broker: MemoryBroker,
    connection: Mutex<Option<u64>>,
}

impl MemoryBus {
    /// Closes this handle's current connection (the next operation opens a new one).
    pub fn close(&self) {
        let current = self.connection.lock().take();
        if let Some(c) = current {
            let mut state = self.broker.state.lock();
            state.close_connection(c);
            state.dispatch_all(&self.broker.state);
        }
    }

    /// The broker this handle connects to.
    pub fn broker(&self) -> &MemoryBroker {
        &self.broker
    }

    /// Runs `f` with the broker state and a live connection id, connecting first
    /// when the previous connection was lost.
    fn with_connection<T>(
        &self,
        f: impl FnOnce(&mut State, u64) -> Result<T, BusError>,
    ) -> Result<T, BusError> {
        let mut current = self.connection.lock();
        let mut state = self.broker.state.lock();
        if !state.running {
            *current = None;
            return Err(BusError::Connect {
                address: ADDRESS.into(),
                reason: "connection refused (broker stopped)".into(),
            });
        }
        let connection = match *current {
            Some(c) if state.connections.contains_key(&c) => c,
            _ => {
                let c = state.id();
                state.connections.insert(c, Vec::new());
                *current = Some(c);
                c
            }
        };
        f(&mut state, connection)
    }
}

impl Drop for MemoryBus {
    fn drop(&mut self) {
        self.close();
    }
}

#[async_trait]
impl Bus for MemoryBus {
    async fn declare_exchange(&self, name: &str, options: ExchangeOptions) -> Result<(), BusError> {
        self.with_connection(|state, _| {
            if name.is_empty() {
                return Err(BusError::Refused {
                    operation: "declaring the default exchange".into(),
                    reason: "ACCESS_REFUSED".into(),
                });
            }
            match state.exchanges.get(name) {
                Some(ex) if !options.passive && ex.options.durable != options.durable => {
                    Err(BusError::Refused {
                        operation: format!("declaring exchange '{name}'"),
                        reason: "PRECONDITION_FAILED: inequivalent arg 'durable'".into(),
                    })
                }
                Some(_) => Ok(()),
                None if options.passive => Err(BusError::ExchangeNotFound(name.to_owned())),
                None => {
                    state.exchanges.insert(
                        name.to_owned(),
                        Exchange {
                            options,
                            bindings: Vec::new(),
                        },
                    );
                    Ok(())
                }
            }
        })
    }

    async fn declare_queue(&self, name: &str, options: QueueOptions) -> Result<(), BusError> {
        self.with_connection(|state, connection| match state.queues.get(name) {
            Some(q) if q.owner.is_some_and(|o| o != connection) => Err(BusError::Refused {
                operation: format!("declaring queue '{name}'"),
                reason: "RESOURCE_LOCKED: exclusive queue of another connection".into(),
            }),
            Some(q) if q.options != options => Err(BusError::Refused {
                operation: format!("declaring queue '{name}'"),
                reason: "PRECONDITION_FAILED: inequivalent queue options".into(),
            }),
            Some(_) => Ok(()),
            None => {
                state.queues.insert(
                    name.to_owned(),
                    Queue {
                        options,
                        owner: options.exclusive.then_some(connection),
                        ready: VecDeque::new(),
                        consumers: Vec::new(),
                        next_consumer: 0,
                    },
                );
                Ok(())
            }
        })
    }

    async fn delete_queue(&self, name: &str) -> Result<(), BusError> {
        self.with_connection(|state, _| {
            let channels: Vec<u64> = state
                .channels
                .iter()
                .filter(|(_, c)| c.queue == name)
                .map(|(id, _)| *id)
                .collect();
            for ch in channels {
                state.close_channel(ch);
            }
            state.delete_queue(name);
            Ok(())
        })
    }

    async fn delete_exchange(&self, name: &str) -> Result<(), BusError> {
        self.with_connection(|state, _| {
            state.exchanges.remove(name);
            Ok(())
        })
    }

    async fn bind_queue(
        &self,
        queue: &str,
        exchange: &str,
        routing_key: &str,
    ) -> Result<(), BusError> {
        self.with_connection(|state, _| {
            if !state.queues.contains_key(queue) {
                return Err(BusError::QueueNotFound(queue.to_owned()));
            }
            let ex = state
                .exchanges
                .get_mut(exchange)
                .ok_or_else(|| BusError::ExchangeNotFound(exchange.to_owned()))?;
            let binding = (routing_key.to_owned(), queue.to_owned());
            if !ex.bindings.contains(&binding) {
                ex.bindings.push(binding);
            }
            Ok(())
        })
    }

    async fn publish(
        &self,
        exchange: &str,
        routing_key: &str,
        message: Message,
    ) -> Result<(), BusError> {
        let shared = self.broker.state.clone();
        self.with_connection(|state, _| {
            state.route(exchange, routing_key, message)?;
            state.dispatch_all(&shared);
            Ok(())
        })
    }

    async fn consume(
        &self,
        queue: &str,
        options: ConsumeOptions,
    ) -> Result<Box<dyn Consumer>, BusError> {
        let shared = self.broker.state.clone();
        let (sender, receiver) = mpsc::unbounded_channel();
        let channel = self.with_connection(|state, connection| {
            let q = state
                .queues
                .get(queue)
                .ok_or_else(|| BusError::QueueNotFound(queue.to_owned()))?;
            if q.owner.is_some_and(|o| o != connection) {
                return Err(BusError::Refused {
                    operation: format!("consuming from queue '{queue}'"),
                    reason: "RESOURCE_LOCKED: exclusive queue of another connection".into(),
                });
            }
            let channel = state.id();
            state.channels.insert(
                channel,
                Channel {
                    connection,
                    queue: queue.to_owned(),
                    prefetch: options.prefetch,
                    auto_ack: options.auto_ack,
                    consuming: true,
                    sender: Some(sender),
                    unacked: BTreeMap::new(),
                    next_tag: 1,
                },
            );
            if let Some(conn) = state.connections.get_mut(&connection) {
                conn.push(channel);
            }
            if let Some(q) = state.queues.get_mut(queue) {
                q.consumers.push(channel);
            }
            state.dispatch(queue, &shared);
            Ok(channel)
        })?;
        Ok(Box::new(MemoryConsumer {
            broker: self.broker.clone(),
            channel,
            receiver,
            cancelled: false,
        }))
    }
}

struct MemoryConsumer {
    broker: MemoryBroker,
    channel: u64,
    receiver: mpsc::UnboundedReceiver<Delivery>,
    cancelled: bool,
}

#[async_trait]
impl Consumer for MemoryConsumer {
    async fn next(&mut self) -> Option<Delivery> {
        if self.cancelled {
            return None;
        }
        let delivery = self.receiver.recv().await?;
        // Deliveries buffered before the channel closed were requeued with it.
        if self
            .broker
            .state
            .lock()
            .channels
            .contains_key(&self.channel)
        {
            Some(delivery)
        } else {
            None
        }
    }

    async fn cancel(&mut self) -> Result<(), BusError> {
        self.cancelled = true;
        let mut state = self.broker.state.lock();
        state.check_connection(
            state
                .channels
                .get(&self.channel)
                .map(|c| c.connection)
                .unwrap_or(0),
        )?;
        if let Some(ch) = state.channels.get_mut(&self.channel) {
            ch.consuming = false;
            let queue = ch.queue.clone();
            if let Some(q) = state.queues.get_mut(&queue) {
                q.consumers.retain(|c| *c != self.channel);
            }
        }
        Ok(())
    }
}

impl Drop for MemoryConsumer {
    fn drop(&mut self) {
        let shared = self.broker.state.clone();
        let mut state = self.broker.state.lock();
        state.close_channel(self.channel);
        state.dispatch_all(&shared);
    }
}

#[cfg(test)]
mod tests;
