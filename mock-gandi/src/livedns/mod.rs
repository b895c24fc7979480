//! LiveDNS v5 REST API (gandi-wire.md §4), served under two bases with the same paths:
//! the current host (`/v5/livedns`, `Authorization: Bearer|Apikey`) and the old one
//! (`/api/v5`, `X-Api-Key`).
//!
//! Parts: `auth` (credentials per host), `paths` (which resource a path names, hrefs),
//! `extract` (queries and bodies read without framework rejections), `error` (the one error
//! type and its catalogue), `handlers` (the dispatcher), and the endpoints by resource:
//! `domains`, `records`, `zone_text`, `snapshots`, `keys` (DNSSEC), `axfr` (zone transfer), `zones` (the old host's zones API,
//! in its era).

pub(crate) mod auth;
mod axfr;
mod context;
mod domains;
pub(crate) mod error;
mod extract;
mod handlers;
mod keys;
mod paths;
mod records;
mod snapshots;
mod spaced;
mod zone_text;
mod zones;

/// The JSON answer every Gandi v5 API gives (the Domain and Organization APIs use it too).
pub(crate) use context::{json, to_json};
/// Answers a request below one of the API's roots ([`ROOTS`]) of the API [`generation_of`]
/// named.
pub(crate) use handlers::dispatch;

use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::state::path_is_below;

/// Which LiveDNS host and base a route serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    /// `https://dns.api.gandi.net/api/v5`, `X-Api-Key`.
    Old,
    /// `https://api.gandi.net/v5/livedns`, `Authorization: Bearer|Apikey`.
    Current,
}

impl Generation {
    /// Where its API is on its host (the path every route of it starts with).
    pub(crate) fn prefix(self) -> &'static str {
        match self {
            Generation::Old => "/api/v5",
            Generation::Current => "/v5/livedns",
        }
    }
}

/// The first segments of every route of Gandi's LiveDNS reference.
const ROOTS: [&str; 4] = ["/domains", "/dns", "/axfr", "/nameservers"];

/// Below the old base only: the zones API, answered in its era and the router's unknown
/// page otherwise (`zones`).
const OLD_ROOTS: [&str; 1] = ["/zones"];

/// The LiveDNS API whose dispatcher answers `path`: every path below one of the [`ROOTS`]
/// goes to one dispatcher, so that unknown paths, methods and malformed segments get Gandi's
/// errors rather than a router's; any other path under a base is [`unknown_route`]'s.
pub(crate) fn generation_of(path: &str) -> Option<Generation> {
    [Generation::Current, Generation::Old]
        .into_iter()
        .find(|g| {
            path.strip_prefix(g.prefix()).is_some_and(|rest| {
                ROOTS.iter().any(|root| path_is_below(rest, root))
                    || (*g == Generation::Old && OLD_ROOTS.iter().any(|r| path_is_below(rest, r)))
            })
        })
}

/// A LiveDNS path with empty segments (`/api/v5//domains/...`, `/v5/livedns//domains`), without
/// them: Gandi's front end answers it as that path. Evidence: jbbodart/gandi-livedns's update
/// script (`update_ipv4.sh`, commit 1f858c9) joins `https://dns.api.gandi.net/api/v5/` and
/// `/domains/{domain}/records/{name}/A` and printed `[OK] Updated` on Gandi's 201 for years;
/// its users' report #11 (2025-09) shows the update going through once the domain was right
/// (inferred for the current host, which has the same front end). `None` when the path has no
/// empty segment or is no LiveDNS path once collapsed.
pub(crate) fn without_empty_segments(path: &str) -> Option<String> {
    if !path.contains("//") {
        return None;
    }
    let mut collapsed = String::with_capacity(path.len());
    for (i, segment) in path.split('/').enumerate() {
        if i == 0 || !segment.is_empty() {
            if i > 0 {
                collapsed.push('/');
            }
            collapsed.push_str(segment);
        }
    }
    if path.ends_with('/') {
        collapsed.push('/');
    }
    generation_of(&collapsed).map(|_| collapsed)
}

