//! vApps and their VMs: compose, instantiate, recompose (add/delete VMs),
//! power operations, CPU/memory edits and deletion, each returning a task.
//! VMs are created in vCenter (the guest model) with a fresh moref, get their
//! pool addresses, and are customized on first power-on (spec §6.5).

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use super::tasks::{PendingTask, TaskSpec, Work};
use super::*;
use crate::guest_api::Customization;

/// A vApp network in a compose/instantiate request.
#[derive(Debug, Clone)]
pub struct NetworkConfigParam {
    /// Name, which NICs refer to.
    pub name: String,
    /// The org network (`ParentNetwork`), if bridged.
    pub parent: Option<Id>,
    /// `bridged`, `natRouted` or `isolated`.
    pub fence_mode: String,
}

/// A NIC in a `NetworkConnectionSection` of a request.
#[derive(Debug, Clone)]
pub struct NicParam {
    /// Index on the VM (`NetworkConnectionIndex`).
    pub index: u32,
    /// vApp network name, or `none`.
    pub network: String,
    /// Address for `MANUAL` mode.
    pub ip: Option<Ipv4Addr>,
    /// How the address is allocated.
    pub mode: IpMode,
    /// Whether the NIC is connected.
    pub connected: bool,
    /// Adapter type (default: the source VM's).
    pub adapter_type: Option<String>,
}

/// `GuestCustomizationSection` of a request: only what was sent.
#[derive(Debug, Clone, Default)]
pub struct GuestCustomizationParam {
    /// `Enabled`.
    pub enabled: Option<bool>,
    /// `AdminPasswordEnabled`.
    pub admin_password_enabled: Option<bool>,
    /// `AdminAutoGeneratePassword`.
    pub admin_password_auto: Option<bool>,
    /// `AdminPassword`.
    pub admin_password: Option<String>,
    /// `ResetPasswordRequired`.
    pub reset_password_required: Option<bool>,
    /// `CustomizationScript`.
    pub script: Option<String>,
    /// `ComputerName`.
    pub computer_name: Option<String>,
}

/// One `SourcedItem`: a VM to copy and how to change the copy.
#[derive(Debug, Clone, Default)]
pub struct SourcedVm {
    /// A template VM or a vApp VM.
    pub source: Id,
    /// Name of the new VM (default: the source's).
    pub name: Option<String>,
    /// `NeedsCustomization` (default: whether the source needs it).
    pub needs_customization: Option<bool>,
    /// NICs to set (default: the source's).
    pub nics: Option<Vec<NicParam>>,
    /// `PrimaryNetworkConnectionIndex`.
    pub primary_nic: Option<u32>,
    /// Customization settings to change.
    pub customization: Option<GuestCustomizationParam>,
    /// Virtual CPUs (default: the source's).
    pub cpus: Option<u32>,
    /// Memory in MB (default: the source's).
    pub memory_mb: Option<u64>,
    /// Storage profile (default: the source's, then the VDC's default).
    pub storage_profile: Option<Id>,
}

/// `ComposeVAppParams` / `InstantiateVAppTemplateParams`.
#[derive(Debug, Clone, Default)]
pub struct CreateVAppParams {
    /// Name of the new vApp, unique within the VDC.
    pub name: String,
    /// Free text.
    pub description: String,
    /// vApp networks (`InstantiationParams/NetworkConfigSection`).
    pub networks: Vec<NetworkConfigParam>,
    /// Instantiate: the template.
    pub template: Option<Id>,
    /// VMs to add (`SourcedItem`s).
    pub items: Vec<SourcedVm>,
    /// `deploy` attribute.
    pub deploy: bool,
    /// `powerOn` attribute: power on after creation.
    pub power_on: bool,
}

/// `RecomposeVAppParams`.
#[derive(Debug, Clone, Default)]
pub struct RecomposeParams {
    /// VMs to add.
    pub add: Vec<SourcedVm>,
    /// VMs to delete.
    pub delete: Vec<Id>,
    /// `deploy` attribute.
    pub deploy: bool,
    /// `powerOn` attribute: power on the new VMs.
    pub power_on: bool,
}

/// Power actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerOp {
    /// `power/action/powerOn`.
    PowerOn,
    /// `power/action/powerOff` (hard).
    PowerOff,
    /// `power/action/reboot` (through the guest).
    Reboot,
    /// `power/action/reset` (hard).
    Reset,
    /// `power/action/shutdown` (through the guest).
    Shutdown,
    /// `power/action/suspend`.
    Suspend,
    /// `action/discardSuspendedState`.
    DiscardState,
    /// `action/deploy`.
    Deploy {
        /// Power on after deploying.
        power_on: bool,
    },
    /// `action/undeploy`, with what to do with running VMs.
    Undeploy(UndeployAction),
}

