//! Validation of `config.yaml`: one test per class of problem, each checking the
//! exact message (file, section, key) and that every problem is reported at once.

use cse_core::config::{
    Config, ConfigError, ConfigProblem, IpAllocationMode, Seconds, ValueType, sample_config,
};
use serde_yaml::{Mapping, Value};

const FILE: &str = "c.yaml";

/// The sample config as a YAML value, edited by `edit`, then loaded.
fn load_edited(edit: impl FnOnce(&mut Mapping)) -> Result<Config, ConfigError> {
    let mut doc: Value = serde_yaml::from_str(&sample_config()).unwrap();
    edit(doc.as_mapping_mut().unwrap());
    Config::from_yaml_str(&serde_yaml::to_string(&doc).unwrap(), FILE)
}

/// The messages of the problems found after `edit`.
fn messages(edit: impl FnOnce(&mut Mapping)) -> Vec<String> {
    match load_edited(edit) {
        Ok(_) => panic!("expected the edited config to be invalid"),
        Err(error) => {
            let text = error.to_string();
            assert!(
                text.ends_with("Config file 'c.yaml' is invalid"),
                "last line names the file: {text}"
            );
            error.problems().iter().map(ToString::to_string).collect()
        }
    }
}

fn section<'a>(doc: &'a mut Mapping, name: &str) -> &'a mut Mapping {
    doc.get_mut(name).unwrap().as_mapping_mut().unwrap()
}

fn template(doc: &mut Mapping, index: usize) -> &mut Mapping {
    section(doc, "broker")
        .get_mut("templates")
        .unwrap()
        .as_sequence_mut()
        .unwrap()[index]
        .as_mapping_mut()
        .unwrap()
}

fn set(map: &mut Mapping, key: &str, yaml: &str) {
    map.insert(key.into(), serde_yaml::from_str(yaml).unwrap());
}

#[test]
fn the_sample_is_valid() {
    let config = Config::from_yaml_str(&sample_config(), FILE).unwrap();
    assert_eq!(config, cse_core::config::sample_model());
}

#[test]
fn missing_key_names_section_and_key() {
    let found = messages(|doc| {
        section(doc, "amqp").remove("host");
    });
    assert_eq!(
        found,
        ["Missing keys in config file 'c.yaml', 'amqp' section: {'host'}"]
    );
}

#[test]
fn several_missing_keys_are_sorted_in_one_message() {
    let found = messages(|doc| {
        let vcd = section(doc, "vcd");
        vcd.remove("verify");
        vcd.remove("api_version");
    });
    assert_eq!(
        found,
        ["Missing keys in config file 'c.yaml', 'vcd' section: {'api_version', 'verify'}"]
    );
}

#[test]
fn missing_section() {
    let found = messages(|doc| {
        doc.remove("vcs");
    });
    assert_eq!(found, ["Missing keys in config file 'c.yaml': {'vcs'}"]);
}

#[test]
fn missing_key_in_a_template_names_the_template() {
    let found = messages(|doc| {
        template(doc, 1).remove("sha256_ova");
    });
    assert_eq!(
        found,
        [
            "Missing keys in config file 'c.yaml', 'broker' section, template #2 ('ubuntu-16.04'): {'sha256_ova'}"
        ]
    );
}

#[test]
fn unknown_keys() {
    let found = messages(|doc| {
        set(section(doc, "amqp"), "hostname", "x");
        set(doc, "extra", "{}");
    });
    assert_eq!(
        found,
        [
            "Invalid keys in config file 'c.yaml': {'extra'}",
            "Invalid keys in config file 'c.yaml', 'amqp' section: {'hostname'}",
        ]
    );
}

#[test]
fn unknown_key_in_a_vcenter_entry() {
    let found = messages(|doc| {
        let vcs = doc.get_mut("vcs").unwrap().as_sequence_mut().unwrap();
        set(vcs[0].as_mapping_mut().unwrap(), "port", "443");
    });
    assert_eq!(
        found,
        ["Invalid keys in config file 'c.yaml', 'vcs' section, vc #1 ('vc1'): {'port'}"]
    );
}

