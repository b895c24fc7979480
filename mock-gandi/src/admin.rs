//! The mock's own API under `/_mock` (direct listener only; the proxy never serves it).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use crate::state::AppState;
use crate::store::Seed;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/state", get(state))
        .route("/seed", post(seed))
        .route("/reset", post(reset))
        .route("/faults", get(faults).post(add_faults).delete(clear_faults))
        .route(
            "/dns/faults",
            get(dns_faults)
                .post(add_dns_faults)
                .delete(clear_dns_faults),
        )
        .route("/requests", get(requests).delete(clear_requests))
        .route("/dns/queries", get(dns_queries).delete(clear_dns_queries))
        .route("/resolve", get(resolve))
        .route("/ca.pem", get(ca_pem))
        .route("/openapi.json", get(openapi))
        .fallback(not_found)
}

/// Errors of the admin API: always JSON with an `error` text.
fn error(status: StatusCode, text: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "error": text.into() }))).into_response()
}

async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "unknown admin path; see GET /_mock/health, GET /_mock/state, POST /_mock/seed, POST /_mock/reset, \
         GET|POST|DELETE /_mock/faults, GET|POST|DELETE /_mock/dns/faults, GET|DELETE /_mock/requests, GET|DELETE /_mock/dns/queries, GET /_mock/resolve, \
         GET /_mock/ca.pem",
    )
}

/// Readiness for container health checks and CI services: every listener is bound before the
/// direct one answers, so an answer here means the mock is ready.
async fn health(State(app): State<AppState>) -> Response {
    let (domains, credentials) = app.store.read(|s| (s.domains.len(), s.credentials.len()));
    axum::Json(json!({ "status": "ok", "domains": domains, "credentials": credentials }))
        .into_response()
}

/// The state as JSON, streamed from one snapshot (never built whole in memory).
async fn state(State(app): State<AppState>) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        axum::body::Body::new(Chunks(app.store.snapshot_json())),
    )
        .into_response()
}

/// A body that writes each chunk when the connection asks for the next.
struct Chunks(crate::store::StateJson);

impl hyper::body::Body for Chunks {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        std::task::Poll::Ready(
            self.0
                .next()
                .map(|chunk| Ok(hyper::body::Frame::data(Bytes::from(chunk)))),
        )
    }
}

/// Adds a seed (TOML or JSON) to the current state.
async fn seed(State(app): State<AppState>, body: Bytes) -> Response {
    let Ok(text) = std::str::from_utf8(&body) else {
        return error(StatusCode::BAD_REQUEST, "the seed is not UTF-8");
    };
    match Seed::parse(text) {
        Ok(seed) => {
            app.store.add_seed(&seed);
            // `as_of`, when the seed sets one, is Gandi's date from now on (see `crate::era`).
            let mut answer = json!({
                "domains": seed.domain.len(),
                "credentials": seed.credential.len(),
            });
            if let Some(as_of) = seed.as_of {
                answer["as_of"] = json!(as_of.to_string());
            }
            axum::Json(answer).into_response()
        }
        Err(e) => error(StatusCode::BAD_REQUEST, format!("invalid seed: {e}")),
    }
}

/// The armed fault rules, in order, each with its number and how many requests it matched and
/// answered.
async fn faults(State(app): State<AppState>) -> Response {
    let rules = app.store.read(|s| reports(s.faults()));
    axum::Json(rules).into_response()
}

/// Arms rules after those armed: TOML `[[fault]]` tables, or JSON (one rule, an array of
/// rules, or `{"fault": [...]}`), in the seed's format.
async fn add_faults(State(app): State<AppState>, body: Bytes) -> Response {
    match rules_of(&body, "fault") {
        Ok(seed) if seed.fault.is_empty() => {
            error(StatusCode::BAD_REQUEST, "no [[fault]] rule in the body")
        }
        Ok(seed) => armed(app.store.add_faults(seed.fault)),
        Err(e) => error(StatusCode::BAD_REQUEST, e),
    }
}

/// The same for DNS fault rules (`[[dns_fault]]`).
async fn add_dns_faults(State(app): State<AppState>, body: Bytes) -> Response {
    match rules_of(&body, "dns_fault") {
        Ok(seed) if seed.dns_fault.is_empty() => {
            error(StatusCode::BAD_REQUEST, "no [[dns_fault]] rule in the body")
        }
        Ok(seed) => armed(app.store.add_dns_faults(seed.dns_fault)),
        Err(e) => error(StatusCode::BAD_REQUEST, e),
    }
}

