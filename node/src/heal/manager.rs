//! The heal manager: one per node. It owns the heal queue and its workers, the scanner, the
//! drive monitor (replaced drives, returning peers) and the figures behind the heal status API.

use super::budget::IoBudget;
use super::object::{heal_object, HealReport};
use super::queue::HealQueue;
use super::{HealConfig, HealKey};
use crate::object::{ErasureSet, ObjResult, ObjectLayer};
use parking_lot::Mutex;
use rustfs_common::admin::{
    CycleFigures, DriveHealProgress, HealFigures, ManualHeal, ScannerFigures,
};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Notify};

/// Counters since start.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub scanned: AtomicU64,
    pub healed: AtomicU64,
    pub failed: AtomicU64,
    pub incomplete: AtomicU64,
    pub bytes: AtomicU64,
    pub dangling: AtomicU64,
}

fn add(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

/// What one heal contributed, for a cycle's or a manual heal's own counts.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Outcome {
    pub healed: bool,
    pub failed: bool,
    pub incomplete: bool,
    pub dangling: u64,
}

pub struct HealManager {
    pub(crate) layer: Arc<ObjectLayer>,
    pub(crate) cfg: HealConfig,
    pub(crate) queue: HealQueue,
    pub(crate) budget: IoBudget,
    pub(crate) counters: Counters,
    pub(crate) rebuilds: Mutex<BTreeMap<String, DriveHealProgress>>,
    pub(crate) scanner: Mutex<ScannerFigures>,
    pub(crate) manual: Mutex<Vec<ManualHeal>>,
    /// Cuts the scanner's pause short (a drive came back).
    pub(crate) nudge: Notify,
}

impl std::fmt::Debug for HealManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HealManager").finish_non_exhaustive()
    }
}

impl HealManager {
    /// Starts healing on this node: connects every set's hook to the queue (journaled on the
    /// first local drive), and spawns the workers, the scanner and the drive monitor.
    pub fn start(layer: Arc<ObjectLayer>, cfg: HealConfig) -> Arc<Self> {
        let journal = layer
            .sets()
            .flat_map(|s| s.drives.iter())
            .find_map(|d| d.local_root().map(|r| r.to_path_buf()))
            .map(|root| {
                root.join(crate::store::SYS_DIR)
                    .join("heal")
                    .join("queue.jsonl")
            });
        let mgr = Arc::new(HealManager {
            queue: HealQueue::open(journal, cfg.heal_queue_max),
            budget: IoBudget::new(cfg.budget_bytes_per_sec()),
            counters: Counters::default(),
            rebuilds: Mutex::new(BTreeMap::new()),
            scanner: Mutex::new(ScannerFigures::default()),
            manual: Mutex::new(Vec::new()),
            nudge: Notify::new(),
            layer,
            cfg,
        });
        let (tx, mut rx) = mpsc::channel::<HealKey>(10_000);
        for set in mgr.layer.sets() {
            set.heal.connect(tx.clone());
        }
        let weak = Arc::downgrade(&mgr);
        tokio::spawn(async move {
            while let Some(k) = rx.recv().await {
                let Some(m) = weak.upgrade() else { break };
                m.queue.push(k);
            }
        });
        for _ in 0..mgr.cfg.heal_workers {
            tokio::spawn(worker(Arc::downgrade(&mgr)));
        }
        tokio::spawn(super::cycle::run(Arc::downgrade(&mgr)));
        tokio::spawn(super::rebuild::monitor(Arc::downgrade(&mgr)));
        mgr
    }

    pub(crate) fn set(&self, pool: usize, set: usize) -> Option<&Arc<ErasureSet>> {
        self.layer.pools.get(pool)?.sets.get(set)
    }

    /// Heals one object and records the outcome in the node's counters.
    pub(crate) async fn heal(
        &self,
        set: &ErasureSet,
        bucket: &str,
        key: &str,
        deep: bool,
    ) -> (ObjResult<HealReport>, Outcome) {
        let r = heal_object(set, bucket, key, deep, &self.budget).await;
        let c = &self.counters;
        let mut o = Outcome::default();
        match &r {
            Ok(rep) => {
                add(&c.bytes, rep.bytes_written);
                add(&c.dangling, rep.dangling_removed as u64);
                o.dangling = rep.dangling_removed as u64;
                if rep.changed() && rep.complete {
                    add(&c.healed, 1);
                    o.healed = true;
                    tracing::info!(
                        bucket,
                        key,
                        drives = rep.drives_healed,
                        bytes = rep.bytes_written,
                        dangling = rep.dangling_removed,
                        "object healed"
                    );
                }
                if !rep.complete {
                    add(&c.incomplete, 1);
                    o.incomplete = true;
                    tracing::warn!(
                        bucket,
                        key,
                        problem = rep.problem.as_deref().unwrap_or(""),
                        "heal could not restore full redundancy"
                    );
                }
            }
            Err(e) => {
                add(&c.failed, 1);
                o.failed = true;
                tracing::warn!(bucket, key, error = %e, "heal failed");
            }
        }
        (r, o)
    }