/// `UndeployPowerAction` of `UndeployVAppParams`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UndeployAction {
    /// `powerOff` (the default).
    PowerOff,
    /// `shutdown` through the guest.
    Shutdown,
    /// `suspend`.
    Suspend,
    /// `force`: power off hard (the simulator treats it as `powerOff`).
    Force,
}

impl PowerOp {
    /// From the `power/action/{action}` path segment; `None` for an unknown action.
    pub fn parse(action: &str) -> Option<PowerOp> {
        Some(match action {
            "powerOn" => PowerOp::PowerOn,
            "powerOff" => PowerOp::PowerOff,
            "reboot" => PowerOp::Reboot,
            "reset" => PowerOp::Reset,
            "shutdown" => PowerOp::Shutdown,
            "suspend" => PowerOp::Suspend,
            _ => return None,
        })
    }

    fn operation_name(&self, vm: bool) -> &'static str {
        match (self, vm) {
            (PowerOp::PowerOn, _) => "vappPowerOn",
            (PowerOp::PowerOff, _) => "vappPowerOff",
            (PowerOp::Reboot, _) => "vappReboot",
            (PowerOp::Reset, _) => "vappReset",
            (PowerOp::Shutdown, _) => "vappShutdownGuest",
            (PowerOp::Suspend, _) => "vappSuspend",
            (PowerOp::DiscardState, _) => "vappDiscardSuspendedState",
            (PowerOp::Deploy { .. }, _) => "vappDeploy",
            (PowerOp::Undeploy(_), false) => "vappUndeployPowerOff",
            (PowerOp::Undeploy(_), true) => "vmUndeployPowerOff",
        }
    }

    fn label(&self) -> &'static str {
        match self {
            PowerOp::PowerOn => "Starting",
            PowerOp::PowerOff => "Stopping",
            PowerOp::Reboot => "Rebooting",
            PowerOp::Reset => "Resetting",
            PowerOp::Shutdown => "Shutting down",
            PowerOp::Suspend => "Suspending",
            PowerOp::DiscardState => "Discarding State",
            PowerOp::Deploy { .. } => "Deploying",
            PowerOp::Undeploy(_) => "Undeploying",
        }
    }

    /// Whether the action is allowed in this (power, deployed) state (§6.6).
    pub fn allowed(&self, power: Power, deployed: bool) -> bool {
        match self {
            PowerOp::PowerOn => power != Power::On,
            PowerOp::PowerOff
            | PowerOp::Reboot
            | PowerOp::Reset
            | PowerOp::Shutdown
            | PowerOp::Suspend => power == Power::On,
            PowerOp::DiscardState => power == Power::Suspended,
            PowerOp::Deploy { .. } => !deployed,
            PowerOp::Undeploy(_) => deployed,
        }
    }

    /// Simulated duration.
    fn duration(&self) -> Duration {
        match self {
            PowerOp::PowerOn | PowerOp::Deploy { .. } | PowerOp::Reboot => Duration::from_secs(15),
            PowerOp::Shutdown | PowerOp::Undeploy(_) => Duration::from_secs(8),
            _ => Duration::from_secs(3),
        }
    }
}

/// Aggregated vApp status: 1 empty (resolved), 4 all on, 8 all off, 3 all
/// suspended, 10 mixed, 0 while being created.
pub fn vapp_status(inner: &Inner, vapp: &VApp) -> i32 {
    if vapp.creating {
        return 0;
    }
    let statuses: Vec<i32> = vapp
        .vms
        .iter()
        .filter_map(|v| inner.vms.get(v))
        .map(|v| v.status())
        .collect();
    if statuses.is_empty() {
        return 1;
    }
    if statuses.contains(&0) {
        return 0;
    }
    let first = statuses[0];
    if statuses.iter().all(|s| *s == first) {
        first
    } else {
        10
    }
}

/// vApp deployed: any VM deployed.
pub fn vapp_deployed(inner: &Inner, vapp: &VApp) -> bool {
    vapp.vms
        .iter()
        .filter_map(|v| inner.vms.get(v))
        .any(|v| v.deployed)
}

