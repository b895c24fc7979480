//! The rate limit (`[rate_limit]` in a seed; `[gandi.rate_limit]` in a scenario): Gandi
//! documents 1000 requests a minute per address. Every client of a mock comes from loopback, so
//! one window counts every request to the Gandi APIs; one over the limit is answered 429 with
//! `Retry-After` (the seconds until the oldest counted request leaves the window) and is not
//! counted. Off unless the seed sets it.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::types::Invalid;

/// The limit as a seed writes it: `per_minute = N`, or `requests = N` with `window_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawRateLimit")]
pub struct RateLimit {
    pub requests: u32,
    pub window_seconds: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRateLimit {
    per_minute: Option<u32>,
    requests: Option<u32>,
    window_seconds: Option<u32>,
}

impl TryFrom<RawRateLimit> for RateLimit {
    type Error = Invalid;
    fn try_from(raw: RawRateLimit) -> Result<Self, Invalid> {
        let limit = match (raw.per_minute, raw.requests, raw.window_seconds) {
            (Some(n), None, None) => RateLimit {
                requests: n,
                window_seconds: 60,
            },
            (None, Some(n), window) => RateLimit {
                requests: n,
                window_seconds: window.unwrap_or(60),
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
                    "a rate limit needs per_minute, or requests (with window_seconds)",
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
                window_seconds: 60
            }
        );
        assert_eq!(
            parse("requests = 3\nwindow_seconds = 5").unwrap(),
            RateLimit {
                requests: 3,
                window_seconds: 5
            }
        );
        assert!(parse("per_minute = 1\nrequests = 2").is_err());
        assert!(parse("window_seconds = 2").is_err());
        assert!(parse("per_minute = 0").is_err());
        assert!(parse("per_second = 3").is_err());
    }
}
