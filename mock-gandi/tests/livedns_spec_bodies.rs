//! gandi-wire.md §4.2, row by row: each error body as the specification writes it (copied
//! here, with the row it comes from), compared byte for byte with what the router answers to a
//! request that reaches that case. These are not snapshots of the mock's own output: a change
//! of the catalogue that drifts from the spec fails here.

mod common;

use common::*;

/// One row of §4.2: the case, a request that reaches it, the status, and the body as the spec
/// writes it (`Exact`), or the part of it the spec fixes (`Message`, `Prefix`, `Contains`).
struct SpecRow {
    row: &'static str,
    method: &'static str,
    path: &'static str,
    headers: &'static [(&'static str, &'static str)],
    body: &'static str,
    status: u16,
    expect: Expected,
}

enum Expected {
    Exact(&'static str),
    /// The spec gives the message only.
    Message(&'static str),
    /// The spec gives the shape; the field's own text is not captured.
    Prefix(&'static str),
    /// The spec gives a fragment of an HTML page.
    Contains(&'static str),
}

const BEARER: &[(&str, &str)] = &[
    (
        "authorization",
        "Bearer 0123456789abcdef0123456789abcdef01234567",
    ),
    ("content-type", "application/json"),
];

const ROWS: &[SpecRow] = &[
    SpecRow {
        row: "§4.2 row 1: unknown path below a known domain, or a name that is not a zone (108 bytes)",
        method: "GET",
        path: "/v5/livedns/domains/sub.stubber.chat",
        headers: BEARER,
        body: "",
        status: 404,
        expect: Expected::Exact(
            r#"{"code": 404, "message": "The resource could not be found.", "object": "HTTPNotFound", "cause": "Not Found"}"#,
        ),
    },
    SpecRow {
        row: "§4.2 row 2: domain not in LiveDNS / not accessible with these credentials (99 bytes)",
        method: "GET",
        path: "/v5/livedns/domains/legacy.example/records",
        headers: BEARER,
        body: "",
        status: 404,
        expect: Expected::Exact(
            r#"{"code": 404, "message": "Unknown domain", "object": "LocalizedHTTPNotFound", "cause": "Not Found"}"#,
        ),
    },
    SpecRow {
        row: "§4.2 row 3: rrset missing (<name>/<TYPE> = nothing/TXT)",
        method: "GET",
        path: "/v5/livedns/domains/stubber.chat/records/nothing/TXT",
        headers: BEARER,
        body: "",
        status: 404,
        expect: Expected::Exact(
            r#"{"code": 404, "message": "Can't find the DNS record nothing/TXT in the zone", "object": "dns-record", "cause": "Not Found"}"#,
        ),
    },
    SpecRow {
        row: "§4.2 row 4: domain owned by another organization, no sharing_id",
        method: "GET",
        path: "/v5/livedns/domains/acme.example/records",
        headers: &[("authorization", "Apikey AbCdEfGhIjKlMnOpQrStUvWx")],
        body: "",
        status: 404,
        expect: Expected::Exact(
            r#"{"code":404,"cause":"Unknown","message":"The resource does not exist"}"#,
        ),
    },
    SpecRow {
        row: "§4.2 row 5: no recognised auth header on the current host (X-Api-Key included)",
        method: "GET",
        path: "/v5/livedns/domains",
        headers: &[("x-api-key", "AbCdEfGhIjKlMnOpQrStUvWx")],
        body: "",
        status: 401,
        expect: Expected::Exact(
            r#"{"message":"You must provide an access token or an API Key. See https://api.gandi.net/docs/authentication/"}"#,
        ),
    },
    SpecRow {
        row: "§4.2 row 6: Authorization: Apikey <unknown key>",
        method: "GET",
        path: "/v5/livedns/domains",
        headers: &[("authorization", "Apikey zzzzzzzzzzzzzzzzzzzzzzzz")],
        body: "",
        status: 401,
        expect: Expected::Exact(
            r#"{"code":401,"message":"The server could not verify that you authorized to access the document you requested. Either you supplied the wrong credentials (e.g., bad api key), or your access token has expired","object":"HTTPUnauthorized","cause":"Unauthorized"}"#,
        ),
    },
    SpecRow {
        row: "§4.2 row 7: Authorization: Bearer <unknown, expired or under-privileged PAT>",
        method: "GET",
        path: "/v5/livedns/domains",
        headers: &[(
            "authorization",
            "Bearer dddddddddddddddddddddddddddddddddddddddd",
        )],
        body: "",
        status: 403,
        expect: Expected::Exact(
            r#"{"object":"HTTPForbidden","cause":"Forbidden","code":403,"message":"Access was denied to this resource."}"#,
        ),
    },
    SpecRow {
        row: "§4.2 row 7: ... or a PAT sent as Apikey",
        method: "GET",
        path: "/v5/livedns/domains",
        headers: &[(
            "authorization",
            "Apikey 0123456789abcdef0123456789abcdef01234567",
        )],
        body: "",
        status: 403,
        expect: Expected::Exact(
            r#"{"object":"HTTPForbidden","cause":"Forbidden","code":403,"message":"Access was denied to this resource."}"#,
        ),
    },
    SpecRow {
        row: "§4.2 row 8: a PAT sent as X-Api-Key to the old host (message only)",
        method: "GET",
        path: "/api/v5/domains",
        headers: &[
            ("host", "dns.api.gandi.net"),
            ("x-api-key", "0123456789abcdef0123456789abcdef01234567"),
        ],
        body: "",
        status: 500,
        expect: Expected::Message(
            "The server has either erred or is incapable of performing the requested operation.",
        ),
    },
    SpecRow {
        row: "§4.2 row 9: POST of an rrset that exists (apache/libcloud's fixture, inferred)",
        method: "POST",
        path: "/v5/livedns/domains/stubber.chat/records/bob/A",
        headers: BEARER,
        body: r#"{"rrset_values": ["192.0.2.1"]}"#,
        status: 409,
        expect: Expected::Exact(
            r#"{"code": 409, "message": "Record bob already exists", "object": "HTTPConflict", "cause": "Duplicate Entry"}"#,
        ),
    },
    SpecRow {
        row: "§4.2 row 10: validation (bad TTL): the shape; the description is not captured",
        method: "PUT",
        path: "/v5/livedns/domains/stubber.chat/records/bad/TXT",
        headers: BEARER,
        body: r#"{"rrset_ttl": 1, "rrset_values": ["x"]}"#,
        status: 400,
        expect: Expected::Prefix(
            r#"{"status": "error", "errors": [{"location": "body", "name": "rrset_ttl", "description": "#,
        ),
    },
    SpecRow {
        row: "§4.2 row 11: unknown route (Express default page, inferred)",
        method: "GET",
        path: "/v5/nope",
        headers: BEARER,
        body: "",
        status: 404,
        expect: Expected::Contains("<pre>Cannot GET /v5/nope</pre>"),
    },
];

#[tokio::test]
async fn every_row_of_the_spec_s_error_table_is_answered_as_written() {
    let api = Api::new();
    // Row 9 needs the rrset to exist first.
    let made = api
        .pat(
            "POST",
            "/domains/stubber.chat/records/bob/A",
            r#"{"rrset_values": ["192.0.2.1"]}"#,
        )
        .await;
    assert_eq!(made.status, 201);
    for row in ROWS {
        let reply = api
            .send(row.method, row.path, row.headers, row.body.to_string())
            .await;
        let text = reply.text();
        assert_eq!(reply.status, row.status, "{}: {text}", row.row);
        match row.expect {
            Expected::Exact(body) => assert_eq!(text, body, "{}", row.row),
            Expected::Message(message) => {
                assert_eq!(reply.json()["message"], message, "{}: {text}", row.row)
            }
            Expected::Prefix(prefix) => {
                assert!(text.starts_with(prefix), "{}: {text}", row.row);
                assert!(text.ends_with("}]}"), "{}: {text}", row.row);
            }
            Expected::Contains(fragment) => {
                assert!(text.contains(fragment), "{}: {text}", row.row)
            }
        }
    }
    // The two lengths the spec states.
    assert_eq!(
        match ROWS[0].expect {
            Expected::Exact(b) => b.len(),
            _ => 0,
        },
        108
    );
    assert_eq!(
        match ROWS[1].expect {
            Expected::Exact(b) => b.len(),
            _ => 0,
        },
        99
    );
}
