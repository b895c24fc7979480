//! The zone as text, both ways: what `GET .../records` (and a snapshot) answers to
//! `Accept: text/plain`, and the zone file a `PUT` or `POST` of `.../records` with
//! `Content-Type: text/plain` sends.
//!
//! The text Gandi writes is one line per value, `name ttl IN type value`, with relative names
//! and no directives, the zone's SOA among the apex's lines in its place in the order
//! (`@ 10800 IN SOA ns1.gandi.net. hostmaster.gandi.net. 197539823 10800 3600 604800 10800`
//! between `@ ... MX` and `blog ... CNAME`: gandi.cli's test fixture of the live answer,
//! `gandi/cli/tests/commands/test_dns.py`). What it reads is "the
//! contents of the zone as it would appear in a standard master zone file (see RFC1035)"
//! (Gandi's reference, `PUT /domains/{fqdn}/records`): the mock reads that shape and the common
//! variants (no TTL, no class, `$TTL` and `$ORIGIN`, comments, absolute names within the zone).
//! An SOA line is read back and left out: gandi.cli exports the text with its SOA and sends an
//! edited file back as the zone ("overwrite current zone content with provided file content",
//! `gandi dns update --file`), so Gandi takes its own SOA line back; the SOA stays LiveDNS's
//! own (inferred: nothing shows an SOA edit through the text taking effect). An SOA line must
//! still be one: at the apex, seven fields, the last five numbers. A line it cannot read is a
//! validation error naming the line (inferred: no capture of Gandi's text).

use std::fmt::Write as _;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, FieldError};
use super::paths::relative_name;
use crate::store::{DEFAULT_TTL, Fqdn, RecordType, RelName, RrSet, soa};

/// True when the client prefers a zone file (`Accept: text/plain`) to JSON: the first of
/// the two its `Accept` headers name, in their order.
pub(super) fn wanted(headers: &HeaderMap) -> bool {
    let items = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','));
    for item in items {
        let media = item.split(';').next().unwrap_or_default().trim();
        if media.eq_ignore_ascii_case("text/plain") {
            return true;
        }
        if media.eq_ignore_ascii_case("application/json") {
            return false;
        }
    }
    false
}

/// True when the body is a zone file (`Content-Type: text/plain`).
pub(super) fn sent(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("text/plain"))
}

/// The rrsets as Gandi writes them: one line per value; the SOA line, when given, before the
/// first rrset that sorts after the apex's SOA (the listing order: name, then type).
pub(super) fn render(rrsets: &[RrSet], soa: Option<&str>) -> String {
    let mut out = String::new();
    let mut soa = soa;
    for r in rrsets {
        let before_soa = r.name.as_str() == "@" && r.rtype.as_str() < "SOA";
        if let (false, Some(line)) = (before_soa, soa) {
            out.push_str(line);
            soa = None;
        }
        for v in &r.values {
            let _ = writeln!(out, "{} {} IN {} {}", r.name, r.ttl, r.rtype, v);
        }
    }
    out.push_str(soa.unwrap_or_default());
    out
}

/// The zone's SOA line as the mock's nameservers serve it (see [`soa`]): the primary is the
/// apex's first NS when the zone writes one (made absolute), else the mock's first nameserver.
pub(super) fn soa_line(zone: &Fqdn, rrsets: &[RrSet], serial: u32) -> String {
    let mname = rrsets
        .iter()
        .find(|r| r.name.as_str() == "@" && r.rtype == RecordType::Ns)
        .and_then(|r| r.values.first())
        .map_or_else(
            || format!("{}.", crate::store::NAMESERVERS[0]),
            |ns| match ns.strip_suffix('.') {
                Some(_) => ns.to_ascii_lowercase(),
                None => format!("{}.{zone}.", ns.to_ascii_lowercase()),
            },
        );
    format!(
        "@ {} IN SOA {mname} {}. {serial} {} {} {} {}\n",
        soa::TTL,
        soa::RNAME,
        soa::REFRESH,
        soa::RETRY,
        soa::EXPIRE,
        soa::MINIMUM
    )
}

/// The zone as text; `soa` is the zone's SOA line ([`soa_line`]), or `None` where the text
/// shows no SOA (a snapshot's: its serial is gone; inferred).
pub(super) fn response(rrsets: &[RrSet], soa: Option<&str>) -> Response {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        render(rrsets, soa),
    )
        .into_response()
}

