//! Drive replacement: a local drive directory found empty in a formatted set (same path, new
//! disk; a directory that is gone stays offline) is formatted into its old slot and its whole set is healed onto it. Progress lives in
//! `.rustfs.sys/healing.json` on the drive itself — the bucket and key reached, counts, the total —
//! so a restart resumes where the rebuild stopped. The monitor here also notices peers' drives
//! coming back, and wakes the heal queue and the scanner for them.

use super::cycle::heal_buckets;
use super::manager::{unix_now, HealManager};
use crate::object::ErasureSet;
use crate::scanner::{walk_keys, walk_keys_after};
use crate::store::format::Format;
use crate::store::{Drive, WalkRequest, SYS_DIR};
use futures::future::join_all;
use futures::StreamExt;
use rustfs_common::admin::DriveHealProgress;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// The tracker file of a drive being rebuilt, under `.rustfs.sys/`.
pub const TRACKER_FILE: &str = "healing.json";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Tracker {
    pub started_unix: i64,
    /// Buckets already rebuilt completely.
    pub buckets_done: Vec<String>,
    /// The bucket in progress and the last key healed in it.
    pub bucket: Option<String>,
    pub last_key: Option<String>,
    pub objects_total: Option<u64>,
    pub objects_done: u64,
    pub objects_failed: u64,
    pub bytes_done: u64,
}

fn tracker_path(root: &Path) -> PathBuf {
    root.join(SYS_DIR).join(TRACKER_FILE)
}

fn read_tracker(root: &Path) -> Option<Tracker> {
    let b = std::fs::read(tracker_path(root)).ok()?;
    serde_json::from_slice(&b).ok()
}

/// The tracker a freshly formatted replacement drive starts with.
pub fn new_tracker_json() -> Vec<u8> {
    serde_json::to_vec(&Tracker {
        started_unix: unix_now(),
        ..Default::default()
    })
    .expect("tracker serializes")
}

async fn save_tracker(d: &dyn Drive, t: &Tracker) {
    let body = serde_json::to_vec(t).expect("tracker serializes");
    if let Err(e) = d.write_sys_file(TRACKER_FILE, &body).await {
        tracing::warn!(drive = d.endpoint(), error = %e, "rebuild progress could not be saved");
    }
}

/// Watches drives: formats replaced local drives and rebuilds them, resumes rebuilds left by a
/// restart, and wakes the queue and scanner when a drive comes back.
pub(crate) async fn monitor(mgr: Weak<HealManager>) {
    let mut running: HashSet<String> = HashSet::new();
    let mut was_online: Vec<bool> = Vec::new();
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    loop {
        let Some(m) = mgr.upgrade() else { return };
        while let Ok(ep) = done_rx.try_recv() {
            running.remove(&ep);
        }
        let sets: Vec<Arc<ErasureSet>> = m.layer.sets().cloned().collect();
        let drives: Vec<(Arc<ErasureSet>, usize)> = sets
            .iter()
            .flat_map(|s| (0..s.drives.len()).map(move |i| (s.clone(), i)))
            .collect();
        let online = join_all(drives.iter().map(|(s, i)| s.drives[*i].is_online())).await;
        if was_online.len() == online.len()
            && online
                .iter()
                .zip(&was_online)
                .any(|(now, before)| *now && !*before)
        {
            tracing::info!("a drive came back: healing what it missed");
            m.queue.wake_all();
            m.nudge.notify_waiters();
        }
        was_online = online;
        for (set, i) in &drives {
            let d = &set.drives[*i];
            let Some(root) = d.local_root().map(Path::to_path_buf) else {
                continue;
            };
            // A drive directory that vanished (an unmounted disk, a renamed path) is offline, not
            // replaced: it is never recreated here, only an empty directory is formatted.
            if running.contains(d.endpoint()) || !root.is_dir() {
                continue;
            }
            if matches!(d.read_format().await, Ok(None)) && !format_replaced(set, *i, &root).await {
                continue;
            }
            if read_tracker(&root).is_some() {
                running.insert(d.endpoint().to_string());
                let (m2, set, i, tx) = (m.clone(), set.clone(), *i, done_tx.clone());
                tokio::spawn(async move {
                    let ep = set.drives[i].endpoint().to_string();
                    rebuild_drive(&m2, &set, i, &root).await;
                    let _ = tx.send(ep);
                });
            }
        }
        let pause = m.cfg.drive_check();
        drop(m);
        tokio::time::sleep(pause).await;
    }
}

