//! DNSSEC keys over real sockets: the LiveDNS endpoints on both bases, and the DNSKEY the
//! DNS server then answers at the apex.

mod live_sockets;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{RData, RecordType};
use live_sockets::*;

#[tokio::test]
async fn dnssec_keys_are_created_listed_shown_deleted_and_undeleted_on_both_bases() {
    let mock = start().await;
    for base in 0..2 {
        let id = create_key(&mock, base, 257).await;
        let list = call(&mock, base, "GET", "/domains/stubber.chat/keys", "").await;
        assert_eq!(list.status, 200);
        let item = list
            .json()
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["id"] == id.as_str())
            .cloned()
            .expect("the new key is listed");
        assert_eq!(item["algorithm"], 13);
        assert_eq!(item["algorithm_name"], "ECDSAP256SHA256");
        assert_eq!(item["flags"], 257);
        assert_eq!(item["deleted"], false);
        assert_eq!(item["status"], "active");
        assert_eq!(item["fqdn"], "stubber.chat");

        let shown = call(
            &mock,
            base,
            "GET",
            &format!("/domains/stubber.chat/keys/{id}"),
            "",
        )
        .await;
        assert_eq!(shown.status, 200);
        let shown = shown.json();
        let public = STANDARD
            .decode(shown["public_key"].as_str().unwrap())
            .unwrap();
        assert_eq!(public.len(), 64);
        // The tag and the DS, computed here from the key Gandi shows.
        let mut rdata = vec![1, 1, 3, 13];
        rdata.extend_from_slice(&public);
        let tag = key_tag(&rdata);
        assert_eq!(shown["tag"], tag);
        let mut owner = b"\x07stubber\x04chat\x00".to_vec();
        owner.extend_from_slice(&rdata);
        let digest = ring::digest::digest(&ring::digest::SHA256, &owner);
        let ds = format!(
            "stubber.chat. 3600 IN DS {tag} 13 2 {}",
            hex(digest.as_ref())
        );
        assert_eq!(shown["ds"], ds.as_str());
        assert_eq!(item["ds"], ds.as_str());
        assert_eq!(shown["fingerprint"].as_str().unwrap().len(), 64);

        let path = format!("/domains/stubber.chat/keys/{id}");
        assert_eq!(call(&mock, base, "DELETE", &path, "").await.status, 204);
        let deleted = call(&mock, base, "GET", &path, "").await.json();
        assert_eq!(deleted["deleted"], true);
        let undeleted = call(&mock, base, "PATCH", &path, r#"{"deleted": false}"#).await;
        assert_eq!(undeleted.status, 200, "{}", undeleted.body);
        assert_eq!(
            call(&mock, base, "GET", &path, "").await.json()["deleted"],
            false
        );
    }
}

#[tokio::test]
async fn bad_key_requests_are_answered_as_errors() {
    let mock = start().await;
    let bad = call(
        &mock,
        0,
        "POST",
        "/domains/stubber.chat/keys",
        r#"{"flags": 300}"#,
    )
    .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("\"name\": \"flags\""), "{}", bad.body);
    let missing = call(&mock, 0, "POST", "/domains/stubber.chat/keys", "{}").await;
    assert_eq!(missing.status, 400);
    let path = "/domains/stubber.chat/keys/no-such-key";
    assert_eq!(call(&mock, 0, "GET", path, "").await.status, 404);
    assert_eq!(call(&mock, 0, "DELETE", path, "").await.status, 404);
    let id = create_key(&mock, 0, 256).await;
    let path = format!("/domains/stubber.chat/keys/{id}");
    let wrong = call(&mock, 0, "PATCH", &path, r#"{"deleted": true}"#).await;
    assert_eq!(wrong.status, 400);
    assert_eq!(
        call(&mock, 0, "GET", "/domains/nope.example/keys", "")
            .await
            .status,
        404
    );
}

/// DNSKEY rdata as the answer carries it.
fn dnskeys(m: &Message) -> Vec<Vec<u8>> {
    m.answers
        .iter()
        .filter(|r| r.record_type() == RecordType::DNSKEY)
        .map(|r| match &r.data {
            RData::Unknown { rdata, .. } => rdata.anything.clone(),
            other => panic!("DNSKEY decoded as {other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn the_apex_answers_dnskey_for_the_keys_not_deleted() {
    let mock = start().await;
    let packet = query("stubber.chat.", RecordType::DNSKEY, 7)
        .to_vec()
        .unwrap();
    let none = udp(mock.dns_addr(), &packet).await;
    assert_eq!(none.metadata.response_code, ResponseCode::NoError);
    assert!(dnskeys(&none).is_empty());
    let ksk = create_key(&mock, 0, 257).await;
    let zsk = create_key(&mock, 0, 256).await;
    let answer = udp(mock.dns_addr(), &packet).await;
    assert!(answer.metadata.authoritative);
    let keys = dnskeys(&answer);
    assert_eq!(keys.len(), 2);
    for (rdata, id) in keys.iter().zip([&ksk, &zsk]) {
        let shown = call(
            &mock,
            0,
            "GET",
            &format!("/domains/stubber.chat/keys/{id}"),
            "",
        )
        .await
        .json();
        assert_eq!(
            u16::from_be_bytes([rdata[0], rdata[1]]),
            shown["flags"].as_u64().unwrap() as u16
        );
        assert_eq!(rdata[2..4], [3, 13]);
        assert_eq!(
            STANDARD.encode(&rdata[4..]),
            shown["public_key"].as_str().unwrap()
        );
        assert_eq!(key_tag(rdata), shown["tag"].as_u64().unwrap() as u16);
    }
    let path = format!("/domains/stubber.chat/keys/{zsk}");
    assert_eq!(call(&mock, 0, "DELETE", &path, "").await.status, 204);
    assert_eq!(dnskeys(&udp(mock.dns_addr(), &packet).await).len(), 1);
    // Below the apex there is no DNSKEY.
    let below = query("_acme-challenge.stubber.chat.", RecordType::DNSKEY, 8)
        .to_vec()
        .unwrap();
    assert!(dnskeys(&udp(mock.dns_addr(), &below).await).is_empty());
}