#[test]
fn wrong_type_string_with_quoting_hint() {
    let found = messages(|doc| set(section(doc, "vcd"), "api_version", "29.0"));
    assert_eq!(
        found,
        [
            "config file 'c.yaml', 'vcd' section key 'api_version': value type should be 'string' (put the value in quotes)"
        ]
    );
}

#[test]
fn wrong_type_string_from_a_sequence_has_no_hint() {
    let found = messages(|doc| set(section(doc, "amqp"), "host", "[a, b]"));
    assert_eq!(
        found,
        ["config file 'c.yaml', 'amqp' section key 'host': value type should be 'string'"]
    );
}

#[test]
fn wrong_type_number() {
    let found = messages(|doc| set(section(doc, "amqp"), "port", "'5672'"));
    assert_eq!(
        found,
        ["config file 'c.yaml', 'amqp' section key 'port': value type should be 'number'"]
    );
}

#[test]
fn wrong_type_true_false() {
    let found = messages(|doc| set(section(doc, "amqp"), "ssl", "'yes'"));
    assert_eq!(
        found,
        ["config file 'c.yaml', 'amqp' section key 'ssl': value type should be 'true/false'"]
    );
}

#[test]
fn wrong_type_mapping() {
    let found = messages(|doc| set(doc, "service", "[5]"));
    assert_eq!(
        found,
        ["config file 'c.yaml' key 'service': value type should be 'mapping'"]
    );
}

#[test]
fn wrong_type_sequence() {
    let found = messages(|doc| set(doc, "vcs", "{name: vc1}"));
    assert_eq!(
        found,
        ["config file 'c.yaml' key 'vcs': value type should be 'sequence'"]
    );
}

#[test]
fn wrong_type_of_a_list_entry() {
    let found = messages(|doc| set(doc, "vcs", "[vc1]"));
    assert_eq!(
        found,
        ["config file 'c.yaml', 'vcs' section, vc #1: value type should be 'mapping'"]
    );
}

#[test]
fn empty_value_is_a_wrong_type() {
    let found = messages(|doc| set(section(doc, "amqp"), "exchange", "null"));
    assert_eq!(
        found,
        ["config file 'c.yaml', 'amqp' section key 'exchange': value type should be 'string'"]
    );
}

#[test]
fn wrong_type_problem_keeps_both_types() {
    let error = load_edited(|doc| set(section(doc, "amqp"), "port", "true")).unwrap_err();
    assert!(matches!(
        &error.problems()[0],
        ConfigProblem::WrongType {
            expected: ValueType::Number,
            found: ValueType::Bool,
            ..
        }
    ));
}

#[test]
fn default_template_not_listed() {
    let found = messages(|doc| set(section(doc, "broker"), "default_template", "centos-7"));
    assert_eq!(
        found,
        ["Default template 'centos-7' not found in listed templates"]
    );
}

#[test]
fn duplicate_template_names() {
    let found = messages(|doc| set(template(doc, 1), "name", "photon-v2"));
    assert_eq!(
        found,
        [
            "config file 'c.yaml', 'broker' section: template name 'photon-v2' is listed more than once (templates #1, #2)"
        ]
    );
}

#[test]
fn duplicate_vcenter_names() {
    let found = messages(|doc| {
        let vcs = doc.get_mut("vcs").unwrap().as_sequence_mut().unwrap();
        set(vcs[1].as_mapping_mut().unwrap(), "name", "vc1");
    });
    assert_eq!(
        found,
        [
            "config file 'c.yaml', 'vcs' section: vc name 'vc1' is listed more than once (vcs #1, #2)"
        ]
    );
}

#[test]
fn listeners_must_be_at_least_one() {
    let found = messages(|doc| set(section(doc, "service"), "listeners", "0"));
    assert_eq!(
        found,
        [
            "config file 'c.yaml', 'service' section key 'listeners': value should be between 1 and 1000"
        ]
    );
}

