//! `Catalog`, `CatalogItem`, `AdminCatalog` (create) and `PublishCatalogParams`
//! (spec vcd-rest §5.1, §5.2).

use instant_xml::{FromXml, ToXml};

use super::link::{HasLinks, Link, LinkError, impl_has_links};
use super::media;
use super::ns::VCLOUD;
use super::reference::reference_type;
use super::task::Tasks;

reference_type!(
    /// `CatalogItem` reference inside `Catalog/CatalogItems`.
    CatalogItemRef, "CatalogItem", VCLOUD
);
reference_type!(
    /// `Entity`: the template a catalog item points at.
    Entity, "Entity", VCLOUD
);

/// `CatalogItems` (always present in a catalog, possibly empty).
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "CatalogItems", ns(VCLOUD))]
pub struct CatalogItems {
    /// The items.
    pub items: Vec<CatalogItemRef>,
}

/// `Catalog`.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "Catalog", ns(VCLOUD))]
pub struct Catalog {
    /// Catalog href.
    #[xml(attribute)]
    pub href: String,
    /// `urn:vcloud:catalog:<uuid>`.
    #[xml(attribute)]
    pub id: Option<String>,
    /// Catalog name.
    #[xml(attribute)]
    pub name: String,
    /// Media type.
    #[xml(attribute, rename = "type")]
    pub media_type: Option<String>,
    /// Links (`add` upload / capture, `publish`, metadata).
    pub links: Vec<Link>,
    /// Description.
    #[xml(rename = "Description")]
    pub description: Option<String>,
    /// Items.
    pub catalog_items: Option<CatalogItems>,
    /// Whether published to all orgs.
    #[xml(rename = "IsPublished")]
    pub is_published: Option<bool>,
}

impl Catalog {
    /// The item with exactly this name (pyvcloud `get_catalog_item`).
    pub fn item(&self, name: &str) -> Option<&CatalogItemRef> {
        self.catalog_items
            .iter()
            .flat_map(|items| items.items.iter())
            .find(|item| item.name.as_deref() == Some(name))
    }

    /// The capture action href.
    pub fn capture_href(&self) -> Result<&str, LinkError> {
        self.link_href("add", Some(media::CAPTURE_VAPP_PARAMS))
    }

    /// The publish action href (tenant view from API 30.0 on).
    pub fn publish_href(&self) -> Result<&str, LinkError> {
        self.link_href("publish", Some(media::PUBLISH_CATALOG_PARAMS))
    }
}

/// `CatalogItem`.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "CatalogItem", ns(VCLOUD))]
pub struct CatalogItem {
    /// Item href.
    #[xml(attribute)]
    pub href: String,
    /// `urn:vcloud:catalogitem:<uuid>`.
    #[xml(attribute)]
    pub id: Option<String>,
    /// Item name.
    #[xml(attribute)]
    pub name: String,
    /// Media type.
    #[xml(attribute, rename = "type")]
    pub media_type: Option<String>,
    /// Links (`up`, `remove`, `edit`, metadata).
    pub links: Vec<Link>,
    /// Description.
    #[xml(rename = "Description")]
    pub description: Option<String>,
    /// The template (or media) the item points at.
    pub entity: Entity,
}

/// `AdminCatalog`: the body CSE posts to create a catalog, and vCD's answer (with `Tasks`).
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "AdminCatalog", ns(VCLOUD))]
pub struct AdminCatalog {
    /// Href (answers only).
    #[xml(attribute)]
    pub href: Option<String>,
    /// Id (answers only).
    #[xml(attribute)]
    pub id: Option<String>,
    /// Catalog name.
    #[xml(attribute)]
    pub name: String,
    /// Media type (answers only).
    #[xml(attribute, rename = "type")]
    pub media_type: Option<String>,
    /// Links (answers only).
    pub links: Vec<Link>,
    /// Description.
    #[xml(rename = "Description")]
    pub description: Option<String>,
    /// Running tasks (the create task).
    pub tasks: Option<Tasks>,
    /// Items (answers only).
    pub catalog_items: Option<CatalogItems>,
    /// Whether published.
    #[xml(rename = "IsPublished")]
    pub is_published: Option<bool>,
}

impl AdminCatalog {
    /// The create-catalog request body.
    pub fn create(name: &str, description: &str) -> Self {
        AdminCatalog {
            name: name.to_owned(),
            description: Some(description.to_owned()),
            ..AdminCatalog::default()
        }
    }
}

/// `PublishCatalogParams`.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "PublishCatalogParams", ns(VCLOUD))]
pub struct PublishCatalogParams {
    /// Publish (`true`) or unpublish.
    #[xml(rename = "IsPublished")]
    pub is_published: bool,
}

impl_has_links!(Catalog, CatalogItem, AdminCatalog);

super::vcd_document! {
    Catalog => "Catalog", media::CATALOG;
    CatalogItem => "CatalogItem", media::CATALOG_ITEM;
    AdminCatalog => "AdminCatalog", media::ADMIN_CATALOG;
    PublishCatalogParams => "PublishCatalogParams", media::PUBLISH_CATALOG_PARAMS;
}
