//! Catalogs, catalog items and vApp templates: create and publish a catalog,
//! the OVF upload dance (descriptor, file chunks, import task), capture of a
//! vApp into a template, and deletion.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use super::tasks::{PendingTask, TaskSpec, Work};
use super::vapps::computer_name_of;
use super::*;

/// Which file of an upload a transfer URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferTarget {
    /// The OVF descriptor of a template upload.
    Descriptor {
        /// The template being uploaded.
        template: Id,
    },
    /// A file the descriptor names.
    File {
        /// The template being uploaded.
        template: Id,
        /// The file name as the descriptor gives it.
        name: String,
    },
    /// The image of a media upload.
    Media {
        /// The media being uploaded.
        media: Id,
    },
}

impl Sim {
    fn require_catalog_admin(&self, caller: &Caller, org: Id) -> SimResult<()> {
        if caller.can_see_org(org) && caller.is_org_admin() {
            Ok(())
        } else {
            Err(SimError::Forbidden(
                "Either you need some or all of the following rights [Catalog: Create / Delete a Catalog] to perform operations [CATALOG_CREATE] or the target entity is invalid.".into(),
            ))
        }
    }

    /// `POST /api/admin/org/{org}/catalogs`: the catalog and its creation task.
    pub fn create_catalog(
        self: &Arc<Self>,
        caller: &Caller,
        org: Id,
        name: &str,
        description: &str,
    ) -> SimResult<(Id, Id)> {
        let instant = self.config.clock.is_instant();
        let mut g = self.inner.write();
        if !g.orgs.contains_key(&org) || !caller.can_see_org(org) {
            return Err(SimError::no_access(&EntityRef::Org(org)));
        }
        self.require_catalog_admin(caller, org)?;
        if name.trim().is_empty() {
            return Err(SimError::BadRequest(
                "The catalog name must not be empty.".into(),
            ));
        }
        if g.catalogs.values().any(|c| c.org == org && c.name == name) {
            return Err(SimError::DuplicateName(format!(
                "Catalog with name \"{name}\" already exists."
            )));
        }
        let id = g.new_id();
        g.catalogs.insert(
            id,
            Catalog {
                id,
                org,
                name: name.into(),
                description: description.into(),
                published: false,
                owner: caller.user,
                created: Utc::now(),
                version: 1,
                items: Vec::new(),
            },
        );
        let task = g.new_task(
            TaskSpec {
                org,
                user: caller.user,
                operation: format!("Creating Catalog {name}({id})"),
                operation_name: "catalogCreateCatalog",
                owner: EntityRef::Catalog(id),
                owner_name: name.into(),
            },
            instant,
        );
        drop(g);
        self.run_task(PendingTask {
            id: task,
            work: Box::new(|_| Ok(())),
            duration: Duration::from_secs(1),
        });
        Ok((id, task))
    }

    /// `POST /api/admin/catalog/{id}/action/publish`.
    pub fn publish_catalog(&self, caller: &Caller, cat: Id, published: bool) -> SimResult<()> {
        let mut g = self.inner.write();
        let org = match g.catalogs.get(&cat) {
            Some(c) if caller.can_see_org(c.org) => c.org,
            _ => return Err(SimError::no_access(&EntityRef::Catalog(cat))),
        };
        self.require_catalog_admin(caller, org)?;
        if let Some(c) = g.catalogs.get_mut(&cat) {
            c.published = published;
            c.version += 1;
        }
        Ok(())
    }

    /// `DELETE /api/admin/catalog/{id}`: only empty catalogs unless recursive.
    pub fn delete_catalog(&self, caller: &Caller, cat: Id, recursive: bool) -> SimResult<()> {
        let mut g = self.inner.write();
        let (org, items) = match g.catalogs.get(&cat) {
            Some(c) if caller.can_see_org(c.org) => (c.org, c.items.clone()),
            _ => return Err(SimError::no_access(&EntityRef::Catalog(cat))),
        };
        self.require_catalog_admin(caller, org)?;
        if !items.is_empty() && !recursive {
            return Err(SimError::BadRequest(
                "The catalog is not empty: delete its items first or use recursive=true.".into(),
            ));
        }
        for i in items {
            Self::remove_item_now(&mut g, i);
        }
        g.catalogs.remove(&cat);
        g.metadata.remove(&EntityRef::Catalog(cat));
        Ok(())
    }

