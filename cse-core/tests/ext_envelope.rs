//! Tests of the vCD extension envelope: parsing what vCD publishes, building replies, the
//! error for every kind of malformed input, and round trips both ways.

use base64::Engine as _;
use cse_core::ext::{
    EnvelopeError, ExtLimits, ExtReply, ExtRequest, ExtRequestBuilder, Headers, SecurityContext,
    api_version_from_accept, reply_content_type,
};
use proptest::prelude::*;
use serde_json::json;

/// A request as vCD 9.x publishes it (shape from the CSE debug logs of the era).
fn vcd_message() -> serde_json::Value {
    json!([
        {
            "id": "7d4e1c2a-0a7b-4c5e-9a0e-3d7e0b1f2a11",
            "scheme": "https",
            "protocol": "HTTP/1.1",
            "method": "POST",
            "requestUri": "/api/cse",
            "queryString": null,
            "localAddr": "10.0.0.2",
            "localPort": 443,
            "remoteAddr": "10.0.0.99",
            "remotePort": 53122,
            "headers": {
                "Accept": "application/*+json;version=29.0",
                "x-vcloud-authorization": "secret-token",
                "User-Agent": "python-requests/2.20.1",
                "Host": "vcd.example.com"
            },
            "body": "eyJuYW1lIjogImMxIn0=",
            "request": true,
            "statusCode": 0
        },
        {
            "user": "urn:vcloud:user:1a2b",
            "org": "urn:vcloud:org:3c4d",
            "rights": ["urn:vcloud:right:5e6f"]
        }
    ])
}

fn parse(value: &serde_json::Value) -> Result<ExtRequest, EnvelopeError> {
    ExtRequest::from_json(value.to_string().as_bytes())
}

