//! The entities of the simulated vCD and how they refer to each other.
//! Plain data; the rules that change them live in the sibling modules.

use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::Ipv4Addr;
use uuid::Uuid;

use crate::guest_api::DiskId;
use crate::world::RoleName;

/// Id of every simulated entity: a random UUID, as in vCD's hrefs and URNs.
pub type Id = Uuid;

/// A reference to any first-class entity.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum EntityRef {
    /// An organization.
    Org(Id),
    /// An organization VDC.
    Vdc(Id),
    /// An org VDC network.
    Network(Id),
    /// A VDC storage profile.
    StorageProfile(Id),
    /// A catalog.
    Catalog(Id),
    /// A catalog item.
    CatalogItem(Id),
    /// A vApp template.
    Template(Id),
    /// A VM of a vApp template.
    TemplateVm(Id),
    /// A vApp.
    VApp(Id),
    /// A VM of a vApp.
    Vm(Id),
    /// A task.
    Task(Id),
    /// A user.
    User(Id),
    /// A role.
    Role(Id),
    /// A right.
    Right(Id),
    /// An API extension service.
    Service(Id),
    /// An API filter of an extension service.
    ApiFilter(Id),
    /// A registered vCenter server.
    VimServer(Id),
    /// A media image (ISO, floppy).
    Media(Id),
}

impl EntityRef {
    /// The entity's UUID.
    pub fn id(&self) -> Id {
        match *self {
            EntityRef::Org(i)
            | EntityRef::Vdc(i)
            | EntityRef::Network(i)
            | EntityRef::StorageProfile(i)
            | EntityRef::Catalog(i)
            | EntityRef::CatalogItem(i)
            | EntityRef::Template(i)
            | EntityRef::TemplateVm(i)
            | EntityRef::VApp(i)
            | EntityRef::Vm(i)
            | EntityRef::Task(i)
            | EntityRef::User(i)
            | EntityRef::Role(i)
            | EntityRef::Right(i)
            | EntityRef::Service(i)
            | EntityRef::ApiFilter(i)
            | EntityRef::VimServer(i)
            | EntityRef::Media(i) => i,
        }
    }

    /// vCD's URN of the entity.
    pub fn urn(&self) -> String {
        let kind = match self {
            EntityRef::Org(_) => "org",
            EntityRef::Vdc(_) => "vdc",
            EntityRef::Network(_) => "network",
            EntityRef::StorageProfile(_) => "vdcstorageProfile",
            EntityRef::Catalog(_) => "catalog",
            EntityRef::CatalogItem(_) => "catalogitem",
            EntityRef::Template(_) => "vapptemplate",
            EntityRef::TemplateVm(_) | EntityRef::Vm(_) => "vm",
            EntityRef::VApp(_) => "vapp",
            EntityRef::Task(_) => "task",
            EntityRef::User(_) => "user",
            EntityRef::Role(_) => "role",
            EntityRef::Right(_) => "right",
            EntityRef::Service(_) => "service",
            EntityRef::ApiFilter(_) => "apifilter",
            EntityRef::VimServer(_) => "vimserver",
            EntityRef::Media(_) => "media",
        };
        format!("urn:vcloud:{kind}:{}", self.id())
    }

    /// The path under the base URL (`/api/...`).
    pub fn path(&self) -> String {
        let id = self.id();
        match self {
            EntityRef::Org(_) => format!("/api/org/{id}"),
            EntityRef::Vdc(_) => format!("/api/vdc/{id}"),
            EntityRef::Network(_) => format!("/api/network/{id}"),
            EntityRef::StorageProfile(_) => format!("/api/vdcStorageProfile/{id}"),
            EntityRef::Catalog(_) => format!("/api/catalog/{id}"),
            EntityRef::CatalogItem(_) => format!("/api/catalogItem/{id}"),
            EntityRef::Template(_) => format!("/api/vAppTemplate/vappTemplate-{id}"),
            EntityRef::TemplateVm(_) => format!("/api/vAppTemplate/vm-{id}"),
            EntityRef::VApp(_) => format!("/api/vApp/vapp-{id}"),
            EntityRef::Vm(_) => format!("/api/vApp/vm-{id}"),
            EntityRef::Task(_) => format!("/api/task/{id}"),
            EntityRef::User(_) => format!("/api/admin/user/{id}"),
            EntityRef::Role(_) => format!("/api/admin/role/{id}"),
            EntityRef::Right(_) => format!("/api/admin/right/{id}"),
            EntityRef::Service(_) => format!("/api/admin/extension/service/{id}"),
            EntityRef::ApiFilter(_) => format!("/api/admin/extension/service/apifilter/{id}"),
            EntityRef::VimServer(_) => format!("/api/admin/extension/vimServer/{id}"),
            EntityRef::Media(_) => format!("/api/media/{id}"),
        }
    }

