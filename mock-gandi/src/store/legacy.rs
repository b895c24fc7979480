//! Legacy (v4) zone operations: zones with numbered versions, one of them active and read-only,
//! and domains pointing at zones. The v4 XML-RPC handlers call these; nothing here knows XML.
//!
//! DNS keeps answering from [`State::zone_for`](super::State), which reads the active version of
//! the zone a `legacy` domain points at. Every operation below either edits an inactive version
//! (invisible to DNS until it is activated), switches the active version or the domain's zone
//! (visible at once, atomically, because it happens under the store lock), or refuses.

use std::collections::BTreeMap;
use std::sync::Arc;

use time::OffsetDateTime;

use super::records::{LegacyRecord, Records};
use super::seed::DnsMode;
use super::state::{Domain, LegacyZone, State};
use super::types::{DEFAULT_TTL, Fqdn, RecordType, RelName};
use super::types::{Invalid, MAX_TTL, check_ttl, normalize_value};

/// Why a legacy operation was refused. Ids are kept as the caller sent them, for the fault text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LegacyError {
    #[error("unknown domain {0}")]
    UnknownDomain(String),
    #[error("no such zone (id: {0})")]
    UnknownZone(i64),
    #[error("no such version {version} in zone {zone}")]
    UnknownVersion { zone: i64, version: i64 },
    #[error("version {version} of zone {zone} is active and cannot be modified")]
    ActiveVersionReadOnly { zone: i64, version: i64 },
    #[error("version {version} of zone {zone} is active and cannot be deleted")]
    ActiveVersionDelete { zone: i64, version: i64 },
    #[error("zone {zone} is used by {domains} domain(s)")]
    ZoneInUse { zone: i64, domains: usize },
    #[error("no such record (id: {0})")]
    UnknownRecord(i64),
    #[error("zone {0} is shared and may not be modified")]
    SharedZone(i64),
    #[error("{0}")]
    Invalid(#[from] Invalid),
}

/// A record as a v4 client describes it (`domain.zone.record.add`, `.update`, `.set`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordInput {
    pub name: String,
    pub rtype: String,
    pub value: String,
    /// `None` gives Gandi's default TTL.
    pub ttl: Option<i64>,
}

/// Which records a `list` or `delete` selects; an empty filter selects all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordFilter {
    pub name: Option<String>,
    pub rtype: Option<String>,
    pub value: Option<String>,
    pub ttl: Option<i64>,
    pub id: Option<i64>,
}

impl RecordFilter {
    fn matches(&self, r: &LegacyRecord) -> bool {
        let name_ok = self
            .name
            .as_ref()
            .is_none_or(|n| n.eq_ignore_ascii_case(r.name.as_str()));
        let type_ok = self.rtype.as_ref().is_none_or(|t| t == r.rtype.as_str());
        // Clients send TXT values with or without the quotes the store keeps.
        let value_ok = self.value.as_ref().is_none_or(|v| {
            *v == r.value || normalize_value(r.rtype, v).is_ok_and(|n| n == r.value)
        });
        let ttl_ok = self.ttl.is_none_or(|t| t == i64::from(r.ttl));
        let id_ok = self
            .id
            .is_none_or(|id| u64::try_from(id).is_ok_and(|id| id == r.id));
        name_ok && type_ok && value_ok && ttl_ok && id_ok
    }
}

/// A record checked and normalized, waiting for an id.
struct ValidRecord {
    name: RelName,
    rtype: RecordType,
    value: String,
    ttl: u32,
}

fn validate(input: &RecordInput) -> Result<ValidRecord, Invalid> {
    let rtype = RecordType::parse(&input.rtype).map_err(|e| Invalid::new("type", e.description))?;
    let name = RelName::parse(&input.name).map_err(|e| Invalid::new("name", e.description))?;
    let ttl = match input.ttl {
        None => DEFAULT_TTL,
        Some(t) => {
            let t = u32::try_from(t).map_err(|_| {
                Invalid::new("ttl", format!("{t} is not between 300 and {MAX_TTL}"))
            })?;
            check_ttl(t).map_err(|e| Invalid::new("ttl", e.description))?
        }
    };
    let value =
        normalize_value(rtype, &input.value).map_err(|e| Invalid::new("value", e.description))?;
    Ok(ValidRecord {
        name,
        rtype,
        value,
        ttl,
    })
}

