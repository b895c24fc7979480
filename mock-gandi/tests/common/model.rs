//! The LiveDNS reference model: a zone as a `BTreeMap`, the writes a client can make (valid
//! and not) with the status each must get and the change it makes, and the requests that make
//! them. Shared by the state-machine property test (`livedns_model.rs`, in memory) and the soak
//! (`soak.rs`, over real sockets against `mock-gandi serve`).

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use mock_gandi::store::Fqdn;
use proptest::prelude::*;
use serde_json::{Value, json};

use super::Api;

pub const ZONE: &str = "model.test";
pub const SEED: &str = r#"
[[domain]]
fqdn = "model.test"
[[credential]]
kind = "pat"
secret = "0123456789abcdef0123456789abcdef01234567"
"#;

/// (name, type) → (ttl, values as stored).
pub type Model = BTreeMap<(String, String), (u32, Vec<String>)>;

pub const NAMES: &[&str] = &["@", "www", "_acme-challenge", "a.b"];
pub const TYPES: &[&str] = &["A", "AAAA", "TXT", "CNAME"];

/// Values to draw from per type; some are invalid on purpose.
pub fn pool(rtype: &str) -> &'static [&'static str] {
    match rtype {
        "A" => &["192.0.2.1", "192.0.2.2", "not-an-ip"],
        "AAAA" => &["2001:db8::1", "2001:0db8::2", "192.0.2.1"],
        "TXT" => &["tok1", "\"tok2\"", "tok 3", ""],
        _ => &["target.example.", "other.example.", "bad name"],
    }
}

#[derive(Debug, Clone)]
pub struct Set {
    pub name: &'static str,
    pub rtype: &'static str,
    pub ttl: Option<u32>,
    pub values: Vec<&'static str>,
}

#[derive(Debug, Clone)]
pub enum Op {
    PutRrset(Set),
    PostRrset(Set),
    DeleteRrset(&'static str, &'static str),
    PutName(&'static str, Vec<Set>),
    DeleteName(&'static str),
    PutZone(Vec<Set>),
}

pub fn set_strategy() -> impl Strategy<Value = Set> {
    (
        prop::sample::select(NAMES),
        prop::sample::select(TYPES),
        prop::sample::select(&[None, Some(300), Some(3600), Some(100)][..]),
        prop::collection::vec(0usize..4, 0..3),
    )
        .prop_map(|(name, rtype, ttl, picks)| {
            let pool = pool(rtype);
            Set {
                name,
                rtype,
                ttl,
                values: picks.into_iter().map(|i| pool[i % pool.len()]).collect(),
            }
        })
}

pub fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => set_strategy().prop_map(Op::PutRrset),
        3 => set_strategy().prop_map(Op::PostRrset),
        2 => (prop::sample::select(NAMES), prop::sample::select(TYPES))
            .prop_map(|(n, t)| Op::DeleteRrset(n, t)),
        1 => (prop::sample::select(NAMES), prop::collection::vec(set_strategy(), 0..3))
            .prop_map(|(n, sets)| Op::PutName(n, sets)),
        1 => prop::sample::select(NAMES).prop_map(Op::DeleteName),
        1 => prop::collection::vec(set_strategy(), 0..4).prop_map(Op::PutZone),
    ]
}

/// The stored form of a value, or `None` when the API refuses it.
pub fn normalize(rtype: &str, value: &str) -> Option<String> {
    match rtype {
        "A" => value.parse::<Ipv4Addr>().ok().map(|a| a.to_string()),
        "AAAA" => value.parse::<Ipv6Addr>().ok().map(|a| a.to_string()),
        "TXT" if value.is_empty() => None,
        "TXT" if value.len() >= 2 && value.starts_with('"') && value.ends_with('"') => {
            Some(value.to_string())
        }
        "TXT" => Some(format!("\"{value}\"")),
        _ if value.contains(' ') => None,
        _ => Some(value.to_string()),
    }
}

