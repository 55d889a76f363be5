//! vCD's MQTT message bus for API extensions (vCD 10.2+; the 10.3+ profiles
//! here): a minimal MQTT 3.1.1 broker behind the websocket at
//! `/messaging/mqtt` (packets coded by rumqttc's `mqttbytes`), and the vCD
//! side of the round trip: a request matching an MQTT extension's API filter
//! is published on the extension's `monitor` topic, and the response with the
//! same `requestId` on its `respond` topic becomes the HTTP reply (504 after
//! the extension timeout, as for AMQP).
//!
//! Packets: CONNECT (user `vendor/name/version`, password an `EXTENSION`
//! token of that extension), SUBSCRIBE / UNSUBSCRIBE (only the extension's
//! own monitor topic), PUBLISH at QoS 0, 1 and 2 (only to its respond topic),
//! PUBACK, PUBREC / PUBREL / PUBCOMP, PINGREQ, DISCONNECT.
//!
//! Delivery as a client sees it (see `vcd-sim/FIDELITY.md`): sessions are
//! never durable (CONNACK's session-present is always 0, subscriptions end
//! with their connection); requests are published at QoS 1 and held until a
//! subscriber acknowledges them or [`MESSAGE_EXPIRY`] passes, so a request
//! made while the extension is disconnected reaches it when it subscribes
//! again (its HTTP caller got 504 by then); a request handed out but not
//! acknowledged when its connection ends is handed out again, with DUP set.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message as WsMessage, WebSocket};
use bytes::{Bytes, BytesMut};
use cse_core::ext::mqtt::{MqttRequest, MqttResponse};
use cse_core::ext::{ExtLimits, ExtRequest};
use parking_lot::Mutex;
use rumqttc::mqttbytes::QoS;
use rumqttc::mqttbytes::v4::{
    ConnAck, ConnectReturnCode, Packet, PubAck, PubComp, PubRec, Publish, SubAck,
    SubscribeReasonCode, UnsubAck,
};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::ext::responses::timeout_response;
use crate::ext::{ExtensionTarget, ForwardedRequest, ForwardedResponse};

/// How long vCD keeps a message nobody acknowledged.
pub const MESSAGE_EXPIRY: Duration = Duration::from_secs(300);

/// Most requests held for delivery at once (all extensions): past it, a new
/// request is refused as vCD refuses one it cannot hand to the bus (500),
/// instead of growing the broker's memory for five minutes per request.
pub const MAX_HELD_MESSAGES: usize = 10_000;

/// Most QoS 1 deliveries one connection has unacknowledged: further requests
/// wait (held) until it acknowledges, so a slow extension is never flooded
/// and its client's receive queue stays bounded by this window.
pub const MAX_INFLIGHT_PER_CONNECTION: usize = 100;

/// Largest MQTT packet accepted or sent.
pub const MAX_PACKET_BYTES: usize = 16 * 1024 * 1024;

/// How long a new websocket may take to send CONNECT.
const CONNECT_WAIT: Duration = Duration::from_secs(10);

/// Counters a test can read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BrokerStats {
    /// MQTT connections accepted (CONNACK 0).
    pub connections: u64,
    /// Connections refused at CONNECT (bad credentials, protocol).
    pub refused: u64,
    /// Connections open now.
    pub connected: u64,
    /// Request deliveries sent (first deliveries and redeliveries).
    pub deliveries: u64,
    /// Of those, redeliveries (DUP set).
    pub redeliveries: u64,
    /// Requests acknowledged by an extension.
    pub acknowledged: u64,
    /// Requests dropped after [`MESSAGE_EXPIRY`] without an acknowledgement.
    pub expired: u64,
    /// Requests waiting for a subscriber or an acknowledgement now.
    pub held: u64,
    /// Responses that found no waiting HTTP request (late or duplicate).
    pub unmatched_responses: u64,
}

enum Out {
    Packet(Bytes),
    Close,
}

struct Conn {
    monitor: String,
    /// QoS granted on the monitor topic, when subscribed.
    subscribed: Option<QoS>,
    tx: mpsc::UnboundedSender<Out>,
    next_pkid: u16,
    /// Packet id → held message id.
    inflight: HashMap<u16, u64>,
}

impl Conn {
    fn pkid(&mut self) -> u16 {
        loop {
            self.next_pkid = self.next_pkid.wrapping_add(1);
            if self.next_pkid != 0 && !self.inflight.contains_key(&self.next_pkid) {
                return self.next_pkid;
            }
        }
    }
}

