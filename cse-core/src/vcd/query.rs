//! The query service: `QueryList` (which typed queries the caller may run) and
//! `QueryResultRecords` with the record types CSE reads — `VAppRecord`/`AdminVAppRecord`
//! (cluster discovery, with `Metadata`), `AdminServiceRecord`/`ApiFilterRecord` (extension
//! registration), `CatalogRecord`, `CatalogItemRecord` (spec vcd-rest §4). Records of other
//! types are skipped.

use instant_xml::{FromXml, ToXml};

use super::link::{HasLinks, Link, LinkError, impl_has_links};
use super::media;
use super::metadata::Metadata;
use super::ns::{VCLOUD, XSI};

/// `QueryList`: one link per (query type, format).
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "QueryList", ns(VCLOUD))]
pub struct QueryList {
    /// Self href.
    #[xml(attribute)]
    pub href: Option<String>,
    /// Media type.
    #[xml(attribute, rename = "type")]
    pub media_type: Option<String>,
    /// Query links (`name` = query type, `type` = format media type).
    pub links: Vec<Link>,
}

impl QueryList {
    /// The href for a query type and format media type (pyvcloud's `(type, name)` map).
    /// Ends with query parameters (contains `?`), so callers append `&page=…`.
    pub fn query_href(&self, query_type: &str, format_media_type: &str) -> Option<&str> {
        self.links_matching("down", Some(format_media_type))
            .into_iter()
            .find(|link| link.name.as_deref() == Some(query_type))
            .map(|link| link.href.as_str())
    }
}

macro_rules! vapp_record {
    ($(#[$doc:meta])* $name:ident, $tag:tt) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
        #[xml(rename = $tag, ns(VCLOUD))]
        pub struct $name {
            /// vApp href (`records` format).
            #[xml(attribute)]
            pub href: Option<String>,
            /// vApp URN (`idrecords` format).
            #[xml(attribute)]
            pub id: Option<String>,
            /// vApp name.
            #[xml(attribute)]
            pub name: String,
            /// VDC reference (href or URN by format).
            #[xml(attribute)]
            pub vdc: Option<String>,
            /// VDC name.
            #[xml(attribute, rename = "vdcName")]
            pub vdc_name: Option<String>,
            /// Org reference (admin records).
            #[xml(attribute)]
            pub org: Option<String>,
            /// Status text (`POWERED_ON`, `RESOLVED`, ...).
            #[xml(attribute)]
            pub status: Option<String>,
            /// Number of VMs.
            #[xml(attribute, rename = "numberOfVMs")]
            pub number_of_vms: Option<u32>,
            /// Owner name.
            #[xml(attribute, rename = "ownerName")]
            pub owner_name: Option<String>,
            /// Whether deployed.
            #[xml(attribute, rename = "isDeployed")]
            pub is_deployed: Option<bool>,
            /// Whether busy.
            #[xml(attribute, rename = "isBusy")]
            pub is_busy: Option<bool>,
            /// Links.
            pub links: Vec<Link>,
            /// Requested metadata fields.
            pub metadata: Option<Metadata>,
        }

        impl $name {
            /// A requested metadata value.
            pub fn metadata_value(&self, key: &str) -> Option<&str> {
                self.metadata.as_ref()?.get(key)
            }
        }
    };
}

vapp_record!(
    /// `VAppRecord` (tenant `vApp` query).
    VAppRecord,
    "VAppRecord"
);
vapp_record!(
    /// `AdminVAppRecord` (sysadmin `adminVApp` query).
    AdminVAppRecord,
    "AdminVAppRecord"
);

/// `AdminServiceRecord` (extension services).
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "AdminServiceRecord", ns(VCLOUD))]
pub struct AdminServiceRecord {
    /// Service href (`records`).
    #[xml(attribute)]
    pub href: Option<String>,
    /// Service URN (`idrecords`).
    #[xml(attribute)]
    pub id: Option<String>,
    /// Service name.
    #[xml(attribute)]
    pub name: String,
    /// Service namespace.
    #[xml(attribute)]
    pub namespace: Option<String>,
    /// Vendor.
    #[xml(attribute)]
    pub vendor: Option<String>,
    /// Whether routing is enabled.
    #[xml(attribute)]
    pub enabled: Option<bool>,
    /// AMQP exchange.
    #[xml(attribute)]
    pub exchange: Option<String>,
    /// AMQP routing key.
    #[xml(attribute, rename = "routingKey")]
    pub routing_key: Option<String>,
    /// Priority.
    #[xml(attribute)]
    pub priority: Option<i32>,
    /// Authorization enabled.
    #[xml(attribute, rename = "isAuthorizationEnabled")]
    pub is_authorization_enabled: Option<bool>,
    /// Description.
    #[xml(attribute)]
    pub description: Option<String>,
}

/// `ApiFilterRecord`.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "ApiFilterRecord", ns(VCLOUD))]
pub struct ApiFilterRecord {
    /// Filter href.
    #[xml(attribute)]
    pub href: Option<String>,
    /// Filter URN.
    #[xml(attribute)]
    pub id: Option<String>,
    /// Owning service reference.
    #[xml(attribute)]
    pub service: Option<String>,
    /// URL pattern.
    #[xml(attribute, rename = "urlPattern")]
    pub url_pattern: String,
}