impl Sim {
    fn require_vdc(&self, g: &Inner, caller: &Caller, vdc: Id) -> SimResult<()> {
        match g.vdcs.get(&vdc) {
            Some(v) if caller.can_see_org(v.org) => Ok(()),
            _ => Err(SimError::no_access(&EntityRef::Vdc(vdc))),
        }
    }

    /// `POST /api/vdc/{id}/action/composeVApp` and `instantiateVAppTemplate`:
    /// the new vApp (being created) and its task.
    pub fn create_vapp(
        self: &Arc<Self>,
        caller: &Caller,
        vdc: Id,
        params: CreateVAppParams,
    ) -> SimResult<(Id, Id)> {
        let instant = self.config.clock.is_instant();
        let mut g = self.inner.write();
        self.require_vdc(&g, caller, vdc)?;
        if params.name.trim().is_empty() {
            return Err(SimError::BadRequest(
                "The vApp name must not be empty.".into(),
            ));
        }
        // Names are unique per VDC; only the VDC's org's vApps can collide.
        let org_of_vdc = g.vdcs.get(&vdc).map(|v| v.org).unwrap_or_default();
        let same_org: Vec<Id> = g.index.vapps_of(org_of_vdc).collect();
        g.work.entities(same_org.len());
        if same_org
            .iter()
            .filter_map(|id| g.vapps.get(id))
            .any(|v| v.vdc == vdc && v.name == params.name)
        {
            return Err(SimError::DuplicateName(format!(
                "The VMware Cloud Director entity {} already exists.",
                params.name
            )));
        }
        let org = g.vdcs[&vdc].org;
        let mut networks = Vec::new();
        for n in &params.networks {
            if let Some(p) = n.parent {
                match g.networks.get(&p) {
                    Some(net) if net.org == org => {}
                    _ => {
                        return Err(SimError::BadRequest(format!(
                            "Network {} referenced by vApp network '{}' is not available in this organization.",
                            p, n.name
                        )));
                    }
                }
            }
            networks.push(VAppNetwork {
                name: n.name.clone(),
                parent: n.parent,
                fence_mode: n.fence_mode.clone(),
            });
        }
        let mut items = params.items.clone();
        let mut template_networks = Vec::new();
        if let Some(t) = params.template {
            let tpl = g
                .templates
                .get(&t)
                .ok_or_else(|| SimError::no_access(&EntityRef::Template(t)))?;
            if !g.template_visible(caller, tpl) {
                return Err(SimError::no_access(&EntityRef::Template(t)));
            }
            if tpl.status != 8 {
                return Err(SimError::BadRequest(format!(
                    "The vApp template {} is not ready yet (status {}).",
                    tpl.name, tpl.status
                )));
            }
            template_networks = tpl.network_names.clone();
            // Every template VM is copied; SourcedItems only override.
            let mut all = Vec::new();
            for vm in &tpl.vms {
                let over = items.iter().find(|i| i.source == *vm).cloned();
                all.push(over.unwrap_or(SourcedVm {
                    source: *vm,
                    ..Default::default()
                }));
            }
            items = all;
        }
        for tn in template_networks {
            if !networks.iter().any(|n| n.name == tn) {
                networks.push(VAppNetwork {
                    name: tn,
                    parent: None,
                    fence_mode: "isolated".into(),
                });
            }
        }
        let id = g.new_id();
        let now = Utc::now();
        g.vapps.insert(
            id,
            VApp {
                id,
                org,
                vdc,
                name: params.name.clone(),
                description: params.description.clone(),
                owner: caller.user,
                created: now,
                networks,
                vms: Vec::new(),
                creating: true,
            },
        );
        g.index.vapp_added(org, id);
        let created = match self.add_vms(&mut g, caller, id, &items) {
            Ok(c) => c,
            Err(e) => {
                self.remove_vapp_now(&mut g, id);
                return Err(e);
            }
        };
        let (op, op_name) = if params.template.is_some() {
            (
                format!("Creating Virtual Application {}({id})", params.name),
                "vdcInstantiateVapp",
            )
        } else {
            (
                format!("Composing Virtual Application {}({id})", params.name),
                "vdcComposeVapp",
            )
        };
        let task = g.new_task(
            TaskSpec {
                org,
                user: caller.user,
                operation: op,
                operation_name: op_name,
                owner: EntityRef::VApp(id),
                owner_name: params.name.clone(),
            },
            instant,
        );
        drop(g);
        let power_on = params.power_on;
        let deploy = params.deploy || power_on;
        let work: Work = Box::new(move |sim: &Sim| {
            sim.materialize_vms(&created)?;
            {
                let mut g = sim.inner.write();
                if let Some(v) = g.vapps.get_mut(&id) {
                    v.creating = false;
                }
            }
            if deploy || power_on {
                for vm in &created {
                    sim.apply_power(*vm, PowerOp::Deploy { power_on })?;
                }
            }
            Ok(())
        });
        let secs = 5 + 10 * items.len() as u64 + if power_on { 15 } else { 0 };
        self.run_task(PendingTask {
            id: task,
            work,
            duration: Duration::from_secs(secs),
        });
        Ok((id, task))
    }

