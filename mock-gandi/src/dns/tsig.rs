//! TSIG (RFC 8945) with HMAC-SHA256, on the raw bytes of messages: a request's MAC is over the
//! bytes as the client sent them (a decoded and re-encoded message may compress otherwise), so
//! the TSIG record is found, cut off and checked here, and appended to answers here.

use ring::hmac;

use super::lookup::Label;

/// The record type of TSIG.
const TSIG: u16 = 250;
/// TSIG's class, ANY.
const CLASS_ANY: u16 = 255;
/// The one algorithm the mock accepts (RFC 8945 §6: REQUIRED to implement).
const HMAC_SHA256: &[u8] = b"hmac-sha256";
/// Length of an HMAC-SHA256 MAC.
const MAC_LEN: usize = 32;
/// The fudge the server puts in what it signs (RFC 8945 §10 recommends 300 seconds).
const FUDGE: u16 = 300;
/// Compression pointers followed while reading one name, at most.
const MAX_POINTERS: usize = 32;

/// TSIG errors (RFC 8945 §4.3, the TSIG RR's Error field).
pub(super) const BADSIG: u16 = 16;
pub(super) const BADKEY: u16 = 17;
pub(super) const BADTIME: u16 = 18;

/// A request's TSIG record, and the request as it was before the record was added.
#[derive(Debug, Clone)]
pub(super) struct Signed {
    /// The request without the TSIG record: ARCOUNT one less, the ID the original ID.
    pub stripped: Vec<u8>,
    /// Lowercase, absolute.
    pub key_name: Vec<Label>,
    pub algorithm: Vec<Label>,
    pub time_signed: u64,
    pub fudge: u16,
    pub mac: Vec<u8>,
    pub original_id: u16,
    pub error: u16,
    pub other: Vec<u8>,
}

impl Signed {
    pub(super) fn key_name_text(&self) -> String {
        super::lookup::name_text(&self.key_name, false)
    }

    pub(super) fn is_hmac_sha256(&self) -> bool {
        self.algorithm.len() == 1 && self.algorithm[0].eq_ignore_ascii_case(HMAC_SHA256)
    }

    /// Whether the MAC is the HMAC-SHA256 with `secret` of the request (RFC 8945 §4.3.3).
    pub(super) fn verifies(&self, secret: &[u8]) -> bool {
        let mut data = self.stripped.clone();
        variables(
            &mut data,
            &self.key_name,
            &self.algorithm,
            self.time_signed,
            self.fudge,
            self.error,
            &self.other,
        );
        self.mac.len() == MAC_LEN
            && hmac::verify(&hmac::Key::new(hmac::HMAC_SHA256, secret), &data, &self.mac).is_ok()
    }

    /// Whether the request was signed within its fudge of `now` (RFC 8945 §5.2.3).
    pub(super) fn timely(&self, now: u64) -> bool {
        now.abs_diff(self.time_signed) <= u64::from(self.fudge)
    }
}

/// A big-endian u16 at `at`.
fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

/// Reads the name at `at`: its labels (lowercase) and where the bytes after it begin.
fn read_name(packet: &[u8], mut at: usize) -> Option<(Vec<Label>, usize)> {
    let mut labels = Vec::new();
    let mut end = None;
    for _ in 0..MAX_POINTERS {
        loop {
            let len = *packet.get(at)?;
            match len {
                0 => {
                    return Some((labels, end.unwrap_or(at + 1)));
                }
                l if l & 0xC0 == 0xC0 => {
                    let pointer = usize::from(u16_at(packet, at)? & 0x3FFF);
                    end.get_or_insert(at + 2);
                    at = pointer;
                    break;
                }
                l if l < 64 => {
                    let label = packet.get(at + 1..at + 1 + usize::from(l))?;
                    labels.push(label.to_ascii_lowercase());
                    at += 1 + usize::from(l);
                }
                _ => return None,
            }
        }
    }
    None
}

/// The question of a packet that has exactly one: its name (lowercase) and type.
pub(super) fn question(packet: &[u8]) -> Option<(Vec<Label>, u16)> {
    if u16_at(packet, 4)? != 1 {
        return None;
    }
    let (name, after) = read_name(packet, 12)?;
    Some((name, u16_at(packet, after)?))
}

