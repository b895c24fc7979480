//! The seed a recording implies: the domains it reached (those the real Gandi answered for),
//! the records it found already there (listed before the recording wrote them), and the three
//! credentials a replay presents.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Value as Json, json};

use super::formats::Exchange;
use super::{APIKEY, PAT, V4_KEY};
use crate::store::Seed;
use crate::xmlrpc::{MethodResponse, Value, parse_method_call, parse_method_response};

/// One rrset as the seed takes it.
type Rrset = (String, String, Option<u64>, Vec<String>);

#[derive(Default)]
struct Domain {
    legacy: bool,
    /// (name, type) → the rrset, in the order first seen.
    records: BTreeMap<(String, String), Rrset>,
}

/// The seed (as JSON) and what could not be seeded.
pub fn implied_seed(exchanges: &[Exchange]) -> (Json, Vec<String>) {
    let mut domains: BTreeMap<String, Domain> = BTreeMap::new();
    // What the recording wrote before a listing: a listed rrset it wrote is not a seed's.
    let mut written: BTreeSet<(String, String, String)> = BTreeSet::new();
    let mut whole_zone_written: BTreeSet<String> = BTreeSet::new();
    // v4: the recorded zone ids, each with its domain.
    let mut zones: HashMap<i64, String> = HashMap::new();
    for e in exchanges {
        let path = e.path();
        if let Some(rest) = path
            .strip_prefix("/v5/livedns/domains/")
            .or_else(|| path.strip_prefix("/api/v5/domains/"))
        {
            livedns(e, rest, &mut domains, &mut written, &mut whole_zone_written);
        } else if path.starts_with("/xmlrpc") {
            v4(e, &mut domains, &mut written, &mut zones);
        }
    }
    let mut notes = Vec::new();
    let domains: Vec<Json> = domains
        .into_iter()
        .map(|(fqdn, d)| {
            let records: Vec<Json> = d
                .records
                .into_values()
                .filter_map(|(name, rtype, ttl, values)| {
                    let mut record = json!({ "name": name, "type": rtype, "values": values });
                    if let Some(ttl) = ttl {
                        record["ttl"] = json!(ttl);
                    }
                    // One record at a time, so that one the seed refuses costs only itself.
                    let alone = json!({ "domain": [{ "fqdn": fqdn, "record": [record] }] });
                    match Seed::parse(&alone.to_string()) {
                        Ok(_) => Some(record),
                        Err(e) => {
                            notes.push(format!("{fqdn}: {name} {rtype} not seeded: {e}"));
                            None
                        }
                    }
                })
                .collect();
            let mut domain = json!({ "fqdn": fqdn, "record": records });
            if d.legacy {
                domain["dns"] = json!("legacy");
            }
            domain
        })
        .collect();
    let seed = json!({
        "domain": domains,
        "credential": [
            { "kind": "apikey", "secret": APIKEY },
            { "kind": "pat", "secret": PAT },
            { "kind": "v4-key", "secret": V4_KEY },
        ],
    });
    (seed, notes)
}

