//! Zone transfer: the account's TSIG keys (`/axfr/tsig`), and each domain's slaves and the
//! TSIG keys associated with it (`/domains/{fqdn}/axfr/...`), which DNS reads to decide who
//! may transfer a zone.
//!
//! Gandi's reference ("TSIG keys", "Zone transfer slaves", "TSIG keys associated with a
//! domain") gives the fields: a key has an `id`, a `key_name` "based on its id" (the example:
//! `<id>.gandi.net`) and a `secret`; the list of keys is "relative to the optional sharing_id
//! passed as argument (default to user_id)". The secret's length and the algorithm are not
//! documented: the mock makes 32 random bytes for HMAC-SHA256 (inferred; the example secret,
//! `aiG5ji3Necheisho`, is 12 bytes of base64).

use std::net::IpAddr;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::rand::{SecureRandom, SystemRandom};
use serde::Serialize;

use super::StoreError;
use super::cow_list::CowList;
use super::domains::organization_uuid;
use super::state::State;
use super::types::Fqdn;

/// Bytes of a new TSIG secret: HMAC-SHA256's output size (RFC 8945 §6 asks for at least it).
const SECRET_BYTES: usize = 32;

/// A TSIG key of the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TsigKey {
    pub id: String,
    /// `<id>.gandi.net`, lowercase: the key's name on the wire.
    pub key_name: String,
    /// Base64, as the API shows it and as `dig -y` takes it.
    pub secret: String,
    /// The `sharing_id` it was created under; `None`: the user's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sharing_id: Option<String>,
}

impl TsigKey {
    /// The secret's bytes (the store made it, so it decodes).
    pub fn secret_bytes(&self) -> Vec<u8> {
        STANDARD.decode(&self.secret).unwrap_or_default()
    }
}

/// The account's TSIG keys, shared between states until one is created.
#[derive(Debug, Clone, Default)]
pub struct TsigKeys {
    list: Arc<Vec<TsigKey>>,
    created: u64,
}

impl TsigKeys {
    pub fn iter(&self) -> std::slice::Iter<'_, TsigKey> {
        self.list.iter()
    }

    pub fn get(&self, id: &str) -> Option<&TsigKey> {
        self.list.iter().find(|k| k.id == id)
    }

    /// The key with this wire name (any case).
    pub fn named(&self, name: &str) -> Option<&TsigKey> {
        self.list
            .iter()
            .find(|k| k.key_name.eq_ignore_ascii_case(name))
    }
}

/// Who may transfer one domain: its slaves' addresses and the TSIG keys associated with it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transfer {
    pub slaves: CowList<IpAddr>,
    /// Ids of the account's TSIG keys, in the order they were associated.
    pub tsig: CowList<String>,
}

impl Serialize for Transfer {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut s = serializer.serialize_struct("Transfer", 2)?;
        s.serialize_field("slaves", &*self.slaves)?;
        s.serialize_field("tsig", &*self.tsig)?;
        s.end()
    }
}

impl Transfer {
    pub fn is_empty(&self) -> bool {
        self.slaves.is_empty() && self.tsig.is_empty()
    }

    /// Whether `peer` is a listed slave (an IPv4-mapped IPv6 peer is its IPv4 address).
    pub fn allows(&self, peer: IpAddr) -> bool {
        self.slaves.contains(&peer.to_canonical())
    }
}

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
