//! The zone text `domain.zone.record.set` also takes in place of an array of records: Gandi's
//! own CLI sends a file's content there (Gandi/gandi.cli 1.6, `gandi record update --file`,
//! modules/record.py `zone_update`), in the `name TTL IN TYPE value` lines its `gandi record
//! list --output` writes. What else Gandi's parser took is not known (inferred: comments
//! after `;`, a `$TTL` line, the TTL and the class optional).

use crate::store::RecordInput;

use super::faults::{Fault, FaultKind};

/// The records of a zone text, in order.
pub(super) fn parse(text: &str) -> Result<Vec<RecordInput>, Fault> {
    let mut default_ttl = None;
    let mut records = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
            continue;
        }
        let bad = |why: &str| {
            Fault::new(
                FaultKind::InvalidRecord,
                &[&format!("zone file line {}: {why}: '{line}'", n + 1)],
            )
        };
        if let Some(ttl) = line.strip_prefix("$TTL") {
            default_ttl = Some(ttl.trim().parse().map_err(|_| bad("bad $TTL"))?);
            continue;
        }
        if line.starts_with('$') {
            return Err(bad("unsupported directive"));
        }
        let mut rest = line;
        let mut token = || {
            let t = rest.split_whitespace().next()?;
            let at = rest.find(t)? + t.len();
            rest = rest[at..].trim_start();
            Some(t)
        };
        let name = token().ok_or_else(|| bad("no name"))?.to_string();
        let mut next = token().ok_or_else(|| bad("no type"))?;
        let mut ttl = default_ttl;
        if next.bytes().all(|b| b.is_ascii_digit()) {
            ttl = Some(next.parse().map_err(|_| bad("bad TTL"))?);
            next = token().ok_or_else(|| bad("no type"))?;
        }
        if next.eq_ignore_ascii_case("IN") {
            next = token().ok_or_else(|| bad("no type"))?;
        }
        let rtype = next.to_ascii_uppercase();
        if rest.is_empty() {
            return Err(bad("no value"));
        }
        records.push(RecordInput {
            name,
            rtype,
            value: rest.to_string(),
            ttl,
        });
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lines_gandi_cli_writes_are_read_back() {
        let text = "@ 10800 IN A 192.0.2.10\n; a comment\n\n\
                    _acme-challenge 300 IN TXT \"a b; c\"\nwww IN CNAME @\n";
        let records = parse(text).unwrap();
        assert_eq!(records.len(), 3);
        assert_eq!(records[0].name, "@");
        assert_eq!(records[0].ttl, Some(10800));
        assert_eq!(records[1].value, "\"a b; c\"");
        assert_eq!(records[2].rtype, "CNAME");
        assert_eq!(records[2].ttl, None);
    }

    #[test]
    fn a_line_without_a_value_names_its_line() {
        let err = parse("@ 300 IN A 192.0.2.1\nwww 300 IN A\n").unwrap_err();
        assert_eq!(err.code, 582037);
        assert!(err.message.contains("zone file line 2"), "{}", err.message);
    }
}
