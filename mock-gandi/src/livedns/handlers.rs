//! The endpoints of gandi-wire.md §4.1. One dispatcher reads the request in the order the
//! real service answers: the gateway's authentication, then the route, then the query, path
//! and body, then the domain's access rights, then the store.

use axum::extract::Request;
use axum::http::Method;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;

use super::Generation;
use super::auth::authenticate;
use super::context::Cx;
use super::error::ApiError;
use super::extract::{ListQuery, read_body};
use super::paths::{Base, Target};
use super::{axfr, domains, keys, records, snapshots, spaced, zones};
use crate::journal::Note;
use crate::state::AppState;

/// Entry point for every path below the API's roots, on either base.
pub(crate) async fn dispatch(app: &AppState, generation: Generation, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let mut auth = None;
    // The body of a write is read before anything is decided, so that the journal keeps what
    // was sent even when authentication refuses it; a body that cannot be read is an error
    // only after authentication, as before.
    let write = [Method::POST, Method::PUT, Method::PATCH].contains(&parts.method);
    let body = if write {
        Some(read_body(body, app.limits.max_body).await)
    } else {
        None
    };
    let sent = match &body {
        Some(Ok(bytes)) if !bytes.is_empty() => Some(String::from_utf8_lossy(bytes).into_owned()),
        _ => None,
    };
    let era = app.store.read(|s| s.era());
    let path = parts.uri.path();
    let rest = path.strip_prefix(generation.prefix()).unwrap_or(path);
    if zones::is_zones_path(rest) && !era.zones_api() {
        // Outside its era the zones API is no route: the router's page, as before.
        return super::unknown_route(parts.method, parts.uri).await;
    }
    let mut response = match handle(app, generation, &parts, body, &mut auth).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    };
    if generation == Generation::Old && era.old_host_spaced_json() {
        response = spaced::respace(response).await;
    }
    response.extensions_mut().insert(Note {
        auth,
        body: sent,
        ..Note::default()
    });
    response
}

async fn handle(
    app: &AppState,
    generation: Generation,
    parts: &Parts,
    body: Option<Result<bytes::Bytes, ApiError>>,
    auth: &mut Option<&'static str>,
) -> Result<Response, ApiError> {
    let path = parts.uri.path();
    let rest = path.strip_prefix(generation.prefix()).unwrap_or(path);
    // HEAD is GET without a body; hyper drops the body.
    let method = if parts.method == Method::HEAD {
        Method::GET
    } else {
        parts.method.clone()
    };
    // The generic nameservers are the one route Gandi serves without authentication.
    if let Target::GenericNameservers(d) = Target::parse(rest) {
        return domains::generic_nameservers(&parts.method, &method, d);
    }
    let now = OffsetDateTime::now_utc();
    let cred = app
        .store
        .read(|s| authenticate(generation, &parts.headers, s, now))?;
    *auth = Some(cred.kind.as_str());
    // The zones era's `/zones/{uuid}/records...` is its domain's records, once the zone's
    // rights allow it (`zones`).
    let by_zone = if zones::is_zones_path(rest) {
        Some(app.store.read(|s| zones::domain_path(rest, s, &cred))?)
    } else {
        None
    };
    let target = Target::parse(by_zone.as_deref().unwrap_or(rest));
    let zones = generation == Generation::Old && app.store.read(|s| s.era()).zones_api();

    let allow = target.allow().ok_or(ApiError::NotFound)?;
    if !allow.split(", ").any(|m| m == method.as_str()) {
        return Err(ApiError::MethodNotAllowed {
            method: parts.method.to_string(),
            allow,
        });
    }
    let query = ListQuery::parse(parts.uri.query())?;
    // Clients send `{}` with GET and DELETE (python-requests in the recordings); ignored.
    let bytes = body.transpose()?.unwrap_or_default();
    let cx = Cx {
        app,
        cred,
        base: Base::of(generation, parts),
        query,
        headers: &parts.headers,
        method,
        zones,
    };
    match target {
        Target::Domains | Target::Domain(_) | Target::Nameservers(_) | Target::RrTypes => {
            domains::answer(&cx, target, &bytes)
        }
        Target::Records(_) | Target::Name(..) | Target::Rrset(..) => {
            records::answer(&cx, target, &bytes)
        }
        Target::Snapshots(_) | Target::Snapshot(..) => snapshots::answer(&cx, target, &bytes),
        Target::Keys(_) | Target::Key(..) => keys::answer(&cx, target, &bytes),
        Target::Slaves(_)
        | Target::Slave(..)
        | Target::DomainTsigs(_)
        | Target::DomainTsig(..)
        | Target::Tsigs
        | Target::Tsig(_)
        | Target::TsigConfig(..) => axfr::answer(&cx, target, &bytes),
        Target::GenericNameservers(_) | Target::Unknown => Err(ApiError::NotFound),
    }
}