struct Held {
    id: u64,
    topic: String,
    payload: Bytes,
    expires: Instant,
    /// Handed out before (a later delivery sets DUP).
    delivered: bool,
    /// Connections it is outstanding on now.
    sent_to: HashSet<u64>,
}

#[derive(Default)]
struct State {
    conns: HashMap<u64, Conn>,
    held: Vec<Held>,
    next_id: u64,
    waiters: HashMap<String, oneshot::Sender<MqttResponse>>,
    stats: BrokerStats,
    /// Stopped ([`MqttBroker::stop`]): CONNECTs are refused.
    down: bool,
}

fn encode(packet: &Packet) -> Option<Bytes> {
    let mut buf = BytesMut::new();
    packet.write(&mut buf, MAX_PACKET_BYTES).ok()?;
    Some(buf.freeze())
}

impl State {
    fn send(conn: &Conn, packet: &Packet) {
        if let Some(bytes) = encode(packet) {
            let _ = conn.tx.send(Out::Packet(bytes));
        }
    }

    /// Drops expired messages and hands held ones to every subscriber that
    /// does not have them outstanding.
    fn dispatch(&mut self) {
        self.drop_expired();
        let mut acked_at_once = Vec::new();
        for held in &mut self.held {
            for (id, conn) in self.conns.iter_mut() {
                let Some(granted) = conn.subscribed else {
                    continue;
                };
                if conn.monitor != held.topic || held.sent_to.contains(id) {
                    continue;
                }
                if conn.inflight.len() >= MAX_INFLIGHT_PER_CONNECTION {
                    continue;
                }
                // Requests go out at QoS 1, downgraded to what the subscriber was granted.
                let qos = if granted == QoS::AtMostOnce {
                    QoS::AtMostOnce
                } else {
                    QoS::AtLeastOnce
                };
                let mut publish = Publish::from_bytes(&held.topic, qos, held.payload.clone());
                publish.dup = held.delivered && qos != QoS::AtMostOnce;
                if qos != QoS::AtMostOnce {
                    publish.pkid = conn.pkid();
                    conn.inflight.insert(publish.pkid, held.id);
                    held.sent_to.insert(*id);
                } else {
                    acked_at_once.push(held.id);
                }
                self.stats.deliveries += 1;
                if publish.dup {
                    self.stats.redeliveries += 1;
                }
                held.delivered = true;
                Self::send(conn, &Packet::Publish(publish));
            }
        }
        for id in acked_at_once {
            self.acknowledge(id);
        }
        self.stats.held = self.held.len() as u64;
    }

    /// Forgets messages past [`MESSAGE_EXPIRY`] (counted as expired).
    fn drop_expired(&mut self) {
        let now = Instant::now();
        let before = self.held.len();
        self.held.retain(|h| h.expires > now);
        self.stats.expired += (before - self.held.len()) as u64;
    }

    fn acknowledge(&mut self, message: u64) {
        let before = self.held.len();
        self.held.retain(|h| h.id != message);
        if self.held.len() != before {
            self.stats.acknowledged += 1;
        }
        self.stats.held = self.held.len() as u64;
    }
}

/// The broker and the vCD side of the MQTT round trip. Clones share state.
#[derive(Clone)]
pub struct MqttBroker {
    state: Arc<Mutex<State>>,
    timeout: Arc<Mutex<Duration>>,
}

impl Default for MqttBroker {
    fn default() -> Self {
        Self::new(crate::ext::router::DEFAULT_TIMEOUT)
    }
}

impl std::fmt::Debug for MqttBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MqttBroker")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// Who a CONNECT authenticated as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionLogin {
    /// The extension's monitor topic.
    pub monitor: String,
    /// The extension's respond topic.
    pub respond: String,
}

impl MqttBroker {
    /// A broker answering HTTP requests with 504 after `timeout`.
    pub fn new(timeout: Duration) -> Self {
        MqttBroker {
            state: Arc::new(Mutex::new(State::default())),
            timeout: Arc::new(Mutex::new(timeout)),
        }
    }

    /// The extension timeout (`extensibility.timeout`).
    pub fn timeout(&self) -> Duration {
        *self.timeout.lock()
    }

    /// Sets the extension timeout.
    pub fn set_timeout(&self, timeout: Duration) {
        *self.timeout.lock() = timeout;
    }

    /// Current counters.
    pub fn stats(&self) -> BrokerStats {
        let mut g = self.state.lock();
        g.stats.connected = g.conns.len() as u64;
        g.stats.held = g.held.len() as u64;
        g.stats
    }

