//! Where a vCD VM lives in vSphere: its vCenter moref (read from the VM's
//! `ovfenv:Environment/@ve:vCenterId` or its sysadmin-only `VCloudExtension`) and
//! the vCenter it is registered under (`VimServerRef@name` → `vmext:VimServer/Url`).

use super::client::Client;
use super::error::VcdError;
use super::links::links_of;
use super::links::require_link;
use super::version::media;
use super::xml::{Element, VMEXT_NS};

/// Namespace of `ovfenv:Environment`.
pub const OVFENV_NS: &str = "http://schemas.dmtf.org/ovf/environment/1";
/// Namespace of `ve:vCenterId`.
pub const VE_NS: &str = "http://www.vmware.com/schema/ovfenv";

/// The vCenter side of a vCD VM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VmPlacement {
    /// Name the vCenter is registered under in vCD (`vcs[].name`).
    pub vcenter: String,
    /// The VM's moref, e.g. `vm-1042`.
    pub moref: String,
}

/// Reads the placement from a `Vm` element as a system administrator sees it
/// (`VCloudExtension/vmext:VmVimInfo/vmext:VmVimObjectRef`).
pub fn vm_placement(vm: &Element) -> Option<VmPlacement> {
    let info = vm
        .child("VCloudExtension")?
        .children
        .iter()
        .find(|c| c.is(VMEXT_NS, "VmVimInfo"))?;
    let object_ref = info.children.iter().find(|c| {
        c.is(VMEXT_NS, "VmVimObjectRef") && c.child_text("VimObjectType") == Some("VIRTUAL_MACHINE")
    })?;
    Some(VmPlacement {
        vcenter: object_ref.child("VimServerRef")?.attr("name")?.to_owned(),
        moref: object_ref.child_text("MoRef")?.trim().to_owned(),
    })
}

/// Reads the moref from the VM's OVF environment (visible to tenants).
pub fn vm_moref_from_environment(vm: &Element) -> Option<String> {
    vm.children
        .iter()
        .find(|c| c.is(OVFENV_NS, "Environment"))?
        .attr("vCenterId")
        .map(str::to_owned)
}

/// A vCenter registered in vCD.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VimServer {
    /// Registered name.
    pub name: String,
    /// `Url`, e.g. `https://vc.example.com:443`.
    pub url: String,
    /// `Username` stored in vCD (informational; credentials come from `vcs[]`).
    pub username: Option<String>,
}

impl Client {
    /// Looks up the vCenter registered under `name` (system administrators only):
    /// extension root → `vimServerReferences` → `VimServer`.
    pub async fn vim_server(&self, name: &str) -> Result<VimServer, VcdError> {
        let extension_href = self.session().extension_href()?.to_owned();
        let extension = self.get(&extension_href).await?;
        let links = links_of(&extension);
        let refs_href = require_link(
            &links,
            &extension_href,
            "down",
            Some(media::VIM_SERVER_REFERENCES),
        )
        .map(|l| l.href.clone())
        .unwrap_or_else(|_| format!("{extension_href}/vimServerReferences"));
        let references = self.get(&refs_href).await?;
        let reference = references
            .children
            .iter()
            .find(|c| c.name == "VimServerReference" && c.attr("name") == Some(name))
            .ok_or_else(|| VcdError::UnknownVcenter {
                name: name.to_owned(),
                url: refs_href.clone(),
            })?;
        let href = reference.attr("href").ok_or_else(|| VcdError::Parse {
            url: refs_href.clone(),
            reason: format!("the reference to vCenter '{name}' has no href"),
        })?;
        let server = self.get(href).await?;
        let url = server
            .child("Url")
            .map(|u| u.text.trim().to_owned())
            .filter(|u| !u.is_empty())
            .ok_or_else(|| VcdError::Parse {
                url: href.to_owned(),
                reason: format!("vCenter '{name}' has no Url"),
            })?;
        Ok(VimServer {
            name: name.to_owned(),
            url,
            username: server.child_text("Username").map(|u| u.trim().to_owned()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vcd::xml;

    #[test]
    fn placement_and_environment_moref() {
        let vm = xml::parse(
            r#"<Vm xmlns="http://www.vmware.com/vcloud/v1.5" xmlns:vmext="http://www.vmware.com/vcloud/extension/v1.5"
                   xmlns:ovfenv="http://schemas.dmtf.org/ovf/environment/1" xmlns:ve="http://www.vmware.com/schema/ovfenv"
                   name="mstr-ab12">
              <ovfenv:Environment ve:vCenterId="vm-1042"/>
              <VCloudExtension required="false">
                <vmext:VmVimInfo>
                  <vmext:VmVimObjectRef>
                    <vmext:VimServerRef href="h" name="vc1" type="application/vnd.vmware.admin.vmwvirtualcenter+xml"/>
                    <vmext:MoRef>vm-1042</vmext:MoRef>
                    <vmext:VimObjectType>VIRTUAL_MACHINE</vmext:VimObjectType>
                  </vmext:VmVimObjectRef>
                </vmext:VmVimInfo>
              </VCloudExtension>
            </Vm>"#,
        )
        .unwrap();
        assert_eq!(
            vm_placement(&vm),
            Some(VmPlacement {
                vcenter: "vc1".into(),
                moref: "vm-1042".into()
            })
        );
        assert_eq!(vm_moref_from_environment(&vm).as_deref(), Some("vm-1042"));
        let tenant_view = xml::parse(r#"<Vm name="x"/>"#).unwrap();
        assert_eq!(vm_placement(&tenant_view), None);
    }
}
