//! The CSE server: AMQP listeners, request handlers, cluster operations, the vCD
//! REST client, the vCenter guest-operations client and the two CLIs.
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
pub mod tenant;
pub mod vcd;
pub mod vsphere;