    /// Validates and records new VMs (being created) in a vApp; IPs are
    /// allocated now. Returns their ids.
    fn add_vms(
        &self,
        g: &mut Inner,
        caller: &Caller,
        vapp: Id,
        items: &[SourcedVm],
    ) -> SimResult<Vec<Id>> {
        let (org, vdc) = {
            let v = &g.vapps[&vapp];
            (v.org, v.vdc)
        };
        let mut names: Vec<String> = g.vapps[&vapp]
            .vms
            .iter()
            .filter_map(|v| g.vms.get(v))
            .map(|v| v.name.clone())
            .collect();
        let mut created = Vec::new();
        let result = (|| {
            for item in items {
                let src = g
                    .vms
                    .get(&item.source)
                    .cloned()
                    .ok_or_else(|| SimError::no_access(&EntityRef::Vm(item.source)))?;
                if !g.vm_visible(caller, &src) {
                    return Err(SimError::no_access(&EntityRef::Vm(item.source)));
                }
                let name = item.name.clone().unwrap_or_else(|| src.name.clone());
                if names.contains(&name) {
                    return Err(SimError::DuplicateName(format!(
                        "The VM name \"{name}\" is already used in this vApp."
                    )));
                }
                names.push(name.clone());
                let vapp_networks = g.vapps[&vapp].networks.clone();
                let nic_params: Vec<NicParam> = match &item.nics {
                    Some(n) => n.clone(),
                    None => src
                        .nics
                        .iter()
                        .map(|n| NicParam {
                            index: n.index,
                            network: n.network.clone(),
                            ip: None,
                            mode: if vapp_networks
                                .iter()
                                .any(|v| v.name == n.network && v.parent.is_some())
                            {
                                n.mode
                            } else {
                                IpMode::None
                            },
                            connected: n.connected,
                            adapter_type: Some(n.adapter_type.clone()),
                        })
                        .collect(),
                };
                let id = g.new_id();
                let mut nics = Vec::new();
                for p in &nic_params {
                    let parent = if p.network == "none" {
                        None
                    } else {
                        let vn = vapp_networks.iter().find(|v| v.name == p.network).ok_or_else(|| {
                            SimError::BadRequest(format!(
                                "The VM \"{name}\" refers to network \"{}\", which is not a network of the vApp.",
                                p.network
                            ))
                        })?;
                        vn.parent
                    };
                    let ip = match p.mode {
                        IpMode::Pool => match parent {
                            Some(net) => Some(g.allocate_ip(net)?),
                            None => None,
                        },
                        IpMode::Manual => {
                            let ip = p.ip.ok_or_else(|| {
                                SimError::BadRequest(
                                    "MANUAL IP allocation needs an IpAddress.".into(),
                                )
                            })?;
                            if let Some(net) = parent
                                && let Some(n) = g.networks.get_mut(&net)
                                && !n.allocated.insert(ip)
                            {
                                return Err(SimError::BadRequest(format!(
                                    "IP address {ip} is already in use."
                                )));
                            }
                            Some(ip)
                        }
                        IpMode::Dhcp | IpMode::None => None,
                    };
                    let mac = g.new_mac();
                    nics.push(Nic {
                        index: p.index,
                        network: p.network.clone(),
                        org_network: parent,
                        ip,
                        mode: p.mode,
                        connected: p.connected,
                        mac,
                        adapter_type: p
                            .adapter_type
                            .clone()
                            .map(|a| a.to_ascii_uppercase())
                            .unwrap_or_else(|| "VMXNET3".into()),
                    });
                }
                let cust = item.customization.clone().unwrap_or_default();
                let pw_enabled = cust
                    .admin_password_enabled
                    .unwrap_or(src.customization.admin_password_enabled);
                let pw_auto = cust.admin_password_auto.unwrap_or(true);
                let admin_password = if pw_enabled && !pw_auto {
                    cust.admin_password
                        .clone()
                        .filter(|p| !p.is_empty())
                        .ok_or_else(|| {
                            SimError::BadRequest(
                                "AdminPassword is required when AdminPasswordAuto is false.".into(),
                            )
                        })?
                } else if pw_enabled {
                    g.new_password()
                } else {
                    // vCD keeps the source VM's password (spec §6.5).
                    src.customization.admin_password.clone()
                };
                let customization = GuestCustomization {
                    enabled: cust.enabled.unwrap_or(true),
                    admin_password_enabled: pw_enabled,
                    admin_password_auto: pw_auto,
                    admin_password,
                    reset_password_required: cust.reset_password_required.unwrap_or(false),
                    script: cust
                        .script
                        .clone()
                        .or_else(|| src.customization.script.clone()),
                    computer_name: cust
                        .computer_name
                        .clone()
                        .unwrap_or_else(|| computer_name_of(&name)),
                };
                let primary = item
                    .primary_nic
                    .or_else(|| nics.first().map(|n| n.index))
                    .unwrap_or(0);
                let profile = item.storage_profile.or_else(|| {
                    g.vdcs
                        .get(&vdc)
                        .and_then(|v| v.storage_profiles.first())
                        .map(|p| p.id)
                });
                let vcenter = g.vcenters.keys().next().copied();
                let vm = Vm {
                    id,
                    parent: VmParent::VApp(vapp),
                    org,
                    vdc,
                    name: name.clone(),
                    description: src.description.clone(),
                    cpus: item.cpus.unwrap_or(src.cpus),
                    cores_per_socket: src.cores_per_socket.max(1),
                    memory_mb: item.memory_mb.unwrap_or(src.memory_mb),
                    disk_mb: src.disk_mb,
                    os_type: src.os_type.clone(),
                    nics,
                    primary_nic: primary,
                    power: Power::Off,
                    deployed: false,
                    needs_customization: item.needs_customization.unwrap_or(true),
                    customization,
                    moref: None,
                    vcenter,
                    disk: src.disk,
                    storage_profile: profile,
                    created: Utc::now(),
                    creating: true,
                };
                g.vms.insert(id, vm);
                if let Some(v) = g.vapps.get_mut(&vapp) {
                    v.vms.push(id);
                }
                created.push(id);
            }
            Ok(())
        })();
        if let Err(e) = result {
            for id in created {
                self.remove_vm_now(g, id);
            }
            return Err(e);
        }
        Ok(created)
    }

