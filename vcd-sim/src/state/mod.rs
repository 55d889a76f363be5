//! The simulated vCD's state: one [`Inner`] struct behind a lock, plus the
//! guest lifecycle hook and the clock. Every change a client can make goes
//! through a method on [`Sim`] that checks the caller's access, validates the
//! request and, for long operations, starts a [`model::Task`].
//!
//! Submodules: `model` (entities), `tasks` (task runner, extension tasks),
//! `vapps` (compose, instantiate, recompose, power, hardware, delete),
//! `catalogs` (catalogs, OVF upload, capture), `metadata`, `admin`
//! (extension services, rights, AMQP, vCenters), `records` (query records),
//! `guests` (a recording [`GuestLifecycle`] for tests), `index` (per-entity
//! running tasks, per-org vApps, work counters).

pub mod admin;
pub mod catalogs;
pub mod guests;
pub mod index;
pub mod metadata;
pub mod model;
pub mod records;
pub mod snapshot;
pub mod tasks;
pub mod vapps;
pub mod views;

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use parking_lot::RwLock;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

use crate::clock::Clock;
use crate::guest_api::GuestLifecycle;
use crate::secret;
use crate::world::{RoleName, World};
pub use model::*;

/// Most sessions (`x-vcloud-authorization` tokens) held at once; past it
/// the oldest ends.
pub const MAX_SESSIONS: usize = 20_000;

/// Errors of the state layer; the REST layer maps each to a vCD `Error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// No valid session, or a wrong login (401).
    #[error("{0}")]
    Unauthorized(String),
    /// The caller lacks a right or may not see the entity (403, `ACCESS_TO_RESOURCE_IS_FORBIDDEN`).
    #[error("{0}")]
    Forbidden(String),
    /// No such resource (404).
    #[error("{0}")]
    NotFound(String),
    /// The request is malformed or breaks a rule (400).
    #[error("{0}")]
    BadRequest(String),
    /// An entity of that name exists (400, `DUPLICATE_NAME`).
    #[error("{0}")]
    DuplicateName(String),
    /// Another task is running on the entity (400, `BUSY_ENTITY`).
    #[error("{0}")]
    Busy(String),
    /// The entity's state does not allow the change (409).
    #[error("{0}")]
    Conflict(String),
    /// A fault of the simulator itself (500).
    #[error("{0}")]
    Internal(String),
}

impl SimError {
    /// vCD's `majorErrorCode` and `minorErrorCode`.
    pub fn codes(&self) -> (u16, &'static str) {
        match self {
            SimError::Unauthorized(_) => (401, "UNAUTHORIZED"),
            SimError::Forbidden(_) => (403, "ACCESS_TO_RESOURCE_IS_FORBIDDEN"),
            SimError::NotFound(_) => (404, "RESOURCE_NOT_FOUND"),
            SimError::BadRequest(_) => (400, "BAD_REQUEST"),
            SimError::DuplicateName(_) => (400, "DUPLICATE_NAME"),
            SimError::Busy(_) => (400, "BUSY_ENTITY"),
            SimError::Conflict(_) => (409, "CONFLICT"),
            SimError::Internal(_) => (500, "INTERNAL_SERVER_ERROR"),
        }
    }

    /// The error as the `Error` document and `Task/Error` show it.
    pub(crate) fn to_info(&self) -> ErrorInfo {
        let (major, minor) = self.codes();
        ErrorInfo {
            major,
            minor: minor.to_string(),
            message: self.to_string(),
            stack_trace: String::new(),
        }
    }

    /// The 403 vCD answers for an entity the caller may not see (or that does not exist).
    pub fn no_access(entity: &EntityRef) -> SimError {
        SimError::Forbidden(format!(
            "Either you need some or all of the following rights [VIEW] to perform operations [VIEW] for {} or the target entity is invalid.",
            entity.urn()
        ))
    }
}

/// Result of a state-layer operation.
pub type SimResult<T> = Result<T, SimError>;

/// Who is calling, resolved from the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The user's id.
    pub user: Id,
    /// The user's name.
    pub user_name: String,
    /// The user's org.
    pub org: Id,
    /// The org's name.
    pub org_name: String,
    /// Which built-in role the user has.
    pub role: RoleName,
    /// The role's display name.
    pub role_name: String,
    /// Names of the rights the role grants.
    pub rights: Vec<String>,
}

