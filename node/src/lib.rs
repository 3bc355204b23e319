//! The RustFS storage server.

pub mod erasure;
pub mod store;
