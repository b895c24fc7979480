//! Reading a seed a part at a time, so that a large account (tens of thousands of domains) is
//! never held twice: as the parser's document and as the store. TOML is cut before top-level
//! `[[domain]]` headers and each part parsed alone; JSON is read as one stream whose `domain`
//! list is handed on a few domains at a time. Either way the result is the same as
//! [`Seed::parse`]'s, errors included: when a part fails, or the parts could disagree with the
//! whole (a table given twice), the whole text is parsed again for its exact error.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::seed::{Seed, SeedCredential, SeedDomain, SeedError, first_duplicate};

/// About this many bytes of TOML, or this many JSON domains, make one part.
const TOML_PART_BYTES: usize = 16 * 1024;
const JSON_PART_DOMAINS: usize = 256;

/// What [`each_part`] ends with.
#[derive(Debug)]
pub enum Parts {
    /// Every part was handed over; together they are the seed.
    Done,
    /// The parts could not stand for the whole (a case the cutting does not cover, found
    /// only after some parts were handed over): this is the whole seed, to use instead.
    Whole(Seed),
}

/// Hands `sink` the seed in `text` (TOML or JSON, as [`Seed::parse`] tells them apart) in
/// order, as parts: one of them holds everything that is not a domain, and every part's
/// domains follow the previous part's. On an error nothing is to be kept of what `sink` was given.
pub fn each_part(text: &str, mut sink: impl FnMut(Seed)) -> Result<Parts, SeedError> {
    let mut checked = Checked::default();
    let mut give = |part: Seed| -> bool {
        let ok = checked.take(&part);
        sink(part);
        ok
    };
    let ok = if text.trim_start().starts_with('{') {
        json_parts(text, &mut give)
    } else {
        toml_parts(text, &mut give)
    };
    if ok && first_duplicate(&checked.credentials).is_none() {
        return Ok(Parts::Done);
    }
    // The exact error (or, if the whole parses after all, the whole).
    Seed::parse(text).map(Parts::Whole)
}

/// What must hold across parts: no credential given twice as the same kind, and the tables a
/// seed has once (`rate_limit`, `propagation`) given in one part at most.
#[derive(Default)]
struct Checked {
    credentials: Vec<SeedCredential>,
    rate_limits: usize,
    propagations: usize,
}

impl Checked {
    /// Whether the parts so far can stand for the whole (credentials are checked at the end).
    fn take(&mut self, part: &Seed) -> bool {
        self.credentials.extend(part.credential.iter().cloned());
        self.rate_limits += usize::from(part.rate_limit.is_some());
        self.propagations += usize::from(part.propagation.is_some());
        self.rate_limits <= 1 && self.propagations <= 1
    }
}

/// TOML: cut before each top-level `[[domain]]` header once a part has grown past
/// [`TOML_PART_BYTES`]. A text the cut cannot be sure of (a multi-line string, which could
/// hold such a line; a `domain` key before the first header) is one part. Parts are parsed on
/// as many threads as there are cores (TOML reads at tens of MB/s) and handed on in order.
fn toml_parts(text: &str, give: &mut impl FnMut(Seed) -> bool) -> bool {
    let mut bounds = toml_cuts(text);
    bounds.insert(0, 0);
    bounds.push(text.len());
    let parts: Vec<&str> = bounds.windows(2).map(|w| &text[w[0]..w[1]]).collect();
    let parse = |part: &str| toml::from_str::<Seed>(part).ok();
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(parts.len());
    if workers <= 1 {
        return parts.iter().all(|part| parse(part).is_some_and(&mut *give));
    }
    std::thread::scope(|scope| {
        // Worker `w` parses parts w, w + workers, ...; each holds at most two parsed parts
        // ahead, and stops when its receiver is gone (an error ended the reading).
        let receivers: Vec<_> = (0..workers)
            .map(|w| {
                let (tx, rx) = std::sync::mpsc::sync_channel(2);
                let parts = &parts;
                scope.spawn(move || {
                    for part in parts.iter().skip(w).step_by(workers) {
                        if tx.send(parse(part)).is_err() {
                            break;
                        }
                    }
                });
                rx
            })
            .collect();
        (0..parts.len()).all(|k| {
            receivers[k % workers]
                .recv()
                .ok()
                .flatten()
                .is_some_and(&mut *give)
        })
    })
}