/// Any path outside the Gandi APIs: the Express default page (gandi-wire.md §4.2, inferred).
pub(crate) async fn unknown_route(method: axum::http::Method, uri: Uri) -> Response {
    (
        StatusCode::NOT_FOUND,
        [("content-type", "text/html; charset=utf-8")],
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n<body>\n<pre>Cannot {} {}</pre>\n</body>\n</html>\n",
            method,
            uri.path()
        ),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_of_the_openapi_description_is_a_route_of_the_dispatcher() {
        let spec: serde_json::Value =
            serde_json::from_str(include_str!("../../openapi/gandi-v5.json")).unwrap();
        let paths = spec["paths"].as_object().unwrap();
        assert!(paths.len() >= 25, "{}", paths.len());
        let mut livedns = 0;
        for (path, operations) in paths {
            let concrete = path
                .replace("{fqdn}", "example.com")
                .replace("{domain}", "example.com")
                .replace("{rrset_name}", "www")
                .replace("{rrset_type}", "A")
                .replace("{software}", "bind")
                .replace("{ip}", "192.0.2.1")
                .replace("{id}", "x");
            let Some(below) = concrete.strip_prefix(Generation::Current.prefix()) else {
                // The Domain and Organization APIs, beside LiveDNS on the same host.
                assert!(crate::domain_api::serves(&concrete), "{path}");
                continue;
            };
            livedns += 1;
            let target = paths::Target::parse(below);
            let allow = target
                .allow()
                .unwrap_or_else(|| panic!("{path} is no route"));
            for method in operations.as_object().unwrap().keys() {
                assert!(
                    allow.contains(&method.to_uppercase()),
                    "{method} {path}: the dispatcher allows {allow}"
                );
            }
            assert!(generation_of(&concrete).is_some(), "{path}");
        }
        assert!(livedns >= 18, "{livedns}");
    }

    #[test]
    fn empty_segments_of_a_livedns_path_are_dropped_and_other_paths_kept() {
        for (path, collapsed) in [
            (
                "/api/v5//domains/a.b/records/www/A",
                Some("/api/v5/domains/a.b/records/www/A"),
            ),
            ("/v5/livedns//domains", Some("/v5/livedns/domains")),
            (
                "/v5/livedns/domains//a.b//records/",
                Some("/v5/livedns/domains/a.b/records/"),
            ),
            ("/v5/livedns/domains/a.b", None),
            ("//v5//livedns//zones", None),
            ("/xmlrpc//", None),
            ("/_mock//requests", None),
        ] {
            assert_eq!(without_empty_segments(path).as_deref(), collapsed, "{path}");
        }
    }

    #[test]
    fn the_dispatcher_takes_every_path_below_its_roots_and_nothing_else() {
        for (path, expected) in [
            ("/v5/livedns/domains", Some(Generation::Current)),
            ("/v5/livedns/domains/", Some(Generation::Current)),
            (
                "/v5/livedns/domains/stubber.chat/records/%40/TXT",
                Some(Generation::Current),
            ),
            ("/v5/livedns/domains//x", Some(Generation::Current)),
            ("/api/v5/domains", Some(Generation::Old)),
            ("/api/v5/domains/stubber.chat", Some(Generation::Old)),
            // The router's: unknown paths under a base, and other APIs.
            ("/v5/livedns/domainsx", None),
            ("/v5/livedns", None),
            ("/v5/livedns/", None),
            ("/v5/livedns/zones", None),
            ("/api/v5/zones", Some(Generation::Old)),
            ("/api/v5/zones/x/records", Some(Generation::Old)),
            ("/v5/livedns/dns/rrtypes", Some(Generation::Current)),
            ("/v5/livedns/axfr/tsig", Some(Generation::Current)),
            (
                "/v5/livedns/nameservers/stubber.chat",
                Some(Generation::Current),
            ),
            ("/api/v5/dns/rrtypes", Some(Generation::Old)),
            ("/v5/livedns/dnsx", None),
            ("/api/v5", None),
            ("/api/v5/domainsx/y", None),
            ("/xmlrpc/", None),
            ("/v5/livedns/x/domains", None),
            ("/", None),
        ] {
            assert_eq!(generation_of(path), expected, "{path}");
        }
    }
}
