//! Shared set-up for the benchmarks in `benches/benches` and the resource
//! tests in `benches/tests`: the embedded simulator with the real server
//! ([`scale::Scale`]), process gauges (open descriptors, sockets, resident
//! memory) and percentile arithmetic for the summary tables.

pub mod gauges;
pub mod scale;
pub mod stats;