fn livedns(
    e: &Exchange,
    rest: &str,
    domains: &mut BTreeMap<String, Domain>,
    written: &mut BTreeSet<(String, String, String)>,
    whole_zone_written: &mut BTreeSet<String>,
) {
    let mut parts = rest.split('/');
    let Some(fqdn) = parts.next().filter(|f| !f.is_empty()) else {
        return;
    };
    let fqdn = fqdn.to_ascii_lowercase();
    let ok = (200..300).contains(&e.status);
    if ok {
        domains.entry(fqdn.clone()).or_default();
    }
    if parts.next() != Some("records") {
        return;
    }
    let name = parts.next().map(str::to_string);
    let rtype = parts.next().map(str::to_string);
    let method = e.method.to_ascii_uppercase();
    if method != "GET" {
        match (&name, &rtype) {
            (Some(n), Some(t)) => {
                written.insert((fqdn, n.clone(), t.clone()));
            }
            (Some(n), None) => {
                written.insert((fqdn, n.clone(), "*".into()));
            }
            _ => {
                whole_zone_written.insert(fqdn);
            }
        }
        return;
    }
    if !ok || whole_zone_written.contains(&fqdn) {
        return;
    }
    let Ok(body) = serde_json::from_str::<Json>(&e.response_body) else {
        return;
    };
    let listed: Vec<&Json> = match &body {
        Json::Array(items) => items.iter().collect(),
        object @ Json::Object(_) => vec![object],
        _ => return,
    };
    let Some(domain) = domains.get_mut(&fqdn) else {
        return;
    };
    for rrset in listed {
        let (Some(n), Some(t)) = (rrset["rrset_name"].as_str(), rrset["rrset_type"].as_str())
        else {
            continue;
        };
        let touched = written.contains(&(fqdn.clone(), n.into(), t.into()))
            || written.contains(&(fqdn.clone(), n.into(), "*".into()));
        if touched {
            continue;
        }
        let values = rrset["rrset_values"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        domain
            .records
            .entry((n.to_string(), t.to_string()))
            .or_insert_with(|| (n.into(), t.into(), rrset["rrset_ttl"].as_u64(), values));
    }
}

fn v4(
    e: &Exchange,
    domains: &mut BTreeMap<String, Domain>,
    written: &mut BTreeSet<(String, String, String)>,
    zones: &mut HashMap<i64, String>,
) {
    let Ok(call) = parse_method_call(e.body.as_bytes()) else {
        return;
    };
    let Ok(MethodResponse::Success(answer)) = parse_method_response(e.response_body.as_bytes())
    else {
        return;
    };
    let param = |i: usize| call.params.get(i);
    match call.method_name.as_str() {
        "domain.info" => {
            let Some(Value::String(fqdn)) = param(1) else {
                return;
            };
            let fqdn = fqdn.to_ascii_lowercase();
            domains.entry(fqdn.clone()).or_default().legacy = true;
            if let Some(Value::Int(zone)) = answer.member("zone_id") {
                zones.insert(*zone, fqdn);
            }
        }
        "domain.zone.record.add" | "domain.zone.record.update" => {
            let Some(Value::Int(zone)) = param(1) else {
                return;
            };
            let Some(fqdn) = zones.get(zone) else { return };
            let record = call.params.last();
            if let (Some(Value::String(n)), Some(Value::String(t)), Some(Value::String(v))) = (
                record.and_then(|r| r.member("name")),
                record.and_then(|r| r.member("type")),
                record.and_then(|r| r.member("value")),
            ) {
                written.insert((fqdn.clone(), n.clone(), format!("{t} {v}")));
            }
        }
        "domain.zone.record.list" => {
            let Some(Value::Int(zone)) = param(1) else {
                return;
            };
            let Some(fqdn) = zones.get(zone).cloned() else {
                return;
            };
            let Value::Array(records) = answer else {
                return;
            };
            let Some(domain) = domains.get_mut(&fqdn) else {
                return;
            };
            for r in &records {
                let (Some(Value::String(n)), Some(Value::String(t)), Some(Value::String(v))) =
                    (r.member("name"), r.member("type"), r.member("value"))
                else {
                    continue;
                };
                if written.contains(&(fqdn.clone(), n.clone(), format!("{t} {v}"))) {
                    continue;
                }
                let ttl = match r.member("ttl") {
                    Some(Value::Int(ttl)) => u64::try_from(*ttl).ok(),
                    _ => None,
                };
                let entry = domain
                    .records
                    .entry((n.clone(), t.clone()))
                    .or_insert_with(|| (n.clone(), t.clone(), ttl, Vec::new()));
                if !entry.3.contains(v) {
                    entry.3.push(v.clone());
                }
            }
        }
        _ => {}
    }
}