fn zone_key(id: i64) -> Option<u64> {
    u64::try_from(id).ok()
}

fn version_key(version: i64) -> Option<u32> {
    u32::try_from(version).ok()
}

impl State {
    /// The domain named `fqdn` (any case, trailing dot accepted); the error keeps the text as
    /// sent, which is what Gandi echoes.
    pub fn legacy_domain(&self, fqdn: &str) -> Result<&Domain, LegacyError> {
        Fqdn::parse(fqdn)
            .ok()
            .and_then(|f| self.domain(&f))
            .ok_or_else(|| LegacyError::UnknownDomain(fqdn.to_owned()))
    }

    pub fn legacy_zone(&self, id: i64) -> Result<&LegacyZone, LegacyError> {
        zone_key(id)
            .and_then(|k| self.zones.get(&k))
            .map(|z| &**z)
            .ok_or(LegacyError::UnknownZone(id))
    }

    /// A zone to edit: a shared (public) zone may be read and cloned, never edited
    /// (Chralu/gandyn#17: fault 581050 on the edit of a domain's non-editable zone).
    fn legacy_zone_mut(&mut self, id: i64) -> Result<&mut LegacyZone, LegacyError> {
        if self.legacy_zone(id)?.public {
            return Err(LegacyError::SharedZone(id));
        }
        zone_key(id)
            .and_then(|k| self.zones.get_mut(&k))
            .map(std::sync::Arc::make_mut)
            .ok_or(LegacyError::UnknownZone(id))
    }

    /// Every zone, by id.
    pub fn legacy_zones(&self) -> impl Iterator<Item = &LegacyZone> {
        self.zones.values().map(|z| &**z)
    }

    /// How many domains point at zone `id`.
    pub fn legacy_zone_users(&self, id: u64) -> usize {
        self.domains.values().filter(|d| d.zone_id == id).count()
    }

    /// The version a request names: 0 means the active one.
    fn resolve_version(zone: &LegacyZone, version: i64) -> Result<u32, LegacyError> {
        let v = if version == 0 {
            zone.active
        } else {
            version_key(version).ok_or(LegacyError::UnknownVersion {
                zone: zone.id as i64,
                version,
            })?
        };
        if zone.versions.contains_key(&v) {
            Ok(v)
        } else {
            Err(LegacyError::UnknownVersion {
                zone: zone.id as i64,
                version,
            })
        }
    }

    /// The records of a version (0 = active) that match `filter`.
    pub fn legacy_records(
        &self,
        zone: i64,
        version: i64,
        filter: &RecordFilter,
    ) -> Result<Vec<LegacyRecord>, LegacyError> {
        let z = self.legacy_zone(zone)?;
        let v = Self::resolve_version(z, version)?;
        Ok(z.versions[&v]
            .iter()
            .filter(|r| filter.matches(r))
            .collect())
    }

    /// The records of an inactive version, for editing. The active version is read-only, and
    /// 0 (the active one) is therefore refused too.
    fn editable_version(
        &mut self,
        zone: i64,
        version: i64,
    ) -> Result<&mut Vec<LegacyRecord>, LegacyError> {
        let z = self.legacy_zone_mut(zone)?;
        let v = Self::resolve_version(z, version)?;
        if v == z.active {
            return Err(LegacyError::ActiveVersionReadOnly {
                zone,
                version: i64::from(v),
            });
        }
        z.date_updated = OffsetDateTime::now_utc();
        Ok(z.versions.get_mut(&v).expect("resolved above").listed_mut())
    }

