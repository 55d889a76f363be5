//! The building blocks of the operations, each safe to repeat: find the
//! template VM, add VMs to a cluster vApp (names journaled before the
//! recompose, so a crash never leaves a VM nobody knows about), prepare their
//! guests, run scripts with deadlines, remove VMs.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use cse_core::api::ApiError;
use cse_core::config::{Secret, TemplateConfig};
use cse_core::naming::{NodeType, generate_unused_node_names};
use cse_core::vcd::ovf::RasdItem;
use cse_core::vcd::params::Source;
use cse_core::vcd::vapp::StorageProfile;
use cse_core::vcd::{RecomposeVAppParams, SourcedItem, UndeployVAppParams, VApp, Vm};
use tokio::time::Instant;

use super::error::OpError;
use super::journal::{self, Journal};
use super::scripts;
use crate::context::Context;
use cse_vcd::vcd::{Client, Filter, Query, QueryFormat, VcdError};
use cse_vcd::vsphere::{
    GuestCredentials, GuestTarget, LocateError, PollSettings, ProgramSpec, ScriptOutput,
};

/// What an operation read of one of its VMs, once: where its guest is and the
/// root password vCD generated for it, if it did. Neither changes while the
/// operation runs, so every later guest step of the VM reuses it instead of
/// reading the VM again.
#[derive(Clone, Debug)]
pub struct VmGuest {
    /// The VM's vCenter session and moref.
    pub target: GuestTarget,
    /// The document's `GuestCustomizationSection/AdminPassword`, with
    /// whether vCD generated it.
    password: StatedPassword,
}

#[derive(Clone, Debug)]
enum StatedPassword {
    Generated(Secret),
    Given(Option<Secret>),
}

impl VmGuest {
    /// Root's credentials: the generated password, else `template_password`.
    pub fn root(&self, template_password: &Secret) -> GuestCredentials {
        match &self.password {
            StatedPassword::Generated(password) => GuestCredentials::root(password.clone()),
            StatedPassword::Given(_) => GuestCredentials::root(template_password.clone()),
        }
    }

    /// Whether vCD generated root's password.
    pub fn has_generated_password(&self) -> bool {
        matches!(self.password, StatedPassword::Generated(_))
    }

    /// The password the VM's customization section states when vCD did not
    /// generate it (the template's, for a VM composed from it).
    pub fn stated_password(&self) -> Option<&Secret> {
        match &self.password {
            StatedPassword::Generated(_) => None,
            StatedPassword::Given(password) => password.as_ref(),
        }
    }
}

/// What an operation works with.
pub struct Run {
    /// Server state.
    pub ctx: Arc<Context>,
    /// System-administrator session (operations outlive tenant tokens).
    pub admin: Client,
    /// The cluster vApp (empty until composed).
    pub vapp_href: String,
    /// The journal as last written.
    pub journal: Journal,
    /// Whether the journal has been written to the vApp (by this process or,
    /// for a takeover, by the server it took over from).
    pub journaled: std::sync::atomic::AtomicBool,
    /// The VMs' guests read so far ([`Run::guest`]), by VM href.
    guests: parking_lot::Mutex<HashMap<String, VmGuest>>,
    /// Template VMs looked up so far ([`Run::template_vm`]), by template name.
    template_vms: parking_lot::Mutex<HashMap<String, String>>,
}

impl Run {
    /// An operation on the vApp at `vapp_href` (empty until composed) with
    /// `journal`; `journaled`: whether that journal is already on the vApp.
    pub fn new(
        ctx: Arc<Context>,
        admin: Client,
        vapp_href: String,
        journal: Journal,
        journaled: bool,
    ) -> Self {
        Self {
            ctx,
            admin,
            vapp_href,
            journal,
            journaled: std::sync::atomic::AtomicBool::new(journaled),
            guests: parking_lot::Mutex::new(HashMap::new()),
            template_vms: parking_lot::Mutex::new(HashMap::new()),
        }
    }

