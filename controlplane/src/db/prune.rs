//! Retention: deleting rows older than a cut-off from the history tables (events, the audit
//! trail) in batches, so the poller's and the API's writes go on in between.

use super::Db;
use crate::error::Result;

/// Rows deleted per statement.
const PRUNE_BATCH: i64 = 5000;

impl Db {
    /// Deletes events older than `before_millis`. Returns how many went.
    pub async fn prune_events(&self, before_millis: i64) -> Result<u64> {
        self.prune("events", before_millis).await
    }

    /// Deletes audit entries older than `before_millis`. Returns how many went.
    pub async fn prune_audit(&self, before_millis: i64) -> Result<u64> {
        self.prune("audit_log", before_millis).await
    }

    /// `table` has an `id` primary key and an indexed `time` in unix milliseconds.
    async fn prune(&self, table: &'static str, before_millis: i64) -> Result<u64> {
        let sql = format!(
            "DELETE FROM {table} WHERE id IN \
             (SELECT id FROM {table} WHERE time < ? ORDER BY id LIMIT ?)"
        );
        let mut total = 0;
        loop {
            // one statement per batch, each its own transaction
            let done = sqlx::query(&sql)
                .bind(before_millis)
                .bind(PRUNE_BATCH)
                .execute(&self.write)
                .await?;
            total += done.rows_affected();
            if done.rows_affected() < PRUNE_BATCH as u64 {
                return Ok(total);
            }
        }
    }
}
