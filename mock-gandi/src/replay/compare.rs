//! How an answer of the mock is compared with the recorded one: JSON structurally (the path of
//! each difference), XML-RPC as values with the account's own ids mapped.

use std::collections::HashMap;

use serde_json::Value as Json;

use crate::xmlrpc::Value;

/// Every difference between two JSON documents, each as `path: recorded X, mock Y`. Member
/// order is not compared (clients read JSON by name); arrays are compared in order.
pub fn json(path: &str, recorded: &Json, mock: &Json, out: &mut Vec<String>) {
    match (recorded, mock) {
        (Json::Object(r), Json::Object(m)) => {
            for (k, rv) in r {
                match m.get(k) {
                    Some(mv) => json(&format!("{path}.{k}"), rv, mv, out),
                    None => out.push(format!("{path}.{k}: recorded {rv}, missing from the mock")),
                }
            }
            for (k, mv) in m {
                if !r.contains_key(k) {
                    out.push(format!("{path}.{k}: not recorded, the mock sends {mv}"));
                }
            }
        }
        (Json::Array(r), Json::Array(m)) => {
            if r.len() != m.len() {
                out.push(format!(
                    "{path}: {} items recorded, {} from the mock",
                    r.len(),
                    m.len()
                ));
            }
            for (i, (rv, mv)) in r.iter().zip(m).enumerate() {
                json(&format!("{path}[{i}]"), rv, mv, out);
            }
        }
        (r, m) if r == m => {}
        (r, m) => out.push(format!("{path}: recorded {r}, mock {m}")),
    }
}

/// The account's own ids (zone ids, version numbers, record ids) seen in recorded answers, each
/// with its counterpart in the mock's answers.
#[derive(Default, Debug)]
pub struct Ids {
    ints: HashMap<i64, i64>,
    strings: HashMap<String, String>,
}

impl Ids {
    /// A recorded request's value with every known recorded id replaced by the mock's.
    pub fn rewrite(&self, v: &Value) -> Value {
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

    /// Compares a mock answer with the recorded one. Ints are learned as ids where `learn` says
    /// (the answer of a call that creates a zone or version, a zone id), strings at members
    /// named `id`; everything else must be equal. Records in arrays are compared in a canonical
    /// order, since the real listing's order follows ids the mock does not share.
    pub fn agree(
        &mut self,
        path: &str,
        recorded: &Value,
        mock: &Value,
        learn: &dyn Fn(&str) -> bool,
        out: &mut Vec<String>,
    ) {
        match (recorded, mock) {
            (Value::Int(r), Value::Int(m)) => match self.ints.get(r) {
                Some(mapped) if mapped == m => {}
                Some(mapped) => out.push(format!(
                    "{path}: expected {mapped} (recorded {r}, an id), mock {m}"
                )),
                None if learn(path) => {
                    self.ints.insert(*r, *m);
                }
                None if r == m => {}
                None => out.push(format!("{path}: recorded {r}, mock {m}")),
            },
            (Value::String(r), Value::String(m)) if path.ends_with(".id") => {
                match self.strings.get(r) {
                    Some(mapped) if mapped == m => {}
                    Some(mapped) => out.push(format!(
                        "{path}: expected id {mapped} (recorded {r}), mock {m}"
                    )),
                    None => {
                        self.strings.insert(r.clone(), m.clone());
                    }
                }
            }
            (Value::Array(r), Value::Array(m)) => {
                if r.len() != m.len() {
                    out.push(format!(
                        "{path}: {} items recorded, {} from the mock",
                        r.len(),
                        m.len()
                    ));
                    return;
                }
                let (mut r, mut m) = (r.clone(), m.clone());
                r.sort_by_key(record_key);
                m.sort_by_key(record_key);
                for (i, (a, b)) in r.iter().zip(&m).enumerate() {
                    self.agree(&format!("{path}[{i}]"), a, b, learn, out);
                }
            }
            (Value::Struct(r), Value::Struct(m)) => {
                let rn: Vec<&str> = r.iter().map(|(k, _)| k.as_str()).collect();
                let mn: Vec<&str> = m.iter().map(|(k, _)| k.as_str()).collect();
                let missing: Vec<&str> = rn.iter().filter(|k| !mn.contains(k)).copied().collect();
                let extra: Vec<&str> = mn.iter().filter(|k| !rn.contains(k)).copied().collect();
                // One line per member, so that an accepted difference names the member it
                // accepts and a member that goes missing later is a new difference.
                for k in &missing {
                    out.push(format!("{path}.{k}: recorded, missing from the mock"));
                }
                if !extra.is_empty() {
                    out.push(format!("{path}: members not recorded: {extra:?}"));
                }
                if missing.is_empty() && extra.is_empty() && rn != mn {
                    out.push(format!("{path}: members in another order: {mn:?}"));
                }
                // The members both have are compared whatever else differs, so that ids are
                // still learned.
                for (k, a) in r {
                    if let Some((_, b)) = m.iter().find(|(n, _)| n == k) {
                        self.agree(&format!("{path}.{k}"), a, b, learn, out);
                    }
                }
            }
            (r, m) if r == m => {}
            (r, m) => out.push(format!("{path}: recorded {}, mock {}", show(r), show(m))),
        }
    }
}

/// A record's sort key: name, type, value, TTL (not its id).
fn record_key(v: &Value) -> String {
    ["name", "type", "value", "ttl"]
        .iter()
        .map(|k| v.member(k).map(show).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("|")
}

/// A short rendering of a value for a difference line.
pub fn show(v: &Value) -> String {
    match v {
        Value::Int(n) => n.to_string(),
        Value::String(s) => format!("{s:?}"),
        Value::Boolean(b) => b.to_string(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_differences_name_their_path_and_ignore_member_order() {
        let r: Json = serde_json::from_str(r#"{"a": 1, "b": [1, {"c": "x"}], "d": 0}"#).unwrap();
        let m: Json = serde_json::from_str(r#"{"b": [1, {"c": "y"}], "a": 1, "e": 2}"#).unwrap();
        let mut out = Vec::new();
        json("$", &r, &m, &mut out);
        assert_eq!(
            out,
            [
                r#"$.b[1].c: recorded "x", mock "y""#,
                "$.d: recorded 0, missing from the mock",
                "$.e: not recorded, the mock sends 2",
            ]
        );
        let mut none = Vec::new();
        json("$", &r, &r, &mut none);
        assert!(none.is_empty());
    }

    #[test]
    fn ids_are_learned_once_then_held_to() {
        let mut ids = Ids::default();
        let mut out = Vec::new();
        let learn = |p: &str| p.ends_with("zone_id");
        ids.agree(
            "$.zone_id",
            &Value::Int(7),
            &Value::Int(1),
            &learn,
            &mut out,
        );
        ids.agree(
            "$.other",
            &Value::Int(7),
            &Value::Int(1),
            &|_| false,
            &mut out,
        );
        assert!(out.is_empty(), "{out:?}");
        assert_eq!(ids.rewrite(&Value::Int(7)), Value::Int(1));
        ids.agree(
            "$.again",
            &Value::Int(7),
            &Value::Int(2),
            &|_| false,
            &mut out,
        );
        assert_eq!(out, ["$.again: expected 1 (recorded 7, an id), mock 2"]);
    }
}
