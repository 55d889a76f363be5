//! A [`GuestLifecycle`] that records every call and keeps a little state
//! (power, IP, root password), for tests of the vCD side without the guest
//! model. The real guest model replaces it.

use std::collections::BTreeMap;

use parking_lot::Mutex;

use crate::guest_api::{Customization, DiskId, GuestFault, GuestLifecycle, PowerState};

/// One recorded call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuestCall {
    /// A template's disk was imported.
    ImportDisk {
        /// The OVF's guest OS hint.
        os_hint: String,
        /// The new disk's id.
        disk: DiskId,
    },
    /// A VM's disk was copied (template capture).
    SnapshotDisk {
        /// The VM copied.
        moref: String,
        /// The new disk's id.
        disk: DiskId,
    },
    /// A VM was created on a disk.
    CreateVm {
        /// Its vCenter moref.
        moref: String,
        /// Its name.
        name: String,
        /// The disk it starts from.
        disk: DiskId,
    },
    /// A VM's address was set or cleared.
    SetIp {
        /// The VM.
        moref: String,
        /// The new address.
        ip: Option<String>,
    },
    /// A VM was powered on.
    PowerOn {
        /// The VM.
        moref: String,
        /// Host name set by customization, if customized.
        computer_name: Option<String>,
        /// Whether guest customization ran at this power-on.
        customized: bool,
    },
    /// A VM was powered off hard.
    PowerOff {
        /// The VM.
        moref: String,
    },
    /// A VM was shut down through its guest.
    Shutdown {
        /// The VM.
        moref: String,
    },
    /// A VM was suspended.
    Suspend {
        /// The VM.
        moref: String,
    },
    /// A VM was deleted.
    Destroy {
        /// The VM.
        moref: String,
    },
}

/// A recorded guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedVm {
    /// Its name.
    pub name: String,
    /// The disk it was created on.
    pub disk: DiskId,
    /// Its power state.
    pub power: PowerState,
    /// Its address.
    pub ip: Option<String>,
    /// Host name set by the last customization.
    pub host_name: Option<String>,
    /// Root password set by the last customization.
    pub root_password: Option<String>,
}

#[derive(Default)]
struct Recorded {
    calls: Vec<GuestCall>,
    vms: BTreeMap<String, RecordedVm>,
    next_disk: u64,
}

/// Records guest lifecycle calls.
#[derive(Default)]
pub struct RecordingGuests {
    inner: Mutex<Recorded>,
}

impl RecordingGuests {
    /// An empty recorder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<GuestCall> {
        self.inner.lock().calls.clone()
    }

    /// The VM `moref` as the calls left it.
    pub fn vm(&self, moref: &str) -> Option<RecordedVm> {
        self.inner.lock().vms.get(moref).cloned()
    }

    /// Number of VMs created and not destroyed.
    pub fn vm_count(&self) -> usize {
        self.inner.lock().vms.len()
    }
}

fn missing(moref: &str) -> GuestFault {
    GuestFault::ManagedObjectNotFound {
        moref: moref.to_string(),
    }
}

impl GuestLifecycle for RecordingGuests {
    fn import_disk(&self, os_hint: &str) -> DiskId {
        let mut g = self.inner.lock();
        g.next_disk += 1;
        let disk = DiskId(g.next_disk);
        g.calls.push(GuestCall::ImportDisk {
            os_hint: os_hint.into(),
            disk,
        });
        disk
    }

    fn snapshot_disk(&self, moref: &str) -> Result<DiskId, GuestFault> {
        let mut g = self.inner.lock();
        if !g.vms.contains_key(moref) {
            return Err(missing(moref));
        }
        g.next_disk += 1;
        let disk = DiskId(g.next_disk);
        g.calls.push(GuestCall::SnapshotDisk {
            moref: moref.into(),
            disk,
        });
        Ok(disk)
    }

    fn create_vm(&self, moref: &str, name: &str, disk: DiskId) -> Result<(), GuestFault> {
        let mut g = self.inner.lock();
        if g.vms.contains_key(moref) {
            return Err(GuestFault::InvalidArgument {
                name: format!("moref {moref} exists"),
            });
        }
        g.calls.push(GuestCall::CreateVm {
            moref: moref.into(),
            name: name.into(),
            disk,
        });
        g.vms.insert(
            moref.into(),
            RecordedVm {
                name: name.into(),
                disk,
                power: PowerState::PoweredOff,
                ip: None,
                host_name: None,
                root_password: None,
            },
        );
        Ok(())
    }

    fn set_ip_address(&self, moref: &str, ip: Option<String>) -> Result<(), GuestFault> {
        let mut g = self.inner.lock();
        g.vms.get_mut(moref).ok_or_else(|| missing(moref))?.ip = ip.clone();
        g.calls.push(GuestCall::SetIp {
            moref: moref.into(),
            ip,
        });
        Ok(())
    }

    fn power_on(
        &self,
        moref: &str,
        customization: Option<Customization>,
    ) -> Result<(), GuestFault> {
        let mut g = self.inner.lock();
        let vm = g.vms.get_mut(moref).ok_or_else(|| missing(moref))?;
        vm.power = PowerState::PoweredOn;
        let customized = customization.is_some();
        let computer_name = customization.as_ref().map(|c| c.computer_name.clone());
        if let Some(c) = customization {
            vm.host_name = Some(c.computer_name);
            if c.admin_password.is_some() {
                vm.root_password = c.admin_password;
            }
        }
        g.calls.push(GuestCall::PowerOn {
            moref: moref.into(),
            computer_name,
            customized,
        });
        Ok(())
    }

    fn power_off(&self, moref: &str) -> Result<(), GuestFault> {
        let mut g = self.inner.lock();
        g.vms.get_mut(moref).ok_or_else(|| missing(moref))?.power = PowerState::PoweredOff;
        g.calls.push(GuestCall::PowerOff {
            moref: moref.into(),
        });
        Ok(())
    }

    fn shutdown(&self, moref: &str) -> Result<(), GuestFault> {
        let mut g = self.inner.lock();
        let vm = g.vms.get_mut(moref).ok_or_else(|| missing(moref))?;
        if vm.power != PowerState::PoweredOn {
            return Err(GuestFault::InvalidPowerState);
        }
        vm.power = PowerState::PoweredOff;
        g.calls.push(GuestCall::Shutdown {
            moref: moref.into(),
        });
        Ok(())
    }

    fn suspend(&self, moref: &str) -> Result<(), GuestFault> {
        let mut g = self.inner.lock();
        g.vms.get_mut(moref).ok_or_else(|| missing(moref))?.power = PowerState::Suspended;
        g.calls.push(GuestCall::Suspend {
            moref: moref.into(),
        });
        Ok(())
    }

    fn destroy(&self, moref: &str) -> Result<(), GuestFault> {
        let mut g = self.inner.lock();
        g.vms.remove(moref).ok_or_else(|| missing(moref))?;
        g.calls.push(GuestCall::Destroy {
            moref: moref.into(),
        });
        Ok(())
    }
}
