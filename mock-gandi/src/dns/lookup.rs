//! What a zone answers for one name and type: pure logic over a [`ZoneView`], with no wire
//! format, so that it can be read and tested on its own. `wire` turns the result into packets.

pub(super) use super::rdata::{Data, Label, name_text};
use super::rdata::{caa, character_strings, opaque};
use crate::store::types::RecordType;
// The SOA's fields are the store's, which the zone text shows too.
use crate::store::{RrSet, ZoneView, soa};

/// Type codes (RFC 1035 and later) that the lookup itself needs.
pub(super) mod code {
    pub const A: u16 = 1;
    pub const NS: u16 = 2;
    pub const CNAME: u16 = 5;
    pub const SOA: u16 = 6;
    pub const PTR: u16 = 12;
    pub const HINFO: u16 = 13;
    pub const MX: u16 = 15;
    pub const TXT: u16 = 16;
    pub const AAAA: u16 = 28;
    pub const SRV: u16 = 33;
    pub const DNAME: u16 = 39;
    pub const DS: u16 = 43;
    pub const DNSKEY: u16 = 48;
    pub const SSHFP: u16 = 44;
    pub const TLSA: u16 = 52;
    pub const SPF: u16 = 99;
    pub const ANY: u16 = 255;
    pub const CAA: u16 = 257;
}

/// The synthesized name servers. `.test` is reserved (RFC 2606), so these can never be
/// mistaken for real servers, and a client that tries to resolve them fails at once.
pub(super) const SYNTH_NS: [&str; 2] = crate::store::NAMESERVERS;
/// TTL of the synthesized NS rrset: LiveDNS's default TTL.
const NS_TTL: u32 = 10_800;
/// TTL of the DNSKEY rrset (inferred: the TTL of the DS line Gandi shows).
const DNSKEY_TTL: u32 = 3600;
/// CNAME/DNAME links followed within a zone before giving up (loops end here too).
const MAX_CHAIN: usize = 8;

/// The wire code of a store type. ALIAS has none: it exists only in Gandi's API.
pub(super) fn type_code(t: RecordType) -> Option<u16> {
    Some(match t {
        RecordType::A => code::A,
        RecordType::Aaaa => code::AAAA,
        RecordType::Alias => return None,
        RecordType::Caa => code::CAA,
        RecordType::Cname => code::CNAME,
        RecordType::Dname => code::DNAME,
        RecordType::Ds => code::DS,
        RecordType::Mx => code::MX,
        RecordType::Ns => code::NS,
        RecordType::Ptr => code::PTR,
        RecordType::Spf => code::SPF,
        RecordType::Srv => code::SRV,
        RecordType::Sshfp => code::SSHFP,
        RecordType::Tlsa => code::TLSA,
        RecordType::Txt => code::TXT,
    })
}

/// One resource record of an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Rr {
    /// Absolute; the query's own labels (case as asked) when the record is at the query name.
    pub owner: Vec<Label>,
    pub rtype: u16,
    pub ttl: u32,
    pub data: Data,
}

/// Response codes this server sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Rcode {
    NoError,
    FormErr,
    ServFail,
    NxDomain,
    NotImp,
    Refused,
    YxDomain,
    /// Not authoritative, or a TSIG that does not verify (RFC 8945 §5.2).
    NotAuth,
    BadVers,
}

impl Rcode {
    /// The rcode named (as a DNS fault rule writes it), if it is one this server sends.
    pub(super) fn named(name: &str) -> Option<Rcode> {
        [
            Rcode::NoError,
            Rcode::FormErr,
            Rcode::ServFail,
            Rcode::NxDomain,
            Rcode::NotImp,
            Rcode::Refused,
        ]
        .into_iter()
        .find(|r| r.text().eq_ignore_ascii_case(name))
    }

    pub(super) fn value(self) -> u16 {
        match self {
            Rcode::NoError => 0,
            Rcode::FormErr => 1,
            Rcode::ServFail => 2,
            Rcode::NxDomain => 3,
            Rcode::NotImp => 4,
            Rcode::Refused => 5,
            Rcode::YxDomain => 6,
            Rcode::NotAuth => 9,
            Rcode::BadVers => 16,
        }
    }

    pub(super) fn text(self) -> &'static str {
        match self {
            Rcode::NoError => "NOERROR",
            Rcode::FormErr => "FORMERR",
            Rcode::ServFail => "SERVFAIL",
            Rcode::NxDomain => "NXDOMAIN",
            Rcode::NotImp => "NOTIMP",
            Rcode::Refused => "REFUSED",
            Rcode::YxDomain => "YXDOMAIN",
            Rcode::NotAuth => "NOTAUTH",
            Rcode::BadVers => "BADVERS",
        }
    }
}

