//! Feeds arbitrary bytes to the XML-RPC parser: it must return (Ok or a typed error), never
//! panic, and whatever it accepts must encode to a body it accepts again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mock_gandi::xmlrpc::{encode_method_call, parse_method_call, parse_method_response};

fuzz_target!(|data: &[u8]| {
    let _ = parse_method_response(data);
    if let Ok(call) = parse_method_call(data) {
        let again = encode_method_call(&call.method_name, &call.params);
        assert!(parse_method_call(again.as_bytes()).is_ok());
    }
});
