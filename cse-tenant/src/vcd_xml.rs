//! The few vCD XML documents the tenant CLI reads (`SupportedVersions`, `Session`, `Org`,
//! `Task`, `Error`), parsed into a small element tree matched by local name only.

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

/// Most nested elements accepted (vCD documents are shallow; this bounds hostile input).
const MAX_DEPTH: usize = 64;

/// One XML element: local name, attributes (local names), children and text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    /// Local name (`Task`, `Link`, ...).
    pub name: String,
    /// Attributes by local name, in document order.
    pub attrs: Vec<(String, String)>,
    /// Child elements.
    pub children: Vec<Element>,
    /// Concatenated text content (trimmed).
    pub text: String,
}

impl Element {
    /// An attribute's value.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Children with the given local name.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The first child with the given local name.
    pub fn child<'a>(&'a self, name: &'a str) -> Option<&'a Element> {
        self.children_named(name).next()
    }

    /// `href` of the first `Link` with this `rel` and `type`, with its `name`.
    pub fn links<'a>(&'a self, rel: &'a str, media_type: &'a str) -> impl Iterator<Item = Link> {
        self.children_named("Link")
            .filter(move |l| l.attr("rel") == Some(rel) && l.attr("type") == Some(media_type))
            .filter_map(|l| {
                Some(Link {
                    href: l.attr("href")?.to_owned(),
                    name: l.attr("name").unwrap_or_default().to_owned(),
                })
            })
    }
}

/// A `Link` element's target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Target URL.
    pub href: String,
    /// `name` attribute (empty when absent).
    pub name: String,
}

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    /// Not well-formed XML.
    #[error("malformed XML: {0}")]
    Malformed(String),
    /// No root element.
    #[error("the document is empty")]
    Empty,
    /// Nested deeper than [`MAX_DEPTH`].
    #[error("the document is nested too deeply")]
    TooDeep,
}

/// Parse a document into its root element.
pub fn parse_root(xml: &str) -> Result<Element, XmlError> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<Element> = Vec::new();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| XmlError::Malformed(e.to_string()))?;
        match event {
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError::TooDeep);
                }
                stack.push(element(&start)?);
            }
            Event::Empty(start) => {
                let done = element(&start)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => return Ok(done),
                }
            }
            Event::End(_) => {
                let done = stack.pop().ok_or(XmlError::Empty)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => return Ok(done),
                }
            }
            Event::Text(text) => {
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(text.xml10_content().trim());
                }
            }
            Event::GeneralRef(reference) => {
                if let Some(current) = stack.last_mut() {
                    let resolved = match reference.resolve_char_ref() {
                        Ok(Some(c)) => Some(c),
                        _ => match reference.xml10_content().as_ref() {
                            "amp" => Some('&'),
                            "lt" => Some('<'),
                            "gt" => Some('>'),
                            "quot" => Some('"'),
                            "apos" => Some('\''),
                            _ => None,
                        },
                    };
                    if let Some(c) = resolved {
                        current.text.push(c);
                    }
                }
            }
            Event::Eof => {
                return Err(if stack.is_empty() {
                    XmlError::Empty
                } else {
                    XmlError::Malformed("unexpected end of document".to_owned())
                });
            }
            _ => {}
        }
    }
}

fn element(start: &BytesStart<'_>) -> Result<Element, XmlError> {
    let name = start.local_name().as_ref().to_owned();
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| XmlError::Malformed(e.to_string()))?;
        let key = attr.key.as_ref();
        if key == "xmlns" || key.starts_with("xmlns:") {
            continue;
        }
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| XmlError::Malformed(e.to_string()))?;
        attrs.push((
            attr.key.local_name().as_ref().to_owned(),
            value.into_owned(),
        ));
    }
    Ok(Element {
        name,
        attrs,
        ..Element::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_namespaced_attributes_children_and_text() {
        let doc = r#"<?xml version="1.0"?>
<Task xmlns="http://www.vmware.com/vcloud/v1.5" status="error" operation="a &amp; b">
  <Link rel="task:cancel" href="https://h/api/task/1/action/cancel"/>
  <Error majorErrorCode="500" message="boom &lt;x&gt;"/>
  <Progress>40</Progress>
</Task>"#;
        let root = parse_root(doc).unwrap();
        assert_eq!(root.name, "Task");
        assert_eq!(root.attr("operation"), Some("a & b"));
        assert_eq!(
            root.child("Error").unwrap().attr("message"),
            Some("boom <x>")
        );
        assert_eq!(root.child("Progress").unwrap().text, "40");
    }

    #[test]
    fn rejects_empty_and_malformed_documents() {
        assert_eq!(parse_root(""), Err(XmlError::Empty));
        assert!(matches!(
            parse_root("<a><b></a>"),
            Err(XmlError::Malformed(_))
        ));
        assert!(parse_root("not xml at all").is_err());
    }

    #[test]
    fn bounds_nesting_depth() {
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert_eq!(parse_root(&deep), Err(XmlError::TooDeep));
    }
}
