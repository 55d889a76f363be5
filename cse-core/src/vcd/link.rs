//! `Link` elements and pyvcloud-compatible link lookup by `rel` and media type.
//!
//! pyvcloud's `find_link` semantics (spec vcd-rest §0.4, §3.2): `rel` and `type` are compared
//! exactly (case-sensitive); a lookup without a type matches **only** links that carry no
//! `type` attribute (power actions, `remove`); two matching links are an error, not "first wins".

use instant_xml::{FromXml, ToXml};

use super::reference::write_empty_element;

use super::ns::VCLOUD;

/// `<Link rel href type? name?/>`, always in the vcloud v1.5 namespace.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml)]
#[xml(rename = "Link", ns(VCLOUD))]
pub struct Link {
    /// Relation, e.g. `down`, `add`, `power:powerOn`, `nextPage`.
    #[xml(attribute)]
    pub rel: String,
    /// Absolute target URL.
    #[xml(attribute)]
    pub href: String,
    /// Media type of the target; absent on action links.
    #[xml(attribute, rename = "type")]
    pub media_type: Option<String>,
    /// Name of the target entity (VDC and catalog links carry it).
    #[xml(attribute)]
    pub name: Option<String>,
}

impl Link {
    /// A link with a media type.
    pub fn new(rel: &str, href: &str, media_type: &str) -> Self {
        Link {
            rel: rel.to_owned(),
            href: href.to_owned(),
            media_type: Some(media_type.to_owned()),
            name: None,
        }
    }

    /// An action link without a media type (`power:*`, `remove`).
    pub fn action(rel: &str, href: &str) -> Self {
        Link {
            rel: rel.to_owned(),
            href: href.to_owned(),
            media_type: None,
            name: None,
        }
    }

    /// The same link with a `name` attribute.
    pub fn named(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }
}

impl ToXml for Link {
    fn serialize<W: std::fmt::Write + ?Sized>(
        &self,
        _field: Option<instant_xml::Id<'_>>,
        serializer: &mut instant_xml::Serializer<'_, W>,
    ) -> Result<(), instant_xml::Error> {
        write_empty_element(
            serializer,
            "Link",
            VCLOUD,
            &[
                ("rel", Some(self.rel.as_str())),
                ("href", Some(self.href.as_str())),
                ("type", self.media_type.as_deref()),
                ("name", self.name.as_deref()),
            ],
        )
    }
}

/// Why a link lookup failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// No link with this rel and type.
    #[error("no link with rel '{rel}' and type '{}'", media_type.as_deref().unwrap_or("<none>"))]
    Missing {
        /// Requested relation.
        rel: String,
        /// Requested media type (`None` = untyped link).
        media_type: Option<String>,
    },
    /// More than one link with this rel and type (pyvcloud's MultipleLinksException).
    #[error("{count} links with rel '{rel}' and type '{}'", media_type.as_deref().unwrap_or("<none>"))]
    Multiple {
        /// Requested relation.
        rel: String,
        /// Requested media type.
        media_type: Option<String>,
        /// How many matched.
        count: usize,
    },
}

/// Documents that carry `Link` children.
pub trait HasLinks {
    /// The document's direct `Link` children, in document order.
    fn links(&self) -> &[Link];

    /// Every link with this `rel` and exactly this media type (`None` = untyped links only).
    fn links_matching(&self, rel: &str, media_type: Option<&str>) -> Vec<&Link> {
        self.links()
            .iter()
            .filter(|link| link.rel == rel && link.media_type.as_deref() == media_type)
            .collect()
    }

    /// The single link with this `rel` and media type, pyvcloud `find_link` semantics.
    fn find_link(&self, rel: &str, media_type: Option<&str>) -> Result<&Link, LinkError> {
        match self.links_matching(rel, media_type).as_slice() {
            [] => Err(LinkError::Missing {
                rel: rel.to_owned(),
                media_type: media_type.map(str::to_owned),
            }),
            [link] => Ok(link),
            many => Err(LinkError::Multiple {
                rel: rel.to_owned(),
                media_type: media_type.map(str::to_owned),
                count: many.len(),
            }),
        }
    }

    /// The href of [`HasLinks::find_link`].
    fn link_href(&self, rel: &str, media_type: Option<&str>) -> Result<&str, LinkError> {
        self.find_link(rel, media_type)
            .map(|link| link.href.as_str())
    }

    /// Whether at least one link with this `rel` and media type exists (state-dependent
    /// action links such as `power:shutdown`).
    fn has_link(&self, rel: &str, media_type: Option<&str>) -> bool {
        !self.links_matching(rel, media_type).is_empty()
    }

    /// The first link with this `rel` and media type whose `name` equals `name` (VDC and
    /// catalog links of an `Org`; pyvcloud matches names exactly, first match wins).
    fn find_named_link(&self, rel: &str, media_type: &str, name: &str) -> Option<&Link> {
        self.links_matching(rel, Some(media_type))
            .into_iter()
            .find(|link| link.name.as_deref() == Some(name))
    }
}

/// Implements [`HasLinks`] for types with a `links: Vec<Link>` field.
macro_rules! impl_has_links {
    ($($ty:ty),* $(,)?) => {
        $(impl $crate::vcd::link::HasLinks for $ty {
            fn links(&self) -> &[$crate::vcd::link::Link] {
                &self.links
            }
        })*
    };
}
pub(crate) use impl_has_links;