    /// `POST /api/catalog/{id}/action/upload`: a catalog item pointing at a new,
    /// empty template waiting for its OVF descriptor. Returns the item id.
    pub fn start_upload(
        &self,
        caller: &Caller,
        cat: Id,
        name: &str,
        description: &str,
    ) -> SimResult<Id> {
        let mut g = self.inner.write();
        let org = match g.catalogs.get(&cat) {
            Some(c) if caller.can_see_org(c.org) => c.org,
            _ => return Err(SimError::no_access(&EntityRef::Catalog(cat))),
        };
        self.require_catalog_admin(caller, org)?;
        if name.trim().is_empty() {
            return Err(SimError::BadRequest(
                "The catalog item name must not be empty.".into(),
            ));
        }
        g.ensure_item_name_free(cat, name)?;
        let vdc = g.org_vdc_for(org, "template")?;
        let tid = g.new_id();
        let iid = g.new_id();
        let transfer = transfer_id();
        let now = Utc::now();
        g.templates.insert(
            tid,
            Template {
                id: tid,
                org,
                vdc,
                catalog_item: Some(iid),
                name: name.into(),
                description: description.into(),
                status: 0,
                ovf_uploaded: false,
                transfer,
                files: vec![UploadFile {
                    name: "descriptor.ovf".into(),
                    size: -1,
                    received: 0,
                    ranges: Default::default(),
                    is_descriptor: true,
                }],
                pending_vms: Vec::new(),
                network_names: Vec::new(),
                os_hint: String::new(),
                vms: Vec::new(),
                owner: caller.user,
                created: now,
            },
        );
        g.items.insert(
            iid,
            CatalogItem {
                id: iid,
                catalog: cat,
                name: name.into(),
                description: description.into(),
                entity: ItemEntity::Template(tid),
                created: now,
            },
        );
        if let Some(c) = g.catalogs.get_mut(&cat) {
            c.items.push(iid);
            c.version += 1;
        }
        Ok(iid)
    }

    /// What a `/transfer/{uuid}/{name}` URL points at.
    pub fn transfer_target(&self, transfer: Uuid, file: &str) -> Option<TransferTarget> {
        let g = self.inner.read();
        if let Some(m) = g
            .media
            .values()
            .find(|m| m.transfer == transfer && m.file.name == file)
        {
            return Some(TransferTarget::Media { media: m.id });
        }
        let t = g.templates.values().find(|t| t.transfer == transfer)?;
        let f = t.files.iter().find(|f| f.name == file)?;
        Some(if f.is_descriptor {
            TransferTarget::Descriptor { template: t.id }
        } else {
            TransferTarget::File {
                template: t.id,
                name: f.name.clone(),
            }
        })
    }

    /// The OVF descriptor arrived: list the files still to upload and start
    /// the import task.
    pub fn upload_descriptor(self: &Arc<Self>, template: Id, ovf: OvfDescriptor) -> SimResult<()> {
        let mut g = self.inner.write();
        let t = g
            .templates
            .get(&template)
            .ok_or_else(|| SimError::no_access(&EntityRef::Template(template)))?;
        if t.ovf_uploaded {
            return Err(SimError::BadRequest(
                "The OVF descriptor has already been uploaded.".into(),
            ));
        }
        if ovf.files.is_empty() {
            return Err(SimError::BadRequest(
                "The OVF descriptor references no files (no disk): nothing to import.".into(),
            ));
        }
        if ovf.vms.is_empty() {
            return Err(SimError::BadRequest(
                "The OVF descriptor describes no virtual system.".into(),
            ));
        }
        let (org, owner, name) = (t.org, t.owner, t.name.clone());
        let os_hint = ovf
            .vms
            .iter()
            .map(|v| format!("{} {}", v.os_type, v.os_hint))
            .chain(ovf.files.iter().map(|f| f.0.clone()))
            .collect::<Vec<_>>()
            .join(" ");
        let Some(t) = g.templates.get_mut(&template) else {
            return Err(SimError::no_access(&EntityRef::Template(template)));
        };
        t.ovf_uploaded = true;
        t.pending_vms = ovf.vms.clone();
        t.network_names = if ovf.networks.is_empty() {
            vec!["none".into()]
        } else {
            ovf.networks.clone()
        };
        t.os_hint = os_hint;
        for (href, size) in &ovf.files {
            t.files.push(UploadFile {
                name: href.clone(),
                size: *size,
                received: 0,
                ranges: Default::default(),
                is_descriptor: false,
            });
        }
        if let Some(d) = t.files.iter_mut().find(|f| f.is_descriptor) {
            d.received = 1;
            d.size = 1;
        }
        g.new_task(
            TaskSpec {
                org,
                user: owner,
                operation: format!("Importing Virtual Application Template {name}({template})"),
                operation_name: "vdcUploadOvfContents",
                owner: EntityRef::Template(template),
                owner_name: name,
            },
            false,
        );
        if let Some(id) = g.task_order.last().copied()
            && let Some(task) = g.tasks.get_mut(&id)
        {
            task.status = TaskStatus::Running;
        }
        Ok(())
    }