/// What a zone answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Resolution {
    pub rcode: Rcode,
    /// False only for a referral (NS below the apex).
    pub authoritative: bool,
    pub answers: Vec<Rr>,
    pub authority: Vec<Rr>,
    /// A CNAME or DNAME led out of this zone, to this name: the server may go on in another
    /// zone it serves.
    pub continue_at: Option<Vec<Label>>,
}

/// The zone with its names split into labels once per query.
struct Zone<'a> {
    apex: Vec<Label>,
    serial: u32,
    /// Names relative to the apex (empty = apex), lowercase.
    sets: Vec<(Vec<Label>, &'a RrSet)>,
    /// The DNSKEY rdata of the domain's keys not deleted (a LiveDNS domain's only).
    dnskeys: Vec<(Vec<u8>, String)>,
}

enum Step {
    Done {
        rcode: Rcode,
        answers: Vec<Rr>,
        authority: Vec<Rr>,
    },
    /// Answers ending in a CNAME (or a DNAME's synthesized CNAME) to `target`.
    Alias {
        answers: Vec<Rr>,
        target: Vec<Label>,
    },
    Referral(Vec<Rr>),
}

pub(super) fn lower(labels: &[Label]) -> Vec<Label> {
    labels.iter().map(|l| l.to_ascii_lowercase()).collect()
}

fn split(text: &str) -> Vec<Label> {
    if text.is_empty() {
        return Vec::new();
    }
    text.split('.').map(|l| l.as_bytes().to_vec()).collect()
}

/// Wire length of a name: each label plus its length byte, plus the root.
pub(super) fn wire_len(labels: &[Label]) -> usize {
    labels.iter().map(|l| l.len() + 1).sum::<usize>() + 1
}

fn valid_name(labels: &[Label]) -> bool {
    labels.iter().all(|l| !l.is_empty() && l.len() <= 63) && wire_len(labels) <= 255
}

/// Answers `qname` (absolute, case as asked, within `view`) for `qtype`.
pub(super) fn resolve(view: &ZoneView, qname: &[Label], qtype: u16) -> Resolution {
    let zone = Zone::new(view);
    let mut result = Resolution {
        rcode: Rcode::NoError,
        authoritative: true,
        answers: Vec::new(),
        authority: Vec::new(),
        continue_at: None,
    };
    let mut owner = qname.to_vec();
    let mut seen: Vec<Vec<Label>> = vec![lower(qname)];
    for _ in 0..MAX_CHAIN {
        let Some(rel) = zone.relative(&owner) else {
            return result;
        };
        match zone.step(&rel, &owner, qtype) {
            Step::Done {
                rcode,
                answers,
                authority,
            } => {
                result.rcode = rcode;
                result.answers.extend(answers);
                result.authority = authority;
                return result;
            }
            Step::Referral(ns) => {
                result.authoritative = !result.answers.is_empty();
                result.authority = ns;
                return result;
            }
            Step::Alias { answers, target } => {
                result.answers.extend(answers);
                let target = lower(&target);
                // Chased within this zone, never twice through the same name; a target in
                // another zone is left to the caller.
                if seen.contains(&target) {
                    return result;
                }
                if zone.relative(&target).is_none() {
                    result.continue_at = Some(target);
                    return result;
                }
                seen.push(target.clone());
                owner = target;
            }
        }
    }
    result
}

/// Every record of the zone, as a transfer sends it (RFC 5936 §2.2): the SOA first and
/// last, the apex's NS (synthesized when the zone has none) and DNSKEY, then each rrset.
pub(super) fn transfer(view: &ZoneView) -> Vec<Rr> {
    let zone = Zone::new(view);
    let soa = zone.soa(&zone.apex);
    let mut records = vec![soa.clone()];
    if zone.set_of(&[], RecordType::Ns).is_none() {
        records.extend(zone.synthesized_ns(&zone.apex));
    }
    records.extend(zone.dnskey_records(&zone.apex));
    for (rel, set) in &zone.sets {
        records.extend(zone.records(set, &zone.absolute(rel)));
    }
    records.push(soa);
    records
}

impl<'a> Zone<'a> {
    fn new(view: &'a ZoneView) -> Self {
        let sets = view
            .rrsets()
            .map(|s| {
                let rel = if s.name.is_apex() {
                    Vec::new()
                } else {
                    split(s.name.as_str())
                };
                (rel, s)
            })
            .collect();
        let dnskeys = view
            .domain()
            .map(|d| {
                d.keys
                    .active()
                    .map(|k| {
                        let text = format!("{} 3 13 {}", k.flags, k.public_key_base64());
                        (k.rdata(), text)
                    })
                    .collect()
            })
            .unwrap_or_default();
        Zone {
            apex: split(view.apex.as_str()),
            serial: view.serial,
            sets,
            dnskeys,
        }
    }