/// `CatalogRecord`.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "CatalogRecord", ns(VCLOUD))]
pub struct CatalogRecord {
    /// Catalog href.
    #[xml(attribute)]
    pub href: Option<String>,
    /// Catalog URN.
    #[xml(attribute)]
    pub id: Option<String>,
    /// Catalog name.
    #[xml(attribute)]
    pub name: String,
    /// Description.
    #[xml(attribute)]
    pub description: Option<String>,
    /// Whether published.
    #[xml(attribute, rename = "isPublished")]
    pub is_published: Option<bool>,
    /// Whether shared.
    #[xml(attribute, rename = "isShared")]
    pub is_shared: Option<bool>,
    /// Owning org name.
    #[xml(attribute, rename = "orgName")]
    pub org_name: Option<String>,
    /// Owner name.
    #[xml(attribute, rename = "ownerName")]
    pub owner_name: Option<String>,
    /// Number of templates.
    #[xml(attribute, rename = "numberOfVAppTemplates")]
    pub number_of_vapp_templates: Option<u32>,
}

/// `CatalogItemRecord`.
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "CatalogItemRecord", ns(VCLOUD))]
pub struct CatalogItemRecord {
    /// Item href.
    #[xml(attribute)]
    pub href: Option<String>,
    /// Item URN.
    #[xml(attribute)]
    pub id: Option<String>,
    /// Item name.
    #[xml(attribute)]
    pub name: String,
    /// Catalog name.
    #[xml(attribute, rename = "catalogName")]
    pub catalog_name: Option<String>,
    /// Catalog reference.
    #[xml(attribute)]
    pub catalog: Option<String>,
    /// Entity reference (template).
    #[xml(attribute)]
    pub entity: Option<String>,
    /// Entity name.
    #[xml(attribute, rename = "entityName")]
    pub entity_name: Option<String>,
    /// `vapptemplate` or `media`.
    #[xml(attribute, rename = "entityType")]
    pub entity_type: Option<String>,
    /// Status text.
    #[xml(attribute)]
    pub status: Option<String>,
}

/// One record of a query result; unknown record types are skipped when parsing.
#[derive(Debug, Clone, PartialEq, Eq, FromXml, ToXml)]
#[xml(forward)]
pub enum QueryRecord {
    /// `VAppRecord`.
    VApp(VAppRecord),
    /// `AdminVAppRecord`.
    AdminVApp(AdminVAppRecord),
    /// `AdminServiceRecord`.
    AdminService(AdminServiceRecord),
    /// `ApiFilterRecord`.
    ApiFilter(ApiFilterRecord),
    /// `CatalogRecord`.
    Catalog(CatalogRecord),
    /// `CatalogItemRecord`.
    CatalogItem(CatalogItemRecord),
}

/// `QueryResultRecords` (`records` / `idrecords` formats).
#[derive(Debug, Clone, PartialEq, Eq, Default, FromXml, ToXml)]
#[xml(rename = "QueryResultRecords", ns(VCLOUD, xsi = XSI))]
pub struct QueryResultRecords {
    /// Self href.
    #[xml(attribute)]
    pub href: Option<String>,
    /// Format media type.
    #[xml(attribute, rename = "type")]
    pub media_type: Option<String>,
    /// Query type name.
    #[xml(attribute)]
    pub name: Option<String>,
    /// Page number (1-based).
    #[xml(attribute)]
    pub page: Option<u32>,
    /// Page size.
    #[xml(attribute, rename = "pageSize")]
    pub page_size: Option<u32>,
    /// Total number of records over all pages.
    #[xml(attribute)]
    pub total: Option<u64>,
    /// Paging links (`nextPage`, ...).
    pub links: Vec<Link>,
    /// Records.
    pub records: Vec<QueryRecord>,
}

impl QueryResultRecords {
    /// The `nextPage` href (the only paging link pyvcloud follows); `None` on the last page.
    pub fn next_page_href(&self) -> Option<&str> {
        self.links()
            .iter()
            .find(|link| link.rel == "nextPage")
            .map(|link| link.href.as_str())
    }

    /// The vApp records (tenant and admin), as the common tenant shape.
    pub fn vapp_records(&self) -> impl Iterator<Item = VAppRecord> + '_ {
        self.records.iter().filter_map(|record| match record {
            QueryRecord::VApp(r) => Some(r.clone()),
            QueryRecord::AdminVApp(r) => Some(VAppRecord {
                href: r.href.clone(),
                id: r.id.clone(),
                name: r.name.clone(),
                vdc: r.vdc.clone(),
                vdc_name: r.vdc_name.clone(),
                org: r.org.clone(),
                status: r.status.clone(),
                number_of_vms: r.number_of_vms,
                owner_name: r.owner_name.clone(),
                is_deployed: r.is_deployed,
                is_busy: r.is_busy,
                links: r.links.clone(),
                metadata: r.metadata.clone(),
            }),
            _ => None,
        })
    }

    /// The extension-service records.
    pub fn admin_service_records(&self) -> impl Iterator<Item = &AdminServiceRecord> + '_ {
        self.records.iter().filter_map(|record| match record {
            QueryRecord::AdminService(r) => Some(r),
            _ => None,
        })
    }

    /// The API-filter records.
    pub fn api_filter_records(&self) -> impl Iterator<Item = &ApiFilterRecord> + '_ {
        self.records.iter().filter_map(|record| match record {
            QueryRecord::ApiFilter(r) => Some(r),
            _ => None,
        })
    }

    /// Fails unless exactly one link of the given kind exists — convenience for callers
    /// that need a specific paging link.
    pub fn paging_link(&self, rel: &str) -> Result<&Link, LinkError> {
        self.find_link(rel, self.media_type.as_deref())
    }
}

impl_has_links!(QueryList, QueryResultRecords, VAppRecord, AdminVAppRecord);

super::vcd_document! {
    QueryList => "QueryList", media::QUERY_LIST;
    QueryResultRecords => "QueryResultRecords", media::QUERY_RECORDS;
}
