//! Request bodies CSE sends to create and change vApps: `ComposeVAppParams`,
//! `InstantiateVAppTemplateParams`, `RecomposeVAppParams` (add `SourcedItem`s / `DeleteItem`s),
//! `CaptureVAppParams`, `UndeployVAppParams` (spec vcd-rest §5.5, §6.1–§6.3, §6.6).
//!
//! Field order follows vCD's XSD (`Description`, `InstantiationParams`, `Source`,
//! `SourcedItem`*, `AllEULAsAccepted`, `DeleteItem`*): vCD rejects out-of-order requests.

use instant_xml::{FromXml, ToXml};

use super::media;
use super::ns::{OVF, VCLOUD};
use super::ovf::VirtualHardwareSection;
use super::reference::reference_type;
use super::sections::{GuestCustomizationSection, NetworkConfigSection, NetworkConnectionSection};
use super::vapp::StorageProfile;

reference_type!(
    /// `Source`: the template, template VM or vApp a request copies from.
    Source, "Source", VCLOUD
);
reference_type!(
    /// `DeleteItem`: a VM to remove in a recompose.
    DeleteItem, "DeleteItem", VCLOUD
);
reference_type!(
    /// `TargetCatalogItem`: the catalog item a capture overwrites.
    TargetCatalogItem, "TargetCatalogItem", VCLOUD
);

/// `InstantiationParams`: the sections applied to a new vApp or VM.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "InstantiationParams", ns(VCLOUD, ovf = OVF))]
pub struct InstantiationParams {
    /// vApp networks (compose / instantiate).
    pub network_config_section: Option<NetworkConfigSection>,
    /// NICs of a VM (sourced items).
    pub network_connection_section: Option<NetworkConnectionSection>,
    /// Hardware overrides of a VM.
    pub virtual_hardware_section: Option<VirtualHardwareSection>,
    /// Guest customisation of a VM.
    pub guest_customization_section: Option<GuestCustomizationSection>,
}

/// `VmGeneralParams`.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "VmGeneralParams", ns(VCLOUD))]
pub struct VmGeneralParams {
    /// New VM name.
    #[xml(rename = "Name")]
    pub name: String,
    /// Description.
    #[xml(rename = "Description")]
    pub description: Option<String>,
    /// Whether guest customisation runs on first boot.
    #[xml(rename = "NeedsCustomization")]
    pub needs_customization: Option<bool>,
}

/// `SourcedItem`: one VM to add.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "SourcedItem", ns(VCLOUD))]
pub struct SourcedItem {
    /// `sourceDelete` (move instead of copy).
    #[xml(attribute, rename = "sourceDelete")]
    pub source_delete: Option<bool>,
    /// The template VM (or VM) to copy.
    pub source: Source,
    /// Name and customisation flag.
    pub vm_general_params: Option<VmGeneralParams>,
    /// Per-VM sections.
    pub instantiation_params: Option<InstantiationParams>,
    /// Storage profile.
    pub storage_profile: Option<StorageProfile>,
}

impl SourcedItem {
    /// The item CSE sends for a new node (cse-original §3.4): copy `source`, name the VM
    /// `vm_name`, NIC on `network` with POOL addressing at the source's primary index,
    /// customisation enabled with the optional script.
    pub fn cse_node(
        source: Source,
        vm_name: &str,
        network: &str,
        primary_index: u32,
        script: Option<&str>,
        storage_profile: Option<StorageProfile>,
    ) -> Self {
        let mut section =
            NetworkConnectionSection::request(vec![super::sections::NetworkConnection::pool(
                network,
                primary_index,
            )]);
        section.primary_network_connection_index = None;
        SourcedItem {
            source_delete: None,
            source,
            vm_general_params: Some(VmGeneralParams {
                name: vm_name.to_owned(),
                description: None,
                needs_customization: Some(true),
            }),
            instantiation_params: Some(InstantiationParams {
                network_connection_section: Some(section),
                guest_customization_section: Some(GuestCustomizationSection::for_node(
                    vm_name, script,
                )),
                ..InstantiationParams::default()
            }),
            storage_profile,
        }
    }
}

