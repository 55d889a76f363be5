//! `VApp`, `Vm` (embedded in `VApp/Children` or standalone) and `VAppTemplate`, with the
//! vCenter hooks CSE needs: `VCloudExtension/vmext:VmVimInfo` (sysadmin view) and
//! `ovfenv:Environment@ve:vCenterId` (spec vcd-rest §5.4, §6.4, §6.8).

use instant_xml::{FromXml, ToXml};

use super::link::{HasLinks, Link, LinkError, impl_has_links};
use super::media;
use super::ns::{OVF, OVFENV, RASD, VCLOUD, VE, VMEXT, VMW};
use super::ovf::{OvfEnvironment, VirtualHardwareSection};
use super::reference::reference_type;
use super::sections::{GuestCustomizationSection, NetworkConfigSection, NetworkConnectionSection};
use super::status::VcdStatus;
use super::task::Tasks;

/// `VimObjectType` of the VM's own vim object reference.
pub const VIM_OBJECT_VIRTUAL_MACHINE: &str = "VIRTUAL_MACHINE";

reference_type!(
    /// `vmext:VimServerRef`: the vCenter (its `name` resolves in `vimServerReferences`).
    VimServerRef, "VimServerRef", VMEXT, force_prefix
);
reference_type!(
    /// `StorageProfile` of a VM (also used in `SourcedItem`).
    StorageProfile, "StorageProfile", VCLOUD
);

/// `vmext:VmVimObjectRef`.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "VmVimObjectRef", ns(VMEXT), force_prefix)]
pub struct VmVimObjectRef {
    /// The vCenter.
    pub vim_server_ref: VimServerRef,
    /// Managed object reference (`vm-1042`).
    #[xml(rename = "MoRef")]
    pub mo_ref: String,
    /// `VIRTUAL_MACHINE`.
    #[xml(rename = "VimObjectType")]
    pub vim_object_type: String,
}

/// `vmext:VmVimInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "VmVimInfo", ns(VMEXT), force_prefix)]
pub struct VmVimInfo {
    /// The VM's own vim object.
    pub vm_vim_object_ref: Option<VmVimObjectRef>,
}

/// `VCloudExtension` (system administrators only).
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "VCloudExtension", ns(VCLOUD))]
pub struct VCloudExtension {
    /// `required`.
    #[xml(attribute)]
    pub required: Option<bool>,
    /// vim info.
    pub vm_vim_info: Option<VmVimInfo>,
}

/// `MemoryResourceMb`.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "MemoryResourceMb", ns(VCLOUD))]
pub struct MemoryResourceMb {
    /// Configured memory in MB.
    #[xml(rename = "Configured")]
    pub configured: u64,
}

/// `VmSpecSection` (CSE node info reads cpus and memory here when present).
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "VmSpecSection", ns(VCLOUD, ovf = OVF))]
pub struct VmSpecSection {
    /// `Modified`.
    #[xml(attribute, rename = "Modified")]
    pub modified: Option<bool>,
    /// `ovf:Info`.
    #[xml(rename = "Info", ns(OVF))]
    pub info: Option<String>,
    /// CPU count.
    #[xml(rename = "NumCpus")]
    pub num_cpus: Option<u32>,
    /// Cores per socket.
    #[xml(rename = "NumCoresPerSocket")]
    pub num_cores_per_socket: Option<u32>,
    /// Memory.
    pub memory_resource_mb: Option<MemoryResourceMb>,
}

/// `Vm`.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(
    rename = "Vm",
    ns(VCLOUD, ovf = OVF, rasd = RASD, vmext = VMEXT, ovfenv = OVFENV, ve = VE, vmw = VMW)
)]
pub struct Vm {
    /// VM href.
    #[xml(attribute)]
    pub href: String,
    /// `urn:vcloud:vm:<uuid>`.
    #[xml(attribute)]
    pub id: Option<String>,
    /// VM name.
    #[xml(attribute)]
    pub name: String,
    /// Media type.
    #[xml(attribute, rename = "type")]
    pub media_type: Option<String>,
    /// Status code ([`VcdStatus`]).
    #[xml(attribute)]
    pub status: Option<i32>,
    /// Whether deployed.
    #[xml(attribute)]
    pub deployed: Option<bool>,
    /// `needsCustomization`.
    #[xml(attribute, rename = "needsCustomization")]
    pub needs_customization: Option<bool>,
    /// vCenter hooks (system administrators only).
    pub vcloud_extension: Option<VCloudExtension>,
    /// Links (state-dependent power actions, `undeploy`, metadata, `up`).
    pub links: Vec<Link>,
    /// Description.
    #[xml(rename = "Description")]
    pub description: Option<String>,
    /// Running tasks.
    pub tasks: Option<Tasks>,
    /// Hardware (cpu, memory, NICs).
    pub virtual_hardware_section: Option<VirtualHardwareSection>,
    /// NICs.
    pub network_connection_section: Option<NetworkConnectionSection>,
    /// Guest customisation (admin password).
    pub guest_customization_section: Option<GuestCustomizationSection>,
    /// Creation date.
    #[xml(rename = "DateCreated")]
    pub date_created: Option<String>,
    /// `VAppScopedLocalId`.
    #[xml(rename = "VAppScopedLocalId")]
    pub vapp_scoped_local_id: Option<String>,
    /// OVF environment (vCenter moref).
    pub environment: Option<OvfEnvironment>,
    /// Storage profile.
    pub storage_profile: Option<StorageProfile>,
    /// VM spec (cpus, memory).
    pub vm_spec_section: Option<VmSpecSection>,
}

