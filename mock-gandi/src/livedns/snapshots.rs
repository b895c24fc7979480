//! Snapshots of a domain (`/domains/{fqdn}/snapshots[/{id}]`): list, take, show (with the zone
//! data, or as a zone file), rename, delete. Fields and query parameters are those of Gandi's
//! reference ("Snapshots of a domain", "Snapshots operations").

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde::Serialize;

use super::context::{Cx, access, json, message, to_json, with_header, zone};
use super::error::{ApiError, FieldError};
use super::extract::{Fields, json_object};
use super::paths::Target;
use super::zone_text;
use crate::store::{Fqdn, Need, RrSet, Snapshot};

/// What `POST /snapshots` answers besides the id (inferred: the reference gives the fields,
/// not the words; the old host's fixture said "Zone Snapshot Created").
const SNAPSHOT_CREATED: &str = "Snapshot Created";
/// What a rename answers (inferred).
const SNAPSHOT_UPDATED: &str = r#"{"message": "Snapshot updated"}"#;

pub(super) fn answer(cx: &Cx, target: Target, bytes: &[u8]) -> Result<Response, ApiError> {
    match (target, &cx.method) {
        (Target::Snapshots(d), &Method::GET) => list(cx, &zone(d)?),
        (Target::Snapshots(d), _) => create(cx, &zone(d)?, bytes),
        (Target::Snapshot(d, id), &Method::GET) => show(cx, &zone(d)?, id),
        (Target::Snapshot(d, id), &Method::PATCH) => rename(cx, &zone(d)?, id, bytes),
        (Target::Snapshot(d, id), _) => delete(cx, &zone(d)?, id),
        _ => Err(ApiError::NotFound),
    }
}

/// One snapshot in a listing.
#[derive(Serialize)]
struct Item<'a> {
    id: &'a str,
    name: &'a str,
    created_at: String,
    automatic: bool,
    href: String,
}

fn item<'a>(cx: &Cx, fqdn: &Fqdn, s: &'a Snapshot) -> Item<'a> {
    Item {
        id: &s.id,
        name: &s.name,
        created_at: created_at(s),
        automatic: s.automatic,
        href: format!("{}/snapshots/{}", cx.base.domain(fqdn), s.id),
    }
}

/// `2019-08-30T12:44:41Z`, as the reference's examples show it (seconds, UTC, `Z`).
fn created_at(s: &Snapshot) -> String {
    let t = s.created_at;
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn list(cx: &Cx, fqdn: &Fqdn) -> Result<Response, ApiError> {
    let reverse = match cx.query.sort_by.as_deref() {
        None | Some("date_created") => false,
        Some("-date_created") => true,
        Some(other) => {
            return Err(ApiError::Validation(vec![super::extract::one_of(
                "sort_by",
                other,
                &["date_created", "-date_created"],
            )]));
        }
    };
    let mut snapshots: Vec<Snapshot> = cx.app.store.read(|s| {
        access(s, cx, fqdn, Need::Read)?;
        Ok::<_, ApiError>(
            s.snapshots(fqdn)?
                .iter()
                .filter(|s| cx.query.automatic.is_none_or(|a| a == s.automatic))
                .cloned()
                .collect(),
        )
    })?;
    if reverse {
        snapshots.reverse();
    }
    let total = snapshots.len();
    let page = cx.query.page(snapshots);
    let items: Vec<Item> = page.iter().map(|s| item(cx, fqdn, s)).collect();
    Ok(with_header(
        json(StatusCode::OK, to_json(&items)),
        axum::http::header::HeaderName::from_static("total-count"),
        &total.to_string(),
    ))
}

fn create(cx: &Cx, fqdn: &Fqdn, bytes: &[u8]) -> Result<Response, ApiError> {
    let map = json_object(bytes)?;
    let mut errors = Vec::new();
    let name = Fields::new(&map, String::new(), &mut errors).optional_string("name");
    let Some(name) = name.filter(|_| errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let id = cx.app.store.write(|s| {
        access(s, cx, fqdn, Need::Write)?;
        s.create_snapshot(fqdn, name).map_err(ApiError::from)
    })?;
    let body = format!(
        r#"{{"message": "{SNAPSHOT_CREATED}", "id": {}}}"#,
        to_json(&id)
    );
    let location = format!("{}/snapshots/{id}", cx.base.domain(fqdn));
    Ok(with_header(
        json(StatusCode::CREATED, body),
        axum::http::header::LOCATION,
        &location,
    ))
}

/// A snapshot's zone data: the rrsets without their hrefs.
#[derive(Serialize)]
struct ZoneItem<'a> {
    rrset_name: &'a str,
    rrset_type: &'a str,
    rrset_ttl: u32,
    rrset_values: &'a [String],
}

#[derive(Serialize)]
struct Shown<'a> {
    name: &'a str,
    id: &'a str,
    created_at: String,
    href: String,
    automatic: bool,
    zone_data: Vec<ZoneItem<'a>>,
}

fn find(cx: &Cx, fqdn: &Fqdn, id: &str, need: Need) -> Result<Snapshot, ApiError> {
    cx.app.store.read(|s| {
        access(s, cx, fqdn, need)?;
        s.snapshots(fqdn)?
            .get(id)
            .cloned()
            .ok_or(ApiError::NotFound)
    })
}

fn show(cx: &Cx, fqdn: &Fqdn, id: &str) -> Result<Response, ApiError> {
    let snapshot = find(cx, fqdn, id, Need::Read)?;
    let mut rrsets: Vec<RrSet> = snapshot.rrsets.values().cloned().collect();
    rrsets.sort_by(super::records::listing_order);
    if zone_text::wanted(cx.headers) {
        return Ok(zone_text::response(&rrsets, None));
    }
    let body = Shown {
        name: &snapshot.name,
        id: &snapshot.id,
        created_at: created_at(&snapshot),
        href: format!("{}/snapshots/{}", cx.base.domain(fqdn), snapshot.id),
        automatic: snapshot.automatic,
        zone_data: rrsets
            .iter()
            .map(|r| ZoneItem {
                rrset_name: r.name.as_str(),
                rrset_type: r.rtype.as_str(),
                rrset_ttl: r.ttl,
                rrset_values: &r.values,
            })
            .collect(),
    };
    Ok(json(StatusCode::OK, to_json(&body)))
}

fn rename(cx: &Cx, fqdn: &Fqdn, id: &str, bytes: &[u8]) -> Result<Response, ApiError> {
    let map = json_object(bytes)?;
    let mut errors: Vec<FieldError> = Vec::new();
    let name = Fields::new(&map, String::new(), &mut errors).string("name");
    let Some(name) = name.filter(|_| errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    cx.app.store.write(|s| {
        access(s, cx, fqdn, Need::Write)?;
        s.rename_snapshot(fqdn, id, &name).map_err(ApiError::from)
    })?;
    Ok(message(StatusCode::OK, SNAPSHOT_UPDATED, None))
}

fn delete(cx: &Cx, fqdn: &Fqdn, id: &str) -> Result<Response, ApiError> {
    cx.app.store.write(|s| {
        access(s, cx, fqdn, Need::Write)?;
        s.delete_snapshot(fqdn, id).map_err(ApiError::from)
    })?;
    Ok(super::context::no_content())
}