impl Caller {
    /// Whether the caller is a system administrator (of the `System` org).
    pub fn is_sysadmin(&self) -> bool {
        self.role == RoleName::SystemAdministrator
    }
    /// Whether the caller administers its org (or the system).
    pub(crate) fn is_org_admin(&self) -> bool {
        matches!(
            self.role,
            RoleName::SystemAdministrator | RoleName::OrgAdministrator
        )
    }
    /// May see entities of `org`.
    pub fn can_see_org(&self, org: Id) -> bool {
        self.is_sysadmin() || self.org == org
    }
}

/// One VM of an OVF descriptor.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OvfVm {
    /// `VirtualSystem` id, the VM's name.
    pub name: String,
    /// Virtual CPUs.
    pub cpus: u32,
    /// Cores per socket.
    pub cores_per_socket: u32,
    /// Memory in MB.
    pub memory_mb: u64,
    /// Disk capacity in MB.
    pub disk_mb: u64,
    /// vCD guest OS identifier (`OperatingSystemSection/@vmw:osType`).
    pub os_type: String,
    /// Description of the guest OS, which chooses the guest disk image.
    pub os_hint: String,
    /// (adapter index, OVF network name)
    pub nics: Vec<(u32, String)>,
}

/// What the simulator needs from an uploaded OVF descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OvfDescriptor {
    /// The VMs, in document order.
    pub vms: Vec<OvfVm>,
    /// Network names of `NetworkSection`.
    pub networks: Vec<String>,
    /// `References/File`: (`ovf:href`, `ovf:size`).
    pub files: Vec<(String, i64)>,
}

/// Settings of a simulator instance.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The time scale of tasks and other simulated delays.
    pub clock: Clock,
    /// How long (wall clock) a template import task stays running after the
    /// last uploaded byte (CSE 1.2's Python needs it listed; §5.3).
    pub import_linger: Duration,
    /// Strict mode: updating a finished extension task answers 400.
    pub strict_tasks: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            clock: Clock::instant(),
            import_linger: Duration::ZERO,
            strict_tasks: false,
        }
    }
}

/// All mutable state.
pub struct Inner {
    pub(crate) rng: StdRng,
    /// Organizations.
    pub orgs: BTreeMap<Id, Org>,
    /// Users.
    pub users: BTreeMap<Id, User>,
    /// Roles.
    pub roles: BTreeMap<Id, Role>,
    /// Rights.
    pub rights: BTreeMap<Id, Right>,
    /// Organization VDCs.
    pub vdcs: BTreeMap<Id, Vdc>,
    /// Org VDC networks.
    pub networks: BTreeMap<Id, Network>,
    /// Catalogs.
    pub catalogs: BTreeMap<Id, Catalog>,
    /// Catalog items.
    pub items: BTreeMap<Id, CatalogItem>,
    /// vApp templates.
    pub templates: BTreeMap<Id, Template>,
    /// Media images.
    pub media: BTreeMap<Id, Media>,
    /// vApps.
    pub vapps: BTreeMap<Id, VApp>,
    /// VMs of vApps and templates.
    pub vms: BTreeMap<Id, Vm>,
    /// Tasks.
    pub tasks: BTreeMap<Id, Task>,
    /// Task ids in creation order.
    pub task_order: Vec<Id>,
    /// Metadata per entity.
    pub metadata: HashMap<EntityRef, Metadata>,
    /// API extension services.
    pub services: BTreeMap<Id, ExtensionService>,
    /// vCD's AMQP settings.
    pub amqp: AmqpSettings,
    /// Registered vCenters.
    pub vcenters: BTreeMap<Id, VimServer>,
    /// Sessions by token (`x-vcloud-authorization`).
    pub sessions: HashMap<String, Session>,
    /// Running tasks per entity, vApps per org.
    pub(crate) index: index::Indexes,
    /// What requests have examined (see [`Sim::work`]).
    pub(crate) work: index::WorkCounters,
    /// Injected task failures ([`Sim::fail_tasks`]).
    pub(crate) task_faults: Vec<tasks::TaskFault>,
    pub(crate) task_holds: Vec<tasks::TaskHold>,
    /// How long a task lives: its `expiryTime` is its start plus this
    /// (vCD's default: 90 days). Ended tasks past it are destroyed.
    pub(crate) task_lifetime: chrono::Duration,
    /// Tasks created since ended tasks past their expiry were last destroyed.
    pub(crate) tasks_since_expiry: u32,
    next_moref: u64,
    next_mac: u64,
}

