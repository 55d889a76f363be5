//! Fault injection for the vCenter endpoint: make a SOAP method (or a
//! transfer PUT/GET) fail with a chosen fault or never answer, and reproduce
//! vcsim's "exit code 0 is never sent" bug.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;

use super::faults::VimFault;

/// Injection key for the upload (`PUT /guestFile`).
pub const TRANSFER_PUT: &str = "guestFile.PUT";
/// Injection key for the download (`GET /guestFile`).
pub const TRANSFER_GET: &str = "guestFile.GET";

/// What an injected method does instead of its work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InjectedFault {
    /// Answer with this fault (transfers: HTTP 500 with its message).
    Fault(VimFault),
    /// Accept the request and never answer.
    Stall,
}

/// The injections in force.
#[derive(Debug, Default)]
pub struct Injections {
    by_method: Mutex<HashMap<String, InjectedFault>>,
    omit_zero_exit_codes: AtomicBool,
}

impl Injections {
    pub fn set(&self, method: &str, fault: Option<InjectedFault>) {
        let mut map = self.by_method.lock();
        match fault {
            Some(fault) => map.insert(method.to_owned(), fault),
            None => map.remove(method),
        };
    }

    pub fn get(&self, method: &str) -> Option<InjectedFault> {
        self.by_method.lock().get(method).cloned()
    }

    pub fn set_omit_zero_exit_codes(&self, omit: bool) {
        self.omit_zero_exit_codes.store(omit, Ordering::Relaxed);
    }

    pub fn omits_zero_exit_codes(&self) -> bool {
        self.omit_zero_exit_codes.load(Ordering::Relaxed)
    }
}