#[test]
fn a_line_wrapped_base64_body_reads_as_the_unwrapped_one() {
    let mut message = vcd_message();
    message[0]["body"] = json!("eyJuYW1l\r\nIjogImMx\n\tIn0=\n");
    let request = parse(&message).unwrap();
    assert_eq!(request.body, br#"{"name": "c1"}"#);
}

#[test]
fn parses_a_vcd_request() {
    let request = parse(&vcd_message()).unwrap();
    assert_eq!(request.id, "7d4e1c2a-0a7b-4c5e-9a0e-3d7e0b1f2a11");
    assert_eq!(request.method, "POST");
    assert_eq!(request.request_uri, "/api/cse");
    assert_eq!(request.query_string, None);
    assert_eq!(request.body, br#"{"name": "c1"}"#);
    assert!(request.request);
    assert_eq!(request.status_code, 0);
    assert_eq!(request.local_port, Some(443));
    assert_eq!(request.remote_addr.as_deref(), Some("10.0.0.99"));
    assert_eq!(request.auth_token(), Some("secret-token"));
    assert_eq!(request.api_version().unwrap(), "29.0");
    let context = request.security_context.unwrap();
    assert_eq!(context.user.as_deref(), Some("urn:vcloud:user:1a2b"));
    assert_eq!(context.org.as_deref(), Some("urn:vcloud:org:3c4d"));
    assert_eq!(context.rights, vec!["urn:vcloud:right:5e6f".to_owned()]);
}

#[test]
fn a_bearer_caller_wins_over_a_legacy_token_and_stays_redacted() {
    use cse_core::ext::CallerToken;
    let mut message = vcd_message();
    let headers = message[0]["headers"].as_object_mut().unwrap();
    headers.insert(
        "authorization".into(),
        "bearer eyJhbGciOi.payload.sig ".into(),
    );
    let request = parse(&message).unwrap();
    assert_eq!(request.bearer_token(), Some("eyJhbGciOi.payload.sig"));
    assert_eq!(request.auth_token(), Some("secret-token"));
    let token = request.caller_token().unwrap();
    assert_eq!(token, CallerToken::Bearer("eyJhbGciOi.payload.sig"));
    let shown = format!("{token:?} {request:?}");
    assert!(!shown.contains("eyJhbGciOi"), "{shown}");
    assert!(!shown.contains("secret-token"), "{shown}");

    // Only the bearer header (a vCD 10.x JWT session).
    let headers = message[0]["headers"].as_object_mut().unwrap();
    headers.remove("x-vcloud-authorization");
    headers.insert("Authorization".into(), "Bearer jwt-only".into());
    let request = parse(&message).unwrap();
    assert_eq!(
        request.caller_token(),
        Some(CallerToken::Bearer("jwt-only"))
    );
    assert_eq!(request.caller_token().unwrap().expose(), "jwt-only");

    // Basic credentials or an empty bearer are no token at all.
    for value in ["Basic YWxpY2U6cHc=", "Bearer ", "Bearer"] {
        let headers = message[0]["headers"].as_object_mut().unwrap();
        headers.insert("Authorization".into(), value.into());
        let request = parse(&message).unwrap();
        assert_eq!(request.caller_token(), None, "{value}");
    }
}

#[test]
fn header_lookup_is_case_insensitive() {
    let mut message = vcd_message();
    let headers = message[0]["headers"].as_object_mut().unwrap();
    let token = headers.remove("x-vcloud-authorization").unwrap();
    headers.insert("X-VCloud-Authorization".into(), token);
    let accept = headers.remove("Accept").unwrap();
    headers.insert("accept".into(), accept);
    let request = parse(&message).unwrap();
    assert_eq!(request.auth_token(), Some("secret-token"));
    assert_eq!(request.accept(), Some("application/*+json;version=29.0"));
    assert_eq!(
        request.headers.get("USER-AGENT"),
        Some("python-requests/2.20.1")
    );
}

#[test]
fn headers_insert_replaces_other_case_and_debug_redacts_secrets() {
    let mut headers = Headers::new();
    headers.insert("accept", "a");
    headers.insert("Accept", "b");
    headers.insert("x-vcloud-authorization", "secret-token");
    assert_eq!(headers.len(), 2);
    assert_eq!(headers.get("ACCEPT"), Some("b"));
    let debug = format!("{headers:?}");
    assert!(!debug.contains("secret-token"), "{debug}");
    assert!(debug.contains("<redacted>"));
    let request = parse(&vcd_message()).unwrap();
    assert!(!format!("{request:?}").contains("secret-token"));
}

#[test]
fn multi_valued_header_arrays_are_joined() {
    let mut message = vcd_message();
    message[0]["headers"]["Accept"] = json!(["text/html", "application/*+json;version=31.0"]);
    let request = parse(&message).unwrap();
    assert_eq!(
        request.accept(),
        Some("text/html, application/*+json;version=31.0")
    );
    assert_eq!(request.api_version().unwrap(), "31.0");
}

#[test]
fn missing_optional_parts_are_tolerated() {
    let message = json!([{"id": "1", "method": "GET", "requestUri": "/api/cse"}]);
    let request = parse(&message).unwrap();
    assert!(request.headers.is_empty());
    assert!(request.body.is_empty());
    assert!(request.request);
    assert_eq!(request.security_context, None);
    assert_eq!(request.scheme, None);
}

#[test]
fn malformed_connection_info_and_context_are_dropped() {
    let mut message = vcd_message();
    message[0]["localPort"] = json!("not a port");
    message[0]["remotePort"] = json!(70000);
    message[0]["scheme"] = json!({"odd": true});
    message[1] = json!("not an object");
    let request = parse(&message).unwrap();
    assert_eq!(request.local_port, None);
    assert_eq!(request.remote_port, None);
    assert_eq!(request.scheme, None);
    assert_eq!(request.security_context, None);
    let mut message = vcd_message();
    message[0]["localPort"] = json!("8443");
    message[1] = json!({"user": 5, "rights": ["a", 1]});
    let request = parse(&message).unwrap();
    assert_eq!(request.local_port, Some(8443));
    let context = request.security_context.unwrap();
    assert_eq!(context.user, None);
    assert_eq!(context.rights, vec!["a".to_owned()]);
}

#[test]
fn malformed_requests_give_typed_errors() {
    let cases: Vec<(Vec<u8>, EnvelopeError)> = vec![
        (
            b"[1, 2".to_vec(),
            EnvelopeError::NotJson("EOF while parsing a list at line 1 column 5".into()),
        ),
        (b"{}".to_vec(), EnvelopeError::NotAnArray("an object")),
        (b"[]".to_vec(), EnvelopeError::EmptyArray),
        (
            b"[\"x\"]".to_vec(),
            EnvelopeError::NotAnObject {
                what: "extension request element [0]",
                found: "a string",
            },
        ),
        (
            br#"[{"method":"GET","requestUri":"/api/cse"}]"#.to_vec(),
            EnvelopeError::MissingField("id"),
        ),
        (
            br#"[{"id":"1","requestUri":"/api/cse"}]"#.to_vec(),
            EnvelopeError::MissingField("method"),
        ),
        (
            br#"[{"id":"1","method":"GET","requestUri":null}]"#.to_vec(),
            EnvelopeError::MissingField("requestUri"),
        ),
        (
            br#"[{"id":1,"method":"GET","requestUri":"/api/cse"}]"#.to_vec(),
            EnvelopeError::WrongType {
                field: "id",
                expected: "a string",
                found: "a number",
            },
        ),
        (
            br#"[{"id":"1","method":"GET","requestUri":"/api/cse","headers":[]}]"#.to_vec(),
            EnvelopeError::WrongType {
                field: "headers",
                expected: "an object",
                found: "an array",
            },
        ),
        (
            br#"[{"id":"1","method":"GET","requestUri":"/api/cse","headers":{"Accept":1}}]"#
                .to_vec(),
            EnvelopeError::BadHeader {
                name: "Accept".into(),
                found: "a number",
            },
        ),
        (
            br#"[{"id":"1","method":"GET","requestUri":"/api/cse","body":"!!!"}]"#.to_vec(),
            EnvelopeError::BadBase64("Invalid symbol 33, offset 0.".into()),
        ),
        (
            br#"[{"id":"1","method":"GET","requestUri":"/api/cse","body":{}}]"#.to_vec(),
            EnvelopeError::WrongType {
                field: "body",
                expected: "a base64 string",
                found: "an object",
            },
        ),
        (
            br#"[{"id":"1","method":"GET","requestUri":"/api/cse","request":"yes"}]"#.to_vec(),
            EnvelopeError::WrongType {
                field: "request",
                expected: "a boolean",
                found: "a string",
            },
        ),
        (
            br#"[{"id":"1","method":"GET","requestUri":"/api/cse","statusCode":0.5}]"#.to_vec(),
            EnvelopeError::WrongType {
                field: "statusCode",
                expected: "an integer",
                found: "a non-integer number",
            },
        ),
    ];
    for (message, expected) in cases {
        assert_eq!(
            ExtRequest::from_json(&message),
            Err(expected),
            "{}",
            String::from_utf8_lossy(&message)
        );
    }
}

#[test]
fn error_texts_name_what_was_wrong() {
    insta::assert_snapshot!(
        [
            EnvelopeError::NotJson("expected value at line 1 column 1".into()),
            EnvelopeError::NotAnArray("an object"),
            EnvelopeError::EmptyArray,
            EnvelopeError::MissingField("id"),
            EnvelopeError::WrongType {
                field: "id",
                expected: "a string",
                found: "a number"
            },
            EnvelopeError::BadBase64("Invalid symbol 33, offset 0.".into()),
            EnvelopeError::BodyTooLarge { size: 11, max: 10 },
            EnvelopeError::MessageTooLarge { size: 99, max: 10 },
            EnvelopeError::ContentLengthMismatch {
                declared: 3,
                actual: 2
            },
            EnvelopeError::MissingAccept,
            EnvelopeError::MissingApiVersion("application/json".into()),
        ]
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
    );
}

#[test]
fn bodies_over_the_limit_are_refused() {
    let limits = ExtLimits { max_body_bytes: 10 };
    let request = |body: &[u8]| {
        ExtRequestBuilder::new("1", "POST", "/api/cse")
            .body(body)
            .build()
            .to_json()
    };
    assert_eq!(
        ExtRequest::from_json_with_limits(request(&[b'x'; 10]).as_bytes(), &limits)
            .unwrap()
            .body
            .len(),
        10
    );
    assert_eq!(
        ExtRequest::from_json_with_limits(request(&[b'x'; 11]).as_bytes(), &limits),
        Err(EnvelopeError::BodyTooLarge { size: 11, max: 10 })
    );
    assert!(matches!(
        ExtRequest::from_json_with_limits(request(&[b'x'; 400]).as_bytes(), &limits),
        Err(EnvelopeError::BodyTooLarge { max: 10, .. })
    ));
    let huge = vec![b' '; limits.max_message_bytes() + 1];
    assert_eq!(
        ExtRequest::from_json_with_limits(&huge, &limits),
        Err(EnvelopeError::MessageTooLarge {
            size: huge.len(),
            max: limits.max_message_bytes()
        })
    );
    assert_eq!(ExtLimits::default().max_body_bytes, 10 * 1024 * 1024);
}

#[test]
fn api_version_from_accept_header() {
    assert_eq!(
        api_version_from_accept("application/*+json;version=29.0").unwrap(),
        "29.0"
    );
    assert_eq!(
        api_version_from_accept("text/x-yaml;version=30.0").unwrap(),
        "30.0"
    );
    assert_eq!(
        api_version_from_accept("application/json; Version = \"31.0\" ").unwrap(),
        "31.0"
    );
    assert_eq!(
        api_version_from_accept(
            "text/html,application/xhtml+xml;q=0.9,application/*+json;version=32.0;q=0.8,*/*;version=1"
        )
        .unwrap(),
        "32.0"
    );
    for bad in [
        "application/json",
        "",
        "version=29.0",
        "application/json;version=",
    ] {
        assert_eq!(
            api_version_from_accept(bad),
            Err(EnvelopeError::MissingApiVersion(bad.to_owned())),
            "{bad}"
        );
    }
    let no_accept = ExtRequestBuilder::new("1", "GET", "/api/cse").build();
    assert_eq!(no_accept.api_version(), Err(EnvelopeError::MissingAccept));
}

#[test]
fn reply_content_type_rules() {
    assert_eq!(
        reply_content_type(Some("application/*+json;version=29.0")),
        "application/*+json;version=29.0"
    );
    assert_eq!(
        reply_content_type(Some("text/x-yaml;version=29.0")),
        "text/x-yaml;version=29.0"
    );
    assert_eq!(
        reply_content_type(Some("text/html, application/*+json;version=29.0")),
        "application/*+json;version=29.0"
    );
    assert_eq!(
        reply_content_type(Some("text/html, application/json")),
        "text/html"
    );
    assert_eq!(reply_content_type(None), "application/json");
    assert_eq!(reply_content_type(Some("  ")), "application/json");
}

#[test]
fn request_builder_splits_the_query() {
    let request = ExtRequestBuilder::new("9", "GET", "/api/cse?page=2").build();
    assert_eq!(request.request_uri, "/api/cse");
    assert_eq!(request.query_string.as_deref(), Some("page=2"));
}

fn sample_request() -> ExtRequest {
    ExtRequestBuilder::new("4f1c", "POST", "/api/cse/c1/node")
        .header("Accept", "application/*+json;version=29.0")
        .header("x-vcloud-authorization", "token-123")
        .json_body(&json!({"name": "c1", "node_count": 2}))
        .unwrap()
        .connection(
            "https",
            "HTTP/1.1",
            ("10.0.0.2".into(), 443),
            ("10.0.0.99".into(), 50000),
        )
        .security_context(SecurityContext {
            user: Some("urn:vcloud:user:u1".into()),
            org: Some("urn:vcloud:org:o1".into()),
            rights: vec!["urn:vcloud:right:r1".into()],
        })
        .build()
}

#[test]
fn built_request_json_snapshot() {
    let request = sample_request();
    let text = request.to_json();
    let pretty: serde_json::Value = serde_json::from_str(&text).unwrap();
    insta::assert_json_snapshot!("ext_request", pretty);
    assert_eq!(ExtRequest::from_json(text.as_bytes()).unwrap(), request);
}

#[test]
fn reply_json_snapshot_and_fields() {
    let request = sample_request();
    let reply = ExtReply::json(
        &request,
        202,
        &json!({"cluster_name": "c1", "task_href": "https://vcd/api/task/1"}),
    )
    .unwrap();
    let text = reply.to_json();
    insta::assert_snapshot!("ext_reply_raw", text);
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["id"], "4f1c");
    assert_eq!(value["request"], false);
    assert_eq!(value["statusCode"], 202);
    assert_eq!(
        value["headers"]["Content-Type"],
        "application/*+json;version=29.0"
    );
    assert_eq!(value["headers"]["Content-Length"], reply.body.len());
    assert_eq!(ExtReply::from_json(text.as_bytes()).unwrap(), reply);
}

#[test]
fn content_length_counts_bytes_not_characters() {
    let request = sample_request();
    let reply = ExtReply::json(&request, 200, &json!({"message": "héllo ✓"})).unwrap();
    let value: serde_json::Value = serde_json::from_str(&reply.to_json()).unwrap();
    assert_eq!(
        value["headers"]["Content-Length"],
        r#"{"message":"héllo ✓"}"#.len()
    );
}

#[test]
fn malformed_replies_give_typed_errors() {
    let cases: Vec<(serde_json::Value, EnvelopeError)> = vec![
        (
            json!([]),
            EnvelopeError::NotAnObject {
                what: "extension reply",
                found: "an array",
            },
        ),
        (
            json!({"headers": {}, "statusCode": 200, "body": ""}),
            EnvelopeError::MissingField("id"),
        ),
        (
            json!({"id": "1", "body": ""}),
            EnvelopeError::MissingField("statusCode"),
        ),
        (
            json!({"id": "1", "statusCode": 42, "body": ""}),
            EnvelopeError::WrongType {
                field: "statusCode",
                expected: "an HTTP status code (100-599)",
                found: "a number out of range",
            },
        ),
        (
            json!({"id": "1", "statusCode": 200, "body": "e30=", "headers": {"Content-Length": 5}}),
            EnvelopeError::ContentLengthMismatch {
                declared: 5,
                actual: 2,
            },
        ),
        (
            json!({"id": "1", "statusCode": 200, "body": "e30=", "headers": {"Content-Length": "x"}}),
            EnvelopeError::WrongType {
                field: "Content-Length",
                expected: "a non-negative integer",
                found: "a non-numeric string",
            },
        ),
        (
            json!({"id": "1", "statusCode": 200, "headers": "x"}),
            EnvelopeError::WrongType {
                field: "headers",
                expected: "an object",
                found: "a string",
            },
        ),
        (
            json!({"id": "1", "statusCode": 200, "body": "%%"}),
            EnvelopeError::BadBase64("Invalid symbol 37, offset 0.".into()),
        ),
    ];
    for (message, expected) in cases {
        assert_eq!(
            ExtReply::from_json(message.to_string().as_bytes()),
            Err(expected),
            "{message}"
        );
    }
    let ok =
        json!({"id": "1", "statusCode": 200, "body": "e30=", "headers": {"content-length": "2"}});
    let reply = ExtReply::from_json(ok.to_string().as_bytes()).unwrap();
    assert_eq!(reply.body_text(), "{}");
    assert_eq!(reply.content_type, "application/json");
}

fn header_name() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9-]{0,15}"
}

