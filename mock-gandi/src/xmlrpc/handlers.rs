//! v4 method handlers: a typed [`Call`] in, a [`Value`] or a [`Fault`] out, through the store.
//! The checks run in the order Gandi's answers show: body, key pattern, key known, method,
//! parameters, then the operation.

use time::OffsetDateTime;

use crate::store::{CredentialKind, LegacyRecord, LegacyZone, State, ZoneStore};

use super::calls::{Call, arity_fault, is_known_method};
use super::codec::{Value, parse_method_call};
use super::domain_info::{domain_value, id_value};
use super::faults::{Fault, FaultKind, OWNER_HANDLE, key_matches_pattern};

/// What one request did, for the response and the journal.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The method name, once the body parsed.
    pub method: Option<String>,
    /// True when a known v4 key authenticated the call.
    pub authenticated: bool,
    pub result: Result<Value, Fault>,
}

/// Handles one `methodCall` body against the store.
pub fn handle(store: &ZoneStore, body: &[u8]) -> Outcome {
    let call = match parse_method_call(body) {
        Ok(call) => call,
        Err(e) => {
            return Outcome {
                method: None,
                authenticated: false,
                result: Err(e.into()),
            };
        }
    };
    let method = call.method_name;
    let mut outcome = Outcome {
        method: Some(method.clone()),
        authenticated: false,
        result: Ok(Value::Nil),
    };

    let Some((key, params)) = call.params.split_first() else {
        outcome.result = Err(if is_known_method(&method) {
            arity_fault(&method, 0)
        } else {
            Fault::new(FaultKind::UnknownMethod, &[&method])
        });
        return outcome;
    };
    let key = match key {
        Value::String(k) => k,
        other => {
            outcome.result = Err(Fault::invalid_input(format!(
                "expected string, got {}",
                other.type_name()
            )));
            return outcome;
        }
    };
    if !key_matches_pattern(key) {
        outcome.result = Err(Fault::key_pattern(key));
        return outcome;
    }
    let known = store.read(|s| {
        s.credential(key, CredentialKind::V4Key)
            .is_some_and(|c| !c.is_expired(OffsetDateTime::now_utc()))
    });
    if !known {
        outcome.result = Err(Fault::new(FaultKind::UnknownKey, &[]));
        return outcome;
    }
    outcome.authenticated = true;
    outcome.result = Call::from_params(&method, params).and_then(|call| execute(store, call));
    outcome
}

