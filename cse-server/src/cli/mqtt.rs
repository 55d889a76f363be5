//! The MQTT side of `cse install`, `check` and `uninstall` (an `mqtt:`
//! config, vCD 10.2+): the CloudAPI API extension (`/cloudapi/extensions/api`,
//! found by vendor, name and version as CSE 3.x finds it), its API filters
//! (the legacy service named by the extension's `Link` header, the same
//! `/api/cse` patterns 1.2.x registers), its EXTENSION token
//! (`/cloudapi/1.0.0/tokens`, kept in a 0600 file in a 0700 directory, never
//! printed) and a login on the broker with it. Nothing here touches RabbitMQ
//! or vCD's AMQP settings.

use std::path::Path;

use cse_bus::{Bus, BusError, ConsumeOptions};
use cse_core::config::{Config, MqttConfig, MqttTokenSource, Secret};
use cse_core::vcd::extension::CSE_URL_PATTERNS;
use cse_vcd::vcd::{Client, CloudApiReply};
use reqwest::Method;
use serde_json::{Value, json};

#[cfg(doc)]
use super::CliContext;
use super::error::CliError;

/// Priority of the registration (0–100; CSE 3.x's `MQTT_EXTENSION_PRIORITY`).
pub const PRIORITY: i64 = 100;
/// Name of the EXTENSION token `cse install` creates (CSE 3.x's `MQTT_TOKEN_NAME`).
pub const TOKEN_NAME: &str = "mqttCseToken";
/// The lowest vCD API version CSE 3.x uses MQTT at (`MQTT_MIN_API_VERSION`).
pub const MIN_API_MAJOR: u32 = 35;
/// Media type of an API filter document.
const API_FILTER: &str = "application/vnd.vmware.admin.apifilter+xml";

/// The API extension as vCD shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    /// `urn:vcloud:extension-api:<vendor>:<name>:<version>`.
    pub id: String,
    /// Whether vCD routes requests to it.
    pub enabled: bool,
    /// The whole CloudAPI document (sent back on update).
    pub document: Value,
}

fn failed(what: &str, reply: &CloudApiReply) -> CliError {
    let message = serde_json::from_str::<Value>(&reply.body)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| reply.body.chars().take(200).collect());
    CliError::Missing(format!("{what}: vCD answered {}: {message}", reply.status))
}

async fn call(
    client: &Client,
    method: Method,
    path: &str,
    body: Option<&Value>,
    what: &str,
) -> Result<CloudApiReply, CliError> {
    let url = client.cloudapi_url(path);
    // CloudAPI paths of extensions are not versioned: `/cloudapi/extensions/api`.
    let url = if path.starts_with("extensions/") {
        url.replace("/cloudapi/1.0.0/", "/cloudapi/")
    } else {
        url
    };
    let text = body.map(Value::to_string);
    let reply = client.cloudapi_call(method, &url, text.as_deref()).await?;
    if reply.is_success() || reply.status == 404 {
        Ok(reply)
    } else {
        Err(failed(what, &reply))
    }
}

fn json_of(reply: &CloudApiReply, what: &str) -> Result<Value, CliError> {
    serde_json::from_str(&reply.body)
        .map_err(|e| CliError::Missing(format!("{what}: vCD's answer is not JSON ({e})")))
}

/// Most pages of a CloudAPI list read (128 entries each).
const MAX_PAGES: u64 = 100;

/// Every entry (`values`) of a CloudAPI list at `path`, page by page.
async fn list_all(client: &Client, path: &str, what: &str) -> Result<Vec<Value>, CliError> {
    let mut all = Vec::new();
    let mut page = 1;
    loop {
        let reply = call(
            client,
            Method::GET,
            &format!("{path}?page={page}&pageSize=128"),
            None,
            what,
        )
        .await?;
        if reply.status == 404 {
            return Err(failed(what, &reply));
        }
        let list = json_of(&reply, what)?;
        if let Some(values) = list.get("values").and_then(Value::as_array) {
            all.extend(values.iter().cloned());
        }
        let pages = list.get("pageCount").and_then(Value::as_u64).unwrap_or(1);
        if page >= pages || page >= MAX_PAGES {
            return Ok(all);
        }
        page += 1;
    }
}

