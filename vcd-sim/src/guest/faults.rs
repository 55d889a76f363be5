//! Guest faults, per VM or for every VM, as rules of the simulator's one
//! fault vocabulary (`crate::faults`): tools that never start, guest
//! operations unavailable (for a number of calls with `times`, or until
//! removed), credentials always refused, and processes or commands that hang
//! until terminated.
//!
//! The match is a [`FaultScope`] (every VM or one), the effect a
//! [`GuestFaultKind`]; the guest model asks the rules at fixed points
//! ([`GuestPoint`]) and takes every effect relevant there. Guest rules have no
//! delay (the guest model answers under its lock; slow guests are
//! `GuestWorld::set_timings`).

use crate::faults::{Effect, FaultRule, FaultSet, Match};

/// Where a fault applies: the match of a guest rule (JSON: `"global"` or
/// `{"vm": "vm-1001"}`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultScope {
    /// Every VM.
    Global,
    /// One VM, by moref.
    Vm(String),
}

/// An injectable misbehaviour: the effect of a guest rule (JSON:
/// `"tools_never_ready"`, `"ops_unavailable"`, `"wrong_credentials"`,
/// `{"hang_process": {"cmd_contains": "kubeadm"}}`, `{"hang_command": {"name": "tdnf"}}`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum GuestFaultKind {
    /// VMware Tools never reach `guestToolsRunning` after a power-on (until removed).
    ToolsNeverReady,
    /// Guest operations fail with `GuestOperationsUnavailable` (each failed
    /// call uses up one of the rule's `times`).
    OpsUnavailable,
    /// Every guest operation fails with `InvalidGuestLogin`, whatever the password.
    WrongCredentials,
    /// Started programs whose command line contains the text (all when `None`)
    /// never finish until terminated.
    HangProcess {
        /// Only command lines containing this.
        cmd_contains: Option<String>,
    },
    /// The named command hangs (inside any script) until its process is terminated.
    HangCommand {
        /// The command's name.
        name: String,
    },
}

impl Effect for GuestFaultKind {
    const SURFACE: &'static str = "guest";
    const DELAYS: bool = false;
}

/// A guest fault rule.
pub type GuestFaultRule = FaultRule<FaultScope, GuestFaultKind>;

/// The guest fault rules of a world.
pub type GuestFaults = FaultSet<FaultScope, GuestFaultKind>;

/// Where the guest model asks its rules.
#[derive(Debug, Clone, Copy)]
pub enum GuestPoint<'a> {
    /// Tools are about to start after a boot.
    ToolsStart,
    /// A guest operation is called.
    Operation,
    /// A guest operation's credentials are checked.
    Login,
    /// A program is started with this command line.
    StartProgram(&'a str),
    /// A command runs inside a script.
    Command(&'a str),
}

/// One question of the guest model to its rules: a VM, at a point.
#[derive(Debug, Clone, Copy)]
pub struct GuestCheck<'a> {
    /// The VM's moref.
    pub moref: &'a str,
    /// Where the guest model is.
    pub point: GuestPoint<'a>,
}

impl Match<GuestCheck<'_>> for FaultScope {
    fn matches(&self, check: &GuestCheck<'_>) -> bool {
        match self {
            FaultScope::Global => true,
            FaultScope::Vm(m) => m == check.moref,
        }
    }
}

impl GuestFaultKind {
    fn applies_at(&self, point: GuestPoint<'_>) -> bool {
        match (self, point) {
            (GuestFaultKind::ToolsNeverReady, GuestPoint::ToolsStart)
            | (GuestFaultKind::OpsUnavailable, GuestPoint::Operation)
            | (GuestFaultKind::WrongCredentials, GuestPoint::Login) => true,
            (GuestFaultKind::HangProcess { cmd_contains }, GuestPoint::StartProgram(cmd_line)) => {
                cmd_contains.as_deref().is_none_or(|c| cmd_line.contains(c))
            }
            (GuestFaultKind::HangCommand { name }, GuestPoint::Command(command)) => name == command,
            _ => false,
        }
    }
}

/// The questions the guest model asks (each counts as a request of the set).
pub trait GuestFaultChecks {
    /// Whether a rule applies to `moref` at `point` (counting its hit).
    fn applies(&self, moref: &str, point: GuestPoint<'_>) -> bool;

    /// Whether the VM's tools are kept from starting.
    fn tools_blocked(&self, moref: &str) -> bool {
        self.applies(moref, GuestPoint::ToolsStart)
    }

    /// Whether every login to the VM is refused.
    fn credentials_refused(&self, moref: &str) -> bool {
        self.applies(moref, GuestPoint::Login)
    }

    /// Whether guest operations are unavailable now; uses up one call of a
    /// counted rule.
    fn ops_unavailable(&self, moref: &str) -> bool {
        self.applies(moref, GuestPoint::Operation)
    }

    /// Whether a program started with this command line hangs.
    fn process_hangs(&self, moref: &str, cmd_line: &str) -> bool {
        self.applies(moref, GuestPoint::StartProgram(cmd_line))
    }

    /// Whether the named command hangs.
    fn command_hangs(&self, moref: &str, name: &str) -> bool {
        self.applies(moref, GuestPoint::Command(name))
    }
}

impl GuestFaultChecks for GuestFaults {
    fn applies(&self, moref: &str, point: GuestPoint<'_>) -> bool {
        let check = GuestCheck { moref, point };
        !self
            .decide(&check, |kind, so_far| {
                so_far.effects.is_empty() && kind.applies_at(point)
            })
            .effects
            .is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_unavailability_runs_out() {
        let faults = GuestFaults::new();
        let id = faults
            .add(
                FaultRule::new(
                    FaultScope::Vm("vm-1".into()),
                    GuestFaultKind::OpsUnavailable,
                )
                .times(2),
            )
            .unwrap();
        assert!(!faults.ops_unavailable("vm-2"));
        assert!(faults.ops_unavailable("vm-1"));
        assert!(faults.ops_unavailable("vm-1"));
        assert!(!faults.ops_unavailable("vm-1"));
        assert_eq!(faults.hits(id), 2);
    }

    #[test]
    fn scopes_and_points_are_respected() {
        let faults = GuestFaults::new();
        faults
            .add(FaultRule::new(
                FaultScope::Global,
                GuestFaultKind::HangProcess {
                    cmd_contains: Some("kubeadm".into()),
                },
            ))
            .unwrap();
        assert!(faults.process_hangs("vm-9", "\"/tmp/a.sh\" kubeadm"));
        assert!(!faults.process_hangs("vm-9", "\"/bin/chmod\" u+rx"));
        assert!(!faults.command_hangs("vm-9", "kubeadm"));
        assert!(!faults.tools_blocked("vm-9"));
        assert_eq!(
            faults.remove_where(|r| r.rule.matcher == FaultScope::Global),
            1
        );
        assert!(!faults.process_hangs("vm-9", "kubeadm"));
    }

    #[test]
    fn guest_rules_cannot_be_delayed() {
        let faults = GuestFaults::new();
        let rule = FaultRule::new(FaultScope::Global, GuestFaultKind::ToolsNeverReady)
            .with_delay(std::time::Duration::from_secs(1));
        assert_eq!(
            faults.add(rule).unwrap_err().to_string(),
            "guest faults cannot have a delay"
        );
    }
}
