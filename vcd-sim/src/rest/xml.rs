//! A small XML tree for the wire layer: [`El`] builds the documents the
//! simulator serves (written with quick-xml's writer, so escaping is right),
//! and [`Dom`] reads request bodies by local name, ignoring namespaces,
//! unknown attributes and child order, as vCD's readers do.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

/// vCD's main namespace (holds every `Link`).
pub const NS_VCLOUD: &str = "http://www.vmware.com/vcloud/v1.5";
/// Namespace of `SupportedVersions`.
pub(crate) const NS_VERSIONS: &str = "http://www.vmware.com/vcloud/versions";
/// vCD's extension namespace (`vmext:`).
pub(crate) const NS_VMEXT: &str = "http://www.vmware.com/vcloud/extension/v1.5";
/// OVF envelope namespace.
pub(crate) const NS_OVF: &str = "http://schemas.dmtf.org/ovf/envelope/1";
/// OVF environment namespace.
pub(crate) const NS_OVFENV: &str = "http://schemas.dmtf.org/ovf/environment/1";
/// VMware's OVF environment namespace (`ve:`).
pub(crate) const NS_VE: &str = "http://www.vmware.com/schema/ovfenv";
/// CIM `ResourceAllocationSettingData` namespace (`rasd:`).
pub(crate) const NS_RASD: &str =
    "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData";
/// VMware's OVF extensions namespace (`vmw:`).
pub(crate) const NS_VMW: &str = "http://www.vmware.com/schema/ovf";
/// XML Schema instance namespace (`xsi:`).
pub(crate) const NS_XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// An element under construction.
#[derive(Debug, Clone, Default)]
pub struct El {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Node>,
}

#[derive(Debug, Clone)]
enum Node {
    El(El),
    Text(String),
}

impl El {
    /// An element named `name` (with its prefix, if any), without attributes or children.
    pub fn new(name: impl Into<String>) -> Self {
        El {
            name: name.into(),
            attrs: Vec::new(),
            children: Vec::new(),
        }
    }

    /// A root element in the vcloud namespace with the usual prefixes declared.
    pub fn root(name: impl Into<String>) -> Self {
        El::new(name)
            .attr("xmlns", NS_VCLOUD)
            .attr("xmlns:vcloud", NS_VCLOUD)
            .attr("xmlns:ovf", NS_OVF)
            .attr("xmlns:vmext", NS_VMEXT)
            .attr("xmlns:xsi", NS_XSI)
            .attr("xmlns:rasd", NS_RASD)
            .attr("xmlns:vmw", NS_VMW)
            .attr("xmlns:ovfenv", NS_OVFENV)
            .attr("xmlns:ve", NS_VE)
    }

    /// Adds the attribute `key="value"`.
    pub fn attr(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.attrs.push((key.into(), value.into()));
        self
    }

