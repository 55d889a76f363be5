//! Golden fixtures: every hand-written vCD document in `tests/fixtures/xml` parses into its
//! type, serialises back to the same document (compared namespace-aware by the canonicaliser:
//! prefixes and attribute order are free, namespaces, names, values and element order are
//! not), re-parses to an equal value, and the exact serialised text is pinned by an insta
//! snapshot.

use std::fmt::Debug;
use std::path::Path;

use cse_core::vcd::canonical::canonical_string;
use cse_core::vcd::*;

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/xml")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Parse the fixture, serialise, compare canonically, re-parse, snapshot; returns the value.
fn golden<T: VcdDocument + PartialEq + Debug>(name: &str) -> T {
    let text = fixture(name);
    let doc = T::from_xml(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    let xml = doc.to_xml().unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(
        canonical_string(&xml).expect("serialised XML canonicalises"),
        canonical_string(&text).expect("fixture canonicalises"),
        "{name}: serialised document differs from the fixture\n{xml}"
    );
    let again = T::from_xml(&xml).unwrap_or_else(|e| panic!("{name} re-parse: {e}\n{xml}"));
    assert_eq!(again, doc, "{name}: round trip changed the value");
    let snapshot = name.trim_end_matches(".xml");
    insta::assert_snapshot!(snapshot, xml);
    doc
}

macro_rules! golden_tests {
    ($($test:ident: $ty:ty = $file:literal;)*) => {
        $(#[test]
        fn $test() {
            let _: $ty = golden::<$ty>($file);
        })*
    };
}

golden_tests! {
    session: Session = "session.xml";
    session_sysadmin: Session = "session_sysadmin.xml";
    org_list: OrgList = "org_list.xml";
    org: Org = "org.xml";
    vdc: Vdc = "vdc.xml";
    catalog: Catalog = "catalog.xml";
    catalog_empty: Catalog = "catalog_empty.xml";
    catalog_item: CatalogItem = "catalog_item.xml";
    admin_catalog_create: AdminCatalog = "admin_catalog_create.xml";
    admin_catalog_created: AdminCatalog = "admin_catalog_created.xml";
    publish_catalog_params: PublishCatalogParams = "publish_catalog_params.xml";
    vapp_template: VAppTemplate = "vapp_template.xml";
    compose_vapp_params: ComposeVAppParams = "compose_vapp_params.xml";
    instantiate_vapp_template_params: InstantiateVAppTemplateParams = "instantiate_vapp_template_params.xml";
    recompose_vapp_params_add: RecomposeVAppParams = "recompose_vapp_params_add.xml";
    recompose_vapp_params_add_generated_password: RecomposeVAppParams =
        "recompose_vapp_params_add_generated_password.xml";
    recompose_vapp_params_delete: RecomposeVAppParams = "recompose_vapp_params_delete.xml";
    capture_vapp_params: CaptureVAppParams = "capture_vapp_params.xml";
    undeploy_vapp_params: UndeployVAppParams = "undeploy_vapp_params.xml";
    vm: Vm = "vm.xml";
    vapp: VApp = "vapp.xml";
    vapp_composed: VApp = "vapp_composed.xml";
    rasd_item_cpu: RasdItem = "rasd_item_cpu.xml";
    rasd_item_memory: RasdItem = "rasd_item_memory.xml";
    metadata: Metadata = "metadata.xml";
    metadata_post: Metadata = "metadata_post.xml";
    metadata_value: MetadataValue = "metadata_value.xml";
    query_list: QueryList = "query_list.xml";
    query_vapp_idrecords: QueryResultRecords = "query_vapp_idrecords.xml";
    query_admin_vapp_records: QueryResultRecords = "query_admin_vapp_records.xml";
    query_admin_service: QueryResultRecords = "query_admin_service.xml";
    query_api_filters: QueryResultRecords = "query_api_filters.xml";
    query_catalogs: QueryResultRecords = "query_catalogs.xml";
    task_running: Task = "task_running.xml";
    task_failed: Task = "task_failed.xml";
    task_cse_create: Task = "task_cse_create.xml";
    task_cse_error: Task = "task_cse_error.xml";
    error_forbidden: VcdErrorDocument = "error_forbidden.xml";
    error_gateway_timeout: VcdErrorDocument = "error_gateway_timeout.xml";
    vmw_extension: VmwExtension = "vmw_extension.xml";
    service_create: ExtensionService = "service_create.xml";
    service: ExtensionService = "service.xml";
    amqp_settings: AmqpSettings = "amqp_settings.xml";
    amqp_settings_test_request: AmqpSettings = "amqp_settings_test_request.xml";
    amqp_settings_test: AmqpSettingsTest = "amqp_settings_test.xml";
    vim_server_references: VimServerReferences = "vim_server_references.xml";
    vim_server: VimServer = "vim_server.xml";
    extension_services: ExtensionServices = "extension_services.xml";
    supported_versions: SupportedVersions = "supported_versions.xml";
    vapp_template_uploading: VAppTemplate = "vapp_template_uploading.xml";
    upload_vapp_template_params: UploadVAppTemplateParams = "upload_vapp_template_params.xml";
    deploy_vapp_params: DeployVAppParams = "deploy_vapp_params.xml";
    right_cse: Right = "right_cse.xml";
    network_connection_section: NetworkConnectionSection = "network_connection_section.xml";
    guest_customization_section: GuestCustomizationSection = "guest_customization_section.xml";
    network_config_section: NetworkConfigSection = "network_config_section.xml";
    virtual_hardware_section: VirtualHardwareSection = "virtual_hardware_section.xml";
}

/// Every fixture file is covered by a golden test above (no orphan fixtures).
#[test]
fn every_fixture_has_a_golden_test() {
    let source = include_str!("vcd_golden.rs");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xml");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(dir).expect("fixture dir") {
        let entry = entry.expect("entry");
        if entry.file_type().expect("file type").is_dir() {
            continue;
        }
        let name = entry.file_name().into_string().expect("utf-8");
        if !source.contains(&format!("\"{name}\"")) {
            missing.push(name);
        }
    }
    assert!(missing.is_empty(), "fixtures without a test: {missing:?}");
}
