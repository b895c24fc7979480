//! The Domain API's domains: the list, one domain's details, its nameservers (read and set),
//! its LiveDNS status and the move to LiveDNS. Shapes from Gandi's reference
//! (`https://api.gandi.net/docs/domains/`, the examples of "List domains", "Domain details",
//! "Nameservers Management", "LiveDNS Management"); registrar data is placeholder in that shape.

use axum::http::{Method, StatusCode, header};
use axum::response::Response;
use serde::Serialize;
use serde_json::{Value, json};

use super::organization::{USER, query_pairs};
use super::{Cx, json, message, not_allowed, to_json};
use crate::livedns::error::{ApiError, FieldError};
use crate::store::{Denied, DnsMode, Domain, Fqdn, Need, State, glob_matches, organization_uuid};

/// What a write answers (inferred: the reference gives a `{message}` without its words or
/// status; Gandi's registry operations are asynchronous, hence 202).
const NAMESERVERS_UPDATED: &str = "Nameservers update in progress";
const LIVEDNS_ENABLED: &str = "LiveDNS enabled";

pub(super) fn answer(cx: &Cx, rest: &str, bytes: &[u8]) -> Result<Response, ApiError> {
    let segments: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["domains"] if cx.method == Method::GET => list(cx),
        ["domains"] => Err(not_allowed(cx, "GET")),
        ["domains", d, tail @ ..] if !d.is_empty() => {
            let fqdn = Fqdn::parse(d).map_err(|_| ApiError::NotFound)?;
            match (tail, &cx.method) {
                ([], &Method::GET) => details(cx, &fqdn),
                (["nameservers"], &Method::GET) => nameservers(cx, &fqdn),
                (["nameservers"], &Method::PUT) => set_nameservers(cx, &fqdn, bytes),
                (["livedns"], &Method::GET) => livedns(cx, &fqdn),
                (["livedns"], &Method::POST) => enable_livedns(cx, &fqdn),
                ([], _) => Err(not_allowed(cx, "GET")),
                (["nameservers"], _) => Err(not_allowed(cx, "GET, PUT")),
                (["livedns"], _) => Err(not_allowed(cx, "GET, POST")),
                // Contacts, renewal, transfer, glue records...: not served by the mock.
                _ => Err(ApiError::NotFound),
            }
        }
        _ => Err(ApiError::NotFound),
    }
}

/// The caller's rights on a domain of the account: a domain it may not reach is unknown, as
/// LiveDNS answers (certbot-plugin-gandi#40: a 404 of 99 bytes for a domain outside a token).
fn access<'s>(s: &'s State, cx: &Cx, fqdn: &Fqdn, need: Need) -> Result<&'s Domain, ApiError> {
    let sharing_id = query_pairs(cx.query)
        .find(|(k, _)| *k == "sharing_id")
        .map(|(_, v)| v);
    s.domain_access(&cx.cred, fqdn, sharing_id, need)
        .map_err(|d| match d {
            Denied::Forbidden => ApiError::Forbidden,
            _ => ApiError::UnknownDomain,
        })
}

/// `abc` (Gandi's classic DNS), `livedns` or `other`, as the list's `nameserver.current`.
fn list_kind(d: &Domain) -> &'static str {
    match (d.delegated_to_gandi(), d.dns) {
        (false, _) => "other",
        (true, DnsMode::Livedns) => "livedns",
        (true, DnsMode::Legacy) => "abc",
    }
}

/// `classic`, `livedns` or `other`, as the LiveDNS status's `current`.
fn livedns_kind(d: &Domain) -> &'static str {
    match list_kind(d) {
        "abc" => "classic",
        other => other,
    }
}

fn tld(fqdn: &Fqdn) -> &str {
    fqdn.as_str().rsplit('.').next().unwrap_or_default()
}

/// Placeholder registry dates, in the reference's shape.
fn dates() -> Value {
    json!({
        "created_at": "2019-02-13T11:04:18Z",
        "registry_created_at": "2019-02-13T10:04:18Z",
        "registry_ends_at": "2030-02-13T10:04:18Z",
        "updated_at": "2019-02-25T16:20:49Z"
    })
}

