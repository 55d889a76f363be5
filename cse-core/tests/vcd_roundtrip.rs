//! Property tests: for arbitrary values of the main documents, serialising and parsing back
//! gives the same value (`from_xml(to_xml(v)) == v`), including XML-special characters and
//! non-ASCII text in names, values and hrefs.

use cse_core::vcd::catalog::Entity;
use cse_core::vcd::extension::VmwExtension;
use cse_core::vcd::metadata::MetadataDomain;
use cse_core::vcd::ovf::{CoresPerSocket, HardwareItem, OvfEnvironment, RasdConnection};
use cse_core::vcd::params::{DeleteItem, Source};
use cse_core::vcd::query::{AdminServiceRecord, ApiFilterRecord, VAppRecord};
use cse_core::vcd::sections::{NetworkConfiguration, ParentNetwork};
use cse_core::vcd::task::{TaskOrganization, TaskOwner, TaskUser};
use cse_core::vcd::vapp::{
    MemoryResourceMb, StorageProfile, VCloudExtension, VimServerRef, VmSpecSection, VmVimInfo,
    VmVimObjectRef,
};
use cse_core::vcd::*;
use proptest::collection::vec;
use proptest::option::of;
use proptest::prelude::*;

/// Printable text including `<`, `>`, `&`, quotes and a few non-ASCII characters.
fn text() -> impl Strategy<Value = String> {
    "[ -~àéü€中]{0,12}"
}

fn opt_text() -> impl Strategy<Value = Option<String>> {
    of(text())
}

fn link() -> impl Strategy<Value = Link> {
    (text(), text(), opt_text(), opt_text()).prop_map(|(rel, href, media_type, name)| Link {
        rel,
        href,
        media_type,
        name,
    })
}

fn links() -> impl Strategy<Value = Vec<Link>> {
    vec(link(), 0..3)
}

macro_rules! reference_strategy {
    ($name:ident, $ty:ty) => {
        fn $name() -> impl Strategy<Value = $ty> {
            (text(), opt_text(), opt_text(), opt_text()).prop_map(|(href, id, name, media_type)| {
                <$ty>::from(Reference {
                    href,
                    id,
                    name,
                    media_type,
                })
            })
        }
    };
}

reference_strategy!(source, Source);
reference_strategy!(storage_profile, StorageProfile);
reference_strategy!(task_owner, TaskOwner);
reference_strategy!(task_user, TaskUser);
reference_strategy!(task_org, TaskOrganization);
reference_strategy!(entity, Entity);
reference_strategy!(vim_server_ref, VimServerRef);
reference_strategy!(parent_network, ParentNetwork);
reference_strategy!(delete_item, DeleteItem);

fn task_status() -> impl Strategy<Value = TaskStatus> {
    prop_oneof![
        Just(TaskStatus::Queued),
        Just(TaskStatus::PreRunning),
        Just(TaskStatus::Running),
        Just(TaskStatus::Success),
        Just(TaskStatus::Error),
        Just(TaskStatus::Canceled),
        Just(TaskStatus::Aborted),
    ]
}

fn error_document() -> impl Strategy<Value = VcdErrorDocument> {
    (opt_text(), opt_text(), opt_text(), opt_text()).prop_map(|(a, b, c, d)| VcdErrorDocument {
        major_error_code: a,
        minor_error_code: b,
        message: c,
        stack_trace: d,
    })
}

fn task() -> impl Strategy<Value = Task> {
    (
        (
            opt_text(),
            opt_text(),
            opt_text(),
            opt_text(),
            task_status(),
        ),
        (
            opt_text(),
            opt_text(),
            opt_text(),
            opt_text(),
            opt_text(),
            opt_text(),
        ),
        (
            links(),
            of(task_owner()),
            of(error_document()),
            of(task_user()),
        ),
        (of(task_org()), of(any::<u32>()), opt_text()),
    )
        .prop_map(
            |(
                (href, id, name, media_type, status),
                (operation, operation_name, service_namespace, start_time, end_time, expiry_time),
                (links, owner, error, user),
                (organization, progress, details),
            )| Task {
                href,
                id,
                name,
                media_type,
                status,
                operation,
                operation_name,
                service_namespace,
                start_time,
                end_time,
                expiry_time,
                links,
                owner,
                error,
                user,
                organization,
                progress,
                details,
            },
        )
}

