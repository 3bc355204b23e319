//! The repository layer: every SQL statement of the control plane lives under this module.
//!
//! One SQLite file in WAL mode (busy timeout, foreign keys on, `synchronous=FULL` so a
//! committed change survives `kill -9`), migrated at open by the embedded, numbered migrations
//! in `controlplane/migrations/`. Writes go through a one-connection pool so write transactions
//! never race to upgrade a read lock; reads use a small pool of their own.

mod audit;
mod clusters;
mod events;
mod observe;
mod prune;
mod releases;
mod tokens;
mod views;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tokens_tests;

pub use audit::NewAudit;
pub use clusters::Registered;
pub use events::{EventFilter, NewEvent};
pub use observe::{
    DriveTarget, DriveUpdate, HostTarget, HostUpdate, Observation, ObservedEvent, PollTarget,
};
pub use releases::NewRelease;
pub use tokens::{new_token, Caller, NewToken, TokenCheck, TOKEN_PREFIX};

use crate::error::{Error, Result};
use crate::secrets::SecretBox;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::path::Path;
use std::time::Duration;

/// Migrations compiled into the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How long a statement waits for another writer before giving up with `unavailable`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The control plane's database.
#[derive(Debug, Clone)]
pub struct Db {
    read: SqlitePool,
    write: SqlitePool,
    secrets: SecretBox,
}

impl Db {
    /// Opens (creating if missing) and migrates the database at `path`.
    pub async fn open(path: &Path, secrets: SecretBox) -> Result<Db> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::InvalidArgument(format!(
                    "cannot create the database directory {}: {e}",
                    dir.display()
                ))
            })?;
        }
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts.clone())
            .await
            .map_err(|e| open_error(path, e))?;
        MIGRATOR.run(&write).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts.read_only(true))
            .await
            .map_err(|e| open_error(path, e))?;
        Ok(Db {
            read,
            write,
            secrets,
        })
    }

    /// Versions of the migrations applied to this file, ascending.
    pub async fn applied_migrations(&self) -> Result<Vec<i64>> {
        let rows: Vec<(i64,)> =
            sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
                .fetch_all(&self.read)
                .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Closes both pools (checkpointing the WAL).
    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

fn open_error(path: &Path, e: sqlx::Error) -> Error {
    Error::InvalidArgument(format!(
        "cannot open the database {}: {e}; check the path and its permissions",
        path.display()
    ))
}

/// Now, in unix milliseconds.
pub fn now_millis() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64 / 1_000_000
}

/// Unix milliseconds as RFC 3339 UTC with milliseconds.
pub fn rfc3339(millis: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(millis as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let f = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&f).unwrap_or_default()
}

/// RFC 3339 (any offset) to unix milliseconds.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    Some((t.unix_timestamp_nanos() / 1_000_000) as i64)
}
