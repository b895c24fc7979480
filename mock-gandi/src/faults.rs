//! Fault rules applied: one layer in front of every Gandi API (the direct listener, the proxy
//! and the HTTPS listener alike), so a scenario can script a 502 in the middle of a `PUT`, an
//! XML-RPC fault on the second `domain.zone.set`, or an answer that names another zone.
//!
//! A request is matched against the rules in seed order (API, host, method, path glob, XML-RPC
//! method, the credential it presents); every rule it matches counts it, and the first whose selection admits that count
//! answers: after `delay_ms`, with Gandi's body for the status (LiveDNS's error catalogue), an
//! XML-RPC fault or an XML-RPC result; without handling the request (`apply = "never"`) or
//! after it was handled (`apply = "before"`: handled at once, then the delay, as a backend
//! that succeeded behind a gateway that times out). A rule with only `delay_ms` answers as the
//! API does, late; `close` cuts the connection before or in the middle of the answer; `hang`
//! never answers. The journal says which rule answered. In front of the rules, the rate limit
//! (`[rate_limit]`), when the seed sets one.

use std::future::Future;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::journal::{InFlight, InFlightNote, Note};
use crate::livedns::error::ApiError;
use crate::state::AppState;
use crate::store::{Apply, CloseAt, FaultAnswer, FaultApi, glob_matches};
use crate::xmlrpc::{CATALOGUE, Value, encode_fault, encode_response, parse_method_call};

/// The most a request body is read to match a rule: above every API's own limit, so a body
/// that is too large still reaches its API's refusal.
const MATCH_LIMIT: usize = 2 * 1024 * 1024;

/// Runs `request` through the rules, then (unless a rule answered instead) `apis`. Returns the
/// answer and the number (from 1) of the rule that fired.
pub(crate) async fn run<A, F>(app: &AppState, request: Request, apis: A) -> (Response, Option<u32>)
where
    A: FnOnce(Request) -> F,
    F: Future<Output = Response>,
{
    if !app.store.http_rules_armed() {
        return (apis(request).await, None);
    }
    let (armed, limiter) = app.store.read(|s| (s.faults().to_vec(), s.rate_limiter()));
    if let Some(limiter) = limiter
        && is_gandi_api(request.uri().path())
        && let Err(wait) = limiter.admit(std::time::Instant::now())
    {
        let mut response = ApiError::for_status(429, request.method().as_str()).into_response();
        set_retry_after(
            &mut response,
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
        );
        response.extensions_mut().insert(RateLimited);
        return (response, None);
    }
    if armed.is_empty() {
        return (apis(request).await, None);
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
    } else if crate::domain_api::serves(path) {
        Some(FaultApi::Domain)
    } else {
        None
    };
    let host = crate::state::request_host(&parts.headers, &parts.uri);
    let call = (api == Some(FaultApi::V4))
        .then(|| parse_method_call(&bytes).ok())
        .flatten();
    // The secret the request presents: the v4 call's key, or a LiveDNS header's.
    let presented = match &call {
        Some(call) => match call.params.first() {
            Some(Value::String(key)) => Some(key.clone()),
            _ => None,
        },
        None => parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .or_else(|| parts.headers.get("x-api-key"))
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split_once(' ')
                    .map_or(v, |(_, secret)| secret)
                    .trim()
                    .to_string()
            }),
    };
    let xmlrpc_method = call.map(|c| c.method_name);
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
                .is_none_or(|m| xmlrpc_method.as_deref() == Some(m))
            && rule
                .credential
                .as_deref()
                .is_none_or(|c| presented.as_deref() == Some(c));
        if !matches {
            continue;
        }
        let seen = armed.seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        if fired.is_none() && rule.selection.admits(seen) {
            armed
                .fired
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            fired = Some(index);
        }
    }
    let request = Request::from_parts(parts, Body::from(bytes));
    let Some(index) = fired else {
        return (apis(request).await, None);
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
        return (apis(request).await, number);
    }
    let method = request.method().to_string();
    let handled = match rule.apply {
        // The change is made at once (the backend behind a slow gateway); its answer is
        // replaced, its note (auth, body) kept.
        Apply::Before => Some(apis(request).await),
        Apply::Never => None,
    };
    tokio::time::sleep(delay).await;
    let mut note = handled
        .as_ref()
        .and_then(|r| r.extensions().get::<Note>().cloned())
        .unwrap_or_default();
    let mut response = match (&rule.answer, handled) {
        (FaultAnswer::Hang, _) => {
            // Until the client leaves (journaled as abandoned) or the mock stops.
            std::future::pending::<()>().await;
            unreachable!("a pending future never completes")
        }
        (FaultAnswer::Close(CloseAt::MidBody), Some(handled)) => cut_mid_body(handled).await,
        (FaultAnswer::Close(at), _) => {
            // A length the body never gives, so that the server must read the body (and fails
            // at once) before anything is sent.
            let mut response = Response::new(Body::new(Cut::new(bytes::Bytes::new(), 1)));
            response.extensions_mut().insert(Closed(*at));
            response
        }
        (answer_, _) => {
            let mut response = answer(answer_, &method);
            if let Some(seconds) = rule.retry_after {
                set_retry_after(&mut response, u64::from(seconds));
            }
            response
        }
    };
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
        FaultAnswer::Custom {
            status,
            body,
            content_type,
            ..
        } => (
            StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            [(axum::http::header::CONTENT_TYPE, content_type.clone())],
            body.clone(),
        )
            .into_response(),
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
        // Answered in `run`.
        FaultAnswer::Delay | FaultAnswer::Close(_) | FaultAnswer::Hang => {
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn is_gandi_api(path: &str) -> bool {
    path.starts_with("/xmlrpc")
        || path.starts_with("/v5/livedns")
        || path.starts_with("/api/v5")
        || crate::domain_api::serves(path)
}

fn set_retry_after(response: &mut Response, seconds: u64) {
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
}

/// Marks a response whose connection a rule cuts (read by the journal layer).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Closed(pub CloseAt);

/// Marks a response the rate limit gave (read by the journal layer).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RateLimited;

/// The API's answer with its status, headers and `Content-Length`, but only half its body
/// before the connection is cut.
async fn cut_mid_body(handled: Response) -> Response {
    let (mut parts, body) = handled.into_parts();
    let whole = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let half = whole.slice(..whole.len() / 2);
    parts.extensions.insert(Closed(CloseAt::MidBody));
    parts.headers.remove(header::TRANSFER_ENCODING);
    Response::from_parts(parts, Body::new(Cut::new(half, whole.len() as u64)))
}

/// A body that sends `part`, waits for it to leave, then fails: the server then closes the
/// connection with the answer unfinished (or, with nothing sent, before any answer: the head is
/// still in the server's buffer when the body fails at once).
struct Cut {
    part: Option<bytes::Bytes>,
    pause: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
    length: u64,
}

impl Cut {
    fn new(part: bytes::Bytes, length: u64) -> Self {
        let pause = (!part.is_empty())
            .then(|| Box::pin(tokio::time::sleep(std::time::Duration::from_millis(50))));
        Self {
            part: Some(part).filter(|p| !p.is_empty()),
            pause,
            length,
        }
    }
}

impl hyper::body::Body for Cut {
    type Data = bytes::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        if let Some(part) = self.part.take() {
            return std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(part))));
        }
        if let Some(pause) = self.pause.as_mut() {
            std::task::ready!(pause.as_mut().poll(cx));
        }
        std::task::Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "a fault rule closes the connection",
        ))))
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::SizeHint::with_exact(self.length)
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
