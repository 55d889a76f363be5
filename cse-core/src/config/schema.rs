//! The shape of `config.yaml` as data: for every section its keys, their types,
//! whether they are required (every 1.2.x key is) and the value rules beyond the
//! type. The validator walks a parsed YAML document against these tables.

use super::endpoints;
use super::limits::LIMIT_FIELDS;
use super::timeouts::TIMEOUT_FIELDS;

/// A rule on a string value; returns what the value should be when it fails.
pub(crate) type StrRule = fn(&str) -> Option<String>;

/// What a key holds.
pub(crate) enum Kind {
    /// A string, with an optional extra rule.
    Str(Option<StrRule>),
    /// A whole number within bounds (inclusive).
    Int { min: u64, max: u64 },
    /// `true`/`false`.
    Bool,
    /// A number of seconds (integer or decimal), strictly positive.
    Seconds,
    /// A nested mapping (a section).
    Section(Vec<Field>),
    /// A list of mappings, each checked against `item`; at least `min_len` entries.
    List {
        entry_kind: &'static str,
        item: Vec<Field>,
        min_len: usize,
    },
}

/// One key of a mapping.
pub(crate) struct Field {
    pub key: &'static str,
    pub kind: Kind,
    pub required: bool,
}

fn required(key: &'static str, kind: Kind) -> Field {
    Field {
        key,
        kind,
        required: true,
    }
}

fn optional(key: &'static str, kind: Kind) -> Field {
    Field {
        key,
        kind,
        required: false,
    }
}

fn any_str() -> Kind {
    Kind::Str(None)
}

fn non_empty() -> Kind {
    Kind::Str(Some(rule_non_empty))
}

fn port() -> Kind {
    Kind::Int { min: 1, max: 65535 }
}

fn rule_non_empty(value: &str) -> Option<String> {
    value
        .trim()
        .is_empty()
        .then(|| "value should not be empty".to_owned())
}

fn rule_api_version(value: &str) -> Option<String> {
    let ok = value.trim().eq_ignore_ascii_case("auto")
        || value
            .split_once('.')
            .is_some_and(|(major, minor)| is_digits(major) && is_digits(minor));
    (!ok).then(|| {
        "value should be a vCD API version such as '29.0', or 'auto' to negotiate".to_owned()
    })
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

fn rule_vcd_host(value: &str) -> Option<String> {
    endpoints::parse_vcd_host(value, 443)
        .err()
        .map(|reason| format!("value should be a host name or an https:// URL of vCD ({reason})"))
}

fn rule_amqp_host(value: &str) -> Option<String> {
    (!endpoints::is_valid_host(value))
        .then(|| "value should be a host name or IP address".to_owned())
}

fn rule_ip_allocation_mode(value: &str) -> Option<String> {
    (!matches!(value, "pool" | "dhcp")).then(|| "value should be 'pool' or 'dhcp'".to_owned())
}

fn rule_node_root_password(value: &str) -> Option<String> {
    (!matches!(value, "generated" | "template")).then(|| {
        "value should be 'generated' (a password vCD generates for each VM) or 'template' (the template's admin_password, as in 1.2.x)".to_owned()
    })
}

fn rule_broker_type(value: &str) -> Option<String> {
    (value != "default")
        .then(|| "value should be 'default' (the only broker type supported)".to_owned())
}

fn rule_sha256(value: &str) -> Option<String> {
    let ok = value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit());
    (!ok).then(|| "value should be 64 hexadecimal characters (the OVA's sha256)".to_owned())
}

fn rule_ova_url(value: &str) -> Option<String> {
    let ok = url::Url::parse(value).is_ok_and(|url| match url.scheme() {
        "http" | "https" => url.host().is_some(),
        // A local OVA (`cse install` reads it in place).
        "file" => url.to_file_path().is_ok(),
        _ => false,
    });
    (!ok).then(|| "value should be an http://, https:// or file:// URL".to_owned())
}

fn amqp() -> Vec<Field> {
    vec![
        required("exchange", non_empty()),
        optional(
            "heartbeat",
            Kind::Int {
                min: u64::from(*super::model::AMQP_HEARTBEAT_RANGE.start()),
                max: u64::from(*super::model::AMQP_HEARTBEAT_RANGE.end()),
            },
        ),
        required("host", Kind::Str(Some(rule_amqp_host))),
        required("password", any_str()),
        required("port", port()),
        required("prefix", any_str()),
        required("routing_key", non_empty()),
        required("ssl", Kind::Bool),
        required("ssl_accept_all", Kind::Bool),
        required("username", non_empty()),
        required("vhost", non_empty()),
    ]
}

