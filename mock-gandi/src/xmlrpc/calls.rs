//! Typed v4 calls: a [`MethodCall`] checked for arity and parameter types, turned into one
//! variant per method (gandi-wire.md §3.4). The API key, always the first parameter, is split
//! off before this step because Gandi checks it before anything else.

use crate::store::{RecordFilter, RecordInput};

use super::codec::Value;
use super::faults::{Fault, FaultKind};
use super::zone_file;

/// One v4 method with its parameters (the key excluded).
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    DomainInfo {
        fqdn: String,
    },
    /// `domain.list`: `{items_per_page, page}` (Gandi's v4 paging options; page from 0).
    DomainList {
        page: usize,
        per_page: usize,
    },
    ZoneList,
    ZoneInfo {
        zone: i64,
    },
    ZoneClone {
        zone: i64,
        version: i64,
        name: Option<String>,
    },
    ZoneSet {
        fqdn: String,
        zone: i64,
    },
    ZoneDelete {
        zone: i64,
    },
    VersionList {
        zone: i64,
    },
    VersionNew {
        zone: i64,
        from: Option<i64>,
    },
    VersionSet {
        zone: i64,
        version: i64,
    },
    VersionDelete {
        zone: i64,
        version: i64,
    },
    RecordList {
        zone: i64,
        version: i64,
        filter: RecordFilter,
    },
    RecordAdd {
        zone: i64,
        version: i64,
        record: RecordInput,
    },
    RecordDelete {
        zone: i64,
        version: i64,
        filter: RecordFilter,
    },
    RecordUpdate {
        zone: i64,
        version: i64,
        filter: RecordFilter,
        record: RecordInput,
    },
    RecordSet {
        zone: i64,
        version: i64,
        records: Vec<RecordInput>,
    },
    Unknown(String),
}

/// Parameters each method takes after the key: (name, fewest, most).
const ARITY: &[(&str, usize, usize)] = &[
    ("domain.info", 1, 1),
    ("domain.list", 0, 1),
    ("domain.zone.list", 0, 1),
    ("domain.zone.info", 1, 1),
    ("domain.zone.clone", 1, 3),
    ("domain.zone.set", 2, 2),
    ("domain.zone.delete", 1, 1),
    ("domain.zone.version.list", 1, 1),
    ("domain.zone.version.new", 1, 2),
    ("domain.zone.version.set", 2, 2),
    ("domain.zone.version.delete", 2, 2),
    ("domain.zone.record.list", 2, 4),
    ("domain.zone.record.add", 3, 3),
    ("domain.zone.record.delete", 2, 3),
    ("domain.zone.record.update", 4, 4),
    ("domain.zone.record.set", 3, 3),
];

/// True for a method the v4 API has.
pub fn is_known_method(name: &str) -> bool {
    ARITY.iter().any(|(n, _, _)| *n == name)
}

/// The wrong-arity fault for `method` given `given` parameters in all (key included).
pub fn arity_fault(method: &str, given: usize) -> Fault {
    let (min, max) = ARITY
        .iter()
        .find(|(n, _, _)| *n == method)
        .map(|(_, min, max)| (min + 1, max + 1))
        .unwrap_or((1, 1));
    let takes = if min == max {
        min.to_string()
    } else {
        format!("{min} to {max}")
    };
    Fault::new(FaultKind::WrongArity, &[&method, &takes, &given])
}

