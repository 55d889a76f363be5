//! The CSE server: AMQP listeners, request handlers, cluster operations, the vCD
//! REST client, the vCenter guest-operations client and the two CLIs.
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
pub mod tenant;
pub mod vcd;
pub mod vsphere;
