//! `Session` (login / re-hydrate answer), `OrgList` and `Org` (spec vcd-rest §2.5, §3.3).

use instant_xml::{FromXml, ToXml};

use super::link::{HasLinks, Link, LinkError, impl_has_links};
use super::media;
use super::ns::VCLOUD;

/// `Session`: who is logged in and the entry-point links.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "Session", ns(VCLOUD))]
pub struct Session {
    /// Self href.
    #[xml(attribute)]
    pub href: Option<String>,
    /// Media type.
    #[xml(attribute, rename = "type")]
    pub media_type: Option<String>,
    /// User name.
    #[xml(attribute)]
    pub user: String,
    /// User URN (`urn:vcloud:user:<uuid>`); CSE puts it in its tasks' `User@href`.
    #[xml(attribute, rename = "userId")]
    pub user_id: Option<String>,
    /// Logged-in org name (`System` for system administrators).
    #[xml(attribute)]
    pub org: String,
    /// Role name(s), comma separated (CSE 1.2.6+ authorisation).
    #[xml(attribute)]
    pub roles: Option<String>,
    /// `<org-id>@<site-id>`.
    #[xml(attribute, rename = "locationId")]
    pub location_id: Option<String>,
    /// Entry-point links.
    pub links: Vec<Link>,
}

impl Session {
    /// Whether this is a system-administrator session (org `System`, case-insensitive, as
    /// pyvcloud decides).
    pub fn is_sysadmin(&self) -> bool {
        self.org.eq_ignore_ascii_case("system")
    }

    /// The single logged-in-org link (`rel=down`, org media type).
    pub fn org_link(&self) -> Result<&Link, LinkError> {
        self.find_link("down", Some(media::ORG))
    }

    /// The org list href.
    pub fn org_list_href(&self) -> Result<&str, LinkError> {
        self.link_href("down", Some(media::ORG_LIST))
    }

    /// The query list href.
    pub fn query_list_href(&self) -> Result<&str, LinkError> {
        self.link_href("down", Some(media::QUERY_LIST))
    }

    /// The admin root href (org and system administrators).
    pub fn admin_href(&self) -> Result<&str, LinkError> {
        self.link_href("down", Some(media::ADMIN_VCLOUD))
    }

    /// The extension root href (system administrators; no trailing `/`).
    pub fn extension_href(&self) -> Result<&str, LinkError> {
        self.link_href("down", Some(media::ADMIN_VMW_EXTENSION))
    }
}

/// `<Org href name type/>` inside an `OrgList`.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "Org", ns(VCLOUD))]
pub struct OrgRef {
    /// Org href.
    #[xml(attribute)]
    pub href: String,
    /// Org name.
    #[xml(attribute)]
    pub name: String,
    /// Media type.
    #[xml(attribute, rename = "type")]
    pub media_type: Option<String>,
}

/// `OrgList`: the orgs visible to the caller.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "OrgList", ns(VCLOUD))]
pub struct OrgList {
    /// Self href.
    #[xml(attribute)]
    pub href: Option<String>,
    /// Media type.
    #[xml(attribute, rename = "type")]
    pub media_type: Option<String>,
    /// One reference per org.
    pub orgs: Vec<OrgRef>,
}

impl OrgList {
    /// The org with this name, case-insensitively (pyvcloud `get_org_by_name`).
    pub fn find(&self, name: &str) -> Option<&OrgRef> {
        self.orgs
            .iter()
            .find(|org| org.name.eq_ignore_ascii_case(name))
    }
}

/// `Org`: VDC, catalog, network, tasks-list and metadata links.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "Org", ns(VCLOUD))]
pub struct Org {
    /// Org href.
    #[xml(attribute)]
    pub href: String,
    /// `urn:vcloud:org:<uuid>`.
    #[xml(attribute)]
    pub id: Option<String>,
    /// Org name.
    #[xml(attribute)]
    pub name: String,
    /// Media type.
    #[xml(attribute, rename = "type")]
    pub media_type: Option<String>,
    /// Links.
    pub links: Vec<Link>,
    /// Description.
    #[xml(rename = "Description")]
    pub description: Option<String>,
    /// Full name.
    #[xml(rename = "FullName")]
    pub full_name: Option<String>,
}

impl Org {
    /// The VDC link with this name.
    pub fn vdc_link(&self, name: &str) -> Option<&Link> {
        self.find_named_link("down", media::VDC, name)
    }

    /// The catalog link with this name (own or published; first match wins).
    pub fn catalog_link(&self, name: &str) -> Option<&Link> {
        self.find_named_link("down", media::CATALOG, name)
    }

    /// The org's tasks-list href, where CSE posts its own tasks.
    pub fn tasks_list_href(&self) -> Result<&str, LinkError> {
        self.link_href("down", Some(media::TASKS_LIST))
    }
}

impl_has_links!(Session, Org);

super::vcd_document! {
    Session => "Session", media::SESSION;
    OrgList => "OrgList", media::ORG_LIST;
    Org => "Org", media::ORG;
}
