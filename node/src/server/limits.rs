//! Connection hygiene of the node's listener (S3, health, metrics and RPC share it): how long a
//! client may take to send headers, how long a connection may stay silent, how many are served
//! at once, and how large headers and XML bodies may be — plus the signature policy that the
//! front door enforces before a request reaches the S3 layer (README, "Security").

use clap::Args;
use std::time::Duration;

#[derive(Debug, Clone, Args)]
pub struct ConnLimits {
    /// Seconds a client has to send a request's headers, counted from when the connection
    /// starts waiting for the request (a slowloris guard; it also closes keep-alive connections
    /// idle that long).
    #[arg(long, env = "RUSTFS_HEADER_TIMEOUT_SECS", default_value_t = 30)]
    pub header_timeout_secs: u64,
    /// Seconds a connection may move no byte either way before it is closed (a stalled upload
    /// or a client that stopped reading).
    #[arg(long, env = "RUSTFS_IDLE_TIMEOUT_SECS", default_value_t = 300)]
    pub idle_timeout_secs: u64,
    /// Most connections (clients and peers) served at once; further ones wait in the listen
    /// backlog until one closes.
    #[arg(long, env = "RUSTFS_MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,
    /// Largest request head (request line and headers) in bytes.
    #[arg(long, env = "RUSTFS_MAX_HEADER_BYTES", default_value_t = 64 * 1024)]
    pub max_header_bytes: usize,
    /// Largest XML request body (CompleteMultipartUpload, DeleteObjects, …) in bytes.
    #[arg(long, env = "RUSTFS_MAX_XML_BODY_BYTES", default_value_t = 4 << 20)]
    pub max_xml_body_bytes: usize,
    /// Accept AWS Signature Version 2 (deprecated: weaker, no payload signing). Off: such
    /// requests get 400 InvalidRequest.
    #[arg(long, env = "RUSTFS_ALLOW_SIGV2")]
    pub allow_sigv2: bool,
    /// Seconds a stopping node (SIGTERM) keeps serving while `/rustfs/health/ready` answers 503
    /// `draining`, so load balancers move traffic away before it stops accepting connections.
    #[arg(long, env = "RUSTFS_SHUTDOWN_DRAIN_SECS", default_value_t = 0)]
    pub shutdown_drain_secs: u64,
    /// Seconds requests in flight get to finish once a stopping node no longer accepts
    /// connections; what is still open then is closed.
    #[arg(long, env = "RUSTFS_SHUTDOWN_TIMEOUT_SECS", default_value_t = 10)]
    pub shutdown_timeout_secs: u64,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits {
            header_timeout_secs: 30,
            idle_timeout_secs: 300,
            shutdown_drain_secs: 0,
            shutdown_timeout_secs: 10,
            max_connections: 4096,
            max_header_bytes: 64 * 1024,
            max_xml_body_bytes: 4 << 20,
            allow_sigv2: false,
        }
    }
}

impl ConnLimits {
    pub fn validate(&self) -> Result<(), String> {
        if self.header_timeout_secs == 0 || self.idle_timeout_secs == 0 {
            return Err("--header-timeout-secs and --idle-timeout-secs must be at least 1".into());
        }
        if self.max_connections == 0 {
            return Err("--max-connections must be at least 1".into());
        }
        if self.max_header_bytes < 8192 {
            return Err("--max-header-bytes must be at least 8192".into());
        }
        if self.shutdown_drain_secs > 3600 {
            return Err("--shutdown-drain-secs must be at most 3600".into());
        }
        if !(1..=3600).contains(&self.shutdown_timeout_secs) {
            return Err("--shutdown-timeout-secs must be 1 to 3600".into());
        }
        Ok(())
    }

    pub fn shutdown_drain(&self) -> Duration {
        Duration::from_secs(self.shutdown_drain_secs)
    }

    pub fn shutdown_timeout(&self) -> Duration {
        Duration::from_secs(self.shutdown_timeout_secs)
    }

    pub fn header_timeout(&self) -> Duration {
        Duration::from_secs(self.header_timeout_secs)
    }

    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }
}

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
