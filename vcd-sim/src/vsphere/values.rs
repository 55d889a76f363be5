//! vim25 values as the simulator returns them (primitives, enums, managed
//! object references, data objects, arrays) and how each is written in a
//! declared slot or an `anyType` slot (PropertyCollector `val`).

use chrono::{DateTime, SecondsFormat, Utc};

use super::xml_out::SoapWriter;

/// A managed object reference: `<x type="VirtualMachine">vm-42</x>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MoRef {
    /// The managed type (`type` attribute).
    pub kind: String,
    /// The managed object id.
    pub id: String,
}

impl MoRef {
    /// A reference to the object `kind:id` (`VirtualMachine`, `vm-42`).
    pub fn new(kind: impl Into<String>, id: impl Into<String>) -> Self {
        MoRef {
            kind: kind.into(),
            id: id.into(),
        }
    }

    /// A `VirtualMachine` reference.
    pub fn vm(id: impl Into<String>) -> Self {
        MoRef::new("VirtualMachine", id)
    }
}

/// One value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `xsd:string`.
    String(String),
    /// `xsd:boolean`.
    Bool(bool),
    /// `xsd:int`.
    Int(i32),
    /// `xsd:long`.
    Long(i64),
    /// `xsd:dateTime`.
    DateTime(DateTime<Utc>),
    /// An enum value with its WSDL type name (`VirtualMachinePowerState`).
    Enum {
        /// The WSDL enum type.
        type_name: &'static str,
        /// The value.
        value: &'static str,
    },
    /// `ManagedObjectReference`.
    MoRef(MoRef),
    /// A data object.
    Data(DataObject),
    /// `ArrayOfManagedObjectReference`.
    MoRefArray(Vec<MoRef>),
    /// `ArrayOfString`.
    StringArray(Vec<String>),
}

/// A data object: its WSDL type name and every known property, unset ones as `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct DataObject {
    /// WSDL type name (`GuestInfo`, ...).
    pub type_name: &'static str,
    /// Every property, in WSDL order.
    pub fields: Vec<Field>,
}

/// One property of a data object.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Property name.
    pub name: &'static str,
    /// Its value; `None`: unset (not written).
    pub value: Option<Value>,
    /// Write `xsi:type` even in this declared slot (the runtime type is a
    /// subtype of the declared one, e.g. `GuestPosixFileAttributes`).
    pub subtype: bool,
}

impl DataObject {
    /// A data object of `type_name` with no properties yet.
    pub fn new(type_name: &'static str) -> Self {
        DataObject {
            type_name,
            fields: Vec::new(),
        }
    }

    /// Adds a property (unset when `value` is `None`).
    pub fn field(mut self, name: &'static str, value: impl Into<Option<Value>>) -> Self {
        self.fields.push(Field {
            name,
            value: value.into(),
            subtype: false,
        });
        self
    }

    /// Adds a property whose runtime type is a subtype of the declared one.
    pub fn subtype_field(mut self, name: &'static str, value: Value) -> Self {
        self.fields.push(Field {
            name,
            value: Some(value),
            subtype: true,
        });
        self
    }

    /// A property by name: `None` if the type has no such property,
    /// `Some(None)` if it exists but is unset.
    pub fn get(&self, name: &str) -> Option<Option<&Value>> {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.value.as_ref())
    }
}

impl Value {
    /// A string value.
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// The `xsi:type` this value carries in an `anyType` slot.
    pub fn any_type_name(&self) -> &'static str {
        match self {
            Value::String(_) => "xsd:string",
            Value::Bool(_) => "xsd:boolean",
            Value::Int(_) => "xsd:int",
            Value::Long(_) => "xsd:long",
            Value::DateTime(_) => "xsd:dateTime",
            Value::Enum { type_name, .. } => type_name,
            Value::MoRef(_) => "ManagedObjectReference",
            Value::Data(data) => data.type_name,
            Value::MoRefArray(_) => "ArrayOfManagedObjectReference",
            Value::StringArray(_) => "ArrayOfString",
        }
    }
}

/// vim25 `xsd:dateTime` text: ISO-8601 with microseconds and `Z`.
pub fn format_datetime(time: &DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Int(i) => Some(i.to_string()),
        Value::Long(l) => Some(l.to_string()),
        Value::DateTime(t) => Some(format_datetime(t)),
        Value::Enum { value, .. } => Some((*value).to_owned()),
        Value::MoRef(_) | Value::Data(_) | Value::MoRefArray(_) | Value::StringArray(_) => None,
    }
}

