//! The v4 XML-RPC API through the router (no socket): wire bytes, faults, lego's whole `gandi`
//! sequence, what DNS would serve after each step, and a reference model of zones and versions.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Body;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use mock_gandi::store::{Fqdn, ZoneStore};
use mock_gandi::xmlrpc::{
    MethodResponse, Value, encode_fault, encode_method_call, handle, key_matches_pattern,
    parse_method_response,
};
use mock_gandi::{AppState, Seed, router};
use proptest::prelude::*;
use tower::ServiceExt;

const KEY: &str = "0123456789abcdefghijklmn";
const PAT: &str = "23e501f7a1b2c3d4e5f60718293a4b5c6d7e960b";
const LIVEDNS_KEY: &str = "ABCDEFGHIJKLMNOPQRSTUVwx";

const SEED: &str = r#"
[[domain]]
fqdn = "stubber.chat"
dns = "legacy"
[[domain.record]]
name = "@"
type = "A"
ttl = 300
values = ["192.0.2.10"]
[[domain.record]]
name = "www"
type = "TXT"
ttl = 3600
values = ["hello"]

[[domain]]
fqdn = "live.example"
dns = "livedns"
[[domain.record]]
name = "@"
type = "A"
ttl = 300
values = ["192.0.2.20"]

[[credential]]
kind = "v4-key"
secret = "0123456789abcdefghijklmn"

[[credential]]
kind = "apikey"
secret = "ABCDEFGHIJKLMNOPQRSTUVwx"
"#;

fn state() -> AppState {
    AppState::new(ZoneStore::new(Seed::parse(SEED).unwrap()))
}

struct Answer {
    status: StatusCode,
    content_type: String,
    body: String,
}

async fn post(state: &AppState, body: impl Into<String>) -> Answer {
    let request = Request::post("/xmlrpc/")
        .header("content-type", "text/xml")
        .header("host", "rpc.gandi.net")
        .body(Body::from(body.into()))
        .unwrap();
    let response = router(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        content_type,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

async fn call(state: &AppState, method: &str, params: &[Value]) -> Answer {
    post(state, encode_method_call(method, params)).await
}

fn s(v: &str) -> Value {
    Value::string(v)
}

fn i(v: i64) -> Value {
    Value::Int(v)
}

fn st(members: &[(&str, Value)]) -> Value {
    Value::Struct(
        members
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
    )
}

fn success(a: &Answer) -> Value {
    assert_eq!(a.status, StatusCode::OK);
    match parse_method_response(a.body.as_bytes()) {
        Ok(MethodResponse::Success(v)) => v,
        other => panic!("expected success, got {other:?} from\n{}", a.body),
    }
}

fn fault(a: &Answer) -> (i64, String) {
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.content_type, "text/xml; charset=utf-8");
    match parse_method_response(a.body.as_bytes()) {
        Ok(MethodResponse::Fault { code, message }) => (code, message),
        other => panic!("expected a fault, got {other:?} from\n{}", a.body),
    }
}

fn int_member(v: &Value, name: &str) -> i64 {
    match v.member(name) {
        Some(Value::Int(n)) => *n,
        other => panic!("member {name}: {other:?} in {v:?}"),
    }
}

/// What DNS would serve for a zone apex now: every (name, type, value) of the zone's view.
fn served(state: &AppState, apex: &str) -> BTreeSet<(String, String, String)> {
    let view = state
        .store
        .zone_for(&Fqdn::parse(apex).unwrap())
        .expect("the apex is in a zone");
    view.rrsets()
        .flat_map(|set| {
            set.values.iter().map(|v| {
                (
                    set.name.as_str().to_owned(),
                    set.rtype.as_str().to_owned(),
                    v.clone(),
                )
            })
        })
        .collect()
}

fn rec(name: &str, rtype: &str, value: &str) -> (String, String, String) {
    (name.to_owned(), rtype.to_owned(), value.to_owned())
}

// ---------------------------------------------------------------------------------------------
// Wire bytes and faults.

#[tokio::test]
async fn an_unknown_domain_gets_the_recorded_fault_byte_for_byte() {
    let a = call(
        &state(),
        "domain.info",
        &[s(KEY), s("thisisadomainidonotown.com")],
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.content_type, "text/xml; charset=utf-8");
    assert_eq!(a.body, include_str!("data/xmlrpc/fault_510042.xml"));
    assert_eq!(a.body.len(), 361);
}

#[tokio::test]
async fn the_unknown_domain_fault_echoes_the_name_with_its_trailing_dot() {
    let (code, message) =
        fault(&call(&state(), "domain.info", &[s(KEY), s("Nope.Example.")]).await);
    assert_eq!(code, 510042);
    assert_eq!(
        message,
        "Error on object : OBJECT_DOMAIN (CAUSE_NOTFOUND) [Domain 'Nope.Example.' doesn't exist.]"
    );
}

/// Every member of the recorded `domain.info` answer
/// (`recorded/lexicon-gandi/RPC-IntegrationTests`), in the recorded order: lego reads
/// `zone_id`, lexicon `fqdn`, `id` and `zone_id`, Gandi's own CLI `contacts.*.handle` and the
/// dates (gandi.cli `gandi domain info`).
#[tokio::test]
async fn domain_info_answers_every_member_of_the_recorded_answer() {
    let info = success(&call(&state(), "domain.info", &[s(KEY), s("stubber.chat")]).await);
    let Value::Struct(members) = &info else {
        panic!("domain.info answered {info:?}");
    };
    let names: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "entity_id",
            "date_updated",
            "date_delete",
            "can_tld_lock",
            "is_premium",
            "is_special_price",
            "date_hold_begin",
            "date_registry_end",
            "authinfo_expiration_date",
            "contacts",
            "nameservers",
            "date_restore_end",
            "id",
            "authinfo",
            "status",
            "tags",
            "date_hold_end",
            "services",
            "date_pending_delete_end",
            "zone_id",
            "date_renew_begin",
            "fqdn",
            "autorenew",
            "date_registry_creation",
            "tld",
            "date_created",
        ]
    );
    assert_eq!(info.member("fqdn"), Some(&s("stubber.chat")));
    assert_eq!(info.member("tld"), Some(&s("chat")));
    assert!(
        matches!(info.member("nameservers"), Some(Value::Array(ns)) if ns.len() == 3),
        "{info:?}"
    );
    let contacts = info.member("contacts").unwrap();
    for role in ["owner", "admin", "bill", "tech"] {
        assert_eq!(
            contacts.member(role).and_then(|c| c.member("handle")),
            Some(&s("MOCK1-GANDI"))
        );
    }
    assert_eq!(contacts.member("reseller"), Some(&Value::Nil));
    assert!(matches!(
        info.member("date_registry_end"),
        Some(Value::DateTime(_))
    ));
}