    /// Creates the VMs in vCenter: moref, disk copy, IP.
    fn materialize_vms(&self, vms: &[Id]) -> SimResult<()> {
        for id in vms {
            let (moref, name, disk, ip) = {
                let mut g = self.inner.write();
                let moref = g.new_moref();
                let Some(vm) = g.vms.get_mut(id) else {
                    continue;
                };
                vm.moref = Some(moref.clone());
                (moref, vm.name.clone(), vm.disk, vm.primary_ip())
            };
            let disk =
                disk.ok_or_else(|| SimError::Internal(format!("VM {name} has no disk image")))?;
            self.guests
                .create_vm(&moref, &name, disk)
                .map_err(|e| SimError::Internal(e.to_string()))?;
            self.guests
                .set_ip_address(&moref, ip.map(|i| i.to_string()))
                .map_err(|e| SimError::Internal(e.to_string()))?;
            if let Some(vm) = self.inner.write().vms.get_mut(id) {
                vm.creating = false;
            }
        }
        Ok(())
    }

    /// `POST .../action/recomposeVApp`.
    pub fn recompose(
        self: &Arc<Self>,
        caller: &Caller,
        vapp: Id,
        params: RecomposeParams,
    ) -> SimResult<Id> {
        let instant = self.config.clock.is_instant();
        let mut g = self.inner.write();
        let (org, name) = match g.vapps.get(&vapp) {
            Some(v) if caller.can_see_org(v.org) => (v.org, v.name.clone()),
            _ => return Err(SimError::no_access(&EntityRef::VApp(vapp))),
        };
        g.ensure_not_busy(EntityRef::VApp(vapp), &name)?;
        for d in &params.delete {
            if !g.vapps[&vapp].vms.contains(d) {
                return Err(SimError::BadRequest(format!(
                    "The VM {} to delete is not a VM of vApp \"{name}\".",
                    EntityRef::Vm(*d).urn()
                )));
            }
        }
        let created = self.add_vms(&mut g, caller, vapp, &params.add)?;
        let task = g.new_task(
            TaskSpec {
                org,
                user: caller.user,
                operation: format!("Updating Virtual Application {name}({vapp})"),
                operation_name: "vdcRecomposeVapp",
                owner: EntityRef::VApp(vapp),
                owner_name: name,
            },
            instant,
        );
        drop(g);
        let delete = params.delete.clone();
        let power_on = params.power_on;
        let deploy = params.deploy || power_on;
        let n = (created.len() + delete.len()) as u64;
        let work: Work = Box::new(move |sim: &Sim| {
            for d in &delete {
                let on = sim
                    .inner
                    .read()
                    .vms
                    .get(d)
                    .map(|v| v.power != Power::Off || v.deployed);
                match on {
                    Some(true) => {
                        let vm_name = sim
                            .inner
                            .read()
                            .vms
                            .get(d)
                            .map(|v| v.name.clone())
                            .unwrap_or_default();
                        return Err(SimError::BadRequest(format!(
                            "The requested operation could not be executed on VM \"{vm_name}\". Stop the VM and try again."
                        )));
                    }
                    Some(false) => sim.destroy_vm(*d)?,
                    None => {}
                }
            }
            sim.materialize_vms(&created)?;
            if deploy || power_on {
                for vm in &created {
                    sim.apply_power(*vm, PowerOp::Deploy { power_on })?;
                }
            }
            Ok(())
        });
        self.run_task(PendingTask {
            id: task,
            work,
            duration: Duration::from_secs(5 + 10 * n),
        });
        Ok(task)
    }

