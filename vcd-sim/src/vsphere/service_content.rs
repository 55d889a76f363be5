//! The `ServiceContent` of the simulated vCenter (API 6.7.1, the MoIds real
//! vCenter uses) and the version document pyVmomi negotiates with.

use super::VCenterConfig;
use super::values::{DataObject, MoRef, Value};

/// The API version advertised in `about.apiVersion` and the versions file.
pub const API_VERSION: &str = "6.7.1";

/// Well-known managed objects: (type, id).
pub(crate) mod ids {
    /// The root object, `ServiceInstance`.
    pub const SERVICE_INSTANCE: (&str, &str) = ("ServiceInstance", "ServiceInstance");
    /// The inventory's root folder.
    pub const ROOT_FOLDER: (&str, &str) = ("Folder", "group-d1");
    /// The property collector.
    pub const PROPERTY_COLLECTOR: (&str, &str) = ("PropertyCollector", "propertyCollector");
    /// The view manager (container views of the inventory).
    pub const VIEW_MANAGER: (&str, &str) = ("ViewManager", "ViewManager");
    /// The session manager (`Login`, `Logout`).
    pub const SESSION_MANAGER: (&str, &str) = ("SessionManager", "SessionManager");
    /// The search index (`FindByUuid`, ...).
    pub const SEARCH_INDEX: (&str, &str) = ("SearchIndex", "SearchIndex");
    /// The guest operations manager.
    pub const GUEST_OPERATIONS_MANAGER: (&str, &str) =
        ("GuestOperationsManager", "guestOperationsManager");
    /// Guest process manager (`StartProgramInGuest`, ...).
    pub const PROCESS_MANAGER: (&str, &str) =
        ("GuestProcessManager", "guestOperationsProcessManager");
    /// Guest file manager (`InitiateFileTransferToGuest`, ...).
    pub const FILE_MANAGER: (&str, &str) = ("GuestFileManager", "guestOperationsFileManager");
    /// Guest authentication manager (`ValidateCredentialsInGuest`).
    pub const AUTH_MANAGER: (&str, &str) = ("GuestAuthManager", "guestOperationsAuthManager");
}

/// A reference to one of the well-known objects.
pub fn well_known(object: (&str, &str)) -> MoRef {
    MoRef::new(object.0, object.1)
}

fn moref_value(object: (&str, &str)) -> Value {
    Value::MoRef(well_known(object))
}

/// `AboutInfo` of a vCenter Server 6.7 U1.
pub fn about_info(config: &VCenterConfig) -> DataObject {
    DataObject::new("AboutInfo")
        .field("name", Value::string("VMware vCenter Server"))
        .field(
            "fullName",
            Value::string("VMware vCenter Server 6.7.0 build-10244807"),
        )
        .field("vendor", Value::string("VMware, Inc."))
        .field("version", Value::string("6.7.0"))
        .field("build", Value::string("10244807"))
        .field("localeVersion", Value::string("INTL"))
        .field("localeBuild", Value::string("000"))
        .field("osType", Value::string("linux-x64"))
        .field("productLineId", Value::string("vpx"))
        .field("apiType", Value::string("VirtualCenter"))
        .field("apiVersion", Value::string(API_VERSION))
        .field("instanceUuid", Value::string(&config.instance_uuid))
        .field(
            "licenseProductName",
            Value::string("VMware VirtualCenter Server"),
        )
        .field("licenseProductVersion", Value::string("6.0"))
}

/// `ServiceContent` with the managers this simulator serves.
pub fn service_content(config: &VCenterConfig) -> DataObject {
    DataObject::new("ServiceContent")
        .field("rootFolder", moref_value(ids::ROOT_FOLDER))
        .field("propertyCollector", moref_value(ids::PROPERTY_COLLECTOR))
        .field("viewManager", moref_value(ids::VIEW_MANAGER))
        .field("about", Value::Data(about_info(config)))
        .field("sessionManager", moref_value(ids::SESSION_MANAGER))
        .field("searchIndex", moref_value(ids::SEARCH_INDEX))
        .field(
            "guestOperationsManager",
            moref_value(ids::GUEST_OPERATIONS_MANAGER),
        )
}

/// `/sdk/vimServiceVersions.xml`.
pub fn versions_document() -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<namespaces version="1.0">
 <namespace>
  <name>urn:vim25</name>
  <version>{API_VERSION}</version>
  <priorVersions>
   <version>6.0</version>
   <version>6.5</version>
   <version>6.7</version>
  </priorVersions>
 </namespace>
</namespaces>
"#
    )
}
