//! DNSSEC keys of a domain (`/domains/{fqdn}/keys[/{id}]`): list, create, show, delete
//! (softly) and undelete. Fields are those of Gandi's reference ("DNSSEC keys", "Manipulate a
//! specific DNSSEC key", `#get-v5-livedns-domains-fqdn-keys`); the confirmation words and the
//! statuses are not in the reference's scrape and are inferred from the records' endpoints.

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde::Serialize;
use serde_json::Value;

use super::context::{Cx, access, json, message, no_content, to_json, zone};
use super::error::{ApiError, FieldError};
use super::extract::json_object;
use super::paths::Target;
use crate::store::{
    DNSSEC_ALGORITHM, DNSSEC_ALGORITHM_NAME, DNSSEC_FLAGS, DnssecKey, Fqdn, KeyError, Need,
};

/// What `POST /keys` answers (inferred: the reference shows a `{message}` without its words).
const KEY_CREATED: &str = r#"{"message": "DNSSEC Key Created"}"#;
/// What an undelete answers (inferred, likewise).
const KEY_UPDATED: &str = r#"{"message": "DNSSEC Key Updated"}"#;

pub(super) fn answer(cx: &Cx, target: Target, bytes: &[u8]) -> Result<Response, ApiError> {
    match (target, &cx.method) {
        (Target::Keys(d), &Method::GET) => list(cx, &zone(d)?),
        (Target::Keys(d), _) => create(cx, &zone(d)?, bytes),
        (Target::Key(d, id), &Method::GET) => show(cx, &zone(d)?, id),
        (Target::Key(d, id), &Method::PATCH) => undelete(cx, &zone(d)?, id, bytes),
        (Target::Key(d, id), _) => delete(cx, &zone(d)?, id),
        _ => Err(ApiError::NotFound),
    }
}

/// A key in a listing, fields in the order of the reference's example.
#[derive(Serialize)]
struct Item<'a> {
    algorithm: u8,
    algorithm_name: &'static str,
    deleted: bool,
    ds: String,
    flags: u16,
    fqdn: &'a str,
    key_href: String,
    status: &'static str,
    id: &'a str,
}

/// A key shown alone: the listing's fields, its fingerprint, public key and tag.
#[derive(Serialize)]
struct Shown<'a> {
    algorithm: u8,
    algorithm_name: &'static str,
    deleted: bool,
    ds: String,
    fingerprint: String,
    flags: u16,
    fqdn: &'a str,
    id: &'a str,
    key_href: String,
    public_key: String,
    status: &'static str,
    tag: u16,
}

/// "Current status of the key": the reference shows only `active`; a deleted key's status
/// is inferred.
fn status(key: &DnssecKey) -> &'static str {
    if key.deleted { "deleted" } else { "active" }
}

fn href(cx: &Cx, fqdn: &Fqdn, key: &DnssecKey) -> String {
    format!("{}/{}", cx.base.keys(fqdn), key.id)
}

fn item<'a>(cx: &Cx, fqdn: &'a Fqdn, key: &'a DnssecKey) -> Item<'a> {
    Item {
        algorithm: DNSSEC_ALGORITHM,
        algorithm_name: DNSSEC_ALGORITHM_NAME,
        deleted: key.deleted,
        ds: key.ds(fqdn),
        flags: key.flags,
        fqdn: fqdn.as_str(),
        key_href: href(cx, fqdn, key),
        status: status(key),
        id: &key.id,
    }
}

fn list(cx: &Cx, fqdn: &Fqdn) -> Result<Response, ApiError> {
    let keys: Vec<DnssecKey> = cx.app.store.read(|s| {
        access(s, cx, fqdn, Need::Read)?;
        Ok::<_, ApiError>(s.dnssec_keys(fqdn)?.iter().cloned().collect())
    })?;
    let items: Vec<Item> = keys.iter().map(|k| item(cx, fqdn, k)).collect();
    Ok(json(StatusCode::OK, to_json(&items)))
}

