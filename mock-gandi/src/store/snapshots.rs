//! Snapshots taken and kept: a domain's automatic snapshot before a change, and the store's
//! snapshot operations (`/domains/{fqdn}/snapshots`). The snapshots themselves are
//! `snapshot_list`'s, below the state that holds them.

use super::StoreError;
use super::rrsets::RrSets;
use super::snapshot_list::Snapshots;
use super::state::{Domain, State};
use super::types::Fqdn;

impl Domain {
    /// Takes an automatic snapshot of `before` when the domain's records changed from it and
    /// automatic snapshots are on.
    pub(super) fn changed_from(&mut self, before: RrSets) {
        if self.automatic_snapshots && !before.shares(&self.rrsets) && before != self.rrsets {
            let fqdn = self.fqdn.clone();
            self.snapshots.take(&fqdn, before, None, true);
        }
    }
}

impl State {
    /// A LiveDNS domain's snapshots.
    pub fn snapshots(&self, fqdn: &Fqdn) -> Result<&Snapshots, StoreError> {
        self.domains
            .get(fqdn)
            .map(|d| &d.snapshots)
            .ok_or_else(|| StoreError::UnknownDomain(fqdn.to_string()))
    }

    /// Takes a snapshot of the domain's rrsets now (`POST /snapshots`); returns its id.
    pub fn create_snapshot(
        &mut self,
        fqdn: &Fqdn,
        name: Option<String>,
    ) -> Result<String, StoreError> {
        let domain = self.livedns_domain_mut(fqdn)?;
        let rrsets = domain.rrsets.clone();
        Ok(domain.snapshots.take(fqdn, rrsets, name, false))
    }

    /// Renames a snapshot (`PATCH /snapshots/{id}`).
    pub fn rename_snapshot(&mut self, fqdn: &Fqdn, id: &str, name: &str) -> Result<(), StoreError> {
        let domain = self.livedns_domain_mut(fqdn)?;
        let list = domain.snapshots.list.make_mut();
        let snapshot = list
            .iter_mut()
            .find(|s| s.id == id)
            .ok_or_else(|| StoreError::SnapshotNotFound(id.to_string()))?;
        snapshot.name = name.to_string();
        Ok(())
    }

    /// Removes a snapshot (`DELETE /snapshots/{id}`).
    pub fn delete_snapshot(&mut self, fqdn: &Fqdn, id: &str) -> Result<(), StoreError> {
        let domain = self.livedns_domain_mut(fqdn)?;
        if domain.snapshots.get(id).is_none() {
            return Err(StoreError::SnapshotNotFound(id.to_string()));
        }
        domain.snapshots.list.make_mut().retain(|s| s.id != id);
        Ok(())
    }

    /// Turns automatic snapshots on or off (`PATCH /domains/{fqdn}`).
    pub fn set_automatic_snapshots(&mut self, fqdn: &Fqdn, on: bool) -> Result<(), StoreError> {
        self.livedns_domain_mut(fqdn)?.automatic_snapshots = on;
        Ok(())
    }
}
