//! `cse version`: the product line of the original.

use std::io::Write;

use super::error::CliError;

/// `CSE, Container Service Extension for VMware vCloud Director, version <x>`.
pub fn line() -> String {
    format!(
        "CSE, Container Service Extension for VMware vCloud Director, version {}",
        cse_core::CSE_VERSION
    )
}

/// Writes the version line to `out`.
pub fn run(out: &mut dyn Write) -> Result<(), CliError> {
    writeln!(out, "{}", line()).map_err(|e| CliError::io("writing the version", e))
}