fn mqtt() -> Vec<Field> {
    vec![
        required("vendor", non_empty()),
        required("name", non_empty()),
        required("version", non_empty()),
        optional("token", any_str()),
        optional("token_file", non_empty()),
    ]
}

fn vcd() -> Vec<Field> {
    vec![
        optional("api_token", non_empty()),
        required("api_version", Kind::Str(Some(rule_api_version))),
        required("host", Kind::Str(Some(rule_vcd_host))),
        required("log", Kind::Bool),
        optional(
            "max_concurrent_requests",
            Kind::Int {
                min: 1,
                max: 10_000,
            },
        ),
        // Exactly one of `password` and `api_token` (checked across keys).
        optional("password", any_str()),
        required("port", port()),
        required("username", non_empty()),
        required("verify", Kind::Bool),
    ]
}

fn vcenter() -> Vec<Field> {
    vec![
        required("name", non_empty()),
        required("password", any_str()),
        required("username", non_empty()),
        required("verify", Kind::Bool),
    ]
}

fn service() -> Vec<Field> {
    vec![
        optional("enforce_authorization", Kind::Bool),
        required("listeners", Kind::Int { min: 1, max: 1000 }),
        optional(
            "max_operations",
            Kind::Int {
                min: 1,
                max: 100_000,
            },
        ),
        optional("prefetch", Kind::Int { min: 1, max: 65535 }),
        optional(
            "max_queued_operations",
            Kind::Int {
                min: 0,
                max: 1_000_000,
            },
        ),
    ]
}

fn template() -> Vec<Field> {
    vec![
        required("admin_password", any_str()),
        required("catalog_item", non_empty()),
        required("cleanup", Kind::Bool),
        required("cpu", Kind::Int { min: 1, max: 1024 }),
        required("description", any_str()),
        required(
            "mem",
            Kind::Int {
                min: 256,
                max: 16 * 1024 * 1024,
            },
        ),
        required("name", non_empty()),
        required("sha256_ova", Kind::Str(Some(rule_sha256))),
        required("source_ova", Kind::Str(Some(rule_ova_url))),
        required("source_ova_name", non_empty()),
        required("temp_vapp", non_empty()),
    ]
}

fn broker() -> Vec<Field> {
    vec![
        required("catalog", non_empty()),
        required("cse_msg_dir", any_str()),
        required("default_template", non_empty()),
        required(
            "ip_allocation_mode",
            Kind::Str(Some(rule_ip_allocation_mode)),
        ),
        required("network", non_empty()),
        required("org", non_empty()),
        required("storage_profile", non_empty()),
        required(
            "templates",
            Kind::List {
                entry_kind: "template",
                item: template(),
                min_len: 1,
            },
        ),
        required("type", Kind::Str(Some(rule_broker_type))),
        required("vdc", non_empty()),
        optional(
            "node_root_password",
            Kind::Str(Some(rule_node_root_password)),
        ),
    ]
}

fn timeouts() -> Vec<Field> {
    TIMEOUT_FIELDS
        .iter()
        .map(|field| optional(field.key, Kind::Seconds))
        .collect()
}

fn limits() -> Vec<Field> {
    LIMIT_FIELDS
        .iter()
        .map(|field| {
            optional(
                field.key,
                Kind::Int {
                    min: field.min,
                    max: field.max,
                },
            )
        })
        .collect()
}

/// The whole file: the five 1.2.x sections plus the optional `timeouts`,
/// `limits` and `mqtt`. `amqp` is required unless `mqtt` is given (the
/// transport is one or the other; 1.2.x files have `amqp`).
pub(crate) fn root(has_mqtt: bool) -> Vec<Field> {
    let amqp_field = if has_mqtt { optional } else { required };
    vec![
        amqp_field("amqp", Kind::Section(amqp())),
        required("vcd", Kind::Section(vcd())),
        required(
            "vcs",
            Kind::List {
                entry_kind: "vc",
                item: vcenter(),
                min_len: 1,
            },
        ),
        required("service", Kind::Section(service())),
        required("broker", Kind::Section(broker())),
        optional("timeouts", Kind::Section(timeouts())),
        optional("limits", Kind::Section(limits())),
        optional("mqtt", Kind::Section(mqtt())),
    ]
}
