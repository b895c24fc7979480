//! What the recorder removes from an exchange before it is written: every secret, replaced by a
//! placeholder that names its kind, and the account's own ids (sharing ids, organization and
//! user ids), replaced by placeholders kept the same across the recording.
//!
//! A secret is learned where a client presents it (the `Authorization` and `X-Api-Key` headers,
//! the first parameter of every v4 XML-RPC call, a `Cookie`), then replaced wherever it appears
//! in the exchange: headers, URL, request body and the answer (a fault may quote the key it
//! refused). The placeholder has the secret's length (a refusal by pattern or length reads the
//! same), is made of lower-case letters and digits only, and numbers the secrets of a kind in
//! the order they were first sent: `recordedpat0…01`, `recordedpat0…02`.

use crate::replay::Exchange;
use serde_json::Value as Json;

use crate::xmlrpc::{Value, parse_method_call};

/// The kinds of secret a client sends to Gandi.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `Authorization: Bearer …` (a personal access token).
    Pat,
    /// `Authorization: Apikey …` or `X-Api-Key: …` (a LiveDNS API key).
    ApiKey,
    /// The first parameter of a v4 XML-RPC call (the v4 API key).
    V4Key,
    /// Any other `Authorization` (Basic, …) or a `Cookie`.
    Other,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Kind::Pat => "recordedpat",
            Kind::ApiKey => "recordedapikey",
            Kind::V4Key => "recordedvfourkey",
            Kind::Other => "recordedsecret",
        }
    }
}

/// Members whose value is an account's own id wherever they appear in a JSON answer.
const ID_MEMBERS: &[&str] = &["sharing_id", "organization_id", "user_id", "customer_id"];
/// Shorter strings are replaced only where they were presented, never throughout: replacing a
/// two-letter "secret" everywhere would garble the recording.
const MIN_GLOBAL: usize = 6;

/// The secrets and ids learned so far, each with its placeholder.
#[derive(Debug, Default)]
pub struct Scrubber {
    secrets: Vec<(Kind, String, String)>,
    ids: Vec<(String, String)>,
}

impl Scrubber {
    /// The placeholder of `secret` (learned now if new).
    fn secret(&mut self, kind: Kind, secret: &str) -> String {
        if let Some((_, _, p)) = self.secrets.iter().find(|(_, s, _)| s == secret) {
            return p.clone();
        }
        let n = self.secrets.iter().filter(|(k, _, _)| *k == kind).count() + 1;
        let prefix = kind.prefix();
        let digits = n.to_string();
        let zeros = secret
            .len()
            .saturating_sub(prefix.len() + digits.len())
            .max(1);
        let placeholder = format!("{prefix}{}{digits}", "0".repeat(zeros));
        self.secrets
            .push((kind, secret.to_string(), placeholder.clone()));
        // Longest first: a secret that contains another is replaced whole.
        self.secrets
            .sort_by_key(|(_, s, _)| std::cmp::Reverse(s.len()));
        placeholder
    }

    /// The placeholder of an account id (learned now if new): uuid-shaped for a uuid.
    fn id(&mut self, id: &str) -> String {
        if let Some((_, p)) = self.ids.iter().find(|(i, _)| i == id) {
            return p.clone();
        }
        let n = self.ids.len() + 1;
        let uuid_shaped = id.len() == 36 && id.matches('-').count() == 4;
        let placeholder = if uuid_shaped {
            format!("00000000-0000-4000-8000-{n:012}")
        } else {
            format!("recorded-account-id-{n}")
        };
        self.ids.push((id.to_string(), placeholder.clone()));
        self.ids.sort_by_key(|(i, _)| std::cmp::Reverse(i.len()));
        placeholder
    }

