//! Install step 3: the `cse` API extension (name and namespace `cse`, the
//! config's exchange and routing key, the three `/api/cse` URL filters) and the
//! two rights CSE 1.2.6+ registers. A registration with a stale exchange or
//! routing key is updated (1.2.5 left it stale).

use cse_core::vcd::{ExtensionService, ExtensionServices, HasLinks, Right, VmwExtension, media};

use super::Mode;
use crate::cli::CliContext;
use crate::cli::check::Validated;
use crate::cli::error::CliError;
use crate::cli::lookup;
use cse_vcd::vcd::{Client, find_link, links_of};

/// Registers (or updates) the extension when `mode` allows it.
pub async fn ensure(
    validated: &Validated,
    mode: Mode,
    ctx: &mut CliContext<'_>,
) -> Result<(), CliError> {
    if mode == Mode::Skip {
        ctx.say("Skipping extension registration (--ext skip)");
        return Ok(());
    }
    let client = &validated.client;
    let amqp = &validated.config.amqp;
    let wanted = ExtensionService::cse(&amqp.routing_key, &amqp.exchange);
    let service_href = match lookup::find_registration(client).await? {
        Some(reg) => {
            ctx.say(format!(
                "Found 'cse' extension on vCD, enabled={}",
                reg.enabled
            ));
            if reg.exchange != amqp.exchange || reg.routing_key != amqp.routing_key {
                let question = format!(
                    "The 'cse' extension uses exchange '{}' and routing key '{}'; update it to \
                     '{}' and '{}'?",
                    reg.exchange, reg.routing_key, amqp.exchange, amqp.routing_key
                );
                if mode == Mode::Config
                    || ctx
                        .prompter
                        .confirm(&question, "pass --ext config to update it, or --yes")?
                {
                    let mut update = wanted.clone();
                    update.enabled = reg.enabled;
                    update.api_filters = None;
                    client.put_doc(&reg.href, &update).await?;
                    ctx.say("Updated the 'cse' extension registration");
                }
            }
            reg.href
        }
        None => {
            if mode == Mode::Prompt
                && !ctx.prompter.confirm(
                    "Register CSE as the 'cse' API extension of vCD?",
                    "pass --ext config to register it, --ext skip to leave it, or --yes",
                )?
            {
                ctx.say("CSE not registered to vCD");
                return Ok(());
            }
            let href = register(client, &wanted).await?;
            ctx.say(format!(
                "Registered CSE to vCD (exchange '{}', routing key '{}', API filters {})",
                amqp.exchange,
                amqp.routing_key,
                cse_core::vcd::extension::CSE_URL_PATTERNS.join(", ")
            ));
            href
        }
    };
    add_rights(client, &service_href, ctx).await
}

async fn register(client: &Client, service: &ExtensionService) -> Result<String, CliError> {
    let extension_href = client.session().extension_href()?.to_owned();
    let extension: VmwExtension = client.get_doc(&extension_href).await?;
    let services_href = extension
        .services_href()
        .map(str::to_owned)
        .unwrap_or_else(|_| format!("{extension_href}/service"));
    let services: ExtensionServices = client.get_doc(&services_href).await?;
    let add = services
        .add_href()
        .map(str::to_owned)
        .unwrap_or(services_href);
    let answer = client.post_doc(&add, service).await?;
    let created: ExtensionService = answer.parse()?;
    created
        .href
        .ok_or_else(|| CliError::Missing("vCD answered the registration without an href".into()))
}

/// Registers CSE's two rights on the extension service at `service_href`
/// (kept when they exist).
pub async fn add_rights(
    client: &Client,
    service_href: &str,
    ctx: &mut CliContext<'_>,
) -> Result<(), CliError> {
    let service: ExtensionService = client.get_doc(service_href).await?;
    let Ok(rights_href) = service.link_href("rights", Some(media::ADMIN_RIGHTS)) else {
        ctx.say("vCD offers no rights for the 'cse' extension; skipping rights");
        return Ok(());
    };
    let rights = client.get(rights_href).await?;
    let links = links_of(&rights);
    let add = find_link(&links, "add", Some(media::ADMIN_RIGHT))
        .map(|l| l.href.clone())
        .unwrap_or_else(|| rights_href.to_owned());
    for right in [Right::cse_native_deploy(), Right::pks_deploy()] {
        let stored = format!("{{cse}}:{}", right.name);
        match client.post_doc(&add, &right).await {
            Ok(_) => ctx.say(format!("Registered right '{stored}'")),
            Err(e)
                if e.vcd_message()
                    .is_some_and(|m| m.contains("already exists")) =>
            {
                ctx.say(format!("Right '{stored}' already registered"))
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
