//! The simulated world a simulator starts from: orgs, users, VDCs with storage
//! profiles and networks, catalogs, vCenters and AMQP settings, read from a
//! YAML file or built in ([`World::default_world`]). Everything the simulator
//! generates later (ids, tokens, passwords, MACs) is derived from `seed`.
//! [`World::generated`] builds a large world from a seed for scale tests.

use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;
use std::path::Path;

/// Why a world file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    /// The world file could not be read.
    #[error("cannot read world file {path}: {source}")]
    Read {
        /// The file's path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not YAML, or not the shape of a world.
    #[error("world file {path} is not valid YAML for a world: {source}")]
    Parse {
        /// The file's path.
        path: String,
        /// The YAML error (with line and column).
        source: serde_yaml::Error,
    },
    /// The world breaks a rule (a duplicate org, no system user, a reversed range, ...).
    #[error("invalid world: {0}")]
    Invalid(String),
    /// A `--world` argument that is neither a file nor `generated:SEED:ORGS`.
    #[error(
        "bad world source '{given}': {reason} (expected a YAML file path or generated:SEED:ORGS)"
    )]
    Source {
        /// The argument.
        given: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Where a simulator's world comes from: `vcd-sim serve --world` takes a
/// YAML file path or `generated:SEED:ORGS` ([`World::generated`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorldSource {
    /// A YAML world file.
    File(std::path::PathBuf),
    /// [`World::generated`] with this seed and number of tenant orgs.
    Generated {
        /// Seed of the generator.
        seed: u64,
        /// Tenant orgs, acme included.
        tenant_orgs: usize,
    },
}

impl std::str::FromStr for WorldSource {
    type Err = WorldError;

    /// `generated:SEED:ORGS` (ORGS from 1 to [`World::MAX_GENERATED_ORGS`]),
    /// anything else is a file path.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let Some(spec) = text.strip_prefix("generated:") else {
            return Ok(WorldSource::File(text.into()));
        };
        let bad = |reason: &str| WorldError::Source {
            given: text.to_string(),
            reason: reason.to_string(),
        };
        let (seed, orgs) = spec
            .split_once(':')
            .ok_or_else(|| bad("SEED and ORGS are both needed"))?;
        let seed = seed
            .parse::<u64>()
            .map_err(|_| bad("SEED is not a whole number (0 to 2^64-1)"))?;
        let tenant_orgs = orgs
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=World::MAX_GENERATED_ORGS).contains(n))
            .ok_or_else(|| bad("ORGS is not a whole number from 1 to 65536"))?;
        Ok(WorldSource::Generated { seed, tenant_orgs })
    }
}

impl WorldSource {
    /// Reads (and checks) or generates the world.
    pub fn load(&self) -> Result<World, WorldError> {
        match self {
            WorldSource::File(path) => World::from_file(path),
            WorldSource::Generated { seed, tenant_orgs } => {
                let world = World::generated(*seed, *tenant_orgs);
                world.validate()?;
                Ok(world)
            }
        }
    }
}

/// A user's role, as the three built-in vCD roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleName {
    /// Provider administrator (members of the `System` org).
    SystemAdministrator,
    /// Administrator of one org.
    OrgAdministrator,
    /// A tenant user without administration rights.
    TenantUser,
}

impl RoleName {
    /// vCD's display name of the role (`Session@roles`).
    pub fn display(&self) -> &'static str {
        match self {
            RoleName::SystemAdministrator => "System Administrator",
            RoleName::OrgAdministrator => "Organization Administrator",
            RoleName::TenantUser => "vApp User",
        }
    }
}

/// A user of the world. `Debug` hides the password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorldUser {
    /// Login name.
    pub name: String,
    /// Login password.
    pub password: String,
    /// Role.
    pub role: RoleName,
    /// Display name.
    #[serde(default)]
    pub full_name: Option<String>,
}

impl std::fmt::Debug for WorldUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorldUser")
            .field("name", &self.name)
            .field("password", &"***")
            .field("role", &self.role)
            .finish()
    }
}

/// A range of pool addresses, both ends included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpRange {
    /// First address.
    pub start: Ipv4Addr,
    /// Last address.
    pub end: Ipv4Addr,
}

/// An org VDC network with a static pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorldNetwork {
    /// Name, unique within the org.
    pub name: String,
    /// Gateway address.
    pub gateway: Ipv4Addr,
    /// Netmask.
    pub netmask: Ipv4Addr,
    /// DNS servers handed to guests.
    #[serde(default)]
    pub dns: Vec<Ipv4Addr>,
    /// Static IP pool.
    pub ip_ranges: Vec<IpRange>,
}