impl Inner {
    pub(crate) fn new_id(&mut self) -> Id {
        let mut bytes = [0u8; 16];
        self.rng.fill_bytes(&mut bytes);
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    /// A session token: 128 bits from the operating system's CSPRNG, never
    /// from the world seed (a seeded token could be computed in advance).
    pub(crate) fn new_token(&mut self) -> String {
        secret::token()
    }

    /// A new session for `user`. Past [`MAX_SESSIONS`] the oldest session
    /// ends, so the table stays bounded however many logins there are.
    pub(crate) fn open_session(&mut self, user: Id) -> String {
        while self.sessions.len() >= MAX_SESSIONS {
            let oldest = self
                .sessions
                .iter()
                .min_by_key(|(_, s)| s.created)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => {
                    self.sessions.remove(&k);
                }
                None => break,
            }
        }
        let token = self.new_token();
        self.sessions.insert(
            token.clone(),
            Session {
                user,
                created: Utc::now(),
            },
        );
        token
    }

    /// vCD-style generated admin password (8 letters and digits) from the
    /// CSPRNG, never from the world seed.
    pub(crate) fn new_password(&mut self) -> String {
        secret::password()
    }

    pub(crate) fn new_moref(&mut self) -> String {
        self.next_moref += 1;
        format!("vm-{}", self.next_moref)
    }

    pub(crate) fn new_mac(&mut self) -> String {
        self.next_mac += 1;
        let n = self.next_mac;
        format!(
            "00:50:56:{:02x}:{:02x}:{:02x}",
            (n >> 16) & 0xff,
            (n >> 8) & 0xff,
            n & 0xff
        )
    }

    /// The org `id`; `Forbidden` (as vCD hides unknown entities) when it does not exist.
    pub fn org(&self, id: Id) -> SimResult<&Org> {
        self.orgs
            .get(&id)
            .ok_or_else(|| SimError::no_access(&EntityRef::Org(id)))
    }

    /// Name of org `id` (empty when unknown).
    pub fn org_name(&self, id: Id) -> String {
        self.orgs
            .get(&id)
            .map(|o| o.name.clone())
            .unwrap_or_default()
    }

    /// Name of user `id` (empty when unknown).
    pub fn user_name(&self, id: Id) -> String {
        self.users
            .get(&id)
            .map(|u| u.name.clone())
            .unwrap_or_default()
    }

    /// Name of VDC `id` (empty when unknown).
    pub(crate) fn vdc_name(&self, id: Id) -> String {
        self.vdcs
            .get(&id)
            .map(|o| o.name.clone())
            .unwrap_or_default()
    }

    /// The `System` org.
    pub fn system_org(&self) -> Id {
        self.orgs
            .values()
            .find(|o| o.is_system)
            .map(|o| o.id)
            .unwrap_or_default()
    }

    /// Caller may see this catalog: own org, or published.
    pub fn catalog_visible(&self, caller: &Caller, cat: &Catalog) -> bool {
        caller.can_see_org(cat.org) || cat.published
    }

    /// Caller may see the template (own org, or in a visible catalog).
    pub fn template_visible(&self, caller: &Caller, t: &Template) -> bool {
        if caller.can_see_org(t.org) {
            return true;
        }
        t.catalog_item
            .and_then(|i| self.items.get(&i))
            .and_then(|i| self.catalogs.get(&i.catalog))
            .is_some_and(|c| self.catalog_visible(caller, c))
    }

    /// Caller may see this VM: its vApp's org, or a template the caller may see.
    pub(crate) fn vm_visible(&self, caller: &Caller, vm: &Vm) -> bool {
        match vm.parent {
            VmParent::VApp(_) => caller.can_see_org(vm.org),
            VmParent::Template(t) => self
                .templates
                .get(&t)
                .is_some_and(|t| self.template_visible(caller, t)),
        }
    }

