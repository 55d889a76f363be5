//! Guest file transfers: the tickets `InitiateFileTransferToGuest/FromGuest`
//! hand out and the URLs that carry them (`/guestFile?id=…&token=…`).
//!
//! A ticket is single use, expires after a configured time and carries no
//! cookie: the URL token is the credential. The PUT/GET handlers live in
//! `http.rs`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::guest_api::{GuestCredentials, GuestFileAttributes};

/// Path of the transfer endpoint.
pub const TRANSFER_PATH: &str = "/guestFile";

/// Which way a ticket moves a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferDirection {
    /// Upload by HTTP PUT.
    ToGuest {
        /// Replace an existing file.
        overwrite: bool,
        /// Owner and mode to give the file.
        attributes: GuestFileAttributes,
        /// Size announced at `InitiateFileTransferToGuest`, in bytes.
        declared_size: i64,
    },
    /// Download by HTTP GET.
    FromGuest,
}

/// One outstanding transfer.
#[derive(Debug, Clone)]
pub struct Transfer {
    /// The VM's moref.
    pub vm: String,
    /// The guest credentials given at initiation, used for the transfer itself.
    pub credentials: GuestCredentials,
    /// Guest path of the file.
    pub path: String,
    /// Upload or download, with its parameters.
    pub direction: TransferDirection,
    token: String,
    expires: Instant,
}

/// Why a transfer URL is refused (all answer 404, as an unknown ticket would).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransferError {
    /// The URL's query has no id and token, or they are not well formed.
    #[error("the transfer URL has no valid id and token")]
    MalformedTicket,
    /// The id is unknown, was used, or the transfer expired.
    #[error("no transfer {0} is open (unknown, used or expired)")]
    UnknownTicket(u64),
    /// A PUT of a download or a GET of an upload.
    #[error("transfer {0} is an {1}, not this method")]
    WrongMethod(u64, &'static str),
}

/// Outstanding transfers.
#[derive(Debug)]
pub struct TransferStore {
    ttl: Duration,
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, Transfer>>,
}

impl TransferStore {
    /// An empty store; transfers expire `ttl` after initiation.
    pub(crate) fn new(ttl: Duration) -> Self {
        TransferStore {
            ttl,
            next_id: AtomicU64::new(1),
            open: Mutex::new(HashMap::new()),
        }
    }

    /// Opens a ticket; returns the URL query (`id=…&token=…`).
    pub fn open(
        &self,
        vm: &str,
        credentials: GuestCredentials,
        path: &str,
        direction: TransferDirection,
    ) -> String {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let token = uuid::Uuid::new_v4().simple().to_string();
        let query = format!("id={id}&token={token}");
        let transfer = Transfer {
            vm: vm.to_owned(),
            credentials,
            path: path.to_owned(),
            direction,
            token,
            expires: Instant::now() + self.ttl,
        };
        let mut open = self.open.lock();
        open.retain(|_, t| t.expires > Instant::now());
        open.insert(id, transfer);
        query
    }

    /// The transfer a request's query names, if valid for this method
    /// (`upload` = PUT). It stays open until [`TransferStore::complete`].
    pub fn lookup(
        &self,
        query: Option<&str>,
        upload: bool,
    ) -> Result<(u64, Transfer), TransferError> {
        let (id, token) = parse_ticket(query.unwrap_or_default())?;
        let open = self.open.lock();
        let transfer = open
            .get(&id)
            .filter(|t| t.token == token && t.expires > Instant::now())
            .ok_or(TransferError::UnknownTicket(id))?;
        let is_upload = matches!(transfer.direction, TransferDirection::ToGuest { .. });
        if is_upload != upload {
            let kind = if is_upload { "upload" } else { "download" };
            return Err(TransferError::WrongMethod(id, kind));
        }
        Ok((id, transfer.clone()))
    }

    /// Closes a ticket after its one successful use.
    pub fn complete(&self, id: u64) {
        self.open.lock().remove(&id);
    }

    /// Closes every ticket of a VM (power-off, suspend, unregister).
    pub fn invalidate_vm(&self, vm: &str) {
        self.open.lock().retain(|_, t| t.vm != vm);
    }

    /// Number of open tickets.
    pub fn open_count(&self) -> usize {
        let mut open = self.open.lock();
        open.retain(|_, t| t.expires > Instant::now());
        open.len()
    }
}

fn parse_ticket(query: &str) -> Result<(u64, String), TransferError> {
    let mut id = None;
    let mut token = None;
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "id" => id = value.parse::<u64>().ok(),
            "token" => token = Some(value.into_owned()),
            _ => {}
        }
    }
    match (id, token) {
        (Some(id), Some(token)) if !token.is_empty() => Ok((id, token)),
        _ => Err(TransferError::MalformedTicket),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> GuestCredentials {
        GuestCredentials {
            username: "root".into(),
            password: "pw".into(),
        }
    }

    #[test]
    fn tickets_are_single_use_and_method_bound() {
        let store = TransferStore::new(Duration::from_secs(60));
        let query = store.open("vm-1", creds(), "/tmp/a", TransferDirection::FromGuest);
        assert!(matches!(
            store.lookup(Some(&query), true),
            Err(TransferError::WrongMethod(_, "download"))
        ));
        let (id, transfer) = store.lookup(Some(&query), false).unwrap();
        assert_eq!(transfer.path, "/tmp/a");
        store.complete(id);
        assert_eq!(
            store.lookup(Some(&query), false).unwrap_err(),
            TransferError::UnknownTicket(id)
        );
    }

    #[test]
    fn wrong_tokens_and_garbage_are_refused() {
        let store = TransferStore::new(Duration::from_secs(60));
        let query = store.open("vm-1", creds(), "/tmp/a", TransferDirection::FromGuest);
        let id = query.split('&').next().unwrap();
        assert!(matches!(
            store.lookup(Some(&format!("{id}&token=nope")), false),
            Err(TransferError::UnknownTicket(_))
        ));
        assert_eq!(
            store.lookup(None, false).unwrap_err(),
            TransferError::MalformedTicket
        );
        assert_eq!(
            store.lookup(Some("id=x&token=y"), false).unwrap_err(),
            TransferError::MalformedTicket
        );
    }

    #[test]
    fn tickets_expire_and_die_with_their_vm() {
        let store = TransferStore::new(Duration::ZERO);
        let query = store.open("vm-1", creds(), "/tmp/a", TransferDirection::FromGuest);
        assert!(store.lookup(Some(&query), false).is_err());
        let store = TransferStore::new(Duration::from_secs(60));
        store.open("vm-1", creds(), "/tmp/a", TransferDirection::FromGuest);
        store.open("vm-2", creds(), "/tmp/a", TransferDirection::FromGuest);
        store.invalidate_vm("vm-1");
        assert_eq!(store.open_count(), 1);
    }
}