/// `domain.list` gives the same struct for every domain of the account, paged by
/// `items_per_page` and `page` (from 0).
#[tokio::test]
async fn domain_list_gives_every_domain_of_the_account_paged() {
    let state = state();
    let all = success(&call(&state, "domain.list", &[s(KEY)]).await);
    let fqdns = |v: &Value| -> Vec<String> {
        let Value::Array(items) = v else {
            panic!("{v:?}")
        };
        items
            .iter()
            .map(|d| match d.member("fqdn") {
                Some(Value::String(f)) => f.clone(),
                other => panic!("{other:?}"),
            })
            .collect()
    };
    assert_eq!(fqdns(&all), ["live.example", "stubber.chat"]);
    let second = success(
        &call(
            &state,
            "domain.list",
            &[s(KEY), st(&[("items_per_page", i(1)), ("page", i(1))])],
        )
        .await,
    );
    assert_eq!(fqdns(&second), ["stubber.chat"]);
}

/// Gandi's CLI sends the filters it was not given as `<nil/>` (`allow_none=True`): they filter
/// nothing, instead of faulting on their type.
#[tokio::test]
async fn nil_filter_members_filter_nothing() {
    let state = state();
    let info = success(&call(&state, "domain.info", &[s(KEY), s("stubber.chat")]).await);
    let zone = int_member(&info, "zone_id");
    let listed = success(
        &call(
            &state,
            "domain.zone.record.list",
            &[
                s(KEY),
                i(zone),
                i(0),
                st(&[
                    ("name", s("www")),
                    ("type", Value::Nil),
                    ("value", Value::Nil),
                    ("items_per_page", i(100)),
                ]),
            ],
        )
        .await,
    );
    let Value::Array(items) = &listed else {
        panic!("{listed:?}")
    };
    assert_eq!(items.len(), 1, "{listed:?}");
    assert_eq!(items[0].member("type"), Some(&s("TXT")));
}

/// `domain.zone.record.set` takes a zone file's text as Gandi's CLI sends it (`gandi record
/// update --file`), and DNS serves it once the version is active.
#[tokio::test]
async fn record_set_takes_a_zone_file_as_gandi_s_cli_sends_it() {
    let state = state();
    let info = success(&call(&state, "domain.info", &[s(KEY), s("stubber.chat")]).await);
    let zone = int_member(&info, "zone_id");
    let Value::Int(version) =
        success(&call(&state, "domain.zone.version.new", &[s(KEY), i(zone)]).await)
    else {
        panic!("no version")
    };
    let text = "@ 300 IN A 192.0.2.99\n; moved\nmail 10800 IN MX 10 mx.example.net.\n";
    let set = success(
        &call(
            &state,
            "domain.zone.record.set",
            &[s(KEY), i(zone), i(version), s(text)],
        )
        .await,
    );
    assert!(
        matches!(&set, Value::Array(items) if items.len() == 2),
        "{set:?}"
    );
    success(
        &call(
            &state,
            "domain.zone.version.set",
            &[s(KEY), i(zone), i(version)],
        )
        .await,
    );
    let served = served(&state, "stubber.chat");
    assert!(served.contains(&rec("@", "A", "192.0.2.99")), "{served:?}");
    assert!(!served.iter().any(|(_, t, _)| t == "TXT"), "{served:?}");
    let (code, message) = fault(
        &call(
            &state,
            "domain.zone.record.set",
            &[s(KEY), i(zone), i(version), s("www 300 IN A")],
        )
        .await,
    );
    assert_eq!(code, 582037, "{message}");
}

/// A domain on a shared zone (`shared_zone = true`): the zone reads and clones (the way out
/// gandi-automatic-dns's README gives), and every edit faults with 581050 in Gandi's words
/// (Chralu/gandyn#17).
#[tokio::test]
async fn a_shared_zone_reads_and_clones_but_every_edit_faults_with_581050() {
    let seed = SEED.replace(
        "fqdn = \"stubber.chat\"\ndns = \"legacy\"",
        "fqdn = \"stubber.chat\"\ndns = \"legacy\"\nshared_zone = true",
    );
    let state = AppState::new(ZoneStore::new(Seed::parse(&seed).unwrap()));
    let info = success(&call(&state, "domain.info", &[s(KEY), s("stubber.chat")]).await);
    let zone = int_member(&info, "zone_id");
    success(&call(&state, "domain.zone.record.list", &[s(KEY), i(zone), i(0)]).await);
    let expected = format!(
        "Error on object : OBJECT_ZONE (CAUSE_NORIGHT) [MOCK1-GANDI isn't allowed to modify zone {zone}]"
    );
    for (method, params) in [
        ("domain.zone.version.new", vec![s(KEY), i(zone)]),
        ("domain.zone.version.set", vec![s(KEY), i(zone), i(1)]),
        (
            "domain.zone.record.add",
            vec![
                s(KEY),
                i(zone),
                i(1),
                st(&[
                    ("name", s("x")),
                    ("type", s("A")),
                    ("value", s("192.0.2.1")),
                ]),
            ],
        ),
    ] {
        let (code, message) = fault(&call(&state, method, &params).await);
        assert_eq!(
            (code, message.as_str()),
            (581050, expected.as_str()),
            "{method}"
        );
    }
    let clone = success(&call(&state, "domain.zone.clone", &[s(KEY), i(zone)]).await);
    let copy = int_member(&clone, "id");
    success(&call(&state, "domain.zone.version.new", &[s(KEY), i(copy)]).await);
}

#[tokio::test]
async fn a_personal_access_token_fails_the_key_pattern_with_a_397_byte_fault() {
    let a = call(&state(), "domain.info", &[s(PAT), s("stubber.chat.")]).await;
    assert_eq!(a.body, include_str!("data/xmlrpc/fault_500037_pat.xml"));
    assert_eq!(a.body.len(), 397);
}

#[tokio::test]
async fn the_key_pattern_is_checked_before_the_method_and_the_parameters() {
    let (code, _) = fault(&call(&state(), "domain.nope", &[s("short")]).await);
    assert_eq!(code, 500037);
    let (code, _) = fault(&call(&state(), "domain.zone.version.set", &[s("UPPER"), s("")]).await);
    assert_eq!(code, 500037);
}

