//! A namespace-aware canonical form of XML text, to compare two documents semantically:
//! every element and attribute name is resolved to `{namespace}local`, attributes are sorted,
//! `xmlns` declarations are dropped, text is trimmed and whitespace-only text removed.
//! Prefix choice and attribute order therefore do not matter; losing a namespace does.
//!
//! Used by the golden-fixture tests here and available to the simulator's tests so both
//! sides of the wire can be compared with the same rules.

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

/// Why a text could not be canonicalised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot canonicalise XML at byte {position}: {reason}")]
pub struct CanonicalError {
    /// Byte offset where reading stopped.
    pub position: u64,
    /// What was wrong.
    pub reason: String,
}

/// One canonical node: an element start (with sorted attributes), text, or an element end.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum CanonicalNode {
    /// `{ns}local` with its `({ns}local, value)` attributes sorted.
    Start {
        /// Expanded element name.
        name: String,
        /// Expanded attribute names and values, sorted.
        attributes: Vec<(String, String)>,
    },
    /// Trimmed, non-empty text (entities resolved, CDATA included).
    Text(String),
    /// End of the innermost open element.
    End,
}

/// A resolved namespace as an owned value, so the reader can be used again.
enum OwnedNs {
    Bound(String),
    Unbound,
    Unknown(String),
}

impl OwnedNs {
    fn from(resolved: &ResolveResult<'_>) -> Self {
        match resolved {
            ResolveResult::Bound(ns) => OwnedNs::Bound(ns.0.to_owned()),
            ResolveResult::Unbound => OwnedNs::Unbound,
            ResolveResult::Unknown(prefix) => OwnedNs::Unknown(prefix.clone()),
        }
    }

    fn expand(&self, local: &str) -> Result<String, String> {
        match self {
            OwnedNs::Bound(ns) => Ok(format!("{{{ns}}}{local}")),
            OwnedNs::Unbound => Ok(local.to_owned()),
            OwnedNs::Unknown(prefix) => Err(format!("unknown namespace prefix '{prefix}'")),
        }
    }
}

/// The canonical node sequence of `xml`.
pub fn canonicalize(xml: &str) -> Result<Vec<CanonicalNode>, CanonicalError> {
    let mut reader = NsReader::from_str(xml);
    let mut nodes = Vec::new();
    let mut text = String::new();
    let mut depth = 0usize;
    loop {
        let position = reader.buffer_position();
        let fail = |reason: String| CanonicalError { position, reason };
        let (resolved, event) = reader
            .read_resolved_event()
            .map_err(|e| fail(e.to_string()))?;
        let element_ns = OwnedNs::from(&resolved);
        let (start, is_empty) = match event {
            Event::Start(start) => (start, false),
            Event::Empty(start) => (start, true),
            Event::End(_) => {
                flush(&mut text, &mut nodes);
                nodes.push(CanonicalNode::End);
                depth = depth.saturating_sub(1);
                continue;
            }
            Event::Text(t) => {
                text.push_str(&t.xml10_content());
                continue;
            }
            Event::CData(c) => {
                text.push_str(&c.into_inner());
                continue;
            }
            Event::GeneralRef(r) => {
                match r.resolve_char_ref().map_err(|e| fail(e.to_string()))? {
                    Some(c) => text.push(c),
                    None => {
                        let name = r.xml10_content();
                        let value = resolve_predefined_entity(&name)
                            .ok_or_else(|| fail(format!("unknown entity &{name};")))?;
                        text.push_str(value);
                    }
                }
                continue;
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => continue,
        };
        flush(&mut text, &mut nodes);
        let name = element_ns
            .expand(start.local_name().as_ref())
            .map_err(fail)?;
        let mut attributes = Vec::new();
        for attr in start.attributes() {
            let attr = attr.map_err(|e| fail(e.to_string()))?;
            let key = attr.key.as_ref();
            if key == "xmlns" || key.starts_with("xmlns:") {
                continue;
            }
            let (attr_ns, attr_local) = reader.resolver().resolve_attribute(attr.key);
            let attr_name = OwnedNs::from(&attr_ns)
                .expand(attr_local.as_ref())
                .map_err(fail)?;
            let value = attr
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|e| fail(e.to_string()))?;
            attributes.push((attr_name, value.into_owned()));
        }
        attributes.sort();
        nodes.push(CanonicalNode::Start { name, attributes });
        if is_empty {
            nodes.push(CanonicalNode::End);
        } else {
            depth += 1;
        }
    }
    if depth != 0 {
        return Err(CanonicalError {
            position: reader.buffer_position(),
            reason: format!("{depth} element(s) not closed"),
        });
    }
    Ok(nodes)
}

fn flush(text: &mut String, nodes: &mut Vec<CanonicalNode>) {
    let trimmed = text.trim();
    if !trimmed.is_empty() {
        nodes.push(CanonicalNode::Text(trimmed.to_owned()));
    }
    text.clear();
}

/// Renders canonical nodes one per line with indentation, for readable test diffs.
pub fn render(nodes: &[CanonicalNode]) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    for node in nodes {
        match node {
            CanonicalNode::Start { name, attributes } => {
                out.push_str(&"  ".repeat(depth));
                out.push('<');
                out.push_str(name);
                for (key, value) in attributes {
                    out.push_str(&format!(" {key}={value:?}"));
                }
                out.push_str(">\n");
                depth += 1;
            }
            CanonicalNode::Text(text) => {
                out.push_str(&"  ".repeat(depth));
                out.push_str(&format!("{text:?}\n"));
            }
            CanonicalNode::End => depth = depth.saturating_sub(1),
        }
    }
    out
}

/// [`canonicalize`] then [`render`].
pub fn canonical_string(xml: &str) -> Result<String, CanonicalError> {
    canonicalize(xml).map(|nodes| render(&nodes))
}

/// Whether two XML texts are the same document under the canonical rules (namespaces, names,
/// sorted attributes, trimmed text and element order compared; prefixes, attribute order,
/// `xmlns` declarations, comments and insignificant whitespace ignored).
pub fn equivalent(a: &str, b: &str) -> Result<bool, CanonicalError> {
    Ok(canonicalize(a)? == canonicalize(b)?)
}
