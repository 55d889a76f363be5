//! The property resolver behind `RetrievePropertiesEx`, `RetrieveProperties`
//! and `Fetch`: which managed objects exist, which properties each has, and
//! how a dotted path (`guest.toolsRunningStatus`) walks into data objects.
//!
//! Only 6.7-era properties and enum values are produced: anything newer is a
//! hard parse error in pyVmomi.

use sha2::{Digest, Sha256};

use crate::guest_api::{GuestVmInfo, PowerState, ToolsRunningStatus};

use super::Inner;
use super::faults::VimFault;
use super::service_content::{ids, service_content, well_known};
use super::sessions::Session;
use super::values::{DataObject, MoRef, Value};

/// Reads one property path of one object. `Ok(None)` = the property exists
/// but is unset (its `propSet` is left out; `Fetch` answers empty).
pub fn read_property(
    inner: &Inner,
    session: Option<&Session>,
    obj: &MoRef,
    path: &str,
) -> Result<Option<Value>, VimFault> {
    let mut segments = path.split('.');
    let first = segments.next().unwrap_or_default();
    let invalid = || VimFault::InvalidProperty {
        name: path.to_owned(),
    };
    let mut current = top_level(inner, session, obj, first)?.ok_or_else(invalid)?;
    for segment in segments {
        let Some(value) = current else {
            return Ok(None);
        };
        let Value::Data(data) = value else {
            return Err(invalid());
        };
        current = data.get(segment).ok_or_else(invalid)?.cloned();
    }
    Ok(current)
}

/// `None`: no such property; `Some(None)`: unset.
fn top_level(
    inner: &Inner,
    session: Option<&Session>,
    obj: &MoRef,
    name: &str,
) -> Result<Option<Option<Value>>, VimFault> {
    let not_found = || VimFault::ManagedObjectNotFound { obj: obj.clone() };
    let is = |known: (&str, &str)| obj.kind == known.0 && obj.id == known.1;
    let value = match obj.kind.as_str() {
        "VirtualMachine" => {
            let info = inner.guests.vm_info(&obj.id).ok_or_else(not_found)?;
            vm_property(inner, &info, name)
        }
        "ServiceInstance" if is(ids::SERVICE_INSTANCE) => match name {
            "content" => Some(Some(Value::Data(service_content(&inner.config)))),
            "serverClock" => Some(Some(Value::DateTime(chrono::Utc::now()))),
            _ => None,
        },
        "SessionManager" if is(ids::SESSION_MANAGER) => match name {
            "currentSession" => Some(session.map(|s| Value::Data(user_session(s)))),
            "defaultLocale" | "messageLocale" => Some(Some(Value::string("en"))),
            _ => None,
        },
        "GuestOperationsManager" if is(ids::GUEST_OPERATIONS_MANAGER) => match name {
            "authManager" => Some(Some(Value::MoRef(well_known(ids::AUTH_MANAGER)))),
            "fileManager" => Some(Some(Value::MoRef(well_known(ids::FILE_MANAGER)))),
            "processManager" => Some(Some(Value::MoRef(well_known(ids::PROCESS_MANAGER)))),
            "guestWindowsRegistryManager" | "aliasManager" => Some(None),
            _ => None,
        },
        "Folder" if is(ids::ROOT_FOLDER) => match name {
            "name" => Some(Some(Value::string("Datacenters"))),
            "childType" => Some(Some(Value::StringArray(vec![
                "Folder".into(),
                "Datacenter".into(),
            ]))),
            "parent" => Some(None),
            _ => None,
        },
        "ViewManager" if is(ids::VIEW_MANAGER) => match name {
            "viewList" => {
                let views = inner.views.ids();
                Some((!views.is_empty()).then(|| {
                    Value::MoRefArray(
                        views
                            .into_iter()
                            .map(|id| MoRef::new("ContainerView", id))
                            .collect(),
                    )
                }))
            }
            _ => None,
        },
        "ContainerView" => {
            let view = inner.views.get(&obj.id).ok_or_else(not_found)?;
            match name {
                "view" => {
                    let vms: Vec<MoRef> = inner
                        .guests
                        .list_vms()
                        .into_iter()
                        .filter(|_| view.includes_vms())
                        .map(|vm| MoRef::vm(vm.moref))
                        .collect();
                    Some((!vms.is_empty()).then_some(Value::MoRefArray(vms)))
                }
                "container" => Some(Some(Value::MoRef(view.container.clone()))),
                "type" => {
                    Some((!view.types.is_empty()).then(|| Value::StringArray(view.types.clone())))
                }
                "recursive" => Some(Some(Value::Bool(view.recursive))),
                _ => None,
            }
        }
        "PropertyCollector" if is(ids::PROPERTY_COLLECTOR) => None,
        "SearchIndex" if is(ids::SEARCH_INDEX) => None,
        "GuestProcessManager" if is(ids::PROCESS_MANAGER) => None,
        "GuestFileManager" if is(ids::FILE_MANAGER) => None,
        "GuestAuthManager" if is(ids::AUTH_MANAGER) => None,
        _ => return Err(not_found()),
    };
    Ok(value)
}

