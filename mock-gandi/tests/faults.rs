//! Fault rules through the router: which requests they take (count, method, path, XML-RPC
//! method), what they answer (Gandi's body for a status, an XML-RPC fault or result, a delay),
//! whether the change was made (`apply`), the journal naming the rule, and a bad rule refused
//! with its line and key; over real sockets, connections cut before or in the middle of the
//! answer and requests never answered; the rate limit; rules armed through the admin API.

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
times = 1
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
        ("nth = 1\ntimes = 2\nstatus = 502", "nth"),
        ("probability = 0.5\nfrom = 2\nstatus = 502", "nth"),
        ("probability = 1.5\nstatus = 502", "probability"),
        ("seed = 3\nstatus = 502", "seed"),
        (
            "xmlrpc_fault = { code = 1 }\nretry_after = 3",
            "retry_after",
        ),
        ("close = \"mid-body\"\napply = \"never\"", "apply"),
        ("close = \"sideways\"", "close"),
        ("close = \"before\"\nhang = true", "status"),
        ("api = \"livedns\"\nxmlrpc_fault = { code = 1 }", "api"),
        ("path = \"/x\"", "status"),
        ("retries = 3\nstatus = 502", "retries"),
        ("status = 99\nbody = \"x\"", "status"),
        ("status = 600\nbody = \"x\"", "status"),
        ("status = 101\nbody = \"x\"", "status"),
        ("status = 204\nbody = \"x\"", "body"),
        ("body = \"x\"", "body"),
        (
            "status = 422\ncontent_type = \"text/plain\"",
            "content_type",
        ),
        ("status = 502\ngateway = \"html\"\nbody = \"x\"", "gateway"),
        ("status = 502\ngateway = \"xml\"", "gateway"),
        ("close = \"before\"\nstatus = 422\nbody = \"x\"", "status"),
        (
            "status = 422\nbody = \"x\"\ncontent_type = \"a\\nb\"",
            "content_type",
        ),
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

#[tokio::test]
async fn a_probability_fires_the_same_requests_in_every_run() {
    let rules = "[[fault]]\nmethod = \"GET\"\nprobability = 0.3\nseed = 42\nstatus = 503\nretry_after = 7\n";
    let mut runs = Vec::new();
    for _ in 0..2 {
        let api = api(rules);
        let mut statuses = Vec::new();
        for _ in 0..40 {
            let reply = api.pat("GET", PUT, "").await;
            if reply.status == 503 {
                assert_eq!(reply.header("retry-after"), Some("7"));
            }
            statuses.push(reply.status);
        }
        let fired: Vec<Option<u32>> = api
            .state
            .journal
            .requests()
            .iter()
            .map(|r| r.fault)
            .collect();
        assert_eq!(
            fired.iter().filter(|f| f.is_some()).count(),
            statuses.iter().filter(|s| **s == 503).count()
        );
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1], "the same seed fires the same requests");
    let fired = runs[0].iter().filter(|s| **s == 503).count();
    assert!((4..=20).contains(&fired), "{fired} of 40 at 0.3");
}

#[tokio::test]
async fn the_rate_limit_answers_429_with_retry_after_and_journals_it() {
    let api = api("[rate_limit]\nrequests = 2\nwindow_seconds = 30\n");
    assert_eq!(api.pat("GET", PUT, "").await.status, 200);
    assert_eq!(api.pat("PUT", PUT, BODY).await.status, 201);
    let limited = api.pat("PUT", PUT, r#"{"rrset_values":["other"]}"#).await;
    assert_eq!(limited.status, 429);
    assert_eq!(
        limited.text(),
        r#"{"code": 429, "message": "Too many requests, the limit is 1000 requests per minute.", "object": "HTTPTooManyRequests", "cause": "Too Many Requests"}"#
    );
    let wait: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=30).contains(&wait), "{wait}");
    // Refused, so not written; the admin API is not counted.
    let state = api.send("GET", "/_mock/state", &[], "").await;
    assert_eq!(state.status, 200);
    let journal = api.state.journal.requests();
    assert_eq!(
        journal
            .iter()
            .map(|r| (r.status, r.rate_limited))
            .collect::<Vec<_>>(),
        vec![(200, false), (201, false), (429, true)]
    );
    let listed = serde_json::to_value(&journal[2]).unwrap();
    assert_eq!(listed["rate_limited"], true);
}

