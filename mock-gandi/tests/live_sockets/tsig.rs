//! A client's TSIG (RFC 8945), written apart from the mock's: signs a request, reads and
//! checks the answers' TSIG records.

use hickory_proto::op::Message;
use hickory_proto::rr::RData;
use hickory_proto::rr::rdata::TSIG;
use ring::hmac;

/// A client's TSIG (RFC 8945), written here apart from the mock's: signs a request, checks
/// the answers' MACs.
pub struct Tsig {
    pub name: String,
    pub secret: Vec<u8>,
}

pub fn wire_name(out: &mut Vec<u8>, name: &str) {
    for label in name.trim_end_matches('.').split('.') {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

impl Tsig {
    fn variables(&self, out: &mut Vec<u8>, time: u64) {
        wire_name(out, &self.name);
        out.extend_from_slice(&[0, 255, 0, 0, 0, 0]);
        wire_name(out, "hmac-sha256");
        out.extend_from_slice(&time.to_be_bytes()[2..]);
        out.extend_from_slice(&300u16.to_be_bytes());
        out.extend_from_slice(&[0, 0, 0, 0]);
    }

    fn record(&self, id: u16, time: u64, mac: &[u8]) -> Vec<u8> {
        let mut rdata = Vec::new();
        wire_name(&mut rdata, "hmac-sha256");
        rdata.extend_from_slice(&time.to_be_bytes()[2..]);
        rdata.extend_from_slice(&300u16.to_be_bytes());
        rdata.extend_from_slice(&(mac.len() as u16).to_be_bytes());
        rdata.extend_from_slice(mac);
        rdata.extend_from_slice(&id.to_be_bytes());
        rdata.extend_from_slice(&[0, 0, 0, 0]);
        let mut out = Vec::new();
        wire_name(&mut out, &self.name);
        out.extend_from_slice(&[0, 250, 0, 255, 0, 0, 0, 0]);
        out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        out.extend_from_slice(&rdata);
        out
    }

    /// `message` signed now; answers the bytes and the MAC.
    pub fn sign(&self, message: &[u8]) -> (Vec<u8>, Vec<u8>) {
        self.sign_at(message, now())
    }

    pub fn sign_at(&self, message: &[u8], time: u64) -> (Vec<u8>, Vec<u8>) {
        let mut data = message.to_vec();
        self.variables(&mut data, time);
        let mac = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &self.secret), &data)
            .as_ref()
            .to_vec();
        let mut signed = message.to_vec();
        let ar = u16::from_be_bytes([signed[10], signed[11]]) + 1;
        signed[10..12].copy_from_slice(&ar.to_be_bytes());
        signed.extend_from_slice(&self.record(
            u16::from_be_bytes([message[0], message[1]]),
            time,
            &mac,
        ));
        (signed, mac)
    }
}

/// The TSIG record of a message: hickory-proto without its `dnssec` feature leaves it, decoded,
/// as the last additional record.
pub fn tsig_of(message: &[u8]) -> Option<TSIG> {
    let m = Message::from_vec(message).unwrap();
    if let Some(record) = m.signature {
        return Some(record.data.clone());
    }
    match &m.additionals.last()?.data {
        RData::TSIG(tsig) => Some(tsig.clone()),
        _ => None,
    }
}

/// Checks every message's MAC as RFC 8945 §5.3 says a client does.
pub fn verify_answers(key: &Tsig, request_mac: &[u8], messages: &[Vec<u8>]) {
    let mut prior = request_mac.to_vec();
    for (i, message) in messages.iter().enumerate() {
        let tsig = tsig_of(message).expect("every message is signed");
        // The message without its TSIG record (the last bytes) and one record fewer.
        let tsig_len = record_len(&key.name, &tsig.mac, &tsig.other);
        let mut body = message[..message.len() - tsig_len].to_vec();
        let ar = u16::from_be_bytes([body[10], body[11]]) - 1;
        body[10..12].copy_from_slice(&ar.to_be_bytes());
        let mut data = (prior.len() as u16).to_be_bytes().to_vec();
        data.extend_from_slice(&prior);
        data.extend_from_slice(&body);
        if i == 0 {
            wire_name(&mut data, &key.name);
            data.extend_from_slice(&[0, 255, 0, 0, 0, 0]);
            wire_name(&mut data, "hmac-sha256");
            data.extend_from_slice(&tsig.time.to_be_bytes()[2..]);
            data.extend_from_slice(&tsig.fudge.to_be_bytes());
            data.extend_from_slice(&[0, 0, 0, 0]);
        } else {
            data.extend_from_slice(&tsig.time.to_be_bytes()[2..]);
            data.extend_from_slice(&tsig.fudge.to_be_bytes());
        }
        hmac::verify(
            &hmac::Key::new(hmac::HMAC_SHA256, &key.secret),
            &data,
            &tsig.mac,
        )
        .unwrap_or_else(|_| panic!("message {i}'s MAC does not verify"));
        prior = tsig.mac.clone();
    }
}

/// Length of a TSIG record with uncompressed names, as the mock writes them: owner, type,
/// class, TTL, length, then the algorithm name, time, fudge, MAC, original id, error, other.
pub fn record_len(key_name: &str, mac: &[u8], other: &[u8]) -> usize {
    let mut owner = Vec::new();
    wire_name(&mut owner, key_name);
    let mut algorithm = Vec::new();
    wire_name(&mut algorithm, "hmac-sha256");
    owner.len() + 10 + algorithm.len() + 6 + 2 + 2 + mac.len() + 2 + 2 + 2 + other.len()
}
