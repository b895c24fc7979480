//! Stable uuid-shaped ids made from names: an organization's id (what `sharing_id` takes), and
//! the ids of what the store numbers (snapshots, DNSSEC and TSIG keys), the same on every run.

/// A stable uuid-shaped id for an organization name (FNV-1a, twice, formatted 8-4-4-4-12).
pub fn organization_uuid(name: &str) -> String {
    let hash = |seed: u64| {
        name.bytes().fold(seed, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    let a = hash(0xcbf2_9ce4_8422_2325);
    let b = hash(0x8422_2325_cbf2_9ce4);
    let hex = format!("{a:016x}{b:016x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
