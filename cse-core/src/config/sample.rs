//! `cse sample`: the sample configuration with the original 1.2.x values, and the
//! renderer that writes any [`Config`] the way the original did (block-style YAML,
//! keys sorted within each section, sections separated by a blank line), followed
//! by the optional `timeouts` and `limits` sections with one comment per key.
//! `cse sample --transport mqtt` prints the same file with an `mqtt` section in
//! place of `amqp` (vCD's MQTT extension bus).

use serde::Serialize;
use serde_yaml::{Mapping, Value};

use super::limits::{LIMIT_FIELDS, Limits};
use super::model::DEFAULT_AMQP_HEARTBEAT;
use super::model::DEFAULT_MAX_CONCURRENT_REQUESTS;
use super::model::{
    AmqpConfig, BrokerConfig, BrokerType, Config, DEFAULT_MAX_OPERATIONS,
    DEFAULT_MAX_QUEUED_OPERATIONS, DEFAULT_PREFETCH, IpAllocationMode, MqttConfig,
    NodeRootPassword, ServiceConfig, TemplateConfig, VcdConfig, VcenterConfig,
};
use super::secret::Secret;
use super::timeouts::{TIMEOUT_FIELDS, Timeouts};

/// The text `cse sample` prints.
pub fn sample_config() -> String {
    render(&sample_model())
}

/// The text `cse sample --transport mqtt` prints.
pub fn sample_mqtt_config() -> String {
    render(&sample_mqtt_model())
}

/// The MQTT sample: the 1.2.x sample with an `mqtt` section (the extension
/// CSE 3.x registers, `VMware/cse/1.0.0`) and no `amqp` section; the
/// EXTENSION token is left to `cse install`, which writes it to the default
/// token file. MQTT needs vCD 10.2+, so `vcd.api_version` is `auto`.
pub fn sample_mqtt_model() -> Config {
    let mut config = sample_model();
    config.amqp = AmqpConfig::default();
    config.vcd.api_version = "auto".into();
    config.mqtt = Some(MqttConfig {
        vendor: "VMware".into(),
        name: "cse".into(),
        version: "1.0.0".into(),
        token: Secret::default(),
        token_file: None,
    });
    config
}

/// The sample configuration as a typed value (what `sample_config()` renders).
pub fn sample_model() -> Config {
    Config {
        mqtt: None,
        amqp: AmqpConfig {
            exchange: "vcdext".into(),
            heartbeat: DEFAULT_AMQP_HEARTBEAT,
            host: "amqp.vmware.com".into(),
            password: Secret::new("guest"),
            port: 5672,
            prefix: "vcd".into(),
            routing_key: "cse".into(),
            ssl: false,
            ssl_accept_all: false,
            username: "guest".into(),
            vhost: "/".into(),
        },
        vcd: VcdConfig {
            api_token: None,
            api_version: "29.0".into(),
            host: "vcd.vmware.com".into(),
            log: true,
            max_concurrent_requests: DEFAULT_MAX_CONCURRENT_REQUESTS,
            password: Some(Secret::new("my_secret_password")),
            port: 443,
            username: "administrator".into(),
            verify: false,
        },
        vcs: ["vc1", "vc2"]
            .into_iter()
            .map(|name| VcenterConfig {
                name: name.into(),
                password: Secret::new("my_secret_password"),
                username: "cse_user@vsphere.local".into(),
                verify: false,
            })
            .collect(),
        service: ServiceConfig {
            enforce_authorization: false,
            listeners: 5,
            max_operations: DEFAULT_MAX_OPERATIONS,
            prefetch: DEFAULT_PREFETCH,
            max_queued_operations: DEFAULT_MAX_QUEUED_OPERATIONS,
        },
        broker: BrokerConfig {
            catalog: "cse".into(),
            cse_msg_dir: "/tmp/cse".into(),
            default_template: "photon-v2".into(),
            ip_allocation_mode: IpAllocationMode::Pool,
            network: "admin_network".into(),
            org: "Admin".into(),
            storage_profile: "*".into(),
            templates: vec![photon_v2(), ubuntu_16_04()],
            broker_type: BrokerType::Default,
            vdc: "Catalog".into(),
            node_root_password: NodeRootPassword::Generated,
        },
        timeouts: Timeouts::default(),
        limits: Limits::default(),
    }
}

fn photon_v2() -> TemplateConfig {
    TemplateConfig {
        admin_password: Secret::new("guest_os_admin_password"),
        catalog_item: "photon-custom-hw11-2.0-304b817-k8s".into(),
        cleanup: true,
        cpu: 2,
        description: "PhotonOS v2\nDocker 17.06.0-4\nKubernetes 1.9.1\nweave 2.3.0".into(),
        mem: 2048,
        name: "photon-v2".into(),
        sha256_ova: "cb51e4b6d899c3588f961e73282709a0d054bb421787e140a1d80c24d4fd89e1".into(),
        source_ova:
            "http://dl.bintray.com/vmware/photon/2.0/GA/ova/photon-custom-hw11-2.0-304b817.ova"
                .into(),
        source_ova_name: "photon-custom-hw11-2.0-304b817.ova".into(),
        temp_vapp: "photon2-temp".into(),
    }
}