/// Writes a value in an `anyType` slot: always with `xsi:type`, arrays in
/// their `ArrayOf…` wrapper.
pub fn write_any(w: &mut SoapWriter, name: &str, value: &Value) {
    let xsi_type = value.any_type_name();
    match value {
        Value::MoRefArray(items) => {
            w.start(name, &[("xsi:type", xsi_type)]);
            for item in items {
                w.text_element("ManagedObjectReference", &[("type", &item.kind)], &item.id);
            }
            w.end(name);
        }
        Value::StringArray(items) => {
            w.start(name, &[("xsi:type", xsi_type)]);
            for item in items {
                w.text_element("string", &[], item);
            }
            w.end(name);
        }
        _ => write_single(w, name, value, Some(xsi_type)),
    }
}

/// Writes a value in a declared slot: arrays as repeated elements, `xsi:type`
/// only when `annotate` (runtime subtype, or a reference in any slot).
pub fn write_declared(w: &mut SoapWriter, name: &str, value: &Value, annotate: bool) {
    match value {
        Value::MoRefArray(items) => {
            for item in items {
                w.text_element(name, &[("type", &item.kind)], &item.id);
            }
        }
        Value::StringArray(items) => {
            for item in items {
                w.text_element(name, &[], item);
            }
        }
        _ => write_single(w, name, value, annotate.then(|| value.any_type_name())),
    }
}

fn write_single(w: &mut SoapWriter, name: &str, value: &Value, xsi_type: Option<&str>) {
    match value {
        Value::MoRef(moref) => {
            let mut attributes = vec![("type", moref.kind.as_str())];
            if let Some(t) = xsi_type {
                attributes.push(("xsi:type", t));
            }
            w.text_element(name, &attributes, &moref.id);
        }
        Value::Data(data) => {
            let attributes: Vec<(&str, &str)> =
                xsi_type.map(|t| ("xsi:type", t)).into_iter().collect();
            w.start(name, &attributes);
            write_fields(w, data);
            w.end(name);
        }
        other => {
            let attributes: Vec<(&str, &str)> =
                xsi_type.map(|t| ("xsi:type", t)).into_iter().collect();
            let text = scalar_text(other).unwrap_or_default();
            w.text_element(name, &attributes, &text);
        }
    }
}

/// Writes a data object's set properties, in declaration order.
pub fn write_fields(w: &mut SoapWriter, data: &DataObject) {
    for field in &data.fields {
        if let Some(value) = &field.value {
            write_declared(w, field.name, value, field.subtype);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(f: impl FnOnce(&mut SoapWriter)) -> String {
        let mut w = SoapWriter::new();
        f(&mut w);
        let doc = w.finish();
        let start = doc.find("<soapenv:Body>").unwrap() + "<soapenv:Body>".len();
        let end = doc.find("</soapenv:Body>").unwrap();
        doc[start..end].to_owned()
    }

    #[test]
    fn any_slots_carry_xsi_type() {
        assert_eq!(
            body(|w| write_any(w, "val", &Value::string("a&b"))),
            r#"<val xsi:type="xsd:string">a&amp;b</val>"#
        );
        assert_eq!(
            body(|w| write_any(
                w,
                "val",
                &Value::MoRef(MoRef::new("GuestFileManager", "gfm"))
            )),
            r#"<val type="GuestFileManager" xsi:type="ManagedObjectReference">gfm</val>"#
        );
        assert_eq!(
            body(|w| write_any(w, "val", &Value::MoRefArray(vec![MoRef::vm("vm-1")]))),
            r#"<val xsi:type="ArrayOfManagedObjectReference"><ManagedObjectReference type="VirtualMachine">vm-1</ManagedObjectReference></val>"#
        );
    }

    #[test]
    fn declared_slots_skip_unset_fields_and_annotate_subtypes() {
        let attrs = DataObject::new("GuestPosixFileAttributes").field("ownerId", Value::Int(0));
        let info = DataObject::new("FileTransferInformation")
            .subtype_field("attributes", Value::Data(attrs))
            .field("size", Value::Long(5))
            .field("missing", None);
        assert_eq!(
            body(|w| write_declared(w, "returnval", &Value::Data(info), false)),
            r#"<returnval><attributes xsi:type="GuestPosixFileAttributes"><ownerId>0</ownerId></attributes><size>5</size></returnval>"#
        );
    }
}
