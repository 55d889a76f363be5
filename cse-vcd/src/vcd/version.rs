//! The vCD API version a client speaks and the `Accept` header carrying it:
//! `application/*+xml;version=29.0` going out, and the version read back from a
//! tenant's forwarded `Accept` (`application/*+json;version=31.0`, or pyvcloud 20's
//! bare `;version=32.0`).

use std::fmt;

/// A vCD API version such as `29.0` (`NN.N` digits only).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ApiVersion(String);

impl ApiVersion {
    /// Parses `29.0`, `32.0`, `36.0`; rejects anything that is not `digits.digits`.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim().trim_matches('"');
        let (major, minor) = text.split_once('.')?;
        let digits =
            |s: &str| !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit());
        (digits(major) && digits(minor)).then(|| Self(text.to_owned()))
    }

    /// The version text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `Accept` header for XML requests at this version.
    pub fn accept_xml(&self) -> String {
        format!("application/*+xml;version={}", self.0)
    }

    /// The `Accept` header for JSON requests at this version (`/api/cse`, as vcd-cli sends).
    pub fn accept_json(&self) -> String {
        format!("application/*+json;version={}", self.0)
    }

    /// The `Accept` header of CloudAPI and OAuth requests at this version
    /// (`application/json;version=37.0`).
    pub fn accept_cloudapi(&self) -> String {
        format!("application/json;version={}", self.0)
    }

    /// True when logins at this version use CloudAPI sessions (33.0 and later,
    /// vCD 10.0+); below it `POST /api/sessions`.
    pub fn uses_cloudapi_login(&self) -> bool {
        self.major() >= CLOUDAPI_LOGIN_SINCE
    }

    /// `(major, minor)`, for ordering versions numerically (`9.0` < `29.0`).
    pub fn key(&self) -> (u32, u32) {
        let mut parts = self.0.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
    }

    /// The major number (`29` for `29.0`).
    pub fn major(&self) -> u32 {
        self.0
            .split('.')
            .next()
            .and_then(|m| m.parse().ok())
            .unwrap_or(0)
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The API versions this client speaks, oldest first: vCD 9.5 (29.0) to 10.6 (39.0).
pub const SUPPORTED_API_VERSIONS: &[&str] = &[
    "29.0", "30.0", "31.0", "32.0", "33.0", "34.0", "35.0", "36.0", "37.0", "38.0", "39.0",
];

/// [`SUPPORTED_API_VERSIONS`] as [`ApiVersion`]s.
pub fn supported_versions() -> Vec<ApiVersion> {
    SUPPORTED_API_VERSIONS
        .iter()
        .filter_map(|v| ApiVersion::parse(v))
        .collect()
}

/// Which API version a connector's logins use: a fixed one, or the highest
/// both sides speak (config `vcd.api_version: auto`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VersionChoice {
    /// Always this version.
    Fixed(ApiVersion),
    /// Negotiated with `GET /api/versions` against [`SUPPORTED_API_VERSIONS`].
    Negotiate,
}

impl VersionChoice {
    /// `auto` → [`Self::Negotiate`], `NN.N` → [`Self::Fixed`]; anything else `None`.
    pub fn parse(text: &str) -> Option<Self> {
        if text.trim().eq_ignore_ascii_case("auto") {
            return Some(Self::Negotiate);
        }
        ApiVersion::parse(text).map(Self::Fixed)
    }
}

/// Version negotiation: the numerically highest version both `offered` (vCD's
/// `/api/versions`) and `supported` (what the caller speaks) contain; `None` when they
/// share none.
pub fn highest_common_version(
    offered: &[ApiVersion],
    supported: &[ApiVersion],
) -> Option<ApiVersion> {
    supported
        .iter()
        .filter(|v| offered.contains(v))
        .max_by_key(|v| v.key())
        .cloned()
}

