//! Where a domain's DNS lives, as the registry sees it: the nameservers the domain is
//! delegated to, and the move of a domain from Gandi's classic DNS (the legacy zones) to
//! LiveDNS (the Domain API's `POST /domains/{domain}/livedns`).
//!
//! A domain delegated to nameservers that are not Gandi's is not served by the mock's DNS
//! (REFUSED, as for any zone it does not serve): "my nameservers point elsewhere" is a state a
//! seed can hold (`nameservers = [...]` on a `[[domain]]`).

use std::sync::Arc;

use super::StoreError;
use super::seed::DnsMode;
use super::state::{Domain, State};
use super::types::Fqdn;
use super::view::NAMESERVERS;

/// The nameservers of Gandi's classic DNS (a legacy zone's domain), as v4's `domain.info`
/// lists them (gandi-wire.md §3, recorded `domain.info` answers).
pub const CLASSIC_NAMESERVERS: [&str; 3] =
    ["a.dns.gandi.net", "b.dns.gandi.net", "c.dns.gandi.net"];

/// Whether a nameserver is Gandi's: LiveDNS's (`ns-NNN-x.gandi.net`, and the names the mock's
/// DNS gives itself) or the classic DNS's.
pub fn is_gandi_nameserver(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name.ends_with(".gandi.net") || NAMESERVERS.contains(&name.as_str())
}

impl Domain {
    /// The nameservers the domain is delegated to: the ones set at the registry, else those
    /// of the platform that serves its DNS.
    pub fn delegated_to(&self) -> Vec<String> {
        if !self.nameservers.is_empty() {
            return self.nameservers.clone();
        }
        match self.dns {
            DnsMode::Livedns => NAMESERVERS.iter().map(|n| n.to_string()).collect(),
            DnsMode::Legacy => CLASSIC_NAMESERVERS.iter().map(|n| n.to_string()).collect(),
        }
    }

    /// Whether the domain is delegated to Gandi's nameservers (and so served by the mock).
    pub fn delegated_to_gandi(&self) -> bool {
        self.nameservers.iter().all(|n| is_gandi_nameserver(n))
    }
}

impl State {
    /// Sets the nameservers the registry delegates the domain to (`PUT
    /// /domains/{domain}/nameservers`).
    pub fn set_nameservers(&mut self, fqdn: &Fqdn, names: Vec<String>) -> Result<(), StoreError> {
        let domain = self
            .domains
            .get_mut(fqdn)
            .filter(|d| d.account)
            .map(Arc::make_mut)
            .ok_or_else(|| StoreError::UnknownDomain(fqdn.to_string()))?;
        domain.nameservers = names;
        Ok(())
    }

    /// Moves a classic-DNS domain to LiveDNS: the active version of its legacy zone becomes its
    /// LiveDNS records, LiveDNS serves its DNS, and it is delegated to LiveDNS's nameservers.
    /// From then on a v4 write no longer reaches DNS. Returns false when it was on LiveDNS
    /// already (nothing changes).
    pub fn move_to_livedns(&mut self, fqdn: &Fqdn) -> Result<bool, StoreError> {
        let domain = self
            .domains
            .get(fqdn)
            .filter(|d| d.account)
            .ok_or_else(|| StoreError::UnknownDomain(fqdn.to_string()))?;
        if domain.dns == DnsMode::Livedns {
            return Ok(false);
        }
        let records = self
            .zones
            .get(&domain.zone_id)
            .and_then(|z| z.versions.get(&z.active))
            .map(|r| r.rrsets())
            .unwrap_or_default();
        let domain = self.livedns_domain_mut(fqdn)?;
        domain.rrsets = records;
        domain.dns = DnsMode::Livedns;
        domain.nameservers = Vec::new();
        Ok(true)
    }
}
