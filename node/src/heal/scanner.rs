//! The background scanner: cycle after cycle, every erasure set this node leads is walked once,
//! and each object is visited by healing and by lifecycle (`crate::lifecycle`, for buckets with
//! rules): healed where needed — shard presence and meta agreement on each cycle, bitrot
//! hashes on every `--scanner-deep-every`th (deep) cycle. Each set is led by the node holding its
//! first online drive (counted from a position that rotates with the set's index), so one node
//! scans it while that node is up and another takes over when it is not. The pause between objects and the shared IO budget keep it off client traffic.

use super::manager::{tally, unix_now, HealManager};
use crate::lifecycle;
use crate::object::list::Merger;
use crate::object::ErasureSet;
use crate::store::{BucketInfo, DriveResult, WalkEntry, WalkRequest};
use futures::future::join_all;
use rustfs_common::admin::CycleFigures;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Every key of `bucket` under `prefix` that any drive of the set holds, in key order.
pub(crate) async fn walk_keys(
    set: &ErasureSet,
    bucket: &str,
    prefix: &str,
) -> mpsc::Receiver<String> {
    let req = WalkRequest {
        prefix: prefix.into(),
        start_after: None,
        recursive: true,
    };
    walk_keys_after(set, bucket, req).await
}

/// Like [`walk_keys`], from `req` (its `start_after` resumes a walk).
pub(crate) async fn walk_keys_after(
    set: &ErasureSet,
    bucket: &str,
    req: WalkRequest,
) -> mpsc::Receiver<String> {
    let walks = join_all(set.drives.iter().map(|d| d.walk(bucket, req.clone()))).await;
    let rxs: Vec<mpsc::Receiver<DriveResult<WalkEntry>>> =
        walks.into_iter().filter_map(Result::ok).collect();
    let (tx, rx) = mpsc::channel(256);
    tokio::spawn(async move {
        let mut m = Merger::new(rxs);
        while let Some(group) = m
            .next_group(|r| match r {
                Ok(e) => e.key(),
                Err(_) => "",
            })
            .await
        {
            let key = group.iter().find_map(|(_, r)| match r {
                Ok(WalkEntry::Object { key, .. }) => Some(key.clone()),
                _ => None,
            });
            if let Some(key) = key {
                if tx.send(key).await.is_err() {
                    return;
                }
            }
        }
    });
    rx
}

/// The buckets any drive of the set holds, and the system bucket (bucket configurations); a
/// bucket that a quorum of drives holds is made on the online drives that miss it (they were
/// away when it was created).
pub(crate) async fn heal_buckets(set: &ErasureSet) -> Vec<BucketInfo> {
    let lists = join_all(set.drives.iter().map(|d| d.list_buckets())).await;
    let mut all: Vec<BucketInfo> = Vec::new();
    for b in lists.iter().flatten().flatten() {
        if !all.iter().any(|x| x.name == b.name) {
            all.push(b.clone());
        }
    }
    all.sort_by(|a, b| a.name.cmp(&b.name));
    all.push(BucketInfo {
        name: crate::store::SYS_BUCKET.to_string(),
        created_nanos: 0,
    });
    let quorum = set.default_quorum().read();
    for b in &all {
        let holders = lists
            .iter()
            .filter(|l| matches!(l, Ok(l) if l.iter().any(|x| x.name == b.name)))
            .count();
        if holders < quorum {
            continue;
        }
        for (d, l) in set.drives.iter().zip(&lists) {
            if matches!(l, Ok(l) if !l.iter().any(|x| x.name == b.name))
                && d.make_bucket(&b.name, b.created_nanos).await.is_ok()
            {
                tracing::info!(drive = d.endpoint(), bucket = %b.name, "healed a missing bucket");
            }
        }
    }
    all
}

/// True when this node leads `set`: it holds the set's first online drive, counting from a
/// position that rotates with the set's index so the sets' scans spread over the nodes.
async fn leads(set: &ErasureSet) -> bool {
    let n = set.drives.len();
    for j in 0..n {
        let d = &set.drives[(set.index + j) % n];
        if d.is_online().await {
            return d.is_local();
        }
    }
    false
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

/// One pass over every set this node leads.
pub(crate) async fn scan_cycle(m: &Arc<HealManager>, deep: bool) {
    let kind = if deep { "deep" } else { "shallow" };
    let started = Instant::now();
    let mut fig = CycleFigures {
        kind: kind.into(),
        started_unix: unix_now(),
        ..Default::default()
    };
    let sleep = Duration::from_millis(m.cfg.scanner_sleep_millis);
    let sets: Vec<Arc<ErasureSet>> = m.layer.sets().cloned().collect();
    for set in sets {
        if !leads(&set).await {
            continue;
        }
        for bucket in heal_buckets(&set).await {
            // The walk's second visitor: the bucket's lifecycle rules, if any.
            let cfg = match bucket.name.as_str() {
                crate::store::SYS_BUCKET => None,
                name => m.layer.bucket_config(name).await.ok(),
            };
            let rules = cfg
                .as_deref()
                .and_then(lifecycle::active_rules)
                .map(<[_]>::to_vec);
            if let Some(rules) = &rules {
                lifecycle::visit_uploads(&m.layer, &set, &bucket.name, rules).await;
            }
            let mut keys = walk_keys(&set, &bucket.name, "").await;
            while let Some(key) = keys.recv().await {
                let (_, o) = m.heal(&set, &bucket.name, &key, deep).await;
                if let (Some(cfg), Some(rules)) = (&cfg, &rules) {
                    lifecycle::visit_key(&set, &bucket.name, &key, cfg, rules).await;
                }
                m.counters
                    .scanned
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tally(&mut fig, o);
                if fig.objects_scanned.is_multiple_of(64) {
                    fig.duration_secs = started.elapsed().as_secs_f64();
                    let snapshot = fig.clone();
                    m.scanner_update(|s| s.current = Some(snapshot));
                }
                if !sleep.is_zero() {
                    tokio::time::sleep(sleep).await;
                }
            }
        }
    }
    fig.duration_secs = started.elapsed().as_secs_f64();
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