fn typed_value() -> impl Strategy<Value = TypedValue> {
    (text(), text()).prop_map(|(xsi_type, value)| TypedValue { xsi_type, value })
}

fn metadata_entry() -> impl Strategy<Value = MetadataEntry> {
    (
        links(),
        of((opt_text(), text())
            .prop_map(|(visibility, domain)| MetadataDomain { visibility, domain })),
        text(),
        typed_value(),
    )
        .prop_map(|(links, domain, key, typed_value)| MetadataEntry {
            links,
            domain,
            key,
            typed_value,
        })
}

fn metadata() -> impl Strategy<Value = Metadata> {
    (opt_text(), opt_text(), links(), vec(metadata_entry(), 0..3)).prop_map(
        |(href, media_type, links, entries)| Metadata {
            href,
            media_type,
            links,
            entries,
        },
    )
}

fn network_connection() -> impl Strategy<Value = NetworkConnection> {
    (
        (text(), of(any::<bool>()), any::<u32>(), opt_text()),
        (of(any::<bool>()), opt_text(), opt_text(), opt_text()),
    )
        .prop_map(
            |(
                (network, needs_customization, index, ip_address),
                (is_connected, mac, mode, adapter),
            )| {
                NetworkConnection {
                    network,
                    needs_customization,
                    index,
                    ip_address,
                    is_connected,
                    mac_address: mac,
                    ip_address_allocation_mode: mode,
                    network_adapter_type: adapter,
                }
            },
        )
}

fn network_connection_section() -> impl Strategy<Value = NetworkConnectionSection> {
    (
        opt_text(),
        opt_text(),
        opt_text(),
        of(any::<u32>()),
        vec(network_connection(), 0..3),
        links(),
    )
        .prop_map(|(href, media_type, info, primary, connections, links)| {
            NetworkConnectionSection {
                href,
                media_type,
                info,
                primary_network_connection_index: primary,
                connections,
                links,
            }
        })
}

fn guest_customization_section() -> impl Strategy<Value = GuestCustomizationSection> {
    (
        (
            opt_text(),
            opt_text(),
            opt_text(),
            of(any::<bool>()),
            of(any::<bool>()),
        ),
        (
            opt_text(),
            of(any::<bool>()),
            of(any::<bool>()),
            of(any::<bool>()),
            of(any::<bool>()),
        ),
        (
            opt_text(),
            of(any::<bool>()),
            opt_text(),
            opt_text(),
            links(),
        ),
    )
        .prop_map(
            |(
                (href, media_type, info, enabled, change_sid),
                (vm_id, join, org_settings, pw_enabled, pw_auto),
                (password, reset, script, computer_name, links),
            )| GuestCustomizationSection {
                href,
                media_type,
                info,
                enabled,
                change_sid,
                virtual_machine_id: vm_id,
                join_domain_enabled: join,
                use_org_settings: org_settings,
                admin_password_enabled: pw_enabled,
                admin_password_auto: pw_auto,
                admin_password: password,
                reset_password_required: reset,
                customization_script: script,
                computer_name,
                links,
            },
        )
}

fn hardware_item() -> impl Strategy<Value = HardwareItem> {
    (
        (opt_text(), opt_text(), opt_text(), opt_text(), opt_text()),
        vec(
            (opt_text(), opt_text(), of(any::<bool>()), text()).prop_map(
                |(ip, mode, primary, network)| RasdConnection {
                    ip_address: ip,
                    ip_addressing_mode: mode,
                    primary_network_connection: primary,
                    network,
                },
            ),
            0..2,
        ),
        (
            opt_text(),
            opt_text(),
            of(any::<u32>()),
            opt_text(),
            any::<u32>(),
        ),
        (
            of(any::<u64>()),
            of((of(any::<bool>()), any::<u32>())
                .prop_map(|(required, cores)| CoresPerSocket { required, cores })),
        ),
    )
        .prop_map(
            |(
                (href, media_type, address, address_on_parent, allocation_units),
                connections,
                (description, element_name, instance_id, resource_sub_type, resource_type),
                (virtual_quantity, cores_per_socket),
            )| HardwareItem {
                href,
                media_type,
                address,
                address_on_parent,
                allocation_units,
                connections,
                description,
                element_name,
                instance_id,
                resource_sub_type,
                resource_type,
                virtual_quantity,
                cores_per_socket,
            },
        )
}

