//! LiveDNS v5 REST API (placeholder: routes are added by the LiveDNS work).

use axum::Router;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::server::AppState;

/// Which LiveDNS host and base a route serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    /// `https://dns.api.gandi.net/api/v5`, `X-Api-Key`.
    Old,
    /// `https://api.gandi.net/v5/livedns`, `Authorization: Bearer|Apikey`.
    Current,
}

pub(crate) fn routes(_generation: Generation) -> Router<AppState> {
    Router::new()
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
