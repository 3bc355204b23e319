//! Namespace locks of one erasure set. Writers hold the lock only while committing (after the
//! data is on disk); readers hold it while they read meta and open shard files, never while
//! streaming.
//!
//! A single node uses a fixed array of striped in-process read/write locks keyed by a hash of
//! `bucket/key`; a cluster uses quorum locks over the set's nodes ([`super::dlock`]). With several
//! pools, the sets of the later pools lock a key through the set of the first pool that the key
//! maps to ([`NsLock::Home`]), so one key has one lock whichever pool holds (or will hold) it.

use super::dlock::{DistGuard, DistLocks};
use super::{ObjError, ObjResult};
use std::hash::BuildHasher;
use std::sync::Arc;
use tokio::sync::{OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock};

const STRIPES: usize = 1024;
/// Stripes of the update locks of system documents (a namespace apart from objects').
const UPDATE_STRIPES: usize = 64;

pub struct LocalLocks {
    stripes: Vec<Arc<RwLock<()>>>,
    /// Held around a system document's read-change-write, which takes the document's object
    /// lock inside: a separate array, so the two can never be the same stripe (a deadlock).
    update_stripes: Vec<Arc<RwLock<()>>>,
    hasher: std::collections::hash_map::RandomState,
    /// How long a request waits for a lock before it is answered 503 SlowDown.
    timeout: std::time::Duration,
}

pub enum NsLock {
    Local(LocalLocks),
    Distributed(DistLocks),
    Home(HomeLocks),
}

/// The locks of the first pool's sets, and the key that maps a key to one of them.
pub struct HomeLocks {
    pub placement_key: [u8; 16],
    pub sets: Vec<Arc<NsLock>>,
}

/// Which locks a name is among: objects', or the outer locks taken before an object's
/// (a system document's update, a multipart upload's), which must never share its stripe.
#[derive(Debug, Clone, Copy)]
enum Space {
    Object,
    Update,
    Upload,
}

/// A held namespace lock; released when dropped.
pub enum LockGuard {
    Read(OwnedRwLockReadGuard<()>),
    Write(OwnedRwLockWriteGuard<()>),
    Distributed(DistGuard),
}

impl NsLock {
    /// In-process locks; a waiter gives up after `timeout`.
    pub fn local(timeout: std::time::Duration) -> Self {
        NsLock::Local(LocalLocks {
            stripes: (0..STRIPES).map(|_| Arc::new(RwLock::new(()))).collect(),
            update_stripes: (0..UPDATE_STRIPES)
                .map(|_| Arc::new(RwLock::new(())))
                .collect(),
            hasher: Default::default(),
            timeout,
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
        self.acquire_in(bucket, key, write, Space::Object).await
    }

    /// The lock of `bucket/key` in `space`.
    async fn acquire_in(
        &self,
        bucket: &str,
        key: &str,
        write: bool,
        space: Space,
    ) -> ObjResult<LockGuard> {
        let this = match self {
            NsLock::Home(h) => {
                let i = rustfs_common::layout::set_index(
                    &h.placement_key,
                    &format!("{bucket}/{key}"),
                    h.sets.len(),
                );
                h.sets[i].as_ref()
            }
            other => other,
        };
        match this {
            NsLock::Local(l) => {
                let hash = l.hasher.hash_one((bucket, key)) as usize;
                let stripe = match space {
                    Space::Object => l.stripes[hash % STRIPES].clone(),
                    Space::Update | Space::Upload => {
                        l.update_stripes[hash % UPDATE_STRIPES].clone()
                    }
                };
                let guard = async {
                    if write {
                        LockGuard::Write(stripe.write_owned().await)
                    } else {
                        LockGuard::Read(stripe.read_owned().await)
                    }
                };
                tokio::time::timeout(l.timeout, guard)
                    .await
                    .map_err(|_| ObjError::LockTimeout(format!("{bucket}/{key}")))
            }
            // Quorum locks are per name: an update lock's name is apart from any object's, and
            // so is an upload's (`KEY\0upload/ID`) as it is.
            NsLock::Distributed(d) => d
                .acquire(
                    match space {
                        Space::Object | Space::Upload => format!("{bucket}/{key}"),
                        Space::Update => format!("{bucket}/{key}\0update"),
                    },
                    write,
                )
                .await
                .map(LockGuard::Distributed)
                .ok_or_else(|| ObjError::LockTimeout(format!("{bucket}/{key}"))),
            NsLock::Home(_) => unreachable!("home locks route to the first pool's locks"),
        }
    }

    pub async fn read(&self, bucket: &str, key: &str) -> ObjResult<LockGuard> {
        self.lock(bucket, key, false).await
    }

    pub async fn write(&self, bucket: &str, key: &str) -> ObjResult<LockGuard> {
        self.lock(bucket, key, true).await
    }

    /// The exclusive lock around a read-change-write of the system document `bucket/key`; the
    /// writer then takes the document's own [`Self::write`] lock inside it.
    pub async fn update(&self, bucket: &str, key: &str) -> ObjResult<LockGuard> {
        self.acquire_in(bucket, key, true, Space::Update).await
    }

    /// The exclusive lock of a multipart upload (`name` names the upload). A completion takes
    /// the object's [`Self::write`] lock inside it, so it lives among the update locks' stripes:
    /// among the objects' stripes the two names could share one, and the completion would wait
    /// on itself for the whole lock timeout (one upload in 1,024 could never complete).
    pub async fn upload(&self, bucket: &str, name: &str) -> ObjResult<LockGuard> {
        self.acquire_in(bucket, name, true, Space::Upload).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A system document's update lock and its object lock are never one stripe (regression:
    /// both were object stripes, and a document whose two names shared one deadlocked for the
    /// whole lock timeout).
    #[tokio::test]
    async fn an_update_lock_never_blocks_the_object_lock_taken_inside_it() {
        let locks = NsLock::local(std::time::Duration::from_millis(200));
        for i in 0..3000 {
            let key = format!("doc/{i}.json");
            let _update = locks.update("sys", &key).await.unwrap();
            locks.write("sys", &key).await.unwrap();
        }
    }

    /// Likewise an upload's lock and its object's (regression: a completion whose two names
    /// shared a stripe failed with SlowDown after the lock timeout, every time).
    #[tokio::test]
    async fn an_upload_lock_never_blocks_the_object_lock_taken_inside_it() {
        let locks = NsLock::local(std::time::Duration::from_millis(200));
        for i in 0..3000 {
            let name = format!("key\0upload/{i}");
            let _upload = locks.upload("bkt", &name).await.unwrap();
            locks.write("bkt", "key").await.unwrap();
        }
    }
}
