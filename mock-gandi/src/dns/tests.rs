//! The core without sockets: `answer` on bytes, `resolve_json`, and random input.

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use proptest::prelude::*;

use super::{Transport, answer, resolve_json};
use crate::store::{Seed, ZoneStore};

const SEED: &str = r#"
[[domain]]
fqdn = "stubber.chat"
[[domain.record]]
name = "@"
type = "NS"
values = ["ns-1.gandi.net."]
[[domain.record]]
name = "@"
type = "ALIAS"
values = ["target.example."]
[[domain.record]]
name = "@"
type = "CAA"
values = ["0 issue letsencrypt.org"]
[[domain.record]]
name = "@"
type = "MX"
values = ["10 mail"]
[[domain.record]]
name = "sub"
type = "NS"
values = ["ns.elsewhere.example."]
[[domain.record]]
name = "old"
type = "DNAME"
values = ["new.stubber.chat."]
[[domain.record]]
name = "a.new"
type = "A"
values = ["192.0.2.1"]
[[domain.record]]
name = "loop1"
type = "CNAME"
values = ["loop2"]
[[domain.record]]
name = "loop2"
type = "CNAME"
values = ["loop1"]
[[domain.record]]
name = "out"
type = "CNAME"
values = ["www.example.org."]
[[domain.record]]
name = "_sip._tcp"
type = "SRV"
values = ["0 5 5060 sip.stubber.chat."]
[[domain.record]]
name = "ds"
type = "DS"
values = ["12345 13 2 ABCDEF0123"]
[[domain.record]]
name = "_443._tcp"
type = "TLSA"
values = ["3 1 1 abcdef"]
[[domain.record]]
name = "host"
type = "SSHFP"
values = ["4 2 0123abcd"]
[[domain.record]]
name = "*"
type = "TXT"
values = ["any"]
"#;

fn store() -> ZoneStore {
    ZoneStore::new(Seed::parse(SEED).unwrap())
}

fn ask(store: &ZoneStore, name: &str, rtype: RecordType) -> Message {
    let mut m = Message::new(77, MessageType::Query, OpCode::Query);
    m.add_query(Query::query(Name::from_ascii(name).unwrap(), rtype));
    let bytes = answer(store, &m.to_vec().unwrap(), Transport::Tcp).expect("an answer");
    Message::from_vec(&bytes).unwrap()
}

fn types(m: &Message) -> Vec<RecordType> {
    m.answers.iter().map(|r| r.record_type()).collect()
}

#[test]
fn a_seeded_apex_ns_replaces_the_synthesized_one_and_names_the_soa_primary() {
    let s = store();
    let ns = ask(&s, "stubber.chat.", RecordType::NS);
    assert_eq!(ns.answers.len(), 1);
    assert_eq!(ns.answers[0].data.to_string(), "ns-1.gandi.net.");
    let soa = ask(&s, "stubber.chat.", RecordType::SOA);
    let RData::SOA(soa) = &soa.answers[0].data else {
        panic!()
    };
    assert_eq!(soa.mname.to_string(), "ns-1.gandi.net.");
}

