//! The XML documents the simulator serves, built from the state with the
//! links, media types and namespaces of spec/vcd-rest.md.

use chrono::{DateTime, SecondsFormat, Utc};

use super::xml::{El, NS_VERSIONS, link};
use crate::state::records::status_name;
use crate::state::vapps::{vapp_deployed, vapp_status};
use crate::state::*;

/// Media types (exact strings).
pub mod mt {
    pub const SESSION: &str = "application/vnd.vmware.vcloud.session+xml";
    pub const ORG_LIST: &str = "application/vnd.vmware.vcloud.orgList+xml";
    pub const ORG: &str = "application/vnd.vmware.vcloud.org+xml";
    pub const VDC: &str = "application/vnd.vmware.vcloud.vdc+xml";
    pub const CATALOG: &str = "application/vnd.vmware.vcloud.catalog+xml";
    pub const CATALOG_ITEM: &str = "application/vnd.vmware.vcloud.catalogItem+xml";
    pub const TEMPLATE: &str = "application/vnd.vmware.vcloud.vAppTemplate+xml";
    pub const VAPP: &str = "application/vnd.vmware.vcloud.vApp+xml";
    pub const VM: &str = "application/vnd.vmware.vcloud.vm+xml";
    pub const TASK: &str = "application/vnd.vmware.vcloud.task+xml";
    pub const TASKS_LIST: &str = "application/vnd.vmware.vcloud.tasksList+xml";
    pub const METADATA: &str = "application/vnd.vmware.vcloud.metadata+xml";
    pub const METADATA_VALUE: &str = "application/vnd.vmware.vcloud.metadata.value+xml";
    pub const QUERY_LIST: &str = "application/vnd.vmware.vcloud.query.queryList+xml";
    pub const RECORDS: &str = "application/vnd.vmware.vcloud.query.records+xml";
    pub const IDRECORDS: &str = "application/vnd.vmware.vcloud.query.idrecords+xml";
    pub const REFERENCES: &str = "application/vnd.vmware.vcloud.query.references+xml";
    pub const NETWORK: &str = "application/vnd.vmware.vcloud.network+xml";
    pub const ORG_NETWORK: &str = "application/vnd.vmware.vcloud.orgNetwork+xml";
    pub const STORAGE_PROFILE: &str = "application/vnd.vmware.vcloud.vdcStorageProfile+xml";
    pub const INSTANTIATE: &str = "application/vnd.vmware.vcloud.instantiateVAppTemplateParams+xml";
    pub const COMPOSE: &str = "application/vnd.vmware.vcloud.composeVAppParams+xml";
    pub const RECOMPOSE: &str = "application/vnd.vmware.vcloud.recomposeVAppParams+xml";
    pub const CAPTURE: &str = "application/vnd.vmware.vcloud.captureVAppParams+xml";
    pub const UPLOAD: &str = "application/vnd.vmware.vcloud.uploadVAppTemplateParams+xml";
    pub const MEDIA: &str = "application/vnd.vmware.vcloud.media+xml";
    pub const DEPLOY: &str = "application/vnd.vmware.vcloud.deployVAppParams+xml";
    pub const UNDEPLOY: &str = "application/vnd.vmware.vcloud.undeployVAppParams+xml";
    pub const RASD_ITEM: &str = "application/vnd.vmware.vcloud.rasdItem+xml";
    pub const VHS: &str = "application/vnd.vmware.vcloud.virtualHardwareSection+xml";
    pub const NCS: &str = "application/vnd.vmware.vcloud.networkConnectionSection+xml";
    pub const GCS: &str = "application/vnd.vmware.vcloud.guestCustomizationSection+xml";
    pub const OWNER: &str = "application/vnd.vmware.vcloud.owner+xml";
    pub const ENTITY: &str = "application/vnd.vmware.vcloud.entity+xml";
    pub const EXTENSIBILITY: &str = "application/vnd.vmware.vcloud.apiextensibility+xml";
    pub const ADMIN_VCLOUD: &str = "application/vnd.vmware.admin.vcloud+xml";
    pub const ADMIN_ORG: &str = "application/vnd.vmware.admin.organization+xml";
    pub const ADMIN_CATALOG: &str = "application/vnd.vmware.admin.catalog+xml";
    pub const PUBLISH: &str = "application/vnd.vmware.admin.publishCatalogParams+xml";
    pub const ADMIN_VDC: &str = "application/vnd.vmware.admin.vdc+xml";
    pub const USER: &str = "application/vnd.vmware.admin.user+xml";
    pub const ROLE: &str = "application/vnd.vmware.admin.role+xml";
    pub const RIGHT: &str = "application/vnd.vmware.admin.right+xml";
    pub const RIGHTS: &str = "application/vnd.vmware.admin.rights+xml";
    pub const ORG_RIGHTS: &str = "application/vnd.vmware.admin.org.rights+xml";
    pub const EXTENSION: &str = "application/vnd.vmware.admin.vmwExtension+xml";
    pub const SERVICES: &str = "application/vnd.vmware.admin.extensionServices+xml";
    pub const SERVICE: &str = "application/vnd.vmware.admin.service+xml";
    pub const API_FILTER: &str = "application/vnd.vmware.admin.apiFilter+xml";
    pub const API_FILTERS: &str = "application/vnd.vmware.admin.apiFilters+xml";
    pub const AMQP: &str = "application/vnd.vmware.admin.amqpSettings+xml";
    pub const AMQP_TEST: &str = "application/vnd.vmware.admin.amqpSettingsTest+xml";
    pub const VIM_REFS: &str = "application/vnd.vmware.admin.vmwVimServerReferences+xml";
    pub const VIM_SERVER: &str = "application/vnd.vmware.admin.vmwvirtualcenter+xml";
    pub const VERSIONS: &str = "application/xml";
}