impl SourcedItem {
    /// Lets vCD generate the new VM's root password at guest customization
    /// (`AdminPasswordEnabled` + `AdminPasswordAuto`) instead of keeping the
    /// source VM's: every VM then has its own, readable in its
    /// `GuestCustomizationSection/AdminPassword` by those allowed to.
    pub fn with_generated_password(mut self) -> Self {
        if let Some(section) = self
            .instantiation_params
            .as_mut()
            .and_then(|params| params.guest_customization_section.as_mut())
        {
            section.admin_password_enabled = Some(true);
            section.admin_password_auto = Some(true);
            section.admin_password = None;
        }
        self
    }
}

/// `ComposeVAppParams`: create an (empty) vApp.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "ComposeVAppParams", ns(VCLOUD, ovf = OVF))]
pub struct ComposeVAppParams {
    /// vApp name.
    #[xml(attribute)]
    pub name: String,
    /// Deploy after creation.
    #[xml(attribute)]
    pub deploy: Option<bool>,
    /// Power on after creation.
    #[xml(attribute, rename = "powerOn")]
    pub power_on: Option<bool>,
    /// Description.
    #[xml(rename = "Description")]
    pub description: Option<String>,
    /// vApp networks.
    pub instantiation_params: Option<InstantiationParams>,
    /// VMs to add right away.
    pub sourced_items: Vec<SourcedItem>,
    /// Accept all EULAs.
    #[xml(rename = "AllEULAsAccepted")]
    pub all_eulas_accepted: Option<bool>,
}

impl ComposeVAppParams {
    /// CSE's cluster vApp: `Description "cluster <name>"`, one network bridged to
    /// `parent_network_href` (cse-original §3.3).
    pub fn cse_cluster(name: &str, network: &str, parent_network_href: &str) -> Self {
        ComposeVAppParams {
            name: name.to_owned(),
            deploy: None,
            power_on: None,
            description: Some(format!("cluster {name}")),
            instantiation_params: Some(InstantiationParams {
                network_config_section: Some(NetworkConfigSection::request(vec![
                    super::sections::NetworkConfig::bridged(network, parent_network_href),
                ])),
                ..InstantiationParams::default()
            }),
            sourced_items: Vec::new(),
            all_eulas_accepted: None,
        }
    }
}

/// `InstantiateVAppTemplateParams`: create a vApp from a template.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "InstantiateVAppTemplateParams", ns(VCLOUD, ovf = OVF))]
pub struct InstantiateVAppTemplateParams {
    /// vApp name.
    #[xml(attribute)]
    pub name: String,
    /// Deploy after creation.
    #[xml(attribute)]
    pub deploy: Option<bool>,
    /// Power on after creation.
    #[xml(attribute, rename = "powerOn")]
    pub power_on: Option<bool>,
    /// Description.
    #[xml(rename = "Description")]
    pub description: Option<String>,
    /// vApp networks.
    pub instantiation_params: Option<InstantiationParams>,
    /// The template.
    pub source: Source,
    /// Per-VM overrides.
    pub sourced_items: Vec<SourcedItem>,
    /// Accept all EULAs.
    #[xml(rename = "AllEULAsAccepted")]
    pub all_eulas_accepted: Option<bool>,
}

/// `RecomposeVAppParams`: add VMs (`SourcedItem`) and/or delete VMs (`DeleteItem`).
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "RecomposeVAppParams", ns(VCLOUD, ovf = OVF))]
pub struct RecomposeVAppParams {
    /// vApp name (optional).
    #[xml(attribute)]
    pub name: Option<String>,
    /// Deploy new VMs.
    #[xml(attribute)]
    pub deploy: Option<bool>,
    /// Power on new VMs.
    #[xml(attribute, rename = "powerOn")]
    pub power_on: Option<bool>,
    /// Description.
    #[xml(rename = "Description")]
    pub description: Option<String>,
    /// vApp-level sections.
    pub instantiation_params: Option<InstantiationParams>,
    /// VMs to add.
    pub sourced_items: Vec<SourcedItem>,
    /// Accept all EULAs.
    #[xml(rename = "AllEULAsAccepted")]
    pub all_eulas_accepted: Option<bool>,
    /// VMs to delete.
    pub delete_items: Vec<DeleteItem>,
}

