//! Fault rules through the router: which requests they take (count, method, path, XML-RPC
//! method), what they answer (Gandi's body for a status, an XML-RPC fault or result, a delay),
//! whether the change was made (`apply`), the journal naming the rule, and a bad rule refused
//! with its line and key.

mod common;

use std::time::{Duration, Instant};

use common::*;
use mock_gandi::Seed;
use mock_gandi::xmlrpc::{MethodResponse, Value, encode_method_call, parse_method_response};

const V4KEY_SEED: &str = "abcdefghijklmnopqrstuv12";

fn api(faults: &str) -> Api {
    Api::with_seed(&format!("{SEED}\n{faults}"))
}

async fn xmlrpc(api: &Api, method: &str, params: &[Value]) -> MethodResponse {
    let reply = api
        .send(
            "POST",
            "/xmlrpc/",
            &[("host", "rpc.gandi.net"), ("content-type", "text/xml")],
            encode_method_call(method, params),
        )
        .await;
    assert_eq!(reply.status, 200);
    parse_method_response(&reply.body).unwrap()
}

const PUT: &str = "/domains/stubber.chat/records/_acme-challenge/TXT";
const BODY: &str = r#"{"rrset_ttl":300,"rrset_values":["tok"]}"#;

#[tokio::test]
async fn the_first_put_gets_gandi_s_502_and_the_next_goes_through() {
    let api = api(r#"
[[fault]]
api = "livedns"
method = "put"
path = "/v5/livedns/domains/*/records/_acme-challenge/TXT"
first = 1
status = 502
"#);
    let first = api.pat("PUT", PUT, BODY).await;
    assert_eq!(first.status, 502);
    assert_eq!(
        first.text(),
        r#"{"code": 502, "message": "Bad Gateway", "object": "HTTPBadGateway", "cause": "Bad Gateway"}"#
    );
    // apply = "never" (the default): nothing was written.
    assert_eq!(
        api.pat("GET", PUT, "").await.json()["rrset_values"],
        serde_json::json!(["\"token1\""])
    );
    let second = api.pat("PUT", PUT, BODY).await;
    assert_eq!(second.status, 201);
    // A GET matches no rule.
    let journal = api.state.journal.requests();
    let faults: Vec<_> = journal
        .iter()
        .map(|r| (r.method.as_str(), r.status, r.fault))
        .collect();
    assert_eq!(
        faults,
        vec![
            ("PUT", 502, Some(1)),
            ("GET", 200, None),
            ("PUT", 201, None)
        ]
    );
}

#[tokio::test]
async fn apply_before_makes_the_change_then_answers_the_fault() {
    let api = api(r#"
[[fault]]
path = "/v5/livedns/domains/stubber.chat/records/*"
method = "PUT"
status = 504
apply = "before"
"#);
    let reply = api.pat("PUT", PUT, BODY).await;
    assert_eq!(reply.status, 504);
    // The backend did it: the rrset is written, as when a gateway times out behind it.
    let after = api
        .send(
            "GET",
            &format!("/v5/livedns{PUT}"),
            &[("authorization", &format!("Bearer {PAT}"))],
            "",
        )
        .await;
    assert_eq!(after.json()["rrset_values"], serde_json::json!(["\"tok\""]));
}

#[tokio::test]
async fn the_nth_xmlrpc_call_gets_a_fault_and_a_result_can_be_scripted() {
    let api = api(r#"
[[fault]]
xmlrpc_method = "domain.info"
nth = 2
xmlrpc_fault = { code = 510150 }

[[fault]]
xmlrpc_method = "domain.zone.set"
xmlrpc_result = { zone_id = 4242, fqdn = "legacy.example" }
"#);
    let params = [Value::string(V4KEY_SEED), Value::string("legacy.example.")];
    let info = || xmlrpc(&api, "domain.info", &params);
    assert!(matches!(info().await, MethodResponse::Success(_)));
    match info().await {
        MethodResponse::Fault { code, message } => {
            assert_eq!(code, 510150);
            assert!(
                message.contains("Invalid API key"),
                "the catalogue's text: {message}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(info().await, MethodResponse::Success(_)),
        "nth = 2 only"
    );
    match xmlrpc(
        &api,
        "domain.zone.set",
        &[
            Value::string(V4KEY_SEED),
            Value::string("legacy.example."),
            Value::Int(1),
        ],
    )
    .await
    {
        MethodResponse::Success(v) => assert_eq!(v.member("zone_id"), Some(&Value::Int(4242))),
        other => panic!("{other:?}"),
    }
    let journal = api.state.journal.requests();
    let seen: Vec<_> = journal
        .iter()
        .map(|r| {
            (
                r.xmlrpc_method.as_deref().unwrap_or(""),
                r.fault_code,
                r.fault,
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("domain.info", None, None),
            ("domain.info", Some(510150), Some(1)),
            ("domain.info", None, None),
            ("domain.zone.set", None, Some(2)),
        ]
    );
}

#[tokio::test]
async fn a_delay_is_waited_before_the_usual_answer() {
    let api = api(r#"
[[fault]]
api = "livedns"
method = "GET"
delay_ms = 300
"#);
    let started = Instant::now();
    let reply = api.pat("GET", PUT, "").await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(reply.status, 200);
}

/// A PUT that a rule (with `apply`) holds for 5 s, and that the client leaves after 100 ms.
async fn put_left_during_a_delay(apply: &str) -> Api {
    let api = api(&format!(
        "[[fault]]\napi = \"livedns\"\nmethod = \"PUT\"\ndelay_ms = 5000\nstatus = 504\napply = \"{apply}\"\n"
    ));
    let gave_up = tokio::time::timeout(Duration::from_millis(100), api.pat("PUT", PUT, BODY)).await;
    assert!(gave_up.is_err());
    api
}

#[tokio::test]
async fn a_request_the_client_leaves_during_a_delay_is_journaled_as_abandoned() {
    let api = put_left_during_a_delay("never").await;
    let journal = api.state.journal.requests();
    assert_eq!(journal.len(), 1, "{journal:?}");
    let entry = &journal[0];
    assert!(entry.abandoned);
    assert_eq!(
        (entry.method.as_str(), entry.status, entry.fault),
        ("PUT", 0, Some(1))
    );
    // Nothing was written.
    assert_eq!(
        api.pat("GET", PUT, "").await.json()["rrset_values"],
        serde_json::json!(["\"token1\""])
    );
    let listed = serde_json::to_value(&api.state.journal.requests()[0]).unwrap();
    assert_eq!(listed["abandoned"], true);
    assert_eq!(listed["status"], 0);
}

#[tokio::test]
async fn with_apply_before_the_change_is_made_at_once_and_the_answer_is_late() {
    let api = put_left_during_a_delay("before").await;
    // The client left without an answer, but the backend had written the record.
    assert_eq!(
        api.pat("GET", PUT, "").await.json()["rrset_values"],
        serde_json::json!(["\"tok\""])
    );
    assert!(api.state.journal.requests()[0].abandoned);
}

#[test]
fn a_bad_rule_is_refused_with_its_line_and_key() {
    for (rule, key) in [
        ("status = 418", "status"),
        ("status = 502\nxmlrpc_fault = { code = 1 }", "status"),
        ("nth = 0\nstatus = 502", "nth"),
        ("nth = 1\nfirst = 2\nstatus = 502", "nth"),
        ("api = \"livedns\"\nxmlrpc_fault = { code = 1 }", "api"),
        ("path = \"/x\"", "status"),
        ("retries = 3\nstatus = 502", "retries"),
    ] {
        let text =
            format!("[[credential]]\nkind = \"pat\"\nsecret = \"p1234567\"\n\n[[fault]]\n{rule}\n");
        let e = Seed::from_toml(&text).unwrap_err().to_string();
        assert!(
            e.contains("line 5") || e.contains("line 6") || e.contains("line 7"),
            "{rule}: {e}"
        );
        assert!(e.contains(key), "{rule}: {e}");
    }
}
