//! The parsers a client's bytes reach, each as one plain function, and the checks the fuzz
//! targets (`mock-gandi/fuzz`) and their property-test stand-ins (`tests/hostile.rs`,
//! `tests/xmlrpc_codec.rs`) both run on arbitrary input: one place says what must hold. Not a
//! stable API; the checks panic when something does not hold, which is what a fuzzer looks
//! for, and each returns how far its input got ([`Reached`]), so that a stand-in can show that
//! well-formed input goes all the way through the check (a check that quietly returned early
//! would stop every input at [`Reached::Nothing`]).

use std::future::Future;
use std::pin::pin;
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};

use axum::body::Body;
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::dns::Transport;
use crate::state::AppState;
use crate::store::{Seed, ZoneStore};

/// The account every check's mock holds: a LiveDNS and a legacy domain with records, and a
/// credential of each kind, so that arbitrary requests reach past authentication.
pub const SEED: &str = r#"
[[domain]]
fqdn = "stubber.chat"
[[domain.record]]
name = "@"
type = "A"
values = ["192.0.2.10"]
[[domain.record]]
name = "_acme-challenge"
type = "TXT"
values = ["token"]
[[domain.record]]
name = "www"
type = "CNAME"
values = ["@"]
[[domain]]
fqdn = "legacy.example"
dns = "legacy"
[[domain.record]]
name = "mail"
type = "MX"
values = ["10 mx.legacy.example."]
[[credential]]
kind = "pat"
secret = "0123456789abcdef0123456789abcdef01234567"
[[credential]]
kind = "apikey"
secret = "0123456789abcdef01234567"
[[credential]]
kind = "v4-key"
secret = "0123456789abcdefghijklmn"
"#;

/// How far one input got through a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reached {
    /// Not even the input's kind: not UTF-8 where text is needed, a packet dropped unanswered,
    /// a proxy head cut short, parts that make no HTTP request.
    Nothing,
    /// Refused with an error answer (a 4xx or 5xx status, a DNS error code, a parse error).
    Refused,
    /// Answered as valid input is: a DNS answer from the zone (NOERROR, NXDOMAIN), a tunnel
    /// opened, a seed that started a store, a request answered below 400, an XML-RPC body
    /// that parsed and encoded again.
    Answered,
}

/// The PAT of [`SEED`].
pub const PAT: &str = "0123456789abcdef0123456789abcdef01234567";

fn seeded() -> ZoneStore {
    ZoneStore::new(Seed::parse(SEED).unwrap_or_default())
}

/// The DNS server's answer to one packet, as UDP (`tcp` false) or TCP would send it; `None`
/// when the packet is dropped (not a query with a header to answer).
pub fn dns_answer(store: &ZoneStore, packet: &[u8], tcp: bool) -> Option<Vec<u8>> {
    let transport = if tcp { Transport::Tcp } else { Transport::Udp };
    crate::dns::answer(store, packet, transport)
}

/// The proxy's answer to the bytes a client sends first: the status (200 opens the tunnel),
/// `None` when they end before a request head does.
pub fn connect_head(bytes: &[u8]) -> Option<u16> {
    // Reading from a slice never waits: one poll finishes it.
    match pin!(crate::proxy::decide(bytes)).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(status) => status,
        Poll::Pending => None,
    }
}

/// One request through the direct listener's router (`mock_gandi::router`, the Gandi APIs and
/// `/_mock`), built once by the caller: the status and
/// the body, or `None` when the parts do not make an HTTP request at all (an invalid method,
/// target or header, which hyper would refuse before any handler).
pub async fn api_request(
    router: &axum::Router,
    method: &[u8],
    target: &str,
    headers: &[(Vec<u8>, Vec<u8>)],
    body: Vec<u8>,
) -> Option<(u16, Vec<u8>)> {
    let mut builder = http::Request::builder()
        .method(http::Method::from_bytes(method).ok()?)
        .uri(target.parse::<http::Uri>().ok()?);
    for (name, value) in headers {
        builder = builder.header(
            http::HeaderName::from_bytes(name).ok()?,
            http::HeaderValue::from_bytes(value).ok()?,
        );
    }
    let request = builder.body(Body::from(body)).ok()?;
    let response = router.clone().oneshot(request).await.ok()?;
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .ok()?
        .to_bytes()
        .to_vec();
    Some((status, body))
}

