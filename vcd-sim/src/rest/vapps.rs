//! vApps and VMs: compose, instantiate and capture (the VDC actions),
//! `/api/vApp/{id}` (get, delete, owner), power and deploy/undeploy actions,
//! recompose, the CPU/memory hardware items; the `VApp`, `Vm` and `RasdItem`
//! documents and the reading of compose/instantiate/recompose bodies.

use std::net::Ipv4Addr;

use crate::state::vapps::*;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;

use super::common::*;
use super::context::{ApiResult, Ctx, VcdErrorResponse};
use super::xml::{Dom, El, parse_bool};
use crate::state::views::VAppOrVm;
use crate::state::*;

/// What a `CaptureVAppParams` body asks for.
pub(super) struct CaptureRequest {
    pub(super) name: String,
    pub(super) description: String,
    pub(super) source: Id,
    pub(super) target_item: Option<Id>,
}

pub(super) fn capture_params(
    ctx: &Ctx,
    dom: &super::xml::Dom,
) -> Result<CaptureRequest, VcdErrorResponse> {
    let source = dom
        .child("Source")
        .and_then(|s| s.attr("href"))
        .and_then(uuid_of)
        .ok_or_else(|| {
            ctx.err(VcdErrorResponse::bad_request(
                "CaptureVAppParams needs a Source vApp.",
            ))
        })?;
    Ok(CaptureRequest {
        name: dom.attr("name").unwrap_or_default().to_string(),
        description: dom
            .child_text("Description")
            .unwrap_or_default()
            .to_string(),
        source,
        target_item: dom
            .child("TargetCatalogItem")
            .and_then(|s| s.attr("href"))
            .and_then(uuid_of),
    })
}

// ----- vApps and VMs -----

pub(super) async fn get_vapp_owner(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let caller = ctx.caller()?;
    let e = vapp_entity(&id).map_err(|e| ctx.err(e))?;
    ctx.sim().view(|g| {
        let a = match g.visible_vapp_or_vm(&caller, e) {
            Ok(VAppOrVm::VApp(a)) => a,
            _ => return Err(ctx.fail(SimError::no_access(&e))),
        };
        let doc = super::xml::El::root("Owner")
            .attr("href", format!("{}{}/owner", ctx.base, e.path()))
            .attr("type", mt::OWNER)
            .link("up", format!("{}{}", ctx.base, e.path()), Some(mt::VAPP))
            .child(reference(
                "User",
                &ctx.base,
                EntityRef::User(a.owner),
                &g.user_name(a.owner),
            ));
        ctx.ok(mt::OWNER, doc)
    })
}

pub(super) async fn get_vapp(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let caller = ctx.caller()?;
    let e = vapp_entity(&id).map_err(|e| ctx.err(e))?;
    ctx.sim().view(
        |g| match g.visible_vapp_or_vm(&caller, e).map_err(|e| ctx.fail(e))? {
            VAppOrVm::VApp(a) => ctx.ok(mt::VAPP, vapp_doc(g, &ctx.base, &caller, a, None)),
            VAppOrVm::Vm(v) => ctx.ok(mt::VM, vm_doc(g, &ctx.base, &caller, v, true)),
        },
    )
}

pub(super) async fn delete_vapp(
    ctx: Ctx,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let caller = ctx.caller()?;
    let e = vapp_entity(&id).map_err(|e| ctx.err(e))?;
    match e {
        EntityRef::VApp(v) => {
            let task = ctx
                .sim()
                .delete_vapp(&caller, v, bool_param(&q, "force"))
                .map_err(|e| ctx.fail(e))?;
            super::tasks::task_response(&ctx, task)
        }
        _ => Err(ctx.err(VcdErrorResponse::new(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "A VM is deleted through its vApp's recompose (DeleteItem).",
        ))),
    }
}

