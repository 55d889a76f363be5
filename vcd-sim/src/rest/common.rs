//! What every resource family of the REST API shares: vCD's media types,
//! hrefs, references and entity roots, the ids of request paths, query-string
//! flags and the reading of request bodies.

use chrono::{DateTime, SecondsFormat, Utc};

use super::context::VcdErrorResponse;
use super::xml::{Dom, El};
use crate::state::*;

/// Media types (exact strings).
pub mod mt {
    pub const SESSION: &str = "application/vnd.vmware.vcloud.session+xml";
    pub const ORG_LIST: &str = "application/vnd.vmware.vcloud.orgList+xml";
    pub const ORG: &str = "application/vnd.vmware.vcloud.org+xml";
    pub const VDC: &str = "application/vnd.vmware.vcloud.vdc+xml";
    pub const CATALOG: &str = "application/vnd.vmware.vcloud.catalog+xml";
    pub const CATALOG_ITEM: &str = "application/vnd.vmware.vcloud.catalogItem+xml";
    pub const TEMPLATE: &str = "application/vnd.vmware.vcloud.vAppTemplate+xml";
    pub const VAPP: &str = "application/vnd.vmware.vcloud.vApp+xml";
    pub const VM: &str = "application/vnd.vmware.vcloud.vm+xml";
    pub const TASK: &str = "application/vnd.vmware.vcloud.task+xml";
    pub const TASKS_LIST: &str = "application/vnd.vmware.vcloud.tasksList+xml";
    pub const METADATA: &str = "application/vnd.vmware.vcloud.metadata+xml";
    pub const METADATA_VALUE: &str = "application/vnd.vmware.vcloud.metadata.value+xml";
    pub const QUERY_LIST: &str = "application/vnd.vmware.vcloud.query.queryList+xml";
    pub const RECORDS: &str = "application/vnd.vmware.vcloud.query.records+xml";
    pub const IDRECORDS: &str = "application/vnd.vmware.vcloud.query.idrecords+xml";
    pub const REFERENCES: &str = "application/vnd.vmware.vcloud.query.references+xml";
    pub const NETWORK: &str = "application/vnd.vmware.vcloud.network+xml";
    pub const ORG_NETWORK: &str = "application/vnd.vmware.vcloud.orgNetwork+xml";
    pub const INSTANTIATE: &str = "application/vnd.vmware.vcloud.instantiateVAppTemplateParams+xml";
    pub const COMPOSE: &str = "application/vnd.vmware.vcloud.composeVAppParams+xml";
    pub const RECOMPOSE: &str = "application/vnd.vmware.vcloud.recomposeVAppParams+xml";
    pub const CAPTURE: &str = "application/vnd.vmware.vcloud.captureVAppParams+xml";
    pub const UPLOAD: &str = "application/vnd.vmware.vcloud.uploadVAppTemplateParams+xml";
    pub const MEDIA: &str = "application/vnd.vmware.vcloud.media+xml";
    pub const DEPLOY: &str = "application/vnd.vmware.vcloud.deployVAppParams+xml";
    pub const UNDEPLOY: &str = "application/vnd.vmware.vcloud.undeployVAppParams+xml";
    pub const RASD_ITEM: &str = "application/vnd.vmware.vcloud.rasdItem+xml";
    pub const VHS: &str = "application/vnd.vmware.vcloud.virtualHardwareSection+xml";
    pub const NCS: &str = "application/vnd.vmware.vcloud.networkConnectionSection+xml";
    pub const GCS: &str = "application/vnd.vmware.vcloud.guestCustomizationSection+xml";
    pub const OWNER: &str = "application/vnd.vmware.vcloud.owner+xml";
    pub const ENTITY: &str = "application/vnd.vmware.vcloud.entity+xml";
    pub const EXTENSIBILITY: &str = "application/vnd.vmware.vcloud.apiextensibility+xml";
    pub const ADMIN_VCLOUD: &str = "application/vnd.vmware.admin.vcloud+xml";
    pub const ADMIN_ORG: &str = "application/vnd.vmware.admin.organization+xml";
    pub const ADMIN_CATALOG: &str = "application/vnd.vmware.admin.catalog+xml";
    pub const PUBLISH: &str = "application/vnd.vmware.admin.publishCatalogParams+xml";
    pub const ADMIN_VDC: &str = "application/vnd.vmware.admin.vdc+xml";
    pub const USER: &str = "application/vnd.vmware.admin.user+xml";
    pub const ROLE: &str = "application/vnd.vmware.admin.role+xml";
    pub const RIGHT: &str = "application/vnd.vmware.admin.right+xml";
    pub const RIGHTS: &str = "application/vnd.vmware.admin.rights+xml";
    pub const ORG_RIGHTS: &str = "application/vnd.vmware.admin.org.rights+xml";
    pub const EXTENSION: &str = "application/vnd.vmware.admin.vmwExtension+xml";
    pub const SERVICES: &str = "application/vnd.vmware.admin.extensionServices+xml";
    pub const SERVICE: &str = "application/vnd.vmware.admin.service+xml";
    pub const API_FILTER: &str = "application/vnd.vmware.admin.apiFilter+xml";
    pub const API_FILTERS: &str = "application/vnd.vmware.admin.apiFilters+xml";
    pub const AMQP: &str = "application/vnd.vmware.admin.amqpSettings+xml";
    pub const AMQP_TEST: &str = "application/vnd.vmware.admin.amqpSettingsTest+xml";
    pub const VIM_REFS: &str = "application/vnd.vmware.admin.vmwVimServerReferences+xml";
    pub const VIM_SERVER: &str = "application/vnd.vmware.admin.vmwvirtualcenter+xml";
}

