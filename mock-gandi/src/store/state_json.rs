//! `GET /_mock/state` as a stream: the JSON of one snapshot, written a few hundred domains at
//! a time, so that the whole document is never held in memory (a 10,000-domain account's is
//! tens of megabytes, and its `serde_json::Value` several times that). It is the document
//! [`super::ZoneStore::snapshot`] gives, with each domain's and zone's keys in the order of
//! their fields (`id` first) rather than sorted.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use serde::Serialize;

use super::{State, organization_uuid};

/// How many domains (or zones) one chunk holds.
const PER_CHUNK: usize = 256;

/// The chunks of one snapshot's JSON, in order.
pub struct StateJson {
    state: Arc<State>,
    part: Part,
}

enum Part {
    Head,
    Domains(Option<super::Fqdn>),
    Middle,
    Zones(Option<u64>),
    Done,
}

impl StateJson {
    pub fn new(state: Arc<State>) -> Self {
        StateJson {
            state,
            part: Part::Head,
        }
    }
}

/// Up to [`PER_CHUNK`] values of `map` after `after`, each preceded by a comma unless it is
/// the very first; returns the chunk and the last key written.
fn chunk<K: Ord + Clone, V: Serialize>(
    map: &BTreeMap<K, std::sync::Arc<V>>,
    after: Option<&K>,
) -> (Vec<u8>, Option<K>) {
    let lower = after.map_or(Bound::Unbounded, Bound::Excluded);
    let mut out = Vec::new();
    let mut last = None;
    for (key, value) in map.range((lower, Bound::Unbounded)).take(PER_CHUNK) {
        if after.is_some() || last.is_some() {
            out.push(b',');
        }
        // Serializing a value of the store into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut out, &**value);
        last = Some(key.clone());
    }
    (out, last)
}

impl Iterator for StateJson {
    type Item = Vec<u8>;

    fn next(&mut self) -> Option<Vec<u8>> {
        let state = &self.state;
        let (bytes, next) = match &self.part {
            Part::Head => {
                let mut out = br#"{"credentials":"#.to_vec();
                let _ = serde_json::to_writer(&mut out, &state.credentials_json());
                out.extend_from_slice(br#","domains":["#);
                (out, Part::Domains(None))
            }
            Part::Domains(after) => match chunk(&state.domains, after.as_ref()) {
                (bytes, Some(last)) => (bytes, Part::Domains(Some(last))),
                (_, None) => (Vec::new(), Part::Middle),
            },
            Part::Middle => {
                let mut out = br#"],"organizations":"#.to_vec();
                let _ = serde_json::to_writer(&mut out, &state.organizations_json());
                out.extend_from_slice(br#","zones":["#);
                (out, Part::Zones(None))
            }
            Part::Zones(after) => match chunk(&state.zones, after.as_ref()) {
                (bytes, Some(last)) => (bytes, Part::Zones(Some(last))),
                (_, None) => (b"]}".to_vec(), Part::Done),
            },
            Part::Done => return None,
        };
        self.part = next;
        Some(bytes)
    }
}

impl State {
    pub(super) fn snapshot(&self) -> serde_json::Value {
        serde_json::json!({
            "organizations": self.organizations_json(),
            "domains": self.domains.values().map(|d| &**d).collect::<Vec<_>>(),
            "zones": self.zones.values().map(|z| &**z).collect::<Vec<_>>(),
            "credentials": self.credentials_json(),
        })
    }

    /// Every organization named by a domain or a credential, with its id.
    fn organizations_json(&self) -> Vec<serde_json::Value> {
        let orgs: std::collections::BTreeSet<&String> = self
            .domains
            .values()
            .filter_map(|d| d.organization.as_ref())
            .chain(
                self.credentials
                    .iter()
                    .filter_map(|c| c.organization.as_ref()),
            )
            .collect();
        orgs.iter()
            .map(|o| serde_json::json!({"name": o, "id": organization_uuid(o)}))
            .collect()
    }

    /// The credentials, secrets redacted.
    fn credentials_json(&self) -> Vec<serde_json::Value> {
        self.credentials.iter().map(|c| serde_json::json!({
            "kind": c.kind.as_str(),
            "secret": c.redacted(),
            "organization": c.organization,
            "domains": c.domains,
            "read": c.rights.dns_read,
            "write": c.rights.technical,
            "permissions": c.rights.names(),
            "expires": c.expires.and_then(|e| e.format(&time::format_description::well_known::Rfc3339).ok()),
        })).collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::store::{Seed, ZoneStore};

    fn store(domains: usize) -> ZoneStore {
        let mut text = String::from(
            "[[credential]]\nkind = \"pat\"\nsecret = \"0123456789abcdef0123456789abcdef01234567\"\norganization = \"Acme\"\n",
        );
        for d in 0..domains {
            text.push_str(&format!(
                "[[domain]]\nfqdn = \"d{d}.example.com\"\norganization = \"Org{}\"\n[[domain.record]]\nname = \"www\"\ntype = \"A\"\nvalues = [\"192.0.2.{}\"]\n",
                d % 3,
                d % 250 + 1
            ));
        }
        ZoneStore::new(Seed::from_toml(&text).unwrap())
    }

    fn streamed(store: &ZoneStore) -> serde_json::Value {
        let bytes: Vec<u8> = store.snapshot_json().flatten().collect();
        serde_json::from_slice(&bytes).expect("the stream is one JSON document")
    }

    #[test]
    fn the_stream_is_the_snapshot_s_json_whatever_the_number_of_chunks() {
        // 0, 1, one chunk exactly, and more than two chunks.
        for domains in [0, 1, super::PER_CHUNK, 2 * super::PER_CHUNK + 7] {
            let store = store(domains);
            let snapshot = store.snapshot();
            assert_eq!(streamed(&store), snapshot, "{domains} domains");
            assert_eq!(snapshot["domains"].as_array().unwrap().len(), domains);
        }
    }

    #[test]
    fn a_stream_keeps_its_snapshot_while_writes_go_on() {
        let store = store(3);
        let before = store.snapshot();
        let mut stream = store.snapshot_json();
        let first = stream.next().unwrap();
        // A write while the stream is half read: the writer does not wait, and the stream
        // goes on from the state it started with.
        let removed = store.write(|s| {
            s.domains
                .remove(&crate::store::Fqdn::parse("d1.example.com").unwrap())
        });
        assert!(removed.is_some());
        let rest: Vec<u8> = stream.flatten().collect();
        let read: serde_json::Value = serde_json::from_slice(&[first, rest].concat()).unwrap();
        assert_eq!(read, before);
        assert_ne!(store.snapshot(), before);
    }
}
