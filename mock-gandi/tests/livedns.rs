//! The LiveDNS v5 API through the router: every endpoint, every error row of gandi-wire.md
//! §4.2, auth per host and malformed input, with exact status, headers and body bytes.

mod common;

use common::*;
use insta::assert_snapshot;

const RECORD_CREATED: &str = r#"{"message":"DNS Record Created"}"#;

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test]
async fn every_endpoint_answers_like_gandi_on_the_current_host() {
    let api = Api::new();
    let mut t = Transcript::default();
    let calls: &[(&str, &str, &str)] = &[
        ("GET", "/domains", ""),
        ("GET", "/domains?page=2&per_page=1", ""),
        ("GET", "/domains/stubber.chat", "{}"),
        ("GET", "/domains/stubber.chat/records", "{}"),
        ("GET", "/domains/stubber.chat/records?page=2&per_page=2", ""),
        ("GET", "/domains/stubber.chat/records/%40", ""),
        ("GET", "/domains/stubber.chat/records/nothing-here", ""),
        (
            "GET",
            "/domains/stubber.chat/records/_acme-challenge/TXT",
            "",
        ),
        (
            "POST",
            "/domains/stubber.chat/records/localhost/A",
            r#"{"rrset_values": ["127.0.0.1"], "rrset_ttl": 3600}"#,
        ),
        ("GET", "/domains/stubber.chat/records/localhost/A", ""),
        (
            "PUT",
            "/domains/stubber.chat/records/_acme-challenge/TXT",
            r#"{"rrset_values":["new","\"token1\""]}"#,
        ),
        (
            "GET",
            "/domains/stubber.chat/records/_acme-challenge/TXT",
            "",
        ),
        (
            "PUT",
            "/domains/stubber.chat/records/_acme-challenge/TXT",
            r#"{"rrset_ttl":300,"rrset_values":[]}"#,
        ),
        (
            "GET",
            "/domains/stubber.chat/records/_acme-challenge/TXT",
            "",
        ),
        ("DELETE", "/domains/stubber.chat/records/localhost/A", "{}"),
        (
            "POST",
            "/domains/stubber.chat/records",
            r#"{"rrset_name": "*.dev", "rrset_type": "A", "rrset_values": ["192.0.2.7"]}"#,
        ),
        (
            "PUT",
            "/domains/stubber.chat/records/mail",
            r#"{"items": [{"rrset_type": "A", "rrset_values": ["192.0.2.25"], "rrset_ttl": 300}, {"rrset_type": "TXT", "rrset_values": ["v=spf1 -all"]}]}"#,
        ),
        (
            "POST",
            "/domains/stubber.chat/records/mail",
            r#"{"rrset_type": "MX", "rrset_values": ["10 mx.stubber.chat."], "rrset_ttl": 600}"#,
        ),
        ("GET", "/domains/stubber.chat/records/mail", ""),
        ("DELETE", "/domains/stubber.chat/records/mail", ""),
        ("GET", "/domains/stubber.chat/records/mail", ""),
        ("GET", "/domains/stubber.chat/records", ""),
        (
            "PUT",
            "/domains/stubber.chat/records",
            r#"{"items": [{"rrset_name": "@", "rrset_type": "A", "rrset_values": ["192.0.2.1"]}, {"rrset_name": "www.stubber.chat.", "rrset_type": "CNAME", "rrset_values": ["stubber.chat."], "rrset_ttl": 1800}]}"#,
        ),
        ("GET", "/domains/stubber.chat/records", ""),
        ("DELETE", "/domains/stubber.chat/records", ""),
        ("GET", "/domains/stubber.chat/records", ""),
        ("POST", "/domains", r#"{"fqdn": "new.example", "zone": {}}"#),
        ("GET", "/domains/new.example/records", ""),
    ];
    for (method, path, body) in calls {
        let reply = api.pat(method, path, body).await;
        t.add(&format!("{method} /v5/livedns{path} {body}"), &reply);
    }
    assert_snapshot!(t.text());
}

#[tokio::test]
async fn rrset_writes_answer_the_32_byte_message_with_a_location() {
    let api = Api::new();
    for method in ["POST", "PUT"] {
        let reply = api
            .pat(
                method,
                "/domains/stubber.chat/records/_acme-challenge.sub/TXT",
                r#"{"rrset_ttl":300,"rrset_values":["tok"]}"#,
            )
            .await;
        assert_eq!(reply.status, 201, "{method}");
        assert_eq!(reply.text(), RECORD_CREATED);
        assert_eq!(reply.body.len(), 32);
        assert_eq!(
            reply.header("content-type"),
            Some("application/json; charset=utf-8")
        );
        assert_eq!(
            reply.header("location"),
            Some(
                "http://api.gandi.net/v5/livedns/domains/stubber.chat/records/_acme-challenge.sub/TXT"
            )
        );
        api.pat(
            "DELETE",
            "/domains/stubber.chat/records/_acme-challenge.sub/TXT",
            "",
        )
        .await;
    }
}

#[tokio::test]
async fn delete_answers_204_with_no_body_and_no_content_type() {
    let api = Api::new();
    let reply = api
        .pat("DELETE", "/domains/stubber.chat/records/%40/A", "")
        .await;
    assert_eq!(reply.status, 204);
    assert!(reply.body.is_empty());
    assert_eq!(reply.header("content-type"), None);
}

#[tokio::test]
async fn put_without_ttl_resets_it_to_10800() {
    let api = Api::new();
    api.pat(
        "PUT",
        "/domains/stubber.chat/records/%40/A",
        r#"{"rrset_values":["192.0.2.99"]}"#,
    )
    .await;
    let reply = api
        .pat("GET", "/domains/stubber.chat/records/%40/A", "")
        .await;
    assert_eq!(reply.json()["rrset_ttl"], 10800);
    assert_eq!(
        reply.json()["rrset_href"],
        "http://api.gandi.net/v5/livedns/domains/stubber.chat/records/%40/A"
    );
}

#[tokio::test]
async fn txt_values_are_quoted_once_and_two_challenges_share_one_rrset() {
    let api = Api::new();
    let path = "/domains/stubber.chat/records/_acme-challenge/TXT";
    let reply = api
        .pat(
            "PUT",
            path,
            r#"{"rrset_ttl":300,"rrset_values":["apex","\"wild\""]}"#,
        )
        .await;
    assert_eq!(reply.status, 201);
    let got = api.pat("GET", path, "").await.json();
    assert_eq!(
        got["rrset_values"],
        serde_json::json!(["\"apex\"", "\"wild\""])
    );
}

#[tokio::test]
async fn the_listing_puts_the_apex_first_and_underscores_after_letters_as_recorded() {
    let api = Api::new();
    let names: Vec<String> = api
        .pat("GET", "/domains/stubber.chat/records", "")
        .await
        .json()
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
        .collect();
    assert_eq!(
        names,
        [
            "@/A",
            "@/AAAA",
            "docs/MX",
            "www/CNAME",
            "_acme-challenge/TXT"
        ]
    );
}

#[tokio::test]
async fn text_plain_exports_the_zone_file() {
    let api = Api::new();
    let auth = bearer(PAT);
    let reply = api
        .send(
            "GET",
            "/v5/livedns/domains/stubber.chat/records",
            &[("authorization", &auth), ("accept", "text/plain")],
            "",
        )
        .await;
    assert_snapshot!(reply.render());
}

#[tokio::test]
async fn hrefs_name_the_host_and_base_the_client_used() {
    let api = Api::new();
    let reply = api
        .send(
            "GET",
            "/api/v5/domains/stubber.chat",
            &[("x-api-key", APIKEY), ("host", "127.0.0.1:8080")],
            "",
        )
        .await;
    assert_snapshot!(reply.render());
}

/// What a case is about, method, path, headers, body.
type Case<'a> = (&'a str, &'a str, &'a str, Vec<(&'a str, String)>, &'a str);

#[tokio::test]
async fn every_error_row_is_byte_exact() {
    let api = Api::new();
    let mut t = Transcript::default();
    let pat = bearer(PAT);
    let cases: Vec<Case> = vec![
        // 404 HTTPNotFound: an unknown path below a known domain, a subdomain, no zone at all.
        (
            "not found: unknown path",
            "GET",
            "/v5/livedns/domains/stubber.chat/keys/x/y",
            vec![("authorization", pat.clone())],
            "",
        ),
        (
            "not found: subdomain",
            "GET",
            "/v5/livedns/domains/www.stubber.chat/records",
            vec![("authorization", pat.clone())],
            "",
        ),
        (
            "not found: not a zone",
            "GET",
            "/v5/livedns/domains/thisisadomainidonotown.com",
            vec![("authorization", pat.clone())],
            "",
        ),
        // 404 Unknown domain: known but not LiveDNS, out of scope, or another organization
        // for an organization-bound credential.
        (
            "unknown domain: legacy",
            "GET",
            "/v5/livedns/domains/legacy.example/records",
            vec![("authorization", pat.clone())],
            "",
        ),
        (
            "unknown domain: scope",
            "GET",
            "/v5/livedns/domains/acme.example",
            vec![("authorization", bearer(PAT_SCOPED))],
            "",
        ),
        (
            "unknown domain: organization",
            "GET",
            "/v5/livedns/domains/globex.example",
            vec![("authorization", bearer(PAT_ACME))],
            "",
        ),
        (
            "rrset missing",
            "GET",
            "/v5/livedns/domains/stubber.chat/records/localhost/A",
            vec![("authorization", pat.clone())],
            "",
        ),
        (
            "rrset missing on delete",
            "DELETE",
            "/v5/livedns/domains/stubber.chat/records/localhost/A",
            vec![("authorization", pat.clone())],
            "",
        ),
        (
            "other organization without sharing_id",
            "GET",
            "/v5/livedns/domains/acme.example/records",
            vec![("authorization", pat.clone())],
            "",
        ),
        (
            "other organization with sharing_id",
            "GET",
            "/v5/livedns/domains/acme.example/records?sharing_id=acme",
            vec![("authorization", pat.clone())],
            "",
        ),
        ("no header", "GET", "/v5/livedns/domains", vec![], ""),
        (
            "X-Api-Key on the current host",
            "GET",
            "/v5/livedns/domains",
            vec![("x-api-key", APIKEY.to_string())],
            "",
        ),
        (
            "Basic auth",
            "GET",
            "/v5/livedns/domains",
            vec![("authorization", "Basic dXNlcjpwYXNz".to_string())],
            "",
        ),
        (
            "Apikey unknown",
            "GET",
            "/v5/livedns/domains",
            vec![(
                "authorization",
                "Apikey nosuchkeynosuchkeynosuch".to_string(),
            )],
            "",
        ),
        (
            "Apikey with a v4 key",
            "GET",
            "/v5/livedns/domains",
            vec![("authorization", format!("Apikey {V4KEY}"))],
            "",
        ),
        (
            "Apikey known",
            "GET",
            "/v5/livedns/domains",
            vec![("authorization", format!("Apikey {APIKEY}"))],
            "",
        ),
        (
            "Bearer unknown",
            "GET",
            "/v5/livedns/domains",
            vec![(
                "authorization",
                bearer("eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"),
            )],
            "",
        ),
        (
            "Bearer expired",
            "GET",
            "/v5/livedns/domains",
            vec![("authorization", bearer(PAT_EXPIRED))],
            "",
        ),
        (
            "Bearer read-only writes",
            "DELETE",
            "/v5/livedns/domains/stubber.chat/records/www/CNAME",
            vec![("authorization", bearer(PAT_READ_ONLY))],
            "",
        ),
        (
            "PAT sent as Apikey",
            "GET",
            "/v5/livedns/domains",
            vec![("authorization", format!("Apikey {PAT}"))],
            "",
        ),
        (
            "old host: X-Api-Key",
            "GET",
            "/api/v5/domains/stubber.chat/records/%40/A",
            vec![("x-api-key", APIKEY.to_string())],
            "",
        ),
        ("old host: no key", "GET", "/api/v5/domains", vec![], ""),
        (
            "old host: Authorization read as on the current host (gandi-2-terraform 1.3.3)",
            "GET",
            "/api/v5/domains",
            vec![("authorization", pat.clone())],
            "",
        ),
        (
            "old host: v4 key",
            "GET",
            "/api/v5/domains",
            vec![("x-api-key", V4KEY.to_string())],
            "",
        ),
        (
            "old host: PAT as X-Api-Key",
            "GET",
            "/api/v5/domains",
            vec![("x-api-key", PAT.to_string())],
            "",
        ),
        (
            "old host: unseeded PAT-shaped X-Api-Key",
            "GET",
            "/api/v5/domains",
            vec![(
                "x-api-key",
                "ffffffffffffffffffffffffffffffffffffffff".to_string(),
            )],
            "",
        ),
        (
            "conflict (inferred)",
            "POST",
            "/v5/livedns/domains/stubber.chat/records/www/CNAME",
            vec![("authorization", pat.clone())],
            r#"{"rrset_values": ["stubber.chat."]}"#,
        ),
        (
            "validation: TTL",
            "PUT",
            "/v5/livedns/domains/stubber.chat/records/x/A",
            vec![("authorization", pat.clone())],
            r#"{"rrset_ttl": 60, "rrset_values": ["192.0.2.1"]}"#,
        ),
        (
            "validation: value",
            "PUT",
            "/v5/livedns/domains/stubber.chat/records/x/A",
            vec![("authorization", pat.clone())],
            r#"{"rrset_values": ["not-an-ip"]}"#,
        ),
        (
            "validation: several fields",
            "POST",
            "/v5/livedns/domains/stubber.chat/records",
            vec![("authorization", pat.clone())],
            r#"{"rrset_name": "x", "rrset_ttl": 10, "rrset_values": "1.2.3.4"}"#,
        ),
        (
            "validation: CNAME beside other types",
            "PUT",
            "/v5/livedns/domains/stubber.chat/records/docs/CNAME",
            vec![("authorization", pat.clone())],
            r#"{"rrset_values": ["x.example."]}"#,
        ),
        (
            "validation: CNAME at the apex",
            "PUT",
            "/v5/livedns/domains/stubber.chat/records/%40/CNAME",
            vec![("authorization", pat.clone())],
            r#"{"rrset_values": ["x.example."]}"#,
        ),
        (
            "validation: a bad value in a name's items (ddclient#257)",
            "PUT",
            "/v5/livedns/domains/stubber.chat/records/test",
            vec![("authorization", pat.clone())],
            r#"{"items": [{"rrset_type": "A", "rrset_values": ["toto"]}]}"#,
        ),
        (
            "validation: ALIAS away from the apex in the zone's items (octodns#619)",
            "PUT",
            "/v5/livedns/domains/stubber.chat/records",
            vec![("authorization", pat.clone())],
            r#"{"items": [{"rrset_name": "blah", "rrset_type": "ALIAS", "rrset_ttl": 3600, "rrset_values": ["google.com."]}]}"#,
        ),
        (
            "validation: ALIAS away from the apex",
            "PUT",
            "/v5/livedns/domains/stubber.chat/records/x/ALIAS",
            vec![("authorization", pat.clone())],
            r#"{"rrset_values": ["x.example."]}"#,
        ),
        (
            "method not allowed (inferred)",
            "PATCH",
            "/v5/livedns/domains/stubber.chat/records/x",
            vec![("authorization", pat.clone())],
            "",
        ),
        (
            "unknown route (Express page, inferred)",
            "GET",
            "/v5/nope",
            vec![("authorization", pat.clone())],
            "",
        ),
        (
            "unknown route under the base",
            "GET",
            "/v5/livedns/nope",
            vec![("authorization", pat.clone())],
            "",
        ),
    ];
    for (what, method, path, headers, body) in &cases {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let reply = api.send(method, path, &headers, body.to_string()).await;
        if reply.status >= 400 && !path.starts_with("/v5/nope") && !path.ends_with("/nope") {
            assert_eq!(
                reply.header("content-type"),
                Some("application/json"),
                "{what}"
            );
        }
        t.add(&format!("{what}: {method} {path} {body}"), &reply);
    }
    assert_snapshot!(t.text());
}

#[tokio::test]
async fn the_spec_gives_the_length_of_these_bodies() {
    let api = Api::new();
    let not_found = api.pat("GET", "/domains/stubber.chat/nope", "").await;
    assert_eq!((not_found.status, not_found.body.len()), (404, 108));
    assert!(not_found.text().contains(r#""code": 404"#));
    let unknown = api.pat("GET", "/domains/legacy.example", "").await;
    assert_eq!((unknown.status, unknown.body.len()), (404, 99));
    let missing = api
        .pat("GET", "/domains/stubber.chat/records/localhost/A", "")
        .await;
    assert_eq!((missing.status, missing.body.len()), (404, 123));
}

#[tokio::test]
async fn a_credential_that_authenticated_is_named_in_the_journal() {
    let api = Api::new();
    api.pat("GET", "/domains", "").await;
    api.send("GET", "/api/v5/domains", &[("x-api-key", APIKEY)], "")
        .await;
    api.send("GET", "/v5/livedns/domains", &[], "").await;
    let auth: Vec<Option<&str>> = api
        .state
        .journal
        .requests()
        .iter()
        .map(|e| e.auth)
        .collect();
    assert_eq!(auth, [Some("pat"), Some("apikey"), None]);
}

#[tokio::test]
async fn sharing_id_accepts_the_organization_uuid_and_lists_its_domains() {
    let api = Api::new();
    let state = api.state.store.snapshot();
    let uuid = state["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "acme")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let reply = api
        .pat("GET", &format!("/domains?sharing_id={uuid}"), "")
        .await;
    let fqdns: Vec<String> = reply
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["fqdn"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(fqdns, ["acme.example", "stubber.chat"]);
    assert_eq!(reply.header("total-count"), Some("2"));
}

mod malformed_input {
    use super::*;

    /// Asserts the cornice-style validation shape and returns the rendered answer.
    async fn invalid(
        api: &Api,
        method: &str,
        path: &str,
        body: impl Into<axum::body::Body>,
    ) -> String {
        let auth = bearer(PAT);
        let reply = api
            .send(method, path, &[("authorization", &auth)], body)
            .await;
        assert_eq!(reply.status, 400, "{}", reply.render());
        assert_eq!(reply.header("content-type"), Some("application/json"));
        let json = reply.json();
        assert_eq!(json["status"], "error");
        assert!(!json["errors"].as_array().unwrap().is_empty());
        assert!(
            reply
                .text()
                .starts_with(r#"{"status": "error", "errors": [{"location": "#)
        );
        reply.render()
    }

    const RRSET: &str = "/v5/livedns/domains/stubber.chat/records/x/TXT";

    #[tokio::test]
    async fn bad_json_is_a_gandi_validation_error() {
        assert_snapshot!(invalid(&Api::new(), "PUT", RRSET, r#"{"rrset_values": [}"#).await);
    }

    #[tokio::test]
    async fn a_body_that_is_not_an_object_is_a_gandi_validation_error() {
        assert_snapshot!(invalid(&Api::new(), "PUT", RRSET, r#"["a"]"#).await);
    }

    #[tokio::test]
    async fn wrong_json_types_are_named_field_by_field() {
        assert_snapshot!(
            invalid(
                &Api::new(),
                "PUT",
                RRSET,
                r#"{"rrset_ttl": "soon", "rrset_values": [1, "ok", true]}"#
            )
            .await
        );
    }

    #[tokio::test]
    async fn a_missing_field_is_required() {
        assert_snapshot!(invalid(&Api::new(), "POST", RRSET, "").await);
    }

    #[tokio::test]
    async fn a_body_that_is_not_utf8_is_a_gandi_validation_error() {
        assert_snapshot!(invalid(&Api::new(), "PUT", RRSET, vec![b'{', 0xff, 0xfe, b'}']).await);
    }

    #[tokio::test]
    async fn bad_percent_encoding_in_the_path_is_a_gandi_validation_error() {
        assert_snapshot!(
            invalid(
                &Api::new(),
                "GET",
                "/v5/livedns/domains/stubber.chat/records/%zz/TXT",
                ""
            )
            .await
        );
    }

    #[tokio::test]
    async fn percent_encoding_that_is_not_utf8_is_a_gandi_validation_error() {
        assert_snapshot!(
            invalid(
                &Api::new(),
                "GET",
                "/v5/livedns/domains/stubber.chat/records/%C3%28/TXT",
                ""
            )
            .await
        );
    }

    #[tokio::test]
    async fn an_unknown_record_type_is_a_gandi_validation_error() {
        assert_snapshot!(
            invalid(
                &Api::new(),
                "PUT",
                "/v5/livedns/domains/stubber.chat/records/x/WKS",
                r#"{"rrset_values": ["x"]}"#
            )
            .await
        );
    }

    #[tokio::test]
    async fn a_name_ending_in_a_dot_outside_the_zone_is_refused() {
        assert_snapshot!(
            invalid(
                &Api::new(),
                "PUT",
                "/v5/livedns/domains/stubber.chat/records/_acme-challenge.example.org./TXT",
                r#"{"rrset_values": ["x"]}"#
            )
            .await
        );
    }

    #[tokio::test]
    async fn a_bad_page_number_is_a_gandi_validation_error() {
        assert_snapshot!(
            invalid(
                &Api::new(),
                "GET",
                "/v5/livedns/domains?page=0&per_page=many",
                ""
            )
            .await
        );
    }

    #[tokio::test]
    async fn bad_items_are_named_with_their_index() {
        assert_snapshot!(
            invalid(
                &Api::new(),
                "PUT",
                "/v5/livedns/domains/stubber.chat/records",
                r#"{"items": [{"rrset_name": "a", "rrset_type": "A", "rrset_values": ["192.0.2.1"]}, {"rrset_name": "b.", "rrset_type": "TXX"}, 3]}"#
            )
            .await
        );
    }

    #[tokio::test]
    async fn a_body_over_one_mebibyte_is_refused_in_gandis_shape() {
        let api = Api::new();
        let auth = bearer(PAT);
        let big = format!(r#"{{"rrset_values": ["{}"]}}"#, "a".repeat(1024 * 1024));
        let reply = api
            .send("PUT", RRSET, &[("authorization", &auth)], big)
            .await;
        assert_eq!(reply.status, 413);
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert_snapshot!(reply.render());
    }

    #[tokio::test]
    async fn a_name_ending_in_a_dot_inside_the_zone_is_made_relative() {
        let api = Api::new();
        let reply = api
            .pat(
                "PUT",
                "/domains/stubber.chat/records/_acme-challenge.stubber.chat./TXT",
                r#"{"rrset_values": ["x"]}"#,
            )
            .await;
        assert_eq!(reply.status, 201);
        assert_eq!(
            reply.header("location"),
            Some(
                "http://api.gandi.net/v5/livedns/domains/stubber.chat/records/_acme-challenge/TXT"
            )
        );
    }
}

/// Method, path, request body, status, location, answer body.
type Exchange = (
    &'static str,
    &'static str,
    &'static str,
    u16,
    Option<&'static str>,
    &'static str,
);

/// Exchanges from the recorded real sessions (lexicon-gandi REST-IntegrationTests, 2020),
/// replayed in order. The direct listener speaks `http://`; the recordings went through
/// `https://api.gandi.net`, so the scheme is the one difference allowed.
#[tokio::test]
async fn recorded_real_exchanges_are_reproduced_byte_for_byte() {
    let api = Api::with_seed(
        r#"
[[domain]]
fqdn = "t18s.fr"
[[credential]]
kind = "apikey"
secret = "AbCdEfGhIjKlMnOpQrStUvWx"
"#,
    );
    let exchanges: &[Exchange] = &[
        (
            "GET",
            "/domains/t18s.fr",
            "{}",
            200,
            None,
            r#"{"domain_keys_href":"https://api.gandi.net/v5/livedns/domains/t18s.fr/keys","fqdn":"t18s.fr","automatic_snapshots":true,"domain_records_href":"https://api.gandi.net/v5/livedns/domains/t18s.fr/records","domain_href":"https://api.gandi.net/v5/livedns/domains/t18s.fr"}"#,
        ),
        (
            "GET",
            "/domains/thisisadomainidonotown.com",
            "{}",
            404,
            None,
            r#"{"code": 404, "message": "The resource could not be found.", "object": "HTTPNotFound", "cause": "Not Found"}"#,
        ),
        (
            "GET",
            "/domains/t18s.fr/records/_acme-challenge.createrecordset/TXT",
            "{}",
            404,
            None,
            r#"{"code": 404, "message": "Can't find the DNS record _acme-challenge.createrecordset/TXT in the zone", "object": "dns-record", "cause": "Not Found"}"#,
        ),
        (
            "POST",
            "/domains/t18s.fr/records/_acme-challenge.createrecordset/TXT",
            r#"{"rrset_values": ["challengetoken1"], "rrset_ttl": 3600}"#,
            201,
            Some(
                "https://api.gandi.net/v5/livedns/domains/t18s.fr/records/_acme-challenge.createrecordset/TXT",
            ),
            r#"{"message":"DNS Record Created"}"#,
        ),
        (
            "GET",
            "/domains/t18s.fr/records/_acme-challenge.createrecordset/TXT",
            "{}",
            200,
            None,
            r#"{"rrset_type":"TXT","rrset_ttl":3600,"rrset_name":"_acme-challenge.createrecordset","rrset_href":"https://api.gandi.net/v5/livedns/domains/t18s.fr/records/_acme-challenge.createrecordset/TXT","rrset_values":["\"challengetoken1\""]}"#,
        ),
        (
            "PUT",
            "/domains/t18s.fr/records/_acme-challenge.createrecordset/TXT",
            r#"{"rrset_values": ["challengetoken1", "challengetoken2"], "rrset_ttl": 3600}"#,
            201,
            Some(
                "https://api.gandi.net/v5/livedns/domains/t18s.fr/records/_acme-challenge.createrecordset/TXT",
            ),
            r#"{"message":"DNS Record Created"}"#,
        ),
        (
            "PUT",
            "/domains/t18s.fr/records/_acme-challenge.createrecordset/TXT",
            r#"{"rrset_values": ["challengetoken2"]}"#,
            201,
            Some(
                "https://api.gandi.net/v5/livedns/domains/t18s.fr/records/_acme-challenge.createrecordset/TXT",
            ),
            r#"{"message":"DNS Record Created"}"#,
        ),
        (
            "GET",
            "/domains/t18s.fr/records/_acme-challenge.createrecordset/TXT",
            "{}",
            200,
            None,
            r#"{"rrset_type":"TXT","rrset_ttl":10800,"rrset_name":"_acme-challenge.createrecordset","rrset_href":"https://api.gandi.net/v5/livedns/domains/t18s.fr/records/_acme-challenge.createrecordset/TXT","rrset_values":["\"challengetoken2\""]}"#,
        ),
        (
            "DELETE",
            "/domains/t18s.fr/records/_acme-challenge.createrecordset/TXT",
            "{}",
            204,
            None,
            "",
        ),
    ];
    let http = |s: &str| s.replace("https://", "http://");
    for (method, path, body, status, location, answer) in exchanges {
        let reply = api
            .send(
                method,
                &format!("/v5/livedns{path}"),
                &[
                    ("authorization", "Apikey AbCdEfGhIjKlMnOpQrStUvWx"),
                    ("content-type", "application/json"),
                    ("accept", "application/json"),
                ],
                body.to_string(),
            )
            .await;
        assert_eq!(reply.status, *status, "{method} {path}");
        assert_eq!(reply.text(), http(answer), "{method} {path}");
        assert_eq!(
            reply.header("location").map(str::to_string),
            location.map(http),
            "{method} {path}"
        );
    }
}

/// The journal keeps how each request presented itself, which twin runs compare: the scheme
/// of its `Authorization` header (or `X-Api-Key`), never the secret, and its Content-Type as
/// sent; the admin API shows both.
#[tokio::test]
async fn the_journal_keeps_each_requests_auth_scheme_and_content_type() {
    let api = Api::new();
    let put = "/domains/stubber.chat/records/journal/TXT";
    let body = r#"{"rrset_values":["v"]}"#;
    assert_eq!(api.pat("PUT", put, body).await.status, 201);
    let old = "/api/v5/domains/stubber.chat/records";
    api.send(
        "GET",
        old,
        &[("x-api-key", APIKEY), ("host", "dns.api.gandi.net")],
        "",
    )
    .await;
    let apikey = format!("Apikey {APIKEY}");
    let form = [
        ("authorization", apikey.as_str()),
        ("content-type", "application/x-www-form-urlencoded"),
    ];
    api.send("PUT", &format!("/v5/livedns{put}"), &form, body)
        .await;
    let entries = api.state.journal.requests();
    let seen: Vec<(Option<&str>, Option<&str>)> = entries
        .iter()
        .map(|e| (e.scheme.as_deref(), e.content_type.as_deref()))
        .collect();
    assert_eq!(
        seen,
        [
            (Some("Bearer"), Some("application/json")),
            (Some("X-Api-Key"), None),
            (Some("Apikey"), Some("application/x-www-form-urlencoded")),
        ]
    );
    let shown = api.send("GET", "/_mock/requests", &[], "").await.text();
    assert!(shown.contains("\"scheme\":\"Bearer\""), "{shown}");
    assert!(!shown.contains(PAT) && !shown.contains(APIKEY), "{shown}");
}
