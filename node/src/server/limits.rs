//! Connection hygiene of the node's listener (S3, health, metrics and RPC share it): how long a
//! client may take to send headers, how long a connection may stay silent, how many are served
//! at once, and how large headers and XML bodies may be — plus the signature policy that the
//! front door enforces before a request reaches the S3 layer (README, "Security"). The settings
//! are a group of `rustfs server` flags, so they are defined with the rest ([`ConnLimits`] is
//! `config::ConnLimits`).

pub use crate::config::ConnLimits;

/// Raises this process's open-file limit to its hard limit: every connection and every open
/// shard is a descriptor, and the usual soft limit (1024) is far below what a node serves.
pub fn raise_open_files_limit() {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut lim = getrlimit(Resource::Nofile);
    if lim.current < lim.maximum {
        lim.current = lim.maximum;
        if let Err(e) = setrlimit(Resource::Nofile, lim) {
            tracing::warn!(error = %e, "could not raise the open-files limit");
        }
    }
}
