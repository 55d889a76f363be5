//! The entities of the simulated vCD and how they refer to each other.
//! Plain data; the rules that change them live in the sibling modules.

use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::Ipv4Addr;
use uuid::Uuid;

use crate::guest_api::DiskId;
use crate::world::RoleName;

pub type Id = Uuid;

/// A reference to any first-class entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntityRef {
    Org(Id),
    Vdc(Id),
    Network(Id),
    StorageProfile(Id),
    Catalog(Id),
    CatalogItem(Id),
    Template(Id),
    /// A VM of a vApp template.
    TemplateVm(Id),
    VApp(Id),
    Vm(Id),
    Task(Id),
    User(Id),
    Role(Id),
    Right(Id),
    Service(Id),
    ApiFilter(Id),
    VimServer(Id),
    Media(Id),
}

impl EntityRef {
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

pub struct Org {
    pub id: Id,
    pub name: String,
    pub full_name: String,
    pub description: String,
    pub is_system: bool,
}

#[derive(Clone)]
pub struct User {
    pub id: Id,
    pub org: Id,
    pub name: String,
    pub full_name: String,
    pub password: String,
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

pub struct Role {
    pub id: Id,
    pub org: Id,
    pub kind: RoleName,
    pub name: String,
    pub rights: BTreeSet<String>,
}

pub struct Right {
    pub id: Id,
    pub name: String,
    pub category: String,
    pub description: String,
    pub bundle_key: String,
    pub service: Option<Id>,
}

pub struct StorageProfile {
    pub id: Id,
    pub name: String,
}

pub struct Vdc {
    pub id: Id,
    pub org: Id,
    pub name: String,
    pub description: String,
    pub storage_profiles: Vec<StorageProfile>,
    pub networks: Vec<Id>,
}

pub struct Network {
    pub id: Id,
    pub org: Id,
    pub vdc: Id,
    pub name: String,
    pub gateway: Ipv4Addr,
    pub netmask: Ipv4Addr,
    pub dns: Vec<Ipv4Addr>,
    pub ranges: Vec<(Ipv4Addr, Ipv4Addr)>,
    pub allocated: BTreeSet<Ipv4Addr>,
}

pub struct Catalog {
    pub id: Id,
    pub org: Id,
    pub name: String,
    pub description: String,
    pub published: bool,
    pub owner: Id,
    pub created: DateTime<Utc>,
    pub version: u32,
    pub items: Vec<Id>,
}

/// What a catalog item holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemEntity {
    Template(Id),
    Media(Id),
}

pub struct CatalogItem {
    pub id: Id,
    pub catalog: Id,
    pub name: String,
    pub description: String,
    pub entity: ItemEntity,
    pub created: DateTime<Utc>,
}

impl CatalogItem {
    pub fn template(&self) -> Option<Id> {
        match self.entity {
            ItemEntity::Template(t) => Some(t),
            ItemEntity::Media(_) => None,
        }
    }

    pub fn entity_ref(&self) -> EntityRef {
        match self.entity {
            ItemEntity::Template(t) => EntityRef::Template(t),
            ItemEntity::Media(m) => EntityRef::Media(m),
        }
    }
}

/// An ISO/floppy image uploaded into a catalog.
pub struct Media {
    pub id: Id,
    pub org: Id,
    pub vdc: Id,
    pub catalog_item: Id,
    pub name: String,
    pub description: String,
    pub image_type: String,
    /// 0 while uploading, 1 when resolved.
    pub status: i32,
    pub transfer: Uuid,
    pub file: UploadFile,
    pub owner: Id,
    pub created: DateTime<Utc>,
}

/// A file of an OVF upload.
#[derive(Debug, Clone)]
pub struct UploadFile {
    pub name: String,
    pub size: i64,
    pub received: u64,
    /// Byte ranges already received, to accept repeated chunks.
    pub ranges: BTreeSet<(u64, u64)>,
    pub is_descriptor: bool,
}

pub struct Template {
    pub id: Id,
    pub org: Id,
    pub vdc: Id,
    pub catalog_item: Option<Id>,
    pub name: String,
    pub description: String,
    /// 0 while uploading / importing, 8 when resolved.
    pub status: i32,
    pub ovf_uploaded: bool,
    pub transfer: Uuid,
    pub files: Vec<UploadFile>,
    pub pending_vms: Vec<crate::state::OvfVm>,
    pub network_names: Vec<String>,
    pub os_hint: String,
    pub vms: Vec<Id>,
    pub owner: Id,
    pub created: DateTime<Utc>,
}

/// IP addressing mode of a NIC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpMode {
    Pool,
    Dhcp,
    Manual,
    None,
}

