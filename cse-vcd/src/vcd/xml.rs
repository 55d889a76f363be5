//! A small namespace-aware XML element tree used to read vCD documents and SOAP
//! envelopes: elements are matched by namespace URI + local name (never by prefix),
//! attributes by local name, text is kept untrimmed and entity-decoded.
//!
//! This is deliberately minimal: the typed vCD documents live in `cse_core::vcd`;
//! the clients only need envelopes, error documents, links and a few attributes.

use std::collections::BTreeMap;

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

/// Namespace of nearly every vCD element (`Link`s included).
pub const VCLOUD_NS: &str = "http://www.vmware.com/vcloud/v1.5";
/// Namespace of vCD extension documents (`VMWExtension`, `VimServer`, ...).
pub const VMEXT_NS: &str = "http://www.vmware.com/vcloud/extension/v1.5";
/// The XML Schema instance namespace (`xsi:type`).
pub const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// Nesting deeper than this is refused (a guard against hostile documents).
const MAX_DEPTH: usize = 256;

/// Why a document could not be read as XML.
#[derive(Debug, thiserror::Error)]
pub enum XmlError {
    /// The text is not well-formed XML.
    #[error("malformed XML at byte {position}: {reason}")]
    Malformed {
        /// Byte offset where the reader stopped.
        position: u64,
        /// The parser's explanation.
        reason: String,
    },
    /// The document has no root element.
    #[error("the document has no root element")]
    Empty,
    /// The document nests elements deeper than the reader accepts.
    #[error("the document nests elements deeper than {MAX_DEPTH} levels")]
    TooDeep,
}

/// One XML element with its namespace, attributes, text and children.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Element {
    /// Namespace URI, empty when unqualified.
    pub namespace: String,
    /// Local name (prefix removed).
    pub name: String,
    /// Attributes by local name (prefixes removed; `xmlns` declarations left out),
    /// except those in the XML Schema instance namespace, kept as `xsi:<name>`.
    /// Other attributes that differ only by namespace keep the last value.
    pub attributes: BTreeMap<String, String>,
    /// Concatenated, entity-decoded character data directly inside the element.
    pub text: String,
    /// Child elements in document order.
    pub children: Vec<Element>,
}

impl Element {
    /// True when the element has this namespace and local name.
    pub fn is(&self, namespace: &str, name: &str) -> bool {
        self.namespace == namespace && self.name == name
    }

    /// The attribute with this local name.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).map(String::as_str)
    }

    /// The first child with this local name, in any namespace.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The first child with this namespace and local name.
    pub fn child_ns(&self, namespace: &str, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(namespace, name))
    }

    /// Every child with this local name, in any namespace.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of the first child with this local name.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }

    /// Follows a path of local names from this element.
    pub fn descend(&self, path: &[&str]) -> Option<&Element> {
        path.iter()
            .try_fold(self, |element, name| element.child(name))
    }

    /// The `xsi:type` value without its prefix.
    pub fn xsi_type(&self) -> Option<&str> {
        self.attr("xsi:type")
            .map(|t| t.rsplit(':').next().unwrap_or(t))
    }
}

/// Parses a whole document into its root element.
pub fn parse(text: &str) -> Result<Element, XmlError> {
    let mut reader = NsReader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    let malformed = |reader: &NsReader<&[u8]>, e: &dyn std::fmt::Display| XmlError::Malformed {
        position: reader.buffer_position(),
        reason: e.to_string(),
    };
    loop {
        let event = reader.read_resolved_event();
        let (resolved, event) = match event {
            Ok((resolved, event)) => (namespace_of(&resolved), event),
            Err(e) => return Err(malformed(&reader, &e)),
        };
        match event {
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError::TooDeep);
                }
                let element =
                    open(&reader, resolved, &start).map_err(|e| malformed(&reader, &e))?;
                stack.push(element);
            }
            Event::Empty(start) => {
                let element =
                    open(&reader, resolved, &start).map_err(|e| malformed(&reader, &e))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => return Ok(element),
                }
            }
            Event::End(_) => {
                let Some(done) = stack.pop() else {
                    return Err(malformed(&reader, &"unexpected end tag"));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => return Ok(done),
                }
            }
            Event::Text(text) => {
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&text.xml10_content());
                }
            }
            Event::CData(data) => {
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&data.into_inner());
                }
            }
            Event::GeneralRef(reference) => {
                let decoded = reference_text(&reference).map_err(|e| malformed(&reader, &e))?;
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&decoded);
                }
            }
            Event::Eof => {
                return Err(if stack.is_empty() {
                    XmlError::Empty
                } else {
                    malformed(&reader, &"unexpected end of document")
                });
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
}

/// The text an entity or character reference (`&amp;`, `&#233;`) stands for.
pub(crate) fn reference_text(
    reference: &quick_xml::events::BytesRef<'_>,
) -> Result<String, quick_xml::escape::EscapeError> {
    let entity = format!("&{};", reference.xml10_content());
    Ok(quick_xml::escape::unescape(&entity)?.into_owned())
}

fn namespace_of(resolved: &ResolveResult<'_>) -> String {
    match resolved {
        ResolveResult::Bound(ns) => AsRef::<str>::as_ref(ns).to_owned(),
        _ => String::new(),
    }
}

fn open(
    reader: &NsReader<&[u8]>,
    namespace: String,
    start: &BytesStart<'_>,
) -> Result<Element, quick_xml::Error> {
    let name = AsRef::<str>::as_ref(&start.local_name()).to_owned();
    Ok(Element {
        namespace,
        name,
        attributes: attributes_of(reader, start)?,
        ..Element::default()
    })
}