    /// Power action on a vApp (all its VMs) or a VM.
    pub fn power(
        self: &Arc<Self>,
        caller: &Caller,
        target: EntityRef,
        op: PowerOp,
    ) -> SimResult<Id> {
        let instant = self.config.clock.is_instant();
        let mut g = self.inner.write();
        let (org, name, vms) = match target {
            EntityRef::VApp(id) => match g.vapps.get(&id) {
                Some(v) if caller.can_see_org(v.org) => (v.org, v.name.clone(), v.vms.clone()),
                _ => return Err(SimError::no_access(&target)),
            },
            EntityRef::Vm(id) => match g.vms.get(&id) {
                Some(v) if caller.can_see_org(v.org) && matches!(v.parent, VmParent::VApp(_)) => {
                    (v.org, v.name.clone(), vec![id])
                }
                _ => return Err(SimError::no_access(&target)),
            },
            _ => {
                return Err(SimError::BadRequest(
                    "power operations apply to vApps and VMs".into(),
                ));
            }
        };
        g.ensure_not_busy(target, &name)?;
        let (power, deployed) = match target {
            EntityRef::VApp(id) => {
                let v = &g.vapps[&id];
                let st = vapp_status(&g, v);
                let p = match st {
                    4 => Power::On,
                    3 => Power::Suspended,
                    10 => Power::Suspended, // mixed: on and off are both allowed below
                    _ => Power::Off,
                };
                (if st == 10 { None } else { Some(p) }, vapp_deployed(&g, v))
            }
            _ => {
                let v = &g.vms[&target.id()];
                (Some(v.power), v.deployed)
            }
        };
        let allowed = match power {
            Some(p) => op.allowed(p, deployed),
            None => !matches!(op, PowerOp::DiscardState),
        };
        if !allowed || vms.is_empty() {
            return Err(SimError::BadRequest(format!(
                "The requested operation could not be executed since {} \"{name}\" is not in the right state.",
                if matches!(target, EntityRef::VApp(_)) {
                    "vApp"
                } else {
                    "VM"
                }
            )));
        }
        let is_vm = matches!(target, EntityRef::Vm(_));
        let task = g.new_task(
            TaskSpec {
                org,
                user: caller.user,
                operation: format!(
                    "{} {} {name}({})",
                    op.label(),
                    if is_vm {
                        "Virtual Machine"
                    } else {
                        "Virtual Application"
                    },
                    target.id()
                ),
                operation_name: op.operation_name(is_vm),
                owner: target,
                owner_name: name,
            },
            instant,
        );
        drop(g);
        let work: Work = Box::new(move |sim: &Sim| {
            for vm in &vms {
                sim.apply_power(*vm, op)?;
            }
            Ok(())
        });
        self.run_task(PendingTask {
            id: task,
            work,
            duration: op.duration(),
        });
        Ok(task)
    }