fn enum_value(type_name: &'static str, value: &'static str) -> Value {
    Value::Enum { type_name, value }
}

fn tools_up(info: &GuestVmInfo) -> bool {
    info.power_state == PowerState::PoweredOn
        && info.tools_running_status != ToolsRunningStatus::NotRunning
}

fn vm_property(inner: &Inner, info: &GuestVmInfo, name: &str) -> Option<Option<Value>> {
    let value = match name {
        "name" => Value::string(&info.name),
        "guest" => Value::Data(guest_info(info)),
        "runtime" => Value::Data(runtime_info(info)),
        "config" => Value::Data(config_info(inner, info)),
        "summary" => Value::Data(summary(inner, info)),
        "guestHeartbeatStatus" => enum_value(
            "ManagedEntityStatus",
            if tools_up(info) { "green" } else { "gray" },
        ),
        "overallStatus" => enum_value("ManagedEntityStatus", "green"),
        "parent" | "resourcePool" | "snapshot" => return Some(None),
        _ => return None,
    };
    Some(Some(value))
}

/// `GuestInfo` as vCenter 6.7 reports it for a Linux guest.
pub fn guest_info(info: &GuestVmInfo) -> DataObject {
    let up = tools_up(info);
    let running = |v: Value| up.then_some(v);
    DataObject::new("GuestInfo")
        .field(
            "toolsStatus",
            enum_value(
                "VirtualMachineToolsStatus",
                if up { "toolsOk" } else { "toolsNotRunning" },
            ),
        )
        .field("toolsVersionStatus", Value::string("guestToolsUnmanaged"))
        .field("toolsVersionStatus2", Value::string("guestToolsUnmanaged"))
        .field(
            "toolsRunningStatus",
            Value::string(info.tools_running_status.as_vim()),
        )
        .field("toolsVersion", Value::string("10304"))
        .field("toolsInstallType", None)
        .field("guestId", running(Value::string("otherLinux64Guest")))
        .field("guestFamily", running(Value::string("linuxGuest")))
        .field(
            "guestFullName",
            running(Value::string("Other Linux (64-bit)")),
        )
        .field("hostName", info.host_name.clone().map(Value::String))
        .field("ipAddress", info.ip_address.clone().map(Value::String))
        .field("net", None)
        .field("ipStack", None)
        .field("disk", None)
        .field("screen", None)
        .field(
            "guestState",
            Value::string(if up { "running" } else { "notRunning" }),
        )
        .field("appHeartbeatStatus", None)
        .field("guestKernelCrashed", None)
        .field("appState", None)
        .field(
            "guestOperationsReady",
            Value::Bool(info.guest_operations_ready),
        )
        .field("interactiveGuestOperationsReady", Value::Bool(false))
        .field("guestStateChangeSupported", None)
        .field("generationInfo", None)
}

/// `VirtualMachineRuntimeInfo` (required properties and the power state).
pub fn runtime_info(info: &GuestVmInfo) -> DataObject {
    DataObject::new("VirtualMachineRuntimeInfo")
        .field("device", None)
        .field("host", None)
        .field(
            "connectionState",
            enum_value("VirtualMachineConnectionState", "connected"),
        )
        .field(
            "powerState",
            enum_value("VirtualMachinePowerState", info.power_state.as_vim()),
        )
        .field(
            "faultToleranceState",
            enum_value("VirtualMachineFaultToleranceState", "notConfigured"),
        )
        .field("dasVmProtection", None)
        .field("toolsInstallerMounted", Value::Bool(false))
        .field("suspendTime", None)
        .field("bootTime", None)
        .field("suspendInterval", None)
        .field("question", None)
        .field("memoryOverhead", None)
        .field("maxCpuUsage", None)
        .field("maxMemoryUsage", None)
        .field("numMksConnections", Value::Int(0))
        .field(
            "recordReplayState",
            enum_value("VirtualMachineRecordReplayState", "inactive"),
        )
        .field("cleanPowerOff", None)
        .field("needSecondaryReason", None)
        .field("onlineStandby", Value::Bool(false))
        .field("minRequiredEVCModeKey", None)
        .field("consolidationNeeded", Value::Bool(false))
        .field("offlineFeatureRequirement", None)
        .field("featureRequirement", None)
        .field("featureMask", None)
        .field("vFlashCacheAllocation", None)
        .field("paused", Value::Bool(false))
        .field("snapshotInBackground", Value::Bool(false))
        .field("quiescedForkParent", None)
        .field("instantCloneFrozen", Value::Bool(false))
        .field("cryptoState", None)
}