    /// Every secret and id of the exchange replaced; what was presented is learned first.
    pub fn scrub(&mut self, mut w: Exchange) -> Exchange {
        for (name, value) in &mut w.headers {
            let lower = name.to_ascii_lowercase();
            *value = match lower.as_str() {
                "authorization" | "proxy-authorization" => {
                    let (scheme, token) = value.split_once(' ').unwrap_or(("", value));
                    let kind = match scheme.to_ascii_lowercase().as_str() {
                        "bearer" => Kind::Pat,
                        "apikey" => Kind::ApiKey,
                        _ => Kind::Other,
                    };
                    let token = token.trim();
                    if token.is_empty() {
                        // A bare scheme or a bare token: the whole value is the secret.
                        self.secret(Kind::Other, value)
                    } else {
                        format!("{scheme} {}", self.secret(kind, token))
                    }
                }
                "x-api-key" => self.secret(Kind::ApiKey, value.trim()),
                "cookie" => self.secret(Kind::Other, value),
                _ => continue,
            };
        }
        if path_of(&w.url).starts_with("/xmlrpc")
            && let Some(key) = v4_key(&w.body)
        {
            self.secret(Kind::V4Key, &key);
        }
        if let Some((base, query)) = w.url.split_once('?') {
            let pairs: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some(("sharing_id", v)) if !v.is_empty() => {
                        format!("sharing_id={}", self.id(v))
                    }
                    _ => pair.to_string(),
                })
                .collect();
            w.url = format!("{base}?{}", pairs.join("&"));
        }
        if let Ok(json) = serde_json::from_str::<Json>(&w.response_body) {
            let organization = path_of(&w.url).starts_with("/v5/organization");
            self.learn_ids(&json, organization, 0);
        }
        for (name, value) in &mut w.response_headers {
            if name.eq_ignore_ascii_case("set-cookie") {
                *value = "(removed by mock-gandi record)".into();
            }
        }
        let replace = |text: &mut String, this: &Scrubber| {
            for (_, secret, placeholder) in &this.secrets {
                if secret.len() >= MIN_GLOBAL && text.contains(secret.as_str()) {
                    *text = text.replace(secret.as_str(), placeholder);
                }
            }
            for (id, placeholder) in &this.ids {
                if id.len() >= MIN_GLOBAL && text.contains(id.as_str()) {
                    *text = text.replace(id.as_str(), placeholder);
                }
            }
        };
        replace(&mut w.url, self);
        replace(&mut w.body, self);
        replace(&mut w.response_body, self);
        for (_, value) in w.headers.iter_mut().chain(w.response_headers.iter_mut()) {
            replace(value, self);
        }
        // A short v4 key is replaced where it was sent, at least.
        if path_of(&w.url).starts_with("/xmlrpc")
            && let Some(key) = v4_key(&w.body).filter(|k| k.len() < MIN_GLOBAL)
        {
            let placeholder = self.secret(Kind::V4Key, &key);
            w.body = w.body.replacen(&key, &placeholder, 1);
        }
        w
    }

    fn learn_ids(&mut self, json: &Json, organization: bool, depth: usize) {
        match json {
            Json::Object(members) => {
                for (name, value) in members {
                    let is_id = ID_MEMBERS.contains(&name.as_str())
                        // An organization's own id, at the top or in a listing.
                        || (organization && depth <= 1 && name == "id");
                    match value {
                        Json::String(s) if is_id && !s.is_empty() => {
                            self.id(s);
                        }
                        Json::Object(_) if name == "sharing_space" => {
                            if let Some(Json::String(s)) = value.get("id") {
                                self.id(s);
                            }
                        }
                        _ => self.learn_ids(value, organization, depth + 1),
                    }
                }
            }
            Json::Array(items) => {
                for item in items {
                    self.learn_ids(item, organization, depth);
                }
            }
            _ => {}
        }
    }
}

/// The path of a URL (without scheme, host and query).
fn path_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.find('/').map_or("/", |i| &rest[i..]);
    path.split_once('?').map_or(path, |(p, _)| p)
}