    /// Applies a power action to one VM (no-op when it is already in the target state).
    pub(crate) fn apply_power(&self, vm: Id, op: PowerOp) -> SimResult<()> {
        let (moref, power, deployed, cust) = {
            let g = self.inner.read();
            let Some(v) = g.vms.get(&vm) else {
                return Ok(());
            };
            let Some(moref) = v.moref.clone() else {
                return Err(SimError::BadRequest(format!(
                    "VM {} is not created yet.",
                    v.name
                )));
            };
            let cust = (v.needs_customization && v.customization.enabled).then(|| Customization {
                computer_name: v.customization.computer_name.clone(),
                admin_password: Some(v.customization.admin_password.clone()),
                script: v.customization.script.clone(),
            });
            (moref, v.power, v.deployed, cust)
        };
        let fault = |e: crate::guest_api::GuestFault| SimError::BadRequest(e.to_string());
        let (new_power, new_deployed) = match op {
            PowerOp::PowerOn | PowerOp::Deploy { power_on: true } => {
                if power != Power::On {
                    let first = cust.is_some();
                    self.guests.power_on(&moref, cust).map_err(fault)?;
                    if first && let Some(v) = self.inner.write().vms.get_mut(&vm) {
                        v.needs_customization = false;
                    }
                }
                (Power::On, true)
            }
            PowerOp::Deploy { power_on: false } => (power, true),
            PowerOp::PowerOff => {
                if power == Power::On {
                    self.guests.power_off(&moref).map_err(fault)?;
                }
                (Power::Off, deployed)
            }
            PowerOp::Shutdown => {
                if power == Power::On {
                    self.guests.shutdown(&moref).map_err(fault)?;
                }
                (Power::Off, deployed)
            }
            PowerOp::Suspend => {
                if power == Power::On {
                    self.guests.suspend(&moref).map_err(fault)?;
                }
                (Power::Suspended, deployed)
            }
            PowerOp::Reboot | PowerOp::Reset => {
                if power == Power::On {
                    self.guests.power_off(&moref).map_err(fault)?;
                }
                self.guests.power_on(&moref, None).map_err(fault)?;
                (Power::On, true)
            }
            PowerOp::DiscardState => {
                if power == Power::Suspended {
                    self.guests.power_off(&moref).map_err(fault)?;
                }
                (Power::Off, deployed)
            }
            PowerOp::Undeploy(action) => {
                let after = match (power, action) {
                    (Power::On, UndeployAction::Shutdown) => {
                        self.guests.shutdown(&moref).map_err(fault)?;
                        Power::Off
                    }
                    (Power::On, UndeployAction::Suspend) => {
                        self.guests.suspend(&moref).map_err(fault)?;
                        Power::Suspended
                    }
                    (Power::On, _) => {
                        self.guests.power_off(&moref).map_err(fault)?;
                        Power::Off
                    }
                    (p, _) => p,
                };
                (after, false)
            }
        };
        if let Some(v) = self.inner.write().vms.get_mut(&vm) {
            v.power = new_power;
            v.deployed = new_deployed;
        }
        Ok(())
    }

    /// `PUT .../virtualHardwareSection/cpu|memory`: allowed on powered-off VMs.
    pub fn edit_hardware(
        self: &Arc<Self>,
        caller: &Caller,
        vm: Id,
        cpus: Option<(u32, Option<u32>)>,
        memory_mb: Option<u64>,
    ) -> SimResult<Id> {
        let instant = self.config.clock.is_instant();
        let mut g = self.inner.write();
        let v = match g.vms.get(&vm) {
            Some(v) if caller.can_see_org(v.org) && matches!(v.parent, VmParent::VApp(_)) => v,
            _ => return Err(SimError::no_access(&EntityRef::Vm(vm))),
        };
        let (org, name, power) = (v.org, v.name.clone(), v.power);
        g.ensure_not_busy(EntityRef::Vm(vm), &name)?;
        if power != Power::Off {
            return Err(SimError::BadRequest(format!(
                "The requested operation on VM \"{name}\" is not supported while it is powered on: CPU and memory hot add are disabled."
            )));
        }
        if let Some((n, cores)) = cpus
            && (n == 0 || n > 128 || cores.is_some_and(|c| c == 0 || n % c != 0))
        {
            return Err(SimError::BadRequest(format!(
                "Invalid number of virtual CPUs: {n}."
            )));
        }
        if let Some(m) = memory_mb
            && (m < 4 || m % 4 != 0)
        {
            return Err(SimError::BadRequest(format!(
                "Invalid memory size: {m} MB (a multiple of 4 MB is needed)."
            )));
        }
        let task = g.new_task(
            TaskSpec {
                org,
                user: caller.user,
                operation: format!("Updating Virtual Machine {name}({vm})"),
                operation_name: "vappUpdateVm",
                owner: EntityRef::Vm(vm),
                owner_name: name,
            },
            instant,
        );
        drop(g);
        let work: Work = Box::new(move |sim: &Sim| {
            let mut g = sim.inner.write();
            if let Some(v) = g.vms.get_mut(&vm) {
                if let Some((n, cores)) = cpus {
                    v.cpus = n;
                    if let Some(c) = cores {
                        v.cores_per_socket = c;
                    } else if n % v.cores_per_socket != 0 {
                        v.cores_per_socket = 1;
                    }
                }
                if let Some(m) = memory_mb {
                    v.memory_mb = m;
                }
            }
            Ok(())
        });
        self.run_task(PendingTask {
            id: task,
            work,
            duration: Duration::from_secs(4),
        });
        Ok(task)
    }

