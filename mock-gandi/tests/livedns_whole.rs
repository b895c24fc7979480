//! The LiveDNS routes beyond one rrset, over real sockets on both hosts' bases: the record
//! types, a domain's properties and nameservers, snapshots, the record PATCH, the listing's
//! filters and orders, and the zone as text in and out (with DNS answering what the text
//! wrote).

mod common;

use common::wire::{http, txt_over_udp};
use hickory_proto::op::ResponseCode;
use mock_gandi::MockGandi;
use serde_json::Value;

const SEED: &str = r#"
[[domain]]
fqdn = "stubber.chat"
[[domain.record]]
name = "@"
type = "A"
ttl = 300
values = ["192.0.2.10"]
[[domain.record]]
name = "www"
type = "CNAME"
values = ["stubber.chat."]
[[domain.record]]
name = "_acme-challenge"
type = "TXT"
values = ["\"one\""]
[[credential]]
kind = "pat"
secret = "0123456789abcdef0123456789abcdef01234567"
[[credential]]
kind = "apikey"
secret = "abcdefghijklmnopqrstuvwx"
"#;

/// One base and the header that authenticates on it.
struct Host {
    base: &'static str,
    auth: (&'static str, &'static str),
}

const HOSTS: [Host; 2] = [
    Host {
        base: "/v5/livedns",
        auth: (
            "authorization",
            "Bearer 0123456789abcdef0123456789abcdef01234567",
        ),
    },
    Host {
        base: "/api/v5",
        auth: ("x-api-key", "abcdefghijklmnopqrstuvwx"),
    },
];

fn start() -> MockGandi {
    MockGandi::builder()
        .seed_text(SEED)
        .unwrap()
        .start_blocking()
        .unwrap()
}

impl Host {
    fn call(&self, mock: &MockGandi, method: &str, path: &str, body: &str) -> (u16, String) {
        self.call_with(
            mock,
            method,
            path,
            &[("content-type", "application/json")],
            body,
        )
    }

    fn call_with(
        &self,
        mock: &MockGandi,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, String) {
        let mut all = vec![self.auth];
        all.extend_from_slice(headers);
        http(
            &mock.api_url(),
            method,
            &format!("{}{path}", self.base),
            &all,
            body,
        )
    }

    fn json(&self, mock: &MockGandi, method: &str, path: &str, body: &str) -> (u16, Value) {
        let (status, text) = self.call(mock, method, path, body);
        let value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}: {status} {text}"));
        (status, value)
    }
}

