//! `cse run`: validate the configuration, check the installation (unless
//! skipped), start the AMQP listeners and serve until stopped.

use std::path::PathBuf;

/// Arguments of `cse run`.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Config file (default: $CSE_CONFIG, else config.yaml).
    #[arg(
        short = 'c',
        long = "config",
        env = "CSE_CONFIG",
        default_value = "config.yaml"
    )]
    pub config: PathBuf,
    /// Skip the installation check.
    #[arg(short = 's', long = "skip-check")]
    pub skip_check: bool,
}

/// Runs the server until it is stopped.
pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    anyhow::bail!(
        "cse run is not available in this build (config {})",
        args.config.display()
    )
}
