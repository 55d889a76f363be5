//! A small namespace-aware element tree for incoming SOAP envelopes.
//!
//! Requests are tiny, so the whole body is read into [`Element`]s with
//! quick-xml's `NsReader`. Names are kept as (namespace URI, local name), never
//! as prefixes; `xsi:type` values lose their prefix; text is kept exactly as
//! sent (no trimming, entities and character references decoded).

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, XmlVersion};

/// The XML Schema instance namespace (`xsi:type`, `xsi:nil`).
pub const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// The SOAP 1.1 envelope namespace.
pub const SOAPENV_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// The vim25 namespace.
pub const VIM25_NS: &str = "urn:vim25";

/// Deepest nesting accepted; SOAP requests of this subset are a few levels deep.
const MAX_DEPTH: usize = 64;

/// Why a request body is not a usable XML document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlTreeError {
    /// The XML parser refused the body.
    #[error("request body is not well-formed XML: {0}")]
    Malformed(String),
    /// The body holds no element.
    #[error("request body has no root element")]
    NoRoot,
    /// Elements nest deeper than the limit.
    #[error("request body nests elements deeper than {MAX_DEPTH} levels")]
    TooDeep,
    /// A prefix is used without an `xmlns` declaration.
    #[error("request body uses the undeclared namespace prefix '{0}'")]
    UnknownPrefix(String),
    /// An entity other than XML's five predefined ones.
    #[error("request body uses the unknown entity '&{0};'")]
    UnknownEntity(String),
}

/// One element with its namespace, attributes, text and children.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    /// Namespace URI, if the name is bound to one.
    pub namespace: Option<String>,
    /// Local name, without prefix.
    pub name: String,
    /// `xsi:type` without its prefix.
    pub xsi_type: Option<String>,
    /// Whether `xsi:nil="true"` was given.
    pub nil: bool,
    /// Attributes outside the `xsi` and `xmlns` namespaces, by local name.
    pub attributes: Vec<(String, String)>,
    /// Concatenated character data directly inside this element, untrimmed.
    pub text: String,
    /// Child elements, in document order.
    pub children: Vec<Element>,
}

impl Element {
    /// Whether this element has the given namespace and local name.
    pub fn is(&self, namespace: &str, name: &str) -> bool {
        self.name == name && self.namespace.as_deref() == Some(namespace)
    }

    /// An attribute by local name.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first child with this local name (any namespace: SOAP parameters
    /// may be unqualified or in `urn:vim25`).
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name && !c.nil)
    }

    /// Every child with this local name, in document order.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children
            .iter()
            .filter(move |c| c.name == name && !c.nil)
    }

    /// The text of the first child with this local name.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }
}

/// Parses a whole document and returns its root element.
pub fn parse_document(xml: &str) -> Result<Element, XmlTreeError> {
    let mut reader = NsReader::from_str(xml);
    reader.config_mut().expand_empty_elements = true;
    let mut stack: Vec<Element> = Vec::new();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| XmlTreeError::Malformed(e.to_string()))?;
        match event {
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlTreeError::TooDeep);
                }
                let element = open_element(&reader, &start)?;
                stack.push(element);
            }
            Event::End(_) => {
                let done = stack.pop().ok_or(XmlTreeError::NoRoot)?;
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
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(ch)) => ch,
                    Ok(None) => predefined_entity(&reference)
                        .ok_or_else(|| XmlTreeError::UnknownEntity(reference.to_string()))?,
                    Err(e) => return Err(XmlTreeError::Malformed(e.to_string())),
                };
                if let Some(current) = stack.last_mut() {
                    current.text.push(resolved);
                }
            }
            Event::Eof => return Err(XmlTreeError::NoRoot),
            Event::Empty(_)
            | Event::Comment(_)
            | Event::Decl(_)
            | Event::PI(_)
            | Event::DocType(_) => {}
        }
    }
}

fn predefined_entity(name: &str) -> Option<char> {
    match name {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "apos" => Some('\''),
        "quot" => Some('"'),
        _ => None,
    }
}

fn open_element(reader: &NsReader<&[u8]>, start: &BytesStart<'_>) -> Result<Element, XmlTreeError> {
    let (ns, local) = reader.resolver().resolve_element(start.name());
    let namespace = match ns {
        ResolveResult::Bound(ns) => Some(ns.as_ref().to_owned()),
        ResolveResult::Unbound => None,
        ResolveResult::Unknown(prefix) => return Err(XmlTreeError::UnknownPrefix(prefix)),
    };
    let mut element = Element {
        namespace,
        name: local.as_ref().to_owned(),
        ..Element::default()
    };
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| XmlTreeError::Malformed(e.to_string()))?;
        let key = attribute.key;
        if key.as_namespace_binding().is_some() {
            continue;
        }
        let value = attribute
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| XmlTreeError::Malformed(e.to_string()))?
            .into_owned();
        let (ns, local) = reader.resolver().resolve_attribute(key);
        let local = local.as_ref().to_owned();
        match ns {
            ResolveResult::Bound(ns) if ns.as_ref() == XSI_NS => match local.as_str() {
                "type" => element.xsi_type = Some(strip_prefix(&value).to_owned()),
                "nil" => element.nil = matches!(value.trim(), "true" | "1"),
                _ => {}
            },
            ResolveResult::Bound(_) => {}
            ResolveResult::Unbound => element.attributes.push((local, value)),
            ResolveResult::Unknown(prefix) => return Err(XmlTreeError::UnknownPrefix(prefix)),
        }
    }
    Ok(element)
}

/// `vim25:GuestInfo` → `GuestInfo`.
pub fn strip_prefix(qname: &str) -> &str {
    qname.rsplit_once(':').map_or(qname, |(_, local)| local)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_text_untrimmed_and_decodes_entities() {
        let doc = r#"<a xmlns="urn:vim25"><arguments> &gt; /tmp/x.out 2&gt; /tmp/x.err&#10;</arguments></a>"#;
        let root = parse_document(doc).unwrap();
        assert_eq!(
            root.child_text("arguments"),
            Some(" > /tmp/x.out 2> /tmp/x.err\n")
        );
    }

    #[test]
    fn resolves_namespaces_and_xsi_type() {
        let doc = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><s:Body><M xmlns="urn:vim25"><auth i:type="v:NamePasswordAuthentication" xmlns:v="urn:vim25"/><_this type="X">y</_this></M></s:Body></s:Envelope>"#;
        let root = parse_document(doc).unwrap();
        assert!(root.is(SOAPENV_NS, "Envelope"));
        let method = &root.children[0].children[0];
        assert!(method.is(VIM25_NS, "M"));
        assert_eq!(
            method.children[0].xsi_type.as_deref(),
            Some("NamePasswordAuthentication")
        );
        assert_eq!(method.child("_this").unwrap().attribute("type"), Some("X"));
    }

    #[test]
    fn rejects_broken_documents() {
        assert!(matches!(
            parse_document("<a><b></a>"),
            Err(XmlTreeError::Malformed(_))
        ));
        assert_eq!(parse_document(""), Err(XmlTreeError::NoRoot));
        assert!(matches!(
            parse_document("<p:a/>"),
            Err(XmlTreeError::UnknownPrefix(_))
        ));
        assert!(matches!(
            parse_document("<a>&nope;</a>"),
            Err(XmlTreeError::UnknownEntity(_))
        ));
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert_eq!(parse_document(&deep), Err(XmlTreeError::TooDeep));
    }
}
