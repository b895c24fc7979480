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

use super::cow_list::CowList;
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
pub(super) fn new_public_key() -> Option<Vec<u8>> {
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
    pub(super) list: CowList<DnssecKey>,
    /// Keys ever created for the domain: each id is made from the domain and this number.
    pub(super) created: u64,
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

    pub(super) fn set_deleted(&mut self, id: &str, deleted: bool) -> bool {
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