fn virtual_hardware_section() -> impl Strategy<Value = VirtualHardwareSection> {
    (
        opt_text(),
        opt_text(),
        opt_text(),
        vec(hardware_item(), 0..3),
    )
        .prop_map(|(href, media_type, info, items)| VirtualHardwareSection {
            href,
            media_type,
            info,
            items,
        })
}

fn vm() -> impl Strategy<Value = Vm> {
    let extension = (
        of(any::<bool>()),
        of(of((vim_server_ref(), text(), text()))),
    )
        .prop_map(|(required, info)| VCloudExtension {
            required,
            vm_vim_info: info.map(|object| VmVimInfo {
                vm_vim_object_ref: object.map(|(vim_server_ref, mo_ref, vim_object_type)| {
                    VmVimObjectRef {
                        vim_server_ref,
                        mo_ref,
                        vim_object_type,
                    }
                }),
            }),
        });
    let spec = (
        of(any::<bool>()),
        opt_text(),
        of(any::<u32>()),
        of(any::<u32>()),
        of(any::<u64>()),
    )
        .prop_map(
            |(modified, info, num_cpus, num_cores_per_socket, memory)| VmSpecSection {
                modified,
                info,
                num_cpus,
                num_cores_per_socket,
                memory_resource_mb: memory.map(|configured| MemoryResourceMb { configured }),
            },
        );
    (
        (
            text(),
            opt_text(),
            text(),
            opt_text(),
            of(any::<i32>()),
            of(any::<bool>()),
            of(any::<bool>()),
        ),
        (
            of(extension),
            links(),
            opt_text(),
            of(virtual_hardware_section()),
        ),
        (
            of(network_connection_section()),
            of(guest_customization_section()),
            opt_text(),
            opt_text(),
        ),
        (
            of(opt_text().prop_map(|vcenter_id| OvfEnvironment { vcenter_id })),
            of(storage_profile()),
            of(spec),
        ),
    )
        .prop_map(
            |(
                (href, id, name, media_type, status, deployed, needs_customization),
                (vcloud_extension, links, description, virtual_hardware_section),
                (network_connection_section, guest_customization_section, date_created, local_id),
                (environment, storage_profile, vm_spec_section),
            )| Vm {
                href,
                id,
                name,
                media_type,
                status,
                deployed,
                needs_customization,
                vcloud_extension,
                links,
                description,
                tasks: None,
                virtual_hardware_section,
                network_connection_section,
                guest_customization_section,
                date_created,
                vapp_scoped_local_id: local_id,
                environment,
                storage_profile,
                vm_spec_section,
            },
        )
}

fn network_config_section() -> impl Strategy<Value = NetworkConfigSection> {
    let config = (
        text(),
        opt_text(),
        of(parent_network()),
        text(),
        of(any::<bool>()),
    )
        .prop_map(
            |(network_name, description, parent_network, fence_mode, is_deployed)| NetworkConfig {
                network_name,
                description,
                configuration: NetworkConfiguration {
                    parent_network,
                    fence_mode,
                },
                is_deployed,
            },
        );
    (
        opt_text(),
        opt_text(),
        opt_text(),
        links(),
        vec(config, 0..2),
    )
        .prop_map(
            |(href, media_type, info, links, configs)| NetworkConfigSection {
                href,
                media_type,
                info,
                links,
                configs,
            },
        )
}

fn instantiation_params() -> impl Strategy<Value = InstantiationParams> {
    (
        of(network_config_section()),
        of(network_connection_section()),
        of(virtual_hardware_section()),
        of(guest_customization_section()),
    )
        .prop_map(|(a, b, c, d)| InstantiationParams {
            network_config_section: a,
            network_connection_section: b,
            virtual_hardware_section: c,
            guest_customization_section: d,
        })
}

