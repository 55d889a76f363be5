//! Validation of a parsed YAML document against the schema tables, collecting every
//! problem (missing keys, unknown keys, wrong types, bad values, cross-key rules)
//! with its location instead of stopping at the first, as 1.2.x did.

use std::collections::BTreeMap;

use serde_yaml::{Mapping, Value};

use super::error::{ConfigProblem, Location, ValueType};
use super::schema::{self, Field, Kind};
use super::timeouts::MAX_SECONDS;

/// Every problem of `doc` (the whole file), in file order.
pub(crate) fn validate(doc: &Value, file: &str) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    let at = Location::file(file);
    let empty = Mapping::new();
    let root = match doc {
        Value::Null => &empty,
        Value::Mapping(map) => map,
        other => {
            problems.push(ConfigProblem::WrongType {
                at,
                key: None,
                expected: ValueType::Mapping,
                found: value_type(other),
            });
            return problems;
        }
    };
    let fields = schema::root(root.contains_key("mqtt"));
    check_mapping(root, &fields, &at, &mut problems);
    check_cross_keys(root, &at, &mut problems);
    // Group problems by section in file order; the sort is stable, so within a
    // section structural problems stay ahead of cross-key ones.
    problems.sort_by_key(|problem| section_rank(problem, &fields));
    problems
}

fn section_rank(problem: &ConfigProblem, fields: &[Field]) -> usize {
    let at = match problem {
        ConfigProblem::MissingKeys { at, .. }
        | ConfigProblem::InvalidKeys { at, .. }
        | ConfigProblem::WrongType { at, .. }
        | ConfigProblem::InvalidValue { at, .. }
        | ConfigProblem::DefaultTemplateNotListed { at, .. }
        | ConfigProblem::DuplicateName { at, .. }
        | ConfigProblem::ExactlyOneOf { at, .. }
        | ConfigProblem::NoTransport { at }
        | ConfigProblem::Model { at, .. } => at,
        ConfigProblem::Permission(_) => return 0,
    };
    match &at.section {
        None => 0,
        Some(section) => fields
            .iter()
            .position(|f| f.key == section)
            .map_or(fields.len() + 1, |i| i + 1),
    }
}

/// The type name of a YAML value.
pub(crate) fn value_type(value: &Value) -> ValueType {
    match value {
        Value::Null => ValueType::Null,
        Value::Bool(_) => ValueType::Bool,
        Value::Number(_) => ValueType::Number,
        Value::String(_) => ValueType::String,
        Value::Sequence(_) => ValueType::Sequence,
        Value::Mapping(_) => ValueType::Mapping,
        Value::Tagged(tagged) => value_type(&tagged.value),
    }
}

fn key_text(key: &Value) -> String {
    match key {
        Value::String(s) => s.clone(),
        other => serde_yaml::to_string(other)
            .map(|s| s.trim_end().to_owned())
            .unwrap_or_else(|_| format!("{other:?}")),
    }
}

fn check_mapping(
    map: &Mapping,
    fields: &[Field],
    at: &Location,
    problems: &mut Vec<ConfigProblem>,
) {
    let present: Vec<String> = map.keys().map(key_text).collect();
    let mut missing: Vec<String> = fields
        .iter()
        .filter(|f| f.required && !present.iter().any(|k| k == f.key))
        .map(|f| f.key.to_owned())
        .collect();
    missing.sort();
    if !missing.is_empty() {
        problems.push(ConfigProblem::MissingKeys {
            at: at.clone(),
            keys: missing,
        });
    }
    let mut invalid: Vec<String> = present
        .iter()
        .filter(|k| !fields.iter().any(|f| f.key == k.as_str()))
        .cloned()
        .collect();
    invalid.sort();
    invalid.dedup();
    if !invalid.is_empty() {
        problems.push(ConfigProblem::InvalidKeys {
            at: at.clone(),
            keys: invalid,
        });
    }
    for field in fields {
        if let Some(value) = map.get(field.key) {
            check_value(value, field, at, problems);
        }
    }
}

fn wrong_type(at: &Location, key: &str, expected: ValueType, value: &Value) -> ConfigProblem {
    ConfigProblem::WrongType {
        at: at.clone(),
        key: Some(key.to_owned()),
        expected,
        found: value_type(value),
    }
}

fn invalid_value(at: &Location, key: &str, reason: impl Into<String>) -> ConfigProblem {
    ConfigProblem::InvalidValue {
        at: at.clone(),
        key: key.to_owned(),
        reason: reason.into(),
    }
}

