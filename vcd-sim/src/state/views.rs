//! What a caller may see, decided once: the REST layer renders its documents
//! inside [`Sim::view`] (the state read-locked for the call only) and finds
//! each entity through the `visible_*` lookups here, which answer vCD's
//! "no access" error for an entity that does not exist or that the caller may
//! not see (vCD does not tell the two apart).

use super::*;

/// Which flavour of a document the caller asks for: the tenant's, or the
/// organisation administrator's (`/api/admin/...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// `/api/...`: anyone who may see the entity.
    Tenant,
    /// `/api/admin/...`: organisation administrators of the entity's org.
    Admin,
}

/// A vApp template, or one of its VMs (`/api/vAppTemplate/vm-...`).
pub enum TemplateOrVm<'a> {
    /// The template itself.
    Template(&'a Template),
    /// A VM of a template.
    Vm(&'a Vm),
}

/// A vApp, or one of its VMs (`/api/vApp/vm-...`).
pub enum VAppOrVm<'a> {
    /// The vApp itself.
    VApp(&'a VApp),
    /// A VM of a vApp.
    Vm(&'a Vm),
}

impl Sim {
    /// Runs `f` over the state, read-locked for the call only (documents are
    /// rendered inside; nothing borrowed outlives it).
    pub fn view<R>(&self, f: impl FnOnce(&Inner) -> R) -> R {
        f(&self.inner.read())
    }

    /// The organisations the caller may see, by name.
    pub fn visible_orgs(&self, caller: &Caller) -> Vec<(Id, String)> {
        self.view(|g| {
            g.orgs
                .values()
                .filter(|o| caller.can_see_org(o.id))
                .map(|o| (o.id, o.name.clone()))
                .collect()
        })
    }
}

impl Inner {
    fn admin_ok(caller: &Caller, org: Id, view: View) -> bool {
        view == View::Tenant || (caller.is_org_admin() && caller.can_see_org(org))
    }

    /// An organisation the caller may see (administrators only for [`View::Admin`]).
    pub fn visible_org(&self, caller: &Caller, id: Id, view: View) -> SimResult<&Org> {
        self.orgs
            .get(&id)
            .filter(|o| caller.can_see_org(o.id) && Self::admin_ok(caller, o.id, view))
            .ok_or_else(|| SimError::no_access(&EntityRef::Org(id)))
    }

    /// A VDC of an organisation the caller may see.
    pub fn visible_vdc(&self, caller: &Caller, id: Id, view: View) -> SimResult<&Vdc> {
        self.vdcs
            .get(&id)
            .filter(|v| caller.can_see_org(v.org) && Self::admin_ok(caller, v.org, view))
            .ok_or_else(|| SimError::no_access(&EntityRef::Vdc(id)))
    }

    /// An org network of an organisation the caller may see.
    pub fn visible_network(&self, caller: &Caller, id: Id) -> SimResult<&Network> {
        self.networks
            .get(&id)
            .filter(|n| caller.can_see_org(n.org))
            .ok_or_else(|| SimError::no_access(&EntityRef::Network(id)))
    }

    /// A catalog of the caller's org, or a published one ([`View::Admin`]:
    /// the caller's org only, administrators only).
    pub fn visible_catalog(&self, caller: &Caller, id: Id, view: View) -> SimResult<&Catalog> {
        self.catalogs
            .get(&id)
            .filter(|c| self.catalog_visible(caller, c) && Self::admin_ok(caller, c.org, view))
            .ok_or_else(|| SimError::no_access(&EntityRef::Catalog(id)))
    }

    /// A catalog item of a catalog the caller may see.
    pub fn visible_item(&self, caller: &Caller, id: Id) -> SimResult<&CatalogItem> {
        self.items
            .get(&id)
            .filter(|i| {
                self.catalogs
                    .get(&i.catalog)
                    .is_some_and(|c| self.catalog_visible(caller, c))
            })
            .ok_or_else(|| SimError::no_access(&EntityRef::CatalogItem(id)))
    }

    /// A media of the caller's org, or in a catalog the caller may see.
    pub fn visible_media(&self, caller: &Caller, id: Id) -> SimResult<&Media> {
        self.media
            .get(&id)
            .filter(|m| {
                caller.can_see_org(m.org)
                    || self
                        .items
                        .get(&m.catalog_item)
                        .and_then(|i| self.catalogs.get(&i.catalog))
                        .is_some_and(|c| self.catalog_visible(caller, c))
            })
            .ok_or_else(|| SimError::no_access(&EntityRef::Media(id)))
    }

    /// A template (`EntityRef::Template`) or template VM (`EntityRef::TemplateVm`)
    /// the caller may see.
    pub fn visible_template(&self, caller: &Caller, e: EntityRef) -> SimResult<TemplateOrVm<'_>> {
        let found = match e {
            EntityRef::Template(t) => self
                .templates
                .get(&t)
                .filter(|tp| self.template_visible(caller, tp))
                .map(TemplateOrVm::Template),
            _ => self
                .vms
                .get(&e.id())
                .filter(|v| matches!(v.parent, VmParent::Template(_)) && self.vm_visible(caller, v))
                .map(TemplateOrVm::Vm),
        };
        found.ok_or_else(|| SimError::no_access(&e))
    }

    /// A vApp (`EntityRef::VApp`) or a vApp's VM (`EntityRef::Vm`) of an
    /// organisation the caller may see.
    pub fn visible_vapp_or_vm(&self, caller: &Caller, e: EntityRef) -> SimResult<VAppOrVm<'_>> {
        let found = match e {
            EntityRef::VApp(v) => self
                .vapps
                .get(&v)
                .filter(|a| caller.can_see_org(a.org))
                .map(VAppOrVm::VApp),
            _ => self
                .vms
                .get(&e.id())
                .filter(|v| matches!(v.parent, VmParent::VApp(_)) && caller.can_see_org(v.org))
                .map(VAppOrVm::Vm),
        };
        found.ok_or_else(|| SimError::no_access(&e))
    }

    /// A VM (`EntityRef::Vm`, in a vApp or a template) of an organisation the
    /// caller may see, for its hardware items.
    pub fn visible_vm(&self, caller: &Caller, e: EntityRef) -> SimResult<&Vm> {
        self.vms
            .get(&e.id())
            .filter(|v| matches!(e, EntityRef::Vm(_)) && caller.can_see_org(v.org))
            .ok_or_else(|| SimError::no_access(&e))
    }

    /// A task that must exist (one the state just made).
    pub fn existing_task(&self, id: Id) -> SimResult<&Task> {
        self.tasks
            .get(&id)
            .ok_or_else(|| SimError::Internal("task vanished".into()))
    }
}
