//! Domains: the list, one domain's properties and nameservers, the generic nameservers; the
//! record types (`/dns/rrtypes`).

use axum::http::{Method, StatusCode, header};
use axum::response::Response;
use serde::Serialize;
use serde_json::Value;

use super::context::{Cx, access, json, message, to_json, with_header, zone};
use super::error::ApiError;
use super::extract::{Fields, json_object, rrtypes};
use super::paths::{Target, path_fqdn};
use super::records::{FullRrset, read_full_rrset};
use super::zones::zone_uuid;
use crate::store::{Fqdn, NAMESERVERS, Need, RecordType, RelName};

/// What `POST /domains` answers (gandi-wire.md §4.1 gives it spaced).
const DOMAIN_CREATED: &str = r#"{"message": "Domain Created"}"#;
/// What `PATCH /domains/{fqdn}` answers (inferred: the reference gives a `{message}` body
/// without its text; the words follow the record writes' "DNS Record Created").
const DOMAIN_UPDATED: &str = r#"{"message": "Domain updated"}"#;

pub(super) fn answer(cx: &Cx, target: Target, bytes: &[u8]) -> Result<Response, ApiError> {
    match (target, &cx.method) {
        (Target::Domains, &Method::GET) => list_domains(cx),
        (Target::Domains, _) => create_domain(cx, bytes),
        (Target::Domain(d), &Method::GET) => get_domain(cx, &zone(d)?),
        (Target::Domain(d), _) => patch_domain(cx, &zone(d)?, bytes),
        (Target::Nameservers(d), _) => nameservers(cx, &zone(d)?),
        _ => Ok(json(StatusCode::OK, to_json(&rrtypes()))),
    }
}

#[derive(Serialize)]
struct DomainItem<'a> {
    fqdn: &'a str,
    domain_href: String,
    domain_records_href: String,
}

fn list_domains(cx: &Cx) -> Result<Response, ApiError> {
    if !cx.cred.rights.allow(Need::Read) {
        return Err(ApiError::Forbidden);
    }
    let fqdns: Vec<Fqdn> = cx.app.store.read(|s| {
        s.domains()
            .filter(|d| access(s, cx, &d.fqdn, Need::Read).is_ok())
            .map(|d| d.fqdn.clone())
            .collect()
    });
    let total = fqdns.len();
    let items: Vec<DomainItem> = cx
        .query
        .page(fqdns.iter().collect())
        .into_iter()
        .map(|f| DomainItem {
            fqdn: f.as_str(),
            domain_href: cx.base.domain(f),
            domain_records_href: cx.base.records(f),
        })
        .collect();
    Ok(with_header(
        json(StatusCode::OK, to_json(&items)),
        header::HeaderName::from_static("total-count"),
        &total.to_string(),
    ))
}

/// `POST /domains`: `{"fqdn": ..., "zone": {"ttl": ..., "items": [...]}}`. Gandi's reference
/// creates the domain "with its records" (`zone.items`, rrsets as `PUT .../records` takes
/// them, checked alike and named `zone.items` in an error); go-gandi sends `zone.ttl`
/// (`livedns/types.go`), the TTL of the items that give none (inferred).
fn create_domain(cx: &Cx, bytes: &[u8]) -> Result<Response, ApiError> {
    let map = json_object(bytes)?;
    let mut errors = Vec::new();
    let fqdn = {
        let mut f = Fields::new(&map, String::new(), &mut errors);
        f.string("fqdn")
    };
    let fqdn = match fqdn.map(|t| Fqdn::parse(&t)) {
        Some(Ok(f)) if errors.is_empty() => f,
        Some(Err(i)) => return Err(ApiError::invalid("body", "fqdn", i.description)),
        _ => return Err(ApiError::Validation(errors)),
    };
    let items = zone_items(map.get("zone"), &fqdn)?;
    if !cx.cred.rights.allow(Need::Write) {
        return Err(ApiError::Forbidden);
    }
    let organization = cx.cred.organization.clone();
    cx.app
        .store
        .write(|s| s.create_domain(&fqdn, organization, &items))?;
    Ok(with_header(
        json(StatusCode::CREATED, DOMAIN_CREATED.to_string()),
        header::LOCATION,
        &cx.base.domain(&fqdn),
    ))
}