/// The identity part of `VirtualMachineConfigInfo`. Hardware, files and
/// devices are not modelled and stay unset.
pub fn config_info(inner: &Inner, info: &GuestVmInfo) -> DataObject {
    DataObject::new("VirtualMachineConfigInfo")
        .field("name", Value::string(&info.name))
        .field("guestFullName", Value::string("Other Linux (64-bit)"))
        .field("version", Value::string("vmx-13"))
        .field(
            "uuid",
            Value::string(vm_uuid(&inner.config.instance_uuid, &info.moref, "bios")),
        )
        .field(
            "instanceUuid",
            Value::string(vm_uuid(
                &inner.config.instance_uuid,
                &info.moref,
                "instance",
            )),
        )
        .field("template", Value::Bool(false))
        .field("guestId", Value::string("otherLinux64Guest"))
        .field("alternateGuestName", Value::string(""))
        .field("annotation", None)
        .field("files", None)
        .field("flags", None)
        .field("defaultPowerOps", None)
        .field("hardware", None)
        .field("extraConfig", None)
}

/// `VirtualMachineSummary`: what inventory listings (`vm.summary.guest.ipAddress`) read.
pub fn summary(inner: &Inner, info: &GuestVmInfo) -> DataObject {
    let up = tools_up(info);
    let guest = DataObject::new("VirtualMachineGuestSummary")
        .field("guestId", up.then(|| Value::string("otherLinux64Guest")))
        .field(
            "guestFullName",
            up.then(|| Value::string("Other Linux (64-bit)")),
        )
        .field(
            "toolsStatus",
            enum_value(
                "VirtualMachineToolsStatus",
                if up { "toolsOk" } else { "toolsNotRunning" },
            ),
        )
        .field("toolsVersionStatus", Value::string("guestToolsUnmanaged"))
        .field("toolsVersionStatus2", Value::string("guestToolsUnmanaged"))
        .field(
            "toolsRunningStatus",
            Value::string(info.tools_running_status.as_vim()),
        )
        .field("hostName", info.host_name.clone().map(Value::String))
        .field("ipAddress", info.ip_address.clone().map(Value::String));
    let config = DataObject::new("VirtualMachineConfigSummary")
        .field("name", Value::string(&info.name))
        .field("template", Value::Bool(false))
        .field(
            "vmPathName",
            Value::string(format!("[datastore1] {0}/{0}.vmx", info.name)),
        )
        .field(
            "uuid",
            Value::string(vm_uuid(&inner.config.instance_uuid, &info.moref, "bios")),
        )
        .field(
            "instanceUuid",
            Value::string(vm_uuid(
                &inner.config.instance_uuid,
                &info.moref,
                "instance",
            )),
        )
        .field("guestId", Value::string("otherLinux64Guest"))
        .field("guestFullName", Value::string("Other Linux (64-bit)"));
    let heartbeat = if up { "green" } else { "gray" };
    let quick_stats = DataObject::new("VirtualMachineQuickStats").field(
        "guestHeartbeatStatus",
        enum_value("ManagedEntityStatus", heartbeat),
    );
    DataObject::new("VirtualMachineSummary")
        .field("vm", Value::MoRef(MoRef::vm(&info.moref)))
        .field("runtime", Value::Data(runtime_info(info)))
        .field("guest", Value::Data(guest))
        .field("config", Value::Data(config))
        .field("storage", None)
        .field("quickStats", Value::Data(quick_stats))
        .field("overallStatus", enum_value("ManagedEntityStatus", "green"))
        .field("customValue", None)
}

/// A VM's BIOS or instance UUID: stable for a (vCenter, moref) pair.
pub fn vm_uuid(vcenter_uuid: &str, moref: &str, kind: &str) -> String {
    let digest = Sha256::digest(format!("{vcenter_uuid}/{moref}/{kind}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// `UserSession` of a logged-in session.
pub fn user_session(session: &Session) -> DataObject {
    DataObject::new("UserSession")
        .field("key", Value::string(&session.key))
        .field("userName", Value::string(&session.user_name))
        .field("fullName", Value::string(&session.user_name))
        .field("loginTime", Value::DateTime(session.login_time))
        .field("lastActiveTime", Value::DateTime(session.last_active_time))
        .field("locale", Value::string("en"))
        .field("messageLocale", Value::string("en"))
        .field("extensionSession", Value::Bool(false))
        .field("ipAddress", Value::string(&session.ip_address))
        .field("userAgent", Value::string(&session.user_agent))
        .field("callCount", Value::Long(session.call_count))
}
