//! DNSSEC keys made and deleted (`/domains/{fqdn}/keys`): the store's operations. The keys
//! themselves are `dnssec_key`'s, below the state that holds them.

use super::StoreError;
use super::dnssec_key::{DnssecKey, DnssecKeys, new_public_key};
use super::ids::organization_uuid;
use super::state::State;
use super::types::Fqdn;

/// Why a key could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    Store(StoreError),
    /// The system's random source failed.
    NoRandomness,
}

impl From<StoreError> for KeyError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl State {
    /// A LiveDNS domain's DNSSEC keys.
    pub fn dnssec_keys(&self, fqdn: &Fqdn) -> Result<&DnssecKeys, StoreError> {
        self.domains
            .get(fqdn)
            .map(|d| &d.keys)
            .ok_or_else(|| StoreError::UnknownDomain(fqdn.to_string()))
    }

    /// Creates a key with these flags (`POST /keys`); returns its id.
    pub fn create_dnssec_key(&mut self, fqdn: &Fqdn, flags: u16) -> Result<String, KeyError> {
        let public_key = new_public_key().ok_or(KeyError::NoRandomness)?;
        let keys = &mut self.livedns_domain_mut(fqdn)?.keys;
        keys.created += 1;
        let id = organization_uuid(&format!("dnssec key {fqdn} {}", keys.created));
        keys.list.make_mut().push(DnssecKey {
            id: id.clone(),
            flags,
            deleted: false,
            public_key,
        });
        Ok(id)
    }

    /// Marks a key deleted or not (`DELETE /keys/{id}`, `PATCH {"deleted": false}`); false
    /// when the domain has no such key.
    pub fn set_dnssec_key_deleted(
        &mut self,
        fqdn: &Fqdn,
        id: &str,
        deleted: bool,
    ) -> Result<bool, StoreError> {
        if self.dnssec_keys(fqdn)?.get(id).is_none() {
            return Ok(false);
        }
        Ok(self.livedns_domain_mut(fqdn)?.keys.set_deleted(id, deleted))
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;

    use super::*;

    /// Gandi's reference example: `public_key` of a key with flags 257 and its `tag`.
    #[test]
    fn the_key_tag_of_gandis_example_is_the_one_it_shows() {
        let key = DnssecKey {
            id: "key-001".into(),
            flags: 257,
            deleted: false,
            public_key: STANDARD
                .decode("rtvYYzLKH/O9IlWUyP5/eMNymj1svKZhK9PVcih019T0KyJ99eyfL6VeOVys22+JQ0Xua7b/0B0RNFfEBsIImg==")
                .unwrap(),
        };
        assert_eq!(key.tag(), 33695);
        assert_eq!(key.rdata()[..4], [1, 1, 3, 13]);
    }

    /// The DS of Gandi's example key at `example.com`: the digest was computed independently
    /// (Python's hashlib over the owner's wire form and the rdata, RFC 4034 §5.1.4).
    #[test]
    fn a_ds_line_names_the_zone_tag_algorithm_and_sha256_digest() {
        let key = DnssecKey {
            id: "k".into(),
            flags: 257,
            deleted: false,
            public_key: STANDARD
                .decode("rtvYYzLKH/O9IlWUyP5/eMNymj1svKZhK9PVcih019T0KyJ99eyfL6VeOVys22+JQ0Xua7b/0B0RNFfEBsIImg==")
                .unwrap(),
        };
        let fqdn = Fqdn::parse("example.com").unwrap();
        assert_eq!(
            key.ds(&fqdn),
            "example.com. 3600 IN DS 33695 13 2 882b1deb864b3fa8ba2fe1160aaa1d1ec3e8a4bbdcd20d2d27056fd5075fab3f"
        );
    }

    #[test]
    fn new_keys_are_distinct_p256_points() {
        let a = new_public_key().unwrap();
        let b = new_public_key().unwrap();
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }
}
