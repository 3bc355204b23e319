//! Namespace locks of one erasure set. Writers hold the lock only while committing (after the
//! data is on disk); readers hold it while they read meta and open shard files, never while
//! streaming.
//!
//! A single node uses a fixed array of striped in-process read/write locks keyed by a hash of
//! `bucket/key`; a cluster uses quorum locks over the set's nodes ([`super::dlock`]).

use super::dlock::{DistGuard, DistLocks};
use super::{ObjError, ObjResult};
use std::hash::BuildHasher;
use std::sync::Arc;
use tokio::sync::{OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock};

const STRIPES: usize = 1024;

pub struct LocalLocks {
    stripes: Vec<Arc<RwLock<()>>>,
    hasher: std::collections::hash_map::RandomState,
}

pub enum NsLock {
    Local(LocalLocks),
    Distributed(DistLocks),
}

/// A held namespace lock; released when dropped.
pub enum LockGuard {
    Read(OwnedRwLockReadGuard<()>),
    Write(OwnedRwLockWriteGuard<()>),
    Distributed(DistGuard),
}

impl NsLock {
    pub fn local() -> Self {
        NsLock::Local(LocalLocks {
            stripes: (0..STRIPES).map(|_| Arc::new(RwLock::new(()))).collect(),
            hasher: Default::default(),
        })
    }

    async fn lock(&self, bucket: &str, key: &str, write: bool) -> ObjResult<LockGuard> {
        let kind = if write { "write" } else { "read" };
        let m = &crate::metrics::global().lock;
        let timer = m.wait.with_label_values(&[kind]).start_timer();
        let r = self.acquire(bucket, key, write).await;
        timer.observe_duration();
        if matches!(r, Err(ObjError::LockTimeout(_))) {
            m.timeouts.with_label_values(&[kind]).inc();
        }
        r
    }

    async fn acquire(&self, bucket: &str, key: &str, write: bool) -> ObjResult<LockGuard> {
        match self {
            NsLock::Local(l) => {
                let stripe =
                    l.stripes[(l.hasher.hash_one((bucket, key)) as usize) % STRIPES].clone();
                Ok(if write {
                    LockGuard::Write(stripe.write_owned().await)
                } else {
                    LockGuard::Read(stripe.read_owned().await)
                })
            }
            NsLock::Distributed(d) => d
                .acquire(format!("{bucket}/{key}"), write)
                .await
                .map(LockGuard::Distributed)
                .ok_or_else(|| ObjError::LockTimeout(format!("{bucket}/{key}"))),
        }
    }

    pub async fn read(&self, bucket: &str, key: &str) -> ObjResult<LockGuard> {
        self.lock(bucket, key, false).await
    }

    pub async fn write(&self, bucket: &str, key: &str) -> ObjResult<LockGuard> {
        self.lock(bucket, key, true).await
    }
}
