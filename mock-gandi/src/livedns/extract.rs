//! Reading requests without ever falling back to a framework rejection: paths, query strings
//! and JSON bodies are parsed here, and whatever is malformed becomes an [`ApiError`] with
//! Gandi's shape.

use std::borrow::Cow;
use std::fmt::Write as _;

use axum::body::Body;
use axum::http::request::Parts;
use serde_json::{Map, Value};

use super::Generation;
use super::error::{ApiError, FieldError};
use crate::state::{Proxied, request_host};
use crate::store::types::{check_ttl, normalize_value};
use crate::store::{DEFAULT_TTL, Fqdn, Invalid, RecordType, RelName, normalize_values};

/// Which resource a path (below the base) names; segments are still percent-encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target<'a> {
    Domains,
    Domain(&'a str),
    Records(&'a str),
    Name(&'a str, &'a str),
    Rrset(&'a str, &'a str, &'a str),
    /// Below `/domains` but no such resource: the backend's 404.
    Unknown,
}

impl<'a> Target<'a> {
    pub(crate) fn parse(path: &'a str) -> Self {
        let mut segments = path.trim_start_matches('/').split('/');
        let mut next = || segments.next();
        let (first, d, records, n, t, rest) = (next(), next(), next(), next(), next(), next());
        match (first, d, records, n, t, rest) {
            (Some("domains"), None, ..) => Self::Domains,
            (Some("domains"), Some(d), None, ..) if !d.is_empty() => Self::Domain(d),
            (Some("domains"), Some(d), Some("records"), None, ..) if !d.is_empty() => {
                Self::Records(d)
            }
            (Some("domains"), Some(d), Some("records"), Some(n), None, _) if !d.is_empty() => {
                Self::Name(d, n)
            }
            (Some("domains"), Some(d), Some("records"), Some(n), Some(t), None)
                if !d.is_empty() =>
            {
                Self::Rrset(d, n, t)
            }
            _ => Self::Unknown,
        }
    }
}

/// Percent-decodes one path or query component; `None` for a bad escape or non-UTF-8 bytes.
/// Text with nothing to decode is borrowed.
pub(crate) fn percent_decode(text: &str, plus_is_space: bool) -> Option<Cow<'_, str>> {
    if !text
        .bytes()
        .any(|b| b == b'%' || (plus_is_space && b == b'+'))
    {
        return Some(Cow::Borrowed(text));
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok().map(Cow::Owned)
}

/// Encodes a record name for an href the way Gandi does (`@` is `%40`): everything but
/// letters, digits and `_.-~` is escaped, as Python's `quote(name, safe="")` does.
pub(crate) fn encode_name(name: &str) -> Cow<'_, str> {
    let plain = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'~');
    if name.bytes().all(plain) {
        return name.into();
    }
    let mut out = String::with_capacity(name.len() + 2);
    for b in name.bytes() {
        if plain(b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out.into()
}

/// The domain named in the path: `None` when it cannot be a domain name at all.
pub(crate) fn path_fqdn(raw: &str) -> Option<Fqdn> {
    Fqdn::parse(&percent_decode(raw, false)?).ok()
}

/// The record name in the path, relative to `zone`.
pub(crate) fn path_name(raw: &str, zone: &str) -> Result<RelName, ApiError> {
    let text = percent_decode(raw, false).ok_or_else(|| {
        ApiError::invalid(
            "path",
            "rrset_name",
            format!("'{raw}' is not valid percent-encoded UTF-8"),
        )
    })?;
    relative_name(&text, zone).map_err(|d| ApiError::invalid("path", "rrset_name", d))
}

/// The record type in the path.
pub(crate) fn path_type(raw: &str) -> Result<RecordType, ApiError> {
    let text = percent_decode(raw, false).ok_or_else(|| {
        ApiError::invalid(
            "path",
            "rrset_type",
            format!("'{raw}' is not valid percent-encoded UTF-8"),
        )
    })?;
    RecordType::parse(&text).map_err(|i| ApiError::invalid("path", "rrset_type", i.description))
}

/// A record name as a client sends it. A name ending in a dot is absolute: Gandi's message
/// for it ("Absolute rrset_name must end with <zone>.") says it is taken when it lies within
/// the zone, so such a name is made relative; any other absolute name is refused.
pub(crate) fn relative_name(text: &str, zone: &str) -> Result<RelName, String> {
    if let Some(absolute) = text.strip_suffix('.') {
        let lower = absolute.to_ascii_lowercase();
        if lower == zone {
            return Ok(RelName::apex());
        }
        return match lower.strip_suffix(zone).and_then(|s| s.strip_suffix('.')) {
            Some(relative) if !relative.is_empty() => {
                RelName::parse(relative).map_err(|i| i.description)
            }
            _ => Err(format!("Absolute rrset_name must end with {zone}.")),
        };
    }
    RelName::parse(text).map_err(|i| i.description)
}

/// The query parameters the API reads.
#[derive(Debug, Clone, Default)]
pub(crate) struct ListQuery {
    pub sharing_id: Option<String>,
    pub page: Option<usize>,
    pub per_page: Option<usize>,
}

/// Items per page when a client asks for a page without saying how many.
const DEFAULT_PER_PAGE: usize = 100;

impl ListQuery {
    pub(crate) fn parse(query: Option<&str>) -> Result<Self, ApiError> {
        let mut out = Self::default();
        let mut errors = Vec::new();
        for pair in query
            .unwrap_or_default()
            .split('&')
            .filter(|p| !p.is_empty())
        {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let (Some(key), Some(value)) = (percent_decode(k, true), percent_decode(v, true))
            else {
                errors.push(FieldError::new(
                    "querystring",
                    k,
                    format!("'{pair}' is not valid percent-encoded UTF-8"),
                ));
                continue;
            };
            match key.as_ref() {
                "sharing_id" => out.sharing_id = Some(value.into_owned()),
                "page" => out.page = positive(&key, &value, &mut errors),
                "per_page" => out.per_page = positive(&key, &value, &mut errors),
                // Filters and sorting Gandi offers are accepted and ignored.
                _ => {}
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(ApiError::Validation(errors))
        }
    }

    /// The slice of `items` the client asked for; every item when it asked for no page.
    pub(crate) fn page<T>(&self, items: Vec<T>) -> Vec<T> {
        if self.page.is_none() && self.per_page.is_none() {
            return items;
        }
        let per_page = self.per_page.unwrap_or(DEFAULT_PER_PAGE);
        let page = self.page.unwrap_or(1);
        items
            .into_iter()
            .skip((page - 1).saturating_mul(per_page))
            .take(per_page)
            .collect()
    }
}

fn positive(key: &str, value: &str, errors: &mut Vec<FieldError>) -> Option<usize> {
    match value.parse::<i64>() {
        Ok(n) if n >= 1 => usize::try_from(n).ok(),
        Ok(n) => {
            errors.push(FieldError::new(
                "querystring",
                key,
                format!("{n} is less than minimum value 1"),
            ));
            None
        }
        Err(_) => {
            errors.push(FieldError::new(
                "querystring",
                key,
                format!("\"{value}\" is not a number"),
            ));
            None
        }
    }
}

/// Scheme, host and base the client used; every href in an answer starts with it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Base<'a> {
    scheme: &'static str,
    host: &'a str,
    prefix: &'static str,
}

impl<'a> Base<'a> {
    pub(crate) fn of(generation: Generation, parts: &'a Parts) -> Self {
        // Through the proxy the client spoke TLS to a Gandi hostname; directly it spoke HTTP.
        let scheme = if parts.extensions.get::<Proxied>().is_some() {
            "https"
        } else {
            "http"
        };
        let host = match request_host(&parts.headers, &parts.uri) {
            "" => "localhost",
            host => host,
        };
        Self {
            scheme,
            host,
            prefix: generation.prefix(),
        }
    }

    pub(crate) fn domain(&self, fqdn: &Fqdn) -> String {
        let Self {
            scheme,
            host,
            prefix,
        } = self;
        format!("{scheme}://{host}{prefix}/domains/{fqdn}")
    }

    pub(crate) fn records(&self, fqdn: &Fqdn) -> String {
        format!("{}/records", self.domain(fqdn))
    }

    pub(crate) fn keys(&self, fqdn: &Fqdn) -> String {
        format!("{}/keys", self.domain(fqdn))
    }

    pub(crate) fn rrset(&self, fqdn: &Fqdn, name: &RelName, rtype: RecordType) -> String {
        let Self {
            scheme,
            host,
            prefix,
        } = self;
        let name = encode_name(name.as_str());
        format!("{scheme}://{host}{prefix}/domains/{fqdn}/records/{name}/{rtype}")
    }
}

/// Reads the whole body, refusing more than `limit` bytes (`Limits::max_body`; real clients
/// send a few hundred).
pub(crate) async fn read_body(body: Body, limit: usize) -> Result<bytes::Bytes, ApiError> {
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::TooLarge)
}

/// The body of a one-rrset `PUT` in the shape clients send: `rrset_ttl` an integer or absent,
/// `rrset_values` a list of strings, any other field ignored.
#[derive(serde::Deserialize)]
struct PlainRrsetBody {
    rrset_ttl: Option<u32>,
    rrset_values: Vec<String>,
}

/// The TTL and the values in the store's form (each once) of a one-rrset `PUT` body in the
/// common shape whose every field is valid for `rtype`, read straight into its fields. `None`
/// for any other body: the general reading ([`json_object`], [`Fields`]) then finds Gandi's
/// errors, or reads the other shapes Gandi takes (a TTL as a string).
pub(crate) fn plain_rrset_body(bytes: &[u8], rtype: RecordType) -> Option<(u32, Vec<String>)> {
    let body: PlainRrsetBody = serde_json::from_slice(bytes).ok()?;
    stored_form(rtype, body.rrset_ttl, &body.rrset_values).ok()
}

/// A one-rrset `PUT`'s TTL (absent: the default) checked and its values in the store's form.
pub(crate) fn stored_form(
    rtype: RecordType,
    ttl: Option<u32>,
    values: &[String],
) -> Result<(u32, Vec<String>), Invalid> {
    Ok((
        check_ttl(ttl.unwrap_or(DEFAULT_TTL))?,
        normalize_values(rtype, values)?,
    ))
}

/// Parses a JSON object body. An empty body is an empty object, so that missing fields are
/// reported as such; anything else that is not a JSON object is a validation error.
pub(crate) fn json_object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        ApiError::invalid(
            "body",
            "",
            format!("Invalid JSON: the body is not UTF-8 ({e})"),
        )
    })?;
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(ApiError::invalid(
            "body",
            "",
            format!("\"{}\" is not a mapping type", brief(&other)),
        )),
        Err(e) => Err(ApiError::invalid("body", "", format!("Invalid JSON: {e}"))),
    }
}

