//! Metadata of every entity kind: `/api/{kind}/{id}/metadata[/{domain}]/{key}`
//! (get, merge, set, delete), the `Metadata`/`MetadataValue` documents and
//! the reading of their bodies.

use axum::body::Bytes;

use super::common::*;
use super::context::{ApiResult, Ctx, VcdErrorResponse};
use super::xml::{Dom, El};
use crate::state::*;

// ----- metadata -----

pub(super) async fn meta_get(ctx: Ctx, kind: &'static str, id: String) -> ApiResult {
    let caller = ctx.caller()?;
    let e = entity_of(kind, &id).map_err(|e| ctx.err(e))?;
    let entries = ctx.sim().metadata(&caller, e).map_err(|e| ctx.fail(e))?;
    ctx.ok(mt::METADATA, metadata(&ctx.base, e, &entries))
}

pub(super) async fn meta_post(ctx: Ctx, kind: &'static str, id: String, body: Bytes) -> ApiResult {
    let caller = ctx.caller()?;
    let e = entity_of(kind, &id).map_err(|e| ctx.err(e))?;
    let dom = body_dom(&body).map_err(|e| ctx.err(e))?;
    let entries = parse_metadata(&dom).map_err(|e| ctx.err(e))?;
    let task = ctx
        .sim()
        .set_metadata(&caller, e, entries)
        .map_err(|e| ctx.fail(e))?;
    super::tasks::task_response(&ctx, task)
}

pub(super) fn domain_param(d: Option<String>) -> Result<Option<Domain>, VcdErrorResponse> {
    match d {
        None => Ok(None),
        Some(d) => Domain::parse(&d).map(Some).ok_or_else(|| {
            VcdErrorResponse::not_found(format!("Unknown metadata domain \"{d}\"."))
        }),
    }
}

pub(super) async fn meta_value_get(
    ctx: Ctx,
    kind: &'static str,
    id: String,
    domain: Option<String>,
    key: String,
) -> ApiResult {
    let caller = ctx.caller()?;
    let e = entity_of(kind, &id).map_err(|e| ctx.err(e))?;
    let domain = domain_param(domain).map_err(|e| ctx.err(e))?;
    let x = ctx
        .sim()
        .metadata_value(&caller, e, domain, &key)
        .map_err(|e| ctx.fail(e))?;
    ctx.ok(mt::METADATA_VALUE, metadata_value(&ctx.base, e, &x))
}

pub(super) async fn meta_value_put(
    ctx: Ctx,
    kind: &'static str,
    id: String,
    domain: Option<String>,
    key: String,
    body: Bytes,
) -> ApiResult {
    let caller = ctx.caller()?;
    let e = entity_of(kind, &id).map_err(|e| ctx.err(e))?;
    let domain = domain_param(domain).map_err(|e| ctx.err(e))?;
    let dom = body_dom(&body).map_err(|e| ctx.err(e))?;
    let entry = parse_metadata_value(&dom, &key, domain).map_err(|e| ctx.err(e))?;
    let task = ctx
        .sim()
        .set_metadata(&caller, e, vec![entry])
        .map_err(|e| ctx.fail(e))?;
    super::tasks::task_response(&ctx, task)
}

pub(super) async fn meta_value_delete(
    ctx: Ctx,
    kind: &'static str,
    id: String,
    domain: Option<String>,
    key: String,
) -> ApiResult {
    let caller = ctx.caller()?;
    let e = entity_of(kind, &id).map_err(|e| ctx.err(e))?;
    let domain = domain_param(domain).map_err(|e| ctx.err(e))?;
    let task = ctx
        .sim()
        .delete_metadata(&caller, e, domain, &key)
        .map_err(|e| ctx.fail(e))?;
    super::tasks::task_response(&ctx, task)
}

pub(super) fn typed_value(e: &MetaEntry) -> El {
    El::new("TypedValue")
        .attr("xsi:type", e.kind.xsi_type())
        .leaf("Value", &e.value)
}

/// `GET <entity>/metadata` (§7).
pub fn metadata(base: &str, e: EntityRef, entries: &[MetaEntry]) -> El {
    let h = format!("{}/metadata", href(base, e));
    let mut el = El::root("Metadata")
        .attr("href", &h)
        .attr("type", mt::METADATA)
        .link("up", href(base, e), Some(e.media_type()))
        .link("add", &h, Some(mt::METADATA));
    for x in entries {
        let eh = format!("{h}/{}/{}", x.domain.as_str(), x.key);
        el.push(
            El::new("MetadataEntry")
                .link("edit", &eh, Some(mt::METADATA_VALUE))
                .link("remove", &eh, None)
                .child(
                    El::new("Domain")
                        .attr("visibility", &x.visibility)
                        .text(x.domain.as_str()),
                )
                .leaf("Key", &x.key)
                .child(typed_value(x)),
        );
    }
    el
}