fn ubuntu_16_04() -> TemplateConfig {
    TemplateConfig {
        admin_password: Secret::new("guest_os_admin_password"),
        catalog_item: "ubuntu-16.04-server-cloudimg-amd64-k8s".into(),
        cleanup: true,
        cpu: 2,
        description: "Ubuntu 16.04\nDocker 18.03.0~ce\nKubernetes 1.10.1\nweave 2.3.0".into(),
        mem: 2048,
        name: "ubuntu-16.04".into(),
        sha256_ova: "3c1bec8e2770af5b9b0462e20b7b24633666feedff43c099a6fb1330fcc869a9".into(),
        source_ova: "https://cloud-images.ubuntu.com/releases/xenial/release-20180418/\
                     ubuntu-16.04-server-cloudimg-amd64.ova"
            .into(),
        source_ova_name: "ubuntu-16.04-server-cloudimg-amd64.ova".into(),
        temp_vapp: "ubuntu1604-temp".into(),
    }
}

/// Writes `config` as `config.yaml` text (passwords included: this is the file).
pub fn render(config: &Config) -> String {
    let transport = [
        config
            .has_amqp_section()
            .then(|| section("amqp", &config.amqp)),
        config.mqtt.as_ref().map(mqtt_section),
    ];
    let sections = transport.into_iter().flatten().chain([
        vcd_section(config),
        section("vcs", &config.vcs),
        section("service", &config.service),
        section("broker", &config.broker),
        timeouts_section(&config.timeouts),
        limits_section(&config.limits),
    ]);
    let mut text = sections.collect::<Vec<_>>().join("\n");
    let trimmed = text.trim_end().len();
    text.truncate(trimmed);
    text.push('\n');
    text
}

fn section<T: Serialize>(name: &str, value: &T) -> String {
    // Our model types serialise to plain YAML values; there is no input that can fail.
    let value = serde_yaml::to_value(value).expect("config model serialises to YAML");
    let mut map = Mapping::new();
    map.insert(Value::String(name.to_owned()), value);
    serde_yaml::to_string(&map).expect("a YAML mapping serialises")
}

/// The `mqtt` section (keys in the order of the identity, then the token),
/// with a comment on where the token lives when it is not inline.
fn mqtt_section(mqtt: &MqttConfig) -> String {
    let mut map = Mapping::new();
    for (key, value) in [
        ("name", &mqtt.name),
        ("vendor", &mqtt.vendor),
        ("version", &mqtt.version),
    ] {
        map.insert(Value::String(key.into()), Value::String(value.clone()));
    }
    if !mqtt.token.is_empty() {
        map.insert(
            Value::String("token".into()),
            Value::String(mqtt.token.expose().to_owned()),
        );
    }
    if let Some(file) = &mqtt.token_file {
        map.insert(
            Value::String("token_file".into()),
            Value::String(file.clone()),
        );
    }
    let mut root = Mapping::new();
    root.insert(Value::String("mqtt".into()), Value::Mapping(map));
    let text = serde_yaml::to_string(&root).expect("a YAML mapping serialises");
    let mut out = String::from(
        "# vCD's MQTT extension bus (vCD 10.2+), in place of 'amqp': the extension\n\
         # vendor/name/version `cse install` registers. Its EXTENSION token is kept in\n\
         # token_file (default cse-state/mqtt-token next to this file, written by\n\
         # `cse install`) or inline as token.\n",
    );
    out.push_str(&text);
    out
}

/// The `vcd` section, with comments on the keys that have alternatives.
fn vcd_section(config: &Config) -> String {
    let text = section("vcd", &config.vcd);
    let mut out = String::with_capacity(text.len() + 256);
    for line in text.lines() {
        if line.starts_with("  api_version:") {
            out.push_str(
                "  # 'auto': the highest API version both vCD and CSE-RS speak (29.0 to 39.0)\n",
            );
        }
        if line.starts_with("  password:") {
            out.push_str(
                "  # or, instead of password, api_token: an API token of the System org (vCD 10.3.1+)\n",
            );
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn timeouts_section(timeouts: &Timeouts) -> String {
    let mut text = String::from(
        "# Deadlines in seconds for every wait (optional; defaults shown)\ntimeouts:\n",
    );
    for ((key, value), field) in timeouts.entries().iter().zip(TIMEOUT_FIELDS) {
        text.push_str(&format!(
            "  # {}\n  {key}: {}\n",
            field.doc,
            value.to_yaml_number()
        ));
    }
    text
}

fn limits_section(limits: &Limits) -> String {
    let mut text = String::from(
        "# Largest values a tenant request may ask for (optional; defaults shown)\nlimits:\n",
    );
    for ((key, value), field) in limits.entries().iter().zip(LIMIT_FIELDS) {
        text.push_str(&format!("  # {}\n  {key}: {value}\n", field.doc));
    }
    text
}