/// One rrset read from a zone file: name, type, TTL, values in the order of their lines.
pub(super) type TextRrset = (RelName, RecordType, Option<u32>, Vec<String>);

/// Reads a zone file into rrsets (lines of one name and type make one rrset; its TTL is the
/// first line's). Every line that cannot be read is reported, with its number.
pub(super) fn parse(bytes: &[u8], zone: &Fqdn) -> Result<Vec<TextRrset>, ApiError> {
    let text = std::str::from_utf8(bytes).map_err(|_| {
        ApiError::Validation(vec![FieldError::new(
            "body",
            "zone",
            "the zone file is not UTF-8 text".to_string(),
        )])
    })?;
    let mut reader = Reader {
        zone,
        origin: None,
        default_ttl: None,
        last_name: None,
    };
    let mut out: Vec<TextRrset> = Vec::new();
    let mut errors = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        match reader.line(raw) {
            Ok(None) => {}
            Ok(Some((name, rtype, ttl, value))) => {
                match out.iter_mut().find(|r| r.0 == name && r.1 == rtype) {
                    Some(set) => {
                        if !set.3.contains(&value) {
                            set.3.push(value);
                        }
                    }
                    None => out.push((name, rtype, ttl, vec![value])),
                }
            }
            Err(why) => errors.push(FieldError::new(
                "body",
                "zone",
                format!("line {}: {why} ({})", i + 1, raw.trim()),
            )),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// What one line says, in the context of the lines before it.
struct Reader<'a> {
    zone: &'a Fqdn,
    origin: Option<String>,
    default_ttl: Option<u32>,
    /// A line that starts with a blank has the previous line's name (RFC 1035 §5.1).
    last_name: Option<RelName>,
}

type Line = (RelName, RecordType, Option<u32>, String);

impl Reader<'_> {
    fn line(&mut self, raw: &str) -> Result<Option<Line>, String> {
        let content = strip_comment(raw);
        if content.trim().is_empty() {
            return Ok(None);
        }
        if content.contains('(') || content.contains(')') {
            return Err("records continued over several lines are not supported".into());
        }
        let words = words(content);
        let (first_at, first) = words[0];
        if let Some(directive) = first.strip_prefix('$') {
            return self
                .directive(directive, words.get(1).map(|w| w.1))
                .map(|()| None);
        }
        let (name, rest) = if first_at > 0 {
            let name = self.last_name.clone().ok_or("no name before this line")?;
            (name, &words[..])
        } else {
            (self.name(first)?, &words[1..])
        };
        self.last_name = Some(name.clone());
        // `[ttl] [class]` or `[class] [ttl]`, then the type.
        let mut ttl = self.default_ttl;
        let mut i = 0;
        while i < rest.len() && i < 2 {
            let word = rest[i].1;
            if let Ok(n) = word.parse::<u32>() {
                ttl = Some(n);
            } else if !word.eq_ignore_ascii_case("IN") {
                break;
            }
            i += 1;
        }
        let (type_word, value_at) = match (rest.get(i), rest.get(i + 1)) {
            (Some(t), Some(v)) => (t.1.to_ascii_uppercase(), v.0),
            _ => return Err("a record type and a value are expected".into()),
        };
        if type_word == "SOA" {
            return soa_read_back(&name, &content[value_at..]).map(|()| None);
        }
        let rtype = RecordType::parse(&type_word).map_err(|i| i.description)?;
        // The value as written, inner spacing kept (a TXT string's spaces are its own).
        let value = content[value_at..].trim_end().to_string();
        Ok(Some((name, rtype, ttl, value)))
    }

    fn directive(&mut self, directive: &str, value: Option<&str>) -> Result<(), String> {
        let value = value.ok_or_else(|| format!("${directive} needs a value"))?;
        match directive.to_ascii_uppercase().as_str() {
            "TTL" => {
                self.default_ttl = Some(value.parse().map_err(|_| format!("bad $TTL {value}"))?);
            }
            "ORIGIN" => {
                let origin = value.trim_end_matches('.').to_ascii_lowercase();
                if origin != self.zone.as_str() && !origin.ends_with(&format!(".{}", self.zone)) {
                    return Err(format!("$ORIGIN {value} is outside the zone"));
                }
                self.origin = Some(origin);
            }
            _ => return Err(format!("unknown directive ${directive}")),
        }
        Ok(())
    }

    /// A name relative to `$ORIGIN` (the zone by default), or absolute within the zone.
    fn name(&self, word: &str) -> Result<RelName, String> {
        let zone = self.zone.as_str();
        match (&self.origin, word) {
            (_, w) if w.ends_with('.') => relative_name(w, zone),
            (Some(origin), "@") if origin != zone => relative_name(&format!("{origin}."), zone),
            (Some(origin), w) if origin != zone => relative_name(&format!("{w}.{origin}."), zone),
            (_, w) => RelName::parse(w).map_err(|i| i.description),
        }
    }
}

