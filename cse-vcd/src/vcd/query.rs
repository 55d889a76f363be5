//! The vCD query service: building `/api/query?type=…` URLs with filters in the
//! encoding vCD expects for the client's API version, and reading result pages
//! (`QueryResultRecords` / `References`) into generic records, following
//! `Link rel="nextPage"` until the last page.

use std::collections::BTreeMap;

use url::Url;

use super::error::VcdError;
use super::links::{find_link, links_of};
use super::version::ApiVersion;
use super::xml::Element;

/// `format=` of a query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryFormat {
    /// `records`: hrefs.
    Records,
    /// `idrecords`: URNs.
    IdRecords,
    /// `references`.
    References,
}

impl QueryFormat {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Records => "records",
            Self::IdRecords => "idrecords",
            Self::References => "references",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Term {
    joiner: char,
    attribute: String,
    op: &'static str,
    /// `STRING:` for metadata terms: sent as is, never encoded.
    prefix: &'static str,
    value: String,
}

/// One filter term `attribute<op>value`; terms join with `;` (and) or `,` (or).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// Terms as (joiner before it, attribute, operator, typed-value prefix, raw value).
    terms: Vec<Term>,
}

impl Filter {
    /// `attribute==value`.
    pub fn eq(attribute: &str, value: &str) -> Self {
        Self::default().and_eq(attribute, value)
    }

    /// Adds `;attribute==value`.
    pub fn and_eq(self, attribute: &str, value: &str) -> Self {
        self.push(';', attribute, "==", value)
    }

    /// Adds `,attribute==value`.
    pub fn or_eq(self, attribute: &str, value: &str) -> Self {
        self.push(',', attribute, "==", value)
    }

    /// Adds `;attribute!=value`.
    pub fn and_ne(self, attribute: &str, value: &str) -> Self {
        self.push(';', attribute, "!=", value)
    }

    /// Adds `;metadata:<key>==STRING:<value>` (`*` = key present).
    pub fn and_metadata_string(self, key: &str, value: &str) -> Self {
        self.push_term(';', &format!("metadata:{key}"), "==", "STRING:", value)
    }

    fn push(self, joiner: char, attribute: &str, op: &'static str, value: &str) -> Self {
        self.push_term(joiner, attribute, op, "", value)
    }

    fn push_term(
        mut self,
        joiner: char,
        attribute: &str,
        op: &'static str,
        prefix: &'static str,
        value: &str,
    ) -> Self {
        self.terms.push(Term {
            joiner,
            attribute: attribute.to_owned(),
            op,
            prefix,
            value: value.to_owned(),
        });
        self
    }

    /// True when no term was added.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The filter text for `version`. Below 35.0 each value is percent-encoded (the
    /// whole filter is encoded again as a URL parameter, with `filterEncoded=true`);
    /// from 35.0 on values are raw with vCD's special characters backslash-escaped.
    pub fn render(&self, version: &ApiVersion) -> String {
        let encoded = uses_filter_encoded(version);
        let mut out = String::new();
        for (index, term) in self.terms.iter().enumerate() {
            if index > 0 {
                out.push(term.joiner);
            }
            out.push_str(&term.attribute);
            out.push_str(term.op);
            out.push_str(term.prefix);
            if encoded {
                out.extend(url::form_urlencoded::byte_serialize(term.value.as_bytes()));
            } else {
                for c in term.value.chars() {
                    if matches!(c, '(' | ')' | ',' | ';' | '\\') {
                        out.push('\\');
                    }
                    out.push(c);
                }
            }
        }
        out
    }
}

/// True when the version uses the `filterEncoded=true` form (API below 35.0).
pub fn uses_filter_encoded(version: &ApiVersion) -> bool {
    version.major() < 35
}

/// A typed query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    /// `type=`, e.g. `vApp`, `adminVApp`, `adminService`.
    pub type_name: String,
    /// `format=`.
    pub format: QueryFormat,
    /// `filter=`.
    pub filter: Filter,
    /// `fields=` (e.g. `metadata:cse.cluster.id`).
    pub fields: Vec<String>,
    /// `pageSize=` (vCD's default 25 when `None`; at most 128).
    pub page_size: Option<u32>,
    /// The record attributes the caller reads (all when empty). vCD sends
    /// them all whatever `fields=` says; the others are skipped while reading.
    pub attributes: Vec<String>,
}