impl RecomposeVAppParams {
    /// Add these VMs (`deploy=true`, `powerOn` as given).
    pub fn add(items: Vec<SourcedItem>, power_on: bool) -> Self {
        RecomposeVAppParams {
            deploy: Some(true),
            power_on: Some(power_on),
            sourced_items: items,
            ..RecomposeVAppParams::default()
        }
    }

    /// Delete the VMs with these hrefs.
    pub fn delete(vm_hrefs: &[&str]) -> Self {
        RecomposeVAppParams {
            delete_items: vm_hrefs
                .iter()
                .map(|href| DeleteItem {
                    href: (*href).to_owned(),
                    ..DeleteItem::default()
                })
                .collect(),
            ..RecomposeVAppParams::default()
        }
    }
}

/// `CustomizationSection` of a capture.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "CustomizationSection", ns(VCLOUD, ovf = OVF))]
pub struct CustomizationSection {
    /// `ovf:Info`.
    #[xml(rename = "Info", ns(OVF))]
    pub info: Option<String>,
    /// Customise VMs instantiated from the template.
    #[xml(rename = "CustomizeOnInstantiate")]
    pub customize_on_instantiate: bool,
}

/// `CaptureVAppParams`: capture a vApp into a catalog template.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "CaptureVAppParams", ns(VCLOUD, ovf = OVF))]
pub struct CaptureVAppParams {
    /// Template / catalog item name.
    #[xml(attribute)]
    pub name: String,
    /// Description.
    #[xml(rename = "Description")]
    pub description: Option<String>,
    /// The vApp to capture.
    pub source: Source,
    /// Customise on instantiate.
    pub customization_section: Option<CustomizationSection>,
    /// The item to overwrite.
    pub target_catalog_item: Option<TargetCatalogItem>,
}

/// `UndeployVAppParams`.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "UndeployVAppParams", ns(VCLOUD))]
pub struct UndeployVAppParams {
    /// `default`, `powerOff`, `shutdown`, `suspend`, `force`.
    #[xml(rename = "UndeployPowerAction")]
    pub undeploy_power_action: Option<String>,
}

impl UndeployVAppParams {
    /// `UndeployPowerAction=default`, what CSE sends before deleting nodes.
    pub fn default_action() -> Self {
        UndeployVAppParams {
            undeploy_power_action: Some("default".to_owned()),
        }
    }
}

/// `UploadVAppTemplateParams`: start an OVF upload into a catalog.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "UploadVAppTemplateParams", ns(VCLOUD))]
pub struct UploadVAppTemplateParams {
    /// Catalog item / template name.
    #[xml(attribute)]
    pub name: String,
    /// Description.
    #[xml(rename = "Description")]
    pub description: Option<String>,
}

/// `DeployVAppParams`.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "DeployVAppParams", ns(VCLOUD))]
pub struct DeployVAppParams {
    /// Power on after deploying.
    #[xml(attribute, rename = "powerOn")]
    pub power_on: Option<bool>,
    /// Force guest customisation.
    #[xml(attribute, rename = "forceCustomization")]
    pub force_customization: Option<bool>,
}

super::vcd_document! {
    UploadVAppTemplateParams => "UploadVAppTemplateParams", media::UPLOAD_VAPP_TEMPLATE_PARAMS;
    DeployVAppParams => "DeployVAppParams", media::DEPLOY_VAPP_PARAMS;
    ComposeVAppParams => "ComposeVAppParams", media::COMPOSE_VAPP_PARAMS;
    InstantiateVAppTemplateParams => "InstantiateVAppTemplateParams", media::INSTANTIATE_VAPP_TEMPLATE_PARAMS;
    RecomposeVAppParams => "RecomposeVAppParams", media::RECOMPOSE_VAPP_PARAMS;
    CaptureVAppParams => "CaptureVAppParams", media::CAPTURE_VAPP_PARAMS;
    UndeployVAppParams => "UndeployVAppParams", media::UNDEPLOY_VAPP_PARAMS;
}
