//! Reads a query result page (`QueryResultRecords` / `References`) straight
//! from its text into [`QueryPage`], without building an element tree: a
//! cluster list reads a hundred records of a dozen metadata elements each on
//! every call, and the tree cost more than the rest of the request. The
//! result is exactly what [`QueryPage::from_element`] reads from the tree
//! (a property test holds the two together).

use std::collections::BTreeMap;

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use super::error::VcdError;
use super::links::{Link, find_link};
use super::query::{QueryPage, QueryRecord};
use super::xml::{VCLOUD_NS, XmlError, attributes_of, attributes_where, reference_text};

/// Nesting deeper than this is refused, as by [`super::xml::parse`].
const MAX_DEPTH: usize = 256;

/// What an open element is to the page being read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// `QueryResultRecords` / `References`.
    Page,
    /// A vcloud `Link` directly under the page.
    Link,
    /// Any other element directly under the page.
    Record,
    /// The record's first `Metadata`.
    Metadata,
    /// A `MetadataEntry` of it.
    Entry,
    /// The entry's first `Key`.
    Key,
    /// The entry's first `TypedValue`.
    TypedValue,
    /// That value's first `Value`.
    Value,
    /// Anything else: skipped with its content.
    Other,
}

/// The metadata entry being read.
#[derive(Default)]
struct Entry {
    key: Option<String>,
    typed_value_seen: bool,
    value: Option<String>,
}

/// The record being read.
struct Record {
    record: QueryRecord,
    metadata_seen: bool,
}

/// The state of one page's reading.
#[derive(Default)]
struct PageReader<'k> {
    /// The record attributes to keep (all when empty).
    keep: &'k [String],
    roles: Vec<Role>,
    total: Option<u64>,
    records: Vec<QueryRecord>,
    links: Vec<Link>,
    record: Option<Record>,
    entry: Option<Entry>,
}

impl QueryPage {
    /// Reads a `QueryResultRecords` or `References` document from its text
    /// (`url` names it in errors).
    pub fn parse(url: &str, text: &str) -> Result<Self, VcdError> {
        Self::parse_keeping(url, text, &[])
    }

    /// Like [`QueryPage::parse`], keeping only the record attributes named in
    /// `attributes` (all when it is empty): vCD sends every attribute of a
    /// record; those not kept are skipped without being decoded.
    pub fn parse_keeping(url: &str, text: &str, attributes: &[String]) -> Result<Self, VcdError> {
        let mut reader = NsReader::from_str(text);
        let mut page = PageReader {
            keep: attributes,
            ..PageReader::default()
        };
        let malformed = |reader: &NsReader<&[u8]>, reason: &dyn std::fmt::Display| {
            VcdError::parse(
                url,
                XmlError::Malformed {
                    position: reader.buffer_position(),
                    reason: reason.to_string(),
                },
            )
        };
        loop {
            let event = match reader.read_event() {
                Ok(event) => event,
                Err(e) => return Err(malformed(&reader, &e)),
            };
            let empty = matches!(event, Event::Empty(_));
            match event {
                Event::Start(start) | Event::Empty(start) => {
                    page.open(url, &reader, &start).map_err(|e| match e {
                        OpenError::Refused(error) => error,
                        OpenError::Malformed(reason) => malformed(&reader, &reason),
                    })?;
                    if empty && page.close() {
                        return Ok(page.finish());
                    }
                }
                Event::End(_) => {
                    if page.roles.is_empty() {
                        return Err(malformed(&reader, &"unexpected end tag"));
                    }
                    if page.close() {
                        return Ok(page.finish());
                    }
                }
                // Only a metadata entry's key and value are read; other
                // character data (mostly the whitespace between elements)
                // is skipped without being decoded.
                Event::Text(text) if page.reads_text() => page.text(&text.xml10_content()),
                Event::CData(data) if page.reads_text() => page.text(&data.into_inner()),
                Event::Text(_) | Event::CData(_) => {}
                Event::GeneralRef(reference) => {
                    let decoded = reference_text(&reference).map_err(|e| malformed(&reader, &e))?;
                    page.text(&decoded);
                }
                Event::Eof => {
                    return Err(if page.roles.is_empty() {
                        VcdError::parse(url, XmlError::Empty)
                    } else {
                        malformed(&reader, &"unexpected end of document")
                    });
                }
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
            }
        }
    }
}

