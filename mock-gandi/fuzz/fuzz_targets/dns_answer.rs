//! Arbitrary bytes as a DNS packet, over UDP and over TCP: the server answers (an answer that
//! decodes, with the question's id) or drops the packet; it never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mock_gandi::fuzzing::check_dns(data);
});
