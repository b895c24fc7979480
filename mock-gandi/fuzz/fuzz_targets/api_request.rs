//! Arbitrary requests through the direct listener's router: every LiveDNS path, query, header
//! and JSON body extractor, the v4 endpoint and the admin API. Every request is answered with
//! a status, never a panic.
//!
//! Input: one byte of choices (a valid credential or not, a JSON content type or not, the
//! method, the API prefix), then the rest of the path up to a newline, header lines up to an
//! empty line, and the body.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mock_gandi::fuzzing::check_api(data);
});
