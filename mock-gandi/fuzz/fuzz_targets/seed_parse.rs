//! Arbitrary text as a seed (TOML or JSON): parsed or refused with an error, never a panic;
//! what parses starts a store and its state renders.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mock_gandi::fuzzing::check_seed(data);
});
