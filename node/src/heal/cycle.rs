//! The heal manager's scanner cycles: every `--scanner-interval-secs` (or when nudged) one pass
//! of the scanner's walk (`crate::scanner`) with two visitors — healing, which checks shard
//! presence and meta agreement on each cycle and bitrot hashes on every `--scanner-deep-every`th
//! (deep) cycle, and lifecycle (`crate::lifecycle`), for buckets with rules. The pause between
//! objects and the shared IO budget keep it off client traffic.

use super::manager::{tally, unix_now, HealManager};
use crate::object::ErasureSet;
use crate::scanner::{self, Visitor};
use crate::store::{BucketInfo, DriveResult};
use futures::future::join_all;
use rustfs_common::admin::CycleFigures;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// The buckets any drive of the set holds (see [`scanner::union`]), with the missing ones healed
/// (see [`heal_missing_buckets`]).
pub(crate) async fn heal_buckets(set: &ErasureSet) -> Vec<BucketInfo> {
    let lists = join_all(set.drives.iter().map(|d| d.list_buckets())).await;
    heal_missing_buckets(set, &lists).await;
    scanner::union(&lists)
}

/// Makes a bucket that a quorum of drives holds (by their `lists`) on the online drives that miss
/// it (they were away when it was created).
async fn heal_missing_buckets(set: &ErasureSet, lists: &[DriveResult<Vec<BucketInfo>>]) {
    let all = scanner::union(lists);
    let quorum = set.default_quorum().read();
    for b in &all {
        let holders = lists
            .iter()
            .filter(|l| matches!(l, Ok(l) if l.iter().any(|x| x.name == b.name)))
            .count();
        if holders < quorum {
            continue;
        }
        for (d, l) in set.drives.iter().zip(lists) {
            if matches!(l, Ok(l) if !l.iter().any(|x| x.name == b.name))
                && d.make_bucket(&b.name, b.created_nanos).await.is_ok()
            {
                tracing::info!(drive = d.endpoint(), bucket = %b.name, "healed a missing bucket");
            }
        }
    }
}

pub(crate) async fn run(mgr: Weak<HealManager>) {
    let mut cycle: u64 = 0;
    loop {
        let Some(m) = mgr.upgrade() else { return };
        let pause = m.cfg.scanner_interval();
        {
            let wait = m.nudge.notified();
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                () = wait => {}
            }
        }
        cycle += 1;
        let deep = m.cfg.scanner_deep_every > 0 && cycle.is_multiple_of(m.cfg.scanner_deep_every);
        scan_cycle(&m, deep).await;
    }
}

/// Healing as a visitor of the walk: each key healed where needed, the cycle's figures kept.
struct Healing<'a> {
    m: &'a Arc<HealManager>,
    deep: bool,
    started: Instant,
    fig: CycleFigures,
}

#[async_trait::async_trait]
impl Visitor for Healing<'_> {
    async fn enter_set(&mut self, set: &Arc<ErasureSet>, lists: &[DriveResult<Vec<BucketInfo>>]) {
        heal_missing_buckets(set, lists).await;
    }

    async fn visit(&mut self, set: &Arc<ErasureSet>, bucket: &str, key: &str) {
        let (_, o) = self.m.heal(set, bucket, key, self.deep).await;
        self.m
            .counters
            .scanned
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tally(&mut self.fig, o);
        if self.fig.objects_scanned.is_multiple_of(64) {
            self.fig.duration_secs = self.started.elapsed().as_secs_f64();
            let snapshot = self.fig.clone();
            self.m.scanner_update(|s| s.current = Some(snapshot));
        }
    }
}

/// One pass over every set this node leads.
pub(crate) async fn scan_cycle(m: &Arc<HealManager>, deep: bool) {
    let kind = if deep { "deep" } else { "shallow" };
    let mut healing = Healing {
        m,
        deep,
        started: Instant::now(),
        fig: CycleFigures {
            kind: kind.into(),
            started_unix: unix_now(),
            ..Default::default()
        },
    };
    let mut lifecycle = crate::lifecycle::Expiry::new(m.layer.clone());
    let pause = Duration::from_millis(m.cfg.scanner_sleep_millis);
    let visitors: &mut [&mut dyn Visitor] = &mut [&mut healing, &mut lifecycle];
    scanner::pass(&m.layer, visitors, pause).await;
    let mut fig = healing.fig;
    fig.duration_secs = healing.started.elapsed().as_secs_f64();
    tracing::info!(
        kind,
        scanned = fig.objects_scanned,
        healed = fig.objects_healed,
        failed = fig.objects_failed,
        incomplete = fig.heal_incomplete,
        dangling = fig.dangling_removed,
        secs = fig.duration_secs,
        "scanner cycle done"
    );
    m.scanner_update(|s| {
        s.current = None;
        if deep {
            s.cycles_deep += 1;
            s.last_deep = Some(fig);
        } else {
            s.cycles_shallow += 1;
            s.last_shallow = Some(fig);
        }
    });
}
