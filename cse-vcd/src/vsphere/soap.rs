//! vim25 SOAP 1.1 on the wire: building request envelopes (`_this` first,
//! parameters in WSDL order, arrays as repeated elements, text escaped and never
//! trimmed) and reading responses: the `<Method>Response` element, or a
//! `soapenv:Fault` turned into a [`SoapFault`] named by its vim fault type.

use std::collections::BTreeMap;
use std::fmt;

use crate::vcd::xml::{self, Element};

/// SOAP 1.1 envelope namespace.
pub const SOAPENV_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// vim25 namespace.
pub const VIM25_NS: &str = "urn:vim25";

/// A managed object reference (`<x type="VirtualMachine">vm-42</x>`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MoRef {
    /// Managed type, e.g. `VirtualMachine`.
    pub kind: String,
    /// Managed object id, e.g. `vm-42`.
    pub value: String,
}

impl MoRef {
    /// A reference of this type and id.
    pub fn new(kind: &str, value: &str) -> Self {
        Self {
            kind: kind.to_owned(),
            value: value.to_owned(),
        }
    }

    /// A `VirtualMachine` reference.
    pub fn vm(moref: &str) -> Self {
        Self::new("VirtualMachine", moref)
    }

    /// Reads a MoRef element (`type` attribute + text).
    pub fn from_element(element: &Element) -> Option<Self> {
        Some(Self {
            kind: element.attr("type")?.to_owned(),
            value: element.text.trim().to_owned(),
        })
    }
}

impl fmt::Display for MoRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.value)
    }
}

/// Builds the parameters of one call, in order.
#[derive(Default)]
pub struct Params {
    xml: String,
}

impl Params {
    /// No parameters yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// `<name>text</name>` (escaped, untrimmed).
    pub fn text(mut self, name: &str, value: &str) -> Self {
        self.xml
            .push_str(&format!("<{name}>{}</{name}>", xml::escape(value)));
        self
    }

    /// `<name>text</name>` when `value` is set.
    pub fn opt_text(self, name: &str, value: Option<&str>) -> Self {
        match value {
            Some(value) => self.text(name, value),
            None => self,
        }
    }

    /// A number.
    pub fn number(self, name: &str, value: i64) -> Self {
        self.text(name, &value.to_string())
    }

    /// A boolean.
    pub fn boolean(self, name: &str, value: bool) -> Self {
        self.text(name, if value { "true" } else { "false" })
    }

    /// `<name type="T">id</name>`.
    pub fn moref(mut self, name: &str, moref: &MoRef) -> Self {
        self.xml.push_str(&format!(
            "<{name} type=\"{}\">{}</{name}>",
            xml::escape(&moref.kind),
            xml::escape(&moref.value)
        ));
        self
    }

    /// A nested data object `<name [xsi:type="T"]>…</name>`.
    pub fn object(mut self, name: &str, xsi_type: Option<&str>, inner: Params) -> Self {
        match xsi_type {
            Some(t) => self
                .xml
                .push_str(&format!("<{name} xsi:type=\"{t}\">{}</{name}>", inner.xml)),
            None => self
                .xml
                .push_str(&format!("<{name}>{}</{name}>", inner.xml)),
        }
        self
    }

    /// The XML built so far.
    pub fn into_xml(self) -> String {
        self.xml
    }
}

/// A complete request envelope for `method` on `this`.
pub fn envelope(method: &str, this: &MoRef, params: Params) -> String {
    let body = Params::new().moref("_this", this).xml + &params.xml;
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
<soapenv:Envelope xmlns:soapenv=\"{SOAPENV_NS}\" \
xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" \
xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\
<soapenv:Body><{method} xmlns=\"{VIM25_NS}\">{body}</{method}></soapenv:Body></soapenv:Envelope>"
    )
}

/// A fault returned by vCenter, named by its vim type (`InvalidGuestLogin`, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SoapFault {
    /// Fault type (from `xsi:type`, else the detail element name minus `Fault`;
    /// `RuntimeFault` when the fault had no detail).
    pub name: String,
    /// `faultstring`.
    pub message: String,
    /// Detail fields by name (`file`, `pid`, `obj`, ...), text only.
    pub details: BTreeMap<String, String>,
}

