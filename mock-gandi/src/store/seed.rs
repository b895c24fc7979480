//! The seed format: what a store starts with, read from TOML (seed files, scenario files'
//! `[gandi]` table) or JSON (`POST /_mock/seed`). Unknown keys are errors; values are
//! validated while they are read, so a TOML error names the line of the offending table.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::permissions::Permission;
use super::types::{Fqdn, Invalid, RecordType, RelName, check_ttl, normalize_value};

/// Which platform serves a domain's DNS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DnsMode {
    #[default]
    Livedns,
    Legacy,
}

/// The three kinds of Gandi credentials (gandi-wire.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CredentialKind {
    /// Personal access token: current LiveDNS, `Authorization: Bearer`.
    #[serde(rename = "pat")]
    Pat,
    /// LiveDNS API key: `X-Api-Key` (old host) or `Authorization: Apikey` (current host).
    #[serde(rename = "apikey")]
    ApiKey,
    /// Legacy v4 XML-RPC key.
    #[serde(rename = "v4-key")]
    V4Key,
}

impl CredentialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Pat => "pat",
            CredentialKind::ApiKey => "apikey",
            CredentialKind::V4Key => "v4-key",
        }
    }
}

/// A whole seed. Every list may be empty.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    /// Gandi as of this date (`YYYY-MM` or `YYYY-MM-DD`; see `crate::era`); none: today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<crate::era::AsOf>,
    #[serde(default)]
    pub domain: Vec<SeedDomain>,
    #[serde(default)]
    pub credential: Vec<SeedCredential>,
    /// Fault rules: requests the mock answers otherwise (see `crate::faults`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fault: Vec<super::FaultRule>,
    /// DNS fault rules: queries the nameserver answers otherwise (see `crate::dns`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns_fault: Vec<super::DnsFaultRule>,
    /// Requests a window admits before 429 (see `store::rate`); none: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<super::RateLimit>,
    /// DNS lagging behind the APIs (see `store::lag`); none: DNS serves each write at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub propagation: Option<super::Propagation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedDomain {
    pub fqdn: Fqdn,
    #[serde(default)]
    pub dns: DnsMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    #[serde(default)]
    pub record: Vec<SeedRecord>,
    /// `false`: DNS serves the zone but the account does not hold the domain (a zone delegated
    /// elsewhere, or another account's): both APIs answer "unknown domain" for it.
    #[serde(default = "yes", skip_serializing_if = "Clone::clone")]
    pub account: bool,
    /// LiveDNS's automatic snapshots, taken before each change of the records (Gandi's
    /// default: on).
    #[serde(default = "yes", skip_serializing_if = "Clone::clone")]
    pub automatic_snapshots: bool,
    /// The nameservers the registry delegates the domain to (default: Gandi's for its `dns`);
    /// any that is not Gandi's makes the mock's DNS refuse the zone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nameservers: Vec<String>,
    /// In the zones era (`as_of` until 2022-07, see `crate::era`): the organization that owns
    /// the domain's zone, when it is not the domain's own; a credential of another
    /// organization (or of none) is refused on the zone, not on the domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone_owner: Option<String>,
    /// `true`: the domain's legacy zone is one its owner may read and clone but not edit
    /// (Gandi's shared default zone): every v4 edit of it faults with 581050.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shared_zone: bool,
}

fn yes() -> bool {
    true
}

