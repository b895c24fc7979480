//! Answers already computed, per server loop, for as long as the store is at the generation
//! they were computed from. Every write to the store moves its generation on, so a write is
//! still visible to the very next query; only a repeated question between two writes (a CA
//! asking for the same TXT from several validators, a client polling) is answered from here.
//! The journal and DNS fault rules see every query as before: the cache stands in for the
//! lookup and the encoding only.

use std::collections::HashMap;
use std::sync::Arc;

use super::Transport;
use super::wire::{self, Summary};
use crate::store::ZoneStore;

/// Questions kept per loop before it starts again empty (a bound, not a working set: an
/// ACME flow asks a handful of distinct questions between writes).
const ENTRIES: usize = 1024;
/// Longer packets are answered without the cache (a question is at most ~270 bytes with EDNS).
const MAX_KEY: usize = 512;

/// One server loop's answers (no lock: each loop has its own).
#[derive(Debug, Default)]
pub(super) struct AnswerCache {
    generation: u64,
    entries: HashMap<Vec<u8>, (Vec<u8>, Arc<Summary>)>,
    /// The key of the packet at hand, built here so that a hit allocates no key.
    key: Vec<u8>,
}

impl AnswerCache {
    /// The reply to `packet` and what it says: from the cache when the store has not changed
    /// since it was computed, else computed and kept. The reply's id is the packet's.
    pub(super) fn respond(
        &mut self,
        store: &ZoneStore,
        packet: &[u8],
        transport: Transport,
    ) -> Option<(Vec<u8>, Arc<Summary>)> {
        let computed =
            || wire::respond(store, packet, transport).map(|r| (r.bytes, Arc::new(r.summary)));
        let Some(generation) = store.settled_generation() else {
            // A propagation lag makes an answer depend on the time as well: none is kept.
            return computed();
        };
        if packet.len() < 2 || packet.len() > MAX_KEY {
            return computed();
        }
        if generation != self.generation {
            self.entries.clear();
            self.generation = generation;
        }
        self.key.clear();
        self.key.extend_from_slice(packet);
        self.key[..2].fill(0);
        if let Some((bytes, summary)) = self.entries.get(&self.key) {
            let mut bytes = bytes.clone();
            bytes[..2].copy_from_slice(&packet[..2]);
            return Some((bytes, summary.clone()));
        }
        let (bytes, summary) = computed()?;
        // Kept only if no write came in while it was computed (it is then exactly the
        // answer of this generation).
        if store.settled_generation() == Some(generation) && bytes.len() >= 2 {
            if self.entries.len() >= ENTRIES {
                self.entries.clear();
            }
            self.entries
                .insert(self.key.clone(), (bytes.clone(), summary.clone()));
        }
        Some((bytes, summary))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{RecordType, RelName, Seed, types::Fqdn};

    const SEED: &str = "[[domain]]\nfqdn = \"stubber.chat\"\n[[domain.record]]\nname = \"www\"\ntype = \"TXT\"\nvalues = [\"one\"]\n";

    /// A TXT question for www.stubber.chat with this id.
    fn question(id: u16) -> Vec<u8> {
        let mut q = id.to_be_bytes().to_vec();
        q.extend([1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
        for label in ["www", "stubber", "chat"] {
            q.push(label.len() as u8);
            q.extend(label.as_bytes());
        }
        q.extend([0, 0, 16, 0, 1]);
        q
    }

    fn put(store: &ZoneStore, value: &str) {
        store
            .write(|s| {
                s.put_rrset(
                    &Fqdn::parse("stubber.chat").unwrap(),
                    &RelName::parse("www").unwrap(),
                    RecordType::Txt,
                    None,
                    &[value.to_string()],
                )
            })
            .unwrap();
    }

    #[test]
    fn a_repeated_question_is_answered_from_the_cache_until_the_next_write() {
        let store = ZoneStore::new(Seed::parse(SEED).unwrap());
        let mut cache = AnswerCache::default();
        let (first, summary) = cache.respond(&store, &question(1), Transport::Udp).unwrap();
        assert_eq!(cache.entries.len(), 1);
        let (again, same) = cache.respond(&store, &question(2), Transport::Udp).unwrap();
        assert!(
            Arc::ptr_eq(&summary, &same),
            "the same answer, from the cache"
        );
        assert_eq!(again[..2], [0, 2], "with the new question's id");
        assert_eq!(again[2..], first[2..]);
        assert_eq!(
            again,
            wire::respond(&store, &question(2), Transport::Udp)
                .unwrap()
                .bytes
        );

        // A write: the very next question sees it.
        put(&store, "two");
        let (after, summary) = cache.respond(&store, &question(3), Transport::Udp).unwrap();
        assert_eq!(summary.answers[0].data, "\"two\"");
        assert_eq!(
            after,
            wire::respond(&store, &question(3), Transport::Udp)
                .unwrap()
                .bytes
        );
        assert_eq!(
            cache.entries.len(),
            1,
            "the older generation's answers are gone"
        );
    }

    #[test]
    fn under_a_propagation_lag_nothing_is_kept() {
        let lagging = format!("{SEED}[propagation]\ndelay_ms = 50\n");
        let store = ZoneStore::new(Seed::parse(&lagging).unwrap());
        let mut cache = AnswerCache::default();
        put(&store, "two");
        let (_, summary) = cache.respond(&store, &question(1), Transport::Udp).unwrap();
        assert_eq!(summary.answers[0].data, "\"one\"", "DNS lags");
        assert!(cache.entries.is_empty());
        std::thread::sleep(std::time::Duration::from_millis(80));
        let (_, summary) = cache.respond(&store, &question(2), Transport::Udp).unwrap();
        assert_eq!(summary.answers[0].data, "\"two\"", "and catches up");
    }
}
