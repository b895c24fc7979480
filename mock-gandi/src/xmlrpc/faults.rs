//! Every v4 fault the mock sends, as data: code, text template and where the text comes from.
//! Handlers build a [`Fault`] from a [`FaultKind`] and the details; nothing else writes fault
//! text. Sources: gandi-wire.md §3.3. Entries without a capture are marked `inferred`.

use crate::store::LegacyError;

use super::codec::CodecError;

/// The handle every mock zone and domain belongs to (the account's user, as Gandi's handles
/// read: `PM13328-GANDI`).
pub const OWNER_HANDLE: &str = "MOCK1-GANDI";

/// The faults, one per distinct situation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// The API key does not match `^[a-z0-9]{24}$` (e.g. a 40-character PAT). Checked first.
    KeyPattern,
    /// A well-formed key that no account has.
    UnknownKey,
    /// `domain.*` on a name the account does not hold.
    UnknownDomain,
    /// A zone id that does not exist.
    UnknownZone,
    /// A parameter of the wrong XML-RPC type.
    InvalidInput,
    /// The body is not XML-RPC at all.
    MalformedBody,
    /// A method the API does not have.
    UnknownMethod,
    /// Too few or too many parameters.
    WrongArity,
    /// A version number the zone does not have.
    UnknownVersion,
    /// An edit of the active version.
    ActiveVersionReadOnly,
    /// `domain.zone.version.delete` of the active version.
    ActiveVersionDelete,
    /// `domain.zone.delete` of a zone a domain still points at.
    ZoneInUse,
    /// A record whose name, type, value or TTL is refused (TTL below 300, for one).
    InvalidRecord,
    /// `domain.zone.record.update` selecting no record.
    UnknownRecord,
    /// An edit of a zone the account may not modify (a shared zone).
    ZoneNoRight,
    /// A string where a zone method takes an int (a zone id, a version).
    InvalidParameters,
}

/// One catalogue entry. `template` holds `{}` placeholders filled in order.
#[derive(Debug)]
pub struct FaultEntry {
    pub kind: FaultKind,
    pub code: i32,
    pub template: &'static str,
    pub source: &'static str,
    pub inferred: bool,
}

