//! Arbitrary bytes as the first thing a client sends the proxy: it opens the tunnel (200) only
//! for a CONNECT to a Gandi host, refuses everything else with a 4xx, and never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mock_gandi::fuzzing::check_connect_head(data);
});
