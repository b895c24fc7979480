//! The account's domains and the organizations that own them.

use std::sync::Arc;

use super::StoreError;
use super::seed::{DnsMode, SeedDomain};
use super::state::{Domain, State};
use super::types::{Fqdn, Invalid, RecordType, RelName};

impl State {
    /// The domains the account holds.
    pub fn domains(&self) -> impl Iterator<Item = &Domain> {
        self.domains.values().map(|d| &**d).filter(|d| d.account)
    }

    /// A domain the account holds.
    pub fn domain(&self, fqdn: &Fqdn) -> Option<&Domain> {
        self.domains.get(fqdn).map(|d| &**d).filter(|d| d.account)
    }

    /// The known domain that `name` lies within (longest match).
    pub fn domain_holding(&self, name: &Fqdn) -> Option<&Domain> {
        let mut candidate = name.as_str();
        loop {
            if let Some(d) = Fqdn::parse(candidate)
                .ok()
                .and_then(|f| self.domains.get(&f))
            {
                return Some(d);
            }
            candidate = candidate.split_once('.')?.1;
        }
    }

    /// Adds a LiveDNS domain with the rrsets of `items` (`POST /domains` with
    /// `zone.items`), all or nothing: a refused rrset leaves no domain behind. The first
    /// records are no change to keep: no automatic snapshot of the empty zone before them.
    pub fn create_domain(
        &mut self,
        fqdn: &Fqdn,
        organization: Option<String>,
        items: &[(RelName, RecordType, Option<u32>, Vec<String>)],
    ) -> Result<(), StoreError> {
        if self.domains.contains_key(fqdn) {
            return Err(StoreError::Invalid(Invalid::new(
                "fqdn",
                format!("Domain {fqdn} already exists"),
            )));
        }
        let domain = |organization| SeedDomain {
            fqdn: fqdn.clone(),
            dns: DnsMode::Livedns,
            organization,
            record: Vec::new(),
            account: true,
            automatic_snapshots: false,
            nameservers: Vec::new(),
            zone_owner: None,
            shared_zone: false,
        };
        // The rrsets tried on a scratch state first, so that a refusal changes nothing here.
        let mut scratch = State::default();
        scratch.insert_domain(domain(None), &mut Default::default());
        scratch.replace_zone(fqdn, items)?;
        self.insert_domain(domain(organization), &mut Default::default());
        self.replace_zone(fqdn, items)?;
        if let Some(domain) = self.domains.get_mut(fqdn) {
            Arc::make_mut(domain).automatic_snapshots = true;
        }
        Ok(())
    }
}
