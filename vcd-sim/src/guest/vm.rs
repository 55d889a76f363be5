//! One simulated VM: its disk, power state, boot phase (what VMware Tools and
//! the guest-operations agent report), IP address and process table.

use crate::guest_api::{Customization, PowerState, ToolsRunningStatus};

use super::disk::Disk;
use super::process::ProcessTable;

/// Where a powered-on guest is in its boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum BootPhase {
    /// Powered off, or not yet powered on.
    Off,
    /// Powered on; the OS is starting (no tools yet).
    Booting,
    /// Tools are starting (`guestToolsExecutingScripts`).
    ToolsStarting,
    /// Tools run, the guest-operations agent does not accept calls yet.
    /// Reported as `guestToolsExecutingScripts`: on a real vCenter
    /// `guestToolsRunning` means guest operations work (vsphere-guest-ops
    /// §6.2, corrected); "running but unavailable" exists only as a fault.
    AgentWarmingUp,
    /// Guest operations are accepted (`guestToolsRunning`).
    Ready,
    /// Tools never start (fault); resumes when the fault is cleared.
    ToolsBlocked,
    /// Suspended: nothing runs, tools report not running.
    Suspended,
}

impl BootPhase {
    /// What vCenter's `guest.toolsRunningStatus` reports in this phase.
    pub(crate) fn tools_status(&self) -> ToolsRunningStatus {
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
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct CustomizationRecord {
    /// Exit codes of the `precustomization` and `postcustomization` script runs.
    pub script_exit_codes: Vec<i32>,
    /// Combined stdout/stderr of the script runs.
    pub log: String,
}

/// A VM as the guest model holds it.
#[derive(Debug, Clone)]
pub struct Vm {
    /// vCenter managed object id (`vm-N`).
    pub moref: String,
    /// VM name.
    pub name: String,
    /// The VM's own disk (a copy of the image it was created from).
    pub disk: Disk,
    /// Power state as vCenter reports it.
    pub power: PowerState,
    /// Boot progress while powered on.
    pub phase: BootPhase,
    /// Increments at every power-on and reboot; processes of older boots are dead.
    pub epoch: u64,
    /// IPv4 address from the network's pool; `None` until assigned.
    pub ip: Option<String>,
    /// Processes started through guest operations or the shell.
    pub processes: ProcessTable,
    /// Customization waiting for tools blocked by a fault.
    pub pending_customization: Option<Option<Customization>>,
    /// The last guest customization's outcome.
    pub customization: Option<CustomizationRecord>,
}

impl Vm {
    /// A powered-off VM on `disk`, with no address and no processes.
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
