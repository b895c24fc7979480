//! The Organization API: the user the credential belongs to, and the organizations it
//! reaches (the ids tools pass as `sharing_id`). Shapes from Gandi's reference
//! (`https://api.gandi.net/docs/organization/`, "Get user information", "List
//! organizations"); the user's own data is placeholder.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde::Serialize;

use super::{Cx, json, not_allowed, to_json};
use crate::livedns::error::ApiError;
use crate::store::{Need, organization_uuid};

/// The account's user: its personal organization carries this name.
pub(super) const USER: &str = "mock-user";

pub(super) fn answer(cx: &Cx, rest: &str) -> Result<Response, ApiError> {
    match rest {
        "/user-info" | "/organizations" if cx.method != Method::GET => Err(not_allowed(cx, "GET")),
        "/user-info" => Ok(json(StatusCode::OK, to_json(&user_info()))),
        "/organizations" => organizations(cx),
        _ => Err(ApiError::NotFound),
    }
}

#[derive(Serialize)]
struct UserInfo {
    id: String,
    username: &'static str,
    email: &'static str,
    name: &'static str,
    firstname: &'static str,
    lastname: &'static str,
    streetaddr: &'static str,
    zip: &'static str,
    city: &'static str,
    state: &'static str,
    country: &'static str,
    phone: &'static str,
    lang: &'static str,
}

fn user_info() -> UserInfo {
    UserInfo {
        id: organization_uuid(USER),
        username: USER,
        email: "mock-user@example.org",
        name: USER,
        firstname: "Mock",
        lastname: "User",
        streetaddr: "5 rue neuve",
        zip: "75001",
        city: "Paris",
        state: "FR-IDF",
        country: "FR",
        phone: "+33.123456789",
        lang: "en",
    }
}

#[derive(Serialize)]
struct Organization {
    name: String,
    firstname: &'static str,
    lastname: &'static str,
    id: String,
    reseller: bool,
    corporate: bool,
    #[serde(rename = "type")]
    kind: &'static str,
    email: &'static str,
}

/// The user's own organization (`individual`), then every organization a domain or a
/// credential names (`company`, inferred), sorted by name (the reference's default `sort_by`);
/// `?name=` and `?type=` filter.
/// It needs "View Organization" (inferred: steampipe-plugin-gandi's config asks for that
/// right to list organizations); the user's own information needs none (inferred).
fn organizations(cx: &Cx) -> Result<Response, ApiError> {
    if !cx.cred.rights.allow(Need::OrganizationRead) {
        return Err(ApiError::Forbidden);
    }
    let named: BTreeSet<String> = cx.app.store.read(|s| {
        s.domains()
            .filter_map(|d| d.organization.clone())
            .chain(cx.cred.organization.clone())
            .collect()
    });
    let mut list: Vec<Organization> = std::iter::once((USER.to_string(), "individual"))
        .chain(named.into_iter().map(|n| (n, "company")))
        .map(|(name, kind)| Organization {
            id: organization_uuid(&name),
            name,
            firstname: "Mock",
            lastname: "User",
            reseller: false,
            corporate: kind == "company",
            kind,
            email: "mock-user@example.org",
        })
        .collect();
    list.sort_by(|a, b| a.name.cmp(&b.name));
    for (key, value) in query_pairs(cx.query) {
        match key {
            "name" => list.retain(|o| o.name == value),
            "type" => list.retain(|o| o.kind == value),
            _ => {}
        }
    }
    Ok(json(StatusCode::OK, to_json(&list)))
}

/// `key=value` pairs of a query (values as sent: names have no escapes to decode).
pub(super) fn query_pairs(query: Option<&str>) -> impl Iterator<Item = (&str, &str)> {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
}
