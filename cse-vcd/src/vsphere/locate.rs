//! From a vCD VM to the vCenter session that can reach it: the VM's placement
//! (vCenter name + moref, from the system administrator's view of the VM), the
//! vCenter's registered URL (looked up once per name, then cached), and the
//! pooled session for that vCenter.

use std::sync::Arc;

use super::client::VcenterSession;
use super::error::VsphereError;
use super::pool::VcenterPool;
use crate::vcd::xml::Element;
use crate::vcd::{Client, VcdError, VmPlacement, vm_placement};

/// Why a VM's guest could not be located.
#[derive(Debug, thiserror::Error)]
pub enum LocateError {
    /// vCD could not be asked (VM or vCenter registration unreadable).
    #[error(transparent)]
    Vcd(#[from] VcdError),
    /// The vCenter session could not be set up.
    #[error(transparent)]
    Vsphere(#[from] VsphereError),
    /// The VM document names no vCenter object (not read as system administrator?).
    #[error(
        "VM {vm_href} shows no vCenter placement (VCloudExtension/VmVimInfo); read it as system administrator"
    )]
    NoPlacement {
        /// The VM href.
        vm_href: String,
    },
}

/// A VM's guest: the session of its vCenter and its moref.
#[derive(Clone, Debug)]
pub struct GuestTarget {
    /// The pooled vCenter session.
    pub session: Arc<VcenterSession>,
    /// The VM's moref (`vm-1042`).
    pub vm: String,
}

impl VcenterPool {
    /// The session and moref for `placement`; `admin` must be a system-administrator
    /// session (the vCenter registration is admin-only).
    pub async fn target_for_placement(
        &self,
        admin: &Client,
        placement: &VmPlacement,
    ) -> Result<GuestTarget, LocateError> {
        let url = match self.cached_url(&placement.vcenter) {
            Some(url) => url,
            None => {
                let server = admin.vim_server(&placement.vcenter).await?;
                self.remember_url(&placement.vcenter, &server.url);
                server.url
            }
        };
        Ok(GuestTarget {
            session: self.session(&placement.vcenter, &url)?,
            vm: placement.moref.clone(),
        })
    }

    /// Reads the VM at `vm_href` as system administrator and locates its guest.
    pub async fn target_for_vm(
        &self,
        admin: &Client,
        vm_href: &str,
    ) -> Result<GuestTarget, LocateError> {
        let vm = admin.get(vm_href).await?;
        self.target_for_vm_document(admin, vm_href, &vm).await
    }

    /// Locates the guest of the VM at `vm_href` whose document (read as system
    /// administrator) is `vm`.
    pub async fn target_for_vm_document(
        &self,
        admin: &Client,
        vm_href: &str,
        vm: &Element,
    ) -> Result<GuestTarget, LocateError> {
        let placement = vm_placement(vm).ok_or_else(|| LocateError::NoPlacement {
            vm_href: vm_href.to_owned(),
        })?;
        self.target_for_placement(admin, &placement).await
    }
}
