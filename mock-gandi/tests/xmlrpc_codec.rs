//! The XML-RPC codec against CPython's bytes (goldens made by `tests/data/xmlrpc/gen_goldens.py`),
//! against the bodies lego really sends, and against random input.

use mock_gandi::fuzzing::{Reached, check_xmlrpc};
use mock_gandi::xmlrpc::{
    CodecError, MAX_BODY_BYTES, MethodCall, MethodResponse, Value, encode_fault,
    encode_method_call, encode_response, parse_method_call, parse_method_response,
};
use proptest::prelude::*;

const KEY40: &str = "23e501f7a1b2c3d4e5f60718293a4b5c6d7e960b";

fn s(v: &str) -> Value {
    Value::string(v)
}

fn st(members: Vec<(&str, Value)>) -> Value {
    Value::Struct(
        members
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------------
// Encoder: byte-identical to Python.

#[test]
fn the_recorded_domain_not_found_fault_is_reproduced_to_the_byte() {
    let body = encode_fault(
        510042,
        "Error on object : OBJECT_DOMAIN (CAUSE_NOTFOUND) [Domain 'thisisadomainidonotown.com' doesn't exist.]",
    );
    assert_eq!(body, include_str!("data/xmlrpc/fault_510042.xml"));
    assert_eq!(body.len(), 361);
}

#[test]
fn the_key_pattern_fault_for_a_40_character_key_is_397_bytes() {
    let body = encode_fault(
        500037,
        &format!(
            "Error on object : OBJECT_UNKNOWN (CAUSE_BADPARAMETER) [string '{KEY40}' does not match '^[a-z0-9]{{24}}$']"
        ),
    );
    assert_eq!(body, include_str!("data/xmlrpc/fault_500037_pat.xml"));
    assert_eq!(body.len(), 397);
}

#[test]
fn a_fault_string_escapes_only_ampersand_and_angle_brackets() {
    let body = encode_fault(1, "Invalid XMLRPC input: <&> 'q' \"d\"");
    assert_eq!(body, include_str!("data/xmlrpc/fault_escaped.xml"));
}

#[test]
fn scalars_are_written_as_python_writes_them() {
    let cases: &[(Value, &str)] = &[
        (Value::Int(6), include_str!("data/xmlrpc/int_6.xml")),
        (
            Value::Int(i64::from(i32::MIN)),
            include_str!("data/xmlrpc/int_negative_min.xml"),
        ),
        (
            Value::Boolean(true),
            include_str!("data/xmlrpc/boolean_true.xml"),
        ),
        (
            Value::Boolean(false),
            include_str!("data/xmlrpc/boolean_false.xml"),
        ),
        (
            s("a&b<c>d \"q\" 'a' \u{e9}\u{4e2d}\u{1f600}\t\r\n end"),
            include_str!("data/xmlrpc/string_escapes.xml"),
        ),
        (s(""), include_str!("data/xmlrpc/string_empty.xml")),
        (
            Value::Double(1.5),
            include_str!("data/xmlrpc/double_one_and_a_half.xml"),
        ),
        (
            Value::DateTime("20180613T12:03:58".into()),
            include_str!("data/xmlrpc/datetime.xml"),
        ),
        (
            Value::Base64(Vec::new()),
            include_str!("data/xmlrpc/base64_empty.xml"),
        ),
        (
            Value::Base64((0..=255u8).chain(0..=255u8).collect()),
            include_str!("data/xmlrpc/base64_long.xml"),
        ),
    ];
    for (value, expected) in cases {
        assert_eq!(&encode_response(value), expected, "encoding {value:?}");
    }
}

#[test]
fn nested_arrays_and_structs_keep_pythons_layout_including_the_nil_quirk() {
    let array = Value::Array(vec![
        Value::Int(1),
        s("a"),
        Value::Array(vec![]),
        Value::Array(vec![
            Value::Boolean(true),
            Value::Array(vec![Value::Nil, Value::Nil]),
        ]),
        st(vec![("k", Value::Nil)]),
    ]);
    assert_eq!(
        encode_response(&array),
        include_str!("data/xmlrpc/array_nested.xml")
    );
    assert_eq!(
        encode_response(&Value::Struct(vec![])),
        include_str!("data/xmlrpc/struct_empty.xml")
    );

    let info = st(vec![
        ("fqdn", s("stubber.chat")),
        ("id", Value::Int(3084498)),
        ("zone_id", Value::Int(3386877)),
        ("date_updated", Value::DateTime("20180613T12:03:58".into())),
        (
            "nameservers",
            Value::Array(vec![
                s("a.dns.gandi.net"),
                s("b.dns.gandi.net"),
                s("c.dns.gandi.net"),
            ]),
        ),
        ("services", Value::Array(vec![s("gandidns")])),
        ("tags", Value::Array(vec![])),
        ("reseller", Value::Nil),
        (
            "contacts",
            st(vec![(
                "owner",
                st(vec![
                    ("handle", s("PG5332-GANDI")),
                    ("id", Value::Int(1508037)),
                ]),
            )]),
        ),
        ("a&b<c>", Value::Double(0.25)),
    ]);
    assert_eq!(
        encode_response(&info),
        include_str!("data/xmlrpc/struct_domain_info.xml")
    );
}

#[test]
fn a_method_call_is_written_as_python_clients_send_it() {
    let body = encode_method_call(
        "domain.info",
        &[s("0123456789abcdefghijklmn"), s("stubber.chat.")],
    );
    assert_eq!(body, include_str!("data/xmlrpc/call_domain_info.xml"));
}

#[test]
fn doubles_are_written_like_python_repr_for_hundreds_of_values() {
    let table = include_str!("data/xmlrpc/float_repr.txt");
    let mut checked = 0;
    for line in table.lines() {
        let (bits, repr) = line.split_once(' ').expect("line is '<bits> <repr>'");
        let value = f64::from_bits(u64::from_str_radix(bits, 16).expect("hex bits"));
        let body = encode_response(&Value::Double(value));
        let expected = format!("<value><double>{repr}</double></value>\n");
        assert!(
            body.contains(&expected),
            "{value:e}: expected {repr}, got {body}"
        );
        checked += 1;
    }
    assert!(checked > 500, "only {checked} values in the table");
    assert!(encode_response(&Value::Double(f64::NAN)).contains("<double>nan</double>"));
}

#[test]
fn integers_beyond_32_bits_are_written_as_i8_and_read_back() {
    let body = encode_response(&Value::Int(1 << 40));
    assert!(body.contains("<value><i8>1099511627776</i8></value>\n"));
    assert_eq!(
        parse_method_response(body.as_bytes()),
        Ok(MethodResponse::Success(Value::Int(1 << 40)))
    );
}

// ---------------------------------------------------------------------------------------------
// Parser: what real clients send.

/// Builds a body the way Go's `encoding/xml` writes lego's request types: `<param>` directly under
/// `<methodCall>`, each scalar inside an indented `<value>`, two-space indentation, no newline at
/// the end. `header` is the XML declaration lego writes in the given version.
fn lego_body(header: &str, method: &str, params: &[&str]) -> String {
    let mut out = format!("{header}\n<methodCall>\n  <methodName>{method}</methodName>");
    for p in params {
        out.push_str("\n  <param>\n    <value>\n");
        out.push_str(p);
        out.push_str("\n    </value>\n  </param>");
    }
    out.push_str("\n</methodCall>");
    out
}

fn lego_string(v: &str) -> String {
    format!("      <string>{v}</string>")
}

fn lego_int(v: i64) -> String {
    format!("      <int>{v}</int>")
}

fn lego_record_struct(name: &str, value: &str, ttl: i64) -> String {
    let member = |n: &str, inner: String| {
        format!(
            "        <member>\n          <name>{n}</name>\n          <value>\n  {inner}\n          </value>\n        </member>"
        )
    };
    format!(
        "      <struct>\n{}\n{}\n{}\n{}\n      </struct>",
        member("type", lego_string("TXT").replace("      ", "          ")),
        member("name", lego_string(name).replace("      ", "          ")),
        member("value", lego_string(value).replace("      ", "          ")),
        member("ttl", lego_int(ttl).replace("      ", "          ")),
    )
}

/// lego 4.9.1 (Debian's) writes `<?xml version="1.0"?>`; later 4.x and 5.x write Go's
/// `xml.Header`, which names the encoding.
const LEGO_HEADERS: [&str; 2] = [
    r#"<?xml version="1.0"?>"#,
    r#"<?xml version="1.0" encoding="UTF-8"?>"#,
];

#[test]
fn every_call_of_legos_gandi_sequence_parses_in_both_header_styles() {
    for header in LEGO_HEADERS {
        let key = lego_string(KEY40);
        let calls = [
            (
                lego_body(
                    header,
                    "domain.info",
                    &[&key, &lego_string("stubber.chat.")],
                ),
                MethodCall {
                    method_name: "domain.info".into(),
                    params: vec![s(KEY40), s("stubber.chat.")],
                },
            ),
            (
                lego_body(
                    header,
                    "domain.zone.clone",
                    &[
                        &key,
                        &lego_int(3386877),
                        &lego_int(0),
                        "      <struct>\n        <member>\n          <name>name</name>\n          <value>\n            <string>stubber.chat [ACME Challenge 28 Nov 26 12:00 +0000]</string>\n          </value>\n        </member>\n      </struct>",
                    ],
                ),
                MethodCall {
                    method_name: "domain.zone.clone".into(),
                    params: vec![
                        s(KEY40),
                        Value::Int(3386877),
                        Value::Int(0),
                        st(vec![(
                            "name",
                            s("stubber.chat [ACME Challenge 28 Nov 26 12:00 +0000]"),
                        )]),
                    ],
                },
            ),
            (
                lego_body(header, "domain.zone.version.new", &[&key, &lego_int(7)]),
                MethodCall {
                    method_name: "domain.zone.version.new".into(),
                    params: vec![s(KEY40), Value::Int(7)],
                },
            ),
            (
                lego_body(
                    header,
                    "domain.zone.record.add",
                    &[
                        &key,
                        &lego_int(7),
                        &lego_int(2),
                        &lego_record_struct(
                            "_acme-challenge",
                            "LHDhK3oGRvkiefQnx7OOczTY5Tic_xZ6HcMOc_gmtoM",
                            300,
                        ),
                    ],
                ),
                MethodCall {
                    method_name: "domain.zone.record.add".into(),
                    params: vec![
                        s(KEY40),
                        Value::Int(7),
                        Value::Int(2),
                        st(vec![
                            ("type", s("TXT")),
                            ("name", s("_acme-challenge")),
                            ("value", s("LHDhK3oGRvkiefQnx7OOczTY5Tic_xZ6HcMOc_gmtoM")),
                            ("ttl", Value::Int(300)),
                        ]),
                    ],
                },
            ),
            (
                lego_body(
                    header,
                    "domain.zone.version.set",
                    &[&key, &lego_int(7), &lego_int(2)],
                ),
                MethodCall {
                    method_name: "domain.zone.version.set".into(),
                    params: vec![s(KEY40), Value::Int(7), Value::Int(2)],
                },
            ),
            (
                lego_body(
                    header,
                    "domain.zone.set",
                    &[&key, &lego_string("stubber.chat."), &lego_int(7)],
                ),
                MethodCall {
                    method_name: "domain.zone.set".into(),
                    params: vec![s(KEY40), s("stubber.chat."), Value::Int(7)],
                },
            ),
            (
                lego_body(header, "domain.zone.delete", &[&key, &lego_int(7)]),
                MethodCall {
                    method_name: "domain.zone.delete".into(),
                    params: vec![s(KEY40), Value::Int(7)],
                },
            ),
        ];
        for (body, expected) in calls {
            assert_eq!(
                parse_method_call(body.as_bytes()),
                Ok(expected),
                "body:\n{body}"
            );
        }
    }
}

#[test]
fn tab_indented_bodies_and_go_character_references_are_read() {
    // Go's encoder writes quotes as &#34; and &#39; and a tab as &#x9;.
    let body = "<?xml version=\"1.0\"?>\n<methodCall>\n\t<methodName>domain.info</methodName>\n\t<param>\n\t\t<value>\n\t\t\t<string>&#34;a&#39;&#x9;b&amp;</string>\n\t\t</value>\n\t</param>\n</methodCall>";
    let call = parse_method_call(body.as_bytes()).unwrap();
    assert_eq!(call.params, vec![s("\"a'\tb&")]);
}

#[test]
fn a_recorded_python_client_request_parses() {
    let body = "<?xml version='1.0'?>\n<methodCall>\n<methodName>domain.zone.record.list</methodName>\n<params>\n<param>\n<value><string>placeholder_auth_token</string></value>\n</param>\n<param>\n<value><int>3386877</int></value>\n</param>\n<param>\n<value><int>0</int></value>\n</param>\n<param>\n<value><struct>\n<member>\n<name>type</name>\n<value><string>TXT</string></value>\n</member>\n<member>\n<name>name</name>\n<value><string>_acme-challenge.noop</string></value>\n</member>\n</struct></value>\n</param>\n</params>\n</methodCall>\n";
    let call = parse_method_call(body.as_bytes()).unwrap();
    assert_eq!(call.method_name, "domain.zone.record.list");
    assert_eq!(
        call.params,
        vec![
            s("placeholder_auth_token"),
            Value::Int(3386877),
            Value::Int(0),
            st(vec![
                ("type", s("TXT")),
                ("name", s("_acme-challenge.noop"))
            ]),
        ]
    );
}

fn one_param(value_xml: &str) -> Result<Value, CodecError> {
    let body = format!(
        "<methodCall><methodName>m</methodName><params><param>{value_xml}</param></params></methodCall>"
    );
    parse_method_call(body.as_bytes()).map(|mut c| c.params.remove(0))
}

#[test]
fn every_scalar_type_and_its_aliases_parse() {
    assert_eq!(one_param("<value><i4>-7</i4></value>"), Ok(Value::Int(-7)));
    assert_eq!(
        one_param("<value><int> +42 </int></value>"),
        Ok(Value::Int(42))
    );
    assert_eq!(
        one_param("<value><i8>9007199254740993</i8></value>"),
        Ok(Value::Int(9007199254740993))
    );
    assert_eq!(
        one_param("<value><boolean>1</boolean></value>"),
        Ok(Value::Boolean(true))
    );
    assert_eq!(
        one_param("<value><double>-2.5e3</double></value>"),
        Ok(Value::Double(-2500.0))
    );
    assert_eq!(
        one_param("<value><dateTime.iso8601>20180613T12:03:58</dateTime.iso8601></value>"),
        Ok(Value::DateTime("20180613T12:03:58".into()))
    );
    assert_eq!(
        one_param("<value><base64>\naGVs\nbG8A\n</base64></value>"),
        Ok(Value::Base64(b"hello\0".to_vec()))
    );
    assert_eq!(one_param("<value><nil/></value>"), Ok(Value::Nil));
    assert_eq!(one_param("<value><string/></value>"), Ok(s("")));
    assert_eq!(one_param("<value></value>"), Ok(s("")));
    assert_eq!(one_param("<value/>"), Ok(s("")));
}

#[test]
fn an_untyped_value_is_a_string_with_its_whitespace_kept() {
    assert_eq!(one_param("<value>  a b\n </value>"), Ok(s("  a b\n ")));
    assert_eq!(one_param("<value>   </value>"), Ok(s("   ")));
}

#[test]
fn arrays_and_structs_parse_with_or_without_indentation() {
    let xml = "<value>\n <array>\n  <data>\n   <value><int>1</int></value>\n   <value>x</value>\n  </data>\n </array>\n</value>";
    assert_eq!(
        one_param(xml),
        Ok(Value::Array(vec![Value::Int(1), s("x")]))
    );
    let xml = "<value><struct><member><name>b</name><value><int>2</int></value></member><member>\n<name>a</name>\n<value>1</value>\n</member></struct></value>";
    assert_eq!(
        one_param(xml),
        Ok(st(vec![("b", Value::Int(2)), ("a", s("1"))]))
    );
}

#[test]
fn malformed_input_gets_a_typed_error_that_reads_well_in_a_fault() {
    assert!(matches!(
        parse_method_call(b"<methodCall><methodName>m</methodName>"),
        Err(CodecError::Malformed(_))
    ));
    assert_eq!(
        parse_method_call(b"<methodResponse/>"),
        Err(CodecError::WrongRoot {
            expected: "methodCall",
            found: "methodResponse".into()
        })
    );
    assert_eq!(
        parse_method_call(b"<methodCall><params/></methodCall>"),
        Err(CodecError::MissingMethodName)
    );
    let bad_int = one_param("<value><int></int></value>").unwrap_err();
    assert_eq!(
        bad_int.to_string(),
        "invalid literal for int() with base 10: ''"
    );
    assert_eq!(
        one_param("<value><int>12abc</int></value>")
            .unwrap_err()
            .to_string(),
        "invalid literal for int() with base 10: '12abc'"
    );
    assert_eq!(
        one_param("<value><boolean>true</boolean></value>"),
        Err(CodecError::BadBoolean("true".into()))
    );
    assert_eq!(
        one_param("<value><double>x</double></value>")
            .unwrap_err()
            .to_string(),
        "could not convert string to float: 'x'"
    );
    assert_eq!(
        one_param("<value><float>1</float></value>"),
        Err(CodecError::UnknownType("float".into()))
    );
    assert_eq!(
        one_param("<value><base64>!!!</base64></value>"),
        Err(CodecError::BadBase64)
    );
    assert!(matches!(
        one_param("<value><int>1</int><int>2</int></value>"),
        Err(CodecError::UnexpectedElement { .. })
    ));
    assert!(matches!(
        one_param("<value>text<int>1</int></value>"),
        Err(CodecError::UnexpectedText { .. })
    ));
    assert!(matches!(
        parse_method_call(b"<methodCall><methodName>m</methodName><param></param></methodCall>"),
        Err(CodecError::MissingValue { .. })
    ));
    assert!(matches!(
        parse_method_call(&[0xff, 0xfe]),
        Err(CodecError::NotUtf8)
    ));
    assert!(matches!(
        parse_method_call(
            b"<!DOCTYPE x [<!ENTITY a \"aaaa\">]><methodCall><methodName>&a;</methodName></methodCall>"
        ),
        Err(CodecError::Malformed(_))
    ));
}

#[test]
fn deep_nesting_is_refused_without_exhausting_the_stack() {
    let depth = 20_000;
    let mut body = String::from("<methodCall><methodName>m</methodName><param>");
    body.push_str(&"<value><array><data>".repeat(depth));
    body.push_str(&"</data></array></value>".repeat(depth));
    body.push_str("</param></methodCall>");
    assert!(body.len() < MAX_BODY_BYTES);
    assert!(matches!(
        parse_method_call(body.as_bytes()),
        Err(CodecError::TooDeep { .. })
    ));

    // Just inside the limit still parses.
    let depth = mock_gandi::xmlrpc::MAX_DEPTH - 1;
    let mut body = String::from("<methodCall><methodName>m</methodName><param>");
    body.push_str(&"<value><array><data>".repeat(depth));
    body.push_str("<value/>");
    body.push_str(&"</data></array></value>".repeat(depth));
    body.push_str("</param></methodCall>");
    assert!(parse_method_call(body.as_bytes()).is_ok());
}

#[test]
fn oversized_bodies_are_refused_before_parsing() {
    let body = vec![b' '; MAX_BODY_BYTES + 1];
    assert_eq!(
        parse_method_call(&body),
        Err(CodecError::TooLarge {
            size: MAX_BODY_BYTES + 1,
            limit: MAX_BODY_BYTES
        })
    );
}

#[test]
fn a_fault_body_reads_back_as_a_fault() {
    let body = include_str!("data/xmlrpc/fault_510042.xml");
    match parse_method_response(body.as_bytes()) {
        Ok(MethodResponse::Fault { code, message }) => {
            assert_eq!(code, 510042);
            assert!(message.contains("thisisadomainidonotown.com"));
        }
        other => panic!("expected a fault, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Properties.

/// Text that survives a trip through XML: no control characters other than tab and newline
/// (XML forbids most, and a parser turns carriage returns into newlines), no non-characters.
fn xml_text() -> impl Strategy<Value = String> {
    any::<String>().prop_map(|s| {
        s.chars()
            .filter(|c| {
                matches!(*c, '\t' | '\n' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
            })
            .collect()
    })
}

fn value_strategy() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(Value::Int),
        any::<bool>().prop_map(Value::Boolean),
        xml_text().prop_map(Value::String),
        any::<f64>()
            .prop_filter("NaN never equals itself", |d| !d.is_nan())
            .prop_map(Value::Double),
        "[0-9]{8}T[0-9]{2}:[0-9]{2}:[0-9]{2}".prop_map(Value::DateTime),
        proptest::collection::vec(any::<u8>(), 0..200).prop_map(Value::Base64),
        Just(Value::Nil),
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::vec((xml_text(), inner), 0..8).prop_map(Value::Struct),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn any_value_survives_encoding_as_a_response_and_parsing_back(value in value_strategy()) {
        let body = encode_response(&value);
        prop_assert_eq!(parse_method_response(body.as_bytes()), Ok(MethodResponse::Success(value)));
    }

    #[test]
    fn any_call_survives_encoding_and_parsing_back(
        name in "[a-z][a-z.]{0,30}",
        params in proptest::collection::vec(value_strategy(), 0..5),
    ) {
        let body = encode_method_call(&name, &params);
        prop_assert_eq!(
            parse_method_call(body.as_bytes()),
            Ok(MethodCall { method_name: name, params })
        );
    }

    #[test]
    fn any_fault_survives_encoding_and_parsing_back(code in any::<i32>(), message in xml_text()) {
        let body = encode_fault(code, &message);
        prop_assert_eq!(
            parse_method_response(body.as_bytes()),
            Ok(MethodResponse::Fault { code: i64::from(code), message })
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Robustness: the stable stand-in for the cargo-fuzz target (which needs a nightly toolchain).
// Raise the case count with PROPTEST_CASES for a long run.

/// Valid bodies to mutate: lego's and a Python client's.
fn seed_bodies() -> Vec<String> {
    let key = lego_string(KEY40);
    vec![
        lego_body(
            LEGO_HEADERS[0],
            "domain.zone.record.add",
            &[
                &key,
                &lego_int(7),
                &lego_int(2),
                &lego_record_struct("_acme-challenge", "token", 300),
            ],
        ),
        encode_method_call(
            "domain.zone.record.set",
            &[
                s(KEY40),
                Value::Int(1),
                Value::Int(2),
                Value::Array(vec![
                    st(vec![("name", s("@")), ("ttl", Value::Double(1.5))]),
                    Value::Base64(b"abc".to_vec()),
                    Value::DateTime("20180613T12:03:58".into()),
                    Value::Nil,
                    Value::Boolean(false),
                ]),
            ],
        ),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete { at: usize, len: usize },
    Insert { at: usize, bytes: Vec<u8> },
    Duplicate { at: usize, len: usize },
    Overwrite { at: usize, byte: u8 },
    Truncate { at: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let interesting = prop_oneof![
        proptest::collection::vec(any::<u8>(), 1..8),
        prop::sample::select(vec![
            b"<value>".to_vec(),
            b"</value>".to_vec(),
            b"<array><data>".to_vec(),
            b"<struct>".to_vec(),
            b"&amp;".to_vec(),
            b"&#0;".to_vec(),
            b"<![CDATA[x]]>".to_vec(),
            b"<!--c-->".to_vec(),
            b"<?pi x?>".to_vec(),
            "\u{10ffff}".as_bytes().to_vec(),
        ]),
    ];
    prop_oneof![
        (any::<usize>(), 1..64usize).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), interesting).prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (any::<usize>(), 1..256usize).prop_map(|(at, len)| Mutation::Duplicate { at, len }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Overwrite { at, byte }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
    ]
}

fn apply(body: &mut Vec<u8>, m: &Mutation) {
    let n = body.len().max(1);
    match m {
        Mutation::Delete { at, len } => {
            let at = at % n;
            let end = (at + len).min(body.len());
            if at < end {
                body.drain(at..end);
            }
        }
        Mutation::Insert { at, bytes } => {
            let at = at % (body.len() + 1);
            body.splice(at..at, bytes.iter().copied());
        }
        Mutation::Duplicate { at, len } => {
            let at = at % n;
            let end = (at + len).min(body.len());
            if at < end {
                let copy = body[at..end].to_vec();
                body.splice(at..at, copy);
            }
        }
        Mutation::Overwrite { at, byte } => {
            if !body.is_empty() {
                let at = at % body.len();
                body[at] = *byte;
            }
        }
        Mutation::Truncate { at } => body.truncate(at % n),
    }
}

/// The robustness properties run 2000 cases by default; `PROPTEST_CASES` raises that for a long
/// run (an explicit `with_cases` would otherwise ignore the variable).
fn robustness_cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(robustness_cases()))]

    #[test]
    fn the_parser_returns_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        check_xmlrpc(&bytes);
    }

    #[test]
    fn the_parser_returns_on_mutated_valid_bodies(
        seed in 0..2usize,
        mutations in proptest::collection::vec(mutation(), 1..8),
    ) {
        let mut body = seed_bodies()[seed].clone().into_bytes();
        for m in &mutations {
            apply(&mut body, m);
        }
        // The fuzz target's check: a successful parse re-encodes and parses to the same call.
        check_xmlrpc(&body);
    }
}

/// The stand-in reaches what it stands in for: each valid body goes all the way through the
/// check (a check that returned at once would stop here).
#[test]
fn the_valid_bodies_are_answered_by_the_fuzz_check() {
    for body in seed_bodies() {
        assert_eq!(check_xmlrpc(body.as_bytes()), Reached::Answered, "{body}");
    }
    assert_eq!(check_xmlrpc(b"<methodCall>"), Reached::Refused);
}
