//! Stand-ins for the fuzz targets (`mock-gandi/fuzz`), run by `cargo test` on stable: the same
//! entry points and the same checks (`mock_gandi::fuzzing`), fed by proptest with both
//! arbitrary bytes and inputs shaped like what a client sends, cut and mutated, so that they go
//! past the first byte a parser refuses. `well_formed_input_is_answered_through_the_checks`
//! shows that the checks themselves go all the way for valid input.

use mock_gandi::fuzzing::{Reached, check_api, check_connect_head, check_dns, check_seed};
use proptest::collection::vec;
use proptest::prelude::*;

/// Bytes with some of them replaced, cut short or grown: a valid input gone wrong.
fn mutated(valid: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = valid.len().max(1);
    (
        vec((0..len, any::<u8>()), 0..4),
        0..=len + 8,
        vec(any::<u8>(), 0..8),
    )
        .prop_map(move |(flips, cut, tail)| {
            let mut bytes = valid.clone();
            for (at, b) in flips {
                if at < bytes.len() {
                    bytes[at] = b;
                }
            }
            bytes.truncate(cut);
            bytes.extend(tail);
            bytes
        })
}

fn dns_query() -> impl Strategy<Value = Vec<u8>> {
    let names = prop::sample::select(vec![
        "stubber.chat.",
        "_acme-challenge.stubber.chat.",
        "www.stubber.chat.",
        "mail.legacy.example.",
        "nothing.example.",
        "a.b.c.d.stubber.chat.",
    ]);
    let types = prop::sample::select(vec![1u16, 2, 5, 6, 15, 16, 28, 33, 255, 65]);
    (any::<u16>(), names, types, any::<bool>()).prop_map(|(id, name, qtype, edns)| {
        let mut q = id.to_be_bytes().to_vec();
        q.extend([1, 0, 0, 1, 0, 0, 0, 0, 0, u8::from(edns)]);
        for label in name.trim_end_matches('.').split('.') {
            q.push(label.len() as u8);
            q.extend(label.as_bytes());
        }
        q.push(0);
        q.extend(qtype.to_be_bytes());
        q.extend([0, 1]);
        if edns {
            q.extend([0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0]);
        }
        q
    })
}

fn connect_head() -> impl Strategy<Value = Vec<u8>> {
    let methods = prop::sample::select(vec!["CONNECT", "GET", "connect", "POST", ""]);
    let hosts = prop::sample::select(vec![
        "api.gandi.net",
        "rpc.gandi.net",
        "dns.api.gandi.net",
        "API.GANDI.NET.",
        "example.com",
        "api.gandi.net.evil.example",
        "[::1]",
    ]);
    let ports = prop::sample::select(vec!["443", "80", "", "0", "65536", "x"]);
    let versions = prop::sample::select(vec!["HTTP/1.1", "HTTP/1.0", "HTTP/2", "http/1.1"]);
    let endings = prop::sample::select(vec!["\r\n\r\n", "\n\n", "\r\n", ""]);
    (
        methods,
        hosts,
        ports,
        versions,
        vec("[ -~]{0,20}", 0..3),
        endings,
    )
        .prop_map(|(m, h, p, v, headers, end)| {
            let mut head = format!("{m} {h}:{p} {v}\r\n");
            for header in headers {
                head.push_str(&format!("{header}\r\n"));
            }
            head.push_str(end);
            head.into_bytes()
        })
}

fn seed_text() -> impl Strategy<Value = String> {
    let lines = prop::sample::select(vec![
        "[[domain]]",
        "fqdn = \"stubber.chat\"",
        "fqdn = \"\"",
        "fqdn = \"a..b\"",
        "dns = \"legacy\"",
        "dns = \"other\"",
        "organization = \"acme\"",
        "account = false",
        "[[domain.record]]",
        "name = \"@\"",
        "name = \"*.x\"",
        "type = \"TXT\"",
        "type = \"A\"",
        "type = \"NOPE\"",
        "ttl = 300",
        "ttl = -1",
        "ttl = 99999999999",
        "values = [\"192.0.2.1\"]",
        "values = [\"\\\"q\\\"\"]",
        "values = []",
        "[[credential]]",
        "kind = \"pat\"",
        "kind = \"v4-key\"",
        "secret = \"0123456789abcdefghijklmn\"",
        "domains = [\"stubber.chat\"]",
        "expires = \"2027-01-01T00:00:00Z\"",
        "expires = \"soon\"",
        "[[fault]]",
        "status = 502",
        "nth = 0",
        "[rate_limit]",
        "requests = 1",
        "[propagation]",
        "delay_ms = 5",
        "[[dns_fault]]",
        "action = \"drop\"",
        "unknown = 1",
        "= broken",
    ]);
    vec(lines, 0..16).prop_map(|l| l.join("\n"))
}