/// `flags`, required, one of 256 and 257 (the reference: "Key flags (ZSK=256, KSK=257)").
fn flags(bytes: &[u8]) -> Result<u16, ApiError> {
    let map = json_object(bytes)?;
    let choices = || {
        let list: Vec<String> = DNSSEC_FLAGS.iter().map(u16::to_string).collect();
        list.join(", ")
    };
    match map.get("flags") {
        None | Some(Value::Null) => Err(ApiError::invalid("body", "flags", "Required")),
        Some(Value::Number(n))
            if n.as_u64()
                .is_some_and(|f| DNSSEC_FLAGS.iter().any(|&k| u64::from(k) == f)) =>
        {
            Ok(n.as_u64().and_then(|f| u16::try_from(f).ok()).unwrap_or(0))
        }
        Some(other) => Err(ApiError::Validation(vec![FieldError::new(
            "body",
            "flags",
            format!("\"{other}\" is not one of {}", choices()),
        )])),
    }
}

fn create(cx: &Cx, fqdn: &Fqdn, bytes: &[u8]) -> Result<Response, ApiError> {
    let flags = flags(bytes)?;
    let id = cx.app.store.write(|s| {
        access(s, cx, fqdn, Need::Write)?;
        s.create_dnssec_key(fqdn, flags).map_err(|e| match e {
            KeyError::Store(e) => ApiError::from(e),
            KeyError::NoRandomness => ApiError::ServerError,
        })
    })?;
    let location = format!("{}/{id}", cx.base.keys(fqdn));
    Ok(message(StatusCode::CREATED, KEY_CREATED, Some(location)))
}

fn find(cx: &Cx, fqdn: &Fqdn, id: &str) -> Result<DnssecKey, ApiError> {
    cx.app.store.read(|s| {
        access(s, cx, fqdn, Need::Read)?;
        s.dnssec_keys(fqdn)?
            .get(id)
            .cloned()
            .ok_or(ApiError::NotFound)
    })
}

fn show(cx: &Cx, fqdn: &Fqdn, id: &str) -> Result<Response, ApiError> {
    let key = find(cx, fqdn, id)?;
    let body = Shown {
        algorithm: DNSSEC_ALGORITHM,
        algorithm_name: DNSSEC_ALGORITHM_NAME,
        deleted: key.deleted,
        ds: key.ds(fqdn),
        fingerprint: key.fingerprint(),
        flags: key.flags,
        fqdn: fqdn.as_str(),
        id: &key.id,
        key_href: href(cx, fqdn, &key),
        public_key: key.public_key_base64(),
        status: status(&key),
        tag: key.tag(),
    };
    Ok(json(StatusCode::OK, to_json(&body)))
}

/// `PATCH {"deleted": false}`: the reference's only accepted value ("One of: false").
fn undelete(cx: &Cx, fqdn: &Fqdn, id: &str, bytes: &[u8]) -> Result<Response, ApiError> {
    let map = json_object(bytes)?;
    match map.get("deleted") {
        Some(Value::Bool(false)) => {}
        None | Some(Value::Null) => return Err(ApiError::invalid("body", "deleted", "Required")),
        Some(other) => {
            return Err(ApiError::invalid(
                "body",
                "deleted",
                format!("\"{other}\" is not one of false"),
            ));
        }
    }
    set_deleted(cx, fqdn, id, false)?;
    Ok(message(StatusCode::OK, KEY_UPDATED, None))
}

fn delete(cx: &Cx, fqdn: &Fqdn, id: &str) -> Result<Response, ApiError> {
    set_deleted(cx, fqdn, id, true)?;
    Ok(no_content())
}

fn set_deleted(cx: &Cx, fqdn: &Fqdn, id: &str, deleted: bool) -> Result<(), ApiError> {
    let found = cx.app.store.write(|s| {
        access(s, cx, fqdn, Need::Write)?;
        s.set_dnssec_key_deleted(fqdn, id, deleted)
            .map_err(ApiError::from)
    })?;
    if found {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}