/// The `version=` parameter of an `Accept` header, from the first media range that
/// carries a valid one. `None` when no range names a version.
pub fn version_from_accept(accept: &str) -> Option<ApiVersion> {
    accept.split(',').find_map(|range| {
        range.split(';').skip(1).find_map(|param| {
            let (name, value) = param.split_once('=')?;
            name.trim()
                .eq_ignore_ascii_case("version")
                .then(|| ApiVersion::parse(value))
                .flatten()
        })
    })
}

/// Media types the client sends or selects links by (exact strings, spec §11).
pub mod media {
    /// `Session`.
    pub const SESSION: &str = "application/vnd.vmware.vcloud.session+xml";
    /// `Org`.
    pub const ORG: &str = "application/vnd.vmware.vcloud.org+xml";
    /// `OrgList`.
    pub const ORG_LIST: &str = "application/vnd.vmware.vcloud.orgList+xml";
    /// `Vdc`.
    pub const VDC: &str = "application/vnd.vmware.vcloud.vdc+xml";
    /// `Task`.
    pub const TASK: &str = "application/vnd.vmware.vcloud.task+xml";
    /// An org's tasks list.
    pub const TASKS_LIST: &str = "application/vnd.vmware.vcloud.tasksList+xml";
    /// `VApp`.
    pub const VAPP: &str = "application/vnd.vmware.vcloud.vApp+xml";
    /// `Vm`.
    pub const VM: &str = "application/vnd.vmware.vcloud.vm+xml";
    /// `Metadata`.
    pub const METADATA: &str = "application/vnd.vmware.vcloud.metadata+xml";
    /// `MetadataValue`.
    pub const METADATA_VALUE: &str = "application/vnd.vmware.vcloud.metadata.value+xml";
    /// A query's results in `records` format (from API 33.0 an `Org` links the
    /// queries of its VDCs and catalogs with this type).
    pub const RECORDS: &str = "application/vnd.vmware.vcloud.query.records+xml";
    /// `QueryList`.
    pub const QUERY_LIST: &str = "application/vnd.vmware.vcloud.query.queryList+xml";
    /// `ComposeVAppParams`.
    pub const COMPOSE_VAPP_PARAMS: &str = "application/vnd.vmware.vcloud.composeVAppParams+xml";
    /// `RecomposeVAppParams`.
    pub const RECOMPOSE_VAPP_PARAMS: &str = "application/vnd.vmware.vcloud.recomposeVAppParams+xml";
    /// `InstantiateVAppTemplateParams`.
    pub const INSTANTIATE_VAPP_TEMPLATE_PARAMS: &str =
        "application/vnd.vmware.vcloud.instantiateVAppTemplateParams+xml";
    /// `UndeployVAppParams`.
    pub const UNDEPLOY_VAPP_PARAMS: &str = "application/vnd.vmware.vcloud.undeployVAppParams+xml";
    /// `RasdItem`.
    pub const RASD_ITEM: &str = "application/vnd.vmware.vcloud.rasdItem+xml";
    /// `VMWExtension` (admin).
    pub const VMW_EXTENSION: &str = "application/vnd.vmware.admin.vmwExtension+xml";
    /// `VMWVimServerReferences` (admin).
    pub const VIM_SERVER_REFERENCES: &str =
        "application/vnd.vmware.admin.vmwVimServerReferences+xml";
    /// `VimServer` (admin; note the lower-case `v`).
    pub const VIM_SERVER: &str = "application/vnd.vmware.admin.vmwvirtualcenter+xml";
    /// vCD `Error`.
    pub const ERROR: &str = "application/vnd.vmware.vcloud.error+xml";
}

