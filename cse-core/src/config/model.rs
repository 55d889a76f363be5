//! The typed `config.yaml` model: the five sections of CSE 1.2.x (`amqp`, `vcd`,
//! `vcs`, `service`, `broker`) with their original keys, plus the optional keys and
//! sections added by CSE-RS. Field order is alphabetical so serialisation writes
//! keys sorted, as the original `cse sample` did.

use serde::{Deserialize, Serialize};

use super::limits::Limits;
use super::secret::Secret;
use super::timeouts::Timeouts;

/// A whole, validated configuration file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Broker connection and the exchange/routing key vCD publishes to.
    /// Required unless `mqtt` is given; with `mqtt` it is not used (an
    /// MQTT-only file leaves it at [`AmqpConfig::default`], which nothing
    /// connects to: see [`Config::transport`]).
    #[serde(default)]
    pub amqp: AmqpConfig,
    /// vCD endpoint and system-administrator credentials.
    pub vcd: VcdConfig,
    /// vCenter service accounts, keyed by the name the vCenter is registered under in vCD.
    pub vcs: Vec<VcenterConfig>,
    /// Server behaviour.
    pub service: ServiceConfig,
    /// Where templates are built and which templates exist.
    pub broker: BrokerConfig,
    /// Deadlines for every wait (optional section, new in CSE-RS).
    #[serde(default)]
    pub timeouts: Timeouts,
    /// Bounds on what a request may ask for (optional section, new in CSE-RS).
    #[serde(default)]
    pub limits: Limits,
    /// vCD's MQTT extension bus (vCD 10.2+; optional section, new in
    /// CSE-RS). When present, requests come over MQTT and the `amqp`
    /// section is not used for serving.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mqtt: Option<MqttConfig>,
}

/// Section `mqtt`: the MQTT API extension CSE registers and logs in as.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttConfig {
    /// Extension vendor (`vendor/name/version` is the extension's identity
    /// and its MQTT user name).
    pub vendor: String,
    /// Extension name.
    pub name: String,
    /// Extension version.
    pub version: String,
    /// The extension's API token of type `EXTENSION` (its MQTT password),
    /// inline. Empty when the token is kept in a file (`token_file`).
    #[serde(default)]
    pub token: Secret,
    /// The file holding the EXTENSION token (new): `cse install` writes it
    /// (0600, its directory 0700) and the server reads it. Relative paths
    /// are taken from the config file's directory. Unset and no inline
    /// `token`: [`DEFAULT_MQTT_TOKEN_FILE`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_file: Option<String>,
}

/// Where the EXTENSION token is kept when the `mqtt` section names neither
/// `token` nor `token_file`: in the server's private state directory.
pub const DEFAULT_MQTT_TOKEN_FILE: &str = "cse-state/mqtt-token";

/// How requests reach the server: the section that decides it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport<'a> {
    /// RabbitMQ (the `amqp` section; vCD's AMQP extension routing, 1.2.x).
    Amqp(&'a AmqpConfig),
    /// vCD's MQTT extension bus (the `mqtt` section; vCD 10.2+).
    Mqtt(&'a MqttConfig),
}

/// Where an MQTT extension's EXTENSION token comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MqttTokenSource {
    /// `mqtt.token`, inline in the config file.
    Inline,
    /// A file (`mqtt.token_file` or the default), resolved against the
    /// config file's directory.
    File(std::path::PathBuf),
}

impl MqttConfig {
    /// Where the token is read from (and `cse install` writes it): inline
    /// when `token` is set, else `token_file` (default
    /// [`DEFAULT_MQTT_TOKEN_FILE`]) relative to `config_file`'s directory.
    pub fn token_source(&self, config_file: &std::path::Path) -> MqttTokenSource {
        if !self.token.expose().is_empty() {
            return MqttTokenSource::Inline;
        }
        let file = self
            .token_file
            .as_deref()
            .unwrap_or(DEFAULT_MQTT_TOKEN_FILE);
        let path = std::path::Path::new(file);
        if path.is_absolute() {
            MqttTokenSource::File(path.to_path_buf())
        } else {
            let dir = config_file
                .parent()
                .unwrap_or_else(|| std::path::Path::new(""));
            MqttTokenSource::File(dir.join(path))
        }
    }

    /// `vendor/name/version`: the MQTT user name and the token owner's name.
    pub fn triplet(&self) -> String {
        format!("{}/{}/{}", self.vendor, self.name, self.version)
    }

    /// `urn:vcloud:extension-api:<vendor>:<name>:<version>`.
    pub fn urn(&self) -> String {
        format!(
            "urn:vcloud:extension-api:{}:{}:{}",
            self.vendor, self.name, self.version
        )
    }

    /// The topic vCD publishes requests on.
    pub fn monitor_topic(&self) -> String {
        format!("topic/extension/{}/ext", self.triplet())
    }

    /// The topic responses go to.
    pub fn respond_topic(&self) -> String {
        format!("topic/extension/{}/vcd", self.triplet())
    }
}

