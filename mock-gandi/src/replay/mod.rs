//! `mock-gandi replay`: recorded exchanges with the real Gandi, replayed against a fresh mock,
//! each answer compared with the recorded one.
//!
//! - `formats`: vcrpy cassettes, HAR and JSON lines into one [`Exchange`] list.
//! - `implied`: the seed a recording implies (its domains, the records it found already there).
//! - `compare`: JSON and XML-RPC comparison, with the account's ids mapped.
//! - `accepted`: the known, accepted differences, each with its reason.
//!
//! Requests are served in process by the same router the proxy serves, marked as arriving over
//! TLS when the recorded URL was `https://` (so hrefs and `Location` say `https://` as Gandi's
//! did). Credentials were filtered out of recordings: each request presents a credential the
//! seed holds, of the kind it used, unless the recorded answer was an authentication failure,
//! in which case the recorded credential is sent as it is.

mod accepted;
mod compare;
mod formats;
mod implied;

use std::path::Path;

use axum::body::Body;
use http_body_util::BodyExt;
use serde_json::Value as Json;
use tower::ServiceExt;

use crate::state::{AppState, Proxied};
use crate::store::{Seed, ZoneStore};
use crate::xmlrpc::{
    MethodResponse, Value, encode_fault, encode_method_call, parse_method_call,
    parse_method_response,
};

pub use accepted::{Accepted, Rule};
pub use compare::Ids;
pub(crate) use formats::header_pairs;
pub use formats::{Exchange, cassette, har, jsonl, load};
pub use implied::implied_seed;

/// The credentials every replay's seed holds, one per kind.
pub const APIKEY: &str = "replayedapikey0000000000";
pub const PAT: &str = "pat-replayed-0000000000000000000000000000";
pub const V4_KEY: &str = "replayedv4key00000000000";

/// The headers whose differences matter to a client; the rest (dates, caches, servers) are
/// the transport's.
pub const COMPARED_HEADERS: &[&str] = &["content-type", "location", "retry-after", "allow"];

/// One exchange's outcome.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// Its place in the recording, from 0.
    pub index: usize,
    /// `GET /v5/livedns/domains/x` or `xmlrpc domain.info`.
    pub request: String,
    /// What differs and is not accepted.
    pub differences: Vec<String>,
    /// What differs and is accepted, with the reason.
    pub accepted: Vec<(String, String)>,
}

impl Verdict {
    pub fn same(&self) -> bool {
        self.differences.is_empty()
    }
}

/// A whole recording's outcome.
#[derive(Debug, Clone)]
pub struct Replayed {
    pub file: String,
    /// What the recording implied and could not be seeded (a record the seed refuses).
    pub notes: Vec<String>,
    pub verdicts: Vec<Verdict>,
}

impl Replayed {
    pub fn same(&self) -> usize {
        self.verdicts.iter().filter(|v| v.same()).count()
    }

    pub fn different(&self) -> usize {
        self.verdicts.len() - self.same()
    }

    /// The report as `mock-gandi replay` prints it.
    pub fn render(&self) -> String {
        let mut out = format!("{}\n", self.file);
        for note in &self.notes {
            out.push_str(&format!("  note: {note}\n"));
        }
        for v in &self.verdicts {
            let word = if v.same() { "same" } else { "different" };
            out.push_str(&format!("  #{} {}: {word}\n", v.index, v.request));
            for d in &v.differences {
                out.push_str(&format!("      {d}\n"));
            }
            for (d, reason) in &v.accepted {
                out.push_str(&format!("      accepted: {d} ({reason})\n"));
            }
        }
        out
    }
}

