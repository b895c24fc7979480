//! Packets in, packets out: every hickory-proto call of the crate is in this file (the
//! DESIGN rule "keep each unstable dependency in one file").

use std::str::FromStr;

use hickory_proto::op::{Edns, Header, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME, HINFO, MX, NS, NULL, PTR, SOA, SRV, TXT};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder, BinEncodable};

use super::Transport;
use super::lookup::{self, Data, Label, Rcode, Rr, code};
use crate::store::ZoneStore;
use crate::store::types::Fqdn;

/// The AXFR question type (answered over TCP by `axfr`, refused over UDP here).
pub(super) const AXFR: u16 = 252;

/// The EDNS payload size this server advertises and never exceeds over UDP: the DNS flag day
/// 2020 value, which avoids IP fragmentation on any path.
pub(super) const EDNS_PAYLOAD: u16 = 1232;
/// Without EDNS, a UDP answer is at most 512 bytes (RFC 1035).
const PLAIN_UDP_LIMIT: usize = 512;

/// One record as text, for the journal and `/_mock/resolve`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RrText {
    pub name: String,
    pub rtype: String,
    pub ttl: u32,
    pub data: String,
}

/// What was answered, in words: what the journal keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Summary {
    /// As asked, no trailing dot; empty when the question could not be read.
    pub name: String,
    pub qtype: String,
    pub rcode: &'static str,
    pub answers: Vec<RrText>,
    pub authority: Vec<RrText>,
}

/// A response ready to send.
#[derive(Debug, Clone)]
pub(super) struct Reply {
    pub bytes: Vec<u8>,
    pub summary: Summary,
}

/// A type as text: its mnemonic, or `TYPE123` (RFC 3597) when it has none.
fn type_text(rtype: u16) -> String {
    match RecordType::from(rtype) {
        RecordType::Unknown(n) => format!("TYPE{n}"),
        known => <&'static str>::from(known).to_string(),
    }
}

fn labels_of(name: &Name) -> Vec<Label> {
    name.iter().map(<[u8]>::to_vec).collect()
}

fn name_of(labels: &[Label]) -> Option<Name> {
    Name::from_labels(labels.iter().map(Vec::as_slice)).ok()
}

/// The labels of a name in wire form, uncompressed (DNAME targets must never be compressed).
fn uncompressed(labels: &[Label]) -> Vec<u8> {
    let mut out = Vec::with_capacity(lookup::wire_len(labels));
    for l in labels {
        out.push(u8::try_from(l.len()).unwrap_or(63));
        out.extend_from_slice(l);
    }
    out.push(0);
    out
}

fn opaque(rtype: u16, rdata: Vec<u8>) -> RData {
    RData::Unknown {
        code: RecordType::from(rtype),
        rdata: NULL::with(rdata),
    }
}

fn rdata(rtype: u16, data: &Data) -> Option<RData> {
    Some(match data {
        Data::A(a) => RData::A(A(*a)),
        Data::Aaaa(a) => RData::AAAA(AAAA(*a)),
        Data::Name(n) => match rtype {
            code::CNAME => RData::CNAME(CNAME(name_of(n)?)),
            code::NS => RData::NS(NS(name_of(n)?)),
            code::PTR => RData::PTR(PTR(name_of(n)?)),
            _ => opaque(rtype, uncompressed(n)),
        },
        Data::Mx(p, n) => RData::MX(MX::new(*p, name_of(n)?)),
        Data::Srv(p, w, port, n) => RData::SRV(SRV::new(*p, *w, *port, name_of(n)?)),
        Data::Txt(strings) => {
            if rtype == code::TXT {
                RData::TXT(TXT::from_bytes(strings.iter().map(Vec::as_slice).collect()))
            } else {
                // SPF has no rdata type in hickory; its format is TXT's.
                let mut raw = Vec::new();
                for s in strings {
                    raw.push(u8::try_from(s.len()).ok()?);
                    raw.extend_from_slice(s);
                }
                opaque(rtype, raw)
            }
        }
        Data::Soa {
            mname,
            rname,
            serial,
            refresh,
            retry,
            expire,
            minimum,
        } => RData::SOA(SOA::new(
            name_of(mname)?,
            name_of(rname)?,
            *serial,
            *refresh,
            *retry,
            *expire,
            *minimum,
        )),
        Data::Hinfo(cpu, os) => RData::HINFO(HINFO::new(cpu.clone(), os.clone())),
        Data::Opaque { rdata, .. } => opaque(rtype, rdata.clone()),
    })
}

