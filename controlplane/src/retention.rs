//! Event retention: a background task that deletes events older than `event_retention_days`,
//! once at start and then every [`RetentionConfig::every`]. A failed prune (database busy) is
//! logged and tried again next time; `0` days turns the task off.

use crate::config::RetentionConfig;
use crate::db::{now_millis, Db};
use crate::metrics;
use tokio::sync::watch;

/// Prunes until `shutdown` turns true.
pub async fn run(db: Db, cfg: RetentionConfig, mut shutdown: watch::Receiver<bool>) {
    let Some(max_age) = cfg.max_age else {
        tracing::info!("event retention off: events are kept forever");
        return;
    };
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
        let before = now_millis().saturating_sub(max_age.as_millis() as i64);
        match db.prune_events(before).await {
            Ok(0) => tracing::debug!("no events past the retention"),
            Ok(n) => {
                metrics::events_pruned(n);
                tracing::info!(
                    num_events = n,
                    max_age_days = max_age.as_secs() / 86_400,
                    "pruned old events"
                );
            }
            Err(e) => tracing::warn!(error = %e, "pruning old events failed; retrying later"),
        }
    }
}
