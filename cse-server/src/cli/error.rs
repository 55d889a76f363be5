//! Errors of the administrator's command: one enum naming what failed and why,
//! with the original 1.2.x texts where they exist.

use cse_bus::BusError;
use cse_core::config::ConfigError;

use cse_vcd::vcd::VcdError;
use cse_vcd::vsphere::{LocateError, VsphereError};

/// Why a `cse` subcommand failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The config file could not be read or is invalid.
    #[error("{0}")]
    Config(Box<ConfigError>),
    /// A vCD request failed.
    #[error("{0}")]
    Vcd(Box<VcdError>),
    /// A vCenter request failed.
    #[error("{0}")]
    Vsphere(Box<VsphereError>),
    /// A VM's guest could not be located.
    #[error("{0}")]
    Locate(Box<LocateError>),
    /// The exchange could not be declared.
    #[error("Cannot create AMQP exchange '{exchange}': {source}")]
    Exchange {
        /// Exchange name.
        exchange: String,
        /// Broker error.
        source: Box<BusError>,
    },
    /// The broker could not be reached.
    #[error("Cannot connect to AMQP server ({address}): {source}")]
    Amqp {
        /// host:port.
        address: String,
        /// Broker error.
        source: Box<BusError>,
    },
    /// vCD refused the AMQP settings of the config file.
    #[error("Couldn't set vCD AMQP configuration: {0}")]
    AmqpSettings(String),
    /// Something CSE needs is missing in vCD.
    #[error("{0}")]
    Missing(String),
    /// The source OVA is not what the config says.
    #[error(
        "sha256 of '{file}' is {actual}, the config file says {expected} (template '{template}'); \
         not uploading it"
    )]
    Checksum {
        /// Template name.
        template: String,
        /// File checked.
        file: String,
        /// Configured hash.
        expected: String,
        /// Hash of the file.
        actual: String,
    },
    /// The OVA could not be downloaded.
    #[error("Cannot download '{url}': {reason}")]
    Download {
        /// Source URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The OVA is not a usable archive.
    #[error("'{file}' is not a usable OVA: {reason}")]
    BadOva {
        /// File.
        file: String,
        /// What went wrong.
        reason: String,
    },
    /// A local file operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// I/O error.
        source: std::io::Error,
    },
    /// The customization script failed in the guest.
    #[error("Failed to customize VM '{vm}' of template '{template}': exit code {code}\n{stderr}")]
    Customize {
        /// Template name.
        template: String,
        /// VM name.
        vm: String,
        /// Script exit code.
        code: i32,
        /// Script's standard error (tail).
        stderr: String,
    },
    /// A question could not be answered.
    #[error("{0}")]
    Prompt(String),
    /// A command-line usage problem.
    #[error("{0}")]
    Usage(String),
    /// `cse check` found problems.
    #[error("{0}")]
    Invalid(String),
    /// `cse run` failed.
    #[error("{0}")]
    Run(String),
}

impl CliError {
    /// An I/O error with context.
    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        CliError::Io {
            what: what.into(),
            source,
        }
    }
}

macro_rules! boxed_from {
    ($($source:ty => $variant:ident),* $(,)?) => {
        $(impl From<$source> for CliError {
            fn from(error: $source) -> Self {
                CliError::$variant(Box::new(error))
            }
        })*
    };
}

boxed_from!(
    ConfigError => Config,
    VcdError => Vcd,
    VsphereError => Vsphere,
    LocateError => Locate,
);
