//! `SupportedVersions` (`GET /api/versions`, its own namespace): the API versions a vCD
//! offers (spec vcd-rest §2.1).

use instant_xml::{FromXml, ToXml};

use super::ns::VERSIONS;

/// `VersionInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "VersionInfo", ns(VERSIONS))]
pub struct VersionInfo {
    /// `deprecated` (ignored by pyvcloud).
    #[xml(attribute)]
    pub deprecated: Option<bool>,
    /// `NN.0`.
    #[xml(rename = "Version")]
    pub version: String,
    /// Login URL (`…/api/sessions`).
    #[xml(rename = "LoginUrl")]
    pub login_url: Option<String>,
}

/// `SupportedVersions`.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "SupportedVersions", ns(VERSIONS))]
pub struct SupportedVersions {
    /// One entry per version.
    pub versions: Vec<VersionInfo>,
}

impl SupportedVersions {
    /// Whether `version` (e.g. `32.0`) is offered.
    pub fn supports(&self, version: &str) -> bool {
        self.versions.iter().any(|v| v.version == version)
    }

    /// The highest offered version that is also in `wanted` (numeric comparison; versions
    /// that are not `N.N` numbers are skipped), as pyvcloud negotiates.
    pub fn highest_common<'a>(&self, wanted: &[&'a str]) -> Option<&'a str> {
        let number = |v: &str| -> Option<(u32, u32)> {
            let (major, minor) = v.split_once('.')?;
            Some((major.parse().ok()?, minor.parse().ok()?))
        };
        wanted
            .iter()
            .copied()
            .filter(|w| self.supports(w))
            .filter_map(|w| number(w).map(|n| (n, w)))
            .max()
            .map(|(_, w)| w)
    }
}

super::vcd_document! {
    SupportedVersions => "SupportedVersions", "application/xml";
}
