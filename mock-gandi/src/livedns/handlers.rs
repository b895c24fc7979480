//! The endpoints of gandi-wire.md §4.1. One dispatcher reads the request in the order the
//! real service answers: the gateway's authentication, then the route, then the query, path
//! and body, then the domain's access rights, then the store.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use time::OffsetDateTime;

use super::Generation;
use super::auth::authenticate;
use super::error::ApiError;
use super::extract::{ListQuery, read_body};
use super::paths::{Base, Target, path_fqdn};
use super::{axfr, domains, keys, records, snapshots};
use crate::journal::Note;
use crate::state::AppState;
use crate::store::{Credential, Denied, Domain, Fqdn, Need, State};

/// What every rrset write answers (compact, 32 bytes: acme.sh looks for exactly this).
const RECORD_CREATED: &str = r#"{"message":"DNS Record Created"}"#;

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
    let mut response = match handle(app, generation, &parts, body, &mut auth).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    };
    response.extensions_mut().insert(Note {
        auth,
        body: sent,
        ..Note::default()
    });
    response
}

/// What a handler knows about its caller.
pub(super) struct Cx<'a> {
    pub app: &'a AppState,
    pub cred: Arc<Credential>,
    pub base: Base<'a>,
    pub query: ListQuery,
    pub headers: &'a HeaderMap,
    /// The method, HEAD read as GET.
    pub method: Method,
}

async fn handle(
    app: &AppState,
    generation: Generation,
    parts: &Parts,
    body: Option<Result<bytes::Bytes, ApiError>>,
    auth: &mut Option<&'static str>,
) -> Result<Response, ApiError> {
    let path = parts.uri.path();
    let target = Target::parse(path.strip_prefix(generation.prefix()).unwrap_or(path));
    // HEAD is GET without a body; hyper drops the body.
    let method = if parts.method == Method::HEAD {
        Method::GET
    } else {
        parts.method.clone()
    };
    // The generic nameservers are the one route Gandi serves without authentication.
    if let Target::GenericNameservers(d) = target {
        return domains::generic_nameservers(&parts.method, &method, d);
    }
    let now = OffsetDateTime::now_utc();
    let cred = app
        .store
        .read(|s| authenticate(generation, &parts.headers, s, now))?;
    *auth = Some(cred.kind.as_str());

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

/// The domain of a path. A string that cannot be a domain name is no zone at all.
pub(super) fn zone(raw: &str) -> Result<Fqdn, ApiError> {
    path_fqdn(raw).ok_or(ApiError::NotFound)
}

/// The caller's rights on a domain. A name the store does not hold as a domain (unknown, or
/// a subdomain of a zone) is "not a zone": the recorded answer for it is the generic 404.
/// A domain the store holds but the caller may not reach is "Unknown domain".
pub(super) fn access<'s>(
    s: &'s State,
    cx: &Cx,
    fqdn: &Fqdn,
    need: Need,
) -> Result<&'s Domain, ApiError> {
    s.livedns_access(&cx.cred, fqdn, cx.query.sharing_id.as_deref(), need)
        .map_err(|d| match d {
            Denied::UnknownDomain if s.domain(fqdn).is_none() => ApiError::NotFound,
            other => other.into(),
        })
}

pub(super) fn json(status: StatusCode, body: String) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

pub(super) fn with_header(
    mut response: Response,
    name: header::HeaderName,
    value: &str,
) -> Response {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
    response
}

pub(super) fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("plain structs serialize")
}

/// What every rrset write answers: 201, "DNS Record Created", the rrset's href when known.
pub(super) fn created(location: Option<String>) -> Response {
    message(StatusCode::CREATED, RECORD_CREATED, location)
}

/// A confirmation (`{message}`) with its status and, when given, a `Location`.
pub(super) fn message(
    status: StatusCode,
    body: &'static str,
    location: Option<String>,
) -> Response {
    let mut response = (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        )],
        body,
    )
        .into_response();
    if let Some(value) = location.and_then(|l| HeaderValue::try_from(l).ok()) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

pub(super) fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}