impl IpMode {
    pub fn parse(s: &str) -> Option<IpMode> {
        match s.trim().to_ascii_uppercase().as_str() {
            "POOL" => Some(IpMode::Pool),
            "DHCP" => Some(IpMode::Dhcp),
            "MANUAL" => Some(IpMode::Manual),
            "NONE" => Some(IpMode::None),
            _ => None,
        }
    }
    pub fn as_str(&self) -> &'static str {
        match self {
            IpMode::Pool => "POOL",
            IpMode::Dhcp => "DHCP",
            IpMode::Manual => "MANUAL",
            IpMode::None => "NONE",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Nic {
    pub index: u32,
    /// vApp network name, or `none`.
    pub network: String,
    /// The org network the address came from (to give it back).
    pub org_network: Option<Id>,
    pub ip: Option<Ipv4Addr>,
    pub mode: IpMode,
    pub connected: bool,
    pub mac: String,
    pub adapter_type: String,
}

#[derive(Clone, PartialEq, Eq)]
pub struct GuestCustomization {
    pub enabled: bool,
    pub admin_password_enabled: bool,
    pub admin_password_auto: bool,
    pub admin_password: String,
    pub reset_password_required: bool,
    pub script: Option<String>,
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VmParent {
    VApp(Id),
    Template(Id),
}

/// Power state as vCD shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Power {
    Off,
    On,
    Suspended,
}

#[derive(Debug, Clone)]
pub struct Vm {
    pub id: Id,
    pub parent: VmParent,
    pub org: Id,
    pub vdc: Id,
    pub name: String,
    pub description: String,
    pub cpus: u32,
    pub cores_per_socket: u32,
    pub memory_mb: u64,
    pub disk_mb: u64,
    pub os_type: String,
    pub nics: Vec<Nic>,
    pub primary_nic: u32,
    pub power: Power,
    pub deployed: bool,
    /// Still to customize on the next power-on.
    pub needs_customization: bool,
    pub customization: GuestCustomization,
    pub moref: Option<String>,
    pub vcenter: Option<Id>,
    pub disk: Option<DiskId>,
    pub storage_profile: Option<Id>,
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

    pub fn primary_ip(&self) -> Option<Ipv4Addr> {
        self.nics
            .iter()
            .find(|n| n.index == self.primary_nic)
            .and_then(|n| n.ip)
    }
}

#[derive(Debug, Clone)]
pub struct VAppNetwork {
    pub name: String,
    pub parent: Option<Id>,
    pub fence_mode: String,
}

pub struct VApp {
    pub id: Id,
    pub org: Id,
    pub vdc: Id,
    pub name: String,
    pub description: String,
    pub owner: Id,
    pub created: DateTime<Utc>,
    pub networks: Vec<VAppNetwork>,
    pub vms: Vec<Id>,
    pub creating: bool,
}

/// Metadata domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Domain {
    General,
    System,
}

impl Domain {
    pub fn parse(s: &str) -> Option<Domain> {
        match s.trim().to_ascii_uppercase().as_str() {
            "GENERAL" => Some(Domain::General),
            "SYSTEM" => Some(Domain::System),
            _ => None,
        }
    }
    pub fn as_str(&self) -> &'static str {
        match self {
            Domain::General => "GENERAL",
            Domain::System => "SYSTEM",
        }
    }
}

/// Type of a metadata value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaType {
    String,
    Number,
    Boolean,
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
    pub fn xsi_type(&self) -> &'static str {
        match self {
            MetaType::String => "MetadataStringValue",
            MetaType::Number => "MetadataNumberValue",
            MetaType::Boolean => "MetadataBooleanValue",
            MetaType::DateTime => "MetadataDateTimeValue",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaEntry {
    pub domain: Domain,
    pub visibility: String,
    pub key: String,
    pub kind: MetaType,
    pub value: String,
}

/// Metadata of one entity, keyed by (domain, key).
pub type Metadata = BTreeMap<(Domain, String), MetaEntry>;

/// Task status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatus {
    Queued,
    PreRunning,
    Running,
    Success,
    Error,
    Canceled,
    Aborted,
}

impl TaskStatus {
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
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            TaskStatus::Success | TaskStatus::Error | TaskStatus::Canceled | TaskStatus::Aborted
        )
    }
}

/// An error as vCD reports it (in `Error` documents and `Task/Error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorInfo {
    pub major: u16,
    pub minor: String,
    pub message: String,
    pub stack_trace: String,
}

/// What a task is about: a known entity or what an extension wrote verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskOwner {
    Entity {
        entity: EntityRef,
        name: String,
    },
    Raw {
        href: String,
        name: String,
        media_type: String,
    },
}

#[derive(Debug, Clone)]
pub struct Task {
    pub id: Id,
    pub org: Id,
    pub name: String,
    pub operation: String,
    pub operation_name: String,
    pub service_namespace: String,
    pub status: TaskStatus,
    pub owner: TaskOwner,
    /// User href/URN and name.
    pub user_ref: String,
    pub user_name: String,
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
    pub expiry: DateTime<Utc>,
    pub error: Option<ErrorInfo>,
    pub progress: Option<u32>,
    pub details: String,
    pub cancel_requested: bool,
    /// Created by an extension through a tasks list.
    pub external: bool,
}

#[derive(Debug, Clone)]
pub struct ApiFilter {
    pub id: Id,
    pub pattern: String,
    /// The compiled pattern vCD's routing (`crate::ext::filters`) matches.
    pub compiled: Option<crate::ext::ApiFilter>,
}

#[derive(Debug, Clone)]
pub struct ExtensionService {
    pub id: Id,
    pub name: String,
    pub namespace: String,
    pub vendor: String,
    pub enabled: bool,
    pub exchange: String,
    pub routing_key: String,
    pub priority: i32,
    pub authorization_enabled: bool,
    pub description: String,
    pub filters: Vec<ApiFilter>,
}

#[derive(Clone, PartialEq, Eq)]
pub struct AmqpSettings {
    pub host: String,
    pub port: u16,
    pub username: String,
    pub password: String,
    pub exchange: String,
    pub vhost: String,
    pub use_ssl: bool,
    pub ssl_accept_all: bool,
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

#[derive(Clone)]
pub struct VimServer {
    pub id: Id,
    pub name: String,
    pub url: String,
    pub username: String,
    pub password: String,
    pub uuid: Uuid,
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
    pub user: Id,
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