    /// Adds the attribute when `value` is `Some`.
    pub(crate) fn opt_attr(self, key: &str, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(v) => self.attr(key, v),
            None => self,
        }
    }

    /// Appends a child element.
    pub fn child(mut self, child: El) -> Self {
        self.children.push(Node::El(child));
        self
    }

    /// Appends the child when it is `Some`.
    pub(crate) fn opt_child(self, child: Option<El>) -> Self {
        match child {
            Some(c) => self.child(c),
            None => self,
        }
    }

    /// Appends child elements in order.
    pub fn children(mut self, children: impl IntoIterator<Item = El>) -> Self {
        self.children.extend(children.into_iter().map(Node::El));
        self
    }

    /// Appends text (escaped when written).
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.children.push(Node::Text(text.into()));
        self
    }

    /// `<name>text</name>` child.
    pub fn leaf(self, name: &str, text: impl Into<String>) -> Self {
        self.child(El::new(name).text(text))
    }

    /// Appends a child element in place.
    pub fn push(&mut self, child: El) {
        self.children.push(Node::El(child));
    }

    /// A vCD `Link`.
    pub fn link(self, rel: &str, href: impl Into<String>, media_type: Option<&str>) -> Self {
        self.child(link(rel, href, media_type, None))
    }

    /// Appends a `Link` with a `name` attribute.
    pub fn named_link(
        self,
        rel: &str,
        href: impl Into<String>,
        media_type: Option<&str>,
        name: &str,
    ) -> Self {
        self.child(link(rel, href, media_type, Some(name)))
    }

    /// Takes over the attributes and children of `other`.
    pub fn absorb(mut self, other: El) -> El {
        self.attrs.extend(other.attrs);
        self.children.extend(other.children);
        self
    }

    fn write(&self, w: &mut Writer<Vec<u8>>) -> std::io::Result<()> {
        let mut start = BytesStart::new(self.name.as_str());
        for (k, v) in &self.attrs {
            start.push_attribute((k.as_str(), v.as_str()));
        }
        if self.children.is_empty() {
            w.write_event(Event::Empty(start))?;
            return Ok(());
        }
        w.write_event(Event::Start(start))?;
        for c in &self.children {
            match c {
                Node::El(e) => e.write(w)?,
                Node::Text(t) => w.write_event(Event::Text(BytesText::new(t)))?,
            }
        }
        w.write_event(Event::End(BytesEnd::new(self.name.as_str())))?;
        Ok(())
    }

    /// The document as text, with an XML declaration.
    pub fn to_document(&self) -> String {
        let mut w = Writer::new(Vec::new());
        // Writing into a Vec cannot fail.
        let _ = w.write_event(Event::Decl(BytesDecl::new(
            "1.0",
            Some("UTF-8"),
            Some("yes"),
        )));
        w.get_mut().push(b'\n');
        let _ = self.write(&mut w);
        String::from_utf8(w.into_inner()).unwrap_or_default()
    }
}

/// A `Link` element (always in the vcloud namespace: written unprefixed under
/// roots whose default namespace is vcloud, prefixed otherwise by the caller).
pub fn link(
    rel: &str,
    href: impl Into<String>,
    media_type: Option<&str>,
    name: Option<&str>,
) -> El {
    El::new("Link")
        .attr("rel", rel)
        .attr("href", href)
        .opt_attr("name", name)
        .opt_attr("type", media_type)
}

/// A parsed element of a request body; names are local names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dom {
    /// Local name (prefix dropped).
    pub name: String,
    /// Attributes as (local name, value), in document order.
    pub attrs: Vec<(String, String)>,
    /// Child elements, in document order.
    pub children: Vec<Dom>,
    /// Character data directly inside, concatenated.
    pub text: String,
}

/// Why a request body could not be read.
#[derive(Debug, thiserror::Error)]
#[error("malformed XML document: {0}")]
pub struct XmlError(pub String);

fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

