//! vCD look-ups shared by `check`, `install` and `uninstall`, all as system
//! administrator: org, VDC, catalog, catalog item, template, vApp and the `cse`
//! extension registration, found by name.

use cse_core::vcd::{Catalog, CatalogItem, HasLinks, VAppTemplate, Vdc, entity_id, media};

use super::error::CliError;
use cse_vcd::vcd::{Client, Filter, Query, QueryFormat, QueryRecord};

/// Name and namespace of CSE's extension registration.
pub const CSE_SERVICE: &str = "cse";

/// Status of a resolved (usable) template.
pub const TEMPLATE_RESOLVED: i32 = 8;

fn one_record(records: Vec<QueryRecord>) -> Option<QueryRecord> {
    records.into_iter().next()
}

fn uuid_of(record: &QueryRecord, what: &str) -> Result<String, CliError> {
    let value = record.id().or(record.href()).unwrap_or_default();
    entity_id(value).map_err(|e| CliError::Missing(format!("{what}: unreadable id '{value}': {e}")))
}

/// The admin href (`/api/admin/org/<id>`) of org `name`.
pub async fn admin_org_href(client: &Client, name: &str) -> Result<Option<String>, CliError> {
    let records = client
        .query(&Query::new("organization", QueryFormat::Records).filter(Filter::eq("name", name)))
        .await?;
    match one_record(records) {
        Some(record) => Ok(Some(
            client.api_url(&format!("admin/org/{}", uuid_of(&record, "org")?)),
        )),
        None => Ok(None),
    }
}

/// The VDC `vdc` of org `org`.
pub async fn find_vdc(client: &Client, org: &str, vdc: &str) -> Result<Option<Vdc>, CliError> {
    let records = client
        .query(
            &Query::new("adminOrgVdc", QueryFormat::Records)
                .filter(Filter::eq("name", vdc).and_eq("orgName", org)),
        )
        .await?;
    match one_record(records) {
        Some(record) => {
            let href = client.api_url(&format!("vdc/{}", uuid_of(&record, "VDC")?));
            Ok(Some(client.get_doc::<Vdc>(&href).await?))
        }
        None => Ok(None),
    }
}

/// Catalog `name` of org `org` (tenant view, with upload and capture links).
pub async fn find_catalog(
    client: &Client,
    org: &str,
    name: &str,
) -> Result<Option<Catalog>, CliError> {
    let records = client
        .query(
            &Query::new("adminCatalog", QueryFormat::Records)
                .filter(Filter::eq("name", name).and_eq("orgName", org)),
        )
        .await?;
    match one_record(records) {
        Some(record) => {
            let href = client.api_url(&format!("catalog/{}", uuid_of(&record, "catalog")?));
            Ok(Some(client.get_doc::<Catalog>(&href).await?))
        }
        None => Ok(None),
    }
}

/// Item `name` of `catalog` with the template it points at (`None` when the item
/// is missing).
pub async fn find_item(
    client: &Client,
    catalog: &Catalog,
    name: &str,
) -> Result<Option<(CatalogItem, Option<VAppTemplate>)>, CliError> {
    let Some(item_ref) = catalog.item(name) else {
        return Ok(None);
    };
    let item: CatalogItem = match client.get_doc(&item_ref.href).await {
        Ok(item) => item,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let template = match client.get_doc::<VAppTemplate>(&item.entity.href).await {
        Ok(t) => Some(t),
        Err(e) if e.is_not_found() => None,
        Err(e) => return Err(e.into()),
    };
    Ok(Some((item, template)))
}

/// Whether a template finished importing or capturing (status 8, no file left to upload).
pub fn template_is_complete(template: &VAppTemplate) -> bool {
    template.status == Some(TEMPLATE_RESOLVED) && template.files().is_empty()
}

/// Deletes a catalog item (and its template), waiting for vCD's task.
pub async fn delete_item(client: &Client, item: &CatalogItem) -> Result<(), CliError> {
    let href = item
        .link_href("remove", None)
        .map(str::to_owned)
        .unwrap_or_else(|_| item.href.clone());
    match client.delete(&href).await {
        Ok(answer) => {
            if let Some(task) = client.wait_for_answer(&answer).await? {
                task.into_result()?;
            }
            Ok(())
        }
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The href of vApp `name` in `vdc`.
pub fn vapp_href(vdc: &Vdc, name: &str) -> Option<String> {
    vdc.resource_entities_named(name, media::VAPP)
        .next()
        .map(|e| e.href.clone())
}

/// Deletes the vApp at `href` (`force=true`: powered off first), waiting for the task.
pub async fn delete_vapp(client: &Client, href: &str) -> Result<(), CliError> {
    let url = format!("{href}?force=true&recursive=false");
    match client.delete(&url).await {
        Ok(answer) => {
            if let Some(task) = client.wait_for_answer(&answer).await? {
                task.into_result()?;
            }
            Ok(())
        }
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The `cse` extension registration: `(href, enabled, exchange, routing key)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    /// Service href.
    pub href: String,
    /// Whether vCD routes to it.
    pub enabled: bool,
    /// Exchange it publishes to.
    pub exchange: String,
    /// Routing key.
    pub routing_key: String,
}

/// Looks up the `cse`/`cse` registration (`adminService` records).
pub async fn find_registration(client: &Client) -> Result<Option<Registration>, CliError> {
    let records = client
        .query(
            &Query::new("adminService", QueryFormat::Records)
                .filter(Filter::eq("name", CSE_SERVICE).and_eq("namespace", CSE_SERVICE)),
        )
        .await?;
    Ok(one_record(records).and_then(|r| {
        Some(Registration {
            href: r.href()?.to_owned(),
            enabled: r.attr("enabled") == Some("true"),
            exchange: r.attr("exchange").unwrap_or_default().to_owned(),
            routing_key: r.attr("routingKey").unwrap_or_default().to_owned(),
        })
    }))
}
