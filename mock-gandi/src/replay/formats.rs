//! Recorded exchanges from three formats, into one [`Exchange`] list:
//! - vcrpy cassettes (YAML, `interactions:`), what dns-lexicon, certbot plugins and many Python
//!   projects record with;
//! - HAR (JSON, `log.entries`), what browsers and mitmproxy export;
//! - JSON lines, one exchange per line (docs/replay.md defines it): the plain format to write by
//!   hand or from any other tool.

use std::path::Path;

use serde::Deserialize;
use serde_json::Value as Json;

/// One recorded request and the answer the real service gave to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    pub method: String,
    /// The full URL the client used (`https://api.gandi.net/v5/livedns/domains/x`).
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub status: u16,
    pub response_headers: Vec<(String, String)>,
    pub response_body: String,
}

/// Headers as an [`Exchange`] holds them: name and value as text, in order (a value that is
/// not UTF-8 lossily).
pub(crate) fn header_pairs<'a>(
    headers: impl IntoIterator<Item = (&'a http::HeaderName, &'a http::HeaderValue)>,
) -> Vec<(String, String)> {
    headers
        .into_iter()
        .map(|(n, v)| (n.to_string(), String::from_utf8_lossy(v.as_bytes()).into()))
        .collect()
}

impl Exchange {
    /// The first value of a request header (names compared without case).
    pub fn header(&self, name: &str) -> Option<&str> {
        find(&self.headers, name)
    }

    /// The first value of a response header.
    pub fn response_header(&self, name: &str) -> Option<&str> {
        find(&self.response_headers, name)
    }

    /// The URL without scheme and host: `/v5/livedns/domains/x?sharing_id=y`.
    pub fn path_and_query(&self) -> &str {
        let rest = self.url.split_once("://").map_or(&*self.url, |(_, r)| r);
        rest.find('/').map_or("/", |i| &rest[i..])
    }

    /// The path alone.
    pub fn path(&self) -> &str {
        let p = self.path_and_query();
        p.split_once('?').map_or(p, |(p, _)| p)
    }

    /// The host the client named.
    pub fn host(&self) -> &str {
        let rest = self.url.split_once("://").map_or(&*self.url, |(_, r)| r);
        rest.split(['/', '?']).next().unwrap_or_default()
    }

    /// Whether the client spoke TLS (an `https://` URL).
    pub fn https(&self) -> bool {
        self.url.starts_with("https://")
    }
}

fn find<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Reads a file in whichever of the three formats it is: `.jsonl` / `.ndjson` are JSON lines,
/// `.har` is HAR, anything else is tried as a vcrpy cassette (YAML or its JSON serializer).
pub fn load(path: &Path) -> Result<Vec<Exchange>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    match ext.as_str() {
        "jsonl" | "ndjson" => jsonl(&text),
        "har" => har(&text),
        _ => cassette(&text),
    }
}

/// A vcrpy cassette: `interactions: [{request: {body, headers, method, uri}, response: {body:
/// {string}, headers, status: {code}}}]`. Header values are lists (vcrpy) or strings.
pub fn cassette(text: &str) -> Result<Vec<Exchange>, String> {
    #[derive(Deserialize)]
    struct Cassette {
        interactions: Vec<Interaction>,
    }
    #[derive(Deserialize)]
    struct Interaction {
        request: Request,
        response: Response,
    }
    #[derive(Deserialize)]
    struct Request {
        #[serde(default)]
        body: Option<Body>,
        #[serde(default)]
        headers: std::collections::BTreeMap<String, Values>,
        method: String,
        uri: String,
    }
    #[derive(Deserialize)]
    struct Response {
        #[serde(default)]
        body: Option<Body>,
        #[serde(default)]
        headers: std::collections::BTreeMap<String, Values>,
        status: Status,
    }
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Body {
        Text(String),
        Wrapped { string: Option<String> },
    }
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Values {
        Many(Vec<String>),
        One(String),
    }
    #[derive(Deserialize)]
    struct Status {
        code: u16,
    }
    fn body(b: Option<Body>) -> String {
        match b {
            Some(Body::Text(t)) | Some(Body::Wrapped { string: Some(t) }) => t,
            _ => String::new(),
        }
    }
    fn headers(h: std::collections::BTreeMap<String, Values>) -> Vec<(String, String)> {
        h.into_iter()
            .flat_map(|(name, values)| {
                let values = match values {
                    Values::Many(v) => v,
                    Values::One(v) => vec![v],
                };
                values.into_iter().map(move |v| (name.clone(), v))
            })
            .collect()
    }
    let cassette: Cassette = yaml_serde::from_str(text).map_err(|e| format!("{e}"))?;
    Ok(cassette
        .interactions
        .into_iter()
        .map(|i| Exchange {
            method: i.request.method,
            url: i.request.uri,
            headers: headers(i.request.headers),
            body: body(i.request.body),
            status: i.response.status.code,
            response_headers: headers(i.response.headers),
            response_body: body(i.response.body),
        })
        .collect())
}

