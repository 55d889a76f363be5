//! In-process coordination of long operations, beneath the handlers and the
//! operations that both use it: one operation per cluster ([`claims`], which
//! also orders a task's lease renewals before its end),
//! operation slots and the org-fair queue ([`queue`]), one call at a time per
//! cluster vApp ([`gate`]), what this process holds ([`held`]), and identical
//! concurrent lookups collapsed into one ([`flights`]).

pub mod claims;
pub mod flights;
pub mod gate;
pub mod held;
pub mod queue;

pub use claims::{ClusterClaim, ClusterClaims, TaskTurn};
pub use flights::{Boarding, Flights};
pub use gate::{GateTurn, VappGates};
pub use held::{HeldGuard, HeldLeases};
pub use queue::{Admission, OperationQueue, OperationSlot, QueuedTicket};