/// Arbitrary bytes as a DNS packet, over UDP and over TCP: answered with a message that
/// decodes, carries the question's id and is a response, or dropped; never a panic. Reached:
/// the lesser of the two transports.
pub fn check_dns(data: &[u8]) -> Reached {
    static STORE: OnceLock<ZoneStore> = OnceLock::new();
    let store = STORE.get_or_init(seeded);
    let mut reached = Reached::Answered;
    for tcp in [false, true] {
        let Some(answer) = dns_answer(store, data, tcp) else {
            reached = Reached::Nothing;
            continue;
        };
        let message = hickory_proto::op::Message::from_vec(&answer)
            .unwrap_or_else(|e| panic!("the answer to {data:?} does not decode: {e}"));
        assert_eq!(answer.get(..2), data.get(..2), "the answer carries the id");
        assert_eq!(
            message.metadata.message_type,
            hickory_proto::op::MessageType::Response
        );
        assert!(answer.len() <= usize::from(u16::MAX));
        use hickory_proto::op::ResponseCode;
        if !matches!(
            message.metadata.response_code,
            ResponseCode::NoError | ResponseCode::NXDomain
        ) {
            reached = reached.min(Reached::Refused);
        }
    }
    reached
}

/// Arbitrary bytes as the first thing a client sends the proxy: the tunnel opens (200) only
/// for a CONNECT naming a Gandi host; anything else is refused with a 4xx (505 for an HTTP
/// version the proxy does not speak, `HTTP/1.2`); never a panic.
pub fn check_connect_head(data: &[u8]) -> Reached {
    let Some(status) = connect_head(data) else {
        return Reached::Nothing;
    };
    assert!(
        status == 200 || (400..500).contains(&status) || status == 505,
        "status {status}"
    );
    if status != 200 {
        return Reached::Refused;
    }
    let text = String::from_utf8_lossy(data).to_ascii_lowercase();
    assert!(text.starts_with("connect "), "opened for {text:?}");
    assert!(text.contains("gandi.net"), "opened for {text:?}");
    Reached::Answered
}

/// Arbitrary text as a seed (TOML, or JSON with a leading `{`): refused with an error that
/// says something, or accepted, and then a store starts from it and its state renders as
/// JSON.
pub fn check_seed(data: &[u8]) -> Reached {
    let Ok(text) = std::str::from_utf8(data) else {
        return Reached::Nothing;
    };
    let seed = match Seed::parse(text) {
        Ok(seed) => seed,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return Reached::Refused;
        }
    };
    if seed.check().is_err() {
        return Reached::Refused;
    }
    let store = ZoneStore::new(seed);
    let state: Vec<u8> = store.snapshot_json().flatten().collect();
    if let Err(e) = serde_json::from_slice::<serde_json::Value>(&state) {
        let state = String::from_utf8_lossy(&state);
        panic!("the state of {text:?} is not JSON ({e}): {state}");
    }
    Reached::Answered
}

/// Arbitrary bytes as an XML-RPC body, as a method call and as a method response: the parser
/// returns (a value or a typed error), never panics, and a call it accepts encodes to a body
/// it accepts again, as the same call when nothing in it is lost to the encoding (a NaN, a
/// carriage return or another control character in a string).
pub fn check_xmlrpc(data: &[u8]) -> Reached {
    use crate::xmlrpc::{encode_method_call, parse_method_call, parse_method_response};
    let _ = parse_method_response(data);
    let Ok(call) = parse_method_call(data) else {
        return Reached::Refused;
    };
    let again = encode_method_call(&call.method_name, &call.params);
    let reparsed = parse_method_call(again.as_bytes());
    let lossless =
        call.params.iter().all(|p| !encodes_lossily(p)) && !call.method_name.contains('\r');
    if lossless {
        assert_eq!(reparsed, Ok(call), "re-encoded as {again}");
    } else {
        assert!(reparsed.is_ok(), "re-encoded as {again}: {reparsed:?}");
    }
    Reached::Answered
}

