//! Wiring: the router that every listener serves, and the journal in front of the Gandi APIs.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::Router;
use axum::extract::Request;
use axum::response::Response;
use time::OffsetDateTime;
use tower::ServiceExt;

use crate::journal::{Api, InFlight, Journal, Note, RequestEntry};
use crate::livedns::Generation;
use crate::state::{AppState, Proxied, path_is_below, request_host};

/// Where the admin API is served (on the direct listener only).
const ADMIN: &str = "/_mock";

/// What both services here answer with: the response, boxed (they never fail).
type Answering = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

/// The Gandi APIs, routed by path: `/xmlrpc/`, `/api/v5/...`, `/v5/livedns/...`.
fn gandi_routes() -> Router<AppState> {
    Router::new()
        .merge(crate::xmlrpc::routes())
        .fallback(crate::livedns::unknown_route)
}

/// Everything the direct listener serves: the Gandi APIs (journaled) and the admin API.
pub fn router(state: AppState) -> Router {
    Router::new()
        .nest(ADMIN, crate::admin::routes())
        .with_state(state.clone())
        .fallback_service(Journaled::new(state))
}

/// What the direct listener serves: [`router`], with the Gandi APIs reached without the
/// router's match (every path but the admin API's goes to them anyway).
#[derive(Clone)]
pub(crate) struct Direct {
    router: Router,
    gandi: Journaled,
}

impl Direct {
    pub(crate) fn new(state: AppState) -> Self {
        Self {
            router: router(state.clone()),
            gandi: Journaled::new(state),
        }
    }
}

impl tower::Service<http::Request<hyper::body::Incoming>> for Direct {
    type Response = Response;
    type Error = Infallible;
    type Future = Answering;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<hyper::body::Incoming>) -> Self::Future {
        let request = request.map(axum::body::Body::new);
        let path = request.uri().path();
        if path_is_below(path, ADMIN) {
            let router = self.router.clone();
            Box::pin(router.oneshot(request))
        } else {
            self.gandi.call(request)
        }
    }
}

/// What the proxy serves: the Gandi APIs only, never the admin API.
pub fn gandi_router(state: AppState) -> Router {
    Router::new().fallback_service(Journaled::new(state))
}

/// The Gandi APIs behind the journal and the fault rules: one service around the whole
/// router (not a layer on each route, which the router would copy for every request).
#[derive(Clone)]
struct Journaled {
    state: AppState,
    apis: Router,
}

impl Journaled {
    fn new(state: AppState) -> Self {
        Self {
            apis: gandi_routes().with_state(state.clone()),
            state,
        }
    }
}

impl tower::Service<Request> for Journaled {
    type Response = Response;
    type Error = Infallible;
    type Future = Answering;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let (state, apis) = (self.state.clone(), self.apis.clone());
        Box::pin(async move { Ok(journaled(&state, apis, request).await) })
    }
}

fn api_of(path: &str) -> Api {
    if path.starts_with("/xmlrpc") {
        Api::V4
    } else if path.starts_with(Generation::Old.prefix()) {
        Api::LivednsOld
    } else if path.starts_with(Generation::Current.prefix()) {
        Api::Livedns
    } else if crate::domain_api::serves(path) {
        Api::Domain
    } else if path.starts_with(ADMIN) {
        Api::Admin
    } else {
        Api::Other
    }
}

/// The Gandi API's answer: LiveDNS's dispatcher straight from the path, the router for the
/// rest (XML-RPC, unknown paths).
async fn answer(state: &AppState, apis: Router, mut request: Request) -> Response {
    if let Some(path) = crate::livedns::without_empty_segments(request.uri().path()) {
        let path_and_query = match request.uri().query() {
            Some(query) => format!("{path}?{query}"),
            None => path,
        };
        let mut parts = request.uri().clone().into_parts();
        if let Ok(p) = path_and_query.parse() {
            parts.path_and_query = Some(p);
            if let Ok(uri) = axum::http::Uri::from_parts(parts) {
                *request.uri_mut() = uri;
            }
        }
    }
    if let Some(generation) = crate::livedns::generation_of(request.uri().path()) {
        return crate::livedns::dispatch(state, generation, request).await;
    }
    if crate::domain_api::serves(request.uri().path()) {
        return crate::domain_api::dispatch(state, request).await;
    }
    match apis.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// Answers `request` (through the fault rules) and journals it, or, should the client leave
/// first, journals it as abandoned.
async fn journaled(state: &AppState, apis: Router, mut request: Request) -> Response {
    let path = request.uri().path().to_string();
    let api = api_of(&path);
    // The admin API's own traffic would drown what a test wants to see.
    if api == Api::Admin {
        return answer(state, apis, request).await;
    }
    let in_flight = InFlight::default();
    request.extensions_mut().insert(in_flight.clone());
    // Written now if the client leaves before the answer (this future is then dropped),
    // completed below otherwise.
    let mut pending = Abandoned {
        journal: &state.journal,
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
            scheme: crate::journal::auth_scheme(request.headers()),
            content_type: crate::journal::content_type(request.headers()),
            proxied: request.extensions().get::<Proxied>().is_some(),
            fault: None,
            body: None,
            abandoned: true,
            closed: None,
            rate_limited: false,
        }),
    };
    let (mut response, fault) =
        crate::faults::run(state, request, |request| answer(state, apis, request)).await;
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
struct Abandoned<'a> {
    journal: &'a Journal,
    in_flight: InFlight,
    entry: Option<RequestEntry>,
}

impl Drop for Abandoned<'_> {
    fn drop(&mut self) {
        if let Some(entry) = self.entry.take() {
            let known = self.in_flight.get();
            self.journal.record_request(RequestEntry {
                fault: known.fault,
                xmlrpc_method: known.xmlrpc_method,
                ..entry
            });
        }
    }
}
