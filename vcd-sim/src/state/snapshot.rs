//! The vCD side of a snapshot (`crate::snapshot`): every entity of the
//! state as plain data in a canonical order (maps by id, tasks in creation
//! order, metadata by entity), and back. Sessions and injected task faults
//! are not part of it; indexes are rebuilt on import.

use std::collections::{BTreeMap, HashMap};

use rand::SeedableRng as _;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use super::model::*;
use super::{Inner, Sim, index};

/// Metadata entries of one entity.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EntityMetadata {
    /// The entity.
    pub entity: EntityRef,
    /// Its entries, by domain and key.
    pub entries: Vec<MetaEntry>,
}

/// Every entity of the simulated vCD, in a canonical order.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VcdState {
    /// Organizations.
    pub orgs: Vec<Org>,
    /// Users (passwords included: a snapshot is a test fixture).
    pub users: Vec<User>,
    /// Roles.
    pub roles: Vec<Role>,
    /// Rights.
    pub rights: Vec<Right>,
    /// Organization VDCs.
    pub vdcs: Vec<Vdc>,
    /// Org VDC networks (allocated addresses included).
    pub networks: Vec<Network>,
    /// Catalogs.
    pub catalogs: Vec<Catalog>,
    /// Catalog items.
    pub items: Vec<CatalogItem>,
    /// vApp templates.
    pub templates: Vec<Template>,
    /// Media.
    pub media: Vec<Media>,
    /// vApps.
    pub vapps: Vec<VApp>,
    /// VMs of vApps and templates.
    pub vms: Vec<Vm>,
    /// Tasks in creation order.
    pub tasks: Vec<Task>,
    /// Metadata, by entity.
    pub metadata: Vec<EntityMetadata>,
    /// API extension services (with their API filters).
    pub services: Vec<ExtensionService>,
    /// vCD's AMQP settings.
    pub amqp: AmqpSettings,
    /// Registered vCenters.
    pub vcenters: Vec<VimServer>,
    /// The next vCenter moref number.
    pub next_moref: u64,
    /// The next MAC address number.
    pub next_mac: u64,
}

impl std::fmt::Debug for VcdState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VcdState")
            .field("orgs", &self.orgs.len())
            .field("vapps", &self.vapps.len())
            .field("vms", &self.vms.len())
            .field("tasks", &self.tasks.len())
            .finish_non_exhaustive()
    }
}

fn by_id<T: Clone>(m: &BTreeMap<Id, T>) -> Vec<T> {
    m.values().cloned().collect()
}

fn to_map<T>(items: Vec<T>, id: impl Fn(&T) -> Id, what: &str) -> Result<BTreeMap<Id, T>, String> {
    let mut out = BTreeMap::new();
    for item in items {
        let i = id(&item);
        if out.insert(i, item).is_some() {
            return Err(format!("{what} {i} appears twice"));
        }
    }
    Ok(out)
}

/// The most a loaded counter may be (counters go up by one from there).
pub const MAX_COUNTER: u64 = 1 << 40;

/// Counters and sizes that later work adds to stay far from overflowing.
fn check_numbers(state: &VcdState) -> Result<(), String> {
    let over = |what: String, n: u64| {
        if n > MAX_COUNTER {
            Err(format!(
                "{what} {n} is above the most allowed, {MAX_COUNTER}"
            ))
        } else {
            Ok(())
        }
    };
    over("vcd.next_moref".into(), state.next_moref)?;
    over("vcd.next_mac".into(), state.next_mac)?;
    for c in &state.catalogs {
        over(format!("catalog {} version", c.name), u64::from(c.version))?;
    }
    let files = state
        .templates
        .iter()
        .flat_map(|t| t.files.iter())
        .chain(state.media.iter().map(|m| &m.file));
    for f in files {
        over(
            format!("upload file {} size", f.name),
            u64::try_from(f.size).unwrap_or(u64::MAX),
        )?;
        over(format!("upload file {} received", f.name), f.received)?;
        for (a, b) in &f.ranges {
            over(format!("upload file {} range", f.name), (*a).max(*b))?;
        }
    }
    Ok(())
}

