//! A skipped test is never read as a pass. Run as `cargo test` runs it (through the workspace's
//! runner, `ci/test-binary`, set in `.cargo/config.toml`), a test binary whose test skips ends
//! with the skip counted and named after the binary's own result line; with
//! `GANDI_E2E_REQUIRE_ALL` set (CI) the same test fails; a binary that is not a test (`cargo
//! run`) goes through the runner unchanged.

use std::path::PathBuf;
use std::process::{Command, Output};

use mock_gandi::require::{REQUIRE_ALL_ENV, SKIPS_FILE_ENV, skip_or_fail};

/// Set in the child process: only there does [`a_test_that_skips`] skip.
const CHILD: &str = "GANDI_E2E_REQUIRE_TEST_CHILD";

fn runner() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ci/test-binary")
}

/// This test binary, run through the runner with `args`, stderr merged into stdout in order.
fn through_the_runner(args: &str, require_all: bool) -> (Output, String) {
    let exe = std::env::current_exe().unwrap();
    let mut command = Command::new("bash");
    command
        .arg("-c")
        .arg(format!("exec \"$0\" \"$1\" {args} 2>&1"))
        .arg(runner())
        .arg(&exe)
        .env(CHILD, "1")
        .env_remove(SKIPS_FILE_ENV)
        .env_remove(REQUIRE_ALL_ENV);
    if require_all {
        command.env(REQUIRE_ALL_ENV, "1");
    }
    let out = command.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (out, text)
}

#[test]
fn a_test_that_skips() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    skip_or_fail("a deliberately missing piece", "nothing to install");
}

#[test]
fn a_skip_is_counted_after_the_result_line_and_fails_in_ci() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let (out, text) = through_the_runner("--exact a_test_that_skips --test-threads 1", false);
    assert!(out.status.success(), "{text}");
    let result = text
        .find("test result: ok. 1 passed")
        .unwrap_or_else(|| panic!("no result line: {text}"));
    let summary = text
        .find("SKIPPED: 1 of the tests counted as passed above by require-")
        .unwrap_or_else(|| panic!("the skip is not counted after the tests: {text}"));
    assert!(
        summary > result,
        "the count comes before the result line: {text}"
    );
    assert!(
        text[summary..].contains(
            "  - a_test_that_skips: a deliberately missing piece is missing: nothing to install"
        ),
        "the skipped test is not named: {text}"
    );

    // A binary with nothing skipped ends on its result line.
    let (out, text) = through_the_runner("--exact no_such_test", false);
    assert!(out.status.success(), "{text}");
    assert!(!text.contains("SKIPPED"), "{text}");

    // In CI the same test fails, naming what is missing.
    let (out, text) = through_the_runner("--exact a_test_that_skips", true);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("a deliberately missing piece is required (GANDI_E2E_REQUIRE_ALL is set)"),
        "{text}"
    );
}

#[test]
fn a_binary_that_is_not_a_test_goes_through_the_runner_unchanged() {
    let out = Command::new(runner())
        .args(["printf", "%s|%s", "one two", ""])
        .env_remove(SKIPS_FILE_ENV)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "one two|");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status = Command::new(runner()).args(["false"]).status().unwrap();
    assert_eq!(status.code(), Some(1), "the exit status is kept");
}
