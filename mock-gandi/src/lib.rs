//! mock-gandi: an emulator of Gandi's DNS APIs that behaves like the real service on the wire.
//!
//! Parts:
//! - [`ZoneStore`] (`store`): the only source of truth: domains, LiveDNS rrsets, legacy zones
//!   and their versions, credentials.
//! - `livedns`: the LiveDNS v5 REST API, on the current host (`/v5/livedns`, Bearer/Apikey)
//!   and the old one (`/api/v5`, X-Api-Key).
//! - `xmlrpc`: the legacy v4 XML-RPC API.
//! - `dns`: an authoritative DNS server (UDP and TCP on one port) answering from the store.
//! - `admin`: the `/_mock/...` API, the request and DNS journals.
//! - [`era`]: Gandi as of a date (`as_of`): the one place that says what Gandi did when.
//! - [`MockGandi`]: the in-process handle; `mock-gandi serve` is the same thing as a process.
//! - [`replay`]: recorded real traffic replayed against a fresh mock (`mock-gandi replay`).
//! - [`record`]: real Gandi traffic recorded through the mock's proxy (`mock-gandi record`).
//! - [`require`]: the rule for tests that need something outside the crate (skip or fail).
//! - `container` (feature `container`): the mock-gandi image as a testcontainers `Image`.

pub mod store;

pub use store::{Seed, ZoneStore};

mod admin;
#[cfg(feature = "container")]
pub mod container;
mod dns;
mod domain_api;
pub mod era;
mod faults;
#[doc(hidden)]
pub mod fuzzing;
pub mod journal;
mod livedns;
pub mod record;
pub mod replay;
pub mod require;
mod server;
mod state;
pub mod xmlrpc;

pub use journal::{DnsEntry, Journal, RequestEntry};
pub use server::{gandi_router, router};
pub use state::{AppState, Limits, Shutdown, ShutdownTrigger};
mod handle;
mod listen;
mod proxy;
mod proxy_hosts;
mod tls;

pub use handle::{MockGandi, MockGandiBuilder, StartError};
pub use proxy_hosts::names_in as gandi_names_in;
