//! In-process coordination of long operations, beneath the handlers and the
//! operations that both use it: one operation per cluster ([`claims`], which
//! also orders a task's lease renewals before its end),
//! operation slots and the org-fair queue ([`queue`]), one call at a time per
//! cluster vApp ([`gate`]), what this process holds ([`held`]), identical
//! concurrent lookups collapsed into one ([`flights`]), and callers' sessions
//! read once and remembered briefly ([`sessions`]).

pub mod claims;
pub mod flights;
pub mod gate;
pub mod held;
pub mod queue;
pub mod sessions;

pub use claims::{ClusterClaim, ClusterClaims, TaskTurn};
pub use flights::{Boarding, Flights};
pub use gate::{GateTurn, VappGates};
pub use held::{HeldGuard, HeldLeases};
pub use queue::{Admission, OperationQueue, OperationSlot, QueuedTicket};
pub use sessions::CallerSessions;