/// `GET <entity>/metadata/[DOMAIN/]key`.
pub fn metadata_value(base: &str, e: EntityRef, x: &MetaEntry) -> El {
    let h = format!("{}/metadata/{}/{}", href(base, e), x.domain.as_str(), x.key);
    El::root("MetadataValue")
        .attr("href", &h)
        .attr("type", mt::METADATA_VALUE)
        .link(
            "up",
            format!("{}/metadata", href(base, e)),
            Some(mt::METADATA),
        )
        .link("edit", &h, Some(mt::METADATA_VALUE))
        .link("remove", &h, None)
        .child(
            El::new("Domain")
                .attr("visibility", &x.visibility)
                .text(x.domain.as_str()),
        )
        .child(typed_value(x))
}

/// Metadata child of a query record (`fields=metadata:...`).
pub fn record_metadata(entries: &[&MetaEntry]) -> El {
    El::new("Metadata").children(entries.iter().map(|x| {
        El::new("MetadataEntry")
            .child(
                El::new("Domain")
                    .attr("visibility", &x.visibility)
                    .text(x.domain.as_str()),
            )
            .leaf("Key", &x.key)
            .child(typed_value(x))
    }))
}

pub(super) fn meta_value(tv: &Dom) -> PResult<(MetaType, String)> {
    let kind = tv
        .attr("type")
        .and_then(MetaType::parse)
        .ok_or_else(|| VcdErrorResponse::bad_request("TypedValue needs an xsi:type of MetadataStringValue, MetadataNumberValue, MetadataBooleanValue or MetadataDateTimeValue."))?;
    Ok((
        kind,
        tv.child("Value")
            .map(|v| v.text.clone())
            .unwrap_or_default(),
    ))
}

pub(super) fn domain_of(d: Option<&Dom>) -> PResult<(Domain, String)> {
    match d {
        None => Ok((Domain::General, "READWRITE".into())),
        Some(d) => {
            let domain = Domain::parse(&d.text).ok_or_else(|| {
                VcdErrorResponse::bad_request(format!(
                    "Unknown metadata domain \"{}\".",
                    d.text.trim()
                ))
            })?;
            Ok((
                domain,
                d.attr("visibility")
                    .unwrap_or("READWRITE")
                    .to_ascii_uppercase(),
            ))
        }
    }
}

/// `Metadata` with entries.
pub fn parse_metadata(d: &Dom) -> PResult<Vec<MetaEntry>> {
    let mut out = Vec::new();
    for e in d.all("MetadataEntry") {
        let key = e
            .child_text("Key")
            .ok_or_else(|| VcdErrorResponse::bad_request("MetadataEntry has no Key."))?
            .to_string();
        let tv = e
            .child("TypedValue")
            .ok_or_else(|| VcdErrorResponse::bad_request("MetadataEntry has no TypedValue."))?;
        let (kind, value) = meta_value(tv)?;
        let (domain, visibility) = domain_of(e.child("Domain"))?;
        out.push(MetaEntry {
            domain,
            visibility,
            key,
            kind,
            value,
        });
    }
    Ok(out)
}

/// `MetadataValue` for one key.
pub fn parse_metadata_value(d: &Dom, key: &str, domain: Option<Domain>) -> PResult<MetaEntry> {
    let tv = d
        .child("TypedValue")
        .ok_or_else(|| VcdErrorResponse::bad_request("MetadataValue has no TypedValue."))?;
    let (kind, value) = meta_value(tv)?;
    let (mut dom, mut vis) = domain_of(d.child("Domain"))?;
    if d.child("Domain").is_none()
        && let Some(x) = domain
    {
        dom = x;
        vis = if x == Domain::System {
            "READONLY".into()
        } else {
            "READWRITE".into()
        };
    }
    Ok(MetaEntry {
        domain: dom,
        visibility: vis,
        key: key.to_string(),
        kind,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest::xml::Dom;

    #[test]
    fn metadata_without_domain_is_general() {
        let d = Dom::parse(
            r#"<Metadata><MetadataEntry type="xs:string"><Key>cse.cluster.id</Key>
               <TypedValue xsi:type="MetadataStringValue" xmlns:xsi="x"><Value>abc</Value></TypedValue></MetadataEntry></Metadata>"#,
        )
        .unwrap();
        let m = parse_metadata(&d).unwrap();
        assert_eq!(m[0].domain, Domain::General);
        assert_eq!(m[0].visibility, "READWRITE");
        assert_eq!(m[0].value, "abc");
    }
}
