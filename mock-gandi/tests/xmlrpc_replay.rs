//! Replays the recorded real v4 sessions (dns-lexicon's Gandi RPC integration tests against the
//! real Gandi, 2018; extracted by `tests/data/xmlrpc/gen_lexicon_sessions.py`) against the mock
//! and compares every answer with the recorded one.
//!
//! Zone ids, version numbers and record ids are the account's own, so they are mapped: the first
//! time a recorded id appears in an answer, the mock's id at the same place is taken as its
//! counterpart, and from then on requests are rewritten with it and answers must agree with it.
//! Everything else must be equal: methods that succeed, faults (byte for byte), member names and
//! their order, value types, TXT quoting, TTLs, counts, booleans.

use std::collections::HashMap;

use mock_gandi::Seed;
use mock_gandi::store::ZoneStore;
use mock_gandi::xmlrpc::{
    MethodResponse, Value, encode_fault, encode_method_call, encode_response, handle,
    parse_method_call, parse_method_response,
};
use serde::Deserialize;

const KEY: &str = "0123456789abcdefghijklmn";

#[derive(Deserialize)]
struct Session {
    name: String,
    exchanges: Vec<Exchange>,
}

#[derive(Deserialize)]
struct Exchange {
    request: String,
    response: Recorded,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Recorded {
    /// A `domain.info` answer, cut down to what the replay reads.
    DomainInfo {
        zone_id: i64,
        fqdn: String,
    },
    Body(String),
}

/// Recorded id → the mock's id, for ints (zones, versions) and strings (record ids).
#[derive(Default)]
struct Ids {
    ints: HashMap<i64, i64>,
    strings: HashMap<String, String>,
}

impl Ids {
    fn rewrite(&self, v: &Value) -> Value {
        match v {
            Value::Int(n) => Value::Int(*self.ints.get(n).unwrap_or(n)),
            Value::String(s) => Value::String(self.strings.get(s).unwrap_or(s).clone()),
            Value::Array(items) => Value::Array(items.iter().map(|i| self.rewrite(i)).collect()),
            Value::Struct(members) => Value::Struct(
                members
                    .iter()
                    .map(|(k, v)| (k.clone(), self.rewrite(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// Checks `mock` against `recorded`, learning ids where `learn` allows.
    fn agree(
        &mut self,
        path: &str,
        recorded: &Value,
        mock: &Value,
        learn_int: bool,
    ) -> Result<(), String> {
        match (recorded, mock) {
            (Value::Int(r), Value::Int(m)) => match self.ints.get(r) {
                Some(mapped) if mapped == m => Ok(()),
                Some(mapped) => Err(format!("{path}: expected {mapped} (recorded {r}), got {m}")),
                None if learn_int => {
                    self.ints.insert(*r, *m);
                    Ok(())
                }
                None if r == m => Ok(()),
                None => Err(format!("{path}: recorded {r}, got {m}")),
            },
            (Value::String(r), Value::String(m)) if path.ends_with(".id") => {
                match self.strings.get(r) {
                    Some(mapped) if mapped == m => Ok(()),
                    Some(mapped) => Err(format!("{path}: expected id {mapped}, got {m}")),
                    None => {
                        self.strings.insert(r.clone(), m.clone());
                        Ok(())
                    }
                }
            }
            (Value::Array(r), Value::Array(m)) => {
                if r.len() != m.len() {
                    return Err(format!(
                        "{path}: {} items recorded, {} from the mock: {m:?}",
                        r.len(),
                        m.len()
                    ));
                }
                // Records are compared in a canonical order: the real listing's order follows
                // ids the mock does not share.
                let (mut r, mut m) = (r.clone(), m.clone());
                r.sort_by_key(record_key);
                m.sort_by_key(record_key);
                for (i, (a, b)) in r.iter().zip(&m).enumerate() {
                    self.agree(&format!("{path}[{i}]"), a, b, false)?;
                }
                Ok(())
            }
            (Value::Struct(r), Value::Struct(m)) => {
                let rn: Vec<&str> = r.iter().map(|(k, _)| k.as_str()).collect();
                let mn: Vec<&str> = m.iter().map(|(k, _)| k.as_str()).collect();
                if rn != mn {
                    return Err(format!(
                        "{path}: members {rn:?} recorded, {mn:?} from the mock"
                    ));
                }
                for ((k, a), (_, b)) in r.iter().zip(m) {
                    self.agree(&format!("{path}.{k}"), a, b, false)?;
                }
                Ok(())
            }
            (r, m) if r == m => Ok(()),
            (r, m) => Err(format!("{path}: recorded {r:?}, got {m:?}")),
        }
    }
}

fn record_key(v: &Value) -> String {
    ["name", "type", "value", "ttl"]
        .iter()
        .map(|k| format!("{:?}", v.member(k)))
        .collect::<Vec<_>>()
        .join("|")
}

fn replay(session: &Session) -> Result<usize, String> {
    let store = ZoneStore::new(
        Seed::parse(&format!(
            "[[domain]]\nfqdn = \"reachlike.ca\"\ndns = \"legacy\"\n[[credential]]\nkind = \"v4-key\"\nsecret = \"{KEY}\"\n"
        ))
        .unwrap(),
    );
    let mut ids = Ids::default();
    let mut compared = 0;
    for (n, exchange) in session.exchanges.iter().enumerate() {
        let recorded_call = parse_method_call(exchange.request.as_bytes())
            .map_err(|e| format!("#{n}: recorded request does not parse: {e}"))?;
        let method = recorded_call.method_name.clone();
        let mut params: Vec<Value> = recorded_call
            .params
            .iter()
            .map(|p| ids.rewrite(p))
            .collect();
        params[0] = Value::string(KEY);
        let outcome = handle(&store, encode_method_call(&method, &params).as_bytes());
        let mock_body = match &outcome.result {
            Ok(v) => encode_response(v),
            Err(f) => encode_fault(f.code, &f.message),
        };
        let at = format!("#{n} {method}");
        match &exchange.response {
            Recorded::DomainInfo { zone_id, fqdn } => {
                let info = outcome.result.map_err(|f| format!("{at}: fault {f:?}"))?;
                ids.agree(
                    &format!("{at}.zone_id"),
                    &Value::Int(*zone_id),
                    info.member("zone_id").unwrap_or(&Value::Nil),
                    true,
                )?;
                ids.agree(
                    &format!("{at}.fqdn"),
                    &Value::string(fqdn),
                    info.member("fqdn").unwrap_or(&Value::Nil),
                    false,
                )?;
            }
            Recorded::Body(body) => match parse_method_response(body.as_bytes()).unwrap() {
                MethodResponse::Fault { .. } => {
                    if &mock_body != body {
                        return Err(format!(
                            "{at}: recorded fault\n{body}\nmock answered\n{mock_body}"
                        ));
                    }
                }
                MethodResponse::Success(recorded) => {
                    let mock = outcome.result.map_err(|f| format!("{at}: fault {f:?}"))?;
                    let unfiltered_listing = method == "domain.zone.record.list"
                        && params.get(3).and_then(|f| f.member("name")).is_none()
                        && params.get(3).and_then(|f| f.member("id")).is_none();
                    if unfiltered_listing {
                        // The real zone held records left by other sessions; only the shape of
                        // the answer can be compared.
                        if !matches!(mock, Value::Array(_)) {
                            return Err(format!("{at}: expected an array, got {mock:?}"));
                        }
                        continue;
                    }
                    let learn = method == "domain.zone.version.new";
                    ids.agree(&at, &recorded, &mock, learn)?;
                }
            },
        }
        compared += 1;
    }
    Ok(compared)
}

#[test]
fn every_recorded_real_v4_session_is_answered_as_gandi_answered_it() {
    let sessions: Vec<Session> =
        serde_json::from_str(include_str!("data/xmlrpc/lexicon_rpc_sessions.json")).unwrap();
    assert_eq!(sessions.len(), 26);
    let mut failures = Vec::new();
    let mut compared = 0;
    for session in &sessions {
        match replay(session) {
            Ok(n) => compared += n,
            Err(e) => failures.push(format!("{}: {e}", session.name)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} sessions differ:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(compared > 150, "only {compared} exchanges compared");
}