#[tokio::test]
async fn a_well_formed_key_the_account_does_not_know_is_an_invalid_api_key() {
    // A LiveDNS key has the right length but upper-case letters: that fails the pattern.
    let (code, _) = fault(
        &call(
            &state(),
            "domain.info",
            &[s(LIVEDNS_KEY), s("stubber.chat")],
        )
        .await,
    );
    assert_eq!(code, 500037);
    let a = call(
        &state(),
        "domain.info",
        &[s("zzzzzzzzzzzzzzzzzzzzzzzz"), s("stubber.chat")],
    )
    .await;
    assert_eq!(
        a.body,
        encode_fault(
            510150,
            "Error on object : OBJECT_ACCOUNT (CAUSE_NORIGHT) [Invalid API key]"
        )
    );
}

/// An empty `<int></int>` (what gandi-automatic-dns sent, #4) fails in the unmarshaller with
/// Python's `int()` message (#21); a `<string>` zone id, even of digits, is refused as #17
/// quotes.
#[tokio::test]
async fn an_empty_int_gets_python_s_int_error_and_a_string_gets_invalid_parameters() {
    let body = encode_method_call("domain.zone.version.set", &[s(KEY), i(1), i(1)])
        .replacen("<int>1</int>", "<int></int>", 2)
        .replacen("<int></int>", "<int>1</int>", 1);
    let a = post(&state(), body).await;
    assert_eq!(
        a.body,
        encode_fault(
            1,
            "Invalid XMLRPC input: invalid literal for int() with base 10: ''"
        )
    );
    let a = call(
        &state(),
        "domain.zone.record.list",
        &[s(KEY), s("1000000"), i(0)],
    )
    .await;
    assert_eq!(
        a.body,
        encode_fault(
            581037,
            "Error on object : OBJECT_ZONE (CAUSE_BADPARAMETER) [invalid method parameter(s)]"
        )
    );
}

#[tokio::test]
async fn malformed_bodies_get_a_fault_with_status_200() {
    for body in [
        "",
        "not xml",
        "<methodCall>",
        "<methodResponse/>",
        "<methodCall><params/></methodCall>",
    ] {
        let (code, message) = fault(&post(&state(), body).await);
        assert_eq!(code, 1, "{body:?}");
        assert!(message.starts_with("Invalid XMLRPC input: "), "{message}");
    }
}

#[tokio::test]
async fn an_oversized_body_or_a_get_gets_a_fault_not_a_framework_page() {
    let huge = "x".repeat(mock_gandi::xmlrpc::MAX_BODY_BYTES + 10);
    let (code, message) = fault(&post(&state(), huge).await);
    assert_eq!(code, 1);
    assert!(message.contains("too large"), "{message}");

    let request = Request::get("/xmlrpc/").body(Body::empty()).unwrap();
    let response = router(state()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    assert!(matches!(
        parse_method_response(&bytes),
        Ok(MethodResponse::Fault { code: 1, .. })
    ));
}

#[tokio::test]
async fn unknown_methods_and_wrong_arity_get_faults_in_gandis_style() {
    let (code, message) = fault(&call(&state(), "domain.zone.frobnicate", &[s(KEY)]).await);
    assert_eq!(code, 500042);
    assert!(message.contains("method 'domain.zone.frobnicate' does not exist"));
    let (code, message) = fault(&call(&state(), "domain.info", &[s(KEY)]).await);
    assert_eq!(code, 500037);
    assert!(message.contains("takes 2 parameters, 1 given"), "{message}");
    let (code, _) = fault(&call(&state(), "domain.info", &[]).await);
    assert_eq!(code, 500037);
}

#[tokio::test]
async fn an_unknown_zone_gets_581042_with_the_id() {
    let (code, message) = fault(&call(&state(), "domain.zone.version.new", &[s(KEY), i(0)]).await);
    assert_eq!(code, 581042);
    assert_eq!(
        message,
        "Error on object : OBJECT_ZONE (CAUSE_NOTFOUND) [no such zone (id: 0)]"
    );
}

#[tokio::test]
async fn a_successful_scalar_answer_is_pythons_bytes() {
    let st8 = state();
    let info = success(&call(&st8, "domain.info", &[s(KEY), s("stubber.chat")]).await);
    let zone = int_member(&info, "zone_id");
    let a = call(&st8, "domain.zone.version.new", &[s(KEY), i(zone)]).await;
    assert_eq!(
        a.body,
        "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><int>2</int></value>\n</param>\n</params>\n</methodResponse>\n"
    );
    assert_eq!(a.content_type, "text/xml; charset=utf-8");
}

#[tokio::test]
async fn the_journal_records_the_method_and_the_fault_code() {
    let st8 = state();
    call(&st8, "domain.info", &[s(PAT), s("stubber.chat")]).await;
    call(&st8, "domain.info", &[s(KEY), s("stubber.chat")]).await;
    let entries = st8.journal.requests();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].xmlrpc_method.as_deref(), Some("domain.info"));
    assert_eq!(entries[0].fault_code, Some(500037));
    assert_eq!(entries[0].auth, None);
    assert_eq!(entries[0].status, 200);
    assert_eq!(entries[1].fault_code, None);
    assert_eq!(entries[1].auth, Some("v4-key"));
    assert_eq!(entries[1].host, "rpc.gandi.net");
}

// ---------------------------------------------------------------------------------------------
// Zone and version semantics.

#[tokio::test]
async fn the_active_version_is_read_only_and_cannot_be_deleted() {
    let st8 = state();
    let info = success(&call(&st8, "domain.info", &[s(KEY), s("stubber.chat")]).await);
    let zone = int_member(&info, "zone_id");
    let txt = st(&[
        ("type", s("TXT")),
        ("name", s("x")),
        ("value", s("v")),
        ("ttl", i(300)),
    ]);
    for version in [0, 1] {
        let (code, _) = fault(
            &call(
                &st8,
                "domain.zone.record.add",
                &[s(KEY), i(zone), i(version), txt.clone()],
            )
            .await,
        );
        assert_eq!(code, 581037, "version {version}");
    }
    let (code, _) =
        fault(&call(&st8, "domain.zone.version.delete", &[s(KEY), i(zone), i(1)]).await);
    assert_eq!(code, 581037);
    assert_eq!(
        served(&st8, "stubber.chat"),
        BTreeSet::from([rec("@", "A", "192.0.2.10"), rec("www", "TXT", "\"hello\"")])
    );
}