    /// A chunk of a referenced file (`Content-Range: bytes first-last/total`).
    /// When every file is complete the template is materialised.
    pub fn upload_chunk(
        self: &Arc<Self>,
        template: Id,
        file: &str,
        first: u64,
        last: u64,
        total: Option<u64>,
    ) -> SimResult<()> {
        let complete = {
            let mut g = self.inner.write();
            let t = g
                .templates
                .get_mut(&template)
                .ok_or_else(|| SimError::no_access(&EntityRef::Template(template)))?;
            let f = t
                .files
                .iter_mut()
                .find(|f| f.name == file && !f.is_descriptor)
                .ok_or_else(|| SimError::NotFound(format!("No upload target {file}.")))?;
            if let Some(total) = total
                && f.size >= 0
                && total != f.size as u64
            {
                return Err(SimError::BadRequest(format!(
                    "Content-Range total {total} does not match the size {} of {file} in the OVF descriptor.",
                    f.size
                )));
            }
            if last < first || (f.size >= 0 && last >= f.size as u64 && f.size > 0) {
                return Err(SimError::BadRequest(format!(
                    "Invalid byte range {first}-{last} for {file}."
                )));
            }
            if f.ranges.insert((first, last)) {
                f.received = merged_len(&f.ranges);
            }
            t.files
                .iter()
                .all(|f| f.is_descriptor || (f.size >= 0 && f.received >= f.size as u64))
        };
        if complete {
            self.finish_import(template)?;
        }
        Ok(())
    }

    /// All files are in: create the template VMs (disk images from the guest
    /// model), mark the template resolved, end the import task.
    fn finish_import(self: &Arc<Self>, template: Id) -> SimResult<()> {
        let (vms, os_hint) = {
            let g = self.inner.read();
            let gone = || {
                SimError::BadRequest(format!(
                    "The vApp template {template} was deleted during its upload."
                ))
            };
            let t = g.templates.get(&template).ok_or_else(gone)?;
            if t.status == 8 {
                return Ok(());
            }
            (t.pending_vms.clone(), t.os_hint.clone())
        };
        let disk = self.guests.import_disk(&os_hint);
        let task_id = {
            let mut g = self.inner.write();
            let (org, vdc) = {
                let t = g.templates.get(&template).ok_or_else(|| {
                    SimError::BadRequest(format!(
                        "The vApp template {template} was deleted during its upload."
                    ))
                })?;
                (t.org, t.vdc)
            };
            let profile = g
                .vdcs
                .get(&vdc)
                .and_then(|v| v.storage_profiles.first())
                .map(|p| p.id);
            let vcenter = g.vcenters.keys().next().copied();
            let mut ids = Vec::new();
            for o in &vms {
                let id = g.new_id();
                let mut nics = Vec::new();
                for (idx, net) in &o.nics {
                    let mac = g.new_mac();
                    nics.push(Nic {
                        index: *idx,
                        network: net.clone(),
                        org_network: None,
                        ip: None,
                        mode: IpMode::Pool,
                        connected: true,
                        mac,
                        adapter_type: "VMXNET3".into(),
                    });
                }
                let password = g.new_password();
                g.vms.insert(
                    id,
                    Vm {
                        id,
                        parent: VmParent::Template(template),
                        org,
                        vdc,
                        name: o.name.clone(),
                        description: String::new(),
                        cpus: o.cpus.max(1),
                        cores_per_socket: o.cores_per_socket.max(1),
                        memory_mb: o.memory_mb.max(4),
                        disk_mb: o.disk_mb,
                        os_type: o.os_type.clone(),
                        primary_nic: nics.first().map(|n| n.index).unwrap_or(0),
                        nics,
                        power: Power::Off,
                        deployed: false,
                        needs_customization: true,
                        customization: GuestCustomization {
                            enabled: true,
                            admin_password_enabled: true,
                            admin_password_auto: true,
                            admin_password: password,
                            reset_password_required: false,
                            script: None,
                            computer_name: computer_name_of(&o.name),
                        },
                        moref: None,
                        vcenter,
                        disk: Some(disk),
                        storage_profile: profile,
                        created: Utc::now(),
                        creating: false,
                    },
                );
                ids.push(id);
            }
            let Some(t) = g.templates.get_mut(&template) else {
                for id in ids {
                    g.vms.remove(&id);
                }
                return Err(SimError::BadRequest(format!(
                    "The vApp template {template} was deleted during its upload."
                )));
            };
            t.vms = ids;
            t.status = 8;
            t.files.clear();
            t.pending_vms.clear();
            g.running_tasks(EntityRef::Template(template))
                .first()
                .map(|t| t.id)
        };
        if let Some(task) = task_id {
            let linger = self.config.import_linger;
            if linger.is_zero() || tokio::runtime::Handle::try_current().is_err() {
                self.inner.write().finish_task(task, Ok(()));
            } else {
                let sim = Arc::clone(self);
                tokio::spawn(async move {
                    tokio::time::sleep(linger).await;
                    sim.inner.write().finish_task(task, Ok(()));
                });
            }
        }
        Ok(())
    }

