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
    /// Where the admin token is written at first start (default: `admin.token` next to the db).
    #[arg(long, env = "RUSTFS_CP_ADMIN_TOKEN_FILE")]
    pub admin_token_file: Option<PathBuf>,
    /// Key sealing stored credentials, created at first start (default: `controlplane.key` next
    /// to the db). Back it up with the database.
    #[arg(long, env = "RUSTFS_CP_SECRET_KEY_FILE")]
    pub secret_key_file: Option<PathBuf>,
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
    admin_token_file: Option<PathBuf>,
    secret_key_file: Option<PathBuf>,
    poll_interval_millis: Option<u64>,
    poll_timeout_millis: Option<u64>,
    poll_concurrency: Option<usize>,
    down_after: Option<u32>,
    event_retention_days: Option<u32>,
    log_format: Option<LogFormat>,
}

/// The resolved, validated settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub db: PathBuf,
    pub listen: String,
    pub admin_token_file: PathBuf,
    pub secret_key_file: PathBuf,
    pub poller: PollerConfig,
    pub retention: RetentionConfig,
    pub log_format: LogFormat,
}

/// How long events are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionConfig {
    /// Events older than this are deleted; `None` keeps them forever.
    pub max_age: Option<Duration>,
    /// Time between two prunes (the first runs at start). One hour; tests set it shorter.
    pub every: Duration,
}

/// Default of `event_retention_days`.
pub const DEFAULT_EVENT_RETENTION_DAYS: u32 = 30;
/// Longest `event_retention_days` accepted (100 years).
const MAX_EVENT_RETENTION_DAYS: u32 = 36_500;

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
        let cfg = Config {
            listen: args
                .listen
                .or(file.listen)
                .unwrap_or_else(|| "127.0.0.1:7070".into()),
            admin_token_file: args
                .admin_token_file
                .or(file.admin_token_file)
                .unwrap_or_else(|| dir.join("admin.token")),
            secret_key_file: args
                .secret_key_file
                .or(file.secret_key_file)
                .unwrap_or_else(|| dir.join("controlplane.key")),
            poller: PollerConfig {
                interval: Duration::from_millis(
                    args.poll_interval_millis
                        .or(file.poll_interval_millis)
                        .unwrap_or(2000),
                ),
                timeout: Duration::from_millis(
                    args.poll_timeout_millis
                        .or(file.poll_timeout_millis)
                        .unwrap_or(2000),
                ),
                concurrency: args
                    .poll_concurrency
                    .or(file.poll_concurrency)
                    .unwrap_or(32),
                down_after: args.down_after.or(file.down_after).unwrap_or(2),
            },
            retention: RetentionConfig {
                max_age: match args
                    .event_retention_days
                    .or(file.event_retention_days)
                    .unwrap_or(DEFAULT_EVENT_RETENTION_DAYS)
                {
                    0 => None,
                    days => Some(Duration::from_secs(u64::from(days) * 86_400)),
                },
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
        let p = &self.poller;
        if !(100..=600_000).contains(&p.interval.as_millis()) {
            return Err("poll_interval_millis must be 100-600000".into());
        }
        if !(100..=60_000).contains(&p.timeout.as_millis()) {
            return Err("poll_timeout_millis must be 100-60000".into());
        }
        if !(1..=1024).contains(&p.concurrency) {
            return Err("poll_concurrency must be 1-1024".into());
        }
        if !(1..=100).contains(&p.down_after) {
            return Err("down_after must be 1-100".into());
        }
        if self
            .retention
            .max_age
            .is_some_and(|a| a.as_secs() > u64::from(MAX_EVENT_RETENTION_DAYS) * 86_400)
        {
            return Err(format!(
                "event_retention_days must be 0-{MAX_EVENT_RETENTION_DAYS} (0 keeps events forever)"
            ));
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

fn read_file(p: &Path) -> Result<FileConfig, String> {
    let text = std::fs::read_to_string(p)
        .map_err(|e| format!("cannot read the config file {}: {e}", p.display()))?;
    toml::from_str(&text).map_err(|e| format!("config file {}: {e}", p.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_beats_file_beats_default() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("cp.toml");
        std::fs::write(
            &f,
            "db = \"/var/lib/cp/cp.db\"\nlisten = \"0.0.0.0:1\"\ndown_after = 3\n",
        )
        .unwrap();
        let c = Config::resolve(ServeArgs {
            config: Some(f.clone()),
            listen: Some("127.0.0.1:0".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(c.listen, "127.0.0.1:0");
        assert_eq!(c.poller.down_after, 3);
        assert_eq!(c.poller.interval, Duration::from_secs(2));
        assert_eq!(c.admin_token_file, PathBuf::from("/var/lib/cp/admin.token"));
        assert_eq!(
            c.retention.max_age,
            Some(Duration::from_secs(30 * 86_400)),
            "default retention"
        );
        std::fs::write(&f, "db = \"x\"\nbogus = 1\n").unwrap();
        let e = Config::resolve(ServeArgs {
            config: Some(f),
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.contains("unknown field `bogus`"), "{e}");
        let e = Config::resolve(ServeArgs::default()).unwrap_err();
        assert!(e.contains("--db"), "{e}");
    }
}

#[cfg(test)]
mod retention_tests {
    use super::*;

    fn resolve(file: &str, flag: Option<u32>) -> Result<Config, String> {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("cp.toml");
        std::fs::write(&f, format!("db = \"x.db\"\n{file}")).unwrap();
        Config::resolve(ServeArgs {
            config: Some(f),
            event_retention_days: flag,
            ..Default::default()
        })
    }

    #[test]
    fn event_retention_from_file_and_flag() {
        let c = resolve("event_retention_days = 7\n", None).unwrap();
        assert_eq!(c.retention.max_age, Some(Duration::from_secs(7 * 86_400)));
        let c = resolve("event_retention_days = 7\n", Some(0)).unwrap();
        assert_eq!(c.retention.max_age, None, "0 keeps events forever");
        let e = resolve("event_retention_days = 36501\n", None).unwrap_err();
        assert!(e.contains("event_retention_days must be 0-36500"), "{e}");
    }
}
