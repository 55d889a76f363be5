//! `GuestLifecycle` for the vCD side, and the boot sequence: power-on →
//! boot → tools starting → guest customization (script `precustomization`,
//! computer name, script `postcustomization`, admin password) → agent warm-up
//! (still `guestToolsExecutingScripts`) → ready (`guestToolsRunning`, guest
//! operations accepted). Every step takes its simulated time on the world's clock; on an
//! instant clock the sequence completes inside `power_on`.

use std::future::Future;

use futures::FutureExt as _;

use crate::faults::{ListedRule, RuleId};
use crate::guest_api::{Customization, DiskId, GuestFault, GuestLifecycle, PowerState};

use super::exec::context::Io;
use super::faults::{FaultScope, GuestFaultChecks as _, GuestFaultKind};
use super::fs::Actor;
use super::images;
use super::process::ProcessTable;
use super::shell;
use super::vm::{BootPhase, CustomizationRecord, Vm};
use super::world::GuestWorld;

/// Where vCD's customization script is put in the guest (sim choice).
pub const CUSTOMIZATION_SCRIPT_PATH: &str = "/var/run/vmware-imc/customize.sh";

/// Runs `future` inline when it needs no time, else on the runtime.
pub(crate) fn drive(world: &GuestWorld, future: impl Future<Output = ()> + Send + 'static) {
    let mut future = Box::pin(future);
    if world.clock().is_instant() && (&mut future).now_or_never().is_some() {
        return;
    }
    match world.runtime() {
        Some(handle) => {
            handle.spawn(future);
        }
        None => tracing::warn!("guest model: no tokio runtime to finish a boot or process on"),
    }
}

fn set_phase(world: &GuestWorld, moref: &str, epoch: u64, phase: BootPhase) -> bool {
    let mut state = world.lock();
    match state.vms.get_mut(moref) {
        Some(vm) if vm.epoch == epoch && vm.power == PowerState::PoweredOn => {
            vm.phase = phase;
            true
        }
        _ => false,
    }
}

/// Starts (or resumes, when tools were blocked) the boot of a VM.
pub(crate) fn start_boot_stage(
    world: &GuestWorld,
    moref: String,
    epoch: u64,
    customization: Option<Customization>,
    resumed: bool,
) {
    let w = world.clone();
    drive(world, async move {
        let clock = w.clock();
        let timings = w.timings();
        if !resumed {
            clock.sleep(timings.boot).await;
            let blocked = {
                let mut state = w.lock();
                let blocked = state.faults.tools_blocked(&moref);
                if blocked
                    && let Some(vm) = state.vms.get_mut(&moref).filter(|vm| vm.epoch == epoch)
                {
                    vm.phase = BootPhase::ToolsBlocked;
                    vm.pending_customization = Some(customization.clone());
                }
                blocked
            };
            if blocked {
                return;
            }
        }
        if !set_phase(&w, &moref, epoch, BootPhase::ToolsStarting) {
            return;
        }
        clock.sleep(timings.tools_starting).await;
        let mut epoch = epoch;
        if let Some(customization) = customization {
            if !timings.customization_pending.is_zero() && !clock.is_instant() {
                // Tools answer with the old password until customization runs.
                if !set_phase(&w, &moref, epoch, BootPhase::Ready) {
                    return;
                }
                clock.sleep(timings.customization_pending).await;
                if !set_phase(&w, &moref, epoch, BootPhase::ToolsStarting) {
                    return;
                }
            }
            customize(&w, &moref, epoch, customization).await;
            if timings.customization_reboot && !clock.is_instant() {
                let next = {
                    let mut state = w.lock();
                    let now = state.now();
                    match state.vms.get_mut(&moref).filter(|vm| vm.epoch == epoch) {
                        Some(vm) => {
                            vm.processes.kill_all();
                            vm.epoch += 1;
                            vm.phase = BootPhase::Booting;
                            vm.processes = ProcessTable::booted(now);
                            vm.disk.boot_services();
                            Some(vm.epoch)
                        }
                        None => None,
                    }
                };
                let Some(next) = next else { return };
                epoch = next;
                clock.sleep(timings.boot).await;
                if !set_phase(&w, &moref, epoch, BootPhase::ToolsStarting) {
                    return;
                }
                clock.sleep(timings.tools_starting).await;
            }
        }
        if !set_phase(&w, &moref, epoch, BootPhase::AgentWarmingUp) {
            return;
        }
        clock.sleep(timings.ops_warmup).await;
        set_phase(&w, &moref, epoch, BootPhase::Ready);
    });
}