/// Why an element could not be entered.
enum OpenError {
    /// The page is refused as it stands (too deep, not a query page).
    Refused(VcdError),
    /// The element's XML is malformed (its attributes).
    Malformed(quick_xml::Error),
}

impl From<quick_xml::Error> for OpenError {
    fn from(error: quick_xml::Error) -> Self {
        Self::Malformed(error)
    }
}

impl PageReader<'_> {
    /// Enters an element: what it is given where it stands.
    fn open(
        &mut self,
        url: &str,
        reader: &NsReader<&[u8]>,
        start: &BytesStart<'_>,
    ) -> Result<(), OpenError> {
        if self.roles.len() >= MAX_DEPTH {
            return Err(OpenError::Refused(VcdError::parse(url, XmlError::TooDeep)));
        }
        let local = start.local_name();
        let name: &str = local.as_ref();
        let role = match self.roles.last() {
            None => {
                if name != "QueryResultRecords" && name != "References" {
                    return Err(OpenError::Refused(VcdError::Parse {
                        url: url.to_owned(),
                        reason: format!("expected QueryResultRecords, got <{}>", name),
                    }));
                }
                let attributes = attributes_of(reader, start)?;
                self.total = attributes.get("total").and_then(|t| t.parse().ok());
                Role::Page
            }
            Some(Role::Page) if name == "Link" => {
                let (namespace, _) = reader.resolver().resolve_element(start.name());
                if matches!(&namespace, ResolveResult::Bound(ns) if AsRef::<str>::as_ref(ns) == VCLOUD_NS)
                {
                    let attributes = attributes_of(reader, start)?;
                    self.links.extend(link_from(attributes));
                    Role::Link
                } else {
                    Role::Other
                }
            }
            Some(Role::Page) => {
                let keep = self.keep;
                let attributes = if keep.is_empty() {
                    attributes_of(reader, start)
                } else {
                    attributes_where(reader, start, |key| keep.iter().any(|k| k == key))
                }?;
                self.record = Some(Record {
                    record: QueryRecord {
                        kind: name.to_owned(),
                        attributes,
                        metadata: BTreeMap::new(),
                    },
                    metadata_seen: false,
                });
                Role::Record
            }
            Some(Role::Record) if name == "Metadata" => match self.record.as_mut() {
                Some(record) if !record.metadata_seen => {
                    record.metadata_seen = true;
                    Role::Metadata
                }
                _ => Role::Other,
            },
            Some(Role::Metadata) if name == "MetadataEntry" => {
                self.entry = Some(Entry::default());
                Role::Entry
            }
            Some(Role::Entry) => match (self.entry.as_mut(), name) {
                (Some(entry), "Key") if entry.key.is_none() => {
                    entry.key = Some(String::new());
                    Role::Key
                }
                (Some(entry), "TypedValue") if !entry.typed_value_seen => {
                    entry.typed_value_seen = true;
                    Role::TypedValue
                }
                _ => Role::Other,
            },
            Some(Role::TypedValue) => match self.entry.as_mut() {
                Some(entry) if name == "Value" && entry.value.is_none() => {
                    entry.value = Some(String::new());
                    Role::Value
                }
                _ => Role::Other,
            },
            Some(_) => Role::Other,
        };
        self.roles.push(role);
        Ok(())
    }

    /// Leaves the innermost element; true when it was the page itself.
    fn close(&mut self) -> bool {
        match self.roles.pop() {
            Some(Role::Entry) => {
                if let (Some(entry), Some(record)) = (self.entry.take(), self.record.as_mut())
                    && let (Some(key), Some(value)) = (entry.key, entry.value)
                {
                    record.record.metadata.insert(key, value);
                }
                false
            }
            Some(Role::Record) => {
                if let Some(record) = self.record.take() {
                    self.records.push(record.record);
                }
                false
            }
            Some(Role::Page) => true,
            _ => false,
        }
    }

    /// True inside a metadata entry's key or value, the only text kept.
    fn reads_text(&self) -> bool {
        self.entry.is_some() && matches!(self.roles.last(), Some(Role::Key | Role::Value))
    }

    /// Character data directly inside the innermost element.
    fn text(&mut self, text: &str) {
        let Some(entry) = self.entry.as_mut() else {
            return;
        };
        match self.roles.last() {
            Some(Role::Key) => entry.key.get_or_insert_with(String::new).push_str(text),
            Some(Role::Value) => entry.value.get_or_insert_with(String::new).push_str(text),
            _ => {}
        }
    }

    fn finish(self) -> QueryPage {
        let next_page = find_link(&self.links, "nextPage", None)
            .or_else(|| self.links.iter().find(|l| l.rel == "nextPage"))
            .map(|l| l.href.clone());
        QueryPage {
            total: self.total,
            records: self.records,
            next_page,
        }
    }
}

