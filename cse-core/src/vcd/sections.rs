//! vCloud sections shared by VMs, vApps and request bodies: `NetworkConnectionSection`,
//! `GuestCustomizationSection`, `NetworkConfigSection` (spec vcd-rest §5.4, §6.1–§6.4).
//! Children are declared in XSD order because the same types go into request bodies.

use std::fmt;

use instant_xml::{FromXml, ToXml};

use super::link::{Link, impl_has_links};
use super::media;
use super::ns::{OVF, VCLOUD};
use super::reference::reference_type;

reference_type!(
    /// `ParentNetwork`: the org VDC network a vApp network is bridged to.
    ParentNetwork, "ParentNetwork", VCLOUD
);

/// `NetworkConnection`.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "NetworkConnection", ns(VCLOUD))]
pub struct NetworkConnection {
    /// Network name (`none` when unconnected).
    #[xml(attribute)]
    pub network: String,
    /// `needsCustomization`.
    #[xml(attribute, rename = "needsCustomization")]
    pub needs_customization: Option<bool>,
    /// NIC index.
    #[xml(rename = "NetworkConnectionIndex")]
    pub index: u32,
    /// IP address (MANUAL requests; reported by vCD).
    #[xml(rename = "IpAddress")]
    pub ip_address: Option<String>,
    /// Whether connected.
    #[xml(rename = "IsConnected")]
    pub is_connected: Option<bool>,
    /// MAC address.
    #[xml(rename = "MACAddress")]
    pub mac_address: Option<String>,
    /// `POOL`, `DHCP`, `MANUAL`, `NONE`.
    #[xml(rename = "IpAddressAllocationMode")]
    pub ip_address_allocation_mode: Option<String>,
    /// Adapter type (`VMXNET3`).
    #[xml(rename = "NetworkAdapterType")]
    pub network_adapter_type: Option<String>,
}

impl NetworkConnection {
    /// A connected NIC with POOL addressing, as CSE requests for new nodes.
    pub fn pool(network: &str, index: u32) -> Self {
        NetworkConnection {
            network: network.to_owned(),
            index,
            is_connected: Some(true),
            ip_address_allocation_mode: Some("POOL".to_owned()),
            ..NetworkConnection::default()
        }
    }
}

/// `NetworkConnectionSection`.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "NetworkConnectionSection", ns(VCLOUD, ovf = OVF))]
pub struct NetworkConnectionSection {
    /// Self href.
    #[xml(attribute)]
    pub href: Option<String>,
    /// Media type.
    #[xml(attribute, rename = "type")]
    pub media_type: Option<String>,
    /// `ovf:Info`.
    #[xml(rename = "Info", ns(OVF))]
    pub info: Option<String>,
    /// Index of the primary NIC.
    #[xml(rename = "PrimaryNetworkConnectionIndex")]
    pub primary_network_connection_index: Option<u32>,
    /// NICs.
    pub connections: Vec<NetworkConnection>,
    /// Links.
    pub links: Vec<Link>,
}

impl NetworkConnectionSection {
    /// A request section with these NICs (`ovf:Info` present and empty, as pyvcloud sends).
    pub fn request(connections: Vec<NetworkConnection>) -> Self {
        NetworkConnectionSection {
            info: Some(String::new()),
            connections,
            ..NetworkConnectionSection::default()
        }
    }

    /// The primary NIC (by `PrimaryNetworkConnectionIndex`, else the only/first one).
    pub fn primary(&self) -> Option<&NetworkConnection> {
        match self.primary_network_connection_index {
            Some(index) => self.connections.iter().find(|c| c.index == index),
            None => self.connections.first(),
        }
    }
}

/// `GuestCustomizationSection`. `Debug` hides the admin password.
#[derive(Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "GuestCustomizationSection", ns(VCLOUD, ovf = OVF))]
pub struct GuestCustomizationSection {
    /// Self href.
    #[xml(attribute)]
    pub href: Option<String>,
    /// Media type.
    #[xml(attribute, rename = "type")]
    pub media_type: Option<String>,
    /// `ovf:Info`.
    #[xml(rename = "Info", ns(OVF))]
    pub info: Option<String>,
    /// Whether customisation runs.
    #[xml(rename = "Enabled")]
    pub enabled: Option<bool>,
    /// `ChangeSid`.
    #[xml(rename = "ChangeSid")]
    pub change_sid: Option<bool>,
    /// `VirtualMachineId`.
    #[xml(rename = "VirtualMachineId")]
    pub virtual_machine_id: Option<String>,
    /// `JoinDomainEnabled`.
    #[xml(rename = "JoinDomainEnabled")]
    pub join_domain_enabled: Option<bool>,
    /// `UseOrgSettings`.
    #[xml(rename = "UseOrgSettings")]
    pub use_org_settings: Option<bool>,
    /// `AdminPasswordEnabled`.
    #[xml(rename = "AdminPasswordEnabled")]
    pub admin_password_enabled: Option<bool>,
    /// `AdminPasswordAuto`.
    #[xml(rename = "AdminPasswordAuto")]
    pub admin_password_auto: Option<bool>,
    /// `AdminPassword`: the root password CSE logs in with. Secret.
    #[xml(rename = "AdminPassword")]
    pub admin_password: Option<String>,
    /// `ResetPasswordRequired`.
    #[xml(rename = "ResetPasswordRequired")]
    pub reset_password_required: Option<bool>,
    /// `CustomizationScript`.
    #[xml(rename = "CustomizationScript")]
    pub customization_script: Option<String>,
    /// `ComputerName` (guest host name).
    #[xml(rename = "ComputerName")]
    pub computer_name: Option<String>,
    /// Links.
    pub links: Vec<Link>,
}

