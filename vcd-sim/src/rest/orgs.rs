//! Organisations, VDCs and org networks: `/api/org`, `/api/org/{id}`,
//! `/api/admin/org/{id}`, `/api/vdc/{id}`, `/api/admin/vdc/{id}`,
//! `/api/network/{id}`, with their documents. Visibility is the state's
//! (`Sim::visible_*`).

use axum::extract::Path;

use super::common::*;
use super::xml::El;
use axum::body::Bytes;
use axum::http::StatusCode;

use super::context::{ApiResult, Ctx, VcdErrorResponse};
use crate::state::catalogs::CaptureInto;
use crate::state::views::View;
use crate::state::*;

// ----- orgs, VDCs, networks -----

pub(super) async fn org_list(ctx: Ctx) -> ApiResult {
    let caller = ctx.caller()?;
    let orgs = ctx.sim().visible_orgs(&caller);
    ctx.ok(mt::ORG_LIST, org_list_doc(&ctx.base, &orgs))
}

pub(super) async fn get_org(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let caller = ctx.caller()?;
    let id = id_of(&id)?;
    ctx.sim().view(|g| {
        let o = g
            .visible_org(&caller, id, View::Tenant)
            .map_err(|e| ctx.fail(e))?;
        let query_links = crate::release::major(&ctx.version).is_some_and(|m| m >= 33);
        ctx.ok(mt::ORG, org(g, &ctx.base, &caller, o, query_links))
    })
}

pub(super) async fn get_admin_org(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let caller = ctx.caller()?;
    let id = id_of(&id)?;
    ctx.sim().view(|g| {
        let o = g
            .visible_org(&caller, id, View::Admin)
            .map_err(|e| ctx.fail(e))?;
        ctx.ok(mt::ADMIN_ORG, admin_org(g, &ctx.base, &caller, o))
    })
}

pub(super) async fn get_vdc(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    vdc_doc(ctx, id, false).await
}

pub(super) async fn get_admin_vdc(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    vdc_doc(ctx, id, true).await
}

pub(super) async fn vdc_doc(ctx: Ctx, id: String, admin: bool) -> ApiResult {
    let caller = ctx.caller()?;
    let id = id_of(&id)?;
    let view = if admin { View::Admin } else { View::Tenant };
    ctx.sim().view(|g| {
        let v = g.visible_vdc(&caller, id, view).map_err(|e| ctx.fail(e))?;
        let media = if admin { mt::ADMIN_VDC } else { mt::VDC };
        ctx.ok(media, vdc(g, &ctx.base, v, admin))
    })
}

pub(super) async fn get_network(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let caller = ctx.caller()?;
    let id = id_of(&id)?;
    ctx.sim().view(|g| {
        let n = g.visible_network(&caller, id).map_err(|e| ctx.fail(e))?;
        ctx.ok(mt::ORG_NETWORK, network(&ctx.base, n))
    })
}

pub fn org_list_doc(base: &str, orgs: &[(Id, String)]) -> El {
    El::root("OrgList")
        .attr("href", format!("{base}/api/org/"))
        .attr("type", mt::ORG_LIST)
        .children(
            orgs.iter()
                .map(|(id, name)| reference("Org", base, EntityRef::Org(*id), name)),
        )
}

/// Catalogs an org document lists: its own plus every published one.
pub(super) fn org_catalogs<'a>(g: &'a Inner, org: Id) -> impl Iterator<Item = &'a Catalog> + 'a {
    g.catalogs
        .values()
        .filter(move |c| c.org == org || c.published)
}

/// The `Org` document (§3.3). From API 33.0 (`query_links`) VDCs and
/// catalogs are no longer linked one by one: the org links a `records`
/// query of each (`orgVdc`, `catalog`), which pyvcloud 23 follows.
pub fn org(g: &Inner, base: &str, caller: &Caller, o: &Org, query_links: bool) -> El {
    let e = EntityRef::Org(o.id);
    let mut el = entity_root("Org", base, e, &o.name);
    if query_links {
        // the catalogs a user sees include those other orgs published
        let vdcs = format!(
            "{base}/api/query?type=orgVdc&format=records&filter=org=={}",
            e.urn()
        );
        let catalogs = format!("{base}/api/query?type=catalog&format=records");
        for (href, name) in [(vdcs, "vdcs"), (catalogs, "catalogs")] {
            el = el.named_link("down", href, Some(mt::RECORDS), name);
        }
    }
    for v in g.vdcs.values().filter(|v| v.org == o.id && !query_links) {
        el = el.named_link(
            "down",
            href(base, EntityRef::Vdc(v.id)),
            Some(mt::VDC),
            &v.name,
        );
    }
    el = el.link(
        "down",
        format!("{base}/api/tasksList/{}", o.id),
        Some(mt::TASKS_LIST),
    );
    for c in org_catalogs(g, o.id).filter(|_| !query_links) {
        el = el.named_link(
            "down",
            href(base, EntityRef::Catalog(c.id)),
            Some(mt::CATALOG),
            &c.name,
        );
    }
    for n in g.networks.values().filter(|n| n.org == o.id) {
        el = el.named_link(
            "down",
            href(base, EntityRef::Network(n.id)),
            Some(mt::ORG_NETWORK),
            &n.name,
        );
    }
    if caller.is_org_admin() {
        el = el.link(
            "add",
            format!("{base}/api/admin/org/{}/catalogs", o.id),
            Some(mt::ADMIN_CATALOG),
        );
    }
    metadata_link(el, base, e)
        .leaf("Description", &o.description)
        .leaf("FullName", &o.full_name)
}

