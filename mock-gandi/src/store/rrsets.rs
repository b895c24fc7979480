//! A domain's LiveDNS rrsets: one list sorted by name then type, shared (behind an `Arc`) by
//! every snapshot and by the legacy zone version a seed made from it, until a write changes it.
//! A list, not a tree: a zone has tens of rrsets, and a list costs half the memory.

use std::sync::Arc;

use serde::Serialize;

use super::types::{RecordType, RelName};

/// One LiveDNS rrset: the values of one name and type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RrSet {
    pub name: RelName,
    #[serde(rename = "type")]
    pub rtype: RecordType,
    pub ttl: u32,
    pub values: Vec<String>,
}

/// The rrsets of one zone, sorted by name then type, each (name, type) once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RrSets(Arc<Vec<RrSet>>);

impl RrSets {
    /// From rrsets already sorted by name then type, each once.
    pub(crate) fn from_sorted(mut sets: Vec<RrSet>) -> Self {
        debug_assert!(
            sets.windows(2)
                .all(|w| (&w[0].name, w[0].rtype) < (&w[1].name, w[1].rtype))
        );
        sets.shrink_to_fit();
        Self(Arc::new(sets))
    }

    fn find(&self, name: &RelName, rtype: RecordType) -> Result<usize, usize> {
        self.0
            .binary_search_by(|r| (&r.name, r.rtype).cmp(&(name, rtype)))
    }

    /// The rrset of this name and type.
    pub fn get(&self, name: &RelName, rtype: RecordType) -> Option<&RrSet> {
        self.find(name, rtype).ok().map(|i| &self.0[i])
    }

    /// Where the rrset of this name and type is in [`RrSets::values`].
    pub(crate) fn position(&self, name: &RelName, rtype: RecordType) -> Option<usize> {
        self.find(name, rtype).ok()
    }

    /// Every rrset, sorted by name then type.
    pub fn values(&self) -> std::slice::Iter<'_, RrSet> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether both are the same list in memory (not a copy).
    pub fn shares(&self, other: &RrSets) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Adds an rrset, or replaces the one of its name and type.
    pub fn insert(&mut self, rrset: RrSet) {
        match self.find(&rrset.name, rrset.rtype) {
            Ok(i) => Arc::make_mut(&mut self.0)[i] = rrset,
            Err(i) => Arc::make_mut(&mut self.0).insert(i, rrset),
        }
    }

    /// Removes the rrset of this name and type, if there is one.
    pub fn remove(&mut self, name: &RelName, rtype: RecordType) -> Option<RrSet> {
        let i = self.find(name, rtype).ok()?;
        Some(Arc::make_mut(&mut self.0).remove(i))
    }

    /// Keeps the rrsets `keep` accepts (the list is copied only if one goes).
    pub fn retain(&mut self, mut keep: impl FnMut(&RrSet) -> bool) {
        if !self.0.iter().all(&mut keep) {
            Arc::make_mut(&mut self.0).retain(keep);
        }
    }
}

impl Serialize for RrSets {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(name: &str, rtype: RecordType) -> RrSet {
        RrSet {
            name: RelName::parse(name).unwrap(),
            rtype,
            ttl: 300,
            values: vec!["x".into()],
        }
    }

    #[test]
    fn the_list_stays_sorted_and_a_copy_is_made_only_when_shared() {
        let mut sets = RrSets::default();
        for (n, t) in [
            ("www", RecordType::A),
            ("@", RecordType::Txt),
            ("www", RecordType::Aaaa),
            ("@", RecordType::A),
        ] {
            sets.insert(set(n, t));
        }
        let order: Vec<_> = sets
            .values()
            .map(|r| (r.name.to_string(), r.rtype))
            .collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted);
        let shared = sets.clone();
        assert!(sets.shares(&shared));
        sets.retain(|_| true);
        assert!(sets.shares(&shared), "nothing went: no copy");
        assert!(
            sets.remove(&RelName::parse("www").unwrap(), RecordType::A)
                .is_some()
        );
        assert!(!sets.shares(&shared));
        assert_eq!((sets.len(), shared.len()), (3, 4));
        assert!(sets.get(&RelName::apex(), RecordType::Txt).is_some());
        assert!(
            sets.get(&RelName::parse("www").unwrap(), RecordType::A)
                .is_none()
        );
    }
}
