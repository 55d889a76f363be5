//! `VsphereError`: failures of the vCenter SOAP client and the guest-operation
//! flows built on it. Guest passwords and session cookies never appear.

use std::time::Duration;

use super::soap::{FaultKind, SoapFault};

/// Errors of the vSphere guest-operations client.
#[derive(Debug, thiserror::Error)]
pub enum VsphereError {
    /// The vCenter URL registered in vCD cannot be used.
    #[error("invalid vCenter URL '{url}': {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `vcs` in config.yaml has no entry for a vCenter registered in vCD.
    #[error("vCenter '{name}' is registered in vCD but has no entry in the config's vcs list")]
    UnknownVcenter {
        /// Registered name.
        name: String,
    },
    /// The HTTP client could not be built.
    #[error("cannot set up the HTTP client for vCenter '{vcenter}': {source}")]
    HttpClient {
        /// vCenter name.
        vcenter: String,
        /// The builder error.
        #[source]
        source: reqwest::Error,
    },
    /// No answer (connection, TLS, time-out).
    #[error("{operation} on vCenter '{vcenter}' failed: {}", crate::vcd::error::transport_text(.source))]
    Transport {
        /// SOAP method or transfer.
        operation: String,
        /// vCenter name.
        vcenter: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// An HTTP status other than 200/500 on `/sdk`.
    #[error("{operation} on vCenter '{vcenter}' answered HTTP {status}")]
    Http {
        /// SOAP method.
        operation: String,
        /// vCenter name.
        vcenter: String,
        /// HTTP status.
        status: u16,
    },
    /// A SOAP fault.
    #[error("{operation} on vCenter '{vcenter}' failed: {fault}")]
    Fault {
        /// SOAP method.
        operation: String,
        /// vCenter name.
        vcenter: String,
        /// The fault.
        fault: SoapFault,
    },
    /// An answer that is not the expected SOAP document.
    #[error("cannot read the answer of {operation} from vCenter '{vcenter}': {reason}")]
    Parse {
        /// SOAP method.
        operation: String,
        /// vCenter name.
        vcenter: String,
        /// What was wrong.
        reason: String,
    },
    /// A file transfer to or from the guest was refused.
    #[error("{direction} of guest file {path} on VM {vm} answered HTTP {status}")]
    Transfer {
        /// `upload` or `download`.
        direction: &'static str,
        /// Guest path.
        path: String,
        /// VM moref.
        vm: String,
        /// HTTP status.
        status: u16,
    },
    /// A SOAP answer longer than the client reads
    /// ([`crate::vcd::body::MAX_ANSWER_BYTES`]).
    #[error(
        "the answer of {operation} from vCenter '{vcenter}' is longer than {limit} bytes; it was not read"
    )]
    AnswerTooLarge {
        /// SOAP method.
        operation: String,
        /// vCenter name.
        vcenter: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// A guest file longer than the client reads (`limits.max_guest_file_bytes`):
    /// whoever has root in the VM decides its size.
    #[error(
        "guest file {path} on VM {vm} is longer than {limit} bytes (limits.max_guest_file_bytes); it was not read"
    )]
    FileTooLarge {
        /// Guest path.
        path: String,
        /// VM moref.
        vm: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// VMware Tools / guest operations did not become ready before the deadline.
    #[error(
        "VM {vm} was not ready for guest operations after {waited:?} (last seen: {last_state})"
    )]
    NotReady {
        /// VM moref.
        vm: String,
        /// How long the client waited.
        waited: Duration,
        /// Power state, tools status or the last fault.
        last_state: String,
    },
    /// A guest program did not exit before the deadline (it was terminated).
    #[error("{program} (pid {pid}) on VM {vm} did not finish within {waited:?}; it was terminated")]
    ProgramTimeout {
        /// VM moref.
        vm: String,
        /// Program path.
        program: String,
        /// Guest pid.
        pid: i64,
        /// How long the client waited.
        waited: Duration,
    },
    /// The guest no longer lists a process it started (guest rebooted).
    #[error("{program} (pid {pid}) vanished from VM {vm}'s process list (did the guest reboot?)")]
    ProcessVanished {
        /// VM moref.
        vm: String,
        /// Program path.
        program: String,
        /// Guest pid.
        pid: i64,
    },
}

impl VsphereError {
    /// The SOAP fault, if this error is one.
    pub fn fault(&self) -> Option<&SoapFault> {
        match self {
            Self::Fault { fault, .. } => Some(fault),
            _ => None,
        }
    }

    /// The kind of SOAP fault, if this error is one.
    pub fn fault_kind(&self) -> Option<FaultKind> {
        self.fault().map(SoapFault::kind)
    }

    /// True when waiting and trying again may help: transport failures, HTTP 5xx
    /// other than faults, and transient faults (tools restarting, agent booting).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Transport { .. } => true,
            Self::Http { status, .. } => *status >= 500,
            Self::Fault { fault, .. } => fault.is_transient(),
            _ => false,
        }
    }
}