/// First API version at which logins use CloudAPI sessions instead of
/// `POST /api/sessions` (vCD 10.0).
pub const CLOUDAPI_LOGIN_SINCE: u32 = 33;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_come_from_every_accept_form_clients_send() {
        for (accept, expected) in [
            ("application/*+xml;version=29.0", Some("29.0")),
            ("application/*+json;version=31.0", Some("31.0")),
            (";version=32.0", Some("32.0")),
            (
                "application/json, application/*+xml; Version = 30.0",
                Some("30.0"),
            ),
            (
                "application/*+xml;charset=utf-8;version=\"33.0\"",
                Some("33.0"),
            ),
            ("application/*+xml", None),
            ("application/*+xml;version=latest", None),
            ("", None),
        ] {
            assert_eq!(
                version_from_accept(accept).as_ref().map(ApiVersion::as_str),
                expected,
                "{accept}"
            );
        }
    }

    #[test]
    fn negotiation_picks_the_highest_common_version() {
        let list = |vs: &[&str]| -> Vec<ApiVersion> {
            vs.iter().map(|v| ApiVersion::parse(v).unwrap()).collect()
        };
        let supported = list(&["9.0", "29.0", "30.0", "31.0", "32.0"]);
        let offered = list(&["27.0", "29.0", "31.0", "33.0", "9.0"]);
        assert_eq!(
            highest_common_version(&offered, &supported).map(|v| v.to_string()),
            Some("31.0".to_owned())
        );
        assert_eq!(highest_common_version(&list(&["5.5"]), &supported), None);
        assert_eq!(highest_common_version(&[], &supported), None);
    }

    #[test]
    fn every_vcd_release_negotiates_the_login_it_needs() {
        let list = |vs: &[&str]| -> Vec<ApiVersion> {
            vs.iter().map(|v| ApiVersion::parse(v).unwrap()).collect()
        };
        let ours = supported_versions();
        assert_eq!(ours.first().map(ApiVersion::as_str), Some("29.0"));
        assert_eq!(ours.last().map(ApiVersion::as_str), Some("39.0"));
        // What each release's /api/versions offers (9.5, 10.0, 10.3, 10.4, 10.6).
        for (offered, expected, cloudapi) in [
            (list(&["29.0", "30.0", "31.0", "32.0"]), "32.0", false),
            (list(&["30.0", "31.0", "32.0", "33.0"]), "33.0", true),
            (
                list(&["32.0", "33.0", "34.0", "35.0", "36.0"]),
                "36.0",
                true,
            ),
            (
                list(&["33.0", "34.0", "35.0", "36.0", "37.0"]),
                "37.0",
                true,
            ),
            (
                list(&["36.0", "37.0", "38.0", "39.0", "40.0"]),
                "39.0",
                true,
            ),
        ] {
            let chosen = highest_common_version(&offered, &ours).unwrap();
            assert_eq!(chosen.as_str(), expected);
            assert_eq!(chosen.uses_cloudapi_login(), cloudapi, "{expected}");
        }
    }

    #[test]
    fn version_choices_read_auto_or_a_version() {
        assert_eq!(VersionChoice::parse("auto"), Some(VersionChoice::Negotiate));
        assert_eq!(
            VersionChoice::parse(" AUTO "),
            Some(VersionChoice::Negotiate)
        );
        assert_eq!(
            VersionChoice::parse("36.0"),
            Some(VersionChoice::Fixed(ApiVersion::parse("36.0").unwrap()))
        );
        assert_eq!(VersionChoice::parse("latest"), None);
        let v = ApiVersion::parse("37.0").unwrap();
        assert_eq!(v.accept_cloudapi(), "application/json;version=37.0");
        assert!(!ApiVersion::parse("32.0").unwrap().uses_cloudapi_login());
    }

    #[test]
    fn version_text_rules() {
        assert!(ApiVersion::parse("37.0.0-alpha").is_none());
        assert!(ApiVersion::parse("29").is_none());
        assert!(ApiVersion::parse(".0").is_none());
        let v = ApiVersion::parse("36.0").unwrap();
        assert_eq!(v.major(), 36);
        assert_eq!(v.accept_xml(), "application/*+xml;version=36.0");
        assert_eq!(v.accept_json(), "application/*+json;version=36.0");
    }
}
