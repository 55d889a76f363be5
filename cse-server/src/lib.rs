//! The CSE server: AMQP listeners, request handlers, cluster operations and the admin CLI `cse`.
//! The tenant CLI `vcd-cse` is the `cse_tenant` crate.
//! The vCD REST and vCenter guest-operations clients live in `cse_vcd`; `vcd` and `vsphere`
//! are re-exported here so the server's modules keep their paths.
//!
//! The server reaches vCD, vCenter and RabbitMQ only through their network
//! surfaces; it never knows whether it talks to the real thing or a simulator.
//!
//! The request path only points down: `amqp` (listeners) → `service` (the
//! router: one parse of the route) → `handlers` (one function per route) →
//! `ops` (long operations) → the clients (`vcd`, `vsphere`). What handlers and
//! operations share sits beneath both: `context` (the server's state),
//! `clusters` (finding the clusters a caller can see), `auth` (who is calling),
//! `system` (run state). `server` assembles them (`serve`); `cli` only parses
//! arguments and calls it.

pub mod amqp;
pub mod auth;
pub mod cli;
pub mod clusters;
pub mod context;
pub mod coordination;
pub mod handlers;
pub mod ops;
pub mod server;
pub mod service;
pub mod system;
