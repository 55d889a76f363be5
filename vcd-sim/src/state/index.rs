//! Indexes kept beside the state so that a request's work follows what it is
//! about, not how big the world has grown: the tasks that may still be running
//! on each entity (vCD's "busy" check and an entity's `Tasks` element), and the
//! vApps of each org (tenant queries are scoped to the caller's org). Both are
//! supersets checked against the state they index, so a stale entry is never
//! taken for a fact. Work counters say how many entities and tasks requests
//! examined, so tests can check that the work per request stays constant.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};

use super::model::{EntityRef, Id};

/// Lookup tables over [`super::Inner`].
#[derive(Debug, Default)]
pub struct Indexes {
    /// Entity-owned tasks that may not have ended yet, per entity, oldest first.
    entity_tasks: HashMap<EntityRef, Vec<Id>>,
    /// vApps by org.
    org_vapps: HashMap<Id, BTreeSet<Id>>,
}

impl Indexes {
    /// A task started on `entity`.
    pub(crate) fn task_started(&mut self, entity: EntityRef, task: Id) {
        let tasks = self.entity_tasks.entry(entity).or_default();
        if !tasks.contains(&task) {
            tasks.push(task);
        }
    }

    /// A task on `entity` ended.
    pub(crate) fn task_ended(&mut self, entity: EntityRef, task: Id) {
        if let Some(tasks) = self.entity_tasks.get_mut(&entity) {
            tasks.retain(|t| *t != task);
            if tasks.is_empty() {
                self.entity_tasks.remove(&entity);
            }
        }
    }

    /// Tasks that may still run on `entity`, oldest first.
    pub(crate) fn tasks_of(&self, entity: EntityRef) -> &[Id] {
        self.entity_tasks.get(&entity).map_or(&[], Vec::as_slice)
    }

    /// A vApp was added to `org`.
    pub(crate) fn vapp_added(&mut self, org: Id, vapp: Id) {
        self.org_vapps.entry(org).or_default().insert(vapp);
    }

    /// A vApp of `org` was removed.
    pub(crate) fn vapp_removed(&mut self, org: Id, vapp: Id) {
        if let Some(vapps) = self.org_vapps.get_mut(&org) {
            vapps.remove(&vapp);
        }
    }

    /// The vApps of `org`, in id order (the order of `Inner::vapps`).
    pub(crate) fn vapps_of(&self, org: Id) -> impl Iterator<Item = Id> + '_ {
        self.org_vapps.get(&org).into_iter().flatten().copied()
    }
}

/// How much state requests have examined so far.
#[derive(Debug, Default)]
pub struct WorkCounters {
    entities: AtomicU64,
    tasks: AtomicU64,
}

/// A reading of the [`WorkCounters`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Work {
    /// Entities (vApps, VMs, catalog items, ...) looked at to build query records.
    pub entities_examined: u64,
    /// Tasks looked at to decide whether an entity is busy or to list its tasks.
    pub tasks_examined: u64,
}

impl std::ops::Sub for Work {
    type Output = Work;

    fn sub(self, earlier: Work) -> Work {
        Work {
            entities_examined: self
                .entities_examined
                .saturating_sub(earlier.entities_examined),
            tasks_examined: self.tasks_examined.saturating_sub(earlier.tasks_examined),
        }
    }
}

impl WorkCounters {
    pub(crate) fn entities(&self, n: usize) {
        self.entities.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub(crate) fn tasks(&self, n: usize) {
        self.tasks.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// The counts now.
    pub fn read(&self) -> Work {
        Work {
            entities_examined: self.entities.load(Ordering::Relaxed),
            tasks_examined: self.tasks.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_entries_come_and_go_in_order() {
        let mut index = Indexes::default();
        let vapp = EntityRef::VApp(Id::from_u128(1));
        let (a, b) = (Id::from_u128(10), Id::from_u128(11));
        index.task_started(vapp, a);
        index.task_started(vapp, b);
        index.task_started(vapp, a);
        assert_eq!(index.tasks_of(vapp), [a, b]);
        index.task_ended(vapp, a);
        assert_eq!(index.tasks_of(vapp), [b]);
        index.task_ended(vapp, b);
        assert!(index.tasks_of(vapp).is_empty());
        assert!(index.entity_tasks.is_empty());
    }

    #[test]
    fn vapps_are_listed_per_org() {
        let mut index = Indexes::default();
        let (org1, org2) = (Id::from_u128(1), Id::from_u128(2));
        index.vapp_added(org1, Id::from_u128(30));
        index.vapp_added(org1, Id::from_u128(20));
        index.vapp_added(org2, Id::from_u128(40));
        let of1: Vec<Id> = index.vapps_of(org1).collect();
        assert_eq!(of1, [Id::from_u128(20), Id::from_u128(30)]);
        index.vapp_removed(org1, Id::from_u128(20));
        assert_eq!(index.vapps_of(org1).count(), 1);
        assert_eq!(index.vapps_of(Id::from_u128(9)).count(), 0);
    }
}
