//! Catalogs, catalog items, vApp templates and media: the tenant and admin
//! catalog documents, create/publish/delete, the catalog actions (upload of
//! OVF templates and media, capture into a catalog), the `/transfer` PUTs of
//! an upload and the reading of OVF descriptors.

use crate::state::catalogs::{CaptureInto, TransferTarget};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, StatusCode};

use super::common::*;
use super::context::{ApiResult, Ctx, VcdErrorResponse};
use super::xml::{Dom, El};
use crate::state::views::{TemplateOrVm, View};
use crate::state::*;

// ----- catalogs -----

pub(super) async fn get_catalog(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    catalog_doc(ctx, id, false).await
}

pub(super) async fn get_admin_catalog(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    catalog_doc(ctx, id, true).await
}

pub(super) async fn catalog_doc(ctx: Ctx, id: String, admin: bool) -> ApiResult {
    let caller = ctx.caller()?;
    let id = id_of(&id)?;
    let view = if admin { View::Admin } else { View::Tenant };
    ctx.sim().view(|g| {
        let c = g
            .visible_catalog(&caller, id, view)
            .map_err(|e| ctx.fail(e))?;
        let media = if admin {
            mt::ADMIN_CATALOG
        } else {
            mt::CATALOG
        };
        ctx.ok(media, catalog(g, &ctx.base, &caller, c, admin, None))
    })
}

pub(super) async fn create_catalog(ctx: Ctx, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let caller = ctx.caller()?;
    let org = id_of(&id)?;
    let dom = body_dom(&body).map_err(|e| ctx.err(e))?;
    let name = dom.attr("name").unwrap_or_default().to_string();
    let description = dom
        .child_text("Description")
        .unwrap_or_default()
        .to_string();
    let (cat, task) = ctx
        .sim()
        .create_catalog(&caller, org, &name, &description)
        .map_err(|e| ctx.fail(e))?;
    ctx.sim().view(|g| {
        let t = g.tasks.get(&task).cloned();
        let c = g
            .catalogs
            .get(&cat)
            .ok_or_else(|| ctx.fail(SimError::Internal("catalog vanished".into())))?;
        Ok(ctx.xml(
            StatusCode::CREATED,
            mt::ADMIN_CATALOG,
            catalog(g, &ctx.base, &caller, c, true, t.as_ref()),
        ))
    })
}

pub(super) async fn publish_catalog(ctx: Ctx, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let caller = ctx.caller()?;
    let cat = id_of(&id)?;
    let dom = body_dom(&body).map_err(|e| ctx.err(e))?;
    let published = dom.child_bool("IsPublished").ok_or_else(|| {
        ctx.err(VcdErrorResponse::bad_request(
            "PublishCatalogParams needs IsPublished.",
        ))
    })?;
    ctx.sim()
        .publish_catalog(&caller, cat, published)
        .map_err(|e| ctx.fail(e))?;
    Ok(StatusCode::NO_CONTENT.into_response_ok())
}

pub(super) async fn delete_catalog(
    ctx: Ctx,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let caller = ctx.caller()?;
    let cat = id_of(&id)?;
    ctx.sim()
        .delete_catalog(&caller, cat, bool_param(&q, "recursive"))
        .map_err(|e| ctx.fail(e))?;
    Ok(StatusCode::NO_CONTENT.into_response_ok())
}