    /// The VM of `template` new nodes are made from ([`template_vm`]),
    /// looked up once per operation: a create adds its master and its
    /// workers from the same template.
    pub async fn template_vm(&self, template: &TemplateConfig) -> Result<String, OpError> {
        if let Some(href) = self.template_vms.lock().get(&template.name) {
            return Ok(href.clone());
        }
        let href = template_vm(&self.ctx, &self.admin, template).await?;
        self.template_vms
            .lock()
            .insert(template.name.clone(), href.clone());
        Ok(href)
    }

    /// Records `step` as done.
    pub async fn done(&mut self, step: &str) -> Result<(), OpError> {
        self.done_with(step, &[]).await
    }

    /// Records `step` as done, writing its results `with` (string metadata
    /// entries) in the same vCD call as the journal.
    pub async fn done_with(&mut self, step: &str, with: &[(&str, &str)]) -> Result<(), OpError> {
        self.journal.done.push(step.to_owned());
        self.save_with(with).await
    }

    /// Whether another server took this operation's lease over: the
    /// operation then leaves the vApp, its journal and its task alone.
    pub fn taken_over(&self) -> bool {
        !self.vapp_href.is_empty() && self.ctx.held_leases.is_lost(&self.vapp_href)
    }

    /// Removes lease and journal (the operation is over and its task has
    /// ended: a kill before this point leaves a journal whose task has ended,
    /// which a resume pass just clears), after stopping the lease's renewals
    /// so none writes it back.
    pub async fn clear(&self) -> Result<(), cse_vcd::vcd::VcdError> {
        self.ctx.held_leases.stop_renewals(&self.vapp_href);
        journal::clear(&self.admin, &self.ctx.vapp_gates, &self.vapp_href).await
    }

    /// Makes sure, before a step with effects, that this process still
    /// holds the operation's lease ([`super::lease::fence`]): a process woken
    /// after a freeze longer than the lease starts nothing new on a cluster
    /// another server took over.
    pub async fn fence(&self) -> Result<(), OpError> {
        if self.vapp_href.is_empty() {
            return Ok(());
        }
        let journaled = self.journaled.load(std::sync::atomic::Ordering::Acquire);
        super::lease::fence(
            &self.admin,
            &super::lease::settings(&self.ctx),
            &self.vapp_href,
            journaled.then_some(self.journal.task.href.as_str()),
        )
        .await
        .map_err(OpError::lease(
            &self.journal.task.cluster,
            &self.journal.task.operation_name,
        ))
    }

    /// Writes the journal (refused once the lease was taken over).
    pub async fn save(&self) -> Result<(), OpError> {
        self.save_with(&[]).await
    }

    /// Writes the journal and the entries `with` in one call (refused once
    /// the lease was taken over).
    async fn save_with(&self, with: &[(&str, &str)]) -> Result<(), OpError> {
        self.fence().await?;
        journal::write_with(
            &self.admin,
            &self.ctx.vapp_gates,
            &self.vapp_href,
            &self.journal,
            with,
        )
        .await?;
        self.journaled
            .store(true, std::sync::atomic::Ordering::Release);
        Ok(())
    }

    /// The cluster vApp document.
    pub async fn vapp(&self) -> Result<VApp, OpError> {
        Ok(self.admin.get_doc(&self.vapp_href).await?)
    }

    fn poll(&self) -> PollSettings {
        PollSettings::from_config(&self.ctx.config.timeouts)
    }

    fn script_deadline(&self) -> Instant {
        Instant::now() + self.ctx.config.timeouts.script.duration()
    }

    fn tools_deadline(&self) -> Instant {
        Instant::now() + self.ctx.config.timeouts.tools_ready.duration()
    }

