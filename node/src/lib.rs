//! The RustFS storage server.

pub mod erasure;
