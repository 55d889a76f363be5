//! Property tests: any valid configuration written out (by `Config::to_yaml` or by
//! plain serde) loads back validated and equal; a generated configuration with one
//! key removed always reports exactly that key as missing.

use cse_core::config::{
    AmqpConfig, BrokerConfig, BrokerType, Config, ConfigProblem, IpAllocationMode, LIMIT_FIELDS,
    Limits, MAX_SECONDS, NodeRootPassword, Seconds, Secret, ServiceConfig, TemplateConfig,
    Timeouts, VcdConfig, VcenterConfig,
};
use proptest::collection::{btree_set, vec};
use proptest::prelude::*;

/// Any printable text, including YAML-significant characters and leading/trailing blanks.
fn any_text() -> BoxedStrategy<String> {
    prop_oneof![
        "[ -~]{0,24}",
        "[a-z]{1,8}\n[a-z ]{0,8}",
        Just("yes".to_owned()),
        Just("null".to_owned()),
        Just("29.0".to_owned()),
        Just("'quoted' \"double\" #hash: colon".to_owned()),
        "\\PC{0,12}",
    ]
    .boxed()
}

/// Text that is not blank.
fn non_blank() -> BoxedStrategy<String> {
    any_text()
        .prop_filter("not blank", |s| !s.trim().is_empty())
        .boxed()
}

fn name() -> BoxedStrategy<String> {
    "[a-z][a-z0-9._-]{0,12}".boxed()
}

fn host() -> BoxedStrategy<String> {
    prop_oneof![
        // A label starting `xn--` is punycode (IDNA): `xn----` is no host a URL can hold.
        "[a-z][a-z0-9-]{0,10}(\\.[a-z]{2,6}){0,2}"
            .prop_filter("not a punycode label", |h: &String| !h.starts_with("xn--")),
        (0u8..=255, 0u8..=255, 0u8..=255, 1u8..=254)
            .prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}")),
    ]
    .boxed()
}

fn vcd_host() -> BoxedStrategy<String> {
    (
        host(),
        prop_oneof![Just(""), Just("https://"), Just("http://")],
    )
        .prop_map(|(host, scheme)| format!("{scheme}{host}"))
        .boxed()
}

fn seconds() -> BoxedStrategy<Seconds> {
    prop_oneof![
        (1u64..=MAX_SECONDS).prop_map(Seconds::from_secs),
        (1u64..=MAX_SECONDS * 1000).prop_map(Seconds::from_millis),
    ]
    .boxed()
}

fn timeouts() -> BoxedStrategy<Timeouts> {
    vec(seconds(), 14)
        .prop_map(|v| {
            let (low, high) = if v[0] <= v[1] {
                (v[0], v[1])
            } else {
                (v[1], v[0])
            };
            Timeouts {
                broker_reconnect_max: high,
                broker_reconnect_min: low,
                duplicate_request_window: v[2],
                extension_reply: v[3],
                guest_ops_poll_interval: v[4],
                http_connect: v[5],
                http_request: v[6],
                lease_ttl: v[7],
                lease_claim_settle: v[13],
                script: v[8],
                shutdown_grace: v[9],
                tools_ready: v[10],
                vcd_task: v[11],
                vcd_task_poll_interval: v[12],
            }
        })
        .boxed()
}

fn limits() -> BoxedStrategy<Limits> {
    let fields: Vec<BoxedStrategy<u32>> = LIMIT_FIELDS
        .iter()
        .map(|f| (u32::try_from(f.min).unwrap()..=u32::try_from(f.max).unwrap()).boxed())
        .collect();
    fields
        .prop_map(|v| Limits {
            max_cluster_vms: v[0],
            max_cpu: v[1],
            max_delete_nodes: v[2],
            max_guest_file_bytes: v[3],
            max_memory_mb: v[4],
            max_name_length: v[5],
            max_node_count: v[6],
            max_request_body_bytes: v[7],
            max_ssh_key_length: v[8],
        })
        .boxed()
}

