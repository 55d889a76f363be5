//! `cse sample`: prints a valid configuration with the original sample values.

use std::io::Write;

use super::error::CliError;

/// Writes the sample configuration to `out`.
pub fn run(out: &mut dyn Write) -> Result<(), CliError> {
    out.write_all(cse_core::config::sample_config().as_bytes())
        .map_err(|e| CliError::io("writing the sample", e))
}
