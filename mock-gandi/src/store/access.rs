//! Credentials and what each may do through LiveDNS.

use std::sync::Arc;

use super::ids::organization_uuid;
use super::permissions::Need;
use super::seed::{CredentialKind, DnsMode};
use super::state::{Credential, Domain, State};
use super::types::Fqdn;

/// Why a LiveDNS credential may not act on a domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// Not in LiveDNS, not in the credential's scope, or not in its organization.
    UnknownDomain,
    /// Owned by an organization the credential reaches only with `sharing_id`.
    OtherOrganization,
    /// Missing permission (see [`Need`]).
    Forbidden,
}

impl State {
    /// The credential of `kind` with this secret.
    pub fn credential(&self, secret: &str, kind: CredentialKind) -> Option<&Arc<Credential>> {
        self.credentials
            .iter()
            .find(|c| c.secret == secret && c.kind == kind)
    }

    /// Whether any credential has this secret, whatever its kind.
    pub fn knows_secret(&self, secret: &str) -> bool {
        self.credentials.iter().any(|c| c.secret == secret)
    }

    /// Organization id as `sharing_id` carries it: accepted as the name or as the uuid the
    /// state shows for it.
    pub fn organization_matches(org: &str, sharing_id: &str) -> bool {
        org == sharing_id || organization_uuid(org) == sharing_id
    }

    /// May `cred` act on `fqdn` through LiveDNS? Checks mode, scope, organization and
    /// permission, in the order Gandi's answers show: an out-of-scope domain is unknown
    /// before it is forbidden.
    pub fn livedns_access(
        &self,
        cred: &Credential,
        fqdn: &Fqdn,
        sharing_id: Option<&str>,
        need: Need,
    ) -> Result<&Domain, Denied> {
        self.domain(fqdn)
            .filter(|d| d.dns == DnsMode::Livedns)
            .ok_or(Denied::UnknownDomain)?;
        self.domain_access(cred, fqdn, sharing_id, need)
    }

    /// May `cred` act on `fqdn`, whatever platform serves its DNS (the Domain API)? Scope,
    /// organization and permission, as [`State::livedns_access`] checks them.
    pub fn domain_access(
        &self,
        cred: &Credential,
        fqdn: &Fqdn,
        sharing_id: Option<&str>,
        need: Need,
    ) -> Result<&Domain, Denied> {
        let domain = self.domain(fqdn).ok_or(Denied::UnknownDomain)?;
        if let Some(scope) = &cred.domains
            && !scope.contains(fqdn)
        {
            return Err(Denied::UnknownDomain);
        }
        match (&domain.organization, &cred.organization) {
            (Some(owner), Some(own)) => {
                if owner != own {
                    return Err(Denied::UnknownDomain);
                }
            }
            (Some(owner), None) => {
                if !sharing_id.is_some_and(|s| Self::organization_matches(owner, s)) {
                    return Err(Denied::OtherOrganization);
                }
            }
            (None, _) => {}
        }
        if !cred.rights.allow(need) {
            return Err(Denied::Forbidden);
        }
        Ok(domain)
    }
}
