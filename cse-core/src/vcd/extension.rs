//! vCD extension documents (`vmext:` namespace, system administrators only): the extension
//! root, `Service` with its API filters, `AmqpSettings` (+ test result) and the vCenter
//! registrations (spec vcd-rest §9, cse-original §1.1).
//!
//! Roots are written with `vmext` as the default namespace (`<Service xmlns="…extension/v1.5">`)
//! rather than vCD's `<vmext:Service xmlns="…v1.5">`; both bind the same names, and `Link`
//! children stay in the vcloud namespace.

use std::fmt;

use instant_xml::{FromXml, ToXml};

use super::link::{HasLinks, Link, LinkError, impl_has_links};
use super::media;
use super::ns::{VCLOUD, VMEXT};
use super::reference::reference_type;

/// `vmext:VMWExtension`: links to services, vCenter references and AMQP settings.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "VMWExtension", ns(VMEXT))]
pub struct VmwExtension {
    /// Self href.
    #[xml(attribute)]
    pub href: Option<String>,
    /// Media type.
    #[xml(attribute, rename = "type")]
    pub media_type: Option<String>,
    /// Links.
    pub links: Vec<Link>,
}

impl VmwExtension {
    /// The extension-services collection href.
    pub fn services_href(&self) -> Result<&str, LinkError> {
        self.link_href("down", Some(media::ADMIN_EXTENSION_SERVICES))
    }

    /// The vCenter references href.
    pub fn vim_server_references_href(&self) -> Result<&str, LinkError> {
        self.link_href("down", Some(media::ADMIN_VMW_VIM_SERVER_REFERENCES))
    }
}

/// `vmext:ExtensionServices`: the services collection, with its `rel=add` link.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "ExtensionServices", ns(VMEXT))]
pub struct ExtensionServices {
    /// Self href.
    #[xml(attribute)]
    pub href: Option<String>,
    /// Media type.
    #[xml(attribute, rename = "type")]
    pub media_type: Option<String>,
    /// Links.
    pub links: Vec<Link>,
}

impl ExtensionServices {
    /// Where a new service is posted.
    pub fn add_href(&self) -> Result<&str, LinkError> {
        self.link_href("add", Some(media::ADMIN_SERVICE))
    }
}

/// `vmext:ApiFilter`.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "ApiFilter", ns(VMEXT))]
pub struct ApiFilter {
    /// Java-regex URL pattern, anchored (`/api/cse/.*`).
    #[xml(rename = "UrlPattern")]
    pub url_pattern: String,
}

/// `vmext:ApiFilters`.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "ApiFilters", ns(VMEXT))]
pub struct ApiFilters {
    /// The filters.
    pub filters: Vec<ApiFilter>,
}

/// `vmext:Service`: an API extension registration.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "Service", ns(VMEXT))]
pub struct ExtensionService {
    /// Service name (`cse`).
    #[xml(attribute)]
    pub name: String,
    /// Href (answers).
    #[xml(attribute)]
    pub href: Option<String>,
    /// `urn:vcloud:service:<uuid>` (answers).
    #[xml(attribute)]
    pub id: Option<String>,
    /// Media type (answers).
    #[xml(attribute, rename = "type")]
    pub media_type: Option<String>,
    /// Links (`edit`, `remove`, `rights`, `add` api filter).
    pub links: Vec<Link>,
    /// Description (vcloud namespace).
    #[xml(rename = "Description", ns(VCLOUD))]
    pub description: Option<String>,
    /// Namespace (`cse`).
    #[xml(rename = "Namespace")]
    pub namespace: String,
    /// Whether vCD routes matching requests to the service.
    #[xml(rename = "Enabled")]
    pub enabled: bool,
    /// `AuthorizationEnabled`.
    #[xml(rename = "AuthorizationEnabled")]
    pub authorization_enabled: Option<bool>,
    /// AMQP routing key.
    #[xml(rename = "RoutingKey")]
    pub routing_key: String,
    /// `Priority`.
    #[xml(rename = "Priority")]
    pub priority: Option<i32>,
    /// AMQP exchange.
    #[xml(rename = "Exchange")]
    pub exchange: String,
    /// URL patterns routed to the service.
    pub api_filters: Option<ApiFilters>,
}

