//! CSE domain and wire contracts shared by the server (`cse-server`) and the
//! simulator (`vcd-sim`). Pure data and validation: no sockets, no async runtime.

pub mod api;
pub mod config;
pub mod ext;
pub mod naming;
pub mod vcd;

/// The version this build reports as `cse.version` metadata and in `/api/cse/system`.
pub const CSE_VERSION: &str = env!("CARGO_PKG_VERSION");
