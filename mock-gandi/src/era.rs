//! Gandi as of a date: the one place that says what Gandi did at a date (`as_of` in a seed,
//! `[gandi] as_of` in a scenario, `mock-gandi serve --as-of`). Handlers ask the [`Era`] one
//! question per documented difference; none compares dates itself.
//!
//! Without a date the mock is Gandi as it is now: every row answers as today, whatever the
//! machine's clock says. A date selects, for each row, the behaviour its sources show at that
//! date. A row's "until" is the last month a source shows the old behaviour (not a switch
//! date Gandi announced, unless a source says so); past it, the mock's current behaviour
//! applies. The README's era table lists the same rows with their sources.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A date as a seed writes it: `YYYY-MM` (the first of the month) or `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AsOf {
    year: u16,
    month: u8,
    day: u8,
    /// Whether the day was written (`2019-07` is shown back as written).
    with_day: bool,
}

impl AsOf {
    /// Reads `YYYY-MM` or `YYYY-MM-DD`; the error says what was expected.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || {
            format!("as_of: '{text}' is not a date: write YYYY-MM or YYYY-MM-DD (e.g. \"2019-07\")")
        };
        let parts: Vec<&str> = text.split('-').collect();
        let number = |s: &str, len: usize| {
            (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<u16>().ok())
                .flatten()
        };
        let (year, month, day) = match parts.as_slice() {
            [y, m] => (number(y, 4), number(m, 2), Some(1)),
            [y, m, d] => (number(y, 4), number(m, 2), number(d, 2)),
            _ => return Err(bad()),
        };
        let (Some(year), Some(month), Some(day)) = (year, month, day) else {
            return Err(bad());
        };
        let month_of_year = u8::try_from(month)
            .ok()
            .and_then(|m| time::Month::try_from(m).ok())
            .ok_or_else(bad)?;
        let day = u8::try_from(day).map_err(|_| bad())?;
        time::Date::from_calendar_date(i32::from(year), month_of_year, day).map_err(|_| bad())?;
        Ok(Self {
            year,
            month: month_of_year as u8,
            day,
            with_day: parts.len() == 3,
        })
    }

    /// Year and month, the granularity of every row.
    fn month_key(self) -> (u16, u8) {
        (self.year, self.month)
    }
}

impl TryFrom<String> for AsOf {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        Self::parse(&text)
    }
}

impl From<AsOf> for String {
    fn from(a: AsOf) -> String {
        a.to_string()
    }
}

impl fmt::Display for AsOf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)?;
        if self.with_day {
            write!(f, "-{:02}", self.day)?;
        }
        Ok(())
    }
}

impl std::str::FromStr for AsOf {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        Self::parse(text)
    }
}

/// Gandi at a date (none: now). Each method is one row of the era table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Era(Option<AsOf>);

impl Era {
    /// Gandi as it is now.
    pub const NOW: Era = Era(None);

    pub fn new(as_of: Option<AsOf>) -> Self {
        Self(as_of)
    }

    /// The date, if one was set.
    pub fn as_of(self) -> Option<AsOf> {
        self.0
    }

    /// Whether the date is in the month `(year, month)` or before it.
    fn until(self, year: u16, month: u8) -> bool {
        self.0.is_some_and(|d| d.month_key() <= (year, month))
    }

    /// Whether the date is in the month `(year, month)` or after it (now included).
    fn from(self, year: u16, month: u8) -> bool {
        self.0.is_none_or(|d| d.month_key() >= (year, month))
    }

    /// The old host (`dns.api.gandi.net/api/v5`) writes every JSON body, success and error,
    /// the way Python's `json.dumps` does (`", "` and `": "`), until 2024-11.
    ///
    /// Sources: doc.livedns.gandi.net's example `{"message": "Zone Created"}` with
    /// `Content-Length: 27` (2015-12); acme.sh's dns_gandi_livedns (2018-12 to 2024-01) greps
    /// `'{"message": "DNS Record Created"}'` and `'"rrset_type": "TXT"'` on the old host;
    /// obynio/certbot-plugin-gandi#33 (2022-01): `"GET /api/v5/domains/x.y.io HTTP/1.1" 401 264`
    /// (264 is the spaced 401 body, 257 compact); qdm12/ddns-updater#852 (2024-11-05):
    /// `403: {"object": "HTTPForbidden", "cause": "Forbidden", "code": 403, "message": "Access
    /// was denied to this resource."}`. After 2024-11 no source shows the old host's bytes:
    /// the mock answers as it does today (inferred).
    pub fn old_host_spaced_json(self) -> bool {
        self.until(2024, 11)
    }

