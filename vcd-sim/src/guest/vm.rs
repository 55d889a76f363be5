//! One simulated VM: its disk, power state, boot phase (what VMware Tools and
//! the guest-operations agent report), IP address and process table.

use crate::guest_api::{Customization, PowerState, ToolsRunningStatus};

use super::disk::Disk;
use super::process::ProcessTable;

/// Where a powered-on guest is in its boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootPhase {
    Off,
    Booting,
    ToolsStarting,
    /// Tools run, the guest-operations agent does not accept calls yet.
    /// Reported as `guestToolsExecutingScripts`: on a real vCenter
    /// `guestToolsRunning` means guest operations work (vsphere-guest-ops
    /// §6.2, corrected); "running but unavailable" exists only as a fault.
    AgentWarmingUp,
    Ready,
    /// Tools never start (fault); resumes when the fault is cleared.
    ToolsBlocked,
    Suspended,
}

impl BootPhase {
    pub fn tools_status(&self) -> ToolsRunningStatus {
        match self {
            BootPhase::ToolsStarting | BootPhase::AgentWarmingUp => {
                ToolsRunningStatus::ExecutingScripts
            }
            BootPhase::Ready => ToolsRunningStatus::Running,
            _ => ToolsRunningStatus::NotRunning,
        }
    }
}

/// Outcome of the last guest customization.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CustomizationRecord {
    /// Exit codes of the `precustomization` and `postcustomization` script runs.
    pub script_exit_codes: Vec<i32>,
    /// Combined stdout/stderr of the script runs.
    pub log: String,
}

/// A VM as the guest model holds it.
#[derive(Debug, Clone)]
pub struct Vm {
    pub moref: String,
    pub name: String,
    pub disk: Disk,
    pub power: PowerState,
    pub phase: BootPhase,
    /// Increments at every power-on and reboot; processes of older boots are dead.
    pub epoch: u64,
    pub ip: Option<String>,
    pub processes: ProcessTable,
    /// Customization waiting for tools blocked by a fault.
    pub pending_customization: Option<Option<Customization>>,
    pub customization: Option<CustomizationRecord>,
}

impl Vm {
    pub fn new(moref: &str, name: &str, disk: Disk) -> Self {
        Vm {
            moref: moref.to_owned(),
            name: name.to_owned(),
            disk,
            power: PowerState::PoweredOff,
            phase: BootPhase::Off,
            epoch: 0,
            ip: None,
            processes: ProcessTable::default(),
            pending_customization: None,
            customization: None,
        }
    }

    /// The guest network is up once tools run.
    pub fn network_up(&self) -> bool {
        matches!(self.phase, BootPhase::AgentWarmingUp | BootPhase::Ready)
    }
}