pub fn ts(d: DateTime<Utc>) -> String {
    d.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(super) fn href(base: &str, e: EntityRef) -> String {
    format!("{base}{}", e.path())
}

/// `<tag href name type [id]/>` reference element.
pub fn reference(tag: &'static str, base: &str, e: EntityRef, name: &str) -> El {
    El::new(tag)
        .attr("href", href(base, e))
        .attr("name", name)
        .attr("type", e.media_type())
}

pub(super) fn entity_root(tag: &'static str, base: &str, e: EntityRef, name: &str) -> El {
    El::root(tag)
        .attr("href", href(base, e))
        .attr("id", e.urn())
        .attr("name", name)
        .attr("type", e.media_type())
}

pub(super) fn metadata_link(el: El, base: &str, e: EntityRef) -> El {
    el.link(
        "down",
        format!("{}/metadata", href(base, e)),
        Some(mt::METADATA),
    )
}

pub(super) fn owner_el(g: &Inner, base: &str, user: Id) -> El {
    El::new("Owner").attr("type", mt::OWNER).child(reference(
        "User",
        base,
        EntityRef::User(user),
        &g.user_name(user),
    ))
}

impl El {
    /// Moves attributes and children of `other` into `self` (keeps `self`'s name and namespace declarations).
    pub fn merge_from(self, other: El) -> El {
        self.absorb(other)
    }
}

pub(super) fn id_of(s: &str) -> Result<Id, VcdErrorResponse> {
    uuid::Uuid::parse_str(s)
        .map_err(|_| VcdErrorResponse::not_found(format!("\"{s}\" is not a valid id.")))
}

/// `vapp-<uuid>` / `vm-<uuid>` of `/api/vApp/...`.
pub(super) fn vapp_entity(s: &str) -> Result<EntityRef, VcdErrorResponse> {
    if let Some(x) = s.strip_prefix("vapp-") {
        return Ok(EntityRef::VApp(id_of(x)?));
    }
    if let Some(x) = s.strip_prefix("vm-") {
        return Ok(EntityRef::Vm(id_of(x)?));
    }
    Err(VcdErrorResponse::not_found(format!(
        "\"{s}\" is not a vApp or VM id."
    )))
}

pub(super) fn template_entity(s: &str) -> Result<EntityRef, VcdErrorResponse> {
    if let Some(x) = s.strip_prefix("vappTemplate-") {
        return Ok(EntityRef::Template(id_of(x)?));
    }
    if let Some(x) = s.strip_prefix("vm-") {
        return Ok(EntityRef::TemplateVm(id_of(x)?));
    }
    Err(VcdErrorResponse::not_found(format!(
        "\"{s}\" is not a vApp template or VM id."
    )))
}

pub(super) fn entity_of(kind: &str, id: &str) -> Result<EntityRef, VcdErrorResponse> {
    Ok(match kind {
        "org" => EntityRef::Org(id_of(id)?),
        "vdc" => EntityRef::Vdc(id_of(id)?),
        "network" => EntityRef::Network(id_of(id)?),
        "catalog" => EntityRef::Catalog(id_of(id)?),
        "catalogItem" => EntityRef::CatalogItem(id_of(id)?),
        "vAppTemplate" => template_entity(id)?,
        _ => vapp_entity(id)?,
    })
}

pub(super) fn bool_param(raw: &Option<String>, name: &str) -> bool {
    raw.as_deref()
        .unwrap_or("")
        .split('&')
        .filter_map(|p| p.split_once('='))
        .any(|(k, v)| k == name && v.eq_ignore_ascii_case("true"))
}

pub(super) trait IntoOk {
    fn into_response_ok(self) -> axum::response::Response;
}

impl<T: axum::response::IntoResponse> IntoOk for T {
    fn into_response_ok(self) -> axum::response::Response {
        self.into_response()
    }
}

pub(super) type PResult<T> = Result<T, VcdErrorResponse>;

pub fn body_dom(body: &[u8]) -> PResult<Dom> {
    let text = std::str::from_utf8(body)
        .map_err(|_| VcdErrorResponse::bad_request("The request body is not UTF-8."))?;
    Ok(Dom::parse(text)?)
}

pub(super) fn href_id(d: &Dom, what: &str) -> PResult<Id> {
    let h = d
        .attr("href")
        .ok_or_else(|| VcdErrorResponse::bad_request(format!("{what} has no href.")))?;
    uuid_of(h).ok_or_else(|| {
        VcdErrorResponse::bad_request(format!("{what} href \"{h}\" is not a valid reference."))
    })
}

pub(super) fn ovf_info(text: &str) -> El {
    El::new("ovf:Info").text(text)
}