/// The registration of `mqtt`'s vendor/name/version, if any.
pub async fn find(client: &Client, mqtt: &MqttConfig) -> Result<Option<Registration>, CliError> {
    let list = list_all(client, "extensions/api", "listing the API extensions").await?;
    let found = list.iter().find(|v| {
        v.get("vendor").and_then(Value::as_str) == Some(mqtt.vendor.as_str())
            && v.get("name").and_then(Value::as_str) == Some(mqtt.name.as_str())
            && v.get("version").and_then(Value::as_str) == Some(mqtt.version.as_str())
    });
    Ok(found.map(|v| Registration {
        id: v
            .get("id")
            .and_then(Value::as_str)
            .map_or_else(|| mqtt.urn(), str::to_owned),
        enabled: enabled_of(v),
        document: v.clone(),
    }))
}

fn enabled_of(document: &Value) -> bool {
    match document.get("enabled") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// The href of the extension's legacy service (`/api/admin/extension/service/<id>`),
/// from the `Link` header of its CloudAPI document.
pub async fn service_href(client: &Client, id: &str) -> Result<String, CliError> {
    let what = format!("reading API extension {id}");
    let reply = call(
        client,
        Method::GET,
        &format!("extensions/api/{id}"),
        None,
        &what,
    )
    .await?;
    if reply.status == 404 {
        return Err(failed(&what, &reply));
    }
    reply
        .links
        .iter()
        .flat_map(|header| header.split(','))
        .filter_map(|link| {
            let href = link.trim().strip_prefix('<')?.split('>').next()?;
            href.contains("/extension/service/")
                .then(|| href.to_owned())
        })
        .next()
        .ok_or_else(|| {
            CliError::Missing(format!(
                "{what}: vCD named no extension service in the Link header"
            ))
        })
}

fn document_for(mqtt: &MqttConfig, enabled: bool) -> Value {
    json!({
        "name": mqtt.name,
        "vendor": mqtt.vendor,
        "version": mqtt.version,
        "priority": PRIORITY,
        "enabled": if enabled { "true" } else { "false" },
        "authorizationEnabled": "false",
        "description": format!("cse-rs-{}", cse_core::CSE_VERSION),
    })
}

/// Writes one progress line to `out` (output errors are ignored, as
/// [`CliContext::say`] does).
fn say(out: &mut dyn std::io::Write, line: impl AsRef<str>) {
    let _ = writeln!(out, "{}", line.as_ref());
}

/// Registers the extension, or enables an existing disabled one; returns
/// its id and the legacy service href. Progress lines go to `out`.
pub async fn ensure_registration(
    client: &Client,
    mqtt: &MqttConfig,
    out: &mut dyn std::io::Write,
) -> Result<(String, String), CliError> {
    let triplet = mqtt.triplet();
    let id = match find(client, mqtt).await? {
        Some(reg) => {
            say(
                out,
                format!(
                    "Found MQTT API extension '{triplet}' on vCD, enabled={}",
                    reg.enabled
                ),
            );
            if !reg.enabled {
                set_enabled(client, &reg, true).await?;
                say(out, format!("Enabled MQTT API extension '{triplet}'"));
            }
            reg.id
        }
        None => {
            let what = format!("registering MQTT API extension '{triplet}'");
            let reply = call(
                client,
                Method::POST,
                "extensions/api",
                Some(&document_for(mqtt, true)),
                &what,
            )
            .await?;
            if reply.status == 404 {
                return Err(failed(&what, &reply));
            }
            let created = json_of(&reply, &what)?;
            say(out, format!("Registered MQTT API extension '{triplet}'"));
            created
                .get("id")
                .and_then(Value::as_str)
                .map_or_else(|| mqtt.urn(), str::to_owned)
        }
    };
    let service = service_href(client, &id).await?;
    Ok((id, service))
}

async fn set_enabled(client: &Client, reg: &Registration, enabled: bool) -> Result<(), CliError> {
    let mut document = reg.document.clone();
    document["enabled"] = Value::Bool(enabled);
    let what = format!("updating API extension {}", reg.id);
    let reply = call(
        client,
        Method::PUT,
        &format!("extensions/api/{}", reg.id),
        Some(&document),
        &what,
    )
    .await?;
    if reply.status == 404 {
        return Err(failed(&what, &reply));
    }
    Ok(())
}

/// Disables the extension (vCD deletes only disabled ones), then deletes it
/// with its API filters.
pub async fn unregister(client: &Client, reg: &Registration) -> Result<(), CliError> {
    if reg.enabled {
        set_enabled(client, reg, false).await?;
    }
    let what = format!("deleting API extension {}", reg.id);
    call(
        client,
        Method::DELETE,
        &format!("extensions/api/{}", reg.id),
        None,
        &what,
    )
    .await?;
    Ok(())
}

/// The URL patterns of the service's API filters: `ApiFilter` documents
/// (`UrlPattern` child) or `ApiFilterRecord`s (`urlPattern` attribute).
pub async fn filter_patterns(client: &Client, service: &str) -> Result<Vec<String>, CliError> {
    let list = client.get(&format!("{service}/apifilters")).await?;
    let mut patterns = Vec::new();
    for child in &list.children {
        if let Some(p) = child.attr("urlPattern") {
            patterns.push(p.to_owned());
        } else if let Some(p) = child.child_text("UrlPattern") {
            patterns.push(p.trim().to_owned());
        }
    }
    Ok(patterns)
}

/// Adds the `/api/cse` filters the service lacks. Progress lines go to `out`.
pub async fn ensure_filters(
    client: &Client,
    service: &str,
    out: &mut dyn std::io::Write,
) -> Result<(), CliError> {
    let present = filter_patterns(client, service).await?;
    let mut added = Vec::new();
    for pattern in CSE_URL_PATTERNS {
        if present.iter().any(|p| p == pattern) {
            continue;
        }
        let body = format!(
            "<vmext:ApiFilter xmlns:vmext=\"http://www.vmware.com/vcloud/extension/v1.5\">\
             <vmext:UrlPattern>{pattern}</vmext:UrlPattern></vmext:ApiFilter>"
        );
        client
            .post(&format!("{service}/apifilters"), API_FILTER, &body)
            .await?;
        added.push(pattern);
    }
    if added.is_empty() {
        say(
            out,
            format!(
                "API filters {} already registered",
                CSE_URL_PATTERNS.join(", ")
            ),
        );
    } else {
        say(out, format!("Registered API filters {}", added.join(", ")));
    }
    Ok(())
}

/// Ids of the EXTENSION tokens owned by the extension (`owner.name` is its
/// `vendor/name/version`).
pub async fn token_ids(client: &Client, mqtt: &MqttConfig) -> Result<Vec<String>, CliError> {
    let triplet = mqtt.triplet();
    let tokens = list_all(client, "tokens", "listing the API tokens").await?;
    Ok(tokens
        .iter()
        .filter(|token| {
            let owner = token.pointer("/owner/name").and_then(Value::as_str);
            let kind = token.get("type").and_then(Value::as_str);
            owner == Some(triplet.as_str())
                && kind.is_none_or(|k| k.eq_ignore_ascii_case("EXTENSION"))
        })
        .filter_map(|token| token.get("id").and_then(Value::as_str).map(str::to_owned))
        .collect())
}

/// Revokes every EXTENSION token of the extension; returns how many.
pub async fn revoke_tokens(client: &Client, mqtt: &MqttConfig) -> Result<usize, CliError> {
    let ids = token_ids(client, mqtt).await?;
    for id in &ids {
        call(
            client,
            Method::DELETE,
            &format!("tokens/{id}"),
            None,
            "revoking an EXTENSION token",
        )
        .await?;
    }
    Ok(ids.len())
}

/// Creates a new EXTENSION token for the extension; returns its secret.
pub async fn create_token(client: &Client, id: &str) -> Result<Secret, CliError> {
    let what = "creating the EXTENSION token";
    let reply = call(
        client,
        Method::POST,
        "tokens",
        Some(&json!({"name": TOKEN_NAME, "type": "EXTENSION", "extensionId": id})),
        what,
    )
    .await?;
    if reply.status == 404 {
        return Err(failed(what, &reply));
    }
    let created = json_of(&reply, what)?;
    created
        .get("token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(Secret::new)
        .ok_or_else(|| CliError::Missing(format!("{what}: vCD's answer has no token")))
}

/// The token of an MQTT config: inline, or read from its file (`Ok(None)`
/// when the file does not exist or is empty; an error when others may read
/// or write it, in the config file's 1.2.x texts). The token never appears
/// in errors.
pub fn read_token(mqtt: &MqttConfig, config_file: &Path) -> Result<Option<Secret>, CliError> {
    match mqtt.token_source(config_file) {
        MqttTokenSource::Inline => Ok(Some(mqtt.token.clone())),
        MqttTokenSource::File(path) => match read_bounded(&path, MAX_TOKEN_FILE_BYTES) {
            Ok(text) if !text.trim().is_empty() => {
                let problems = cse_core::config::check_file(&path).map_err(|e| {
                    CliError::io(
                        format!("reading the EXTENSION token file '{}'", path.display()),
                        e,
                    )
                })?;
                if problems.is_empty() {
                    Ok(Some(Secret::new(text.trim())))
                } else {
                    let texts: Vec<String> = problems.iter().map(ToString::to_string).collect();
                    Err(CliError::Invalid(format!(
                        "EXTENSION token file '{}': {}",
                        path.display(),
                        texts.join("; ")
                    )))
                }
            }
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(CliError::io(
                format!("reading the EXTENSION token file '{}'", path.display()),
                e,
            )),
        },
    }
}

/// Longest EXTENSION token file read (a token is a few hundred bytes).
const MAX_TOKEN_FILE_BYTES: u64 = 64 * 1024;

/// The text of the file at `path`, refused (`InvalidData`) past `max` bytes.
fn read_bounded(path: &Path, max: u64) -> std::io::Result<String> {
    use std::io::Read as _;
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(max + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("longer than {max} bytes: not a token file"),
        ));
    }
    Ok(text)
}