impl GuestCustomizationSection {
    /// The section CSE sends for new nodes: enabled, no admin password change, the optional
    /// script, the host name (cse-original §3.4).
    pub fn for_node(computer_name: &str, script: Option<&str>) -> Self {
        GuestCustomizationSection {
            info: Some(String::new()),
            enabled: Some(true),
            admin_password_enabled: Some(false),
            customization_script: script.map(str::to_owned),
            computer_name: Some(computer_name.to_owned()),
            ..GuestCustomizationSection::default()
        }
    }
}

impl fmt::Debug for GuestCustomizationSection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuestCustomizationSection")
            .field("href", &self.href)
            .field("media_type", &self.media_type)
            .field("info", &self.info)
            .field("enabled", &self.enabled)
            .field("change_sid", &self.change_sid)
            .field("virtual_machine_id", &self.virtual_machine_id)
            .field("join_domain_enabled", &self.join_domain_enabled)
            .field("use_org_settings", &self.use_org_settings)
            .field("admin_password_enabled", &self.admin_password_enabled)
            .field("admin_password_auto", &self.admin_password_auto)
            .field(
                "admin_password",
                &self.admin_password.as_ref().map(|_| "<redacted>"),
            )
            .field("reset_password_required", &self.reset_password_required)
            .field("customization_script", &self.customization_script)
            .field("computer_name", &self.computer_name)
            .field("links", &self.links)
            .finish()
    }
}

/// `Configuration` of a vApp network: parent network and fence mode.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "Configuration", ns(VCLOUD))]
pub struct NetworkConfiguration {
    /// The org VDC network.
    pub parent_network: Option<ParentNetwork>,
    /// `bridged`, `natRouted`, `isolated`.
    #[xml(rename = "FenceMode")]
    pub fence_mode: String,
}

/// `NetworkConfig networkName="…"`.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "NetworkConfig", ns(VCLOUD))]
pub struct NetworkConfig {
    /// vApp network name.
    #[xml(attribute, rename = "networkName")]
    pub network_name: String,
    /// Description.
    #[xml(rename = "Description")]
    pub description: Option<String>,
    /// Configuration.
    pub configuration: NetworkConfiguration,
    /// Whether deployed (answers only).
    #[xml(rename = "IsDeployed")]
    pub is_deployed: Option<bool>,
}

impl NetworkConfig {
    /// A vApp network bridged to the org VDC network at `parent_href` (CSE compose).
    pub fn bridged(network_name: &str, parent_href: &str) -> Self {
        NetworkConfig {
            network_name: network_name.to_owned(),
            description: None,
            configuration: NetworkConfiguration {
                parent_network: Some(ParentNetwork {
                    href: parent_href.to_owned(),
                    ..ParentNetwork::default()
                }),
                fence_mode: "bridged".to_owned(),
            },
            is_deployed: None,
        }
    }
}

/// `NetworkConfigSection`.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "NetworkConfigSection", ns(VCLOUD, ovf = OVF))]
pub struct NetworkConfigSection {
    /// Self href.
    #[xml(attribute)]
    pub href: Option<String>,
    /// Media type.
    #[xml(attribute, rename = "type")]
    pub media_type: Option<String>,
    /// `ovf:Info`.
    #[xml(rename = "Info", ns(OVF))]
    pub info: Option<String>,
    /// Links.
    pub links: Vec<Link>,
    /// vApp networks.
    pub configs: Vec<NetworkConfig>,
}

impl NetworkConfigSection {
    /// A request section with these networks.
    pub fn request(configs: Vec<NetworkConfig>) -> Self {
        NetworkConfigSection {
            info: Some("Configuration for logical networks".to_owned()),
            configs,
            ..NetworkConfigSection::default()
        }
    }
}

impl_has_links!(
    NetworkConnectionSection,
    GuestCustomizationSection,
    NetworkConfigSection
);

super::vcd_document! {
    NetworkConnectionSection => "NetworkConnectionSection", media::NETWORK_CONNECTION_SECTION;
    GuestCustomizationSection => "GuestCustomizationSection", media::GUEST_CUSTOMIZATION_SECTION;
    NetworkConfigSection => "NetworkConfigSection", media::NETWORK_CONFIG_SECTION;
}