    /// Name of the vCenter `id` (empty when unknown or `None`).
    pub(crate) fn vcenter_name(&self, id: Option<Id>) -> String {
        id.and_then(|i| self.vcenters.get(&i))
            .map(|v| v.name.clone())
            .unwrap_or_default()
    }

    /// Allocates the next free pool address of an org network.
    pub(crate) fn allocate_ip(&mut self, net: Id) -> SimResult<Ipv4Addr> {
        let n = self
            .networks
            .get_mut(&net)
            .ok_or_else(|| SimError::BadRequest(format!("network {net} does not exist")))?;
        for (start, end) in n.ranges.clone() {
            for raw in u32::from(start)..=u32::from(end) {
                let ip = Ipv4Addr::from(raw);
                if !n.allocated.contains(&ip) {
                    n.allocated.insert(ip);
                    return Ok(ip);
                }
            }
        }
        Err(SimError::BadRequest(format!(
            "No IP addresses available in the static IP pool of network '{}'.",
            n.name
        )))
    }

    pub(crate) fn release_ip(&mut self, net: Option<Id>, ip: Option<Ipv4Addr>) {
        if let (Some(net), Some(ip)) = (net, ip)
            && let Some(n) = self.networks.get_mut(&net)
        {
            n.allocated.remove(&ip);
        }
    }

    /// The caller resolved from a user id.
    pub fn caller_for(&self, user: Id) -> SimResult<Caller> {
        let u = self
            .users
            .get(&user)
            .ok_or_else(|| SimError::Unauthorized("unknown user".into()))?;
        let org = self.org(u.org)?;
        let role = self
            .roles
            .get(&u.role)
            .ok_or_else(|| SimError::Internal("user without role".into()))?;
        Ok(Caller {
            user: u.id,
            user_name: u.name.clone(),
            org: org.id,
            org_name: org.name.clone(),
            role: role.kind,
            role_name: role.name.clone(),
            rights: role.rights.iter().cloned().collect(),
        })
    }
}

/// Rights every role holds (a representative subset of vCD's).
pub fn role_rights(kind: RoleName) -> Vec<&'static str> {
    let tenant = vec![
        "vApp: Create / Reconfigure a vApp",
        "vApp: Delete a vApp",
        "vApp: Power Operations",
        "vApp: Edit VM CPU",
        "vApp: Edit VM Memory",
        "vApp: Edit Properties",
        "vApp: View vApps",
        "Catalog: View Private and Shared Catalogs",
        "Organization vDC: View",
        "General: View Metadata",
        "General: Edit Metadata",
    ];
    let mut admin = tenant.clone();
    admin.extend([
        "Catalog: Add vApp from My Cloud",
        "Catalog: Create / Delete a Catalog",
        "Catalog: Publish",
        "Catalog: Edit Properties",
        "Catalog Item: Create / Upload",
        "Catalog Item: Delete",
        "Organization: View",
        "Task: View Tasks",
    ]);
    match kind {
        RoleName::TenantUser => tenant,
        RoleName::OrgAdministrator => admin,
        RoleName::SystemAdministrator => {
            let mut all = admin;
            all.extend([
                "Extension: Manage",
                "General: Administrator Control",
                "Task: Update",
            ]);
            all
        }
    }
}

/// The simulated vCD.
pub struct Sim {
    pub(crate) inner: RwLock<Inner>,
    pub(crate) guests: Arc<dyn GuestLifecycle>,
    pub(crate) config: SimConfig,
}

impl Sim {
    /// Builds the state of a world. Ids and generated names follow
    /// `world.seed`; tokens, passwords and transfer URLs never do ([`secret`]).
    pub fn new(world: &World, guests: Arc<dyn GuestLifecycle>, config: SimConfig) -> Arc<Sim> {
        Arc::new(Sim {
            inner: RwLock::new(Self::build(world)),
            guests,
            config,
        })
    }