pub(super) async fn power_action(ctx: Ctx, Path((id, op)): Path<(String, String)>) -> ApiResult {
    let caller = ctx.caller()?;
    let e = vapp_entity(&id).map_err(|e| ctx.err(e))?;
    let op = PowerOp::parse(&op).ok_or_else(|| {
        ctx.err(VcdErrorResponse::not_found(format!(
            "No power action \"{op}\"."
        )))
    })?;
    let task = ctx.sim().power(&caller, e, op).map_err(|e| ctx.fail(e))?;
    super::tasks::task_response(&ctx, task)
}

pub(super) async fn vapp_action(
    ctx: Ctx,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let caller = ctx.caller()?;
    let e = vapp_entity(&id).map_err(|e| ctx.err(e))?;
    let task = match action.as_str() {
        "recomposeVApp" => {
            let EntityRef::VApp(v) = e else {
                return Err(ctx.err(VcdErrorResponse::not_found(
                    "recomposeVApp applies to vApps.",
                )));
            };
            let dom = body_dom(&body).map_err(|e| ctx.err(e))?;
            let params = recompose(&dom).map_err(|e| ctx.err(e))?;
            ctx.sim()
                .recompose(&caller, v, params)
                .map_err(|e| ctx.fail(e))?
        }
        "deploy" => {
            let power_on = if body.is_empty() {
                true
            } else {
                let dom = body_dom(&body).map_err(|e| ctx.err(e))?;
                dom.attr("powerOn")
                    .and_then(super::xml::parse_bool)
                    .unwrap_or(true)
            };
            ctx.sim()
                .power(&caller, e, PowerOp::Deploy { power_on })
                .map_err(|e| ctx.fail(e))?
        }
        "undeploy" => {
            let action = if body.is_empty() {
                UndeployAction::PowerOff
            } else {
                let dom = body_dom(&body).map_err(|e| ctx.err(e))?;
                match dom.child_text("UndeployPowerAction").unwrap_or("default") {
                    "shutdown" => UndeployAction::Shutdown,
                    "suspend" => UndeployAction::Suspend,
                    "force" => UndeployAction::Force,
                    "default" | "powerOff" => UndeployAction::PowerOff,
                    other => {
                        return Err(ctx.err(VcdErrorResponse::bad_request(format!(
                            "Unknown UndeployPowerAction \"{other}\"."
                        ))));
                    }
                }
            };
            ctx.sim()
                .power(&caller, e, PowerOp::Undeploy(action))
                .map_err(|e| ctx.fail(e))?
        }
        "discardSuspendedState" => ctx
            .sim()
            .power(&caller, e, PowerOp::DiscardState)
            .map_err(|e| ctx.fail(e))?,
        _ => {
            return Err(ctx.err(VcdErrorResponse::not_found(format!(
                "No vApp action \"{action}\"."
            ))));
        }
    };
    super::tasks::task_response(&ctx, task)
}

pub(super) async fn get_rasd(ctx: Ctx, Path((id, item)): Path<(String, String)>) -> ApiResult {
    let caller = ctx.caller()?;
    let e = vapp_entity(&id).map_err(|e| ctx.err(e))?;
    let cpu = match item.as_str() {
        "cpu" => true,
        "memory" => false,
        _ => {
            return Err(ctx.err(VcdErrorResponse::not_found(format!(
                "No hardware item \"{item}\"."
            ))));
        }
    };
    ctx.sim().view(|g| {
        let v = g.visible_vm(&caller, e).map_err(|e| ctx.fail(e))?;
        ctx.ok(mt::RASD_ITEM, rasd_item(&ctx.base, v, cpu, true))
    })
}