    /// The media type of the entity's document.
    pub fn media_type(&self) -> &'static str {
        match self {
            EntityRef::Org(_) => "application/vnd.vmware.vcloud.org+xml",
            EntityRef::Vdc(_) => "application/vnd.vmware.vcloud.vdc+xml",
            EntityRef::Network(_) => "application/vnd.vmware.vcloud.orgNetwork+xml",
            EntityRef::StorageProfile(_) => "application/vnd.vmware.vcloud.vdcStorageProfile+xml",
            EntityRef::Catalog(_) => "application/vnd.vmware.vcloud.catalog+xml",
            EntityRef::CatalogItem(_) => "application/vnd.vmware.vcloud.catalogItem+xml",
            EntityRef::Template(_) => "application/vnd.vmware.vcloud.vAppTemplate+xml",
            EntityRef::TemplateVm(_) | EntityRef::Vm(_) => "application/vnd.vmware.vcloud.vm+xml",
            EntityRef::VApp(_) => "application/vnd.vmware.vcloud.vApp+xml",
            EntityRef::Task(_) => "application/vnd.vmware.vcloud.task+xml",
            EntityRef::User(_) => "application/vnd.vmware.admin.user+xml",
            EntityRef::Role(_) => "application/vnd.vmware.admin.role+xml",
            EntityRef::Right(_) => "application/vnd.vmware.admin.right+xml",
            EntityRef::Service(_) => "application/vnd.vmware.admin.service+xml",
            EntityRef::ApiFilter(_) => "application/vnd.vmware.admin.apiFilter+xml",
            EntityRef::VimServer(_) => "application/vnd.vmware.admin.vmwvirtualcenter+xml",
            EntityRef::Media(_) => "application/vnd.vmware.vcloud.media+xml",
        }
    }
}

/// Extracts the UUID at the end of an href, URN or bare id.
pub fn uuid_of(value: &str) -> Option<Id> {
    let trimmed = value.trim().trim_matches('"').trim_end_matches('/');
    let tail = trimmed.rsplit(['/', ':']).next().unwrap_or(trimmed);
    for prefix in ["vappTemplate-", "vapp-", "vm-"] {
        if let Some(rest) = tail.strip_prefix(prefix) {
            return Uuid::parse_str(rest).ok();
        }
    }
    Uuid::parse_str(tail).ok()
}

/// An organization (tenant), or the `System` org of the provider.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct Org {
    /// Its id.
    pub id: Id,
    /// Short name, used in logins (`user@org`) and URLs.
    pub name: String,
    /// Display name.
    pub full_name: String,
    /// Free text.
    pub description: String,
    /// Whether this is the provider's `System` org.
    pub is_system: bool,
}

/// A vCD user. `Debug` hides the password.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct User {
    /// Its id.
    pub id: Id,
    /// The org it belongs to.
    pub org: Id,
    /// Login name.
    pub name: String,
    /// Display name.
    pub full_name: String,
    /// Login password (compared as given; never logged).
    pub password: String,
    /// Its role.
    pub role: Id,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("name", &self.name)
            .field("password", &"***")
            .finish()
    }
}

/// A role of an org: a named set of rights.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct Role {
    /// Its id.
    pub id: Id,
    /// The org it belongs to.
    pub org: Id,
    /// Which of the built-in roles it is.
    pub kind: RoleName,
    /// Display name (`Organization Administrator`, ...).
    pub name: String,
    /// Names of the rights it grants.
    pub rights: BTreeSet<String>,
}

/// A right; extension services register their own.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct Right {
    /// Its id.
    pub id: Id,
    /// Name as vCD shows it (`{namespace}:{right}` for an extension's).
    pub name: String,
    /// Category shown in the UI.
    pub category: String,
    /// Free text.
    pub description: String,
    /// Localization key of the right's bundle.
    pub bundle_key: String,
    /// The extension service that registered it, if any.
    pub service: Option<Id>,
}