#[tokio::test]
async fn txt_values_come_back_quoted_and_ttls_below_300_are_refused() {
    let st8 = state();
    let info = success(&call(&st8, "domain.info", &[s(KEY), s("stubber.chat")]).await);
    let zone = int_member(&info, "zone_id");
    let v = match success(&call(&st8, "domain.zone.version.new", &[s(KEY), i(zone)]).await) {
        Value::Int(v) => v,
        other => panic!("{other:?}"),
    };
    let added = success(
        &call(
            &st8,
            "domain.zone.record.add",
            &[
                s(KEY),
                i(zone),
                i(v),
                st(&[
                    ("type", s("TXT")),
                    ("name", s("_acme-challenge")),
                    ("value", s("tok")),
                    ("ttl", i(300)),
                ]),
            ],
        )
        .await,
    );
    let Value::Struct(members) = &added else {
        panic!("{added:?}")
    };
    let names: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["name", "type", "id", "value", "ttl"]);
    assert_eq!(added.member("value"), Some(&s("\"tok\"")));
    assert!(matches!(added.member("id"), Some(Value::String(id)) if id.parse::<u64>().is_ok()));

    let (code, message) = fault(
        &call(
            &st8,
            "domain.zone.record.add",
            &[
                s(KEY),
                i(zone),
                i(v),
                st(&[
                    ("type", s("TXT")),
                    ("name", s("low")),
                    ("value", s("tok")),
                    ("ttl", i(299)),
                ]),
            ],
        )
        .await,
    );
    assert_eq!(code, 582037);
    assert!(message.contains("299"), "{message}");

    // The list of the new version finds the record by its quoted or unquoted value.
    for value in ["tok", "\"tok\""] {
        let list = success(
            &call(
                &st8,
                "domain.zone.record.list",
                &[
                    s(KEY),
                    i(zone),
                    i(v),
                    st(&[("type", s("TXT")), ("value", s(value))]),
                ],
            )
            .await,
        );
        assert!(
            matches!(&list, Value::Array(items) if items.len() == 1),
            "{list:?}"
        );
    }
}

#[tokio::test]
async fn a_zone_in_use_cannot_be_deleted() {
    let st8 = state();
    let info = success(&call(&st8, "domain.info", &[s(KEY), s("stubber.chat")]).await);
    let zone = int_member(&info, "zone_id");
    let (code, message) = fault(&call(&st8, "domain.zone.delete", &[s(KEY), i(zone)]).await);
    assert_eq!(code, 581037);
    assert!(message.contains("still used by 1 domain"), "{message}");
}

#[tokio::test]
async fn version_numbers_only_grow_and_new_versions_copy_records_with_new_ids() {
    let st8 = state();
    let info = success(&call(&st8, "domain.info", &[s(KEY), s("stubber.chat")]).await);
    let zone = int_member(&info, "zone_id");
    let mut last = 1;
    for _ in 0..3 {
        let Value::Int(v) =
            success(&call(&st8, "domain.zone.version.new", &[s(KEY), i(zone)]).await)
        else {
            panic!()
        };
        assert!(v > last);
        last = v;
    }
    let ids = |list: Value| -> BTreeSet<String> {
        let Value::Array(items) = list else { panic!() };
        items
            .iter()
            .map(|r| match r.member("id") {
                Some(Value::String(id)) => id.clone(),
                other => panic!("{other:?}"),
            })
            .collect()
    };
    let active = ids(success(
        &call(&st8, "domain.zone.record.list", &[s(KEY), i(zone), i(0)]).await,
    ));
    let newest = ids(success(
        &call(&st8, "domain.zone.record.list", &[s(KEY), i(zone), i(last)]).await,
    ));
    assert_eq!(active.len(), 2);
    assert_eq!(newest.len(), 2);
    assert!(active.is_disjoint(&newest));
    let versions = success(&call(&st8, "domain.zone.version.list", &[s(KEY), i(zone)]).await);
    let Value::Array(items) = versions else {
        panic!()
    };
    let numbers: Vec<i64> = items.iter().map(|v| int_member(v, "id")).collect();
    assert_eq!(numbers, [1, 2, 3, 4]);

    // A deleted number is not given again.
    success(
        &call(
            &st8,
            "domain.zone.version.delete",
            &[s(KEY), i(zone), i(last)],
        )
        .await,
    );
    let again = success(&call(&st8, "domain.zone.version.new", &[s(KEY), i(zone)]).await);
    assert_eq!(again, i(last + 1));
}

// ---------------------------------------------------------------------------------------------
// lego's `gandi` provider, end to end, with the bodies it sends.

/// A body shaped as lego's Go encoder writes it: no `<params>`, indented `<value>`s.
fn lego_body(method: &str, params: &[LegoParam]) -> String {
    let mut out =
        format!("<?xml version=\"1.0\"?>\n<methodCall>\n  <methodName>{method}</methodName>");
    for p in params {
        out.push_str("\n  <param>\n    <value>\n");
        match p {
            LegoParam::S(v) => out.push_str(&format!("      <string>{v}</string>")),
            LegoParam::I(v) => out.push_str(&format!("      <int>{v}</int>")),
            LegoParam::Struct(members) => {
                out.push_str("      <struct>");
                for (name, value) in members {
                    out.push_str(&format!(
                        "\n        <member>\n          <name>{name}</name>\n          <value>\n"
                    ));
                    match value {
                        LegoParam::S(v) => {
                            out.push_str(&format!("            <string>{v}</string>"))
                        }
                        LegoParam::I(v) => out.push_str(&format!("            <int>{v}</int>")),
                        LegoParam::Struct(_) => unreachable!("lego never nests structs"),
                    }
                    out.push_str("\n          </value>\n        </member>");
                }
                out.push_str("\n      </struct>");
            }
        }
        out.push_str("\n    </value>\n  </param>");
    }
    out.push_str("\n</methodCall>");
    out
}

