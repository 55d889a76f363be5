//! Faults of the vCenter endpoint, as rules of the simulator's one fault
//! vocabulary (`crate::faults`): make a SOAP method (or a transfer PUT/GET)
//! wait, fail with a chosen fault, or never answer.
//!
//! The match is a [`VimMatch`] (a SOAP method name such as
//! `ListProcessesInGuest`, or [`TRANSFER_PUT`] / [`TRANSFER_GET`]), the
//! effect an [`InjectedFault`]; the first matching rule's effect applies,
//! after the delays of every matching rule.

use crate::faults::{Effect, FaultRule, FaultSet, Match};

use super::faults::VimFault;

/// Method name of the upload (`PUT /guestFile`) for [`VimMatch`].
pub const TRANSFER_PUT: &str = "guestFile.PUT";
/// Method name of the download (`GET /guestFile`) for [`VimMatch`].
pub const TRANSFER_GET: &str = "guestFile.GET";

/// Which vCenter calls a rule applies to. `Default` matches every call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VimMatch {
    /// Only this SOAP method or transfer (every call if `None`).
    pub method: Option<String>,
}

impl VimMatch {
    /// Calls of one SOAP method or transfer.
    pub fn method(method: &str) -> Self {
        Self {
            method: Some(method.to_owned()),
        }
    }
}

/// One vCenter call as the rules see it.
#[derive(Debug, Clone, Copy)]
pub struct VimCall<'a> {
    /// The SOAP method's name, or [`TRANSFER_PUT`] / [`TRANSFER_GET`].
    pub method: &'a str,
}

impl Match<VimCall<'_>> for VimMatch {
    fn matches(&self, call: &VimCall<'_>) -> bool {
        self.method.as_deref().is_none_or(|m| m == call.method)
    }
}

/// What an injected call does instead of its work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InjectedFault {
    /// Answer with this fault (transfers: HTTP 500 with its message).
    Fault(VimFault),
    /// Accept the request and never answer.
    Stall,
}

impl Effect for InjectedFault {
    const SURFACE: &'static str = "vCenter";
}

/// A vCenter fault rule.
pub type VimFaultRule = FaultRule<VimMatch, InjectedFault>;

/// The vCenter fault rules of one simulated vCenter. Cheap to clone.
pub type VimFaults = FaultSet<VimMatch, InjectedFault>;

/// Applies the rules to one call: waits their delay, then gives the effect
/// to apply, if any.
pub(super) async fn apply(faults: &VimFaults, method: &str) -> Option<InjectedFault> {
    let decision = faults.decide_first(&VimCall { method });
    if !decision.delay.is_zero() {
        tokio::time::sleep(decision.delay).await;
    }
    decision
        .effects
        .into_iter()
        .next()
        .map(|(_, effect)| effect)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_on_the_method_and_the_first_effect_applies() {
        let faults = VimFaults::new();
        let stall = faults
            .add(FaultRule::new(VimMatch::method(TRANSFER_GET), InjectedFault::Stall).times(1))
            .unwrap();
        faults
            .add(FaultRule::new(
                VimMatch::default(),
                InjectedFault::Fault(VimFault::InvalidState),
            ))
            .unwrap();
        let first = |m: &str| {
            faults
                .decide_first(&VimCall { method: m })
                .effects
                .into_iter()
                .next()
                .map(|(_, e)| e)
        };
        assert_eq!(first(TRANSFER_GET), Some(InjectedFault::Stall));
        assert_eq!(
            first(TRANSFER_GET),
            Some(InjectedFault::Fault(VimFault::InvalidState))
        );
        assert_eq!(
            first("Login"),
            Some(InjectedFault::Fault(VimFault::InvalidState))
        );
        assert_eq!(faults.hits(stall), 1);
        assert_eq!(faults.stats().faulted, 3);
    }
}