/// Runs a typed call. Reads take the read lock; writes take the write lock once, so each call
/// is atomic for DNS.
pub fn execute(store: &ZoneStore, call: Call) -> Result<Value, Fault> {
    match call {
        Call::Unknown(name) => Err(Fault::new(FaultKind::UnknownMethod, &[&name])),
        Call::DomainInfo { fqdn } => store.read(|s| {
            let d = s.legacy_domain(&fqdn)?;
            Ok(domain_value(d, s.era()))
        }),
        Call::DomainList { page, per_page } => store.read(|s| {
            let era = s.era();
            Ok(Value::Array(
                s.domains()
                    .skip(page.saturating_mul(per_page))
                    .take(per_page)
                    .map(|d| domain_value(d, era))
                    .collect(),
            ))
        }),
        Call::ZoneList => store.read(|s| {
            Ok(Value::Array(
                s.legacy_zones().map(|z| zone_list_item(s, z)).collect(),
            ))
        }),
        Call::ZoneInfo { zone } => store.read(|s| {
            let z = s.legacy_zone(zone)?;
            Ok(zone_value(s, z))
        }),
        Call::ZoneClone {
            zone,
            version,
            name,
        } => store.write(|s| {
            let id = s.legacy_clone_zone(zone, version, name.as_deref())?;
            let z = s.legacy_zone(id as i64)?;
            Ok(zone_value(s, z))
        }),
        Call::ZoneSet { fqdn, zone } => store.write(|s| {
            let era = s.era();
            let d = s.legacy_set_zone(&fqdn, zone)?;
            Ok(domain_value(d, era))
        }),
        Call::ZoneDelete { zone } => store.write(|s| {
            s.legacy_delete_zone(zone)?;
            Ok(Value::Boolean(true))
        }),
        Call::VersionList { zone } => store.read(|s| {
            let z = s.legacy_zone(zone)?;
            Ok(Value::Array(
                z.versions
                    .keys()
                    .map(|v| {
                        Value::Struct(vec![
                            ("id".into(), Value::Int(i64::from(*v))),
                            // Versions keep no date of their own; the zone's last change
                            // stands in for it.
                            ("date_created".into(), datetime(z.date_updated)),
                        ])
                    })
                    .collect(),
            ))
        }),
        Call::VersionNew { zone, from } => store.write(|s| {
            let v = s.legacy_new_version(zone, from)?;
            Ok(Value::Int(i64::from(v)))
        }),
        Call::VersionSet { zone, version } => store.write(|s| {
            s.legacy_set_version(zone, version)?;
            Ok(Value::Boolean(true))
        }),
        Call::VersionDelete { zone, version } => store.write(|s| {
            s.legacy_delete_version(zone, version)?;
            Ok(Value::Boolean(true))
        }),
        Call::RecordList {
            zone,
            version,
            filter,
        } => store.read(|s| {
            let records = s.legacy_records(zone, version, &filter)?;
            Ok(Value::Array(records.iter().map(record_value).collect()))
        }),
        Call::RecordAdd {
            zone,
            version,
            record,
        } => store.write(|s| {
            let r = s.legacy_add_record(zone, version, &record)?;
            Ok(record_value(&r))
        }),
        Call::RecordDelete {
            zone,
            version,
            filter,
        } => store.write(|s| {
            let n = s.legacy_delete_records(zone, version, &filter)?;
            Ok(Value::Int(n as i64))
        }),
        Call::RecordUpdate {
            zone,
            version,
            filter,
            record,
        } => store.write(|s| {
            let updated = s.legacy_update_records(zone, version, &filter, &record)?;
            Ok(Value::Array(updated.iter().map(record_value).collect()))
        }),
        Call::RecordSet {
            zone,
            version,
            records,
        } => store.write(|s| {
            let set = s.legacy_set_records(zone, version, &records)?;
            Ok(Value::Array(set.iter().map(record_value).collect()))
        }),
    }
}

/// Gandi's XML-RPC dates: `20180613T12:03:58`, UTC.
fn datetime(t: OffsetDateTime) -> Value {
    let t = t.to_offset(time::UtcOffset::UTC);
    Value::DateTime(format!(
        "{:04}{:02}{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    ))
}

/// A record as Gandi lists it: name, type, id, value, ttl (recorded order).
fn record_value(r: &LegacyRecord) -> Value {
    Value::Struct(vec![
        ("name".into(), Value::string(r.name.as_str())),
        ("type".into(), Value::string(r.rtype.as_str())),
        ("id".into(), id_value(r.id)),
        ("value".into(), Value::string(r.value.clone())),
        ("ttl".into(), Value::Int(i64::from(r.ttl))),
    ])
}

/// The struct `domain.zone.clone` and `domain.zone.info` return (gandi-wire.md §3.4 order).
fn zone_value(s: &State, z: &LegacyZone) -> Value {
    Value::Struct(vec![
        ("name".into(), Value::string(z.name.clone())),
        (
            "versions".into(),
            Value::Array(
                z.versions
                    .keys()
                    .map(|v| Value::Int(i64::from(*v)))
                    .collect(),
            ),
        ),
        ("date_updated".into(), datetime(z.date_updated)),
        ("id".into(), id_value(z.id)),
        ("owner".into(), Value::string(OWNER_HANDLE)),
        ("version".into(), Value::Int(i64::from(z.active))),
        (
            "domains".into(),
            Value::Int(s.legacy_zone_users(z.id) as i64),
        ),
        ("public".into(), Value::Boolean(z.public)),
    ])
}

/// One item of `domain.zone.list`.
fn zone_list_item(s: &State, z: &LegacyZone) -> Value {
    Value::Struct(vec![
        ("date_updated".into(), datetime(z.date_updated)),
        (
            "domains".into(),
            Value::Int(s.legacy_zone_users(z.id) as i64),
        ),
        ("id".into(), id_value(z.id)),
        ("name".into(), Value::string(z.name.clone())),
        ("public".into(), Value::Boolean(z.public)),
        ("version".into(), Value::Int(i64::from(z.active))),
    ])
}
