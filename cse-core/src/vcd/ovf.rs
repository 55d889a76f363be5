//! OVF pieces of VMs: `ovf:VirtualHardwareSection` with its `ovf:Item`s (cpu, memory, NICs),
//! the standalone RASD `Item` document CSE GETs and PUTs to change cpu/memory, and the
//! `ovfenv:Environment` carrying the vCenter moref (spec vcd-rest §6.4, §6.7).
//!
//! OVF-family types are `force_prefix`ed so they come out as `<ovf:Item><rasd:…>` the way
//! vCD writes them. The standalone RASD document has no `href`/`type` attributes in the model:
//! vCD writes them as `vcloud:href` on a root in the vcloud namespace, which instant-xml
//! cannot reproduce, and CSE already knows the URL it reads and writes.

use instant_xml::{FromXml, ToXml};

use super::media;
use super::ns::{OVF, OVFENV, RASD, VCLOUD, VE, VMW};

/// RASD `ResourceType` of a CPU item.
pub const RESOURCE_TYPE_CPU: u32 = 3;
/// RASD `ResourceType` of a memory item.
pub const RESOURCE_TYPE_MEMORY: u32 = 4;
/// RASD `ResourceType` of a network adapter.
pub const RESOURCE_TYPE_NIC: u32 = 10;
/// RASD `ResourceType` of a disk.
pub const RESOURCE_TYPE_DISK: u32 = 17;

/// `<rasd:Connection vcloud:ipAddress vcloud:ipAddressingMode vcloud:primaryNetworkConnection>net</rasd:Connection>`.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "Connection", ns(RASD), force_prefix)]
pub struct RasdConnection {
    /// IP address of the NIC (`VApp.get_primary_ip` reads it).
    #[xml(attribute, rename = "ipAddress", ns(VCLOUD))]
    pub ip_address: Option<String>,
    /// `POOL`, `DHCP`, `MANUAL`, `NONE`.
    #[xml(attribute, rename = "ipAddressingMode", ns(VCLOUD))]
    pub ip_addressing_mode: Option<String>,
    /// Whether this is the primary connection.
    #[xml(attribute, rename = "primaryNetworkConnection", ns(VCLOUD))]
    pub primary_network_connection: Option<bool>,
    /// Network name.
    #[xml(direct)]
    pub network: String,
}

/// `<vmw:CoresPerSocket ovf:required="false">2</vmw:CoresPerSocket>`.
#[derive(Debug, Clone, PartialEq, Eq, FromXml, ToXml)]
#[xml(rename = "CoresPerSocket", ns(VMW, ovf = OVF), force_prefix)]
pub struct CoresPerSocket {
    /// `ovf:required`.
    #[xml(attribute, ns(OVF))]
    pub required: Option<bool>,
    /// Cores per socket.
    #[xml(direct)]
    pub cores: u32,
}

/// `ovf:Item` inside a `VirtualHardwareSection` (RASD children in CIM order).
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "Item", ns(OVF, vcloud = VCLOUD, rasd = RASD, vmw = VMW), force_prefix)]
pub struct HardwareItem {
    /// `vcloud:href` of the item (cpu / memory items are editable).
    #[xml(attribute, ns(VCLOUD))]
    pub href: Option<String>,
    /// `vcloud:type`.
    #[xml(attribute, rename = "type", ns(VCLOUD))]
    pub media_type: Option<String>,
    /// `rasd:Address` (NIC MAC).
    #[xml(rename = "Address", ns(RASD))]
    pub address: Option<String>,
    /// `rasd:AddressOnParent`.
    #[xml(rename = "AddressOnParent", ns(RASD))]
    pub address_on_parent: Option<String>,
    /// `rasd:AllocationUnits` (`hertz * 10^6`, `byte * 2^20`).
    #[xml(rename = "AllocationUnits", ns(RASD))]
    pub allocation_units: Option<String>,
    /// `rasd:Connection` (NICs).
    pub connections: Vec<RasdConnection>,
    /// `rasd:Description`.
    #[xml(rename = "Description", ns(RASD))]
    pub description: Option<String>,
    /// `rasd:ElementName`.
    #[xml(rename = "ElementName", ns(RASD))]
    pub element_name: Option<String>,
    /// `rasd:InstanceID`.
    #[xml(rename = "InstanceID", ns(RASD))]
    pub instance_id: Option<u32>,
    /// `rasd:ResourceSubType`.
    #[xml(rename = "ResourceSubType", ns(RASD))]
    pub resource_sub_type: Option<String>,
    /// `rasd:ResourceType` (3 cpu, 4 memory, 10 NIC, 17 disk).
    #[xml(rename = "ResourceType", ns(RASD))]
    pub resource_type: u32,
    /// `rasd:VirtualQuantity` (CPU count, memory MB).
    #[xml(rename = "VirtualQuantity", ns(RASD))]
    pub virtual_quantity: Option<u64>,
    /// `vmw:CoresPerSocket` (cpu items).
    pub cores_per_socket: Option<CoresPerSocket>,
}

