//! The zones API of the old host, in its era (`Era::zones_api`, until 2022-07): every LiveDNS
//! domain has a zone with a uuid, named in the domain's body (`zone_uuid`, `zone_href`,
//! `zone_records_href`), and `/zones/{uuid}/records...` reads and writes that zone's records
//! as `/domains/{fqdn}/records...` does (doc.livedns.gandi.net's examples; Gandi/gandi.cli#285).
//!
//! Rights: a zone is its owner's, the domain's organization. Reports of 2019–2020 show a
//! caller that may edit the domain's records refused on its zone: obynio/certbot-plugin-gandi#7
//! (`I am not "owner" of one of the zones I manage, but instead just "technical contact"` …
//! `the API does not allow me to make changes using the Zones approach. Using "domain" works
//! perfectly.`), cavebeat/gandi-live-dns#27 (403 on `GET /zones/<uuid>/records/<name>/A`),
//! go-gandi/terraform-provider-gandi#30 (`Error: 403: Access was denied to this resource.`).
//! The mock's rule (inferred from them): a zone is owned by the seed's `zone_owner` (default:
//! the domain's organization); a credential not of that organization gets 403 on the zone,
//! while the domain's own routes answer it as they always do.
//!
//! Zones stand only for the domains' own zones: creating a zone alone (`POST /zones`) or
//! attaching one (`POST /zones/{uuid}/domains/{fqdn}`) is not modelled.

use super::error::ApiError;
use super::paths::Base;
use crate::store::{Credential, DnsMode, Fqdn, State};

/// The uuid of a domain's zone: stable for a name, shaped like Gandi's (version-1 uuids in
/// the reports, e.g. `5fb3e900-472b-11e9-ae02-00163e4e76d5`); the digits are the mock's own.
pub(crate) fn zone_uuid(fqdn: &Fqdn) -> String {
    // FNV-1a, twice with different offsets: 128 stable bits from the name.
    let hash = |offset: u64| {
        fqdn.as_str().bytes().fold(offset, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    };
    let (a, b) = (hash(0xcbf2_9ce4_8422_2325), hash(0x6c62_272e_07bb_0142));
    format!(
        "{:08x}-{:04x}-11e9-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        0x8000 | (b >> 48) & 0x3fff,
        b & 0xffff_ffff_ffff
    )
}

impl Base<'_> {
    /// `<base>/zones/{uuid}` of a domain's zone.
    pub(crate) fn zone(&self, fqdn: &Fqdn) -> String {
        format!("{}/zones/{}", self.root(), zone_uuid(fqdn))
    }
}

/// Whether `rest` (a path below the base) is below `/zones`.
pub(crate) fn is_zones_path(rest: &str) -> bool {
    rest == "/zones" || rest.starts_with("/zones/")
}

/// The `/domains/{fqdn}/records...` path a `/zones/{uuid}/records...` path stands for, once
/// `cred` may use the zone. An unknown uuid, or any other path below `/zones`, is not found.
pub(crate) fn domain_path(
    rest: &str,
    state: &State,
    cred: &Credential,
) -> Result<String, ApiError> {
    let below = rest.strip_prefix("/zones/").ok_or(ApiError::NotFound)?;
    let (uuid, tail) = below.split_once('/').ok_or(ApiError::NotFound)?;
    if !(tail == "records" || tail.starts_with("records/")) {
        return Err(ApiError::NotFound);
    }
    let domain = state
        .domains
        .values()
        .find(|d| d.dns == DnsMode::Livedns && zone_uuid(&d.fqdn) == uuid)
        .ok_or(ApiError::NotFound)?;
    let owner = domain.zone_owner.as_ref().or(domain.organization.as_ref());
    if owner.is_some() && owner != cred.organization.as_ref() {
        return Err(ApiError::Forbidden);
    }
    if let Some(scope) = &cred.domains
        && !scope.contains(&domain.fqdn)
    {
        return Err(ApiError::Forbidden);
    }
    Ok(format!("/domains/{}/{tail}", domain.fqdn))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zone_uuid_is_stable_and_shaped_like_gandis() {
        let a = zone_uuid(&Fqdn::parse("example.com").unwrap());
        assert_eq!(a, zone_uuid(&Fqdn::parse("example.com").unwrap()));
        assert_ne!(a, zone_uuid(&Fqdn::parse("example.org").unwrap()));
        let groups: Vec<usize> = a.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12], "{a}");
        assert!(a.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit()));
    }
}
