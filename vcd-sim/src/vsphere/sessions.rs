//! vCenter login sessions: the `vmware_soap_session` cookie, idle expiry and
//! the session table (CSE 1.2.x leaks one session per node per operation, so
//! live sessions are countable and idle ones expire).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use parking_lot::Mutex;

/// Name of vCenter's session cookie.
pub const SESSION_COOKIE: &str = "vmware_soap_session";

/// One logged-in session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Session key (a UUID), the `vmware_soap_session` cookie's value.
    pub key: String,
    /// The logged-in user.
    pub user_name: String,
    /// Login time.
    pub login_time: DateTime<Utc>,
    /// Time of the last call.
    pub last_active_time: DateTime<Utc>,
    /// Client address.
    pub ip_address: String,
    /// The client's `User-Agent`.
    pub user_agent: String,
    /// Calls made with the session.
    pub call_count: i64,
    last_active: Instant,
}

/// The session table.
#[derive(Debug)]
pub struct SessionStore {
    idle_timeout: Duration,
    sessions: Mutex<HashMap<String, Session>>,
}

impl SessionStore {
    /// An empty table; sessions idle longer than `idle_timeout` are dropped.
    pub(crate) fn new(idle_timeout: Duration) -> Self {
        SessionStore {
            idle_timeout,
            sessions: Mutex::new(HashMap::new()),
        }
    }

    /// Creates a session and returns it.
    pub fn create(&self, user_name: &str, ip_address: &str, user_agent: &str) -> Session {
        let now = Utc::now();
        let session = Session {
            key: uuid::Uuid::new_v4().to_string(),
            user_name: user_name.to_owned(),
            login_time: now,
            last_active_time: now,
            ip_address: ip_address.to_owned(),
            user_agent: user_agent.to_owned(),
            call_count: 0,
            last_active: Instant::now(),
        };
        let mut sessions = self.sessions.lock();
        self.expire_idle(&mut sessions);
        sessions.insert(session.key.clone(), session.clone());
        session
    }

    /// The live session with this key, marked active by this call.
    pub fn touch(&self, key: &str) -> Option<Session> {
        let mut sessions = self.sessions.lock();
        self.expire_idle(&mut sessions);
        let session = sessions.get_mut(key)?;
        session.last_active = Instant::now();
        session.last_active_time = Utc::now();
        session.call_count += 1;
        Some(session.clone())
    }

    /// Ends a session; returns whether it existed.
    pub fn remove(&self, key: &str) -> bool {
        self.sessions.lock().remove(key).is_some()
    }

    /// Number of sessions that have not expired.
    pub fn live_count(&self) -> usize {
        let mut sessions = self.sessions.lock();
        self.expire_idle(&mut sessions);
        sessions.len()
    }

    fn expire_idle(&self, sessions: &mut HashMap<String, Session>) {
        let timeout = self.idle_timeout;
        sessions.retain(|_, s| s.last_active.elapsed() < timeout);
    }
}

/// The session key from a `Cookie` header. pyVmomi echoes the whole
/// `Set-Cookie` value (`vmware_soap_session="…"; Path=/; HttpOnly; Secure;`),
/// so the value runs to the next `;` and loses its quotes.
pub fn session_key_from_cookie(header: &str) -> Option<String> {
    header.split(';').find_map(|part| {
        let (name, value) = part.split_once('=')?;
        (name.trim() == SESSION_COOKIE).then(|| value.trim().trim_matches('"').to_owned())
    })
}

/// The `Set-Cookie` value vCenter sends after `Login`.
pub fn set_cookie_value(key: &str) -> String {
    format!("{SESSION_COOKIE}=\"{key}\"; Path=/; HttpOnly; Secure;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_forms_all_parse() {
        let key = "52f1c3a0-7d2e-4b8e-a1c4-0f9d5e6b7a21";
        assert_eq!(
            session_key_from_cookie(&set_cookie_value(key)).as_deref(),
            Some(key)
        );
        assert_eq!(
            session_key_from_cookie(&format!("other=1; {SESSION_COOKIE}={key}")).as_deref(),
            Some(key)
        );
        assert_eq!(session_key_from_cookie("other=1"), None);
        assert_eq!(session_key_from_cookie(""), None);
    }

    #[test]
    fn sessions_expire_when_idle() {
        let store = SessionStore::new(Duration::from_millis(30));
        let session = store.create("u", "127.0.0.1", "test");
        assert_eq!(store.touch(&session.key).map(|s| s.call_count), Some(1));
        std::thread::sleep(Duration::from_millis(60));
        assert!(store.touch(&session.key).is_none());
        assert_eq!(store.live_count(), 0);
    }

    #[test]
    fn logout_removes_the_session() {
        let store = SessionStore::new(Duration::from_secs(60));
        let session = store.create("u", "", "");
        assert!(store.remove(&session.key));
        assert!(!store.remove(&session.key));
        assert!(store.touch(&session.key).is_none());
    }
}
