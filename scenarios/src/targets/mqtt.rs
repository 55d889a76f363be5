//! The `mqtt:` section of the `cse` config the scenario targets generate for
//! vCD's MQTT extension bus (vCD 10.2+). `cse install` on that config
//! registers the API extension, its `/api/cse` API filters and its
//! `EXTENSION` token (kept in the default token file next to the config),
//! as an administrator's install does; the server reads the token from there
//! (`cse_server::cli::mqtt::fill_token`).

use cse_core::config::{MqttConfig, Secret};

/// The extension's vendor, name and version (its MQTT user name is
/// `VMware/cse/1.0.0`).
pub const VENDOR: &str = "VMware";
/// The extension's name.
pub const NAME: &str = "cse";
/// The extension's version.
pub const VERSION: &str = "1.0.0";

/// The `mqtt:` section: the extension's identity, its token in the default
/// token file (written by `cse install`).
pub fn section() -> MqttConfig {
    MqttConfig {
        vendor: VENDOR.into(),
        name: NAME.into(),
        version: VERSION.into(),
        token: Secret::default(),
        token_file: None,
    }
}
