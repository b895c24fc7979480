//! Gandi as of a date (`as_of`), over real sockets: every row of the era table answered on
//! both sides of its date, and the date read from a seed, `serve --as-of` and
//! `POST /_mock/seed`.

mod common;

use std::process::Command;

use mock_gandi::MockGandi;

const APIKEY: &str = "AbCdEfGhIjKlMnOpQrStUvWx";
const PAT: &str = "0123456789abcdef0123456789abcdef01234567";
const WRONG_KEY: &str = "ZzZzZzZzZzZzZzZzZzZzZzZz";

/// `y.io` (certbot-plugin-gandi#33), `gg-in.in` (gandi.cli#285), `corp.example` owned by the
/// `acme` organization, an API key of the user (no organization) and a PAT.
fn seed(as_of: Option<&str>) -> String {
    let date = as_of.map_or(String::new(), |d| format!("as_of = \"{d}\"\n"));
    format!(
        r#"{date}
[[domain]]
fqdn = "y.io"
[[domain]]
fqdn = "gg-in.in"
[[domain]]
fqdn = "corp.example"
organization = "acme"
[[domain]]
fqdn = "managed.example"
zone_owner = "registrant"
[[domain]]
fqdn = "legacy.example"
dns = "legacy"

[[credential]]
kind = "v4-key"
secret = "abcdefghij0123456789klmn"

[[credential]]
kind = "apikey"
secret = "{APIKEY}"

[[credential]]
kind = "pat"
secret = "{PAT}"
"#
    )
}

fn mock(as_of: Option<&str>) -> MockGandi {
    MockGandi::builder()
        .seed_text(&seed(as_of))
        .unwrap()
        .start_blocking()
        .unwrap()
}

/// What curl got: status (0 when the transfer failed), body, and curl's exit code.
#[derive(Debug)]
struct Got {
    status: u16,
    body: String,
    exit: i32,
}

/// curl with no proxy setting of the environment; `args` before the URL.
fn curl(args: &[&str], url: &str) -> Got {
    let mut command = Command::new("curl");
    for var in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
        "no_proxy",
        "NO_PROXY",
    ] {
        command.env_remove(var);
    }
    let output = command
        .args(["-q", "-sS", "--max-time", "20", "-w", "\n%{http_code}"])
        .args(args)
        .arg(url)
        .output()
        .expect("curl runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let (body, code) = stdout.rsplit_once('\n').unwrap_or(("", &stdout));
    Got {
        status: code.trim().parse().unwrap_or(0),
        body: body.to_string(),
        exit: output.status.code().unwrap_or(-1),
    }
}

