//! `Metadata`, `MetadataEntry`, `TypedValue` and `MetadataValue` (spec vcd-rest §7). Also the
//! `Metadata` child of query records (§4.5).
//!
//! `xsi:type` is read by local name (`MetadataStringValue` arrives unprefixed from pyvcloud,
//! prefixed from some vCD versions) and written unprefixed, as vCD does.

use instant_xml::{FromXml, ToXml};

use super::link::{Link, impl_has_links};
use super::media;
use super::ns::{VCLOUD, XSI};

/// `xsi:type` of string values.
pub const STRING_VALUE: &str = "MetadataStringValue";
/// `xsi:type` of number values.
pub const NUMBER_VALUE: &str = "MetadataNumberValue";
/// `xsi:type` of boolean values.
pub const BOOLEAN_VALUE: &str = "MetadataBooleanValue";
/// `xsi:type` of date-time values.
pub const DATE_TIME_VALUE: &str = "MetadataDateTimeValue";

/// `<Domain visibility="READWRITE">GENERAL</Domain>`.
#[derive(Debug, Clone, PartialEq, Eq, FromXml, ToXml)]
#[xml(rename = "Domain", ns(VCLOUD))]
pub struct MetadataDomain {
    /// `READWRITE`, `READONLY` or `PRIVATE`.
    #[xml(attribute)]
    pub visibility: Option<String>,
    /// `GENERAL` or `SYSTEM`.
    #[xml(direct)]
    pub domain: String,
}

impl MetadataDomain {
    /// GENERAL / READWRITE, the domain CSE writes its cluster keys in.
    pub fn general() -> Self {
        MetadataDomain {
            visibility: Some("READWRITE".to_owned()),
            domain: "GENERAL".to_owned(),
        }
    }
}

/// `<TypedValue xsi:type="MetadataStringValue"><Value>…</Value></TypedValue>`.
#[derive(Debug, Clone, PartialEq, Eq, FromXml, ToXml)]
#[xml(rename = "TypedValue", ns(VCLOUD, xsi = XSI))]
pub struct TypedValue {
    /// The `xsi:type` value as written (possibly prefixed).
    #[xml(attribute, rename = "type", ns(XSI))]
    pub xsi_type: String,
    /// The value text.
    #[xml(rename = "Value")]
    pub value: String,
}

impl TypedValue {
    /// A `MetadataStringValue`.
    pub fn string(value: &str) -> Self {
        TypedValue {
            xsi_type: STRING_VALUE.to_owned(),
            value: value.to_owned(),
        }
    }

    /// The `xsi:type` local name (prefix dropped), e.g. `MetadataStringValue`.
    pub fn kind(&self) -> &str {
        self.xsi_type
            .rsplit_once(':')
            .map_or(self.xsi_type.as_str(), |(_, local)| local)
    }

    /// Whether this is a string value.
    pub fn is_string(&self) -> bool {
        self.kind() == STRING_VALUE
    }
}

/// `MetadataEntry`.
#[derive(Debug, Clone, PartialEq, Eq, FromXml, ToXml)]
#[xml(rename = "MetadataEntry", ns(VCLOUD))]
pub struct MetadataEntry {
    /// Links (`edit`, `remove`).
    pub links: Vec<Link>,
    /// Domain; absent means GENERAL / READWRITE.
    pub domain: Option<MetadataDomain>,
    /// Key.
    #[xml(rename = "Key")]
    pub key: String,
    /// Typed value.
    pub typed_value: TypedValue,
}

impl MetadataEntry {
    /// A GENERAL / READWRITE string entry, as CSE writes its cluster keys.
    pub fn string(key: &str, value: &str) -> Self {
        MetadataEntry {
            links: Vec::new(),
            domain: Some(MetadataDomain::general()),
            key: key.to_owned(),
            typed_value: TypedValue::string(value),
        }
    }
}

/// `Metadata`: a list of entries (entity metadata, a POST body, or a query record's fields).
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "Metadata", ns(VCLOUD, xsi = XSI))]
pub struct Metadata {
    /// Self href.
    #[xml(attribute)]
    pub href: Option<String>,
    /// Media type.
    #[xml(attribute, rename = "type")]
    pub media_type: Option<String>,
    /// Links (`up`, `add`).
    pub links: Vec<Link>,
    /// Entries.
    pub entries: Vec<MetadataEntry>,
}

impl Metadata {
    /// A POST body with the given entries.
    pub fn with_entries(entries: Vec<MetadataEntry>) -> Self {
        Metadata {
            media_type: Some(media::METADATA.to_owned()),
            entries,
            ..Metadata::default()
        }
    }

    /// The value text of `key` (first entry with that key, any domain).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|entry| entry.key == key)
            .map(|entry| entry.typed_value.value.as_str())
    }
}

/// `MetadataValue`: a single value (GET / PUT `…/metadata/<DOMAIN>/<key>`).
#[derive(Debug, Clone, PartialEq, Eq, FromXml, ToXml)]
#[xml(rename = "MetadataValue", ns(VCLOUD, xsi = XSI))]
pub struct MetadataValue {
    /// Self href.
    #[xml(attribute)]
    pub href: Option<String>,
    /// Media type.
    #[xml(attribute, rename = "type")]
    pub media_type: Option<String>,
    /// Links (`remove`).
    pub links: Vec<Link>,
    /// Domain.
    pub domain: Option<MetadataDomain>,
    /// Typed value.
    pub typed_value: TypedValue,
}

impl MetadataValue {
    /// A PUT body for a string value.
    pub fn string(value: &str) -> Self {
        MetadataValue {
            href: None,
            media_type: None,
            links: Vec::new(),
            domain: None,
            typed_value: TypedValue::string(value),
        }
    }
}

impl_has_links!(Metadata, MetadataEntry, MetadataValue);

super::vcd_document! {
    Metadata => "Metadata", media::METADATA;
    MetadataValue => "MetadataValue", media::METADATA_VALUE;
}
