//! LiveDNS snapshots of a domain: copies of its rrsets, taken on request or, while the
//! domain's `automatic_snapshots` is on, before each change of its records.
//!
//! Gandi's reference (`https://api.gandi.net/docs/livedns/`, "Snapshots of a domain") gives the
//! fields (`id`, `name`, `created_at`, `automatic`, `zone_data`) and says that without a name
//! a snapshot is named after "today's date with an incremental number added to it". How many
//! automatic snapshots Gandi keeps is not documented: the mock keeps the last
//! [`MAX_AUTOMATIC`] (inferred). Automatic snapshots hold the zone as it was before the change,
//! so that writing one back undoes the change (inferred: the reference says only that they are
//! "automatically created after a zone change").

use serde::Serialize;
use time::OffsetDateTime;

use super::cow_list::CowList;
use super::ids::organization_uuid;
use super::rrsets::RrSets;
use super::types::Fqdn;

/// Automatic snapshots kept per domain; the oldest goes first (inferred).
pub const MAX_AUTOMATIC: usize = 50;

/// One snapshot of a domain's rrsets.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub id: String,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub automatic: bool,
    #[serde(skip)]
    pub rrsets: RrSets,
}

/// A domain's snapshots, oldest first, shared between states until one is taken or removed.
#[derive(Debug, Clone, Default)]
pub struct Snapshots {
    pub(super) list: CowList<Snapshot>,
    /// Snapshots ever taken of the domain: each id is made from the domain and this number.
    pub(super) taken: u64,
}

impl Snapshots {
    pub fn iter(&self) -> std::slice::Iter<'_, Snapshot> {
        self.list.iter()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn get(&self, id: &str) -> Option<&Snapshot> {
        self.list.iter().find(|s| s.id == id)
    }

    /// Adds a snapshot of `rrsets`; returns its id.
    pub(super) fn take(
        &mut self,
        fqdn: &Fqdn,
        rrsets: RrSets,
        name: Option<String>,
        automatic: bool,
    ) -> String {
        self.taken += 1;
        let now = OffsetDateTime::now_utc();
        let id = organization_uuid(&format!("snapshot {fqdn} {}", self.taken));
        let name = name.unwrap_or_else(|| {
            let today = now.date();
            let same_day = self
                .list
                .iter()
                .filter(|s| s.created_at.date() == today)
                .count();
            format!("{today} {}", same_day + 1)
        });
        let list = self.list.make_mut();
        list.push(Snapshot {
            id: id.clone(),
            name,
            created_at: now,
            automatic,
            rrsets,
        });
        if automatic
            && list.iter().filter(|s| s.automatic).count() > MAX_AUTOMATIC
            && let Some(oldest) = list.iter().position(|s| s.automatic)
        {
            list.remove(oldest);
        }
        id
    }
}

impl Serialize for Snapshots {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.list.serialize(serializer)
    }
}
