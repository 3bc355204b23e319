//! `rustfs-controlplane serve` configuration: flags with `RUSTFS_CP_*` env forms and an
//! optional TOML file (`--config`), resolved defaults < file < env < flag, then validated once.

use crate::poller::PollerConfig;
use clap::{Parser, Subcommand, ValueEnum};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "rustfs-controlplane",
    version,
    about = "RustFS control plane: topology, health watching and events"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the REST API and poll every registered cluster.
    Serve(ServeArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Flags (each also from its env var); unset ones fall back to the file, then the defaults.
#[derive(Debug, Clone, Default, Parser)]
pub struct ServeArgs {
    /// TOML file with any of the settings below (snake_case keys).
    #[arg(long, env = "RUSTFS_CP_CONFIG")]
    pub config: Option<PathBuf>,
    /// SQLite database file, created if missing.
    #[arg(long, env = "RUSTFS_CP_DB")]
    pub db: Option<PathBuf>,
    /// Address to serve the API on (default 127.0.0.1:7070; port 0 picks a free one).
    #[arg(long, env = "RUSTFS_CP_LISTEN")]
    pub listen: Option<String>,
    /// PEM certificate chain to serve HTTPS with (leaf first); needs --tls-key.
    #[arg(long, env = "RUSTFS_CP_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert; needs --tls-cert.
    #[arg(long, env = "RUSTFS_CP_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// Where the admin token is written at first start (default: `admin.token` next to the db).
    #[arg(long, env = "RUSTFS_CP_ADMIN_TOKEN_FILE")]
    pub admin_token_file: Option<PathBuf>,
    /// Key sealing stored credentials, created at first start (default: `controlplane.key` next
    /// to the db). Back it up with the database.
    #[arg(long, env = "RUSTFS_CP_SECRET_KEY_FILE")]
    pub secret_key_file: Option<PathBuf>,
    /// Directory release binaries are kept in, by sha256 (default: `releases` next to the db).
    #[arg(long, env = "RUSTFS_CP_RELEASES_DIR")]
    pub releases_dir: Option<PathBuf>,
    /// Time a client has to send a request's whole head, and to finish the TLS handshake, in
    /// milliseconds (default 10000); slower connections are closed.
    #[arg(long, env = "RUSTFS_CP_HEADER_READ_TIMEOUT_MILLIS")]
    pub header_read_timeout_millis: Option<u64>,
    /// A connection that reads and writes nothing for this long is closed, in milliseconds
    /// (default 60000): idle keep-alive connections and clients stalled mid-request.
    #[arg(long, env = "RUSTFS_CP_IDLE_TIMEOUT_MILLIS")]
    pub idle_timeout_millis: Option<u64>,
    /// Connections served at once (default 1024); more wait in the listen backlog.
    #[arg(long, env = "RUSTFS_CP_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Largest request body accepted, in bytes (default 1048576); larger ones are refused
    /// with 413 before they are read.
    #[arg(long, env = "RUSTFS_CP_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Time between poll rounds, in milliseconds (default 2000).
    #[arg(long, env = "RUSTFS_CP_POLL_INTERVAL_MILLIS")]
    pub poll_interval_millis: Option<u64>,
    /// Deadline of one request to a node, in milliseconds (default 2000).
    #[arg(long, env = "RUSTFS_CP_POLL_TIMEOUT_MILLIS")]
    pub poll_timeout_millis: Option<u64>,
    /// Nodes polled at once (default 32).
    #[arg(long, env = "RUSTFS_CP_POLL_CONCURRENCY")]
    pub poll_concurrency: Option<usize>,
    /// Failed polls in a row before a node is down (default 2).
    #[arg(long, env = "RUSTFS_CP_DOWN_AFTER")]
    pub down_after: Option<u32>,
    /// Days events are kept; older ones are deleted every hour (default 30; 0 keeps them
    /// forever).
    #[arg(long, env = "RUSTFS_CP_EVENT_RETENTION_DAYS")]
    pub event_retention_days: Option<u32>,
    /// Days audit entries are kept; older ones are deleted every hour (default 90; 0 keeps
    /// them forever).
    #[arg(long, env = "RUSTFS_CP_AUDIT_RETENTION_DAYS")]
    pub audit_retention_days: Option<u32>,
    /// Log line format (default text).
    #[arg(long, env = "RUSTFS_CP_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
}

/// The config file: the same settings as the flags.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    db: Option<PathBuf>,
    listen: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    admin_token_file: Option<PathBuf>,
    secret_key_file: Option<PathBuf>,
    releases_dir: Option<PathBuf>,
    header_read_timeout_millis: Option<u64>,
    idle_timeout_millis: Option<u64>,
    max_connections: Option<usize>,
    max_body_bytes: Option<usize>,
    poll_interval_millis: Option<u64>,
    poll_timeout_millis: Option<u64>,
    poll_concurrency: Option<usize>,
    down_after: Option<u32>,
    event_retention_days: Option<u32>,
    audit_retention_days: Option<u32>,
    log_format: Option<LogFormat>,
}