fn link_from(mut attributes: BTreeMap<String, String>) -> Option<Link> {
    Some(Link {
        rel: attributes.remove("rel")?,
        href: attributes.remove("href")?,
        media_type: attributes.remove("type"),
        name: attributes.remove("name"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vcd::xml;

    /// The tree reading, the reference this module must equal.
    fn by_tree(text: &str) -> Result<QueryPage, String> {
        let root = xml::parse(text).map_err(|e| e.to_string())?;
        QueryPage::from_element("u", &root).map_err(|e| e.to_string())
    }

    const PAGE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<QueryResultRecords xmlns="http://www.vmware.com/vcloud/v1.5"
     xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" total="3" page="1" pageSize="2">
  <Link rel="nextPage" href="https://vcd/api/query?type=vApp&amp;page=2" type="application/vnd.vmware.vcloud.query.idrecords+xml"/>
  <Link rel="lastPage" href="https://vcd/api/query?type=vApp&amp;page=2"/>
  <VAppRecord id="urn:vcloud:vapp:1" name="c&amp;1" vdc="urn:vcloud:vdc:9">
    <Metadata>
      <MetadataEntry><Key>cse.cluster.id</Key>
        <TypedValue xsi:type="MetadataStringValue"><Value>a&lt;b<![CDATA[>c]]></Value></TypedValue></MetadataEntry>
      <MetadataEntry><Key>no.value</Key></MetadataEntry>
      <MetadataEntry><Key>second.typed</Key><TypedValue/><TypedValue><Value>x</Value></TypedValue></MetadataEntry>
      <MetadataEntry><Key>k</Key><Key>ignored</Key><TypedValue><Value>1</Value><Value>2</Value></TypedValue></MetadataEntry>
    </Metadata>
    <Metadata><MetadataEntry><Key>later</Key><TypedValue><Value>v</Value></TypedValue></MetadataEntry></Metadata>
  </VAppRecord>
  <VAppRecord id="urn:vcloud:vapp:2" name="c2" vdc="urn:vcloud:vdc:9"/>
</QueryResultRecords>"#;

    #[test]
    fn a_page_reads_as_the_tree_reads_it() {
        let page = QueryPage::parse("u", PAGE).unwrap();
        assert_eq!(Ok(page.clone()), by_tree(PAGE));
        assert_eq!(page.total, Some(3));
        assert_eq!(page.records.len(), 2);
        let first = &page.records[0];
        assert_eq!(first.kind, "VAppRecord");
        assert_eq!(first.name(), Some("c&1"));
        assert_eq!(first.metadata["cse.cluster.id"], "a<b>c");
        assert_eq!(first.metadata["k"], "1");
        assert!(!first.metadata.contains_key("no.value"));
        assert!(!first.metadata.contains_key("second.typed"));
        assert!(!first.metadata.contains_key("later"));
        assert_eq!(
            page.next_page.as_deref(),
            Some("https://vcd/api/query?type=vApp&page=2")
        );
    }

    #[test]
    fn bad_pages_are_errors_naming_the_url() {
        for text in [
            "",
            "<QueryResultRecords>",
            "<QueryResultRecords><A></B></QueryResultRecords>",
            "</QueryResultRecords>",
            "not xml",
        ] {
            let error = QueryPage::parse("https://vcd/api/query", text).unwrap_err();
            assert!(
                error.to_string().contains("https://vcd/api/query"),
                "{text:?}: {error}"
            );
        }
        let error = QueryPage::parse("u", "<Session/>").unwrap_err().to_string();
        assert!(
            error.contains("expected QueryResultRecords, got <Session>"),
            "{error}"
        );
        let deep = format!(
            "<References>{}{}</References>",
            "<a>".repeat(300),
            "</a>".repeat(300)
        );
        assert!(QueryPage::parse("u", &deep).is_err());
    }

    /// Query pages built from pieces a vCD (or a hostile one) may send.
    fn page_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let text = prop_oneof![
            Just(String::new()),
            "[a-z .<&>]{0,6}".prop_map(|t| xml::escape(&t)),
            Just("<![CDATA[<x>]]>".to_owned()),
            Just("&#233;".to_owned()),
        ];
        let value = text
            .clone()
            .prop_map(|t| format!("<Value>{t}</Value>"))
            .boxed();
        let inner = prop_oneof![value.clone(), Just("<Other/>".to_owned()), text.clone(),];
        let typed = proptest::collection::vec(inner, 0..3).prop_map(|parts| {
            format!(
                "<TypedValue xsi:type=\"MetadataStringValue\">{}</TypedValue>",
                parts.concat()
            )
        });
        let entry_part = prop_oneof![
            text.clone().prop_map(|t| format!("<Key>{t}</Key>")),
            Just("<Key/>".to_owned()),
            typed,
            value,
            Just("<Key><b>x</b>y</Key>".to_owned()),
        ];
        let entry = proptest::collection::vec(entry_part, 0..4)
            .prop_map(|parts| format!("<MetadataEntry>{}</MetadataEntry>", parts.concat()));
        let metadata = proptest::collection::vec(entry, 0..4)
            .prop_map(|entries| format!("<Metadata>{}</Metadata>", entries.concat()));
        let record_part = prop_oneof![
            metadata,
            Just("<Other><Metadata/></Other>".to_owned()),
            text.clone()
        ];
        let record = (
            prop_oneof![Just("VAppRecord"), Just("AdminVAppRecord"), Just("Link")],
            prop_oneof![
                Just(""),
                Just(" xmlns=\"urn:other\""),
                Just(" xsi:nil=\"true\" xmlns:o=\"urn:o\" o:name=\"prefixed\""),
            ],
            "[a-z&<]{0,4}",
            proptest::collection::vec(record_part, 0..3),
        )
            .prop_map(|(kind, ns, name, parts)| {
                format!(
                    "<{kind}{ns} name=\"{}\" href=\"h\" rel=\"nextPage\">{}</{kind}>",
                    xml::escape(&name),
                    parts.concat()
                )
            });
        (
            prop_oneof![Just("QueryResultRecords"), Just("References")],
            proptest::option::of(0u64..1000),
            proptest::collection::vec(record, 0..5),
        )
            .prop_map(|(root, total, records)| {
                let total = total.map(|t| format!(" total=\"{t}\"")).unwrap_or_default();
                format!(
                    "<{root} xmlns=\"{VCLOUD_NS}\" xmlns:xsi=\"{}\"{total}>{}</{root}>",
                    xml::XSI_NS,
                    records.concat()
                )
            })
    }

    proptest::proptest! {
        #[test]
        fn generated_pages_read_as_the_tree_reads_them(text in page_text()) {
            proptest::prop_assert_eq!(QueryPage::parse("u", &text).map_err(|e| e.to_string()), by_tree(&text));
        }

        #[test]
        fn kept_attributes_are_those_of_the_whole_page(text in page_text()) {
            let keep = ["name".to_owned(), "xsi:nil".to_owned()];
            let mut whole = QueryPage::parse("u", &text).unwrap();
            for record in &mut whole.records {
                record.attributes.retain(|k, _| keep.contains(k));
            }
            proptest::prop_assert_eq!(QueryPage::parse_keeping("u", &text, &keep).unwrap(), whole);
        }

        #[test]
        fn arbitrary_input_never_panics(text in ".{0,200}") {
            let _ = QueryPage::parse("u", &text);
        }
    }
}
