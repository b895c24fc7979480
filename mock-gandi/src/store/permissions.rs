//! A personal access token's permissions as Gandi's token form names them, and what each
//! opens. The seed takes the form's words ("Manage domain name technical configurations") or
//! the identifiers Gandi's token introspection (`https://id.gandi.net/tokeninfo`, its `scope`
//! list) gives them (`domain:tech`); `dns:read` and `dns:write`, this mock's own words before
//! it knew Gandi's, remain as aliases.
//!
//! Sources, per permission (the README's permission table repeats them):
//! - "See and renew domain names" (`domain:view`, `domain:renew`: kud/gandi-cli
//!   docs/authentication.mdx and src/commands/doctor.tsx read them from tokeninfo): the Domain
//!   API's reads (`gandi domain list` needs `domain:view`, the same files).
//! - "Manage domain name technical configurations" (`domain:tech`): "Edit domain technical
//!   configuration (nameservers, DNS records, glue records, DNSSEC, and web forwarding)"
//!   (docs.gandi.net, managing_an_organization/teams/using_permissions.html): LiveDNS reads
//!   and writes, nameservers, the move to LiveDNS. Ticking it ticks "See and renew domain
//!   names" too (rmbolger/Posh-ACME docs/Plugins/Gandi.md). LiveDNS reads need it as well:
//!   certbot-plugin-gandi's README asks for both rights, and without this one even the
//!   domain's GET is refused (inferred from the reports the README change answered).
//! - "View Organization" (no identifier known): the Organization API's organization list
//!   (francois2metz/steampipe-plugin-gandi config/gandi.spc asks for it to list
//!   organizations; inferred).

use serde::{Deserialize, Serialize};

/// One permission of a credential, as a seed names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// "See and renew domain names" (`domain:view`, `domain:renew`).
    SeeAndRenewDomains,
    /// "Manage domain name technical configurations" (`domain:tech`).
    TechnicalConfiguration,
    /// "View Organization".
    ViewOrganization,
    /// `dns:read`: this mock's former word for LiveDNS reads (an alias).
    DnsRead,
    /// `dns:write`: this mock's former word for LiveDNS writes (an alias).
    DnsWrite,
}

/// Every spelling a seed may use, with the permission it names. Gandi's words are matched
/// without regard to case (the form and Gandi's own pages differ: "View Organization", "View
/// organization").
const SPELLINGS: &[(&str, Permission)] = &[
    ("See and renew domain names", Permission::SeeAndRenewDomains),
    ("domain:view", Permission::SeeAndRenewDomains),
    ("domain:renew", Permission::SeeAndRenewDomains),
    (
        "Manage domain name technical configurations",
        Permission::TechnicalConfiguration,
    ),
    ("domain:tech", Permission::TechnicalConfiguration),
    ("View Organization", Permission::ViewOrganization),
    ("dns:read", Permission::DnsRead),
    ("dns:write", Permission::DnsWrite),
];

impl Permission {
    /// The permission a seed's word names, if any.
    pub fn parse(word: &str) -> Option<Self> {
        SPELLINGS
            .iter()
            .find(|(w, _)| w.eq_ignore_ascii_case(word.trim()))
            .map(|(_, p)| *p)
    }

    /// Gandi's words for it (the alias's own word for an alias).
    pub fn name(self) -> &'static str {
        match self {
            Permission::SeeAndRenewDomains => "See and renew domain names",
            Permission::TechnicalConfiguration => "Manage domain name technical configurations",
            Permission::ViewOrganization => "View Organization",
            Permission::DnsRead => "dns:read",
            Permission::DnsWrite => "dns:write",
        }
    }

    /// Whether this is one of the mock's own former words rather than Gandi's.
    pub fn is_alias(self) -> bool {
        matches!(self, Permission::DnsRead | Permission::DnsWrite)
    }

    /// The words a seed may use, for error messages.
    fn accepted() -> String {
        SPELLINGS
            .iter()
            .map(|(w, _)| format!("'{w}'"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl Serialize for Permission {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Permission {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let word = String::deserialize(d)?;
        Permission::parse(&word).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown permission '{word}': expected one of {}",
                Permission::accepted()
            ))
        })
    }
}