/// Checks a set as the request validation does; `None` when the API answers 400.
pub fn validate(set: &Set) -> Option<(u32, Vec<String>)> {
    let ttl = set.ttl.unwrap_or(10_800);
    if ttl < 300 {
        return None;
    }
    let mut values = Vec::new();
    for v in &set.values {
        let v = normalize(set.rtype, v)?;
        if !values.contains(&v) {
            values.push(v);
        }
    }
    Some((ttl, values))
}

/// Writes one set into the model as the store does; `Err` for a CNAME conflict.
pub fn put(
    model: &mut Model,
    name: &str,
    rtype: &str,
    ttl: u32,
    values: Vec<String>,
) -> Result<(), ()> {
    let key = (name.to_string(), rtype.to_string());
    if values.is_empty() {
        model.remove(&key);
        return Ok(());
    }
    let others: Vec<&str> = model
        .keys()
        .filter(|(n, t)| n == name && t != rtype)
        .map(|(_, t)| t.as_str())
        .collect();
    if (rtype == "CNAME" && (!others.is_empty() || name == "@")) || others.contains(&"CNAME") {
        return Err(());
    }
    model.insert(key, (ttl, values));
    Ok(())
}

/// Applies `op` to the model; returns the status the API must answer.
pub fn step(model: &mut Model, op: &Op) -> u16 {
    match op {
        Op::PutRrset(set) => match validate(set) {
            None => 400,
            Some((ttl, values)) => match put(model, set.name, set.rtype, ttl, values) {
                Ok(()) => 201,
                Err(()) => 400,
            },
        },
        Op::PostRrset(set) => match validate(set) {
            None => 400,
            Some((_, values)) if values.is_empty() => 400,
            Some(_) if model.contains_key(&(set.name.to_string(), set.rtype.to_string())) => 409,
            Some((ttl, values)) => match put(model, set.name, set.rtype, ttl, values) {
                Ok(()) => 201,
                Err(()) => 400,
            },
        },
        Op::DeleteRrset(name, rtype) => {
            match model.remove(&(name.to_string(), rtype.to_string())) {
                Some(_) => 204,
                None => 404,
            }
        }
        Op::PutName(name, sets) => {
            let Some(checked) = sets.iter().map(validate).collect::<Option<Vec<_>>>() else {
                return 400;
            };
            let mut trial = model.clone();
            trial.retain(|(n, _), _| n != name);
            for (set, (ttl, values)) in sets.iter().zip(checked) {
                if put(&mut trial, name, set.rtype, ttl, values).is_err() {
                    return 400;
                }
            }
            *model = trial;
            201
        }
        Op::DeleteName(name) => {
            model.retain(|(n, _), _| n != name);
            204
        }
        Op::PutZone(sets) => {
            let Some(checked) = sets.iter().map(validate).collect::<Option<Vec<_>>>() else {
                return 400;
            };
            let mut trial = Model::new();
            for (set, (ttl, values)) in sets.iter().zip(checked) {
                if put(&mut trial, set.name, set.rtype, ttl, values).is_err() {
                    return 400;
                }
            }
            *model = trial;
            201
        }
    }
}

pub fn path_name(name: &str) -> &str {
    if name == "@" { "%40" } else { name }
}

pub fn rrset_body(set: &Set) -> Value {
    let mut body = json!({ "rrset_values": set.values });
    if let Some(ttl) = set.ttl {
        body["rrset_ttl"] = json!(ttl);
    }
    body
}