#[test]
fn whole_numbers_only() {
    let found = messages(|doc| set(section(doc, "amqp"), "port", "5672.5"));
    assert_eq!(
        found,
        ["config file 'c.yaml', 'amqp' section key 'port': value should be a whole number"]
    );
}

#[test]
fn ports_are_in_range() {
    let found = messages(|doc| {
        set(section(doc, "amqp"), "port", "70000");
        set(section(doc, "vcd"), "port", "-1");
    });
    assert_eq!(
        found,
        [
            "config file 'c.yaml', 'amqp' section key 'port': value should be between 1 and 65535",
            "config file 'c.yaml', 'vcd' section key 'port': value should be between 1 and 65535",
        ]
    );
}

#[test]
fn ip_allocation_mode_is_pool_or_dhcp() {
    let found = messages(|doc| set(section(doc, "broker"), "ip_allocation_mode", "manual"));
    assert_eq!(
        found,
        [
            "config file 'c.yaml', 'broker' section key 'ip_allocation_mode': value should be 'pool' or 'dhcp'"
        ]
    );
    let config = load_edited(|doc| set(section(doc, "broker"), "ip_allocation_mode", "dhcp"));
    assert_eq!(
        config.unwrap().broker.ip_allocation_mode,
        IpAllocationMode::Dhcp
    );
}

#[test]
fn sha256_is_64_hex_characters() {
    let found = messages(|doc| set(template(doc, 0), "sha256_ova", "cb51e4b6"));
    assert_eq!(
        found,
        [
            "config file 'c.yaml', 'broker' section, template #1 ('photon-v2') key 'sha256_ova': value should be 64 hexadecimal characters (the OVA's sha256)"
        ]
    );
    let found = messages(|doc| set(template(doc, 0), "sha256_ova", &"g".repeat(64)));
    assert_eq!(found.len(), 1);
}

#[test]
fn template_values() {
    let found = messages(|doc| {
        let t = template(doc, 0);
        set(t, "source_ova", "photon.ova");
        set(t, "mem", "2");
        set(t, "cpu", "0");
        set(t, "catalog_item", "''");
    });
    let at = "config file 'c.yaml', 'broker' section, template #1 ('photon-v2')";
    assert_eq!(
        found,
        [
            format!("{at} key 'catalog_item': value should not be empty"),
            format!("{at} key 'cpu': value should be between 1 and 1024"),
            format!("{at} key 'mem': value should be between 256 and 16777216"),
            format!("{at} key 'source_ova': value should be an http://, https:// or file:// URL"),
        ]
    );
}

#[test]
fn broker_type_is_default() {
    let found = messages(|doc| set(section(doc, "broker"), "type", "pks"));
    assert_eq!(
        found,
        [
            "config file 'c.yaml', 'broker' section key 'type': value should be 'default' (the only broker type supported)"
        ]
    );
}

#[test]
fn at_least_one_template_and_vcenter() {
    let found = messages(|doc| {
        set(doc, "vcs", "[]");
        set(section(doc, "broker"), "templates", "[]");
    });
    assert_eq!(
        found,
        [
            "config file 'c.yaml' key 'vcs': value should list at least 1 vc",
            "config file 'c.yaml', 'broker' section key 'templates': value should list at least 1 template",
            "Default template 'photon-v2' not found in listed templates",
        ]
    );
}

#[test]
fn vcd_host_and_api_version_values() {
    let found = messages(|doc| {
        let vcd = section(doc, "vcd");
        set(vcd, "host", "ftp://vcd.example.com");
        set(vcd, "api_version", "latest");
    });
    assert_eq!(
        found,
        [
            "config file 'c.yaml', 'vcd' section key 'api_version': value should be a vCD API version such as '29.0', or 'auto' to negotiate",
            "config file 'c.yaml', 'vcd' section key 'host': value should be a host name or an https:// URL of vCD (scheme 'ftp' is not https or http)",
        ]
    );
}