fn armed(numbers: std::ops::Range<usize>) -> Response {
    (
        StatusCode::CREATED,
        axum::Json(json!({ "numbers": numbers.collect::<Vec<_>>() })),
    )
        .into_response()
}

/// Rules of the seed's `key` from a body: TOML tables, or JSON (one rule, an array of rules, or
/// an object with `key`). Anything else of a seed is refused.
fn rules_of(body: &[u8], key: &str) -> Result<Seed, String> {
    let Ok(text) = std::str::from_utf8(body) else {
        return Err("the rules are not UTF-8".into());
    };
    let wrapped = match serde_json::from_str::<serde_json::Value>(text.trim_start()) {
        Ok(serde_json::Value::Object(o)) if !o.contains_key(key) => {
            Some(json!({ key: [o] }).to_string())
        }
        Ok(serde_json::Value::Array(rules)) => Some(json!({ key: rules }).to_string()),
        _ => None,
    };
    let seed = Seed::parse(wrapped.as_deref().unwrap_or(text))
        .map_err(|e| format!("invalid rule: {e}"))?;
    let other = !seed.domain.is_empty()
        || !seed.credential.is_empty()
        || seed.rate_limit.is_some()
        || seed.propagation.is_some()
        || seed.as_of.is_some()
        || (key != "fault" && !seed.fault.is_empty())
        || (key != "dns_fault" && !seed.dns_fault.is_empty());
    if other {
        return Err(format!(
            "only [[{key}]] rules here; the rest of a seed goes to POST /_mock/seed"
        ));
    }
    Ok(seed)
}

/// The armed DNS fault rules, as `GET /_mock/faults` lists the others.
async fn dns_faults(State(app): State<AppState>) -> Response {
    let rules = app.store.read(|s| reports(s.dns_faults()));
    axum::Json(rules).into_response()
}

async fn clear_dns_faults(State(app): State<AppState>) -> StatusCode {
    app.store.clear_dns_faults();
    StatusCode::NO_CONTENT
}

/// Armed rules as listed: each numbered from 1, with its counts.
fn reports<R: serde::Serialize>(
    armed: &[std::sync::Arc<crate::store::Armed<R>>],
) -> Vec<serde_json::Value> {
    armed
        .iter()
        .enumerate()
        .map(|(i, a)| a.report(i + 1))
        .collect()
}

async fn clear_faults(State(app): State<AppState>) -> StatusCode {
    app.store.clear_faults();
    StatusCode::NO_CONTENT
}

async fn reset(State(app): State<AppState>) -> StatusCode {
    app.store.reset();
    StatusCode::NO_CONTENT
}

async fn requests(State(app): State<AppState>) -> Response {
    axum::Json(app.journal.requests()).into_response()
}

async fn clear_requests(State(app): State<AppState>) -> StatusCode {
    app.journal.clear_requests();
    StatusCode::NO_CONTENT
}

async fn dns_queries(State(app): State<AppState>) -> Response {
    axum::Json(app.journal.dns_queries()).into_response()
}

async fn clear_dns_queries(State(app): State<AppState>) -> StatusCode {
    app.journal.clear_dns();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct ResolveQuery {
    name: Option<String>,
    #[serde(rename = "type")]
    rtype: Option<String>,
}

async fn resolve(
    State(app): State<AppState>,
    query: Result<Query<ResolveQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(ResolveQuery {
        name: Some(name),
        rtype,
    })) = query
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "usage: /_mock/resolve?name=NAME&type=TYPE (type defaults to A)",
        );
    };
    let rtype = rtype.unwrap_or_else(|| "A".to_string());
    match crate::dns::resolve_json(&app.store, &name, &rtype) {
        Ok(answer) => axum::Json(answer).into_response(),
        Err(e) => error(StatusCode::BAD_REQUEST, e),
    }
}

async fn ca_pem(State(app): State<AppState>) -> Response {
    match &app.ca_pem {
        Some(pem) => (
            [("content-type", "application/x-pem-file")],
            pem.as_str().to_string(),
        )
            .into_response(),
        None => error(StatusCode::NOT_FOUND, "this mock runs without a proxy CA"),
    }
}

/// The OpenAPI description of the routes the mock serves under Gandi's names (LiveDNS, Domain
/// and Organization APIs: one host, one authentication, one error catalogue, so one document
/// with full paths), written from Gandi's references (each operation links its section);
/// `ci/api-conformance` runs schemathesis against it.
const OPENAPI: &str = include_str!("../openapi/gandi-v5.json");

async fn openapi() -> Response {
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        OPENAPI,
    )
        .into_response()
}