/// The standalone RASD `Item` document (GET/PUT `…/virtualHardwareSection/cpu|memory`),
/// root in the vcloud namespace.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "Item", ns(VCLOUD, vcloud = VCLOUD, rasd = RASD, vmw = VMW, ovf = OVF))]
pub struct RasdItem {
    /// `rasd:AllocationUnits`.
    #[xml(rename = "AllocationUnits", ns(RASD))]
    pub allocation_units: Option<String>,
    /// `rasd:Description`.
    #[xml(rename = "Description", ns(RASD))]
    pub description: Option<String>,
    /// `rasd:ElementName`.
    #[xml(rename = "ElementName", ns(RASD))]
    pub element_name: Option<String>,
    /// `rasd:InstanceID`.
    #[xml(rename = "InstanceID", ns(RASD))]
    pub instance_id: Option<u32>,
    /// `rasd:ResourceType`.
    #[xml(rename = "ResourceType", ns(RASD))]
    pub resource_type: u32,
    /// `rasd:VirtualQuantity`.
    #[xml(rename = "VirtualQuantity", ns(RASD))]
    pub virtual_quantity: u64,
    /// `vmw:CoresPerSocket`.
    pub cores_per_socket: Option<CoresPerSocket>,
}

impl RasdItem {
    /// The cpu edit CSE sends: `count` virtual CPUs, `cores_per_socket` cores per socket.
    pub fn cpu(count: u64, cores_per_socket: u32) -> Self {
        RasdItem {
            allocation_units: Some("hertz * 10^6".to_owned()),
            description: Some("Number of Virtual CPUs".to_owned()),
            element_name: Some(format!("{count} virtual CPU(s)")),
            instance_id: None,
            resource_type: RESOURCE_TYPE_CPU,
            virtual_quantity: count,
            cores_per_socket: Some(CoresPerSocket {
                required: Some(false),
                cores: cores_per_socket,
            }),
        }
    }

    /// The memory edit CSE sends: `mb` megabytes.
    pub fn memory(mb: u64) -> Self {
        RasdItem {
            allocation_units: Some("byte * 2^20".to_owned()),
            description: Some("Memory Size".to_owned()),
            element_name: Some(format!("{mb} MB of memory")),
            instance_id: None,
            resource_type: RESOURCE_TYPE_MEMORY,
            virtual_quantity: mb,
            cores_per_socket: None,
        }
    }
}

/// `ovf:VirtualHardwareSection`.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(
    rename = "VirtualHardwareSection",
    ns(OVF, vcloud = VCLOUD, rasd = RASD, vmw = VMW),
    force_prefix
)]
pub struct VirtualHardwareSection {
    /// `vcloud:href`.
    #[xml(attribute, ns(VCLOUD))]
    pub href: Option<String>,
    /// `vcloud:type`.
    #[xml(attribute, rename = "type", ns(VCLOUD))]
    pub media_type: Option<String>,
    /// `ovf:Info`.
    #[xml(rename = "Info")]
    pub info: Option<String>,
    /// Items.
    pub items: Vec<HardwareItem>,
}

impl VirtualHardwareSection {
    /// The first item of a resource type.
    pub fn item(&self, resource_type: u32) -> Option<&HardwareItem> {
        self.items.iter().find(|i| i.resource_type == resource_type)
    }

    /// Number of virtual CPUs.
    pub fn cpu_count(&self) -> Option<u64> {
        self.item(RESOURCE_TYPE_CPU)?.virtual_quantity
    }

    /// Memory in MB.
    pub fn memory_mb(&self) -> Option<u64> {
        self.item(RESOURCE_TYPE_MEMORY)?.virtual_quantity
    }

    /// `vcloud:ipAddress` of the first item that has a `rasd:Connection` (pyvcloud
    /// `VApp.get_primary_ip`).
    pub fn primary_ip(&self) -> Option<&str> {
        self.items
            .iter()
            .find_map(|item| item.connections.first())?
            .ip_address
            .as_deref()
    }
}

/// `ovfenv:Environment ve:vCenterId="vm-1042"`: the moref CSE 1.2 reads through the tenant.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "Environment", ns(OVFENV, ovfenv = OVFENV, ve = VE), force_prefix)]
pub struct OvfEnvironment {
    /// `ve:vCenterId`.
    #[xml(attribute, rename = "vCenterId", ns(VE))]
    pub vcenter_id: Option<String>,
}

super::vcd_document! {
    RasdItem => "Item", media::RASD_ITEM;
    VirtualHardwareSection => "VirtualHardwareSection", media::VIRTUAL_HARDWARE_SECTION;
}