    /// `DELETE /api/vApp/vapp-{id}?force=..`.
    pub fn delete_vapp(self: &Arc<Self>, caller: &Caller, vapp: Id, force: bool) -> SimResult<Id> {
        let instant = self.config.clock.is_instant();
        let mut g = self.inner.write();
        let (org, name) = match g.vapps.get(&vapp) {
            Some(v) if caller.can_see_org(v.org) => (v.org, v.name.clone()),
            _ => return Err(SimError::no_access(&EntityRef::VApp(vapp))),
        };
        g.ensure_not_busy(EntityRef::VApp(vapp), &name)?;
        let deployed = vapp_deployed(&g, &g.vapps[&vapp]);
        if deployed && !force {
            return Err(SimError::BadRequest(format!(
                "The requested operation could not be executed since vApp \"{name}\" is running. Stop it first or delete with force."
            )));
        }
        let task = g.new_task(
            TaskSpec {
                org,
                user: caller.user,
                operation: format!("Deleting Virtual Application {name}({vapp})"),
                operation_name: "vdcDeleteVapp",
                owner: EntityRef::VApp(vapp),
                owner_name: name,
            },
            instant,
        );
        drop(g);
        let work: Work = Box::new(move |sim: &Sim| {
            let vms = sim
                .inner
                .read()
                .vapps
                .get(&vapp)
                .map(|v| v.vms.clone())
                .unwrap_or_default();
            for vm in &vms {
                sim.apply_power(*vm, PowerOp::Undeploy(UndeployAction::Force))
                    .ok();
                sim.destroy_vm(*vm)?;
            }
            let mut g = sim.inner.write();
            sim.remove_vapp_now(&mut g, vapp);
            Ok(())
        });
        self.run_task(PendingTask {
            id: task,
            work,
            duration: Duration::from_secs(5),
        });
        Ok(task)
    }

    /// Removes a VM from vCenter and from its vApp, giving its addresses back.
    fn destroy_vm(&self, vm: Id) -> SimResult<()> {
        let moref = self.inner.read().vms.get(&vm).and_then(|v| v.moref.clone());
        if let Some(m) = moref {
            self.guests
                .destroy(&m)
                .map_err(|e| SimError::Internal(e.to_string()))?;
        }
        let mut g = self.inner.write();
        self.remove_vm_now(&mut g, vm);
        Ok(())
    }

    fn remove_vm_now(&self, g: &mut Inner, vm: Id) {
        if let Some(v) = g.vms.remove(&vm) {
            for n in &v.nics {
                g.release_ip(n.org_network, n.ip);
            }
            if let VmParent::VApp(a) = v.parent
                && let Some(app) = g.vapps.get_mut(&a)
            {
                app.vms.retain(|x| *x != vm);
            }
        }
        g.metadata.remove(&EntityRef::Vm(vm));
    }

    pub(crate) fn remove_vapp_now(&self, g: &mut Inner, vapp: Id) {
        let vms = g
            .vapps
            .get(&vapp)
            .map(|v| v.vms.clone())
            .unwrap_or_default();
        for vm in vms {
            self.remove_vm_now(g, vm);
        }
        if let Some(removed) = g.vapps.remove(&vapp) {
            g.index.vapp_removed(removed.org, vapp);
        }
        g.metadata.remove(&EntityRef::VApp(vapp));
    }
}

/// A valid guest host name from a VM name (letters, digits, dashes; ≤ 15 chars as vCD for Windows, 63 for Linux).
pub fn computer_name_of(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(63)
        .collect();
    if cleaned.is_empty() {
        "vm".into()
    } else {
        cleaned
    }
}
