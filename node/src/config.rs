//! `rustfs server` configuration: flags with `RUSTFS_*` env forms (flag > env > default), root
//! credentials from the environment only (never a flag, which `ps` would show).

pub(crate) use crate::iam::root::secret_env;
pub use crate::iam::root::{credentials_from_env, Credentials};
use clap::{Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;

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
    pub limits: crate::server::limits::ConnLimits,
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