pub(super) async fn catalog_action(
    ctx: Ctx,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let caller = ctx.caller()?;
    let cat = id_of(&id)?;
    let dom = body_dom(&body).map_err(|e| ctx.err(e))?;
    match action.as_str() {
        "upload" if dom.name == "Media" => {
            let name = dom.attr("name").unwrap_or_default().to_string();
            let description = dom
                .child_text("Description")
                .unwrap_or_default()
                .to_string();
            let size: i64 = dom
                .attr("size")
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| {
                    ctx.err(VcdErrorResponse::bad_request("Media needs a numeric size."))
                })?;
            let image_type = dom.attr("imageType").unwrap_or("iso").to_string();
            let item = ctx
                .sim()
                .start_media_upload(&caller, cat, &name, &description, &image_type, size)
                .map_err(|e| ctx.fail(e))?;
            ctx.sim().view(|g| {
                let i = g
                    .items
                    .get(&item)
                    .ok_or_else(|| ctx.fail(SimError::Internal("item vanished".into())))?;
                Ok(ctx.xml(
                    StatusCode::CREATED,
                    mt::CATALOG_ITEM,
                    catalog_item(g, &ctx.base, i),
                ))
            })
        }
        "upload" => {
            if dom.name != "UploadVAppTemplateParams" {
                return Err(ctx.err(VcdErrorResponse::bad_request(format!(
                    "Uploading <{}> is not supported; use UploadVAppTemplateParams.",
                    dom.name
                ))));
            }
            let name = dom.attr("name").unwrap_or_default().to_string();
            let description = dom
                .child_text("Description")
                .unwrap_or_default()
                .to_string();
            let item = ctx
                .sim()
                .start_upload(&caller, cat, &name, &description)
                .map_err(|e| ctx.fail(e))?;
            ctx.sim().view(|g| {
                let i = g
                    .items
                    .get(&item)
                    .ok_or_else(|| ctx.fail(SimError::Internal("item vanished".into())))?;
                Ok(ctx.xml(
                    StatusCode::CREATED,
                    mt::CATALOG_ITEM,
                    catalog_item(g, &ctx.base, i),
                ))
            })
        }
        "captureVApp" => {
            // Since 5.5 (POST-CaptureVApp-catalog): 202 with the Task.
            let params = super::vapps::capture_params(&ctx, &dom)?;
            let (_, task) = ctx
                .sim()
                .capture_vapp(
                    &caller,
                    CaptureInto::Catalog {
                        catalog: cat,
                        target_item: params.target_item,
                    },
                    params.source,
                    &params.name,
                    &params.description,
                )
                .map_err(|e| ctx.fail(e))?;
            super::tasks::task_response(&ctx, task)
        }
        _ => Err(ctx.err(VcdErrorResponse::not_found(format!(
            "No catalog action \"{action}\"."
        )))),
    }
}

pub(super) async fn get_catalog_item(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let caller = ctx.caller()?;
    let id = id_of(&id)?;
    ctx.sim().view(|g| {
        let i = g.visible_item(&caller, id).map_err(|e| ctx.fail(e))?;
        ctx.ok(mt::CATALOG_ITEM, catalog_item(g, &ctx.base, i))
    })
}

pub(super) async fn delete_catalog_item(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let caller = ctx.caller()?;
    ctx.sim()
        .delete_catalog_item(&caller, id_of(&id)?)
        .map_err(|e| ctx.fail(e))?;
    Ok(StatusCode::NO_CONTENT.into_response_ok())
}

pub(super) async fn get_template(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let caller = ctx.caller()?;
    let e = template_entity(&id).map_err(|e| ctx.err(e))?;
    ctx.sim()
        .view(|g| match g.visible_template(&caller, e)? {
            TemplateOrVm::Template(tp) => {
                Ok(ctx.ok(mt::TEMPLATE, template(g, &ctx.base, &caller, tp, None)))
            }
            TemplateOrVm::Vm(v) => {
                Ok(ctx.ok(mt::VM, super::vapps::vm_doc(g, &ctx.base, &caller, v, true)))
            }
        })
        .map_err(|e| ctx.fail(e))?
}

pub(super) async fn get_media(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let caller = ctx.caller()?;
    let id = id_of(&id)?;
    ctx.sim().view(|g| {
        let m = g.visible_media(&caller, id).map_err(|e| ctx.fail(e))?;
        ctx.ok(mt::MEDIA, media(g, &ctx.base, m))
    })
}