    /// Fault: ends every extension connection at once, as a dropped
    /// websocket would (no DISCONNECT; outstanding requests are handed out
    /// again to the next subscriber).
    pub fn drop_connections(&self) -> usize {
        let mut g = self.state.lock();
        let n = g.conns.len();
        for conn in g.conns.values() {
            let _ = conn.tx.send(Out::Close);
        }
        let ids: Vec<u64> = g.conns.keys().copied().collect();
        for id in ids {
            Self::forget(&mut g, id);
        }
        g.dispatch();
        n
    }

    /// Fault: the broker goes away, as when a cell's message bus restarts:
    /// every connection ends (as [`MqttBroker::drop_connections`]) and new
    /// ones are refused (CONNACK "server unavailable") until
    /// [`MqttBroker::start`]. Requests made meanwhile are held for the next
    /// subscriber.
    pub fn stop(&self) -> usize {
        self.state.lock().down = true;
        self.drop_connections()
    }

    /// Ends a [`MqttBroker::stop`]: connections are accepted again.
    pub fn start(&self) {
        self.state.lock().down = false;
    }

    /// Whether the broker is stopped.
    pub fn is_stopped(&self) -> bool {
        self.state.lock().down
    }

    fn forget(g: &mut State, conn: u64) {
        g.conns.remove(&conn);
        for held in &mut g.held {
            held.sent_to.remove(&conn);
        }
    }

    /// Forwards one HTTP request to an MQTT extension and waits for its
    /// response (504 after the extension timeout).
    pub async fn forward(
        &self,
        target: &ExtensionTarget,
        req: ForwardedRequest,
    ) -> ForwardedResponse {
        let Some(topics) = &target.mqtt else {
            return crate::ext::responses::cannot_send_response(&req, target);
        };
        if !target.enabled {
            return crate::ext::responses::not_routed_response(&req);
        }
        let timeout = self.timeout();
        let request_id = uuid::Uuid::new_v4().to_string();
        let api_access_token = req.headers.iter().find_map(|(k, v)| {
            k.eq_ignore_ascii_case("authorization")
                .then(|| v.strip_prefix("Bearer ").map(str::to_owned))
                .flatten()
        });
        let envelope = MqttRequest {
            request_id: request_id.clone(),
            request: build_request(&uuid::Uuid::new_v4().to_string(), &req),
            api_access_token,
        };
        let (tx, rx) = oneshot::channel();
        {
            let mut g = self.state.lock();
            g.drop_expired();
            if g.held.len() >= MAX_HELD_MESSAGES {
                return crate::ext::responses::cannot_send_response(&req, target);
            }
            g.waiters.insert(request_id.clone(), tx);
            g.next_id += 1;
            let id = g.next_id;
            g.held.push(Held {
                id,
                topic: topics.monitor.clone(),
                payload: Bytes::from(envelope.to_json()),
                expires: Instant::now() + MESSAGE_EXPIRY,
                delivered: false,
                sent_to: HashSet::new(),
            });
            g.dispatch();
        }
        let answer = tokio::time::timeout(timeout, rx).await;
        self.state.lock().waiters.remove(&request_id);
        match answer {
            Ok(Ok(response)) => ForwardedResponse {
                status: response.reply.status_code,
                headers: vec![("Content-Type".into(), response.reply.content_type)],
                body: Bytes::from(response.reply.body),
            },
            Ok(Err(_)) | Err(_) => timeout_response(&req, target, timeout.as_secs()),
        }
    }

    /// Checks a CONNECT's credentials against the registered extensions and
    /// their `EXTENSION` tokens.
    pub fn authenticate(
        sim: &crate::state::Sim,
        auth: &crate::auth::Auth,
        username: &str,
        password: &str,
    ) -> Option<ExtensionLogin> {
        let ext = sim.api_extension_by_triplet(username)?;
        let mqtt = ext.mqtt?;
        auth.check_extension_token(password, username)
            .then_some(ExtensionLogin {
                monitor: mqtt.monitor,
                respond: mqtt.respond,
            })
    }

