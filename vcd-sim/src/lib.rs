//! Simulator of everything CSE talks to: vCD's REST API, vCD's API-extension
//! routing over AMQP, and vCenter guest operations backed by a guest model that
//! runs the bootstrap scripts against simulated Linux, kubeadm and kubectl.
//!
//! Module map:
//! - `clock`: the time scale every simulated delay goes through.
//! - `guest_api`: the contract between the vCD side, the vCenter SOAP layer and the guest model.
//! - `ext`: vCD's API-extension routing (request → AMQP → reply → HTTP).
//! - `vsphere`: the simulated vCenter (SOAP `/sdk`, guest operations, file transfers).
//! - `state`, `rest`, `world`, `serve`: vCD's object model, its REST API, the world file, `vcd-sim serve`.
//! - `guest`: the guest model (simulated Linux guests running the bootstrap scripts).

pub mod clock;
pub mod ext;
pub mod guest;
pub mod guest_api;
pub mod rest;
pub mod serve;
pub mod state;
pub mod vsphere;
pub mod world;