impl Sim {
    /// The whole vCD state as plain data.
    pub fn export_state(&self) -> VcdState {
        let g = self.inner.read();
        let mut tasks: Vec<Task> = g
            .task_order
            .iter()
            .filter_map(|id| g.tasks.get(id).cloned())
            .collect();
        for (id, t) in &g.tasks {
            if !g.task_order.contains(id) {
                tasks.push(t.clone());
            }
        }
        let mut metadata: Vec<EntityMetadata> = g
            .metadata
            .iter()
            .filter(|(_, m)| !m.is_empty())
            .map(|(entity, m)| EntityMetadata {
                entity: *entity,
                entries: m.values().cloned().collect(),
            })
            .collect();
        metadata.sort_by_key(|m| m.entity);
        VcdState {
            orgs: by_id(&g.orgs),
            users: by_id(&g.users),
            roles: by_id(&g.roles),
            rights: by_id(&g.rights),
            vdcs: by_id(&g.vdcs),
            networks: by_id(&g.networks),
            catalogs: by_id(&g.catalogs),
            items: by_id(&g.items),
            templates: by_id(&g.templates),
            media: by_id(&g.media),
            vapps: by_id(&g.vapps),
            vms: by_id(&g.vms),
            tasks,
            metadata,
            services: by_id(&g.services),
            amqp: g.amqp.clone(),
            vcenters: by_id(&g.vcenters),
            next_moref: g.next_moref,
            next_mac: g.next_mac,
        }
    }

    /// Replaces the whole vCD state with `state`; the error names what is
    /// inconsistent (and nothing changes). Sessions of users that still
    /// exist are kept; ids made from now on follow `seed`.
    pub fn import_state(&self, state: VcdState, seed: u64) -> Result<(), String> {
        check_numbers(&state)?;
        let mut services = to_map(state.services, |s| s.id, "extension service")?;
        for s in services.values_mut() {
            for f in &mut s.filters {
                f.compiled = Some(
                    super::admin::compile_filter(&f.pattern)
                        .map_err(|e| format!("extension service {}: {e}", s.name))?,
                );
            }
        }
        let tasks_in_order: Vec<Id> = state.tasks.iter().map(|t| t.id).collect();
        let mut metadata: HashMap<EntityRef, Metadata> = HashMap::new();
        for m in state.metadata {
            let entries = metadata.entry(m.entity).or_default();
            for e in m.entries {
                entries.insert((e.domain, e.key.clone()), e);
            }
        }
        let mut inner = Inner {
            rng: StdRng::seed_from_u64(seed),
            orgs: to_map(state.orgs, |o| o.id, "org")?,
            users: to_map(state.users, |u| u.id, "user")?,
            roles: to_map(state.roles, |r| r.id, "role")?,
            rights: to_map(state.rights, |r| r.id, "right")?,
            vdcs: to_map(state.vdcs, |v| v.id, "VDC")?,
            networks: to_map(state.networks, |n| n.id, "network")?,
            catalogs: to_map(state.catalogs, |c| c.id, "catalog")?,
            items: to_map(state.items, |i| i.id, "catalog item")?,
            templates: to_map(state.templates, |t| t.id, "template")?,
            media: to_map(state.media, |m| m.id, "media")?,
            vapps: to_map(state.vapps, |v| v.id, "vApp")?,
            vms: to_map(state.vms, |v| v.id, "VM")?,
            tasks: to_map(state.tasks, |t| t.id, "task")?,
            task_order: tasks_in_order,
            metadata,
            services,
            amqp: state.amqp,
            vcenters: to_map(state.vcenters, |v| v.id, "vCenter")?,
            sessions: HashMap::new(),
            index: index::Indexes::default(),
            work: index::WorkCounters::default(),
            task_faults: Vec::new(),
            task_holds: Vec::new(),
            task_lifetime: super::tasks::DEFAULT_TASK_LIFETIME,
            tasks_since_expiry: 0,
            next_moref: state.next_moref,
            next_mac: state.next_mac,
        };
        if !inner.orgs.values().any(|o| o.is_system) {
            return Err("the snapshot has no System org".into());
        }
        for u in inner.users.values() {
            if !inner.orgs.contains_key(&u.org) || !inner.roles.contains_key(&u.role) {
                return Err(format!("user {} refers to a missing org or role", u.name));
            }
        }
        for v in inner.vapps.values() {
            if let Some(vm) = v.vms.iter().find(|vm| !inner.vms.contains_key(vm)) {
                return Err(format!("vApp {} refers to a missing VM {vm}", v.name));
            }
        }
        let vapps: Vec<(Id, Id)> = inner.vapps.values().map(|v| (v.org, v.id)).collect();
        for (org, id) in vapps {
            inner.index.vapp_added(org, id);
        }
        let running: Vec<(EntityRef, Id)> = inner
            .tasks
            .values()
            .filter(|t| {
                matches!(
                    t.status,
                    TaskStatus::Queued | TaskStatus::PreRunning | TaskStatus::Running
                )
            })
            .filter_map(|t| match &t.owner {
                TaskOwner::Entity { entity, .. } => Some((*entity, t.id)),
                TaskOwner::Raw { .. } => None,
            })
            .collect();
        for (entity, id) in running {
            inner.index.task_started(entity, id);
        }
        let mut g = self.inner.write();
        let old_sessions = std::mem::take(&mut g.sessions);
        inner.sessions = old_sessions
            .into_iter()
            .filter(|(_, s)| inner.users.contains_key(&s.user))
            .collect();
        *g = inner;
        Ok(())
    }
}
