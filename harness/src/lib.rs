//! The end-to-end harness: runs ACME DNS-01 issuance against Pebble, the ACME test CA, with
//! Gandi clients pointed at mock-gandi.
//!
//! Parts:
//! - `ca`: Pebble behind [`CaBackend`], as a local process ([`PebbleProcess`]) or a container
//!   ([`PebbleContainer`]); [`start_ca`] picks one (`--ca auto|container|process`).
//! - [`require`]: the one rule for tests that need Pebble, Docker or a client program: skip
//!   with a reason locally, fail in CI.

mod ca;
pub mod require;

pub use ca::{
    CaBackend, CaError, CaFuture, CaKind, CaOptions, DEFAULT_PEBBLE_IMAGE,
    HOW_TO_GET_PEBBLE_BINARY, HOW_TO_GET_PEBBLE_IMAGE, PEBBLE_ENV, PEBBLE_IMAGE_ENV,
    PebbleContainer, PebbleProcess, start_ca,
};