impl Call {
    /// Builds the call from the method name and the parameters after the key.
    pub fn from_params(method: &str, params: &[Value]) -> Result<Call, Fault> {
        let Some(&(_, min, max)) = ARITY.iter().find(|(n, _, _)| *n == method) else {
            return Ok(Call::Unknown(method.to_owned()));
        };
        if params.len() < min || params.len() > max {
            return Err(arity_fault(method, params.len() + 1));
        }
        let p = |i: usize| params.get(i);
        let call = match method {
            "domain.info" => Call::DomainInfo {
                fqdn: string(&params[0])?,
            },
            "domain.list" => {
                let opts = p(0).map(structure).transpose()?;
                let number = |member: &str, default: i64| -> Result<usize, Fault> {
                    let n = opts.map(|o| optional_int(o, member)).transpose()?.flatten();
                    Ok(usize::try_from(n.unwrap_or(default)).unwrap_or(0))
                };
                Call::DomainList {
                    page: number("page", 0)?,
                    per_page: number("items_per_page", 100)?,
                }
            }
            "domain.zone.list" => {
                if let Some(opts) = p(0) {
                    structure(opts)?;
                }
                Call::ZoneList
            }
            "domain.zone.info" => Call::ZoneInfo {
                zone: int(&params[0])?,
            },
            "domain.zone.clone" => Call::ZoneClone {
                zone: int(&params[0])?,
                version: p(1).map(int).transpose()?.unwrap_or(0),
                name: match p(2) {
                    Some(v) => optional_string(structure(v)?, "name")?,
                    None => None,
                },
            },
            "domain.zone.set" => Call::ZoneSet {
                fqdn: string(&params[0])?,
                zone: int(&params[1])?,
            },
            "domain.zone.delete" => Call::ZoneDelete {
                zone: int(&params[0])?,
            },
            "domain.zone.version.list" => Call::VersionList {
                zone: int(&params[0])?,
            },
            "domain.zone.version.new" => Call::VersionNew {
                zone: int(&params[0])?,
                from: p(1).map(int).transpose()?,
            },
            "domain.zone.version.set" => Call::VersionSet {
                zone: int(&params[0])?,
                version: int(&params[1])?,
            },
            "domain.zone.version.delete" => Call::VersionDelete {
                zone: int(&params[0])?,
                version: int(&params[1])?,
            },
            "domain.zone.record.list" => Call::RecordList {
                zone: int(&params[0])?,
                version: int(&params[1])?,
                filter: match p(2) {
                    Some(v) => filter(v)?,
                    None => RecordFilter::default(),
                },
            },
            "domain.zone.record.add" => Call::RecordAdd {
                zone: int(&params[0])?,
                version: int(&params[1])?,
                record: record(&params[2])?,
            },
            "domain.zone.record.delete" => Call::RecordDelete {
                zone: int(&params[0])?,
                version: int(&params[1])?,
                filter: match p(2) {
                    Some(v) => filter(v)?,
                    None => RecordFilter::default(),
                },
            },
            "domain.zone.record.update" => Call::RecordUpdate {
                zone: int(&params[0])?,
                version: int(&params[1])?,
                filter: filter(&params[2])?,
                record: record(&params[3])?,
            },
            "domain.zone.record.set" => Call::RecordSet {
                zone: int(&params[0])?,
                version: int(&params[1])?,
                records: match &params[2] {
                    Value::Array(items) => items.iter().map(record).collect::<Result<_, _>>()?,
                    // A zone file's text, as Gandi's own CLI sends it.
                    Value::String(text) => zone_file::parse(text)?,
                    other => return Err(wrong_type("array", other)),
                },
            },
            other => Call::Unknown(other.to_owned()),
        };
        Ok(call)
    }
}

fn wrong_type(expected: &str, got: &Value) -> Fault {
    Fault::invalid_input(format!("expected {expected}, got {}", got.type_name()))
}

/// An integer parameter. A `<string>` there, even of digits, is refused the way Gandi refused
/// gandi-automatic-dns's string zone ids (gandi-automatic-dns#17, 2017: `Error on object :
/// OBJECT_ZONE (CAUSE_BADPARAMETER) [invalid method parameter(s)]`); an empty `<int></int>`
/// fails earlier, in the codec, with Python's `int()` message (gandi-automatic-dns#4, #21).
fn int(v: &Value) -> Result<i64, Fault> {
    match v {
        Value::String(_) => Err(Fault::new(FaultKind::InvalidParameters, &[])),
        other => member_int(other),
    }
}