    /// The guest of the VM at `vm_href`: the VM is read (as system
    /// administrator) the first time this operation asks, remembered after.
    pub async fn guest(&self, vm_href: &str) -> Result<VmGuest, OpError> {
        if let Some(known) = self.guests.lock().get(vm_href) {
            return Ok(known.clone());
        }
        let unreachable = |e: VcdError| OpError::GuestUnreachable(LocateError::Vcd(e));
        let answer = self.admin.get_answer(vm_href).await.map_err(unreachable)?;
        let document = answer.document().map_err(unreachable)?;
        let vm: Vm = answer.parse()?;
        let target = self
            .ctx
            .vcenters
            .target_for_vm_document(&self.admin, vm_href, &document)
            .await
            .map_err(OpError::GuestUnreachable)?;
        let password = match vm.generated_admin_password() {
            Some(password) => StatedPassword::Generated(Secret::new(password.to_owned())),
            None => StatedPassword::Given(
                vm.admin_password()
                    .filter(|p| !p.is_empty())
                    .map(|p| Secret::new(p.to_owned())),
            ),
        };
        let guest = VmGuest { target, password };
        self.guests.lock().insert(vm_href.to_owned(), guest.clone());
        Ok(guest)
    }

    /// The guest of the VM at `vm_href` ([`Run::guest`]'s target).
    pub async fn target(&self, vm_href: &str) -> Result<GuestTarget, OpError> {
        Ok(self.guest(vm_href).await?.target)
    }

    /// Root credentials of the VM at `vm_href` of a cluster made from `template`.
    pub async fn root(
        &self,
        vm_href: &str,
        template: &TemplateConfig,
    ) -> Result<GuestCredentials, OpError> {
        self.root_with(vm_href, &template.admin_password).await
    }

    /// Root credentials of the VM at `vm_href`: its generated password, else
    /// `template_password`.
    pub async fn root_with(
        &self,
        vm_href: &str,
        template_password: &Secret,
    ) -> Result<GuestCredentials, OpError> {
        Ok(self.guest(vm_href).await?.root(template_password))
    }

    /// Runs `script` as root in the guest at `vm_href`, within `timeouts.script`.
    pub async fn run_script(
        &self,
        vm_href: &str,
        credentials: &GuestCredentials,
        script: &str,
    ) -> Result<ScriptOutput, OpError> {
        self.fence().await?;
        let target = self.target(vm_href).await?;
        target
            .session
            .run_script(
                &target.vm,
                credentials,
                script,
                self.poll(),
                self.script_deadline(),
            )
            .await
            .map_err(OpError::guest("Couldn't run a script in the guest"))
    }
}

/// How new VMs are made.
#[derive(Clone, Debug, Default)]
pub struct VmOptions {
    /// Org VDC network.
    pub network: String,
    /// vCPUs.
    pub cpu: Option<u32>,
    /// Memory MB.
    pub memory_mb: Option<u32>,
    /// Storage profile name (looked up in the cluster's VDC).
    pub storage_profile: Option<String>,
    /// Root's authorized ssh key.
    pub ssh_key: Option<String>,
}

/// The template's single VM (href) in the configured catalog.
pub async fn template_vm(
    ctx: &Context,
    admin: &Client,
    template: &TemplateConfig,
) -> Result<String, OpError> {
    let not_found = || OpError::Cse(ApiError::TemplateNotFound(template.name.clone()));
    let query = Query::new("adminCatalogItem", QueryFormat::Records).filter(
        Filter::eq("name", &template.catalog_item)
            .and_eq("catalogName", &ctx.config.broker.catalog),
    );
    let records = admin.query(&query).await?;
    let item_href = records
        .first()
        .and_then(|r| r.href())
        .ok_or_else(not_found)?
        .to_owned();
    let item = admin.get(&item_href).await?;
    let template_href = item
        .child("Entity")
        .and_then(|e| e.attr("href"))
        .ok_or_else(not_found)?
        .to_owned();
    let vapp_template = admin.get(&template_href).await?;
    vapp_template
        .descend(&["Children", "Vm"])
        .and_then(|vm| vm.attr("href"))
        .map(str::to_owned)
        .ok_or_else(not_found)
}

