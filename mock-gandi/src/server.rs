//! Wiring: the router that every listener serves, and the journal layer in front of it.

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use time::OffsetDateTime;

use crate::journal::{Api, InFlight, Note, RequestEntry};
use crate::livedns::Generation;
use crate::state::{AppState, Proxied, request_host};

/// The Gandi APIs, routed by path: `/xmlrpc/`, `/api/v5/...`, `/v5/livedns/...`.
fn gandi_routes() -> Router<AppState> {
    Router::new()
        .merge(crate::livedns::routes(Generation::Old))
        .merge(crate::livedns::routes(Generation::Current))
        .merge(crate::xmlrpc::routes())
        .fallback(crate::livedns::unknown_route)
}

/// Everything the direct listener serves: the Gandi APIs and the admin API.
pub fn router(state: AppState) -> Router {
    gandi_routes()
        .nest("/_mock", crate::admin::routes())
        .layer(middleware::from_fn_with_state(state.clone(), journal_layer))
        .with_state(state)
}

/// What the proxy serves: the Gandi APIs only, never the admin API.
pub fn gandi_router(state: AppState) -> Router {
    gandi_routes()
        .layer(middleware::from_fn_with_state(state.clone(), journal_layer))
        .with_state(state)
}

fn api_of(path: &str) -> Api {
    if path.starts_with("/xmlrpc") {
        Api::V4
    } else if path.starts_with(Generation::Old.prefix()) {
        Api::LivednsOld
    } else if path.starts_with(Generation::Current.prefix()) {
        Api::Livedns
    } else if path.starts_with("/_mock") {
        Api::Admin
    } else {
        Api::Other
    }
}

async fn journal_layer(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_string();
    let api = api_of(&path);
    // The admin API's own traffic would drown what a test wants to see.
    if api == Api::Admin {
        return next.run(request).await;
    }
    let in_flight = InFlight::default();
    request.extensions_mut().insert(in_flight.clone());
    // Written now if the client leaves before the answer (this future is then dropped),
    // completed below otherwise.
    let mut pending = Abandoned {
        state: state.clone(),
        in_flight,
        entry: Some(RequestEntry {
            time: OffsetDateTime::now_utc(),
            api,
            host: request_host(request.headers(), request.uri()).to_string(),
            method: request.method().to_string(),
            path,
            query: request.uri().query().map(str::to_string),
            xmlrpc_method: None,
            status: 0,
            fault_code: None,
            auth: None,
            proxied: request.extensions().get::<Proxied>().is_some(),
            fault: None,
            body: None,
            abandoned: true,
            closed: None,
            rate_limited: false,
        }),
    };
    let (mut response, fault) = crate::faults::run(&state, request, next).await;
    let note = response
        .extensions_mut()
        .remove::<Note>()
        .unwrap_or_default();
    let closed = response
        .extensions()
        .get::<crate::faults::Closed>()
        .map(|c| c.0);
    if let Some(entry) = pending.entry.take() {
        state.journal.record_request(RequestEntry {
            xmlrpc_method: note.xmlrpc_method,
            status: match closed {
                Some(crate::store::CloseAt::Before) => 0,
                _ => response.status().as_u16(),
            },
            fault_code: note.fault_code,
            auth: note.auth,
            fault,
            body: note.body,
            abandoned: false,
            closed,
            rate_limited: response
                .extensions()
                .get::<crate::faults::RateLimited>()
                .is_some(),
            ..entry
        });
    }
    response
}

/// A request whose client left before its answer: journaled when its handling is dropped.
struct Abandoned {
    state: AppState,
    in_flight: InFlight,
    entry: Option<RequestEntry>,
}

impl Drop for Abandoned {
    fn drop(&mut self) {
        if let Some(entry) = self.entry.take() {
            let known = self.in_flight.get();
            self.state.journal.record_request(RequestEntry {
                fault: known.fault,
                xmlrpc_method: known.xmlrpc_method,
                ..entry
            });
        }
    }
}