/// Reads `path` and replays it against a fresh mock.
pub async fn replay_file(path: &Path, accepted: &Accepted) -> Result<Replayed, String> {
    let exchanges = load(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(replay(&path.display().to_string(), &exchanges, accepted).await)
}

/// Replays `exchanges` in order against a mock seeded with what they imply.
pub async fn replay(file: &str, exchanges: &[Exchange], accepted: &Accepted) -> Replayed {
    let (seed, mut notes) = implied_seed(exchanges);
    let seed = Seed::parse(&seed.to_string()).unwrap_or_else(|e| {
        notes.push(format!(
            "the implied seed was refused, replaying on an empty one: {e}"
        ));
        Seed::default()
    });
    let router = crate::server::gandi_router(AppState::new(ZoneStore::new(seed)));
    let mut ids = Ids::default();
    let mut verdicts = Vec::with_capacity(exchanges.len());
    for (index, exchange) in exchanges.iter().enumerate() {
        let (request, label, call) = build(exchange, &ids);
        // A path on a Gandi host that does not serve it is answered as the proxy answers it.
        let wrong_host = crate::proxy_hosts::host_named(exchange.host())
            .is_some_and(|host| !host.serves(exchange.path()));
        let answered = if wrong_host {
            let (method, uri) = (request.method().clone(), request.uri().clone());
            Ok(crate::livedns::unknown_route(method, uri).await)
        } else {
            router.clone().oneshot(request).await
        };
        let (status, headers, body) = match answered {
            Ok(response) => {
                let status = response.status().as_u16();
                let headers = header_pairs(response.headers());
                let body = match response.into_body().collect().await {
                    Ok(b) => String::from_utf8_lossy(&b.to_bytes()).into_owned(),
                    Err(e) => format!("(the body could not be read: {e})"),
                };
                (status, headers, body)
            }
            Err(never) => match never {},
        };
        let mut differences = Vec::new();
        if status != exchange.status {
            differences.push(format!(
                "status: recorded {}, mock {status}",
                exchange.status
            ));
        }
        for name in COMPARED_HEADERS {
            let mock = headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str());
            let recorded = exchange.response_header(name);
            if mock != recorded {
                differences.push(format!(
                    "header {name}: recorded {}, mock {}",
                    shown(recorded),
                    shown(mock)
                ));
            }
        }
        match &call {
            Some(method) => xmlrpc_body(method, exchange, &body, &mut ids, &mut differences),
            None => body_of(&exchange.response_body, &body, &mut differences),
        }
        let mut verdict = Verdict {
            index,
            request: label,
            differences: Vec::new(),
            accepted: Vec::new(),
        };
        for d in differences {
            match accepted.reason(file, &verdict.request, &d) {
                Some(reason) => verdict.accepted.push((d, reason.to_string())),
                None => verdict.differences.push(d),
            }
        }
        verdicts.push(verdict);
    }
    Replayed {
        file: file.to_string(),
        notes,
        verdicts,
    }
}

fn shown(v: Option<&str>) -> String {
    v.map_or_else(|| "none".to_string(), |v| format!("{v:?}"))
}

/// Whether a recorded answer is an authentication failure (then the recorded credential is
/// what the replay must send).
fn auth_failure(exchange: &Exchange) -> bool {
    if matches!(exchange.status, 401 | 403) {
        return true;
    }
    matches!(
        parse_method_response(exchange.response_body.as_bytes()),
        Ok(MethodResponse::Fault {
            code: 500037 | 510150,
            ..
        })
    )
}

