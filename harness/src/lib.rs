//! harness: runs ACME DNS-01 issuance against Pebble with Gandi clients pointed at mock-gandi.

pub mod client;