/// Section `amqp`. The default (empty names, port 5672) stands for "no
/// `amqp` section" in an MQTT-only file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmqpConfig {
    /// Exchange vCD publishes extension requests to (direct, durable).
    pub exchange: String,
    /// AMQP heartbeat in seconds (new; default 10, from 1 to 300): the broker
    /// closes the connection of a process that misses two, and its
    /// unacknowledged requests go back to the queue for other replicas.
    #[serde(
        default = "default_amqp_heartbeat",
        skip_serializing_if = "is_default_amqp_heartbeat"
    )]
    pub heartbeat: u16,
    /// Broker host name or address.
    pub host: String,
    /// Broker password.
    pub password: Secret,
    /// Broker port (5672, or 5671 with TLS).
    pub port: u16,
    /// vCD AMQP settings `AmqpPrefix` (used only when configuring vCD).
    pub prefix: String,
    /// Routing key of the extension; also the queue name.
    pub routing_key: String,
    /// TLS to the broker (`amqps`); also vCD's `AmqpUseSSL`.
    pub ssl: bool,
    /// vCD's `AmqpSslAcceptAll` setting.
    pub ssl_accept_all: bool,
    /// Broker user name.
    pub username: String,
    /// Broker virtual host.
    pub vhost: String,
}

/// Section `vcd`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VcdConfig {
    /// An API token (a vCD refresh token) of the system administrator, in place
    /// of `password` (new; exactly one of the two is set). Exchanged at
    /// `/oauth/provider/token` for a bearer session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_token: Option<Secret>,
    /// API version of the system-administrator client, e.g. `29.0`, or `auto`
    /// (the highest version both vCD and CSE-RS speak).
    pub api_version: String,
    /// vCD host, with or without scheme (`https://` is added when absent).
    pub host: String,
    /// Wire logging of the sysadmin client (kept for compatibility).
    pub log: bool,
    /// Most HTTP requests this server process has open to vCD at once; more
    /// wait for a free slot (new; default 32). Also bounds the connections kept.
    #[serde(default = "default_max_concurrent_requests")]
    pub max_concurrent_requests: u32,
    /// System administrator password (`None` when `api_token` is used instead;
    /// exactly one of the two is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// vCD port; used when `host` names no port and it differs from the scheme's default.
    pub port: u16,
    /// System administrator user name (org `System`).
    pub username: String,
    /// Verify vCD's TLS certificate.
    pub verify: bool,
}

/// One entry of the `vcs` list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VcenterConfig {
    /// Name under which the vCenter is registered in vCD.
    pub name: String,
    /// Password of the guest-operations service account.
    pub password: Secret,
    /// Service account with guest-operation privileges.
    pub username: String,
    /// Verify the vCenter's TLS certificate.
    pub verify: bool,
}

/// Default of `amqp.heartbeat` (seconds).
pub const DEFAULT_AMQP_HEARTBEAT: u16 = 10;

/// Bounds of `amqp.heartbeat` (seconds): RabbitMQ's `0` (no heartbeat) is
/// refused, since a frozen replica would then keep its requests.
pub const AMQP_HEARTBEAT_RANGE: std::ops::RangeInclusive<u16> = 1..=300;

fn default_amqp_heartbeat() -> u16 {
    DEFAULT_AMQP_HEARTBEAT
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
fn is_default_amqp_heartbeat(value: &u16) -> bool {
    *value == DEFAULT_AMQP_HEARTBEAT
}

/// Default of `vcd.max_concurrent_requests`.
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: u32 = 32;

fn default_max_concurrent_requests() -> u32 {
    DEFAULT_MAX_CONCURRENT_REQUESTS
}

/// Section `service`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// Check the `{cse}:CSE NATIVE DEPLOY RIGHT` before deploying (1.2.6 key; default false).
    #[serde(default)]
    pub enforce_authorization: bool,
    /// Number of AMQP consumers (competing on the one queue).
    pub listeners: u32,
    /// Most long-running operations this process runs at once (new; default 32).
    #[serde(default = "default_max_operations")]
    pub max_operations: u32,
    /// Accepted operations waiting for one of the `max_operations` slots, taken
    /// from the orgs in turn (new; default 512). Past it requests are refused.
    #[serde(default = "default_max_queued_operations")]
    pub max_queued_operations: u32,
    /// Unacknowledged deliveries per listener (AMQP `basic_qos`; new; default 10).
    #[serde(default = "default_prefetch")]
    pub prefetch: u16,
}

/// Default of `service.max_operations`.
pub const DEFAULT_MAX_OPERATIONS: u32 = 32;
/// Default of `service.prefetch`.
pub const DEFAULT_PREFETCH: u16 = 10;

fn default_max_operations() -> u32 {
    DEFAULT_MAX_OPERATIONS
}

fn default_prefetch() -> u16 {
    DEFAULT_PREFETCH
}

