//! The background scanner's walk (ARCHITECTURE.md, "Healing, scanner, drive replacement"): one
//! pass over every erasure set this node leads, bucket by bucket and key by key, shown to each of
//! its visitors in turn — healing (`heal`) and lifecycle (`lifecycle`) — so the drives are walked
//! once per cycle however many visitors there are. Each set is led by the node holding its first
//! online drive (counted from a position that rotates with the set's index), so one node scans it
//! while that node is up and another takes over when it is not.

mod walk;

pub(crate) use walk::{walk_keys, walk_keys_after};

use crate::object::{ErasureSet, ObjectLayer};
use crate::store::{BucketInfo, DriveResult};
use futures::future::join_all;
use std::sync::Arc;
use std::time::Duration;

/// What one pass shows a visitor. Hooks are called in order: a set, then each of its buckets,
/// then each key of that bucket.
#[async_trait::async_trait]
pub(crate) trait Visitor: Send {
    /// `set` is about to be walked; `lists` is what each of its drives answered when asked for
    /// its buckets.
    async fn enter_set(&mut self, _set: &Arc<ErasureSet>, _lists: &[DriveResult<Vec<BucketInfo>>]) {
    }
    /// `bucket` of `set` is about to be walked.
    async fn enter_bucket(&mut self, _set: &Arc<ErasureSet>, _bucket: &str) {}
    /// One key of the bucket being walked.
    async fn visit(&mut self, set: &Arc<ErasureSet>, bucket: &str, key: &str);
}

/// One pass over every set this node leads; `pause` after each key keeps the walk off client
/// traffic.
pub(crate) async fn pass(layer: &ObjectLayer, visitors: &mut [&mut dyn Visitor], pause: Duration) {
    let sets: Vec<Arc<ErasureSet>> = layer.sets().cloned().collect();
    for set in sets {
        if !leads(&set).await {
            continue;
        }
        let lists = join_all(set.drives.iter().map(|d| d.list_buckets())).await;
        for v in visitors.iter_mut() {
            v.enter_set(&set, &lists).await;
        }
        for bucket in union(&lists) {
            for v in visitors.iter_mut() {
                v.enter_bucket(&set, &bucket.name).await;
            }
            let mut keys = walk_keys(&set, &bucket.name, "").await;
            while let Some(key) = keys.recv().await {
                for v in visitors.iter_mut() {
                    v.visit(&set, &bucket.name, &key).await;
                }
                if !pause.is_zero() {
                    tokio::time::sleep(pause).await;
                }
            }
        }
    }
}

/// The buckets of the drives' `lists`: any drive's, in name order, and the system bucket (bucket
/// configurations) last.
pub(crate) fn union(lists: &[DriveResult<Vec<BucketInfo>>]) -> Vec<BucketInfo> {
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