/// The request's TSIG record: `Ok(None)` when it has none, `Err(())` when the packet cannot
/// be walked or its TSIG is malformed (FORMERR).
pub(super) fn find(packet: &[u8]) -> Result<Option<Signed>, ()> {
    let count = |i: usize| u16_at(packet, 4 + 2 * i).map(usize::from).ok_or(());
    let (qd, an, ns, ar) = (count(0)?, count(1)?, count(2)?, count(3)?);
    let mut at = 12;
    for _ in 0..qd {
        at = read_name(packet, at).ok_or(())?.1 + 4;
    }
    let total = an + ns + ar;
    for i in 0..total {
        let start = at;
        let (owner, after) = read_name(packet, at).ok_or(())?;
        let rtype = u16_at(packet, after).ok_or(())?;
        let rdlen = usize::from(u16_at(packet, after + 8).ok_or(())?);
        let rdata = packet.get(after + 10..after + 10 + rdlen).ok_or(())?;
        at = after + 10 + rdlen;
        if rtype == TSIG {
            // It must be the last record, in the additional section (RFC 8945 §5.1).
            if i + 1 != total || ar == 0 || at != packet.len() {
                return Err(());
            }
            return parse(packet, start, owner, after + 10, rdata).map(Some);
        }
    }
    Ok(None)
}

fn parse(
    packet: &[u8],
    start: usize,
    key_name: Vec<Label>,
    rdata_at: usize,
    rdata: &[u8],
) -> Result<Signed, ()> {
    let (algorithm, after) = read_name(packet, rdata_at).ok_or(())?;
    let rest = packet.get(after..rdata_at + rdata.len()).ok_or(())?;
    let time = rest.get(..6).ok_or(())?;
    let time_signed = time.iter().fold(0u64, |t, b| (t << 8) | u64::from(*b));
    let fudge = u16_at(rest, 6).ok_or(())?;
    let mac_len = usize::from(u16_at(rest, 8).ok_or(())?);
    let mac = rest.get(10..10 + mac_len).ok_or(())?.to_vec();
    let at = 10 + mac_len;
    let original_id = u16_at(rest, at).ok_or(())?;
    let error = u16_at(rest, at + 2).ok_or(())?;
    let other_len = usize::from(u16_at(rest, at + 4).ok_or(())?);
    let other = rest.get(at + 6..at + 6 + other_len).ok_or(())?.to_vec();
    let mut stripped = packet[..start].to_vec();
    stripped[..2].copy_from_slice(&original_id.to_be_bytes());
    let arcount = u16_at(&stripped, 10).ok_or(())?.saturating_sub(1);
    stripped[10..12].copy_from_slice(&arcount.to_be_bytes());
    Ok(Signed {
        stripped,
        key_name,
        algorithm,
        time_signed,
        fudge,
        mac,
        original_id,
        error,
        other,
    })
}

fn name_wire(out: &mut Vec<u8>, labels: &[Label]) {
    for l in labels {
        out.push(u8::try_from(l.len()).unwrap_or(63));
        out.extend_from_slice(l);
    }
    out.push(0);
}

fn time48(out: &mut Vec<u8>, time: u64) {
    out.extend_from_slice(&time.to_be_bytes()[2..]);
}

/// The TSIG variables (RFC 8945 §4.3.3), appended to `out`.
fn variables(
    out: &mut Vec<u8>,
    key_name: &[Label],
    algorithm: &[Label],
    time: u64,
    fudge: u16,
    error: u16,
    other: &[u8],
) {
    name_wire(out, key_name);
    out.extend_from_slice(&CLASS_ANY.to_be_bytes());
    out.extend_from_slice(&0u32.to_be_bytes());
    name_wire(out, algorithm);
    time48(out, time);
    out.extend_from_slice(&fudge.to_be_bytes());
    out.extend_from_slice(&error.to_be_bytes());
    out.extend_from_slice(&u16::try_from(other.len()).unwrap_or(0).to_be_bytes());
    out.extend_from_slice(other);
}

/// Signs the messages of one answer to `request` (RFC 8945 §5.3): the first over the
/// request's MAC, the answer and the TSIG variables; each later one over the previous MAC,
/// itself and the timers (§5.3.1).
pub(super) struct Signer<'a> {
    request: &'a Signed,
    key: hmac::Key,
    prior_mac: Vec<u8>,
    first: bool,
    now: u64,
    /// The TSIG error to report (BADTIME is answered signed, with the server's time).
    error: u16,
}

impl<'a> Signer<'a> {
    pub(super) fn new(request: &'a Signed, secret: &[u8], now: u64, error: u16) -> Self {
        Self {
            request,
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
            prior_mac: request.mac.clone(),
            first: true,
            now,
            error,
        }
    }