    /// A copy of `records` with new ids.
    fn renumbered(&mut self, records: &Records) -> Records {
        Records::Listed(
            records
                .iter()
                .map(|r| LegacyRecord {
                    id: self.next_record_id(),
                    ..r
                })
                .collect(),
        )
    }

    /// `domain.zone.clone`: a new zone whose version 1 (active) copies the given version of
    /// `zone` (0 = active), with new record ids. Returns the new zone's id.
    pub fn legacy_clone_zone(
        &mut self,
        zone: i64,
        version: i64,
        name: Option<&str>,
    ) -> Result<u64, LegacyError> {
        let source = self.legacy_zone(zone)?;
        let v = Self::resolve_version(source, version)?;
        let records = source.versions[&v].clone();
        let name = match name {
            Some(n) => n.to_owned(),
            None => format!("{} (clone)", source.name),
        };
        let id = self.new_zone(&name);
        let copied = self.renumbered(&records);
        if let Some(z) = self.zones.get_mut(&id) {
            std::sync::Arc::make_mut(z).versions.insert(1, copied);
        }
        Ok(id)
    }

    /// `domain.zone.set`: points the domain at the zone. For a `legacy` domain DNS follows at
    /// once; a `livedns` domain's DNS does not depend on its zone.
    pub fn legacy_set_zone(&mut self, fqdn: &str, zone: i64) -> Result<&Domain, LegacyError> {
        let zone_id = self.legacy_zone(zone)?.id;
        let key = self.legacy_domain(fqdn)?.fqdn.clone();
        let domain = std::sync::Arc::make_mut(self.domains.get_mut(&key).expect("found above"));
        domain.zone_id = zone_id;
        Ok(domain)
    }

    /// `domain.zone.delete`: refused while a domain points at the zone.
    pub fn legacy_delete_zone(&mut self, zone: i64) -> Result<(), LegacyError> {
        let id = self.legacy_zone_mut(zone)?.id;
        let users = self.legacy_zone_users(id);
        if users > 0 {
            return Err(LegacyError::ZoneInUse {
                zone,
                domains: users,
            });
        }
        self.zones.remove(&id);
        Ok(())
    }

    /// `domain.zone.version.new`: a copy of `from` (0 or `None` = active) under the next number,
    /// with new record ids. Numbers only grow, and a deleted number is never given again.
    pub fn legacy_new_version(&mut self, zone: i64, from: Option<i64>) -> Result<u32, LegacyError> {
        let z = &*self.legacy_zone_mut(zone)?;
        let v = Self::resolve_version(z, from.unwrap_or(0))?;
        let records = z.versions[&v].clone();
        let next = z
            .next_version
            .max(z.versions.keys().next_back().copied().unwrap_or(0) + 1);
        let copied = self.renumbered(&records);
        let z = self.legacy_zone_mut(zone)?;
        z.versions.insert(next, copied);
        z.next_version = next + 1;
        z.date_updated = OffsetDateTime::now_utc();
        Ok(next)
    }

    /// `domain.zone.version.set`: activates a version; DNS serves it from now on.
    pub fn legacy_set_version(&mut self, zone: i64, version: i64) -> Result<(), LegacyError> {
        let z = self.legacy_zone_mut(zone)?;
        let v = Self::resolve_version(z, version)?;
        z.active = v;
        z.date_updated = OffsetDateTime::now_utc();
        Ok(())
    }

    /// `domain.zone.version.delete`: the active version cannot go.
    pub fn legacy_delete_version(&mut self, zone: i64, version: i64) -> Result<(), LegacyError> {
        let z = self.legacy_zone_mut(zone)?;
        let v = Self::resolve_version(z, version)?;
        if v == z.active {
            return Err(LegacyError::ActiveVersionDelete {
                zone,
                version: i64::from(v),
            });
        }
        z.versions.remove(&v);
        z.date_updated = OffsetDateTime::now_utc();
        Ok(())
    }