    /// This node's figures for the heal status API.
    pub fn figures(&self) -> HealFigures {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        HealFigures {
            queue_depth: self.queue.len() as u64,
            queue_dropped: self.queue.dropped(),
            objects_scanned: get(&c.scanned),
            objects_healed: get(&c.healed),
            objects_failed: get(&c.failed),
            heal_incomplete: get(&c.incomplete),
            bytes_healed: get(&c.bytes),
            dangling_removed: get(&c.dangling),
            drives_healing: self.rebuilds.lock().values().cloned().collect(),
            scanner: self.scanner.lock().clone(),
            manual: self.manual.lock().clone(),
        }
    }

    /// Heals every object of `bucket` under `prefix` now, in the background, reporting progress
    /// in the status under the returned id. With `wait`, returns once done.
    pub async fn heal_prefix(
        self: &Arc<Self>,
        bucket: String,
        prefix: String,
        deep: bool,
        wait: bool,
    ) -> ManualHeal {
        let entry = ManualHeal {
            id: uuid::Uuid::new_v4().to_string(),
            bucket: bucket.clone(),
            prefix: prefix.clone(),
            deep,
            started_unix: unix_now(),
            ..Default::default()
        };
        {
            let mut m = self.manual.lock();
            m.retain(|h| !h.finished || unix_now() - h.started_unix < 3600);
            m.push(entry.clone());
        }
        let mgr = self.clone();
        let id = entry.id.clone();
        let task = tokio::spawn(async move {
            let sets: Vec<Arc<ErasureSet>> = mgr.layer.sets().cloned().collect();
            for set in sets {
                let mut keys = crate::scanner::walk_keys(&set, &bucket, &prefix).await;
                while let Some(key) = keys.recv().await {
                    let (_, o) = mgr.heal(&set, &bucket, &key, deep).await;
                    add(&mgr.counters.scanned, 1);
                    mgr.update_manual(&id, |h| {
                        h.objects_scanned += 1;
                        h.objects_healed += o.healed as u64;
                        h.objects_failed += o.failed as u64;
                        h.heal_incomplete += o.incomplete as u64;
                    });
                }
            }
            mgr.update_manual(&id, |h| h.finished = true);
        });
        if wait {
            let _ = task.await;
        }
        let id = entry.id;
        self.manual
            .lock()
            .iter()
            .find(|h| h.id == id)
            .cloned()
            .unwrap_or_default()
    }

    fn update_manual(&self, id: &str, f: impl FnOnce(&mut ManualHeal)) {
        if let Some(h) = self.manual.lock().iter_mut().find(|h| h.id == id) {
            f(h);
        }
    }

    /// Records a finished or running scanner cycle.
    pub(crate) fn scanner_update(&self, f: impl FnOnce(&mut ScannerFigures)) {
        f(&mut self.scanner.lock());
    }
}

/// Adds one heal's outcome to a cycle's counts.
pub(crate) fn tally(c: &mut CycleFigures, o: Outcome) {
    c.objects_scanned += 1;
    c.objects_healed += o.healed as u64;
    c.objects_failed += o.failed as u64;
    c.heal_incomplete += o.incomplete as u64;
    c.dangling_removed += o.dangling;
}

pub(crate) fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Takes due entries off the queue and heals them; an incomplete heal is retried with backoff.
async fn worker(mgr: std::sync::Weak<HealManager>) {
    loop {
        let Some(m) = mgr.upgrade() else { return };
        let Some(k) = m.queue.take_ready(1).pop() else {
            let m2 = m.clone();
            drop(m);
            m2.queue.wait(Duration::from_secs(1)).await;
            continue;
        };
        let Some(set) = m.set(k.pool, k.set).cloned() else {
            m.queue.done(&k);
            continue;
        };
        match m.heal(&set, &k.bucket, &k.key, false).await {
            (Ok(r), _) if r.complete => m.queue.done(&k),
            _ => m.queue.retry(&k),
        }
    }
}
