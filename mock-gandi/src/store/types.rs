//! Validated values of the zone store: names, record types, TTLs and record values.
//!
//! Every value that reaches the store goes through one of these constructors, so the APIs
//! and the DNS server can rely on them without checking again.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

/// Why a value was refused. `field` names the API field the caller sent it in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {description}")]
pub struct Invalid {
    pub field: &'static str,
    pub description: String,
}

impl Invalid {
    pub fn new(field: &'static str, description: impl Into<String>) -> Self {
        Self {
            field,
            description: description.into(),
        }
    }
}

/// Smallest TTL Gandi accepts, on every API.
pub const MIN_TTL: u32 = 300;
/// Largest TTL LiveDNS accepts (30 days).
pub const MAX_TTL: u32 = 2_592_000;
/// TTL LiveDNS gives an rrset written without `rrset_ttl`.
pub const DEFAULT_TTL: u32 = 10_800;

/// `text` in lowercase, borrowed when it is already.
fn lowercase(text: &str) -> std::borrow::Cow<'_, str> {
    if text.bytes().any(|b| b.is_ascii_uppercase()) {
        text.to_ascii_lowercase().into()
    } else {
        text.into()
    }
}

fn valid_label(label: &str, allow_star: bool) -> bool {
    if label.is_empty() || label.len() > 63 {
        return false;
    }
    if allow_star && label == "*" {
        return true;
    }
    label
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A domain name in canonical form: lowercase, no trailing dot.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Fqdn(String);

impl Fqdn {
    /// Accepts a trailing dot and any case.
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let trimmed = lowercase(text.strip_suffix('.').unwrap_or(text));
        if trimmed.is_empty() || trimmed.len() > 253 {
            return Err(Invalid::new(
                "fqdn",
                format!("'{text}' is not a valid domain name"),
            ));
        }
        if !trimmed.split('.').all(|l| valid_label(l, false)) {
            return Err(Invalid::new(
                "fqdn",
                format!("'{text}' is not a valid domain name"),
            ));
        }
        Ok(Self(trimmed.into_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when `self` is `zone` or below it.
    pub fn is_within(&self, zone: &Fqdn) -> bool {
        self.0 == zone.0
            || (self.0.len() > zone.0.len()
                && self.0.ends_with(&zone.0)
                && self.0.as_bytes()[self.0.len() - zone.0.len() - 1] == b'.')
    }

    /// The name relative to `zone` (`@` for the apex), if `self` is within it.
    pub fn relative_to(&self, zone: &Fqdn) -> Option<RelName> {
        if self.0 == zone.0 {
            return Some(RelName::apex());
        }
        if !self.is_within(zone) {
            return None;
        }
        Some(RelName(self.0[..self.0.len() - zone.0.len() - 1].into()))
    }
}

impl fmt::Display for Fqdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Fqdn {
    type Error = Invalid;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Fqdn> for String {
    fn from(value: Fqdn) -> Self {
        value.0
    }
}

/// A name relative to a zone: `@` for the apex, else one or more labels (`_acme-challenge`,
/// `*.www`). Stored lowercase, once: a clone (the rrset map's key, the rrset, a legacy
/// record) shares the text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RelName(std::sync::Arc<str>);

impl RelName {
    pub fn apex() -> Self {
        Self("@".into())
    }

    /// A name ending in a dot is absolute and refused here: LiveDNS answers 400 for it.
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let lower = lowercase(text);
        if lower == "@" {
            return Ok(Self::apex());
        }
        if lower.is_empty() || lower.len() > 253 || lower.ends_with('.') {
            return Err(Invalid::new(
                "rrset_name",
                format!("'{text}' is not a valid record name"),
            ));
        }
        let ok = lower
            .split('.')
            .enumerate()
            .all(|(i, l)| valid_label(l, i == 0));
        if !ok {
            return Err(Invalid::new(
                "rrset_name",
                format!("'{text}' is not a valid record name"),
            ));
        }
        Ok(Self(lower.as_ref().into()))
    }

    pub fn is_apex(&self) -> bool {
        &*self.0 == "@"
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The absolute name within `zone`.
    pub fn absolute(&self, zone: &Fqdn) -> Fqdn {
        if self.is_apex() {
            zone.clone()
        } else {
            Fqdn(format!("{}.{}", self.0, zone.0))
        }
    }
}

impl fmt::Display for RelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for RelName {
    type Error = Invalid;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<RelName> for String {
    fn from(value: RelName) -> Self {
        value.0.to_string()
    }
}

macro_rules! record_types {
    ($($variant:ident => $text:literal),+ $(,)?) => {
        /// The record types LiveDNS accepts.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub enum RecordType { $($variant),+ }

        impl RecordType {
            pub const ALL: &'static [RecordType] = &[$(RecordType::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $(RecordType::$variant => $text),+ }
            }

            /// Case-sensitive, as Gandi's paths and bodies are.
            pub fn parse(text: &str) -> Result<Self, Invalid> {
                match text {
                    $($text => Ok(RecordType::$variant),)+
                    _ => Err(Invalid::new("rrset_type", format!("'{text}' is not a valid record type"))),
                }
            }
        }
    };
}

record_types! {
    A => "A",
    Aaaa => "AAAA",
    Alias => "ALIAS",
    Caa => "CAA",
    Cname => "CNAME",
    Dname => "DNAME",
    Ds => "DS",
    Mx => "MX",
    Ns => "NS",
    Ptr => "PTR",
    Spf => "SPF",
    Srv => "SRV",
    Sshfp => "SSHFP",
    Tlsa => "TLSA",
    Txt => "TXT",
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for RecordType {
    type Error = Invalid;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<RecordType> for String {
    fn from(value: RecordType) -> Self {
        value.as_str().to_string()
    }
}

/// Checks a TTL against Gandi's bounds.
pub fn check_ttl(ttl: u32) -> Result<u32, Invalid> {
    if ttl < MIN_TTL {
        return Err(Invalid::new(
            "rrset_ttl",
            format!("{ttl} is less than minimum value {MIN_TTL}"),
        ));
    }
    if ttl > MAX_TTL {
        return Err(Invalid::new(
            "rrset_ttl",
            format!("{ttl} is greater than maximum value {MAX_TTL}"),
        ));
    }
    Ok(ttl)
}

fn valid_hostname(text: &str) -> bool {
    let t = text.strip_suffix('.').unwrap_or(text);
    t == "@"
        || (!t.is_empty()
            && t.len() <= 253
            && t.split('.')
                .enumerate()
                .all(|(i, l)| valid_label(l, i == 0)))
}

fn fields(text: &str) -> Vec<&str> {
    text.split_ascii_whitespace().collect()
}

/// Quotes a TXT value the way LiveDNS stores it: values already in quotes stay as they are.
pub fn quote_txt(value: &str) -> String {
    if value.len() >= 2 && value.starts_with('"') && value.ends_with('"') {
        return value.to_string();
    }
    let escapes = value.bytes().filter(|b| matches!(b, b'\\' | b'"')).count();
    let mut out = String::with_capacity(value.len() + escapes + 2);
    out.push('"');
    if escapes == 0 {
        out.push_str(value);
    } else {
        for c in value.chars() {
            if matches!(c, '\\' | '"') {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out.push('"');
    out
}

/// Splits a stored TXT value (`"a" "b"`, or unquoted text) into its character strings.
pub fn txt_strings(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = value.chars().peekable();
    let mut unquoted = String::new();
    while let Some(c) = chars.next() {
        if c == '"' {
            let mut s = String::new();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            s.push(n);
                        }
                    }
                    '"' => break,
                    _ => s.push(c),
                }
            }
            out.push(s);
        } else if !c.is_whitespace() {
            unquoted.push(c);
            while let Some(&n) = chars.peek() {
                if n.is_whitespace() {
                    break;
                }
                unquoted.push(n);
                chars.next();
            }
            out.push(std::mem::take(&mut unquoted));
        }
    }
    if out.is_empty() {
        out.push(String::new());
    }
    out
}

/// Validates each value for `rtype` and returns them in the form the store keeps, each once
/// (the first of equal ones), in order.
pub fn normalize_values(rtype: RecordType, values: &[String]) -> Result<Vec<String>, Invalid> {
    let mut normalized: Vec<String> = Vec::with_capacity(values.len());
    for v in values {
        let v = normalize_value(rtype, v)?;
        if !normalized.contains(&v) {
            normalized.push(v);
        }
    }
    Ok(normalized)
}

/// Validates one value for `rtype` and returns it in the form the store keeps.
pub fn normalize_value(rtype: RecordType, value: &str) -> Result<String, Invalid> {
    let bad = || {
        Invalid::new(
            "rrset_values",
            format!("'{value}' is not a valid {} value", rtype.as_str()),
        )
    };
    // ddclient#257 quotes Gandi's words for an A value that is no address; AAAA's are
    // inferred to be the same.
    let not_an_ip = || Invalid::new("rrset_values", format!("'{value}': must be an IP address"));
    let value_trimmed = value.trim();
    match rtype {
        RecordType::A => value_trimmed
            .parse::<Ipv4Addr>()
            .map(|a| a.to_string())
            .map_err(|_| not_an_ip()),
        RecordType::Aaaa => value_trimmed
            .parse::<Ipv6Addr>()
            .map(|a| a.to_string())
            .map_err(|_| not_an_ip()),
        RecordType::Cname
        | RecordType::Alias
        | RecordType::Dname
        | RecordType::Ns
        | RecordType::Ptr => {
            if valid_hostname(value_trimmed) {
                Ok(value_trimmed.to_string())
            } else {
                Err(bad())
            }
        }
        RecordType::Mx => match fields(value_trimmed).as_slice() {
            [prio, host] if prio.parse::<u16>().is_ok() && valid_hostname(host) => {
                Ok(format!("{prio} {host}"))
            }
            _ => Err(bad()),
        },
        RecordType::Srv => match fields(value_trimmed).as_slice() {
            [p, w, port, target]
                if p.parse::<u16>().is_ok()
                    && w.parse::<u16>().is_ok()
                    && port.parse::<u16>().is_ok()
                    && valid_hostname(target) =>
            {
                Ok(format!("{p} {w} {port} {target}"))
            }
            _ => Err(bad()),
        },
        RecordType::Caa => {
            let mut parts = value_trimmed.splitn(3, ' ');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(flags), Some(tag), Some(val))
                    if flags.parse::<u8>().is_ok()
                        && !tag.is_empty()
                        && tag.bytes().all(|b| b.is_ascii_alphanumeric()) =>
                {
                    Ok(format!("{flags} {tag} {}", quote_txt(val.trim())))
                }
                _ => Err(bad()),
            }
        }
        RecordType::Txt | RecordType::Spf => {
            if value.is_empty() || value.len() > 65_000 {
                Err(bad())
            } else {
                Ok(quote_txt(value))
            }
        }
        RecordType::Ds | RecordType::Sshfp | RecordType::Tlsa => {
            let f = fields(value_trimmed);
            let numeric_head =
                f.len() >= 3 && f[..f.len() - 1].iter().all(|x| x.parse::<u16>().is_ok());
            let hex_tail = f
                .last()
                .is_some_and(|x| x.bytes().all(|b| b.is_ascii_hexdigit()));
            if numeric_head && hex_tail {
                Ok(f.join(" "))
            } else {
                Err(bad())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fqdn_is_lowercased_and_loses_its_trailing_dot() {
        assert_eq!(
            Fqdn::parse("Stubber.CHAT.").unwrap().as_str(),
            "stubber.chat"
        );
        assert!(Fqdn::parse("").is_err());
        assert!(Fqdn::parse("a..b").is_err());
        assert!(Fqdn::parse("bad name.com").is_err());
    }

    #[test]
    fn relative_names_come_from_absolute_ones() {
        let zone = Fqdn::parse("stubber.chat").unwrap();
        let name = Fqdn::parse("_acme-challenge.stubber.chat").unwrap();
        assert_eq!(name.relative_to(&zone).unwrap().as_str(), "_acme-challenge");
        assert!(zone.relative_to(&zone).unwrap().is_apex());
        assert!(
            Fqdn::parse("xstubber.chat")
                .unwrap()
                .relative_to(&zone)
                .is_none()
        );
    }

    #[test]
    fn a_relative_name_ending_in_a_dot_is_refused() {
        assert!(RelName::parse("www.stubber.chat.").is_err());
        assert!(RelName::parse("*.www").is_ok());
        assert!(RelName::parse("www.*").is_err());
    }

    #[test]
    fn txt_values_are_quoted_once() {
        assert_eq!(normalize_value(RecordType::Txt, "abc").unwrap(), "\"abc\"");
        // Quotes and backslashes inside are escaped, as LiveDNS stores them.
        assert_eq!(quote_txt(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(quote_txt(""), "\"\"");
        assert_eq!(
            normalize_value(RecordType::Txt, "\"abc\"").unwrap(),
            "\"abc\""
        );
        assert_eq!(txt_strings("\"a b\" \"c\\\"d\""), vec!["a b", "c\"d"]);
        assert_eq!(txt_strings("plain"), vec!["plain"]);
    }

    #[test]
    fn values_are_checked_per_type() {
        assert!(normalize_value(RecordType::A, "192.0.2.1").is_ok());
        assert!(normalize_value(RecordType::A, "::1").is_err());
        assert!(normalize_value(RecordType::Aaaa, "2001:db8::1").is_ok());
        assert_eq!(
            normalize_value(RecordType::Mx, "10   mail.example.com.").unwrap(),
            "10 mail.example.com."
        );
        assert!(normalize_value(RecordType::Mx, "mail.example.com.").is_err());
        assert!(normalize_value(RecordType::Srv, "0 5 5060 sip.example.com.").is_ok());
        assert!(normalize_value(RecordType::Srv, "0 5 sip.example.com.").is_err());
        assert_eq!(
            normalize_value(RecordType::Caa, "0 issue letsencrypt.org").unwrap(),
            "0 issue \"letsencrypt.org\""
        );
    }

    #[test]
    fn ttl_bounds_are_gandis() {
        assert!(check_ttl(299).is_err());
        assert!(check_ttl(300).is_ok());
        assert!(check_ttl(2_592_000).is_ok());
        assert!(check_ttl(2_592_001).is_err());
    }
}
