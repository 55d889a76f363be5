//! The `ServiceContent` of the simulated vCenter (API 6.7.1, the MoIds real
//! vCenter uses) and the version document pyVmomi negotiates with.

use super::VCenterConfig;
use super::values::{DataObject, MoRef, Value};

/// The API version advertised in `about.apiVersion` and the versions file.
pub const API_VERSION: &str = "6.7.1";

/// Well-known managed objects: (type, id).
pub mod ids {
    pub const SERVICE_INSTANCE: (&str, &str) = ("ServiceInstance", "ServiceInstance");
    pub const ROOT_FOLDER: (&str, &str) = ("Folder", "group-d1");
    pub const PROPERTY_COLLECTOR: (&str, &str) = ("PropertyCollector", "propertyCollector");
    pub const VIEW_MANAGER: (&str, &str) = ("ViewManager", "ViewManager");
    pub const SESSION_MANAGER: (&str, &str) = ("SessionManager", "SessionManager");
    pub const SEARCH_INDEX: (&str, &str) = ("SearchIndex", "SearchIndex");
    pub const GUEST_OPERATIONS_MANAGER: (&str, &str) =
        ("GuestOperationsManager", "guestOperationsManager");
    pub const PROCESS_MANAGER: (&str, &str) =
        ("GuestProcessManager", "guestOperationsProcessManager");
    pub const FILE_MANAGER: (&str, &str) = ("GuestFileManager", "guestOperationsFileManager");
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
