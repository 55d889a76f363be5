//! Fault injection into guests, per VM or for every VM: tools that never
//! start, guest operations unavailable (for a number of calls or until
//! cleared), credentials always refused, and processes or commands that hang
//! until terminated.

/// Where a fault applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultScope {
    Global,
    /// One VM, by moref.
    Vm(String),
}

impl FaultScope {
    fn covers(&self, moref: &str) -> bool {
        match self {
            FaultScope::Global => true,
            FaultScope::Vm(m) => m == moref,
        }
    }
}

/// An injectable misbehaviour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuestFaultKind {
    /// VMware Tools never reach `guestToolsRunning` after a power-on (until cleared).
    ToolsNeverReady,
    /// Every guest operation fails with `GuestOperationsUnavailable` until cleared.
    OpsUnavailable,
    /// The next `calls` guest operations fail with `GuestOperationsUnavailable`.
    OpsUnavailableForCalls { calls: u32 },
    /// Every guest operation fails with `InvalidGuestLogin`, whatever the password.
    WrongCredentials,
    /// Started programs whose command line contains the text (all when `None`)
    /// never finish until terminated.
    HangProcess { cmd_contains: Option<String> },
    /// The named command hangs (inside any script) until its process is terminated.
    HangCommand { name: String },
}

/// The active faults of a world.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    active: Vec<(FaultScope, GuestFaultKind)>,
}

impl Faults {
    pub fn inject(&mut self, scope: FaultScope, kind: GuestFaultKind) {
        self.active.push((scope, kind));
    }

    /// Removes every fault of `scope` (exactly that scope).
    pub fn clear(&mut self, scope: &FaultScope) {
        self.active.retain(|(s, _)| s != scope);
    }

    pub fn clear_all(&mut self) {
        self.active.clear();
    }

    fn any(&self, moref: &str, pred: impl Fn(&GuestFaultKind) -> bool) -> bool {
        self.active.iter().any(|(s, k)| s.covers(moref) && pred(k))
    }

    pub fn tools_blocked(&self, moref: &str) -> bool {
        self.any(moref, |k| matches!(k, GuestFaultKind::ToolsNeverReady))
    }

    pub fn credentials_refused(&self, moref: &str) -> bool {
        self.any(moref, |k| matches!(k, GuestFaultKind::WrongCredentials))
    }

    /// Whether guest operations are unavailable now; consumes one call of a
    /// counted fault.
    pub fn take_ops_unavailable(&mut self, moref: &str) -> bool {
        if self.any(moref, |k| matches!(k, GuestFaultKind::OpsUnavailable)) {
            return true;
        }
        let mut hit = false;
        for (scope, kind) in &mut self.active {
            if let GuestFaultKind::OpsUnavailableForCalls { calls } = kind
                && scope.covers(moref)
                && *calls > 0
            {
                *calls -= 1;
                hit = true;
                break;
            }
        }
        self.active
            .retain(|(_, k)| !matches!(k, GuestFaultKind::OpsUnavailableForCalls { calls: 0 }));
        hit
    }

    pub fn process_hangs(&self, moref: &str, cmd_line: &str) -> bool {
        self.any(moref, |k| match k {
            GuestFaultKind::HangProcess { cmd_contains } => {
                cmd_contains.as_deref().is_none_or(|c| cmd_line.contains(c))
            }
            _ => false,
        })
    }

    pub fn command_hangs(&self, moref: &str, name: &str) -> bool {
        self.any(
            moref,
            |k| matches!(k, GuestFaultKind::HangCommand { name: n } if n == name),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_unavailability_runs_out() {
        let mut faults = Faults::default();
        faults.inject(
            FaultScope::Vm("vm-1".into()),
            GuestFaultKind::OpsUnavailableForCalls { calls: 2 },
        );
        assert!(!faults.take_ops_unavailable("vm-2"));
        assert!(faults.take_ops_unavailable("vm-1"));
        assert!(faults.take_ops_unavailable("vm-1"));
        assert!(!faults.take_ops_unavailable("vm-1"));
    }

    #[test]
    fn scopes_are_respected() {
        let mut faults = Faults::default();
        faults.inject(
            FaultScope::Global,
            GuestFaultKind::HangProcess {
                cmd_contains: Some("kubeadm".into()),
            },
        );
        assert!(faults.process_hangs("vm-9", "\"/tmp/a.sh\" kubeadm"));
        assert!(!faults.process_hangs("vm-9", "\"/bin/chmod\" u+rx"));
        faults.clear(&FaultScope::Global);
        assert!(!faults.process_hangs("vm-9", "kubeadm"));
    }
}