/// A value the XML-RPC encoding cannot carry as it is: a NaN, or a string or member name with
/// a carriage return or another control character (XML normalizes or refuses them).
fn encodes_lossily(v: &crate::xmlrpc::Value) -> bool {
    use crate::xmlrpc::Value;
    let control = |s: &str| s.chars().any(|c| c.is_control() && c != '\t' && c != '\n');
    match v {
        Value::Double(d) => d.is_nan(),
        Value::String(s) | Value::DateTime(s) => s.contains('\r') || control(s),
        Value::Array(items) => items.iter().any(encodes_lossily),
        Value::Struct(members) => members
            .iter()
            .any(|(k, v)| control(k) || encodes_lossily(v)),
        _ => false,
    }
}

const METHODS: [&[u8]; 8] = [
    b"GET",
    b"PUT",
    b"POST",
    b"DELETE",
    b"PATCH",
    b"HEAD",
    b"OPTIONS",
    b"PROPFIND",
];
const PREFIXES: [&str; 4] = ["/v5/livedns/", "/api/v5/", "/xmlrpc/", "/_mock/"];

/// Arbitrary bytes as a request through the direct listener's router (every LiveDNS path,
/// query, header and JSON body extractor, the v4 endpoint, the admin API): answered with a
/// status, never a panic. Input: one byte of choices (bit 0 a valid PAT, bit 1 a JSON content
/// type, bits 2-4 the method, bits 5-6 the API prefix, bit 7 a reset of the store first), the
/// rest of the path up to a newline, `name: value` header lines up to an empty line, the body.
///
/// Panics when its runtime cannot be built: a check that cannot run must not pass.
pub fn check_api(data: &[u8]) -> Reached {
    static ENV: OnceLock<(tokio::runtime::Runtime, AppState, axum::Router)> = OnceLock::new();
    let (runtime, state, router) = ENV.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("check_api cannot build its runtime: {e}"));
        let state = AppState::new(seeded());
        let router = crate::server::router(state.clone());
        (runtime, state, router)
    });
    let Some((&choices, rest)) = data.split_first() else {
        return Reached::Nothing;
    };
    let (path, rest) = match rest.iter().position(|&b| b == b'\n') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    let mut headers = Vec::new();
    let mut body = rest;
    while let Some(i) = body.iter().position(|&b| b == b'\n') {
        let line = &body[..i];
        body = &body[i + 1..];
        if line.is_empty() {
            break;
        }
        if let Some(colon) = line.iter().position(|&b| b == b':') {
            headers.push((
                line[..colon].to_vec(),
                line[colon + 1..].trim_ascii().to_vec(),
            ));
        }
    }
    if choices & 1 != 0 {
        headers.push((
            b"authorization".to_vec(),
            format!("Bearer {PAT}").into_bytes(),
        ));
    }
    if choices & 2 != 0 {
        headers.push((b"content-type".to_vec(), b"application/json".to_vec()));
    }
    let method = METHODS[usize::from((choices >> 2) & 7)];
    let prefix = PREFIXES[usize::from((choices >> 5) & 3)];
    let target = format!("{prefix}{}", String::from_utf8_lossy(path));
    // The journal would grow with every input.
    state.journal.clear_requests();
    if choices & 0x80 != 0 {
        state.store.reset();
    }
    let answer = runtime.block_on(api_request(
        router,
        method,
        &target,
        &headers,
        body.to_vec(),
    ));
    let Some((status, _)) = answer else {
        return Reached::Nothing;
    };
    assert!((100..600).contains(&status), "status {status}");
    if status < 400 {
        Reached::Answered
    } else {
        Reached::Refused
    }
}