#[tokio::test]
async fn rules_are_armed_listed_and_disarmed_through_the_admin_api() {
    let api = Api::new();
    let armed = api
        .send(
            "POST",
            "/_mock/faults",
            &[],
            r#"{"method": "PUT", "path": "/v5/livedns/*", "times": 1, "status": 429, "retry_after": 30}"#,
        )
        .await;
    assert_eq!(armed.status, 201, "{}", armed.text());
    assert_eq!(armed.json()["numbers"], serde_json::json!([1]));
    let toml = "[[fault]]\nxmlrpc_method = \"domain.info\"\nxmlrpc_fault = { code = 510150 }\n";
    let second = api.send("POST", "/_mock/faults", &[], toml).await;
    assert_eq!(second.json()["numbers"], serde_json::json!([2]));
    let first = api.pat("PUT", PUT, BODY).await;
    assert_eq!(
        (first.status, first.header("retry-after")),
        (429, Some("30"))
    );
    assert_eq!(api.pat("PUT", PUT, BODY).await.status, 201);
    let listed = api.send("GET", "/_mock/faults", &[], "").await.json();
    assert_eq!(
        listed[0],
        serde_json::json!({
            "number": 1,
            "rule": {"method": "PUT", "path": "/v5/livedns/*", "times": 1, "status": 429,
                     "retry_after": 30, "apply": "never"},
            "matched": 2,
            "fired": 1
        })
    );
    assert_eq!(listed[1]["rule"]["xmlrpc_fault"]["code"], 510150);
    // A listed rule is accepted back as it is.
    let again = api
        .send("POST", "/_mock/faults", &[], listed[0]["rule"].to_string())
        .await;
    assert_eq!(again.json()["numbers"], serde_json::json!([3]));
    let bad = api
        .send("POST", "/_mock/faults", &[], r#"{"status": 418}"#)
        .await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.json()["error"].as_str().unwrap().contains("status"),
        "{}",
        bad.text()
    );
    let seedish = api
        .send(
            "POST",
            "/_mock/faults",
            &[],
            "[[domain]]\nfqdn = \"x.example\"\n",
        )
        .await;
    assert_eq!(seedish.status, 400);
    assert_eq!(
        api.send("DELETE", "/_mock/faults", &[], "").await.status,
        204
    );
    assert_eq!(
        api.send("GET", "/_mock/faults", &[], "").await.json(),
        serde_json::json!([])
    );
    assert_eq!(api.pat("PUT", PUT, BODY).await.status, 201);
}

/// A real mock and a raw HTTP/1.1 exchange: what bytes arrive before the connection ends.
async fn raw_exchange(rules: &str, wait: Duration) -> (mock_gandi::MockGandi, Vec<u8>, bool) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mock = mock_gandi::MockGandi::builder()
        .seed_text(&format!("{SEED}\n{rules}"))
        .unwrap()
        .start()
        .await
        .unwrap();
    let mut socket = tokio::net::TcpStream::connect(mock.api_addr())
        .await
        .unwrap();
    let request = format!(
        "PUT /v5/livedns{PUT} HTTP/1.1\r\nhost: api.gandi.net\r\nauthorization: Bearer {PAT}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{BODY}",
        BODY.len()
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let ended = tokio::time::timeout(wait, socket.read_to_end(&mut received))
        .await
        .is_ok();
    (mock, received, ended)
}

async fn txt_now(mock: &mock_gandi::MockGandi) -> serde_json::Value {
    let zone = mock
        .store()
        .zone_for(&mock_gandi::store::Fqdn::parse("stubber.chat").unwrap())
        .unwrap();
    serde_json::json!(
        zone.rrsets()
            .filter(|r| r.name.to_string() == "_acme-challenge")
            .flat_map(|r| r.values.clone())
            .collect::<Vec<_>>()
    )
}

#[tokio::test]
async fn close_before_ends_the_connection_without_a_byte_and_changes_nothing() {
    let (mock, received, ended) = raw_exchange(
        "[[fault]]\nmethod = \"PUT\"\nclose = \"before\"\n",
        Duration::from_secs(5),
    )
    .await;
    assert!(ended, "the connection was closed");
    assert!(
        received.is_empty(),
        "{}",
        String::from_utf8_lossy(&received)
    );
    assert_eq!(txt_now(&mock).await, serde_json::json!(["\"token1\""]));
    let entry = &mock.requests()[0];
    assert_eq!(
        (entry.status, entry.closed, entry.fault),
        (0, Some(mock_gandi::store::CloseAt::Before), Some(1))
    );
}

#[tokio::test]
async fn close_mid_body_sends_half_the_answer_and_the_change_is_made() {
    let (mock, received, ended) = raw_exchange(
        "[[fault]]\nmethod = \"PUT\"\nclose = \"mid-body\"\n",
        Duration::from_secs(5),
    )
    .await;
    assert!(ended, "the connection was closed");
    let text = String::from_utf8_lossy(&received).to_string();
    let (head, body) = text.split_once("\r\n\r\n").expect("a head was sent");
    assert!(head.starts_with("HTTP/1.1 201 "), "{head}");
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(str::to_string)
        })
        .expect("a content-length")
        .parse()
        .unwrap();
    assert!(
        !body.is_empty() && body.len() < length,
        "{} of {length}: {body}",
        body.len()
    );
    assert_eq!(txt_now(&mock).await, serde_json::json!(["\"tok\""]));
    let entry = &mock.requests()[0];
    assert_eq!(
        (entry.status, entry.closed),
        (201, Some(mock_gandi::store::CloseAt::MidBody))
    );
}

