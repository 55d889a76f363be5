//! What CSE reads out of vCD documents and the request bodies it builds: typed accessors on
//! the golden fixtures, vCD-shaped input with unknown content and other prefixes, pyvcloud
//! link-lookup semantics, id helpers, status texts, and request builders checked against the
//! hand-written fixtures.

use std::path::Path;

use cse_core::vcd::canonical::canonical_string;
use cse_core::vcd::catalog::CatalogItemRef;
use cse_core::vcd::ids::{
    admin_href, entity_id, entity_uuid, urn, urn_uuid, vapp_href, vdc_href, vm_href,
};
use cse_core::vcd::params::Source;
use cse_core::vcd::sections::ParentNetwork;
use cse_core::vcd::task::{TaskOwner, TaskUser};
use cse_core::vcd::vapp::StorageProfile;
use cse_core::vcd::*;

const B: &str = "https://vcd.example.com";
const VAPP_ID: &str = "5b0f2e1d-3c4a-4b5e-9f6a-7b8c9d0e1f2a";

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/xml")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parse<T: VcdDocument>(name: &str) -> T {
    T::from_xml(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The serialised document equals the fixture, namespace-aware.
fn assert_same_document(built: &impl VcdDocument, fixture_name: &str) {
    let xml = built.to_xml().expect("serialises");
    assert_eq!(
        canonical_string(&xml).expect("canonical"),
        canonical_string(&fixture(fixture_name)).expect("canonical fixture"),
        "{fixture_name}\n{xml}"
    );
}

#[test]
fn session_links_and_identity() {
    let tenant: Session = parse("session.xml");
    assert!(!tenant.is_sysadmin());
    assert_eq!(tenant.user, "alice");
    assert_eq!(
        tenant.user_id.as_deref(),
        Some("urn:vcloud:user:6b1a7f3e-4c1d-4e57-9a0e-1d2c3b4a5f60")
    );
    assert_eq!(tenant.roles.as_deref(), Some("Organization Administrator"));
    assert_eq!(
        tenant.org_link().unwrap().href,
        format!("{B}/api/org/0c1e7f3a-2b4d-4c5e-8f6a-7b8c9d0e1f2a")
    );
    assert_eq!(tenant.org_list_href().unwrap(), format!("{B}/api/org/"));
    assert_eq!(tenant.query_list_href().unwrap(), format!("{B}/api/query"));
    assert!(matches!(
        tenant.extension_href(),
        Err(LinkError::Missing { .. })
    ));

    let admin: Session = parse("session_sysadmin.xml");
    assert!(admin.is_sysadmin());
    assert_eq!(
        admin.extension_href().unwrap(),
        format!("{B}/api/admin/extension")
    );
}

#[test]
fn link_lookup_follows_pyvcloud_rules() {
    let session: Session = parse("session.xml");
    // An untyped lookup only sees links without a type.
    assert_eq!(
        session.link_href("remove", None).unwrap(),
        format!("{B}/api/session")
    );
    assert!(matches!(
        session.find_link("down", None),
        Err(LinkError::Missing { .. })
    ));
    // Types are compared exactly.
    assert!(
        session
            .find_link("down", Some("application/vnd.vmware.vcloud.ORG+xml"))
            .is_err()
    );
    // Two links with the same rel and type are an error, not "first wins".
    let mut twice = session.clone();
    twice
        .links
        .push(Link::new("down", "https://elsewhere/api/org/x", media::ORG));
    let err = twice.org_link().unwrap_err();
    assert_eq!(
        err,
        LinkError::Multiple {
            rel: "down".into(),
            media_type: Some(media::ORG.into()),
            count: 2
        }
    );
    assert_eq!(
        err.to_string(),
        "2 links with rel 'down' and type 'application/vnd.vmware.vcloud.org+xml'"
    );
    assert!(session.has_link("openapi", Some("application/json")));
}

#[test]
fn org_and_org_list() {
    let list: OrgList = parse("org_list.xml");
    assert_eq!(list.orgs.len(), 2);
    assert_eq!(list.find("ACME").map(|o| o.name.as_str()), Some("acme"));
    assert!(list.find("nope").is_none());

    let org: Org = parse("org.xml");
    assert_eq!(org.full_name.as_deref(), Some("Acme Corp"));
    assert_eq!(
        org.vdc_link("vdc1").unwrap().href,
        format!("{B}/api/vdc/9d2f1c3b-5a6e-4f70-8b91-c2d3e4f5a6b7")
    );
    assert!(org.vdc_link("vdc2").is_none());
    assert!(org.catalog_link("cse").is_some());
    assert_eq!(
        org.tasks_list_href().unwrap(),
        format!("{B}/api/tasksList/0c1e7f3a-2b4d-4c5e-8f6a-7b8c9d0e1f2a")
    );
    assert_eq!(
        org.link_href("add", Some(media::ADMIN_CATALOG)).unwrap(),
        format!("{B}/api/admin/org/0c1e7f3a-2b4d-4c5e-8f6a-7b8c9d0e1f2a/catalogs")
    );
}

#[test]
fn vdc_networks_profiles_and_entities() {
    let vdc: Vdc = parse("vdc.xml");
    assert_eq!(
        vdc.network("net1").unwrap().href,
        format!("{B}/api/network/7a8b9c0d-1e2f-4a3b-9c4d-5e6f7a8b9c0d")
    );
    assert!(vdc.network("net2").is_none());
    assert_eq!(vdc.storage_profile("*").unwrap().name.as_deref(), Some("*"));
    assert_eq!(vdc.resource_entities_named("c1", media::VAPP).count(), 1);
    assert_eq!(
        vdc.resource_entities_named("c1", media::VAPP_TEMPLATE)
            .count(),
        0
    );
    assert_eq!(
        vdc.compose_href().unwrap(),
        format!("{B}/api/vdc/9d2f1c3b-5a6e-4f70-8b91-c2d3e4f5a6b7/action/composeVApp")
    );
    assert!(vdc.instantiate_href().is_ok());
    assert_eq!(vdc.description.as_deref(), Some(""));
}

#[test]
fn catalog_items_and_templates() {
    let catalog: Catalog = parse("catalog.xml");
    let item = catalog.item("photon-custom-hw11-2.0-304b817-k8s").unwrap();
    assert_eq!(
        item.href,
        format!("{B}/api/catalogItem/8e9f0a1b-2c3d-4e4f-a5b6-c7d8e9f0a1b2")
    );
    assert!(catalog.item("photon").is_none());
    assert!(catalog.capture_href().is_ok());
    assert!(catalog.publish_href().is_ok());
    assert_eq!(catalog.is_published, Some(true));

    let empty: Catalog = parse("catalog_empty.xml");
    assert_eq!(empty.catalog_items, Some(CatalogItems::default()));

    let catalog_item: CatalogItem = parse("catalog_item.xml");
    assert_eq!(
        catalog_item.entity.href,
        format!("{B}/api/vAppTemplate/vappTemplate-2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f")
    );

    let template: VAppTemplate = parse("vapp_template.xml");
    assert_eq!(template.vcd_status_code(), Some(VcdStatus::PoweredOff));
    assert!(template.first_task().is_none(), "no Tasks = resolved");
    let vm = &template.vms()[0];
    assert_eq!(vm.name, "photon2-temp");
    assert_eq!(vm.admin_password(), Some("Xy7-tmpl-Pw"));
    let nics = vm.network_connection_section.as_ref().unwrap();
    assert_eq!(nics.primary_network_connection_index, Some(0));
    assert_eq!(nics.primary().unwrap().network, "none");

    let created: AdminCatalog = parse("admin_catalog_created.xml");
    let task = created.tasks.as_ref().and_then(Tasks::first).unwrap();
    assert_eq!(task.status, TaskStatus::Running);
}

trait TemplateStatus {
    fn vcd_status_code(&self) -> Option<VcdStatus>;
}

impl TemplateStatus for VAppTemplate {
    fn vcd_status_code(&self) -> Option<VcdStatus> {
        self.status.and_then(VcdStatus::from_code)
    }
}

#[test]
fn vapp_and_vm_fields_cse_reads() {
    let vapp: VApp = parse("vapp.xml");
    assert_eq!(vapp.vcd_status(), Some(VcdStatus::PoweredOn));
    assert_eq!(vapp.vms().len(), 2);
    assert!(vapp.has_link("power:shutdown", None));
    assert!(!vapp.has_link("power:powerOn", None));
    assert_eq!(
        vapp.recompose_href().unwrap(),
        format!("{B}/api/vApp/vapp-{VAPP_ID}/action/recomposeVApp")
    );

    let master = vapp.vm("mstr-ab12").unwrap();
    assert_eq!(master.vcd_status(), Some(VcdStatus::PoweredOn));
    assert_eq!(master.moref(), Some("vm-1042"));
    assert_eq!(master.vcenter_name(), Some("vc1"));
    assert_eq!(master.vim_object_ref().unwrap().mo_ref, "vm-1042");
    assert_eq!(master.admin_password(), Some("Xy7-tmpl-Pw"));
    assert_eq!(master.primary_ip(), Some("10.0.0.11"));
    assert_eq!(master.cpu_count(), Some(2));
    assert_eq!(master.memory_mb(), Some(2048));
    assert!(master.undeploy_href().is_ok());
    let hw = master.virtual_hardware_section.as_ref().unwrap();
    assert_eq!(
        hw.item(3)
            .and_then(|i| i.cores_per_socket.as_ref())
            .map(|c| c.cores),
        Some(2)
    );

    let node = vapp.vm("node-x7k2").unwrap();
    assert_eq!(node.vcd_status(), Some(VcdStatus::PoweredOff));
    assert_eq!(
        node.moref(),
        Some("vm-1043"),
        "moref from ovfenv when no extension"
    );
    assert_eq!(
        node.vcenter_name(),
        None,
        "tenant view has no VCloudExtension"
    );
    assert!(node.has_link("power:powerOn", None));

    let composed: VApp = parse("vapp_composed.xml");
    let task = composed.first_task().unwrap();
    assert_eq!(task.status, TaskStatus::Running);
    assert_eq!(task.progress, Some(1));
    assert!(composed.vms().is_empty());
}

#[test]
fn vcd_shaped_vapp_with_unknown_content_and_other_prefixes() {
    let vapp: VApp = parse("vcd-input/vapp_full_sysadmin.xml");
    assert_eq!(vapp.vcd_status(), Some(VcdStatus::Mixed));
    assert_eq!(
        vapp.description.as_deref(),
        Some("cluster <mycluster> & co")
    );
    // The vmext-namespaced `Link` is not a vcloud link and is skipped.
    assert_eq!(vapp.links.len(), 3);
    let net = vapp.network_config_section.as_ref().unwrap();
    assert_eq!(
        net.configs[0]
            .configuration
            .parent_network
            .as_ref()
            .map(|p| p.href.as_str()),
        Some(format!("{B}/api/network/7a8b9c0d-1e2f-4a3b-9c4d-5e6f7a8b9c0d").as_str())
    );
    let master = vapp.vm("mstr-ab12").unwrap();
    assert_eq!(master.vcenter_name(), Some("vc1"));
    assert_eq!(master.moref(), Some("vm-1042"));
    assert_eq!(master.admin_password(), Some("Xy7&tmpl<Pw"));
    assert_eq!(master.primary_ip(), Some("10.0.0.11"));
    let hw = master.virtual_hardware_section.as_ref().unwrap();
    assert_eq!(hw.items.len(), 4);
    assert_eq!(hw.cpu_count(), Some(2));
    assert_eq!(hw.memory_mb(), Some(2048));
    let node = vapp.vm("node-x7k2").unwrap();
    assert_eq!(
        node.primary_ip(),
        Some("10.0.0.12"),
        "falls back to NetworkConnection"
    );
    assert_eq!(node.moref(), Some("vm-1043"));

    // Serialising what was read keeps every modelled field.
    let again = VApp::from_xml(&vapp.to_xml().unwrap()).unwrap();
    assert_eq!(again, vapp);
}

#[test]
fn pyvcloud_style_bodies_are_read() {
    let cpu: RasdItem = parse("vcd-input/rasd_item_from_pyvcloud.xml");
    assert_eq!(cpu.resource_type, 3);
    assert_eq!(cpu.virtual_quantity, 4);
    assert_eq!(cpu.cores_per_socket.as_ref().map(|c| c.cores), Some(2));

    let metadata: Metadata = parse("vcd-input/metadata_from_pyvcloud.xml");
    let entry = &metadata.entries[0];
    assert_eq!(entry.typed_value.kind(), "MetadataStringValue");
    assert!(entry.typed_value.is_string());
    assert_eq!(
        metadata.get("cse.cluster.id"),
        Some("7c9e6679-7425-40de-944b-e07fc1f90ae7")
    );
}

#[test]
fn query_results() {
    let ids: QueryResultRecords = parse("query_vapp_idrecords.xml");
    assert_eq!(ids.total, Some(3));
    assert!(ids.next_page_href().unwrap().contains("page=2&pageSize=25"));
    let records: Vec<_> = ids.vapp_records().collect();
    assert_eq!(records.len(), 2);
    assert_eq!(
        records[0].metadata_value("cse.master.ip"),
        Some("10.0.0.11")
    );
    assert_eq!(
        records[0].metadata_value("cse.cluster.id"),
        Some("7c9e6679-7425-40de-944b-e07fc1f90ae7")
    );
    assert_eq!(records[0].number_of_vms, Some(3));
    assert_eq!(
        entity_id(records[0].id.as_deref().unwrap()).unwrap(),
        VAPP_ID
    );
    assert_eq!(records[1].metadata_value("cse.master.ip"), None);

    let admin: QueryResultRecords = parse("query_admin_vapp_records.xml");
    let admin_records: Vec<_> = admin.vapp_records().collect();
    assert_eq!(
        admin_records[0]
            .org
            .as_deref()
            .map(|o| o.ends_with("0c1e7f3a-2b4d-4c5e-8f6a-7b8c9d0e1f2a")),
        Some(true)
    );
    assert!(admin.next_page_href().is_none());

    let services: QueryResultRecords = parse("query_admin_service.xml");
    let cse = services.admin_service_records().next().unwrap();
    assert_eq!(
        (cse.name.as_str(), cse.enabled, cse.routing_key.as_deref()),
        ("cse", Some(true), Some("cse"))
    );

    let filters: QueryResultRecords = parse("query_api_filters.xml");
    let patterns: Vec<_> = filters
        .api_filter_records()
        .map(|f| f.url_pattern.as_str())
        .collect();
    assert_eq!(patterns, ["/api/cse", "/api/cse/.*"]);

    let mixed: QueryResultRecords = parse("vcd-input/query_mixed_records.xml");
    assert_eq!(mixed.records.len(), 2, "VMRecord is skipped");
    assert_eq!(
        mixed.vapp_records().next().unwrap().status.as_deref(),
        Some("MIXED")
    );
    assert_eq!(
        mixed.next_page_href(),
        Some(format!("{B}/api/query?type=vApp&format=records&page=2").as_str())
    );

    let list: QueryList = parse("query_list.xml");
    assert_eq!(
        list.query_href("vApp", media::QUERY_ID_RECORDS),
        Some(format!("{B}/api/query?type=vApp&format=idrecords").as_str())
    );
    assert_eq!(list.query_href("adminVApp", media::QUERY_ID_RECORDS), None);
}

#[test]
fn tasks_and_errors() {
    let failed: Task = parse("task_failed.xml");
    assert_eq!(failed.status, TaskStatus::Error);
    assert!(failed.status.is_terminal());
    assert!(!TaskStatus::Running.is_terminal());
    assert_eq!(
        failed.error_message(),
        "The requested operation could not be executed since VM \"node-x7k2\" is powered on."
    );
    assert_eq!(failed.error.as_ref().unwrap().major_code(), Some(400));

    let running: Task = parse("task_running.xml");
    assert_eq!(running.error_message(), "");
    assert_eq!(
        running.organization.as_ref().unwrap().name.as_deref(),
        Some("acme")
    );

    let timeout: VcdErrorDocument = parse("error_gateway_timeout.xml");
    assert_eq!(timeout.major_code(), Some(504));
    assert_eq!(timeout.minor_error_code.as_deref(), Some("GATEWAY_TIMEOUT"));

    // Status values are case-insensitive on input and canonical on output.
    assert_eq!(
        "SUCCESS".parse::<TaskStatus>().unwrap(),
        TaskStatus::Success
    );
    assert_eq!(TaskStatus::PreRunning.to_string(), "preRunning");
    assert!("done".parse::<TaskStatus>().is_err());
}

#[test]
fn extension_documents() {
    let settings: AmqpSettings = parse("amqp_settings.xml");
    assert_eq!(settings.password, None);
    assert_eq!(
        settings.comparable(),
        [
            ("AmqpExchange", "vcdext".to_string()),
            ("AmqpHost", "127.0.0.1".to_string()),
            ("AmqpPort", "5672".to_string()),
            ("AmqpPrefix", "vcd".to_string()),
            ("AmqpSslAcceptAll", "false".to_string()),
            ("AmqpUseSSL", "false".to_string()),
            ("AmqpUsername", "guest".to_string()),
            ("AmqpVHost", "/".to_string()),
        ]
    );
    let request: AmqpSettings = parse("amqp_settings_test_request.xml");
    let debug = format!("{request:?}");
    assert!(!debug.contains("s3cret-amqp"), "{debug}");
    assert!(debug.contains("<redacted>"));
    assert!(parse::<AmqpSettingsTest>("amqp_settings_test.xml").valid);

    let refs: VimServerReferences = parse("vim_server_references.xml");
    assert!(refs.find("vc1").is_some());
    assert!(refs.find("VC1").is_none());
    let vc: VimServer = parse("vim_server.xml");
    assert_eq!(vc.host_port(), Some(("127.0.0.1".to_string(), 8989)));
    let no_port = VimServer {
        url: "https://vc.example.com".into(),
        ..vc.clone()
    };
    assert_eq!(
        no_port.host_port(),
        Some(("vc.example.com".to_string(), 443))
    );

    let ext: VmwExtension = parse("vmw_extension.xml");
    assert_eq!(
        ext.services_href().unwrap(),
        format!("{B}/api/admin/extension/service")
    );
    assert!(ext.vim_server_references_href().is_ok());

    let service: ExtensionService = parse("service.xml");
    assert_eq!(service.exchange, "cse-ext");
    assert!(service.has_link("rights", Some(media::ADMIN_RIGHTS)));
}

#[test]
fn versions_and_error_bodies() {
    let versions: SupportedVersions = parse("supported_versions.xml");
    assert!(versions.supports("32.0"));
    assert!(!versions.supports("33.0"));
    assert_eq!(
        versions.highest_common(&["29.0", "33.0", "31.0", "30.0"]),
        Some("31.0")
    );
    assert_eq!(versions.highest_common(&["36.0"]), None);

    let services: ExtensionServices = parse("extension_services.xml");
    assert_eq!(
        services.add_href().unwrap(),
        format!("{B}/api/admin/extension/service")
    );

    assert_eq!(VcdErrorDocument::from_body(""), None);
    assert_eq!(VcdErrorDocument::from_body("  \n"), None);
    assert_eq!(
        VcdErrorDocument::from_body("<html>proxy error</html>"),
        None
    );
    let error = VcdErrorDocument::from_body(&fixture("error_forbidden.xml")).unwrap();
    assert_eq!(error.major_code(), Some(403));
}

#[test]
fn template_upload_targets() {
    let uploading: VAppTemplate = parse("vapp_template_uploading.xml");
    let files = uploading.files();
    assert_eq!(files.len(), 2);
    assert_eq!(
        files[1].upload_href(),
        Some(
            format!("{B}/transfer/0d1e2f3a-4b5c-4d6e-8f7a-8b9c0d1e2f3a/photon-disk1.vmdk").as_str()
        )
    );
    assert_eq!(files[1].size, Some(314_572_800));
    assert_eq!(uploading.first_task().unwrap().status, TaskStatus::Running);
    let resolved: VAppTemplate = parse("vapp_template.xml");
    assert!(resolved.files().is_empty());
    assert_same_document(&Right::cse_native_deploy(), "right_cse.xml");
    assert_eq!(Right::pks_deploy().category.as_deref(), Some("pksRight"));
}

#[test]
fn standalone_sections() {
    let nics: NetworkConnectionSection = parse("network_connection_section.xml");
    let primary = nics.primary().unwrap();
    assert_eq!((primary.network.as_str(), primary.index), ("net1", 1));
    assert_eq!(primary.ip_address.as_deref(), Some("10.0.0.13"));

    let hw: VirtualHardwareSection = parse("virtual_hardware_section.xml");
    assert_eq!(
        hw.primary_ip(),
        None,
        "first NIC item has no address (pyvcloud semantics)"
    );
    assert_eq!(hw.cpu_count(), Some(1));
    assert_eq!(hw.memory_mb(), None);

    let guest: GuestCustomizationSection = parse("guest_customization_section.xml");
    assert_eq!(guest.admin_password.as_deref(), Some("chosen&<secret>"));
    assert!(
        guest
            .customization_script
            .as_deref()
            .unwrap()
            .contains("echo pre > /tmp/phase")
    );

    let networks: NetworkConfigSection = parse("network_config_section.xml");
    assert_eq!(networks.configs.len(), 2);
    assert_eq!(networks.configs[1].configuration.parent_network, None);
}

#[test]
fn guest_customization_debug_hides_password() {
    let vm: Vm = parse("vm.xml");
    let debug = format!("{vm:?}");
    assert!(!debug.contains("Xy7-tmpl-Pw"), "{debug}");
    assert!(debug.contains("<redacted>"));
}

#[test]
fn request_builders_match_the_fixtures() {
    assert_same_document(
        &ComposeVAppParams::cse_cluster(
            "mycluster",
            "net1",
            &format!("{B}/api/network/7a8b9c0d-1e2f-4a3b-9c4d-5e6f7a8b9c0d"),
        ),
        "compose_vapp_params.xml",
    );

    let source = Source {
        href: format!("{B}/api/vAppTemplate/vm-0f1e2d3c-4b5a-4968-8776-655443322110"),
        id: Some("urn:vcloud:vm:0f1e2d3c-4b5a-4968-8776-655443322110".into()),
        name: Some("photon2-temp".into()),
        media_type: Some(media::VM.into()),
    };
    let script = "#!/usr/bin/env bash\nif [ x$1=x\"postcustomization\" ];\nthen\nmkdir -p /root/.ssh\necho 'ssh-rsa AAAAB3Nza user@host' >> /root/.ssh/authorized_keys\nchmod -R go-rwx /root/.ssh\nfi";
    let gold = StorageProfile {
        href: format!("{B}/api/vdcStorageProfile/4d5e6f7a-8b9c-4d0e-8f1a-2b3c4d5e6f7a"),
        id: None,
        name: Some("gold".into()),
        media_type: Some(media::VDC_STORAGE_PROFILE.into()),
    };
    let add = RecomposeVAppParams::add(
        vec![
            SourcedItem::cse_node(
                source.clone(),
                "node-x7k2",
                "net1",
                0,
                Some(script),
                Some(gold),
            ),
            SourcedItem::cse_node(source.clone(), "node-p3q9", "net1", 0, None, None),
        ],
        false,
    );
    assert_same_document(&add, "recompose_vapp_params_add.xml");
    let generated = RecomposeVAppParams::add(
        vec![
            SourcedItem::cse_node(source, "node-p3q9", "net1", 0, None, None)
                .with_generated_password(),
        ],
        true,
    );
    assert_same_document(
        &generated,
        "recompose_vapp_params_add_generated_password.xml",
    );

    assert_same_document(
        &RecomposeVAppParams::delete(&[
            &format!("{B}/api/vApp/vm-1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"),
            &format!("{B}/api/vApp/vm-6f5e4d3c-2b1a-4f9e-8d7c-6b5a4f3e2d1c"),
        ]),
        "recompose_vapp_params_delete.xml",
    );
    assert_same_document(
        &ExtensionService::cse("cse", "vcdext"),
        "service_create.xml",
    );
    assert_same_document(
        &AdminCatalog::create("cse", "CSE templates"),
        "admin_catalog_create.xml",
    );
    assert_same_document(
        &PublishCatalogParams { is_published: true },
        "publish_catalog_params.xml",
    );
    assert_same_document(
        &UndeployVAppParams::default_action(),
        "undeploy_vapp_params.xml",
    );
    assert_same_document(
        &Metadata::with_entries(vec![MetadataEntry::string("cse.version", "1.2.7")]),
        "metadata_post.xml",
    );

    let owner = TaskOwner {
        href: "urn:cse:cluster:7c9e6679-7425-40de-944b-e07fc1f90ae7".into(),
        id: None,
        name: Some("mycluster".into()),
        media_type: Some(media::CSE_CLUSTER.into()),
    };
    let user = TaskUser {
        href: "urn:vcloud:user:6b1a7f3e-4c1d-4e57-9a0e-1d2c3b4a5f60".into(),
        id: None,
        name: Some("alice".into()),
        media_type: Some(media::ADMIN_USER.into()),
    };
    assert_same_document(
        &Task::cse_task(
            TaskStatus::Running,
            "Creating cluster mycluster(7c9e6679-7425-40de-944b-e07fc1f90ae7)",
            "create_cluster",
            owner.clone(),
            user.clone(),
            None,
        ),
        "task_cse_create.xml",
    );
    let message = "('Error while adding master node:', 'no IP')";
    assert_same_document(
        &Task::cse_task(
            TaskStatus::Error,
            message,
            "create_cluster",
            owner,
            user,
            Some(VcdErrorDocument::cse_task_error(message)),
        ),
        "task_cse_error.xml",
    );

    let cpu = RasdItem::cpu(4, 2);
    let fixture_cpu: RasdItem = parse("rasd_item_cpu.xml");
    assert_eq!(
        cpu,
        RasdItem {
            instance_id: None,
            ..fixture_cpu
        }
    );
    let memory = RasdItem::memory(4096);
    let fixture_memory: RasdItem = parse("rasd_item_memory.xml");
    assert_eq!(
        memory,
        RasdItem {
            instance_id: None,
            ..fixture_memory
        }
    );
}

#[test]
fn references_convert() {
    let r = Reference::new("https://h/api/x", "x", media::VAPP);
    let item: CatalogItemRef = r.clone().into();
    assert_eq!(item.to_reference(), r);
    let parent: ParentNetwork = Reference::href("https://h/api/network/1").into();
    assert_eq!(parent.name, None);
    assert_eq!(Link::action("remove", "u").media_type, None);
    assert_eq!(
        Link::new("down", "u", media::VDC)
            .named("vdc1")
            .name
            .as_deref(),
        Some("vdc1")
    );
}

#[test]
fn ids_from_hrefs_and_urns() {
    let id = "5b0f2e1d-3c4a-4b5e-9f6a-7b8c9d0e1f2a";
    for value in [
        format!("{B}/api/vApp/vapp-{id}"),
        format!("{B}/api/vApp/vapp-{id}/"),
        format!("{B}/api/vApp/vm-{id}?force=True"),
        format!("{B}/api/vdc/{id}"),
        format!("{B}/api/admin/vdc/{id}"),
        format!("urn:vcloud:vapp:{id}"),
        format!("urn:vcloud:vdc:{}", id.to_uppercase()),
        format!("{B}/api/vAppTemplate/vappTemplate-{id}"),
        id.to_string(),
    ] {
        assert_eq!(entity_id(&value).unwrap(), id, "{value}");
    }
    for bad in [
        "",
        "vapp-",
        "https://h/api/vApp/vapp-123",
        "urn:vcloud:vapp:not-a-uuid",
        "x5b0f2e1d-3c4a-4b5e-9f6a-7b8c9d0e1f2a",
    ] {
        assert!(entity_uuid(bad).is_err(), "{bad:?}");
    }
    let uuid = entity_uuid(id).unwrap();
    assert_eq!(
        urn_uuid(&format!("urn:vcloud:vm:{id}"), "vm").unwrap(),
        uuid
    );
    assert_eq!(
        urn_uuid(&format!("urn:vcloud:catalogitem:{id}"), "catalogItem").unwrap(),
        uuid
    );
    assert!(urn_uuid(&format!("urn:vcloud:vapp:{id}"), "vm").is_err());
    assert!(urn_uuid(&format!("urn:vcloud:vm:{id}:extra"), "vm").is_err());
    assert_eq!(urn("vapp", &uuid), format!("urn:vcloud:vapp:{id}"));
    assert_eq!(
        vapp_href(&format!("{B}/api/"), &uuid),
        format!("{B}/api/vApp/vapp-{id}")
    );
    assert_eq!(
        vm_href(&format!("{B}/api"), &uuid),
        format!("{B}/api/vApp/vm-{id}")
    );
    assert_eq!(
        vdc_href(&format!("{B}/api"), &uuid),
        format!("{B}/api/vdc/{id}")
    );
    assert_eq!(
        admin_href(&format!("{B}/api/vdc/{id}")),
        format!("{B}/api/admin/vdc/{id}")
    );
    assert_eq!(
        entity_uuid("https://h/api/vApp/vapp-123")
            .unwrap_err()
            .to_string(),
        "'https://h/api/vApp/vapp-123' does not end in an entity UUID"
    );
}

#[test]
fn status_codes_and_texts() {
    let texts: Vec<(i32, &str)> = VcdStatus::ALL
        .iter()
        .map(|s| (s.code(), s.text()))
        .collect();
    insta::assert_debug_snapshot!(texts);
    for code in -1..=15 {
        assert_eq!(VcdStatus::from_code(code).unwrap().code(), code);
    }
    assert_eq!(VcdStatus::from_code(-2), None);
    assert_eq!(VcdStatus::from_code(16), None);
    assert_eq!(status_text(4), "Powered on");
    assert_eq!(status_text(99), "Unrecognized state");
    assert_eq!(
        VcdStatus::Mixed.to_string(),
        "Children do not all have the same status"
    );
}

#[test]
fn media_types_are_exact_and_unique() {
    let mut all = media::ALL.to_vec();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), media::ALL.len(), "duplicate media type");
    assert_eq!(
        media::ADMIN_VMW_VIRTUAL_CENTER,
        "application/vnd.vmware.admin.vmwvirtualcenter+xml"
    );
    assert_eq!(
        media::with_version(media::VAPP, "32.0"),
        "application/vnd.vmware.vcloud.vApp+xml;version=32.0"
    );
    assert_eq!(
        media::any_xml_accept("29.0"),
        "application/*+xml;version=29.0"
    );
    for (document, media_type) in [
        (Session::ROOT, Session::MEDIA_TYPE),
        (VApp::ROOT, VApp::MEDIA_TYPE),
        (RecomposeVAppParams::ROOT, RecomposeVAppParams::MEDIA_TYPE),
        (ExtensionService::ROOT, ExtensionService::MEDIA_TYPE),
    ] {
        assert!(media::ALL.contains(&media_type), "{document}: {media_type}");
    }
}
