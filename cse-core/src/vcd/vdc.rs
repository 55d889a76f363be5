//! `Vdc`: resource entities (vApps, templates), available networks, storage profiles
//! (spec vcd-rest §3.4).

use instant_xml::{FromXml, ToXml};

use super::link::{HasLinks, Link, LinkError, impl_has_links};
use super::media;
use super::ns::VCLOUD;
use super::reference::reference_type;

reference_type!(
    /// `ResourceEntity`: a vApp or template in the VDC.
    ResourceEntity, "ResourceEntity", VCLOUD
);
reference_type!(
    /// `Network` inside `AvailableNetworks`.
    AvailableNetwork, "Network", VCLOUD
);
reference_type!(
    /// `VdcStorageProfile` inside `VdcStorageProfiles`.
    VdcStorageProfile, "VdcStorageProfile", VCLOUD
);

/// `ResourceEntities`.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "ResourceEntities", ns(VCLOUD))]
pub struct ResourceEntities {
    /// The entities.
    pub entities: Vec<ResourceEntity>,
}

/// `AvailableNetworks`.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "AvailableNetworks", ns(VCLOUD))]
pub struct AvailableNetworks {
    /// The org VDC networks.
    pub networks: Vec<AvailableNetwork>,
}

/// `VdcStorageProfiles`.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "VdcStorageProfiles", ns(VCLOUD))]
pub struct VdcStorageProfiles {
    /// The profiles.
    pub profiles: Vec<VdcStorageProfile>,
}

/// `Vdc`.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "Vdc", ns(VCLOUD))]
pub struct Vdc {
    /// VDC href.
    #[xml(attribute)]
    pub href: String,
    /// `urn:vcloud:vdc:<uuid>`.
    #[xml(attribute)]
    pub id: Option<String>,
    /// VDC name.
    #[xml(attribute)]
    pub name: String,
    /// Status code.
    #[xml(attribute)]
    pub status: Option<i32>,
    /// Media type.
    #[xml(attribute, rename = "type")]
    pub media_type: Option<String>,
    /// Links (`up` org, compose / instantiate / capture actions, metadata).
    pub links: Vec<Link>,
    /// Description.
    #[xml(rename = "Description")]
    pub description: Option<String>,
    /// vApps and templates in the VDC.
    pub resource_entities: Option<ResourceEntities>,
    /// Org VDC networks.
    pub available_networks: Option<AvailableNetworks>,
    /// Storage profiles.
    pub storage_profiles: Option<VdcStorageProfiles>,
}

impl Vdc {
    /// Resource entities of a media type with this name (pv20 `get_vapp` finds vApps here;
    /// more than one match is the caller's error to report).
    pub fn resource_entities_named<'a>(
        &'a self,
        name: &'a str,
        media_type: &'a str,
    ) -> impl Iterator<Item = &'a ResourceEntity> + 'a {
        self.resource_entities
            .iter()
            .flat_map(|r| r.entities.iter())
            .filter(move |e| {
                e.name.as_deref() == Some(name) && e.media_type.as_deref() == Some(media_type)
            })
    }

    /// The available network with this name.
    pub fn network(&self, name: &str) -> Option<&AvailableNetwork> {
        self.available_networks
            .iter()
            .flat_map(|n| n.networks.iter())
            .find(|n| n.name.as_deref() == Some(name))
    }

    /// The storage profile with this name (`*` is the default profile CSE configures).
    pub fn storage_profile(&self, name: &str) -> Option<&VdcStorageProfile> {
        self.storage_profiles
            .iter()
            .flat_map(|p| p.profiles.iter())
            .find(|p| p.name.as_deref() == Some(name))
    }

    /// The compose action href.
    pub fn compose_href(&self) -> Result<&str, LinkError> {
        self.link_href("add", Some(media::COMPOSE_VAPP_PARAMS))
    }

    /// The instantiate action href.
    pub fn instantiate_href(&self) -> Result<&str, LinkError> {
        self.link_href("add", Some(media::INSTANTIATE_VAPP_TEMPLATE_PARAMS))
    }
}

impl_has_links!(Vdc);

super::vcd_document! {
    Vdc => "Vdc", media::VDC;
}