/// A call on the direct listener.
fn call(mock: &MockGandi, method: &str, path: &str, headers: &[String], body: &str) -> Got {
    let mut args = vec!["-X".to_string(), method.to_string()];
    for h in headers {
        args.extend(["-H".to_string(), h.clone()]);
    }
    if !body.is_empty() {
        args.extend([
            "-H".into(),
            "content-type: application/json".into(),
            "--data".into(),
            body.into(),
        ]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    curl(&args, &format!("{}{path}", mock.api_url()))
}

fn key(k: &str) -> Vec<String> {
    vec![format!("X-Api-Key: {k}")]
}

fn authorization(value: &str) -> Vec<String> {
    vec![format!("Authorization: {value}")]
}

const BAD_KEY_SPACED: &str = r#"{"code": 401, "message": "The server could not verify that you authorized to access the document you requested. Either you supplied the wrong credentials (e.g., bad api key), or your access token has expired", "object": "HTTPUnauthorized", "cause": "Unauthorized"}"#;
const FORBIDDEN_SPACED: &str = r#"{"object": "HTTPForbidden", "cause": "Forbidden", "code": 403, "message": "Access was denied to this resource."}"#;

#[test]
fn the_old_host_writes_spaced_json_until_2024_11_and_compact_json_after() {
    // certbot-plugin-gandi#33 (2022-01): a rotated key → `401 264`.
    let then = mock(Some("2022-01"));
    let got = call(&then, "GET", "/api/v5/domains/x.y.io", &key(WRONG_KEY), "");
    assert_eq!((got.status, got.body.as_str()), (401, BAD_KEY_SPACED));
    assert_eq!(got.body.len(), 264);
    // acme.sh (2018-12..2024-01) greps the spaced success body.
    let put = r#"{"rrset_ttl": 300, "rrset_values": ["token"]}"#;
    let got = call(
        &then,
        "PUT",
        "/api/v5/domains/y.io/records/_acme-challenge/TXT",
        &key(APIKEY),
        put,
    );
    assert_eq!(
        (got.status, got.body.as_str()),
        (201, r#"{"message": "DNS Record Created"}"#)
    );
    let got = call(
        &then,
        "GET",
        "/api/v5/domains/y.io/records/_acme-challenge/TXT",
        &key(APIKEY),
        "",
    );
    assert!(got.body.contains(r#""rrset_type": "TXT""#), "{got:?}");
    // The current host is not the old one: compact as ever.
    let apikey = authorization(&format!("Apikey {WRONG_KEY}"));
    let got = call(&then, "GET", "/v5/livedns/domains/y.io", &apikey, "");
    assert_eq!((got.status, got.body.len()), (401, 257), "{got:?}");

    for after in [Some("2024-12"), None] {
        let now = mock(after);
        let got = call(&now, "GET", "/api/v5/domains/x.y.io", &key(WRONG_KEY), "");
        assert_eq!(
            (got.status, got.body.len()),
            (401, 257),
            "{after:?}: {got:?}"
        );
        let got = call(
            &now,
            "PUT",
            "/api/v5/domains/y.io/records/_acme-challenge/TXT",
            &key(APIKEY),
            put,
        );
        assert_eq!(got.body, r#"{"message":"DNS Record Created"}"#, "{after:?}");
    }
}

#[test]
fn before_2025_the_old_host_reads_x_api_key_only_and_refuses_a_bearer_pat_with_a_spaced_403() {
    // ddns-updater#852 (2024-11-05).
    let then = mock(Some("2024-11-05"));
    let bearer = authorization(&format!("Bearer {PAT}"));
    let got = call(
        &then,
        "PUT",
        "/api/v5/domains/y.io/records/www/A",
        &bearer,
        r#"{"rrset_values": ["192.0.2.1"]}"#,
    );
    assert_eq!((got.status, got.body.as_str()), (403, FORBIDDEN_SPACED));
    // dyn-gandi#27 (2021-12): `Authorization: Apikey` alone is no key; with X-Api-Key it works.
    let dec_2021 = mock(Some("2021-12"));
    let apikey = authorization(&format!("Apikey {APIKEY}"));
    let got = call(
        &dec_2021,
        "GET",
        "/api/v5/domains/dontpanic.org",
        &apikey,
        "",
    );
    assert_eq!(got.status, 401, "{got:?}");
    let got = call(&dec_2021, "GET", "/api/v5/domains/y.io", &key(APIKEY), "");
    assert_eq!(got.status, 200, "{got:?}");
    // A day in 2024-12 is still before (the row changes in 2025-01).
    let got = call(
        &mock(Some("2024-12-31")),
        "GET",
        "/api/v5/domains/y.io",
        &apikey,
        "",
    );
    assert_eq!(got.status, 401, "{got:?}");

    for after in [Some("2025-01"), None] {
        let now = mock(after);
        let got = call(&now, "GET", "/api/v5/domains/y.io", &bearer, "");
        assert_eq!(got.status, 200, "{after:?}: {got:?}");
        let got = call(&now, "GET", "/api/v5/domains/y.io", &apikey, "");
        assert_eq!(got.status, 200, "{after:?}: {got:?}");
    }
}

#[test]
fn before_personal_access_tokens_existed_a_bearer_token_is_no_credential() {
    let bearer = authorization(&format!("Bearer {PAT}"));
    let got = call(
        &mock(Some("2019-07")),
        "GET",
        "/v5/livedns/domains/y.io",
        &bearer,
        "",
    );
    assert_eq!(got.status, 401, "{got:?}");
    assert!(
        got.body
            .contains("You must provide an access token or an API Key"),
        "{got:?}"
    );
    let got = call(
        &mock(Some("2023-08-31")),
        "GET",
        "/v5/livedns/domains/y.io",
        &bearer,
        "",
    );
    assert_eq!(got.status, 401, "{got:?}");
    // API keys worked then as now.
    let apikey = authorization(&format!("Apikey {APIKEY}"));
    let got = call(
        &mock(Some("2019-07")),
        "GET",
        "/v5/livedns/domains/y.io",
        &apikey,
        "",
    );
    assert_eq!(got.status, 200, "{got:?}");
    for after in [Some("2023-09"), None] {
        let got = call(&mock(after), "GET", "/v5/livedns/domains/y.io", &bearer, "");
        assert_eq!(got.status, 200, "{after:?}: {got:?}");
    }
}

#[test]
fn until_2022_07_an_old_host_domain_names_its_zone_and_the_zone_has_its_owners_rights() {
    let then = mock(Some("2019-04"));
    let got = call(&then, "GET", "/api/v5/domains/gg-in.in", &key(APIKEY), "");
    assert_eq!(got.status, 200, "{got:?}");
    let body: serde_json::Value = serde_json::from_str(&got.body).unwrap();
    let uuid = body["zone_uuid"].as_str().expect("zone_uuid").to_string();
    let zone = format!("{}/api/v5/zones/{uuid}", then.api_url());
    assert_eq!(body["zone_href"], zone.as_str());
    assert_eq!(
        body["zone_records_href"],
        format!("{zone}/records").as_str()
    );
    assert!(
        got.body.starts_with(r#"{"zone_uuid": ""#),
        "spaced, in gandi.cli#285's order: {got:?}"
    );
    // The zone's records are the domain's.
    let put = r#"{"rrset_ttl": 300, "rrset_values": ["v"]}"#;
    let path = format!("/api/v5/zones/{uuid}/records/_acme-challenge/TXT");
    let got = call(&then, "PUT", &path, &key(APIKEY), put);
    assert_eq!(got.status, 201, "{got:?}");
    let got = call(
        &then,
        "GET",
        "/api/v5/domains/gg-in.in/records/_acme-challenge/TXT",
        &key(APIKEY),
        "",
    );
    assert!(got.body.contains(r#""rrset_values": ["\"v\""]"#), "{got:?}");
    // An unknown zone is not found.
    let got = call(
        &then,
        "GET",
        "/api/v5/zones/00000000-0000-11e9-8000-000000000000/records",
        &key(APIKEY),
        "",
    );
    assert_eq!(got.status, 404, "{got:?}");

    // certbot-plugin-gandi#7: the user's key may edit the organization's domain (with its
    // sharing_id) but not the organization's zone.
    let got = call(
        &then,
        "GET",
        "/api/v5/domains/corp.example?sharing_id=acme",
        &key(APIKEY),
        "",
    );
    let corp: serde_json::Value = serde_json::from_str(&got.body).unwrap();
    let records = corp["zone_records_href"].as_str().unwrap().to_string();
    let zone_path = records.trim_start_matches(&then.api_url()).to_string();
    let got = call(
        &then,
        "PUT",
        &format!("{zone_path}/_acme-challenge/TXT"),
        &key(APIKEY),
        put,
    );
    assert_eq!((got.status, got.body.as_str()), (403, FORBIDDEN_SPACED));
    let got = call(
        &then,
        "PUT",
        "/api/v5/domains/corp.example/records/_acme-challenge/TXT?sharing_id=acme",
        &key(APIKEY),
        put,
    );
    assert_eq!(got.status, 201, "{got:?}");
    // A zone owned by another organization (`zone_owner`) than the domain (none here): the
    // domain's records, yes; its zone, no.
    let got = call(
        &then,
        "GET",
        "/api/v5/domains/managed.example",
        &key(APIKEY),
        "",
    );
    let managed: serde_json::Value = serde_json::from_str(&got.body).unwrap();
    let records = managed["zone_records_href"].as_str().unwrap().to_string();
    let zone_path = records.trim_start_matches(&then.api_url()).to_string();
    let got = call(
        &then,
        "GET",
        &format!("{zone_path}/www/A"),
        &key(APIKEY),
        "",
    );
    assert_eq!(got.status, 403, "{got:?}");
    let got = call(
        &then,
        "PUT",
        "/api/v5/domains/managed.example/records/www/A",
        &key(APIKEY),
        put.replace("\"v\"", "\"192.0.2.1\"").as_str(),
    );
    assert_eq!(got.status, 201, "{got:?}");
    // The last month of the row still has it.
    let got = call(
        &mock(Some("2022-07-31")),
        "GET",
        "/api/v5/domains/gg-in.in",
        &key(APIKEY),
        "",
    );
    assert!(got.body.contains("zone_uuid"), "{got:?}");

    for after in [Some("2022-08"), None] {
        let now = mock(after);
        let got = call(&now, "GET", "/api/v5/domains/gg-in.in", &key(APIKEY), "");
        assert_eq!(got.status, 200, "{after:?}: {got:?}");
        assert!(!got.body.contains("zone"), "{after:?}: {got:?}");
        let got = call(
            &now,
            "GET",
            &format!("/api/v5/zones/{uuid}/records"),
            &key(APIKEY),
            "",
        );
        assert_eq!(got.status, 404, "{after:?}: {got:?}");
        assert!(
            got.body.contains("Cannot GET /api/v5/zones/"),
            "the router's page: {got:?}"
        );
    }
}

/// Through the proxy, to `host`.
fn proxied(mock: &MockGandi, host: &str, path: &str, headers: &[String]) -> Got {
    let proxy = mock.proxy_url();
    let ca = mock.ca_cert_path().to_str().unwrap().to_string();
    let mut args = vec!["--proxy", &proxy, "--cacert", &ca];
    for h in headers {
        args.extend(["-H", h.as_str()]);
    }
    curl(&args, &format!("https://{host}{path}"))
}

#[test]
fn the_beta_host_answers_as_the_old_host_until_2017_09_and_is_refused_after() {
    let then = mock(Some("2017-09-06"));
    let got = proxied(
        &then,
        "dns.beta.gandi.net",
        "/api/v5/domains/y.io",
        &key(APIKEY),
    );
    assert_eq!((got.status, got.exit), (200, 0), "{got:?}");
    assert!(
        got.body
            .contains(r#""domain_href": "https://dns.beta.gandi.net/api/v5/domains/y.io""#),
        "hrefs name the host called, spaced: {got:?}"
    );
    // Only the old host's API lives there.
    let got = proxied(
        &then,
        "dns.beta.gandi.net",
        "/v5/livedns/domains",
        &key(APIKEY),
    );
    assert_eq!(got.status, 404, "{got:?}");

    for after in [Some("2017-10"), None] {
        let now = mock(after);
        let got = proxied(
            &now,
            "dns.beta.gandi.net",
            "/api/v5/domains/y.io",
            &key(APIKEY),
        );
        // curl: "CONNECT tunnel failed, response 403".
        assert_eq!(got.exit, 56, "{after:?}: {got:?}");
        let got = proxied(
            &now,
            "dns.api.gandi.net",
            "/api/v5/domains/y.io",
            &key(APIKEY),
        );
        assert_eq!(got.status, 200, "{after:?}: {got:?}");
    }
}

#[test]
fn the_seed_the_command_line_and_the_admin_api_read_as_of_and_refuse_a_bad_date() {
    // A seed file: the error names the line and the key.
    let text = format!("as_of = \"2019-13\"\n{}", seed(None));
    let e = mock_gandi::Seed::from_toml(&text).unwrap_err().to_string();
    assert!(
        e.contains("line 1") && e.contains("as_of") && e.contains("YYYY-MM"),
        "{e}"
    );
    let e = mock_gandi::Seed::parse(r#"{"as_of": "July 2019"}"#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("as_of: 'July 2019' is not a date"), "{e}");

    // The admin API: a seed with a date makes the mock that Gandi from then on.
    let now = mock(None);
    let admin = |body: &str| {
        curl(
            &["-X", "POST", "--data-binary", body],
            &format!("{}/_mock/seed", now.api_url()),
        )
    };
    let got = admin(r#"{"as_of": "2019-07-0"}"#);
    assert_eq!(got.status, 400, "{got:?}");
    assert!(got.body.contains("as_of"), "{got:?}");
    let got = call(&now, "GET", "/api/v5/domains/y.io", &key(APIKEY), "");
    assert!(
        !got.body.contains("zone_uuid"),
        "a refused seed changed nothing: {got:?}"
    );
    let got = admin("as_of = \"2019-07\"\n");
    assert_eq!(got.status, 200, "{got:?}");
    assert!(got.body.contains(r#""as_of":"2019-07""#), "{got:?}");
    let got = call(&now, "GET", "/api/v5/domains/y.io", &key(APIKEY), "");
    assert!(got.body.contains(r#""zone_uuid": "#), "{got:?}");
    // Fault rules go elsewhere; a date is not one.
    let got = curl(
        &["-X", "POST", "--data-binary", r#"{"as_of": "2019-07"}"#],
        &format!("{}/_mock/faults", now.api_url()),
    );
    assert_eq!(got.status, 400, "{got:?}");
}

#[test]
fn serve_takes_as_of_over_the_seeds_and_refuses_a_bad_date() {
    let dir = tempfile::tempdir().unwrap();
    let seed_path = dir.path().join("seed.toml");
    std::fs::write(&seed_path, seed(Some("2025-06"))).unwrap();
    let seed_arg = seed_path.to_str().unwrap();

    let serve = common::process::serve(&["--seed", seed_arg, "--as-of", "2019-04"]);
    let got = curl(
        &["-H", &format!("X-Api-Key: {APIKEY}")],
        &format!("http://{}/api/v5/domains/y.io", serve.api()),
    );
    assert!(got.body.contains("zone_uuid"), "--as-of wins: {got:?}");
    drop(serve);
    let serve = common::process::serve(&["--seed", seed_arg]);
    let got = curl(
        &["-H", &format!("X-Api-Key: {APIKEY}")],
        &format!("http://{}/api/v5/domains/y.io", serve.api()),
    );
    assert_eq!(got.status, 200, "{got:?}");
    assert!(
        !got.body.contains("zone_uuid"),
        "the seed's 2025-06: {got:?}"
    );
    drop(serve);

    let output = Command::new(env!("CARGO_BIN_EXE_mock-gandi"))
        .args(["serve", "--as-of", "2019-13"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--as-of") && stderr.contains("YYYY-MM or YYYY-MM-DD"),
        "{stderr}"
    );
}

/// The statuses of `n` GETs of the same URL, in one curl run.
fn statuses(mock: &MockGandi, n: usize) -> Vec<u16> {
    let url = format!("{}/api/v5/domains/y.io", mock.api_url());
    let output = Command::new("curl")
        .args(["-q", "-s", "-H", &format!("X-Api-Key: {APIKEY}")])
        .args(["-w", "%{http_code}\\n"])
        // Each URL with its own -o: curl pairs them in order.
        .args((0..n).flat_map(|_| ["-o", "/dev/null", url.as_str()]))
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| l.parse().unwrap())
        .collect()
}

#[test]
fn a_documented_rate_limit_is_30_a_minute_in_the_beta_reference_era_and_1000_after() {
    let limited = |as_of: Option<&str>| {
        let text = format!("{}\n[rate_limit]\ndocumented = true\n", seed(as_of));
        MockGandi::builder()
            .seed_text(&text)
            .unwrap()
            .start_blocking()
            .unwrap()
    };
    let then = statuses(&limited(Some("2021-11")), 31);
    assert!(then[..30].iter().all(|s| *s == 200), "{then:?}");
    assert_eq!(then[30], 429);
    for after in [Some("2021-12"), None] {
        let now = statuses(&limited(after), 31);
        assert!(now.iter().all(|s| *s == 200), "{after:?}: {now:?}");
    }
    // `serve --as-of` decides the era of the seed's documented limit too.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed.toml");
    std::fs::write(
        &path,
        format!("{}\n[rate_limit]\ndocumented = true\n", seed(None)),
    )
    .unwrap();
    let serve = common::process::serve(&["--seed", path.to_str().unwrap(), "--as-of", "2020-05"]);
    let url = format!("http://{}/api/v5/domains/y.io", serve.api());
    let output = Command::new("curl")
        .args(["-q", "-s", "-H", &format!("X-Api-Key: {APIKEY}")])
        .args(["-w", "%{http_code}\\n"])
        .args((0..31).flat_map(|_| ["-o", "/dev/null", url.as_str()]))
        .output()
        .unwrap();
    let codes = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(codes.lines().last(), Some("429"), "{codes}");
}

/// `domain.info` of `fqdn` over XML-RPC: the answer's body.
fn domain_info(mock: &MockGandi, fqdn: &str) -> String {
    let call = format!(
        "<?xml version='1.0'?><methodCall><methodName>domain.info</methodName><params>\
         <param><value><string>abcdefghij0123456789klmn</string></value></param>\
         <param><value><string>{fqdn}</string></value></param></params></methodCall>"
    );
    let got = curl(
        &["-H", "Content-Type: text/xml", "--data-binary", &call],
        &format!("{}/xmlrpc/", mock.api_url()),
    );
    assert_eq!(got.status, 200, "{got:?}");
    got.body
}

/// The `zone_id` member's value, as sent.
fn zone_id(answer: &str) -> &str {
    let after = answer
        .split("<name>zone_id</name>\n")
        .nth(1)
        .expect("a zone_id member");
    after.lines().next().unwrap()
}

#[test]
fn until_2018_03_v4_gives_a_livedns_domain_no_zone_id() {
    for then in ["2017-08", "2018-03"] {
        let mock = mock(Some(then));
        // Python's marshaller writes nil with no line end after it.
        assert_eq!(
            zone_id(&domain_info(&mock, "y.io")),
            "<value><nil/></value></member>",
            "{then}"
        );
        // A domain still on the legacy platform has its zone.
        assert!(
            zone_id(&domain_info(&mock, "legacy.example")).contains("<int>"),
            "{then}"
        );
    }
    for after in [Some("2018-04"), None] {
        let mock = mock(after);
        assert!(
            zone_id(&domain_info(&mock, "y.io")).contains("<int>"),
            "{after:?}"
        );
    }
}
