//! The rule for tests that need something outside the crate ([`mock_gandi::require`]: skip
//! with a visible, counted line outside CI, fail in CI), and its Pebble check.

pub use mock_gandi::require::{REQUIRE_ALL_ENV, SKIPS_FILE_ENV, require_all, skip_or_fail};

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
