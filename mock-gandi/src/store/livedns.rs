//! LiveDNS records of a domain: the rrset operations every LiveDNS endpoint runs.

use std::sync::Arc;

use super::StoreError;
use super::rrsets::RrSet;
use super::state::{Domain, State};
use super::types::{DEFAULT_TTL, Fqdn, Invalid, RecordType, RelName, check_ttl, normalize_values};

impl State {
    pub(super) fn livedns_domain_mut(&mut self, fqdn: &Fqdn) -> Result<&mut Domain, StoreError> {
        self.domains
            .get_mut(fqdn)
            .map(Arc::make_mut)
            .ok_or_else(|| StoreError::UnknownDomain(fqdn.to_string()))
    }

    /// The rrsets of a domain, sorted by name then type.
    pub fn rrsets(&self, fqdn: &Fqdn) -> Result<Vec<RrSet>, StoreError> {
        self.domains
            .get(fqdn)
            .map(|d| d.rrsets.values().cloned().collect())
            .ok_or_else(|| StoreError::UnknownDomain(fqdn.to_string()))
    }

    pub fn rrset(&self, fqdn: &Fqdn, name: &RelName, rtype: RecordType) -> Option<RrSet> {
        self.domains.get(fqdn)?.rrsets.get(name, rtype).cloned()
    }

    /// Creates an rrset; fails if one exists at that name and type (`POST`).
    pub fn create_rrset(
        &mut self,
        fqdn: &Fqdn,
        name: &RelName,
        rtype: RecordType,
        ttl: Option<u32>,
        values: &[String],
    ) -> Result<RrSet, StoreError> {
        if self.rrset(fqdn, name, rtype).is_some() {
            return Err(StoreError::RrsetExists {
                name: name.to_string(),
                rtype,
            });
        }
        if values.is_empty() {
            return Err(Invalid::new("rrset_values", "at least one value is required").into());
        }
        self.put_rrset(fqdn, name, rtype, ttl, values)?
            .ok_or_else(|| Invalid::new("rrset_values", "at least one value is required").into())
    }

    /// Replaces (or creates) an rrset (`PUT`). No TTL means the default, 10800. An empty value
    /// list removes the rrset (certbot and acme.sh clean up that way) and returns `None`.
    pub fn put_rrset(
        &mut self,
        fqdn: &Fqdn,
        name: &RelName,
        rtype: RecordType,
        ttl: Option<u32>,
        values: &[String],
    ) -> Result<Option<RrSet>, StoreError> {
        let ttl = check_ttl(ttl.unwrap_or(DEFAULT_TTL))?;
        let normalized = normalize_values(rtype, values)?;
        let kept = self.put_normalized_rrset(fqdn, name, rtype, ttl, normalized)?;
        Ok(kept.then(|| {
            self.rrset(fqdn, name, rtype)
                .expect("the rrset just written")
        }))
    }

    /// [`State::put_rrset`] for a checked TTL and values already in the store's form (each
    /// once, as [`normalize_values`] gives them): what the LiveDNS `PUT` of one rrset does
    /// once it has read its body. Whether an rrset is left (an empty list removes it).
    pub fn put_normalized_rrset(
        &mut self,
        fqdn: &Fqdn,
        name: &RelName,
        rtype: RecordType,
        ttl: u32,
        values: Vec<String>,
    ) -> Result<bool, StoreError> {
        if let Some(rule) = apex_rule(name, rtype, false) {
            return Err(Invalid::new("rrset_name", rule).into());
        }
        self.edit(fqdn, |domain| {
            if values.is_empty() {
                domain.rrsets.remove(name, rtype);
                return Ok(false);
            }
            if let Some(rule) = apex_rule(name, rtype, true) {
                return Err(Invalid::new("rrset_name", rule).into());
            }
            check_cname_exclusive(domain, name, rtype)?;
            domain.rrsets.insert(RrSet {
                name: name.clone(),
                rtype,
                ttl,
                values,
            });
            Ok(true)
        })
    }

    /// Changes one existing rrset in place (`PATCH /records/{name}/{type}`): values added (each
    /// once) and removed, the TTL replaced when given. An rrset left without values is removed
    /// (inferred: Gandi's reference does not say). Returns the rrset as it is now.
    pub fn patch_rrset(
        &mut self,
        fqdn: &Fqdn,
        name: &RelName,
        rtype: RecordType,
        add: &[String],
        remove: &[String],
        ttl: Option<u32>,
    ) -> Result<RrSet, StoreError> {
        let mut rrset = self
            .rrset(fqdn, name, rtype)
            .ok_or_else(|| StoreError::RrsetNotFound {
                name: name.to_string(),
                rtype,
            })?;
        let add = normalize_values(rtype, add)?;
        let remove = normalize_values(rtype, remove)?;
        if let Some(ttl) = ttl {
            rrset.ttl = check_ttl(ttl)?;
        }
        rrset.values.retain(|v| !remove.contains(v));
        for value in add {
            if !rrset.values.contains(&value) {
                rrset.values.push(value);
            }
        }
        self.put_normalized_rrset(fqdn, name, rtype, rrset.ttl, rrset.values.clone())?;
        Ok(rrset)
    }

