//! A seed applied to the state: its domains (rrsets and a legacy zone each), rules and
//! credentials.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::permissions::Rights;
use super::rate::RateLimiter;
use super::records::{self, Records};
use super::rrsets::{RrSet, RrSets};
use super::seed::{Seed, SeedDomain};
use super::state::{Armed, ArmedFault, Credential, Domain, State};
use super::types::{RecordType, RelName};

impl State {
    /// Adds what `seed` holds (its values are moved into the state, not copied).
    pub(super) fn apply_seed(&mut self, seed: Seed) {
        // The same relative names come back in domain after domain (`@`, `www`,
        // `_acme-challenge`): each is stored once per seed.
        let mut names = std::collections::HashSet::new();
        if let Some(as_of) = seed.as_of {
            self.set_era(crate::era::Era::new(Some(as_of)));
        }
        for d in seed.domain {
            self.insert_domain(d, &mut names);
        }
        self.faults
            .extend(seed.fault.iter().cloned().map(ArmedFault::new));
        self.dns_faults
            .extend(seed.dns_fault.iter().cloned().map(Armed::new));
        if let Some(limit) = seed.rate_limit {
            let limit = limit.in_era(self.era);
            self.rate_limiter = Some(std::sync::Arc::new(RateLimiter::new(limit)));
        }
        for c in &seed.credential {
            // One secret may be several kinds of credential (a suite that gives one token to
            // both APIs); a later seed's credential of the same secret and kind replaces it.
            self.credentials
                .retain(|k| k.secret != c.secret || k.kind != c.kind);
            self.credentials.push(Arc::new(Credential {
                kind: c.kind,
                secret: c.secret.clone(),
                organization: c.organization.clone(),
                domains: c.domains.clone(),
                rights: c
                    .permissions
                    .as_deref()
                    .map_or_else(Rights::dns_automation, Rights::of),
                expires: c.expires,
            }));
        }
    }

    /// Gandi as of another date: a documented rate limit becomes that date's, counted afresh.
    pub(super) fn set_era(&mut self, era: crate::era::Era) {
        self.era = era;
        if let Some(limiter) = &self.rate_limiter
            && limiter.limit().documented
        {
            let limit = limiter.limit().in_era(era);
            self.rate_limiter = Some(Arc::new(RateLimiter::new(limit)));
        }
    }

    /// Adds a domain with its records: as rrsets, and as version 1 of a new legacy zone of its
    /// own, so that both APIs list the same records at the start whichever mode serves DNS.
    pub(super) fn insert_domain(
        &mut self,
        d: SeedDomain,
        names: &mut std::collections::HashSet<RelName>,
    ) {
        let zone_id = self.new_zone(&format!("{} zone", d.fqdn));
        let first_id = self.next_record_id;
        // Unless every record is an rrset of its own with its values once, version 1 is
        // written out here; else it is read from the rrsets (see `Records`).
        let plain = {
            let mut keys = std::collections::HashSet::new();
            d.record.iter().all(|r| {
                keys.insert((&r.name, r.rtype))
                    && r.values
                        .iter()
                        .enumerate()
                        .all(|(i, v)| !r.values[..i].contains(v))
            })
        };
        let listed = (!plain).then(|| records::listing(&d.record, first_id));
        let mut order = Vec::with_capacity(d.record.len());
        let mut sets: BTreeMap<(RelName, RecordType), RrSet> = BTreeMap::new();
        for r in d.record {
            let name = match names.get(&r.name) {
                Some(known) => known.clone(),
                None => {
                    names.insert(r.name.clone());
                    r.name
                }
            };
            order.push((name.clone(), r.rtype));
            let set = sets
                .entry((name.clone(), r.rtype))
                .or_insert_with(|| RrSet {
                    name,
                    rtype: r.rtype,
                    ttl: r.ttl,
                    values: Vec::with_capacity(r.values.len()),
                });
            for v in r.values {
                if !set.values.contains(&v) {
                    set.values.push(v);
                }
            }
        }
        let rrsets = RrSets::from_sorted(sets.into_values().collect());
        let records = match listed {
            Some(listed) => Records::Listed(listed),
            None => {
                let order = order
                    .iter()
                    .filter_map(|(name, rtype)| rrsets.position(name, *rtype))
                    .map(|i| u32::try_from(i).unwrap_or(u32::MAX))
                    .collect();
                Records::seeded(rrsets.clone(), order, first_id)
            }
        };
        self.next_record_id += records.len() as u64;
        if let Some(zone) = self.zones.get_mut(&zone_id) {
            let zone = Arc::make_mut(zone);
            zone.versions.insert(1, records);
            zone.public = d.shared_zone;
        }
        let id = self.next_domain_id;
        self.next_domain_id += 1;
        self.domains.insert(
            d.fqdn.clone(),
            Arc::new(Domain {
                id,
                fqdn: d.fqdn.clone(),
                dns: d.dns,
                organization: d.organization,
                rrsets,
                zone_id,
                account: d.account,
                automatic_snapshots: d.automatic_snapshots,
                nameservers: d.nameservers,
                snapshots: Default::default(),
                keys: Default::default(),
                transfer: Default::default(),
                zone_owner: d.zone_owner,
            }),
        );
    }
}
