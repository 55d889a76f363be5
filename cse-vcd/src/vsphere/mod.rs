//! The vCenter guest-operations client (vim25 SOAP over reqwest + rustls): one
//! session per vCenter (cookie reused, re-login on `NotAuthenticated`), VM
//! tools/power/IP reads, guest process and file operations, and the script-run
//! flow CSE needs, with a deadline on every wait. It dials the host **and port**
//! of vCD's `VimServer/Url` and checks TLS as `vcs[].verify` says.
//!
//! Module map:
//! - `pool`: [`VcenterPool`], sessions by vCenter name.
//! - `locate`: from a vCD VM to its vCenter session and moref.
//! - `client`: [`VcenterSession`] and the vim25 calls.
//! - `guest`: `wait_for_tools`, `wait_until_ready`, `run_program`, `run_script`.
//! - `requests`: every request as a pure value (golden files).
//! - `soap`: envelopes, responses, typed faults.
//! - `endpoint`: SOAP and transfer URLs.
//! - `error`: [`VsphereError`].

pub mod client;
pub mod endpoint;
pub mod error;
pub mod guest;
pub mod guest_spec;
pub mod locate;
pub mod pool;
pub mod requests;
pub mod soap;

pub use client::{
    FileTransferInfo, GuestCredentials, GuestProcess, ProgramSpec, ServiceContent, VcenterSession,
    VcenterSettings, VmGuestState,
};
pub use endpoint::VcenterEndpoint;
pub use error::VsphereError;
pub use guest::{PollSettings, ScriptOutput};
pub use locate::{GuestTarget, LocateError};
pub use pool::VcenterPool;
pub use soap::{FaultKind, MoRef, SoapFault};
