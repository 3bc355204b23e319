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

/// An error and its sources joined with ": ", skipping a source whose text the message already
/// holds (HTTP clients wrap `connection refused` in their own words; both are worth seeing).
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Version of this build, reported by every binary: `RUSTFS_BUILD_VERSION` when it is set at
/// build time (so a test can build "the next version" from the same source), else the crate's.
pub const VERSION: &str = match option_env!("RUSTFS_BUILD_VERSION") {
    Some(v) => v,
    None => env!("CARGO_PKG_VERSION"),
};

#[cfg(test)]
mod tests {
    #[test]
    fn error_chain_joins_sources_once() {
        let inner =
            std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let outer = std::io::Error::other(inner);
        // io::Error::other displays its source's text: it is not repeated
        assert_eq!(super::error_chain(&outer), "connection refused");
        #[derive(Debug)]
        struct Wrap(std::io::Error);
        impl std::fmt::Display for Wrap {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("request failed")
            }
        }
        impl std::error::Error for Wrap {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let e = Wrap(std::io::Error::other("connection refused"));
        assert_eq!(super::error_chain(&e), "request failed: connection refused");
    }
}