async fn run_customization_script(
    world: &GuestWorld,
    moref: &str,
    epoch: u64,
    phase: &str,
    record: &mut CustomizationRecord,
) {
    let ctx = {
        let state = world.lock();
        match state.vms.get(moref).filter(|vm| vm.epoch == epoch) {
            Some(vm) => shell::login(world.clone(), vm, "root", Some("/root".into()), None),
            None => None,
        }
    };
    let Some(mut ctx) = ctx else { return };
    let io = Io::buffered();
    let code = shell::run_source(
        &mut ctx,
        &format!("/bin/bash {CUSTOMIZATION_SCRIPT_PATH} {phase}"),
        &io,
    )
    .await;
    record.script_exit_codes.push(code);
    record.log.push_str(&format!(
        "== {phase} (exit {code})\n{}{}",
        io.stdout_text(),
        io.stderr_text()
    ));
}

async fn customize(world: &GuestWorld, moref: &str, epoch: u64, customization: Customization) {
    let mut record = CustomizationRecord::default();
    if let Some(script) = &customization.script {
        {
            let mut state = world.lock();
            let now = state.now();
            if let Some(vm) = state.vms.get_mut(moref) {
                let _ = vm
                    .disk
                    .fs
                    .mkdir("/var/run/vmware-imc", true, Actor::ROOT, 0o700, now);
                let _ = vm.disk.fs.write(
                    CUSTOMIZATION_SCRIPT_PATH,
                    script.clone(),
                    Actor::ROOT,
                    0o700,
                    now,
                );
            }
        }
        run_customization_script(world, moref, epoch, "precustomization", &mut record).await;
    }
    {
        let mut state = world.lock();
        let now = state.now();
        if let Some(vm) = state.vms.get_mut(moref) {
            let _ = vm.disk.fs.write(
                "/etc/hostname",
                format!("{}\n", customization.computer_name),
                Actor::ROOT,
                0o644,
                now,
            );
        }
    }
    if customization.script.is_some() {
        run_customization_script(world, moref, epoch, "postcustomization", &mut record).await;
    }
    let mut state = world.lock();
    if let Some(vm) = state.vms.get_mut(moref) {
        if let Some(password) = &customization.admin_password {
            vm.disk.users.set_password("root", password);
            if let Some(root) = vm.disk.users.get_mut("root") {
                root.aging.expire_date = -1;
            }
        }
        let _ = vm
            .disk
            .fs
            .remove(CUSTOMIZATION_SCRIPT_PATH, false, Actor::ROOT);
        vm.customization = Some(record);
    }
}

impl GuestWorld {
    /// Removes a guest fault rule; returns whether it existed. Guests whose
    /// tools were blocked resume booting.
    pub fn remove_fault(&self, id: RuleId) -> bool {
        self.remove_faults_where(|r| r.id == id) > 0
    }

    /// Removes the rules of exactly this scope; returns how many.
    pub fn remove_faults(&self, scope: &FaultScope) -> usize {
        self.remove_faults_where(|r| &r.rule.matcher == scope)
    }

    /// Removes every guest fault rule.
    pub fn clear_faults(&self) {
        self.remove_faults_where(|_| true);
    }

    /// Removes the rules `pred` picks; guests whose tools are no longer
    /// blocked resume booting.
    fn remove_faults_where(
        &self,
        pred: impl FnMut(&ListedRule<FaultScope, GuestFaultKind>) -> bool,
    ) -> usize {
        let mut resumed = Vec::new();
        let removed = {
            let mut state = self.lock();
            let removed = state.faults.remove_where(pred);
            let blocked: Vec<String> = state
                .vms
                .values()
                .filter(|vm| vm.phase == BootPhase::ToolsBlocked)
                .map(|vm| vm.moref.clone())
                .collect();
            for moref in blocked {
                if state.faults.tools_blocked(&moref) {
                    continue;
                }
                if let Some(vm) = state.vms.get_mut(&moref) {
                    let customization = vm.pending_customization.take().flatten();
                    resumed.push((moref.clone(), vm.epoch, customization));
                }
            }
            removed
        };
        for (moref, epoch, customization) in resumed {
            start_boot_stage(self, moref, epoch, customization, true);
        }
        removed
    }
}

