//! Typed vCD XML documents: what CSE's vCD REST client parses from vCD's answers and the
//! request bodies it sends (spec vcd-rest, cse-original §1, §3).
//!
//! Built on instant-xml (spec crates §2): every element is matched by (namespace, local name),
//! so a document in the wrong namespace is rejected, prefixes are free, and unknown elements
//! and attributes are skipped on input. Only the fields CSE reads or sends are modelled;
//! fields are declared in the order vCD's XSD requires, because vCD's JAXB parser is strict
//! about sequence order in request bodies.
//!
//! Layout: [`ns`] and [`media`] hold the namespace and media-type constants; [`link`] the
//! `Link` element and pyvcloud-style lookup; [`reference`](mod@reference) the href/name/type reference
//! elements; [`ids`] href/URN → id helpers; [`status`] the entity status codes; one module
//! per document family after that. [`canonical`] compares two XML texts semantically.
//!
//! Parse with [`VcdDocument::from_xml`], serialise with [`VcdDocument::to_xml`]; both return
//! [`VcdXmlError`], never panic.

pub mod canonical;
pub mod catalog;
pub mod error;
pub mod extension;
pub mod ids;
pub mod link;
pub mod media;
pub mod metadata;
pub mod ns;
pub mod ovf;
pub mod params;
pub mod query;
pub mod reference;
mod scalar;
pub mod sections;
pub mod session;
pub mod status;
pub mod task;
pub mod vapp;
pub mod vdc;
pub mod versions;

pub use catalog::{
    AdminCatalog, Catalog, CatalogItem, CatalogItemRef, CatalogItems, Entity, PublishCatalogParams,
};
pub use error::VcdErrorDocument;
pub use extension::{
    AmqpSettings, AmqpSettingsTest, ApiFilter, ApiFilters, ExtensionService, ExtensionServices,
    Right, VimServer, VimServerReference, VimServerReferences, VmwExtension,
};
pub use ids::{IdError, entity_id, entity_uuid, urn_uuid};
pub use link::{HasLinks, Link, LinkError};
pub use metadata::{Metadata, MetadataDomain, MetadataEntry, MetadataValue, TypedValue};
pub use ovf::{
    CoresPerSocket, HardwareItem, OvfEnvironment, RasdConnection, RasdItem, VirtualHardwareSection,
};
pub use params::{
    CaptureVAppParams, ComposeVAppParams, CustomizationSection, DeleteItem, DeployVAppParams,
    InstantiateVAppTemplateParams, InstantiationParams, RecomposeVAppParams, SourcedItem,
    UndeployVAppParams, UploadVAppTemplateParams, VmGeneralParams,
};
pub use query::{QueryList, QueryRecord, QueryResultRecords};
pub use reference::Reference;
pub use sections::{
    GuestCustomizationSection, NetworkConfig, NetworkConfigSection, NetworkConfiguration,
    NetworkConnection, NetworkConnectionSection,
};
pub use session::{Org, OrgList, OrgRef, Session};
pub use status::{VcdStatus, status_text};
pub use task::{Task, TaskStatus, Tasks};
pub use vapp::{TemplateFile, TemplateFiles, VApp, VAppTemplate, Vm, VmChildren};
pub use vdc::Vdc;
pub use versions::{SupportedVersions, VersionInfo};

use instant_xml::{FromXmlOwned, ToXml};

/// Why an XML document could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VcdXmlError {
    /// The text is not a well-formed, correctly namespaced document of the expected type, or a
    /// required field is missing or malformed.
    #[error("invalid vCD {document} document: {reason}")]
    Parse {
        /// The expected root element.
        document: &'static str,
        /// What was wrong (instant-xml's description).
        reason: String,
    },
    /// A value could not be written (e.g. an attribute in a namespace without a prefix).
    #[error("cannot serialise vCD {document} document: {reason}")]
    Serialize {
        /// The root element.
        document: &'static str,
        /// What went wrong.
        reason: String,
    },
}

/// A top-level vCD XML document.
pub trait VcdDocument: ToXml + FromXmlOwned + Sized {
    /// Local name of the root element.
    const ROOT: &'static str;
    /// Media type of the document (its `Content-Type` when sent).
    const MEDIA_TYPE: &'static str;

    /// Parse a document received from vCD. Unknown elements and attributes are skipped; a
    /// wrong root element, a wrong namespace, malformed XML or a missing required field is
    /// a [`VcdXmlError::Parse`].
    fn from_xml(xml: &str) -> Result<Self, VcdXmlError> {
        let xml = xml.trim_start_matches('\u{feff}');
        let parsed = instant_xml::from_str(xml).map_err(|e| VcdXmlError::Parse {
            document: Self::ROOT,
            reason: describe(&e),
        })?;
        // instant-xml stops reading once the root's fields are complete and accepts a
        // document whose end is missing; a truncated body must not become a value.
        check_complete(xml).map_err(|reason| VcdXmlError::Parse {
            document: Self::ROOT,
            reason,
        })?;
        Ok(parsed)
    }

    /// Serialise the document (no XML declaration; namespaces declared on the root).
    fn to_xml(&self) -> Result<String, VcdXmlError> {
        instant_xml::to_string(self).map_err(|e| VcdXmlError::Serialize {
            document: Self::ROOT,
            reason: describe(&e),
        })
    }
}

/// Checks that `xml` is one complete element: every start tag closed by a matching end tag
/// and nothing but whitespace, comments or processing instructions after the root.
fn check_complete(xml: &str) -> Result<(), String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut depth = 0usize;
    let mut roots = 0usize;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("malformed XML at byte {}: {e}", reader.buffer_position()))?;
        match event {
            Event::Start(_) => {
                if depth == 0 {
                    roots += 1;
                }
                depth += 1;
            }
            Event::Empty(_) if depth == 0 => roots += 1,
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Text(text) if depth == 0 && !text.xml10_content().trim().is_empty() => {
                return Err("text outside the root element".to_owned());
            }
            Event::Eof => break,
            _ => {}
        }
    }
    match (depth, roots) {
        (0, 1) => Ok(()),
        (0, _) => Err("more than one root element".to_owned()),
        (open, _) => Err(format!("document ends with {open} element(s) not closed")),
    }
}

/// instant-xml's error text, with the tokenizer's position for parse errors.
fn describe(error: &instant_xml::Error) -> String {
    match error {
        instant_xml::Error::Parse(inner) => format!("malformed XML: {inner}"),
        other => other.to_string(),
    }
}

/// Implements [`VcdDocument`] for root types.
macro_rules! vcd_document {
    ($($ty:ty => $root:literal, $media:expr;)*) => {
        $(impl $crate::vcd::VcdDocument for $ty {
            const ROOT: &'static str = $root;
            const MEDIA_TYPE: &'static str = $media;
        })*
    };
}
pub(crate) use vcd_document;