/// An org VDC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorldVdc {
    /// Name, unique within the org.
    pub name: String,
    /// Storage profile names (default: one, `*`).
    #[serde(default = "default_profiles")]
    pub storage_profiles: Vec<String>,
    /// Its networks.
    #[serde(default)]
    pub networks: Vec<WorldNetwork>,
}

fn default_profiles() -> Vec<String> {
    vec!["*".to_string()]
}

/// A catalog created empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorldCatalog {
    /// Name, unique within the org.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Shared with other orgs.
    #[serde(default)]
    pub published: bool,
}

/// An organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorldOrg {
    /// Short name (`acme`), used in logins.
    pub name: String,
    /// Display name.
    #[serde(default)]
    pub full_name: Option<String>,
    /// Its users.
    #[serde(default)]
    pub users: Vec<WorldUser>,
    /// Its VDCs.
    #[serde(default)]
    pub vdcs: Vec<WorldVdc>,
    /// Its catalogs.
    #[serde(default)]
    pub catalogs: Vec<WorldCatalog>,
}

/// A vCenter registered in vCD. `Debug` hides the password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorldVcenter {
    /// Name as vCD shows it.
    pub name: String,
    /// User vCD logs in with.
    pub username: String,
    /// That user's password.
    pub password: String,
    /// The URL vCD shows; `serve` replaces it with the address it listens on.
    #[serde(default)]
    pub url: Option<String>,
}

impl std::fmt::Debug for WorldVcenter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorldVcenter")
            .field("name", &self.name)
            .field("username", &self.username)
            .field("password", &"***")
            .field("url", &self.url)
            .finish()
    }
}

/// vCD's AMQP settings as the world starts with them. `Debug` hides the password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorldAmqp {
    /// Broker host.
    pub host: String,
    /// Broker port.
    pub port: u16,
    /// Broker user.
    pub username: String,
    /// Broker password.
    pub password: String,
    /// Exchange of extension requests.
    pub exchange: String,
    /// Virtual host.
    pub vhost: String,
    /// Whether vCD connects with TLS.
    #[serde(default)]
    pub use_ssl: bool,
    /// Whether vCD accepts any broker certificate.
    #[serde(default)]
    pub ssl_accept_all: bool,
    /// Prefix of the AMQP names vCD uses.
    pub prefix: String,
}

impl std::fmt::Debug for WorldAmqp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorldAmqp")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &"***")
            .field("exchange", &self.exchange)
            .finish()
    }
}

impl Default for WorldAmqp {
    fn default() -> Self {
        WorldAmqp {
            host: "127.0.0.1".into(),
            port: 5672,
            username: "guest".into(),
            password: "guest".into(),
            exchange: "vcdext".into(),
            vhost: "/".into(),
            use_ssl: false,
            ssl_accept_all: false,
            prefix: "vcd".into(),
        }
    }
}

/// The whole world description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct World {
    /// Seed of ids and generated names; never of tokens, passwords or transfer URLs.
    #[serde(default)]
    pub seed: u64,
    /// Users of the `System` org (system administrators).
    pub system_users: Vec<WorldUser>,
    /// Tenant organizations.
    pub orgs: Vec<WorldOrg>,
    /// Registered vCenters.
    #[serde(default)]
    pub vcenters: Vec<WorldVcenter>,
    /// vCD's AMQP settings.
    #[serde(default)]
    pub amqp: WorldAmqp,
}