#[tokio::test]
async fn hang_never_answers_and_the_client_that_leaves_is_journaled() {
    let (mock, received, ended) = raw_exchange(
        "[[fault]]\nmethod = \"PUT\"\nhang = true\n",
        Duration::from_millis(700),
    )
    .await;
    assert!(
        !ended && received.is_empty(),
        "{}",
        String::from_utf8_lossy(&received)
    );
    // The socket is gone (dropped with the exchange): the request is journaled as abandoned.
    let deadline = Instant::now() + Duration::from_secs(5);
    while mock.requests().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let entry = &mock.requests()[0];
    assert!(entry.abandoned && entry.fault == Some(1), "{entry:?}");
    assert_eq!(txt_now(&mock).await, serde_json::json!(["\"token1\""]));
}

#[tokio::test]
async fn a_rule_can_take_only_the_requests_of_one_credential() {
    let other = PAT_ACME;
    let api = api(&format!(
        "[[fault]]\ncredential = \"{PAT}\"\nstatus = 503\nretry_after = 5\n\n\
         [[fault]]\nxmlrpc_method = \"domain.info\"\ncredential = \"{V4KEY_SEED}\"\n\
         xmlrpc_fault = {{ code = 510150 }}\n"
    ));
    // The PAT's requests (Bearer) are taken; another credential's are not.
    assert_eq!(api.pat("GET", PUT, "").await.status, 503);
    let acme = api
        .send(
            "GET",
            "/v5/livedns/domains/acme.example/records",
            &[("authorization", &format!("Bearer {other}"))],
            "",
        )
        .await;
    assert_eq!(acme.status, 200, "{}", acme.text());
    // The v4 key is the call's first parameter.
    let info = xmlrpc(
        &api,
        "domain.info",
        &[Value::string(V4KEY_SEED), Value::string("legacy.example.")],
    )
    .await;
    assert!(
        matches!(info, MethodResponse::Fault { code: 510150, .. }),
        "{info:?}"
    );
    let listed = api.send("GET", "/_mock/faults", &[], "").await.text();
    assert!(
        !listed.contains(PAT) && !listed.contains(V4KEY_SEED),
        "{listed}"
    );
}

/// The status line, the content type and the body of one request over a real socket.
fn raw_answer(
    api: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (String, String, String) {
    use std::io::{Read, Write};
    let addr = api.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: 0\r\n"
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap();
    let status = head.lines().next().unwrap().to_string();
    let content_type = head
        .lines()
        .find_map(|l| l.strip_prefix("content-type: "))
        .unwrap_or_default()
        .to_string();
    (status, content_type, body.to_string())
}

#[test]
fn a_rule_answers_any_status_with_its_own_body_or_the_front_end_s_page_over_sockets() {
    let mock = mock_gandi::MockGandi::builder()
        .seed_text(&format!(
            "{SEED}\n{}",
            r#"
[[fault]]
path = "/v5/livedns/domains/stubber.chat/records"
status = 400
body = '{"code": 400}'

[[fault]]
path = "/v5/livedns/domains/stubber.chat"
status = 403
body = "Forbidden, and not JSON"

[[fault]]
path = "/v5/livedns/domains"
status = 422
body = '{"message": "Unprocessable"}'
content_type = "application/problem+json"

[[fault]]
path = "/api/v5/domains"
status = 504
gateway = "html"
retry_after = 7
"#
        ))
        .unwrap()
        .start_blocking()
        .unwrap();
    let api = mock.api_url();
    let auth = [(
        "authorization",
        "Bearer 0123456789abcdef0123456789abcdef01234567",
    )];
    let (status, content_type, body) = raw_answer(
        &api,
        "GET",
        "/v5/livedns/domains/stubber.chat/records",
        &auth,
    );
    assert_eq!(status, "HTTP/1.1 400 Bad Request");
    assert_eq!(
        content_type, "application/json",
        "JSON bodies are said to be JSON"
    );
    assert_eq!(
        body, r#"{"code": 400}"#,
        "a 400 without a message, as a report saw it"
    );

    let (status, content_type, body) =
        raw_answer(&api, "GET", "/v5/livedns/domains/stubber.chat", &auth);
    assert_eq!(status, "HTTP/1.1 403 Forbidden");
    assert_eq!(content_type, "text/plain; charset=utf-8");
    assert_eq!(body, "Forbidden, and not JSON");

    let (status, content_type, body) = raw_answer(&api, "GET", "/v5/livedns/domains", &auth);
    assert_eq!(status, "HTTP/1.1 422 Unprocessable Entity");
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(body, r#"{"message": "Unprocessable"}"#);

    let (status, content_type, body) = raw_answer(&api, "GET", "/api/v5/domains", &[]);
    assert_eq!(status, "HTTP/1.1 504 Gateway Timeout");
    assert_eq!(content_type, "text/html");
    assert!(
        body.contains("<title>504 Gateway Timeout</title>"),
        "{body}"
    );
    assert!(body.contains("<center>nginx</center>"), "{body}");
    // The journal names what was answered.
    let statuses: Vec<u16> = mock.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [400, 403, 422, 504]);
}