/// Adds `count` VMs of `node_type` to the vApp and prepares their guests
/// (root password set to the template's, `nfsd.sh` on NFS nodes). Returns
/// the new VMs' names and hrefs.
pub async fn add_vms(
    run: &mut Run,
    template: &TemplateConfig,
    node_type: NodeType,
    count: u32,
    options: &VmOptions,
) -> Result<Vec<(String, String)>, OpError> {
    let source_vm = run.template_vm(template).await?;
    let vapp = run.vapp().await?;
    let taken: HashSet<String> = vapp.vms().iter().map(|vm| vm.name.clone()).collect();
    let names = generate_unused_node_names(node_type, count as usize, &taken, &mut rand::rng())
        .map_err(|e| OpError::Cse(ApiError::NamesExhausted(e.to_string())))?;
    run.journal.new_vms.extend(names.iter().cloned());
    run.save().await?;

    let storage_profile = match &options.storage_profile {
        None => None,
        Some(name) => {
            let vdc_href = vapp
                .links
                .iter()
                .find(|l| {
                    l.rel == "up" && l.media_type.as_deref() == Some(cse_vcd::vcd::media::VDC)
                })
                .map(|l| l.href.clone())
                .ok_or_else(|| OpError::Unexpected("The cluster vApp has no VDC link".into()))?;
            let vdc: cse_core::vcd::Vdc = run.admin.get_doc(&vdc_href).await?;
            let profile = vdc.storage_profile(name).ok_or_else(|| {
                OpError::Unexpected(format!(
                    "Storage profile '{name}' not found in the Virtual Datacenter."
                ))
            })?;
            Some(StorageProfile {
                href: profile.href.clone(),
                id: None,
                name: profile.name.clone(),
                media_type: profile.media_type.clone(),
            })
        }
    };
    let script = options
        .ssh_key
        .as_deref()
        .map(scripts::ssh_key_customization);
    let generated =
        super::credentials::generates_passwords(run.ctx.config.broker.node_root_password);
    let items: Vec<SourcedItem> = names
        .iter()
        .map(|name| {
            let item = SourcedItem::cse_node(
                Source {
                    href: source_vm.clone(),
                    id: None,
                    name: None,
                    media_type: None,
                },
                name,
                &options.network,
                0,
                script.as_deref(),
                storage_profile.clone(),
            );
            if generated {
                item.with_generated_password()
            } else {
                item
            }
        })
        .collect();
    let power_on = options.cpu.is_none() && options.memory_mb.is_none();
    let recompose = vapp
        .recompose_href()
        .map_err(|e| OpError::Unexpected(e.to_string()))?;
    {
        let _turn = run.ctx.vapp_gates.enter(&run.vapp_href).await;
        let answer = run
            .admin
            .post_doc(recompose, &RecomposeVAppParams::add(items, power_on))
            .await?;
        run.admin.wait_for_answer(&answer).await?;
    }

    let vapp = run.vapp().await?;
    let mut made = Vec::new();
    for name in &names {
        let vm = vapp.vm(name).ok_or_else(|| {
            OpError::Unexpected(format!("VM '{name}' is missing after the recompose"))
        })?;
        made.push((name.clone(), vm.href.clone()));
    }
    if !power_on {
        for (_, href) in &made {
            run.fence().await?;
            resize_and_power_on(run, href, options).await?;
        }
    }
    for (name, href) in &made {
        run.fence().await?;
        prepare_guest(run, template, node_type, name, href).await?;
    }
    Ok(made)
}

