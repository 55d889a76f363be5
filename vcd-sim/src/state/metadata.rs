//! Metadata on entities (vApps, VMs, VDCs, catalogs, items, templates, orgs):
//! read, merge-write and delete, with vCD's domain/visibility rules (§7).

use std::sync::Arc;
use std::time::Duration;

use super::tasks::{PendingTask, TaskSpec, Work};
use super::*;

impl Inner {
    /// The org and name of an entity the caller may see (for metadata).
    pub fn visible_entity(&self, caller: &Caller, e: EntityRef) -> SimResult<(Id, String)> {
        let deny = || SimError::no_access(&e);
        let found = match e {
            EntityRef::Org(id) => self
                .orgs
                .get(&id)
                .filter(|_| caller.can_see_org(id))
                .map(|o| (o.id, o.name.clone())),
            EntityRef::Vdc(id) => self
                .vdcs
                .get(&id)
                .filter(|v| caller.can_see_org(v.org))
                .map(|v| (v.org, v.name.clone())),
            EntityRef::Network(id) => self
                .networks
                .get(&id)
                .filter(|v| caller.can_see_org(v.org))
                .map(|v| (v.org, v.name.clone())),
            EntityRef::Catalog(id) => self
                .catalogs
                .get(&id)
                .filter(|c| self.catalog_visible(caller, c))
                .map(|c| (c.org, c.name.clone())),
            EntityRef::CatalogItem(id) => self.items.get(&id).and_then(|i| {
                self.catalogs
                    .get(&i.catalog)
                    .filter(|c| self.catalog_visible(caller, c))
                    .map(|c| (c.org, i.name.clone()))
            }),
            EntityRef::Template(id) => self
                .templates
                .get(&id)
                .filter(|t| self.template_visible(caller, t))
                .map(|t| (t.org, t.name.clone())),
            EntityRef::VApp(id) => self
                .vapps
                .get(&id)
                .filter(|v| caller.can_see_org(v.org))
                .map(|v| (v.org, v.name.clone())),
            EntityRef::Vm(id) | EntityRef::TemplateVm(id) => self
                .vms
                .get(&id)
                .filter(|v| self.vm_visible(caller, v))
                .map(|v| (v.org, v.name.clone())),
            _ => None,
        };
        found.ok_or_else(deny)
    }
}

/// Checks a typed value as vCD does.
pub fn validate_value(kind: MetaType, value: &str) -> SimResult<()> {
    let ok = match kind {
        MetaType::String => true,
        MetaType::Number => value.trim().parse::<i64>().is_ok(),
        MetaType::Boolean => matches!(value.trim(), "true" | "false"),
        MetaType::DateTime => chrono::DateTime::parse_from_rfc3339(value.trim()).is_ok(),
    };
    if ok {
        Ok(())
    } else {
        Err(SimError::BadRequest(format!(
            "The value \"{value}\" is not a valid {}.",
            kind.xsi_type()
        )))
    }
}

fn check_domain(caller: &Caller, e: &MetaEntry) -> SimResult<()> {
    let pair_ok = matches!(
        (e.domain, e.visibility.as_str()),
        (Domain::General, "READWRITE") | (Domain::System, "PRIVATE") | (Domain::System, "READONLY")
    );
    if !pair_ok {
        return Err(SimError::BadRequest(format!(
            "Metadata domain {} cannot have visibility {}.",
            e.domain.as_str(),
            e.visibility
        )));
    }
    if e.domain == Domain::System && !caller.is_sysadmin() {
        return Err(SimError::Forbidden(
            "Only system administrators may write SYSTEM metadata.".into(),
        ));
    }
    validate_value(e.kind, &e.value)
}

impl Sim {
    /// Every entry the caller may see (PRIVATE entries only for system administrators).
    pub fn metadata(&self, caller: &Caller, e: EntityRef) -> SimResult<Vec<MetaEntry>> {
        let g = self.inner.read();
        g.visible_entity(caller, e)?;
        Ok(g.metadata
            .get(&e)
            .map(|m| {
                m.values()
                    .filter(|x| caller.is_sysadmin() || x.visibility != "PRIVATE")
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    /// One entry; an unknown key is 403 as in vCD.
    pub fn metadata_value(
        &self,
        caller: &Caller,
        e: EntityRef,
        domain: Option<Domain>,
        key: &str,
    ) -> SimResult<MetaEntry> {
        self.metadata(caller, e)?
            .into_iter()
            .find(|x| x.key == key && domain.is_none_or(|d| d == x.domain))
            .ok_or_else(|| {
                SimError::Forbidden(format!(
                    "[ {} ] The metadata key \"{key}\" does not exist or you do not have access to it.",
                    e.urn()
                ))
            })
    }

    fn metadata_task(
        self: &Arc<Self>,
        caller: &Caller,
        e: EntityRef,
        work: Work,
        what: &str,
    ) -> SimResult<Id> {
        let instant = self.config.clock.is_instant();
        let mut g = self.inner.write();
        let (org, name) = g.visible_entity(caller, e)?;
        let task = g.new_task(
            TaskSpec {
                org,
                user: caller.user,
                operation: format!("{what} metadata of {name}({})", e.id()),
                operation_name: "metadataUpdate",
                owner: e,
                owner_name: name,
            },
            instant,
        );
        drop(g);
        self.run_task(PendingTask {
            id: task,
            work,
            duration: Duration::from_secs(1),
        });
        Ok(task)
    }

    /// `POST <entity>/metadata` (merge) and `PUT <entity>/metadata/..` (one entry).
    pub fn set_metadata(
        self: &Arc<Self>,
        caller: &Caller,
        e: EntityRef,
        entries: Vec<MetaEntry>,
    ) -> SimResult<Id> {
        for x in &entries {
            check_domain(caller, x)?;
            if x.key.trim().is_empty() {
                return Err(SimError::BadRequest(
                    "A metadata key must not be empty.".into(),
                ));
            }
        }
        let work: Work = Box::new(move |sim: &Sim| {
            let mut g = sim.inner.write();
            let m = g.metadata.entry(e).or_default();
            for x in entries {
                m.insert((x.domain, x.key.clone()), x);
            }
            Ok(())
        });
        self.metadata_task(caller, e, work, "Updating")
    }

    /// `DELETE <entity>/metadata/[DOMAIN/]key`.
    pub fn delete_metadata(
        self: &Arc<Self>,
        caller: &Caller,
        e: EntityRef,
        domain: Option<Domain>,
        key: &str,
    ) -> SimResult<Id> {
        let found = self.metadata_value(caller, e, domain, key)?;
        if found.domain == Domain::System && !caller.is_sysadmin() {
            return Err(SimError::Forbidden(
                "Only system administrators may delete SYSTEM metadata.".into(),
            ));
        }
        let work: Work = Box::new(move |sim: &Sim| {
            let mut g = sim.inner.write();
            if let Some(m) = g.metadata.get_mut(&e) {
                m.remove(&(found.domain, found.key.clone()));
            }
            Ok(())
        });
        self.metadata_task(caller, e, work, "Deleting")
    }
}