impl Vm {
    /// The status, when it is a known code.
    pub fn vcd_status(&self) -> Option<VcdStatus> {
        self.status.and_then(VcdStatus::from_code)
    }

    /// The VM's own vim object reference (`VimObjectType` = `VIRTUAL_MACHINE`).
    pub fn vim_object_ref(&self) -> Option<&VmVimObjectRef> {
        self.vcloud_extension
            .as_ref()?
            .vm_vim_info
            .as_ref()?
            .vm_vim_object_ref
            .as_ref()
            .filter(|r| r.vim_object_type == VIM_OBJECT_VIRTUAL_MACHINE)
    }

    /// The vCenter name (pyvcloud `VM.get_vc`).
    pub fn vcenter_name(&self) -> Option<&str> {
        self.vim_object_ref()?.vim_server_ref.name.as_deref()
    }

    /// The vCenter moref: `ovfenv:Environment@ve:vCenterId` (what CSE 1.2 reads), else the
    /// `VmVimObjectRef/MoRef`.
    pub fn moref(&self) -> Option<&str> {
        self.environment
            .as_ref()
            .and_then(|env| env.vcenter_id.as_deref())
            .or_else(|| self.vim_object_ref().map(|r| r.mo_ref.as_str()))
    }

    /// `GuestCustomizationSection/AdminPassword`.
    pub fn admin_password(&self) -> Option<&str> {
        self.guest_customization_section
            .as_ref()?
            .admin_password
            .as_deref()
    }

    /// The root password vCD generated for this VM at guest customization
    /// (`AdminPasswordEnabled` and `AdminPasswordAuto` both true), if any. A VM
    /// composed with `AdminPasswordEnabled` false reports its source's password
    /// instead, which is not necessarily its root password: `None` then.
    pub fn generated_admin_password(&self) -> Option<&str> {
        let section = self.guest_customization_section.as_ref()?;
        if section.admin_password_enabled == Some(true) && section.admin_password_auto == Some(true)
        {
            section.admin_password.as_deref().filter(|p| !p.is_empty())
        } else {
            None
        }
    }

    /// The primary IP address: the hardware section's first NIC `vcloud:ipAddress` (pyvcloud
    /// `get_primary_ip`), else the primary `NetworkConnection/IpAddress`.
    pub fn primary_ip(&self) -> Option<&str> {
        self.virtual_hardware_section
            .as_ref()
            .and_then(VirtualHardwareSection::primary_ip)
            .or_else(|| {
                self.network_connection_section
                    .as_ref()?
                    .primary()?
                    .ip_address
                    .as_deref()
            })
    }

    /// Number of CPUs (VmSpecSection, else hardware section).
    pub fn cpu_count(&self) -> Option<u64> {
        self.vm_spec_section
            .as_ref()
            .and_then(|s| s.num_cpus.map(u64::from))
            .or_else(|| self.virtual_hardware_section.as_ref()?.cpu_count())
    }

    /// Memory in MB (VmSpecSection, else hardware section).
    pub fn memory_mb(&self) -> Option<u64> {
        self.vm_spec_section
            .as_ref()
            .and_then(|s| s.memory_resource_mb.as_ref().map(|m| m.configured))
            .or_else(|| self.virtual_hardware_section.as_ref()?.memory_mb())
    }

    /// The undeploy action href.
    pub fn undeploy_href(&self) -> Result<&str, LinkError> {
        self.link_href("undeploy", Some(media::UNDEPLOY_VAPP_PARAMS))
    }
}

/// `Children` of a vApp or template.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "Children", ns(VCLOUD))]
pub struct VmChildren {
    /// The VMs.
    pub vms: Vec<Vm>,
}

