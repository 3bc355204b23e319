//! Healing, scanner and lifecycle figures, refreshed from the heal manager's and lifecycle's own
//! counters at scrape time (`server::scrape`), so the request and heal paths keep a single
//! count. The families are registered in [`crate::metrics::Metrics`] like every other.

use super::HealManager;
use crate::metrics::Metrics;
use prometheus::core::{AtomicU64, GenericCounter};
use prometheus::{GaugeVec, IntCounterVec, IntGauge};

pub struct HealMetrics {
    pub queue_depth: IntGauge,
    pub objects: IntCounterVec,
    pub bytes: IntCounterVec,
    pub incomplete: IntCounterVec,
    pub drive_progress: GaugeVec,
    pub scanned: IntCounterVec,
    pub cycles: IntCounterVec,
    pub last_cycle: GaugeVec,
    pub lifecycle_scanned: IntCounterVec,
    pub lifecycle_actions: IntCounterVec,
    pub lifecycle_skipped: IntCounterVec,
    pub lifecycle_errors: IntCounterVec,
}

impl HealMetrics {
    /// The figures, registered in `m`.
    pub fn new(m: &Metrics) -> Self {
        HealMetrics {
            queue_depth: m.int_gauge("rustfs_heal_queue_depth", "Objects queued for healing"),
            objects: m.counter_vec(
                "rustfs_heal_objects_total",
                "Objects healed (result=\"healed\") or that failed to heal (result=\"failed\")",
                &["result"],
            ),
            bytes: m.counter_vec(
                "rustfs_heal_bytes_total",
                "Bytes written by healing",
                &[],
            ),
            incomplete: m.counter_vec(
                "rustfs_heal_incomplete_total",
                "Heals that could not restore full redundancy",
                &[],
            ),
            drive_progress: m.gauge_vec(
                "rustfs_heal_drive_progress_ratio",
                "Progress of rebuilding a replaced drive, 0 to 1",
                &["drive"],
            ),
            scanned: m.counter_vec(
                "rustfs_scanner_objects_scanned_total",
                "Objects the background scanner checked",
                &[],
            ),
            cycles: m.counter_vec(
                "rustfs_scanner_cycles_total",
                "Scanner cycles finished, kind=\"shallow\" (shard presence) or \"deep\" (bitrot)",
                &["kind"],
            ),
            last_cycle: m.gauge_vec(
                "rustfs_scanner_last_cycle_duration_seconds",
                "Duration of the last finished scanner cycle",
                &["kind"],
            ),
            lifecycle_scanned: m.counter_vec(
                "rustfs_lifecycle_objects_scanned_total",
                "Objects the scanner evaluated against their bucket's lifecycle rules",
                &[],
            ),
            lifecycle_actions: m.counter_vec(
                "rustfs_lifecycle_actions_total",
                "Lifecycle actions done, action=\"expire_current\", \"remove_noncurrent\", \"remove_delete_marker\" or \"abort_upload\"",
                &["action"],
            ),
            lifecycle_skipped: m.counter_vec(
                "rustfs_lifecycle_skipped_locked_total",
                "Lifecycle actions not done because object lock keeps the version",
                &[],
            ),
            lifecycle_errors: m.counter_vec(
                "rustfs_lifecycle_errors_total",
                "Lifecycle actions that failed (retried on the next scanner cycle)",
                &[],
            ),
        }
    }

    /// Brings the series up to the manager's and lifecycle's figures (counters only ever move
    /// forward).
    pub fn refresh(&self, mgr: Option<&HealManager>) {
        let l = crate::lifecycle::counters().figures();
        catch_up(
            &self.lifecycle_scanned.with_label_values::<&str>(&[]),
            l.objects_scanned,
        );
        for (action, n) in [
            ("expire_current", l.current_expired),
            ("remove_noncurrent", l.noncurrent_removed),
            ("remove_delete_marker", l.delete_markers_removed),
            ("abort_upload", l.uploads_aborted),
        ] {
            catch_up(&self.lifecycle_actions.with_label_values(&[action]), n);
        }
        catch_up(
            &self.lifecycle_skipped.with_label_values::<&str>(&[]),
            l.skipped_locked,
        );
        catch_up(
            &self.lifecycle_errors.with_label_values::<&str>(&[]),
            l.errors,
        );
        let Some(mgr) = mgr else { return };
        let f = mgr.figures();
        self.queue_depth.set(f.queue_depth as i64);
        catch_up(
            &self.objects.with_label_values(&["healed"]),
            f.objects_healed,
        );
        catch_up(
            &self.objects.with_label_values(&["failed"]),
            f.objects_failed,
        );
        catch_up(&self.bytes.with_label_values::<&str>(&[]), f.bytes_healed);
        catch_up(
            &self.incomplete.with_label_values::<&str>(&[]),
            f.heal_incomplete,
        );
        catch_up(
            &self.scanned.with_label_values::<&str>(&[]),
            f.objects_scanned,
        );
        catch_up(
            &self.cycles.with_label_values(&["shallow"]),
            f.scanner.cycles_shallow,
        );
        catch_up(
            &self.cycles.with_label_values(&["deep"]),
            f.scanner.cycles_deep,
        );
        for (kind, last) in [
            ("shallow", &f.scanner.last_shallow),
            ("deep", &f.scanner.last_deep),
        ] {
            if let Some(c) = last {
                self.last_cycle
                    .with_label_values(&[kind])
                    .set(c.duration_secs);
            }
        }
        self.drive_progress.reset();
        for d in &f.drives_healing {
            self.drive_progress
                .with_label_values(&[d.endpoint.as_str()])
                .set(d.percent / 100.0);
        }
    }
}

fn catch_up(c: &GenericCounter<AtomicU64>, to: u64) {
    let now = c.get();
    if to > now {
        c.inc_by(to - now);
    }
}
