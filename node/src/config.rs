//! `rustfs server` configuration: flags with `RUSTFS_*` env forms (flag > env > default), root
//! credentials from the environment only (never a flag, which `ps` would show).

pub(crate) use crate::iam::root::secret_env;
pub use crate::iam::root::{credentials_from_env, Credentials};
use crate::metrics::auth::ScrapeAuth;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "rustfs",
    version,
    about = "RustFS: erasure-coded, S3-compatible object storage"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process: the size difference of the variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve S3 from the given drives: `rustfs server /data{1...4}`.
    Server(ServerConfig),
    /// Manage users, groups, policies and service accounts of a running cluster.
    Admin(crate::admin_cli::AdminArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CodecChoice {
    /// reed-solomon-simd
    RsSimd,
    /// reed-solomon-erasure (default: fastest in benches/codec.rs)
    RsErasure,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BitrotChoice {
    /// XXH3-128 (default: fastest in benches/codec.rs)
    Xxh3,
    Highway,
    Blake3,
}

#[derive(Debug, Clone, Parser)]
pub struct ServerConfig {
    /// Address to serve S3 (and health) on; `:9000` means every interface.
    #[arg(long, env = "RUSTFS_ADDRESS", default_value = ":9000")]
    pub address: String,
    /// Parity per erasure set for new objects, `EC:N` (0 ≤ N ≤ set size / 2).
    #[arg(long, env = "RUSTFS_STORAGE_CLASS_STANDARD")]
    pub storage_class_standard: Option<String>,
    /// Parity per erasure set for `x-amz-storage-class: REDUCED_REDUNDANCY` objects, `EC:N`
    /// (at most the standard parity; default `EC:1`, or `EC:0` where the standard parity is 0).
    #[arg(long, env = "RUSTFS_STORAGE_CLASS_RRS")]
    pub storage_class_rrs: Option<String>,
    /// Erasure-set size; must divide each pool's drives evenly.
    #[arg(long, env = "RUSTFS_ERASURE_SET_DRIVE_COUNT")]
    pub erasure_set_drive_count: Option<usize>,
    /// Reed-Solomon engine for new objects.
    #[arg(long, env = "RUSTFS_CODEC", value_enum, default_value = "rs-erasure")]
    pub codec: CodecChoice,
    /// Bitrot hash for new objects.
    #[arg(long, env = "RUSTFS_BITROT", value_enum, default_value = "xxh3")]
    pub bitrot: BitrotChoice,
    /// Region reported to clients (GetBucketLocation, HeadBucket).
    #[arg(long, env = "RUSTFS_REGION", default_value = "us-east-1")]
    pub region: String,
    /// Deadline of one internal RPC call (and of each chunk of a streamed one), in seconds; a
    /// peer that misses it is marked offline and probed in the background.
    #[arg(long, env = "RUSTFS_RPC_TIMEOUT_SECS", default_value_t = 10)]
    pub rpc_timeout_secs: u64,
    /// How long a request waits for an object lock before answering 503 SlowDown, in seconds.
    #[arg(long, env = "RUSTFS_LOCK_TIMEOUT_SECS", default_value_t = 30)]
    pub lock_timeout_secs: u64,
    /// Bearer token Prometheus must present to scrape `/rustfs/metrics` (at least 16
    /// characters; prefer `RUSTFS_METRICS_TOKEN` or `RUSTFS_METRICS_TOKEN_FILE`, which `ps`
    /// does not show).
    #[arg(long, env = "RUSTFS_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Serve `/rustfs/metrics` without authentication (trusted networks only).
    #[arg(long, env = "RUSTFS_METRICS_PUBLIC")]
    pub metrics_public: bool,
    /// Log line format.
    #[arg(long, env = "RUSTFS_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// PEM certificate (chain) this node serves S3 and inter-node RPC with; TLS is on when this
    /// and `--tls-key` are set (endpoints are then `https://`).
    #[arg(long, env = "RUSTFS_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,
    /// PEM private key of `--tls-cert`.
    #[arg(long, env = "RUSTFS_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,
    /// PEM certificate of the cluster CA: peers are trusted by it, and inter-node RPC requires a
    /// client certificate it signed. Required with TLS in distributed mode.
    #[arg(long, env = "RUSTFS_TLS_CA", requires = "tls_cert")]
    pub tls_ca: Option<std::path::PathBuf>,
    /// This node's address on a dedicated cluster network: inter-node RPC is answered only on
    /// connections to it (S3 and health are served on every address). Unset: RPC is answered on
    /// any address (still authenticated). The endpoints must name the nodes by these addresses.
    #[arg(long, env = "RUSTFS_CLUSTER_ADDRESS")]
    pub cluster_address: Option<std::net::IpAddr>,
    /// On a host without systemd, started as root: the user to serve as. The node binds its
    /// port, then drops to this user (and its groups) before it touches a drive.
    #[arg(long, env = "RUSTFS_RUN_AS")]
    pub run_as: Option<String>,
    #[command(flatten)]
    pub heal: crate::heal::HealConfig,
    #[command(flatten)]
    pub limits: ConnLimits,
    #[command(flatten)]
    pub audit: crate::audit::AuditConfig,
    #[command(flatten)]
    pub oidc: crate::iam::oidc::OidcConfig,
    #[command(flatten)]
    pub ldap: crate::iam::ldap::LdapConfig,
    /// Drives, one pool per argument with ellipses: `/data{1...4}`.
    #[arg(required = true, env = "RUSTFS_VOLUMES", value_delimiter = ' ')]
    pub drives: Vec<String>,
}

impl ServerConfig {
    /// How scrapes of `/rustfs/metrics` are authenticated: `--metrics-token` (or
    /// `RUSTFS_METRICS_TOKEN`, or the file `RUSTFS_METRICS_TOKEN_FILE` names, read here) or
    /// `--metrics-public`.
    pub fn scrape_auth(&self) -> Result<ScrapeAuth, String> {
        let token = match &self.metrics_token {
            Some(t) => Some(t.clone()),
            None => secret_env("RUSTFS_METRICS_TOKEN")?,
        };
        ScrapeAuth::new(token, self.metrics_public)
    }
}

/// Connection hygiene of the node's listener and the front door's signature policy
/// (`server::limits`, which re-exports it).
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

/// Parses `HOST:PORT`, `:PORT` (all interfaces) or `[V6]:PORT`.
pub fn parse_address(s: &str) -> Result<SocketAddr, String> {
    let full = if s.starts_with(':') {
        format!("0.0.0.0{s}")
    } else {
        s.to_string()
    };
    if let Ok(a) = full.parse() {
        return Ok(a);
    }
    use std::net::ToSocketAddrs;
    full.to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| format!("--address {s:?} is not HOST:PORT or :PORT"))
}

/// The cluster RPC keys from `RUSTFS_RPC_SECRET` or `RUSTFS_RPC_SECRET_FILE` (required in
/// distributed mode; see `rpc::auth`).
pub fn rpc_keys_from_env() -> Result<crate::rpc::auth::RpcKeys, String> {
    let setting = secret_env("RUSTFS_RPC_SECRET")?.ok_or_else(|| {
        "distributed mode needs the cluster RPC secret: set RUSTFS_RPC_SECRET_FILE (or RUSTFS_RPC_SECRET) to the same random secret on every node, e.g. from `openssl rand -hex 32`; rustfs-provision generates one".to_string()
    })?;
    crate::rpc::auth::RpcKeys::from_secrets(&setting).map_err(|e| e.to_string())
}

/// Fresh random credentials.
pub fn generate_credentials() -> Credentials {
    use rand::distributions::{Alphanumeric, DistString};
    let mut rng = rand::thread_rng();
    Credentials {
        access_key: Alphanumeric.sample_string(&mut rng, 20).to_uppercase(),
        secret_key: Alphanumeric.sample_string(&mut rng, 40),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(parse_address(":9000").unwrap().port(), 9000);
        assert_eq!(
            parse_address("127.0.0.2:9100").unwrap().to_string(),
            "127.0.0.2:9100"
        );
        assert!(parse_address("nope").is_err());
    }

    #[test]
    fn generated_credentials_differ() {
        let (a, b) = (generate_credentials(), generate_credentials());
        assert_ne!(a.secret_key, b.secret_key);
        assert_eq!(a.access_key.len(), 20);
    }
}
