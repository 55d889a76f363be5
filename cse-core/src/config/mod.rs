//! The `config.yaml` model (original 1.2.x keys plus optional new sections),
//! its validation and the `cse sample` output.
//!
//! Loading goes: read the file → permission check (1.2.x rule) → parse YAML →
//! walk the document against the schema collecting *every* problem → deserialize
//! into the typed [`Config`]. All problems come back together in
//! [`ConfigError::Invalid`], whose text ends with `Config file '<f>' is invalid`.

mod endpoints;
mod error;
mod limits;
mod model;
mod permissions;
mod private_files;
mod sample;
mod schema;
mod secret;
mod timeouts;
mod validate;

use std::path::Path;

pub use error::{ConfigError, ConfigProblem, EndpointError, ListEntry, Location, ValueType};
pub use limits::{LIMIT_FIELDS, LimitField, Limits};
pub use model::DEFAULT_MAX_CONCURRENT_REQUESTS;
pub use model::{AMQP_HEARTBEAT_RANGE, DEFAULT_AMQP_HEARTBEAT};
pub use model::{
    AmqpConfig, BrokerConfig, BrokerType, Config, DEFAULT_MAX_OPERATIONS,
    DEFAULT_MAX_QUEUED_OPERATIONS, DEFAULT_MQTT_TOKEN_FILE, DEFAULT_PREFETCH, IpAllocationMode,
    MqttConfig, MqttTokenSource, NodeRootPassword, ServiceConfig, TemplateConfig, Transport,
    VcdConfig, VcenterConfig,
};
pub use permissions::{PermissionClass, PermissionProblem, check_file, check_mode};
pub use private_files::{
    PrivateFileError, create_private_dir, open_private_append, write_private_file,
};
pub use sample::{render, sample_config, sample_model, sample_mqtt_config, sample_mqtt_model};
pub use secret::{REDACTED, Secret};
pub use timeouts::{MAX_SECONDS, Seconds, TIMEOUT_FIELDS, TimeoutField, Timeouts};

use serde_yaml::Value;

/// Name of the environment variable giving the config path when `-c` is absent.
pub const CONFIG_ENV_VAR: &str = "CSE_CONFIG";
/// Config path used when neither `-c` nor `CSE_CONFIG` is given.
pub const DEFAULT_CONFIG_FILE: &str = "config.yaml";
/// Top-level sections that may be left out (new in CSE-RS).
pub const OPTIONAL_SECTIONS: &[&str] = &["timeouts", "limits"];
/// vCD's default `extensibility.timeout` in the 1.2.x era.
pub const VCD_DEFAULT_EXTENSION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

impl Config {
    /// Parses and validates config text; `origin` names the file in messages.
    /// No permission check (there is no file).
    pub fn from_yaml_str(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let document = parse_yaml(text, origin)?;
        let problems = validate::validate(&document, origin);
        finish(document, origin, problems)
    }

    /// Reads `path`, checks its permissions, parses and validates it. Permission and
    /// content problems are reported together.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let file = path.display().to_string();
        let permission_problems = permissions::check_file(path).map_err(|e| io_error(path, e))?;
        let bytes = std::fs::read(path).map_err(|e| io_error(path, e))?;
        let text = String::from_utf8(bytes).map_err(|e| ConfigError::Syntax {
            file: file.clone(),
            line: None,
            column: None,
            message: format!("the file is not UTF-8 text ({e})"),
        })?;
        let document = parse_yaml(&text, &file)?;
        let mut problems: Vec<ConfigProblem> = permission_problems
            .into_iter()
            .map(ConfigProblem::Permission)
            .collect();
        problems.extend(validate::validate(&document, &file));
        finish(document, &file, problems)
    }

    /// The configuration as `config.yaml` text, in `cse sample` layout.
    pub fn to_yaml(&self) -> String {
        sample::render(self)
    }

    /// Things that are allowed but risky, for `cse check`/`cse run` to print
    /// (the first is the 1.2.x text for `vcd.verify: false`).
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if !self.vcd.verify {
            warnings.push(
                "InsecureRequestWarning: Unverified HTTPS request is being made. \
                 Adding certificate verification is strongly advised."
                    .to_owned(),
            );
        }
        for vc in self.vcs.iter().filter(|vc| !vc.verify) {
            warnings.push(format!(
                "vCenter '{}': TLS certificate verification is disabled (verify: false)",
                vc.name
            ));
        }
        if self.mqtt.is_some() && self.amqp != AmqpConfig::default() {
            warnings.push(
                "the 'amqp' section is ignored: the 'mqtt' section selects vCD's MQTT \
                 extension bus (remove 'amqp' to silence this)"
                    .to_owned(),
            );
        }
        let reply = self.timeouts.extension_reply;
        if reply.duration() >= VCD_DEFAULT_EXTENSION_TIMEOUT {
            warnings.push(format!(
                "timeouts.extension_reply ({reply}) is not below vCD's default \
                 extensibility.timeout (10 s): raise extensibility.timeout on the vCD cells \
                 or synchronous requests may end in 504"
            ));
        }
        warnings
    }
}

fn io_error(path: &Path, source: std::io::Error) -> ConfigError {
    if source.kind() == std::io::ErrorKind::NotFound {
        ConfigError::NotFound {
            path: path.to_path_buf(),
        }
    } else {
        ConfigError::Unreadable {
            path: path.to_path_buf(),
            source,
        }
    }
}

fn parse_yaml(text: &str, file: &str) -> Result<Value, ConfigError> {
    let syntax = |e: serde_yaml::Error| ConfigError::Syntax {
        file: file.to_owned(),
        line: e.location().map(|l| l.line()),
        column: e.location().map(|l| l.column()),
        message: e.to_string(),
    };
    let mut document: Value = serde_yaml::from_str(text).map_err(syntax)?;
    document.apply_merge().map_err(syntax)?;
    drop_empty_optional_sections(&mut document);
    Ok(document)
}

/// An optional section written with no content (`timeouts:` with every key
/// commented out) means "all defaults", not "wrong type".
fn drop_empty_optional_sections(document: &mut Value) {
    if let Some(root) = document.as_mapping_mut() {
        for section in OPTIONAL_SECTIONS {
            if root.get(*section).is_some_and(Value::is_null) {
                root.remove(*section);
            }
        }
    }
}

fn finish(
    document: Value,
    file: &str,
    problems: Vec<ConfigProblem>,
) -> Result<Config, ConfigError> {
    if !problems.is_empty() {
        return Err(ConfigError::Invalid {
            file: file.to_owned(),
            problems,
        });
    }
    serde_yaml::from_value(document).map_err(|e| ConfigError::Invalid {
        file: file.to_owned(),
        problems: vec![ConfigProblem::Model {
            at: Location::file(file),
            message: e.to_string(),
        }],
    })
}