enum LegoParam {
    S(String),
    I(i64),
    Struct(Vec<(&'static str, LegoParam)>),
}

fn ls(v: &str) -> LegoParam {
    LegoParam::S(v.to_owned())
}

#[tokio::test]
async fn legos_whole_gandi_sequence_publishes_the_token_and_cleans_up() {
    let st8 = state();
    let before = served(&st8, "stubber.chat");
    let token = "LHDhK3oGRvkiefQnx7OOczTY5Tic_xZ6HcMOc_gmtoM";

    // Present.
    let info = success(
        &post(
            &st8,
            lego_body("domain.info", &[ls(KEY), ls("stubber.chat.")]),
        )
        .await,
    );
    let zone = int_member(&info, "zone_id");
    let clone = success(
        &post(
            &st8,
            lego_body(
                "domain.zone.clone",
                &[
                    ls(KEY),
                    LegoParam::I(zone),
                    LegoParam::I(0),
                    LegoParam::Struct(vec![(
                        "name",
                        ls("stubber.chat [ACME Challenge 28 Nov 26 12:00 +0000]"),
                    )]),
                ],
            ),
        )
        .await,
    );
    let new_zone = int_member(&clone, "id");
    assert_ne!(new_zone, zone);
    assert_eq!(int_member(&clone, "version"), 1);
    let Value::Int(version) = success(
        &post(
            &st8,
            lego_body(
                "domain.zone.version.new",
                &[ls(KEY), LegoParam::I(new_zone)],
            ),
        )
        .await,
    ) else {
        panic!("version.new must answer an int")
    };
    assert_ne!(version, 0);
    success(
        &post(
            &st8,
            lego_body(
                "domain.zone.record.add",
                &[
                    ls(KEY),
                    LegoParam::I(new_zone),
                    LegoParam::I(version),
                    LegoParam::Struct(vec![
                        ("type", ls("TXT")),
                        ("name", ls("_acme-challenge")),
                        ("value", ls(token)),
                        ("ttl", LegoParam::I(300)),
                    ]),
                ],
            ),
        )
        .await,
    );
    // Nothing is served from the clone until the domain points at it.
    assert_eq!(served(&st8, "stubber.chat"), before);
    let set = success(
        &post(
            &st8,
            lego_body(
                "domain.zone.version.set",
                &[ls(KEY), LegoParam::I(new_zone), LegoParam::I(version)],
            ),
        )
        .await,
    );
    assert_eq!(set, Value::Boolean(true));
    assert_eq!(served(&st8, "stubber.chat"), before);
    let info = success(
        &post(
            &st8,
            lego_body(
                "domain.zone.set",
                &[ls(KEY), ls("stubber.chat."), LegoParam::I(new_zone)],
            ),
        )
        .await,
    );
    assert_eq!(int_member(&info, "zone_id"), new_zone);
    let mut with_token = before.clone();
    with_token.insert(rec("_acme-challenge", "TXT", &format!("\"{token}\"")));
    assert_eq!(served(&st8, "stubber.chat"), with_token);

    // Clean up.
    let info = success(
        &post(
            &st8,
            lego_body(
                "domain.zone.set",
                &[ls(KEY), ls("stubber.chat."), LegoParam::I(zone)],
            ),
        )
        .await,
    );
    assert_eq!(int_member(&info, "zone_id"), zone);
    assert_eq!(served(&st8, "stubber.chat"), before);
    let deleted = success(
        &post(
            &st8,
            lego_body("domain.zone.delete", &[ls(KEY), LegoParam::I(new_zone)]),
        )
        .await,
    );
    assert_eq!(deleted, Value::Boolean(true));
    assert_eq!(served(&st8, "stubber.chat"), before);
    let (code, _) = fault(&call(&st8, "domain.zone.info", &[s(KEY), i(new_zone)]).await);
    assert_eq!(code, 581042);

    let methods: Vec<String> = st8
        .journal
        .requests()
        .iter()
        .filter_map(|e| e.xmlrpc_method.clone())
        .collect();
    assert_eq!(
        methods,
        [
            "domain.info",
            "domain.zone.clone",
            "domain.zone.version.new",
            "domain.zone.record.add",
            "domain.zone.version.set",
            "domain.zone.set",
            "domain.zone.set",
            "domain.zone.delete",
            "domain.zone.info",
        ]
    );
}

#[tokio::test]
async fn v4_edits_of_a_livedns_domain_succeed_but_never_reach_dns() {
    let st8 = state();
    let before = served(&st8, "live.example");
    let info = success(&call(&st8, "domain.info", &[s(KEY), s("live.example")]).await);
    let zone = int_member(&info, "zone_id");
    let clone = success(
        &call(
            &st8,
            "domain.zone.clone",
            &[s(KEY), i(zone), i(0), st(&[("name", s("c"))])],
        )
        .await,
    );
    let new_zone = int_member(&clone, "id");
    let Value::Int(v) =
        success(&call(&st8, "domain.zone.version.new", &[s(KEY), i(new_zone)]).await)
    else {
        panic!()
    };
    success(
        &call(
            &st8,
            "domain.zone.record.add",
            &[
                s(KEY),
                i(new_zone),
                i(v),
                st(&[
                    ("type", s("TXT")),
                    ("name", s("_acme-challenge")),
                    ("value", s("t")),
                    ("ttl", i(300)),
                ]),
            ],
        )
        .await,
    );
    success(
        &call(
            &st8,
            "domain.zone.version.set",
            &[s(KEY), i(new_zone), i(v)],
        )
        .await,
    );
    success(
        &call(
            &st8,
            "domain.zone.set",
            &[s(KEY), s("live.example"), i(new_zone)],
        )
        .await,
    );
    assert_eq!(served(&st8, "live.example"), before);
}

// ---------------------------------------------------------------------------------------------
// Properties.

fn key_candidates() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9]{24}",
        "[a-z0-9]{23,25}",
        "[a-zA-Z0-9]{24}",
        "[a-z0-9 _\\-\n]{24}",
        "[a-z0-9]{24}\n",
        "[0-9a-f]{40}",
        any::<String>(),
        "\\PC{0,30}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_key_validator_agrees_with_gandis_pattern(key in key_candidates()) {
        let pattern = regex::Regex::new("^[a-z0-9]{24}$").unwrap();
        prop_assert_eq!(key_matches_pattern(&key), pattern.is_match(&key), "{:?}", key);
    }
}

/// A small reference model of legacy zones: versions of (name, type, value) records, one
/// active, and which zone each domain points at.
#[derive(Debug, Clone, Default)]
struct Model {
    zones: BTreeMap<i64, ModelZone>,
    domains: BTreeMap<&'static str, i64>,
}

#[derive(Debug, Clone)]
struct ModelZone {
    active: i64,
    versions: BTreeMap<i64, Vec<(String, String, String)>>,
    /// Version numbers are never reused, even after a delete.
    next_version: i64,
}

#[derive(Debug, Clone, Copy)]
enum Ver {
    Active,
    Existing(usize),
    Missing,
}

#[derive(Debug, Clone)]
enum Op {
    Clone(usize, Ver),
    VersionNew(usize, Ver),
    VersionSet(usize, Ver),
    VersionDelete(usize, Ver),
    RecordAdd(usize, Ver, usize, usize),
    RecordDelete(usize, Ver, usize),
    RecordSet(usize, Ver, Vec<(usize, usize)>),
    ZoneSet(usize, usize),
    ZoneDelete(usize),
}

