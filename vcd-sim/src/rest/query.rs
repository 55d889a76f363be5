//! The query service on the wire: parsing `type`, `format`, `page`,
//! `pageSize`, `filter` (both encodings of §4.4), `fields`, `sortAsc` /
//! `sortDesc`; evaluating filters on records (wildcards, reference
//! attributes by UUID, metadata terms); rendering `QueryResultRecords` /
//! `References` with paging links.

use percent_encoding::percent_decode_str;

use super::common::mt;
use super::context::{ApiResult, Ctx, VcdErrorResponse};
use super::metadata::record_metadata;
use super::xml::{El, link};
use crate::state::records::{ADMIN_TYPES, TENANT_TYPES};
use crate::state::records::{Attr, Record, Selection};
use crate::state::{Domain, EntityRef, MetaType, uuid_of};
use axum::extract::RawQuery;

/// Result format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Records,
    IdRecords,
    References,
}

/// A comparison operator of a filter term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// One term: `attr op value`, or a metadata term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub attr: String,
    pub op: Op,
    pub value: String,
}

/// OR of ANDs.
pub type Filter = Vec<Vec<Term>>;

/// Parsed query parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryParams {
    pub kind: String,
    pub format: Format,
    pub page: usize,
    pub page_size: usize,
    pub filter: Option<Filter>,
    pub fields: Vec<String>,
    pub sort: Option<(String, bool)>,
    /// The raw query string without page, for paging links.
    pub raw_without_page: String,
}

