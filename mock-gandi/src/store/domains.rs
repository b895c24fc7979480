//! The account's domains and the organizations that own them.

use super::StoreError;
use super::seed::{DnsMode, SeedDomain};
use super::state::{Domain, State};
use super::types::{Fqdn, Invalid};

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

    /// Adds a LiveDNS domain with no records (`POST /domains`).
    pub fn create_domain(
        &mut self,
        fqdn: &Fqdn,
        organization: Option<String>,
    ) -> Result<(), StoreError> {
        if self.domains.contains_key(fqdn) {
            return Err(StoreError::Invalid(Invalid::new(
                "fqdn",
                format!("Domain {fqdn} already exists"),
            )));
        }
        self.insert_domain(
            SeedDomain {
                fqdn: fqdn.clone(),
                dns: DnsMode::Livedns,
                organization,
                record: Vec::new(),
                account: true,
                automatic_snapshots: true,
                nameservers: Vec::new(),
                shared_zone: false,
            },
            &mut Default::default(),
        );
        Ok(())
    }
}

/// A stable uuid-shaped id for an organization name (FNV-1a, twice, formatted 8-4-4-4-12).
pub fn organization_uuid(name: &str) -> String {
    let hash = |seed: u64| {
        name.bytes().fold(seed, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    let a = hash(0xcbf2_9ce4_8422_2325);
    let b = hash(0x8422_2325_cbf2_9ce4);
    let hex = format!("{a:016x}{b:016x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
