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

/// Which vCenter calls a rule applies to. `Default` matches every call
/// (JSON: `{"method": "StartProgramInGuest"}` or `{}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VimMatch {
    /// Only this SOAP method or transfer (every call if `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
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

/// What an injected call does instead of its work (JSON: `"stall"`,
/// `{"fault": "GuestOperationsUnavailable"}` for a vim25 fault without
/// arguments, or `{"system_error": "reason"}`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "InjectedFaultJson", into = "InjectedFaultJson")]
pub enum InjectedFault {
    /// Answer with this fault (transfers: HTTP 500 with its message).
    Fault(VimFault),
    /// Accept the request and never answer.
    Stall,
}

/// The JSON form of [`InjectedFault`].
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum InjectedFaultJson {
    Stall,
    Fault(String),
    SystemError(String),
}

/// vim25 faults a rule can name in JSON (those without arguments).
const NAMED_FAULTS: &[(&str, VimFault)] = &[
    ("InvalidLogin", VimFault::InvalidLogin),
    ("InvalidState", VimFault::InvalidState),
    (
        "GuestOperationsUnavailable",
        VimFault::GuestOperationsUnavailable,
    ),
    ("InvalidGuestLogin", VimFault::InvalidGuestLogin),
    ("GuestPermissionDenied", VimFault::GuestPermissionDenied),
];

impl TryFrom<InjectedFaultJson> for InjectedFault {
    type Error = String;

    fn try_from(json: InjectedFaultJson) -> Result<Self, String> {
        match json {
            InjectedFaultJson::Stall => Ok(InjectedFault::Stall),
            InjectedFaultJson::SystemError(reason) => {
                Ok(InjectedFault::Fault(VimFault::SystemError { reason }))
            }
            InjectedFaultJson::Fault(name) => NAMED_FAULTS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, f)| InjectedFault::Fault(f.clone()))
                .ok_or_else(|| {
                    let known: Vec<&str> = NAMED_FAULTS.iter().map(|(n, _)| *n).collect();
                    format!(
                        "unknown vCenter fault `{name}`; known: {}, or system_error",
                        known.join(", ")
                    )
                }),
        }
    }
}

impl From<InjectedFault> for InjectedFaultJson {
    fn from(fault: InjectedFault) -> Self {
        match fault {
            InjectedFault::Stall => InjectedFaultJson::Stall,
            InjectedFault::Fault(VimFault::SystemError { reason }) => {
                InjectedFaultJson::SystemError(reason)
            }
            InjectedFault::Fault(f) => InjectedFaultJson::Fault(f.type_name().to_owned()),
        }
    }
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