impl Dom {
    /// Parses a document; namespaces are dropped, only local names are kept.
    pub fn parse(text: &str) -> Result<Dom, XmlError> {
        let mut reader = quick_xml::Reader::from_str(text);
        let mut stack: Vec<Dom> = Vec::new();
        let mut root: Option<Dom> = None;
        loop {
            let ev = reader.read_event().map_err(|e| XmlError(e.to_string()))?;
            match ev {
                Event::Start(s) | Event::Empty(s) if root.is_some() && stack.is_empty() => {
                    return Err(XmlError(format!(
                        "a second root element <{}>",
                        s.name().as_ref()
                    )));
                }
                Event::Start(s) => stack.push(Self::from_start(&s)?),
                Event::Empty(s) => {
                    let el = Self::from_start(&s)?;
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(el),
                        None => root = Some(el),
                    }
                }
                Event::End(_) => {
                    let el = stack
                        .pop()
                        .ok_or_else(|| XmlError("unbalanced end tag".into()))?;
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(el),
                        None => root = Some(el),
                    }
                }
                Event::Text(t) => {
                    if let Some(cur) = stack.last_mut() {
                        cur.text.push_str(&t.xml10_content());
                    }
                }
                Event::CData(t) => {
                    if let Some(cur) = stack.last_mut() {
                        cur.text.push_str(&t);
                    }
                }
                Event::GeneralRef(r) => {
                    if let Some(cur) = stack.last_mut() {
                        let resolved = match r.resolve_char_ref() {
                            Ok(Some(c)) => c.to_string(),
                            Ok(None) => {
                                let name = r.xml10_content();
                                quick_xml::escape::resolve_predefined_entity(&name)
                                    .map(str::to_string)
                                    .ok_or_else(|| XmlError(format!("unknown entity &{name};")))?
                            }
                            Err(e) => return Err(XmlError(e.to_string())),
                        };
                        cur.text.push_str(&resolved);
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        if !stack.is_empty() {
            return Err(XmlError("document ends inside an element".into()));
        }
        root.ok_or_else(|| XmlError("no root element".into()))
    }

    fn from_start(s: &BytesStart<'_>) -> Result<Dom, XmlError> {
        let qname = s.name().as_ref().to_string();
        let mut attrs = Vec::new();
        for a in s.attributes() {
            let a = a.map_err(|e| XmlError(e.to_string()))?;
            let key = a.key.as_ref().to_string();
            if key == "xmlns" || key.starts_with("xmlns:") {
                continue;
            }
            let value = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|e| XmlError(e.to_string()))?;
            attrs.push((local(&key).to_string(), value.to_string()));
        }
        Ok(Dom {
            name: local(&qname).to_string(),
            attrs,
            children: Vec::new(),
            text: String::new(),
        })
    }

    /// The value of attribute `name` (local name).
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Dom> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child named `name`, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Dom> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// Trimmed text of a direct child.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.trim())
    }

    /// A boolean child (`true`/`false`, any case).
    pub fn child_bool(&self, name: &str) -> Option<bool> {
        self.child_text(name).and_then(parse_bool)
    }

    /// Depth-first search for the first descendant with this name.
    pub fn find(&self, name: &str) -> Option<&Dom> {
        for c in &self.children {
            if c.name == name {
                return Some(c);
            }
            if let Some(f) = c.find(name) {
                return Some(f);
            }
        }
        None
    }
}

/// vCD booleans, also Python's `True`/`False` in query strings.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_escapes_and_reader_round_trips() {
        let doc = El::root("QueryList")
            .attr("href", "http://h/api/query?type=vApp&format=records")
            .leaf("Description", "a < b & c")
            .to_document();
        assert!(doc.contains("type=vApp&amp;format=records"));
        let dom = Dom::parse(&doc).unwrap();
        assert_eq!(dom.name, "QueryList");
        assert_eq!(
            dom.attr("href"),
            Some("http://h/api/query?type=vApp&format=records")
        );
        assert_eq!(dom.child_text("Description"), Some("a < b & c"));
    }

    #[test]
    fn reader_uses_local_names() {
        let dom = Dom::parse(
            r#"<vmext:Service xmlns:vmext="x" name="cse"><vmext:Enabled>True</vmext:Enabled>
               <TypedValue xmlns:xsi="y" xsi:type="MetadataStringValue"/></vmext:Service>"#,
        )
        .unwrap();
        assert_eq!(dom.name, "Service");
        assert_eq!(dom.child_bool("Enabled"), Some(true));
        assert_eq!(
            dom.child("TypedValue").unwrap().attr("type"),
            Some("MetadataStringValue")
        );
    }

    proptest::proptest! {
        #[test]
        fn any_text_and_attribute_round_trips(text in "\\PC{0,40}", attr in "\\PC{0,40}") {
            let doc = El::root("A").attr("v", attr.clone()).leaf("T", text.clone()).to_document();
            let dom = Dom::parse(&doc).unwrap();
            proptest::prop_assert_eq!(dom.attr("v"), Some(attr.as_str()));
            proptest::prop_assert_eq!(&dom.child("T").unwrap().text, &text);
        }
    }

    #[test]
    fn reader_rejects_garbage() {
        assert!(Dom::parse("not xml").is_err());
        assert!(Dom::parse("<a><b></a>").is_err());
        assert!(Dom::parse("").is_err());
    }
}
