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
        .route("/state", get(state))
        .route("/seed", post(seed))
        .route("/reset", post(reset))
        .route("/faults", get(faults).post(add_faults).delete(clear_faults))
        .route("/requests", get(requests).delete(clear_requests))
        .route("/dns/queries", get(dns_queries).delete(clear_dns_queries))
        .route("/resolve", get(resolve))
        .route("/ca.pem", get(ca_pem))
        .fallback(not_found)
}

/// Errors of the admin API: always JSON with an `error` text.
fn error(status: StatusCode, text: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "error": text.into() }))).into_response()
}

async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "unknown admin path; see GET /_mock/state, POST /_mock/seed, POST /_mock/reset, \
         GET|POST|DELETE /_mock/faults, GET|DELETE /_mock/requests, GET|DELETE /_mock/dns/queries, GET /_mock/resolve, \
         GET /_mock/ca.pem",
    )
}

async fn state(State(app): State<AppState>) -> Response {
    axum::Json(app.store.snapshot()).into_response()
}

/// Adds a seed (TOML or JSON) to the current state.
async fn seed(State(app): State<AppState>, body: Bytes) -> Response {
    let Ok(text) = std::str::from_utf8(&body) else {
        return error(StatusCode::BAD_REQUEST, "the seed is not UTF-8");
    };
    match Seed::parse(text) {
        Ok(seed) => {
            app.store.add_seed(&seed);
            axum::Json(json!({
                "domains": seed.domain.len(),
                "credentials": seed.credential.len(),
            }))
            .into_response()
        }
        Err(e) => error(StatusCode::BAD_REQUEST, format!("invalid seed: {e}")),
    }
}

/// The armed fault rules, in order, each with its number and how many requests it matched and
/// answered.
async fn faults(State(app): State<AppState>) -> Response {
    let rules: Vec<serde_json::Value> = app.store.read(|s| {
        s.faults()
            .iter()
            .enumerate()
            .map(|(i, armed)| armed.report(i + 1))
            .collect()
    });
    axum::Json(rules).into_response()
}

/// Arms rules after those armed: TOML `[[fault]]` tables, or JSON (one rule, an array of
/// rules, or `{"fault": [...]}`), in the seed's format.
async fn add_faults(State(app): State<AppState>, body: Bytes) -> Response {
    let Ok(text) = std::str::from_utf8(&body) else {
        return error(StatusCode::BAD_REQUEST, "the rules are not UTF-8");
    };
    let trimmed = text.trim_start();
    let wrapped;
    let text = match serde_json::from_str::<serde_json::Value>(trimmed) {
        Ok(serde_json::Value::Object(o)) if !o.contains_key("fault") => {
            wrapped = json!({ "fault": [o] }).to_string();
            wrapped.as_str()
        }
        Ok(serde_json::Value::Array(rules)) => {
            wrapped = json!({ "fault": rules }).to_string();
            wrapped.as_str()
        }
        _ => text,
    };
    let seed = match Seed::parse(text) {
        Ok(seed) => seed,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("invalid fault rule: {e}")),
    };
    if !seed.domain.is_empty() || !seed.credential.is_empty() || seed.rate_limit.is_some() {
        return error(
            StatusCode::BAD_REQUEST,
            "only fault rules here; domains, credentials and rate_limit go to POST /_mock/seed",
        );
    }
    if seed.fault.is_empty() {
        return error(StatusCode::BAD_REQUEST, "no fault rule in the body");
    }
    let numbers = app.store.add_faults(seed.fault);
    (
        StatusCode::CREATED,
        axum::Json(json!({ "numbers": numbers.collect::<Vec<_>>() })),
    )
        .into_response()
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