/// The record for `rr`; records at the query name reuse the query's `Name` as asked.
fn record(rr: &Rr, qname: &Name, qlabels: &[Label]) -> Option<Record> {
    let owner = if rr.owner == qlabels {
        qname.clone()
    } else {
        name_of(&rr.owner)?
    };
    Some(Record::from_rdata(
        owner,
        rr.ttl,
        rdata(rr.rtype, &rr.data)?,
    ))
}

fn text(rr: &Rr) -> RrText {
    RrText {
        name: lookup::name_text(&rr.owner, false),
        rtype: type_text(rr.rtype),
        ttl: rr.ttl,
        data: rr.data.text(),
    }
}

fn response_code(rcode: Rcode) -> ResponseCode {
    <ResponseCode as From<u16>>::from(rcode.value())
}

/// The zone holding `labels`. A label with bytes no domain can hold may still sit below a
/// zone (and gets NXDOMAIN there), so the lookup starts from the longest suffix made of
/// ordinary labels; `zone_for` walks up from it.
fn zone_for(store: &ZoneStore, labels: &[Label]) -> Option<crate::store::ZoneView> {
    let ordinary = |l: &Label| {
        l.iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
    };
    let start = labels
        .iter()
        .rposition(|l| !ordinary(l))
        .map_or(0, |i| i + 1);
    let suffix = &labels[start..];
    if suffix.is_empty() {
        return None;
    }
    store.zone_for(&Fqdn::parse(&lookup::name_text(suffix, false)).ok()?)
}

/// How many other zones one answer may lead through.
const MAX_ZONE_HOPS: usize = 8;

/// Answers one query packet. `None` means drop it: no DNS header, or a packet that is itself
/// a response (answering answers would let two servers loop forever).
pub(super) fn respond(store: &ZoneStore, packet: &[u8], transport: Transport) -> Option<Reply> {
    let mut decoder = BinDecoder::new(packet);
    let header = Header::read(&mut decoder).ok()?;
    if header.metadata.message_type == MessageType::Response {
        return None;
    }
    let mut decoder = BinDecoder::new(packet);
    let request = match Message::read(&mut decoder) {
        Ok(m) if decoder.is_empty() => m,
        // Bytes after the last record are as malformed as missing ones.
        _ => return Some(error(&header, None, None, Rcode::FormErr, transport)),
    };
    let edns = request.edns.as_ref();
    let [query] = request.queries.as_slice() else {
        return Some(error(&header, None, edns, Rcode::FormErr, transport));
    };
    if header.metadata.op_code != OpCode::Query {
        return Some(error(&header, Some(query), edns, Rcode::NotImp, transport));
    }
    if edns.is_some_and(|e| e.version() != 0) {
        return Some(error(&header, Some(query), edns, Rcode::BadVers, transport));
    }
    if query.query_class != DNSClass::IN {
        return Some(error(&header, Some(query), edns, Rcode::Refused, transport));
    }
    let qtype = u16::from(query.query_type);
    // AXFR is answered over TCP only, before this (`axfr`); over UDP it is refused
    // (RFC 5936 §4.2: AXFR is a TCP-only exchange).
    if qtype == AXFR {
        return Some(error(&header, Some(query), edns, Rcode::Refused, transport));
    }
    // Incremental transfers (and the obsolete MAILA/MAILB) are not offered.
    if (251..=254).contains(&qtype) {
        return Some(error(&header, Some(query), edns, Rcode::NotImp, transport));
    }
    let qlabels = labels_of(&query.name);
    let lowered = lookup::lower(&qlabels);
    let Some(view) = zone_for(store, &lowered) else {
        return Some(error(&header, Some(query), edns, Rcode::Refused, transport));
    };
    let mut resolution = lookup::resolve(&view, &qlabels, qtype);
    // A CNAME into another zone this server holds is followed there, as the recursive
    // resolver a CA uses would (Pebble sends every question here and follows nothing): a
    // challenge delegated to another Gandi domain is seen. A few hops at most.
    for _ in 0..MAX_ZONE_HOPS {
        let Some(target) = resolution.continue_at.take() else {
            break;
        };
        let Some(next_view) = zone_for(store, &target) else {
            break;
        };
        let next = lookup::resolve(&next_view, &target, qtype);
        resolution.answers.extend(next.answers);
        resolution.rcode = next.rcode;
        resolution.authority = next.authority;
        resolution.continue_at = next.continue_at;
    }

    let mut message = response(&header, Some(query), edns);
    message.metadata.authoritative = resolution.authoritative;
    message.metadata.response_code = response_code(resolution.rcode);
    let build = |rrs: &[Rr]| -> Vec<Record> {
        rrs.iter()
            .filter_map(|rr| record(rr, &query.name, &qlabels))
            .collect()
    };
    message.answers = build(&resolution.answers);
    message.authorities = build(&resolution.authority);
    let summary = Summary {
        name: question_name(query),
        qtype: type_text(qtype),
        rcode: resolution.rcode.text(),
        answers: resolution.answers.iter().map(text).collect(),
        authority: resolution.authority.iter().map(text).collect(),
    };
    Some(finish(message, summary, edns, transport))
}

