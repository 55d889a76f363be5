//! `cse check [-c F] [-i] [-t NAME|*]`: validates the configuration (permissions,
//! keys, AMQP, vCD, every vCenter) and, with `-i`, the installation (exchange,
//! extension registration, catalog, templates). On an `mqtt` config no broker is
//! connected to before `-i`, which checks the MQTT API extension (registered,
//! enabled, API filters) and that its EXTENSION token logs in to vCD's broker.
//! Exits non-zero when invalid (the original always exited 0).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use cse_bus::{Bus, BusError, ExchangeOptions};
use cse_core::config::{Config, TemplateConfig, Transport};
use cse_core::vcd::{VcdDocument, VimServerReferences, VmwExtension};

use super::error::CliError;
use super::lookup;
use super::{BusConnector, CliContext};
use cse_vcd::vcd::{Client, VcdConnector, VcdSettings};
use cse_vcd::vsphere::VcenterPool;

/// Arguments of `cse check`.
#[derive(Debug, Clone, clap::Args)]
pub struct CheckArgs {
    /// Config file (default: $CSE_CONFIG, else config.yaml).
    #[arg(
        short = 'c',
        long = "config",
        env = "CSE_CONFIG",
        default_value = "config.yaml"
    )]
    pub config: PathBuf,
    /// Also check the installation on vCD.
    #[arg(short = 'i', long = "check-install")]
    pub check_install: bool,
    /// Template to check with -i (`*` for all).
    #[arg(short = 't', long = "template", default_value = "*")]
    pub template: String,
}

/// A validated configuration with its open connections.
pub struct Validated {
    /// The configuration.
    pub config: Config,
    /// System administrator session.
    pub client: Client,
    /// The RabbitMQ broker (`None` on an MQTT config: nothing connects to one).
    pub bus: Option<Arc<dyn Bus>>,
    /// The config file's path (the MQTT token file is found from it).
    pub config_file: PathBuf,
}

/// Runs `cse check`.
pub async fn run(args: &CheckArgs, ctx: &mut CliContext<'_>) -> Result<(), CliError> {
    let validated = validate(&args.config, ctx).await?;
    if args.check_install {
        let templates = select_templates(&validated.config, &args.template)?;
        check_installation(&validated, &templates, ctx).await?;
    }
    let _ = validated.client.logout().await;
    Ok(())
}