/// A storage profile of a VDC.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct StorageProfile {
    /// Its id.
    pub id: Id,
    /// Name (`*` for the default one).
    pub name: String,
}

/// An organization VDC.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct Vdc {
    /// Its id.
    pub id: Id,
    /// The org it belongs to.
    pub org: Id,
    /// Name, unique within the org.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Storage profiles VMs can be placed on.
    pub storage_profiles: Vec<StorageProfile>,
    /// Org networks of the VDC.
    pub networks: Vec<Id>,
}

/// An org VDC network with a static IP pool.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct Network {
    /// Its id.
    pub id: Id,
    /// The org it belongs to.
    pub org: Id,
    /// The VDC it belongs to.
    pub vdc: Id,
    /// Name, unique within the org.
    pub name: String,
    /// Gateway address.
    pub gateway: Ipv4Addr,
    /// Netmask.
    pub netmask: Ipv4Addr,
    /// DNS servers handed to guests.
    pub dns: Vec<Ipv4Addr>,
    /// Static IP pool ranges, first and last address included.
    pub ranges: Vec<(Ipv4Addr, Ipv4Addr)>,
    /// Pool addresses given out to NICs (freed when the VM is deleted).
    pub allocated: BTreeSet<Ipv4Addr>,
}

/// A catalog of vApp templates and media.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct Catalog {
    /// Its id.
    pub id: Id,
    /// The org owning it.
    pub org: Id,
    /// Name, unique within the org.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Shared with other orgs.
    pub published: bool,
    /// The user who created it.
    pub owner: Id,
    /// Creation time.
    pub created: DateTime<Utc>,
    /// Incremented at every change of the catalog (`Catalog/VersionNumber`).
    pub version: u32,
    /// Its items, in creation order.
    pub items: Vec<Id>,
}

/// What a catalog item holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ItemEntity {
    /// A vApp template.
    Template(Id),
    /// A media image.
    Media(Id),
}

/// An entry of a catalog (a template or a media image).
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct CatalogItem {
    /// Its id.
    pub id: Id,
    /// The catalog holding it.
    pub catalog: Id,
    /// Name, unique within the catalog.
    pub name: String,
    /// Free text.
    pub description: String,
    /// What it holds.
    pub entity: ItemEntity,
    /// Creation time.
    pub created: DateTime<Utc>,
}

impl CatalogItem {
    /// The template it holds, if it holds one.
    pub fn template(&self) -> Option<Id> {
        match self.entity {
            ItemEntity::Template(t) => Some(t),
            ItemEntity::Media(_) => None,
        }
    }

    /// Reference to the entity it holds.
    pub fn entity_ref(&self) -> EntityRef {
        match self.entity {
            ItemEntity::Template(t) => EntityRef::Template(t),
            ItemEntity::Media(m) => EntityRef::Media(m),
        }
    }
}

/// An ISO/floppy image uploaded into a catalog.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct Media {
    /// Its id.
    pub id: Id,
    /// The org owning it.
    pub org: Id,
    /// The VDC its storage is in.
    pub vdc: Id,
    /// Its catalog item.
    pub catalog_item: Id,
    /// Name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// `iso` or `floppy`.
    pub image_type: String,
    /// 0 while uploading, 1 when resolved.
    pub status: i32,
    /// Id in the upload URL (`/transfer/{id}/...`).
    pub transfer: Uuid,
    /// The uploaded file and its progress.
    pub file: UploadFile,
    /// The user who uploaded it.
    pub owner: Id,
    /// Creation time.
    pub created: DateTime<Utc>,
}

/// A file of an OVF upload.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct UploadFile {
    /// File name as the OVF descriptor lists it.
    pub name: String,
    /// Expected size in bytes (-1 while unknown).
    pub size: i64,
    /// Bytes received so far.
    pub received: u64,
    /// Byte ranges already received, to accept repeated chunks.
    pub ranges: BTreeSet<(u64, u64)>,
    /// Whether this is the OVF descriptor (`descriptor.ovf`).
    pub is_descriptor: bool,
}

