//! vCD release profiles: which vCloud Director release the simulator plays,
//! and what follows from it — the API versions `/api/versions` advertises
//! (with `deprecated` and the login URLs), the Accept-version check, the
//! legacy login routes VMware removed at API 38.0, CloudAPI sessions and
//! API tokens. Facts and sources: `vcd-sim/FIDELITY.md`, "Release profiles".

use std::fmt;
use std::str::FromStr;

/// One API version a release serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServedVersion {
    /// The version string, `NN.0`.
    pub version: &'static str,
    /// Marked `deprecated="true"` in `/api/versions`.
    pub deprecated: bool,
}

const fn v(version: &'static str, deprecated: bool) -> ServedVersion {
    ServedVersion {
        version,
        deprecated,
    }
}

const R9_5: &[ServedVersion] = &[
    v("29.0", false),
    v("30.0", false),
    v("31.0", false),
    v("32.0", false),
];
const R10_0: &[ServedVersion] = &[
    v("30.0", true),
    v("31.0", true),
    v("32.0", false),
    v("33.0", false),
];
const R10_3: &[ServedVersion] = &[
    v("32.0", true),
    v("33.0", true),
    v("34.0", false),
    v("35.0", false),
    v("36.0", false),
];
const R10_4: &[ServedVersion] = &[
    v("33.0", true),
    v("34.0", true),
    v("35.0", false),
    v("36.0", false),
    v("37.0", false),
];
const R10_6: &[ServedVersion] = &[
    v("36.0", true),
    v("37.0", true),
    v("38.0", false),
    v("39.0", false),
];

/// A vCloud Director release the simulator can play.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum VcdRelease {
    /// The CSE 1.2.x era (the default): API 29.0–32.0, legacy login only
    /// (plus the CloudAPI login the simulator always had).
    #[default]
    V9_5,
    /// vCD 10.0: current API 33.0, CloudAPI sessions.
    V10_0,
    /// vCD 10.3 (10.3.1 and later): current API 36.0, `ProviderLoginUrl`, API tokens.
    V10_3,
    /// vCD 10.4: current API 37.0.
    V10_4,
    /// vCD 10.6: current API 39.0; the legacy login routes are gone at 38.0+.
    V10_6,
}

/// Every profile, oldest first.
pub const ALL_RELEASES: &[VcdRelease] = &[
    VcdRelease::V9_5,
    VcdRelease::V10_0,
    VcdRelease::V10_3,
    VcdRelease::V10_4,
    VcdRelease::V10_6,
];

/// The first API version without `POST /api/sessions`, `GET|POST /api/login`
/// and `DELETE /api/session` (VMware's API diff 37.0 → 38.0).
pub const LEGACY_LOGIN_REMOVED_IN: u32 = 38;

/// The first API version whose `VersionInfo` has a `ProviderLoginUrl`.
pub const PROVIDER_LOGIN_URL_SINCE: u32 = 36;

impl VcdRelease {
    /// The versions `/api/versions` lists, oldest first.
    pub fn versions(self) -> &'static [ServedVersion] {
        match self {
            VcdRelease::V9_5 => R9_5,
            VcdRelease::V10_0 => R10_0,
            VcdRelease::V10_3 => R10_3,
            VcdRelease::V10_4 => R10_4,
            VcdRelease::V10_6 => R10_6,
        }
    }

    /// The release's own (highest) API version.
    pub fn current_version(self) -> &'static str {
        self.versions().last().map(|s| s.version).unwrap_or("32.0")
    }

    /// Whether requests may ask for this version (`Accept: …;version=`).
    pub fn serves(self, version: &str) -> bool {
        self.versions().iter().any(|s| s.version == version)
    }

    /// API tokens (`/cloudapi/1.0.0/tokens`, `/oauth/.../token`): vCD 10.3.1+.
    pub fn has_api_tokens(self) -> bool {
        matches!(
            self,
            VcdRelease::V10_3 | VcdRelease::V10_4 | VcdRelease::V10_6
        )
    }

    /// vCD's MQTT message bus for API extensions (`/messaging/mqtt`,
    /// `/cloudapi/extensions/api`): added in 10.2, so on the 10.3+ profiles.
    pub fn has_mqtt(self) -> bool {
        self.has_api_tokens()
    }

    /// Whether a request at this API version finds the legacy login routes
    /// removed (405). Per request version: 10.6 still serves them at 37.0.
    pub fn legacy_login_removed(self, version: &str) -> bool {
        major(version).is_some_and(|m| m >= LEGACY_LOGIN_REMOVED_IN)
    }
}

/// The major number of an `NN.N` version string.
pub fn major(version: &str) -> Option<u32> {
    version.split('.').next()?.trim().parse().ok()
}

impl fmt::Display for VcdRelease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VcdRelease::V9_5 => "9.5",
            VcdRelease::V10_0 => "10.0",
            VcdRelease::V10_3 => "10.3",
            VcdRelease::V10_4 => "10.4",
            VcdRelease::V10_6 => "10.6",
        })
    }
}

/// A release name that is not one of the profiles.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown vCD release \"{0}\"; expected one of 9.5, 10.0, 10.3, 10.4, 10.6")]
pub struct UnknownRelease(pub String);

impl FromStr for VcdRelease {
    type Err = UnknownRelease;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ALL_RELEASES
            .iter()
            .copied()
            .find(|r| r.to_string() == s.trim())
            .ok_or_else(|| UnknownRelease(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for r in ALL_RELEASES {
            assert_eq!(r.to_string().parse::<VcdRelease>(), Ok(*r));
        }
        let err = "10.5".parse::<VcdRelease>().unwrap_err();
        assert!(err.to_string().contains("10.5"), "{err}");
        assert_eq!(VcdRelease::default(), VcdRelease::V9_5);
    }

    #[test]
    fn current_versions_follow_the_release() {
        let cur: Vec<_> = ALL_RELEASES.iter().map(|r| r.current_version()).collect();
        assert_eq!(cur, ["32.0", "33.0", "36.0", "37.0", "39.0"]);
        assert!(VcdRelease::V10_4.serves("33.0"));
        assert!(!VcdRelease::V10_4.serves("32.0"));
        assert!(!VcdRelease::V9_5.serves("33.0"));
    }

    #[test]
    fn legacy_login_goes_at_38() {
        assert!(!VcdRelease::V10_6.legacy_login_removed("37.0"));
        assert!(VcdRelease::V10_6.legacy_login_removed("38.0"));
        assert!(VcdRelease::V10_6.legacy_login_removed("39.0"));
        assert!(!VcdRelease::V10_4.legacy_login_removed("37.0"));
    }
}