async fn resize_and_power_on(run: &Run, href: &str, options: &VmOptions) -> Result<(), OpError> {
    let section = format!("{href}/virtualHardwareSection");
    let _turn = run.ctx.vapp_gates.enter(&run.vapp_href).await;
    if let Some(cpu) = options.cpu {
        let answer = run
            .admin
            .put_doc(&format!("{section}/cpu"), &RasdItem::cpu(u64::from(cpu), 1))
            .await?;
        run.admin.wait_for_answer(&answer).await?;
    }
    if let Some(memory) = options.memory_mb {
        let answer = run
            .admin
            .put_doc(
                &format!("{section}/memory"),
                &RasdItem::memory(u64::from(memory)),
            )
            .await?;
        run.admin.wait_for_answer(&answer).await?;
    }
    let answer = run
        .admin
        .post_empty(&format!("{href}/power/action/powerOn"))
        .await?;
    run.admin.wait_for_answer(&answer).await?;
    Ok(())
}

/// Waits for the new guest and sets up NFS on `nfsd` nodes. A VM with a
/// password generated by vCD keeps it; otherwise (`node_root_password:
/// template`, as 1.2.x) root's password is set to the template's.
async fn prepare_guest(
    run: &Run,
    template: &TemplateConfig,
    node_type: NodeType,
    name: &str,
    href: &str,
) -> Result<(), OpError> {
    let guest = run.guest(href).await?;
    if guest.has_generated_password() {
        let credentials = guest.root(&template.admin_password);
        let target = guest.target;
        target
            .session
            .wait_until_ready(&target.vm, &credentials, run.poll(), run.tools_deadline())
            .await
            .map_err(OpError::guest(format!(
                "VM '{name}' is not ready to execute scripts"
            )))?;
        return set_up_nfs(run, template, node_type, name, href, &credentials).await;
    }
    let first_password = guest
        .stated_password()
        .cloned()
        .unwrap_or_else(|| template.admin_password.clone());
    let target = guest.target;
    let initial = GuestCredentials::root(first_password);
    let final_credentials = GuestCredentials::root(template.admin_password.clone());
    let ready = target
        .session
        .wait_until_ready(&target.vm, &initial, run.poll(), run.tools_deadline())
        .await;
    let credentials = match ready {
        Ok(()) => {
            // The password changes under the running script, so it is started
            // and not polled (as 1.2.x did); readiness with the new password
            // proves it ran.
            let path = format!("/tmp/cse-pw-{}.sh", uuid::Uuid::new_v4().simple());
            let fail = |e: cse_vcd::vsphere::VsphereError| {
                OpError::guest(format!("Couldn't set the root password of '{name}'"))(e)
            };
            target
                .session
                .upload(
                    &target.vm,
                    &initial,
                    &path,
                    scripts::chpasswd(template.admin_password.expose()).into_bytes(),
                    0o700,
                    true,
                )
                .await
                .map_err(fail)?;
            // Uploaded executable (0700): started as it is.
            let pid = target
                .session
                .start_program(
                    &target.vm,
                    &initial,
                    &ProgramSpec {
                        program_path: path.clone(),
                        ..ProgramSpec::default()
                    },
                )
                .await
                .map_err(fail)?;
            wait_password_changed(run, &target, &initial, name, pid).await?;
            target
                .session
                .wait_until_ready(
                    &target.vm,
                    &final_credentials,
                    run.poll(),
                    run.tools_deadline(),
                )
                .await
                .map_err(fail)?;
            if let Err(error) = target
                .session
                .delete_file(&target.vm, &final_credentials, &path)
                .await
            {
                tracing::debug!(vm = %name, "cannot remove the password script: {error}");
            }
            final_credentials
        }
        Err(first_error) => {
            // Resumed work: the password may already be the template's.
            target
                .session
                .wait_until_ready(
                    &target.vm,
                    &final_credentials,
                    run.poll(),
                    run.tools_deadline(),
                )
                .await
                .map_err(|_| {
                    OpError::guest(format!("VM '{name}' is not ready to execute scripts"))(
                        first_error,
                    )
                })?;
            final_credentials
        }
    };
    set_up_nfs(run, template, node_type, name, href, &credentials).await
}