/// The resolved, validated settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub db: PathBuf,
    pub listen: String,
    /// Certificate and key to serve HTTPS with; `None`: plain HTTP.
    pub tls: Option<TlsFiles>,
    pub admin_token_file: PathBuf,
    pub secret_key_file: PathBuf,
    pub releases_dir: PathBuf,
    pub http: HttpConfig,
    pub poller: PollerConfig,
    pub retention: RetentionConfig,
    pub log_format: LogFormat,
}

/// PEM files of the serving certificate (chain, leaf first) and its private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Limits on every client connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// Time to send a request's whole head (and to finish the TLS handshake).
    pub header_read_timeout: Duration,
    /// A connection with no byte read or written for this long is closed.
    pub idle_timeout: Duration,
    /// Connections served at once; further ones wait in the listen backlog.
    pub max_connections: usize,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
}

/// How long history is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionConfig {
    /// Events older than this are deleted; `None` keeps them forever.
    pub events_max_age: Option<Duration>,
    /// Audit entries older than this are deleted; `None` keeps them forever.
    pub audit_max_age: Option<Duration>,
    /// Time between two prunes (the first runs at start). One hour; tests set it shorter.
    pub every: Duration,
}

/// Default of `event_retention_days`.
pub const DEFAULT_EVENT_RETENTION_DAYS: u32 = 30;
/// Default of `audit_retention_days`.
pub const DEFAULT_AUDIT_RETENTION_DAYS: u32 = 90;
/// Longest retention accepted (100 years).
const MAX_RETENTION_DAYS: u32 = 36_500;
/// Default of `max_body_bytes`: JSON bodies are small.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1 << 20;

fn days(d: u32) -> Option<Duration> {
    (d > 0).then(|| Duration::from_secs(u64::from(d) * 86_400))
}