    /// Puts the state back to what [`Sim::new`] built from `world`: every
    /// entity, task, session and injected task fault made since is gone.
    /// The vCenter URLs set with [`Sim::set_vcenter_url`] are kept.
    pub fn reset(&self, world: &World) {
        let fresh = Self::build(world);
        let mut g = self.inner.write();
        let urls: Vec<(String, String)> = g
            .vcenters
            .values()
            .map(|v| (v.name.clone(), v.url.clone()))
            .collect();
        *g = fresh;
        for v in g.vcenters.values_mut() {
            if let Some((_, url)) = urls.iter().find(|(n, _)| *n == v.name) {
                v.url.clone_from(url);
            }
        }
    }

    fn build(world: &World) -> Inner {
        let rng = StdRng::seed_from_u64(world.seed);
        let w = &world.amqp;
        let mut inner = Inner {
            rng,
            orgs: BTreeMap::new(),
            users: BTreeMap::new(),
            roles: BTreeMap::new(),
            rights: BTreeMap::new(),
            vdcs: BTreeMap::new(),
            networks: BTreeMap::new(),
            catalogs: BTreeMap::new(),
            items: BTreeMap::new(),
            templates: BTreeMap::new(),
            media: BTreeMap::new(),
            vapps: BTreeMap::new(),
            vms: BTreeMap::new(),
            tasks: BTreeMap::new(),
            task_order: Vec::new(),
            metadata: HashMap::new(),
            services: BTreeMap::new(),
            amqp: AmqpSettings {
                host: w.host.clone(),
                port: w.port,
                username: w.username.clone(),
                password: w.password.clone(),
                exchange: w.exchange.clone(),
                vhost: w.vhost.clone(),
                use_ssl: w.use_ssl,
                ssl_accept_all: w.ssl_accept_all,
                prefix: w.prefix.clone(),
            },
            vcenters: BTreeMap::new(),
            sessions: HashMap::new(),
            index: index::Indexes::default(),
            work: index::WorkCounters::default(),
            task_faults: Vec::new(),
            task_holds: Vec::new(),
            task_lifetime: tasks::DEFAULT_TASK_LIFETIME,
            tasks_since_expiry: 0,
            next_moref: 1000,
            next_mac: 0x010000,
        };
        // vCD's own rights catalogue.
        let mut all_rights: Vec<&str> = role_rights(RoleName::SystemAdministrator);
        all_rights.sort();
        for name in all_rights {
            let id = inner.new_id();
            let category = name.split(':').next().unwrap_or("General").to_string();
            inner.rights.insert(
                id,
                Right {
                    id,
                    name: name.to_string(),
                    category,
                    description: name.to_string(),
                    bundle_key: String::new(),
                    service: None,
                },
            );
        }
        let add_org = |inner: &mut Inner, name: &str, full: &str, is_system: bool| -> Id {
            let id = inner.new_id();
            inner.orgs.insert(
                id,
                Org {
                    id,
                    name: name.into(),
                    full_name: full.into(),
                    description: String::new(),
                    is_system,
                },
            );
            let kinds: &[RoleName] = if is_system {
                &[RoleName::SystemAdministrator]
            } else {
                &[RoleName::OrgAdministrator, RoleName::TenantUser]
            };
            for &kind in kinds {
                let rid = inner.new_id();
                inner.roles.insert(
                    rid,
                    Role {
                        id: rid,
                        org: id,
                        kind,
                        name: kind.display().to_string(),
                        rights: role_rights(kind).into_iter().map(String::from).collect(),
                    },
                );
            }
            id
        };
        let add_user = |inner: &mut Inner, org: Id, u: &crate::world::WorldUser| {
            let id = inner.new_id();
            let role = inner
                .roles
                .values()
                .find(|r| r.org == org && r.kind == u.role)
                .map(|r| r.id)
                .unwrap_or_default();
            let full_name = u.full_name.clone().unwrap_or_else(|| {
                use fake::Fake;
                use fake::faker::name::en::Name;
                Name().fake_with_rng::<String, _>(&mut inner.rng)
            });
            inner.users.insert(
                id,
                User {
                    id,
                    org,
                    name: u.name.clone(),
                    full_name,
                    password: u.password.clone(),
                    role,
                },
            );
            id
        };
        let system = add_org(&mut inner, "System", "System Organization", true);
        for u in &world.system_users {
            add_user(&mut inner, system, u);
        }
        for o in &world.orgs {
            let org = add_org(
                &mut inner,
                &o.name,
                o.full_name.as_deref().unwrap_or(&o.name),
                false,
            );
            let mut first_user = None;
            for u in &o.users {
                let id = add_user(&mut inner, org, u);
                first_user.get_or_insert(id);
            }
            for v in &o.vdcs {
                let vid = inner.new_id();
                let profiles = v
                    .storage_profiles
                    .iter()
                    .map(|n| StorageProfile {
                        id: inner.new_id(),
                        name: n.clone(),
                    })
                    .collect();
                let mut nets = Vec::new();
                for n in &v.networks {
                    let nid = inner.new_id();
                    inner.networks.insert(
                        nid,
                        Network {
                            id: nid,
                            org,
                            vdc: vid,
                            name: n.name.clone(),
                            gateway: n.gateway,
                            netmask: n.netmask,
                            dns: n.dns.clone(),
                            ranges: n.ip_ranges.iter().map(|r| (r.start, r.end)).collect(),
                            allocated: Default::default(),
                        },
                    );
                    nets.push(nid);
                }
                inner.vdcs.insert(
                    vid,
                    Vdc {
                        id: vid,
                        org,
                        name: v.name.clone(),
                        description: String::new(),
                        storage_profiles: profiles,
                        networks: nets,
                    },
                );
            }
            let owner = first_user.unwrap_or_default();
            for c in &o.catalogs {
                let cid = inner.new_id();
                inner.catalogs.insert(
                    cid,
                    Catalog {
                        id: cid,
                        org,
                        name: c.name.clone(),
                        description: c.description.clone(),
                        published: c.published,
                        owner,
                        created: Utc::now(),
                        version: 1,
                        items: Vec::new(),
                    },
                );
            }
        }
        for vc in &world.vcenters {
            let id = inner.new_id();
            let uuid = inner.new_id();
            inner.vcenters.insert(
                id,
                VimServer {
                    id,
                    name: vc.name.clone(),
                    url: vc
                        .url
                        .clone()
                        .unwrap_or_else(|| "https://127.0.0.1:443".into()),
                    username: vc.username.clone(),
                    password: vc.password.clone(),
                    uuid,
                    version: "6.5.0".into(),
                },
            );
        }
        inner
    }

