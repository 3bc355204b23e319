//! The audit trail: one row per mutating API call (who, what, when, result).

use super::{rfc3339, Db};
use crate::api::{AuditEntry, AuditPage};
use crate::error::Result;

type AuditRow = (i64, i64, String, String, String, i64, Option<String>);

/// One mutating call as the audit middleware saw it.
#[derive(Debug, Clone)]
pub struct NewAudit {
    pub time: i64,
    pub actor: String,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub code: Option<String>,
}

impl Db {
    pub async fn record_audit(&self, a: &NewAudit) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_log (time, actor, method, path, status, code) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(a.time)
        .bind(&a.actor)
        .bind(&a.method)
        .bind(&a.path)
        .bind(a.status as i64)
        .bind(&a.code)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    pub async fn audit(&self, after: Option<i64>, limit: u32) -> Result<AuditPage> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT id, time, actor, method, path, status, code FROM audit_log \
             WHERE id > ? ORDER BY id LIMIT ?",
        )
        .bind(after.unwrap_or(0))
        .bind(limit as i64 + 1)
        .fetch_all(&self.read)
        .await?;
        let more = rows.len() > limit as usize;
        let entries: Vec<AuditEntry> = rows
            .into_iter()
            .take(limit as usize)
            .map(|(id, time, actor, method, path, status, code)| AuditEntry {
                id,
                time: rfc3339(time),
                actor,
                method,
                path,
                status: status as u16,
                code,
            })
            .collect();
        let next_after = if more {
            entries.last().map(|e| e.id)
        } else {
            None
        };
        Ok(AuditPage {
            entries,
            next_after,
        })
    }
}
