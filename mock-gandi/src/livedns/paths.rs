//! Paths: which resource a path below a base names, its segments decoded and checked, and
//! the hrefs answers give back.

use std::borrow::Cow;
use std::fmt::Write as _;

use axum::http::request::Parts;

use super::Generation;
use super::error::ApiError;
use crate::state::{Proxied, request_host};
use crate::store::{Fqdn, RecordType, RelName};

/// Which resource a path (below the base) names; segments are still percent-encoded.
/// Every route of Gandi's LiveDNS reference (`https://api.gandi.net/docs/livedns/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target<'a> {
    Domains,
    Domain(&'a str),
    Records(&'a str),
    Name(&'a str, &'a str),
    Rrset(&'a str, &'a str, &'a str),
    /// `/domains/{fqdn}/nameservers`.
    Nameservers(&'a str),
    Snapshots(&'a str),
    Snapshot(&'a str, &'a str),
    /// DNSSEC keys: `/domains/{fqdn}/keys[/{id}]`.
    Keys(&'a str),
    Key(&'a str, &'a str),
    /// Zone transfer: `/domains/{fqdn}/axfr/slaves[/{ip}]`, `/domains/{fqdn}/axfr/tsig[/{id}]`.
    Slaves(&'a str),
    Slave(&'a str, &'a str),
    DomainTsigs(&'a str),
    DomainTsig(&'a str, &'a str),
    /// `/dns/rrtypes`.
    RrTypes,
    /// TSIG keys: `/axfr/tsig[/{id}[/config/{software}]]`.
    Tsigs,
    Tsig(&'a str),
    TsigConfig(&'a str, &'a str),
    /// `/nameservers/{fqdn}`: the generic (hashed) nameservers, without authentication.
    GenericNameservers(&'a str),
    /// Below a base but no such resource: the backend's 404.
    Unknown,
}

impl<'a> Target<'a> {
    pub(crate) fn parse(path: &'a str) -> Self {
        // At most six segments; one more is no resource.
        let mut s = [""; 7];
        let mut n = 0;
        for segment in path.trim_start_matches('/').split('/') {
            if n == s.len() {
                return Self::Unknown;
            }
            s[n] = segment;
            n += 1;
        }
        match s[..n] {
            ["domains"] => Self::Domains,
            ["domains", d, ref rest @ ..] if !d.is_empty() => Self::of_domain(d, rest),
            ["dns", "rrtypes"] => Self::RrTypes,
            ["axfr", "tsig"] => Self::Tsigs,
            ["axfr", "tsig", id] if !id.is_empty() => Self::Tsig(id),
            ["axfr", "tsig", id, "config", software] if !id.is_empty() => {
                Self::TsigConfig(id, software)
            }
            ["nameservers", d] if !d.is_empty() => Self::GenericNameservers(d),
            _ => Self::Unknown,
        }
    }

    /// A resource of one domain: what follows `/domains/{d}`.
    fn of_domain(d: &'a str, rest: &[&'a str]) -> Self {
        match rest {
            [] => Self::Domain(d),
            ["records"] => Self::Records(d),
            ["records", n] => Self::Name(d, n),
            ["records", n, t] => Self::Rrset(d, n, t),
            ["nameservers"] => Self::Nameservers(d),
            ["snapshots"] => Self::Snapshots(d),
            ["snapshots", id] if !id.is_empty() => Self::Snapshot(d, id),
            ["keys"] => Self::Keys(d),
            ["keys", id] if !id.is_empty() => Self::Key(d, id),
            ["axfr", "slaves"] => Self::Slaves(d),
            ["axfr", "slaves", ip] if !ip.is_empty() => Self::Slave(d, ip),
            ["axfr", "tsig"] => Self::DomainTsigs(d),
            ["axfr", "tsig", id] if !id.is_empty() => Self::DomainTsig(d, id),
            _ => Self::Unknown,
        }
    }

    /// The methods the resource answers, as `Allow` lists them.
    pub(crate) fn allow(&self) -> Option<&'static str> {
        Some(match self {
            Self::Domains | Self::Snapshots(_) | Self::Keys(_) | Self::Tsigs => "GET, POST",
            Self::Domain(_) => "GET, PATCH",
            Self::Records(_) | Self::Name(..) => "DELETE, GET, POST, PUT",
            Self::Rrset(..) => "DELETE, GET, PATCH, POST, PUT",
            Self::Snapshot(..) | Self::Key(..) => "DELETE, GET, PATCH",
            Self::Slave(..) | Self::DomainTsig(..) => "DELETE, PUT",
            Self::Nameservers(_)
            | Self::Slaves(_)
            | Self::DomainTsigs(_)
            | Self::RrTypes
            | Self::Tsig(_)
            | Self::TsigConfig(..)
            | Self::GenericNameservers(_) => "GET",
            Self::Unknown => return None,
        })
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

    /// The base itself (`https://api.gandi.net/v5/livedns`): account-level resources hang
    /// below it.
    pub(crate) fn root(&self) -> String {
        let Self {
            scheme,
            host,
            prefix,
        } = self;
        format!("{scheme}://{host}{prefix}")
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
        assert_eq!(Target::parse("/domains/a.b/keys"), Target::Keys("a.b"));
        assert_eq!(
            Target::parse("/domains/a.b/snapshots/x"),
            Target::Snapshot("a.b", "x")
        );
        assert_eq!(Target::parse("/domains/a.b/snapshots/"), Target::Unknown);
        assert_eq!(
            Target::parse("/domains/a.b/axfr/slaves/192.0.2.1"),
            Target::Slave("a.b", "192.0.2.1")
        );
        assert_eq!(Target::parse("/dns/rrtypes"), Target::RrTypes);
        assert_eq!(
            Target::parse("/axfr/tsig/k/config/bind"),
            Target::TsigConfig("k", "bind")
        );
        assert_eq!(
            Target::parse("/nameservers/a.b"),
            Target::GenericNameservers("a.b")
        );
        assert_eq!(Target::parse("/dns"), Target::Unknown);
        assert_eq!(Target::parse("/zones"), Target::Unknown);
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
