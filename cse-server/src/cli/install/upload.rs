//! Uploads an unpacked OVA into a catalog the way vCD expects (spec vcd-rest §5.3):
//! `UploadVAppTemplateParams`, the descriptor, then each referenced file in
//! `Content-Range` chunks, with an indicatif bar; then waits until the template
//! is resolved.

use std::io::SeekFrom;
use std::time::Duration;

use cse_core::vcd::{
    Catalog, CatalogItem, HasLinks, UploadVAppTemplateParams, VAppTemplate, media,
};
use indicatif::ProgressBar;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::time::Instant;

use super::ova::UnpackedOva;
use super::progress::progress_bar;
use crate::cli::error::CliError;
use crate::cli::lookup;
use cse_vcd::vcd::Client;

/// Bytes per `PUT` of a file (pyvcloud's default chunk).
pub const CHUNK_SIZE: u64 = 10 * 1024 * 1024;

/// Uploads `ova` as item `item_name` of `catalog`; returns the item once its
/// template is resolved.
pub async fn upload(
    client: &Client,
    catalog: &Catalog,
    item_name: &str,
    ova: &UnpackedOva,
    progress: bool,
) -> Result<CatalogItem, CliError> {
    let upload_href = catalog
        .link_href("add", Some(media::UPLOAD_VAPP_TEMPLATE_PARAMS))
        .map_err(|e| CliError::Missing(format!("catalog '{}': {e}", catalog.name)))?;
    let params = UploadVAppTemplateParams {
        name: item_name.to_owned(),
        description: Some(String::new()),
    };
    let item: CatalogItem = client.post_doc(upload_href, &params).await?.parse()?;
    let template_href = item.entity.href.clone();
    let template: VAppTemplate = client.get_doc(&template_href).await?;
    let descriptor_href = template
        .files()
        .first()
        .and_then(|f| f.upload_href())
        .ok_or_else(|| CliError::Missing("the new template offers no descriptor upload".into()))?
        .to_owned();
    client
        .put(&descriptor_href, "text/xml", &ova.descriptor)
        .await?;

    let settings = client.settings();
    let deadline = Instant::now() + settings.task_timeout;
    let template = loop {
        let template: VAppTemplate = client.get_doc(&template_href).await?;
        if template.files().len() > 1 || lookup::template_is_complete(&template) {
            break template;
        }
        if Instant::now() >= deadline {
            return Err(CliError::Missing(format!(
                "vCD did not list the OVA's files after the descriptor upload ({template_href})"
            )));
        }
        tokio::time::sleep(settings.task_poll_interval).await;
    };

    let http = cse_vcd::vcd::http::build_http_client(&settings.tls, settings.http)
        .map_err(|e| CliError::Missing(format!("HTTP client: {e}")))?;
    let total: u64 = ova.files.iter().map(|f| f.size).sum();
    let bar = progress_bar(progress, Some(total), "upload");
    for file in &ova.files {
        let target = template
            .files()
            .iter()
            .find(|f| f.name == file.href)
            .and_then(|f| f.upload_href())
            .ok_or_else(|| {
                CliError::Missing(format!("vCD offers no upload target for '{}'", file.href))
            })?;
        put_file(client, &http, target, file, &bar).await?;
    }
    bar.finish_and_clear();
    wait_resolved(client, &template_href).await?;
    Ok(item)
}

async fn put_file(
    client: &Client,
    http: &reqwest::Client,
    target: &str,
    file: &super::ova::OvfFile,
    bar: &ProgressBar,
) -> Result<(), CliError> {
    let mut source = tokio::fs::File::open(&file.path)
        .await
        .map_err(|e| CliError::io(format!("opening '{}'", file.path.display()), e))?;
    let total = file.size;
    let mut start = 0u64;
    while start < total {
        let len = CHUNK_SIZE.min(total - start);
        let mut buffer = vec![0u8; len as usize];
        source
            .seek(SeekFrom::Start(start))
            .await
            .and(source.read_exact(&mut buffer).await.map(drop))
            .map_err(|e| CliError::io(format!("reading '{}'", file.path.display()), e))?;
        let range = format!("bytes {}-{}/{}", start, start + len - 1, total);
        let mut attempt = 0;
        loop {
            attempt += 1;
            // The session's own header: x-vcloud-authorization or Authorization: Bearer.
            let auth = client.token().header();
            let result = http
                .put(target)
                .header(auth.name, auth.value.expose())
                .header("Content-Range", &range)
                .body(buffer.clone())
                .send()
                .await;
            match result {
                Ok(r) if r.status().is_success() => break,
                Ok(r) if attempt >= 5 => {
                    return Err(CliError::Missing(format!(
                        "upload of '{}' ({range}) refused: HTTP {}",
                        file.href,
                        r.status()
                    )));
                }
                Err(e) if attempt >= 5 => {
                    return Err(CliError::Missing(format!(
                        "upload of '{}' ({range}) failed: {e}",
                        file.href
                    )));
                }
                _ => tokio::time::sleep(Duration::from_millis(100 * attempt)).await,
            }
        }
        bar.inc(len);
        start += len;
    }
    Ok(())
}

/// Waits until the template at `href` is resolved (its import task, when listed,
/// has ended; a template without `Tasks` and status 8 is resolved).
pub async fn wait_resolved(client: &Client, href: &str) -> Result<(), CliError> {
    let settings = client.settings();
    let deadline = Instant::now() + settings.task_timeout;
    loop {
        let template: VAppTemplate = client.get_doc(href).await?;
        if let Some(task_href) = template.first_task().and_then(|t| t.href.clone()) {
            client.wait_for_task_href(&task_href).await?.into_result()?;
        } else if lookup::template_is_complete(&template) {
            return Ok(());
        } else if template.status == Some(-1) {
            return Err(CliError::Missing(format!(
                "template {href} failed in vCD (status -1)"
            )));
        }
        if Instant::now() >= deadline {
            return Err(CliError::Missing(format!(
                "template {href} was not resolved in time"
            )));
        }
        tokio::time::sleep(settings.task_poll_interval).await;
    }
}
