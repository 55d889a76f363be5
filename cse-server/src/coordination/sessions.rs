//! Callers' sessions, re-hydrated once and remembered briefly. Every tenant
//! request carries the caller's vCD token; the server reads the `Session`
//! document behind it (`GET /api/session`) to learn the user, the org and
//! their links. vCD authenticated the token before it forwarded the request,
//! so the answer only changes when the session ends; re-reading it for every
//! request doubled the calls a `GET /api/cse` made to vCD. Here a session read
//! is shared by the calls in flight with the same token ([`Flights`]) and kept
//! for [`SESSION_MEMORY`], at most [`MAX_SESSIONS`] of them (the oldest
//! forgotten first). Keys are SHA-256 digests of the token and the API
//! version: no token is kept. A token refused by vCD is never remembered.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::time::Instant;

use cse_core::api::ApiError;
use cse_vcd::vcd::SessionInfo;

use super::Flights;

/// How long a session read is used for further requests with its token.
pub const SESSION_MEMORY: Duration = Duration::from_secs(10);
/// Most sessions remembered at once.
pub const MAX_SESSIONS: usize = 4096;

/// A token's digest and the API version it speaks.
pub type SessionKey = ([u8; 32], String);

/// A session read as vCD answered it, shared by the calls that waited for it.
pub type SessionAnswer = Result<Arc<SessionInfo>, ApiError>;

/// Sessions read recently, and those being read.
#[derive(Debug, Default)]
pub struct CallerSessions {
    known: Mutex<HashMap<SessionKey, (Instant, Arc<SessionInfo>)>>,
    reading: Flights<SessionKey, SessionAnswer>,
}

impl CallerSessions {
    /// The session for `key`: remembered (read less than [`SESSION_MEMORY`]
    /// ago), joined (being read), or read by `read` now.
    pub async fn get<F>(&self, key: SessionKey, read: F) -> SessionAnswer
    where
        F: std::future::Future<Output = SessionAnswer> + Send + 'static,
    {
        if let Some(session) = self.remembered(&key) {
            return Ok(session);
        }
        let (answer, _) = self.reading.run(key.clone(), read).await;
        if let Ok(session) = &answer {
            self.remember(key, session.clone());
        }
        answer
    }

    fn remembered(&self, key: &SessionKey) -> Option<Arc<SessionInfo>> {
        let mut known = self.known.lock();
        match known.get(key) {
            Some((read_at, session)) if read_at.elapsed() < SESSION_MEMORY => Some(session.clone()),
            Some(_) => {
                known.remove(key);
                None
            }
            None => None,
        }
    }

    fn remember(&self, key: SessionKey, session: Arc<SessionInfo>) {
        let mut known = self.known.lock();
        if known.len() >= MAX_SESSIONS && !known.contains_key(&key) {
            known.retain(|_, (read_at, _)| read_at.elapsed() < SESSION_MEMORY);
            if known.len() >= MAX_SESSIONS
                && let Some(oldest) = known
                    .iter()
                    .min_by_key(|(_, (read_at, _))| *read_at)
                    .map(|(key, _)| key.clone())
            {
                known.remove(&oldest);
            }
        }
        known.insert(key, (Instant::now(), session));
    }

    /// How many sessions are remembered.
    pub fn len(&self) -> usize {
        self.known.lock().len()
    }

    /// True when none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn key(n: u32) -> SessionKey {
        let mut digest = [0u8; 32];
        digest[..4].copy_from_slice(&n.to_be_bytes());
        (digest, "39.0".to_owned())
    }

    fn session(user: &str) -> Arc<SessionInfo> {
        Arc::new(SessionInfo {
            user: user.to_owned(),
            ..SessionInfo::default()
        })
    }

    #[tokio::test(start_paused = true)]
    async fn a_session_is_read_once_then_remembered_until_it_is_old() {
        let sessions = CallerSessions::default();
        let reads = Arc::new(AtomicUsize::new(0));
        let read = |reads: Arc<AtomicUsize>| async move {
            reads.fetch_add(1, Ordering::SeqCst);
            Ok(session("alice"))
        };
        for _ in 0..3 {
            let got = sessions.get(key(1), read(reads.clone())).await.unwrap();
            assert_eq!(got.user, "alice");
        }
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        tokio::time::advance(SESSION_MEMORY).await;
        sessions.get(key(1), read(reads.clone())).await.unwrap();
        assert_eq!(reads.load(Ordering::SeqCst), 2, "read again once old");
    }

    #[tokio::test(start_paused = true)]
    async fn a_refused_token_is_never_remembered() {
        let sessions = CallerSessions::default();
        for _ in 0..2 {
            let answer = sessions
                .get(key(2), async { Err(ApiError::Unauthorized) })
                .await;
            assert!(matches!(answer, Err(ApiError::Unauthorized)));
        }
        assert!(sessions.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn at_most_max_sessions_are_remembered_the_oldest_forgotten_first() {
        let sessions = CallerSessions::default();
        for n in 0..u32::try_from(MAX_SESSIONS).unwrap() {
            sessions
                .get(key(n), async { Ok(session("u")) })
                .await
                .unwrap();
            tokio::time::advance(Duration::from_micros(1)).await;
        }
        assert_eq!(sessions.len(), MAX_SESSIONS);
        sessions
            .get(key(u32::MAX), async { Ok(session("new")) })
            .await
            .unwrap();
        assert_eq!(sessions.len(), MAX_SESSIONS);
        assert!(sessions.remembered(&key(0)).is_none(), "the oldest went");
        assert!(sessions.remembered(&key(1)).is_some());
        assert!(sessions.remembered(&key(u32::MAX)).is_some());
    }
}
