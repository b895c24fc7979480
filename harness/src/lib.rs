//! The end-to-end harness: runs ACME DNS-01 issuance against Pebble, the ACME test CA, with
//! Gandi clients pointed at mock-gandi.
//!
//! Parts:
//! - `ca`: Pebble behind [`CaBackend`], as a local process ([`PebbleProcess`]) or a container
//!   ([`PebbleContainer`]); [`start_ca`] picks one (`--ca auto|container|process`); [`Lanes`]
//!   keeps long-lived Pebbles that scenarios borrow one at a time ([`CaSource`]).
//! - [`client`]: ACME clients; `builtin` is instant-acme with Rust copies of lego's `gandi`
//!   and `gandiv5` providers.
//! - [`issuance`]: one issuance end to end (mock + Pebble + client), verified.
//! - [`scenario`], [`runner`], [`transcript`], [`report`]: scenario files, their verdicts,
//!   their normalized transcripts (snapshots) and the JUnit/JSON reports; [`failure`]: what a
//!   FAIL line shows on the console (bounded; the reports keep everything); [`partition`]:
//!   `--partition K/N`; [`merge`]: the reports of a partitioned run made one.
//! - [`scaffold`]: a scenario file from a recording of real Gandi traffic (`harness scaffold`).
//! - [`twin`]: a `builtin` scenario run again through lego v5's own provider code, compared.
//! - [`sandbox`]: the sandbox network (a private network, mount and PID namespace where
//!   Gandi's names and the system resolver are the mock).
//! - [`require`]: the one rule for tests that need Pebble, Docker or a client program: skip
//!   with a reason locally, fail in CI.

mod ca;
pub mod client;
pub mod failure;
pub mod html;
pub mod http;
pub mod issuance;
pub mod merge;
pub mod partition;
pub mod progress;
pub mod report;
pub mod require;
pub mod runner;
pub mod sandbox;
pub mod scaffold;
pub mod scenario;
pub mod transcript;
pub mod twin;
mod verify;

pub use ca::{
    CaBackend, CaError, CaFuture, CaKind, CaLease, CaOptions, CaSource, DEFAULT_PEBBLE_IMAGE,
    HOW_TO_GET_PEBBLE_BINARY, HOW_TO_GET_PEBBLE_IMAGE, LOCAL_PEBBLE_IMAGE, LaneStats, Lanes,
    PEBBLE_ENV, PEBBLE_IMAGE_ENV, PebbleContainer, PebbleProcess, StopFuture, check_available,
    start_ca,
};
pub use verify::verify_chain;