/// A value as an error message shows it: strings bare, anything else as JSON, cut short.
fn brief(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.chars().count() > 60 {
        format!("{}...", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}

/// Field-by-field reading of a JSON object; every problem is collected, as Gandi reports
/// all invalid fields at once.
#[derive(Debug)]
pub(crate) struct Fields<'a> {
    map: &'a Map<String, Value>,
    prefix: String,
    errors: &'a mut Vec<FieldError>,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(
        map: &'a Map<String, Value>,
        prefix: String,
        errors: &'a mut Vec<FieldError>,
    ) -> Self {
        Self {
            map,
            prefix,
            errors,
        }
    }

    fn name(&self, field: &str) -> String {
        format!("{}{field}", self.prefix)
    }

    fn fail(&mut self, field: &str, description: impl Into<String>) {
        let name = self.name(field);
        self.errors
            .push(FieldError::new("body", name, description.into()));
    }

    fn get(&self, field: &str) -> Option<&'a Value> {
        self.map.get(field).filter(|v| !v.is_null())
    }

    fn required(&mut self, field: &str) -> Option<&'a Value> {
        let value = self.get(field);
        if value.is_none() {
            self.fail(field, "Required");
        }
        value
    }

    pub(crate) fn string(&mut self, field: &str) -> Option<String> {
        match self.required(field)? {
            Value::String(s) => Some(s.clone()),
            other => {
                let text = format!("\"{}\" is not a string", brief(other));
                self.fail(field, text);
                None
            }
        }
    }

    pub(crate) fn rrset_name(&mut self, zone: &Fqdn) -> Option<RelName> {
        let text = self.string("rrset_name")?;
        match relative_name(&text, zone.as_str()) {
            Ok(name) => Some(name),
            Err(d) => {
                self.fail("rrset_name", d);
                None
            }
        }
    }

    pub(crate) fn rrset_type(&mut self) -> Option<RecordType> {
        let text = self.string("rrset_type")?;
        match RecordType::parse(&text) {
            Ok(t) => Some(t),
            Err(i) => {
                self.fail("rrset_type", i.description);
                None
            }
        }
    }

    /// `rrset_ttl`: absent means the default. Integers and integer strings are taken.
    /// The outer `None` means invalid.
    pub(crate) fn ttl(&mut self) -> Option<Option<u32>> {
        let Some(value) = self.get("rrset_ttl") else {
            return Some(None);
        };
        let number = match value {
            Value::Number(n) => n.as_i64().or_else(|| n.as_u64().map(|_| i64::MAX)),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        let Some(number) = number else {
            let text = format!("\"{}\" is not a number", brief(value));
            self.fail("rrset_ttl", text);
            return None;
        };
        let clamped = u32::try_from(number.max(0)).unwrap_or(u32::MAX);
        let checked = if number < 0 {
            Err(format!(
                "{number} is less than minimum value {}",
                crate::store::MIN_TTL
            ))
        } else if number > i64::from(u32::MAX) {
            Err(format!(
                "{number} is greater than maximum value {}",
                crate::store::MAX_TTL
            ))
        } else {
            check_ttl(clamped).map_err(|i| i.description)
        };
        match checked {
            Ok(ttl) => Some(Some(ttl)),
            Err(d) => {
                self.fail("rrset_ttl", d);
                None
            }
        }
    }

    /// `rrset_values`: a list of strings, each valid for `rtype` when it is known.
    pub(crate) fn values(
        &mut self,
        rtype: Option<RecordType>,
        non_empty: bool,
    ) -> Option<Vec<String>> {
        let value = self.required("rrset_values")?;
        let Value::Array(items) = value else {
            let text = format!("\"{}\" is not iterable", brief(value));
            self.fail("rrset_values", text);
            return None;
        };
        if non_empty && items.is_empty() {
            self.fail("rrset_values", "Shorter than minimum length 1");
            return None;
        }
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match item {
                Value::String(s) => {
                    if let Some(t) = rtype
                        && let Err(e) = normalize_value(t, s)
                    {
                        self.fail("rrset_values", e.description);
                        ok = false;
                    }
                    out.push(s.clone());
                }
                other => {
                    let text = format!("\"{}\" is not a string", brief(other));
                    self.fail(&format!("rrset_values.{i}"), text);
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    /// `items`: a list of objects, each read by `each` with `items.N.` before its fields.
    pub(crate) fn items<T>(
        &mut self,
        mut each: impl FnMut(&mut Fields<'_>) -> Option<T>,
    ) -> Option<Vec<T>> {
        let value = self.required("items")?;
        let Value::Array(items) = value else {
            let text = format!("\"{}\" is not iterable", brief(value));
            self.fail("items", text);
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let prefix = format!("{}items.{i}.", self.prefix);
            let Value::Object(map) = item else {
                let text = format!("\"{}\" is not a mapping type", brief(item));
                self.fail(&format!("items.{i}"), text);
                ok = false;
                continue;
            };
            let mut fields = Fields::new(map, prefix, self.errors);
            match each(&mut fields) {
                Some(t) => out.push(t),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_their_resources() {
        assert_eq!(Target::parse("/domains"), Target::Domains);
        assert_eq!(Target::parse("/domains/a.b"), Target::Domain("a.b"));
        assert_eq!(
            Target::parse("/domains/a.b/records/%40/A"),
            Target::Rrset("a.b", "%40", "A")
        );
        assert_eq!(Target::parse("/domains/"), Target::Unknown);
        assert_eq!(Target::parse("/domains/a.b/keys"), Target::Unknown);
        assert_eq!(Target::parse("/domains/a.b/records/x/A/y"), Target::Unknown);
    }

    #[test]
    fn percent_decoding_refuses_bad_escapes_and_bad_utf8() {
        assert_eq!(percent_decode("%40", false).as_deref(), Some("@"));
        assert_eq!(percent_decode("a+b", true).as_deref(), Some("a b"));
        assert_eq!(percent_decode("a+b", false).as_deref(), Some("a+b"));
        assert_eq!(percent_decode("%4", false), None);
        assert_eq!(percent_decode("%zz", false), None);
        assert_eq!(percent_decode("%ff", false), None);
    }

    #[test]
    fn the_apex_and_wildcards_are_escaped_in_hrefs() {
        assert_eq!(encode_name("@"), "%40");
        assert_eq!(encode_name("*.www"), "%2A.www");
        assert_eq!(encode_name("_acme-challenge"), "_acme-challenge");
    }

    #[test]
    fn hrefs_are_https_through_the_proxy_and_http_directly() {
        let fqdn = Fqdn::parse("stubber.chat").unwrap();
        let request = |proxied: bool| {
            let mut r = http::Request::builder()
                .uri("/domains")
                .header("host", "api.gandi.net")
                .body(())
                .unwrap();
            if proxied {
                r.extensions_mut().insert(Proxied);
            }
            r.into_parts().0
        };
        assert_eq!(
            Base::of(Generation::Current, &request(true)).domain(&fqdn),
            "https://api.gandi.net/v5/livedns/domains/stubber.chat"
        );
        assert_eq!(
            Base::of(Generation::Old, &request(false)).records(&fqdn),
            "http://api.gandi.net/api/v5/domains/stubber.chat/records"
        );
    }

    #[test]
    fn absolute_names_inside_the_zone_become_relative() {
        assert_eq!(
            relative_name("www.stubber.chat.", "stubber.chat")
                .unwrap()
                .as_str(),
            "www"
        );
        assert!(
            relative_name("stubber.chat.", "stubber.chat")
                .unwrap()
                .is_apex()
        );
        assert_eq!(
            relative_name("www.example.org.", "stubber.chat").unwrap_err(),
            "Absolute rrset_name must end with stubber.chat."
        );
        assert!(relative_name("xstubber.chat.", "stubber.chat").is_err());
    }
}