/// The three URL patterns CSE registers.
pub const CSE_URL_PATTERNS: [&str; 3] = ["/api/cse", "/api/cse/.*", "/api/cse/.*/.*"];

impl ExtensionService {
    /// CSE's registration (cse-original §1.1): name and namespace `cse`, enabled, the three
    /// `/api/cse` patterns.
    pub fn cse(routing_key: &str, exchange: &str) -> Self {
        ExtensionService {
            name: "cse".to_owned(),
            namespace: "cse".to_owned(),
            enabled: true,
            routing_key: routing_key.to_owned(),
            exchange: exchange.to_owned(),
            api_filters: Some(ApiFilters {
                filters: CSE_URL_PATTERNS
                    .iter()
                    .map(|p| ApiFilter {
                        url_pattern: (*p).to_owned(),
                    })
                    .collect(),
            }),
            ..ExtensionService::default()
        }
    }
}

/// `Right`: a right CSE 1.2.6+ registers for its service (`POST <service>/rights`).
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "Right", ns(VCLOUD))]
pub struct Right {
    /// Right name (vCD stores it as `{<service namespace>}:<name>`).
    #[xml(attribute)]
    pub name: String,
    /// Href (answers).
    #[xml(attribute)]
    pub href: Option<String>,
    /// URN (answers).
    #[xml(attribute)]
    pub id: Option<String>,
    /// Media type.
    #[xml(attribute, rename = "type")]
    pub media_type: Option<String>,
    /// Links.
    pub links: Vec<Link>,
    /// Description.
    #[xml(rename = "Description")]
    pub description: Option<String>,
    /// Category.
    #[xml(rename = "Category")]
    pub category: Option<String>,
    /// Bundle key.
    #[xml(rename = "BundleKey")]
    pub bundle_key: Option<String>,
}

impl Right {
    /// `CSE NATIVE DEPLOY RIGHT` as CSE 1.2.6+ registers it.
    pub fn cse_native_deploy() -> Self {
        Right {
            name: "CSE NATIVE DEPLOY RIGHT".to_owned(),
            description: Some(
                "Right necessary to deploy kubernetes cluster via vCD apis in CSE".to_owned(),
            ),
            category: Some("cseRight".to_owned()),
            bundle_key: Some("cseBundleKey".to_owned()),
            ..Right::default()
        }
    }

    /// `PKS DEPLOY RIGHT` as CSE 1.2.6+ registers it.
    pub fn pks_deploy() -> Self {
        Right {
            name: "PKS DEPLOY RIGHT".to_owned(),
            description: Some(
                "Right necessary to deploy kubernetes cluster via vSphere apis in PKS".to_owned(),
            ),
            category: Some("pksRight".to_owned()),
            bundle_key: Some("pksBundleKey".to_owned()),
            ..Right::default()
        }
    }
}

/// `vmext:AmqpSettings`. `Debug` hides the password.
#[derive(Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "AmqpSettings", ns(VMEXT))]
pub struct AmqpSettings {
    /// Self href.
    #[xml(attribute)]
    pub href: Option<String>,
    /// Media type.
    #[xml(attribute, rename = "type")]
    pub media_type: Option<String>,
    /// Broker host.
    #[xml(rename = "AmqpHost")]
    pub host: String,
    /// Broker port.
    #[xml(rename = "AmqpPort")]
    pub port: u16,
    /// User name.
    #[xml(rename = "AmqpUsername")]
    pub username: String,
    /// Password: only in test / update requests, never in vCD's answers. Secret.
    #[xml(rename = "AmqpPassword")]
    pub password: Option<String>,
    /// Exchange.
    #[xml(rename = "AmqpExchange")]
    pub exchange: String,
    /// Virtual host.
    #[xml(rename = "AmqpVHost")]
    pub vhost: String,
    /// TLS.
    #[xml(rename = "AmqpUseSSL")]
    pub use_ssl: bool,
    /// Accept any broker certificate.
    #[xml(rename = "AmqpSslAcceptAll")]
    pub ssl_accept_all: bool,
    /// Prefix.
    #[xml(rename = "AmqpPrefix")]
    pub prefix: String,
}