/// The request the mock gets, its label, and the XML-RPC method when it is a v4 call.
fn build(exchange: &Exchange, ids: &Ids) -> (http::Request<Body>, String, Option<String>) {
    let keep_credential = auth_failure(exchange);
    let mut builder = http::Request::builder()
        .method(exchange.method.as_str())
        .uri(exchange.path_and_query())
        .header(http::header::HOST, exchange.host());
    for (name, value) in &exchange.headers {
        let lower = name.to_ascii_lowercase();
        let skipped = matches!(
            lower.as_str(),
            "host" | "content-length" | "accept-encoding" | "connection" | "transfer-encoding"
        );
        let credential = matches!(lower.as_str(), "authorization" | "x-api-key");
        if skipped || (credential && !keep_credential) {
            continue;
        }
        builder = builder.header(name.as_str(), value.as_str());
    }
    let path = exchange.path();
    let mut call = None;
    let mut body = exchange.body.clone();
    if path.starts_with("/xmlrpc") {
        if let Ok(recorded) = parse_method_call(exchange.body.as_bytes()) {
            let mut params: Vec<Value> = recorded.params.iter().map(|p| ids.rewrite(p)).collect();
            if !keep_credential && !params.is_empty() {
                params[0] = Value::string(V4_KEY);
            }
            body = encode_method_call(&recorded.method_name, &params);
            call = Some(recorded.method_name);
        }
    } else if !keep_credential {
        let recorded = exchange
            .header("authorization")
            .unwrap_or_default()
            .to_ascii_lowercase();
        builder = if path.starts_with("/api/v5") {
            builder.header("x-api-key", APIKEY)
        } else if recorded.starts_with("bearer") {
            builder.header("authorization", format!("Bearer {PAT}"))
        } else {
            builder.header("authorization", format!("Apikey {APIKEY}"))
        };
    }
    let label = match &call {
        Some(method) => format!("xmlrpc {method}"),
        None => format!("{} {}", exchange.method, exchange.path_and_query()),
    };
    let mut request = builder.body(Body::from(body)).unwrap_or_else(|e| {
        // A recorded method or header the HTTP types refuse: the mock sees a bare request,
        // and the comparison shows what it answered.
        let mut r = http::Request::new(Body::from(format!("(unsendable request: {e})")));
        *r.uri_mut() = http::Uri::from_static("/");
        r
    });
    if exchange.https() {
        request.extensions_mut().insert(Proxied);
    }
    (request, label, call)
}

/// Compares an XML-RPC answer: faults byte for byte, successes as values with ids mapped.
fn xmlrpc_body(
    method: &str,
    exchange: &Exchange,
    mock_body: &str,
    ids: &mut Ids,
    out: &mut Vec<String>,
) {
    let recorded = match parse_method_response(exchange.response_body.as_bytes()) {
        Ok(r) => r,
        Err(e) => {
            out.push(format!(
                "body: the recorded answer is not a methodResponse: {e}"
            ));
            return;
        }
    };
    let mock = match parse_method_response(mock_body.as_bytes()) {
        Ok(m) => m,
        Err(e) => {
            out.push(format!(
                "body: the mock's answer is not a methodResponse: {e}"
            ));
            return;
        }
    };
    match (recorded, mock) {
        (MethodResponse::Fault { code, message }, MethodResponse::Fault { .. }) => {
            let expected = encode_fault(i32::try_from(code).unwrap_or_default(), &message);
            if expected != mock_body {
                out.push(format!(
                    "body: recorded fault {code} {message:?}, mock {:?}",
                    mock_body
                ));
            }
        }
        (MethodResponse::Success(r), MethodResponse::Success(m)) => {
            // Ids the mock creates: the zone id domain.info names, a new version's number,
            // a cloned or created zone's id.
            let learns = |path: &str| {
                (method == "domain.info" && matches!(path, "$.zone_id" | "$.id"))
                    || method == "domain.zone.version.new"
                    || (matches!(method, "domain.zone.clone" | "domain.zone.create")
                        && path == "$.id")
            };
            ids.agree("$", &r, &m, &learns, out);
        }
        (MethodResponse::Fault { code, message }, MethodResponse::Success(_)) => {
            out.push(format!(
                "body: recorded fault {code} {message:?}, the mock succeeded"
            ));
        }
        (MethodResponse::Success(_), MethodResponse::Fault { code, message }) => {
            out.push(format!(
                "body: recorded success, mock fault {code} {message:?}"
            ));
        }
    }
}

/// Compares other bodies: as JSON when both are, else as text.
fn body_of(recorded: &str, mock: &str, out: &mut Vec<String>) {
    match (
        serde_json::from_str::<Json>(recorded),
        serde_json::from_str::<Json>(mock),
    ) {
        (Ok(r), Ok(m)) => compare::json("$", &r, &m, out),
        _ if recorded.trim() == mock.trim() => {}
        _ => out.push(format!(
            "body: recorded {:?}, mock {:?}",
            cut(recorded),
            cut(mock)
        )),
    }
}

fn cut(text: &str) -> String {
    match text.char_indices().nth(200) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text.to_string(),
    }
}