impl Query {
    /// A query of `type_name` in `format`, no filter.
    pub fn new(type_name: &str, format: QueryFormat) -> Self {
        Self {
            type_name: type_name.to_owned(),
            format,
            filter: Filter::default(),
            fields: Vec::new(),
            page_size: None,
            attributes: Vec::new(),
        }
    }

    /// Sets the filter.
    pub fn filter(mut self, filter: Filter) -> Self {
        self.filter = filter;
        self
    }

    /// Adds `fields`.
    pub fn fields<I: IntoIterator<Item = S>, S: Into<String>>(mut self, fields: I) -> Self {
        self.fields.extend(fields.into_iter().map(Into::into));
        self
    }

    /// Reads only these record attributes (see [`Query::attributes`]).
    pub fn reading<I: IntoIterator<Item = S>, S: Into<String>>(mut self, attributes: I) -> Self {
        self.attributes
            .extend(attributes.into_iter().map(Into::into));
        self
    }

    /// Sets the page size (clamped to 1..=128).
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = Some(size.clamp(1, 128));
        self
    }

    /// The URL of page 1 under the API root (`…/api`).
    pub fn url(&self, api_root: &Url, version: &ApiVersion) -> Url {
        let mut url = api_root.clone();
        url.path_segments_mut()
            .map(|mut segments| {
                segments.pop_if_empty().push("query");
            })
            .ok();
        {
            let mut pairs = url.query_pairs_mut();
            pairs.append_pair("type", &self.type_name);
            pairs.append_pair("format", self.format.as_str());
            pairs.append_pair("page", "1");
            if let Some(size) = self.page_size {
                pairs.append_pair("pageSize", &size.to_string());
            }
            if !self.filter.is_empty() {
                if uses_filter_encoded(version) {
                    pairs.append_pair("filterEncoded", "true");
                }
                pairs.append_pair("filter", &self.filter.render(version));
            }
            if !self.fields.is_empty() {
                pairs.append_pair("fields", &self.fields.join(","));
            }
        }
        url
    }
}

/// One query result record: its element name, attributes, and metadata entries
/// requested through `fields=metadata:…`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryRecord {
    /// Element name, e.g. `VAppRecord`, `AdminServiceRecord`.
    pub kind: String,
    /// Attributes (`id`, `href`, `name`, `vdc`, `status`, ...).
    pub attributes: BTreeMap<String, String>,
    /// `Metadata/MetadataEntry` key → `TypedValue/Value`.
    pub metadata: BTreeMap<String, String>,
}

