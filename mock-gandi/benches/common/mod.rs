//! What the ratio benches share: a measurement against its baseline in alternating rounds, so
//! that this machine's drift (a shared VM swings by a third between seconds) falls on both
//! sides alike; the figure is the median of the rounds' ratios.

use std::future::Future;

/// Rounds each pair is measured in (`BENCH_ROUNDS`, default 7).
pub fn rounds() -> usize {
    std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(7)
}

/// Median rates of `baseline` and `measured`, and the median of their per-round ratios
/// (measured / baseline). Each round runs both, in turn, the order swapped every round.
pub async fn paired<B, BF, M, MF>(
    rounds: usize,
    mut baseline: B,
    mut measured: M,
) -> (f64, f64, f64)
where
    B: FnMut() -> BF,
    BF: Future<Output = f64>,
    M: FnMut() -> MF,
    MF: Future<Output = f64>,
{
    let mut base = Vec::with_capacity(rounds);
    let mut mine = Vec::with_capacity(rounds);
    for round in 0..rounds {
        if round % 2 == 0 {
            base.push(baseline().await);
            mine.push(measured().await);
        } else {
            mine.push(measured().await);
            base.push(baseline().await);
        }
    }
    let ratios: Vec<f64> = mine.iter().zip(&base).map(|(m, b)| m / b).collect();
    (median(base), median(mine), median(ratios))
}

pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}