impl World {
    /// Reads and checks a YAML world file.
    pub fn from_file(path: &Path) -> Result<World, WorldError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| WorldError::Read {
            path: shown.clone(),
            source,
        })?;
        let world: World = serde_yaml::from_str(&text).map_err(|source| WorldError::Parse {
            path: shown,
            source,
        })?;
        world.validate()?;
        Ok(world)
    }

    /// Parses a YAML world from text.
    pub fn from_yaml(text: &str) -> Result<World, WorldError> {
        let world: World = serde_yaml::from_str(text).map_err(|source| WorldError::Parse {
            path: "<text>".into(),
            source,
        })?;
        world.validate()?;
        Ok(world)
    }

    /// Checks names are unique and the world has what vCD needs.
    pub fn validate(&self) -> Result<(), WorldError> {
        if self.system_users.is_empty() {
            return Err(WorldError::Invalid(
                "at least one system user is needed".into(),
            ));
        }
        if self
            .system_users
            .iter()
            .any(|u| u.role != RoleName::SystemAdministrator)
        {
            return Err(WorldError::Invalid(
                "system users must have role system_administrator".into(),
            ));
        }
        let mut names = std::collections::BTreeSet::new();
        for org in &self.orgs {
            if org.name.eq_ignore_ascii_case("system") {
                return Err(WorldError::Invalid(
                    "the System org is built in; list its users under system_users".into(),
                ));
            }
            if !names.insert(org.name.to_ascii_lowercase()) {
                return Err(WorldError::Invalid(format!(
                    "org '{}' is listed twice",
                    org.name
                )));
            }
            if org
                .users
                .iter()
                .any(|u| u.role == RoleName::SystemAdministrator)
            {
                return Err(WorldError::Invalid(format!(
                    "org '{}': only System org users can be system administrators",
                    org.name
                )));
            }
            for vdc in &org.vdcs {
                if vdc.storage_profiles.is_empty() {
                    return Err(WorldError::Invalid(format!(
                        "VDC '{}' has no storage profile",
                        vdc.name
                    )));
                }
                for net in &vdc.networks {
                    for r in &net.ip_ranges {
                        if u32::from(r.start) > u32::from(r.end) {
                            return Err(WorldError::Invalid(format!(
                                "network '{}': range {}-{} is reversed",
                                net.name, r.start, r.end
                            )));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Most tenant orgs [`World::generated`] makes (one /24 each in 10/8).
    pub const MAX_GENERATED_ORGS: usize = 1 << 16;

    /// A world for scale tests: the built-in world's system administrator,
    /// vCenter and AMQP settings, `acme` exactly as in
    /// [`World::default_world`] (alice, bob, the published `cse` catalog),
    /// then `tenant_orgs - 1` generated orgs (at least `acme`, at most
    /// [`World::MAX_GENERATED_ORGS`] in all). Everything generated follows
    /// from `seed` (also the world's seed):
    /// - org `N` (1-based after acme) is named `<company-slug>-<N>` (lowercase
    ///   letters, digits and dashes; unique by the index), with the company
    ///   name as its full name;
    /// - it has one organization administrator `<first>.<last>` (password
    ///   `<user>-pw`), VDC `vdc1` with the `*` profile and a pooled network
    ///   `net1` on `10.X.Y.0/24` with `X.Y` = `N` (acme has `10.0.0.0/24`).
    pub fn generated(seed: u64, tenant_orgs: usize) -> World {
        use fake::Fake;
        use fake::faker::company::en::CompanyName;
        use fake::faker::name::en::{FirstName, LastName};
        use rand::SeedableRng as _;

        let mut world = World::default_world();
        world.seed = seed;
        world.orgs.retain(|o| o.name == "acme");
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let count = tenant_orgs.clamp(1, Self::MAX_GENERATED_ORGS);
        for index in 1..count {
            let company: String = CompanyName().fake_with_rng(&mut rng);
            let first: String = FirstName().fake_with_rng(&mut rng);
            let last: String = LastName().fake_with_rng(&mut rng);
            let user = format!("{}.{}", slug(&first, "user"), slug(&last, "admin"));
            // index < 2^16, so the two octets below name distinct /24s.
            let [_, _, high, low] = (index as u32).to_be_bytes();
            world.orgs.push(WorldOrg {
                name: format!("{}-{index}", slug(&company, "org")),
                full_name: Some(company),
                users: vec![WorldUser {
                    password: format!("{user}-pw"),
                    name: user,
                    role: RoleName::OrgAdministrator,
                    full_name: Some(format!("{first} {last}")),
                }],
                vdcs: vec![WorldVdc {
                    name: "vdc1".into(),
                    storage_profiles: default_profiles(),
                    networks: vec![pooled_network("net1", high, low)],
                }],
                catalogs: vec![],
            });
        }
        world
    }

    /// The built-in world: System (administrator), `acme` (alice: org admin,
    /// bob: tenant user) and `beta` (carol), one VDC with a `*` profile and a
    /// pooled network each, a published `cse` catalog in acme, vCenter `vc1`.
    pub fn default_world() -> World {
        let user = |name: &str, password: &str, role| WorldUser {
            name: name.into(),
            password: password.into(),
            role,
            full_name: None,
        };
        let net = |third: u8| pooled_network("net1", 0, third);
        World {
            seed: 42,
            system_users: vec![user(
                "administrator",
                "vmware-sim-admin",
                RoleName::SystemAdministrator,
            )],
            orgs: vec![
                WorldOrg {
                    name: "acme".into(),
                    full_name: Some("Acme Corporation".into()),
                    users: vec![
                        user("alice", "alice-pw", RoleName::OrgAdministrator),
                        user("bob", "bob-pw", RoleName::TenantUser),
                    ],
                    vdcs: vec![WorldVdc {
                        name: "vdc1".into(),
                        storage_profiles: vec!["*".into(), "gold".into()],
                        networks: vec![net(0)],
                    }],
                    catalogs: vec![WorldCatalog {
                        name: "cse".into(),
                        description: "CSE templates".into(),
                        published: true,
                    }],
                },
                WorldOrg {
                    name: "beta".into(),
                    full_name: Some("Beta Labs".into()),
                    users: vec![user("carol", "carol-pw", RoleName::OrgAdministrator)],
                    vdcs: vec![WorldVdc {
                        name: "vdc1".into(),
                        storage_profiles: vec!["*".into()],
                        networks: vec![net(1)],
                    }],
                    catalogs: vec![],
                },
            ],
            vcenters: vec![WorldVcenter {
                name: "vc1".into(),
                username: "administrator@vsphere.local".into(),
                password: "vc-sim-pw".into(),
                url: None,
            }],
            amqp: WorldAmqp::default(),
        }
    }
}

/// A network on `10.second.third.0/24`: gateway `.1`, DNS `.2`, pool `.10`–`.200`.
fn pooled_network(name: &str, second: u8, third: u8) -> WorldNetwork {
    let at = |last: u8| Ipv4Addr::new(10, second, third, last);
    WorldNetwork {
        name: name.into(),
        gateway: at(1),
        netmask: Ipv4Addr::new(255, 255, 255, 0),
        dns: vec![at(2)],
        ip_ranges: vec![IpRange {
            start: at(10),
            end: at(200),
        }],
    }
}

/// Lowercase ASCII letters and digits of `text`, words joined by `-`, at most
/// 24 characters; `fallback` when nothing is left.
fn slug(text: &str, fallback: &str) -> String {
    let mut out = String::new();
    for word in text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if out.len() + word.len() + 1 > 24 && !out.is_empty() {
            break;
        }
        if !out.is_empty() {
            out.push('-');
        }
        out.extend(word.chars().take(24).map(|c| c.to_ascii_lowercase()));
    }
    if out.is_empty() {
        fallback.to_string()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_world_round_trips_through_yaml() {
        let w = World::default_world();
        let text = serde_yaml::to_string(&w).unwrap();
        assert_eq!(World::from_yaml(&text).unwrap(), w);
    }

    #[test]
    fn duplicate_orgs_are_refused() {
        let mut w = World::default_world();
        w.orgs.push(w.orgs[0].clone());
        assert!(matches!(w.validate(), Err(WorldError::Invalid(m)) if m.contains("twice")));
    }

    #[test]
    fn bad_yaml_names_the_problem() {
        let err = World::from_yaml("orgs: 3").unwrap_err();
        assert!(err.to_string().contains("not valid YAML"), "{err}");
    }

    #[test]
    fn debug_hides_passwords() {
        let w = World::default_world();
        let shown = format!("{w:?}");
        assert!(!shown.contains("alice-pw") && !shown.contains("vc-sim-pw"));
    }

    fn is_identifier(name: &str) -> bool {
        name.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && !name.ends_with('-')
    }

    #[test]
    fn generated_world_keeps_the_default_system_side_and_acme() {
        let base = World::default_world();
        let w = World::generated(7, 5);
        assert_eq!(w.seed, 7);
        assert_eq!(w.system_users, base.system_users);
        assert_eq!(w.vcenters, base.vcenters);
        assert_eq!(w.amqp, base.amqp);
        assert_eq!(w.orgs.len(), 5);
        assert_eq!(w.orgs[0], base.orgs[0]);
        assert!(w.orgs.iter().all(|o| o.name != "beta"));
        w.validate().unwrap();
    }

    #[test]
    fn generated_world_is_deterministic_for_a_seed() {
        assert_eq!(World::generated(11, 30), World::generated(11, 30));
        assert_ne!(World::generated(11, 30), World::generated(12, 30));
        // A bigger world extends a smaller one of the same seed.
        assert_eq!(
            World::generated(11, 30).orgs[..10],
            World::generated(11, 10).orgs[..]
        );
    }

    #[test]
    fn generated_orgs_have_an_admin_a_vdc_and_their_own_network() {
        let w = World::generated(3, 300);
        let mut ranges = std::collections::BTreeSet::new();
        for org in &w.orgs {
            let net = &org.vdcs[0].networks[0];
            assert!(
                ranges.insert(net.gateway),
                "{} reuses {}",
                org.name,
                net.gateway
            );
        }
        for org in &w.orgs[1..] {
            assert!(is_identifier(&org.name), "{}", org.name);
            assert!(org.full_name.as_deref().is_some_and(|f| !f.is_empty()));
            let [admin] = &org.users[..] else {
                panic!("{} has {} users", org.name, org.users.len())
            };
            assert_eq!(admin.role, RoleName::OrgAdministrator);
            assert_eq!(admin.password, format!("{}-pw", admin.name));
            assert!(admin.full_name.is_some());
            let [vdc] = &org.vdcs[..] else {
                panic!("{} has {} VDCs", org.name, org.vdcs.len())
            };
            assert_eq!(
                (vdc.name.as_str(), &vdc.storage_profiles[..]),
                ("vdc1", &["*".to_string()][..])
            );
            assert_eq!(vdc.networks[0].name, "net1");
            assert!(org.catalogs.is_empty());
        }
        // Org 256 is the first on 10.1.x.
        assert_eq!(
            w.orgs[256].vdcs[0].networks[0].gateway,
            Ipv4Addr::new(10, 1, 0, 1)
        );
        w.validate().unwrap();
    }

    #[test]
    fn generated_world_sizes_are_clamped() {
        assert_eq!(World::generated(1, 0).orgs.len(), 1);
        assert_eq!(World::generated(1, 1).orgs.len(), 1);
    }

    #[test]
    fn generated_world_round_trips_through_yaml() {
        let w = World::generated(5, 4);
        let text = serde_yaml::to_string(&w).unwrap();
        assert_eq!(World::from_yaml(&text).unwrap(), w);
        insta::assert_snapshot!("generated_world_seed_5_four_orgs", text);
    }

    #[test]
    fn slugs_are_lowercase_words_joined_by_dashes() {
        assert_eq!(slug("Hahn, Koss and Smith", "org"), "hahn-koss-and-smith");
        assert_eq!(slug("O'Conner", "user"), "o-conner");
        assert_eq!(slug("  --  ", "org"), "org");
        assert!(slug("Abcdefghij Klmnopqrst Uvwxyzabcd", "org").len() <= 24);
    }

    #[test]
    fn world_sources_are_files_or_generated_specs() {
        use std::str::FromStr as _;
        assert_eq!(
            WorldSource::from_str("worlds/big.yaml").unwrap(),
            WorldSource::File("worlds/big.yaml".into())
        );
        let generated = WorldSource::from_str("generated:9:12").unwrap();
        assert_eq!(
            generated,
            WorldSource::Generated {
                seed: 9,
                tenant_orgs: 12
            }
        );
        assert_eq!(generated.load().unwrap(), World::generated(9, 12));
        for bad in [
            "generated:9",
            "generated:x:3",
            "generated:9:0",
            "generated:9:-1",
            "generated:9:65537",
        ] {
            let err = WorldSource::from_str(bad).unwrap_err().to_string();
            assert!(
                err.contains(bad) && err.contains("generated:SEED:ORGS"),
                "{err}"
            );
        }
        let missing = WorldSource::File("/nonexistent/world.yaml".into()).load();
        assert!(matches!(missing, Err(WorldError::Read { .. })));
    }

    proptest::proptest! {
        #[test]
        fn any_generated_world_is_valid_with_unique_org_names(seed in proptest::prelude::any::<u64>(), orgs in 1usize..60) {
            let w = World::generated(seed, orgs);
            proptest::prop_assert_eq!(w.orgs.len(), orgs);
            proptest::prop_assert!(w.validate().is_ok());
            let names: std::collections::BTreeSet<&str> = w.orgs.iter().map(|o| o.name.as_str()).collect();
            proptest::prop_assert_eq!(names.len(), orgs);
            proptest::prop_assert!(w.orgs[1..].iter().all(|o| is_identifier(&o.name)));
        }
    }
}
