//! Transport selection in `config.yaml`: `amqp` (1.2.x) or `mqtt` (vCD's MQTT
//! extension bus). An MQTT-only file loads, a file with both serves on MQTT
//! and warns, a file with neither is refused with a message naming both keys;
//! where the EXTENSION token is read from; the MQTT sample.

use std::path::{Path, PathBuf};

use cse_core::config::{
    AmqpConfig, Config, ConfigProblem, MqttTokenSource, Transport, sample_config,
    sample_mqtt_config, sample_mqtt_model,
};
use serde_yaml::{Mapping, Value};

const FILE: &str = "c.yaml";

fn edited(text: &str, edit: impl FnOnce(&mut Mapping)) -> String {
    let mut doc: Value = serde_yaml::from_str(text).unwrap();
    edit(doc.as_mapping_mut().unwrap());
    serde_yaml::to_string(&doc).unwrap()
}

fn mqtt_section(doc: &mut Mapping) -> &mut Mapping {
    doc.get_mut("mqtt").unwrap().as_mapping_mut().unwrap()
}

#[test]
fn the_mqtt_sample_loads_without_an_amqp_section() {
    let text = sample_mqtt_config();
    assert!(
        !text.contains("\namqp:") && !text.starts_with("amqp:"),
        "{text}"
    );
    let config = Config::from_yaml_str(&text, FILE).unwrap();
    assert_eq!(config, sample_mqtt_model());
    assert_eq!(config.amqp, AmqpConfig::default());
    assert!(!config.has_amqp_section());
    let Transport::Mqtt(mqtt) = config.transport() else {
        panic!("an mqtt section selects MQTT");
    };
    assert_eq!(mqtt.triplet(), "VMware/cse/1.0.0");
    assert!(config.warnings().iter().all(|w| !w.contains("'amqp'")));
    // Rendering and loading again changes nothing.
    assert_eq!(config.to_yaml(), text);
}

#[test]
fn the_mqtt_sample_text() {
    insta::assert_snapshot!("sample_mqtt", sample_mqtt_config());
}

#[test]
fn the_1_2_sample_still_selects_amqp() {
    let config = Config::from_yaml_str(&sample_config(), FILE).unwrap();
    assert!(matches!(config.transport(), Transport::Amqp(a) if a.exchange == "vcdext"));
    assert!(config.has_amqp_section());
}

#[test]
fn both_sections_serve_on_mqtt_and_warn_that_amqp_is_ignored() {
    let mqtt = sample_mqtt_model().mqtt.unwrap();
    let text = edited(&sample_config(), |doc| {
        doc.insert("mqtt".into(), serde_yaml::to_value(&mqtt).unwrap());
    });
    let config = Config::from_yaml_str(&text, FILE).unwrap();
    assert!(matches!(config.transport(), Transport::Mqtt(m) if *m == mqtt));
    let warnings = config.warnings();
    assert!(
        warnings.iter().any(|w| w
            == "the 'amqp' section is ignored: the 'mqtt' section selects vCD's MQTT extension \
                bus (remove 'amqp' to silence this)"),
        "{warnings:?}"
    );
    // Both sections survive a round trip.
    let again = Config::from_yaml_str(&config.to_yaml(), FILE).unwrap();
    assert_eq!(again, config);
}

#[test]
fn neither_section_is_refused_naming_both_keys() {
    let text = edited(&sample_config(), |doc| {
        doc.remove("amqp");
    });
    let error = Config::from_yaml_str(&text, FILE).unwrap_err();
    assert_eq!(
        error.to_string(),
        "Missing keys in config file 'c.yaml': {'amqp'}\n\
         config file 'c.yaml': no transport: add an 'amqp' section (RabbitMQ, as in 1.2.x) or an \
         'mqtt' section (vCD's MQTT extension bus, vCD 10.2+)\n\
         Config file 'c.yaml' is invalid"
    );
    assert!(
        error
            .problems()
            .iter()
            .any(|p| matches!(p, ConfigProblem::NoTransport { .. }))
    );
}

#[test]
fn an_mqtt_section_is_checked_like_the_others() {
    let text = edited(&sample_mqtt_config(), |doc| {
        let mqtt = mqtt_section(doc);
        mqtt.remove("vendor");
        mqtt.insert("token".into(), "t0k3n".into());
        mqtt.insert("token_file".into(), "tok".into());
        mqtt.insert("exchange".into(), "x".into());
    });
    let error = Config::from_yaml_str(&text, FILE).unwrap_err();
    let problems: Vec<String> = error.problems().iter().map(ToString::to_string).collect();
    assert_eq!(
        problems,
        [
            "Missing keys in config file 'c.yaml', 'mqtt' section: {'vendor'}",
            "Invalid keys in config file 'c.yaml', 'mqtt' section: {'exchange'}",
            "config file 'c.yaml', 'mqtt' section key 'token_file': value should be absent when \
             'token' is set (the EXTENSION token is read from one place)",
        ]
    );
    assert!(!error.to_string().contains("t0k3n"), "no secret in errors");
}

#[test]
fn the_token_is_read_inline_or_from_a_file_next_to_the_config() {
    let mut mqtt = sample_mqtt_model().mqtt.unwrap();
    let config_file = Path::new("/etc/cse/config.yaml");
    assert_eq!(
        mqtt.token_source(config_file),
        MqttTokenSource::File(PathBuf::from("/etc/cse/cse-state/mqtt-token"))
    );
    mqtt.token_file = Some("tokens/cse".into());
    assert_eq!(
        mqtt.token_source(config_file),
        MqttTokenSource::File(PathBuf::from("/etc/cse/tokens/cse"))
    );
    mqtt.token_file = Some("/var/lib/cse/token".into());
    assert_eq!(
        mqtt.token_source(config_file),
        MqttTokenSource::File(PathBuf::from("/var/lib/cse/token"))
    );
    mqtt.token_file = None;
    mqtt.token = "inline".into();
    assert_eq!(mqtt.token_source(config_file), MqttTokenSource::Inline);
    assert_eq!(
        mqtt.token_source(Path::new("config.yaml")),
        MqttTokenSource::Inline
    );
}

#[test]
fn an_inline_token_with_odd_characters_is_written_and_read_back() {
    let mut config = sample_mqtt_model();
    if let Some(mqtt) = config.mqtt.as_mut() {
        mqtt.token = "tok: with # odd ' characters".into();
        mqtt.token_file = None;
    }
    let yaml = config.to_yaml();
    assert_eq!(yaml.matches("\nmqtt:").count(), 1, "{yaml}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    cse_core::config::write_private_file(&path, yaml.as_bytes()).unwrap();
    let back = Config::load(&path).unwrap();
    assert_eq!(back.mqtt, config.mqtt);
}