/// Fills in the token of `config`'s `mqtt` section from where it is kept
/// (inline or its file, see [`read_token`]); nothing without an `mqtt`
/// section. A token not there yet is an error saying to run `cse install`.
pub fn fill_token(config: &mut Config, config_file: &Path) -> Result<(), CliError> {
    let Some(mqtt) = config.mqtt.as_mut() else {
        return Ok(());
    };
    match read_token(mqtt, config_file)? {
        Some(token) => {
            mqtt.token = token;
            Ok(())
        }
        None => Err(CliError::Missing(format!(
            "the EXTENSION token {} is missing: run `cse install` to create it",
            token_place(mqtt, config_file)
        ))),
    }
}

/// Where the token of an MQTT config lives, for messages.
pub fn token_place(mqtt: &MqttConfig, config_file: &Path) -> String {
    match mqtt.token_source(config_file) {
        MqttTokenSource::Inline => "mqtt.token".to_owned(),
        MqttTokenSource::File(path) => format!("'{}'", path.display()),
    }
}

/// Writes the token file: 0600, in a 0700 directory, written whole.
pub fn write_token(path: &Path, token: &Secret) -> Result<(), CliError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        cse_core::config::create_private_dir(dir)
            .map_err(|e| CliError::Missing(format!("EXTENSION token directory: {e}")))?;
    }
    cse_core::config::write_private_file(path, format!("{}\n", token.expose()).as_bytes())
        .map_err(|e| CliError::Missing(format!("EXTENSION token file: {e}")))
}

