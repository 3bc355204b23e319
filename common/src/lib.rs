//! Shared types for RustFS Cluster.
//!
//! Everything here is pure (no I/O) so the node, the provisioner and the control plane agree on the
//! same rules: how pool arguments expand into drives ([`ellipsis`], [`endpoint`]), how drives form
//! erasure sets and what their quorums are ([`layout`]), which bucket and object names are valid
//! ([`names`]), the metric table the node and the control plane are checked against
//! ([`metric_table`]), and the IAM policy language access control is built on ([`policy`]).

pub mod admin;
pub mod ellipsis;
pub mod endpoint;
pub mod layout;
pub mod metric_table;
pub mod names;
pub mod policy;

/// Version of this build, reported by every binary: `RUSTFS_BUILD_VERSION` when it is set at
/// build time (so a test can build "the next version" from the same source), else the crate's.
pub const VERSION: &str = match option_env!("RUSTFS_BUILD_VERSION") {
    Some(v) => v,
    None => env!("CARGO_PKG_VERSION"),
};