/// An SOA line as Gandi writes it, read back and left out: at the apex, `mname rname serial
/// refresh retry expire minimum`.
fn soa_read_back(name: &RelName, rdata: &str) -> Result<(), String> {
    if name.as_str() != "@" {
        return Err("an SOA record is only at the apex".into());
    }
    let fields: Vec<&str> = rdata.split_whitespace().collect();
    let numbers = fields.get(2..).unwrap_or_default();
    if fields.len() != 7 || numbers.iter().any(|n| n.parse::<u32>().is_err()) {
        return Err("an SOA record is `mname rname serial refresh retry expire minimum`".into());
    }
    Ok(())
}

/// The words of a line, each with its byte offset.
fn words(line: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((s, &line[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &line[s..]));
    }
    out
}

/// The line without its comment (`;` outside a quoted string).
fn strip_comment(line: &str) -> &str {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => return &line[..i],
            _ => {}
        }
    }
    line
}

/// The TTL a zone file gives an rrset, the default when it gives none.
pub(super) fn ttl_or_default(ttl: Option<u32>) -> u32 {
    ttl.unwrap_or(DEFAULT_TTL)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone() -> Fqdn {
        Fqdn::parse("stubber.chat").unwrap()
    }

    fn names(sets: &[TextRrset]) -> Vec<String> {
        sets.iter()
            .map(|(n, t, ttl, v)| format!("{n} {t} {ttl:?} {v:?}"))
            .collect()
    }

    #[test]
    fn what_gandi_writes_reads_back_as_the_same_rrsets() {
        let sets = vec![
            RrSet {
                name: RelName::parse("@").unwrap(),
                rtype: RecordType::Mx,
                ttl: 10800,
                values: vec![
                    "10 spool.mail.gandi.net.".into(),
                    "50 fb.mail.gandi.net.".into(),
                ],
            },
            RrSet {
                name: RelName::parse("_acme-challenge").unwrap(),
                rtype: RecordType::Txt,
                ttl: 300,
                values: vec!["\"a; b\"".into()],
            },
        ];
        let text = render(&sets, Some(&soa_line(&zone(), &sets, 7)));
        let read = parse(text.as_bytes(), &zone()).unwrap();
        assert_eq!(read.len(), 2);
        for (set, (name, rtype, ttl, values)) in sets.iter().zip(&read) {
            assert_eq!((&set.name, set.rtype, Some(set.ttl)), (name, *rtype, *ttl));
            assert_eq!(&set.values, values);
        }
    }

    #[test]
    fn directives_comments_classes_and_absolute_names_are_read() {
        let text = "$TTL 600\n; a comment\n@ IN SOA ns1.gandi.net. hostmaster.gandi.net. 1 2 3 4 5\nwww.stubber.chat. A 192.0.2.1 ; home\n  3600 IN AAAA 2001:db8::1\n$ORIGIN sub.stubber.chat.\nx 300 IN TXT \"v\"\n";
        let read = parse(text.as_bytes(), &zone()).unwrap();
        assert_eq!(
            names(&read),
            [
                "www A Some(600) [\"192.0.2.1\"]",
                "www AAAA Some(3600) [\"2001:db8::1\"]",
                "x.sub TXT Some(300) [\"\\\"v\\\"\"]",
            ]
        );
    }

    #[test]
    fn a_line_that_cannot_be_read_is_named_with_its_number() {
        let text =
            "www 300 IN A 192.0.2.1\nwww 300 IN BOGUS x\nother.example. 300 IN A 192.0.2.2\nlone\n";
        let Err(ApiError::Validation(errors)) = parse(text.as_bytes(), &zone()) else {
            panic!("refused");
        };
        let descriptions: Vec<&str> = errors.iter().map(|e| e.description.as_str()).collect();
        assert_eq!(descriptions.len(), 3, "{descriptions:?}");
        assert!(descriptions[0].starts_with("line 2: "), "{descriptions:?}");
        assert!(descriptions[1].starts_with("line 3: "), "{descriptions:?}");
        assert!(descriptions[2].starts_with("line 4: "), "{descriptions:?}");
    }
}