fn api_input() -> impl Strategy<Value = Vec<u8>> {
    let segments = prop::sample::select(vec![
        "domains",
        "stubber.chat",
        "legacy.example",
        "records",
        "_acme-challenge",
        "@",
        "TXT",
        "A",
        "CNAME",
        "keys",
        "snapshots",
        "nameservers",
        "%2F",
        "..",
        "",
        "state",
        "faults",
        "resolve?name=stubber.chat&type=TXT",
        "records?rrset_type=TXT&sharing_id=x",
    ]);
    let bodies = prop::sample::select(vec![
        "",
        "{}",
        "{\"rrset_values\": [\"v\"], \"rrset_ttl\": 300}",
        "{\"rrset_values\": []}",
        "{\"rrset_values\": \"v\"}",
        "{\"rrset_ttl\": 1e400}",
        "{\"items\": [{\"rrset_name\": \"x\", \"rrset_type\": \"TXT\", \"rrset_values\": [\"v\"]}]}",
        "[1, 2",
        "{\"fqdn\": \"new.example\", \"zone\": {}}",
        "<?xml version='1.0'?><methodCall><methodName>domain.info</methodName><params><param><value><string>0123456789abcdefghijklmn</string></value></param><param><value><string>stubber.chat</string></value></param></params></methodCall>",
        "[[fault]]\nstatus = 502",
    ]);
    let headers = prop::sample::select(vec![
        "",
        "x-api-key: 0123456789abcdef01234567\n",
        "authorization: Apikey 0123456789abcdef01234567\n",
        "authorization: Bearer\n",
        "content-type: text/plain\n",
        "accept: */*\n",
    ]);
    (any::<u8>(), vec(segments, 0..6), headers, bodies).prop_map(|(c, path, h, b)| {
        let mut bytes = vec![c];
        bytes.extend(path.join("/").as_bytes());
        bytes.push(b'\n');
        bytes.extend(h.as_bytes());
        bytes.push(b'\n');
        bytes.extend(b.as_bytes());
        bytes
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn dns_packets_of_any_bytes(data in vec(any::<u8>(), 0..512)) {
        check_dns(&data);
    }

    #[test]
    fn dns_queries_gone_wrong(data in dns_query().prop_flat_map(mutated)) {
        check_dns(&data);
    }

    #[test]
    fn proxy_heads_of_any_bytes(data in vec(any::<u8>(), 0..256)) {
        check_connect_head(&data);
    }

    #[test]
    fn proxy_heads_gone_wrong(data in connect_head().prop_flat_map(mutated)) {
        check_connect_head(&data);
    }

    #[test]
    fn seeds_of_any_text(text in ".{0,200}") {
        check_seed(text.as_bytes());
    }

    #[test]
    fn seeds_made_of_seed_lines(text in seed_text()) {
        check_seed(text.as_bytes());
    }

    #[test]
    fn api_requests_of_any_bytes(data in vec(any::<u8>(), 0..256)) {
        check_api(&data);
    }

    #[test]
    fn api_requests_made_of_api_parts(data in api_input().prop_flat_map(mutated)) {
        check_api(&data);
    }
}

/// The stand-ins reach what they stand in for: a well-formed input of each kind goes all the way
/// through its check, the same function the fuzz target runs, and gets its normal answer; a
/// check that quietly returned early would stop every input short of [`Reached::Answered`].
#[test]
fn well_formed_input_is_answered_through_the_checks() {
    assert_eq!(
        check_connect_head(b"CONNECT api.gandi.net:443 HTTP/1.1\r\nHost: api.gandi.net\r\n\r\n"),
        Reached::Answered
    );
    assert_eq!(
        check_connect_head(b"GET / HTTP/1.1\r\n\r\n"),
        Reached::Refused
    );
    let query =
        b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07stubber\x04chat\x00\x00\x01\x00\x01";
    assert_eq!(check_dns(query), Reached::Answered);
    assert_eq!(check_dns(b"\x12"), Reached::Nothing);
    assert_eq!(
        check_seed(mock_gandi::fuzzing::SEED.as_bytes()),
        Reached::Answered
    );
    assert_eq!(check_seed(b"[[domain]]\nfqdn = 1\n"), Reached::Refused);
    // Choices 1: the seed's PAT, GET, `/v5/livedns/`; then the path, no header, no body.
    let get = b"\x01domains/stubber.chat/records/_acme-challenge/TXT\n\n";
    assert_eq!(check_api(get), Reached::Answered);
    // The same without the PAT: refused by LiveDNS.
    let anonymous = b"\x00domains/stubber.chat/records/_acme-challenge/TXT\n\n";
    assert_eq!(check_api(anonymous), Reached::Refused);
    // Choices 0x60: GET `/_mock/` + `state`.
    assert_eq!(check_api(b"\x60state\n\n"), Reached::Answered);
}

/// The entry points under the checks answer well-formed input as the servers do.
#[test]
fn the_entry_points_answer_well_formed_input() {
    use mock_gandi::fuzzing::{api_request, connect_head, dns_answer};
    assert_eq!(
        connect_head(b"CONNECT api.gandi.net:443 HTTP/1.1\r\nHost: api.gandi.net\r\n\r\n"),
        Some(200)
    );
    assert_eq!(connect_head(b"GET / HTTP/1.1\r\n\r\n"), Some(405));
    let store =
        mock_gandi::ZoneStore::new(mock_gandi::Seed::parse(mock_gandi::fuzzing::SEED).unwrap());
    let q =
        b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07stubber\x04chat\x00\x00\x01\x00\x01"
            .to_vec();
    let answer = dns_answer(&store, &q, false).unwrap();
    assert_eq!(&answer[..2], b"\x12\x34");
    assert_eq!(answer[3] & 0x0f, 0, "NOERROR");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let state = mock_gandi::AppState::new(store);
    let auth = format!("Bearer {}", mock_gandi::fuzzing::PAT).into_bytes();
    let (status, body) = runtime
        .block_on(api_request(
            &mock_gandi::router(state),
            b"GET",
            "/v5/livedns/domains/stubber.chat/records/_acme-challenge/TXT",
            &[(b"authorization".to_vec(), auth)],
            Vec::new(),
        ))
        .unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
}
