//! Install step 2: vCD's global AMQP settings. They are shared by every extension
//! of the vCD installation, so they are changed only with `--amqp config` or after
//! a confirmed prompt: compare, test (`action/test`), then PUT.

use cse_core::config::Config;
use cse_core::vcd::{AmqpSettings, AmqpSettingsTest, VcdDocument};

use super::Mode;
use crate::cli::CliContext;
use crate::cli::check::Validated;
use crate::cli::error::CliError;

/// The settings the config file asks for (with the password, for test and PUT).
pub fn desired(config: &Config) -> AmqpSettings {
    AmqpSettings {
        host: config.amqp.host.clone(),
        port: config.amqp.port,
        username: config.amqp.username.clone(),
        password: Some(config.amqp.password.expose().to_owned()),
        exchange: config.amqp.exchange.clone(),
        vhost: config.amqp.vhost.clone(),
        use_ssl: config.amqp.ssl,
        ssl_accept_all: config.amqp.ssl_accept_all,
        prefix: config.amqp.prefix.clone(),
        ..AmqpSettings::default()
    }
}

/// The keys whose values differ between vCD and the config file.
pub fn differences(current: &AmqpSettings, wanted: &AmqpSettings) -> Vec<&'static str> {
    current
        .comparable()
        .iter()
        .zip(wanted.comparable().iter())
        .filter(|(a, b)| a.1 != b.1)
        .map(|(a, _)| a.0)
        .collect()
}

/// Brings vCD's AMQP settings in line with the config when `mode` allows it.
/// `--yes` does not answer this question: the settings are global to vCD, so
/// they change only with `--amqp config` or a yes typed at the terminal.
pub async fn ensure(
    validated: &Validated,
    mode: Mode,
    assume_yes: bool,
    ctx: &mut CliContext<'_>,
) -> Result<(), CliError> {
    if mode == Mode::Skip {
        ctx.say("Skipping AMQP configuration (--amqp skip)");
        return Ok(());
    }
    let client = &validated.client;
    let href = client.api_url("admin/extension/settings/amqp");
    let current: AmqpSettings = client.get_doc(&href).await?;
    let wanted = desired(&validated.config);
    let differing = differences(&current, &wanted);
    if differing.is_empty() {
        ctx.say("vCD and config file AMQP settings are the same. Skipping AMQP configuration");
        return Ok(());
    }
    if mode == Mode::Prompt && assume_yes {
        ctx.say(format!(
            "vCD's global AMQP settings differ from the config file ({}); left unchanged \
             (--yes does not change them; use --amqp config)",
            differing.join(", ")
        ));
        return Ok(());
    }
    if mode == Mode::Prompt {
        let question = format!(
            "vCD's global AMQP settings differ from the config file ({}); overwrite them?",
            differing.join(", ")
        );
        let go = ctx.prompter.confirm(
            &question,
            "pass --amqp config to overwrite them, --amqp skip to keep them, or --yes",
        )?;
        if !go {
            ctx.say("vCD AMQP settings left unchanged");
            return Ok(());
        }
    }
    let answer = client
        .post_doc(&format!("{href}/action/test"), &wanted)
        .await?;
    let test = AmqpSettingsTest::from_xml(&answer.body)
        .map_err(|e| CliError::AmqpSettings(format!("unreadable test answer: {e}")))?;
    if !test.valid {
        return Err(CliError::AmqpSettings(format!(
            "vCD cannot reach the broker at {}:{} with these settings",
            wanted.host, wanted.port
        )));
    }
    client.put_doc(&href, &wanted).await?;
    ctx.say(format!(
        "Updated vCD AMQP configuration ({})",
        differing.join(", ")
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cse_core::vcd::VcdDocument;

    #[test]
    fn desired_settings_document() {
        let config = cse_core::config::sample_model();
        insta::assert_snapshot!(desired(&config).to_xml().unwrap());
    }

    #[test]
    fn differences_name_the_keys() {
        let config = cse_core::config::sample_model();
        let wanted = desired(&config);
        let mut current = wanted.clone();
        current.password = None;
        assert!(
            differences(&current, &wanted).is_empty(),
            "password is not compared"
        );
        current.prefix = "other".into();
        current.port = 5671;
        assert_eq!(differences(&current, &wanted), ["AmqpPort", "AmqpPrefix"]);
    }
}