/// The request for `op`: method, path below the zone, body.
pub fn request(op: &Op) -> (&'static str, String, String) {
    let base = format!("/domains/{ZONE}/records");
    match op {
        Op::PutRrset(s) => (
            "PUT",
            format!("{base}/{}/{}", path_name(s.name), s.rtype),
            rrset_body(s).to_string(),
        ),
        Op::PostRrset(s) => (
            "POST",
            format!("{base}/{}/{}", path_name(s.name), s.rtype),
            rrset_body(s).to_string(),
        ),
        Op::DeleteRrset(n, t) => (
            "DELETE",
            format!("{base}/{}/{t}", path_name(n)),
            String::new(),
        ),
        Op::PutName(n, sets) => {
            let items: Vec<Value> = sets
                .iter()
                .map(|s| {
                    let mut item = rrset_body(s);
                    item["rrset_type"] = json!(s.rtype);
                    item
                })
                .collect();
            (
                "PUT",
                format!("{base}/{}", path_name(n)),
                json!({ "items": items }).to_string(),
            )
        }
        Op::DeleteName(n) => ("DELETE", format!("{base}/{}", path_name(n)), String::new()),
        Op::PutZone(sets) => {
            let items: Vec<Value> = sets
                .iter()
                .map(|s| {
                    let mut item = rrset_body(s);
                    item["rrset_type"] = json!(s.rtype);
                    item["rrset_name"] = json!(s.name);
                    item
                })
                .collect();
            ("PUT", base, json!({ "items": items }).to_string())
        }
    }
}

pub fn listing_as_model(listing: &Value) -> Model {
    listing
        .as_array()
        .expect("a listing is an array")
        .iter()
        .map(|r| {
            let values = r["rrset_values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect();
            (
                (
                    r["rrset_name"].as_str().unwrap().to_string(),
                    r["rrset_type"].as_str().unwrap().to_string(),
                ),
                (r["rrset_ttl"].as_u64().unwrap() as u32, values),
            )
        })
        .collect()
}

pub fn dns_as_model(api: &Api) -> Model {
    let view = api
        .state
        .store
        .zone_for(&Fqdn::parse(ZONE).unwrap())
        .expect("the zone is served");
    view.rrsets()
        .map(|r| {
            (
                (r.name.as_str().to_string(), r.rtype.as_str().to_string()),
                (r.ttl, r.values.clone()),
            )
        })
        .collect()
}

/// What the mock's DNS answers over real UDP for every name and type the model can hold, as
/// a model: only records of the asked type owned by the asked name count (a CNAME at the name
/// answers for every type; it is itself compared when CNAME is asked).
pub fn dns_over_udp(dns: std::net::SocketAddr) -> Model {
    use hickory_proto::op::{Message, Query};
    use hickory_proto::rr::{Name, RData, RecordType};
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let mut seen = Model::new();
    for name in NAMES {
        let owner = if *name == "@" {
            format!("{ZONE}.")
        } else {
            format!("{name}.{ZONE}.")
        };
        for rtype in TYPES {
            let wanted = RecordType::from_str(rtype).unwrap();
            let mut query = Message::query();
            query.add_query(Query::query(Name::from_ascii(&owner).unwrap(), wanted));
            socket.send_to(&query.to_vec().unwrap(), dns).unwrap();
            let mut buf = [0u8; 4096];
            let n = socket.recv(&mut buf).unwrap();
            let reply = Message::from_vec(&buf[..n]).unwrap();
            let mut ttl = 0;
            let values: Vec<String> = reply
                .answers
                .iter()
                .filter(|r| r.record_type() == wanted && r.name.to_ascii() == owner)
                .map(|r| {
                    ttl = r.ttl;
                    match &r.data {
                        RData::A(a) => a.to_string(),
                        RData::AAAA(a) => a.to_string(),
                        RData::CNAME(c) => c.to_ascii(),
                        // The store keeps TXT quoted; DNS carries the bare strings.
                        RData::TXT(t) => format!(
                            "\"{}\"",
                            t.txt_data
                                .iter()
                                .map(|s| String::from_utf8_lossy(s).into_owned())
                                .collect::<String>()
                        ),
                        other => format!("{other:?}"),
                    }
                })
                .collect();
            if !values.is_empty() {
                seen.insert((name.to_string(), rtype.to_string()), (ttl, values));
            }
        }
    }
    seen
}

/// The model's values in the order DNS gives them does not matter: compare as sorted sets.
pub fn sorted(model: &Model) -> Model {
    model
        .iter()
        .map(|(k, (ttl, v))| {
            let mut v = v.clone();
            v.sort();
            (k.clone(), (*ttl, v))
        })
        .collect()
}
