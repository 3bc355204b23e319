//! Namespace locks for one node: a fixed array of striped read/write locks keyed by a hash of
//! `bucket/key`. Writers hold the lock only while committing (after the data is on disk); readers
//! hold it while they read meta and open shard files, never while streaming.
//! Distributed mode layers quorum locks over the set's nodes on top of this.

use std::hash::BuildHasher;
use std::sync::Arc;
use tokio::sync::{OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock};

const STRIPES: usize = 1024;

pub struct NsLock {
    stripes: Vec<Arc<RwLock<()>>>,
    hasher: std::collections::hash_map::RandomState,
}

impl Default for NsLock {
    fn default() -> Self {
        NsLock {
            stripes: (0..STRIPES).map(|_| Arc::new(RwLock::new(()))).collect(),
            hasher: Default::default(),
        }
    }
}

impl NsLock {
    fn stripe(&self, bucket: &str, key: &str) -> Arc<RwLock<()>> {
        self.stripes[(self.hasher.hash_one((bucket, key)) as usize) % STRIPES].clone()
    }

    pub async fn read(&self, bucket: &str, key: &str) -> OwnedRwLockReadGuard<()> {
        self.stripe(bucket, key).read_owned().await
    }

    pub async fn write(&self, bucket: &str, key: &str) -> OwnedRwLockWriteGuard<()> {
        self.stripe(bucket, key).write_owned().await
    }
}