    /// `DELETE /api/catalogItem/{id}`: removes the item and its template.
    pub fn delete_catalog_item(&self, caller: &Caller, item: Id) -> SimResult<()> {
        let mut g = self.inner.write();
        let org = g
            .items
            .get(&item)
            .and_then(|i| g.catalogs.get(&i.catalog))
            .filter(|c| caller.can_see_org(c.org))
            .map(|c| c.org)
            .ok_or_else(|| SimError::no_access(&EntityRef::CatalogItem(item)))?;
        self.require_catalog_admin(caller, org)?;
        Self::remove_item_now(&mut g, item);
        Ok(())
    }

    fn remove_item_now(g: &mut Inner, item: Id) {
        if let Some(i) = g.items.remove(&item) {
            if let Some(c) = g.catalogs.get_mut(&i.catalog) {
                c.items.retain(|x| *x != item);
                c.version += 1;
            }
            if let ItemEntity::Media(m) = i.entity {
                g.media.remove(&m);
                g.metadata.remove(&EntityRef::Media(m));
            }
            if let Some(t) = i.template().and_then(|t| g.templates.remove(&t)) {
                for vm in t.vms {
                    g.vms.remove(&vm);
                    g.metadata.remove(&EntityRef::TemplateVm(vm));
                }
                g.metadata.remove(&EntityRef::Template(t.id));
            }
            g.metadata.remove(&EntityRef::CatalogItem(item));
        }
    }