/// The first parameter of a v4 call: its key. When the body is not a well-formed call, the
/// text of its first `<param>` is taken, so a malformed call still loses its key.
fn v4_key(body: &str) -> Option<String> {
    if let Ok(call) = parse_method_call(body.as_bytes()) {
        return match call.params.first() {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            _ => None,
        };
    }
    let start = body.find("<param>")? + "<param>".len();
    let end = body[start..].find("</param>")? + start;
    let mut text = String::new();
    let mut in_tag = false;
    for c in body[start..end].chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(url: &str, headers: &[(&str, &str)], body: &str, answer: &str) -> Exchange {
        Exchange {
            method: "POST".into(),
            url: url.into(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: body.into(),
            status: 200,
            response_headers: vec![],
            response_body: answer.into(),
        }
    }

    #[test]
    fn each_kind_gets_its_own_placeholder_the_same_each_time() {
        let mut s = Scrubber::default();
        let pat = "0123456789abcdef0123456789abcdef01234567";
        let a = s.scrub(exchange(
            "https://api.gandi.net/v5/livedns/domains",
            &[("authorization", &format!("Bearer {pat}"))],
            "",
            &format!("{{\"echo\": \"{pat}\"}}"),
        ));
        let b = s.scrub(exchange(
            "https://api.gandi.net/v5/livedns/domains",
            &[("authorization", &format!("Bearer {pat}"))],
            "",
            "",
        ));
        assert_eq!(a.headers, b.headers);
        let placeholder = "recordedpat00000000000000000000000000001";
        assert_eq!(placeholder.len(), pat.len());
        assert_eq!(a.headers[0].1, format!("Bearer {placeholder}"));
        assert_eq!(a.response_body, format!("{{\"echo\": \"{placeholder}\"}}"));
        let c = s.scrub(exchange(
            "https://dns.api.gandi.net/api/v5/domains",
            &[
                ("x-api-key", "abcdefghij0123456789abcd"),
                ("authorization", "Basic dXNlcjpwYXNzd29yZA=="),
            ],
            "",
            "",
        ));
        assert_eq!(c.headers[0].1, "recordedapikey0000000001");
        assert_eq!(c.headers[1].1, "Basic recordedsecret000001");
        let d = s.scrub(exchange(
            "https://api.gandi.net/v5/livedns/domains",
            &[("authorization", "Bearer another-token-0123")],
            "",
            "",
        ));
        assert_eq!(d.headers[0].1, "Bearer recordedpat0000002");
    }

    #[test]
    fn a_v4_key_is_replaced_in_the_call_and_in_the_fault_that_quotes_it() {
        let mut s = Scrubber::default();
        let key = "0123456789abcdef0123456789abcdef01234567";
        let body = crate::xmlrpc::encode_method_call(
            "domain.info",
            &[Value::string(key), Value::string("example.com")],
        );
        let w = s.scrub(exchange(
            "https://rpc.gandi.net/xmlrpc/",
            &[],
            &body,
            &format!("<fault>string '{key}' does not match</fault>"),
        ));
        assert!(
            !w.body.contains(key) && !w.response_body.contains(key),
            "{w:?}"
        );
        assert!(w.body.contains("recordedvfourkey0"), "{}", w.body);
        assert!(w.body.contains("example.com"));
        // Malformed: the first param's text still goes.
        let w = s.scrub(exchange(
            "https://rpc.gandi.net/xmlrpc/",
            &[],
            "<methodCall><params><param><value>sekrit-v4-key</value></param><oops",
            "",
        ));
        assert!(!w.body.contains("sekrit-v4-key"), "{}", w.body);
    }

    #[test]
    fn account_ids_are_replaced_consistently() {
        let mut s = Scrubber::default();
        let org = "3f2a1b4c-1111-2222-3333-444455556666";
        let w = s.scrub(exchange(
            "https://api.gandi.net/v5/organization/user-info",
            &[],
            "",
            &format!("{{\"id\": \"{org}\", \"username\": \"someone\"}}"),
        ));
        assert_eq!(
            w.response_body,
            "{\"id\": \"00000000-0000-4000-8000-000000000001\", \"username\": \"someone\"}"
        );
        let w = s.scrub(exchange(
            &format!("https://api.gandi.net/v5/livedns/domains?sharing_id={org}"),
            &[],
            "",
            "",
        ));
        assert_eq!(
            w.url,
            "https://api.gandi.net/v5/livedns/domains?sharing_id=00000000-0000-4000-8000-000000000001"
        );
    }
}
