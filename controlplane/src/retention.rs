//! Retention: a background task that deletes events older than `event_retention_days` and
//! audit entries older than `audit_retention_days`, once at start and then every
//! [`RetentionConfig::every`], in batches. A failed prune (database busy) is logged and tried
//! again next time; `0` days keeps that history forever (both `0` turns the task off).

use crate::config::RetentionConfig;
use crate::db::{now_millis, Db};
use crate::metrics;
use std::time::Duration;
use tokio::sync::watch;

/// Prunes until `shutdown` turns true.
pub async fn run(db: Db, cfg: RetentionConfig, mut shutdown: watch::Receiver<bool>) {
    if cfg.events_max_age.is_none() {
        tracing::info!("event retention off: events are kept forever");
    }
    if cfg.audit_max_age.is_none() {
        tracing::info!("audit retention off: audit entries are kept forever");
    }
    if cfg.events_max_age.is_none() && cfg.audit_max_age.is_none() {
        return;
    }
    let mut ticker = tokio::time::interval(cfg.every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            return;
        }
        if let Some(max_age) = cfg.events_max_age {
            let n = prune("events", max_age, db.prune_events(cutoff(max_age)).await);
            metrics::events_pruned(n);
        }
        if let Some(max_age) = cfg.audit_max_age {
            let n = prune(
                "audit entries",
                max_age,
                db.prune_audit(cutoff(max_age)).await,
            );
            metrics::audit_pruned(n);
        }
    }
}

fn cutoff(max_age: Duration) -> i64 {
    now_millis().saturating_sub(max_age.as_millis() as i64)
}

/// Logs one prune's outcome; the number deleted (0 on failure).
fn prune(what: &str, max_age: Duration, done: crate::error::Result<u64>) -> u64 {
    let max_age_days = max_age.as_secs() / 86_400;
    match done {
        Ok(0) => {
            tracing::debug!(what, "nothing past the retention");
            0
        }
        Ok(n) => {
            tracing::info!(what, num_deleted = n, max_age_days, "pruned old history");
            n
        }
        Err(e) => {
            tracing::warn!(what, error = %e, "pruning old history failed; retrying later");
            0
        }
    }
}