/// A vApp template: uploaded as an OVF, or captured from a vApp.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct Template {
    /// Its id.
    pub id: Id,
    /// The org owning it.
    pub org: Id,
    /// The VDC its storage is in.
    pub vdc: Id,
    /// Its catalog item (`None` for a template not in a catalog).
    pub catalog_item: Option<Id>,
    /// Name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// 0 while uploading / importing, 8 when resolved.
    pub status: i32,
    /// Whether the OVF descriptor has arrived.
    pub ovf_uploaded: bool,
    /// Id in the upload URLs (`/transfer/{id}/...`).
    pub transfer: Uuid,
    /// Files of the upload: the descriptor, then those it names.
    pub files: Vec<UploadFile>,
    /// VMs the descriptor declares, created when every file has arrived.
    pub pending_vms: Vec<crate::state::OvfVm>,
    /// Network names of the descriptor's `NetworkSection`.
    pub network_names: Vec<String>,
    /// Guest OS of the descriptor (`osType` and description); chooses the guest disk image.
    pub os_hint: String,
    /// Its VMs, once resolved.
    pub vms: Vec<Id>,
    /// The user who uploaded or captured it.
    pub owner: Id,
    /// Creation time.
    pub created: DateTime<Utc>,
}

/// IP addressing mode of a NIC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum IpMode {
    /// An address from the network's static pool.
    Pool,
    /// An address from DHCP.
    Dhcp,
    /// An address given in the request.
    Manual,
    /// No address.
    None,
}

impl IpMode {
    /// From vCD's `IpAddressAllocationMode` text (any case).
    pub fn parse(s: &str) -> Option<IpMode> {
        match s.trim().to_ascii_uppercase().as_str() {
            "POOL" => Some(IpMode::Pool),
            "DHCP" => Some(IpMode::Dhcp),
            "MANUAL" => Some(IpMode::Manual),
            "NONE" => Some(IpMode::None),
            _ => None,
        }
    }
    /// vCD's `IpAddressAllocationMode` text.
    pub fn as_str(&self) -> &'static str {
        match self {
            IpMode::Pool => "POOL",
            IpMode::Dhcp => "DHCP",
            IpMode::Manual => "MANUAL",
            IpMode::None => "NONE",
        }
    }
}

/// A virtual network card of a VM.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Nic {
    /// Index on the VM (`NetworkConnectionIndex`), from 0.
    pub index: u32,
    /// vApp network name, or `none`.
    pub network: String,
    /// The org network the address came from (to give it back).
    pub org_network: Option<Id>,
    /// Its address, once allocated.
    pub ip: Option<Ipv4Addr>,
    /// How the address is allocated.
    pub mode: IpMode,
    /// Whether the NIC is connected.
    pub connected: bool,
    /// MAC address.
    pub mac: String,
    /// Adapter type (`VMXNET3`, `E1000`, ...).
    pub adapter_type: String,
}

/// `GuestCustomizationSection` of a VM. `Debug` hides the password.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GuestCustomization {
    /// Customization runs at the next power-on.
    pub enabled: bool,
    /// Customization sets the root/administrator password.
    pub admin_password_enabled: bool,
    /// vCD generates the password (`AdminAutoGeneratePassword`).
    pub admin_password_auto: bool,
    /// The password to set (generated or given).
    pub admin_password: String,
    /// The guest must change the password at first login.
    pub reset_password_required: bool,
    /// The customization script (`CustomizationScript`), run before and after customization.
    pub script: Option<String>,
    /// Host name to set in the guest.
    pub computer_name: String,
}

impl fmt::Debug for GuestCustomization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuestCustomization")
            .field("computer_name", &self.computer_name)
            .field("admin_password", &"***")
            .finish()
    }
}

/// Where a VM lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum VmParent {
    /// A VM of a vApp.
    VApp(Id),
    /// A VM of a vApp template.
    Template(Id),
}

/// Power state as vCD shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Power {
    /// Powered off.
    Off,
    /// Powered on.
    On,
    /// Suspended.
    Suspended,
}