    /// The time scale of tasks and delays.
    pub fn clock(&self) -> Clock {
        self.config.clock.clone()
    }

    /// The settings the simulator was built with.
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// Read access to the whole state (inspection by tests and the REST layer).
    pub fn read(&self) -> parking_lot::RwLockReadGuard<'_, Inner> {
        self.inner.read()
    }

    /// Sets how long tasks live from their start (`expiryTime`; vCD's
    /// default is 90 days): ended tasks past it are destroyed as new tasks
    /// are made, as vCD destroys them. Long runs of the simulator set it
    /// short so that its memory does not grow with the task history.
    pub fn set_task_lifetime(&self, lifetime: std::time::Duration) {
        self.inner.write().task_lifetime =
            chrono::Duration::from_std(lifetime).unwrap_or(tasks::DEFAULT_TASK_LIFETIME);
    }

    /// Sets the URL vCD shows for a registered vCenter (the address `serve`
    /// really listens on).
    pub fn set_vcenter_url(&self, name: &str, url: &str) -> bool {
        let mut g = self.inner.write();
        match g.vcenters.values_mut().find(|v| v.name == name) {
            Some(v) => {
                v.url = url.to_string();
                true
            }
            None => false,
        }
    }

    // ----- sessions -----

    /// `POST /api/sessions`: user and org names are case-insensitive.
    pub fn login(&self, org: &str, user: &str, password: &str) -> SimResult<(String, Caller)> {
        let mut g = self.inner.write();
        let bad = || SimError::Unauthorized("Invalid credentials".into());
        let org_id = g
            .orgs
            .values()
            .find(|o| o.name.eq_ignore_ascii_case(org))
            .map(|o| o.id)
            .ok_or_else(bad)?;
        let user_id = g
            .users
            .values()
            .find(|u| {
                u.org == org_id && u.name.eq_ignore_ascii_case(user) && u.password == password
            })
            .map(|u| u.id)
            .ok_or_else(bad)?;
        let caller = g.caller_for(user_id)?;
        let token = g.open_session(user_id);
        Ok((token, caller))
    }

    /// The caller holding a token.
    pub fn session(&self, token: &str) -> SimResult<Caller> {
        let g = self.inner.read();
        let s = g
            .sessions
            .get(token)
            .ok_or_else(|| SimError::Unauthorized("This operation is denied.".into()))?;
        g.caller_for(s.user)
    }

    /// A session for a user who proved who they are another way (an API
    /// token exchanged at `/oauth/.../token`).
    pub fn login_user(&self, user: Id) -> SimResult<(String, Caller)> {
        let mut g = self.inner.write();
        let caller = g.caller_for(user)?;
        let token = g.open_session(user);
        Ok((token, caller))
    }

    /// Ends the session of `token`; false when there was none.
    pub fn logout(&self, token: &str) -> bool {
        self.inner.write().sessions.remove(token).is_some()
    }

    // ----- inspection (read-only, for tests of other crates) -----

    /// Every VM of every vApp: (vApp name, VM name, moref, status).
    pub fn vms(&self) -> Vec<VmSummary> {
        let g = self.inner.read();
        g.vms
            .values()
            .filter_map(|vm| match vm.parent {
                VmParent::VApp(v) => Some(VmSummary {
                    id: vm.id,
                    vapp: g.vapps.get(&v).map(|a| a.name.clone()).unwrap_or_default(),
                    name: vm.name.clone(),
                    moref: vm.moref.clone(),
                    status: vm.status(),
                    ip: vm.primary_ip(),
                    cpus: vm.cpus,
                    memory_mb: vm.memory_mb,
                    admin_password: vm.customization.admin_password.clone(),
                }),
                VmParent::Template(_) => None,
            })
            .collect()
    }

    /// Number of VMs of the vApp with this name (None if no such vApp).
    pub fn vm_count(&self, vapp_name: &str) -> Option<usize> {
        let g = self.inner.read();
        g.vapps
            .values()
            .find(|v| v.name == vapp_name)
            .map(|v| v.vms.len())
    }

    /// Names of all vApps.
    pub fn vapp_names(&self) -> Vec<String> {
        self.inner
            .read()
            .vapps
            .values()
            .map(|v| v.name.clone())
            .collect()
    }

    /// How many entities and tasks requests have examined since the start:
    /// compare two readings to see the work of the requests in between.
    pub fn work(&self) -> index::Work {
        self.inner.read().work.read()
    }

    /// Every task in creation order: (operation name, status).
    pub fn task_list(&self) -> Vec<TaskSummary> {
        let g = self.inner.read();
        g.task_order
            .iter()
            .filter_map(|id| g.tasks.get(id))
            .map(|t| TaskSummary {
                id: t.id,
                operation_name: t.operation_name.clone(),
                operation: t.operation.clone(),
                status: t.status,
                error: t.error.as_ref().map(|e| e.message.clone()),
                terminal_updates: t.terminal_updates,
            })
            .collect()
    }

    /// The status of task `id`, if it exists (a cheap look for harnesses
    /// watching many tasks).
    pub fn task_status(&self, id: Id) -> Option<TaskStatus> {
        self.inner.read().tasks.get(&id).map(|t| t.status)
    }

    /// Metadata of the vApp with this name: key → value.
    pub fn vapp_metadata(&self, vapp_name: &str) -> Option<BTreeMap<String, String>> {
        let g = self.inner.read();
        let v = g.vapps.values().find(|v| v.name == vapp_name)?;
        Some(
            g.metadata
                .get(&EntityRef::VApp(v.id))
                .map(|m| {
                    m.values()
                        .map(|e| (e.key.clone(), e.value.clone()))
                        .collect()
                })
                .unwrap_or_default(),
        )
    }

    /// Registered extension services: (name, namespace, enabled, exchange, routing key).
    pub fn extension_services(&self) -> Vec<ExtensionService> {
        self.inner.read().services.values().cloned().collect()
    }

    /// Allocated addresses of an org network by name.
    pub fn allocated_ips(&self, network_name: &str) -> Vec<Ipv4Addr> {
        let g = self.inner.read();
        g.networks
            .values()
            .filter(|n| n.name == network_name)
            .flat_map(|n| n.allocated.iter().copied())
            .collect()
    }
}