/// One rrset; its values are checked against its type when it is read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawRecord")]
pub struct SeedRecord {
    pub name: RelName,
    #[serde(rename = "type")]
    pub rtype: RecordType,
    pub ttl: u32,
    pub values: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRecord {
    name: RelName,
    #[serde(rename = "type")]
    rtype: RecordType,
    ttl: Option<u32>,
    values: Vec<String>,
}

impl TryFrom<RawRecord> for SeedRecord {
    type Error = Invalid;
    fn try_from(raw: RawRecord) -> Result<Self, Invalid> {
        let ttl = check_ttl(raw.ttl.unwrap_or(super::types::DEFAULT_TTL))?;
        if raw.values.is_empty() {
            return Err(Invalid::new("values", "a record needs at least one value"));
        }
        let values = raw
            .values
            .iter()
            .map(|v| normalize_value(raw.rtype, v))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            name: raw.name,
            rtype: raw.rtype,
            ttl,
            values,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawCredential")]
pub struct SeedCredential {
    pub kind: CredentialKind,
    pub secret: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domains: Option<Vec<Fqdn>>,
    /// As seeded; none: what a token made for DNS automation has.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<Permission>>,
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub expires: Option<OffsetDateTime>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCredential {
    kind: CredentialKind,
    secret: String,
    organization: Option<String>,
    domains: Option<Vec<Fqdn>>,
    permissions: Option<Vec<Permission>>,
    expires: Option<String>,
}

impl TryFrom<RawCredential> for SeedCredential {
    type Error = Invalid;
    fn try_from(raw: RawCredential) -> Result<Self, Invalid> {
        // Secrets are taken as given (a wrong shape is what the scenarios are about), but an
        // empty one or one with whitespace could never be sent in a header.
        if raw.secret.is_empty() || raw.secret.chars().any(char::is_whitespace) {
            return Err(Invalid::new(
                "secret",
                "a secret must be non-empty and contain no white space",
            ));
        }
        let expires =
            raw.expires
                .map(|e| {
                    OffsetDateTime::parse(&e, &time::format_description::well_known::Rfc3339)
                        .map_err(|err| {
                            Invalid::new(
                                "expires",
                                format!("'{e}' is not an RFC 3339 date and time: {err}"),
                            )
                        })
                })
                .transpose()?;
        Ok(Self {
            kind: raw.kind,
            secret: raw.secret,
            organization: raw.organization,
            domains: raw.domains,
            permissions: raw.permissions,
            expires,
        })
    }
}

/// An error reading a seed, with the position the parser reported.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("{0}")]
    Toml(String),
    #[error("{0}")]
    Json(String),
    /// A seed that parses but cannot be: the same secret declared twice as the same kind.
    #[error("{0}")]
    Duplicate(DuplicateSecret),
}

/// The same secret declared twice with the same kind. One secret may be several kinds of
/// credential (a v4 key and a LiveDNS key at once), each once: a second declaration would
/// silently replace the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateSecret {
    /// The second declaration, counted from 0 in the seed's credentials.
    pub index: usize,
    /// Which declaration of this secret (any kind) it is, counted from 1: the line to name is
    /// that occurrence of the secret in the text.
    pub occurrence: usize,
    pub kind: CredentialKind,
    pub secret: String,
    /// Where, when it is known (`line 12: `).
    pub line: Option<usize>,
}

impl DuplicateSecret {
    /// The line of `text` where this declaration's secret is written (a line holding a
    /// `secret` key with this exact value, the `occurrence`-th one).
    pub fn line_in(&self, text: &str) -> Option<usize> {
        let quoted = [format!("\"{}\"", self.secret), format!("'{}'", self.secret)];
        text.lines()
            .enumerate()
            .filter(|(_, l)| {
                l.trim_start().starts_with("secret") && quoted.iter().any(|q| l.contains(q))
            })
            .nth(self.occurrence.checked_sub(1)?)
            .map(|(i, _)| i + 1)
    }
}

impl std::fmt::Display for DuplicateSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        write!(
            f,
            "credential.secret: {} is declared twice as `{}` (credential {}); one secret may be \
             several kinds, each once",
            super::redact(&self.secret),
            self.kind.as_str(),
            self.index + 1
        )
    }
}

/// The first credential declared a second time with the same kind, if any.
pub(super) fn first_duplicate(credentials: &[SeedCredential]) -> Option<DuplicateSecret> {
    credentials.iter().enumerate().find_map(|(index, c)| {
        let earlier = &credentials[..index];
        earlier
            .iter()
            .any(|e| e.secret == c.secret && e.kind == c.kind)
            .then(|| DuplicateSecret {
                index,
                occurrence: earlier.iter().filter(|e| e.secret == c.secret).count() + 1,
                kind: c.kind,
                secret: c.secret.clone(),
                line: None,
            })
    })
}

impl Seed {
    /// Parses TOML; the error text carries line, column and key.
    pub fn from_toml(text: &str) -> Result<Self, SeedError> {
        let seed: Seed = toml::from_str(text).map_err(|e| SeedError::Toml(e.to_string()))?;
        seed.check().map_err(|mut d| {
            d.line = d.line_in(text);
            SeedError::Duplicate(d)
        })?;
        Ok(seed)
    }