impl GuestLifecycle for GuestWorld {
    fn import_disk(&self, os_hint: &str) -> DiskId {
        let mut state = self.lock();
        let now = state.now();
        let disk = images::base_disk(images::os_from_hint(os_hint), now);
        state.add_disk(disk)
    }

    fn snapshot_disk(&self, moref: &str) -> Result<DiskId, GuestFault> {
        let mut state = self.lock();
        let disk = state.vm(moref)?.disk.clone();
        Ok(state.add_disk(disk))
    }

    fn create_vm(&self, moref: &str, name: &str, disk: DiskId) -> Result<(), GuestFault> {
        let mut state = self.lock();
        if state.vms.contains_key(moref) {
            return Err(GuestFault::InvalidArgument {
                name: format!("moref {moref} already exists"),
            });
        }
        let disk = state
            .disks
            .get(&disk)
            .ok_or_else(|| GuestFault::InvalidArgument {
                name: format!("disk {}", disk.0),
            })?;
        let vm = Vm::new(moref, name, (**disk).clone());
        state.vms.insert(moref.to_owned(), vm);
        Ok(())
    }

    fn set_ip_address(&self, moref: &str, ip: Option<String>) -> Result<(), GuestFault> {
        self.lock().vm_mut(moref)?.ip = ip;
        Ok(())
    }

    fn power_on(
        &self,
        moref: &str,
        customization: Option<Customization>,
    ) -> Result<(), GuestFault> {
        let epoch = {
            let mut state = self.lock();
            let now = state.now();
            let vm = state.vm_mut(moref)?;
            match vm.power {
                PowerState::PoweredOn => return Ok(()),
                PowerState::Suspended => {
                    vm.power = PowerState::PoweredOn;
                    vm.phase = BootPhase::Ready;
                    return Ok(());
                }
                PowerState::PoweredOff => {}
            }
            vm.power = PowerState::PoweredOn;
            vm.epoch += 1;
            vm.phase = BootPhase::Booting;
            vm.processes = ProcessTable::booted(now);
            vm.disk.boot_services();
            vm.epoch
        };
        start_boot_stage(self, moref.to_owned(), epoch, customization, false);
        Ok(())
    }

    fn power_off(&self, moref: &str) -> Result<(), GuestFault> {
        let mut state = self.lock();
        let vm = state.vm_mut(moref)?;
        vm.processes.kill_all();
        vm.processes = ProcessTable::default();
        vm.power = PowerState::PoweredOff;
        vm.phase = BootPhase::Off;
        vm.epoch += 1;
        for service in vm.disk.services.values_mut() {
            service.active = false;
        }
        Ok(())
    }

    fn shutdown(&self, moref: &str) -> Result<(), GuestFault> {
        {
            let state = self.lock();
            let vm = state.vm(moref)?;
            if vm.power != PowerState::PoweredOn {
                return Err(GuestFault::InvalidPowerState);
            }
            if !matches!(vm.phase, BootPhase::AgentWarmingUp | BootPhase::Ready) {
                return Err(GuestFault::SystemError { message: "Cannot complete operation because VMware Tools is not running in this virtual machine.".into() });
            }
        }
        self.power_off(moref)
    }

    fn suspend(&self, moref: &str) -> Result<(), GuestFault> {
        let mut state = self.lock();
        let vm = state.vm_mut(moref)?;
        if vm.power != PowerState::PoweredOn {
            return Err(GuestFault::InvalidPowerState);
        }
        vm.power = PowerState::Suspended;
        vm.phase = BootPhase::Suspended;
        Ok(())
    }

    fn destroy(&self, moref: &str) -> Result<(), GuestFault> {
        let mut state = self.lock();
        let mut vm = state
            .vms
            .remove(moref)
            .ok_or_else(|| GuestFault::ManagedObjectNotFound {
                moref: moref.to_owned(),
            })?;
        vm.processes.kill_all();
        state.clusters.forget_master(moref);
        Ok(())
    }
}
