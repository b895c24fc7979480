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

/// The ordinary user tests run programs as when they run as root (made with `useradd` the
/// first time).
pub const TESTER: &str = "gandi-e2e-tester";

/// A command that runs `program` as an ordinary user: itself when this process is not root,
/// else through `runuser` as [`TESTER`]. `None` (after [`skip_or_fail`]) when root cannot make
/// that user.
pub fn as_ordinary_user(program: &std::path::Path) -> Option<std::process::Command> {
    use std::process::Command;
    if !rustix::process::geteuid().is_root() {
        return Some(Command::new(program));
    }
    let exists = Command::new("id")
        .arg(TESTER)
        .output()
        .is_ok_and(|o| o.status.success());
    if !exists {
        let made = Command::new("useradd")
            .args([
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                TESTER,
            ])
            .status();
        if !made.is_ok_and(|s| s.success()) {
            skip_or_fail(
                "an ordinary user for the test",
                "useradd failed (run as root on a system with shadow-utils)",
            );
            return None;
        }
    }
    let mut c = Command::new("runuser");
    c.args(["-u", TESTER, "--"]).arg(program);
    Some(c)
}
