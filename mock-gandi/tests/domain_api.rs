//! The Domain and Organization APIs over real sockets: the domains and where their DNS lives,
//! the move of a classic-DNS domain to LiveDNS (DNS then answers from LiveDNS and no longer
//! from the legacy zone), nameservers that point elsewhere (DNS refuses the zone), the
//! organizations a tool reads its `sharing_id` from.

mod common;

use common::wire::{http, txt_over_udp};
use hickory_proto::op::ResponseCode;
use mock_gandi::MockGandi;
use serde_json::Value;

const SEED: &str = r#"
[[domain]]
fqdn = "stubber.chat"
[[domain]]
fqdn = "old.example"
dns = "legacy"
[[domain.record]]
name = "_acme-challenge"
type = "TXT"
values = ["\"from the classic zone\""]
[[domain]]
fqdn = "acme.example"
organization = "acme"
[[credential]]
kind = "pat"
secret = "0123456789abcdef0123456789abcdef01234567"
[[credential]]
kind = "pat"
secret = "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr"
permissions = ["dns:read"]
[[credential]]
kind = "pat"
secret = "ssssssssssssssssssssssssssssssssssssssss"
permissions = ["See and renew domain names"]
[[credential]]
kind = "pat"
secret = "oooooooooooooooooooooooooooooooooooooooo"
permissions = ["domain:tech", "View Organization"]
[[credential]]
kind = "v4-key"
secret = "abcdefghijklmnopqrstuv12"
"#;

const PAT: &str = "Bearer 0123456789abcdef0123456789abcdef01234567";
const READ_ONLY: &str = "Bearer rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr";
/// "See and renew domain names" only.
const SEE_ONLY: &str = "Bearer ssssssssssssssssssssssssssssssssssssssss";
/// "Manage domain name technical configurations" and "View Organization".
const WITH_ORGANIZATION: &str = "Bearer oooooooooooooooooooooooooooooooooooooooo";

fn start() -> MockGandi {
    MockGandi::builder()
        .seed_text(SEED)
        .unwrap()
        .start_blocking()
        .unwrap()
}

fn call(mock: &MockGandi, auth: &str, method: &str, path: &str, body: &str) -> (u16, Value) {
    let headers = [
        ("authorization", auth),
        ("content-type", "application/json"),
    ];
    let (status, text) = http(&mock.api_url(), method, path, &headers, body);
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

fn fqdns(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|d| d["fqdn"].as_str().unwrap())
        .collect()
}

#[test]
fn domains_are_listed_filtered_and_shown_with_where_their_dns_lives() {
    let mock = start();
    let (status, list) = call(&mock, PAT, "GET", "/v5/domain/domains", "");
    assert_eq!(status, 200, "{list}");
    // acme.example belongs to another organization: reached with its sharing_id only.
    assert_eq!(fqdns(&list), ["old.example", "stubber.chat"]);
    let kinds: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["nameserver"]["current"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["abc", "livedns"]);
    let (_, livedns) = call(
        &mock,
        PAT,
        "GET",
        "/v5/domain/domains?nameserver=livedns",
        "",
    );
    assert_eq!(fqdns(&livedns), ["stubber.chat"]);
    let (_, pattern) = call(&mock, PAT, "GET", "/v5/domain/domains?fqdn=*.chat", "");
    assert_eq!(fqdns(&pattern), ["stubber.chat"]);
    let (status, bad) = call(
        &mock,
        PAT,
        "GET",
        "/v5/domain/domains?nameserver=classic",
        "",
    );
    assert_eq!(status, 400, "{bad}");

    let (status, shown) = call(&mock, PAT, "GET", "/v5/domain/domains/old.example", "");
    assert_eq!(status, 200);
    for key in [
        "fqdn",
        "id",
        "nameservers",
        "contacts",
        "dates",
        "sharing_space",
        "autorenew",
        "tld",
        "status",
    ] {
        assert!(shown.get(key).is_some(), "{key} missing: {shown}");
    }
    assert_eq!(shown["nameservers"][0], "a.dns.gandi.net");
    let (status, unknown) = call(&mock, PAT, "GET", "/v5/domain/domains/nope.example", "");
    assert_eq!(
        (status, unknown["message"].as_str()),
        (404, Some("Unknown domain"))
    );
    let (status, _) = call(
        &mock,
        PAT,
        "GET",
        "/v5/domain/domains/stubber.chat/contacts",
        "",
    );
    assert_eq!(status, 404, "an area the mock does not serve");
}

