//! The RustFS storage server.

pub mod config;
pub mod erasure;
pub mod heal;
pub mod lifecycle;
pub mod metrics;
pub mod object;
pub mod rpc;
pub mod s3;
pub(crate) mod scanner;
pub mod server;
pub mod store;