#[test]
fn api_version_auto_and_an_api_token_in_place_of_the_password() {
    let config = load_edited(|doc| {
        let vcd = section(doc, "vcd");
        set(vcd, "api_version", "auto");
        vcd.remove("password");
        set(vcd, "api_token", "refresh-token-of-the-provider");
    })
    .unwrap();
    assert_eq!(config.vcd.api_version, "auto");
    assert_eq!(config.vcd.password, None);
    let token = config.vcd.api_token.clone().unwrap();
    assert_eq!(token.expose(), "refresh-token-of-the-provider");
    assert!(!format!("{config:?}").contains("refresh-token-of-the-provider"));
    // Written back, the token is there and no password key appears.
    let text = cse_core::config::render(&config);
    assert!(
        text.contains("api_token: refresh-token-of-the-provider"),
        "{text}"
    );
    let vcd_section = text
        .split("\nvcd:")
        .nth(1)
        .and_then(|rest| rest.split("\nvcs:").next())
        .unwrap();
    assert!(!vcd_section.contains("\n  password:"), "{vcd_section}");
    assert_eq!(Config::from_yaml_str(&text, FILE).unwrap(), config);
}

#[test]
fn exactly_one_of_password_and_api_token() {
    let neither = messages(|doc| {
        section(doc, "vcd").remove("password");
    });
    assert_eq!(
        neither,
        [
            "config file 'c.yaml', 'vcd' section: exactly one of the keys 'password' or 'api_token' is required (none is given)"
        ]
    );
    let both = messages(|doc| set(section(doc, "vcd"), "api_token", "t0ken-both"));
    assert_eq!(
        both,
        [
            "config file 'c.yaml', 'vcd' section: exactly one of the keys 'password' or 'api_token' is required ('password' and 'api_token' are all given)"
        ]
    );
    let empty = messages(|doc| {
        let vcd = section(doc, "vcd");
        vcd.remove("password");
        set(vcd, "api_token", "''");
    });
    assert_eq!(
        empty,
        ["config file 'c.yaml', 'vcd' section key 'api_token': value should not be empty"]
    );
}

#[test]
fn amqp_host_value() {
    let found = messages(|doc| set(section(doc, "amqp"), "host", "amqp://rabbit"));
    assert_eq!(
        found,
        [
            "config file 'c.yaml', 'amqp' section key 'host': value should be a host name or IP address"
        ]
    );
}

#[test]
fn new_optional_keys_default_and_can_be_set() {
    let config = load_edited(|doc| {
        let service = section(doc, "service");
        service.remove("enforce_authorization");
        service.remove("max_operations");
        service.remove("prefetch");
        section(doc, "vcd").remove("max_concurrent_requests");
        doc.remove("timeouts");
    })
    .unwrap();
    assert!(!config.service.enforce_authorization);
    assert_eq!(
        config.vcd.max_concurrent_requests,
        cse_core::config::DEFAULT_MAX_CONCURRENT_REQUESTS
    );
    assert_eq!(config.service.prefetch, cse_core::config::DEFAULT_PREFETCH);
    assert_eq!(config.timeouts, cse_core::config::Timeouts::default());

    let config = load_edited(|doc| {
        set(section(doc, "service"), "enforce_authorization", "true");
        set(doc, "timeouts", "{script: 0.5, vcd_task: 60}");
    })
    .unwrap();
    assert!(config.service.enforce_authorization);
    assert_eq!(config.timeouts.script, Seconds::from_millis(500));
    assert_eq!(config.timeouts.vcd_task, Seconds::from_secs(60));
    assert_eq!(config.timeouts.tools_ready, Seconds::from_secs(600));
}

#[test]
fn timeout_values() {
    let found = messages(|doc| {
        set(
            doc,
            "timeouts",
            "{script: 0, tools_ready: -5, vcd_task: soon, lease: 3, broker_reconnect_min: 60}",
        )
    });
    let at = "config file 'c.yaml', 'timeouts' section";
    assert_eq!(
        found,
        [
            format!("Invalid keys in {at}: {{'lease'}}"),
            format!(
                "{at} key 'script': value should be a number of seconds from 0.001 to 31536000"
            ),
            format!(
                "{at} key 'tools_ready': value should be a number of seconds from 0.001 to 31536000"
            ),
            format!("{at} key 'vcd_task': value type should be 'number'"),
            format!(
                "{at} key 'broker_reconnect_min': value should not exceed broker_reconnect_max (30)"
            ),
        ]
    );
}