pub fn ts(d: DateTime<Utc>) -> String {
    d.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn href(base: &str, e: EntityRef) -> String {
    format!("{base}{}", e.path())
}

/// `<tag href name type [id]/>` reference element.
pub fn reference(tag: &str, base: &str, e: EntityRef, name: &str) -> El {
    El::new(tag)
        .attr("href", href(base, e))
        .attr("name", name)
        .attr("type", e.media_type())
}

fn entity_root(tag: &str, base: &str, e: EntityRef, name: &str) -> El {
    El::root(tag)
        .attr("href", href(base, e))
        .attr("id", e.urn())
        .attr("name", name)
        .attr("type", e.media_type())
}

fn metadata_link(el: El, base: &str, e: EntityRef) -> El {
    el.link(
        "down",
        format!("{}/metadata", href(base, e)),
        Some(mt::METADATA),
    )
}

/// `GET /api/versions`.
pub fn versions(base: &str, versions: &[&str]) -> El {
    let mut root = El::new("SupportedVersions").attr("xmlns", NS_VERSIONS);
    for v in versions {
        root.push(
            El::new("VersionInfo")
                .attr("deprecated", "false")
                .leaf("Version", *v)
                .leaf("LoginUrl", format!("{base}/api/sessions")),
        );
    }
    root
}

/// The `Session` document (§2.5).
pub fn session(base: &str, caller: &Caller) -> El {
    let org = EntityRef::Org(caller.org);
    let mut s = El::root("Session")
        .attr("href", format!("{base}/api/session"))
        .attr("type", mt::SESSION)
        .attr("user", &caller.user_name)
        .attr("userId", EntityRef::User(caller.user).urn())
        .attr("org", &caller.org_name)
        .attr("roles", &caller.role_name)
        .attr("locationId", format!("{}@vcd-sim", caller.org))
        .link("down", format!("{base}/api/org/"), Some(mt::ORG_LIST))
        .link("remove", format!("{base}/api/session"), None)
        .named_link("down", href(base, org), Some(mt::ORG), &caller.org_name)
        .link("down", format!("{base}/api/query"), Some(mt::QUERY_LIST))
        .link(
            "entityResolver",
            format!("{base}/api/entity/"),
            Some(mt::ENTITY),
        )
        .link(
            "down:extensibility",
            format!("{base}/api/extensibility"),
            Some(mt::EXTENSIBILITY),
        );
    if caller.is_org_admin() {
        s = s.link("down", format!("{base}/api/admin/"), Some(mt::ADMIN_VCLOUD));
    }
    if caller.is_sysadmin() {
        s = s.link(
            "down",
            format!("{base}/api/admin/extension"),
            Some(mt::EXTENSION),
        );
    }
    s
}

pub fn org_list(base: &str, orgs: &[(Id, String)]) -> El {
    El::root("OrgList")
        .attr("href", format!("{base}/api/org/"))
        .attr("type", mt::ORG_LIST)
        .children(
            orgs.iter()
                .map(|(id, name)| reference("Org", base, EntityRef::Org(*id), name)),
        )
}

/// Catalogs an org document lists: its own plus every published one.
fn org_catalogs<'a>(g: &'a Inner, org: Id) -> impl Iterator<Item = &'a Catalog> + 'a {
    g.catalogs
        .values()
        .filter(move |c| c.org == org || c.published)
}