/// A VM of a vApp or of a vApp template.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Vm {
    /// Its id.
    pub id: Id,
    /// The vApp or template holding it.
    pub parent: VmParent,
    /// The org owning it.
    pub org: Id,
    /// The VDC it runs in.
    pub vdc: Id,
    /// Name, unique within its vApp.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Virtual CPUs.
    pub cpus: u32,
    /// Cores per socket.
    pub cores_per_socket: u32,
    /// Memory in MB.
    pub memory_mb: u64,
    /// Size of its disk in MB.
    pub disk_mb: u64,
    /// vCD guest OS identifier (`other3xLinux64Guest`, ...).
    pub os_type: String,
    /// Network cards.
    pub nics: Vec<Nic>,
    /// Index of the NIC whose address is the VM's address.
    pub primary_nic: u32,
    /// Power state.
    pub power: Power,
    /// Whether the VM is deployed (vCD's deploy/undeploy).
    pub deployed: bool,
    /// Still to customize on the next power-on.
    pub needs_customization: bool,
    /// Guest customization settings.
    pub customization: GuestCustomization,
    /// vCenter managed object id, once the VM exists in vCenter.
    pub moref: Option<String>,
    /// The vCenter it lives in.
    pub vcenter: Option<Id>,
    /// Disk image in the guest model.
    pub disk: Option<DiskId>,
    /// Storage profile of its disk.
    pub storage_profile: Option<Id>,
    /// Creation time.
    pub created: DateTime<Utc>,
    /// 0 while being created; otherwise derived from the power state.
    pub creating: bool,
}

impl Vm {
    /// vCD status code: 0 unresolved, 3 suspended, 4 on, 8 off.
    pub fn status(&self) -> i32 {
        if self.creating {
            return 0;
        }
        match self.power {
            Power::On => 4,
            Power::Off => 8,
            Power::Suspended => 3,
        }
    }

    /// Address of the primary NIC, if it has one.
    pub fn primary_ip(&self) -> Option<Ipv4Addr> {
        self.nics
            .iter()
            .find(|n| n.index == self.primary_nic)
            .and_then(|n| n.ip)
    }
}

/// A network of a vApp.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct VAppNetwork {
    /// Name, which NICs refer to.
    pub name: String,
    /// The org network it connects to (`None`: isolated).
    pub parent: Option<Id>,
    /// `bridged`, `natRouted` or `isolated`.
    pub fence_mode: String,
}

/// A vApp: VMs and their networks.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct VApp {
    /// Its id.
    pub id: Id,
    /// The org owning it.
    pub org: Id,
    /// The VDC it runs in.
    pub vdc: Id,
    /// Name, unique within the VDC.
    pub name: String,
    /// Free text.
    pub description: String,
    /// The user who owns it.
    pub owner: Id,
    /// Creation time.
    pub created: DateTime<Utc>,
    /// Its networks.
    pub networks: Vec<VAppNetwork>,
    /// Its VMs, in creation order.
    pub vms: Vec<Id>,
    /// Still being created (status 0, unresolved).
    pub creating: bool,
}

/// Metadata domain.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Domain {
    /// Tenants may read and write it.
    General,
    /// Only the system administrator may write it (`SYSTEM` domain).
    System,
}

impl Domain {
    /// From `GENERAL` / `SYSTEM` (any case).
    pub fn parse(s: &str) -> Option<Domain> {
        match s.trim().to_ascii_uppercase().as_str() {
            "GENERAL" => Some(Domain::General),
            "SYSTEM" => Some(Domain::System),
            _ => None,
        }
    }
    /// The domain as vCD writes it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Domain::General => "GENERAL",
            Domain::System => "SYSTEM",
        }
    }
}

/// Type of a metadata value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum MetaType {
    /// `MetadataStringValue`.
    String,
    /// `MetadataNumberValue` (an integer).
    Number,
    /// `MetadataBooleanValue`.
    Boolean,
    /// `MetadataDateTimeValue` (RFC 3339).
    DateTime,
}

impl MetaType {
    /// From `xsi:type` (`MetadataStringValue`) or a filter prefix (`STRING`).
    pub fn parse(s: &str) -> Option<MetaType> {
        let s = s.rsplit(':').next().unwrap_or(s);
        match s.to_ascii_uppercase().as_str() {
            "METADATASTRINGVALUE" | "STRING" => Some(MetaType::String),
            "METADATANUMBERVALUE" | "NUMBER" => Some(MetaType::Number),
            "METADATABOOLEANVALUE" | "BOOLEAN" => Some(MetaType::Boolean),
            "METADATADATETIMEVALUE" | "DATETIME" => Some(MetaType::DateTime),
            _ => None,
        }
    }
    /// The `xsi:type` of the value (`MetadataStringValue`, ...).
    pub fn xsi_type(&self) -> &'static str {
        match self {
            MetaType::String => "MetadataStringValue",
            MetaType::Number => "MetadataNumberValue",
            MetaType::Boolean => "MetadataBooleanValue",
            MetaType::DateTime => "MetadataDateTimeValue",
        }
    }
}

