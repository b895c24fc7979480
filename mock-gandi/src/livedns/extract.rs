//! Reading requests without ever falling back to a framework rejection: paths, query strings
//! and JSON bodies are parsed here, and whatever is malformed becomes an [`ApiError`] with
//! Gandi's shape.

use axum::body::Body;
use serde_json::{Map, Value};

use super::error::{ApiError, FieldError};
use super::paths::{percent_decode, relative_name};
use crate::store::types::{check_ttl, normalize_value};
use crate::store::{DEFAULT_TTL, Fqdn, Invalid, RecordType, RelName, normalize_values};

/// The record types of Gandi's reference: the `rrset_type` enum of its record endpoints and
/// of `GET /dns/rrtypes`, in its order (`https://api.gandi.net/docs/livedns/`). A listing's
/// `?rrset_type=` takes any of them; `GET /dns/rrtypes` lists those of them the mock's store
/// takes ([`rrtypes`]).
pub(crate) const GANDI_RRTYPES: [&str; 25] = [
    "A",
    "AAAA",
    "ALIAS",
    "CAA",
    "CDS",
    "CNAME",
    "DNAME",
    "DS",
    "HTTPS",
    "KEY",
    "LOC",
    "MX",
    "NAPTR",
    "NS",
    "OPENPGPKEY",
    "PTR",
    "RP",
    "SOA",
    "SPF",
    "SRV",
    "SSHFP",
    "SVCB",
    "TLSA",
    "TXT",
    "WKS",
];

/// What `GET /dns/rrtypes` answers: the types of Gandi's list that the mock takes in a write
/// (all but CDS, HTTPS, KEY, LOC, NAPTR, OPENPGPKEY, RP, SOA, SVCB, WKS, which a write refuses
/// with `'X' is not a valid record type`), in the list's order, so that a tool that asks
/// before a typed command learns what it can write here.
pub(crate) fn rrtypes() -> Vec<&'static str> {
    GANDI_RRTYPES
        .into_iter()
        .filter(|t| RecordType::parse(t).is_ok())
        .collect()
}