/// The templates `-t NAME|*` selects.
pub fn select_templates(config: &Config, selector: &str) -> Result<Vec<TemplateConfig>, CliError> {
    if selector == "*" {
        return Ok(config.broker.templates.clone());
    }
    config
        .template(selector)
        .cloned()
        .map(|t| vec![t])
        .ok_or_else(|| {
            CliError::Usage(format!(
                "Template '{selector}' not found in config file (templates: {})",
                config
                    .broker
                    .templates
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

fn invalid(file: &Path, ctx: &mut CliContext<'_>, error: CliError) -> CliError {
    ctx.say(error.to_string());
    CliError::Invalid(format!("Config file '{}' is invalid", file.display()))
}

/// Validates the config file and every connection it describes (spec §4.2), printing
/// one line per check; ends with `Config file '<f>' is valid`.
pub async fn validate(path: &Path, ctx: &mut CliContext<'_>) -> Result<Validated, CliError> {
    let config = match Config::load(path) {
        Ok(config) => config,
        // The error text already ends with "Config file '<f>' is invalid".
        Err(e) => return Err(CliError::Invalid(e.to_string())),
    };
    for warning in config.warnings() {
        ctx.say(format!("Warning: {warning}"));
    }
    let result = validate_connections(&config, ctx.bus, ctx).await;
    match result {
        Ok((client, bus)) => {
            ctx.say(format!("Config file '{}' is valid", path.display()));
            Ok(Validated {
                config,
                client,
                bus,
                config_file: path.to_path_buf(),
            })
        }
        Err(e) => Err(invalid(path, ctx, e)),
    }
}

async fn validate_connections(
    config: &Config,
    connector: &dyn BusConnector,
    ctx: &mut CliContext<'_>,
) -> Result<(Client, Option<Arc<dyn Bus>>), CliError> {
    let bus = match config.transport() {
        Transport::Amqp(_) => Some(connect_amqp(config, connector, ctx).await?),
        Transport::Mqtt(mqtt) => {
            ctx.say(format!(
                "Transport: vCD's MQTT extension bus, extension '{}' (no AMQP broker used)",
                mqtt.triplet()
            ));
            None
        }
    };
    let client = validate_vcd(config, ctx).await?;
    if config.mqtt.is_some() && client.api_version().major() < super::mqtt::MIN_API_MAJOR {
        let _ = client.logout().await;
        return Err(CliError::Missing(format!(
            "vCD's MQTT extension bus needs API version {}.0 or later (vCD 10.2+); this \
             session speaks {} (vcd.api_version 'auto' picks the highest vCD offers)",
            super::mqtt::MIN_API_MAJOR,
            client.api_version().as_str()
        )));
    }
    Ok((client, bus))
}

async fn connect_amqp(
    config: &Config,
    connector: &dyn BusConnector,
    ctx: &mut CliContext<'_>,
) -> Result<Arc<dyn Bus>, CliError> {
    let address = format!("{}:{}", config.amqp.host, config.amqp.port);
    let bus = connector.connect(config)?;
    // A passive declare proves the connection; a missing exchange is for `-i` to report.
    match bus
        .declare_exchange(
            &config.amqp.exchange,
            ExchangeOptions {
                durable: true,
                passive: true,
            },
        )
        .await
    {
        Ok(()) | Err(BusError::ExchangeNotFound(_)) => {}
        Err(source) => {
            return Err(CliError::Amqp {
                address,
                source: Box::new(source),
            });
        }
    }
    ctx.say(format!("Connected to AMQP server ({address})"));
    Ok(bus)
}

async fn validate_vcd(config: &Config, ctx: &mut CliContext<'_>) -> Result<Client, CliError> {
    let connector = VcdConnector::new(VcdSettings::from_config(config)?)?;
    let client = connector.login_sysadmin(config).await?;
    let vcd_address = config
        .vcd
        .base_url()
        .unwrap_or_else(|_| format!("{}:{}", config.vcd.host, config.vcd.port));
    let kind = client.login_kind();
    let route = kind
        .route(&client.session().org)
        .map(|r| format!(", {r}"))
        .unwrap_or_default();
    ctx.say(format!(
        "Connected to vCloud Director ({vcd_address}): {} login{route}, API version {}",
        kind.label(),
        client.api_version()
    ));

    let registered = registered_vcenters(&client).await?;
    for name in &registered {
        if config.vcenter(name).is_none() {
            return Err(CliError::Missing(format!(
                "vCenter '{name}' registered in vCD but not found in config file"
            )));
        }
    }
    let pool = VcenterPool::from_config(config);
    for vc in &config.vcs {
        if !registered.contains(&vc.name) {
            return Err(CliError::Missing(format!(
                "vCenter '{}' found in config file but not registered in vCD",
                vc.name
            )));
        }
        let server = client.vim_server(&vc.name).await?;
        let session = pool.session(&vc.name, &server.url)?;
        // Any authenticated call logs in; an unknown moref after a good login is fine.
        let outcome = session.vm_state("vm-cse-check").await;
        if !session.is_logged_in() {
            return Err(match outcome {
                Err(e) => e.into(),
                Ok(_) => CliError::Missing(format!("could not log in to vCenter '{}'", vc.name)),
            });
        }
        ctx.say(format!(
            "Connected to vCenter Server '{}' as '{}' ({})",
            vc.name,
            vc.username,
            session.endpoint().authority()
        ));
    }
    pool.logout_all().await;
    if config.default_template().is_none() {
        return Err(CliError::Missing(format!(
            "Default template '{}' not found in listed templates",
            config.broker.default_template
        )));
    }
    Ok(client)
}

/// Names of the vCenters registered in vCD.
pub async fn registered_vcenters(client: &Client) -> Result<Vec<String>, CliError> {
    let extension_href = client.session().extension_href()?.to_owned();
    let extension: VmwExtension = client.get_doc(&extension_href).await?;
    let href = extension
        .vim_server_references_href()
        .map(str::to_owned)
        .unwrap_or_else(|_| format!("{extension_href}/vimServerReferences"));
    let refs = VimServerReferences::from_xml(&client.get_answer(&href).await?.body)
        .map_err(|e| CliError::Missing(format!("vCenter list unreadable: {e}")))?;
    Ok(refs
        .references
        .iter()
        .filter_map(|r| r.name.clone())
        .collect())
}

/// Checks the installation (spec §4.2 `--check-install`), collecting every problem;
/// ends with `CSE installation is valid` or fails with `CSE installation is invalid`.
pub async fn check_installation(
    validated: &Validated,
    templates: &[TemplateConfig],
    ctx: &mut CliContext<'_>,
) -> Result<(), CliError> {
    let config = &validated.config;
    let mut errors: Vec<String> = Vec::new();
    match (config.transport(), &validated.bus) {
        (Transport::Mqtt(mqtt), _) => {
            check_mqtt(validated, mqtt, &mut errors, ctx).await?;
        }
        (Transport::Amqp(_), Some(bus)) => {
            check_amqp(validated, bus, &mut errors, ctx).await?;
        }
        (Transport::Amqp(_), None) => errors.push("No AMQP broker connection".to_owned()),
    }
    check_catalog(validated, templates, &mut errors, ctx).await?;
    if errors.is_empty() {
        ctx.say("CSE installation is valid");
        Ok(())
    } else {
        for error in &errors {
            ctx.say(error);
        }
        Err(CliError::Invalid("CSE installation is invalid".to_owned()))
    }
}

/// The MQTT installation: the API extension registered and enabled, its API
/// filters, and the EXTENSION token logging in to the broker.
async fn check_mqtt(
    validated: &Validated,
    mqtt: &cse_core::config::MqttConfig,
    errors: &mut Vec<String>,
    ctx: &mut CliContext<'_>,
) -> Result<(), CliError> {
    let client = &validated.client;
    let triplet = mqtt.triplet();
    match super::mqtt::find(client, mqtt).await? {
        Some(reg) => {
            if reg.enabled {
                ctx.say(format!(
                    "MQTT API extension '{triplet}' is registered to vCD and enabled"
                ));
            } else {
                errors.push(format!(
                    "MQTT API extension '{triplet}' is registered to vCD but disabled"
                ));
            }
            let service = super::mqtt::service_href(client, &reg.id).await?;
            let present = super::mqtt::filter_patterns(client, &service).await?;
            let missing: Vec<&str> = cse_core::vcd::extension::CSE_URL_PATTERNS
                .into_iter()
                .filter(|p| !present.iter().any(|q| q == p))
                .collect();
            if missing.is_empty() {
                ctx.say(format!(
                    "MQTT API filters found: {}",
                    cse_core::vcd::extension::CSE_URL_PATTERNS.join(", ")
                ));
            } else {
                errors.push(format!("MQTT API filters missing: {}", missing.join(", ")));
            }
        }
        None => errors.push(format!(
            "MQTT API extension '{triplet}' is not registered to vCD"
        )),
    }
    let place = super::mqtt::token_place(mqtt, &validated.config_file);
    match super::mqtt::read_token(mqtt, &validated.config_file)? {
        None => errors.push(format!(
            "EXTENSION token {place} not found (cse install writes it)"
        )),
        Some(token) => match super::mqtt::broker_login(&validated.config, &token).await {
            Ok(url) => ctx.say(format!(
                "EXTENSION token {place} logs in to the MQTT broker ({url})"
            )),
            Err(reason) => errors.push(format!(
                "EXTENSION token {place} does not log in to the MQTT broker ({reason})"
            )),
        },
    }
    Ok(())
}

async fn check_amqp(
    validated: &Validated,
    bus: &Arc<dyn Bus>,
    errors: &mut Vec<String>,
    ctx: &mut CliContext<'_>,
) -> Result<(), CliError> {
    let config = &validated.config;
    let exchange = &config.amqp.exchange;
    match bus
        .declare_exchange(
            exchange,
            ExchangeOptions {
                durable: true,
                passive: true,
            },
        )
        .await
    {
        Ok(()) => ctx.say(format!("AMQP exchange '{exchange}' exists")),
        Err(BusError::ExchangeNotFound(_)) => {
            errors.push(format!("AMQP exchange '{exchange}' does not exist"))
        }
        Err(e) => errors.push(format!(
            "Could not connect to AMQP exchange '{exchange}': {e}"
        )),
    }
    match lookup::find_registration(&validated.client).await? {
        Some(reg) => {
            let state = if reg.enabled { "enabled" } else { "disabled" };
            ctx.say(format!("CSE is registered to vCD and is currently {state}"));
            if reg.exchange != config.amqp.exchange || reg.routing_key != config.amqp.routing_key {
                errors.push(format!(
                    "CSE is registered with exchange '{}' and routing key '{}', the config file \
                     says '{}' and '{}'",
                    reg.exchange, reg.routing_key, config.amqp.exchange, config.amqp.routing_key
                ));
            }
        }
        None => errors.push("CSE is not registered to vCD".to_owned()),
    }
    Ok(())
}

async fn check_catalog(
    validated: &Validated,
    templates: &[TemplateConfig],
    errors: &mut Vec<String>,
    ctx: &mut CliContext<'_>,
) -> Result<(), CliError> {
    let config = &validated.config;
    let catalog_name = &config.broker.catalog;
    match lookup::find_catalog(&validated.client, &config.broker.org, catalog_name).await? {
        Some(catalog) => {
            ctx.say(format!("Found catalog '{catalog_name}'"));
            for template in templates {
                let item = &template.catalog_item;
                match lookup::find_item(&validated.client, &catalog, item).await? {
                    Some((_, Some(t))) if lookup::template_is_complete(&t) => ctx.say(format!(
                        "Found template '{item}' in catalog '{catalog_name}'"
                    )),
                    Some(_) => errors.push(format!(
                        "Template '{item}' in catalog '{catalog_name}' is not complete \
                         (run cse install -t {} again)",
                        template.name
                    )),
                    None => errors.push(format!(
                        "Template '{item}' not found in catalog '{catalog_name}'"
                    )),
                }
            }
        }
        None => errors.push(format!("Catalog '{catalog_name}' not found")),
    }
    Ok(())
}