/// The fault types the client reacts to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// No, unknown or expired session cookie.
    NotAuthenticated,
    /// Wrong vCenter user name or password.
    InvalidLogin,
    /// Bad moref.
    ManagedObjectNotFound,
    /// Bad property path.
    InvalidProperty,
    /// VM not powered on.
    InvalidPowerState,
    /// Operation not allowed now.
    InvalidState,
    /// Guest agent down or booting.
    GuestOperationsUnavailable,
    /// Wrong guest credentials.
    InvalidGuestLogin,
    /// Guest ACL refused.
    GuestPermissionDenied,
    /// Unknown guest pid.
    GuestProcessNotFound,
    /// Missing guest path.
    FileNotFound,
    /// Path exists already.
    FileAlreadyExists,
    /// Directory where a file was expected.
    NotAFile,
    /// General system error (e.g. vix 3016 while tools flap).
    SystemError,
    /// VM busy with another task.
    TaskInProgress,
    /// Anything else.
    Other,
}

impl SoapFault {
    /// The kind of this fault.
    pub fn kind(&self) -> FaultKind {
        match self.name.as_str() {
            "NotAuthenticated" => FaultKind::NotAuthenticated,
            "InvalidLogin" => FaultKind::InvalidLogin,
            "ManagedObjectNotFound" => FaultKind::ManagedObjectNotFound,
            "InvalidProperty" => FaultKind::InvalidProperty,
            "InvalidPowerState" => FaultKind::InvalidPowerState,
            "InvalidState" => FaultKind::InvalidState,
            "GuestOperationsUnavailable" => FaultKind::GuestOperationsUnavailable,
            "InvalidGuestLogin" => FaultKind::InvalidGuestLogin,
            "GuestPermissionDenied" => FaultKind::GuestPermissionDenied,
            "GuestProcessNotFound" => FaultKind::GuestProcessNotFound,
            "FileNotFound" => FaultKind::FileNotFound,
            "FileAlreadyExists" => FaultKind::FileAlreadyExists,
            "NotAFile" => FaultKind::NotAFile,
            "SystemError" => FaultKind::SystemError,
            "TaskInProgress" => FaultKind::TaskInProgress,
            _ => FaultKind::Other,
        }
    }

    /// True for faults that go away by themselves while a guest boots or its
    /// tools restart (worth polling again before a deadline).
    pub fn is_transient(&self) -> bool {
        matches!(
            self.kind(),
            FaultKind::GuestOperationsUnavailable
                | FaultKind::SystemError
                | FaultKind::TaskInProgress
                | FaultKind::InvalidState
        )
    }

    fn from_fault_element(fault: &Element) -> Self {
        let message = fault
            .child("faultstring")
            .map(|f| f.text.clone())
            .unwrap_or_default();
        let detail = fault.child("detail").and_then(|d| d.children.first());
        let Some(detail) = detail else {
            return Self {
                name: "RuntimeFault".to_owned(),
                message,
                details: BTreeMap::new(),
            };
        };
        let name = detail
            .xsi_type()
            .map(str::to_owned)
            .unwrap_or_else(|| detail.name.trim_end_matches("Fault").to_owned());
        let details = detail
            .children
            .iter()
            .map(|c| (c.name.clone(), c.text.clone()))
            .collect();
        Self {
            name,
            message,
            details,
        }
    }
}

impl fmt::Display for SoapFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.is_empty() {
            f.write_str(&self.name)
        } else {
            write!(f, "{}: {}", self.name, self.message)
        }
    }
}

/// What a SOAP answer body holds.
#[derive(Debug, PartialEq, Eq)]
pub enum SoapOutcome {
    /// The `<Method>Response` element.
    Response(Element),
    /// A fault.
    Fault(SoapFault),
}

/// Reads an answer envelope. `Err` carries a description of what is malformed.
pub fn parse_response(method: &str, body: &str) -> Result<SoapOutcome, String> {
    let root = xml::parse(body).map_err(|e| e.to_string())?;
    if !root.is(SOAPENV_NS, "Envelope") {
        return Err(format!("expected a SOAP Envelope, got <{}>", root.name));
    }
    let content = root
        .child_ns(SOAPENV_NS, "Body")
        .and_then(|b| b.children.first())
        .ok_or_else(|| "the SOAP Body is empty".to_owned())?;
    if content.is(SOAPENV_NS, "Fault") {
        return Ok(SoapOutcome::Fault(SoapFault::from_fault_element(content)));
    }
    let expected = format!("{method}Response");
    if content.name != expected {
        return Err(format!("expected <{expected}>, got <{}>", content.name));
    }
    Ok(SoapOutcome::Response(content.clone()))
}

