//! `cse install`: puts CSE into service on vCD, step by step, each step
//! idempotent so that a re-run after a crash finishes the job:
//!
//! 1. `exchange`: the AMQP exchange (direct, durable).
//! 2. `amqp_settings`: vCD's global AMQP settings, changed only when asked.
//! 3. `registration`: the `cse` API extension with its URL filters and rights.
//! 4. `catalog`: the template catalog, created (marked as ours) and published.
//! 5. per template: `ova` (obtain + sha256 + unpack), `upload` (into the catalog,
//!    with a progress bar), `template` (temp vApp with the init script,
//!    customization with the cust script, capture, cleanup).
//!
//! On an `mqtt` config steps 1–3 are instead: the MQTT API extension
//! (registered, or found and enabled), its `/api/cse` API filters and rights,
//! and its EXTENSION token (kept while it still logs in to the broker, else
//! the extension's tokens are revoked and a new one is written to the token
//! file, 0600 in a 0700 directory). No AMQP exchange and no AMQP settings.
//!
//! A temp vApp is trusted only when it carries the `cse.install.customized` marker
//! written after its customization succeeded; anything else is deleted and rebuilt.

pub mod amqp_settings;
pub mod catalog;
pub mod exchange;
pub mod ova;
pub mod progress;
pub mod registration;
pub mod scripts;
pub mod template;
pub mod upload;

use std::path::PathBuf;

use cse_core::config::{MqttConfig, MqttTokenSource, Transport};

use super::CliContext;
use super::check::{self, Validated};
use super::error::CliError;
use super::mqtt;
use super::prompt::{AssumeYes, Prompter};

/// What to do about a setting that may already exist in vCD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// Ask before changing anything.
    Prompt,
    /// Leave vCD as it is.
    Skip,
    /// Apply the config file without asking.
    Config,
}

/// Arguments of `cse install`.
#[derive(Debug, Clone, clap::Args)]
pub struct InstallArgs {
    /// Config file (default: $CSE_CONFIG, else config.yaml).
    #[arg(
        short = 'c',
        long = "config",
        env = "CSE_CONFIG",
        default_value = "config.yaml"
    )]
    pub config: PathBuf,
    /// Template to build (`*` for all).
    #[arg(short = 't', long = "template", default_value = "*")]
    pub template: String,
    /// Rebuild the templates even when they exist.
    #[arg(short = 'u', long = "update")]
    pub update: bool,
    /// Keep the temporary vApp customized but not captured (needs --ssh-key).
    #[arg(short = 'n', long = "no-capture", requires = "ssh_key")]
    pub no_capture: bool,
    /// Public key file allowed to log in to the temporary vApp as root.
    #[arg(short = 'k', long = "ssh-key")]
    pub ssh_key: Option<PathBuf>,
    /// vCD's global AMQP settings: prompt before changing them, skip, or set them from the config.
    #[arg(short = 'a', long = "amqp", value_enum, default_value = "prompt")]
    pub amqp: Mode,
    /// The `cse` extension registration: prompt, skip, or register/update from the config.
    #[arg(short = 'e', long = "ext", value_enum, default_value = "prompt")]
    pub ext: Mode,
    /// Answer yes to every question.
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
}

/// Runs `cse install`.
pub async fn run(args: &InstallArgs, ctx: &mut CliContext<'_>) -> Result<(), CliError> {
    let mut yes = AssumeYes;
    let ssh_key = match &args.ssh_key {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| CliError::io(format!("reading ssh key '{}'", path.display()), e))?
                .trim()
                .to_owned(),
        ),
        None => None,
    };
    let validated = check::validate(&args.config, ctx).await?;
    let templates = check::select_templates(&validated.config, &args.template)?;
    if args.yes {
        let mut ctx = CliContext {
            out: &mut *ctx.out,
            err: &mut *ctx.err,
            prompter: &mut yes as &mut dyn Prompter,
            bus: ctx.bus,
            progress: ctx.progress,
            cache_dir: ctx.cache_dir.clone(),
        };
        install(args, &validated, &templates, ssh_key.as_deref(), &mut ctx).await
    } else {
        install(args, &validated, &templates, ssh_key.as_deref(), ctx).await
    }
}

