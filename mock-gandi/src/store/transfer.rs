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
use serde::Serialize;

use super::cow_list::CowList;

/// Bytes of a new TSIG secret: HMAC-SHA256's output size (RFC 8945 §6 asks for at least it).
pub(super) const SECRET_BYTES: usize = 32;

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
    pub(super) list: Arc<Vec<TsigKey>>,
    pub(super) created: u64,
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