/// Runs `nfsd.sh` on an NFS node (nothing on other nodes).
async fn set_up_nfs(
    run: &Run,
    template: &TemplateConfig,
    node_type: NodeType,
    name: &str,
    href: &str,
    credentials: &GuestCredentials,
) -> Result<(), OpError> {
    if node_type == NodeType::Nfs {
        let nfsd = scripts::for_template(&template.name).nfsd;
        let output = run.run_script(href, credentials, nfsd).await?;
        if !output.success() {
            return Err(OpError::Unexpected(format!(
                "Couldn't set up NFS on '{name}':\n{}",
                output.stderr
            )));
        }
    }
    Ok(())
}

/// Polls the guest with the old password until it is refused (the password
/// script ran) or the script reports a failure, within `timeouts.script`.
async fn wait_password_changed(
    run: &Run,
    target: &GuestTarget,
    old: &GuestCredentials,
    name: &str,
    pid: i64,
) -> Result<(), OpError> {
    let deadline = run.script_deadline();
    loop {
        match target.session.list_processes(&target.vm, old, &[pid]).await {
            Ok(processes) => {
                if let Some(code) = processes
                    .iter()
                    .find(|p| p.pid == pid)
                    .and_then(|p| p.exit_code)
                    && code != 0
                {
                    return Err(OpError::Unexpected(format!(
                        "Couldn't set the root password of '{name}': the script exited with {code}"
                    )));
                }
            }
            Err(error)
                if error.fault_kind() == Some(cse_vcd::vsphere::FaultKind::InvalidGuestLogin) =>
            {
                return Ok(());
            }
            Err(error) if !error.is_transient() => {
                return Err(OpError::Unexpected(format!(
                    "Couldn't set the root password of '{name}': {error}"
                )));
            }
            Err(_) => {}
        }
        if Instant::now() >= deadline {
            return Err(OpError::Unexpected(format!(
                "Couldn't set the root password of '{name}': the guest still accepts the old one"
            )));
        }
        tokio::time::sleep(run.poll().initial).await;
    }
}

/// Undeploys (errors ignored) and deletes the named VMs of the vApp that exist.
pub async fn remove_vms(run: &Run, names: &[String]) -> Result<(), OpError> {
    let vapp = run.vapp().await?;
    let hrefs: Vec<String> = names
        .iter()
        .filter_map(|name| vapp.vm(name).map(|vm| vm.href.clone()))
        .collect();
    if hrefs.is_empty() {
        return Ok(());
    }
    run.fence().await?;
    let _turn = run.ctx.vapp_gates.enter(&run.vapp_href).await;
    for href in &hrefs {
        match run
            .admin
            .post_doc(
                &format!("{href}/action/undeploy"),
                &UndeployVAppParams::default_action(),
            )
            .await
        {
            Ok(answer) => {
                if let Err(error) = run.admin.wait_for_answer(&answer).await {
                    tracing::debug!(vm = %href, "undeploy failed (ignored): {error}");
                }
            }
            Err(error) => tracing::debug!(vm = %href, "undeploy refused (ignored): {error}"),
        }
    }
    let refs: Vec<&str> = hrefs.iter().map(String::as_str).collect();
    let recompose = vapp
        .recompose_href()
        .map_err(|e| OpError::Unexpected(e.to_string()))?;
    let answer = run
        .admin
        .post_doc(recompose, &RecomposeVAppParams::delete(&refs))
        .await?;
    run.admin.wait_for_answer(&answer).await?;
    Ok(())
}

/// Deletes the vApp (powered off first by vCD with `force=true`), in its gate.
pub async fn delete_vapp(
    admin: &Client,
    gates: &crate::coordination::VappGates,
    vapp_href: &str,
) -> Result<(), OpError> {
    let _turn = gates.enter(vapp_href).await;
    match admin.delete(&format!("{vapp_href}?force=true")).await {
        Ok(answer) => Ok(admin.wait_for_answer(&answer).await.map(drop)?),
        Err(error) if error.is_not_found() => Ok(()),
        Err(error) => Err(error.into()),
    }
}