fn question_name(query: &Query) -> String {
    let text = lookup::name_text(&labels_of(&query.name), false);
    if text == "." { String::new() } else { text }
}

/// A response skeleton: id, opcode, RD and CD copied (RFC 6895 §2), the question echoed as
/// asked, OPT when the query had one.
fn response(header: &Header, query: Option<&Query>, edns: Option<&Edns>) -> Message {
    let mut message = Message::new(
        header.metadata.id,
        MessageType::Response,
        header.metadata.op_code,
    );
    message.metadata.recursion_desired = header.metadata.recursion_desired;
    message.metadata.checking_disabled = header.metadata.checking_disabled;
    if let Some(q) = query {
        message.add_query(q.clone());
    }
    if edns.is_some() {
        let mut ours = Edns::new();
        ours.set_max_payload(EDNS_PAYLOAD);
        message.set_edns(ours);
    }
    message
}

fn error(
    header: &Header,
    query: Option<&Query>,
    edns: Option<&Edns>,
    rcode: Rcode,
    transport: Transport,
) -> Reply {
    let mut message = response(header, query, edns);
    message.metadata.response_code = response_code(rcode);
    let summary = Summary {
        name: query.map(question_name).unwrap_or_default(),
        qtype: query
            .map(|q| type_text(u16::from(q.query_type)))
            .unwrap_or_default(),
        rcode: rcode.text(),
        answers: Vec::new(),
        authority: Vec::new(),
    };
    finish(message, summary, edns, transport)
}

/// How large an answer may be: 512 over plain UDP, the client's EDNS size (capped at ours)
/// with EDNS, 65535 over TCP.
fn limit(edns: Option<&Edns>, transport: Transport) -> usize {
    match (transport, edns) {
        (Transport::Tcp, _) => usize::from(u16::MAX),
        (Transport::Udp, None) => PLAIN_UDP_LIMIT,
        (Transport::Udp, Some(e)) => usize::from(e.max_payload().clamp(512, EDNS_PAYLOAD)),
    }
}

/// Encodes, truncating (TC, question kept, records dropped) when over the limit.
fn finish(
    mut message: Message,
    mut summary: Summary,
    edns: Option<&Edns>,
    transport: Transport,
) -> Reply {
    let max = limit(edns, transport);
    match message.to_vec() {
        Ok(bytes) if bytes.len() <= max => return Reply { bytes, summary },
        Ok(_) => {}
        Err(e) => {
            tracing::warn!("cannot encode a DNS answer: {e}");
            message.metadata.response_code = response_code(Rcode::ServFail);
            summary.rcode = Rcode::ServFail.text();
        }
    }
    message.answers.clear();
    message.authorities.clear();
    message.additionals.clear();
    message.metadata.truncation = summary.rcode != Rcode::ServFail.text();
    summary.answers.clear();
    summary.authority.clear();
    let bytes = match message.to_vec() {
        Ok(bytes) => bytes,
        Err(_) => {
            // Even the skeleton would not encode (a question hickory cannot write back):
            // answer with the bare header.
            summary.rcode = Rcode::ServFail.text();
            let mut bare = Message::new(
                message.metadata.id,
                MessageType::Response,
                message.metadata.op_code,
            );
            bare.metadata.response_code = response_code(Rcode::ServFail);
            bare.to_vec().unwrap_or_default()
        }
    };
    Reply { bytes, summary }
}

