//! A small XML tree for the wire layer: [`El`] builds the documents the
//! simulator serves (written straight into one sized buffer, escaped as
//! quick-xml escapes: a test holds the two together),
//! and [`Dom`] reads request bodies by local name, ignoring namespaces,
//! unknown attributes and child order, as vCD's readers do.

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};

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
    name: Cow<'static, str>,
    attrs: Vec<(Cow<'static, str>, String)>,
    children: Vec<Node>,
}

#[derive(Debug, Clone)]
enum Node {
    El(El),
    Text(String),
}

impl El {
    /// An element named `name` (with its prefix, if any), without attributes or children.
    pub fn new(name: impl Into<Cow<'static, str>>) -> Self {
        El {
            name: name.into(),
            attrs: Vec::new(),
            children: Vec::new(),
        }
    }

    /// A root element in the vcloud namespace with the usual prefixes declared.
    pub fn root(name: impl Into<Cow<'static, str>>) -> Self {
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
    pub fn attr(mut self, key: impl Into<Cow<'static, str>>, value: impl Into<String>) -> Self {
        self.attrs.push((key.into(), value.into()));
        self
    }

    /// Adds the attribute when `value` is `Some`.
    pub(crate) fn opt_attr(self, key: &'static str, value: Option<impl Into<String>>) -> Self {
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
    pub fn leaf(self, name: &'static str, text: impl Into<String>) -> Self {
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

    /// Writes the element into `out`: quotes, `<`, `>`, `&` and line ends
    /// escaped in attribute values; quotes, `<`, `>`, `&` and `\r` in text.
    fn write(&self, out: &mut String) {
        out.push('<');
        out.push_str(&self.name);
        for (k, v) in &self.attrs {
            out.push(' ');
            out.push_str(k);
            out.push_str("=\"");
            push_escaped(out, v, true);
            out.push('"');
        }
        if self.children.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        for c in &self.children {
            match c {
                Node::El(e) => e.write(out),
                Node::Text(t) => push_escaped(out, t, false),
            }
        }
        out.push_str("</");
        out.push_str(&self.name);
        out.push('>');
    }

    /// About the length of the written element (unescaped), to size the buffer once.
    fn written_len(&self) -> usize {
        let attrs: usize = self.attrs.iter().map(|(k, v)| k.len() + v.len() + 4).sum();
        let children: usize = self
            .children
            .iter()
            .map(|c| match c {
                Node::El(e) => e.written_len(),
                Node::Text(t) => t.len(),
            })
            .sum();
        2 * self.name.len() + 5 + attrs + children
    }

    /// The document as text, with an XML declaration.
    pub fn to_document(&self) -> String {
        const DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";
        let mut out = String::with_capacity(DECLARATION.len() + self.written_len() + 64);
        out.push_str(DECLARATION);
        self.write(&mut out);
        out
    }
}

/// Appends `text` to `out` with XML's special characters escaped; in an
/// attribute value (`attribute`) also tabs and line feeds, which a reader
/// would otherwise normalise to spaces.
fn push_escaped(out: &mut String, text: &str, attribute: bool) {
    /// Bit 1: escaped everywhere; bit 2: escaped in attribute values only.
    const SPECIAL: [u8; 256] = {
        let mut table = [0u8; 256];
        let mut i = 0;
        let everywhere = b"<>&'\"\r";
        while i < everywhere.len() {
            table[everywhere[i] as usize] = 1;
            i += 1;
        }
        table[b'\n' as usize] = 2;
        table[b'\t' as usize] = 2;
        table
    };
    let mask = if attribute { 3 } else { 1 };
    let special = |b: u8| SPECIAL[b as usize] & mask != 0;
    let mut from = 0;
    for (at, b) in text.bytes().enumerate() {
        if !special(b) {
            continue;
        }
        out.push_str(&text[from..at]);
        out.push_str(match b {
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'&' => "&amp;",
            b'\'' => "&apos;",
            b'"' => "&quot;",
            b'\r' => "&#13;",
            b'\n' => "&#10;",
            _ => "&#9;",
        });
        from = at + 1;
    }
    out.push_str(&text[from..]);
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

    /// The document as quick-xml's writer writes it: the reference for [`El::write`].
    fn by_quick_xml(el: &El) -> String {
        use quick_xml::Writer;
        use quick_xml::events::{BytesDecl, BytesEnd, BytesText};
        fn write(el: &El, w: &mut Writer<Vec<u8>>) {
            let mut start = BytesStart::new(&*el.name);
            for (k, v) in &el.attrs {
                start.push_attribute((&**k, v.as_str()));
            }
            if el.children.is_empty() {
                w.write_event(Event::Empty(start)).unwrap();
                return;
            }
            w.write_event(Event::Start(start)).unwrap();
            for c in &el.children {
                match c {
                    Node::El(e) => write(e, w),
                    Node::Text(t) => w.write_event(Event::Text(BytesText::new(t))).unwrap(),
                }
            }
            w.write_event(Event::End(BytesEnd::new(&*el.name))).unwrap();
        }
        let mut w = Writer::new(Vec::new());
        w.write_event(Event::Decl(BytesDecl::new(
            "1.0",
            Some("UTF-8"),
            Some("yes"),
        )))
        .unwrap();
        w.get_mut().push(b'\n');
        write(el, &mut w);
        String::from_utf8(w.into_inner()).unwrap()
    }

    proptest::proptest! {
        #[test]
        fn documents_are_written_as_quick_xml_writes_them(
            texts in proptest::collection::vec("[ -~\t\r\n\u{e9}\u{4e2d}]{0,12}", 1..6),
        ) {
            let mut el = El::root("Root").attr("a", &texts[0]).text(&texts[0]);
            for (i, t) in texts.iter().enumerate() {
                el = el.child(
                    El::new(format!("C{i}"))
                        .attr("v", t)
                        .leaf("Leaf", t)
                        .child(El::new("Empty").attr("e", t)),
                );
            }
            proptest::prop_assert_eq!(el.to_document(), by_quick_xml(&el));
        }
    }

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
