//! Gandi's Domain API (`https://api.gandi.net/v5/domain`, "Domain Information",
//! "Nameservers Management", "LiveDNS Management") and Organization API
//! (`https://api.gandi.net/v5/organization`), as far as DNS automation uses them: which
//! domains the account holds and where their DNS lives, the move of a domain to LiveDNS, the
//! organizations (the `sharing_id` tools look for). Registrar data (contacts, dates, renewal)
//! is placeholder with Gandi's shape. Other Domain API areas (contacts, renew, transfer, ...)
//! answer the generic 404 (inferred: what Gandi answers there is not known).
//!
//! Authentication and error bodies are the current LiveDNS host's (the same gateway and
//! backend): `Authorization: Bearer|Apikey`, `crate::livedns::error`.

mod domains;
mod organization;

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;

use crate::journal::Note;
use crate::livedns::auth::authenticate;
use crate::livedns::error::ApiError;
use crate::livedns::{Generation, json, to_json};
use crate::state::{AppState, Proxied, path_is_below, request_host};
use crate::store::Credential;

const DOMAIN: &str = "/v5/domain";
const ORGANIZATION: &str = "/v5/organization";

/// Whether `path` is one of these APIs'.
pub(crate) fn serves(path: &str) -> bool {
    path_is_below(path, DOMAIN) || path_is_below(path, ORGANIZATION)
}

/// What a handler knows of the request.
struct Cx<'a> {
    app: &'a AppState,
    cred: Arc<Credential>,
    method: Method,
    /// `scheme://host` as the client called it, for hrefs.
    origin: String,
    query: Option<&'a str>,
}

/// Answers a request below `/v5/domain` or `/v5/organization`.
pub(crate) async fn dispatch(app: &AppState, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let mut auth = None;
    let body = axum::body::to_bytes(body, app.limits.max_body).await;
    let answer = match body {
        Err(_) => Err(ApiError::TooLarge),
        Ok(bytes) => handle(app, &parts, &bytes, &mut auth),
    };
    let mut response = answer.unwrap_or_else(IntoResponse::into_response);
    response.extensions_mut().insert(Note {
        auth,
        ..Note::default()
    });
    response
}

fn handle(
    app: &AppState,
    parts: &axum::http::request::Parts,
    bytes: &[u8],
    auth: &mut Option<&'static str>,
) -> Result<Response, ApiError> {
    let now = OffsetDateTime::now_utc();
    let cred = app
        .store
        .read(|s| authenticate(Generation::Current, &parts.headers, s, now))?;
    *auth = Some(cred.kind.as_str());
    let scheme = if parts.extensions.get::<Proxied>().is_some() {
        "https"
    } else {
        "http"
    };
    let host = match request_host(&parts.headers, &parts.uri) {
        "" => "localhost",
        host => host,
    };
    let method = if parts.method == Method::HEAD {
        Method::GET
    } else {
        parts.method.clone()
    };
    let cx = Cx {
        app,
        cred,
        method,
        origin: format!("{scheme}://{host}"),
        query: parts.uri.query(),
    };
    let path = parts.uri.path();
    if let Some(rest) = path.strip_prefix(ORGANIZATION) {
        return organization::answer(&cx, rest);
    }
    domains::answer(&cx, path.strip_prefix(DOMAIN).unwrap_or_default(), bytes)
}

/// `{"message": ...}` with Python's spacing, as the backend writes it.
fn message(status: StatusCode, text: &str) -> Response {
    json(status, format!(r#"{{"message": {}}}"#, to_json(&text)))
}

/// The method is not one the resource answers.
fn not_allowed(cx: &Cx, allow: &'static str) -> ApiError {
    ApiError::MethodNotAllowed {
        method: cx.method.to_string(),
        allow,
    }
}
