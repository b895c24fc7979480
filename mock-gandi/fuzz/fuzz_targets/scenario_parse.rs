//! Arbitrary text as a scenario file: parsed or refused with an error naming the file, never a
//! panic. Stand-in: `harness/tests/hostile_scenarios.rs`.
#![no_main]

use std::path::Path;

use harness::scenario::Scenario;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = Scenario::parse(Path::new("fuzzed.toml"), text) {
        assert!(e.to_string().contains("fuzzed.toml"), "{e}");
    }
});
