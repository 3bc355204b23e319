//! The RustFS storage server.

pub mod admin_cli;
pub mod audit;
pub mod config;
pub mod erasure;
pub mod heal;
pub mod iam;
pub mod lifecycle;
pub mod metrics;
pub mod object;
pub mod rpc;
pub mod s3;
pub(crate) mod scanner;
pub mod server;
pub mod store;

#[cfg(test)]
mod layers;