/// The catalogue. Gandi's codes read as object (first three digits: 500 unknown, 510
/// domain/account, 581 zone) and cause (last three: 037 bad parameter, 042 not found, 150 no
/// right); the inferred entries follow that scheme, with 582 for records.
pub const CATALOGUE: &[FaultEntry] = &[
    FaultEntry {
        kind: FaultKind::KeyPattern,
        code: 500037,
        template: "Error on object : OBJECT_UNKNOWN (CAUSE_BADPARAMETER) [string '{}' does not match '^[a-z0-9]{24}$']",
        source: "go-acme/lego#2473",
        inferred: false,
    },
    FaultEntry {
        kind: FaultKind::UnknownKey,
        code: 510150,
        template: "Error on object : OBJECT_ACCOUNT (CAUSE_NORIGHT) [Invalid API key]",
        source: "DNSControl#384 (gandi-wire.md §3.3)",
        inferred: false,
    },
    FaultEntry {
        kind: FaultKind::UnknownDomain,
        code: 510042,
        template: "Error on object : OBJECT_DOMAIN (CAUSE_NOTFOUND) [Domain '{}' doesn't exist.]",
        source: "recorded (lexicon-gandi RPC test_provider_authenticate_with_unmanaged_domain_should_fail); go-acme/lego#472",
        inferred: false,
    },
    FaultEntry {
        kind: FaultKind::UnknownZone,
        code: 581042,
        template: "Error on object : OBJECT_ZONE (CAUSE_NOTFOUND) [no such zone (id: {})]",
        source: "DNSControl docs (gandi provider)",
        inferred: false,
    },
    FaultEntry {
        kind: FaultKind::InvalidInput,
        code: 1,
        template: "Invalid XMLRPC input: {}",
        source: "brianreumere/gandi-automatic-dns#21",
        inferred: false,
    },
    FaultEntry {
        kind: FaultKind::MalformedBody,
        code: 1,
        template: "Invalid XMLRPC input: {}",
        source: "same layer as InvalidInput (gandi-automatic-dns#21)",
        inferred: true,
    },
    FaultEntry {
        kind: FaultKind::UnknownMethod,
        code: 500042,
        template: "Error on object : OBJECT_UNKNOWN (CAUSE_NOTFOUND) [method '{}' does not exist]",
        source: "code scheme of 500037/510042",
        inferred: true,
    },
    FaultEntry {
        kind: FaultKind::WrongArity,
        code: 500037,
        template: "Error on object : OBJECT_UNKNOWN (CAUSE_BADPARAMETER) [method '{}' takes {} parameters, {} given]",
        source: "code scheme of 500037",
        inferred: true,
    },
    FaultEntry {
        kind: FaultKind::UnknownVersion,
        code: 581042,
        template: "Error on object : OBJECT_ZONE (CAUSE_NOTFOUND) [No such version '{}']",
        source: "rancher/rancher#9122 (2017, external-dns reading records: `Error on object : OBJECT_ZONE (CAUSE_NOTFOUND) [No such version '342']` code: 581042)",
        inferred: false,
    },
    FaultEntry {
        kind: FaultKind::ActiveVersionReadOnly,
        code: 581037,
        template: "Error on object : OBJECT_ZONE (CAUSE_BADPARAMETER) [version {} of zone {} is active and cannot be modified]",
        source: "gandi-wire.md §3.4 (active version is read-only); code scheme",
        inferred: true,
    },
    FaultEntry {
        kind: FaultKind::ActiveVersionDelete,
        code: 581037,
        template: "Error on object : OBJECT_ZONE (CAUSE_BADPARAMETER) [version {} of zone {} is active and cannot be deleted]",
        source: "gandi-wire.md §3.4; code scheme",
        inferred: true,
    },
    FaultEntry {
        kind: FaultKind::ZoneInUse,
        code: 581037,
        template: "Error on object : OBJECT_ZONE (CAUSE_BADPARAMETER) [zone {} is still used by {} domain(s)]",
        source: "gandi-wire.md §3.4 (zone in use cannot be deleted); code scheme",
        inferred: true,
    },
    FaultEntry {
        kind: FaultKind::InvalidRecord,
        code: 582037,
        template: "Error on object : OBJECT_RECORD (CAUSE_BADPARAMETER) [{}]",
        source: "gandi-wire.md §3.4 (minimum TTL 300); code scheme",
        inferred: true,
    },
    FaultEntry {
        kind: FaultKind::UnknownRecord,
        code: 582042,
        template: "Error on object : OBJECT_RECORD (CAUSE_NOTFOUND) [no such record (id: {})]",
        source: "code scheme of 581042",
        inferred: true,
    },
    FaultEntry {
        kind: FaultKind::InvalidParameters,
        code: 581037,
        template: "Error on object : OBJECT_ZONE (CAUSE_BADPARAMETER) [invalid method parameter(s)]",
        source: "brianreumere/gandi-automatic-dns#17 (2017, domain.zone.record.list with the zone id as a string; the text quoted, the code from the scheme: inferred)",
        inferred: false,
    },
    FaultEntry {
        kind: FaultKind::ZoneNoRight,
        code: 581050,
        template: "Error on object : OBJECT_ZONE (CAUSE_NORIGHT) [{} isn't allowed to modify zone {}]",
        source: "Chralu/gandyn#17 (2015): <Fault 581050: \"Error on object : OBJECT_ZONE (CAUSE_NORIGHT) [PM13328-GANDI isn't allowed to modify zone 681838]\">",
        inferred: false,
    },
];

/// The entry for `kind`.
pub fn entry(kind: FaultKind) -> &'static FaultEntry {
    // Every kind has an entry (a test checks it); the first entry is a safe fallback.
    CATALOGUE
        .iter()
        .find(|e| e.kind == kind)
        .unwrap_or(&CATALOGUE[0])
}

/// A fault ready to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub kind: FaultKind,
    pub code: i32,
    pub message: String,
}

impl Fault {
    /// Fills the template of `kind` with `args`, in order.
    pub fn new(kind: FaultKind, args: &[&dyn std::fmt::Display]) -> Self {
        let e = entry(kind);
        let mut message = String::with_capacity(e.template.len() + 32);
        let mut args = args.iter();
        let mut rest = e.template;
        // `{24}` inside the key pattern is a regex quantifier, not a placeholder: only `{}`
        // is replaced.
        while let Some(at) = rest.find("{}") {
            message.push_str(&rest[..at]);
            if let Some(a) = args.next() {
                message.push_str(&a.to_string());
            }
            rest = &rest[at + 2..];
        }
        message.push_str(rest);
        Self {
            kind,
            code: e.code,
            message,
        }
    }