/// Byte offsets where a part may start (each the start of a `[[domain]]` line).
fn toml_cuts(text: &str) -> Vec<usize> {
    if text.len() <= TOML_PART_BYTES || text.contains("\"\"\"") || text.contains("'''") {
        return Vec::new();
    }
    let mut cuts = Vec::new();
    let mut last = 0;
    let mut offset = 0;
    let mut headers = false;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            headers = true;
            if is_domain_header(trimmed) && offset - last >= TOML_PART_BYTES {
                cuts.push(offset);
                last = offset;
            }
        } else if !headers && defines_domain(trimmed) {
            return Vec::new();
        }
        offset += line.len();
    }
    cuts
}

/// `[[domain]]`, `[[ domain ]]`, with or without a comment after it.
fn is_domain_header(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("[[") else {
        return false;
    };
    let Some((inside, after)) = rest.split_once("]]") else {
        return false;
    };
    let after = after.trim_start();
    matches!(inside.trim(), "domain" | "\"domain\"" | "'domain'")
        && (after.is_empty() || after.starts_with('#'))
}

/// A top-level key line that names `domain` (`domain = [...]`, `domain.x = ...`).
fn defines_domain(line: &str) -> bool {
    ["domain", "\"domain\"", "'domain'"].iter().any(|key| {
        line.strip_prefix(key)
            .is_some_and(|rest| matches!(rest.trim_start().chars().next(), Some('=' | '.')))
    })
}

/// JSON: one pass over the text; the `domain` list is handed on [`JSON_PART_DOMAINS`] at a
/// time, everything else in the first part (or the last, when it comes after the domains).
fn json_parts(text: &str, give: &mut impl FnMut(Seed) -> bool) -> bool {
    let mut de = serde_json::Deserializer::from_str(text);
    let ok = de.deserialize_map(SeedVisitor { give }).unwrap_or(false);
    ok && de.end().is_ok()
}

struct SeedVisitor<'g, G> {
    give: &'g mut G,
}

impl<'de, G: FnMut(Seed) -> bool> Visitor<'de> for SeedVisitor<'_, G> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a seed")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        // Everything but the domains, collected as a JSON object and read as a seed at the end.
        let mut rest = serde_json::Map::new();
        let mut domains_seen = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "domain" {
                if domains_seen {
                    return Ok(false);
                }
                domains_seen = true;
                if !map.next_value_seed(DomainsSeed {
                    give: &mut *self.give,
                })? {
                    return Ok(false);
                }
            } else {
                if rest.contains_key(&key) {
                    let _: IgnoredAny = map.next_value()?;
                    return Ok(false);
                }
                let value: serde_json::Value = map.next_value()?;
                rest.insert(key, value);
            }
        }
        match serde_json::from_value::<Seed>(serde_json::Value::Object(rest)) {
            Ok(part) => Ok((self.give)(part)),
            Err(_) => Ok(false),
        }
    }
}

struct DomainsSeed<'g, G> {
    give: &'g mut G,
}

impl<'de, G: FnMut(Seed) -> bool> DeserializeSeed<'de> for DomainsSeed<'_, G> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<bool, D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de, G: FnMut(Seed) -> bool> Visitor<'de> for DomainsSeed<'_, G> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of domains")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let mut part: Vec<SeedDomain> = Vec::with_capacity(JSON_PART_DOMAINS);
        while let Some(domain) = seq.next_element::<SeedDomain>()? {
            part.push(domain);
            if part.len() == JSON_PART_DOMAINS && !(self.give)(domains(&mut part)) {
                return Ok(false);
            }
        }
        Ok(part.is_empty() || (self.give)(domains(&mut part)))
    }
}