fn names_and_types(listing: &Value) -> Vec<String> {
    listing
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}/{}",
                r["rrset_name"].as_str().unwrap(),
                r["rrset_type"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn record_types_nameservers_and_domain_properties_answer_on_both_hosts() {
    let mock = start();
    for host in &HOSTS {
        let (status, types) = host.json(&mock, "GET", "/dns/rrtypes", "");
        assert_eq!(status, 200, "{}", host.base);
        let types: Vec<&str> = types
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        // Gandi's list, less the types the mock's writes refuse: what is listed is writable.
        assert_eq!(
            types,
            [
                "A", "AAAA", "ALIAS", "CAA", "CNAME", "DNAME", "DS", "MX", "NS", "PTR", "SPF",
                "SRV", "SSHFP", "TLSA", "TXT"
            ]
        );
        for (rtype, listed) in types.iter().map(|t| (*t, true)).chain([
            ("HTTPS", false),
            ("LOC", false),
            ("SOA", false),
        ]) {
            let (status, body) = host.call(
                &mock,
                "PUT",
                &format!("/domains/stubber.chat/records/typed/{rtype}"),
                r#"{"rrset_values": ["x"]}"#,
            );
            let refused_type = body.contains("is not a valid record type");
            assert_eq!(
                (status == 201 || !refused_type, refused_type),
                (listed, !listed),
                "{rtype}: {status} {body}"
            );
        }

        let (status, ns) = host.json(&mock, "GET", "/domains/stubber.chat/nameservers", "");
        assert_eq!(
            (status, ns),
            (
                200,
                serde_json::json!(["ns1.mock-gandi.test", "ns2.mock-gandi.test"])
            )
        );

        let (status, _) = host.json(
            &mock,
            "PATCH",
            "/domains/stubber.chat",
            r#"{"automatic_snapshots": false}"#,
        );
        assert_eq!(status, 200, "{}", host.base);
        let (_, domain) = host.json(&mock, "GET", "/domains/stubber.chat", "");
        assert_eq!(domain["automatic_snapshots"], false, "{domain}");
        let (status, _) = host.json(
            &mock,
            "PATCH",
            "/domains/stubber.chat",
            r#"{"automatic_snapshots": true}"#,
        );
        assert_eq!(status, 200);
        let (status, error) = host.json(
            &mock,
            "PATCH",
            "/domains/stubber.chat",
            r#"{"automatic_snapshots": "yes"}"#,
        );
        assert_eq!(status, 400, "{error}");
        assert_eq!(error["errors"][0]["name"], "automatic_snapshots", "{error}");
    }
    // The generic nameservers need no credential.
    let (status, body) = http(
        &mock.api_url(),
        "GET",
        "/v5/livedns/nameservers/any.example",
        &[],
        "",
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("ns1.mock-gandi.test"), "{body}");
}

#[test]
fn an_apex_ns_rrset_is_what_the_nameservers_route_answers() {
    let mock = start();
    let host = &HOSTS[0];
    let (status, _) = host.call(
        &mock,
        "PUT",
        "/domains/stubber.chat/records/%40/NS",
        r#"{"rrset_values": ["ns-1.example.net.", "ns-2.example.net."]}"#,
    );
    assert_eq!(status, 201);
    let (_, ns) = host.json(&mock, "GET", "/domains/stubber.chat/nameservers", "");
    assert_eq!(
        ns,
        serde_json::json!(["ns-1.example.net", "ns-2.example.net"])
    );
}

#[test]
fn snapshots_are_taken_listed_shown_renamed_deleted_and_written_back() {
    let mock = start();
    for host in &HOSTS {
        let path = "/domains/stubber.chat/snapshots";
        let (status, taken) = host.json(&mock, "POST", path, r#"{"name": "before"}"#);
        assert_eq!(status, 201, "{taken}");
        let id = taken["id"].as_str().unwrap().to_string();
        // A change, which takes an automatic snapshot of the zone before it.
        let (status, _) = host.call(
            &mock,
            "DELETE",
            "/domains/stubber.chat/records/www/CNAME",
            "",
        );
        assert_eq!(status, 204);
        let (status, list) = host.json(&mock, "GET", path, "");
        assert_eq!(status, 200);
        let automatic: Vec<bool> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["automatic"].as_bool().unwrap())
            .collect();
        assert_eq!(automatic.last(), Some(&true), "{list}");
        let (_, manual) = host.json(&mock, "GET", &format!("{path}?automatic=false"), "");
        assert!(
            manual
                .as_array()
                .unwrap()
                .iter()
                .all(|s| s["automatic"] == false),
            "{manual}"
        );
        let (_, newest) = host.json(
            &mock,
            "GET",
            &format!("{path}?sort_by=-date_created&per_page=1"),
            "",
        );
        assert_eq!(newest.as_array().unwrap().len(), 1);
        assert_eq!(newest[0]["automatic"], true, "{newest}");
        let (status, error) = host.json(&mock, "GET", &format!("{path}?sort_by=name"), "");
        assert_eq!(status, 400, "{error}");
        assert!(
            error["errors"][0]["description"]
                .as_str()
                .unwrap()
                .contains("date_created")
        );

        let (status, shown) = host.json(&mock, "GET", &format!("{path}/{id}"), "");
        assert_eq!(status, 200);
        assert_eq!(shown["name"], "before");
        assert!(
            names_and_types(&shown["zone_data"]).contains(&"www/CNAME".to_string()),
            "{shown}"
        );
        let (status, text) = host.call_with(
            &mock,
            "GET",
            &format!("{path}/{id}"),
            &[("accept", "text/plain")],
            "",
        );
        assert_eq!(status, 200);
        assert!(text.contains("www 10800 IN CNAME stubber.chat."), "{text}");

        // Written back, the zone is what it was.
        let items = serde_json::json!({ "items": shown["zone_data"] });
        let (status, _) = host.call(
            &mock,
            "PUT",
            "/domains/stubber.chat/records",
            &items.to_string(),
        );
        assert_eq!(status, 201);
        let (_, listing) = host.json(&mock, "GET", "/domains/stubber.chat/records", "");
        assert!(
            names_and_types(&listing).contains(&"www/CNAME".to_string()),
            "{listing}"
        );

        let (status, _) = host.json(
            &mock,
            "PATCH",
            &format!("{path}/{id}"),
            r#"{"name": "renamed"}"#,
        );
        assert_eq!(status, 200);
        let (_, shown) = host.json(&mock, "GET", &format!("{path}/{id}"), "");
        assert_eq!(shown["name"], "renamed");
        let (status, _) = host.call(&mock, "DELETE", &format!("{path}/{id}"), "");
        assert_eq!(status, 204);
        let (status, _) = host.call(&mock, "GET", &format!("{path}/{id}"), "");
        assert_eq!(status, 404);
    }
}

#[test]
fn the_records_listing_filters_sorts_and_refuses_unknown_values() {
    let mock = start();
    for host in &HOSTS {
        let records = "/domains/stubber.chat/records";
        let (_, txt) = host.json(&mock, "GET", &format!("{records}?rrset_type=TXT"), "");
        assert_eq!(names_and_types(&txt), ["_acme-challenge/TXT"]);
        let (_, www) = host.json(&mock, "GET", &format!("{records}?rrset_name=www"), "");
        assert_eq!(names_and_types(&www), ["www/CNAME"]);
        let (_, by_type) = host.json(&mock, "GET", &format!("{records}?sort_by=rrset_type"), "");
        assert_eq!(
            names_and_types(&by_type),
            ["@/A", "www/CNAME", "_acme-challenge/TXT"]
        );
        let (_, reverse) = host.json(&mock, "GET", &format!("{records}?sort_by=-rrset_name"), "");
        assert_eq!(
            names_and_types(&reverse),
            ["_acme-challenge/TXT", "www/CNAME", "@/A"]
        );
        for query in ["rrset_type=BOGUS", "sort_by=size"] {
            let (status, error) = host.json(&mock, "GET", &format!("{records}?{query}"), "");
            assert_eq!(status, 400, "{query}: {error}");
            assert_eq!(error["errors"][0]["location"], "querystring", "{error}");
            assert!(
                error["errors"][0]["description"]
                    .as_str()
                    .unwrap()
                    .contains("is not one of")
            );
        }
        // A type Gandi knows and no record has: an empty list, not an error.
        let (status, none) = host.json(&mock, "GET", &format!("{records}?rrset_type=HTTPS"), "");
        assert_eq!((status, none), (200, serde_json::json!([])));
    }
}

#[test]
fn a_record_patch_adds_and_removes_values_and_changes_the_ttl() {
    let mock = start();
    for host in &HOSTS {
        let path = "/domains/stubber.chat/records/_acme-challenge/TXT";
        let (status, patched) = host.json(
            &mock,
            "PATCH",
            path,
            r#"{"add_rrset_values": ["two"], "remove_rrset_values": ["\"one\""], "rrset_ttl": 600}"#,
        );
        assert_eq!(status, 200, "{patched}");
        assert_eq!(patched["rrset_values"], serde_json::json!(["\"two\""]));
        assert_eq!(patched["rrset_ttl"], 600);
        let (status, error) = host.json(&mock, "PATCH", path, r#"{"rrset_ttl": 60}"#);
        assert_eq!(status, 400, "{error}");
        let (status, _) = host.json(
            &mock,
            "PATCH",
            "/domains/stubber.chat/records/nope/TXT",
            "{}",
        );
        assert_eq!(status, 404);
        // Back to one, for the other host.
        let (status, _) = host.call(&mock, "PUT", path, r#"{"rrset_values": ["\"one\""]}"#);
        assert_eq!(status, 201);
    }
}

#[test]
fn the_zone_as_text_replaces_and_adds_and_dns_answers_what_it_wrote() {
    let mock = start();
    let host = &HOSTS[0];
    let records = "/domains/stubber.chat/records";
    let text = "$TTL 600\n@ IN SOA ns1.gandi.net. hostmaster.gandi.net. 1 2 3 4 5\n@ 300 IN A 192.0.2.99\n_acme-challenge 300 IN TXT \"from text\"\n";
    let (status, body) = host.call_with(
        &mock,
        "PUT",
        records,
        &[("content-type", "text/plain")],
        text,
    );
    assert_eq!(status, 201, "{body}");
    let (_, listing) = host.json(&mock, "GET", records, "");
    assert_eq!(names_and_types(&listing), ["@/A", "_acme-challenge/TXT"]);
    let (rcode, strings) = txt_over_udp(
        &mock.dns_addr().to_string(),
        "_acme-challenge.stubber.chat.",
    );
    assert_eq!(
        (rcode, strings),
        (ResponseCode::NoError, vec!["from text".to_string()])
    );

    let (status, _) = host.call_with(
        &mock,
        "POST",
        records,
        &[("content-type", "text/plain; charset=utf-8")],
        "_acme-challenge 300 IN TXT \"second\"\nnew 300 IN A 192.0.2.5\n",
    );
    assert_eq!(status, 201);
    let (_, strings) = txt_over_udp(
        &mock.dns_addr().to_string(),
        "_acme-challenge.stubber.chat.",
    );
    assert_eq!(strings, ["from text", "second"]);

    let (status, error) = host.call_with(
        &mock,
        "PUT",
        records,
        &[("content-type", "text/plain")],
        "@ 300 IN A 192.0.2.1\nwww 300 IN NOPE x\n",
    );
    assert_eq!(status, 400, "{error}");
    assert!(error.contains("line 2: "), "{error}");
    // Nothing was written.
    let (_, listing) = host.json(&mock, "GET", records, "");
    assert_eq!(
        names_and_types(&listing),
        ["@/A", "new/A", "_acme-challenge/TXT"]
    );
}

/// The zone's SOA line as the text shows it, on a host: what DNS serves for the SOA.
fn soa_lines(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.split_whitespace().nth(3) == Some("SOA"))
        .collect()
}

#[test]
fn the_zone_as_text_holds_the_soa_where_gandi_writes_it_and_takes_it_back() {
    let mock = start();
    for host in &HOSTS {
        let records = "/domains/stubber.chat/records";
        let text_of = |query: &str| {
            let (status, text) = host.call_with(
                &mock,
                "GET",
                &format!("{records}{query}"),
                &[("accept", "text/plain")],
                "",
            );
            assert_eq!(status, 200, "{text}");
            text
        };
        let text = text_of("");
        let serial = mock
            .store()
            .zone_for(&mock_gandi::store::Fqdn::parse("stubber.chat").unwrap())
            .unwrap()
            .serial;
        // As gandi.cli's fixture of Gandi's text: the apex's lines, the SOA among them where
        // its type sorts, then the other names.
        assert_eq!(
            text.lines().collect::<Vec<_>>(),
            [
                "@ 300 IN A 192.0.2.10".to_string(),
                format!(
                    "@ 300 IN SOA ns1.mock-gandi.test. hostmaster.mock-gandi.test. {serial} 10800 3600 604800 300"
                ),
                "www 10800 IN CNAME stubber.chat.".to_string(),
                "_acme-challenge 10800 IN TXT \"one\"".to_string(),
            ],
            "{}",
            host.base
        );
        // The SOA is one of the apex's rrsets for the filters.
        assert_eq!(soa_lines(&text_of("?rrset_type=SOA")).len(), 1);
        assert_eq!(soa_lines(&text_of("?rrset_name=%40")).len(), 1);
        assert!(soa_lines(&text_of("?rrset_type=A")).is_empty());
        assert!(soa_lines(&text_of("?rrset_name=www")).is_empty());
        // The text goes back in as it came out, SOA included; the SOA stays the mock's.
        let (status, body) = host.call_with(
            &mock,
            "PUT",
            records,
            &[("content-type", "text/plain")],
            &text,
        );
        assert_eq!(status, 201, "{body}");
        let again = text_of("");
        assert_eq!(soa_lines(&again).len(), 1, "{again}");
        assert!(again.contains("@ 300 IN A 192.0.2.10"), "{again}");
        // An SOA line must be one, at the apex.
        for (bad, why) in [
            (
                "www 300 IN SOA ns1.gandi.net. hostmaster.gandi.net. 1 2 3 4 5\n",
                "only at the apex",
            ),
            (
                "@ 300 IN SOA ns1.gandi.net. hostmaster.gandi.net. 1 2\n",
                "mname rname serial",
            ),
        ] {
            let (status, error) = host.call_with(
                &mock,
                "PUT",
                records,
                &[("content-type", "text/plain")],
                bad,
            );
            assert_eq!(status, 400, "{error}");
            assert!(error.contains("line 1: ") && error.contains(why), "{error}");
        }
    }
}

#[test]
fn a_domain_created_with_zone_items_has_its_records_and_bad_items_create_nothing() {
    let mock = start();
    for (host, fqdn) in HOSTS.iter().zip(["made.example", "made-old.example"]) {
        let body = serde_json::json!({
            "fqdn": fqdn,
            "zone": {"ttl": 600, "items": [
                {"rrset_name": "@", "rrset_type": "A", "rrset_values": ["192.0.2.7"]},
                {"rrset_name": "_acme-challenge", "rrset_type": "TXT", "rrset_ttl": 300,
                 "rrset_values": ["made"]},
            ]}
        });
        let (status, created) = host.json(&mock, "POST", "/domains", &body.to_string());
        assert_eq!(status, 201, "{created}");
        let (_, listing) = host.json(&mock, "GET", &format!("/domains/{fqdn}/records"), "");
        assert_eq!(names_and_types(&listing), ["@/A", "_acme-challenge/TXT"]);
        assert_eq!(
            listing[0]["rrset_ttl"], 600,
            "zone.ttl for an item without one"
        );
        assert_eq!(listing[1]["rrset_ttl"], 300);
        let (rcode, strings) = txt_over_udp(
            &mock.dns_addr().to_string(),
            &format!("_acme-challenge.{fqdn}."),
        );
        assert_eq!(
            (rcode, strings),
            (ResponseCode::NoError, vec!["made".to_string()])
        );
        // No automatic snapshot of the empty zone before its first records.
        let (_, snapshots) = host.json(&mock, "GET", &format!("/domains/{fqdn}/snapshots"), "");
        assert_eq!(snapshots, serde_json::json!([]));
    }
    let host = &HOSTS[0];
    let bad = serde_json::json!({
        "fqdn": "refused.example",
        "zone": {"items": [
            {"rrset_name": "www", "rrset_type": "A", "rrset_values": ["toto"]},
        ]}
    });
    let (status, error) = host.json(&mock, "POST", "/domains", &bad.to_string());
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["errors"][0]["name"], "zone.items", "{error}");
    let description = error["errors"][0]["description"].as_str().unwrap();
    assert!(
        description.starts_with("'toto': must be an IP address (param: {"),
        "{description}"
    );
    let (status, _) = host.json(&mock, "GET", "/domains/refused.example", "");
    assert_eq!(status, 404, "a refused item creates no domain");
    // A CNAME beside other data at one name is refused as in a zone replacement; nothing made.
    let clash = serde_json::json!({
        "fqdn": "clash.example",
        "zone": {"items": [
            {"rrset_name": "www", "rrset_type": "A", "rrset_values": ["192.0.2.1"]},
            {"rrset_name": "www", "rrset_type": "CNAME", "rrset_values": ["x.example."]},
        ]}
    });
    let (status, error) = host.json(&mock, "POST", "/domains", &clash.to_string());
    assert_eq!(status, 400, "{error}");
    let (status, _) = host.json(&mock, "GET", "/domains/clash.example", "");
    assert_eq!(status, 404);
    for (zone, name) in [("[]", "zone"), (r#"{"ttl": 60}"#, "zone.ttl")] {
        let body = format!(r#"{{"fqdn": "z.example", "zone": {zone}}}"#);
        let (status, error) = host.json(&mock, "POST", "/domains", &body);
        assert_eq!(
            (status, error["errors"][0]["name"].as_str()),
            (400, Some(name)),
            "{error}"
        );
    }
}

/// A base joined with a path by a client whose base ends with a slash
/// (`https://dns.api.gandi.net/api/v5/` + `/domains/...`): Gandi answers the path without its
/// empty segments (docs/livedns.md, "Paths with `//`"), on both hosts; a query stays.
#[test]
fn a_path_with_empty_segments_is_answered_as_the_path_without_them() {
    let mock = start();
    for host in &HOSTS {
        let (status, text) = host.call(
            &mock,
            "PUT",
            "//domains/stubber.chat/records/dyn/A",
            r#"{"rrset_ttl": 300, "rrset_values": ["192.0.2.7"]}"#,
        );
        assert_eq!(status, 201, "{} {text}", host.base);
        let (status, rrset) = host.json(&mock, "GET", "/domains//stubber.chat/records/dyn/A", "");
        assert_eq!(status, 200, "{rrset}");
        assert_eq!(rrset["rrset_values"], serde_json::json!(["192.0.2.7"]));
        let (status, listing) = host.json(
            &mock,
            "GET",
            "//domains/stubber.chat/records?rrset_type=A",
            "",
        );
        assert_eq!(status, 200, "{listing}");
        assert!(
            names_and_types(&listing).iter().all(|n| n.ends_with("/A")),
            "the query was lost: {listing}"
        );
        let (status, _) = host.call(&mock, "DELETE", "/domains/stubber.chat/records/dyn/A", "");
        assert_eq!(status, 204);
    }
    // A path that is no LiveDNS route stays unknown, empty segments or not.
    let (status, _) = HOSTS[0].call(&mock, "GET", "//zones", "");
    assert_eq!(status, 404);
}
