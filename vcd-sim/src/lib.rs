//! Simulator of everything CSE talks to: vCD's REST API, vCD's API-extension
//! routing over AMQP, and vCenter guest operations backed by a guest model that
//! runs the bootstrap scripts against simulated Linux, kubeadm and kubectl.
//!
//! Module map:
//! - `builder`: [`SimBuilder`], the one way to start a simulator (whole, or vCD REST alone).
//! - `assembly`: the whole simulator put together (vCD + vCenter + guests + extension routing).
//! - `clock`: the time scale every simulated delay goes through.
//! - `guest_api`: the contract between the vCD side, the vCenter SOAP layer and the guest model.
//! - `faults`: the one fault vocabulary (match, count, delay, probability, effect; add, list,
//!   remove, clear, stats) that REST, vCenter and guest faults are instances of.
//! - `ext`: vCD's API-extension routing (request → AMQP → reply → HTTP).
//! - `mqtt`: vCD's MQTT extension bus (10.2+): the broker behind `/messaging/mqtt` and the
//!   request → monitor topic → respond topic → HTTP round trip.
//! - `vsphere`: the simulated vCenter (SOAP `/sdk`, guest operations, file transfers).
//! - `guest`: the guest model (simulated Linux guests running the bootstrap scripts; timings
//!   changeable at run time with `GuestWorld::set_timings`).
//! - `world`: the world file (orgs, users, VDCs, networks, catalogs, vCenters), the built-in
//!   world and seeded generated worlds for scale tests (`World::generated`, `WorldSource`).
//! - `state`: the simulated vCD's entities and rules (access, tasks, IP pools, metadata, queries).
//! - `rest`: vCD's REST API over HTTP (axum), XML documents, errors, API-filter hand-over,
//!   run-time REST fault rules (`rest::faults::RestFaults`).
//! - `ova`: generated OVF/OVA appliances (Photon, Ubuntu) for tests and demos.
//! - `serve`: the vCD listener (`start_vcd`, `SimHandle`: listeners, TLS, vCenter listener,
//!   REST faults, the info file) behind `vcd-sim serve`.
//! - `unread_body`: the serving layer's answer-before-the-body handling (HTTP/2 refusals).
//! - `release`: vCD release profiles ([`VcdRelease`]: versions, removed routes, tokens).
//! - `auth`: CloudAPI JWT sessions and API tokens (signing, expiry, bounded tables).
//! - `control`: the control API of `vcd-sim serve --control-api` (`/_sim/`: faults on
//!   every surface, clock, reset, operations served, snapshots) and the listener observer.
//! - `ext_faults`: fault rules of vCD's extension delivery (504, 500, error statuses, delays).
//! - `snapshot`: the whole state as versioned, canonical JSON (export, import, files).
//! - `record`: recording every exchange (secrets redacted) and comparing runs (replay check).
//! - `secret`: tokens, generated passwords and transfer ids from the OS CSPRNG (never the seed).

pub mod assembly;
pub mod auth;
pub mod builder;
pub mod clock;
pub mod control;
pub mod ext;
pub mod ext_faults;
pub mod faults;
pub mod guest;
pub mod guest_api;
pub mod mqtt;
pub mod ova;
pub mod record;
pub mod release;
pub mod rest;
pub mod secret;
pub mod serve;
pub mod snapshot;
pub mod state;
pub mod unread_body;
pub mod vsphere;
pub mod world;

pub use assembly::FullSim;
pub use builder::SimBuilder;
pub use release::VcdRelease;
pub use serve::SimHandle;