fn amqp() -> BoxedStrategy<AmqpConfig> {
    (
        (non_blank(), host(), any_text(), 1u16..=65535, any_text()),
        (
            non_blank(),
            any::<bool>(),
            any::<bool>(),
            non_blank(),
            non_blank(),
        ),
    )
        .prop_map(
            |(
                (exchange, host, password, port, prefix),
                (routing_key, ssl, ssl_accept_all, username, vhost),
            )| AmqpConfig {
                exchange,
                heartbeat: cse_core::config::DEFAULT_AMQP_HEARTBEAT,
                host,
                password: Secret::new(password),
                port,
                prefix,
                routing_key,
                ssl,
                ssl_accept_all,
                username,
                vhost,
            },
        )
        .boxed()
}

fn vcd() -> BoxedStrategy<VcdConfig> {
    (
        (1u32..100, 0u32..10),
        vcd_host(),
        any::<bool>(),
        any_text(),
        1u16..=65535,
        non_blank(),
        any::<bool>(),
    )
        .prop_map(
            |((major, minor), host, log, password, port, username, verify)| VcdConfig {
                api_token: None,
                api_version: format!("{major}.{minor}"),
                host,
                log,
                max_concurrent_requests: 32,
                password: Some(Secret::new(password)),
                port,
                username,
                verify,
            },
        )
        .boxed()
}

fn vcenters() -> BoxedStrategy<Vec<VcenterConfig>> {
    btree_set(name(), 1..4)
        .prop_flat_map(|names| {
            let count = names.len();
            (
                Just(names.into_iter().collect::<Vec<_>>()),
                vec((any_text(), non_blank(), any::<bool>()), count),
            )
                .prop_map(|(names, rest)| {
                    names
                        .into_iter()
                        .zip(rest)
                        .map(|(name, (password, username, verify))| VcenterConfig {
                            name,
                            password: Secret::new(password),
                            username,
                            verify,
                        })
                        .collect()
                })
        })
        .boxed()
}

fn template(name: String) -> BoxedStrategy<TemplateConfig> {
    (
        (
            any_text(),
            non_blank(),
            any::<bool>(),
            1u32..=1024,
            any_text(),
        ),
        (
            256u32..=65536,
            "[0-9a-fA-F]{64}",
            host(),
            non_blank(),
            non_blank(),
        ),
    )
        .prop_map(
            move |(
                (admin_password, catalog_item, cleanup, cpu, description),
                (mem, sha256_ova, ova_host, source_ova_name, temp_vapp),
            )| TemplateConfig {
                admin_password: Secret::new(admin_password),
                catalog_item,
                cleanup,
                cpu,
                description,
                mem,
                name: name.clone(),
                sha256_ova,
                source_ova: format!("https://{ova_host}/images/t.ova"),
                source_ova_name,
                temp_vapp,
            },
        )
        .boxed()
}

fn broker() -> BoxedStrategy<BrokerConfig> {
    btree_set(name(), 1..4)
        .prop_flat_map(|names| {
            let names: Vec<String> = names.into_iter().collect();
            let templates: Vec<_> = names.iter().cloned().map(template).collect();
            (templates, 0..names.len())
        })
        .prop_flat_map(|(templates, default_index)| {
            (
                Just(templates),
                Just(default_index),
                (non_blank(), any_text(), any::<bool>(), non_blank()),
                (non_blank(), non_blank(), non_blank()),
            )
        })
        .prop_map(
            |(
                templates,
                default_index,
                (catalog, cse_msg_dir, dhcp, network),
                (org, storage_profile, vdc),
            )| BrokerConfig {
                catalog,
                cse_msg_dir,
                default_template: templates[default_index].name.clone(),
                ip_allocation_mode: if dhcp {
                    IpAllocationMode::Dhcp
                } else {
                    IpAllocationMode::Pool
                },
                network,
                org,
                storage_profile,
                templates,
                broker_type: BrokerType::Default,
                vdc,
                node_root_password: if dhcp {
                    NodeRootPassword::Template
                } else {
                    NodeRootPassword::Generated
                },
            },
        )
        .boxed()
}

