//! Cluster and node operations. Each is a sequence of steps whose progress
//! is journaled in the cluster vApp's metadata (`cse.op.journal`) under a
//! lease (`cse.op.lease`), reported through a vCD task, bounded by the
//! config's deadlines, and rolled back on failure unless the request says
//! `disable_rollback`. On start a server finishes every operation whose lease
//! has lapsed ([`resume`]): creates are rolled back, deletes completed.
//!
//! Module map:
//! - `start`: the four async routes: validate, create the task, answer 202.
//! - `create`, `nodes`, `delete`: the operations.
//! - `steps`: template lookup, adding / removing VMs, guest scripts.
//! - `error`: [`error::OpError`], the operations' error, made into the wire
//!   `ApiError` once, where a task's message is written.
//! - `journal`, `lease`: state in metadata.
//!
//! Beneath: `crate::context` (server state), `crate::coordination` (claims,
//! queue, vApp gates, held leases), `crate::clusters` (lookup), the clients.
//! - `task`: the vCD task.
//! - `scripts`: the embedded template scripts.
//! - `credentials`: root credentials of a cluster VM (generated per VM, or the template's).
//! - `resume`: taking over operations after a crash.

pub mod create;
pub mod credentials;
pub mod delete;
pub mod error;
pub mod journal;
pub mod lease;
pub mod metadata;
pub mod nodes;
pub mod resume;
pub mod scripts;
pub mod start;
pub mod steps;
pub mod task;
