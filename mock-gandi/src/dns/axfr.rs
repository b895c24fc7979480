//! Zone transfers (AXFR, RFC 5936) over TCP, as LiveDNS offers them to a domain's slaves.
//!
//! Who may transfer a zone is what the API set (`/domains/{fqdn}/axfr/...`): the peer's
//! address must be one of the domain's slaves; when TSIG keys are associated with the domain,
//! the request must also be signed with one of them. The answers, in the order a request is
//! checked (the order BIND's `named` follows):
//! - a TSIG that is malformed: FORMERR;
//! - a TSIG naming a key the account does not have, or another algorithm than hmac-sha256:
//!   NOTAUTH with TSIG error BADKEY, unsigned (RFC 8945 §5.2.1);
//! - a TSIG whose MAC does not verify: NOTAUTH with BADSIG, unsigned (§5.2.2);
//! - a TSIG signed too far from now: NOTAUTH with BADTIME, signed (§5.2.3);
//! - a name that is not the apex of a zone the mock serves: NOTAUTH (RFC 5936 §2.2.1);
//! - a legacy zone (LiveDNS alone offers transfers), a peer that is not a listed slave, or an
//!   unsigned request (or one signed with a key not associated) for a domain with TSIG keys:
//!   REFUSED, as a server answers a transfer its policy denies (BIND: "zone transfer denied");
//! - else the zone: SOA first and last, every rrset between.
//!
//! A signed request gets signed answers (RFC 8945 §5.3), every message of a long transfer.

use std::net::IpAddr;

use super::lookup::{self, Rcode};
use super::tsig::{self, BADKEY, BADSIG, BADTIME, Signed, Signer};
use super::wire::{self, AXFR, Summary};
use crate::store::types::Fqdn;
use crate::store::{TsigKey, ZoneStore};

/// What a transfer request is answered with.
pub(super) struct Answer {
    pub messages: Vec<Vec<u8>>,
    pub summary: Summary,
}

/// Whether `packet` is a query whose question asks for AXFR.
pub(super) fn is_transfer(packet: &[u8]) -> bool {
    let is_query = packet.get(2).is_some_and(|b| b & 0x80 == 0);
    is_query && tsig::question(packet).is_some_and(|(_, qtype)| qtype == AXFR)
}

/// Seconds since the Unix epoch, as TSIG counts time.
fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Answers an AXFR request from `peer` (`None`: not a message at all).
pub(super) fn answer(store: &ZoneStore, packet: &[u8], peer: IpAddr) -> Option<Answer> {
    let now = now();
    let request = match tsig::find(packet) {
        Ok(request) => request,
        Err(()) => return plain(packet, Rcode::FormErr, &[]),
    };
    let Some(request) = request else {
        let rcode = decide(store, packet, peer, None);
        return plain(packet, rcode.0, &rcode.1);
    };
    let key = request
        .is_hmac_sha256()
        .then(|| store.read(|s| s.tsig_keys().named(&request.key_name_text()).cloned()))
        .flatten();
    let Some(key) = key else {
        return unsigned(packet, &request, BADKEY, now);
    };
    let secret = key.secret_bytes();
    if !request.verifies(&secret) {
        return unsigned(packet, &request, BADSIG, now);
    }
    if !request.timely(now) {
        let (messages, summary) = wire::transfer_reply(packet, Rcode::NotAuth, &[])?;
        let mut signer = Signer::new(&request, &secret, now, BADTIME);
        let messages = messages.into_iter().map(|m| signer.sign(m)).collect();
        return Some(Answer { messages, summary });
    }
    let (rcode, records) = decide(store, packet, peer, Some(&key));
    let (messages, summary) = wire::transfer_reply(packet, rcode, &records)?;
    let mut signer = Signer::new(&request, &secret, now, 0);
    let messages = messages.into_iter().map(|m| signer.sign(m)).collect();
    Some(Answer { messages, summary })
}

/// An answer without TSIG.
fn plain(packet: &[u8], rcode: Rcode, records: &[lookup::Rr]) -> Option<Answer> {
    let (messages, summary) = wire::transfer_reply(packet, rcode, records)?;
    Some(Answer { messages, summary })
}

/// NOTAUTH with a TSIG error and no MAC (RFC 8945 §5.2: the key could not be used).
fn unsigned(packet: &[u8], request: &Signed, error: u16, now: u64) -> Option<Answer> {
    let (messages, summary) = wire::transfer_reply(packet, Rcode::NotAuth, &[])?;
    let messages = messages
        .into_iter()
        .map(|m| tsig::append(m, request, now, &[], error, &[]))
        .collect();
    Some(Answer { messages, summary })
}

/// The rcode and the records for a request that passed its TSIG checks (`key`: the key it
/// was signed with, if any).
fn decide(
    store: &ZoneStore,
    packet: &[u8],
    peer: IpAddr,
    key: Option<&TsigKey>,
) -> (Rcode, Vec<lookup::Rr>) {
    let refused = (Rcode::Refused, Vec::new());
    let Some((qname, _)) = tsig::question(packet) else {
        return (Rcode::FormErr, Vec::new());
    };
    let Ok(apex) = Fqdn::parse(&lookup::name_text(&qname, false)) else {
        return (Rcode::NotAuth, Vec::new());
    };
    let Some(view) = store.zone_for(&apex).filter(|v| v.apex == apex) else {
        return (Rcode::NotAuth, Vec::new());
    };
    let Some(domain) = view.domain() else {
        return refused;
    };
    let transfer = &domain.transfer;
    if !transfer.allows(peer) {
        return refused;
    }
    if !transfer.tsig.is_empty() && !key.is_some_and(|k| transfer.tsig.contains(&k.id)) {
        return refused;
    }
    (Rcode::NoError, lookup::transfer(&view))
}
