//! Fault rules applied: one layer in front of every Gandi API (the direct listener, the proxy
//! and the HTTPS listener alike), so a scenario can script a 502 in the middle of a `PUT`, an
//! XML-RPC fault on the second `domain.zone.set`, or an answer that names another zone.
//!
//! A request is matched against the rules in seed order (API, host, method, path glob, XML-RPC
//! method); every rule it matches counts it, and the first whose selection admits that count
//! answers: after `delay_ms`, with Gandi's body for the status (LiveDNS's error catalogue), an
//! XML-RPC fault or an XML-RPC result; without handling the request (`apply = "never"`) or
//! after it was handled (`apply = "before"`: handled at once, then the delay, as a backend
//! that succeeded behind a gateway that times out). A rule with only `delay_ms` answers as the
//! API does, late. The journal says which rule answered.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::journal::{InFlight, InFlightNote, Note};
use crate::livedns::error::ApiError;
use crate::state::AppState;
use crate::store::{Apply, FaultAnswer, FaultApi, glob_matches};
use crate::xmlrpc::{CATALOGUE, Value, encode_fault, encode_response, parse_method_call};

/// The most a request body is read to match a rule: above every API's own limit, so a body
/// that is too large still reaches its API's refusal.
const MATCH_LIMIT: usize = 2 * 1024 * 1024;

/// Runs `request` through the rules, then (unless a rule answered instead) the API. Returns the
/// answer and the number (from 1) of the rule that fired.
pub(crate) async fn run(app: &AppState, request: Request, next: Next) -> (Response, Option<u32>) {
    let armed = app.store.read(|s| s.faults().to_vec());
    if armed.is_empty() {
        return (next.run(request).await, None);
    }
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, MATCH_LIMIT).await {
        Ok(bytes) => bytes,
        // Too large to match: let the API refuse it (an empty body now, as it could not be
        // read whole anyway).
        Err(_) => bytes::Bytes::new(),
    };
    let path = parts.uri.path();
    let api = if path.starts_with("/xmlrpc") {
        Some(FaultApi::V4)
    } else if path.starts_with("/v5/livedns") || path.starts_with("/api/v5") {
        Some(FaultApi::Livedns)
    } else {
        None
    };
    let host = crate::state::request_host(&parts.headers, &parts.uri);
    let xmlrpc_method = (api == Some(FaultApi::V4))
        .then(|| parse_method_call(&bytes).ok().map(|c| c.method_name))
        .flatten();
    let mut fired = None;
    for (index, armed) in armed.iter().enumerate() {
        let rule = &armed.rule;
        let matches = api.is_some()
            && rule.api.is_none_or(|a| Some(a) == api)
            && rule.host.as_deref().is_none_or(|h| {
                host.split(':')
                    .next()
                    .is_some_and(|n| n.eq_ignore_ascii_case(h))
            })
            && rule
                .method
                .as_deref()
                .is_none_or(|m| m == parts.method.as_str())
            && rule.path.as_deref().is_none_or(|p| glob_matches(p, path))
            && rule
                .xmlrpc_method
                .as_deref()
                .is_none_or(|m| xmlrpc_method.as_deref() == Some(m));
        if !matches {
            continue;
        }
        let seen = armed.seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        if fired.is_none() && rule.selection.admits(seen) {
            fired = Some(index);
        }
    }
    let request = Request::from_parts(parts, Body::from(bytes));
    let Some(index) = fired else {
        return (next.run(request).await, None);
    };
    let rule = &armed[index].rule;
    let number = Some(u32::try_from(index + 1).unwrap_or(u32::MAX));
    // Known now, should the client leave during the delay.
    if let Some(in_flight) = request.extensions().get::<InFlight>() {
        in_flight.set(InFlightNote {
            fault: number,
            xmlrpc_method: xmlrpc_method.clone(),
        });
    }
    let delay = std::time::Duration::from_millis(rule.delay_ms);
    if rule.answer == FaultAnswer::Delay {
        tokio::time::sleep(delay).await;
        return (next.run(request).await, number);
    }
    let method = request.method().to_string();
    let handled = match rule.apply {
        // The change is made at once (the backend behind a slow gateway); its answer is
        // replaced, its note (auth, body) kept.
        Apply::Before => Some(next.run(request).await),
        Apply::Never => None,
    };
    tokio::time::sleep(delay).await;
    let mut response = answer(&rule.answer, &method);
    let mut note = handled
        .and_then(|r| r.extensions().get::<Note>().cloned())
        .unwrap_or_default();
    if api == Some(FaultApi::V4) {
        note.xmlrpc_method = xmlrpc_method;
        note.fault_code = match &rule.answer {
            FaultAnswer::XmlRpcFault { code, .. } => Some(i64::from(*code)),
            _ => None,
        };
    }
    response.extensions_mut().insert(note);
    (response, number)
}

/// The answer a rule gives.
fn answer(answer: &FaultAnswer, method: &str) -> Response {
    match answer {
        FaultAnswer::Status(status) => ApiError::for_status(*status, method).into_response(),
        FaultAnswer::XmlRpcFault { code, message } => {
            let message = message.clone().unwrap_or_else(|| {
                CATALOGUE
                    .iter()
                    .find(|e| e.code == *code)
                    .map(|e| e.template.to_string())
                    .unwrap_or_default()
            });
            xml(encode_fault(*code, &message))
        }
        FaultAnswer::XmlRpcResult(value) => xml(encode_response(&xmlrpc_value(value))),
        FaultAnswer::Delay => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn xml(body: String) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/xml; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

/// A TOML or JSON value as XML-RPC: tables are structs (in their order), whole numbers ints.
fn xmlrpc_value(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Boolean(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Double(n.as_f64().unwrap_or_default()),
        },
        serde_json::Value::String(s) => Value::String(s.clone()),
        serde_json::Value::Array(items) => Value::Array(items.iter().map(xmlrpc_value).collect()),
        serde_json::Value::Object(members) => Value::Struct(
            members
                .iter()
                .map(|(k, v)| (k.clone(), xmlrpc_value(v)))
                .collect(),
        ),
    }
}