/// An integer struct member: there a string of digits is taken (record ids above 2^31 travel
/// as strings, and the recorded lexicon traffic filters by such an `id`), anything else that
/// is not an int fails with Python's `int()` message.
fn member_int(v: &Value) -> Result<i64, Fault> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Boolean(b) => Ok(i64::from(*b)),
        Value::String(s) => {
            let t = s.trim();
            let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
            if !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit())
                && let Ok(i) = t.parse()
            {
                return Ok(i);
            }
            Err(Fault::invalid_input(format!(
                "invalid literal for int() with base 10: '{s}'"
            )))
        }
        other => Err(wrong_type("int", other)),
    }
}

fn string(v: &Value) -> Result<String, Fault> {
    match v {
        Value::String(s) => Ok(s.clone()),
        other => Err(wrong_type("string", other)),
    }
}

fn structure(v: &Value) -> Result<&Value, Fault> {
    match v {
        Value::Struct(_) => Ok(v),
        other => Err(wrong_type("struct", other)),
    }
}

/// A struct member, `<nil/>` read as absent: Gandi's CLI sends `{'name': None, ...}` for the
/// filters it was not given (gandi.cli 1.6 `gandi record delete`, `allow_none=True`).
fn present<'a>(s: &'a Value, member: &str) -> Option<&'a Value> {
    s.member(member).filter(|v| !matches!(v, Value::Nil))
}

fn optional_string(s: &Value, member: &str) -> Result<Option<String>, Fault> {
    present(s, member).map(string).transpose()
}

fn optional_int(s: &Value, member: &str) -> Result<Option<i64>, Fault> {
    present(s, member).map(member_int).transpose()
}

fn required_string(s: &Value, member: &str) -> Result<String, Fault> {
    optional_string(s, member)?
        .ok_or_else(|| Fault::invalid_input(format!("struct member '{member}' is required")))
}

fn record(v: &Value) -> Result<RecordInput, Fault> {
    let s = structure(v)?;
    Ok(RecordInput {
        name: required_string(s, "name")?,
        rtype: required_string(s, "type")?,
        value: required_string(s, "value")?,
        ttl: optional_int(s, "ttl")?,
    })
}

fn filter(v: &Value) -> Result<RecordFilter, Fault> {
    let s = structure(v)?;
    Ok(RecordFilter {
        name: optional_string(s, "name")?,
        rtype: optional_string(s, "type")?,
        value: optional_string(s, "value")?,
        ttl: optional_int(s, "ttl")?,
        // Ids above 2^31 travel as strings (Gandi sends them so); both forms are accepted.
        id: optional_int(s, "id")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legos_record_add_becomes_a_typed_call() {
        let call = Call::from_params(
            "domain.zone.record.add",
            &[
                Value::Int(7),
                Value::Int(2),
                Value::Struct(vec![
                    ("type".into(), Value::string("TXT")),
                    ("name".into(), Value::string("_acme-challenge")),
                    ("value".into(), Value::string("tok")),
                    ("ttl".into(), Value::Int(300)),
                ]),
            ],
        )
        .unwrap();
        assert_eq!(
            call,
            Call::RecordAdd {
                zone: 7,
                version: 2,
                record: RecordInput {
                    name: "_acme-challenge".into(),
                    rtype: "TXT".into(),
                    value: "tok".into(),
                    ttl: Some(300),
                },
            }
        );
    }

    #[test]
    fn a_string_where_an_int_belongs_is_refused_as_gandi_refused_it() {
        for text in ["", "42"] {
            let err = Call::from_params("domain.zone.info", &[Value::string(text)]).unwrap_err();
            assert_eq!(err.code, 581037);
            assert_eq!(
                err.message,
                "Error on object : OBJECT_ZONE (CAUSE_BADPARAMETER) [invalid method parameter(s)]"
            );
        }
    }

    #[test]
    fn wrong_arity_counts_the_key() {
        let err = Call::from_params("domain.info", &[]).unwrap_err();
        assert_eq!(err.code, 500037);
        assert!(
            err.message
                .contains("method 'domain.info' takes 2 parameters, 1 given")
        );
    }

    #[test]
    fn an_unknown_method_is_a_variant_not_an_error() {
        assert_eq!(
            Call::from_params("domain.nope", &[Value::Nil]),
            Ok(Call::Unknown("domain.nope".into()))
        );
    }
}
