//! Entity ids from hrefs and URNs: `…/vApp/vapp-<uuid>` → `<uuid>`, `urn:vcloud:vm:<uuid>` →
//! `<uuid>`, and the href shapes CSE builds itself from query ids (spec vcd-rest §3.1, gotcha 14).

use uuid::Uuid;

/// Why an id could not be extracted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The value does not end in a UUID.
    #[error("'{value}' does not end in an entity UUID")]
    NoUuid {
        /// The offending href or URN.
        value: String,
    },
    /// The URN is not of the expected entity type.
    #[error("'{value}' is not a urn:vcloud:{expected}:<uuid> URN")]
    WrongKind {
        /// The offending URN.
        value: String,
        /// The expected entity type (`vapp`, `vm`, `vdc`, ...).
        expected: String,
    },
}

/// The UUID at the end of an href, a prefixed href segment (`vapp-`, `vm-`,
/// `vappTemplate-`) or a URN (`urn:vcloud:<type>:<uuid>`); query string and trailing `/`
/// are ignored. This is how vCD matches reference attributes "by UUID whatever the form".
pub fn entity_uuid(value: &str) -> Result<Uuid, IdError> {
    let no_query = value.split(['?', '#']).next().unwrap_or_default();
    let trimmed = no_query.trim_end_matches('/');
    let last = trimmed.rsplit(['/', ':']).next().unwrap_or_default();
    let no_uuid = || IdError::NoUuid {
        value: value.to_owned(),
    };
    // The UUID is the whole last segment or its last 36 bytes after a `-`/`_` separator
    // (`vapp-<uuid>`); `get` keeps non-ASCII input from splitting a character.
    let split = last.len().saturating_sub(36);
    let (prefix, candidate) = match (last.get(..split), last.get(split..)) {
        (Some(prefix), Some(candidate)) => (prefix, candidate),
        _ => return Err(no_uuid()),
    };
    if candidate.len() != 36 || !(prefix.is_empty() || prefix.ends_with(['-', '_'])) {
        return Err(no_uuid());
    }
    Uuid::try_parse(candidate).map_err(|_| no_uuid())
}

/// [`entity_uuid`] as the lower-case hyphenated string vCD uses in hrefs.
pub fn entity_id(value: &str) -> Result<String, IdError> {
    entity_uuid(value).map(|uuid| uuid.hyphenated().to_string())
}

/// The UUID of a `urn:vcloud:<kind>:<uuid>` URN, checking the kind (case-insensitive:
/// vCD writes `catalogitem`, `vapptemplate`, `vdcstorageProfile`).
pub fn urn_uuid(urn: &str, kind: &str) -> Result<Uuid, IdError> {
    let wrong = || IdError::WrongKind {
        value: urn.to_owned(),
        expected: kind.to_owned(),
    };
    let mut parts = urn.split(':');
    match (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) {
        (Some("urn"), Some("vcloud"), Some(k), Some(id), None) if k.eq_ignore_ascii_case(kind) => {
            Uuid::parse_str(id).map_err(|_| wrong())
        }
        _ => Err(wrong()),
    }
}

/// `urn:vcloud:<kind>:<uuid>`.
pub fn urn(kind: &str, uuid: &Uuid) -> String {
    format!("urn:vcloud:{kind}:{}", uuid.hyphenated())
}

/// `<api root>/vApp/vapp-<uuid>` as CSE builds it from an `idrecords` id. `api_root` is the
/// URL ending in `/api` (a trailing `/` is tolerated).
pub fn vapp_href(api_root: &str, uuid: &Uuid) -> String {
    format!(
        "{}/vApp/vapp-{}",
        api_root.trim_end_matches('/'),
        uuid.hyphenated()
    )
}

/// `<api root>/vApp/vm-<uuid>`.
pub fn vm_href(api_root: &str, uuid: &Uuid) -> String {
    format!(
        "{}/vApp/vm-{}",
        api_root.trim_end_matches('/'),
        uuid.hyphenated()
    )
}

/// `<api root>/vdc/<uuid>`.
pub fn vdc_href(api_root: &str, uuid: &Uuid) -> String {
    format!(
        "{}/vdc/{}",
        api_root.trim_end_matches('/'),
        uuid.hyphenated()
    )
}

/// pyvcloud's `get_admin_href`: the first `/api/` becomes `/api/admin/`.
pub fn admin_href(href: &str) -> String {
    href.replacen("/api/", "/api/admin/", 1)
}
