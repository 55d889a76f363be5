//! Writing vim25 SOAP response envelopes with quick-xml.
//!
//! Every response uses the same four namespace declarations as vCenter, the
//! method element in the default `urn:vim25` namespace, and escaped text.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

/// Builds one SOAP envelope. Writes go to a `Vec<u8>`, which cannot fail, so
/// the writer's `io::Result`s are dropped on purpose.
pub struct SoapWriter {
    writer: Writer<Vec<u8>>,
}

impl SoapWriter {
    /// Starts `<?xml…?><soapenv:Envelope …><soapenv:Body>`.
    pub fn new() -> Self {
        let mut writer = Writer::new(Vec::with_capacity(1024));
        let _ = writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
        let _ = writer.write_event(Event::Text(BytesText::from_escaped("\n")));
        let envelope = BytesStart::new("soapenv:Envelope").with_attributes([
            ("xmlns:soapenc", "http://schemas.xmlsoap.org/soap/encoding/"),
            ("xmlns:soapenv", "http://schemas.xmlsoap.org/soap/envelope/"),
            ("xmlns:xsd", "http://www.w3.org/2001/XMLSchema"),
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
        ]);
        let _ = writer.write_event(Event::Start(envelope));
        let _ = writer.write_event(Event::Start(BytesStart::new("soapenv:Body")));
        SoapWriter { writer }
    }

    /// Opens an element with attributes.
    pub fn start(&mut self, name: &str, attributes: &[(&str, &str)]) {
        let mut start = BytesStart::new(name);
        for attribute in attributes {
            start.push_attribute(*attribute);
        }
        let _ = self.writer.write_event(Event::Start(start));
    }

    /// Closes an element.
    pub fn end(&mut self, name: &str) {
        let _ = self.writer.write_event(Event::End(BytesEnd::new(name)));
    }

    /// Writes escaped character data.
    pub fn text(&mut self, text: &str) {
        let _ = self.writer.write_event(Event::Text(BytesText::new(text)));
    }

    /// `<name attrs…>text</name>`.
    pub fn text_element(&mut self, name: &str, attributes: &[(&str, &str)], text: &str) {
        self.start(name, attributes);
        self.text(text);
        self.end(name);
    }

    /// `<name attrs…></name>` (pyVmomi and strict stacks accept the long form).
    pub fn empty_element(&mut self, name: &str, attributes: &[(&str, &str)]) {
        self.start(name, attributes);
        self.end(name);
    }

    /// Closes Body and Envelope and returns the document.
    pub fn finish(mut self) -> String {
        self.end("soapenv:Body");
        self.end("soapenv:Envelope");
        String::from_utf8_lossy(&self.writer.into_inner()).into_owned()
    }
}

impl Default for SoapWriter {
    fn default() -> Self {
        SoapWriter::new()
    }
}