    /// Runs `change` on a LiveDNS domain, then takes the automatic snapshot of the records as
    /// they were if they changed.
    fn edit<R>(
        &mut self,
        fqdn: &Fqdn,
        change: impl FnOnce(&mut Domain) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let domain = self.livedns_domain_mut(fqdn)?;
        let before = domain.rrsets.clone();
        let result = change(domain)?;
        domain.changed_from(before);
        Ok(result)
    }

    /// Replaces every rrset at `name` (`PUT /records/{name}`).
    pub fn replace_name(
        &mut self,
        fqdn: &Fqdn,
        name: &RelName,
        items: &[(RecordType, Option<u32>, Vec<String>)],
    ) -> Result<(), StoreError> {
        self.replace_rrsets(
            fqdn,
            |n| n != name,
            items
                .iter()
                .map(|(t, ttl, v)| (name, *t, *ttl, v.as_slice())),
        )
    }

    /// Replaces the whole zone (`PUT /records`).
    pub fn replace_zone(
        &mut self,
        fqdn: &Fqdn,
        items: &[(RelName, RecordType, Option<u32>, Vec<String>)],
    ) -> Result<(), StoreError> {
        self.replace_rrsets(
            fqdn,
            |_| false,
            items
                .iter()
                .map(|(n, t, ttl, v)| (n, *t, *ttl, v.as_slice())),
        )
    }

    /// Keeps the rrsets whose name `keep` accepts and writes `items` over them, all or nothing:
    /// the writes go to a copy of the domain, which replaces it only if every one succeeded.
    fn replace_rrsets<'a>(
        &mut self,
        fqdn: &Fqdn,
        keep: impl Fn(&RelName) -> bool,
        items: impl Iterator<Item = (&'a RelName, RecordType, Option<u32>, &'a [String])>,
    ) -> Result<(), StoreError> {
        let mut trial = self
            .domains
            .get(fqdn)
            .map(|d| Domain::clone(d))
            .ok_or_else(|| StoreError::UnknownDomain(fqdn.to_string()))?;
        let before = trial.rrsets.clone();
        let automatic = std::mem::replace(&mut trial.automatic_snapshots, false);
        trial.rrsets.retain(|r| keep(&r.name));
        let mut scratch = State::default();
        scratch.domains.insert(fqdn.clone(), Arc::new(trial));
        for (name, rtype, ttl, values) in items {
            scratch.put_rrset(fqdn, name, rtype, ttl, values)?;
        }
        let mut done = scratch.domains.remove(fqdn).expect("inserted above");
        let domain = Arc::make_mut(&mut done);
        domain.automatic_snapshots = automatic;
        domain.changed_from(before);
        self.domains.insert(fqdn.clone(), done);
        Ok(())
    }

    /// Deletes one rrset; missing is an error (`DELETE /records/{name}/{type}` answers 404).
    pub fn delete_rrset(
        &mut self,
        fqdn: &Fqdn,
        name: &RelName,
        rtype: RecordType,
    ) -> Result<(), StoreError> {
        self.edit(fqdn, |domain| {
            domain
                .rrsets
                .remove(name, rtype)
                .map(|_| ())
                .ok_or(StoreError::RrsetNotFound {
                    name: name.to_string(),
                    rtype,
                })
        })
    }

    /// Deletes every rrset at `name`.
    pub fn delete_name(&mut self, fqdn: &Fqdn, name: &RelName) -> Result<(), StoreError> {
        self.edit(fqdn, |domain| {
            domain.rrsets.retain(|r| r.name != *name);
            Ok(())
        })
    }
}

/// Gandi's rules for the apex, in its words: ALIAS only at the apex (octodns#619: "only '@'
/// is allowed for ALIAS records"), whatever the values; CNAME never at the apex, which holds
/// the zone's SOA and NS (scoulomb's capture of Gandi's console: "can't use '@' for CNAME
/// records"), when it has values.
pub fn apex_rule(name: &RelName, rtype: RecordType, has_values: bool) -> Option<&'static str> {
    match rtype {
        RecordType::Alias if !name.is_apex() => Some("only '@' is allowed for ALIAS records"),
        RecordType::Cname if has_values && name.is_apex() => {
            Some("can't use '@' for CNAME records")
        }
        _ => None,
    }
}

/// CNAME must stand alone at its name.
fn check_cname_exclusive(
    domain: &Domain,
    name: &RelName,
    rtype: RecordType,
) -> Result<(), Invalid> {
    let others = domain
        .rrsets
        .values()
        .filter(|r| r.name == *name && r.rtype != rtype)
        .map(|r| r.rtype)
        .collect::<Vec<_>>();
    if rtype == RecordType::Cname && !others.is_empty() {
        return Err(Invalid::new(
            "rrset_type",
            "A CNAME record cannot coexist with other records of the same name",
        ));
    }
    if others.contains(&RecordType::Cname) {
        return Err(Invalid::new(
            "rrset_type",
            "A CNAME record cannot coexist with other records of the same name",
        ));
    }
    Ok(())
}