async fn install(
    args: &InstallArgs,
    validated: &Validated,
    templates: &[cse_core::config::TemplateConfig],
    ssh_key: Option<&str>,
    ctx: &mut CliContext<'_>,
) -> Result<(), CliError> {
    let total = 4 + templates.len();
    let mut step = 0;
    let mut header = |ctx: &mut CliContext<'_>, what: &str| {
        step += 1;
        ctx.say(format!("[{step}/{total}] {what}"));
    };
    match validated.config.transport() {
        Transport::Amqp(_) => {
            header(ctx, "AMQP exchange");
            exchange::ensure(validated, ctx).await?;
            header(ctx, "vCD AMQP settings");
            amqp_settings::ensure(validated, args.amqp, args.yes, ctx).await?;
            header(ctx, "API extension registration");
            registration::ensure(validated, args.ext, ctx).await?;
        }
        Transport::Mqtt(mqtt) => {
            header(ctx, "MQTT API extension registration");
            if args.ext == Mode::Skip {
                ctx.say("Skipping extension registration (--ext skip)");
            } else {
                let client = &validated.client;
                let (_, service) = mqtt::ensure_registration(client, mqtt, ctx.out).await?;
                mqtt::ensure_filters(client, &service, ctx.out).await?;
                registration::add_rights(client, &service, ctx).await?;
            }
            header(ctx, "MQTT EXTENSION token");
            ensure_token(validated, mqtt, ctx).await?;
            header(ctx, "vCD AMQP settings");
            ctx.say("vCD AMQP settings not used (the transport is MQTT); left unchanged");
        }
    }
    header(ctx, "Template catalog");
    let catalog = catalog::ensure(validated, ctx).await?;
    let options = template::BuildOptions {
        update: args.update,
        no_capture: args.no_capture,
        ssh_key,
    };
    for t in templates {
        header(ctx, &format!("Template '{}'", t.name));
        template::ensure(validated, &catalog, t, &options, ctx).await?;
    }
    ctx.say("CSE installation completed");
    let _ = validated.client.logout().await;
    Ok(())
}

/// The EXTENSION token: one that still logs in is kept; otherwise the
/// extension's tokens are revoked and a new one is written to the token file.
/// An inline `mqtt.token` that does not log in is an error (install writes
/// only files).
async fn ensure_token(
    validated: &Validated,
    config: &MqttConfig,
    ctx: &mut CliContext<'_>,
) -> Result<(), CliError> {
    let place = mqtt::token_place(config, &validated.config_file);
    if let Some(token) = mqtt::read_token(config, &validated.config_file)? {
        match mqtt::broker_login(&validated.config, &token).await {
            Ok(_) => {
                ctx.say(format!(
                    "EXTENSION token {place} logs in to the MQTT broker; kept"
                ));
                return Ok(());
            }
            Err(reason) => ctx.say(format!(
                "EXTENSION token {place} does not log in to the MQTT broker ({reason})"
            )),
        }
    }
    let MqttTokenSource::File(path) = config.token_source(&validated.config_file) else {
        return Err(CliError::Missing(
            "mqtt.token does not log in to the MQTT broker: remove it from the config file \
             so that cse install writes a new token to mqtt.token_file"
                .into(),
        ));
    };
    let client = &validated.client;
    let Some(registration) = mqtt::find(client, config).await? else {
        return Err(CliError::Missing(format!(
            "MQTT API extension '{}' is not registered to vCD (run cse install without \
             --ext skip)",
            config.triplet()
        )));
    };
    let revoked = mqtt::revoke_tokens(client, config).await?;
    if revoked > 0 {
        ctx.say(format!(
            "Revoked {revoked} EXTENSION token(s) of '{}'",
            config.triplet()
        ));
    }
    let token = mqtt::create_token(client, &registration.id).await?;
    mqtt::write_token(&path, &token)?;
    ctx.say(format!(
        "Created the EXTENSION token of '{}' and wrote it to {place} (0600)",
        config.triplet()
    ));
    Ok(())
}