/// `AdminOrg` (minimal, §3.5).
pub fn admin_org(g: &Inner, base: &str, caller: &Caller, o: &Org) -> El {
    let e = EntityRef::Org(o.id);
    let admin_href = format!("{base}/api/admin/org/{}", o.id);
    let mut el = El::root("AdminOrg")
        .attr("href", &admin_href)
        .attr("id", e.urn())
        .attr("name", &o.name)
        .attr("type", mt::ADMIN_ORG)
        .link("alternate", href(base, e), Some(mt::ORG))
        .link(
            "add",
            format!("{admin_href}/catalogs"),
            Some(mt::ADMIN_CATALOG),
        );
    let _ = caller;
    el = el
        .leaf("Description", &o.description)
        .leaf("FullName", &o.full_name)
        .leaf("IsEnabled", "true");
    el = el.child(El::new("Settings"));
    el = el.child(
        El::new("Users").children(
            g.users
                .values()
                .filter(|u| u.org == o.id)
                .map(|u| reference("UserReference", base, EntityRef::User(u.id), &u.name)),
        ),
    );
    el = el.child(
        El::new("Catalogs").children(g.catalogs.values().filter(|c| c.org == o.id).map(|c| {
            El::new("CatalogReference")
                .attr("href", format!("{base}/api/admin/catalog/{}", c.id))
                .attr("name", &c.name)
                .attr("type", mt::ADMIN_CATALOG)
        })),
    );
    el = el.child(
        El::new("Vdcs").children(g.vdcs.values().filter(|v| v.org == o.id).map(|v| {
            El::new("Vdc")
                .attr("href", format!("{base}/api/admin/vdc/{}", v.id))
                .attr("name", &v.name)
                .attr("type", mt::ADMIN_VDC)
        })),
    );
    el = el.child(
        El::new("Networks").children(
            g.networks
                .values()
                .filter(|n| n.org == o.id)
                .map(|n| reference("Network", base, EntityRef::Network(n.id), &n.name)),
        ),
    );
    el.child(
        El::new("RightReferences")
            .link("add", format!("{admin_href}/rights"), Some(mt::ORG_RIGHTS))
            .children(
                g.rights
                    .values()
                    .map(|r| reference("RightReference", base, EntityRef::Right(r.id), &r.name)),
            ),
    )
}

/// The `Vdc` document (§3.4); `admin` gives the `AdminVdc` view.
pub fn vdc(g: &Inner, base: &str, v: &Vdc, admin: bool) -> El {
    let e = EntityRef::Vdc(v.id);
    let h = href(base, e);
    let mut el = if admin {
        El::root("AdminVdc")
            .attr("href", format!("{base}/api/admin/vdc/{}", v.id))
            .attr("id", e.urn())
            .attr("name", &v.name)
            .attr("type", mt::ADMIN_VDC)
            .link("alternate", &h, Some(mt::VDC))
    } else {
        entity_root("Vdc", base, e, &v.name)
    };
    el = el
        .attr("status", "1")
        .link("up", href(base, EntityRef::Org(v.org)), Some(mt::ORG))
        .link(
            "add",
            format!("{h}/action/instantiateVAppTemplate"),
            Some(mt::INSTANTIATE),
        )
        .link("add", format!("{h}/action/composeVApp"), Some(mt::COMPOSE))
        .link("add", format!("{h}/action/captureVApp"), Some(mt::CAPTURE))
        .link(
            "add",
            format!("{h}/action/uploadVAppTemplate"),
            Some(mt::UPLOAD),
        );
    el = metadata_link(el, base, e)
        .leaf("Description", &v.description)
        .leaf("AllocationModel", "AllocationVApp");
    let mut entities = El::new("ResourceEntities");
    for a in g.vapps.values().filter(|a| a.vdc == v.id) {
        entities.push(reference(
            "ResourceEntity",
            base,
            EntityRef::VApp(a.id),
            &a.name,
        ));
    }
    for t in g.templates.values().filter(|t| t.vdc == v.id) {
        entities.push(reference(
            "ResourceEntity",
            base,
            EntityRef::Template(t.id),
            &t.name,
        ));
    }
    let mut nets = El::new("AvailableNetworks");
    for n in v.networks.iter().filter_map(|n| g.networks.get(n)) {
        nets.push(
            El::new("Network")
                .attr("href", href(base, EntityRef::Network(n.id)))
                .attr("name", &n.name)
                .attr("type", mt::NETWORK),
        );
    }
    let mut profiles = El::new("VdcStorageProfiles");
    for p in &v.storage_profiles {
        profiles.push(reference(
            "VdcStorageProfile",
            base,
            EntityRef::StorageProfile(p.id),
            &p.name,
        ));
    }
    el.child(entities)
        .child(nets)
        .child(
            El::new("Capabilities").child(
                El::new("SupportedHardwareVersions").leaf("SupportedHardwareVersion", "vmx-11"),
            ),
        )
        .leaf("NicQuota", "0")
        .leaf("NetworkQuota", "20")
        .leaf("UsedNetworkCount", v.networks.len().to_string())
        .leaf("VmQuota", "0")
        .leaf("IsEnabled", "true")
        .child(profiles)
}

