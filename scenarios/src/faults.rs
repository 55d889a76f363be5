//! vCD REST faults of `fault: {vcd: ...}` steps, mapped onto the simulator's
//! runtime fault rules.

use vcd_sim::assembly::FullSim;

use crate::format::VcdFault;

/// Switches on a vCD fault; a description for the report.
pub fn add_vcd_fault(_sim: &FullSim, _fault: &VcdFault) -> Result<String, String> {
    Err("vCD faults are not available in this simulator".into())
}

/// Switches off every vCD fault.
pub fn clear_vcd_faults(_sim: &FullSim) {}