    /// The zones API on the old host: a domain's body carries `zone_uuid`, `zone_href` and
    /// `zone_records_href`, and `/zones/{uuid}/records...` reads and writes the zone's records
    /// for a caller that may edit the zone (its owner's organization), until 2022-07.
    ///
    /// Sources: doc.livedns.gandi.net (2015-12 examples of `/zones`, `/zones/{uuid}/records`);
    /// Gandi/gandi.cli#285 (2019-04): `[DUMP] responded: {'zone_uuid': '5fb3e900-…',
    /// 'zone_records_href': 'https://dns.api.gandi.net/api/v5/zones/5fb3e900-…/records', …}`;
    /// obynio/certbot-plugin-gandi#7 (2019-08): `the API does not allow me to make changes using
    /// the Zones approach. Using "domain" works perfectly.`; go-gandi/terraform-provider-gandi#30
    /// (2020-04): `Error: 403: Access was denied to this resource.` on zone records;
    /// obynio/certbot-plugin-gandi#35 (2022-07): `GET /api/v5/domains/example.com` answered
    /// `200 532`, a size only the zones-era body reaches (inferred from the size). The current
    /// host never had them (inferred).
    pub fn zones_api(self) -> bool {
        self.until(2022, 7)
    }

    /// The beta host `dns.beta.gandi.net/api/v5` answers as the old host, until 2017-09.
    ///
    /// Sources: doc.livedns.gandi.net (beta snapshot): `Warning: beta!` and
    /// `https://dns.beta.gandi.net/api/v5/zones`; acmesh-official/acme.sh#680 (2017-02-27):
    /// `GANDI_LIVEDNS_API="https://dns.beta.gandi.net/api/v5"`; cavebeat/gandi-live-dns#2
    /// (2017-09-06, by a LiveDNS maintainer): `The gandi api has changed its url for a more
    /// stable one. Although https://dns.beta.gandi.net will continue to work for the
    /// foreseable future`. No later source shows it answering: after 2017-09 the mock's proxy
    /// refuses it like any other host (inferred).
    pub fn beta_host(self) -> bool {
        self.until(2017, 9)
    }

    /// The rate limit Gandi's reference documents, in requests per minute per address: 30
    /// in the BETA-era reference, 1000 today. The BETA label is last seen 2021-11 (inferred
    /// date: the page is undated).
    ///
    /// Sources: https://api.gandi.net/docs/reference/ (old snapshot): `Gandi's API is rate
    /// limited; you can perform a maximum of 30 requests per minute from the same IP address.`
    /// with `Please note that this API is currently in BETA testing`; the current page: `a
    /// maximum of 1000 requests per minute`; obynio/certbot-plugin-gandi#19 (2021-12-14): `As of
    /// 2021-11-30, the new API is stable`.
    pub fn documented_rate_limit(self) -> u32 {
        if self.until(2021, 11) { 30 } else { 1000 }
    }

    /// Personal access tokens (`Authorization: Bearer`) exist from 2023-09. Before, the
    /// gateway knows only API keys: a Bearer token is no credential it reads, answered as a
    /// request without credentials (401; the wording of that time is not known: inferred).
    ///
    /// Sources: go-acme/lego#2006 (2023-09-01): `Gandi added the use of PAT (personal access
    /// token)`; https://api.gandi.net/docs/reference/ (old snapshot): `all our routes require a
    /// unique Gandi API Key in its headers` / `Authorization: Apikey 0123456`.
    pub fn personal_access_tokens(self) -> bool {
        self.from(2023, 9)
    }

