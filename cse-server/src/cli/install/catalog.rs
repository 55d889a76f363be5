//! Install step 4: the template catalog in `broker.org`, created when missing
//! (described `CSE templates` and marked with metadata so `uninstall` knows it
//! is ours) and published to every org.

use cse_core::vcd::{
    AdminCatalog, Catalog, HasLinks, Metadata, MetadataEntry, PublishCatalogParams, media,
};

use crate::cli::CliContext;
use crate::cli::check::Validated;
use crate::cli::error::CliError;
use crate::cli::lookup;

/// Metadata key set on a catalog `cse install` created.
pub const CREATED_BY_INSTALL: &str = "cse.install.created";

/// The catalog, created and published as needed.
pub async fn ensure(validated: &Validated, ctx: &mut CliContext<'_>) -> Result<Catalog, CliError> {
    let client = &validated.client;
    let broker = &validated.config.broker;
    let catalog = match lookup::find_catalog(client, &broker.org, &broker.catalog).await? {
        Some(catalog) => {
            ctx.say(format!("Found catalog '{}'", broker.catalog));
            catalog
        }
        None => {
            let org_href = lookup::admin_org_href(client, &broker.org)
                .await?
                .ok_or_else(|| CliError::Missing(format!("Org '{}' not found", broker.org)))?;
            let answer = client
                .post_doc(
                    &format!("{org_href}/catalogs"),
                    &AdminCatalog::create(&broker.catalog, "CSE templates"),
                )
                .await?;
            if let Some(task) = client.wait_for_answer(&answer).await? {
                task.into_result()?;
            }
            let catalog = lookup::find_catalog(client, &broker.org, &broker.catalog)
                .await?
                .ok_or_else(|| {
                    CliError::Missing(format!(
                        "Catalog '{}' vanished after creation",
                        broker.catalog
                    ))
                })?;
            let metadata_href = format!("{}/metadata", catalog.href);
            let answer = client
                .post_doc(
                    &metadata_href,
                    &Metadata::with_entries(vec![MetadataEntry::string(
                        CREATED_BY_INSTALL,
                        "true",
                    )]),
                )
                .await?;
            if let Some(task) = client.wait_for_answer(&answer).await? {
                task.into_result()?;
            }
            ctx.say(format!("Created catalog '{}'", broker.catalog));
            catalog
        }
    };
    if catalog.is_published != Some(true) {
        let href = catalog
            .publish_href()
            .map(str::to_owned)
            .or_else(|_| {
                catalog
                    .link_href("publish", Some(media::PUBLISH_CATALOG_PARAMS))
                    .map(str::to_owned)
            })
            .unwrap_or_else(|_| {
                client.api_url(&format!(
                    "admin/catalog/{}/action/publish",
                    catalog.href.rsplit('/').next().unwrap_or_default()
                ))
            });
        let answer = client
            .post_doc(&href, &PublishCatalogParams { is_published: true })
            .await?;
        if let Some(task) = client.wait_for_answer(&answer).await? {
            task.into_result()?;
        }
        ctx.say(format!("Published catalog '{}'", broker.catalog));
    } else {
        ctx.say(format!("Catalog '{}' is published", broker.catalog));
    }
    Ok(catalog)
}

/// Whether `cse install` created this catalog.
pub async fn created_by_install(
    client: &cse_vcd::vcd::Client,
    catalog: &Catalog,
) -> Result<bool, CliError> {
    let metadata: Metadata = client
        .get_doc(&format!("{}/metadata", catalog.href))
        .await?;
    Ok(metadata.get(CREATED_BY_INSTALL) == Some("true"))
}