/// `Content-Range: bytes first-last/total`.
pub(super) fn content_range(
    headers: &HeaderMap,
) -> Result<Option<(u64, u64, Option<u64>)>, VcdErrorResponse> {
    let Some(v) = headers.get(axum::http::header::CONTENT_RANGE) else {
        return Ok(None);
    };
    let bad = || {
        VcdErrorResponse::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "BAD_REQUEST",
            "Invalid Content-Range header.",
        )
    };
    let s = v.to_str().map_err(|_| bad())?;
    let s = s.trim().strip_prefix("bytes").ok_or_else(bad)?.trim();
    let (range, total) = s.split_once('/').ok_or_else(bad)?;
    let (a, b) = range.split_once('-').ok_or_else(bad)?;
    let first = a.trim().parse().map_err(|_| bad())?;
    let last = b.trim().parse().map_err(|_| bad())?;
    let total = if total.trim() == "*" {
        None
    } else {
        Some(total.trim().parse().map_err(|_| bad())?)
    };
    Ok(Some((first, last, total)))
}

pub(super) async fn transfer_put(
    ctx: Ctx,
    Path((transfer, file)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    ctx.caller()?;
    let transfer = uuid::Uuid::parse_str(&transfer)
        .map_err(|_| ctx.err(VcdErrorResponse::not_found("Unknown upload target.")))?;
    let target = ctx.sim().transfer_target(transfer, &file).ok_or_else(|| {
        ctx.err(VcdErrorResponse::not_found(format!(
            "No upload target {file}."
        )))
    })?;
    match target {
        TransferTarget::Descriptor { template } => {
            let dom = body_dom(&body).map_err(|e| ctx.err(e))?;
            let ovf = ovf(&dom).map_err(|e| ctx.err(e))?;
            ctx.sim()
                .upload_descriptor(template, ovf)
                .map_err(|e| ctx.fail(e))?;
        }
        TransferTarget::Media { media } => {
            let (first, last, total) = match content_range(&headers).map_err(|e| ctx.err(e))? {
                Some(r) => r,
                None if body.is_empty() => {
                    return Err(ctx.err(VcdErrorResponse::bad_request(
                        "An empty upload without Content-Range.",
                    )));
                }
                None => (0, body.len() as u64 - 1, Some(body.len() as u64)),
            };
            if last + 1 - first != body.len() as u64 {
                return Err(ctx.err(VcdErrorResponse::new(
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    "BAD_REQUEST",
                    "Content-Range does not match the body length.",
                )));
            }
            ctx.sim()
                .upload_media_chunk(media, first, last, total)
                .map_err(|e| ctx.fail(e))?;
        }
        TransferTarget::File { template, name } => {
            let (first, last, total) = match content_range(&headers).map_err(|e| ctx.err(e))? {
                Some(r) => r,
                None if body.is_empty() => {
                    return Err(ctx.err(VcdErrorResponse::bad_request(
                        "An empty upload without Content-Range.",
                    )));
                }
                None => (0, body.len() as u64 - 1, Some(body.len() as u64)),
            };
            if last + 1 - first != body.len() as u64 {
                return Err(ctx.err(VcdErrorResponse::new(
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    "BAD_REQUEST",
                    "Content-Range does not match the body length.",
                )));
            }
            ctx.sim()
                .upload_chunk(template, &name, first, last, total)
                .map_err(|e| ctx.fail(e))?;
        }
    }
    Ok(StatusCode::OK.into_response_ok())
}

/// The `Catalog` document (§5.2); `admin` gives `AdminCatalog`.
pub fn catalog(
    g: &Inner,
    base: &str,
    caller: &Caller,
    c: &Catalog,
    admin: bool,
    with_task: Option<&Task>,
) -> El {
    let e = EntityRef::Catalog(c.id);
    let h = href(base, e);
    let admin_href = format!("{base}/api/admin/catalog/{}", c.id);
    let mut el = if admin {
        El::root("AdminCatalog")
            .attr("href", &admin_href)
            .attr("id", e.urn())
            .attr("name", &c.name)
            .attr("type", mt::ADMIN_CATALOG)
            .link("alternate", &h, Some(mt::CATALOG))
    } else {
        entity_root("Catalog", base, e, &c.name)
    };
    el = el.link("up", href(base, EntityRef::Org(c.org)), Some(mt::ORG));
    let can_edit = caller.is_org_admin() && caller.can_see_org(c.org);
    if can_edit {
        el = el
            .link("add", format!("{h}/action/upload"), Some(mt::UPLOAD))
            .link("add", format!("{h}/action/upload"), Some(mt::MEDIA))
            .link("add", format!("{h}/action/captureVApp"), Some(mt::CAPTURE))
            .link("add", format!("{h}/catalogItems"), Some(mt::CATALOG_ITEM))
            .link(
                "publish",
                format!("{admin_href}/action/publish"),
                Some(mt::PUBLISH),
            );
        if admin {
            el = el
                .link("edit", &admin_href, Some(mt::ADMIN_CATALOG))
                .link("remove", &admin_href, None)
                .link("down", format!("{admin_href}/owner"), Some(mt::OWNER));
        }
    }
    el = metadata_link(el, base, e);
    el = el.leaf("Description", &c.description);
    if admin {
        el = el.child(El::new("Owner").attr("type", mt::OWNER).child(reference(
            "User",
            base,
            EntityRef::User(c.owner),
            &g.user_name(c.owner),
        )));
    }
    let mut items = El::new("CatalogItems");
    for i in c.items.iter().filter_map(|i| g.items.get(i)) {
        items.push(
            El::new("CatalogItem")
                .attr("href", href(base, EntityRef::CatalogItem(i.id)))
                .attr("id", EntityRef::CatalogItem(i.id).urn())
                .attr("name", &i.name)
                .attr("type", mt::CATALOG_ITEM),
        );
    }
    let tasks = super::tasks::tasks_with(g, e, with_task);
    el.opt_child(super::tasks::tasks_el(base, &tasks, g))
        .child(items)
        .leaf("IsPublished", c.published.to_string())
        .leaf("DateCreated", ts(c.created))
        .leaf("VersionNumber", c.version.to_string())
}

/// The `CatalogItem` document.
pub fn catalog_item(g: &Inner, base: &str, i: &CatalogItem) -> El {
    let e = EntityRef::CatalogItem(i.id);
    let h = href(base, e);
    let tname = match i.entity {
        ItemEntity::Template(t) => g.templates.get(&t).map(|t| t.name.clone()),
        ItemEntity::Media(m) => g.media.get(&m).map(|m| m.name.clone()),
    }
    .unwrap_or_default();
    metadata_link(
        entity_root("CatalogItem", base, e, &i.name)
            .attr("size", "0")
            .link(
                "up",
                href(base, EntityRef::Catalog(i.catalog)),
                Some(mt::CATALOG),
            )
            .link("edit", &h, Some(mt::CATALOG_ITEM))
            .link("remove", &h, None),
        base,
        e,
    )
    .leaf("Description", &i.description)
    .child(reference("Entity", base, i.entity_ref(), &tname))
    .leaf("DateCreated", ts(i.created))
    .leaf("VersionNumber", "1")
}

/// The `VAppTemplate` document (§5.3, §5.4).
pub fn template(
    g: &Inner,
    base: &str,
    caller: &Caller,
    t: &Template,
    with_task: Option<&Task>,
) -> El {
    let e = EntityRef::Template(t.id);
    let h = href(base, e);
    let mut el = entity_root("VAppTemplate", base, e, &t.name)
        .attr("status", t.status.to_string())
        .attr("ovfDescriptorUploaded", t.ovf_uploaded.to_string())
        .attr("goldMaster", "false")
        .link("up", href(base, EntityRef::Vdc(t.vdc)), Some(mt::VDC));
    if let Some(i) = t.catalog_item {
        el = el.link(
            "catalogItem",
            href(base, EntityRef::CatalogItem(i)),
            Some(mt::CATALOG_ITEM),
        );
    }
    el = el.link("remove", &h, None);
    el = metadata_link(el, base, e).leaf("Description", &t.description);
    if !t.files.is_empty() {
        let mut files = El::new("Files");
        for f in &t.files {
            files.push(
                El::new("File")
                    .attr("name", &f.name)
                    .attr("size", f.size.to_string())
                    .attr("bytesTransferred", f.received.to_string())
                    .link(
                        "upload:default",
                        format!("{base}/transfer/{}/{}", t.transfer, f.name),
                        None,
                    ),
            );
        }
        el = el.child(files);
    }
    el = el.child(owner_el(g, base, t.owner));
    let tasks = super::tasks::tasks_with(g, e, with_task);
    el = el.opt_child(super::tasks::tasks_el(base, &tasks, g));
    if t.status == 8 || !t.vms.is_empty() {
        let vms = t
            .vms
            .iter()
            .filter_map(|v| g.vms.get(v))
            .map(|v| super::vapps::vm_doc(g, base, caller, v, false));
        el = el.child(El::new("Children").children(vms));
    }
    let mut ns = El::new("ovf:NetworkSection").child(ovf_info("The list of logical networks"));
    for n in &t.network_names {
        ns.push(
            El::new("ovf:Network")
                .attr("ovf:name", n)
                .child(El::new("ovf:Description")),
        );
    }
    let mut ncs = El::new("NetworkConfigSection")
        .attr("ovf:required", "false")
        .child(ovf_info(
            "The configuration parameters for logical networks",
        ));
    for n in &t.network_names {
        ncs.push(
            El::new("NetworkConfig")
                .attr("networkName", n)
                .child(El::new("Configuration").leaf("FenceMode", "isolated"))
                .leaf("IsDeployed", "false"),
        );
    }
    el.child(ns)
        .child(ncs)
        .child(
            El::new("LeaseSettingsSection")
                .attr("ovf:required", "false")
                .child(ovf_info("Lease settings section"))
                .leaf("StorageLeaseInSeconds", "0"),
        )
        .child(
            El::new("CustomizationSection")
                .attr("ovf:required", "false")
                .child(ovf_info("VApp template customization section"))
                .leaf("CustomizeOnInstantiate", "true"),
        )
        .leaf("DateCreated", ts(t.created))
}

/// The `Media` document: while uploading it lists its upload file.
pub fn media(g: &Inner, base: &str, m: &Media) -> El {
    let e = EntityRef::Media(m.id);
    let h = href(base, e);
    let mut el = entity_root("Media", base, e, &m.name)
        .attr("imageType", &m.image_type)
        .attr("size", m.file.size.to_string())
        .attr("status", m.status.to_string())
        .link("up", href(base, EntityRef::Vdc(m.vdc)), Some(mt::VDC))
        .link(
            "catalogItem",
            href(base, EntityRef::CatalogItem(m.catalog_item)),
            Some(mt::CATALOG_ITEM),
        )
        .link("remove", &h, None)
        .leaf("Description", &m.description);
    if m.status == 0 {
        el = el.child(
            El::new("Files").child(
                El::new("File")
                    .attr("name", &m.file.name)
                    .attr("size", m.file.size.to_string())
                    .attr("bytesTransferred", m.file.received.to_string())
                    .link(
                        "upload:default",
                        format!("{base}/transfer/{}/{}", m.transfer, m.file.name),
                        None,
                    ),
            ),
        );
    }
    el.child(owner_el(g, base, m.owner))
}

/// An OVF envelope: virtual systems, networks, referenced files.
pub fn ovf(d: &Dom) -> PResult<OvfDescriptor> {
    if d.name != "Envelope" {
        return Err(VcdErrorResponse::bad_request(format!(
            "The OVF descriptor's root is <{}>, not <Envelope>.",
            d.name
        )));
    }
    let files = d
        .child("References")
        .map(|r| {
            r.all("File")
                .map(|f| {
                    (
                        f.attr("href").unwrap_or_default().to_string(),
                        f.attr("size").and_then(|s| s.parse().ok()).unwrap_or(-1),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let networks = d
        .child("NetworkSection")
        .map(|n| {
            n.all("Network")
                .filter_map(|x| x.attr("name").map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let mut systems: Vec<&Dom> = d.all("VirtualSystem").collect();
    if let Some(coll) = d.child("VirtualSystemCollection") {
        systems.extend(coll.all("VirtualSystem"));
    }
    let mut vms = Vec::new();
    for vs in systems {
        let name = vs
            .child_text("Name")
            .map(str::to_string)
            .or_else(|| vs.attr("id").map(str::to_string))
            .unwrap_or_else(|| "vm".into());
        let os = vs.child("OperatingSystemSection");
        let mut vm = OvfVm {
            name,
            cpus: 1,
            cores_per_socket: 1,
            memory_mb: 1024,
            disk_mb: 0,
            os_type: os
                .and_then(|o| o.attr("osType"))
                .unwrap_or("otherLinux64Guest")
                .to_string(),
            os_hint: os
                .and_then(|o| o.child_text("Description"))
                .unwrap_or_default()
                .to_string(),
            nics: Vec::new(),
        };
        if let Some(hw) = vs.child("VirtualHardwareSection") {
            for it in hw.all("Item") {
                let qty = it
                    .child_text("VirtualQuantity")
                    .and_then(|t| t.parse::<u64>().ok());
                match it.child_text("ResourceType") {
                    Some("3") => vm.cpus = qty.unwrap_or(1) as u32,
                    Some("4") => {
                        let units = it.child_text("AllocationUnits").unwrap_or("byte * 2^20");
                        let q = qty.unwrap_or(1024);
                        vm.memory_mb = if units.contains("2^30") { q * 1024 } else { q };
                    }
                    Some("10") => {
                        let idx = it
                            .child_text("AddressOnParent")
                            .and_then(|t| t.parse().ok())
                            .unwrap_or(vm.nics.len() as u32);
                        vm.nics.push((
                            idx,
                            it.child_text("Connection").unwrap_or("none").to_string(),
                        ));
                    }
                    _ => {}
                }
                if let Some(c) = it.child_text("CoresPerSocket").and_then(|t| t.parse().ok()) {
                    vm.cores_per_socket = c;
                }
            }
        }
        if let Some(ds) = d.child("DiskSection") {
            vm.disk_mb = ds
                .all("Disk")
                .map(|x| {
                    let cap: u64 = x.attr("capacity").and_then(|c| c.parse().ok()).unwrap_or(0);
                    let units = x.attr("capacityAllocationUnits").unwrap_or("byte");
                    if units.contains("2^30") {
                        cap * 1024
                    } else if units.contains("2^20") {
                        cap
                    } else {
                        cap / (1024 * 1024)
                    }
                })
                .sum();
        }
        vms.push(vm);
    }
    Ok(OvfDescriptor {
        vms,
        networks,
        files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest::xml::Dom;

    #[test]
    fn ovf_descriptor_is_read() {
        let d = Dom::parse(
            r#"<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
                 xmlns:rasd="r" xmlns:vmw="v">
              <References><File ovf:href="disk1.vmdk" ovf:id="file1" ovf:size="2048"/></References>
              <DiskSection><Info/><Disk ovf:capacity="20" ovf:capacityAllocationUnits="byte * 2^30" ovf:diskId="vmdisk1"/></DiskSection>
              <NetworkSection><Info/><Network ovf:name="VM Network"/></NetworkSection>
              <VirtualSystem ovf:id="photon2"><Info/><Name>photon2-temp</Name>
                <OperatingSystemSection ovf:id="100" vmw:osType="other3xLinux64Guest"><Info/><Description>Photon OS</Description></OperatingSystemSection>
                <VirtualHardwareSection><Info/>
                  <Item><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>2</rasd:VirtualQuantity></Item>
                  <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>2048</rasd:VirtualQuantity></Item>
                  <Item><rasd:AddressOnParent>0</rasd:AddressOnParent><rasd:Connection>VM Network</rasd:Connection><rasd:ResourceType>10</rasd:ResourceType></Item>
                </VirtualHardwareSection></VirtualSystem></Envelope>"#,
        )
        .unwrap();
        let o = ovf(&d).unwrap();
        assert_eq!(o.files, vec![("disk1.vmdk".to_string(), 2048)]);
        assert_eq!(o.networks, vec!["VM Network".to_string()]);
        assert_eq!(o.vms[0].name, "photon2-temp");
        assert_eq!(
            (o.vms[0].cpus, o.vms[0].memory_mb, o.vms[0].disk_mb),
            (2, 2048, 20 * 1024)
        );
        assert_eq!(o.vms[0].nics, vec![(0, "VM Network".to_string())]);
        assert_eq!(o.vms[0].os_type, "other3xLinux64Guest");
    }
}