/// `reply` answered otherwise by a DNS fault rule: with `rcode` instead (records dropped), or
/// truncated (TC set, records dropped). A reply that cannot be read back is returned as it is.
pub(super) fn rewrite(reply: Vec<u8>, rcode: Option<Rcode>, truncate: bool) -> Vec<u8> {
    let mut decoder = BinDecoder::new(&reply);
    let Ok(mut message) = Message::read(&mut decoder) else {
        return reply;
    };
    message.answers.clear();
    message.authorities.clear();
    if let Some(rcode) = rcode {
        message.metadata.response_code = response_code(rcode);
    }
    message.metadata.truncation = truncate;
    message.to_vec().unwrap_or(reply)
}

/// A query packet for `/_mock/resolve`: `name` in any case, with or without its final dot;
/// `rtype` a mnemonic (any case), `TYPE123` or a number.
pub(super) fn query_packet(name: &str, rtype: &str) -> Result<Vec<u8>, String> {
    let upper = rtype.trim().to_ascii_uppercase();
    if upper == "ALIAS" {
        return Err(
            "ALIAS has no DNS type of its own (DNS answers NODATA for it): ask for A or AAAA"
                .into(),
        );
    }
    let qtype = if let Ok(n) = upper.trim_start_matches("TYPE").parse::<u16>() {
        RecordType::from(n)
    } else {
        RecordType::from_str(&upper).map_err(|_| format!("'{rtype}' is not a DNS type"))?
    };
    let mut qname =
        Name::from_ascii(name.trim()).map_err(|e| format!("'{name}' is not a domain name: {e}"))?;
    qname.set_fqdn(true);
    let mut message = Message::new(0, MessageType::Query, OpCode::Query);
    message.metadata.recursion_desired = true;
    message.add_query(Query::query(qname, qtype));
    message
        .to_vec()
        .map_err(|e| format!("cannot build a query for '{name}': {e}"))
}

/// Room kept in each transfer message for its TSIG record and the question.
const TRANSFER_SLACK: usize = 1024;

/// The answer to a zone transfer request over TCP: `rcode` and no record, or `records` in as
/// few messages as hold them (RFC 5936 §2.2), each with the question. `None`: not a message.
pub(super) fn transfer_reply(
    packet: &[u8],
    rcode: Rcode,
    records: &[Rr],
) -> Option<(Vec<Vec<u8>>, Summary)> {
    let header = Header::read(&mut BinDecoder::new(packet)).ok()?;
    let request = Message::read(&mut BinDecoder::new(packet)).ok();
    let query = request.as_ref().and_then(|m| m.queries.first());
    let edns = request.as_ref().and_then(|m| m.edns.as_ref());
    let summary = Summary {
        name: query.map(question_name).unwrap_or_default(),
        qtype: query
            .map(|q| type_text(u16::from(q.query_type)))
            .unwrap_or_default(),
        rcode: rcode.text(),
        answers: records.iter().map(text).collect(),
        authority: Vec::new(),
    };
    let start = || {
        let mut message = response(&header, query, edns);
        message.metadata.authoritative = rcode == Rcode::NoError;
        message.metadata.response_code = response_code(rcode);
        message
    };
    let (Some(query), Rcode::NoError) = (query, rcode) else {
        return Some((vec![start().to_vec().ok()?], summary));
    };
    let qlabels = labels_of(&query.name);
    let budget = usize::from(u16::MAX) - TRANSFER_SLACK;
    let mut messages = Vec::new();
    let mut message = start();
    let mut size = 0;
    for rr in records {
        let Some(record) = record(rr, &query.name, &qlabels) else {
            continue;
        };
        // Uncompressed, so never less than what it adds to the message.
        let len = record.to_bytes().map_or(budget, |b| b.len());
        if size + len > budget && !message.answers.is_empty() {
            messages.push(std::mem::replace(&mut message, start()).to_vec().ok()?);
            size = 0;
        }
        size += len;
        message.answers.push(record);
    }
    messages.push(message.to_vec().ok()?);
    Some((messages, summary))
}
