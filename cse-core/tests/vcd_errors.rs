//! Malformed, truncated, wrongly namespaced or wrongly typed input gives a typed
//! [`VcdXmlError`] naming the document and what was wrong — never a panic, never a silently
//! wrong value.

use cse_core::vcd::canonical::{canonicalize, equivalent};
use cse_core::vcd::*;

const V: &str = "http://www.vmware.com/vcloud/v1.5";

fn session(attrs: &str, body: &str) -> String {
    format!(r#"<Session xmlns="{V}" {attrs}>{body}</Session>"#)
}

fn parse_error<T: VcdDocument + std::fmt::Debug>(xml: &str) -> String {
    match T::from_xml(xml) {
        Ok(value) => panic!("accepted {xml:?} as {value:?}"),
        Err(VcdXmlError::Parse { document, reason }) => {
            assert_eq!(document, T::ROOT);
            reason
        }
        Err(other) => panic!("unexpected error {other:?}"),
    }
}

#[test]
fn wrong_root_namespace_is_rejected() {
    let versions = r#"<Session xmlns="http://www.vmware.com/vcloud/versions" user="a" org="b"/>"#;
    let reason = parse_error::<Session>(versions);
    assert!(reason.contains("unexpected root element"), "{reason}");
    assert!(
        reason.contains("http://www.vmware.com/vcloud/versions"),
        "{reason}"
    );
    // No namespace at all is also wrong: vCD always qualifies its documents.
    let reason = parse_error::<Session>(r#"<Session user="a" org="b"/>"#);
    assert!(reason.contains("unexpected root element"), "{reason}");
    // A vmext document in the vcloud namespace.
    parse_error::<ExtensionService>(&format!(
        r#"<Service xmlns="{V}" name="cse"><Namespace>cse</Namespace></Service>"#
    ));
}

#[test]
fn wrong_root_element_is_rejected() {
    let org = format!(r#"<Org xmlns="{V}" href="h" name="acme"/>"#);
    let reason = parse_error::<Session>(&org);
    assert!(reason.contains("\"Org\""), "{reason}");
}

#[test]
fn children_in_a_wrong_namespace_are_not_taken() {
    // A `Link` in the vmext namespace is not a vcloud Link.
    let xml = session(
        r#"user="a" org="b" xmlns:e="http://www.vmware.com/vcloud/extension/v1.5""#,
        r#"<e:Link rel="down" href="x" type="application/vnd.vmware.vcloud.org+xml"/>"#,
    );
    let s = Session::from_xml(&xml).unwrap();
    assert!(s.links.is_empty());
    // VmVimInfo in the vcloud namespace is not the extension's: no vCenter name is read.
    let vm = format!(
        r#"<Vm xmlns="{V}" href="h" name="n"><VCloudExtension><VmVimInfo><VmVimObjectRef>
           <VimServerRef href="v" name="vc1"/><MoRef>vm-1</MoRef><VimObjectType>VIRTUAL_MACHINE</VimObjectType>
           </VmVimObjectRef></VmVimInfo></VCloudExtension></Vm>"#
    );
    let vm = Vm::from_xml(&vm).unwrap();
    assert_eq!(vm.vcenter_name(), None);
    assert_eq!(vm.moref(), None);
    // A required element in the wrong namespace is missing.
    let reason = parse_error::<Metadata>(&format!(
        r#"<Metadata xmlns="{V}"><MetadataEntry xmlns:x="urn:other"><x:Key>k</x:Key><TypedValue xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="MetadataStringValue"><Value>v</Value></TypedValue></MetadataEntry></Metadata>"#
    ));
    assert!(reason.contains("MetadataEntry::key"), "{reason}");
}

#[test]
fn missing_required_fields_are_named() {
    let reason = parse_error::<Session>(&session(r#"user="alice""#, ""));
    assert!(reason.contains("Session::org"), "{reason}");
    let reason = parse_error::<CatalogItem>(&format!(
        r#"<CatalogItem xmlns="{V}" href="h" name="i"><Description/></CatalogItem>"#
    ));
    assert!(reason.contains("CatalogItem::entity"), "{reason}");
    let reason = parse_error::<Task>(&format!(r#"<Task xmlns="{V}" href="h"/>"#));
    assert!(reason.contains("Task::status"), "{reason}");
}

#[test]
fn malformed_values_are_typed_errors() {
    let reason = parse_error::<Task>(&format!(r#"<Task xmlns="{V}" status="finished"/>"#));
    assert!(reason.contains("finished"), "{reason}");
    let reason = parse_error::<VApp>(&format!(
        r#"<VApp xmlns="{V}" href="h" name="n" status="four"/>"#
    ));
    assert!(reason.contains("four"), "{reason}");
    let reason = parse_error::<AmqpSettingsTest>(
        r#"<AmqpSettingsTest xmlns="http://www.vmware.com/vcloud/extension/v1.5"><Valid>yes</Valid></AmqpSettingsTest>"#,
    );
    assert!(reason.contains("yes"), "{reason}");
    let reason = parse_error::<RasdItem>(&format!(
        r#"<Item xmlns="{V}" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>-2</rasd:VirtualQuantity></Item>"#
    ));
    assert!(reason.contains("-2"), "{reason}");
    // A duplicated single-valued element is refused rather than silently overwritten.
    let reason = parse_error::<PublishCatalogParams>(&format!(
        r#"<PublishCatalogParams xmlns="{V}"><IsPublished>true</IsPublished><IsPublished>false</IsPublished></PublishCatalogParams>"#
    ));
    assert!(reason.contains("duplicate"), "{reason}");
}

#[test]
fn malformed_xml_is_a_typed_error() {
    let cases = [
        "",
        "   ",
        "not xml at all",
        r#"{"message": "json body"}"#,
        "<Session",
        &session(r#"user="a" org="b""#, "<Link rel=\"x\" href=\"y\">"),
        &format!(r#"<Session xmlns="{V}" user="a" org="b">"#),
        &format!(r#"<Session xmlns="{V}" user="a &bogus; b" org="b"/>"#),
        &format!(r#"<Session xmlns="{V}" user="a" user="b" org="c"/>"#),
        &format!(r#"<Session xmlns="{V}" xmlns:p="urn:p" p:user="a" q:org="b"/>"#),
        &format!(r#"<Session xmlns="{V}" user="a" org="b"></Sessions>"#),
        &format!(
            r#"<Session xmlns="{V}" user="a" org="b"/><Session xmlns="{V}" user="c" org="d"/>"#
        ),
        &format!(r#"<Session xmlns="{V}" user="a" org="b"/>trailing"#),
        "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"b\">]><Session/>",
        "\u{feff}<<<>>>",
    ];
    for xml in cases {
        let result = Session::from_xml(xml);
        let err = result.expect_err(xml);
        assert!(
            matches!(
                err,
                VcdXmlError::Parse {
                    document: "Session",
                    ..
                }
            ),
            "{xml:?}: {err:?}"
        );
        assert!(
            err.to_string()
                .starts_with("invalid vCD Session document: "),
            "{err}"
        );
    }
}

#[test]
fn deeply_nested_input_is_refused_not_overflowed() {
    let depth = 100_000;
    let xml = format!(
        r#"<VApp xmlns="{V}" href="h" name="n">{}{}</VApp>"#,
        "<Children>".repeat(depth),
        "</Children>".repeat(depth)
    );
    let err = VApp::from_xml(&xml).unwrap_err();
    assert!(err.to_string().contains("nested"), "{err}");
}

#[test]
fn truncations_of_a_real_document_never_panic() {
    let vapp = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/xml/vapp.xml"
    ))
    .unwrap();
    let trimmed = vapp.trim_end();
    let ends: Vec<usize> = (0..trimmed.len())
        .step_by(7)
        .chain(trimmed.len().saturating_sub(40)..trimmed.len())
        .filter(|i| trimmed.is_char_boundary(*i))
        .collect();
    for end in ends {
        // Every proper prefix is an incomplete document.
        let result = VApp::from_xml(&trimmed[..end]);
        assert!(result.is_err(), "prefix of {end} bytes accepted");
        assert!(canonicalize(&trimmed[..end]).is_err() || end == 0, "{end}");
    }
    assert!(VApp::from_xml(trimmed).is_ok());
}

#[test]
fn canonicaliser_rejects_broken_xml() {
    assert!(canonicalize("<a><b></a>").is_err());
    assert!(canonicalize("<a>").is_err());
    assert!(canonicalize("<p:a/>").is_err());
    assert!(canonicalize("<a>&nope;</a>").is_err());
    let err = canonicalize("<a></b>").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot canonicalise XML at byte"),
        "{err}"
    );
}

#[test]
fn canonicaliser_ignores_prefixes_order_and_whitespace_but_not_namespaces() {
    let a = r#"<a xmlns="urn:x" xmlns:y="urn:y" q="1" y:p="2"> <b>t&amp;u</b> <!-- c --> </a>"#;
    let b =
        r#"<z:a xmlns:z="urn:x" xmlns:w="urn:y" w:p="2" q="1"><z:b><![CDATA[t&u]]></z:b></z:a>"#;
    assert_eq!(canonicalize(a).unwrap(), canonicalize(b).unwrap());
    assert!(equivalent(a, b).unwrap());
    assert!(equivalent(a, "<a></b>").is_err());
    let c = r#"<a xmlns="urn:other" q="1" xmlns:y="urn:y" y:p="2"><b>t&amp;u</b></a>"#;
    assert_ne!(canonicalize(a).unwrap(), canonicalize(c).unwrap());
    let d = r#"<a xmlns="urn:x" xmlns:y="urn:y" q="1" p="2"><b>t&amp;u</b></a>"#;
    assert_ne!(
        canonicalize(a).unwrap(),
        canonicalize(d).unwrap(),
        "attribute namespace matters"
    );
    let e = r#"<a xmlns="urn:x" xmlns:y="urn:y" q="1" y:p="2"><b>t&#38;u</b><c/></a>"#;
    assert_ne!(
        canonicalize(a).unwrap(),
        canonicalize(e).unwrap(),
        "extra element matters"
    );
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    fn vapp_fixture() -> &'static str {
        include_str!("fixtures/xml/vapp.xml")
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: crate::fuzz_cases(128), ..ProptestConfig::default() })]

        /// Arbitrary text never panics any parser.
        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
            let _ = VApp::from_xml(&text);
            let _ = Task::from_xml(&text);
            let _ = QueryResultRecords::from_xml(&text);
            let _ = canonicalize(&text);
        }

        /// A real document with a span replaced by XML-significant junk never panics; when it
        /// still parses, it re-serialises to a parseable document.
        #[test]
        fn mutated_documents_never_panic(
            start in 0usize..8000,
            len in 0usize..40,
            junk in "[<>&\"'/=a-z: ]{0,8}",
        ) {
            let doc = vapp_fixture();
            let start = (0..=start.min(doc.len())).rev().find(|i| doc.is_char_boundary(*i)).unwrap_or(0);
            let end = (start + len).min(doc.len());
            let end = (end..=doc.len()).find(|i| doc.is_char_boundary(*i)).unwrap_or(doc.len());
            let mutated = format!("{}{}{}", &doc[..start], junk, &doc[end..]);
            if let Ok(vapp) = VApp::from_xml(&mutated) {
                let xml = vapp.to_xml().map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(VApp::from_xml(&xml).ok(), Some(vapp));
            }
            let _ = canonicalize(&mutated);
        }
    }
}

/// Cases per property: this file's own number, or `CSE_FUZZ_CASES` when set (the
/// reliability suite's long form, `scripts/reliability.sh --long`).
fn fuzz_cases(default: u32) -> u32 {
    std::env::var("CSE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