impl Config {
    /// Resolves flags/env over the file over defaults, then validates.
    pub fn resolve(args: ServeArgs) -> Result<Config, String> {
        let file = match &args.config {
            Some(p) => read_file(p)?,
            None => FileConfig::default(),
        };
        let db = args.db.or(file.db).ok_or(
            "no database given: pass --db PATH (or RUSTFS_CP_DB, or `db` in the config file)",
        )?;
        let dir = db
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let tls = match (
            args.tls_cert.or(file.tls_cert),
            args.tls_key.or(file.tls_key),
        ) {
            (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
            (None, None) => None,
            (Some(_), None) => return Err(half_tls("tls_cert", "tls_key")),
            (None, Some(_)) => return Err(half_tls("tls_key", "tls_cert")),
        };
        let millis = |flag: Option<u64>, file: Option<u64>, default: u64| {
            Duration::from_millis(flag.or(file).unwrap_or(default))
        };
        let cfg = Config {
            listen: args
                .listen
                .or(file.listen)
                .unwrap_or_else(|| "127.0.0.1:7070".into()),
            tls,
            admin_token_file: args
                .admin_token_file
                .or(file.admin_token_file)
                .unwrap_or_else(|| dir.join("admin.token")),
            secret_key_file: args
                .secret_key_file
                .or(file.secret_key_file)
                .unwrap_or_else(|| dir.join("controlplane.key")),
            releases_dir: args
                .releases_dir
                .or(file.releases_dir)
                .unwrap_or_else(|| dir.join("releases")),
            http: HttpConfig {
                header_read_timeout: millis(
                    args.header_read_timeout_millis,
                    file.header_read_timeout_millis,
                    10_000,
                ),
                idle_timeout: millis(args.idle_timeout_millis, file.idle_timeout_millis, 60_000),
                max_connections: args
                    .max_connections
                    .or(file.max_connections)
                    .unwrap_or(1024),
                max_body_bytes: args
                    .max_body_bytes
                    .or(file.max_body_bytes)
                    .unwrap_or(DEFAULT_MAX_BODY_BYTES),
            },
            poller: PollerConfig {
                interval: millis(args.poll_interval_millis, file.poll_interval_millis, 2000),
                timeout: millis(args.poll_timeout_millis, file.poll_timeout_millis, 2000),
                concurrency: args
                    .poll_concurrency
                    .or(file.poll_concurrency)
                    .unwrap_or(32),
                down_after: args.down_after.or(file.down_after).unwrap_or(2),
            },
            retention: RetentionConfig {
                events_max_age: days(
                    args.event_retention_days
                        .or(file.event_retention_days)
                        .unwrap_or(DEFAULT_EVENT_RETENTION_DAYS),
                ),
                audit_max_age: days(
                    args.audit_retention_days
                        .or(file.audit_retention_days)
                        .unwrap_or(DEFAULT_AUDIT_RETENTION_DAYS),
                ),
                every: Duration::from_secs(3600),
            },
            log_format: args
                .log_format
                .or(file.log_format)
                .unwrap_or(LogFormat::Text),
            db,
        };
        cfg.validate()?;
        Ok(cfg)
    }

    fn validate(&self) -> Result<(), String> {
        let in_range = |what: &str, v: u128, lo: u128, hi: u128| {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(format!("{what} must be {lo}-{hi}, not {v}"))
            }
        };
        let p = &self.poller;
        in_range("poll_interval_millis", p.interval.as_millis(), 100, 600_000)?;
        in_range("poll_timeout_millis", p.timeout.as_millis(), 100, 60_000)?;
        in_range("poll_concurrency", p.concurrency as u128, 1, 1024)?;
        in_range("down_after", p.down_after.into(), 1, 100)?;
        let h = &self.http;
        in_range(
            "header_read_timeout_millis",
            h.header_read_timeout.as_millis(),
            100,
            600_000,
        )?;
        in_range(
            "idle_timeout_millis",
            h.idle_timeout.as_millis(),
            100,
            3_600_000,
        )?;
        in_range("max_connections", h.max_connections as u128, 1, 65_536)?;
        in_range("max_body_bytes", h.max_body_bytes as u128, 1024, 64 << 20)?;
        let max_age = u128::from(MAX_RETENTION_DAYS) * 86_400;
        for (what, age) in [
            ("event_retention_days", self.retention.events_max_age),
            ("audit_retention_days", self.retention.audit_max_age),
        ] {
            if age.is_some_and(|a| u128::from(a.as_secs()) > max_age) {
                return Err(format!(
                    "{what} must be 0-{MAX_RETENTION_DAYS} (0 keeps them forever)"
                ));
            }
        }
        if self.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(format!(
                "listen {:?} must be IP:PORT, e.g. 127.0.0.1:7070 or 0.0.0.0:7070",
                self.listen
            ));
        }
        Ok(())
    }
}

fn half_tls(given: &str, missing: &str) -> String {
    let flag = |k: &str| format!("--{}", k.replace('_', "-"));
    let env = |k: &str| format!("RUSTFS_CP_{}", k.to_uppercase());
    format!(
        "{} is set but {} is not: HTTPS needs both the certificate and its key; pass {} (or {}, \
         or `{missing}` in the config file), or drop {} for plain HTTP",
        flag(given),
        flag(missing),
        flag(missing),
        env(missing),
        flag(given),
    )
}

fn read_file(p: &Path) -> Result<FileConfig, String> {
    let text = std::fs::read_to_string(p)
        .map_err(|e| format!("cannot read the config file {}: {e}", p.display()))?;
    toml::from_str(&text).map_err(|e| format!("config file {}: {e}", p.display()))
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
