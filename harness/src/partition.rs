//! `--partition K/N`: one of N disjoint shares of the scenarios, for N CI jobs that run the
//! corpus together. A scenario belongs to share `hash(name) mod N + 1`, as nextest's `hash:`
//! partitions: adding or removing a scenario moves no other one. The hash is 64-bit FNV-1a,
//! written out here, so a scenario's share is the same on every machine and every Rust version
//! (the standard library's `DefaultHasher` promises neither).

use std::fmt;
use std::str::FromStr;

/// Share `k` (from 1) of `n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    k: u64,
    n: u64,
}

impl Partition {
    /// Whether the scenario named `name` (its file name without `.toml`) is in this share.
    pub fn contains(&self, name: &str) -> bool {
        fnv1a(name.as_bytes()) % self.n + 1 == self.k
    }
}

impl FromStr for Partition {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let usage = || format!("`{text}` is not K/N (share K of N, 1 <= K <= N), e.g. 2/4");
        let (k, n) = text.split_once('/').ok_or_else(usage)?;
        let (k, n): (u64, u64) = (
            k.trim().parse().map_err(|_| usage())?,
            n.trim().parse().map_err(|_| usage())?,
        );
        if n == 0 || k == 0 || k > n {
            return Err(format!(
                "`{text}`: K must be between 1 and N (share K of N), e.g. 1/{}",
                n.max(1)
            ));
        }
        Ok(Partition { k, n })
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

/// 64-bit FNV-1a (offset basis 0xcbf29ce484222325, prime 0x100000001b3).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_gives_the_published_values() {
        // From the FNV reference test vectors.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn every_name_is_in_exactly_one_share() {
        let names: Vec<String> = (0..500).map(|i| format!("scenario-{i}")).collect();
        for n in 1..=7 {
            let shares: Vec<Partition> = (1..=n)
                .map(|k| format!("{k}/{n}").parse().unwrap())
                .collect();
            for name in &names {
                let holders = shares.iter().filter(|p| p.contains(name)).count();
                assert_eq!(holders, 1, "{name} in {holders} shares of {n}");
            }
        }
    }

    #[test]
    fn bad_shares_are_refused_with_what_is_expected() {
        for bad in ["0/3", "4/3", "x", "1/0", "1/x", "/3", "-1/3", ""] {
            let e = bad.parse::<Partition>().unwrap_err();
            assert!(
                e.contains("K/N") || e.contains("between 1 and N"),
                "{bad}: {e}"
            );
        }
        assert_eq!("3/3".parse::<Partition>().unwrap().to_string(), "3/3");
    }
}
