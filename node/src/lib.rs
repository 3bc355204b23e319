//! The RustFS storage server.

pub mod erasure;
pub mod object;
pub mod store;