pub(super) async fn put_rasd(
    ctx: Ctx,
    Path((id, item)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let caller = ctx.caller()?;
    let e = vapp_entity(&id).map_err(|e| ctx.err(e))?;
    let EntityRef::Vm(vm) = e else {
        return Err(ctx.err(VcdErrorResponse::not_found("Hardware items belong to VMs.")));
    };
    let dom = body_dom(&body).map_err(|e| ctx.err(e))?;
    let qty: u64 = dom
        .child_text("VirtualQuantity")
        .and_then(|q| q.parse().ok())
        .ok_or_else(|| {
            ctx.err(VcdErrorResponse::bad_request(
                "The item needs a numeric rasd:VirtualQuantity.",
            ))
        })?;
    let task = match item.as_str() {
        "cpu" => {
            let cores = dom
                .child_text("CoresPerSocket")
                .and_then(|c| c.parse().ok());
            ctx.sim()
                .edit_hardware(&caller, vm, Some((qty as u32, cores)), None)
        }
        "memory" => ctx.sim().edit_hardware(&caller, vm, None, Some(qty)),
        _ => {
            return Err(ctx.err(VcdErrorResponse::not_found(format!(
                "No hardware item \"{item}\"."
            ))));
        }
    }
    .map_err(|e| ctx.fail(e))?;
    super::tasks::task_response(&ctx, task)
}

pub(super) fn power_links(
    el: El,
    h: &str,
    power: Power,
    deployed: bool,
    removable: bool,
    status0: bool,
) -> El {
    if status0 {
        return el;
    }
    let mut el = el;
    match (power, deployed) {
        (Power::On, _) => {
            for a in ["powerOff", "reboot", "reset", "shutdown", "suspend"] {
                el = el.link(&format!("power:{a}"), format!("{h}/power/action/{a}"), None);
            }
            el = el.link(
                "undeploy",
                format!("{h}/action/undeploy"),
                Some(mt::UNDEPLOY),
            );
        }
        (Power::Suspended, _) => {
            el = el
                .link("power:powerOn", format!("{h}/power/action/powerOn"), None)
                .link(
                    "discardState",
                    format!("{h}/action/discardSuspendedState"),
                    None,
                )
                .link(
                    "undeploy",
                    format!("{h}/action/undeploy"),
                    Some(mt::UNDEPLOY),
                );
        }
        (Power::Off, true) => {
            el = el
                .link("power:powerOn", format!("{h}/power/action/powerOn"), None)
                .link(
                    "undeploy",
                    format!("{h}/action/undeploy"),
                    Some(mt::UNDEPLOY),
                );
        }
        (Power::Off, false) => {
            el = el
                .link("power:powerOn", format!("{h}/power/action/powerOn"), None)
                .link("deploy", format!("{h}/action/deploy"), Some(mt::DEPLOY));
            if removable {
                el = el.link("remove", h, None);
            }
        }
    }
    el
}

/// A RASD item for cpu or memory (§6.7).
pub fn rasd_item(base: &str, v: &Vm, cpu: bool, standalone: bool) -> El {
    let h = format!(
        "{}/virtualHardwareSection/{}",
        href(base, EntityRef::Vm(v.id)),
        if cpu { "cpu" } else { "memory" }
    );
    let mut el = if standalone {
        El::root("Item")
    } else {
        El::new("ovf:Item")
    };
    el = el
        .attr("vcloud:href", &h)
        .attr("vcloud:type", mt::RASD_ITEM);
    if standalone {
        el = el.link("edit", &h, Some(mt::RASD_ITEM));
    }
    if cpu {
        el.leaf("rasd:AllocationUnits", "hertz * 10^6")
            .leaf("rasd:Description", "Number of Virtual CPUs")
            .leaf("rasd:ElementName", format!("{} virtual CPU(s)", v.cpus))
            .leaf("rasd:InstanceID", "4")
            .leaf("rasd:Reservation", "0")
            .leaf("rasd:ResourceType", "3")
            .leaf("rasd:VirtualQuantity", v.cpus.to_string())
            .leaf("rasd:Weight", "0")
            .child(
                El::new("vmw:CoresPerSocket")
                    .attr("ovf:required", "false")
                    .text(v.cores_per_socket.to_string()),
            )
    } else {
        el.leaf("rasd:AllocationUnits", "byte * 2^20")
            .leaf("rasd:Description", "Memory Size")
            .leaf("rasd:ElementName", format!("{} MB of memory", v.memory_mb))
            .leaf("rasd:InstanceID", "5")
            .leaf("rasd:Reservation", "0")
            .leaf("rasd:ResourceType", "4")
            .leaf("rasd:VirtualQuantity", v.memory_mb.to_string())
            .leaf("rasd:Weight", "0")
    }
}

/// The `Vm` element/document (§6.4). `root`: served on its own.
pub fn vm_doc(g: &Inner, base: &str, caller: &Caller, v: &Vm, root: bool) -> El {
    let e = match v.parent {
        VmParent::VApp(_) => EntityRef::Vm(v.id),
        VmParent::Template(_) => EntityRef::TemplateVm(v.id),
    };
    let h = href(base, e);
    let mut el = if root { El::root("Vm") } else { El::new("Vm") };
    el = el
        .attr("href", &h)
        .attr("id", e.urn())
        .attr("name", &v.name)
        .attr("type", mt::VM)
        .attr("status", v.status().to_string())
        .attr("deployed", v.deployed.to_string())
        .attr("needsCustomization", v.needs_customization.to_string())
        .attr("nestedHypervisorEnabled", "false");
    if caller.is_sysadmin()
        && let Some(moref) = &v.moref
    {
        let vc = v.vcenter.unwrap_or_default();
        el = el.child(
            El::new("VCloudExtension").attr("required", "false").child(
                El::new("vmext:VmVimInfo")
                    .child(
                        El::new("vmext:VmVimObjectRef")
                            .child(
                                El::new("vmext:VimServerRef")
                                    .attr("href", href(base, EntityRef::VimServer(vc)))
                                    .attr("name", g.vcenter_name(v.vcenter))
                                    .attr("type", mt::VIM_SERVER),
                            )
                            .leaf("vmext:MoRef", moref)
                            .leaf("vmext:VimObjectType", "VIRTUAL_MACHINE"),
                    )
                    .child(
                        El::new("vmext:DatastoreVimObjectRef")
                            .child(
                                El::new("vmext:VimServerRef")
                                    .attr("href", href(base, EntityRef::VimServer(vc)))
                                    .attr("name", g.vcenter_name(v.vcenter))
                                    .attr("type", mt::VIM_SERVER),
                            )
                            .leaf("vmext:MoRef", "datastore-11")
                            .leaf("vmext:VimObjectType", "DATASTORE"),
                    )
                    .leaf("vmext:VirtualDisksMaxChainLength", "1"),
            ),
        );
    }
    match v.parent {
        VmParent::VApp(a) => {
            el = power_links(el, &h, v.power, v.deployed, false, v.creating);
            el = el
                .link("edit", &h, Some(mt::VM))
                .link(
                    "reconfigureVm",
                    format!("{h}/action/reconfigureVm"),
                    Some(mt::VM),
                )
                .link("up", href(base, EntityRef::VApp(a)), Some(mt::VAPP));
        }
        VmParent::Template(t) => {
            el = el.link("up", href(base, EntityRef::Template(t)), Some(mt::TEMPLATE));
        }
    }
    el = metadata_link(el, base, e).leaf("Description", &v.description);
    // Hardware: NICs, cpu, memory, disk.
    let mut vhs = El::new("ovf:VirtualHardwareSection")
        .attr("vcloud:href", format!("{h}/virtualHardwareSection/"))
        .attr("vcloud:type", mt::VHS)
        .attr("ovf:transport", "")
        .child(ovf_info("Virtual hardware requirements"));
    for n in &v.nics {
        let mut conn = El::new("rasd:Connection")
            .attr("vcloud:ipAddressingMode", n.mode.as_str())
            .attr(
                "vcloud:primaryNetworkConnection",
                (n.index == v.primary_nic).to_string(),
            );
        if let Some(ip) = n.ip {
            conn = conn.attr("vcloud:ipAddress", ip.to_string());
        }
        vhs.push(
            El::new("ovf:Item")
                .leaf("rasd:Address", &n.mac)
                .leaf("rasd:AddressOnParent", n.index.to_string())
                .leaf("rasd:AutomaticAllocation", n.connected.to_string())
                .child(conn.text(&n.network))
                .leaf(
                    "rasd:Description",
                    format!("{} ethernet adapter", n.adapter_type),
                )
                .leaf("rasd:ElementName", format!("Network adapter {}", n.index))
                .leaf("rasd:InstanceID", (1 + n.index).to_string())
                .leaf("rasd:ResourceSubType", &n.adapter_type)
                .leaf("rasd:ResourceType", "10"),
        );
    }
    vhs.push(rasd_item(base, v, true, false));
    vhs.push(rasd_item(base, v, false, false));
    vhs.push(
        El::new("ovf:Item")
            .leaf("rasd:AddressOnParent", "0")
            .leaf("rasd:Description", "Hard disk")
            .leaf("rasd:ElementName", "Hard disk 1")
            .child(
                El::new("rasd:HostResource")
                    .attr("vcloud:capacity", v.disk_mb.to_string())
                    .attr("vcloud:busSubType", "lsilogic")
                    .attr("vcloud:busType", "6"),
            )
            .leaf("rasd:InstanceID", "2000")
            .leaf("rasd:ResourceType", "17"),
    );
    el = el.child(vhs);
    el = el.child(
        El::new("ovf:OperatingSystemSection")
            .attr("ovf:id", "100")
            .attr("vmw:osType", &v.os_type)
            .child(ovf_info("Specifies the operating system installed"))
            .leaf("ovf:Description", &v.os_type),
    );
    let mut ncs = El::new("NetworkConnectionSection")
        .attr("href", format!("{h}/networkConnectionSection/"))
        .attr("ovf:required", "false")
        .attr("type", mt::NCS)
        .child(ovf_info("Specifies the available VM network connections"))
        .leaf("PrimaryNetworkConnectionIndex", v.primary_nic.to_string());
    for n in &v.nics {
        let mut c = El::new("NetworkConnection")
            .attr("network", &n.network)
            .attr("needsCustomization", v.needs_customization.to_string())
            .leaf("NetworkConnectionIndex", n.index.to_string());
        if let Some(ip) = n.ip {
            c = c.leaf("IpAddress", ip.to_string());
        }
        ncs.push(
            c.leaf("IsConnected", n.connected.to_string())
                .leaf("MACAddress", &n.mac)
                .leaf("IpAddressAllocationMode", n.mode.as_str())
                .leaf("NetworkAdapterType", &n.adapter_type),
        );
    }
    el = el.child(ncs);
    let c = &v.customization;
    let mut gcs = El::new("GuestCustomizationSection")
        .attr("href", format!("{h}/guestCustomizationSection/"))
        .attr("ovf:required", "false")
        .attr("type", mt::GCS)
        .child(ovf_info("Specifies Guest OS Customization Settings"))
        .leaf("Enabled", c.enabled.to_string())
        .leaf("ChangeSid", "false")
        .leaf("VirtualMachineId", v.id.to_string())
        .leaf("JoinDomainEnabled", "false")
        .leaf("UseOrgSettings", "false")
        .leaf("AdminPasswordEnabled", c.admin_password_enabled.to_string())
        .leaf("AdminPasswordAuto", c.admin_password_auto.to_string())
        .leaf("AdminPassword", &c.admin_password)
        .leaf("AdminAutoLogonEnabled", "false")
        .leaf("AdminAutoLogonCount", "0")
        .leaf(
            "ResetPasswordRequired",
            c.reset_password_required.to_string(),
        );
    if let Some(s) = &c.script {
        gcs = gcs.leaf("CustomizationScript", s);
    }
    el = el.child(gcs.leaf("ComputerName", &c.computer_name));
    el = el.child(
        El::new("RuntimeInfoSection")
            .attr("vcloud:href", format!("{h}/runtimeInfoSection"))
            .attr(
                "vcloud:type",
                "application/vnd.vmware.vcloud.virtualHardwareSection+xml",
            )
            .child(ovf_info("Specifies Runtime info"))
            .child(El::new("VMWareTools").attr("version", "10346")),
    );
    el = el
        .leaf("DateCreated", ts(v.created))
        .leaf("VAppScopedLocalId", &v.name);
    let mut env = El::new("ovfenv:Environment").attr("ovfenv:id", "");
    if let Some(m) = &v.moref {
        env = env.attr("ve:vCenterId", m);
    }
    el = el.child(
        env.child(
            El::new("ovfenv:PlatformSection")
                .leaf("ovfenv:Kind", "VMware ESXi")
                .leaf("ovfenv:Version", "6.5.0")
                .leaf("ovfenv:Vendor", "VMware, Inc."),
        ),
    );
    el = el.child(
        El::new("VmCapabilities")
            .leaf("MemoryHotAddEnabled", "false")
            .leaf("CpuHotAddEnabled", "false"),
    );
    if let Some(p) = v.storage_profile {
        let name = g
            .vdcs
            .get(&v.vdc)
            .and_then(|d| d.storage_profiles.iter().find(|s| s.id == p))
            .map(|s| s.name.clone())
            .unwrap_or_default();
        el = el.child(reference(
            "StorageProfile",
            base,
            EntityRef::StorageProfile(p),
            &name,
        ));
    }
    el.child(
        El::new("VmSpecSection")
            .attr("Modified", "false")
            .attr("ovf:required", "false")
            .child(ovf_info(
                "The configuration parameters for logical networks",
            ))
            .leaf("OsType", &v.os_type)
            .leaf("NumCpus", v.cpus.to_string())
            .leaf("NumCoresPerSocket", v.cores_per_socket.to_string())
            .child(El::new("MemoryResourceMb").leaf("Configured", v.memory_mb.to_string()))
            .leaf("HardwareVersion", "vmx-11"),
    )
}

/// The `VApp` document (§6.8).
pub fn vapp_doc(g: &Inner, base: &str, caller: &Caller, a: &VApp, with_task: Option<&Task>) -> El {
    let e = EntityRef::VApp(a.id);
    let h = href(base, e);
    let status = vapp_status(g, a);
    let deployed = vapp_deployed(g, a);
    let mut el = entity_root("VApp", base, e, &a.name)
        .attr("status", status.to_string())
        .attr("deployed", deployed.to_string())
        .attr("ovfDescriptorUploaded", "true");
    if status != 0 {
        let power = match status {
            4 => Power::On,
            3 => Power::Suspended,
            _ => Power::Off,
        };
        if status == 10 {
            el = el
                .link("power:powerOn", format!("{h}/power/action/powerOn"), None)
                .link("power:powerOff", format!("{h}/power/action/powerOff"), None)
                .link(
                    "undeploy",
                    format!("{h}/action/undeploy"),
                    Some(mt::UNDEPLOY),
                );
        } else {
            el = power_links(el, &h, power, deployed, !deployed, false);
            if status == 1 && !deployed {
                // empty vApp: no power actions apply, only delete
                el = El::root("VApp")
                    .attr("href", &h)
                    .attr("id", e.urn())
                    .attr("name", &a.name)
                    .attr("type", mt::VAPP)
                    .attr("status", "1")
                    .attr("deployed", "false")
                    .attr("ovfDescriptorUploaded", "true")
                    .link("remove", &h, None);
            }
        }
        el = el.link(
            "recompose",
            format!("{h}/action/recomposeVApp"),
            Some(mt::RECOMPOSE),
        );
    }
    el = el
        .link("up", href(base, EntityRef::Vdc(a.vdc)), Some(mt::VDC))
        .link("edit", &h, Some(mt::VAPP))
        .link("down", format!("{h}/owner"), Some(mt::OWNER));
    el = metadata_link(el, base, e).leaf("Description", &a.description);
    let tasks = super::tasks::tasks_with(g, e, with_task);
    el = el.opt_child(super::tasks::tasks_el(base, &tasks, g));
    el = el.child(
        El::new("LeaseSettingsSection")
            .attr("ovf:required", "false")
            .child(ovf_info("Lease settings section"))
            .leaf("DeploymentLeaseInSeconds", "0")
            .leaf("StorageLeaseInSeconds", "0"),
    );
    let mut ns = El::new("ovf:NetworkSection").child(ovf_info("The list of logical networks"));
    let mut ncs = El::new("NetworkConfigSection")
        .attr("ovf:required", "false")
        .child(ovf_info(
            "The configuration parameters for logical networks",
        ));
    for n in &a.networks {
        ns.push(
            El::new("ovf:Network")
                .attr("ovf:name", &n.name)
                .child(El::new("ovf:Description")),
        );
        let mut conf = El::new("Configuration");
        if let Some(p) = n.parent {
            let pname = g
                .networks
                .get(&p)
                .map(|x| x.name.clone())
                .unwrap_or_default();
            conf = conf.child(
                El::new("ParentNetwork")
                    .attr("href", href(base, EntityRef::Network(p)))
                    .attr("name", pname),
            );
        }
        ncs.push(
            El::new("NetworkConfig")
                .attr("networkName", &n.name)
                .child(conf.leaf("FenceMode", &n.fence_mode))
                .leaf("IsDeployed", deployed.to_string()),
        );
    }
    el = el
        .child(ns)
        .child(ncs)
        .leaf("DateCreated", ts(a.created))
        .child(owner_el(g, base, a.owner))
        .leaf("InMaintenanceMode", "false");
    let vms: Vec<El> = a
        .vms
        .iter()
        .filter_map(|v| g.vms.get(v))
        .map(|v| vm_doc(g, base, caller, v, false))
        .collect();
    if !vms.is_empty() {
        el = el.child(El::new("Children").children(vms));
    }
    el
}

pub(super) fn network_configs(params: &Dom) -> PResult<Vec<NetworkConfigParam>> {
    let mut out = Vec::new();
    if let Some(ncs) = params
        .child("InstantiationParams")
        .and_then(|i| i.child("NetworkConfigSection"))
    {
        for nc in ncs.all("NetworkConfig") {
            let name = nc.attr("networkName").unwrap_or_default().to_string();
            let conf = nc.child("Configuration");
            let parent = match conf.and_then(|c| c.child("ParentNetwork")) {
                Some(p) => Some(href_id(p, "ParentNetwork")?),
                None => None,
            };
            let fence = conf
                .and_then(|c| c.child_text("FenceMode"))
                .unwrap_or("bridged")
                .to_string();
            out.push(NetworkConfigParam {
                name,
                parent,
                fence_mode: fence,
            });
        }
    }
    Ok(out)
}

pub(super) fn sourced_item(item: &Dom) -> PResult<SourcedVm> {
    let src = item
        .child("Source")
        .ok_or_else(|| VcdErrorResponse::bad_request("SourcedItem has no Source."))?;
    let mut s = SourcedVm {
        source: href_id(src, "Source")?,
        ..Default::default()
    };
    if let Some(g) = item.child("VmGeneralParams") {
        s.name = g.child_text("Name").map(str::to_string);
        s.needs_customization = g.child_bool("NeedsCustomization");
    }
    if let Some(ip) = item.child("InstantiationParams") {
        if let Some(ncs) = ip.child("NetworkConnectionSection") {
            s.primary_nic = ncs
                .child_text("PrimaryNetworkConnectionIndex")
                .and_then(|t| t.parse().ok());
            let mut nics = Vec::new();
            for (n, c) in ncs.all("NetworkConnection").enumerate() {
                let mode = match c.child_text("IpAddressAllocationMode") {
                    Some(m) => IpMode::parse(m).ok_or_else(|| {
                        VcdErrorResponse::bad_request(format!(
                            "Unknown IP allocation mode \"{m}\"."
                        ))
                    })?,
                    None => IpMode::Pool,
                };
                let ip = match c.child_text("IpAddress") {
                    Some(t) if !t.is_empty() => Some(t.parse::<Ipv4Addr>().map_err(|_| {
                        VcdErrorResponse::bad_request(format!("Invalid IP address \"{t}\"."))
                    })?),
                    _ => None,
                };
                nics.push(NicParam {
                    index: c
                        .child_text("NetworkConnectionIndex")
                        .and_then(|t| t.parse().ok())
                        .unwrap_or(n as u32),
                    network: c.attr("network").unwrap_or("none").to_string(),
                    ip,
                    mode,
                    connected: c.child_bool("IsConnected").unwrap_or(true),
                    adapter_type: c.child_text("NetworkAdapterType").map(str::to_string),
                });
            }
            s.nics = Some(nics);
        }
        if let Some(gc) = ip.child("GuestCustomizationSection") {
            s.customization = Some(GuestCustomizationParam {
                enabled: gc.child_bool("Enabled"),
                admin_password_enabled: gc.child_bool("AdminPasswordEnabled"),
                admin_password_auto: gc.child_bool("AdminPasswordAuto"),
                admin_password: gc.child_text("AdminPassword").map(str::to_string),
                reset_password_required: gc.child_bool("ResetPasswordRequired"),
                script: gc.child("CustomizationScript").map(|c| c.text.clone()),
                computer_name: gc.child_text("ComputerName").map(str::to_string),
            });
        }
        if let Some(vhs) = ip.child("VirtualHardwareSection") {
            for it in vhs.all("Item") {
                let qty = it
                    .child_text("VirtualQuantity")
                    .and_then(|t| t.parse::<u64>().ok());
                match it.child_text("ResourceType") {
                    Some("3") => s.cpus = qty.map(|q| q as u32),
                    Some("4") => s.memory_mb = qty,
                    _ => {}
                }
            }
        }
    }
    if let Some(sp) = item.child("StorageProfile") {
        s.storage_profile = Some(href_id(sp, "StorageProfile")?);
    }
    Ok(s)
}

/// `ComposeVAppParams` / `InstantiateVAppTemplateParams`.
pub fn create_vapp(d: &Dom) -> PResult<CreateVAppParams> {
    let name = d
        .attr("name")
        .ok_or_else(|| VcdErrorResponse::bad_request("The vApp name is missing."))?
        .to_string();
    let template = match d.child("Source") {
        Some(s) => Some(href_id(s, "Source")?),
        None => None,
    };
    if d.name == "InstantiateVAppTemplateParams" && template.is_none() {
        return Err(VcdErrorResponse::bad_request(
            "InstantiateVAppTemplateParams needs a Source template.",
        ));
    }
    Ok(CreateVAppParams {
        name,
        description: d.child_text("Description").unwrap_or_default().to_string(),
        networks: network_configs(d)?,
        template,
        items: d
            .all("SourcedItem")
            .map(sourced_item)
            .collect::<PResult<_>>()?,
        deploy: d.attr("deploy").and_then(parse_bool).unwrap_or(false),
        power_on: d.attr("powerOn").and_then(parse_bool).unwrap_or(false),
    })
}

/// `RecomposeVAppParams`.
pub fn recompose(d: &Dom) -> PResult<RecomposeParams> {
    Ok(RecomposeParams {
        add: d
            .all("SourcedItem")
            .map(sourced_item)
            .collect::<PResult<_>>()?,
        delete: d
            .all("DeleteItem")
            .map(|x| href_id(x, "DeleteItem"))
            .collect::<PResult<_>>()?,
        deploy: d.attr("deploy").and_then(parse_bool).unwrap_or(false),
        power_on: d.attr("powerOn").and_then(parse_bool).unwrap_or(false),
    })
}