/// Default of `service.max_queued_operations`.
pub const DEFAULT_MAX_QUEUED_OPERATIONS: u32 = 512;

fn default_max_queued_operations() -> u32 {
    DEFAULT_MAX_QUEUED_OPERATIONS
}

/// Section `broker`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrokerConfig {
    /// Published catalog holding the templates.
    pub catalog: String,
    /// Reserved, unused (kept for compatibility).
    pub cse_msg_dir: String,
    /// Template used when a request names none; must be listed in `templates`.
    pub default_template: String,
    /// IP allocation of the temporary vApp used to build templates.
    pub ip_allocation_mode: IpAllocationMode,
    /// Org network of the temporary vApp (needs internet access).
    pub network: String,
    /// Root password of cluster VMs (new; default `generated`): one generated by
    /// vCD for each VM, or `template`, the template's `admin_password` on every
    /// VM as in 1.2.x.
    #[serde(default)]
    pub node_root_password: NodeRootPassword,
    /// Org that owns the catalog.
    pub org: String,
    /// Storage profile of the temporary vApp (`*` for the VDC default).
    pub storage_profile: String,
    /// The templates clusters can be created from.
    pub templates: Vec<TemplateConfig>,
    /// Broker type; only `default` exists.
    #[serde(rename = "type")]
    pub broker_type: BrokerType,
    /// VDC in which templates are built.
    pub vdc: String,
}

/// `broker.node_root_password`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeRootPassword {
    /// vCD generates a password per VM at guest customization
    /// (`AdminPasswordEnabled` + `AdminPasswordAuto`); the server reads it from
    /// the VM when it needs guest operations. No two VMs share one.
    #[default]
    Generated,
    /// The 1.2.x behaviour: every VM's root password is set to the template's
    /// `admin_password`, the same on every cluster of every tenant.
    Template,
}

impl NodeRootPassword {
    /// The spelling in config files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Generated => "generated",
            Self::Template => "template",
        }
    }
}

/// `broker.type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BrokerType {
    /// The only broker CSE 1.2.5 implements.
    Default,
}

/// `broker.ip_allocation_mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IpAllocationMode {
    /// Addresses from the network's static pool.
    Pool,
    /// Addresses from DHCP.
    Dhcp,
}

impl IpAllocationMode {
    /// The spelling in config files (`pool`, `dhcp`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pool => "pool",
            Self::Dhcp => "dhcp",
        }
    }
}

/// One entry of `broker.templates`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateConfig {
    /// Root password of the template's guests (never shared with tenants).
    pub admin_password: Secret,
    /// Name of the captured template in the catalog.
    pub catalog_item: String,
    /// Delete `temp_vapp` once the template is captured.
    pub cleanup: bool,
    /// Virtual CPUs of each node.
    pub cpu: u32,
    /// Free text shown in `template list`.
    pub description: String,
    /// Memory of each node in MB.
    pub mem: u32,
    /// Unique template name.
    pub name: String,
    /// sha256 of the source OVA (64 hex characters).
    pub sha256_ova: String,
    /// URL of the source OVA.
    pub source_ova: String,
    /// Catalog item name of the uploaded OVA.
    pub source_ova_name: String,
    /// Name of the temporary vApp the template is built in.
    pub temp_vapp: String,
}

impl Config {
    /// The transport requests come over: MQTT when the `mqtt` section is
    /// given (an `amqp` section next to it is ignored, with a warning), else
    /// RabbitMQ.
    pub fn transport(&self) -> Transport<'_> {
        match &self.mqtt {
            Some(mqtt) => Transport::Mqtt(mqtt),
            None => Transport::Amqp(&self.amqp),
        }
    }

    /// Whether the file has an `amqp` section with settings (an MQTT-only
    /// file leaves it at its default).
    pub fn has_amqp_section(&self) -> bool {
        self.mqtt.is_none() || self.amqp != AmqpConfig::default()
    }

    /// The vCenter entry registered in vCD under `name`.
    pub fn vcenter(&self, name: &str) -> Option<&VcenterConfig> {
        self.vcs.iter().find(|vc| vc.name == name)
    }

    /// The template called `name`.
    pub fn template(&self, name: &str) -> Option<&TemplateConfig> {
        self.broker.template(name)
    }

    /// The default template (always present in a validated config).
    pub fn default_template(&self) -> Option<&TemplateConfig> {
        self.broker.default_template()
    }
}

impl BrokerConfig {
    /// The template called `name`.
    pub fn template(&self, name: &str) -> Option<&TemplateConfig> {
        self.templates.iter().find(|t| t.name == name)
    }

    /// The template named by `default_template`.
    pub fn default_template(&self) -> Option<&TemplateConfig> {
        self.template(&self.default_template)
    }

    /// The template named `name`, or the default one when `name` is `None`.
    pub fn template_or_default(&self, name: Option<&str>) -> Option<&TemplateConfig> {
        match name {
            Some(name) => self.template(name),
            None => self.default_template(),
        }
    }
}
