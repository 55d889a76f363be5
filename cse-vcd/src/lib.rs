//! Clients of the remote systems CSE talks to, written once and used by the server, the admin
//! CLI `cse`, the tenant CLI `vcd-cse` and the scenario runner:
//!
//! - [`vcd`]: the vCD REST client: sessions (login, a forwarded or stored token re-hydrated,
//!   API version negotiation), retries, renewal on 401, tasks with deadlines, paged queries,
//!   XML documents.
//! - [`vsphere`]: the vCenter guest-operations client (vim25 SOAP): one session per vCenter,
//!   guest programs and files, scripts run with deadlines.
//!
//! The crate reaches vCD and vCenter only through their network surfaces; it never knows
//! whether it talks to the real thing or a simulator.

pub mod vcd;
pub mod vsphere;