impl QueryParams {
    /// The record attributes `fields` names (its metadata keys aside).
    pub fn named_attributes(&self) -> Vec<&str> {
        self.fields
            .iter()
            .map(String::as_str)
            .filter(|f| !f.starts_with("metadata"))
            .collect()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct QueryError(pub String);

fn decode(s: &str, plus_is_space: bool) -> String {
    let s = if plus_is_space {
        s.replace('+', " ")
    } else {
        s.to_string()
    };
    percent_decode_str(&s).decode_utf8_lossy().into_owned()
}

/// Parses the raw query string (split on `&` before decoding).
pub fn parse_params(raw: &str) -> Result<QueryParams, QueryError> {
    let mut kind = None;
    let mut format = Format::References;
    let mut page = 1usize;
    let mut page_size = 25usize;
    let mut filter_raw = None;
    let mut encoded = false;
    let mut fields = Vec::new();
    let mut sort = None;
    let mut keep = Vec::new();
    for part in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        match k {
            "type" => kind = Some(decode(v, false)),
            "format" => {
                format = match decode(v, false).as_str() {
                    "records" => Format::Records,
                    "idrecords" => Format::IdRecords,
                    "references" => Format::References,
                    other => return Err(QueryError(format!("Unknown query format \"{other}\"."))),
                }
            }
            "page" => {
                // pv20 glues pageSize onto the page number: read leading digits.
                let digits: String = v.chars().take_while(|c| c.is_ascii_digit()).collect();
                page = digits
                    .parse()
                    .map_err(|_| QueryError(format!("Invalid page \"{v}\".")))?;
                if page == 0 {
                    return Err(QueryError("page must be at least 1.".into()));
                }
                if let Some(rest) = v
                    .strip_prefix(&digits)
                    .and_then(|r| r.strip_prefix("pageSize="))
                    && let Ok(s) = rest.parse::<usize>()
                {
                    page_size = s;
                }
                continue;
            }
            "pageSize" => {
                page_size = v
                    .parse()
                    .map_err(|_| QueryError(format!("Invalid pageSize \"{v}\".")))?
            }
            "filter" => filter_raw = Some(v.to_string()),
            "filterEncoded" => encoded = v.eq_ignore_ascii_case("true"),
            "fields" => {
                fields = decode(v, false)
                    .split(',')
                    .map(|f| f.trim().to_string())
                    .filter(|f| !f.is_empty())
                    .collect()
            }
            "sortAsc" => sort = Some((decode(v, false), true)),
            "sortDesc" => sort = Some((decode(v, false), false)),
            _ => {}
        }
        keep.push(part.to_string());
    }
    let kind = kind.ok_or_else(|| QueryError("The query needs a type.".into()))?;
    let page_size = page_size.clamp(1, 128);
    let filter = match filter_raw {
        Some(f) => Some(parse_filter(&decode(&f, false), encoded)?),
        None => None,
    };
    Ok(QueryParams {
        kind,
        format,
        page,
        page_size,
        filter,
        fields,
        sort,
        raw_without_page: keep.join("&"),
    })
}

/// Splits a decoded filter into OR-of-AND terms. With `encoded` each value
/// is percent-decoded once more; otherwise backslash escapes are removed.
pub fn parse_filter(f: &str, encoded: bool) -> Result<Filter, QueryError> {
    let mut ors = Vec::new();
    for or_part in split_unescaped(f, ',') {
        let mut ands = Vec::new();
        for t in split_unescaped(&or_part, ';') {
            if t.trim().is_empty() {
                continue;
            }
            ands.push(parse_term(&t, encoded)?);
        }
        if !ands.is_empty() {
            ors.push(ands);
        }
    }
    Ok(ors)
}

fn split_unescaped(s: &str, sep: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut escaped = false;
    for c in s.chars() {
        if escaped {
            cur.push('\\');
            cur.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    if escaped {
        cur.push('\\');
    }
    out.push(cur);
    out
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            if let Some(n) = it.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn parse_term(t: &str, encoded: bool) -> Result<Term, QueryError> {
    let ops = [
        ("==", Op::Eq),
        ("!=", Op::Ne),
        ("=lt=", Op::Lt),
        ("=le=", Op::Le),
        ("=gt=", Op::Gt),
        ("=ge=", Op::Ge),
    ];
    let found = ops
        .iter()
        .filter_map(|(s, op)| t.find(s).map(|i| (i, *s, *op)))
        .min_by_key(|(i, s, _)| (*i, std::cmp::Reverse(s.len())));
    let (i, s, op) = found.ok_or_else(|| QueryError(format!("Invalid filter term \"{t}\".")))?;
    let attr = t[..i].trim().to_string();
    let raw_value = &t[i + s.len()..];
    let value = if encoded {
        decode(&unescape(raw_value), true)
    } else {
        unescape(raw_value)
    };
    if attr.is_empty() {
        return Err(QueryError(format!(
            "Invalid filter term \"{t}\": no attribute."
        )));
    }
    Ok(Term { attr, op, value })
}

/// `*` wildcard match, case-insensitive.
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && p[pi] != '*' && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

fn compare(op: Op, actual: &str, expected: &str) -> bool {
    match op {
        Op::Eq => wildcard(expected, actual),
        Op::Ne => !wildcard(expected, actual),
        _ => {
            let ord = match (actual.parse::<f64>(), expected.parse::<f64>()) {
                (Ok(a), Ok(b)) => a.partial_cmp(&b).unwrap_or(std::cmp::Ordering::Equal),
                _ => actual.cmp(expected),
            };
            match op {
                Op::Lt => ord.is_lt(),
                Op::Le => ord.is_le(),
                Op::Gt => ord.is_gt(),
                Op::Ge => ord.is_ge(),
                _ => false,
            }
        }
    }
}

/// A metadata field or filter attribute (`metadata:key`,
/// `metadata@SYSTEM:key`): its domain, if it names a known one (any domain
/// otherwise), and its key. `None` for any other attribute, or for a domain
/// without a key.
fn metadata_field(attribute: &str) -> Option<(Option<Domain>, &str)> {
    let rest = attribute.strip_prefix("metadata")?;
    match rest.strip_prefix('@') {
        Some(domain_and_key) => {
            let (domain, key) = domain_and_key.split_once(':')?;
            Some((Domain::parse(domain), key))
        }
        None => Some((None, rest.strip_prefix(':').unwrap_or(rest))),
    }
}

fn term_matches(r: &Record, t: &Term) -> bool {
    if t.attr.starts_with("metadata") {
        let Some((domain, key)) = metadata_field(&t.attr) else {
            return false;
        };
        let (kind, value) = match t.value.split_once(':') {
            Some((k, v)) if MetaType::parse(k).is_some() => (MetaType::parse(k), v),
            _ => (None, t.value.as_str()),
        };
        let found = r
            .metadata
            .iter()
            .find(|m| m.key == key && domain.is_none_or(|d| d == m.domain));
        return match found {
            Some(m) if kind.is_none_or(|k| k == m.kind) => compare(t.op, &m.value, value),
            Some(_) => t.op == Op::Ne,
            None => t.op == Op::Ne,
        };
    }
    let actual: Option<&Attr> = if t.attr == "name" {
        None
    } else {
        r.attrs.iter().find(|(k, _)| *k == t.attr).map(|(_, v)| v)
    };
    match (t.attr.as_str(), actual) {
        ("name", _) => compare(t.op, &r.name, &t.value),
        ("id" | "href", _) => {
            let same = uuid_of(&t.value) == Some(r.entity.id());
            if t.op == Op::Ne { !same } else { same }
        }
        (_, Some(Attr::Ref(e))) => {
            let same = uuid_of(&t.value) == Some(e.id());
            if t.op == Op::Ne { !same } else { same }
        }
        (_, Some(Attr::Text(s))) => compare(t.op, s, &t.value),
        (_, None) => t.op == Op::Ne,
    }
}

pub fn matches(r: &Record, f: &Filter) -> bool {
    f.iter().any(|ands| ands.iter().all(|t| term_matches(r, t)))
}

fn sort_key(r: &Record, attr: &str) -> String {
    if attr == "name" {
        return r.name.clone();
    }
    match r.attrs.iter().find(|(k, _)| *k == attr) {
        Some((_, Attr::Text(s))) => s.clone(),
        Some((_, Attr::Ref(e))) => e.id().to_string(),
        None => String::new(),
    }
}

fn ref_value(base: &str, e: &EntityRef, format: Format) -> String {
    match format {
        Format::IdRecords => e.urn(),
        _ => format!("{base}{}", e.path()),
    }
}

/// Filters, sorts, pages and renders records.
pub fn render(base: &str, q: &QueryParams, mut records: Vec<Record>) -> (El, &'static str) {
    if let Some(f) = &q.filter {
        records.retain(|r| matches(r, f));
    }
    if let Some((attr, asc)) = &q.sort {
        records.sort_by(|a, b| {
            let o = sort_key(a, attr).cmp(&sort_key(b, attr));
            if *asc { o } else { o.reverse() }
        });
    }
    let total = records.len();
    let start = (q.page - 1) * q.page_size;
    let page: Vec<Record> = records.into_iter().skip(start).take(q.page_size).collect();
    let self_href = format!("{base}/api/query?{}&page={}", q.raw_without_page, q.page);
    let media = match q.format {
        Format::Records => mt::RECORDS,
        Format::IdRecords => mt::IDRECORDS,
        Format::References => mt::REFERENCES,
    };
    let root_name = if q.format == Format::References {
        "References"
    } else {
        "QueryResultRecords"
    };
    let mut root = El::root(root_name)
        .attr("href", &self_href)
        .attr("name", &q.kind)
        .attr("page", q.page.to_string())
        .attr("pageSize", q.page_size.to_string())
        .attr("total", total.to_string())
        .attr("type", media);
    let page_link = |n: usize| format!("{base}/api/query?{}&page={n}", q.raw_without_page);
    let last = total.div_ceil(q.page_size).max(1);
    if q.page < last {
        root = root.link("nextPage", page_link(q.page + 1), Some(media));
    }
    if q.page > 1 {
        root = root.link("previousPage", page_link(q.page - 1), Some(media));
    }
    root = root.link("firstPage", page_link(1), Some(media)).link(
        "lastPage",
        page_link(last),
        Some(media),
    );
    let meta_fields: Vec<(Option<Domain>, &str)> =
        q.fields.iter().filter_map(|f| metadata_field(f)).collect();
    // Named attributes (`fields=name,status`) limit the record to them, as
    // vCD's query reference says; a list of metadata keys alone keeps every
    // attribute (spec §4.5). The id or href is always there.
    let static_fields = q.named_attributes();
    let wanted = |attribute: &str| static_fields.is_empty() || static_fields.contains(&attribute);
    for r in page {
        if q.format == Format::References {
            let tag = r.element.trim_end_matches("Record").to_string() + "Reference";
            root.push(
                El::new(tag)
                    .attr("href", format!("{base}{}", r.entity.path()))
                    .attr("id", r.entity.urn())
                    .attr("name", &r.name)
                    .attr("type", r.entity.media_type()),
            );
            continue;
        }
        let mut el = El::new(r.element);
        el = match q.format {
            Format::IdRecords => el.attr("id", r.entity.urn()),
            _ => el.attr("href", format!("{base}{}", r.entity.path())),
        };
        if wanted("name") {
            el = el.attr("name", r.name);
        }
        for (k, v) in r.attrs.into_iter().filter(|(k, _)| wanted(k)) {
            let text = match v {
                Attr::Text(s) => s,
                Attr::Ref(e) => ref_value(base, &e, q.format),
            };
            el = el.attr(k, text);
        }
        if !meta_fields.is_empty() {
            let entries: Vec<_> = r
                .metadata
                .iter()
                .filter(|m| {
                    meta_fields
                        .iter()
                        .any(|(d, k)| *k == m.key && d.is_none_or(|d| d == m.domain))
                })
                .collect();
            el = el.child(record_metadata(&entries));
        }
        root.push(el);
    }
    (root, media)
}

// ----- query service -----

/// What `q` looks at: the attributes it names in `fields` (all when it names
/// none), filters or sorts on, and the metadata keys it returns or filters.
pub fn selection(q: &QueryParams) -> Selection {
    let filtered: Vec<&str> = q
        .filter
        .iter()
        .flatten()
        .flatten()
        .map(|term| term.attr.as_str())
        .chain(q.sort.as_ref().map(|(attr, _)| attr.as_str()))
        .collect();
    let named = q.named_attributes();
    let attributes = (!named.is_empty()).then(|| {
        named
            .iter()
            .chain(filtered.iter().filter(|a| !a.starts_with("metadata")))
            .map(|a| (*a).to_owned())
            .collect()
    });
    let metadata_keys = q
        .fields
        .iter()
        .map(String::as_str)
        .chain(filtered.iter().copied())
        .filter_map(|field| metadata_field(field).map(|(_, key)| key.to_owned()))
        .collect();
    Selection {
        attributes,
        metadata_keys,
    }
}

pub(super) async fn run_query(ctx: Ctx, RawQuery(raw): RawQuery) -> ApiResult {
    let caller = ctx.caller()?;
    let raw = raw.unwrap_or_default();
    if raw.is_empty() {
        let mut types: Vec<&str> = TENANT_TYPES.to_vec();
        if caller.is_sysadmin() {
            types.extend(ADMIN_TYPES);
        }
        return ctx.ok(mt::QUERY_LIST, query_list(&ctx.base, &types));
    }
    let q = parse_params(&raw).map_err(|e| ctx.err(VcdErrorResponse::bad_request(e.0)))?;
    let records = ctx
        .sim()
        .query_records(&caller, &q.kind, &selection(&q))
        .map_err(|e| ctx.fail(e))?;
    let (doc, media) = render(&ctx.base, &q, records);
    ctx.ok(media, doc)
}
/// `GET /api/query` (§4.1).
pub fn query_list(base: &str, types: &[&str]) -> El {
    let mut el = El::root("QueryList")
        .attr("href", format!("{base}/api/query"))
        .attr("type", mt::QUERY_LIST);
    for t in types {
        for (fmt, media) in [
            ("records", mt::RECORDS),
            ("idrecords", mt::IDRECORDS),
            ("references", mt::REFERENCES),
        ] {
            el.push(link(
                "down",
                format!("{base}/api/query?type={t}&format={fmt}"),
                Some(media),
                Some(t),
            ));
        }
    }
    el
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_selects_what_it_names_filters_and_sorts() {
        let q = parse_params("type=vApp&format=idrecords&page=1&filterEncoded=true&filter=metadata%3Acse.cluster.id%3D%3DSTRING%3A%2A%3BvdcName%3D%3Dv1&fields=name,status,metadata@SYSTEM:cse.master.ip&sortAsc=creationDate").unwrap();
        let selected = selection(&q);
        assert_eq!(
            selected.attributes.as_deref(),
            Some(&["name", "status", "vdcName", "creationDate"].map(String::from)[..])
        );
        assert_eq!(selected.metadata_keys, ["cse.master.ip", "cse.cluster.id"]);
        assert!(selected.wants("vdcName") && !selected.wants("ownerName"));
        assert!(
            selected.wants_metadata("cse.cluster.id") && !selected.wants_metadata("cse.op.lease")
        );
        // Metadata fields alone keep every attribute (spec §4.5).
        let q = parse_params("type=vApp&format=records&page=1&fields=metadata:k").unwrap();
        assert!(selection(&q).wants("ownerName"));
    }

    #[test]
    fn wildcards() {
        assert!(wildcard("*", ""));
        assert!(wildcard("a*c", "abbbc"));
        assert!(wildcard("ABC", "abc"));
        assert!(!wildcard("a*d", "abc"));
    }

    #[test]
    fn encoded_filter_from_pyvcloud_below_35() {
        let q = parse_params(
            "type=vApp&format=idrecords&page=1&filterEncoded=true&filter=metadata%3Acse.cluster.id%3D%3DSTRING%3A%2A%3Bname%3D%3Dc1&fields=metadata:cse.cluster.id,metadata:cse.master.ip",
        )
        .unwrap();
        let f = q.filter.unwrap();
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0][0],
            Term {
                attr: "metadata:cse.cluster.id".into(),
                op: Op::Eq,
                value: "STRING:*".into()
            }
        );
        assert_eq!(f[0][1].value, "c1");
        assert_eq!(q.fields.len(), 2);
        assert_eq!(q.format, Format::IdRecords);
    }

    #[test]
    fn double_encoded_href_values_are_decoded_twice() {
        let q = parse_params("type=vApp&format=records&page=1&filterEncoded=true&filter=vdc%3D%3Dhttp%253A//host%253A8443/api/vdc/x%3Bname%3D%3Dmy%20app").unwrap();
        let f = q.filter.unwrap();
        assert_eq!(f[0][0].value, "http://host:8443/api/vdc/x");
        assert_eq!(f[0][1].value, "my app");
    }

    #[test]
    fn api35_escapes() {
        let q = parse_params(
            "type=vApp&format=records&page=1&filter=name==my%20app%20%5C%281%5C%29;vdc==x",
        )
        .unwrap();
        let f = q.filter.unwrap();
        assert_eq!(f[0][0].value, "my app (1)");
        assert_eq!(f[0][1].value, "x");
    }

    #[test]
    fn or_and_operators() {
        let f = parse_filter("status==running,status==queued;name!=x", false).unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(f[1][1].op, Op::Ne);
        let f = parse_filter("startDate=ge=2019", false).unwrap();
        assert_eq!(f[0][0].op, Op::Ge);
    }

    #[test]
    fn pv20_page_glued_to_page_size() {
        let q = parse_params("type=vApp&page=2pageSize=50").unwrap();
        assert_eq!((q.page, q.page_size), (2, 50));
    }

    #[test]
    fn missing_type_is_an_error() {
        assert!(parse_params("format=records").is_err());
    }
}