    /// `name` relative to the apex (lowercase), if within the zone.
    fn relative(&self, name: &[Label]) -> Option<Vec<Label>> {
        let name = lower(name);
        if !name.ends_with(&self.apex) {
            return None;
        }
        Some(name[..name.len() - self.apex.len()].to_vec())
    }

    fn absolute(&self, rel: &[Label]) -> Vec<Label> {
        rel.iter().chain(self.apex.iter()).cloned().collect()
    }

    fn at<'s>(&'s self, rel: &'s [Label]) -> impl Iterator<Item = &'a RrSet> + 's {
        self.sets
            .iter()
            .filter(move |(n, _)| n.as_slice() == rel)
            .map(|(_, s)| *s)
    }

    fn set_of(&self, rel: &[Label], t: RecordType) -> Option<&'a RrSet> {
        self.at(rel).find(|s| s.rtype == t)
    }

    /// A name exists if it holds records or has names below it (an empty non-terminal).
    fn exists(&self, rel: &[Label]) -> bool {
        rel.is_empty() || self.sets.iter().any(|(n, _)| n.ends_with(rel))
    }

    fn step(&self, rel: &[Label], owner: &[Label], qtype: u16) -> Step {
        // Delegations (NS below the apex) and DNAMEs above the name, from the top down: the
        // highest one decides, as it would in a real tree of zones.
        for k in 0..=rel.len() {
            let cut = &rel[rel.len() - k..];
            if k >= 1
                && (k < rel.len() || qtype != code::DS)
                && let Some(ns) = self.set_of(cut, RecordType::Ns)
            {
                return Step::Referral(self.records(ns, &self.absolute(cut)));
            }
            if k < rel.len()
                && let Some(dname) = self.set_of(cut, RecordType::Dname)
            {
                return self.dname(dname, cut, owner, rel.len() - k);
            }
        }
        let here: Vec<&RrSet> = self.at(rel).collect();
        if rel.is_empty() || !here.is_empty() {
            return self.node(&here, owner, qtype, rel.is_empty());
        }
        if self.exists(rel) {
            return self.negative(Rcode::NoError);
        }
        // Wildcard (RFC 4592): `*` below the closest encloser, the deepest existing ancestor.
        let encloser = (0..rel.len())
            .map(|j| &rel[rel.len() - j..])
            .rev()
            .find(|a| self.exists(a))
            .unwrap_or(&[]);
        let mut wild = vec![b"*".to_vec()];
        wild.extend_from_slice(encloser);
        let sets: Vec<&RrSet> = self.at(&wild).collect();
        if sets.is_empty() {
            return self.negative(Rcode::NxDomain);
        }
        self.node(&sets, owner, qtype, false)
    }

    /// DNAME (RFC 6672): the DNAME itself, then a CNAME from the name asked to the name with
    /// the DNAME's owner replaced by its target.
    fn dname(&self, set: &RrSet, cut: &[Label], owner: &[Label], prefix: usize) -> Step {
        let records = self.records(set, &self.absolute(cut));
        let Some(Rr {
            data: Data::Name(target),
            ttl,
            ..
        }) = records.first().cloned()
        else {
            return self.negative(Rcode::NoError);
        };
        let mut synthesized: Vec<Label> = owner[..prefix].to_vec();
        synthesized.extend(target);
        if !valid_name(&synthesized) {
            return Step::Done {
                rcode: Rcode::YxDomain,
                answers: records,
                authority: Vec::new(),
            };
        }
        let mut answers = records;
        answers.push(Rr {
            owner: owner.to_vec(),
            rtype: code::CNAME,
            ttl,
            data: Data::Name(synthesized.clone()),
        });
        Step::Alias {
            answers,
            target: synthesized,
        }
    }

    /// The answer at an existing node (or the wildcard standing for it).
    fn node(&self, sets: &[&RrSet], owner: &[Label], qtype: u16, apex: bool) -> Step {
        let done = |answers| Step::Done {
            rcode: Rcode::NoError,
            answers,
            authority: Vec::new(),
        };
        if qtype == code::ANY {
            // RFC 8482: one small synthesized HINFO instead of every rrset.
            return done(vec![Rr {
                owner: owner.to_vec(),
                rtype: code::HINFO,
                ttl: soa::TTL,
                data: Data::Hinfo("RFC8482".into(), String::new()),
            }]);
        }
        if qtype != code::CNAME
            && let Some(cname) = sets.iter().find(|s| s.rtype == RecordType::Cname)
        {
            let answers = self.records(cname, owner);
            return match answers.first().map(|r| r.data.clone()) {
                Some(Data::Name(target)) => Step::Alias { answers, target },
                _ => self.negative(Rcode::NoError),
            };
        }
        if apex && qtype == code::SOA {
            return done(vec![self.soa(owner)]);
        }
        if apex && qtype == code::NS && !sets.iter().any(|s| s.rtype == RecordType::Ns) {
            return done(self.synthesized_ns(owner));
        }
        if apex && qtype == code::DNSKEY && !self.dnskeys.is_empty() {
            return done(self.dnskey_records(owner));
        }
        let answers: Vec<Rr> = sets
            .iter()
            .filter(|s| type_code(s.rtype) == Some(qtype))
            .flat_map(|s| self.records(s, owner))
            .collect();
        if answers.is_empty() {
            self.negative(Rcode::NoError)
        } else {
            done(answers)
        }
    }

    fn negative(&self, rcode: Rcode) -> Step {
        Step::Done {
            rcode,
            answers: Vec::new(),
            authority: vec![self.soa(&self.apex)],
        }
    }

    fn synthesized_ns(&self, owner: &[Label]) -> Vec<Rr> {
        SYNTH_NS
            .iter()
            .map(|ns| Rr {
                owner: owner.to_vec(),
                rtype: code::NS,
                ttl: NS_TTL,
                data: Data::Name(split(ns)),
            })
            .collect()
    }

    fn dnskey_records(&self, owner: &[Label]) -> Vec<Rr> {
        self.dnskeys
            .iter()
            .map(|(rdata, text)| Rr {
                owner: owner.to_vec(),
                rtype: code::DNSKEY,
                ttl: DNSKEY_TTL,
                data: Data::Opaque {
                    rdata: rdata.clone(),
                    text: text.clone(),
                },
            })
            .collect()
    }

    fn soa(&self, owner: &[Label]) -> Rr {
        // The primary is the zone's first NS when one is written, else the synthesized one.
        let mname = self
            .set_of(&[], RecordType::Ns)
            .and_then(|s| self.records(s, owner).into_iter().next())
            .and_then(|r| match r.data {
                Data::Name(n) => Some(n),
                _ => None,
            })
            .unwrap_or_else(|| split(SYNTH_NS[0]));
        Rr {
            owner: owner.to_vec(),
            rtype: code::SOA,
            ttl: soa::TTL,
            data: Data::Soa {
                mname,
                rname: split(soa::RNAME),
                serial: self.serial,
                refresh: soa::REFRESH,
                retry: soa::RETRY,
                expire: soa::EXPIRE,
                minimum: soa::MINIMUM,
            },
        }
    }

    /// The records of a set at `owner`; values that cannot be encoded are left out (the store
    /// validates them, so this only guards against a format it let through).
    fn records(&self, set: &RrSet, owner: &[Label]) -> Vec<Rr> {
        let Some(rtype) = type_code(set.rtype) else {
            return Vec::new();
        };
        set.values
            .iter()
            .filter_map(|v| self.data(set.rtype, v))
            .map(|data| Rr {
                owner: owner.to_vec(),
                rtype,
                ttl: set.ttl,
                data,
            })
            .collect()
    }

    /// A hostname as the store keeps it: `@`, relative to the zone, or absolute with a dot.
    fn hostname(&self, text: &str) -> Option<Vec<Label>> {
        let labels = if text == "@" {
            self.apex.clone()
        } else if text == "." {
            Vec::new()
        } else if let Some(abs) = text.strip_suffix('.') {
            split(abs)
        } else {
            let mut l = split(text);
            l.extend(self.apex.iter().cloned());
            l
        };
        valid_name(&labels).then_some(labels)
    }

    fn data(&self, t: RecordType, value: &str) -> Option<Data> {
        let f: Vec<&str> = value.split_ascii_whitespace().collect();
        Some(match t {
            RecordType::A => Data::A(value.trim().parse().ok()?),
            RecordType::Aaaa => Data::Aaaa(value.trim().parse().ok()?),
            RecordType::Cname | RecordType::Ns | RecordType::Ptr | RecordType::Dname => {
                Data::Name(self.hostname(value.trim())?)
            }
            RecordType::Mx => match f.as_slice() {
                [p, host] => Data::Mx(p.parse().ok()?, self.hostname(host)?),
                _ => return None,
            },
            RecordType::Srv => match f.as_slice() {
                [p, w, port, target] => Data::Srv(
                    p.parse().ok()?,
                    w.parse().ok()?,
                    port.parse().ok()?,
                    self.hostname(target)?,
                ),
                _ => return None,
            },
            RecordType::Txt | RecordType::Spf => Data::Txt(character_strings(value)),
            RecordType::Caa => caa(value)?,
            RecordType::Ds => opaque(&f, &[2, 1, 1])?,
            RecordType::Sshfp => opaque(&f, &[1, 1])?,
            RecordType::Tlsa => opaque(&f, &[1, 1, 1])?,
            RecordType::Alias => return None,
        })
    }
}