fn check_value(value: &Value, field: &Field, at: &Location, problems: &mut Vec<ConfigProblem>) {
    let key = field.key;
    if let Value::Tagged(tagged) = value {
        problems.push(invalid_value(
            at,
            key,
            format!("YAML tag '{}' is not supported here", tagged.tag),
        ));
        return;
    }
    match &field.kind {
        Kind::Str(rule) => match value {
            Value::String(text) => {
                if let Some(reason) = rule.and_then(|rule| rule(text)) {
                    problems.push(invalid_value(at, key, reason));
                }
            }
            other => problems.push(wrong_type(at, key, ValueType::String, other)),
        },
        Kind::Int { min, max } => match value {
            Value::Number(number) => {
                let in_range = number.as_u64().is_some_and(|n| (*min..=*max).contains(&n));
                if number.is_f64() {
                    problems.push(invalid_value(at, key, "value should be a whole number"));
                } else if !in_range {
                    problems.push(invalid_value(
                        at,
                        key,
                        format!("value should be between {min} and {max}"),
                    ));
                }
            }
            other => problems.push(wrong_type(at, key, ValueType::Number, other)),
        },
        Kind::Bool => {
            if !value.is_bool() {
                problems.push(wrong_type(at, key, ValueType::Bool, value));
            }
        }
        Kind::Seconds => match value.as_f64() {
            Some(secs) => {
                if !(secs.is_finite() && secs >= 0.001 && secs <= MAX_SECONDS as f64) {
                    problems.push(invalid_value(
                        at,
                        key,
                        format!("value should be a number of seconds from 0.001 to {MAX_SECONDS}"),
                    ));
                }
            }
            None => problems.push(wrong_type(at, key, ValueType::Number, value)),
        },
        Kind::Section(fields) => match value {
            Value::Mapping(map) => check_mapping(map, fields, &at.section(key), problems),
            other => problems.push(wrong_type(at, key, ValueType::Mapping, other)),
        },
        Kind::List {
            entry_kind,
            item,
            min_len,
        } => match value {
            Value::Sequence(entries) => {
                if entries.len() < *min_len {
                    problems.push(invalid_value(
                        at,
                        key,
                        format!("value should list at least {min_len} {entry_kind}"),
                    ));
                }
                // A list that is itself a section (`vcs`) names the section; a list
                // inside a section (`broker.templates`) keeps the section's name.
                let base = if at.section.is_some() {
                    at.clone()
                } else {
                    at.section(key)
                };
                for (index, entry) in entries.iter().enumerate() {
                    let name = entry.get("name").and_then(Value::as_str).map(str::to_owned);
                    let entry_at = base.entry(entry_kind, index + 1, name);
                    match entry {
                        Value::Mapping(map) => check_mapping(map, item, &entry_at, problems),
                        other => problems.push(ConfigProblem::WrongType {
                            at: entry_at,
                            key: None,
                            expected: ValueType::Mapping,
                            found: value_type(other),
                        }),
                    }
                }
            }
            other => problems.push(wrong_type(at, key, ValueType::Sequence, other)),
        },
    }
}

/// Rules across keys: a transport section, default template listed, unique
/// names, backoff bounds ordered, one place for the MQTT token.
fn check_cross_keys(root: &Mapping, at: &Location, problems: &mut Vec<ConfigProblem>) {
    if !root.contains_key("amqp") && !root.contains_key("mqtt") {
        problems.push(ConfigProblem::NoTransport { at: at.clone() });
    }
    if let Some(Value::Mapping(mqtt)) = root.get("mqtt")
        && mqtt.contains_key("token")
        && mqtt.contains_key("token_file")
    {
        problems.push(invalid_value(
            &at.section("mqtt"),
            "token_file",
            "value should be absent when 'token' is set (the EXTENSION token is read from one place)",
        ));
    }
    if let Some(Value::Mapping(vcd)) = root.get("vcd") {
        let given: Vec<&'static str> = ["password", "api_token"]
            .into_iter()
            .filter(|key| vcd.contains_key(*key))
            .collect();
        if given.len() != 1 {
            problems.push(ConfigProblem::ExactlyOneOf {
                at: at.section("vcd"),
                keys: vec!["password", "api_token"],
                given,
            });
        }
    }
    if let Some(Value::Sequence(vcs)) = root.get("vcs") {
        check_unique_names(vcs, &at.section("vcs"), "vc", problems);
    }
    if let Some(Value::Mapping(broker)) = root.get("broker") {
        let broker_at = at.section("broker");
        if let Some(Value::Sequence(templates)) = broker.get("templates") {
            check_unique_names(templates, &broker_at, "template", problems);
            if let Some(Value::String(default)) = broker.get("default_template") {
                let listed = templates
                    .iter()
                    .any(|t| t.get("name").and_then(Value::as_str) == Some(default.as_str()));
                if !listed && !default.trim().is_empty() {
                    problems.push(ConfigProblem::DefaultTemplateNotListed {
                        at: broker_at.clone(),
                        name: default.clone(),
                    });
                }
            }
        }
    }
    if let Some(Value::Mapping(timeouts)) = root.get("timeouts") {
        let min = timeouts.get("broker_reconnect_min").and_then(Value::as_f64);
        let max = timeouts.get("broker_reconnect_max").and_then(Value::as_f64);
        let defaults = super::timeouts::Timeouts::default();
        let min = min.unwrap_or(defaults.broker_reconnect_min.duration().as_secs_f64());
        let max = max.unwrap_or(defaults.broker_reconnect_max.duration().as_secs_f64());
        if min > max {
            problems.push(invalid_value(
                &at.section("timeouts"),
                "broker_reconnect_min",
                format!("value should not exceed broker_reconnect_max ({max})"),
            ));
        }
    }
}

fn check_unique_names(
    entries: &[Value],
    at: &Location,
    kind: &'static str,
    problems: &mut Vec<ConfigProblem>,
) {
    let mut positions: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (index, entry) in entries.iter().enumerate() {
        if let Some(name) = entry.get("name").and_then(Value::as_str) {
            positions.entry(name).or_default().push(index + 1);
        }
    }
    let mut duplicates: Vec<(&str, Vec<usize>)> = positions
        .into_iter()
        .filter(|(_, places)| places.len() > 1)
        .collect();
    duplicates.sort_by_key(|(_, places)| places[0]);
    for (name, places) in duplicates {
        problems.push(ConfigProblem::DuplicateName {
            at: at.clone(),
            kind,
            name: name.to_owned(),
            positions: places,
        });
    }
}
