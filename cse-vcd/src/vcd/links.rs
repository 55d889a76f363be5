//! `Link` elements of vCD documents and how clients pick one: exact `rel` and
//! exact `type`, where "no type" matches only links without a `type` attribute
//! (power and `remove` links), exactly as pyvcloud does.

use super::error::VcdError;
use super::xml::{Element, VCLOUD_NS};

/// One `<Link rel href type name/>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// `rel`, e.g. `down`, `recompose`, `power:powerOn`.
    pub rel: String,
    /// Absolute href.
    pub href: String,
    /// Media type, absent on action links.
    pub media_type: Option<String>,
    /// `name`, when the link names its target.
    pub name: Option<String>,
}

impl Link {
    /// Reads a `Link` element.
    pub fn from_element(element: &Element) -> Option<Self> {
        Some(Self {
            rel: element.attr("rel")?.to_owned(),
            href: element.attr("href")?.to_owned(),
            media_type: element.attr("type").map(str::to_owned),
            name: element.attr("name").map(str::to_owned),
        })
    }
}

/// The `Link` children (vcloud namespace) directly under `element`.
pub fn links_of(element: &Element) -> Vec<Link> {
    element
        .children
        .iter()
        .filter(|c| c.is(VCLOUD_NS, "Link"))
        .filter_map(Link::from_element)
        .collect()
}

/// The first link with this `rel` and `type` (`None` = a link without type).
pub fn find_link<'a>(links: &'a [Link], rel: &str, media_type: Option<&str>) -> Option<&'a Link> {
    links
        .iter()
        .find(|l| l.rel == rel && l.media_type.as_deref() == media_type)
}

/// Like [`find_link`], with an error naming the document when the link is missing.
pub fn require_link<'a>(
    links: &'a [Link],
    document: &str,
    rel: &str,
    media_type: Option<&str>,
) -> Result<&'a Link, VcdError> {
    find_link(links, rel, media_type).ok_or_else(|| VcdError::MissingLink {
        document: document.to_owned(),
        rel: rel.to_owned(),
        media_type: media_type.map(str::to_owned),
    })
}
