//! The rate limit (`[rate_limit]` in a seed; `[gandi.rate_limit]` in a scenario): Gandi
//! documents 1000 requests a minute per address. Every client of a mock comes from loopback, so
//! one window counts every request to the Gandi APIs; one over the limit is answered 429 with
//! `Retry-After` (the seconds until the oldest counted request leaves the window) and is not
//! counted. Off unless the seed sets it. `documented = true` counts against the limit Gandi
//! documented at the seed's date (`crate::era::Era::documented_rate_limit`: 30 a minute in the
//! BETA-era reference, 1000 today).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::types::Invalid;

/// The limit as a seed writes it: `per_minute = N`, `requests = N` with `window_seconds`, or
/// `documented = true` (Gandi's documented limit at the seed's date, a minute's window).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawRateLimit", into = "RawRateLimit")]
pub struct RateLimit {
    pub requests: u32,
    pub window_seconds: u32,
    /// The era's documented limit: `requests` is set when the seed is applied.
    pub documented: bool,
}

impl RateLimit {
    /// The limit counted in `era` (a documented limit is the era's).
    pub fn in_era(self, era: crate::era::Era) -> Self {
        if self.documented {
            Self {
                requests: era.documented_rate_limit(),
                window_seconds: 60,
                documented: true,
            }
        } else {
            self
        }
    }
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RawRateLimit {
    #[serde(skip_serializing_if = "Option::is_none")]
    per_minute: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    requests: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    window_seconds: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    documented: Option<bool>,
}

impl From<RateLimit> for RawRateLimit {
    fn from(limit: RateLimit) -> Self {
        if limit.documented {
            return Self {
                per_minute: None,
                requests: None,
                window_seconds: None,
                documented: Some(true),
            };
        }
        Self {
            per_minute: None,
            requests: Some(limit.requests),
            window_seconds: Some(limit.window_seconds),
            documented: None,
        }
    }
}

impl TryFrom<RawRateLimit> for RateLimit {
    type Error = Invalid;
    fn try_from(raw: RawRateLimit) -> Result<Self, Invalid> {
        match (
            raw.documented,
            raw.per_minute,
            raw.requests,
            raw.window_seconds,
        ) {
            (Some(true), None, None, None) => {
                return Ok(RateLimit {
                    requests: crate::era::Era::NOW.documented_rate_limit(),
                    window_seconds: 60,
                    documented: true,
                });
            }
            (None | Some(false), ..) => {}
            (Some(true), ..) => {
                return Err(Invalid::new(
                    "documented",
                    "documented = true is Gandi's documented limit: no per_minute, requests or window_seconds with it",
                ));
            }
        }
        let limit = match (raw.per_minute, raw.requests, raw.window_seconds) {
            (Some(n), None, None) => RateLimit {
                requests: n,
                window_seconds: 60,
                documented: false,
            },
            (None, Some(n), window) => RateLimit {
                requests: n,
                window_seconds: window.unwrap_or(60),
                documented: false,
            },
            (Some(_), _, _) => {
                return Err(Invalid::new(
                    "per_minute",
                    "per_minute, or requests with window_seconds, not both",
                ));
            }
            (None, None, _) => {
                return Err(Invalid::new(
                    "requests",
                    "a rate limit needs per_minute, requests (with window_seconds), or documented = true",
                ));
            }
        };
        if limit.requests == 0 || limit.window_seconds == 0 {
            return Err(Invalid::new(
                "requests",
                "a rate limit counts at least one request in at least one second",
            ));
        }
        Ok(limit)
    }
}

/// The counting side: the times of the requests admitted in the current window.
#[derive(Debug)]
pub struct RateLimiter {
    limit: RateLimit,
    admitted: Mutex<VecDeque<Instant>>,
}

impl RateLimiter {
    /// The limit it counts against.
    pub fn limit(&self) -> RateLimit {
        self.limit
    }

    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            admitted: Mutex::new(VecDeque::new()),
        }
    }

    /// Counts a request made at `now`, or says how long until one more is admitted.
    pub fn admit(&self, now: Instant) -> Result<(), Duration> {
        let window = Duration::from_secs(u64::from(self.limit.window_seconds));
        let mut admitted = self.admitted.lock().unwrap_or_else(|p| p.into_inner());
        while admitted
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= window)
        {
            admitted.pop_front();
        }
        if admitted.len() < self.limit.requests as usize {
            admitted.push_back(now);
            return Ok(());
        }
        let oldest = *admitted.front().expect("the window is full");
        Err(window.saturating_sub(now.saturating_duration_since(oldest)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_admits_its_count_then_says_when_the_next_is_admitted() {
        let limiter = RateLimiter::new(RateLimit {
            requests: 2,
            window_seconds: 10,
            documented: false,
        });
        let t0 = Instant::now();
        assert_eq!(limiter.admit(t0), Ok(()));
        assert_eq!(limiter.admit(t0 + Duration::from_secs(4)), Ok(()));
        assert_eq!(
            limiter.admit(t0 + Duration::from_secs(6)),
            Err(Duration::from_secs(4))
        );
        // The refused request was not counted; the first leaves the window at 10 s.
        assert_eq!(limiter.admit(t0 + Duration::from_secs(10)), Ok(()));
        assert_eq!(
            limiter.admit(t0 + Duration::from_secs(11)),
            Err(Duration::from_secs(3))
        );
    }

    #[test]
    fn a_limit_is_written_one_way() {
        let parse = |t: &str| toml::from_str::<RateLimit>(t);
        assert_eq!(
            parse("per_minute = 1000").unwrap(),
            RateLimit {
                requests: 1000,
                window_seconds: 60,
                documented: false,
            }
        );
        assert_eq!(
            parse("requests = 3\nwindow_seconds = 5").unwrap(),
            RateLimit {
                requests: 3,
                window_seconds: 5,
                documented: false,
            }
        );
        let documented = parse("documented = true").unwrap();
        assert!(documented.documented);
        assert_eq!(documented.in_era(crate::era::Era::NOW).requests, 1000);
        let beta = crate::era::Era::new(Some("2020-05".parse().unwrap()));
        assert_eq!(documented.in_era(beta).requests, 30);
        assert!(parse("documented = true\nper_minute = 5").is_err());
        // Written back as it was read.
        let text = toml::to_string(&documented).unwrap();
        assert_eq!(parse(&text).unwrap(), documented);
        assert!(parse("per_minute = 1\nrequests = 2").is_err());
        assert!(parse("window_seconds = 2").is_err());
        assert!(parse("per_minute = 0").is_err());
        assert!(parse("per_second = 3").is_err());
    }
}