#[test]
fn alias_answers_nothing_of_its_own() {
    let s = store();
    let m = ask(&s, "stubber.chat.", RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert!(m.answers.is_empty());
    assert_eq!(m.authorities[0].record_type(), RecordType::SOA);
}

#[test]
fn names_below_a_delegation_get_a_referral() {
    let s = store();
    let m = ask(&s, "x.sub.stubber.chat.", RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert!(!m.metadata.authoritative);
    assert!(m.answers.is_empty());
    assert_eq!(m.authorities[0].record_type(), RecordType::NS);
}

#[test]
fn a_dname_rewrites_names_below_it_and_the_result_is_chased() {
    let s = store();
    let m = ask(&s, "a.old.stubber.chat.", RecordType::A);
    assert_eq!(
        types(&m),
        vec![RecordType::DNAME, RecordType::CNAME, RecordType::A]
    );
    assert_eq!(m.answers[1].data.to_string(), "a.new.stubber.chat.");
}

#[test]
fn a_cname_loop_ends_and_a_cname_out_of_the_zone_is_not_chased() {
    let s = store();
    let m = ask(&s, "loop1.stubber.chat.", RecordType::A);
    assert_eq!(types(&m), vec![RecordType::CNAME, RecordType::CNAME]);
    let m = ask(&s, "out.stubber.chat.", RecordType::A);
    assert_eq!(types(&m), vec![RecordType::CNAME]);
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    let m = ask(&s, "out.stubber.chat.", RecordType::CNAME);
    assert_eq!(types(&m), vec![RecordType::CNAME]);
}

#[test]
fn every_stored_type_goes_on_the_wire() {
    let s = store();
    let cases = [
        (
            "stubber.chat.",
            RecordType::CAA,
            "0 issue \"letsencrypt.org\"",
        ),
        ("stubber.chat.", RecordType::MX, "10 mail.stubber.chat."),
        (
            "_sip._tcp.stubber.chat.",
            RecordType::SRV,
            "0 5 5060 sip.stubber.chat.",
        ),
        ("ds.stubber.chat.", RecordType::DS, "12345 13 2 ABCDEF0123"),
        ("_443._tcp.stubber.chat.", RecordType::TLSA, "3 1 1 ABCDEF"),
        ("host.stubber.chat.", RecordType::SSHFP, "4 2 0123ABCD"),
    ];
    for (name, rtype, data) in cases {
        let m = ask(&s, name, rtype);
        assert_eq!(types(&m), vec![rtype], "{name} {rtype}");
        let json = resolve_json(&s, name, &rtype.to_string()).unwrap();
        assert_eq!(json["answers"][0]["data"], data, "{name} {rtype}");
    }
}

#[test]
fn a_root_wildcard_answers_unknown_names_but_not_existing_ones() {
    let s = store();
    let m = ask(&s, "nothing.stubber.chat.", RecordType::TXT);
    assert_eq!(types(&m), vec![RecordType::TXT]);
    // `new` exists (below it, `a.new`), so the wildcard does not apply to it.
    let m = ask(&s, "new.stubber.chat.", RecordType::TXT);
    assert!(m.answers.is_empty());
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
}

#[test]
fn any_gets_the_rfc_8482_minimal_answer() {
    let s = store();
    let m = ask(&s, "stubber.chat.", RecordType::ANY);
    assert_eq!(types(&m), vec![RecordType::HINFO]);
}

#[test]
fn incremental_transfers_other_opcodes_and_classes_are_declined() {
    let s = store();
    let m = ask(&s, "stubber.chat.", RecordType::IXFR);
    assert_eq!(m.metadata.response_code, ResponseCode::NotImp);
    // AXFR is served over TCP only, to a domain's slaves (`axfr`); asked here, it is refused.
    let m = ask(&s, "stubber.chat.", RecordType::AXFR);
    assert_eq!(m.metadata.response_code, ResponseCode::Refused);
    let mut notify = Message::new(1, MessageType::Query, OpCode::Notify);
    notify.add_query(Query::query(
        Name::from_ascii("stubber.chat.").unwrap(),
        RecordType::SOA,
    ));
    let bytes = answer(&s, &notify.to_vec().unwrap(), Transport::Udp).unwrap();
    let m = Message::from_vec(&bytes).unwrap();
    assert_eq!(m.metadata.response_code, ResponseCode::NotImp);
}

#[test]
fn an_edns_version_above_zero_gets_badvers() {
    let s = store();
    let mut m = Message::new(1, MessageType::Query, OpCode::Query);
    m.add_query(Query::query(
        Name::from_ascii("stubber.chat.").unwrap(),
        RecordType::A,
    ));
    let mut edns = Edns::new();
    edns.set_version(1);
    m.set_edns(edns);
    let bytes = answer(&s, &m.to_vec().unwrap(), Transport::Udp).unwrap();
    let m = Message::from_vec(&bytes).unwrap();
    // BADVERS and BADSIG share the value 16; hickory reads it back as BADSIG.
    assert_eq!(u16::from(m.metadata.response_code), 16);
    assert!(m.edns.is_some());
}

#[test]
fn a_response_packet_is_never_answered() {
    let s = store();
    let mut m = Message::new(1, MessageType::Response, OpCode::Query);
    m.add_query(Query::query(
        Name::from_ascii("stubber.chat.").unwrap(),
        RecordType::A,
    ));
    assert!(answer(&s, &m.to_vec().unwrap(), Transport::Udp).is_none());
}

#[test]
fn resolve_json_shows_nxdomain_with_the_soa_and_rejects_bad_input() {
    let s = store();
    let json = resolve_json(&s, "Missing.Sub2.STUBBER.chat", "a").unwrap();
    // The root wildcard answers TXT only: A at a missing name is NODATA under a wildcard.
    assert_eq!(json["rcode"], "NOERROR");
    assert_eq!(json["name"], "Missing.Sub2.STUBBER.chat");
    assert_eq!(json["authority"][0]["type"], "SOA");
    let json = resolve_json(&s, "elsewhere.example", "TXT").unwrap();
    assert_eq!(json["rcode"], "REFUSED");
    assert!(resolve_json(&s, "stubber.chat", "ALIAS").is_err());
    assert!(resolve_json(&s, "stubber.chat", "NOPE").is_err());
    assert_eq!(
        resolve_json(&s, "stubber.chat", "TYPE65").unwrap()["type"],
        "HTTPS"
    );
}

fn valid_query() -> Vec<u8> {
    let mut m = Message::new(9, MessageType::Query, OpCode::Query);
    m.add_query(Query::query(
        Name::from_ascii("_acme-challenge.stubber.chat.").unwrap(),
        RecordType::TXT,
    ));
    m.set_edns(Edns::new());
    m.to_vec().unwrap()
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let s = store();
        let _ = answer(&s, &bytes, Transport::Udp);
        let _ = answer(&s, &bytes, Transport::Tcp);
    }

    #[test]
    fn a_mutated_query_never_panics_and_any_answer_parses(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in any::<usize>(),
    ) {
        let s = store();
        let mut bytes = valid_query();
        for (at, b) in edits {
            let i = at % bytes.len();
            bytes[i] = b;
        }
        bytes.truncate(12 + cut % (bytes.len() - 11));
        if let Some(reply) = answer(&s, &bytes, Transport::Udp) {
            prop_assert!(reply.len() <= 1232);
            prop_assert!(Message::from_vec(&reply).is_ok());
        }
    }
}
