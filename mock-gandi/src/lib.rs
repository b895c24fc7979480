//! Placeholder
pub mod xmlrpc;