#[test]
fn a_move_to_livedns_makes_dns_answer_from_livedns_and_no_longer_from_the_legacy_zone() {
    let mock = start();
    let dns = mock.dns_addr().to_string();
    let name = "_acme-challenge.old.example.";
    let (_, status) = call(
        &mock,
        PAT,
        "GET",
        "/v5/domain/domains/old.example/livedns",
        "",
    );
    assert_eq!(status["current"], "classic");
    let (code, refused) = call(
        &mock,
        READ_ONLY,
        "POST",
        "/v5/domain/domains/old.example/livedns",
        "",
    );
    assert_eq!(
        code, 403,
        "a read-only token may not move a domain: {refused}"
    );

    let (code, moved) = call(
        &mock,
        PAT,
        "POST",
        "/v5/domain/domains/old.example/livedns",
        "",
    );
    assert_eq!(code, 202, "{moved}");
    let (_, status) = call(
        &mock,
        PAT,
        "GET",
        "/v5/domain/domains/old.example/livedns",
        "",
    );
    assert_eq!(status["current"], "livedns");
    assert_eq!(status["nameservers"][0], "ns1.mock-gandi.test");
    // The classic zone's records were copied: LiveDNS lists them, DNS serves them.
    let (_, records) = call(
        &mock,
        PAT,
        "GET",
        "/v5/livedns/domains/old.example/records",
        "",
    );
    assert_eq!(records[0]["rrset_values"][0], "\"from the classic zone\"");
    assert_eq!(txt_over_udp(&dns, name).1, ["from the classic zone"]);
    // A LiveDNS write reaches DNS now.
    let (code, _) = call(
        &mock,
        PAT,
        "PUT",
        "/v5/livedns/domains/old.example/records/_acme-challenge/TXT",
        r#"{"rrset_values": ["from livedns"]}"#,
    );
    assert_eq!(code, 201);
    assert_eq!(txt_over_udp(&dns, name).1, ["from livedns"]);
    // The domain is LiveDNS's now: its legacy zone is no longer what DNS serves.
    let fqdn = mock_gandi::store::Fqdn::parse("old.example").unwrap();
    mock.store().read(|s| {
        assert_eq!(
            s.domain(&fqdn).unwrap().dns,
            mock_gandi::store::DnsMode::Livedns
        );
    });
}