/// A VM as tests see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmSummary {
    /// The VM's id.
    pub id: Id,
    /// Name of its vApp.
    pub vapp: String,
    /// The VM's name.
    pub name: String,
    /// vCenter moref, once the VM exists there.
    pub moref: Option<String>,
    /// vCD status code (0 unresolved, 3 suspended, 4 on, 8 off).
    pub status: i32,
    /// Primary address.
    pub ip: Option<Ipv4Addr>,
    /// Virtual CPUs.
    pub cpus: u32,
    /// Memory in MB.
    pub memory_mb: u64,
    /// The guest customization's admin password (tests log in with it).
    pub admin_password: String,
}

/// A task as tests see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskSummary {
    /// The task's id.
    pub id: Id,
    /// Operation name (`vdcInstantiateVapp`, ...).
    pub operation_name: String,
    /// Human-readable description.
    pub operation: String,
    /// Status.
    pub status: TaskStatus,
    /// The error message of a failed task.
    pub error: Option<String>,
    /// How many updates gave it a terminal status (see `Task::terminal_updates`).
    pub terminal_updates: u32,
}

/// A transfer (upload URL) id: the URL is the credential, so it comes from
/// the CSPRNG, outside the seeded sequence of ids.
pub(crate) fn transfer_id() -> Uuid {
    secret::uuid()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::guests::RecordingGuests;

    fn sim(seed: u64) -> Arc<Sim> {
        let mut w = World::default_world();
        w.seed = seed;
        Sim::new(&w, Arc::new(RecordingGuests::new()), SimConfig::default())
    }

    #[test]
    fn the_session_table_is_bounded() {
        let s = sim(1);
        let (first, _) = s.login("acme", "alice", "alice-pw").unwrap();
        for _ in 0..MAX_SESSIONS + 10 {
            s.login("acme", "bob", "bob-pw").unwrap();
        }
        assert_eq!(s.read().sessions.len(), MAX_SESSIONS);
        assert!(s.session(&first).is_err(), "the oldest session ended");
    }

    #[test]
    fn the_same_seed_gives_the_same_world_but_not_the_same_tokens() {
        let (a, b, c) = (sim(1), sim(1), sim(2));
        let ids = |s: &Sim| s.read().orgs.keys().copied().collect::<Vec<_>>();
        assert_eq!(ids(&a), ids(&b));
        assert_ne!(ids(&a), ids(&c));
        let tokens = |s: &Sim| {
            (0..5)
                .map(|_| s.login("acme", "alice", "alice-pw").unwrap().0)
                .collect::<Vec<_>>()
        };
        let (ta, tb) = (tokens(&a), tokens(&b));
        for (x, y) in ta.iter().zip(&tb) {
            assert_ne!(x, y, "tokens never follow the seed");
        }
        assert_eq!(
            ids(&a),
            ids(&b),
            "logins do not move the seeded sequence of ids"
        );
        let names = |s: &Sim| {
            s.read()
                .users
                .values()
                .map(|u| u.full_name.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&a), names(&b));
    }

    #[test]
    fn pool_addresses_are_handed_out_and_returned() {
        let s = sim(3);
        let mut g = s.inner.write();
        let net = *g.networks.keys().next().unwrap();
        let first = g.allocate_ip(net).unwrap();
        let second = g.allocate_ip(net).unwrap();
        assert_ne!(first, second);
        g.release_ip(Some(net), Some(first));
        assert_eq!(
            g.allocate_ip(net).unwrap(),
            first,
            "the lowest free address comes back"
        );
        // exhaust the pool: a clear error, not a panic
        let err = (0..1000).find_map(|_| g.allocate_ip(net).err()).unwrap();
        assert!(
            err.to_string().contains("No IP addresses available"),
            "{err}"
        );
    }

    #[test]
    fn bad_logins_are_unauthorized() {
        let s = sim(4);
        assert!(matches!(
            s.login("acme", "alice", "nope"),
            Err(SimError::Unauthorized(_))
        ));
        assert!(matches!(
            s.login("nowhere", "alice", "alice-pw"),
            Err(SimError::Unauthorized(_))
        ));
        assert!(matches!(
            s.session("not-a-token"),
            Err(SimError::Unauthorized(_))
        ));
    }
}
