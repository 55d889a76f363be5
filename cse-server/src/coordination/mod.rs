//! In-process coordination of long operations, beneath the handlers and the
//! operations that both use it: one operation per cluster ([`claims`]),
//! operation slots and the org-fair queue ([`queue`]), one call at a time per
//! cluster vApp ([`gate`]), and what this process holds ([`held`]).

pub mod claims;
pub mod gate;
pub mod held;
pub mod queue;

pub use claims::{ClusterClaim, ClusterClaims};
pub use gate::{GateTurn, VappGates};
pub use held::{HeldGuard, HeldLeases};
pub use queue::{Admission, OperationQueue, OperationSlot, QueuedTicket};