fn sourced_item() -> impl Strategy<Value = SourcedItem> {
    (
        of(any::<bool>()),
        source(),
        of((text(), opt_text(), of(any::<bool>())).prop_map(
            |(name, description, needs_customization)| VmGeneralParams {
                name,
                description,
                needs_customization,
            },
        )),
        of(instantiation_params()),
        of(storage_profile()),
    )
        .prop_map(
            |(source_delete, source, vm_general_params, instantiation_params, storage_profile)| {
                SourcedItem {
                    source_delete,
                    source,
                    vm_general_params,
                    instantiation_params,
                    storage_profile,
                }
            },
        )
}

fn check<T: VcdDocument + PartialEq + std::fmt::Debug>(value: &T) -> Result<(), TestCaseError> {
    let xml = value
        .to_xml()
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let back = T::from_xml(&xml).map_err(|e| TestCaseError::fail(format!("{e}\n{xml}")))?;
    prop_assert_eq!(&back, value, "{}", xml);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: crate::fuzz_cases(64), ..ProptestConfig::default() })]

    #[test]
    fn session_round_trips(
        (href, media_type, user, user_id, org, roles, location_id) in
            (opt_text(), opt_text(), text(), opt_text(), text(), opt_text(), opt_text()),
        links in links(),
    ) {
        check(&Session { href, media_type, user, user_id, org, roles, location_id, links })?;
    }

    #[test]
    fn task_round_trips(task in task()) {
        check(&task)?;
    }

    #[test]
    fn error_round_trips(error in error_document()) {
        check(&error)?;
    }

    #[test]
    fn metadata_round_trips(metadata in metadata()) {
        check(&metadata)?;
    }

    #[test]
    fn metadata_value_round_trips(
        (href, media_type, links, typed_value) in (opt_text(), opt_text(), links(), typed_value()),
        domain in of((opt_text(), text()).prop_map(|(visibility, domain)| MetadataDomain { visibility, domain })),
    ) {
        check(&MetadataValue { href, media_type, links, domain, typed_value })?;
    }

    #[test]
    fn recompose_round_trips(
        (name, deploy, power_on, description) in (opt_text(), of(any::<bool>()), of(any::<bool>()), opt_text()),
        instantiation_params in of(instantiation_params()),
        sourced_items in vec(sourced_item(), 0..3),
        all_eulas_accepted in of(any::<bool>()),
        delete_items in vec(delete_item(), 0..3),
    ) {
        check(&RecomposeVAppParams {
            name, deploy, power_on, description, instantiation_params, sourced_items,
            all_eulas_accepted, delete_items,
        })?;
    }

    #[test]
    fn compose_and_instantiate_round_trip(
        (name, deploy, power_on, description) in (text(), of(any::<bool>()), of(any::<bool>()), opt_text()),
        instantiation_params in of(instantiation_params()),
        sourced_items in vec(sourced_item(), 0..2),
        all_eulas_accepted in of(any::<bool>()),
        template in source(),
    ) {
        check(&ComposeVAppParams {
            name: name.clone(), deploy, power_on, description: description.clone(),
            instantiation_params: instantiation_params.clone(), sourced_items: sourced_items.clone(),
            all_eulas_accepted,
        })?;
        check(&InstantiateVAppTemplateParams {
            name, deploy, power_on, description, instantiation_params, source: template,
            sourced_items, all_eulas_accepted,
        })?;
    }

    #[test]
    fn vm_round_trips(vm in vm()) {
        check(&vm)?;
    }

    #[test]
    fn vapp_round_trips(
        (href, id, name, media_type, status, deployed) in
            (text(), opt_text(), text(), opt_text(), of(any::<i32>()), of(any::<bool>())),
        (links, description) in (links(), opt_text()),
        tasks in of(vec(task(), 0..2).prop_map(|tasks| Tasks { tasks })),
        network_config_section in of(network_config_section()),
        children in of(vec(vm(), 0..3).prop_map(|vms| VmChildren { vms })),
    ) {
        check(&VApp {
            href, id, name, media_type, status, deployed, links, description, tasks,
            network_config_section, children,
        })?;
    }

    #[test]
    fn rasd_item_round_trips(
        (allocation_units, description, element_name, instance_id) in (opt_text(), opt_text(), opt_text(), of(any::<u32>())),
        (resource_type, virtual_quantity) in (any::<u32>(), any::<u64>()),
        cores in of((of(any::<bool>()), any::<u32>())),
    ) {
        check(&RasdItem {
            allocation_units, description, element_name, instance_id, resource_type, virtual_quantity,
            cores_per_socket: cores.map(|(required, cores)| CoresPerSocket { required, cores }),
        })?;
    }

    #[test]
    fn query_records_round_trip(
        (href, media_type, name, page, page_size, total) in
            (opt_text(), opt_text(), opt_text(), of(any::<u32>()), of(any::<u32>()), of(any::<u64>())),
        links in links(),
        vapps in vec(((opt_text(), opt_text(), text(), opt_text(), opt_text(), opt_text()),
                      (opt_text(), of(any::<u32>()), opt_text(), of(any::<bool>()), of(any::<bool>())),
                      (links(), of(metadata()))), 0..3),
        services in vec((opt_text(), text(), opt_text(), of(any::<bool>()), opt_text(), opt_text(), of(any::<i32>())), 0..2),
        filters in vec((opt_text(), opt_text(), text()), 0..2),
    ) {
        let mut records: Vec<QueryRecord> = vapps.into_iter().map(|((href, id, name, vdc, vdc_name, org),
            (status, number_of_vms, owner_name, is_deployed, is_busy), (links, metadata))| {
            QueryRecord::VApp(VAppRecord {
                href, id, name, vdc, vdc_name, org, status, number_of_vms, owner_name, is_deployed,
                is_busy, links, metadata,
            })
        }).collect();
        records.extend(services.into_iter().map(|(href, name, namespace, enabled, exchange, routing_key, priority)| {
            QueryRecord::AdminService(AdminServiceRecord {
                href, id: None, name, namespace, vendor: None, enabled, exchange, routing_key, priority,
                is_authorization_enabled: None, description: None,
            })
        }));
        records.extend(filters.into_iter().map(|(id, service, url_pattern)| {
            QueryRecord::ApiFilter(ApiFilterRecord { href: None, id, service, url_pattern })
        }));
        check(&QueryResultRecords { href, media_type, name, page, page_size, total, links, records })?;
    }

    #[test]
    fn extension_documents_round_trip(
        (name, href, id, media_type, links, description) in (text(), opt_text(), opt_text(), opt_text(), links(), opt_text()),
        (namespace, enabled, authorization_enabled, routing_key, priority, exchange) in
            (text(), any::<bool>(), of(any::<bool>()), text(), of(any::<i32>()), text()),
        patterns in of(vec(text(), 0..4)),
        (host, port, username, password, vhost, use_ssl, ssl_accept_all, prefix) in
            (text(), any::<u16>(), text(), opt_text(), text(), any::<bool>(), any::<bool>(), text()),
    ) {
        check(&ExtensionService {
            name, href: href.clone(), id, media_type: media_type.clone(), links: links.clone(), description, namespace, enabled,
            authorization_enabled, routing_key, priority, exchange: exchange.clone(),
            api_filters: patterns.map(|p| ApiFilters {
                filters: p.into_iter().map(|url_pattern| ApiFilter { url_pattern }).collect(),
            }),
        })?;
        check(&AmqpSettings {
            href: href.clone(), media_type: media_type.clone(), host, port, username, password, exchange, vhost, use_ssl,
            ssl_accept_all, prefix,
        })?;
        check(&VmwExtension { href, media_type, links })?;
    }

    #[test]
    fn entity_ids_never_panic_and_round_trip(value in "\\PC{0,60}", bytes in any::<[u8; 16]>()) {
        let _ = cse_core::vcd::ids::entity_uuid(&value);
        let uuid = uuid::Uuid::from_bytes(bytes);
        for href in [
            cse_core::vcd::ids::vapp_href("https://h/api", &uuid),
            cse_core::vcd::ids::vm_href("https://h/api/", &uuid),
            cse_core::vcd::ids::vdc_href("https://h/api", &uuid),
            cse_core::vcd::ids::urn("vapp", &uuid),
        ] {
            prop_assert_eq!(cse_core::vcd::ids::entity_uuid(&href).unwrap(), uuid);
        }
    }

    #[test]
    fn catalog_item_round_trips(
        (href, id, name, media_type, links, description) in (text(), opt_text(), text(), opt_text(), links(), opt_text()),
        entity in entity(),
    ) {
        check(&CatalogItem { href, id, name, media_type, links, description, entity })?;
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
