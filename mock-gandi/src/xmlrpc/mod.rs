//! Legacy Gandi v4 XML-RPC API: the codec (XML only, no Gandi knowledge).

mod codec;

pub use codec::{
    CodecError, MAX_BODY_BYTES, MAX_DEPTH, MethodCall, MethodResponse, Value, encode_fault,
    encode_method_call, encode_response, parse_method_call, parse_method_response,
};