/// The `Org` document (§3.3).
pub fn org(g: &Inner, base: &str, caller: &Caller, o: &Org) -> El {
    let e = EntityRef::Org(o.id);
    let mut el = entity_root("Org", base, e, &o.name);
    for v in g.vdcs.values().filter(|v| v.org == o.id) {
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
    for c in org_catalogs(g, o.id) {
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

/// Running tasks of an entity, plus (first) the task a create request started.
fn tasks_with(g: &Inner, e: EntityRef, with_task: Option<&Task>) -> Vec<Task> {
    let mut tasks: Vec<Task> = with_task.into_iter().cloned().collect();
    for t in g.running_tasks(e) {
        if !tasks.iter().any(|x| x.id == t.id) {
            tasks.push(t);
        }
    }
    tasks
}

fn tasks_el(base: &str, tasks: &[Task], g: &Inner) -> Option<El> {
    if tasks.is_empty() {
        return None;
    }
    Some(El::new("Tasks").children(tasks.iter().map(|t| task_el(g, base, t, "Task"))))
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
    let tasks = tasks_with(g, e, with_task);
    el.opt_child(tasks_el(base, &tasks, g))
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

fn ovf_info(text: &str) -> El {
    El::new("ovf:Info").text(text)
}

fn owner_el(g: &Inner, base: &str, user: Id) -> El {
    El::new("Owner").attr("type", mt::OWNER).child(reference(
        "User",
        base,
        EntityRef::User(user),
        &g.user_name(user),
    ))
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
    let tasks = tasks_with(g, e, with_task);
    el = el.opt_child(tasks_el(base, &tasks, g));
    if t.status == 8 || !t.vms.is_empty() {
        let vms = t
            .vms
            .iter()
            .filter_map(|v| g.vms.get(v))
            .map(|v| vm(g, base, caller, v, false));
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

fn power_links(
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
pub fn vm(g: &Inner, base: &str, caller: &Caller, v: &Vm, root: bool) -> El {
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
pub fn vapp(g: &Inner, base: &str, caller: &Caller, a: &VApp, with_task: Option<&Task>) -> El {
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
    let tasks = tasks_with(g, e, with_task);
    el = el.opt_child(tasks_el(base, &tasks, g));
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
        .map(|v| vm(g, base, caller, v, false))
        .collect();
    if !vms.is_empty() {
        el = el.child(El::new("Children").children(vms));
    }
    el
}

fn task_el(g: &Inner, base: &str, t: &Task, tag: &str) -> El {
    let e = EntityRef::Task(t.id);
    let mut el = El::new(tag)
        .attr("href", href(base, e))
        .attr("id", e.urn())
        .attr("name", &t.name)
        .attr("type", mt::TASK)
        .attr("status", t.status.as_str())
        .attr("operation", &t.operation)
        .attr("operationName", &t.operation_name)
        .attr("serviceNamespace", &t.service_namespace)
        .attr("startTime", ts(t.start))
        .opt_attr("endTime", t.end.map(ts))
        .attr("expiryTime", ts(t.expiry))
        .attr("cancelRequested", t.cancel_requested.to_string());
    if !t.status.is_terminal() {
        el = el.link(
            "task:cancel",
            format!("{}/action/cancel", href(base, e)),
            None,
        );
    }
    el = match &t.owner {
        TaskOwner::Entity { entity, name } => el.child(reference("Owner", base, *entity, name)),
        TaskOwner::Raw {
            href,
            name,
            media_type,
        } => el.child(
            El::new("Owner")
                .attr("href", href)
                .attr("name", name)
                .attr("type", media_type),
        ),
    };
    if let Some(err) = &t.error {
        el = el.child(
            El::new("Error")
                .attr("majorErrorCode", err.major.to_string())
                .attr("minorErrorCode", &err.minor)
                .attr("message", &err.message)
                .attr("stackTrace", &err.stack_trace),
        );
    }
    let user_href = match uuid_of(&t.user_ref) {
        Some(u) if !t.user_ref.starts_with("urn:") || g.users.contains_key(&u) => {
            href(base, EntityRef::User(u))
        }
        _ => t.user_ref.clone(),
    };
    el = el.child(
        El::new("User")
            .attr("href", user_href)
            .attr("name", &t.user_name)
            .attr("type", mt::USER),
    );
    el = el.child(reference(
        "Organization",
        base,
        EntityRef::Org(t.org),
        &g.org_name(t.org),
    ));
    if let Some(p) = t.progress {
        el = el.leaf("Progress", p.to_string());
    }
    el.leaf("Details", &t.details)
}

/// The `Task` document (§8.1).
pub fn task(g: &Inner, base: &str, t: &Task) -> El {
    let el = task_el(g, base, t, "Task");
    // Re-root with namespace declarations.
    El::root("Task").merge_from(el)
}

/// `GET /api/tasksList/{org}`.
pub fn tasks_list(g: &Inner, base: &str, org: Id, tasks: &[Task]) -> El {
    El::root("TasksList")
        .attr("href", format!("{base}/api/tasksList/{org}"))
        .attr("name", g.org_name(org))
        .attr("type", mt::TASKS_LIST)
        .children(tasks.iter().map(|t| task_el(g, base, t, "Task")))
}

fn typed_value(e: &MetaEntry) -> El {
    El::new("TypedValue")
        .attr("xsi:type", e.kind.xsi_type())
        .leaf("Value", &e.value)
}

/// `GET <entity>/metadata` (§7).
pub fn metadata(base: &str, e: EntityRef, entries: &[MetaEntry]) -> El {
    let h = format!("{}/metadata", href(base, e));
    let mut el = El::root("Metadata")
        .attr("href", &h)
        .attr("type", mt::METADATA)
        .link("up", href(base, e), Some(e.media_type()))
        .link("add", &h, Some(mt::METADATA));
    for x in entries {
        let eh = format!("{h}/{}/{}", x.domain.as_str(), x.key);
        el.push(
            El::new("MetadataEntry")
                .link("edit", &eh, Some(mt::METADATA_VALUE))
                .link("remove", &eh, None)
                .child(
                    El::new("Domain")
                        .attr("visibility", &x.visibility)
                        .text(x.domain.as_str()),
                )
                .leaf("Key", &x.key)
                .child(typed_value(x)),
        );
    }
    el
}

/// `GET <entity>/metadata/[DOMAIN/]key`.
pub fn metadata_value(base: &str, e: EntityRef, x: &MetaEntry) -> El {
    let h = format!("{}/metadata/{}/{}", href(base, e), x.domain.as_str(), x.key);
    El::root("MetadataValue")
        .attr("href", &h)
        .attr("type", mt::METADATA_VALUE)
        .link(
            "up",
            format!("{}/metadata", href(base, e)),
            Some(mt::METADATA),
        )
        .link("edit", &h, Some(mt::METADATA_VALUE))
        .link("remove", &h, None)
        .child(
            El::new("Domain")
                .attr("visibility", &x.visibility)
                .text(x.domain.as_str()),
        )
        .child(typed_value(x))
}

/// Metadata child of a query record (`fields=metadata:...`).
pub fn record_metadata(entries: &[&MetaEntry]) -> El {
    El::new("Metadata").children(entries.iter().map(|x| {
        El::new("MetadataEntry")
            .child(
                El::new("Domain")
                    .attr("visibility", &x.visibility)
                    .text(x.domain.as_str()),
            )
            .leaf("Key", &x.key)
            .child(typed_value(x))
    }))
}

/// `GET /api/query` (§4.1).
pub fn query_list(base: &str, types: &[&str]) -> El {
    let mut el = El::root("QueryList")
        .attr("href", format!("{base}/api/query"))
        .attr("type", mt::QUERY_LIST);
    for t in types {
        for (fmt, media) in [
            ("records", mt::RECORDS),
            ("idrecords", mt::IDRECORDS),
            ("references", mt::REFERENCES),
        ] {
            el.push(link(
                "down",
                format!("{base}/api/query?type={t}&format={fmt}"),
                Some(media),
                Some(t),
            ));
        }
    }
    el
}

/// Status text of a vApp for listings.
pub fn vapp_status_text(code: i32) -> &'static str {
    status_name(code)
}

impl El {
    /// Moves attributes and children of `other` into `self` (keeps `self`'s name and namespace declarations).
    pub fn merge_from(self, other: El) -> El {
        self.absorb(other)
    }
}