/// `GET /api/network/{id}`.
pub fn network(base: &str, n: &Network) -> El {
    let e = EntityRef::Network(n.id);
    let mut ranges = El::new("IpRanges");
    for (s, t) in &n.ranges {
        ranges.push(
            El::new("IpRange")
                .leaf("StartAddress", s.to_string())
                .leaf("EndAddress", t.to_string()),
        );
    }
    let mut scope = El::new("IpScope")
        .leaf("IsInherited", "false")
        .leaf("Gateway", n.gateway.to_string())
        .leaf("Netmask", n.netmask.to_string());
    if let Some(d) = n.dns.first() {
        scope = scope.leaf("Dns1", d.to_string());
    }
    scope = scope.leaf("IsEnabled", "true").child(ranges);
    let mut alloc = El::new("AllocatedIpAddresses");
    for ip in &n.allocated {
        alloc.push(El::new("IpAddress").text(ip.to_string()));
    }
    metadata_link(
        entity_root("OrgVdcNetwork", base, e, &n.name)
            .link("up", href(base, EntityRef::Org(n.org)), Some(mt::ORG))
            .link(
                "down",
                format!("{}/allocatedAddresses/", href(base, e)),
                Some("application/vnd.vmware.vcloud.allocatedNetworkAddress+xml"),
            ),
        base,
        e,
    )
    .leaf("Description", "")
    .child(
        El::new("Configuration")
            .child(El::new("IpScopes").child(scope))
            .leaf("FenceMode", "bridged")
            .leaf("RetainNetInfoAcrossDeployments", "false"),
    )
    .leaf("IsShared", "false")
}

pub(super) async fn vdc_action(
    ctx: Ctx,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let caller = ctx.caller()?;
    let vdc = id_of(&id)?;
    match action.as_str() {
        "composeVApp" | "instantiateVAppTemplate" => {
            let dom = body_dom(&body).map_err(|e| ctx.err(e))?;
            let params = super::vapps::create_vapp(&dom).map_err(|e| ctx.err(e))?;
            let (vapp, task) = ctx
                .sim()
                .create_vapp(&caller, vdc, params)
                .map_err(|e| ctx.fail(e))?;
            ctx.sim().view(|g| {
            let t = g.tasks.get(&task).cloned();
            match g.vapps.get(&vapp) {
                Some(a) => Ok(ctx.xml(
                    StatusCode::CREATED,
                    mt::VAPP,
                    super::vapps::vapp_doc(g, &ctx.base, &caller, a, t.as_ref()),
                )),
                // Failed creations are removed; the task says why.
                None => {
                    let t = t.ok_or_else(|| {
                        ctx.err(VcdErrorResponse::new(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            "INTERNAL_SERVER_ERROR",
                            "task vanished",
                        ))
                    })?;
                    Ok(ctx.xml(
                        StatusCode::ACCEPTED,
                        mt::TASK,
                        super::tasks::task_doc(g, &ctx.base, &t),
                    ))
                }
            }
            })
        }
        "captureVApp" => {
            // Deprecated (POST-CaptureVApp, vdc): 201 with the template, its
            // capture task under Tasks.
            let dom = body_dom(&body).map_err(|e| ctx.err(e))?;
            let params = super::vapps::capture_params(&ctx, &dom)?;
            if params.target_item.is_some() {
                return Err(ctx.err(VcdErrorResponse::bad_request(
                    "TargetCatalogItem needs a capture into a catalog.",
                )));
            }
            let (tpl, task) = ctx
                .sim()
                .capture_vapp(
                    &caller,
                    CaptureInto::Vdc(vdc),
                    params.source,
                    &params.name,
                    &params.description,
                )
                .map_err(|e| ctx.fail(e))?;
            ctx.sim().view(|g| {
            let t = g.tasks.get(&task).cloned();
            let tp = g
                .templates
                .get(&tpl)
                .ok_or_else(|| ctx.fail(SimError::Internal("template vanished".into())))?;
            Ok(ctx.xml(
                StatusCode::CREATED,
                mt::TEMPLATE,
                super::catalogs::template(g, &ctx.base, &caller, tp, t.as_ref()),
            ))
            })
        }
        "uploadVAppTemplate" => Err(ctx.err(VcdErrorResponse::bad_request(
            "uploadVAppTemplate into a VDC is not supported by the simulator; use the catalog's upload action.",
        ))),
        _ => Err(ctx.err(VcdErrorResponse::not_found(format!("No VDC action \"{action}\".")))),
    }
}