    /// Serves one websocket until it closes. `login` checks CONNECT's user
    /// name and password.
    pub async fn serve_socket<F>(self, mut socket: WebSocket, login: F)
    where
        F: Fn(&str, &str) -> Option<ExtensionLogin> + Send,
    {
        let mut buf = BytesMut::new();
        // CONNECT first.
        let connect = tokio::time::timeout(CONNECT_WAIT, async {
            loop {
                match Packet::read(&mut buf, MAX_PACKET_BYTES) {
                    Ok(p) => return Some(p),
                    Err(rumqttc::mqttbytes::Error::InsufficientBytes(_)) => {}
                    Err(_) => return None,
                }
                match socket.recv().await {
                    Some(Ok(WsMessage::Binary(b))) => buf.extend_from_slice(&b),
                    Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => {}
                    _ => return None,
                }
            }
        })
        .await;
        let Ok(Some(Packet::Connect(connect))) = connect else {
            return;
        };
        let refuse = |code| encode(&Packet::ConnAck(ConnAck::new(code, false)));
        if self.is_stopped() {
            self.state.lock().stats.refused += 1;
            if let Some(b) = refuse(ConnectReturnCode::ServiceUnavailable) {
                let _ = socket.send(WsMessage::Binary(b)).await;
            }
            let _ = socket.send(WsMessage::Close(None)).await;
            return;
        }
        let creds = connect
            .login
            .as_ref()
            .and_then(|l| login(&l.username, &l.password));
        let Some(ext) = creds else {
            self.state.lock().stats.refused += 1;
            if let Some(b) = refuse(ConnectReturnCode::BadUserNamePassword) {
                let _ = socket.send(WsMessage::Binary(b)).await;
            }
            let _ = socket.send(WsMessage::Close(None)).await;
            return;
        };
        let keep_alive = Duration::from_secs(u64::from(connect.keep_alive));
        let (tx, mut rx) = mpsc::unbounded_channel();
        let conn_id = {
            let mut g = self.state.lock();
            g.next_id += 1;
            let id = g.next_id;
            g.conns.insert(
                id,
                Conn {
                    monitor: ext.monitor.clone(),
                    subscribed: None,
                    tx,
                    next_pkid: 0,
                    inflight: HashMap::new(),
                },
            );
            g.stats.connections += 1;
            id
        };
        if let Some(b) = encode(&Packet::ConnAck(ConnAck::new(
            ConnectReturnCode::Success,
            false,
        ))) && socket.send(WsMessage::Binary(b)).await.is_err()
        {
            Self::forget(&mut self.state.lock(), conn_id);
            return;
        }
        // QoS 2 packet ids received and not yet released (PUBREL).
        let mut qos2_pending: HashSet<u16> = HashSet::new();
        let idle_limit = if keep_alive.is_zero() {
            None
        } else {
            Some(keep_alive + keep_alive / 2)
        };
        let mut last_seen = Instant::now();
        'conn: loop {
            let deadline = idle_limit.map(|d| last_seen + d);
            tokio::select! {
                out = rx.recv() => match out {
                    Some(Out::Packet(b)) => {
                        if socket.send(WsMessage::Binary(b)).await.is_err() {
                            break 'conn;
                        }
                    }
                    Some(Out::Close) | None => {
                        // Dropped without a close handshake, as a broken network would.
                        return;
                    }
                },
                frame = socket.recv() => {
                    let data = match frame {
                        Some(Ok(WsMessage::Binary(b))) => b,
                        Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => continue,
                        _ => break 'conn,
                    };
                    last_seen = Instant::now();
                    buf.extend_from_slice(&data);
                    loop {
                        let packet = match Packet::read(&mut buf, MAX_PACKET_BYTES) {
                            Ok(p) => p,
                            Err(rumqttc::mqttbytes::Error::InsufficientBytes(_)) => break,
                            Err(e) => {
                                tracing::debug!(error = %e, "malformed MQTT packet; closing");
                                break 'conn;
                            }
                        };
                        if !self.handle(conn_id, &ext, packet, &mut qos2_pending) {
                            break 'conn;
                        }
                    }
                },
                () = async {
                    match deadline {
                        Some(d) => tokio::time::sleep_until(d).await,
                        None => std::future::pending().await,
                    }
                } => {
                    tracing::debug!("MQTT keep-alive passed without a packet; closing");
                    break 'conn;
                }
            }
        }
        {
            let mut g = self.state.lock();
            Self::forget(&mut g, conn_id);
            g.dispatch();
        }
        let _ = socket.send(WsMessage::Close(None)).await;
    }

    /// Handles one packet; false closes the connection.
    fn handle(
        &self,
        conn_id: u64,
        ext: &ExtensionLogin,
        packet: Packet,
        qos2_pending: &mut HashSet<u16>,
    ) -> bool {
        let mut g = self.state.lock();
        let Some(conn) = g.conns.get_mut(&conn_id) else {
            return false;
        };
        match packet {
            Packet::Subscribe(sub) => {
                let mut codes = Vec::new();
                for filter in &sub.filters {
                    if filter.path == ext.monitor {
                        conn.subscribed = Some(filter.qos);
                        codes.push(SubscribeReasonCode::Success(filter.qos));
                    } else {
                        codes.push(SubscribeReasonCode::Failure);
                    }
                }
                State::send(conn, &Packet::SubAck(SubAck::new(sub.pkid, codes)));
                g.dispatch();
                true
            }
            Packet::Unsubscribe(u) => {
                if u.topics.contains(&ext.monitor) {
                    conn.subscribed = None;
                }
                State::send(conn, &Packet::UnsubAck(UnsubAck::new(u.pkid)));
                true
            }
            Packet::PubAck(ack) => {
                if let Some(message) = conn.inflight.remove(&ack.pkid) {
                    g.acknowledge(message);
                    // The connection's window has room again.
                    g.dispatch();
                }
                true
            }
            Packet::PubRec(rec) => {
                // A QoS 2 grant is delivered at QoS 1 (see `dispatch`); answer anyway.
                if let Some(message) = conn.inflight.remove(&rec.pkid) {
                    g.acknowledge(message);
                    g.dispatch();
                }
                true
            }
            Packet::PubRel(rel) => {
                qos2_pending.remove(&rel.pkid);
                State::send(conn, &Packet::PubComp(PubComp::new(rel.pkid)));
                true
            }
            Packet::Publish(publish) => {
                if publish.topic != ext.respond {
                    tracing::debug!(topic = %publish.topic, "publish outside the extension's respond topic; closing");
                    return false;
                }
                let first = match publish.qos {
                    QoS::AtMostOnce => true,
                    QoS::AtLeastOnce => {
                        State::send(conn, &Packet::PubAck(PubAck::new(publish.pkid)));
                        true
                    }
                    QoS::ExactlyOnce => {
                        State::send(conn, &Packet::PubRec(PubRec::new(publish.pkid)));
                        qos2_pending.insert(publish.pkid)
                    }
                };
                if first {
                    match MqttResponse::from_json_with_limits(
                        &publish.payload,
                        &ExtLimits::default(),
                    ) {
                        Ok(response) => match g.waiters.remove(&response.request_id) {
                            Some(tx) => {
                                let _ = tx.send(response);
                            }
                            None => g.stats.unmatched_responses += 1,
                        },
                        Err(e) => {
                            tracing::warn!(error = %e, "invalid MQTT extension response dropped");
                            g.stats.unmatched_responses += 1;
                        }
                    }
                }
                true
            }
            Packet::PingReq => {
                State::send(conn, &Packet::PingResp);
                true
            }
            Packet::Disconnect => false,
            // CONNECT twice, or packets only a server sends.
            _ => false,
        }
    }
}