impl QueryRecord {
    /// Reads a record element.
    pub fn from_element(element: &Element) -> Self {
        let metadata = element
            .child("Metadata")
            .map(|m| {
                m.children_named("MetadataEntry")
                    .filter_map(|entry| {
                        let key = entry.child_text("Key")?;
                        let value = entry.descend(&["TypedValue", "Value"])?;
                        Some((key.to_owned(), value.text.clone()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self {
            kind: element.name.clone(),
            attributes: element.attributes.clone(),
            metadata,
        }
    }

    /// An attribute.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).map(String::as_str)
    }

    /// `name`.
    pub fn name(&self) -> Option<&str> {
        self.attr("name")
    }

    /// `id` (idrecords) .
    pub fn id(&self) -> Option<&str> {
        self.attr("id")
    }

    /// `href` (records, references).
    pub fn href(&self) -> Option<&str> {
        self.attr("href")
    }
}

/// One page of results.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryPage {
    /// `total` (records in all pages), when present.
    pub total: Option<u64>,
    /// Records of this page.
    pub records: Vec<QueryRecord>,
    /// Href of the next page.
    pub next_page: Option<String>,
}

impl QueryPage {
    /// Reads a `QueryResultRecords` or `References` element.
    pub fn from_element(url: &str, root: &Element) -> Result<Self, VcdError> {
        if root.name != "QueryResultRecords" && root.name != "References" {
            return Err(VcdError::Parse {
                url: url.to_owned(),
                reason: format!("expected QueryResultRecords, got <{}>", root.name),
            });
        }
        let links = links_of(root);
        Ok(Self {
            total: root.attr("total").and_then(|t| t.parse().ok()),
            records: root
                .children
                .iter()
                .filter(|c| c.name != "Link")
                .map(QueryRecord::from_element)
                .collect(),
            next_page: find_link(&links, "nextPage", None)
                .or_else(|| links.iter().find(|l| l.rel == "nextPage"))
                .map(|l| l.href.clone()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vcd::xml;

    fn v(text: &str) -> ApiVersion {
        ApiVersion::parse(text).unwrap()
    }

    #[test]
    fn cluster_discovery_url_at_29_uses_filter_encoded() {
        let root = Url::parse("https://vcd.example.com/api").unwrap();
        let query = Query::new("vApp", QueryFormat::IdRecords)
            .filter(
                Filter::default()
                    .and_metadata_string("cse.cluster.id", "*")
                    .and_eq("name", "my c1"),
            )
            .fields(["metadata:cse.cluster.id", "metadata:cse.master.ip"]);
        assert_eq!(
            query.url(&root, &v("29.0")).as_str(),
            "https://vcd.example.com/api/query?type=vApp&format=idrecords&page=1&filterEncoded=true\
             &filter=metadata%3Acse.cluster.id%3D%3DSTRING%3A*%3Bname%3D%3Dmy%2Bc1\
             &fields=metadata%3Acse.cluster.id%2Cmetadata%3Acse.master.ip"
        );
    }

    #[test]
    fn filter_at_35_escapes_special_characters() {
        let filter = Filter::eq("name", "my app (1)").or_eq("name", "a;b");
        assert_eq!(filter.render(&v("35.0")), r"name==my app \(1\),name==a\;b");
        assert_eq!(
            filter.render(&v("32.0")),
            "name==my+app+%281%29,name==a%3Bb"
        );
    }

    proptest::proptest! {
        /// What vCD does with `filterEncoded=true` (spec §4.4): decode the parameter,
        /// split the terms, decode each value once more; the value must come back.
        #[test]
        fn encoded_filter_values_decode_back(value in "[ -~\u{e9}]{0,30}") {
            let root = Url::parse("https://vcd/api").unwrap();
            let url = Query::new("vApp", QueryFormat::Records)
                .filter(Filter::eq("name", &value))
                .url(&root, &v("29.0"));
            let filter = url
                .query_pairs()
                .find(|(k, _)| k == "filter")
                .map(|(_, f)| f.into_owned())
                .unwrap();
            let raw = filter.strip_prefix("name==").unwrap();
            proptest::prop_assert!(!raw.contains(';') && !raw.contains(','));
            let decoded: String = url::form_urlencoded::parse(format!("v={raw}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap();
            proptest::prop_assert_eq!(decoded, value);
        }
    }

    #[test]
    fn page_size_is_clamped_and_emitted() {
        let root = Url::parse("http://h:8080/api/").unwrap();
        let url = Query::new("adminService", QueryFormat::Records)
            .page_size(500)
            .url(&root, &v("29.0"));
        assert_eq!(
            url.as_str(),
            "http://h:8080/api/query?type=adminService&format=records&page=1&pageSize=128"
        );
    }

    #[test]
    fn pages_read_records_metadata_and_next_link() {
        let body = r#"<QueryResultRecords xmlns="http://www.vmware.com/vcloud/v1.5"
             xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" total="3" page="1" pageSize="2">
          <Link rel="nextPage" href="https://vcd/api/query?type=vApp&amp;page=2" type="application/vnd.vmware.vcloud.query.idrecords+xml"/>
          <VAppRecord id="urn:vcloud:vapp:1" name="c1" vdc="urn:vcloud:vdc:9">
            <Metadata><MetadataEntry><Key>cse.cluster.id</Key>
              <TypedValue xsi:type="MetadataStringValue"><Value>abc</Value></TypedValue></MetadataEntry></Metadata>
          </VAppRecord>
          <VAppRecord id="urn:vcloud:vapp:2" name="c2" vdc="urn:vcloud:vdc:9"/>
        </QueryResultRecords>"#;
        let page = QueryPage::from_element("u", &xml::parse(body).unwrap()).unwrap();
        assert_eq!(page.total, Some(3));
        assert_eq!(page.records.len(), 2);
        assert_eq!(page.records[0].metadata["cse.cluster.id"], "abc");
        assert_eq!(page.records[1].id(), Some("urn:vcloud:vapp:2"));
        assert_eq!(
            page.next_page.as_deref(),
            Some("https://vcd/api/query?type=vApp&page=2")
        );
    }
}