    /// `POST /api/catalog/{id}/action/captureVApp` (or the deprecated
    /// `POST /api/vdc/{id}/action/captureVApp`, [`CaptureInto::Vdc`]): a
    /// template copying the vApp's VMs (hardware, NICs, customization incl.
    /// password, disk state). Returns the template and its capture task.
    pub fn capture_vapp(
        self: &Arc<Self>,
        caller: &Caller,
        into: CaptureInto,
        vapp: Id,
        name: &str,
        description: &str,
    ) -> SimResult<(Id, Id)> {
        let instant = self.config.clock.is_instant();
        let mut g = self.inner.write();
        let org = match into {
            CaptureInto::Catalog { catalog, .. } => match g.catalogs.get(&catalog) {
                Some(c) if caller.can_see_org(c.org) => c.org,
                _ => return Err(SimError::no_access(&EntityRef::Catalog(catalog))),
            },
            CaptureInto::Vdc(vdc) => match g.vdcs.get(&vdc) {
                Some(v) if caller.can_see_org(v.org) => v.org,
                _ => return Err(SimError::no_access(&EntityRef::Vdc(vdc))),
            },
        };
        self.require_catalog_admin(caller, org)?;
        let (vdc, vapp_name, vms, networks) = match g.vapps.get(&vapp) {
            Some(v) if caller.can_see_org(v.org) => {
                (v.vdc, v.name.clone(), v.vms.clone(), v.networks.clone())
            }
            _ => return Err(SimError::no_access(&EntityRef::VApp(vapp))),
        };
        if name.trim().is_empty() {
            return Err(SimError::BadRequest(
                "CaptureVAppParams needs a name.".into(),
            ));
        }
        g.ensure_not_busy(EntityRef::VApp(vapp), &vapp_name)?;
        let (cat, target_item, vdc) = match into {
            CaptureInto::Catalog {
                catalog,
                target_item,
            } => (Some(catalog), target_item, vdc),
            CaptureInto::Vdc(target) => (None, None, target),
        };
        if let Some(cat) = cat {
            if let Some(ti) = target_item {
                if !g.catalogs[&cat].items.contains(&ti) {
                    return Err(SimError::BadRequest(format!(
                        "Catalog item {ti} is not in this catalog."
                    )));
                }
            } else {
                g.ensure_item_name_free(cat, name)?;
            }
        }
        let tid = g.new_id();
        let transfer = transfer_id();
        let now = Utc::now();
        let item = match (cat, target_item) {
            (None, _) => None,
            (Some(_), Some(ti)) => {
                let old = g.items.get(&ti).and_then(|i| i.template());
                if let Some(old) = old
                    && let Some(t) = g.templates.remove(&old)
                {
                    for vm in t.vms {
                        g.vms.remove(&vm);
                    }
                }
                if let Some(i) = g.items.get_mut(&ti) {
                    i.entity = ItemEntity::Template(tid);
                    i.name = name.into();
                    i.description = description.into();
                }
                Some(ti)
            }
            (Some(cat), None) => {
                let iid = g.new_id();
                g.items.insert(
                    iid,
                    CatalogItem {
                        id: iid,
                        catalog: cat,
                        name: name.into(),
                        description: description.into(),
                        entity: ItemEntity::Template(tid),
                        created: now,
                    },
                );
                if let Some(c) = g.catalogs.get_mut(&cat) {
                    c.items.push(iid);
                }
                Some(iid)
            }
        };
        if let Some(c) = cat.and_then(|cat| g.catalogs.get_mut(&cat)) {
            c.version += 1;
        }
        g.templates.insert(
            tid,
            Template {
                id: tid,
                org,
                vdc,
                catalog_item: item,
                name: name.into(),
                description: description.into(),
                status: 0,
                ovf_uploaded: true,
                transfer,
                files: Vec::new(),
                pending_vms: Vec::new(),
                network_names: networks.iter().map(|n| n.name.clone()).collect(),
                os_hint: String::new(),
                vms: Vec::new(),
                owner: caller.user,
                created: now,
            },
        );
        let task = g.new_task(
            TaskSpec {
                org,
                user: caller.user,
                operation: format!("Capturing Virtual Application {vapp_name}({vapp})"),
                operation_name: "vdcCaptureTemplate",
                owner: EntityRef::Template(tid),
                owner_name: name.into(),
            },
            instant,
        );
        drop(g);
        let work: Work = Box::new(move |sim: &Sim| {
            let mut copies = Vec::new();
            for vm in &vms {
                let src = sim.inner.read().vms.get(vm).cloned();
                let Some(src) = src else { continue };
                let disk = match &src.moref {
                    Some(m) => sim
                        .guests
                        .snapshot_disk(m)
                        .map_err(|e| SimError::Internal(e.to_string()))?,
                    None => src
                        .disk
                        .ok_or_else(|| SimError::Internal("VM without disk".into()))?,
                };
                copies.push((src, disk));
            }
            let mut g = sim.inner.write();
            let mut ids = Vec::new();
            for (src, disk) in copies {
                let id = g.new_id();
                let mut copy = src.clone();
                copy.id = id;
                copy.parent = VmParent::Template(tid);
                copy.moref = None;
                copy.disk = Some(disk);
                copy.power = Power::Off;
                copy.deployed = false;
                copy.needs_customization = true;
                copy.creating = false;
                for n in &mut copy.nics {
                    n.ip = None;
                    n.org_network = None;
                }
                g.vms.insert(id, copy);
                ids.push(id);
            }
            if let Some(t) = g.templates.get_mut(&tid) {
                t.vms = ids;
                t.status = 8;
            }
            Ok(())
        });
        self.run_task(PendingTask {
            id: task,
            work,
            duration: Duration::from_secs(20),
        });
        Ok((tid, task))
    }
}

/// Where a capture puts its template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureInto {
    /// A catalog: a new item, or `target_item` re-pointed (overwrite).
    Catalog {
        /// The catalog.
        catalog: Id,
        /// An existing item to re-point to the new template (overwrite).
        target_item: Option<Id>,
    },
    /// A VDC, without a catalog item (the deprecated VDC capture).
    Vdc(Id),
}

