//! Putting CSE on vCD's MQTT extension bus (vCD 10.2+) the way an
//! administrator does through CloudAPI: the API extension
//! (`POST /cloudapi/extensions/api`, which makes its `monitor` and `respond`
//! topics), its `/api/cse` API filter, and an API token of type `EXTENSION`
//! that the server logs in to the broker with. The `mqtt:` section of the
//! generated `cse` config is built from the result.
//!
//! The scenario targets register here, before `cse install --ext skip`
//! builds the templates, so the MQTT extension is the first one whose
//! filter matches `/api/cse` (vCD hands a request to the first enabled
//! match).

use std::time::Duration;

use cse_core::config::{Config, MqttConfig, Secret};

/// The extension's vendor, name and version (its MQTT user name is
/// `VMware/cse/1.0.0`).
pub const VENDOR: &str = "VMware";
/// The extension's name.
pub const NAME: &str = "cse";
/// The extension's version.
pub const VERSION: &str = "1.0.0";

/// The CloudAPI version the registration speaks (every 10.3+ release
/// serves 36.0).
const API_VERSION: &str = "36.0";

/// Registers the `cse` API extension for MQTT on the vCD at `vcd_url`
/// (`https://host:port`) as the system administrator, adds the `/api/cse`
/// API filter and creates the extension's `EXTENSION` token: the `mqtt:`
/// section that serves it. `verify`: check vCD's certificate.
pub async fn register_extension(
    vcd_url: &str,
    user: &str,
    password: &str,
    verify: bool,
) -> Result<MqttConfig, String> {
    let base = vcd_url.trim_end_matches('/');
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(!verify)
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| format!("HTTP client: {e}"))?;
    let accept = format!("application/json;version={API_VERSION}");
    let fail = |what: &str, e: &dyn std::fmt::Display| format!("MQTT registration: {what}: {e}");

    // A provider session.
    let login = http
        .post(format!("{base}/cloudapi/1.0.0/sessions/provider"))
        .basic_auth(format!("{user}@System"), Some(password))
        .header("Accept", &accept)
        .send()
        .await
        .map_err(|e| fail("provider login", &e))?;
    if !login.status().is_success() {
        return Err(fail("provider login", &login.status()));
    }
    let jwt = login
        .headers()
        .get("x-vmware-vcloud-access-token")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| fail("provider login", &"no access token in the answer"))?
        .to_owned();

    // The extension, with its topics.
    let created = http
        .post(format!("{base}/cloudapi/extensions/api"))
        .bearer_auth(&jwt)
        .header("Accept", &accept)
        .json(&serde_json::json!({
            "name": NAME, "vendor": VENDOR, "version": VERSION,
            "priority": 50, "enabled": "true", "authorizationEnabled": "false",
            "description": "Container Service Extension"
        }))
        .send()
        .await
        .map_err(|e| fail("registering the extension", &e))?;
    let status = created.status();
    let link = created
        .headers()
        .get("link")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = created.text().await.unwrap_or_default();
    if !status.is_success() {
        return Err(fail(
            "registering the extension",
            &format!("{status}: {text}"),
        ));
    }
    let doc: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| fail("the extension document", &e))?;
    let id = doc["id"]
        .as_str()
        .ok_or_else(|| fail("the extension document", &"no id"))?
        .to_owned();
    // `Link: <…/admin/extension/service/<id>>;rel="…"`: the legacy service
    // the API filters belong to.
    let service = link
        .as_deref()
        .and_then(|l| l.trim_start_matches('<').split('>').next())
        .filter(|s| s.starts_with("http"))
        .ok_or_else(|| fail("registering the extension", &"no service link"))?
        .to_owned();

    // The API filter: every `/api/cse` path goes to the extension.
    let filter = http
        .post(format!("{service}/apifilters"))
        .bearer_auth(&jwt)
        .header("Accept", format!("application/*+xml;version={API_VERSION}"))
        .header("Content-Type", "application/vnd.vmware.admin.apifilter+xml")
        .body(concat!(
            r#"<vmext:ApiFilter xmlns:vmext="http://www.vmware.com/vcloud/extension/v1.5">"#,
            r#"<vmext:UrlPattern>/api/cse(/.*)?</vmext:UrlPattern></vmext:ApiFilter>"#
        ))
        .send()
        .await
        .map_err(|e| fail("adding the API filter", &e))?;
    if !filter.status().is_success() {
        return Err(fail("adding the API filter", &filter.status()));
    }

    // The extension's token: its MQTT password.
    let token = http
        .post(format!("{base}/cloudapi/1.0.0/tokens"))
        .bearer_auth(&jwt)
        .header("Accept", &accept)
        .json(&serde_json::json!({
            "name": format!("{NAME}-mqtt"), "type": "EXTENSION", "extensionId": id
        }))
        .send()
        .await
        .map_err(|e| fail("creating the EXTENSION token", &e))?;
    if !token.status().is_success() {
        return Err(fail("creating the EXTENSION token", &token.status()));
    }
    let token: serde_json::Value = token
        .json()
        .await
        .map_err(|e| fail("the token document", &e))?;
    let secret = token["token"]
        .as_str()
        .ok_or_else(|| fail("the token document", &"no token"))?;
    let _ = http
        .delete(format!("{base}/cloudapi/1.0.0/sessions/current"))
        .bearer_auth(&jwt)
        .header("Accept", &accept)
        .send()
        .await;
    Ok(MqttConfig {
        vendor: VENDOR.into(),
        name: NAME.into(),
        version: VERSION.into(),
        token: Secret::new(secret),
        token_file: None,
    })
}

/// `config` as the YAML of a config file, its `mqtt:` section included
/// (appended when the config writer leaves it out).
pub fn config_yaml(config: &Config) -> String {
    let mut yaml = config.to_yaml();
    if let Some(mqtt) = &config.mqtt
        && !yaml.lines().any(|l| l.starts_with("mqtt:"))
    {
        let section = serde_json::json!({
            "mqtt": {
                "vendor": mqtt.vendor,
                "name": mqtt.name,
                "version": mqtt.version,
                "token": mqtt.token.expose(),
            }
        });
        if !yaml.ends_with('\n') {
            yaml.push('\n');
        }
        yaml.push_str(&serde_yaml::to_string(&section).unwrap_or_default());
    }
    yaml
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mqtt_section_is_written_and_read_back() {
        let mut config = cse_core::config::sample_model();
        config.mqtt = Some(MqttConfig {
            vendor: VENDOR.into(),
            name: NAME.into(),
            version: VERSION.into(),
            token: Secret::new("tok: with # odd ' characters"),
            token_file: None,
        });
        let yaml = config_yaml(&config);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.yaml");
        cse_core::config::write_private_file(&path, yaml.as_bytes()).unwrap();
        let back = Config::load(&path).unwrap();
        assert_eq!(back.mqtt, config.mqtt);
        assert_eq!(config_yaml(&back).matches("mqtt:").count(), 1);
    }
}