/// What a credential may do, once its permissions are read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rights {
    /// The Domain API's reads: list, details, nameservers, LiveDNS status.
    pub domains_read: bool,
    /// LiveDNS reads (records, domains, snapshots, keys, transfer settings).
    pub dns_read: bool,
    /// Technical changes: LiveDNS writes, nameservers, the move to LiveDNS.
    pub technical: bool,
    /// The Organization API's organization list.
    pub organization_read: bool,
}

/// What a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// A LiveDNS read.
    Read,
    /// A technical change: a LiveDNS write, nameservers, the move to LiveDNS.
    Write,
    /// A Domain API read.
    DomainRead,
    /// The Organization API's organization list.
    OrganizationRead,
}

impl Rights {
    /// A credential seeded without `permissions`: what a token made for DNS automation has,
    /// the two rights certbot-plugin-gandi's README (and gandi-automatic-dns's, octoDNS users'
    /// guides) tell users to tick.
    pub fn dns_automation() -> Self {
        Self::of(&[
            Permission::SeeAndRenewDomains,
            Permission::TechnicalConfiguration,
        ])
    }

    /// The rights a list of permissions gives.
    pub fn of(permissions: &[Permission]) -> Self {
        let mut r = Rights::default();
        for p in permissions {
            match p {
                Permission::SeeAndRenewDomains => r.domains_read = true,
                // The form ticks "See and renew domain names" with it.
                Permission::TechnicalConfiguration => {
                    r.domains_read = true;
                    r.dns_read = true;
                    r.technical = true;
                }
                Permission::ViewOrganization => r.organization_read = true,
                // The aliases keep what they opened before Gandi's words were known: every
                // read (the organization list was open to any credential), and with
                // `dns:write` every change.
                Permission::DnsRead => {
                    r.domains_read = true;
                    r.dns_read = true;
                    r.organization_read = true;
                }
                Permission::DnsWrite => {
                    r = Rights {
                        domains_read: true,
                        dns_read: true,
                        technical: true,
                        organization_read: true,
                    };
                }
            }
        }
        r
    }

    /// Whether these rights allow `need`.
    pub fn allow(&self, need: Need) -> bool {
        match need {
            Need::Read => self.dns_read,
            Need::Write => self.technical,
            Need::DomainRead => self.domains_read,
            Need::OrganizationRead => self.organization_read,
        }
    }

    /// Gandi's names of what these rights hold, for the state.
    pub fn names(&self) -> Vec<&'static str> {
        let mut names = Vec::new();
        if self.domains_read {
            names.push(Permission::SeeAndRenewDomains.name());
        }
        if self.technical {
            names.push(Permission::TechnicalConfiguration.name());
        } else if self.dns_read {
            names.push("LiveDNS reads (dns:read)");
        }
        if self.organization_read {
            names.push(Permission::ViewOrganization.name());
        }
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gandi_s_words_and_identifiers_name_the_same_permission() {
        for word in [
            "Manage domain name technical configurations",
            "manage domain name technical configurations",
            "domain:tech",
        ] {
            assert_eq!(
                Permission::parse(word),
                Some(Permission::TechnicalConfiguration)
            );
        }
        assert_eq!(
            Permission::parse("domain:renew"),
            Some(Permission::SeeAndRenewDomains)
        );
        assert_eq!(Permission::parse("dns:admin"), None);
    }

    #[test]
    fn without_the_technical_right_no_dns_is_read_or_written() {
        let r = Rights::of(&[Permission::SeeAndRenewDomains]);
        assert!(r.allow(Need::DomainRead));
        assert!(!r.allow(Need::Read));
        assert!(!r.allow(Need::Write));
    }

    #[test]
    fn the_default_is_a_dns_automation_token_without_the_organization_list() {
        let r = Rights::dns_automation();
        assert!(r.allow(Need::Read) && r.allow(Need::Write) && r.allow(Need::DomainRead));
        assert!(!r.allow(Need::OrganizationRead));
    }

    #[test]
    fn the_aliases_keep_what_they_opened() {
        let read = Rights::of(&[Permission::DnsRead]);
        assert!(read.allow(Need::Read) && read.allow(Need::DomainRead));
        assert!(read.allow(Need::OrganizationRead) && !read.allow(Need::Write));
        assert!(Rights::of(&[Permission::DnsWrite]).allow(Need::Write));
        assert!(Permission::DnsRead.is_alias() && !Permission::ViewOrganization.is_alias());
    }
}
