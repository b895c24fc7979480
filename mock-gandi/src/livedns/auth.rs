//! Who is calling: the credential each host accepts, and the error each wrong one gets
//! (gandi-wire.md §2 and §4.2).
//!
//! - current host (`/v5/livedns`): `Authorization: Bearer <PAT>` or `Authorization: Apikey <key>`;
//! - old host (`/api/v5`): `X-Api-Key: <key>`, or, without it, the current host's
//!   `Authorization` header: gandi-2-terraform 1.3.3 (2025, `gandi_tf/main.py`,
//!   `fetch_records`) reads `dns.api.gandi.net/api/v5/domains/{domain}/records` with
//!   `Authorization: Apikey <key>` or `Bearer <pat>` and nothing else, so the old host takes
//!   them (the gateway in front of both hosts is one).
//!
//! As of a date (`crate::era::Era`): before personal access tokens existed a Bearer token is
//! no credential at all (`personal_access_tokens`), and before 2025 the old host reads
//! `X-Api-Key` only (`old_host_reads_authorization`).

use std::sync::Arc;

use axum::http::HeaderMap;
use time::OffsetDateTime;

use super::Generation;
use super::error::ApiError;
use crate::store::{Credential, CredentialKind, State};

/// Authenticates a request against the store's credentials.
pub(crate) fn authenticate(
    generation: Generation,
    headers: &HeaderMap,
    state: &State,
    now: OffsetDateTime,
) -> Result<Arc<Credential>, ApiError> {
    match generation {
        Generation::Current => current(headers, state, now),
        Generation::Old => old(headers, state, now),
    }
}

fn current(
    headers: &HeaderMap,
    state: &State,
    now: OffsetDateTime,
) -> Result<Arc<Credential>, ApiError> {
    // Anything but Bearer or Apikey (X-Api-Key included) is "no credentials" to the gateway.
    let Some((scheme, token)) = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(char::is_whitespace))
        .map(|(s, t)| (s, t.trim()))
        .filter(|(_, t)| !t.is_empty())
    else {
        return Err(ApiError::NoCredentials);
    };
    let pat = state.credential(token, CredentialKind::Pat);
    if scheme.eq_ignore_ascii_case("bearer") && !state.era().personal_access_tokens() {
        return Err(ApiError::NoCredentials);
    }
    match scheme {
        s if s.eq_ignore_ascii_case("bearer") => match pat {
            Some(c) if !c.is_expired(now) => Ok(c.clone()),
            _ => Err(ApiError::Forbidden),
        },
        s if s.eq_ignore_ascii_case("apikey") => {
            match state.credential(token, CredentialKind::ApiKey) {
                Some(c) if !c.is_expired(now) => Ok(c.clone()),
                // A PAT is known to the gateway, just not as an API key.
                _ if pat.is_some() => Err(ApiError::Forbidden),
                _ => Err(ApiError::BadApiKey),
            }
        }
        _ => Err(ApiError::NoCredentials),
    }
}

fn old(
    headers: &HeaderMap,
    state: &State,
    now: OffsetDateTime,
) -> Result<Arc<Credential>, ApiError> {
    let key = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or_default();
    if key.is_empty() && headers.contains_key(http::header::AUTHORIZATION) {
        if state.era().old_host_reads_authorization() {
            return current(headers, state, now);
        }
        // qdm12/ddns-updater#852 (2024-11): a Bearer PAT on the old host → 403; an
        // `Authorization: Apikey` alone is no key at all (Danamir/dyn-gandi#27, 2021-12).
        let bearer = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_whitespace().next())
            .is_some_and(|s| s.eq_ignore_ascii_case("bearer"));
        if bearer && state.era().personal_access_tokens() {
            return Err(ApiError::Forbidden);
        }
        return Err(ApiError::BadApiKey);
    }
    if key.is_empty() {
        return Err(ApiError::BadApiKey);
    }
    match state.credential(key, CredentialKind::ApiKey) {
        Some(c) if !c.is_expired(now) => Ok(c.clone()),
        Some(_) => Err(ApiError::BadApiKey),
        None if state.credential(key, CredentialKind::Pat).is_some() => Err(ApiError::ServerError),
        // The old backend fails on a token it cannot even look up as a key: any PAT-shaped
        // value crashes it, seeded or not (lego < 4.29 users hit this with a PAT).
        None if looks_like_pat(key) && !state.knows_secret(key) => Err(ApiError::ServerError),
        None => Err(ApiError::BadApiKey),
    }
}

/// 40 lowercase hex characters (every real PAT seen) or the documented `pat_...` shape.
fn looks_like_pat(key: &str) -> bool {
    key.starts_with("pat_")
        || (key.len() == 40 && key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}