    /// `message` with its TSIG record. A BADTIME answer carries the request's time and, as
    /// Other Data, the server's (RFC 8945 §5.2.3, as BIND answers).
    pub(super) fn sign(&mut self, message: Vec<u8>) -> Vec<u8> {
        let (time, other) = if self.error == BADTIME {
            (
                self.request.time_signed,
                self.now.to_be_bytes()[2..].to_vec(),
            )
        } else {
            (self.now, Vec::new())
        };
        let mut data = Vec::with_capacity(message.len() + 128);
        data.extend_from_slice(
            &u16::try_from(self.prior_mac.len())
                .unwrap_or(0)
                .to_be_bytes(),
        );
        data.extend_from_slice(&self.prior_mac);
        data.extend_from_slice(&message);
        if self.first {
            variables(
                &mut data,
                &self.request.key_name,
                &self.request.algorithm,
                time,
                FUDGE,
                self.error,
                &other,
            );
        } else {
            time48(&mut data, time);
            data.extend_from_slice(&FUDGE.to_be_bytes());
        }
        let mac = hmac::sign(&self.key, &data).as_ref().to_vec();
        let signed = append(message, self.request, time, &mac, self.error, &other);
        self.prior_mac = mac;
        self.first = false;
        signed
    }
}

/// `message` with a TSIG record for `request` whose MAC is `mac` (empty: an unsigned error
/// answer, RFC 8945 §5.2), ARCOUNT one more.
pub(super) fn append(
    mut message: Vec<u8>,
    request: &Signed,
    time: u64,
    mac: &[u8],
    error: u16,
    other: &[u8],
) -> Vec<u8> {
    if message.len() < 12 {
        return message;
    }
    let arcount = u16_at(&message, 10).unwrap_or(0).saturating_add(1);
    message[10..12].copy_from_slice(&arcount.to_be_bytes());
    let mut rdata = Vec::with_capacity(64 + mac.len());
    name_wire(&mut rdata, &request.algorithm);
    time48(&mut rdata, time);
    let fudge = if mac.is_empty() { request.fudge } else { FUDGE };
    rdata.extend_from_slice(&fudge.to_be_bytes());
    rdata.extend_from_slice(&u16::try_from(mac.len()).unwrap_or(0).to_be_bytes());
    rdata.extend_from_slice(mac);
    rdata.extend_from_slice(&request.original_id.to_be_bytes());
    rdata.extend_from_slice(&error.to_be_bytes());
    rdata.extend_from_slice(&u16::try_from(other.len()).unwrap_or(0).to_be_bytes());
    rdata.extend_from_slice(other);
    name_wire(&mut message, &request.key_name);
    message.extend_from_slice(&TSIG.to_be_bytes());
    message.extend_from_slice(&CLASS_ANY.to_be_bytes());
    message.extend_from_slice(&0u32.to_be_bytes());
    message.extend_from_slice(&u16::try_from(rdata.len()).unwrap_or(0).to_be_bytes());
    message.extend_from_slice(&rdata);
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A query for `example.com. AXFR` (id 0x1234), signed as RFC 8945 §4.3 says a client
    /// signs: HMAC over the message and the variables, then the record appended.
    fn signed_query(secret: &[u8], time: u64) -> Vec<u8> {
        let mut q = vec![0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        name_wire(&mut q, &[b"example".to_vec(), b"com".to_vec()]);
        q.extend_from_slice(&[0, 252, 0, 1]);
        let key_name = vec![b"k".to_vec(), b"gandi".to_vec(), b"net".to_vec()];
        let algorithm = vec![HMAC_SHA256.to_vec()];
        let mut data = q.clone();
        variables(&mut data, &key_name, &algorithm, time, 300, 0, &[]);
        let mac = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret), &data);
        let request = Signed {
            stripped: Vec::new(),
            key_name,
            algorithm,
            time_signed: time,
            fudge: 300,
            mac: Vec::new(),
            original_id: 0x1234,
            error: 0,
            other: Vec::new(),
        };
        append(q, &request, time, mac.as_ref(), 0, &[])
    }

    #[test]
    fn a_request_signed_with_the_secret_verifies_and_another_secret_does_not() {
        let packet = signed_query(b"secret", 1_700_000_000);
        let signed = find(&packet).unwrap().unwrap();
        assert_eq!(signed.key_name_text(), "k.gandi.net");
        assert!(signed.is_hmac_sha256());
        assert!(signed.verifies(b"secret"));
        assert!(!signed.verifies(b"other"));
        assert!(signed.timely(1_700_000_200));
        assert!(!signed.timely(1_700_000_301));
        // The stripped request is the query as it was before signing.
        assert_eq!(u16_at(&signed.stripped, 10), Some(0));
    }

    #[test]
    fn a_tsig_record_that_is_not_last_or_is_cut_short_is_malformed() {
        let mut packet = signed_query(b"secret", 1);
        packet.push(0);
        assert!(find(&packet).is_err());
        let packet = signed_query(b"secret", 1);
        assert!(find(&packet[..packet.len() - 3]).is_err());
        let mut plain = vec![0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        name_wire(&mut plain, &[b"a".to_vec()]);
        plain.extend_from_slice(&[0, 1, 0, 1]);
        assert!(find(&plain).unwrap().is_none());
    }

    #[test]
    fn compression_loops_do_not_hang_the_reader() {
        let packet = [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1];
        assert!(find(&packet).is_err());
    }
}
