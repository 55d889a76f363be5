//! Exactly-once execution of extension requests across redeliveries.
//!
//! The listener acknowledges a request only after its reply is published, so a
//! request can be delivered again: after a lost connection, a crash, or an ack
//! that never reached the broker. [`ReplyJournal`] makes sure such a
//! redelivery does not run the handler a second time:
//!
//! * a request whose reply was produced is answered from the journal (the
//!   stored reply text is published again; vCD drops a reply it already has);
//! * a request still running in this process (its copy was redelivered to
//!   another listener after a channel failure) waits for that run's reply;
//! * otherwise the caller runs it, holding an [`Execution`] claim.
//!
//! **What "already sent" means across a crash.** With a state file the reply
//! is appended and flushed to disk (`fdatasync`) *before* it is published, so
//! a process that dies after publishing and before acknowledging (vCD already
//! has the answer) or between storing and publishing finds the reply on
//! restart and replays it instead of executing again. The window left is a
//! crash after the handler's effects and before the reply is stored; the
//! long-running operations close it themselves (they are journaled, idempotent
//! steps in vApp metadata). Without a state file the guarantee holds within
//! one process only. Several server replicas do not share this journal:
//! across replicas exactly-once rests on the operations' own leases.
//!
//! The journal is bounded: the most recent `capacity` replies are kept (a
//! redelivery comes within seconds, while vCD still waits), and the file is
//! compacted to those when it grows past four times that.
//!
//! **Only replies of requests that change something are journaled.** Reads
//! (`GET`: cluster list, info, `cluster config`, node info, templates,
//! system) are safe to execute again, and their replies hold what must not
//! rest on disk: a `cluster config` reply is a kubeconfig with the cluster's
//! client key. The listener completes them with [`Execution::complete_read`]:
//! copies waiting for the running request still get its reply (in-process
//! de-duplication of in-flight requests holds for every method), but the
//! reply is neither written to the file nor kept after the waiters have it,
//! and a later redelivery runs the read again. Replies of `POST`/`PUT`/`DELETE`
//! (a task href, an error) are journaled as before.
//!
//! **At rest** the journal is `0600` in a `0700` state directory: both are
//! created with those modes, an existing directory or file with other modes
//! is tightened, and one that belongs to another user (the tightening fails)
//! is refused with an error naming it, so the server does not start with its
//! replies readable by others. The compacted file is written the same way.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

/// Default number of recent replies kept.
pub const DEFAULT_CAPACITY: usize = 1024;

/// File name of the journal inside the state directory.
pub const JOURNAL_FILE: &str = "amqp-replies.jsonl";