fn owner(d: &Domain) -> String {
    d.organization.clone().unwrap_or_else(|| USER.to_string())
}

fn item(cx: &Cx, d: &Domain) -> Value {
    json!({
        "status": ["clientTransferProhibited"],
        "dates": dates(),
        "tags": [],
        "fqdn": d.fqdn.as_str(),
        "id": organization_uuid(&format!("domain {}", d.fqdn)),
        "autorenew": false,
        "tld": tld(&d.fqdn),
        "owner": owner(d),
        "orga_owner": owner(d),
        "domain_owner": "Mock User",
        "nameserver": {"current": list_kind(d)},
        "href": format!("{}/v5/domain/domains/{}", cx.origin, d.fqdn),
        "fqdn_unicode": d.fqdn.as_str(),
    })
}

/// `GET /domains`: `?fqdn=` (with `*` patterns), `?nameserver=abc|livedns|other`, `?tld=`,
/// `?page=&per_page=`; header `total-count`.
fn list(cx: &Cx) -> Result<Response, ApiError> {
    if !cx.cred.rights.allow(Need::DomainRead) {
        return Err(ApiError::Forbidden);
    }
    let (mut page, mut per_page) = (1usize, None);
    let mut errors = Vec::new();
    let query: Vec<(&str, &str)> = query_pairs(cx.query).collect();
    for (key, value) in &query {
        let number = || value.parse::<usize>().ok().filter(|n| *n >= 1);
        match *key {
            "page" | "per_page" => match number() {
                Some(n) if *key == "page" => page = n,
                Some(n) => per_page = Some(n),
                None => errors.push(FieldError::new(
                    "querystring",
                    *key,
                    format!("\"{value}\" is not a number greater than or equal to 1"),
                )),
            },
            "nameserver" if !["abc", "livedns", "other"].contains(value) => {
                errors.push(FieldError::new(
                    "querystring",
                    "nameserver",
                    format!("\"{value}\" is not one of abc, livedns, other"),
                ));
            }
            _ => {}
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let items: Vec<Value> = cx.app.store.read(|s| {
        s.domains()
            .filter(|d| access(s, cx, &d.fqdn, Need::DomainRead).is_ok())
            .filter(|d| {
                query.iter().all(|(key, value)| match *key {
                    "fqdn" => glob_matches(value, d.fqdn.as_str()),
                    "nameserver" => list_kind(d) == *value,
                    "tld" => tld(&d.fqdn) == *value,
                    _ => true,
                })
            })
            .map(|d| item(cx, d))
            .collect()
    });
    let total = items.len();
    let shown: Vec<Value> = match per_page {
        Some(n) => items.into_iter().skip((page - 1) * n).take(n).collect(),
        None => items.into_iter().skip((page - 1) * 100).take(100).collect(),
    };
    let mut response = json(StatusCode::OK, to_json(&shown));
    if let Ok(value) = total.to_string().parse() {
        response.headers_mut().insert("total-count", value);
    }
    Ok(response)
}

/// `GET /domains/{domain}`: the list's item with the details' fields.
fn details(cx: &Cx, fqdn: &Fqdn) -> Result<Response, ApiError> {
    let body = cx.app.store.read(|s| {
        let d = access(s, cx, fqdn, Need::DomainRead)?;
        let mut body = item(cx, d);
        let contact = json!({
            "city": "Paris", "given": "Mock", "family": "User", "zip": "75001",
            "extra_parameters": {}, "country": "FR", "streetaddr": "5 rue neuve",
            "data_obfuscated": true, "mail_obfuscated": true, "phone": "+33.123456789",
            "state": "FR-IDF", "type": "individual", "email": "mock-user@example.org"
        });
        let href = format!("{}/v5/domain/domains/{}", cx.origin, d.fqdn);
        let extra = json!({
            "can_tld_lock": true,
            "reachability": "done",
            "nameservers": d.delegated_to(),
            "contacts": {"admin": contact, "bill": contact, "tech": contact, "owner": contact},
            "autorenew": {"dates": [], "org_id": organization_uuid(&owner(d)), "duration": 1,
                          "href": format!("{href}/autorenew"), "enabled": false},
            "authinfo": "mock-authinfo",
            "sharing_space": {"type": if d.organization.is_some() { "organization" } else { "user" },
                              "id": organization_uuid(&owner(d)), "name": owner(d)},
            "services": if d.dns == DnsMode::Livedns { json!(["gandilivedns"]) } else { json!([]) },
            "trustee_roles": [],
        });
        if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
            b.remove("autorenew");
            b.remove("nameserver");
            b.extend(e);
        }
        Ok::<_, ApiError>(body)
    })?;
    Ok(json(StatusCode::OK, to_json(&body)))
}

fn nameservers(cx: &Cx, fqdn: &Fqdn) -> Result<Response, ApiError> {
    let names = cx
        .app
        .store
        .read(|s| access(s, cx, fqdn, Need::DomainRead).map(Domain::delegated_to))?;
    Ok(json(StatusCode::OK, to_json(&names)))
}

#[derive(serde::Deserialize)]
struct NameserversBody {
    nameservers: Vec<String>,
}

/// `PUT /domains/{domain}/nameservers`: `{"nameservers": [...]}`; an empty list is refused
/// in Gandi's words (terraform-provider-gandi#88: "nameservers.0: At least one nameserver is
/// required"). Nameservers that are not Gandi's take the zone away from the mock's DNS.
fn set_nameservers(cx: &Cx, fqdn: &Fqdn, bytes: &[u8]) -> Result<Response, ApiError> {
    let body: NameserversBody = serde_json::from_slice(bytes).map_err(|_| {
        ApiError::Validation(vec![FieldError::new("body", "nameservers", "Required")])
    })?;
    if body.nameservers.is_empty() {
        return Err(ApiError::Validation(vec![FieldError::new(
            "body",
            "nameservers.0",
            "At least one nameserver is required",
        )]));
    }
    let names: Vec<String> = body
        .nameservers
        .iter()
        .map(|n| n.trim_end_matches('.').to_ascii_lowercase())
        .collect();
    cx.app.store.write(|s| {
        access(s, cx, fqdn, Need::Write)?;
        s.set_nameservers(fqdn, names).map_err(ApiError::from)
    })?;
    Ok(message(StatusCode::ACCEPTED, NAMESERVERS_UPDATED))
}

#[derive(Serialize)]
struct LiveDnsStatus {
    dnssec_available: bool,
    livednssec_available: bool,
    nameservers: Vec<String>,
    current: &'static str,
}

fn livedns(cx: &Cx, fqdn: &Fqdn) -> Result<Response, ApiError> {
    let status = cx.app.store.read(|s| {
        access(s, cx, fqdn, Need::DomainRead).map(|d| LiveDnsStatus {
            dnssec_available: true,
            livednssec_available: true,
            nameservers: d.delegated_to(),
            current: livedns_kind(d),
        })
    })?;
    Ok(json(StatusCode::OK, to_json(&status)))
}

/// `POST /domains/{domain}/livedns`: "apply the correct LiveDNS nameservers ... if the domain
/// is on the classic Gandi DNS, this will also perform a copy of all existing records"
/// (Gandi's reference). The copy is the active version of the domain's legacy zone.
fn enable_livedns(cx: &Cx, fqdn: &Fqdn) -> Result<Response, ApiError> {
    cx.app.store.write(|s| {
        access(s, cx, fqdn, Need::Write)?;
        s.move_to_livedns(fqdn)?;
        s.set_nameservers(fqdn, Vec::new()).map_err(ApiError::from)
    })?;
    let mut response = message(StatusCode::ACCEPTED, LIVEDNS_ENABLED);
    if let Ok(location) = format!("{}/v5/domain/domains/{fqdn}/livedns", cx.origin).parse() {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}