/// The request element vCD wraps for an extension (shared with AMQP).
pub(crate) fn build_request(message_id: &str, req: &ForwardedRequest) -> ExtRequest {
    crate::ext::router::build_request(message_id, req)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(id: u64, topic: &str) -> Held {
        Held {
            id,
            topic: topic.to_owned(),
            payload: Bytes::from_static(b"{}"),
            expires: Instant::now() + MESSAGE_EXPIRY,
            delivered: false,
            sent_to: HashSet::new(),
        }
    }

    #[tokio::test]
    async fn a_connection_gets_at_most_its_window_until_it_acknowledges() {
        let topic = "topic/extension/v/n/1/ext";
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut state = State::default();
        state.conns.insert(
            1,
            Conn {
                monitor: topic.to_owned(),
                subscribed: Some(QoS::AtLeastOnce),
                tx,
                next_pkid: 0,
                inflight: HashMap::new(),
            },
        );
        let total = MAX_INFLIGHT_PER_CONNECTION as u64 + 50;
        state.held = (1..=total).map(|id| held(id, topic)).collect();
        state.dispatch();
        let mut sent = 0;
        while rx.try_recv().is_ok() {
            sent += 1;
        }
        assert_eq!(sent, MAX_INFLIGHT_PER_CONNECTION);
        assert_eq!(state.held.len() as u64, total, "the rest stay held");

        // One acknowledgement makes room for exactly one more.
        let conn = state.conns.get_mut(&1).expect("connection");
        let pkid = *conn
            .inflight
            .keys()
            .next()
            .expect("an outstanding delivery");
        let message = conn.inflight.remove(&pkid).expect("message");
        state.acknowledge(message);
        state.dispatch();
        let mut more = 0;
        while rx.try_recv().is_ok() {
            more += 1;
        }
        assert_eq!(more, 1);
        assert_eq!(state.held.len() as u64, total - 1);
    }
}
