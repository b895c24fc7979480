//! LiveDNS v5 REST API (gandi-wire.md §4), served under two bases with the same paths:
//! the current host (`/v5/livedns`, `Authorization: Bearer|Apikey`) and the old one
//! (`/api/v5`, `X-Api-Key`).
//!
//! Parts: `auth` (credentials per host), `extract` (paths, queries and bodies read without
//! framework rejections), `error` (the one error type and its catalogue), `handlers` (the
//! endpoints).

mod auth;
pub(crate) mod error;
mod extract;
mod handlers;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;

use crate::state::AppState;

/// Which LiveDNS host and base a route serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    /// `https://dns.api.gandi.net/api/v5`, `X-Api-Key`.
    Old,
    /// `https://api.gandi.net/v5/livedns`, `Authorization: Bearer|Apikey`.
    Current,
}

impl Generation {
    /// Where its API is on its host (the path every route of it starts with).
    pub(crate) fn prefix(self) -> &'static str {
        match self {
            Generation::Old => "/api/v5",
            Generation::Current => "/v5/livedns",
        }
    }
}

/// Every path below `{prefix}/domains` goes to one dispatcher, so that unknown paths, methods
/// and malformed segments get Gandi's errors rather than the router's; any other path under
/// the base falls through to [`unknown_route`]. Full paths, not a nested router: no copy of
/// the URI per request.
pub(crate) fn routes(generation: Generation) -> Router<AppState> {
    let handler = move |State(app): State<AppState>, request: Request| {
        handlers::dispatch(app, generation, request)
    };
    let prefix = generation.prefix();
    Router::new()
        .route(&format!("{prefix}/domains"), any(handler))
        .route(&format!("{prefix}/domains/"), any(handler))
        .route(&format!("{prefix}/domains/{{*rest}}"), any(handler))
}

/// Any path outside the Gandi APIs: the Express default page (gandi-wire.md §4.2, inferred).
pub(crate) async fn unknown_route(method: axum::http::Method, uri: Uri) -> Response {
    (
        StatusCode::NOT_FOUND,
        [("content-type", "text/html; charset=utf-8")],
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n<body>\n<pre>Cannot {} {}</pre>\n</body>\n</html>\n",
            method,
            uri.path()
        ),
    )
        .into_response()
}
