//! The guest model: simulated Linux guests that run CSE's bootstrap scripts
//! for real (in a bash-subset interpreter over an in-memory filesystem, with
//! packages, services, accounts, processes, a small internet and cross-VM
//! Kubernetes state), driven by the vCD side (`GuestLifecycle`) and served to
//! the vCenter SOAP layer (`GuestOps`). Nothing runs on the host.
//!
//! Entry point: [`GuestWorld`] (`world`), built from a [`GuestConfig`].

pub mod catalog;
pub mod commands;
pub mod config;
pub mod disk;
pub mod faults;
pub mod fs;
pub mod images;
pub mod internet;
pub mod k8s;
pub mod lifecycle;
pub mod ops;
pub mod process;
pub mod shell;
pub mod users;
pub mod vm;
pub mod world;

pub use config::{GuestConfig, GuestTimings};
pub use faults::{FaultScope, GuestFaultKind};
pub use world::{GuestWorld, NodeStatus};
