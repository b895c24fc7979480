//! Feeds arbitrary bytes to the XML-RPC parser: it must return (Ok or a typed error), never
//! panic, and whatever it accepts must encode to a body it accepts again. Stand-in:
//! `mock-gandi/tests/xmlrpc_codec.rs`; both run `mock_gandi::fuzzing::check_xmlrpc`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mock_gandi::fuzzing::check_xmlrpc(data);
});
