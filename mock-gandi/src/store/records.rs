//! The records of one legacy (v4) zone version. The version a seed makes of a domain's records
//! is not written out record by record: it is read from the rrsets the seed made (shared with
//! the domain until LiveDNS changes them) in the seed's order, with the ids the seed gave,
//! and written out only when a v4 call edits it. A large account thus holds its records once.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use super::rrsets::{RrSet, RrSets};
use super::seed::SeedRecord;
use super::types::{RecordType, RelName};

/// One record of a legacy zone version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LegacyRecord {
    pub id: u64,
    pub name: RelName,
    #[serde(rename = "type")]
    pub rtype: RecordType,
    pub value: String,
    pub ttl: u32,
}

/// A version's records.
#[derive(Debug, Clone)]
pub enum Records {
    Listed(Vec<LegacyRecord>),
    /// The version a seed made: record `k` is the `k`-th value in the seed's order, id
    /// `first_id + k`.
    Seeded(Arc<Seeded>),
}

#[derive(Debug)]
pub struct Seeded {
    rrsets: RrSets,
    /// The seed's records, as positions in `rrsets`.
    order: Box<[u32]>,
    first_id: u64,
}

/// The records a seed's records make, written out: every value of every record in order, ids
/// counted from `first_id`.
pub(crate) fn listing(records: &[SeedRecord], first_id: u64) -> Vec<LegacyRecord> {
    records
        .iter()
        .flat_map(|r| r.values.iter().map(move |v| (r, v)))
        .zip(first_id..)
        .map(|((r, v), id)| LegacyRecord {
            id,
            name: r.name.clone(),
            rtype: r.rtype,
            value: v.clone(),
            ttl: r.ttl,
        })
        .collect()
}

impl Default for Records {
    fn default() -> Self {
        Records::Listed(Vec::new())
    }
}

impl Records {
    /// The version a seed made: `order` gives, for each of the seed's records in turn, the
    /// position of its rrset in `rrsets`; each rrset holds exactly that record's values.
    pub(crate) fn seeded(rrsets: RrSets, order: Vec<u32>, first_id: u64) -> Self {
        Records::Seeded(Arc::new(Seeded {
            rrsets,
            order: order.into_boxed_slice(),
            first_id,
        }))
    }

    /// The records, in order.
    pub fn iter(&self) -> impl Iterator<Item = LegacyRecord> + '_ {
        let (listed, seeded) = match self {
            Records::Listed(records) => (Some(records.iter().cloned()), None),
            Records::Seeded(s) => (None, Some(s.records())),
        };
        listed
            .into_iter()
            .flatten()
            .chain(seeded.into_iter().flatten())
    }

    pub fn len(&self) -> usize {
        match self {
            Records::Listed(records) => records.len(),
            Records::Seeded(s) => s
                .order
                .iter()
                .map(|&i| s.rrsets.values().as_slice()[i as usize].values.len())
                .sum(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The records as DNS serves them, grouped by name and type (a value once, an rrset's TTL
    /// its first record's): the seeded rrsets themselves for the version a seed made.
    pub fn rrsets(&self) -> RrSets {
        let records = match self {
            Records::Seeded(s) => return s.rrsets.clone(),
            Records::Listed(records) => records,
        };
        let mut sets: BTreeMap<(&RelName, RecordType), RrSet> = BTreeMap::new();
        for r in records {
            let set = sets.entry((&r.name, r.rtype)).or_insert_with(|| RrSet {
                name: r.name.clone(),
                rtype: r.rtype,
                ttl: r.ttl,
                values: Vec::new(),
            });
            if !set.values.contains(&r.value) {
                set.values.push(r.value.clone());
            }
        }
        RrSets::from_sorted(sets.into_values().collect())
    }

    /// The records as a list to edit (written out first if the seed's).
    pub fn listed_mut(&mut self) -> &mut Vec<LegacyRecord> {
        if let Records::Seeded(_) = self {
            *self = Records::Listed(self.iter().collect());
        }
        match self {
            Records::Listed(records) => records,
            Records::Seeded(_) => unreachable!("written out above"),
        }
    }
}

impl Seeded {
    /// The rrsets it reads from.
    pub fn rrsets(&self) -> &RrSets {
        &self.rrsets
    }

    fn records(&self) -> impl Iterator<Item = LegacyRecord> + '_ {
        let sets = self.rrsets.values().as_slice();
        self.order
            .iter()
            .flat_map(move |&i| {
                let set = &sets[i as usize];
                set.values.iter().map(move |v| (set, v))
            })
            .zip(self.first_id..)
            .map(|((set, value), id)| LegacyRecord {
                id,
                name: set.name.clone(),
                rtype: set.rtype,
                value: value.clone(),
                ttl: set.ttl,
            })
    }
}

impl PartialEq for Records {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Serialize for Records {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}
