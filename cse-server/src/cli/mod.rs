//! The administrator's command `cse`: argument parsing and one module per
//! subcommand (sample, version, check, install, uninstall, run).

pub mod run;