/// The attributes of `start` as [`Element::attributes`] keeps them.
pub(crate) fn attributes_of(
    reader: &NsReader<&[u8]>,
    start: &BytesStart<'_>,
) -> Result<BTreeMap<String, String>, quick_xml::Error> {
    attributes_where(reader, start, |_| true)
}

/// Like [`attributes_of`], keeping only the attributes whose key (as kept
/// there) `keep` accepts; the others' values are not decoded.
pub(crate) fn attributes_where(
    reader: &NsReader<&[u8]>,
    start: &BytesStart<'_>,
    keep: impl Fn(&str) -> bool,
) -> Result<BTreeMap<String, String>, quick_xml::Error> {
    let mut attributes = BTreeMap::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(quick_xml::Error::from)?;
        let key = attribute.key;
        if key.as_namespace_binding().is_some() {
            continue;
        }
        // An unprefixed attribute is in no namespace (the default one does not apply).
        let key: std::borrow::Cow<'_, str> = if key.prefix().is_none() {
            key.local_name().into_inner().into()
        } else {
            let (attr_ns, local) = reader.resolver().resolve_attribute(key);
            if matches!(&attr_ns, ResolveResult::Bound(ns) if AsRef::<str>::as_ref(ns) == XSI_NS) {
                format!("xsi:{}", local.into_inner()).into()
            } else {
                local.into_inner().into()
            }
        };
        if keep(&key) {
            attributes.insert(key.into_owned(), attribute_value(&attribute)?);
        }
    }
    Ok(attributes)
}

fn attribute_value(
    attribute: &quick_xml::events::attributes::Attribute<'_>,
) -> Result<String, quick_xml::Error> {
    Ok(attribute
        .normalized_value(quick_xml::XmlVersion::Implicit1_0)?
        .into_owned())
}

/// Escapes text for use in XML content or a double-quoted attribute.
pub fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    // From the tenant CLI's former document reader: what `vcd-cse` reads must keep reading.
    #[test]
    fn task_documents_read_namespaced_attributes_children_and_text() {
        let doc = r#"<?xml version="1.0"?>
<Task xmlns="http://www.vmware.com/vcloud/v1.5" status="error" operation="a &amp; b">
  <Link rel="task:cancel" href="https://h/api/task/1/action/cancel"/>
  <Error majorErrorCode="500" message="boom &lt;x&gt;"/>
  <Progress>40</Progress>
</Task>"#;
        let root = parse(doc).unwrap();
        assert_eq!(root.name, "Task");
        assert_eq!(root.attr("operation"), Some("a & b"));
        assert_eq!(
            root.child("Error").unwrap().attr("message"),
            Some("boom <x>")
        );
        assert_eq!(root.child("Progress").unwrap().text, "40");
    }

    #[test]
    fn empty_malformed_and_too_deep_documents_are_refused() {
        assert!(matches!(parse(""), Err(XmlError::Empty)));
        assert!(matches!(
            parse("<a><b></a>"),
            Err(XmlError::Malformed { .. })
        ));
        assert!(parse("not xml at all").is_err());
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert!(matches!(parse(&deep), Err(XmlError::TooDeep)));
    }

    #[test]
    fn namespaces_are_resolved_and_prefixes_dropped() {
        let root = parse(
            r#"<?xml version="1.0"?><v:Session xmlns:v="http://www.vmware.com/vcloud/v1.5"
                 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" org="acme">
                 <v:Link rel="down" href="a?x=1&amp;y=2"/><Other xsi:type="x:MetadataStringValue"/></v:Session>"#,
        )
        .unwrap();
        assert!(root.is(VCLOUD_NS, "Session"));
        assert_eq!(root.attr("org"), Some("acme"));
        let link = root.child_ns(VCLOUD_NS, "Link").unwrap();
        assert_eq!(link.attr("href"), Some("a?x=1&y=2"));
        let other = root.child("Other").unwrap();
        assert_eq!(other.namespace, "");
        assert_eq!(other.xsi_type(), Some("MetadataStringValue"));
        assert_eq!(other.attr("type"), None);
    }

    #[test]
    fn text_is_untrimmed_and_decoded() {
        let root =
            parse("<a><args> &gt; /tmp/x.out 2&gt; /tmp/x.err</args><c><![CDATA[<raw>]]></c></a>")
                .unwrap();
        assert_eq!(root.child_text("args"), Some(" > /tmp/x.out 2> /tmp/x.err"));
        assert_eq!(root.child_text("c"), Some("<raw>"));
        assert_eq!(root.descend(&["args"]).map(|e| e.children.len()), Some(0));
    }

    #[test]
    fn bad_documents_are_errors_not_panics() {
        assert!(matches!(parse(""), Err(XmlError::Empty)));
        assert!(matches!(
            parse("<a><b></a>"),
            Err(XmlError::Malformed { .. })
        ));
        assert!(matches!(parse("<a>"), Err(XmlError::Malformed { .. })));
        assert!(parse("plain text").is_err());
        let deep = "<a>".repeat(300) + &"</a>".repeat(300);
        assert!(matches!(parse(&deep), Err(XmlError::TooDeep)));
    }

    proptest::proptest! {
        #[test]
        fn escaped_text_round_trips(text in "[ -~\u{e9}\u{4e2d}]{0,40}") {
            let doc = format!("<a t=\"{}\">{}</a>", escape(&text), escape(&text));
            let root = parse(&doc).unwrap();
            proptest::prop_assert_eq!(&root.text, &text);
            proptest::prop_assert_eq!(root.attr("t"), Some(text.as_str()));
        }

        #[test]
        fn arbitrary_input_never_panics(text in ".{0,200}") {
            let _ = parse(&text);
        }
    }
}