    /// `domain.zone.record.add` on an inactive version.
    pub fn legacy_add_record(
        &mut self,
        zone: i64,
        version: i64,
        input: &RecordInput,
    ) -> Result<LegacyRecord, LegacyError> {
        let valid = validate(input)?;
        // Check the version before taking an id, so a refused call changes nothing.
        self.editable_version(zone, version)?;
        let record = LegacyRecord {
            id: self.next_record_id(),
            name: valid.name,
            rtype: valid.rtype,
            value: valid.value,
            ttl: valid.ttl,
        };
        // Adding a record equal in name, type and value to one already there replaces it:
        // the recorded real session lists only the new id afterwards.
        let records = self.editable_version(zone, version)?;
        records.retain(|r| {
            !(r.name == record.name && r.rtype == record.rtype && r.value == record.value)
        });
        records.push(record.clone());
        Ok(record)
    }

    /// `domain.zone.record.delete`: removes the matching records of an inactive version and
    /// returns how many went.
    pub fn legacy_delete_records(
        &mut self,
        zone: i64,
        version: i64,
        filter: &RecordFilter,
    ) -> Result<usize, LegacyError> {
        let records = self.editable_version(zone, version)?;
        let before = records.len();
        records.retain(|r| !filter.matches(r));
        Ok(before - records.len())
    }

    /// `domain.zone.record.update`: replaces the records selected by `filter` (Gandi's clients
    /// select by id) with `input`, keeping their ids.
    pub fn legacy_update_records(
        &mut self,
        zone: i64,
        version: i64,
        filter: &RecordFilter,
        input: &RecordInput,
    ) -> Result<Vec<LegacyRecord>, LegacyError> {
        let valid = validate(input)?;
        let records = self.editable_version(zone, version)?;
        let mut updated = Vec::new();
        for r in records.iter_mut().filter(|r| filter.matches(r)) {
            r.name = valid.name.clone();
            r.rtype = valid.rtype;
            r.value = valid.value.clone();
            r.ttl = valid.ttl;
            updated.push(r.clone());
        }
        if updated.is_empty() {
            return Err(LegacyError::UnknownRecord(filter.id.unwrap_or(0)));
        }
        Ok(updated)
    }

    /// `domain.zone.record.set`: replaces every record of an inactive version. All records are
    /// checked first, so a refused call changes nothing.
    pub fn legacy_set_records(
        &mut self,
        zone: i64,
        version: i64,
        inputs: &[RecordInput],
    ) -> Result<Vec<LegacyRecord>, LegacyError> {
        let valid = inputs.iter().map(validate).collect::<Result<Vec<_>, _>>()?;
        self.editable_version(zone, version)?;
        let records: Vec<LegacyRecord> = valid
            .into_iter()
            .map(|v| LegacyRecord {
                id: self.next_record_id(),
                name: v.name,
                rtype: v.rtype,
                value: v.value,
                ttl: v.ttl,
            })
            .collect();
        *self.editable_version(zone, version)? = records.clone();
        Ok(records)
    }

    /// True when DNS for `fqdn` comes from legacy zones (the domain's mode is `legacy`).
    pub fn legacy_serves_dns(&self, fqdn: &Fqdn) -> bool {
        self.domains
            .get(fqdn)
            .is_some_and(|d| d.dns == DnsMode::Legacy)
    }
}

impl State {
    /// Creates an empty legacy zone with version 1 active; returns its id.
    pub(crate) fn new_zone(&mut self, name: &str) -> u64 {
        let id = self.next_zone_id;
        self.next_zone_id += 1;
        self.zones.insert(
            id,
            Arc::new(LegacyZone {
                id,
                name: name.to_string(),
                public: false,
                active: 1,
                versions: BTreeMap::from([(1, Records::default())]),
                next_version: 2,
                date_updated: OffsetDateTime::now_utc(),
            }),
        );
        id
    }

    pub(crate) fn next_record_id(&mut self) -> u64 {
        let id = self.next_record_id;
        self.next_record_id += 1;
        id
    }

    pub fn zone(&self, id: u64) -> Option<&LegacyZone> {
        self.zones.get(&id).map(|z| &**z)
    }
}
