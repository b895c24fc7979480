//! One rule for tests that need something outside the crate (Pebble, Docker, an image, lego,
//! certbot, dig): outside CI they say what is missing and skip; in CI, where
//! [`REQUIRE_ALL_ENV`] is set, a missing piece fails the test, so CI never passes by skipping.
//!
//! A skip is never silent. The test harness counts a skipped test as passed and keeps its
//! output, so each skip is written straight to the terminal when it happens (past the
//! harness's capture), numbered within its test binary, with the test's name; and when the
//! binary runs through the workspace's runner (`ci/test-binary`, set in `.cargo/config.toml`,
//! so under `cargo test` and `cargo nextest`), the skip is also appended to the file named by
//! [`SKIPS_FILE_ENV`], which the runner prints after the binary's own result line, counted.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Set (to anything but empty or `0`) by `.ci/run`: every missing piece is a failure.
pub const REQUIRE_ALL_ENV: &str = "GANDI_E2E_REQUIRE_ALL";

/// Set by `ci/test-binary` to a file the test binary appends its skips to, one per line.
pub const SKIPS_FILE_ENV: &str = "GANDI_E2E_SKIPS";

/// The skips of this process so far.
static SKIPPED: AtomicUsize = AtomicUsize::new(0);

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
///     mock_gandi::require::skip_or_fail("Pebble", "apt-get install -y pebble");
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

/// Writes the skip to the terminal now, uncaptured, and to the runner's file.
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
    if let Some(path) = std::env::var_os(SKIPS_FILE_ENV).filter(|p| !p.is_empty()) {
        let one_line = line.replace('\n', " ");
        let written = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .and_then(|mut file| file.write_all(format!("{one_line}\n").as_bytes()));
        if let Err(e) = written {
            let _ = std::io::stderr().write_all(
                format!("SKIPPED (not counted: {SKIPS_FILE_ENV} cannot be written: {e})\n")
                    .as_bytes(),
            );
        }
    }
}