    /// The old host reads the current host's `Authorization` header when `X-Api-Key` is
    /// missing, from 2025-01; before, it reads `X-Api-Key` only: `Authorization: Apikey` alone
    /// is a missing key (401, status inferred) and `Authorization: Bearer` is refused with 403.
    ///
    /// Sources: Danamir/dyn-gandi#27 (2021-12): only `Authorization: Apikey` to the old host,
    /// `LiveDNS error: The domain dontpanic.org does not exist.`, fixed by sending `x-api-key`;
    /// qdm12/ddns-updater#852 (2024-11-05): `Authorization: Bearer <PAT>` to
    /// `dns.api.gandi.net` → `403: {"object": "HTTPForbidden", …}`; gandi-2-terraform 1.3.3
    /// (2025) reads the old host with `Authorization` only (the mock's rule since). The month
    /// in 2025 is not known: January is inferred. go-acme/lego#2628 (2025-08, a PAT as Bearer
    /// to the old host) failed with `unable to communicate with the API server`, a transport
    /// error, not Gandi's answer: go-acme/lego#2708 says of it `not causing any issues, yet`.
    pub fn old_host_reads_authorization(self) -> bool {
        self.from(2025, 1)
    }

    /// The v4 API's `domain.info` of a domain whose DNS is on LiveDNS has no zone: `zone_id`
    /// is nil (`<nil/>`), until 2018-03. After, the mock gives such a domain its v4 zone as
    /// it does today (whether Gandi did is not known: inferred).
    ///
    /// Sources: jasontbradshaw/gandi-dyndns#18 (2017-08, `(using the new gandi v5)`):
    /// `TypeError: cannot marshal None unless allow_none is enabled` when the zone id is sent
    /// back; brianreumere/gandi-automatic-dns#20 (2017-09): `zone_id = ` (empty);
    /// Chralu/gandyn#21 (2018-03): the same TypeError, `The zone file on Gandy was not anymore
    /// associated to my domain name.`; DNSControl's v4 provider docs (undated): `Error on object
    /// : OBJECT_ZONE (CAUSE_NOTFOUND) [no such zone (id: 0)]`, what a client reading nil as 0
    /// gets next.
    pub fn v4_livedns_domain_without_zone(self) -> bool {
        self.until(2018, 3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_is_a_month_or_a_day() {
        assert_eq!(AsOf::parse("2019-07").unwrap().to_string(), "2019-07");
        assert_eq!(AsOf::parse("2024-02-29").unwrap().to_string(), "2024-02-29");
        for bad in [
            "2019",
            "2019-13",
            "2019-7",
            "2023-02-29",
            "19-07",
            "2019-07-",
            "2019-07-01-02",
            "today",
            "",
            "2019-00",
            "2019-07-32",
            "+019-07",
        ] {
            let e = AsOf::parse(bad).unwrap_err();
            assert!(e.contains("YYYY-MM or YYYY-MM-DD"), "{bad}: {e}");
        }
    }

    #[test]
    fn each_row_changes_at_its_month_and_now_is_today() {
        let at = |t: &str| Era::new(Some(AsOf::parse(t).unwrap()));
        assert!(at("2024-11-30").old_host_spaced_json());
        assert!(!at("2024-12").old_host_spaced_json());
        assert!(at("2022-07").zones_api() && !at("2022-08").zones_api());
        assert!(at("2017-09").beta_host() && !at("2017-10").beta_host());
        assert_eq!(at("2021-11").documented_rate_limit(), 30);
        assert_eq!(at("2021-12").documented_rate_limit(), 1000);
        assert!(!at("2023-08-31").personal_access_tokens());
        assert!(at("2023-09").personal_access_tokens());
        assert!(at("2018-03").v4_livedns_domain_without_zone());
        assert!(!at("2018-04").v4_livedns_domain_without_zone());
        assert!(!at("2024-12").old_host_reads_authorization());
        assert!(at("2025-01").old_host_reads_authorization());
        let now = Era::NOW;
        assert!(!now.old_host_spaced_json() && !now.zones_api() && !now.beta_host());
        assert!(!now.v4_livedns_domain_without_zone());
        assert_eq!(now.documented_rate_limit(), 1000);
        assert!(now.personal_access_tokens() && now.old_host_reads_authorization());
    }
}