const DOMAINS: [&str; 2] = ["stubber.chat", "live.example"];
const NAMES: [&str; 3] = ["@", "www", "_acme-challenge"];
/// (type, value as sent, value as stored).
const VALUES: [(&str, &str, &str); 3] = [
    ("TXT", "tok-a", "\"tok-a\""),
    ("TXT", "\"tok-b\"", "\"tok-b\""),
    ("A", "192.0.2.7", "192.0.2.7"),
];

fn ver() -> impl Strategy<Value = Ver> {
    prop_oneof![
        1 => Just(Ver::Active),
        4 => (0..4usize).prop_map(Ver::Existing),
        1 => Just(Ver::Missing),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => (0..4usize, ver()).prop_map(|(z, v)| Op::Clone(z, v)),
        1 => (0..4usize, ver()).prop_map(|(z, v)| Op::VersionNew(z, v)),
        1 => (0..4usize, ver()).prop_map(|(z, v)| Op::VersionSet(z, v)),
        1 => (0..4usize, ver()).prop_map(|(z, v)| Op::VersionDelete(z, v)),
        3 => (0..4usize, ver(), 0..3usize, 0..3usize).prop_map(|(z, v, n, x)| Op::RecordAdd(z, v, n, x)),
        1 => (0..4usize, ver(), 0..3usize).prop_map(|(z, v, n)| Op::RecordDelete(z, v, n)),
        1 => (0..4usize, ver(), proptest::collection::vec((0..3usize, 0..3usize), 0..3))
            .prop_map(|(z, v, r)| Op::RecordSet(z, v, r)),
        2 => (0..2usize, 0..4usize).prop_map(|(d, z)| Op::ZoneSet(d, z)),
        1 => (0..4usize).prop_map(Op::ZoneDelete),
    ]
}

impl Model {
    fn zone_id(&self, i: usize) -> i64 {
        let ids: Vec<i64> = self.zones.keys().copied().collect();
        ids[i % ids.len()]
    }

    /// The version number an op names, as sent (0 = active).
    fn version(&self, zone: i64, v: Ver) -> i64 {
        match v {
            Ver::Active => 0,
            Ver::Missing => 999_999,
            Ver::Existing(i) => {
                let vs: Vec<i64> = self.zones[&zone].versions.keys().copied().collect();
                vs[i % vs.len()]
            }
        }
    }

    fn resolve(&self, zone: i64, v: i64) -> Option<i64> {
        let z = &self.zones[&zone];
        let v = if v == 0 { z.active } else { v };
        z.versions.contains_key(&v).then_some(v)
    }

    fn editable(&self, zone: i64, v: i64) -> Option<i64> {
        self.resolve(zone, v)
            .filter(|v| *v != self.zones[&zone].active)
    }
}

fn records_of(list: &Value) -> BTreeSet<(String, String, String)> {
    let Value::Array(items) = list else {
        panic!("{list:?}")
    };
    items
        .iter()
        .map(|r| {
            let text = |k: &str| match r.member(k) {
                Some(Value::String(t)) => t.clone(),
                other => panic!("{k}: {other:?}"),
            };
            (text("name"), text("type"), text("value"))
        })
        .collect()
}

fn run(store: &ZoneStore, method: &str, params: &[Value]) -> Result<Value, (i64, String)> {
    let mut all = vec![s(KEY)];
    all.extend_from_slice(params);
    let body = encode_method_call(method, &all);
    let outcome = handle(store, body.as_bytes());
    let text = match outcome.result {
        Ok(v) => mock_gandi::xmlrpc::encode_response(&v),
        Err(f) => encode_fault(f.code, &f.message),
    };
    match parse_method_response(text.as_bytes()).unwrap() {
        MethodResponse::Success(v) => Ok(v),
        MethodResponse::Fault { code, message } => Err((code, message)),
    }
}

fn record_struct(n: usize, x: usize) -> Value {
    let (rtype, value, _) = VALUES[x];
    st(&[
        ("type", s(rtype)),
        ("name", s(NAMES[n])),
        ("value", s(value)),
        ("ttl", i(300)),
    ])
}

