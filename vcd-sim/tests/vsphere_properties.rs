//! Property tests of the vCenter endpoint's wire handling: any text a client
//! sends in a SOAP parameter arrives unchanged (no trimming, entities
//! decoded), any text the simulator writes parses back, and session cookies
//! survive every echo form.

use proptest::prelude::*;
use vcd_sim::vsphere::sessions::{session_key_from_cookie, set_cookie_value};
use vcd_sim::vsphere::values::{MoRef, Value, write_any, write_declared};
use vcd_sim::vsphere::xml_out::SoapWriter;
use vcd_sim::vsphere::xml_tree::parse_document;

/// XML 1.0 text without carriage returns (which XML normalizes to newlines).
fn xml_text() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[ -~\n\t\u{a0}-\u{2fff}]{0,40}").expect("regex")
}

fn written(f: impl FnOnce(&mut SoapWriter)) -> String {
    let mut w = SoapWriter::new();
    f(&mut w);
    w.finish()
}

proptest! {
    #[test]
    fn written_strings_parse_back_exactly(text in xml_text()) {
        let doc = written(|w| write_declared(w, "arguments", &Value::String(text.clone()), false));
        let root = parse_document(&doc).expect("well-formed");
        let body = &root.children[0];
        prop_assert_eq!(body.child_text("arguments"), Some(text.as_str()));
    }

    #[test]
    fn any_slot_references_keep_type_and_id(kind in "[A-Za-z]{1,20}", id in xml_text()) {
        let doc = written(|w| write_any(w, "val", &Value::MoRef(MoRef::new(kind.clone(), id.clone()))));
        let root = parse_document(&doc).expect("well-formed");
        let val = root.children[0].child("val").expect("val");
        prop_assert_eq!(val.attribute("type"), Some(kind.as_str()));
        prop_assert_eq!(val.xsi_type.as_deref(), Some("ManagedObjectReference"));
        prop_assert_eq!(&val.text, &id);
    }

    #[test]
    fn character_references_and_entities_decode(text in xml_text()) {
        let encoded: String = text.chars().map(|c| format!("&#{};", u32::from(c))).collect();
        let root = parse_document(&format!("<a>{encoded}</a>")).expect("well-formed");
        prop_assert_eq!(root.text, text);
    }

    #[test]
    fn session_cookies_survive_every_echo_form(key in "[0-9a-f-]{1,40}", before in "[a-z]{1,8}=[a-z0-9]{0,8}") {
        let set_cookie = set_cookie_value(&key);
        prop_assert_eq!(session_key_from_cookie(&set_cookie), Some(key.clone()));
        let combined = format!("{before}; {set_cookie}");
        prop_assert_eq!(session_key_from_cookie(&combined), Some(key.clone()));
        let bare = format!("vmware_soap_session={key}");
        prop_assert_eq!(session_key_from_cookie(&bare), Some(key));
    }

    #[test]
    fn parsing_arbitrary_bytes_never_panics(text in ".{0,200}") {
        let _ = parse_document(&text);
    }
}
