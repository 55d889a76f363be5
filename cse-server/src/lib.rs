//! The CSE server: AMQP listeners, request handlers, cluster operations and the admin CLI `cse`.
//! The tenant CLI `vcd-cse` is the `cse_tenant` crate.
//! The vCD REST and vCenter guest-operations clients live in `cse_vcd`; `vcd` and `vsphere`
//! are re-exported here so the server's modules keep their paths.
//!
//! The server reaches vCD, vCenter and RabbitMQ only through their network
//! surfaces; it never knows whether it talks to the real thing or a simulator.

pub mod amqp;
pub mod auth;
pub mod cli;
pub mod handlers;
pub mod ops;
pub mod service;
pub mod system;
pub use cse_vcd::{vcd, vsphere};