impl Sim {
    /// `POST /api/catalog/{id}/action/upload` with a `Media`: a catalog item
    /// holding a media image waiting for its bytes. Returns the item id.
    pub fn start_media_upload(
        &self,
        caller: &Caller,
        cat: Id,
        name: &str,
        description: &str,
        image_type: &str,
        size: i64,
    ) -> SimResult<Id> {
        let mut g = self.inner.write();
        let org = match g.catalogs.get(&cat) {
            Some(c) if caller.can_see_org(c.org) => c.org,
            _ => return Err(SimError::no_access(&EntityRef::Catalog(cat))),
        };
        self.require_catalog_admin(caller, org)?;
        if name.trim().is_empty() {
            return Err(SimError::BadRequest(
                "The media name must not be empty.".into(),
            ));
        }
        if size <= 0 {
            return Err(SimError::BadRequest(format!(
                "The media size {size} must be positive."
            )));
        }
        let image_type = match image_type.to_ascii_lowercase().as_str() {
            "iso" => "iso",
            "floppy" => "floppy",
            other => {
                return Err(SimError::BadRequest(format!(
                    "Unknown media image type \"{other}\" (iso or floppy)."
                )));
            }
        };
        g.ensure_item_name_free(cat, name)?;
        let vdc = g.org_vdc_for(org, "media")?;
        let mid = g.new_id();
        let iid = g.new_id();
        let transfer = transfer_id();
        let now = Utc::now();
        g.media.insert(
            mid,
            Media {
                id: mid,
                org,
                vdc,
                catalog_item: iid,
                name: name.into(),
                description: description.into(),
                image_type: image_type.into(),
                status: 0,
                transfer,
                file: UploadFile {
                    name: "file".into(),
                    size,
                    received: 0,
                    ranges: Default::default(),
                    is_descriptor: false,
                },
                owner: caller.user,
                created: now,
            },
        );
        g.items.insert(
            iid,
            CatalogItem {
                id: iid,
                catalog: cat,
                name: name.into(),
                description: description.into(),
                entity: ItemEntity::Media(mid),
                created: now,
            },
        );
        if let Some(c) = g.catalogs.get_mut(&cat) {
            c.items.push(iid);
            c.version += 1;
        }
        Ok(iid)
    }

    /// A chunk of a media image; the media resolves when complete.
    pub fn upload_media_chunk(
        &self,
        media: Id,
        first: u64,
        last: u64,
        total: Option<u64>,
    ) -> SimResult<()> {
        let mut g = self.inner.write();
        let m = g
            .media
            .get_mut(&media)
            .ok_or_else(|| SimError::no_access(&EntityRef::Media(media)))?;
        let size = m.file.size as u64;
        if total.is_some_and(|t| t != size) || last < first || last >= size {
            return Err(SimError::BadRequest(format!(
                "Invalid byte range {first}-{last} for a media of {size} bytes."
            )));
        }
        if m.file.ranges.insert((first, last)) {
            m.file.received = merged_len(&m.file.ranges);
        }
        if m.file.received >= size {
            m.status = 1;
        }
        Ok(())
    }
}

impl Inner {
    /// Refuses a catalog item name already used in the catalog (vCD's text).
    fn ensure_item_name_free(&self, cat: Id, name: &str) -> SimResult<()> {
        let taken = self.catalogs[&cat]
            .items
            .iter()
            .filter_map(|i| self.items.get(i))
            .any(|i| i.name == name);
        if taken {
            return Err(SimError::DuplicateName(format!(
                "Catalog Item with name \"{name}\" already exists in this catalog."
            )));
        }
        Ok(())
    }

    /// The org VDC that holds a catalog's `what` (template or media) content.
    fn org_vdc_for(&self, org: Id, what: &str) -> SimResult<Id> {
        self.vdcs
            .values()
            .find(|v| v.org == org)
            .map(|v| v.id)
            .ok_or_else(|| {
                SimError::BadRequest(format!(
                    "The catalog's organization has no VDC to hold the {what}."
                ))
            })
    }
}

fn merged_len(ranges: &std::collections::BTreeSet<(u64, u64)>) -> u64 {
    let mut total = 0;
    let mut cur: Option<(u64, u64)> = None;
    for &(a, b) in ranges {
        match cur {
            Some((s, e)) if a <= e + 1 => cur = Some((s, e.max(b))),
            Some((s, e)) => {
                total += e - s + 1;
                cur = Some((a, b));
            }
            None => cur = Some((a, b)),
        }
    }
    if let Some((s, e)) = cur {
        total += e - s + 1;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::merged_len;

    #[test]
    fn repeated_and_overlapping_chunks_count_once() {
        let set = [(0, 9), (10, 19), (5, 12), (0, 9)].into_iter().collect();
        assert_eq!(merged_len(&set), 20);
    }
}