fn domains(part: &mut Vec<SeedDomain>) -> Seed {
    Seed {
        domain: std::mem::replace(part, Vec::with_capacity(JSON_PART_DOMAINS)),
        ..Seed::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(text: &str) -> (Seed, usize) {
        let mut whole = Seed::default();
        let mut parts = 0;
        let end = each_part(text, |part| {
            parts += 1;
            whole.domain.extend(part.domain);
            whole.credential.extend(part.credential);
            whole.fault.extend(part.fault);
            whole.dns_fault.extend(part.dns_fault);
            whole.rate_limit = whole.rate_limit.or(part.rate_limit);
            whole.propagation = whole.propagation.take().or(part.propagation);
        })
        .unwrap();
        match end {
            Parts::Done => (whole, parts),
            Parts::Whole(seed) => (seed, 0),
        }
    }

    fn big_toml(domains: usize) -> String {
        let mut text = String::from(
            "[rate_limit]\nrequests = 100\nwindow_seconds = 60\n\n[[credential]]\nkind = \"pat\"\nsecret = \"first\"\n",
        );
        for d in 0..domains {
            text.push_str(&format!(
                "[[domain]] # number {d}\nfqdn = \"d{d}.example.com\"\n"
            ));
            for r in 0..10 {
                text.push_str(&format!(
                    "[[domain.record]]\nname = \"h{r}\"\ntype = \"TXT\"\nvalues = [\"v{d}-{r}\"]\n"
                ));
            }
            if d == domains / 2 {
                text.push_str("[[credential]]\nkind = \"apikey\"\nsecret = \"middle\"\n");
            }
        }
        text
    }

    #[test]
    fn a_large_toml_seed_comes_in_parts_that_make_the_whole() {
        let text = big_toml(3000);
        assert!(text.len() > 4 * TOML_PART_BYTES);
        let (parts_seed, parts) = joined(&text);
        assert!(parts > 4, "{parts} parts");
        assert_eq!(parts_seed, Seed::parse(&text).unwrap());
        let json = serde_json::to_string(&Seed::parse(&text).unwrap()).unwrap();
        let (from_json, parts) = joined(&json);
        assert!(parts > 4, "{parts} parts");
        assert_eq!(from_json, Seed::parse(&text).unwrap());
    }

    #[test]
    fn an_error_in_a_late_part_is_the_whole_parse_s_error() {
        let mut text = big_toml(3000);
        text.push_str("[[domain]]\nfqdn = \"late.example.com\"\nzone = 1\n");
        let whole = Seed::parse(&text).unwrap_err().to_string();
        let parted = each_part(&text, |_| {}).unwrap_err().to_string();
        assert_eq!(parted, whole);
        assert!(parted.contains("zone"), "{parted}");
    }

    #[test]
    fn what_only_the_whole_sees_is_still_an_error() {
        // The same table twice, in two parts; the same secret twice, in two parts.
        let mut twice = big_toml(3000);
        twice.push_str("[rate_limit]\nrequests = 1\nwindow_seconds = 1\n");
        assert_eq!(
            each_part(&twice, |_| {}).unwrap_err().to_string(),
            Seed::parse(&twice).unwrap_err().to_string()
        );
        let mut secret = big_toml(3000);
        secret.push_str("[[credential]]\nkind = \"pat\"\nsecret = \"first\"\n");
        let e = each_part(&secret, |_| {}).unwrap_err().to_string();
        assert_eq!(e, Seed::parse(&secret).unwrap_err().to_string());
        assert!(e.contains("declared twice"), "{e}");
        // In JSON: a key twice.
        let json = format!(
            "{{\"credential\": [], {}, \"credential\": []}}",
            &serde_json::to_string(&Seed::parse(&big_toml(10)).unwrap()).unwrap()[1..]
                .trim_end_matches('}')
        );
        assert_eq!(
            each_part(&json, |_| {}).unwrap_err().to_string(),
            Seed::parse(&json).unwrap_err().to_string()
        );
    }

    #[test]
    fn a_text_the_cut_cannot_be_sure_of_is_one_part() {
        let mut text = big_toml(3000);
        text.push_str(
            "[[domain]]\nfqdn = \"x.example.com\"\norganization = \"\"\"\n[[domain]]\"\"\"\n",
        );
        assert!(toml_cuts(&text).is_empty());
        let (seed, _) = joined(&text);
        assert_eq!(
            seed.domain.last().unwrap().organization.as_deref(),
            Some("[[domain]]")
        );
        assert!(toml_cuts(&format!("domain = []\n{}", big_toml(3000))).is_empty());
        assert!(is_domain_header("[[ domain ]] # c"));
        assert!(!is_domain_header("[[domain.record]]"));
        assert!(defines_domain("domain.fqdn = 'x'") && !defines_domain("domains = 1"));
    }
}