    pub fn from_json(text: &str) -> Result<Self, SeedError> {
        let seed: Seed = serde_json::from_str(text).map_err(|e| SeedError::Json(e.to_string()))?;
        seed.check().map_err(SeedError::Duplicate)?;
        Ok(seed)
    }

    /// What parsing alone cannot see: a secret declared twice with the same kind.
    pub fn check(&self) -> Result<(), DuplicateSecret> {
        first_duplicate(&self.credential).map_or(Ok(()), Err)
    }

    /// JSON if the text starts with `{`, TOML otherwise.
    pub fn parse(text: &str) -> Result<Self, SeedError> {
        if text.trim_start().starts_with('{') {
            Self::from_json(text)
        } else {
            Self::from_toml(text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_secret_may_be_several_kinds_but_each_kind_once() {
        let two_kinds = "[[credential]]\nkind = \"v4-key\"\nsecret = \"abcdefghij0123456789klmn\"\n\
                         [[credential]]\nkind = \"apikey\"\nsecret = \"abcdefghij0123456789klmn\"\n";
        assert_eq!(Seed::from_toml(two_kinds).unwrap().credential.len(), 2);
        let twice = format!(
            "{two_kinds}[[credential]]\nkind = \"pat\"\nsecret = \"other\"\n\
             [[credential]]\nkind = \"v4-key\"\nsecret = \"abcdefghij0123456789klmn\"\n"
        );
        let e = Seed::from_toml(&twice).unwrap_err().to_string();
        assert!(e.starts_with("line 12: "), "{e}");
        assert!(
            e.contains("declared twice as `v4-key` (credential 4)"),
            "{e}"
        );
        assert!(e.contains("abcd…klmn (24)"), "the secret is redacted: {e}");
        let json = r#"{"credential": [{"kind": "pat", "secret": "p123456789"}, {"kind": "pat", "secret": "p123456789"}]}"#;
        let e = Seed::from_json(json).unwrap_err().to_string();
        assert!(e.contains("declared twice as `pat` (credential 2)"), "{e}");
    }

    const SEED: &str = r#"
[[domain]]
fqdn = "stubber.chat"
dns = "livedns"
organization = "acme"
[[domain.record]]
name = "@"
type = "A"
ttl = 300
values = ["192.0.2.10"]

[[credential]]
kind = "pat"
secret = "0123456789abcdef0123456789abcdef01234567"
organization = "acme"
domains = ["stubber.chat"]
permissions = ["See and renew domain names", "Manage domain name technical configurations"]
expires = "2027-01-01T00:00:00Z"
"#;

    #[test]
    fn the_documented_seed_parses() {
        let seed = Seed::from_toml(SEED).unwrap();
        assert_eq!(seed.domain[0].fqdn.as_str(), "stubber.chat");
        assert_eq!(seed.domain[0].record[0].values, vec!["192.0.2.10"]);
        assert_eq!(seed.credential[0].kind, CredentialKind::Pat);
        assert!(seed.credential[0].expires.is_some());
    }

    #[test]
    fn an_unknown_key_is_named_with_its_line() {
        let text = SEED.replace("dns = \"livedns\"", "dns = \"livedns\"\nzone = 3");
        let err = Seed::from_toml(&text).unwrap_err().to_string();
        assert!(err.contains("line 5"), "{err}");
        assert!(err.contains("zone"), "{err}");
    }

    #[test]
    fn a_bad_value_is_named_with_the_line_of_its_record() {
        let text = SEED.replace("192.0.2.10", "not-an-address");
        let err = Seed::from_toml(&text).unwrap_err().to_string();
        assert!(err.contains("not-an-address"), "{err}");
        assert!(err.contains("line "), "{err}");
    }

    #[test]
    fn json_seeds_are_accepted() {
        let seed = Seed::parse(r#"{"domain":[{"fqdn":"example.com","dns":"legacy"}]}"#).unwrap();
        assert_eq!(seed.domain[0].dns, DnsMode::Legacy);
        assert!(Seed::parse(r#"{"domains":[]}"#).is_err());
    }
}