prop_compose! {
    fn arb_request()(
        id in "[a-z0-9-]{1,36}",
        method in prop::sample::select(vec!["GET", "POST", "PUT", "DELETE"]),
        uri in "/api/cse(/[a-z0-9.-]{1,12}){0,3}",
        query in proptest::option::of("[a-z=&0-9]{0,20}"),
        headers in prop::collection::btree_map(header_name(), "[ -~]{0,30}", 0..6),
        body in prop::collection::vec(any::<u8>(), 0..200),
        ports in proptest::option::of((any::<u16>(), any::<u16>())),
        context in proptest::option::of((
            proptest::option::of("urn:vcloud:user:[a-f0-9]{4}"),
            proptest::option::of("urn:vcloud:org:[a-f0-9]{4}"),
            prop::collection::vec("[a-z:]{1,10}", 0..3),
        )),
    ) -> ExtRequest {
        let mut builder = ExtRequestBuilder::new(id, method, uri).body(body);
        for (k, v) in headers {
            builder = builder.header(k, v);
        }
        if let Some((local, remote)) = ports {
            builder = builder.connection("https", "HTTP/1.1", ("10.0.0.1".into(), local), ("10.0.0.2".into(), remote));
        }
        if let Some((user, org, rights)) = context {
            builder = builder.security_context(SecurityContext { user, org, rights });
        }
        let mut request = builder.build();
        request.query_string = query;
        request
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(crate::fuzz_cases(64)))]

    #[test]
    fn request_build_then_parse_round_trips(request in arb_request()) {
        let parsed = ExtRequest::from_json(request.to_json().as_bytes()).unwrap();
        prop_assert_eq!(parsed, request);
    }

    #[test]
    fn reply_build_then_parse_round_trips(
        request in arb_request(),
        status in 100u16..600,
        body in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let reply = ExtReply::new(&request, status, body);
        let parsed = ExtReply::from_json(reply.to_json().as_bytes()).unwrap();
        prop_assert_eq!(parsed, reply);
    }

    #[test]
    fn reply_text_is_the_json_object_of_its_fields(
        id in any::<String>(),
        content_type in any::<String>(),
        status in 100u16..600,
        body in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let reply = ExtReply {
            id: id.clone(),
            content_type: content_type.clone(),
            status_code: status,
            body: body.clone(),
        };
        let text = reply.to_json();
        let expected = json!({
            "body": base64::engine::general_purpose::STANDARD.encode(&body),
            "headers": {"Content-Length": body.len(), "Content-Type": content_type},
            "id": id,
            "request": false,
            "statusCode": status,
        });
        prop_assert_eq!(&text, &expected.to_string());
        prop_assert_eq!(ExtReply::from_json(text.as_bytes()).unwrap(), reply);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = ExtRequest::from_json(&bytes);
        let _ = ExtReply::from_json(&bytes);
    }

    #[test]
    fn arbitrary_json_never_panics(text in r#"[\[\]{}",:0-9a-zA-Z ]{0,80}"#) {
        let _ = ExtRequest::from_json(text.as_bytes());
        let _ = ExtReply::from_json(text.as_bytes());
        let _ = api_version_from_accept(&text);
        let _ = reply_content_type(Some(&text));
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
