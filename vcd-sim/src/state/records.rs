//! Query-service records: for each record type the rows the caller may see,
//! with vCD's attribute names. Reference attributes stay typed so the wire
//! layer can render them as hrefs (`records`) or URNs (`idrecords`).

use super::vapps::{vapp_deployed, vapp_status};
use super::*;

/// A record attribute value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attr {
    /// Plain text.
    Text(String),
    /// A reference, written as the entity's href.
    Ref(EntityRef),
}

/// One query result row.
#[derive(Debug, Clone)]
pub struct Record {
    /// Element name (`VAppRecord`, ...).
    pub element: &'static str,
    /// The entity the record is about (its `href`).
    pub entity: EntityRef,
    /// The `name` attribute.
    pub name: String,
    /// Other attributes, in document order.
    pub attrs: Vec<(&'static str, Attr)>,
    /// Metadata entries shown with the record.
    pub metadata: Vec<MetaEntry>,
}

/// What a query will look at in its records: the attributes it filters,
/// sorts or returns and the metadata keys it filters or returns. Records are
/// built with those only, as a database query reads only the columns it
/// names; `None` means every attribute.
#[derive(Debug, Clone)]
pub struct Selection {
    /// The attributes to build (`None`: all).
    pub attributes: Option<Vec<String>>,
    /// The metadata keys to copy.
    pub metadata_keys: Vec<String>,
}

impl Selection {
    /// Whether the attribute `name` is built.
    pub fn wants(&self, name: &str) -> bool {
        self.attributes
            .as_ref()
            .is_none_or(|names| names.iter().any(|n| n == name))
    }

