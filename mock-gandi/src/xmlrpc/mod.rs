//! Legacy Gandi v4 XML-RPC API (`POST /xmlrpc/`), in three layers:
//! - `codec`: XML-RPC bytes to [`Value`]s and back, byte-identical to Python's marshaller; it
//!   knows nothing of Gandi.
//! - `calls`: a [`MethodCall`] checked into one typed [`Call`] per v4 method.
//! - `handlers`: typed calls run against the store; the `faults` catalogue renders every error.
//!
//! Every answer is HTTP 200 with `Content-Type: text/xml; charset=utf-8`, faults included.

mod calls;
mod codec;
mod domain_info;
mod faults;
mod handlers;
mod zone_file;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;

use crate::journal::Note;
use crate::state::AppState;

pub use calls::Call;
pub use codec::{
    CodecError, MAX_BODY_BYTES, MAX_DEPTH, MethodCall, MethodResponse, Value, encode_fault,
    encode_method_call, encode_response, parse_method_call, parse_method_response,
};
pub use faults::{CATALOGUE, Fault, FaultEntry, FaultKind, key_matches_pattern};
pub use handlers::{Outcome, execute, handle};

/// The v4 endpoint, mounted by the server next to the LiveDNS routes. Both `/xmlrpc/` (what
/// clients use) and `/xmlrpc` answer. Any HTTP method is accepted: a body that is not a
/// `methodCall` (a GET has none) gets a fault like any other malformed input.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/xmlrpc/", any(endpoint))
        .route("/xmlrpc", any(endpoint))
}

// The limit a caller may lower is the parser's own.
const _: () = assert!(MAX_BODY_BYTES == crate::state::Limits::MAX_BODY);

/// A router serving only the v4 endpoint, with its own state (for tests and embedding).
pub fn router(state: AppState) -> Router {
    routes().with_state(state)
}

async fn endpoint(State(state): State<AppState>, body: Body) -> Response {
    // A body over the limit (`--max-body`, at most the parser's own) still gets a fault
    // rather than a framework error page.
    let limit = state.limits.max_body.min(MAX_BODY_BYTES);
    let (outcome, sent) = match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => (
            handle(&state.store, &bytes),
            Some(String::from_utf8_lossy(&bytes).into_owned()),
        ),
        Err(_) => (
            Outcome {
                method: None,
                authenticated: false,
                result: Err(Fault::from(CodecError::TooLarge {
                    size: limit + 1,
                    limit,
                })),
            },
            None,
        ),
    };
    respond(outcome, sent)
}

fn respond(outcome: Outcome, body_sent: Option<String>) -> Response {
    let (body, fault_code) = match &outcome.result {
        Ok(value) => (encode_response(value), None),
        Err(fault) => (
            encode_fault(fault.code, &fault.message),
            Some(i64::from(fault.code)),
        ),
    };
    let mut response = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/xml; charset=utf-8"),
        )],
        body,
    )
        .into_response();
    response.extensions_mut().insert(Note {
        xmlrpc_method: outcome.method,
        fault_code,
        auth: outcome.authenticated.then_some("v4-key"),
        body: body_sent,
    });
    response
}