/// The query parameters the API reads.
#[derive(Debug, Clone, Default)]
pub(crate) struct ListQuery {
    pub sharing_id: Option<String>,
    pub page: Option<usize>,
    pub per_page: Option<usize>,
    /// Records listing: `rrset_type` (one of the record types), `rrset_name` (inferred: the
    /// reference names only `rrset_type`), `sort_by` (checked by the listing that reads it).
    pub rrset_type: Option<String>,
    pub rrset_name: Option<String>,
    pub sort_by: Option<String>,
    /// Snapshots listing: only automatic (`true`) or only manual (`false`) ones.
    pub automatic: Option<bool>,
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
                "rrset_type" if GANDI_RRTYPES.contains(&value.as_ref()) => {
                    out.rrset_type = Some(value.into_owned());
                }
                "rrset_type" => errors.push(one_of(&key, &value, &GANDI_RRTYPES)),
                "rrset_name" => out.rrset_name = Some(value.into_owned()),
                "sort_by" => out.sort_by = Some(value.into_owned()),
                "automatic" => match value.as_ref() {
                    "true" | "1" => out.automatic = Some(true),
                    "false" | "0" => out.automatic = Some(false),
                    _ => errors.push(FieldError::new(
                        "querystring",
                        "automatic",
                        format!("\"{value}\" is neither in (false, 0) nor in (true, 1)"),
                    )),
                },
                // Anything else Gandi does not document; ignored, as its backend does
                // (inferred).
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

/// A value outside an enumeration, in colander's words (`OneOf`), as Gandi's backend reports
/// (inferred: no capture of this error exists; the neighbouring validation texts are
/// colander's, e.g. "60 is less than minimum value 300").
pub(crate) fn one_of(key: &str, value: &str, choices: &[&str]) -> FieldError {
    FieldError::new(
        "querystring",
        key,
        format!("\"{value}\" is not one of {}", choices.join(", ")),
    )
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

/// A JSON value as Python 2's `repr` shows what `json.loads` made of it.
fn python_value(value: &Value) -> String {
    match value {
        Value::String(s) => python_str(s),
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(python_value)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        other => other.to_string(),
    }
}

/// A unicode string as Python 2's `repr` writes it.
fn python_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = format!("u{quote}");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
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
    /// Inside an entry of `items`: Gandi then names the error `items` and echoes the entry.
    in_item: bool,
    /// The record name of the path, for a name-level `PUT`'s items (Gandi echoes it too).
    path_name: Option<&'a str>,
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
            in_item: false,
            path_name: None,
        }
    }

    /// The record name the path gives the items read after this.
    pub(crate) fn with_path_name(mut self, name: &'a str) -> Self {
        self.path_name = Some(name);
        self
    }

    /// A value or a rule broken: inside an entry of `items`, Gandi names the error `items` and
    /// ends its description with the entry as its Python backend saw it (ddclient#257,
    /// octodns#619); elsewhere the error names the field.
    pub(crate) fn fail_rule(&mut self, field: &str, description: &str) {
        if self.in_item {
            let name = self
                .prefix
                .split("items.")
                .next()
                .unwrap_or_default()
                .to_string()
                + "items";
            let text = format!("{description} (param: {})", self.python_repr());
            self.errors.push(FieldError::new("body", name, text));
        } else {
            self.fail(field, description);
        }
    }

    /// The entry as Python 2's `repr` of the dict Gandi validated: the TTL filled with its
    /// default, unicode strings as `u'...'`, in the key orders the quotes show (a name-level
    /// item: values, ttl, name, type, as in ddclient#257; a zone-level one: type, ttl, name,
    /// values, as in octodns#619).
    fn python_repr(&self) -> String {
        let ttl = match self.map.get("rrset_ttl") {
            Some(Value::Number(n)) => n.to_string(),
            Some(other) => python_value(other),
            None => DEFAULT_TTL.to_string(),
        };
        let field = |key: &str| {
            self.map
                .get(key)
                .map(python_value)
                .unwrap_or_else(|| "None".into())
        };
        match self.path_name {
            Some(name) => format!(
                "{{'rrset_values': {}, 'rrset_ttl': {ttl}, u'rrset_name': {}, 'rrset_type': {}}}",
                field("rrset_values"),
                python_str(name),
                field("rrset_type")
            ),
            None => format!(
                "{{'rrset_type': {}, 'rrset_ttl': {ttl}, 'rrset_name': {}, 'rrset_values': {}}}",
                field("rrset_type"),
                field("rrset_name"),
                field("rrset_values")
            ),
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
        self.ttl_named("rrset_ttl")
    }

    /// A TTL in `field`, read and checked as `rrset_ttl` is.
    pub(crate) fn ttl_named(&mut self, field: &str) -> Option<Option<u32>> {
        let Some(value) = self.get(field) else {
            return Some(None);
        };
        let number = match value {
            Value::Number(n) => n.as_i64().or_else(|| n.as_u64().map(|_| i64::MAX)),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        let Some(number) = number else {
            let text = format!("\"{}\" is not a number", brief(value));
            self.fail(field, text);
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
                self.fail(field, d);
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
        self.value_list("rrset_values", value, rtype, non_empty)
    }

    /// An optional list of values (`add_rrset_values`, `remove_rrset_values`): absent is none.
    pub(crate) fn optional_values(
        &mut self,
        field: &str,
        rtype: RecordType,
    ) -> Option<Vec<String>> {
        match self.get(field) {
            None => Some(Vec::new()),
            Some(value) => self.value_list(field, value, Some(rtype), false),
        }
    }

    /// An optional boolean (colander's words for anything else).
    pub(crate) fn boolean(&mut self, field: &str) -> Option<bool> {
        match self.get(field)? {
            Value::Bool(b) => Some(*b),
            other => {
                let text = format!(
                    "\"{}\" is neither in (false, 0) nor in (true, 1)",
                    brief(other)
                );
                self.fail(field, text);
                None
            }
        }
    }

    /// An optional string: `Some(None)` when absent, `None` when not a string.
    pub(crate) fn optional_string(&mut self, field: &str) -> Option<Option<String>> {
        if self.get(field).is_none() {
            return Some(None);
        }
        self.string(field).map(Some)
    }

    fn value_list(
        &mut self,
        field: &str,
        value: &Value,
        rtype: Option<RecordType>,
        non_empty: bool,
    ) -> Option<Vec<String>> {
        let Value::Array(items) = value else {
            let text = format!("\"{}\" is not iterable", brief(value));
            self.fail(field, text);
            return None;
        };
        if non_empty && items.is_empty() {
            self.fail(field, "Shorter than minimum length 1");
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
                        self.fail_rule(field, &e.description);
                        ok = false;
                    }
                    out.push(s.clone());
                }
                other => {
                    let text = format!("\"{}\" is not a string", brief(other));
                    self.fail(&format!("{field}.{i}"), text);
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
            fields.in_item = true;
            fields.path_name = self.path_name;
            match each(&mut fields) {
                Some(t) => out.push(t),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }
}