/// Formats an empty local drive into its slot, from the format its set's other drives carry,
/// and starts its rebuild tracker. False when no reference format can be read.
async fn format_replaced(set: &ErasureSet, i: usize, root: &Path) -> bool {
    let mut reference: Option<Format> = None;
    for (j, d) in set.drives.iter().enumerate() {
        if j != i {
            if let Ok(Some(f)) = d.read_format().await {
                reference = Some(f);
                break;
            }
        }
    }
    let Some(reference) = reference else {
        return false;
    };
    let Some(f) = reference.for_slot(set.index * set.num_drives() + i) else {
        return false;
    };
    let d = &set.drives[i];
    let sys = root.join(SYS_DIR);
    let prepared = ["tmp", "buckets", "multipart"]
        .iter()
        .try_for_each(|sub| std::fs::create_dir_all(sys.join(sub)));
    if let Err(e) = prepared {
        tracing::warn!(drive = d.endpoint(), error = %e, "replaced drive cannot be prepared");
        return false;
    }
    // Tracker first: a crash between the two leaves a formatted drive that still rebuilds.
    if d.write_sys_file(TRACKER_FILE, &new_tracker_json())
        .await
        .is_err()
        || d.write_format(&f).await.is_err()
    {
        tracing::warn!(drive = d.endpoint(), "replaced drive cannot be formatted");
        return false;
    }
    tracing::warn!(drive = d.endpoint(), slot = i, set = set.index, "an empty drive was found in a formatted slot: formatted it and started rebuilding its set onto it");
    true
}

/// A channel's items as a stream.
fn tokio_stream_of<T: Send + 'static>(
    mut rx: tokio::sync::mpsc::Receiver<T>,
) -> impl futures::Stream<Item = T> {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// Heals every object of the set onto drive `i`, resuming from its tracker.
async fn rebuild_drive(m: &Arc<HealManager>, set: &Arc<ErasureSet>, i: usize, root: &Path) {
    let d = set.drives[i].clone();
    let ep = d.endpoint().to_string();
    let Some(mut t) = read_tracker(root) else {
        return;
    };
    tracing::info!(drive = %ep, done = t.objects_done, "rebuilding drive");
    let buckets = heal_buckets(set).await;
    if t.objects_total.is_none() {
        let mut total = 0;
        for b in &buckets {
            let mut keys = walk_keys(set, &b.name, "").await;
            while keys.recv().await.is_some() {
                total += 1;
            }
        }
        t.objects_total = Some(total);
        save_tracker(d.as_ref(), &t).await;
    }
    let started = Instant::now();
    let done_at_start = t.objects_done;
    let progress = |t: &Tracker| {
        let total = t.objects_total.unwrap_or(0).max(t.objects_done);
        let rate =
            (t.objects_done - done_at_start) as f64 / started.elapsed().as_secs_f64().max(0.001);
        DriveHealProgress {
            endpoint: ep.clone(),
            started_unix: t.started_unix,
            objects_total: total,
            objects_done: t.objects_done,
            objects_failed: t.objects_failed,
            bytes_done: t.bytes_done,
            percent: if total == 0 {
                100.0
            } else {
                t.objects_done as f64 * 100.0 / total as f64
            },
            eta_secs: (rate > 0.0).then(|| ((total - t.objects_done) as f64 / rate) as u64),
        }
    };
    m.rebuilds.lock().insert(ep.clone(), progress(&t));
    let mut last_save = Instant::now();
    for b in &buckets {
        if t.buckets_done.contains(&b.name) {
            continue;
        }
        let start_after = match (&t.bucket, &t.last_key) {
            (Some(cur), Some(k)) if *cur == b.name => Some(k.clone()),
            _ => None,
        };
        t.bucket = Some(b.name.clone());
        let req = WalkRequest {
            prefix: String::new(),
            start_after,
            recursive: true,
        };
        let keys = walk_keys_after(set, &b.name, req).await;
        // `--heal-workers` objects at once; answers come back in key order, so the tracker's
        // last key always has every key before it done.
        let bucket = b.name.as_str();
        let mut healed = tokio_stream_of(keys)
            .map(|key| async move {
                let (r, o) = m.heal(set, bucket, &key, false).await;
                (key, r, o)
            })
            .buffered(m.cfg.heal_workers.max(1));
        while let Some((key, r, o)) = healed.next().await {
            if let Ok(rep) = &r {
                t.bytes_done += rep.bytes_written;
            }
            t.objects_done += 1;
            t.objects_failed += (o.failed || o.incomplete) as u64;
            t.last_key = Some(key);
            m.rebuilds.lock().insert(ep.clone(), progress(&t));
            if last_save.elapsed() > Duration::from_secs(1) {
                save_tracker(d.as_ref(), &t).await;
                last_save = Instant::now();
            }
        }
        t.buckets_done.push(b.name.clone());
        t.last_key = None;
        save_tracker(d.as_ref(), &t).await;
    }
    m.rebuilds.lock().remove(&ep);
    if t.objects_failed == 0 {
        let _ = std::fs::remove_file(tracker_path(root));
        tracing::info!(drive = %ep, objects = t.objects_done, bytes = t.bytes_done, secs = started.elapsed().as_secs_f64(), "drive rebuilt");
    } else {
        // Start over later: what failed (another drive away, say) gets another pass.
        tracing::warn!(drive = %ep, failed = t.objects_failed, "drive rebuild finished with objects it could not heal; another pass follows");
        let retry = Tracker {
            started_unix: t.started_unix,
            ..Default::default()
        };
        save_tracker(d.as_ref(), &retry).await;
        tokio::time::sleep(m.cfg.drive_check() * 2).await;
    }
}
