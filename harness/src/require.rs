//! One rule for tests that need something outside the crate (Pebble, Docker, lego, certbot):
//! outside CI they say what is missing and skip; in CI, where [`REQUIRE_ALL_ENV`] is set, a
//! missing piece fails the test, so CI never passes by skipping.
//!
//! A skip is never silent: the test harness counts a skipped test as passed and keeps its
//! output, so each skip is written straight to the terminal when it happens (past the
//! harness's capture), numbered within its test binary, with the test's name.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The skips of this process so far.
static SKIPPED: AtomicUsize = AtomicUsize::new(0);

/// Writes the skip to the terminal now, uncaptured.
fn record_skip(line: &str) {
    let n = SKIPPED.fetch_add(1, Ordering::SeqCst) + 1;
    // Straight to the file descriptor: the test harness captures only `eprint!`.
    let _ = std::io::stderr().write_all(
        format!(
            "SKIPPED (skip {n} of this test binary, counted as passed: set {REQUIRE_ALL_ENV}=1 \
             to fail instead): {line}\n"
        )
        .as_bytes(),
    );
}

/// Set (to anything but empty or `0`) by `.ci/run`: every missing piece is a failure.
pub const REQUIRE_ALL_ENV: &str = "GANDI_E2E_REQUIRE_ALL";

/// Whether missing pieces must fail instead of skip.
pub fn require_all() -> bool {
    std::env::var_os(REQUIRE_ALL_ENV).is_some_and(|v| !v.is_empty() && v != "0")
}

/// Reports that `what` is missing and how to get it. Returns (so the caller can `return` and
/// skip) when skipping is allowed; panics, failing the test, when [`REQUIRE_ALL_ENV`] is set.
///
/// ```no_run
/// # fn pebble_found() -> bool { false }
/// if !pebble_found() {
///     harness::require::skip_or_fail("Pebble", "apt-get install -y pebble");
///     return;
/// }
/// ```
#[track_caller]
pub fn skip_or_fail(what: &str, how_to_get: &str) {
    if require_all() {
        panic!("{what} is required ({REQUIRE_ALL_ENV} is set) but missing: {how_to_get}");
    }
    let test = std::thread::current()
        .name()
        .map(|n| format!("{n}: "))
        .unwrap_or_default();
    record_skip(&format!("{test}{what} is missing: {how_to_get}"));
}

/// Whether Pebble of `kind` can start here; when not, [`skip_or_fail`] with the reason (the
/// caller returns or goes on to the next kind).
pub async fn pebble(kind: crate::CaKind) -> bool {
    match crate::check_available(kind).await {
        Ok(()) => true,
        Err(e) => {
            skip_or_fail(&format!("Pebble ({kind} backend)"), &e.to_string());
            false
        }
    }
}