/// One metadata entry of an entity.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MetaEntry {
    /// The domain.
    pub domain: Domain,
    /// `READWRITE` (`GENERAL` domain), `READONLY` or `PRIVATE` (`SYSTEM` domain).
    pub visibility: String,
    /// The key.
    pub key: String,
    /// Type of the value.
    pub kind: MetaType,
    /// The value as text.
    pub value: String,
}

/// Metadata of one entity, keyed by (domain, key).
pub type Metadata = BTreeMap<(Domain, String), MetaEntry>;

/// Task status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TaskStatus {
    /// Queued, not started.
    Queued,
    /// Waiting for an extension or for approval before running.
    PreRunning,
    /// Running.
    Running,
    /// Ended successfully.
    Success,
    /// Ended with an error (`Task/Error`).
    Error,
    /// Canceled on request.
    Canceled,
    /// Aborted by the system.
    Aborted,
}

impl TaskStatus {
    /// From vCD's status text (any case).
    pub fn parse(s: &str) -> Option<TaskStatus> {
        match s.trim().to_ascii_lowercase().as_str() {
            "queued" => Some(TaskStatus::Queued),
            "prerunning" => Some(TaskStatus::PreRunning),
            "running" => Some(TaskStatus::Running),
            "success" => Some(TaskStatus::Success),
            "error" => Some(TaskStatus::Error),
            "canceled" => Some(TaskStatus::Canceled),
            "aborted" => Some(TaskStatus::Aborted),
            _ => None,
        }
    }
    /// vCD's status text (`preRunning`, ...).
    pub fn as_str(&self) -> &'static str {
        match self {
            TaskStatus::Queued => "queued",
            TaskStatus::PreRunning => "preRunning",
            TaskStatus::Running => "running",
            TaskStatus::Success => "success",
            TaskStatus::Error => "error",
            TaskStatus::Canceled => "canceled",
            TaskStatus::Aborted => "aborted",
        }
    }
    /// Whether the task has ended (success, error, canceled or aborted).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            TaskStatus::Success | TaskStatus::Error | TaskStatus::Canceled | TaskStatus::Aborted
        )
    }
}

/// An error as vCD reports it (in `Error` documents and `Task/Error`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ErrorInfo {
    /// HTTP status (`majorErrorCode`).
    pub major: u16,
    /// vCD's `minorErrorCode` (`ACCESS_TO_RESOURCE_IS_FORBIDDEN`, ...).
    pub minor: String,
    /// The message.
    pub message: String,
    /// `stackTrace`, when there is one.
    pub stack_trace: String,
}

/// What a task is about: a known entity or what an extension wrote verbatim.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TaskOwner {
    /// An entity of the simulator.
    Entity {
        /// The entity.
        entity: EntityRef,
        /// Its name at the time.
        name: String,
    },
    /// An owner written verbatim by an extension.
    Raw {
        /// Its href.
        href: String,
        /// Its name.
        name: String,
        /// Its media type.
        media_type: String,
    },
}

/// A vCD task.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Task {
    /// Its id.
    pub id: Id,
    /// The org it belongs to.
    pub org: Id,
    /// `task` for the simulator's own tasks, or the name an extension gives.
    pub name: String,
    /// Human-readable description of the operation.
    pub operation: String,
    /// Operation name (`vappDeploy`, `clusterCreate`, ...).
    pub operation_name: String,
    /// Namespace of the operation (`com.vmware.vcloud` or an extension's).
    pub service_namespace: String,
    /// Status.
    pub status: TaskStatus,
    /// The entity the task is about.
    pub owner: TaskOwner,
    /// User href/URN and name.
    pub user_ref: String,
    /// The user's name.
    pub user_name: String,
    /// Start time.
    pub start: DateTime<Utc>,
    /// End time, once terminal.
    pub end: Option<DateTime<Utc>>,
    /// `expiryTime`: start plus the task lifetime (90 days unless set:
    /// [`crate::state::Sim::set_task_lifetime`]).
    pub expiry: DateTime<Utc>,
    /// The error of a failed task.
    pub error: Option<ErrorInfo>,
    /// Progress 0..=100, when known.
    pub progress: Option<u32>,
    /// Free text an extension sets.
    pub details: String,
    /// Cancellation was asked and not yet acted on.
    pub cancel_requested: bool,
    /// Created by an extension through a tasks list.
    pub external: bool,
    /// How many updates (`PUT` of the task) gave it a terminal status: an
    /// extension that ends each task once leaves it at 1.
    pub terminal_updates: u32,
}