/// The rrsets `zone` gives a new domain, each without a TTL given `zone.ttl`.
fn zone_items(zone: Option<&Value>, fqdn: &Fqdn) -> Result<Vec<FullRrset>, ApiError> {
    let map = match zone {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Object(map)) => map,
        Some(other) => {
            return Err(ApiError::invalid(
                "body",
                "zone",
                format!("\"{other}\" is not a mapping type"),
            ));
        }
    };
    let mut errors = Vec::new();
    let read = {
        let mut f = Fields::new(map, "zone.".to_string(), &mut errors);
        let ttl = f.ttl_named("ttl");
        let items = if map.contains_key("items") {
            f.items(|item| read_full_rrset(item, fqdn, false))
        } else {
            Some(Vec::new())
        };
        ttl.zip(items)
    };
    match read {
        Some((ttl, mut items)) if errors.is_empty() => {
            for item in &mut items {
                item.2 = item.2.or(ttl);
            }
            Ok(items)
        }
        _ => Err(ApiError::Validation(errors)),
    }
}

/// `GET /domains/{fqdn}`: compact, in the recorded key order.
#[derive(Serialize)]
struct DomainJson<'a> {
    domain_keys_href: String,
    fqdn: &'a str,
    automatic_snapshots: bool,
    domain_records_href: String,
    domain_href: String,
}

fn get_domain(cx: &Cx, fqdn: &Fqdn) -> Result<Response, ApiError> {
    let automatic_snapshots = cx
        .app
        .store
        .read(|s| access(s, cx, fqdn, Need::Read).map(|d| d.automatic_snapshots))?;
    if cx.zones_era() {
        let body = ZonesEraDomainJson {
            zone_uuid: zone_uuid(fqdn),
            zone_records_href: format!("{}/records", cx.base.zone(fqdn)),
            fqdn: fqdn.as_str(),
            zone_href: cx.base.zone(fqdn),
            domain_href: cx.base.domain(fqdn),
            domain_keys_href: cx.base.keys(fqdn),
            domain_records_href: cx.base.records(fqdn),
        };
        return Ok(json(StatusCode::OK, to_json(&body)));
    }
    let body = DomainJson {
        domain_keys_href: cx.base.keys(fqdn),
        fqdn: fqdn.as_str(),
        automatic_snapshots,
        domain_records_href: cx.base.records(fqdn),
        domain_href: cx.base.domain(fqdn),
    };
    Ok(json(StatusCode::OK, to_json(&body)))
}

/// `GET /domains/{fqdn}` on the old host in the zones era (`Era::zones_api`): the members
/// Gandi/gandi.cli#285 dumped (2019-04), in its order (the wire order is not shown: inferred);
/// no `automatic_snapshots` in that dump.
#[derive(Serialize)]
struct ZonesEraDomainJson<'a> {
    zone_uuid: String,
    zone_records_href: String,
    fqdn: &'a str,
    zone_href: String,
    domain_href: String,
    domain_keys_href: String,
    domain_records_href: String,
}

/// `PATCH /domains/{fqdn}`: `automatic_snapshots`, the one property Gandi's reference lets a
/// client change.
fn patch_domain(cx: &Cx, fqdn: &Fqdn, bytes: &[u8]) -> Result<Response, ApiError> {
    let map = json_object(bytes)?;
    let mut errors = Vec::new();
    let automatic = Fields::new(&map, String::new(), &mut errors).boolean("automatic_snapshots");
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    cx.app.store.write(|s| {
        access(s, cx, fqdn, Need::Write)?;
        match automatic {
            Some(on) => s.set_automatic_snapshots(fqdn, on).map_err(ApiError::from),
            None => Ok(()),
        }
    })?;
    Ok(message(StatusCode::OK, DOMAIN_UPDATED, None))
}

/// `GET /domains/{fqdn}/nameservers`: the apex's NS rrset when the zone has one, else the
/// nameservers DNS names for it (as Gandi answers its hashed ones), without the final dot.
fn nameservers(cx: &Cx, fqdn: &Fqdn) -> Result<Response, ApiError> {
    let apex = RelName::parse("@").map_err(|_| ApiError::NotFound)?;
    let own = cx.app.store.read(|s| {
        access(s, cx, fqdn, Need::Read)?;
        Ok::<_, ApiError>(s.rrset(fqdn, &apex, RecordType::Ns))
    })?;
    let names: Vec<String> = match own {
        Some(ns) => ns
            .values
            .iter()
            .map(|v| v.trim_end_matches('.').to_string())
            .collect(),
        None => NAMESERVERS.iter().map(|n| n.to_string()).collect(),
    };
    Ok(json(StatusCode::OK, to_json(&names)))
}

/// `GET /nameservers/{fqdn}`, unauthenticated: the nameservers LiveDNS would give any domain.
pub(super) fn generic_nameservers(
    sent: &Method,
    method: &Method,
    raw: &str,
) -> Result<Response, ApiError> {
    if method != Method::GET {
        return Err(ApiError::MethodNotAllowed {
            method: sent.to_string(),
            allow: "GET",
        });
    }
    path_fqdn(raw).ok_or(ApiError::NotFound)?;
    Ok(json(StatusCode::OK, to_json(&NAMESERVERS)))
}
