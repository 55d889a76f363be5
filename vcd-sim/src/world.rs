//! The simulated world a simulator starts from: orgs, users, VDCs with storage
//! profiles and networks, catalogs, vCenters and AMQP settings, read from a
//! YAML file or built in ([`World::default_world`]). Everything the simulator
//! generates later (ids, tokens, passwords, MACs) is derived from `seed`.

use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;
use std::path::Path;

/// Why a world file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    #[error("cannot read world file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("world file {path} is not valid YAML for a world: {source}")]
    Parse {
        path: String,
        source: serde_yaml::Error,
    },
    #[error("invalid world: {0}")]
    Invalid(String),
}

/// A user's role, as the three built-in vCD roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleName {
    SystemAdministrator,
    OrgAdministrator,
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

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorldUser {
    pub name: String,
    pub password: String,
    pub role: RoleName,
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpRange {
    pub start: Ipv4Addr,
    pub end: Ipv4Addr,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorldNetwork {
    pub name: String,
    pub gateway: Ipv4Addr,
    pub netmask: Ipv4Addr,
    #[serde(default)]
    pub dns: Vec<Ipv4Addr>,
    pub ip_ranges: Vec<IpRange>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorldVdc {
    pub name: String,
    #[serde(default = "default_profiles")]
    pub storage_profiles: Vec<String>,
    #[serde(default)]
    pub networks: Vec<WorldNetwork>,
}

fn default_profiles() -> Vec<String> {
    vec!["*".to_string()]
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorldCatalog {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub published: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorldOrg {
    pub name: String,
    #[serde(default)]
    pub full_name: Option<String>,
    #[serde(default)]
    pub users: Vec<WorldUser>,
    #[serde(default)]
    pub vdcs: Vec<WorldVdc>,
    #[serde(default)]
    pub catalogs: Vec<WorldCatalog>,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorldVcenter {
    pub name: String,
    pub username: String,
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

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorldAmqp {
    pub host: String,
    pub port: u16,
    pub username: String,
    pub password: String,
    pub exchange: String,
    pub vhost: String,
    #[serde(default)]
    pub use_ssl: bool,
    #[serde(default)]
    pub ssl_accept_all: bool,
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
    #[serde(default)]
    pub seed: u64,
    /// Users of the `System` org (system administrators).
    pub system_users: Vec<WorldUser>,
    pub orgs: Vec<WorldOrg>,
    #[serde(default)]
    pub vcenters: Vec<WorldVcenter>,
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
        let net = |third: u8| WorldNetwork {
            name: "net1".into(),
            gateway: Ipv4Addr::new(10, 0, third, 1),
            netmask: Ipv4Addr::new(255, 255, 255, 0),
            dns: vec![Ipv4Addr::new(10, 0, third, 2)],
            ip_ranges: vec![IpRange {
                start: Ipv4Addr::new(10, 0, third, 10),
                end: Ipv4Addr::new(10, 0, third, 200),
            }],
        };
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
}
