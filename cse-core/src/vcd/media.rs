//! Exact vCD media-type strings (spec vcd-rest §11). Link lookups compare these byte for byte.

macro_rules! media_types {
    ($($(#[$doc:meta])* $name:ident = $value:literal;)*) => {
        $($(#[$doc])* pub const $name: &str = $value;)*
        /// Every media type defined in this module, for exhaustive checks.
        pub const ALL: &[&str] = &[$($value),*];
    };
}

media_types! {
    /// `Session`.
    SESSION = "application/vnd.vmware.vcloud.session+xml";
    /// `OrgList`.
    ORG_LIST = "application/vnd.vmware.vcloud.orgList+xml";
    /// `Org`.
    ORG = "application/vnd.vmware.vcloud.org+xml";
    /// `Vdc`.
    VDC = "application/vnd.vmware.vcloud.vdc+xml";
    /// `Catalog`.
    CATALOG = "application/vnd.vmware.vcloud.catalog+xml";
    /// `CatalogItem`.
    CATALOG_ITEM = "application/vnd.vmware.vcloud.catalogItem+xml";
    /// `VAppTemplate`.
    VAPP_TEMPLATE = "application/vnd.vmware.vcloud.vAppTemplate+xml";
    /// `VApp`.
    VAPP = "application/vnd.vmware.vcloud.vApp+xml";
    /// `Vm`.
    VM = "application/vnd.vmware.vcloud.vm+xml";
    /// `Task`.
    TASK = "application/vnd.vmware.vcloud.task+xml";
    /// An org's tasks list (CSE posts its own tasks there).
    TASKS_LIST = "application/vnd.vmware.vcloud.tasksList+xml";
    /// `Metadata`.
    METADATA = "application/vnd.vmware.vcloud.metadata+xml";
    /// `MetadataValue`.
    METADATA_VALUE = "application/vnd.vmware.vcloud.metadata.value+xml";
    /// `QueryList`.
    QUERY_LIST = "application/vnd.vmware.vcloud.query.queryList+xml";
    /// Query results, `records` format.
    QUERY_RECORDS = "application/vnd.vmware.vcloud.query.records+xml";
    /// Query results, `idrecords` format.
    QUERY_ID_RECORDS = "application/vnd.vmware.vcloud.query.idrecords+xml";
    /// Query results, `references` format.
    QUERY_REFERENCES = "application/vnd.vmware.vcloud.query.references+xml";
    /// `Error`.
    ERROR = "application/vnd.vmware.vcloud.error+xml";
    /// Network reference.
    NETWORK = "application/vnd.vmware.vcloud.network+xml";
    /// Org VDC network.
    ORG_NETWORK = "application/vnd.vmware.vcloud.orgNetwork+xml";
    /// VDC storage profile reference.
    VDC_STORAGE_PROFILE = "application/vnd.vmware.vcloud.vdcStorageProfile+xml";
    /// `InstantiateVAppTemplateParams`.
    INSTANTIATE_VAPP_TEMPLATE_PARAMS = "application/vnd.vmware.vcloud.instantiateVAppTemplateParams+xml";
    /// `ComposeVAppParams`.
    COMPOSE_VAPP_PARAMS = "application/vnd.vmware.vcloud.composeVAppParams+xml";
    /// `RecomposeVAppParams`.
    RECOMPOSE_VAPP_PARAMS = "application/vnd.vmware.vcloud.recomposeVAppParams+xml";
    /// `CaptureVAppParams`.
    CAPTURE_VAPP_PARAMS = "application/vnd.vmware.vcloud.captureVAppParams+xml";
    /// `UploadVAppTemplateParams`.
    UPLOAD_VAPP_TEMPLATE_PARAMS = "application/vnd.vmware.vcloud.uploadVAppTemplateParams+xml";
    /// Media upload.
    MEDIA = "application/vnd.vmware.vcloud.media+xml";
    /// `DeployVAppParams`.
    DEPLOY_VAPP_PARAMS = "application/vnd.vmware.vcloud.deployVAppParams+xml";
    /// `UndeployVAppParams`.
    UNDEPLOY_VAPP_PARAMS = "application/vnd.vmware.vcloud.undeployVAppParams+xml";
    /// A single RASD item (cpu / memory edit).
    RASD_ITEM = "application/vnd.vmware.vcloud.rasdItem+xml";
    /// A list of RASD items.
    RASD_ITEMS_LIST = "application/vnd.vmware.vcloud.rasdItemsList+xml";
    /// `ovf:VirtualHardwareSection`.
    VIRTUAL_HARDWARE_SECTION = "application/vnd.vmware.vcloud.virtualHardwareSection+xml";
    /// `NetworkConnectionSection`.
    NETWORK_CONNECTION_SECTION = "application/vnd.vmware.vcloud.networkConnectionSection+xml";
    /// `GuestCustomizationSection`.
    GUEST_CUSTOMIZATION_SECTION = "application/vnd.vmware.vcloud.guestCustomizationSection+xml";
    /// `NetworkConfigSection`.
    NETWORK_CONFIG_SECTION = "application/vnd.vmware.vcloud.networkConfigSection+xml";
    /// `LeaseSettingsSection`.
    LEASE_SETTINGS_SECTION = "application/vnd.vmware.vcloud.leaseSettingsSection+xml";
    /// Entity owner.
    OWNER = "application/vnd.vmware.vcloud.owner+xml";
    /// Access control.
    CONTROL_ACCESS = "application/vnd.vmware.vcloud.controlAccess+xml";
    /// Entity resolver.
    ENTITY = "application/vnd.vmware.vcloud.entity+xml";
    /// API extensibility root.
    API_EXTENSIBILITY = "application/vnd.vmware.vcloud.apiextensibility+xml";
    /// Admin root (`VCloud`).
    ADMIN_VCLOUD = "application/vnd.vmware.admin.vcloud+xml";
    /// `AdminOrg`.
    ADMIN_ORGANIZATION = "application/vnd.vmware.admin.organization+xml";
    /// `AdminCatalog` (also the org's "add catalog" link).
    ADMIN_CATALOG = "application/vnd.vmware.admin.catalog+xml";
    /// `PublishCatalogParams`.
    PUBLISH_CATALOG_PARAMS = "application/vnd.vmware.admin.publishCatalogParams+xml";
    /// Admin VDC.
    ADMIN_VDC = "application/vnd.vmware.admin.vdc+xml";
    /// User.
    ADMIN_USER = "application/vnd.vmware.admin.user+xml";
    /// Role.
    ADMIN_ROLE = "application/vnd.vmware.admin.role+xml";
    /// Right.
    ADMIN_RIGHT = "application/vnd.vmware.admin.right+xml";
    /// Rights list.
    ADMIN_RIGHTS = "application/vnd.vmware.admin.rights+xml";
    /// Org rights.
    ADMIN_ORG_RIGHTS = "application/vnd.vmware.admin.org.rights+xml";
    /// `vmext:VMWExtension`.
    ADMIN_VMW_EXTENSION = "application/vnd.vmware.admin.vmwExtension+xml";
    /// Extension services collection.
    ADMIN_EXTENSION_SERVICES = "application/vnd.vmware.admin.extensionServices+xml";
    /// `vmext:Service`.
    ADMIN_SERVICE = "application/vnd.vmware.admin.service+xml";
    /// `vmext:ApiFilter`.
    ADMIN_API_FILTER = "application/vnd.vmware.admin.apiFilter+xml";
    /// `vmext:AmqpSettings`.
    ADMIN_AMQP_SETTINGS = "application/vnd.vmware.admin.amqpSettings+xml";
    /// `vmext:AmqpSettingsTest`.
    ADMIN_AMQP_SETTINGS_TEST = "application/vnd.vmware.admin.amqpSettingsTest+xml";
    /// `vmext:VMWVimServerReferences`.
    ADMIN_VMW_VIM_SERVER_REFERENCES = "application/vnd.vmware.admin.vmwVimServerReferences+xml";
    /// `vmext:VimServer` (note the lower-case `v` in `vmwvirtualcenter`).
    ADMIN_VMW_VIRTUAL_CENTER = "application/vnd.vmware.admin.vmwvirtualcenter+xml";
    /// OVF descriptor upload.
    TEXT_XML = "text/xml";
    /// CSE's own task owner type (stored verbatim by vCD).
    CSE_CLUSTER = "application/vcloud.cse.cluster+xml";
}

/// `<media type>;version=<api version>`, the `Accept`/`Content-Type` form vCD uses.
pub fn with_version(media_type: &str, api_version: &str) -> String {
    format!("{media_type};version={api_version}")
}

/// `application/*+xml;version=<v>`, the `Accept` header pyvcloud sends on every call.
pub fn any_xml_accept(api_version: &str) -> String {
    with_version("application/*+xml", api_version)
}
