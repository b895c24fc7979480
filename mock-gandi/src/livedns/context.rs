//! What every LiveDNS endpoint module shares: who is calling ([`Cx`]), the domain of a path
//! and the caller's rights on it, and the answers' common shapes.

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::error::ApiError;
use super::extract::ListQuery;
use super::paths::{Base, path_fqdn};
use crate::state::AppState;
use crate::store::{Credential, Denied, Domain, Fqdn, Need, State};

/// What every rrset write answers (compact, 32 bytes: acme.sh looks for exactly this).
const RECORD_CREATED: &str = r#"{"message":"DNS Record Created"}"#;

/// What a handler knows about its caller.
pub(super) struct Cx<'a> {
    pub app: &'a AppState,
    pub cred: Arc<Credential>,
    pub base: Base<'a>,
    pub query: ListQuery,
    pub headers: &'a HeaderMap,
    /// The method, HEAD read as GET.
    pub method: Method,
    /// Gandi as of the store's date, on this host: whether domains have zones
    /// (`Era::zones_api`, the old host only).
    pub zones: bool,
}

impl Cx<'_> {
    /// Whether this answer is the zones era's (`crate::era::Era::zones_api`).
    pub fn zones_era(&self) -> bool {
        self.zones
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

pub(crate) fn json(status: StatusCode, body: String) -> Response {
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

pub(crate) fn to_json<T: Serialize>(value: &T) -> String {
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