/// An API filter: which request URLs vCD hands to an extension.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ApiFilter {
    /// Its id.
    pub id: Id,
    /// The URL pattern as registered (a regular expression).
    pub pattern: String,
    /// The compiled pattern vCD's routing (`crate::ext::filters`) matches.
    #[serde(skip)]
    pub compiled: Option<crate::ext::ApiFilter>,
}

/// An API extension service (CSE registers one).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ExtensionService {
    /// Its id.
    pub id: Id,
    /// Name.
    pub name: String,
    /// Namespace (`cse`); rights are prefixed with it.
    pub namespace: String,
    /// Vendor.
    pub vendor: String,
    /// Whether vCD routes requests to it.
    pub enabled: bool,
    /// AMQP exchange the requests go to.
    pub exchange: String,
    /// Routing key of the requests.
    pub routing_key: String,
    /// `vmext:Priority` as registered (stored and shown; routing takes the first match).
    pub priority: i32,
    /// Whether vCD checks the service's rights before routing.
    pub authorization_enabled: bool,
    /// Free text.
    pub description: String,
    /// Its API filters.
    pub filters: Vec<ApiFilter>,
    /// Set for an extension registered through CloudAPI
    /// (`/cloudapi/extensions/api`): it talks MQTT, not AMQP.
    pub mqtt: Option<MqttRegistration>,
}

/// What vCD keeps of an MQTT API extension besides the service fields.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MqttRegistration {
    /// The extension's version (`vendor`, `name` and `version` are unique together).
    pub version: String,
    /// The topic vCD publishes requests on (the extension subscribes it).
    pub monitor: String,
    /// The topic the extension publishes responses on.
    pub respond: String,
}

impl MqttRegistration {
    /// vCD's topics for an extension triplet.
    pub fn for_triplet(vendor: &str, name: &str, version: &str) -> Self {
        MqttRegistration {
            version: version.to_string(),
            monitor: format!("topic/extension/{vendor}/{name}/{version}/ext"),
            respond: format!("topic/extension/{vendor}/{name}/{version}/vcd"),
        }
    }
}

/// vCD's AMQP broker settings (`/api/admin/extension/settings/amqp`). `Debug` hides the password.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AmqpSettings {
    /// Broker host.
    pub host: String,
    /// Broker port.
    pub port: u16,
    /// Broker user.
    pub username: String,
    /// Broker password.
    pub password: String,
    /// Exchange of extension requests.
    pub exchange: String,
    /// Virtual host.
    pub vhost: String,
    /// Whether vCD connects with TLS.
    pub use_ssl: bool,
    /// Whether vCD accepts any broker certificate.
    pub ssl_accept_all: bool,
    /// Prefix of the AMQP names vCD uses (`vcd`).
    pub prefix: String,
}

impl fmt::Debug for AmqpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AmqpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &"***")
            .finish()
    }
}

/// A vCenter server registered in vCD. `Debug` hides the password.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct VimServer {
    /// Its id.
    pub id: Id,
    /// Name.
    pub name: String,
    /// URL of its SDK (`https://host/sdk`).
    pub url: String,
    /// User vCD logs in with.
    pub username: String,
    /// That user's password.
    pub password: String,
    /// vCenter's instance UUID.
    pub uuid: Uuid,
    /// vCenter version.
    pub version: String,
}

impl fmt::Debug for VimServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VimServer")
            .field("name", &self.name)
            .field("url", &self.url)
            .finish()
    }
}

/// A logged-in session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The logged-in user.
    pub user: Id,
    /// Login time.
    pub created: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_of_accepts_every_form() {
        let id = Uuid::parse_str("5b0f0000-1111-2222-3333-444455556666").unwrap();
        for v in [
            "5b0f0000-1111-2222-3333-444455556666".to_string(),
            format!("urn:vcloud:vdc:{id}"),
            format!("https://h:443/api/vdc/{id}"),
            format!("\"https://h/api/admin/org/{id}\""),
            format!("http://h/api/vApp/vapp-{id}"),
            format!("http://h/api/vAppTemplate/vappTemplate-{id}/"),
        ] {
            assert_eq!(uuid_of(&v), Some(id), "{v}");
        }
        assert_eq!(uuid_of("nonsense"), None);
    }
}