    /// Whether the metadata entry `key` is copied.
    pub fn wants_metadata(&self, key: &str) -> bool {
        self.metadata_keys.iter().any(|k| k == key)
    }
}

/// Record types any user may query.
pub const TENANT_TYPES: &[&str] = &[
    "organization",
    "orgVdc",
    "orgNetwork",
    "catalog",
    "catalogItem",
    "vAppTemplate",
    "vApp",
    "vm",
    "task",
    "role",
    "right",
    "user",
];

/// Record types only system administrators may query.
pub const ADMIN_TYPES: &[&str] = &[
    "adminVApp",
    "adminVM",
    "adminCatalog",
    "adminCatalogItem",
    "adminOrgVdc",
    "adminVAppTemplate",
    "adminTask",
    "adminUser",
    "adminRole",
    "adminService",
    "apiFilter",
    "virtualCenter",
];

fn t(s: impl ToString) -> Attr {
    Attr::Text(s.to_string())
}

fn date(d: chrono::DateTime<chrono::Utc>) -> Attr {
    t(d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

/// vCD's status string of a vApp/VM status code.
pub fn status_name(code: i32) -> &'static str {
    match code {
        0 => "UNRESOLVED",
        1 => "RESOLVED",
        3 => "SUSPENDED",
        4 => "POWERED_ON",
        8 => "POWERED_OFF",
        10 => "MIXED",
        _ => "UNKNOWN",
    }
}

impl Sim {
    /// Rows of a record type visible to the caller.
    pub fn query_records(
        &self,
        caller: &Caller,
        kind: &str,
        selection: &Selection,
    ) -> SimResult<Vec<Record>> {
        let admin = ADMIN_TYPES.contains(&kind);
        if !admin && !TENANT_TYPES.contains(&kind) {
            return Err(SimError::BadRequest(format!(
                "Unknown query type \"{kind}\"."
            )));
        }
        if admin && !caller.is_sysadmin() {
            return Err(SimError::Forbidden(format!(
                "Either you need some or all of the following rights [General: Administrator View] to query {kind} or the target entity is invalid."
            )));
        }
        let g = self.inner.read();
        // Tenant types are scoped to the caller's own org (plus published
        // catalogs); admin types cover every org.
        let in_scope = |org: Id| admin || org == caller.org;
        let meta = |e: EntityRef| -> Vec<MetaEntry> {
            g.metadata
                .get(&e)
                .map(|m| {
                    m.values()
                        .filter(|entry| selection.wants_metadata(&entry.key))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut out = Vec::new();
        match kind {
            "organization" => {
                for o in g
                    .orgs
                    .values()
                    .filter(|o| caller.is_sysadmin() || o.id == caller.org)
                {
                    let e = EntityRef::Org(o.id);
                    out.push(Record {
                        element: "OrgRecord",
                        entity: e,
                        name: o.name.clone(),
                        attrs: vec![
                            ("displayName", t(&o.full_name)),
                            ("isEnabled", t(true)),
                            (
                                "numberOfVdcs",
                                t(g.vdcs.values().filter(|v| v.org == o.id).count()),
                            ),
                            (
                                "numberOfCatalogs",
                                t(g.catalogs.values().filter(|c| c.org == o.id).count()),
                            ),
                        ],
                        metadata: meta(e),
                    });
                }
            }
            "orgVdc" | "adminOrgVdc" => {
                for v in g.vdcs.values().filter(|v| in_scope(v.org)) {
                    let e = EntityRef::Vdc(v.id);
                    out.push(Record {
                        element: if admin {
                            "AdminVdcRecord"
                        } else {
                            "OrgVdcRecord"
                        },
                        entity: e,
                        name: v.name.clone(),
                        attrs: vec![
                            ("org", Attr::Ref(EntityRef::Org(v.org))),
                            ("orgName", t(g.org_name(v.org))),
                            ("isEnabled", t(true)),
                            ("status", t("READY")),
                            (
                                "numberOfVApps",
                                t(g.vapps.values().filter(|a| a.vdc == v.id).count()),
                            ),
                        ],
                        metadata: meta(e),
                    });
                }
            }
            "orgNetwork" => {
                for n in g.networks.values().filter(|n| in_scope(n.org)) {
                    let e = EntityRef::Network(n.id);
                    out.push(Record {
                        element: "OrgNetworkRecord",
                        entity: e,
                        name: n.name.clone(),
                        attrs: vec![
                            ("gateway", t(n.gateway)),
                            ("netmask", t(n.netmask)),
                            (
                                "dns1",
                                t(n.dns.first().map(|d| d.to_string()).unwrap_or_default()),
                            ),
                            ("isShared", t(false)),
                        ],
                        metadata: meta(e),
                    });
                }
            }
            "catalog" | "adminCatalog" => {
                for c in g
                    .catalogs
                    .values()
                    .filter(|c| in_scope(c.org) || (!admin && c.published))
                {
                    let e = EntityRef::Catalog(c.id);
                    let kinds: Vec<ItemEntity> = c
                        .items
                        .iter()
                        .filter_map(|i| g.items.get(i))
                        .map(|i| i.entity)
                        .collect();
                    let templates = kinds
                        .iter()
                        .filter(|k| matches!(k, ItemEntity::Template(_)))
                        .count();
                    let media = kinds.len() - templates;
                    out.push(Record {
                        element: if admin {
                            "AdminCatalogRecord"
                        } else {
                            "CatalogRecord"
                        },
                        entity: e,
                        name: c.name.clone(),
                        attrs: vec![
                            ("description", t(&c.description)),
                            ("isPublished", t(c.published)),
                            ("isShared", t(c.published)),
                            ("ownerName", t(g.user_name(c.owner))),
                            ("owner", Attr::Ref(EntityRef::User(c.owner))),
                            ("orgName", t(g.org_name(c.org))),
                            ("org", Attr::Ref(EntityRef::Org(c.org))),
                            ("numberOfVAppTemplates", t(templates)),
                            ("numberOfMedia", t(media)),
                            ("createdOn", date(c.created)),
                        ],
                        metadata: meta(e),
                    });
                }
            }
            "catalogItem" | "adminCatalogItem" => {
                for i in g.items.values() {
                    let Some(c) = g.catalogs.get(&i.catalog) else {
                        continue;
                    };
                    if !(in_scope(c.org) || (!admin && c.published)) {
                        continue;
                    }
                    let tpl = i.template().and_then(|t| g.templates.get(&t));
                    let media = match i.entity {
                        ItemEntity::Media(m) => g.media.get(&m),
                        ItemEntity::Template(_) => None,
                    };
                    let e = EntityRef::CatalogItem(i.id);
                    out.push(Record {
                        element: if admin {
                            "AdminCatalogItemRecord"
                        } else {
                            "CatalogItemRecord"
                        },
                        entity: e,
                        name: i.name.clone(),
                        attrs: vec![
                            ("catalogName", t(&c.name)),
                            ("catalog", Attr::Ref(EntityRef::Catalog(c.id))),
                            ("entity", Attr::Ref(i.entity_ref())),
                            (
                                "entityName",
                                t(tpl
                                    .map(|t| t.name.clone())
                                    .or(media.map(|m| m.name.clone()))
                                    .unwrap_or_default()),
                            ),
                            (
                                "entityType",
                                t(if media.is_some() {
                                    "media"
                                } else {
                                    "vapptemplate"
                                }),
                            ),
                            (
                                "status",
                                t(
                                    if tpl.is_some_and(|t| t.status == 8)
                                        || media.is_some_and(|m| m.status == 1)
                                    {
                                        "RESOLVED"
                                    } else {
                                        "UNRESOLVED"
                                    },
                                ),
                            ),
                            (
                                "storageKB",
                                t(tpl
                                    .map(|t| template_storage_kb(&g, t))
                                    .or(media.map(|m| m.file.size.max(0) as u64 / 1024))
                                    .unwrap_or(0)),
                            ),
                            (
                                "vdc",
                                Attr::Ref(EntityRef::Vdc(
                                    tpl.map(|t| t.vdc)
                                        .or(media.map(|m| m.vdc))
                                        .unwrap_or_default(),
                                )),
                            ),
                            (
                                "vdcName",
                                t(tpl
                                    .map(|t| g.vdc_name(t.vdc))
                                    .or(media.map(|m| g.vdc_name(m.vdc)))
                                    .unwrap_or_default()),
                            ),
                            ("isPublished", t(c.published)),
                            ("ownerName", t(g.user_name(c.owner))),
                            ("creationDate", date(i.created)),
                        ],
                        metadata: meta(e),
                    });
                }
            }
            "vAppTemplate" | "adminVAppTemplate" => {
                for tp in g.templates.values() {
                    let cat = tp
                        .catalog_item
                        .and_then(|i| g.items.get(&i))
                        .and_then(|i| g.catalogs.get(&i.catalog));
                    let published = cat.is_some_and(|c| c.published);
                    if !(in_scope(tp.org) || (!admin && published)) {
                        continue;
                    }
                    let e = EntityRef::Template(tp.id);
                    out.push(Record {
                        element: if admin {
                            "AdminVAppTemplateRecord"
                        } else {
                            "VAppTemplateRecord"
                        },
                        entity: e,
                        name: tp.name.clone(),
                        attrs: vec![
                            ("vdc", Attr::Ref(EntityRef::Vdc(tp.vdc))),
                            ("vdcName", t(g.vdc_name(tp.vdc))),
                            ("org", Attr::Ref(EntityRef::Org(tp.org))),
                            (
                                "catalogName",
                                t(cat.map(|c| c.name.clone()).unwrap_or_default()),
                            ),
                            (
                                "status",
                                t(if tp.status == 8 {
                                    "RESOLVED"
                                } else {
                                    "UNRESOLVED"
                                }),
                            ),
                            ("isPublished", t(published)),
                            ("ownerName", t(g.user_name(tp.owner))),
                            ("numberOfVMs", t(tp.vms.len())),
                            ("storageKB", t(template_storage_kb(&g, tp))),
                            ("creationDate", date(tp.created)),
                        ],
                        metadata: meta(e),
                    });
                }
            }
            "vApp" | "adminVApp" => {
                // A tenant's query looks at its own org's vApps only.
                let vapps: Vec<&VApp> = if admin {
                    g.vapps.values().collect()
                } else {
                    g.index
                        .vapps_of(caller.org)
                        .filter_map(|id| g.vapps.get(&id))
                        .collect()
                };
                g.work.entities(vapps.len());
                for a in vapps.into_iter().filter(|a| in_scope(a.org)) {
                    let vms: Vec<&Vm> = a.vms.iter().filter_map(|v| g.vms.get(v)).collect();
                    let e = EntityRef::VApp(a.id);
                    // Each attribute is worked out only when the query looks at it.
                    let columns: [(&'static str, &dyn Fn() -> Attr); 14] = [
                        ("vdc", &|| Attr::Ref(EntityRef::Vdc(a.vdc))),
                        ("vdcName", &|| t(g.vdc_name(a.vdc))),
                        ("status", &|| t(status_name(vapp_status(&g, a)))),
                        ("numberOfVMs", &|| t(vms.len())),
                        ("numberOfCpus", &|| {
                            t(vms.iter().map(|v| v.cpus).sum::<u32>())
                        }),
                        ("memoryAllocationMB", &|| {
                            t(vms.iter().map(|v| v.memory_mb).sum::<u64>())
                        }),
                        ("storageKB", &|| {
                            t(vms.iter().map(|v| v.disk_mb * 1024).sum::<u64>())
                        }),
                        ("ownerName", &|| t(g.user_name(a.owner))),
                        ("owner", &|| Attr::Ref(EntityRef::User(a.owner))),
                        ("isDeployed", &|| t(vapp_deployed(&g, a))),
                        ("isEnabled", &|| t(true)),
                        ("isBusy", &|| t(g.is_busy(e))),
                        ("isInMaintenanceMode", &|| t(false)),
                        ("creationDate", &|| date(a.created)),
                    ];
                    let mut attrs: Vec<(&'static str, Attr)> = columns
                        .iter()
                        .filter(|(name, _)| selection.wants(name))
                        .map(|(name, value)| (*name, value()))
                        .collect();
                    if admin {
                        if selection.wants("org") {
                            attrs.push(("org", Attr::Ref(EntityRef::Org(a.org))));
                        }
                        if selection.wants("orgName") {
                            attrs.push(("orgName", t(g.org_name(a.org))));
                        }
                    }
                    out.push(Record {
                        element: if admin {
                            "AdminVAppRecord"
                        } else {
                            "VAppRecord"
                        },
                        entity: e,
                        name: a.name.clone(),
                        attrs,
                        metadata: meta(e),
                    });
                }
            }
            "vm" | "adminVM" => {
                g.work.entities(g.vms.len());
                for v in g.vms.values().filter(|v| in_scope(v.org)) {
                    let (container, container_name, is_template) = match v.parent {
                        VmParent::VApp(a) => (
                            EntityRef::VApp(a),
                            g.vapps.get(&a).map(|x| x.name.clone()).unwrap_or_default(),
                            false,
                        ),
                        VmParent::Template(tp) => (
                            EntityRef::Template(tp),
                            g.templates
                                .get(&tp)
                                .map(|x| x.name.clone())
                                .unwrap_or_default(),
                            true,
                        ),
                    };
                    let e = if is_template {
                        EntityRef::TemplateVm(v.id)
                    } else {
                        EntityRef::Vm(v.id)
                    };
                    let mut attrs = vec![
                        ("containerName", t(container_name)),
                        ("container", Attr::Ref(container)),
                        (
                            "ipAddress",
                            t(v.primary_ip().map(|i| i.to_string()).unwrap_or_default()),
                        ),
                        ("status", t(status_name(v.status()))),
                        ("memoryMB", t(v.memory_mb)),
                        ("numberOfCpus", t(v.cpus)),
                        ("guestOs", t(&v.os_type)),
                        ("isVAppTemplate", t(is_template)),
                        ("isDeployed", t(v.deployed)),
                        ("vdc", Attr::Ref(EntityRef::Vdc(v.vdc))),
                    ];
                    if admin {
                        attrs.push(("moref", t(v.moref.clone().unwrap_or_default())));
                        attrs.push((
                            "vc",
                            Attr::Ref(EntityRef::VimServer(v.vcenter.unwrap_or_default())),
                        ));
                        attrs.push(("org", Attr::Ref(EntityRef::Org(v.org))));
                    }
                    out.push(Record {
                        element: if admin { "AdminVMRecord" } else { "VMRecord" },
                        entity: e,
                        name: v.name.clone(),
                        attrs,
                        metadata: meta(e),
                    });
                }
            }
            "task" | "adminTask" => {
                for tk in g
                    .task_order
                    .iter()
                    .filter_map(|i| g.tasks.get(i))
                    .filter(|tk| in_scope(tk.org))
                {
                    let (object, object_name, object_type) = match &tk.owner {
                        TaskOwner::Entity { entity, name } => (
                            Attr::Ref(*entity),
                            name.clone(),
                            entity.media_type().to_string(),
                        ),
                        TaskOwner::Raw {
                            href,
                            name,
                            media_type,
                        } => (t(href), name.clone(), media_type.clone()),
                    };
                    out.push(Record {
                        element: if admin {
                            "AdminTaskRecord"
                        } else {
                            "TaskRecord"
                        },
                        entity: EntityRef::Task(tk.id),
                        name: tk.name.clone(),
                        attrs: vec![
                            ("status", t(tk.status.as_str())),
                            ("startDate", date(tk.start)),
                            ("endDate", tk.end.map(date).unwrap_or(t(""))),
                            ("operationFull", t(&tk.operation)),
                            ("object", object),
                            ("objectName", t(object_name)),
                            ("objectType", t(object_type)),
                            ("ownerName", t(&tk.user_name)),
                            ("org", Attr::Ref(EntityRef::Org(tk.org))),
                            ("orgName", t(g.org_name(tk.org))),
                            ("serviceNamespace", t(&tk.service_namespace)),
                        ],
                        metadata: Vec::new(),
                    });
                }
            }
            "role" | "adminRole" => {
                for r in g.roles.values().filter(|r| in_scope(r.org)) {
                    out.push(Record {
                        element: if admin {
                            "AdminRoleRecord"
                        } else {
                            "RoleRecord"
                        },
                        entity: EntityRef::Role(r.id),
                        name: r.name.clone(),
                        attrs: vec![
                            ("org", Attr::Ref(EntityRef::Org(r.org))),
                            ("orgName", t(g.org_name(r.org))),
                            ("isReadOnly", t(false)),
                        ],
                        metadata: Vec::new(),
                    });
                }
            }
            "right" => {
                for r in g.rights.values() {
                    out.push(Record {
                        element: "RightRecord",
                        entity: EntityRef::Right(r.id),
                        name: r.name.clone(),
                        attrs: vec![
                            ("category", t(&r.category)),
                            ("description", t(&r.description)),
                        ],
                        metadata: Vec::new(),
                    });
                }
            }
            "user" | "adminUser" => {
                for u in g.users.values().filter(|u| in_scope(u.org)) {
                    out.push(Record {
                        element: if admin {
                            "AdminUserRecord"
                        } else {
                            "UserRecord"
                        },
                        entity: EntityRef::User(u.id),
                        name: u.name.clone(),
                        attrs: vec![
                            ("fullName", t(&u.full_name)),
                            ("org", Attr::Ref(EntityRef::Org(u.org))),
                            ("orgName", t(g.org_name(u.org))),
                            (
                                "roleName",
                                t(g.roles
                                    .get(&u.role)
                                    .map(|r| r.name.clone())
                                    .unwrap_or_default()),
                            ),
                            ("isEnabled", t(true)),
                        ],
                        metadata: Vec::new(),
                    });
                }
            }
            "adminService" => {
                for s in g.services.values() {
                    out.push(Record {
                        element: "AdminServiceRecord",
                        entity: EntityRef::Service(s.id),
                        name: s.name.clone(),
                        attrs: vec![
                            ("namespace", t(&s.namespace)),
                            ("vendor", t(&s.vendor)),
                            ("enabled", t(s.enabled)),
                            ("exchange", t(&s.exchange)),
                            ("routingKey", t(&s.routing_key)),
                            ("priority", t(s.priority)),
                            ("isAuthorizationEnabled", t(s.authorization_enabled)),
                            ("description", t(&s.description)),
                        ],
                        metadata: Vec::new(),
                    });
                }
            }
            "apiFilter" => {
                for s in g.services.values() {
                    for f in &s.filters {
                        out.push(Record {
                            element: "ApiFilterRecord",
                            entity: EntityRef::ApiFilter(f.id),
                            name: f.pattern.clone(),
                            attrs: vec![
                                ("service", Attr::Ref(EntityRef::Service(s.id))),
                                ("urlPattern", t(&f.pattern)),
                            ],
                            metadata: Vec::new(),
                        });
                    }
                }
            }
            "virtualCenter" => {
                for v in g.vcenters.values() {
                    out.push(Record {
                        element: "VirtualCenterRecord",
                        entity: EntityRef::VimServer(v.id),
                        name: v.name.clone(),
                        attrs: vec![
                            ("url", t(&v.url)),
                            ("userName", t(&v.username)),
                            ("isEnabled", t(true)),
                            ("isConnected", t(true)),
                            ("vcVersion", t(&v.version)),
                            ("uuid", t(v.uuid)),
                        ],
                        metadata: Vec::new(),
                    });
                }
            }
            _ => {}
        }
        Ok(out)
    }
}

fn template_storage_kb(g: &Inner, t: &Template) -> u64 {
    t.vms
        .iter()
        .filter_map(|v| g.vms.get(v))
        .map(|v| v.disk_mb * 1024)
        .sum()
}