impl AmqpSettings {
    /// The eight `(element name, value as string)` pairs CSE ≤1.2.5 compares with its
    /// config (booleans lower-case, port as decimal text). The password is not part of it.
    pub fn comparable(&self) -> [(&'static str, String); 8] {
        [
            ("AmqpExchange", self.exchange.clone()),
            ("AmqpHost", self.host.clone()),
            ("AmqpPort", self.port.to_string()),
            ("AmqpPrefix", self.prefix.clone()),
            ("AmqpSslAcceptAll", self.ssl_accept_all.to_string()),
            ("AmqpUseSSL", self.use_ssl.to_string()),
            ("AmqpUsername", self.username.clone()),
            ("AmqpVHost", self.vhost.clone()),
        ]
    }
}

impl fmt::Debug for AmqpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AmqpSettings")
            .field("href", &self.href)
            .field("media_type", &self.media_type)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("exchange", &self.exchange)
            .field("vhost", &self.vhost)
            .field("use_ssl", &self.use_ssl)
            .field("ssl_accept_all", &self.ssl_accept_all)
            .field("prefix", &self.prefix)
            .finish()
    }
}

/// `vmext:AmqpSettingsTest`: the answer to `…/settings/amqp/action/test`.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "AmqpSettingsTest", ns(VMEXT))]
pub struct AmqpSettingsTest {
    /// Whether vCD could connect with the tested settings.
    #[xml(rename = "Valid")]
    pub valid: bool,
}

reference_type!(
    /// `vmext:VimServerReference`.
    VimServerReference, "VimServerReference", VMEXT, force_prefix
);

/// `vmext:VMWVimServerReferences`: registered vCenters.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "VMWVimServerReferences", ns(VMEXT))]
pub struct VimServerReferences {
    /// Self href.
    #[xml(attribute)]
    pub href: Option<String>,
    /// Media type.
    #[xml(attribute, rename = "type")]
    pub media_type: Option<String>,
    /// Links.
    pub links: Vec<Link>,
    /// One reference per vCenter.
    pub references: Vec<VimServerReference>,
}

impl VimServerReferences {
    /// The vCenter with exactly this name (pyvcloud `Platform.get_vcenter`).
    pub fn find(&self, name: &str) -> Option<&VimServerReference> {
        self.references
            .iter()
            .find(|r| r.name.as_deref() == Some(name))
    }
}

/// `vmext:VimServer`: one vCenter registration.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "VimServer", ns(VMEXT))]
pub struct VimServer {
    /// vCenter name.
    #[xml(attribute)]
    pub name: String,
    /// Href.
    #[xml(attribute)]
    pub href: Option<String>,
    /// URN.
    #[xml(attribute)]
    pub id: Option<String>,
    /// Media type.
    #[xml(attribute, rename = "type")]
    pub media_type: Option<String>,
    /// Links.
    pub links: Vec<Link>,
    /// Registered user name.
    #[xml(rename = "Username")]
    pub username: Option<String>,
    /// vCenter URL (with explicit port).
    #[xml(rename = "Url")]
    pub url: String,
    /// Whether enabled.
    #[xml(rename = "IsEnabled")]
    pub is_enabled: Option<bool>,
    /// Whether connected.
    #[xml(rename = "IsConnected")]
    pub is_connected: Option<bool>,
}

impl VimServer {
    /// Host and port of `Url` (port defaults to 443 for https, 80 for http).
    pub fn host_port(&self) -> Option<(String, u16)> {
        let url = url::Url::parse(&self.url).ok()?;
        Some((url.host_str()?.to_owned(), url.port_or_known_default()?))
    }
}

impl_has_links!(
    Right,
    ExtensionServices,
    VmwExtension,
    ExtensionService,
    VimServerReferences,
    VimServer
);

super::vcd_document! {
    VmwExtension => "VMWExtension", media::ADMIN_VMW_EXTENSION;
    Right => "Right", media::ADMIN_RIGHT;
    ExtensionServices => "ExtensionServices", media::ADMIN_EXTENSION_SERVICES;
    ExtensionService => "Service", media::ADMIN_SERVICE;
    AmqpSettings => "AmqpSettings", media::ADMIN_AMQP_SETTINGS;
    AmqpSettingsTest => "AmqpSettingsTest", media::ADMIN_AMQP_SETTINGS_TEST;
    VimServerReferences => "VMWVimServerReferences", media::ADMIN_VMW_VIM_SERVER_REFERENCES;
    VimServer => "VimServer", media::ADMIN_VMW_VIRTUAL_CENTER;
}