#[test]
fn empty_document_misses_every_section() {
    let error = Config::from_yaml_str("", FILE).unwrap_err();
    assert_eq!(
        error.to_string(),
        "Missing keys in config file 'c.yaml': {'amqp', 'broker', 'service', 'vcd', 'vcs'}\n\
         config file 'c.yaml': no transport: add an 'amqp' section (RabbitMQ, as in 1.2.x) or an \
         'mqtt' section (vCD's MQTT extension bus, vCD 10.2+)\n\
         Config file 'c.yaml' is invalid"
    );
}

#[test]
fn document_that_is_not_a_mapping() {
    let error = Config::from_yaml_str("- a\n- b\n", FILE).unwrap_err();
    assert_eq!(
        error.problems()[0].to_string(),
        "config file 'c.yaml': value type should be 'mapping'"
    );
}

#[test]
fn syntax_error_names_file_and_line() {
    let error = Config::from_yaml_str("amqp:\n  host: [a\nvcd: 1\n", FILE).unwrap_err();
    match &error {
        ConfigError::Syntax { file, line, .. } => {
            assert_eq!(file, FILE);
            assert!(line.is_some());
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
    let text = error.to_string();
    assert!(
        text.starts_with("Config file 'c.yaml' is not valid YAML: "),
        "{text}"
    );
    assert!(text.contains("line "), "{text}");
}

#[test]
fn duplicate_yaml_keys_are_a_syntax_error() {
    let error = Config::from_yaml_str("amqp: {}\namqp: {}\n", FILE).unwrap_err();
    assert!(matches!(error, ConfigError::Syntax { .. }), "{error}");
}

#[test]
fn yaml_merge_keys_are_honoured() {
    let text = sample_config().replace(
        "vcs:\n- name: vc1\n  password: my_secret_password\n  username: cse_user@vsphere.local\n  verify: false\n- name: vc2\n  password: my_secret_password\n  username: cse_user@vsphere.local\n  verify: false\n",
        "vcs:\n- &vc\n  name: vc1\n  password: my_secret_password\n  username: cse_user@vsphere.local\n  verify: false\n- <<: *vc\n  name: vc2\n",
    );
    assert!(text.contains("<<: *vc"));
    let config = Config::from_yaml_str(&text, FILE).unwrap();
    assert_eq!(config.vcs, cse_core::config::sample_model().vcs);
}

#[test]
fn unsupported_tags_are_reported() {
    let found = messages(|doc| set(section(doc, "amqp"), "host", "!custom rabbit"));
    assert_eq!(
        found,
        [
            "config file 'c.yaml', 'amqp' section key 'host': YAML tag '!custom' is not supported here"
        ]
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let error = load_edited(|doc| {
        section(doc, "amqp").remove("host");
        set(section(doc, "vcd"), "verify", "'no'");
        set(section(doc, "service"), "listeners", "0");
        set(section(doc, "broker"), "default_template", "centos-7");
        set(template(doc, 1), "name", "photon-v2");
        set(
            doc,
            "vcs",
            "[{name: vc1, password: x, username: u, verify: false, port: 1}]",
        );
    })
    .unwrap_err();
    assert_eq!(error.problems().len(), 6, "{error}");
}

#[test]
fn passwords_never_appear_in_debug_or_errors() {
    let config = Config::from_yaml_str(&sample_config(), FILE).unwrap();
    let debug = format!("{config:?}");
    for secret in ["my_secret_password", "guest_os_admin_password"] {
        assert!(!debug.contains(secret), "{secret} leaked in Debug");
    }
    let error = load_edited(|doc| {
        set(section(doc, "vcd"), "password", "12345");
        set(section(doc, "amqp"), "password", "[hunter2]");
    })
    .unwrap_err();
    let text = format!("{error} {error:?}");
    assert!(
        !text.contains("12345") && !text.contains("hunter2"),
        "{text}"
    );
}

#[test]
fn lookups() {
    let config = Config::from_yaml_str(&sample_config(), FILE).unwrap();
    assert_eq!(config.default_template().unwrap().name, "photon-v2");
    assert_eq!(
        config.template("ubuntu-16.04").unwrap().temp_vapp,
        "ubuntu1604-temp"
    );
    assert!(config.template("centos").is_none());
    assert_eq!(
        config.broker.template_or_default(None).unwrap().name,
        "photon-v2"
    );
    assert_eq!(
        config.vcenter("vc2").unwrap().username,
        "cse_user@vsphere.local"
    );
    assert!(config.vcenter("vc3").is_none());
    assert_eq!(config.vcd.api_url().unwrap(), "https://vcd.vmware.com/api");
    assert_eq!(
        config.amqp.uri().unwrap().expose(),
        "amqp://guest:guest@amqp.vmware.com:5672/%2F"
    );
}

#[test]
fn an_empty_optional_section_means_defaults() {
    let text = format!(
        "{}\ntimeouts:\n  # script: 60\n",
        sample_config()
            .split("# Deadlines")
            .next()
            .unwrap()
            .trim_end()
    );
    let config = Config::from_yaml_str(&text, FILE).unwrap();
    assert_eq!(config.timeouts, cse_core::config::Timeouts::default());
    // A required section cannot be empty.
    let found = messages(|doc| set(doc, "service", "null"));
    assert_eq!(
        found,
        ["config file 'c.yaml' key 'service': value type should be 'mapping'"]
    );
}

#[test]
fn warnings_for_risky_but_valid_settings() {
    let config = Config::from_yaml_str(&sample_config(), FILE).unwrap();
    let warnings = config.warnings();
    assert_eq!(
        warnings,
        [
            "InsecureRequestWarning: Unverified HTTPS request is being made. Adding certificate verification is strongly advised.",
            "vCenter 'vc1': TLS certificate verification is disabled (verify: false)",
            "vCenter 'vc2': TLS certificate verification is disabled (verify: false)",
        ]
    );
    let config = load_edited(|doc| {
        set(section(doc, "vcd"), "verify", "true");
        for vc in doc.get_mut("vcs").unwrap().as_sequence_mut().unwrap() {
            set(vc.as_mapping_mut().unwrap(), "verify", "true");
        }
        set(doc, "timeouts", "{extension_reply: 12}");
    })
    .unwrap();
    assert_eq!(
        config.warnings(),
        [
            "timeouts.extension_reply (12 s) is not below vCD's default extensibility.timeout (10 s): raise extensibility.timeout on the vCD cells or synchronous requests may end in 504"
        ]
    );
}

#[test]
fn amqp_heartbeat_defaults_to_ten_seconds_and_is_bounded() {
    // A 1.2.x config has no `heartbeat`: 10 s, and the key is not written back.
    let config = load_edited(|_| {}).unwrap();
    assert_eq!(config.amqp.heartbeat, 10);
    assert_eq!(
        config.amqp.heartbeat,
        cse_core::config::DEFAULT_AMQP_HEARTBEAT
    );
    assert!(!sample_config().contains("heartbeat"));

    let config = load_edited(|doc| set(section(doc, "amqp"), "heartbeat", "3")).unwrap();
    assert_eq!(config.amqp.heartbeat, 3);
    assert!(config.to_yaml().contains("heartbeat: 3"));

    let found = messages(|doc| set(section(doc, "amqp"), "heartbeat", "0"));
    assert_eq!(
        found,
        ["config file 'c.yaml', 'amqp' section key 'heartbeat': value should be between 1 and 300"]
    );
    let found = messages(|doc| set(section(doc, "amqp"), "heartbeat", "301"));
    assert_eq!(
        found,
        ["config file 'c.yaml', 'amqp' section key 'heartbeat': value should be between 1 and 300"]
    );
}
