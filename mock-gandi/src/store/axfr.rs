//! Zone transfer settings changed (`/axfr/tsig`, `/domains/{fqdn}/axfr/...`): the store's
//! operations. The keys and settings themselves are `transfer`'s, below the state that holds
//! them.

use std::net::IpAddr;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::rand::{SecureRandom, SystemRandom};

use super::StoreError;
use super::ids::organization_uuid;
use super::state::State;
use super::transfer::{SECRET_BYTES, Transfer, TsigKey, TsigKeys};
use super::types::Fqdn;

impl State {
    /// The account's TSIG keys.
    pub fn tsig_keys(&self) -> &TsigKeys {
        &self.tsig_keys
    }

    /// Creates a TSIG key (`POST /axfr/tsig`); `None` if the system has no randomness.
    pub fn create_tsig_key(&mut self, sharing_id: Option<String>) -> Option<TsigKey> {
        let mut secret = [0u8; SECRET_BYTES];
        SystemRandom::new().fill(&mut secret).ok()?;
        let keys = &mut self.tsig_keys;
        keys.created += 1;
        let id = organization_uuid(&format!("tsig key {}", keys.created));
        let key = TsigKey {
            key_name: format!("{id}.gandi.net"),
            id,
            secret: STANDARD.encode(secret),
            sharing_id,
        };
        Arc::make_mut(&mut keys.list).push(key.clone());
        Some(key)
    }

    /// A LiveDNS domain's transfer settings.
    pub fn transfer(&self, fqdn: &Fqdn) -> Result<&Transfer, StoreError> {
        self.domains
            .get(fqdn)
            .map(|d| &d.transfer)
            .ok_or_else(|| StoreError::UnknownDomain(fqdn.to_string()))
    }

    /// Adds a slave (`PUT /axfr/slaves/{ip}`; adding one twice keeps one).
    pub fn add_slave(&mut self, fqdn: &Fqdn, ip: IpAddr) -> Result<(), StoreError> {
        let ip = ip.to_canonical();
        let transfer = &mut self.livedns_domain_mut(fqdn)?.transfer;
        if !transfer.slaves.contains(&ip) {
            transfer.slaves.make_mut().push(ip);
        }
        Ok(())
    }

    /// Removes a slave (`DELETE /axfr/slaves/{ip}`); false when it was not listed.
    pub fn remove_slave(&mut self, fqdn: &Fqdn, ip: IpAddr) -> Result<bool, StoreError> {
        let ip = ip.to_canonical();
        if !self.transfer(fqdn)?.slaves.contains(&ip) {
            return Ok(false);
        }
        let transfer = &mut self.livedns_domain_mut(fqdn)?.transfer;
        transfer.slaves.make_mut().retain(|s| *s != ip);
        Ok(true)
    }

    /// Associates a TSIG key with a domain (`PUT /axfr/tsig/{id}`; twice keeps one).
    pub fn associate_tsig(&mut self, fqdn: &Fqdn, id: &str) -> Result<(), StoreError> {
        let transfer = &mut self.livedns_domain_mut(fqdn)?.transfer;
        if !transfer.tsig.iter().any(|t| t == id) {
            transfer.tsig.make_mut().push(id.to_string());
        }
        Ok(())
    }

    /// Removes an association (`DELETE /axfr/tsig/{id}`); false when there was none.
    pub fn dissociate_tsig(&mut self, fqdn: &Fqdn, id: &str) -> Result<bool, StoreError> {
        if !self.transfer(fqdn)?.tsig.iter().any(|t| t == id) {
            return Ok(false);
        }
        let transfer = &mut self.livedns_domain_mut(fqdn)?.transfer;
        transfer.tsig.make_mut().retain(|t| t != id);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Seed;

    fn state() -> State {
        let seed = Seed::parse("[[domain]]\nfqdn = \"stubber.chat\"\n").unwrap();
        let mut state = State::empty();
        state.apply_seed(seed);
        state
    }

    #[test]
    fn tsig_keys_have_uuid_ids_gandi_names_and_32_byte_secrets() {
        let mut s = state();
        let a = s.create_tsig_key(None).unwrap();
        let b = s.create_tsig_key(None).unwrap();
        assert_ne!(a.id, b.id);
        assert_eq!(a.id.len(), 36);
        assert_eq!(a.key_name, format!("{}.gandi.net", a.id));
        assert_eq!(a.secret_bytes().len(), 32);
        assert_ne!(a.secret, b.secret);
        assert_eq!(s.tsig_keys().named(&a.key_name.to_uppercase()), Some(&a));
    }

    #[test]
    fn slaves_are_kept_once_and_mapped_addresses_are_their_ipv4() {
        let mut s = state();
        let fqdn = Fqdn::parse("stubber.chat").unwrap();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        s.add_slave(&fqdn, ip).unwrap();
        s.add_slave(&fqdn, "::ffff:192.0.2.1".parse().unwrap())
            .unwrap();
        assert_eq!(*s.transfer(&fqdn).unwrap().slaves, vec![ip]);
        assert!(
            s.transfer(&fqdn)
                .unwrap()
                .allows("::ffff:192.0.2.1".parse().unwrap())
        );
        assert!(s.remove_slave(&fqdn, ip).unwrap());
        assert!(!s.remove_slave(&fqdn, ip).unwrap());
        assert!(!s.transfer(&fqdn).unwrap().allows(ip));
    }
}