fn service() -> BoxedStrategy<ServiceConfig> {
    (
        any::<bool>(),
        1u32..=1000,
        1u32..=100_000,
        1u16..=65535,
        0u32..=1_000_000,
    )
        .prop_map(
            |(
                enforce_authorization,
                listeners,
                max_operations,
                prefetch,
                max_queued_operations,
            )| {
                ServiceConfig {
                    enforce_authorization,
                    listeners,
                    max_operations,
                    prefetch,
                    max_queued_operations,
                }
            },
        )
        .boxed()
}

fn config() -> BoxedStrategy<Config> {
    (
        amqp(),
        vcd(),
        vcenters(),
        service(),
        broker(),
        timeouts(),
        limits(),
    )
        .prop_map(
            |(amqp, vcd, vcs, service, broker, timeouts, limits)| Config {
                mqtt: None,
                amqp,
                vcd,
                vcs,
                service,
                broker,
                timeouts,
                limits,
            },
        )
        .boxed()
}

proptest! {
    // Filtered text is rejected about once in three cases: the rejects allowed grow with
    // the cases (proptest's default, 65,536, runs out near 200,000 cases).
    #![proptest_config(ProptestConfig {
        cases: crate::fuzz_cases(96),
        max_local_rejects: crate::fuzz_cases(96).saturating_mul(4).max(65_536),
        ..ProptestConfig::default()
    })]

    #[test]
    fn rendered_config_loads_back_equal(config in config()) {
        let text = config.to_yaml();
        let loaded = Config::from_yaml_str(&text, "gen.yaml");
        prop_assert!(loaded.is_ok(), "{}\n---\n{}", loaded.unwrap_err(), text);
        prop_assert_eq!(loaded.unwrap(), config);
    }

    #[test]
    fn serde_written_config_loads_back_equal(config in config()) {
        let text = serde_yaml::to_string(&config).unwrap();
        let loaded = Config::from_yaml_str(&text, "gen.yaml");
        prop_assert!(loaded.is_ok(), "{}\n---\n{}", loaded.unwrap_err(), text);
        prop_assert_eq!(loaded.unwrap(), config);
    }

    #[test]
    fn removing_a_required_key_reports_exactly_it(
        config in config(),
        section_index in 0usize..4,
        key_index in 0usize..16,
    ) {
        let sections = ["amqp", "vcd", "service", "broker"];
        let section = sections[section_index];
        let mut doc = serde_yaml::to_value(&config).unwrap();
        let map = doc.get_mut(section).unwrap().as_mapping_mut().unwrap();
        let optional = [
            "enforce_authorization",
            "max_concurrent_requests",
            "max_operations",
            "prefetch",
            "max_queued_operations",
            "node_root_password",
        ];
        let keys: Vec<String> = map
            .keys()
            .filter_map(|k| k.as_str().map(str::to_owned))
            .filter(|k| !optional.contains(&k.as_str()))
            .collect();
        let key = keys[key_index % keys.len()].clone();
        map.remove(key.as_str());
        let text = serde_yaml::to_string(&doc).unwrap();
        let error = Config::from_yaml_str(&text, "gen.yaml").unwrap_err();
        if section == "vcd" && key == "password" {
            // vcd.password is one of two alternatives (the other: vcd.api_token).
            let both = matches!(
                error.problems(),
                [ConfigProblem::ExactlyOneOf { keys, given, .. }]
                    if keys == &["password", "api_token"] && given.is_empty()
            );
            prop_assert!(both, "{}", error);
            return Ok(());
        }
        let missing: Vec<_> = error
            .problems()
            .iter()
            .filter_map(|p| match p {
                ConfigProblem::MissingKeys { at, keys } => Some((at.section.clone(), keys.clone())),
                _ => None,
            })
            .collect();
        prop_assert_eq!(missing, vec![(Some(section.to_owned()), vec![key.clone()])]);
        prop_assert_eq!(error.problems().len(), 1, "{}", error);
    }
}

/// Cases per property: this file's own number, or `CSE_FUZZ_CASES` when set (the
/// reliability suite's long form, `scripts/reliability.sh --long`).
fn fuzz_cases(default: u32) -> u32 {
    std::env::var("CSE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
