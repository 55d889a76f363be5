//! `cse uninstall`: removes what `cse install` created, after confirmation: the
//! templates and uploaded OVAs of the selected templates, their temp vApps, the
//! catalog when install created it and it is left empty, and the `cse` extension
//! registration (disabled, then deleted). vCD's global AMQP settings and the
//! broker's exchange are left alone (they may be shared). On an `mqtt` config
//! the MQTT API extension goes instead: disabled, its EXTENSION tokens revoked,
//! deleted, and the token file removed.

use std::path::PathBuf;

use cse_core::vcd::{ExtensionService, HasLinks};

use super::CliContext;
use super::check;
use super::error::CliError;
use super::install::catalog::created_by_install;
use super::lookup;

/// Arguments of `cse uninstall`.
#[derive(Debug, Clone, clap::Args)]
pub struct UninstallArgs {
    /// Config file (default: $CSE_CONFIG, else config.yaml).
    #[arg(
        short = 'c',
        long = "config",
        env = "CSE_CONFIG",
        default_value = "config.yaml"
    )]
    pub config: PathBuf,
    /// Template to remove (`*` for all; the catalog and registration only go with `*`).
    #[arg(short = 't', long = "template", default_value = "*")]
    pub template: String,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
}

/// Runs `cse uninstall`.
pub async fn run(args: &UninstallArgs, ctx: &mut CliContext<'_>) -> Result<(), CliError> {
    let validated = check::validate(&args.config, ctx).await?;
    let config = &validated.config;
    let client = &validated.client;
    let templates = check::select_templates(config, &args.template)?;
    let everything = args.template == "*";
    let names: Vec<&str> = templates.iter().map(|t| t.catalog_item.as_str()).collect();
    let question = if everything {
        format!(
            "Remove CSE from vCD: templates {}, their temp vApps and uploaded OVAs, catalog '{}' \
             if cse install created it, and the 'cse' extension registration?",
            names.join(", "),
            config.broker.catalog
        )
    } else {
        format!(
            "Remove template {} and its OVA and temp vApp?",
            names.join(", ")
        )
    };
    if !args.yes && !ctx.prompter.confirm(&question, "pass --yes to confirm")? {
        ctx.say("Nothing removed");
        return Ok(());
    }

    let catalog = lookup::find_catalog(client, &config.broker.org, &config.broker.catalog).await?;
    let vdc = lookup::find_vdc(client, &config.broker.org, &config.broker.vdc).await?;
    for template in &templates {
        if let Some(catalog) = &catalog {
            for name in [&template.catalog_item, &template.source_ova_name] {
                if let Some((item, _)) = lookup::find_item(client, catalog, name).await? {
                    lookup::delete_item(client, &item).await?;
                    ctx.say(format!("Deleted catalog item '{name}'"));
                }
            }
        }
        if let Some(href) = vdc
            .as_ref()
            .and_then(|vdc| lookup::vapp_href(vdc, &template.temp_vapp))
        {
            lookup::delete_vapp(client, &href).await?;
            ctx.say(format!("Deleted temp vApp '{}'", template.temp_vapp));
        }
    }
    if !everything {
        ctx.say("CSE templates removed");
        return Ok(());
    }
    if let Some(catalog) = &catalog {
        let catalog: cse_core::vcd::Catalog = client.get_doc(&catalog.href).await?;
        let empty = catalog
            .catalog_items
            .as_ref()
            .is_none_or(|items| items.items.is_empty());
        if !created_by_install(client, &catalog).await? {
            ctx.say(format!(
                "Kept catalog '{}' (not created by cse install)",
                catalog.name
            ));
        } else if !empty {
            ctx.say(format!(
                "Kept catalog '{}' (it holds other items)",
                catalog.name
            ));
        } else {
            let id = cse_core::vcd::entity_id(&catalog.href)
                .map_err(|e| CliError::Missing(format!("catalog href: {e}")))?;
            let answer = client
                .delete(&client.api_url(&format!("admin/catalog/{id}")))
                .await?;
            if let Some(task) = client.wait_for_answer(&answer).await? {
                task.into_result()?;
            }
            ctx.say(format!("Deleted catalog '{}'", catalog.name));
        }
    }
    if let Some(mqtt) = &config.mqtt {
        uninstall_mqtt(&validated, mqtt, ctx).await?;
        ctx.say("CSE uninstalled (vCD AMQP settings were left as they are)");
        let _ = client.logout().await;
        return Ok(());
    }
    match lookup::find_registration(client).await? {
        Some(reg) => {
            let mut service: ExtensionService = client.get_doc(&reg.href).await?;
            if service.enabled {
                service.enabled = false;
                let mut update = service.clone();
                update.links.clear();
                update.api_filters = None;
                client.put_doc(&reg.href, &update).await?;
            }
            let href = service
                .link_href("remove", None)
                .map(str::to_owned)
                .unwrap_or(reg.href);
            let answer = client.delete(&href).await?;
            if let Some(task) = client.wait_for_answer(&answer).await? {
                task.into_result()?;
            }
            ctx.say("Unregistered the 'cse' extension from vCD");
        }
        None => ctx.say("CSE is not registered to vCD"),
    }
    ctx.say("CSE uninstalled (vCD AMQP settings and the AMQP exchange were left as they are)");
    let _ = client.logout().await;
    Ok(())
}

async fn uninstall_mqtt(
    validated: &check::Validated,
    config: &cse_core::config::MqttConfig,
    ctx: &mut CliContext<'_>,
) -> Result<(), CliError> {
    let client = &validated.client;
    let triplet = config.triplet();
    let revoked = super::mqtt::revoke_tokens(client, config).await?;
    ctx.say(format!(
        "Revoked {revoked} EXTENSION token(s) of '{triplet}'"
    ));
    match super::mqtt::find(client, config).await? {
        Some(reg) => {
            super::mqtt::unregister(client, &reg).await?;
            ctx.say(format!(
                "Unregistered MQTT API extension '{triplet}' from vCD"
            ));
        }
        None => ctx.say(format!(
            "MQTT API extension '{triplet}' is not registered to vCD"
        )),
    }
    if let cse_core::config::MqttTokenSource::File(path) =
        config.token_source(&validated.config_file)
    {
        match std::fs::remove_file(&path) {
            Ok(()) => ctx.say(format!("Removed the token file '{}'", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(CliError::io(
                    format!("removing the token file '{}'", path.display()),
                    e,
                ));
            }
        }
    }
    Ok(())
}