/// `VApp`.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(
    rename = "VApp",
    ns(VCLOUD, ovf = OVF, rasd = RASD, vmext = VMEXT, ovfenv = OVFENV, ve = VE, vmw = VMW)
)]
pub struct VApp {
    /// vApp href.
    #[xml(attribute)]
    pub href: String,
    /// `urn:vcloud:vapp:<uuid>`.
    #[xml(attribute)]
    pub id: Option<String>,
    /// vApp name.
    #[xml(attribute)]
    pub name: String,
    /// Media type.
    #[xml(attribute, rename = "type")]
    pub media_type: Option<String>,
    /// Status code.
    #[xml(attribute)]
    pub status: Option<i32>,
    /// Whether deployed.
    #[xml(attribute)]
    pub deployed: Option<bool>,
    /// Links (power actions, `recompose`, `up`, metadata).
    pub links: Vec<Link>,
    /// Description.
    #[xml(rename = "Description")]
    pub description: Option<String>,
    /// Running tasks (compose / instantiate answers carry the create task).
    pub tasks: Option<Tasks>,
    /// vApp networks.
    pub network_config_section: Option<NetworkConfigSection>,
    /// VMs.
    pub children: Option<VmChildren>,
}

impl VApp {
    /// The VMs (empty when there are none).
    pub fn vms(&self) -> &[Vm] {
        self.children.as_ref().map_or(&[], |c| c.vms.as_slice())
    }

    /// The VM with this name.
    pub fn vm(&self, name: &str) -> Option<&Vm> {
        self.vms().iter().find(|vm| vm.name == name)
    }

    /// The status, when it is a known code.
    pub fn vcd_status(&self) -> Option<VcdStatus> {
        self.status.and_then(VcdStatus::from_code)
    }

    /// The recompose action href.
    pub fn recompose_href(&self) -> Result<&str, LinkError> {
        self.link_href("recompose", Some(media::RECOMPOSE_VAPP_PARAMS))
    }

    /// The first embedded task (the compose / instantiate task), if any.
    pub fn first_task(&self) -> Option<&super::task::Task> {
        self.tasks.as_ref()?.first()
    }
}

/// `File` of a template being uploaded: one upload target per referenced OVF file.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "File", ns(VCLOUD))]
pub struct TemplateFile {
    /// File name (`descriptor.ovf`, or the OVF `ovf:href`).
    #[xml(attribute)]
    pub name: String,
    /// Size in bytes (`-1` for the descriptor before upload).
    #[xml(attribute)]
    pub size: Option<i64>,
    /// Bytes received so far.
    #[xml(attribute, rename = "bytesTransferred")]
    pub bytes_transferred: Option<i64>,
    /// `rel=upload:default` target.
    pub links: Vec<Link>,
}

impl TemplateFile {
    /// The upload URL (`rel=upload:default`, or the first link as pyvcloud takes it).
    pub fn upload_href(&self) -> Option<&str> {
        self.links
            .iter()
            .find(|l| l.rel == "upload:default")
            .or_else(|| self.links.first())
            .map(|l| l.href.as_str())
    }
}

/// `Files` of a template being uploaded.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "Files", ns(VCLOUD))]
pub struct TemplateFiles {
    /// The files.
    pub files: Vec<TemplateFile>,
}

/// `VAppTemplate`.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(
    rename = "VAppTemplate",
    ns(VCLOUD, ovf = OVF, rasd = RASD, vmext = VMEXT, ovfenv = OVFENV, ve = VE, vmw = VMW)
)]
pub struct VAppTemplate {
    /// Template href.
    #[xml(attribute)]
    pub href: String,
    /// `urn:vcloud:vapptemplate:<uuid>`.
    #[xml(attribute)]
    pub id: Option<String>,
    /// Template name.
    #[xml(attribute)]
    pub name: String,
    /// Media type.
    #[xml(attribute, rename = "type")]
    pub media_type: Option<String>,
    /// Status code (8 when ready).
    #[xml(attribute)]
    pub status: Option<i32>,
    /// `ovfDescriptorUploaded`.
    #[xml(attribute, rename = "ovfDescriptorUploaded")]
    pub ovf_descriptor_uploaded: Option<bool>,
    /// Links.
    pub links: Vec<Link>,
    /// Description.
    #[xml(rename = "Description")]
    pub description: Option<String>,
    /// Running tasks (import / capture).
    pub tasks: Option<Tasks>,
    /// Upload targets while an OVF upload is in progress.
    pub files: Option<TemplateFiles>,
    /// Template VMs.
    pub children: Option<VmChildren>,
}

impl VAppTemplate {
    /// The template VMs.
    pub fn vms(&self) -> &[Vm] {
        self.children.as_ref().map_or(&[], |c| c.vms.as_slice())
    }

    /// The files of an upload in progress (empty once resolved).
    pub fn files(&self) -> &[TemplateFile] {
        self.files.as_ref().map_or(&[], |f| f.files.as_slice())
    }

    /// The first embedded task; `None` means the template is resolved (spec §5.3: the Rust
    /// CSE treats a missing `Tasks` as "resolved").
    pub fn first_task(&self) -> Option<&super::task::Task> {
        self.tasks.as_ref()?.first()
    }
}

impl_has_links!(Vm, VApp, VAppTemplate);

super::vcd_document! {
    Vm => "Vm", media::VM;
    VApp => "VApp", media::VAPP;
    VAppTemplate => "VAppTemplate", media::VAPP_TEMPLATE;
}