    pub fn key_pattern(key: &str) -> Self {
        Self::new(FaultKind::KeyPattern, &[&key])
    }

    pub fn invalid_input(reason: impl std::fmt::Display) -> Self {
        Self::new(FaultKind::InvalidInput, &[&reason])
    }
}

impl From<CodecError> for Fault {
    fn from(e: CodecError) -> Self {
        Self::new(FaultKind::MalformedBody, &[&e])
    }
}

impl From<LegacyError> for Fault {
    fn from(e: LegacyError) -> Self {
        match e {
            LegacyError::UnknownDomain(name) => Self::new(FaultKind::UnknownDomain, &[&name]),
            LegacyError::UnknownZone(id) => Self::new(FaultKind::UnknownZone, &[&id]),
            LegacyError::UnknownVersion { version, .. } => {
                Self::new(FaultKind::UnknownVersion, &[&version])
            }
            LegacyError::ActiveVersionReadOnly { zone, version } => {
                Self::new(FaultKind::ActiveVersionReadOnly, &[&version, &zone])
            }
            LegacyError::ActiveVersionDelete { zone, version } => {
                Self::new(FaultKind::ActiveVersionDelete, &[&version, &zone])
            }
            LegacyError::ZoneInUse { zone, domains } => {
                Self::new(FaultKind::ZoneInUse, &[&zone, &domains])
            }
            LegacyError::UnknownRecord(id) => Self::new(FaultKind::UnknownRecord, &[&id]),
            LegacyError::SharedZone(id) => Self::new(FaultKind::ZoneNoRight, &[&OWNER_HANDLE, &id]),
            LegacyError::Invalid(invalid) => Self::new(FaultKind::InvalidRecord, &[&invalid]),
        }
    }
}

/// The v4 key check Gandi applies before anything else: `^[a-z0-9]{24}$`.
pub fn key_matches_pattern(key: &str) -> bool {
    key.len() == 24
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: &[FaultKind] = &[
        FaultKind::KeyPattern,
        FaultKind::UnknownKey,
        FaultKind::UnknownDomain,
        FaultKind::UnknownZone,
        FaultKind::InvalidInput,
        FaultKind::MalformedBody,
        FaultKind::UnknownMethod,
        FaultKind::WrongArity,
        FaultKind::UnknownVersion,
        FaultKind::ActiveVersionReadOnly,
        FaultKind::ActiveVersionDelete,
        FaultKind::ZoneInUse,
        FaultKind::InvalidRecord,
        FaultKind::UnknownRecord,
        FaultKind::ZoneNoRight,
        FaultKind::InvalidParameters,
    ];

    #[test]
    fn every_fault_kind_has_exactly_one_catalogue_entry_with_a_source() {
        for kind in ALL {
            let n = CATALOGUE.iter().filter(|e| e.kind == *kind).count();
            assert_eq!(n, 1, "{kind:?}");
            assert!(!entry(*kind).source.is_empty());
        }
        assert_eq!(CATALOGUE.len(), ALL.len());
    }

    #[test]
    fn the_key_pattern_text_keeps_its_regex_braces() {
        let f = Fault::key_pattern("abc");
        assert_eq!(f.code, 500037);
        assert_eq!(
            f.message,
            "Error on object : OBJECT_UNKNOWN (CAUSE_BADPARAMETER) [string 'abc' does not match '^[a-z0-9]{24}$']"
        );
    }

    #[test]
    fn the_recorded_domain_fault_text_is_reproduced() {
        let f = Fault::from(LegacyError::UnknownDomain(
            "thisisadomainidonotown.com".into(),
        ));
        assert_eq!(f.code, 510042);
        assert_eq!(
            f.message,
            "Error on object : OBJECT_DOMAIN (CAUSE_NOTFOUND) [Domain 'thisisadomainidonotown.com' doesn't exist.]"
        );
    }
}

#[cfg(test)]
mod shared_zone_tests {
    use super::*;

    #[test]
    fn a_shared_zone_edit_is_refused_in_gandi_s_words() {
        let f = Fault::from(LegacyError::SharedZone(681838));
        assert_eq!(f.code, 581050);
        assert_eq!(
            f.message,
            "Error on object : OBJECT_ZONE (CAUSE_NORIGHT) [MOCK1-GANDI isn't allowed to modify zone 681838]"
        );
    }
}
