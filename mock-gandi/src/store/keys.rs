//! DNSSEC keys of a LiveDNS domain (`/domains/{fqdn}/keys`): real ECDSA P-256 keys
//! (algorithm 13, RFC 6605), their DNSKEY rdata, key tag and DS, as DNS serves them at the
//! apex.
//!
//! Gandi's reference ("DNSSEC keys", "Manipulate a specific DNSSEC key") gives the fields and
//! that the algorithm is always 13 in its examples; a key is deleted softly (`deleted: true`)
//! and undeleted with `PATCH {"deleted": false}`. A deleted key is no longer served (inferred:
//! the reference says "no longer active"). The private half is generated and dropped: the mock
//! does not sign (see the DNS module).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde::Serialize;

use super::StoreError;
use super::cow_list::CowList;
use super::domains::organization_uuid;
use super::state::State;
use super::types::Fqdn;

/// The one algorithm Gandi's examples show: ECDSA Curve P-256 with SHA-256 (RFC 6605).
pub const DNSSEC_ALGORITHM: u8 = 13;
/// Its mnemonic (IANA), as `algorithm_name` gives it.
pub const DNSSEC_ALGORITHM_NAME: &str = "ECDSAP256SHA256";
/// DNSKEY's protocol field: always 3 (RFC 4034 §2.1.2).
const PROTOCOL: u8 = 3;
/// The TTL of the DS line Gandi shows (the reference's example: `3600`).
const DS_TTL: u32 = 3600;
/// Key flags a client may ask for: ZSK (256) and KSK (257, the SEP bit set).
pub const DNSSEC_FLAGS: [u16; 2] = [256, 257];

/// One DNSSEC key: its flags and the public point of its P-256 key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DnssecKey {
    pub id: String,
    pub flags: u16,
    pub deleted: bool,
    /// X and Y of the public point, 32 bytes each (RFC 6605 §4), base64 in the state.
    #[serde(serialize_with = "as_base64")]
    pub public_key: Vec<u8>,
}

fn as_base64<S: serde::Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&STANDARD.encode(bytes))
}

impl DnssecKey {
    /// The DNSKEY rdata (RFC 4034 §2.1): flags, protocol 3, algorithm 13, the key.
    pub fn rdata(&self) -> Vec<u8> {
        let mut rdata = Vec::with_capacity(4 + self.public_key.len());
        rdata.extend_from_slice(&self.flags.to_be_bytes());
        rdata.push(PROTOCOL);
        rdata.push(DNSSEC_ALGORITHM);
        rdata.extend_from_slice(&self.public_key);
        rdata
    }

    /// The key tag (RFC 4034 Appendix B) of the rdata.
    pub fn tag(&self) -> u16 {
        let mut sum: u32 = 0;
        for (i, b) in self.rdata().iter().enumerate() {
            sum += if i % 2 == 0 {
                u32::from(*b) << 8
            } else {
                u32::from(*b)
            };
        }
        sum += (sum >> 16) & 0xffff;
        (sum & 0xffff) as u16
    }

    /// The public key as the API shows it (base64 of X‖Y).
    pub fn public_key_base64(&self) -> String {
        STANDARD.encode(&self.public_key)
    }

    /// The SHA-256 DS digest (RFC 4034 §5.1.4): the owner name in canonical wire form, then
    /// the DNSKEY rdata.
    pub fn ds_digest(&self, fqdn: &Fqdn) -> Vec<u8> {
        let mut data = Vec::new();
        for label in fqdn.as_str().split('.') {
            data.push(u8::try_from(label.len()).unwrap_or(63));
            data.extend_from_slice(label.as_bytes());
        }
        data.push(0);
        data.extend_from_slice(&self.rdata());
        ring::digest::digest(&ring::digest::SHA256, &data)
            .as_ref()
            .to_vec()
    }

    /// The DS record as an absolute zone-file line, as `ds` shows it.
    pub fn ds(&self, fqdn: &Fqdn) -> String {
        format!(
            "{fqdn}. {DS_TTL} IN DS {} {DNSSEC_ALGORITHM} 2 {}",
            self.tag(),
            hex(&self.ds_digest(fqdn))
        )
    }

    /// "The digest of the key": SHA-256 of the public key, in hex (inferred: the reference's
    /// example fingerprint matches no digest of its own example key).
    pub fn fingerprint(&self) -> String {
        hex(ring::digest::digest(&ring::digest::SHA256, &self.public_key).as_ref())
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A fresh P-256 public point (X‖Y, 64 bytes). `None` only if the system has no randomness.
fn new_public_key() -> Option<Vec<u8>> {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).ok()?;
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).ok()?;
    // Uncompressed point: 0x04, X, Y (SEC 1 §2.3.3).
    pair.public_key().as_ref().get(1..).map(<[u8]>::to_vec)
}

/// A domain's DNSSEC keys, oldest first, shared between states until one changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnssecKeys {
    list: CowList<DnssecKey>,
    /// Keys ever created for the domain: each id is made from the domain and this number.
    created: u64,
}

impl DnssecKeys {
    pub fn iter(&self) -> std::slice::Iter<'_, DnssecKey> {
        self.list.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn get(&self, id: &str) -> Option<&DnssecKey> {
        self.list.iter().find(|k| k.id == id)
    }

    /// The keys DNS serves: every one not deleted.
    pub fn active(&self) -> impl Iterator<Item = &DnssecKey> {
        self.list.iter().filter(|k| !k.deleted)
    }

    fn set_deleted(&mut self, id: &str, deleted: bool) -> bool {
        if self.get(id).is_none() {
            return false;
        }
        for key in self.list.make_mut() {
            if key.id == id {
                key.deleted = deleted;
            }
        }
        true
    }
}

impl Serialize for DnssecKeys {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.list.serialize(serializer)
    }
}

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