/// HAR 1.2: `log.entries[].request{method, url, headers[{name, value}], postData{text}}` and
/// `response{status, headers, content{text}}`.
pub fn har(text: &str) -> Result<Vec<Exchange>, String> {
    let doc: Json = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let entries = doc
        .pointer("/log/entries")
        .and_then(Json::as_array)
        .ok_or("no log.entries: not a HAR file")?;
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let at = |what: &str| format!("log.entries[{i}]: no {what}");
            let s = |p: &str| e.pointer(p).and_then(Json::as_str).map(str::to_string);
            Ok(Exchange {
                method: s("/request/method").ok_or_else(|| at("request.method"))?,
                url: s("/request/url").ok_or_else(|| at("request.url"))?,
                headers: har_headers(e.pointer("/request/headers")),
                body: s("/request/postData/text").unwrap_or_default(),
                status: e
                    .pointer("/response/status")
                    .and_then(Json::as_u64)
                    .and_then(|n| u16::try_from(n).ok())
                    .ok_or_else(|| at("response.status"))?,
                response_headers: har_headers(e.pointer("/response/headers")),
                response_body: s("/response/content/text").unwrap_or_default(),
            })
        })
        .collect()
}

fn har_headers(list: Option<&Json>) -> Vec<(String, String)> {
    list.and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(|h| Some((h["name"].as_str()?.into(), h["value"].as_str()?.into())))
        .collect()
}

/// JSON lines: one exchange per line,
/// `{"request": {"method", "url", "headers": {name: value}, "body"}, "response": {"status",
/// "headers", "body"}}`; `headers` and `body` optional; blank lines and lines starting with
/// `#` are skipped. An error names the line.
pub fn jsonl(text: &str) -> Result<Vec<Exchange>, String> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Line {
        request: Request,
        response: Response,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Request {
        method: String,
        url: String,
        #[serde(default)]
        headers: std::collections::BTreeMap<String, String>,
        #[serde(default)]
        body: String,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Response {
        status: u16,
        #[serde(default)]
        headers: std::collections::BTreeMap<String, String>,
        #[serde(default)]
        body: String,
    }
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|(n, l)| {
            let line: Line = serde_json::from_str(l).map_err(|e| format!("line {}: {e}", n + 1))?;
            Ok(Exchange {
                method: line.request.method,
                url: line.request.url,
                headers: line.request.headers.into_iter().collect(),
                body: line.request.body,
                status: line.response.status,
                response_headers: line.response.headers.into_iter().collect(),
                response_body: line.response.body,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cassette_in_both_vcr_styles_reads_the_same() {
        let block = "interactions:\n- request:\n    body: '{}'\n    headers:\n      Accept:\n      - application/json\n    method: GET\n    uri: https://api.gandi.net/v5/livedns/domains/t18s.fr?x=1\n  response:\n    body:\n      string: '{\"fqdn\":\"t18s.fr\"}'\n    headers:\n      Content-Type:\n      - application/json\n    status:\n      code: 200\n      message: OK\n";
        let flow = "interactions:\n- request:\n    body: '{}'\n    headers:\n      Accept: [application/json]\n    method: GET\n    uri: https://api.gandi.net/v5/livedns/domains/t18s.fr?x=1\n  response:\n    body: {string: '{\"fqdn\":\"t18s.fr\"}'}\n    headers:\n      Content-Type: [application/json]\n    status: {code: 200, message: OK}\n";
        let a = cassette(block).unwrap();
        assert_eq!(a, cassette(flow).unwrap());
        assert_eq!(a[0].path(), "/v5/livedns/domains/t18s.fr");
        assert_eq!(a[0].path_and_query(), "/v5/livedns/domains/t18s.fr?x=1");
        assert_eq!(a[0].host(), "api.gandi.net");
        assert_eq!(
            a[0].response_header("content-type"),
            Some("application/json")
        );
        assert_eq!(a[0].response_body, r#"{"fqdn":"t18s.fr"}"#);
    }

    #[test]
    fn har_and_jsonl_read_into_the_same_exchange() {
        let har_text = r#"{"log": {"entries": [{"request": {"method": "DELETE", "url": "https://api.gandi.net/v5/livedns/domains/a.fr/records/x/TXT", "headers": [{"name": "Authorization", "value": "Bearer k"}]}, "response": {"status": 204, "headers": [], "content": {"text": ""}}}]}}"#;
        let line = r#"{"request": {"method": "DELETE", "url": "https://api.gandi.net/v5/livedns/domains/a.fr/records/x/TXT", "headers": {"Authorization": "Bearer k"}}, "response": {"status": 204}}"#;
        assert_eq!(
            har(har_text).unwrap(),
            jsonl(&format!("# a comment\n\n{line}\n")).unwrap()
        );
    }

    #[test]
    fn errors_name_the_line_or_the_entry() {
        let e = jsonl("\n{\"request\": {}}\n").unwrap_err();
        assert!(e.starts_with("line 2: "), "{e}");
        let e = har(r#"{"log": {"entries": [{"request": {"url": "x"}}]}}"#).unwrap_err();
        assert!(e.contains("log.entries[0]: no request.method"), "{e}");
        assert!(cassette("interactions: 3").is_err());
    }
}
