//! The end-to-end harness: runs ACME DNS-01 issuance against Pebble, the ACME test CA, with
//! Gandi clients pointed at mock-gandi.
//!
//! Parts:
//! - [`require`]: the one rule for tests that need Pebble, Docker or a client program: skip
//!   with a reason locally, fail in CI.

pub mod require;