fn stored(n: usize, x: usize) -> (String, String, String) {
    let (rtype, _, value) = VALUES[x];
    rec(NAMES[n], rtype, value)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn after_any_v4_sequence_dns_serves_the_active_version_and_the_listing_agrees(
        ops in proptest::collection::vec(op(), 1..30),
    ) {
        let store = ZoneStore::new(Seed::parse(SEED).unwrap());
        let livedns_before = {
            let view = store.zone_for(&Fqdn::parse("live.example").unwrap()).unwrap();
            view.rrsets().cloned().collect::<Vec<_>>()
        };
        let mut model = Model::default();
        for d in DOMAINS {
            let info = run(&store, "domain.info", &[s(d)]).unwrap();
            let zone = int_member(&info, "zone_id");
            let list = run(&store, "domain.zone.record.list", &[i(zone), i(0)]).unwrap();
            model.zones.insert(zone, ModelZone { active: 1, versions: BTreeMap::from([(1, records_of(&list).into_iter().collect())]), next_version: 2 });
            model.domains.insert(d, zone);
        }

        for op in ops {
            match op {
                Op::Clone(zi, v) => {
                    let zone = model.zone_id(zi);
                    let version = model.version(zone, v);
                    let result = run(&store, "domain.zone.clone", &[i(zone), i(version), st(&[("name", s("c"))])]);
                    match model.resolve(zone, version) {
                        Some(from) => {
                            let new = int_member(&result.unwrap(), "id");
                            let records = model.zones[&zone].versions[&from].clone();
                            model.zones.insert(new, ModelZone { active: 1, versions: BTreeMap::from([(1, records)]), next_version: 2 });
                        }
                        None => prop_assert_eq!(result.unwrap_err().0, 581042),
                    }
                }
                Op::VersionNew(zi, v) => {
                    let zone = model.zone_id(zi);
                    let from = model.version(zone, v);
                    let result = run(&store, "domain.zone.version.new", &[i(zone), i(from)]);
                    match model.resolve(zone, from) {
                        Some(from) => {
                            let z = model.zones.get_mut(&zone).unwrap();
                            let next = z.next_version;
                            z.next_version += 1;
                            prop_assert_eq!(result.unwrap(), i(next));
                            let copy = z.versions[&from].clone();
                            z.versions.insert(next, copy);
                        }
                        None => prop_assert_eq!(result.unwrap_err().0, 581042),
                    }
                }
                Op::VersionSet(zi, v) => {
                    let zone = model.zone_id(zi);
                    let version = model.version(zone, v);
                    let result = run(&store, "domain.zone.version.set", &[i(zone), i(version)]);
                    match model.resolve(zone, version) {
                        Some(v) => {
                            prop_assert_eq!(result.unwrap(), Value::Boolean(true));
                            model.zones.get_mut(&zone).unwrap().active = v;
                        }
                        None => prop_assert_eq!(result.unwrap_err().0, 581042),
                    }
                }
                Op::VersionDelete(zi, v) => {
                    let zone = model.zone_id(zi);
                    let version = model.version(zone, v);
                    let result = run(&store, "domain.zone.version.delete", &[i(zone), i(version)]);
                    match (model.resolve(zone, version), model.editable(zone, version)) {
                        (_, Some(v)) => {
                            prop_assert_eq!(result.unwrap(), Value::Boolean(true));
                            model.zones.get_mut(&zone).unwrap().versions.remove(&v);
                        }
                        (Some(_), None) => prop_assert_eq!(result.unwrap_err().0, 581037),
                        (None, None) => prop_assert_eq!(result.unwrap_err().0, 581042),
                    }
                }
                Op::RecordAdd(zi, v, n, x) => {
                    let zone = model.zone_id(zi);
                    let version = model.version(zone, v);
                    let result = run(&store, "domain.zone.record.add", &[i(zone), i(version), record_struct(n, x)]);
                    match (model.resolve(zone, version), model.editable(zone, version)) {
                        (_, Some(v)) => {
                            let added = result.unwrap();
                            prop_assert_eq!(added.member("value"), Some(&s(&stored(n, x).2)));
                            // An equal record (name, type, value) is replaced, not doubled.
                            let records = model.zones.get_mut(&zone).unwrap().versions.get_mut(&v).unwrap();
                            records.retain(|r| *r != stored(n, x));
                            records.push(stored(n, x));
                        }
                        (Some(_), None) => prop_assert_eq!(result.unwrap_err().0, 581037),
                        (None, None) => prop_assert_eq!(result.unwrap_err().0, 581042),
                    }
                }
                Op::RecordDelete(zi, v, n) => {
                    let zone = model.zone_id(zi);
                    let version = model.version(zone, v);
                    let result = run(&store, "domain.zone.record.delete", &[i(zone), i(version), st(&[("name", s(NAMES[n]))])]);
                    match (model.resolve(zone, version), model.editable(zone, version)) {
                        (_, Some(v)) => {
                            let records = model.zones.get_mut(&zone).unwrap().versions.get_mut(&v).unwrap();
                            let before = records.len();
                            records.retain(|r| r.0 != NAMES[n]);
                            prop_assert_eq!(result.unwrap(), i((before - records.len()) as i64));
                        }
                        (Some(_), None) => prop_assert_eq!(result.unwrap_err().0, 581037),
                        (None, None) => prop_assert_eq!(result.unwrap_err().0, 581042),
                    }
                }
                Op::RecordSet(zi, v, recs) => {
                    let zone = model.zone_id(zi);
                    let version = model.version(zone, v);
                    let items = Value::Array(recs.iter().map(|(n, x)| record_struct(*n, *x)).collect());
                    let result = run(&store, "domain.zone.record.set", &[i(zone), i(version), items]);
                    match (model.resolve(zone, version), model.editable(zone, version)) {
                        (_, Some(v)) => {
                            prop_assert!(result.is_ok());
                            *model.zones.get_mut(&zone).unwrap().versions.get_mut(&v).unwrap() =
                                recs.iter().map(|(n, x)| stored(*n, *x)).collect();
                        }
                        (Some(_), None) => prop_assert_eq!(result.unwrap_err().0, 581037),
                        (None, None) => prop_assert_eq!(result.unwrap_err().0, 581042),
                    }
                }
                Op::ZoneSet(di, zi) => {
                    let zone = model.zone_id(zi);
                    let result = run(&store, "domain.zone.set", &[s(DOMAINS[di]), i(zone)]);
                    prop_assert_eq!(int_member(&result.unwrap(), "zone_id"), zone);
                    model.domains.insert(DOMAINS[di], zone);
                }
                Op::ZoneDelete(zi) => {
                    let zone = model.zone_id(zi);
                    let result = run(&store, "domain.zone.delete", &[i(zone)]);
                    if model.domains.values().any(|z| *z == zone) {
                        prop_assert_eq!(result.unwrap_err().0, 581037);
                    } else {
                        prop_assert_eq!(result.unwrap(), Value::Boolean(true));
                        model.zones.remove(&zone);
                    }
                }
            }

            // DNS for the legacy domain is the active version of the zone it points at.
            let zone = model.domains["stubber.chat"];
            let z = &model.zones[&zone];
            let expected: BTreeSet<_> = z.versions[&z.active].iter().cloned().collect();
            let view = store.zone_for(&Fqdn::parse("stubber.chat").unwrap()).unwrap();
            let served: BTreeSet<_> = view.rrsets().flat_map(|set| set.values.iter().map(|v| rec(set.name.as_str(), set.rtype.as_str(), v))).collect();
            prop_assert_eq!(&served, &expected);
            // The LiveDNS domain's DNS never moves, whatever v4 does to its zones.
            prop_assert_eq!(&store.zone_for(&Fqdn::parse("live.example").unwrap()).unwrap().rrsets().cloned().collect::<Vec<_>>(), &livedns_before);
            // And the v4 listing agrees with the model: every version of every zone, and the
            // active one through version 0.
            for (id, z) in &model.zones {
                let list = run(&store, "domain.zone.record.list", &[i(*id), i(0)]).unwrap();
                let expected: BTreeSet<_> = z.versions[&z.active].iter().cloned().collect();
                prop_assert_eq!(records_of(&list), expected);
                for (v, records) in &z.versions {
                    let list = run(&store, "domain.zone.record.list", &[i(*id), i(*v)]).unwrap();
                    let expected: BTreeSet<_> = records.iter().cloned().collect();
                    prop_assert_eq!(records_of(&list), expected, "zone {} version {}", id, v);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The same sequence over real sockets: HTTP to the running mock, DNS over UDP.

mod over_sockets {
    use std::net::SocketAddr;
    use std::str::FromStr;
    use std::time::Duration;

    use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
    use hickory_proto::rr::{Name, RecordType};
    use mock_gandi::MockGandi;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpStream, UdpSocket};

    use super::*;

    /// One HTTP/1.1 POST on a fresh connection, as lego's Go client would send it; returns the
    /// raw response (status line, headers and body).
    async fn http_post(addr: SocketAddr, body: &str) -> String {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let request = format!(
            "POST /xmlrpc/ HTTP/1.1\r\nHost: rpc.gandi.net\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut response))
            .await
            .expect("the mock answers within 5 s")
            .unwrap();
        String::from_utf8(response).unwrap()
    }

    fn body_of(response: &str) -> &str {
        response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .unwrap_or("")
    }

    async fn ok(addr: SocketAddr, body: String) -> Value {
        let response = http_post(addr, &body).await;
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        assert!(
            response
                .to_ascii_lowercase()
                .contains("\r\ncontent-type: text/xml; charset=utf-8\r\n"),
            "{response}"
        );
        match parse_method_response(body_of(&response).as_bytes()) {
            Ok(MethodResponse::Success(v)) => v,
            other => panic!("{other:?}"),
        }
    }

    async fn txt(dns: SocketAddr, name: &str) -> (ResponseCode, Vec<String>) {
        let mut m = Message::new(7, MessageType::Query, OpCode::Query);
        m.add_query(Query::query(Name::from_str(name).unwrap(), RecordType::TXT));
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        socket.send_to(&m.to_vec().unwrap(), dns).await.unwrap();
        let mut buf = vec![0u8; 65_535];
        let (n, _) = tokio::time::timeout(Duration::from_secs(5), socket.recv_from(&mut buf))
            .await
            .expect("DNS answers within 5 s")
            .unwrap();
        let answer = Message::from_vec(&buf[..n]).unwrap();
        (
            answer.metadata.response_code,
            common::wire::txt_strings(&answer),
        )
    }

    #[tokio::test]
    async fn legos_sequence_over_http_is_seen_by_dns_over_udp_and_cleaned_up() {
        let mock = MockGandi::builder()
            .seed_text(SEED)
            .unwrap()
            .start()
            .await
            .unwrap();
        let (api, dns) = (mock.api_addr(), mock.dns_addr());
        let name = "_acme-challenge.stubber.chat.";
        let token = "LHDhK3oGRvkiefQnx7OOczTY5Tic_xZ6HcMOc_gmtoM";
        assert_eq!(txt(dns, name).await, (ResponseCode::NXDomain, vec![]));

        let info = ok(
            api,
            lego_body("domain.info", &[ls(KEY), ls("stubber.chat.")]),
        )
        .await;
        let zone = int_member(&info, "zone_id");
        let clone = ok(
            api,
            lego_body(
                "domain.zone.clone",
                &[
                    ls(KEY),
                    LegoParam::I(zone),
                    LegoParam::I(0),
                    LegoParam::Struct(vec![("name", ls("stubber.chat [ACME Challenge]"))]),
                ],
            ),
        )
        .await;
        let new_zone = int_member(&clone, "id");
        let Value::Int(version) = ok(
            api,
            lego_body(
                "domain.zone.version.new",
                &[ls(KEY), LegoParam::I(new_zone)],
            ),
        )
        .await
        else {
            panic!("version.new answers an int")
        };
        ok(
            api,
            lego_body(
                "domain.zone.record.add",
                &[
                    ls(KEY),
                    LegoParam::I(new_zone),
                    LegoParam::I(version),
                    LegoParam::Struct(vec![
                        ("type", ls("TXT")),
                        ("name", ls("_acme-challenge")),
                        ("value", ls(token)),
                        ("ttl", LegoParam::I(300)),
                    ]),
                ],
            ),
        )
        .await;
        ok(
            api,
            lego_body(
                "domain.zone.version.set",
                &[ls(KEY), LegoParam::I(new_zone), LegoParam::I(version)],
            ),
        )
        .await;
        // Activated in the clone, but the domain still points at its old zone.
        assert_eq!(txt(dns, name).await.0, ResponseCode::NXDomain);
        ok(
            api,
            lego_body(
                "domain.zone.set",
                &[ls(KEY), ls("stubber.chat."), LegoParam::I(new_zone)],
            ),
        )
        .await;
        assert_eq!(
            txt(dns, name).await,
            (ResponseCode::NoError, vec![token.to_owned()])
        );

        ok(
            api,
            lego_body(
                "domain.zone.set",
                &[ls(KEY), ls("stubber.chat."), LegoParam::I(zone)],
            ),
        )
        .await;
        ok(
            api,
            lego_body("domain.zone.delete", &[ls(KEY), LegoParam::I(new_zone)]),
        )
        .await;
        assert_eq!(txt(dns, name).await, (ResponseCode::NXDomain, vec![]));

        // Eight calls (the two `domain.zone.set`s included), none of them a fault.
        let faults: Vec<Option<i64>> = mock.requests().iter().map(|e| e.fault_code).collect();
        assert_eq!(faults, vec![None; 8]);
    }
}

#[tokio::test]
async fn one_secret_declared_as_v4_key_and_apikey_works_on_both_apis_each_as_its_kind() {
    // dns-lexicon's test suites give one token to both APIs.
    const BOTH: &str = "abcdefghij0123456789klmn";
    let seed = format!(
        "{SEED}\n[[credential]]\nkind = \"v4-key\"\nsecret = \"{BOTH}\"\n\
         [[credential]]\nkind = \"apikey\"\nsecret = \"{BOTH}\"\n"
    );
    let state = AppState::new(ZoneStore::new(Seed::parse(&seed).unwrap()));
    success(&call(&state, "domain.info", &[s(BOTH), s("stubber.chat")]).await);
    let livedns = |auth: (&'static str, String)| {
        Request::get("/api/v5/domains/live.example/records")
            .header("host", "dns.api.gandi.net")
            .header(auth.0, auth.1)
            .body(Body::empty())
            .unwrap()
    };
    let response = router(state.clone())
        .oneshot(livedns(("x-api-key", BOTH.to_string())))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // Declared as a v4 key only, the same call is refused by LiveDNS (as before).
    let response = router(state.clone())
        .oneshot(livedns(("x-api-key", KEY.to_string())))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // And a LiveDNS key only is still not a v4 key.
    let (code, _) = fault(
        &call(
            &state,
            "domain.info",
            &[s("zzzzzzzzzzzzzzzzzzzzzzzz"), s("stubber.chat")],
        )
        .await,
    );
    assert_eq!(code, 510150);
}