#[test]
fn nameservers_that_point_elsewhere_take_the_zone_away_from_the_mock_s_dns() {
    let mock = start();
    let dns = mock.dns_addr().to_string();
    let path = "/v5/domain/domains/stubber.chat/nameservers";
    let (_, before) = call(&mock, PAT, "GET", path, "");
    assert_eq!(
        before,
        serde_json::json!(["ns1.mock-gandi.test", "ns2.mock-gandi.test"])
    );
    assert_eq!(txt_over_udp(&dns, "stubber.chat.").0, ResponseCode::NoError);

    let (code, _) = call(
        &mock,
        PAT,
        "PUT",
        path,
        r#"{"nameservers": ["ns1.elsewhere.example", "ns2.elsewhere.example"]}"#,
    );
    assert_eq!(code, 202);
    assert_eq!(txt_over_udp(&dns, "stubber.chat.").0, ResponseCode::Refused);
    let (_, listed) = call(&mock, PAT, "GET", "/v5/domain/domains?nameserver=other", "");
    assert_eq!(fqdns(&listed), ["stubber.chat"]);

    let (code, error) = call(&mock, PAT, "PUT", path, r#"{"nameservers": []}"#);
    assert_eq!(code, 400);
    assert_eq!(error["errors"][0]["name"], "nameservers.0", "{error}");
    assert_eq!(
        error["errors"][0]["description"],
        "At least one nameserver is required"
    );

    let (code, _) = call(
        &mock,
        PAT,
        "POST",
        "/v5/domain/domains/stubber.chat/livedns",
        "",
    );
    assert_eq!(code, 202);
    assert_eq!(
        txt_over_udp(&dns, "stubber.chat.").0,
        ResponseCode::NoError,
        "served again"
    );
}

#[test]
fn the_organizations_give_the_sharing_id_that_reaches_another_organization_s_domain() {
    let mock = start();
    let (status, info) = call(&mock, PAT, "GET", "/v5/organization/user-info", "");
    assert_eq!(status, 200);
    assert!(
        info["id"].is_string() && info["username"].is_string(),
        "{info}"
    );
    // A token made for DNS automation (the default) has no "View Organization".
    let (status, _) = call(&mock, PAT, "GET", "/v5/organization/organizations", "");
    assert_eq!(status, 403);
    let (status, orgs) = call(
        &mock,
        WITH_ORGANIZATION,
        "GET",
        "/v5/organization/organizations?type=company",
        "",
    );
    assert_eq!(status, 200, "{orgs}");
    let acme = orgs
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "acme")
        .expect("acme listed");
    let id = acme["id"].as_str().unwrap();
    let (status, _) = call(&mock, PAT, "GET", "/v5/domain/domains/acme.example", "");
    assert_eq!(status, 404);
    let (status, shown) = call(
        &mock,
        PAT,
        "GET",
        &format!("/v5/domain/domains/acme.example?sharing_id={id}"),
        "",
    );
    assert_eq!(status, 200, "{shown}");
    let (status, records) = call(
        &mock,
        PAT,
        "GET",
        &format!("/v5/livedns/domains/acme.example/records?sharing_id={id}"),
        "",
    );
    assert_eq!(status, 200, "{records}");
    // Without credentials: the gateway's 401.
    let (status, _) = http(
        &mock.api_url(),
        "GET",
        "/v5/organization/organizations",
        &[],
        "",
    );
    assert_eq!(status, 401);
}

#[test]
fn seeing_domains_without_the_technical_right_reads_the_domain_api_and_nothing_of_dns() {
    let mock = start();
    let (status, list) = call(&mock, SEE_ONLY, "GET", "/v5/domain/domains", "");
    assert_eq!(status, 200, "{list}");
    assert!(fqdns(&list).contains(&"old.example"), "{list}");
    let (status, _) = call(
        &mock,
        SEE_ONLY,
        "GET",
        "/v5/domain/domains/old.example/nameservers",
        "",
    );
    assert_eq!(status, 200);
    // Every DNS read and every technical change is refused in the gateway's words.
    for (method, path, body) in [
        ("GET", "/v5/livedns/domains/stubber.chat", ""),
        ("GET", "/v5/livedns/domains/stubber.chat/records", ""),
        (
            "PUT",
            "/v5/domain/domains/old.example/nameservers",
            r#"{"nameservers": ["ns1.elsewhere.example"]}"#,
        ),
        ("POST", "/v5/domain/domains/old.example/livedns", ""),
    ] {
        let (status, answer) = call(&mock, SEE_ONLY, method, path, body);
        assert_eq!(status, 403, "{method} {path}: {answer}");
        assert_eq!(answer["message"], "Access was denied to this resource.");
    }
    // The technical right alone is enough for all of it (the form ticks the other with it).
    let (status, _) = call(&mock, WITH_ORGANIZATION, "GET", "/v5/domain/domains", "");
    assert_eq!(status, 200);
    let (status, _) = call(
        &mock,
        WITH_ORGANIZATION,
        "POST",
        "/v5/domain/domains/old.example/livedns",
        "",
    );
    assert_eq!(status, 202);
}