/// The `returnval` children of a response.
pub fn returnvals(response: &Element) -> impl Iterator<Item = &Element> {
    response.children_named("returnval")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_puts_this_first_and_escapes_untrimmed_text() {
        let body = envelope(
            "StartProgramInGuest",
            &MoRef::new("GuestProcessManager", "guestOperationsProcessManager"),
            Params::new().moref("vm", &MoRef::vm("vm-42")).object(
                "spec",
                None,
                Params::new()
                    .text("programPath", "/tmp/x.sh")
                    .text("arguments", " > /tmp/x.out 2> /tmp/x.err"),
            ),
        );
        assert!(body.contains(
            "<StartProgramInGuest xmlns=\"urn:vim25\"><_this type=\"GuestProcessManager\">guestOperationsProcessManager</_this><vm type=\"VirtualMachine\">vm-42</vm>"
        ), "{body}");
        assert!(
            body.contains("<arguments> &gt; /tmp/x.out 2&gt; /tmp/x.err</arguments>"),
            "{body}"
        );
        let parsed = xml::parse(&body).unwrap();
        let method = &parsed.child("Body").unwrap().children[0];
        assert_eq!(
            method.descend(&["spec", "arguments"]).unwrap().text,
            " > /tmp/x.out 2> /tmp/x.err"
        );
    }

    #[test]
    fn fault_from_the_spec_example_is_typed() {
        let body = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
            xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault>
            <faultcode>ServerFaultCode</faultcode>
            <faultstring>Failed to authenticate with the guest operating system using the supplied credentials.</faultstring>
            <detail><InvalidGuestLoginFault xmlns="urn:vim25" xsi:type="InvalidGuestLogin"/></detail>
            </soapenv:Fault></soapenv:Body></soapenv:Envelope>"#;
        let SoapOutcome::Fault(fault) = parse_response("StartProgramInGuest", body).unwrap() else {
            panic!("expected a fault");
        };
        assert_eq!(fault.kind(), FaultKind::InvalidGuestLogin);
        assert!(!fault.is_transient());
        assert_eq!(
            fault.to_string(),
            "InvalidGuestLogin: Failed to authenticate with the guest operating system using the supplied credentials."
        );
    }

    #[test]
    fn fault_type_falls_back_to_the_element_name_and_keeps_details() {
        let body = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault>
            <faultcode>ServerFaultCode</faultcode><faultstring>File /tmp/x was not found</faultstring>
            <detail><FileNotFoundFault xmlns="urn:vim25"><file>/tmp/x</file></FileNotFoundFault></detail>
            </soapenv:Fault></soapenv:Body></soapenv:Envelope>"#;
        let SoapOutcome::Fault(fault) = parse_response("X", body).unwrap() else {
            panic!("expected a fault");
        };
        assert_eq!(fault.kind(), FaultKind::FileNotFound);
        assert_eq!(fault.details["file"], "/tmp/x");

        let bare = r#"<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Body><Fault><faultstring>odd</faultstring></Fault></Body></Envelope>"#;
        let SoapOutcome::Fault(fault) = parse_response("X", bare).unwrap() else {
            panic!("expected a fault");
        };
        assert_eq!(fault.name, "RuntimeFault");
        assert_eq!(fault.kind(), FaultKind::Other);
    }

    proptest::proptest! {
        #[test]
        fn parameter_text_survives_the_round_trip(text in "[ -~\t\n\u{e9}\u{4e2d}]{0,60}") {
            let body = envelope("X", &MoRef::vm("vm-1"), Params::new().text("arguments", &text));
            let parsed = xml::parse(&body).unwrap();
            let method = &parsed.child("Body").unwrap().children[0];
            proptest::prop_assert_eq!(method.child_text("arguments"), Some(text.as_str()));
        }

        #[test]
        fn arbitrary_answers_never_panic(body in ".{0,300}") {
            let _ = parse_response("X", &body);
        }
    }

    #[test]
    fn responses_are_checked_by_name() {
        let body = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>
            <StartProgramInGuestResponse xmlns="urn:vim25"><returnval>4711</returnval></StartProgramInGuestResponse>
            </soapenv:Body></soapenv:Envelope>"#;
        let SoapOutcome::Response(response) = parse_response("StartProgramInGuest", body).unwrap()
        else {
            panic!("expected a response");
        };
        assert_eq!(returnvals(&response).next().unwrap().text, "4711");
        assert!(
            parse_response("Login", body)
                .unwrap_err()
                .contains("expected <LoginResponse>")
        );
        assert!(parse_response("Login", "<html/>").is_err());
        assert!(parse_response("Login", "not xml").is_err());
    }
}