/// Problems with the journal file.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The file could not be opened or read.
    #[error("cannot open the reply journal '{path}': {source}")]
    Open {
        /// The journal file.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// A reply could not be written or flushed.
    #[error("cannot write the reply journal '{path}': {source}")]
    Write {
        /// The journal file.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
}

#[derive(Serialize, Deserialize)]
struct Entry {
    key: String,
    reply: String,
}

struct State {
    done: HashMap<String, Arc<str>>,
    order: VecDeque<String>,
    in_flight: HashMap<String, watch::Sender<Option<Arc<str>>>>,
    lines_in_file: usize,
}

struct FileSink {
    path: PathBuf,
    file: std::fs::File,
}

struct Inner {
    capacity: usize,
    state: Mutex<State>,
    file: Option<Mutex<FileSink>>,
}

/// Recent replies by request key, optionally persisted. Cheap to clone.
#[derive(Clone)]
pub struct ReplyJournal {
    inner: Arc<Inner>,
}

/// What to do with a request.
pub enum Claim {
    /// Its reply exists: publish this text again, do not execute.
    Replay(Arc<str>),
    /// It is running in this process: wait for that run's reply.
    Wait(watch::Receiver<Option<Arc<str>>>),
    /// Run it; report the reply with [`Execution::complete`].
    Execute(Execution),
}

/// The right (and duty) to run one request. Dropped without completing (the
/// handler was cancelled), it lets a waiting copy run instead.
pub struct Execution {
    journal: ReplyJournal,
    key: String,
    completed: bool,
}

impl ReplyJournal {
    /// A journal kept in memory only (exactly-once within this process).
    pub fn in_memory(capacity: usize) -> Self {
        Self::build(capacity, None, Vec::new())
    }

    /// A journal persisted in `dir` (created if missing), loading the replies
    /// of a previous run. A torn last line (crash while writing) is skipped.
    pub fn open(dir: &Path, capacity: usize) -> Result<Self, JournalError> {
        let path = dir.join(JOURNAL_FILE);
        let open_err = |source| JournalError::Open {
            path: path.clone(),
            source,
        };
        let private_err = |e: cse_core::config::PrivateFileError| JournalError::Open {
            path: e.path.clone(),
            source: std::io::Error::new(e.source.kind(), e.to_string()),
        };
        cse_core::config::create_private_dir(dir).map_err(private_err)?;
        let mut entries = Vec::new();
        match std::fs::File::open(&path) {
            Ok(f) => {
                for line in std::io::BufReader::new(f).lines() {
                    let line = line.map_err(open_err)?;
                    match serde_json::from_str::<Entry>(&line) {
                        Ok(e) => entries.push(e),
                        Err(e) => tracing::warn!(
                            path = %path.display(),
                            error = %e,
                            "skipping an unreadable reply-journal line"
                        ),
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(open_err(e)),
        }
        let file = cse_core::config::open_private_append(&path).map_err(private_err)?;
        let lines = entries.len();
        let journal = Self::build(capacity, Some(FileSink { path, file }), entries);
        journal.inner.state.lock().lines_in_file = lines;
        Ok(journal)
    }

    fn build(capacity: usize, file: Option<FileSink>, entries: Vec<Entry>) -> Self {
        let capacity = capacity.max(1);
        let journal = ReplyJournal {
            inner: Arc::new(Inner {
                capacity,
                state: Mutex::new(State {
                    done: HashMap::new(),
                    order: VecDeque::new(),
                    in_flight: HashMap::new(),
                    lines_in_file: 0,
                }),
                file: file.map(Mutex::new),
            }),
        };
        {
            let mut state = journal.inner.state.lock();
            for e in entries {
                journal.remember(&mut state, e.key, Arc::from(e.reply));
            }
        }
        journal
    }

    /// Whether replies survive a restart.
    pub fn is_persistent(&self) -> bool {
        self.inner.file.is_some()
    }

    /// Number of replies remembered.
    pub fn len(&self) -> usize {
        self.inner.state.lock().done.len()
    }

    /// Whether no reply is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The stored reply for a key, if any.
    pub fn reply_for(&self, key: &str) -> Option<Arc<str>> {
        self.inner.state.lock().done.get(key).cloned()
    }

    /// Decides what to do with the request identified by `key`.
    pub fn claim(&self, key: &str) -> Claim {
        let mut state = self.inner.state.lock();
        if let Some(reply) = state.done.get(key) {
            return Claim::Replay(reply.clone());
        }
        if let Some(tx) = state.in_flight.get(key) {
            return Claim::Wait(tx.subscribe());
        }
        let (tx, _) = watch::channel(None);
        state.in_flight.insert(key.to_owned(), tx);
        Claim::Execute(Execution {
            journal: self.clone(),
            key: key.to_owned(),
            completed: false,
        })
    }

    fn remember(&self, state: &mut State, key: String, reply: Arc<str>) {
        if state.done.insert(key.clone(), reply).is_none() {
            state.order.push_back(key);
        }
        while state.order.len() > self.inner.capacity {
            if let Some(old) = state.order.pop_front() {
                state.done.remove(&old);
            }
        }
    }

    /// Appends (and flushes to disk) one entry; compacts the file when it grew
    /// past four times the capacity.
    fn persist(&self, key: &str, reply: &str) -> Result<(), JournalError> {
        let Some(file) = &self.inner.file else {
            return Ok(());
        };
        let mut sink = file.lock();
        let write_err = |path: &Path, source| JournalError::Write {
            path: path.to_owned(),
            source,
        };
        let mut line = serde_json::to_string(&Entry {
            key: key.to_owned(),
            reply: reply.to_owned(),
        })
        .unwrap_or_default();
        line.push('\n');
        sink.file
            .write_all(line.as_bytes())
            .and_then(|()| sink.file.sync_data())
            .map_err(|e| write_err(&sink.path, e))?;
        let lines = {
            let mut state = self.inner.state.lock();
            state.lines_in_file += 1;
            state.lines_in_file
        };
        if lines > self.inner.capacity * 4 {
            self.compact(&mut sink)?;
        }
        Ok(())
    }

    fn compact(&self, sink: &mut FileSink) -> Result<(), JournalError> {
        let (text, count) = {
            let state = self.inner.state.lock();
            let mut text = String::new();
            for key in &state.order {
                if let Some(reply) = state.done.get(key) {
                    let entry = Entry {
                        key: key.clone(),
                        reply: reply.to_string(),
                    };
                    text.push_str(&serde_json::to_string(&entry).unwrap_or_default());
                    text.push('\n');
                }
            }
            (text, state.order.len())
        };
        let write_err = |e: cse_core::config::PrivateFileError| JournalError::Write {
            path: e.path.clone(),
            source: std::io::Error::new(e.source.kind(), e.to_string()),
        };
        cse_core::config::write_private_file(&sink.path, text.as_bytes()).map_err(write_err)?;
        sink.file = cse_core::config::open_private_append(&sink.path).map_err(write_err)?;
        self.inner.state.lock().lines_in_file = count;
        Ok(())
    }
}

impl Execution {
    /// The key this claim is for.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Records the reply (on disk first, when persistent), then wakes any
    /// copies waiting for it. Call before publishing the reply.
    pub async fn complete(mut self, reply: Arc<str>) -> Result<(), JournalError> {
        self.completed = true;
        let journal = self.journal.clone();
        let key = self.key.clone();
        let stored = reply.clone();
        let persisted = if journal.is_persistent() {
            let j = journal.clone();
            let k = key.clone();
            tokio::task::spawn_blocking(move || j.persist(&k, &stored))
                .await
                .unwrap_or_else(|e| {
                    Err(JournalError::Write {
                        path: PathBuf::from(JOURNAL_FILE),
                        source: std::io::Error::other(e.to_string()),
                    })
                })
        } else {
            Ok(())
        };
        let mut state = journal.inner.state.lock();
        journal.remember(&mut state, key.clone(), reply.clone());
        if let Some(tx) = state.in_flight.remove(&key) {
            tx.send_replace(Some(reply));
        }
        persisted
    }
}

impl Execution {
    /// Completes a read (`GET`): wakes the copies waiting for this run with its reply,
    /// without writing it to the file or keeping it (see the module documentation).
    pub fn complete_read(mut self, reply: Arc<str>) {
        self.completed = true;
        let mut state = self.journal.inner.state.lock();
        if let Some(tx) = state.in_flight.remove(&self.key) {
            tx.send_replace(Some(reply));
        }
    }
}

/// Whether the reply to a request with this HTTP method is journaled: only requests that
/// change something (`POST`, `PUT`, `DELETE`, anything but `GET`/`HEAD`).
pub fn journals_method(method: &str) -> bool {
    !(method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD"))
}

impl Drop for Execution {
    fn drop(&mut self) {
        if !self.completed {
            // Dropping the sender wakes waiters with "abandoned": one of them runs it.
            self.journal.inner.state.lock().in_flight.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn execute(journal: &ReplyJournal, key: &str) -> Execution {
        match journal.claim(key) {
            Claim::Execute(e) => e,
            _ => panic!("expected to execute {key}"),
        }
    }

    #[tokio::test]
    async fn completed_requests_are_replayed_not_executed() {
        let j = ReplyJournal::in_memory(8);
        execute(&j, "a")
            .complete(Arc::from("reply-a"))
            .await
            .unwrap();
        match j.claim("a") {
            Claim::Replay(r) => assert_eq!(&*r, "reply-a"),
            _ => panic!("expected a replay"),
        }
    }

    #[tokio::test]
    async fn a_copy_of_a_running_request_waits_for_its_reply() {
        let j = ReplyJournal::in_memory(8);
        let run = execute(&j, "a");
        let Claim::Wait(mut rx) = j.claim("a") else {
            panic!("expected to wait")
        };
        run.complete(Arc::from("reply-a")).await.unwrap();
        let got = rx.wait_for(Option::is_some).await.unwrap().clone();
        assert_eq!(got.as_deref(), Some("reply-a"));
    }

    #[tokio::test]
    async fn an_abandoned_run_lets_the_waiting_copy_execute() {
        let j = ReplyJournal::in_memory(8);
        let run = execute(&j, "a");
        let Claim::Wait(mut rx) = j.claim("a") else {
            panic!("expected to wait")
        };
        drop(run);
        assert!(rx.wait_for(Option::is_some).await.is_err());
        let _second = execute(&j, "a");
    }

    #[tokio::test]
    async fn capacity_bounds_the_remembered_replies() {
        let j = ReplyJournal::in_memory(2);
        for k in ["a", "b", "c"] {
            execute(&j, k).complete(Arc::from(k)).await.unwrap();
        }
        assert_eq!(j.len(), 2);
        assert!(j.reply_for("a").is_none());
        assert!(j.reply_for("c").is_some());
    }

    #[tokio::test]
    async fn replies_survive_a_restart_and_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        {
            let j = ReplyJournal::open(dir.path(), 8).unwrap();
            assert!(j.is_persistent());
            execute(&j, "a")
                .complete(Arc::from("{\"x\":1}"))
                .await
                .unwrap();
        }
        // A crash in the middle of the next write.
        let path = dir.path().join(JOURNAL_FILE);
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(b"{\"key\":\"b\",\"rep").unwrap();
        drop(f);
        let j = ReplyJournal::open(dir.path(), 8).unwrap();
        assert_eq!(j.reply_for("a").as_deref(), Some("{\"x\":1}"));
        assert!(j.reply_for("b").is_none());
        assert!(matches!(j.claim("b"), Claim::Execute(_)));
    }

    #[tokio::test]
    async fn the_file_is_compacted_to_the_recent_replies() {
        let dir = tempfile::tempdir().unwrap();
        let j = ReplyJournal::open(dir.path(), 2).unwrap();
        for i in 0..20 {
            execute(&j, &format!("k{i}"))
                .complete(Arc::from(format!("r{i}")))
                .await
                .unwrap();
        }
        let text = std::fs::read_to_string(dir.path().join(JOURNAL_FILE)).unwrap();
        assert!(text.lines().count() <= 8, "{text}");
        let reopened = ReplyJournal::open(dir.path(), 2).unwrap();
        assert_eq!(reopened.reply_for("k19").as_deref(), Some("r19"));
        assert_eq!(reopened.reply_for("k18").as_deref(), Some("r18"));
        assert!(reopened.reply_for("k0").is_none());
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn the_journal_is_0600_in_a_0700_directory_also_after_compaction() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("cse-state");
        let j = ReplyJournal::open(&dir, 2).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join(JOURNAL_FILE)), 0o600);
        for i in 0..20 {
            execute(&j, &format!("k{i}"))
                .complete(Arc::from(format!("r{i}")))
                .await
                .unwrap();
        }
        assert_eq!(mode(&dir.join(JOURNAL_FILE)), 0o600, "after compaction");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no temp file");
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn an_existing_open_state_directory_and_journal_are_tightened() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("cse-state");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let file = dir.join(JOURNAL_FILE);
        std::fs::write(&file, "{\"key\":\"a\",\"reply\":\"r\"}\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let j = ReplyJournal::open(&dir, 8).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&file), 0o600);
        assert_eq!(j.reply_for("a").as_deref(), Some("r"));
    }

    #[tokio::test]
    async fn a_completed_read_wakes_its_copies_but_is_not_kept() {
        let root = tempfile::tempdir().unwrap();
        let j = ReplyJournal::open(root.path(), 8).unwrap();
        let run = execute(&j, "get");
        let Claim::Wait(mut rx) = j.claim("get") else {
            panic!("expected to wait")
        };
        run.complete_read(Arc::from("kubeconfig"));
        let got = rx.wait_for(Option::is_some).await.unwrap().clone();
        assert_eq!(got.as_deref(), Some("kubeconfig"));
        assert!(j.reply_for("get").is_none());
        assert!(matches!(j.claim("get"), Claim::Execute(_)));
        let text = std::fs::read_to_string(root.path().join(JOURNAL_FILE)).unwrap();
        assert!(text.is_empty(), "{text}");
        assert!(journals_method("POST") && journals_method("PUT") && journals_method("DELETE"));
        assert!(!journals_method("GET") && !journals_method("get") && !journals_method("HEAD"));
    }
}