/// Logs in to vCD's MQTT broker as the extension with `token` (CONNECT and
/// SUBSCRIBE to its monitor topic, then leaves without acknowledging
/// anything). `Err` carries the broker's reason, never the token.
pub async fn broker_login(config: &Config, token: &Secret) -> Result<String, String> {
    let Some(mqtt) = &config.mqtt else {
        return Err("no mqtt section".into());
    };
    let mut with_token = config.clone();
    if let Some(m) = with_token.mqtt.as_mut() {
        m.token = token.clone();
    }
    let bus = crate::amqp::mqtt_bus(&with_token)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "no mqtt section".to_owned())?;
    let url = bus.options().url.clone();
    let options = ConsumeOptions {
        tag: "cse-check".into(),
        prefetch: 1,
        auto_ack: false,
    };
    match bus.consume(&mqtt.monitor_topic(), options).await {
        Ok(mut consumer) => {
            let _ = consumer.cancel().await;
            Ok(url)
        }
        Err(BusError::Connect { reason, .. }) => Err(format!("{url}: {reason}")),
        Err(e) => Err(format!("{url}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_file_is_read_up_to_its_bound_and_refused_past_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "abc\n").unwrap();
        assert_eq!(read_bounded(&file, 4).unwrap(), "abc\n");
        let error = read_bounded(&file, 3).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
        assert!(error.to_string().contains("longer than 3 bytes"), "{error}");
        assert!(
            !error.to_string().contains("abc"),
            "no content in the error"
        );
    }
}
