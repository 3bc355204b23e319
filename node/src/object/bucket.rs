//! Buckets across every drive of every set, and routing of object calls to their pool and set.

use super::get::OpenObject;
use super::{now_nanos, BodyStream, ObjError, ObjResult, ObjectInfo, ObjectLayer, PutOptions};
use crate::object::set::ErasureSet;
use crate::store::{BucketInfo, Drive, DriveError};
use futures::future::join_all;
use rustfs_common::names::{check_bucket, check_key};
use std::collections::BTreeMap;
use std::sync::Arc;

impl ObjectLayer {
    pub fn sets(&self) -> impl Iterator<Item = &Arc<ErasureSet>> {
        self.pools.iter().flat_map(|p| p.sets.iter())
    }

    fn all_drives(&self) -> Vec<(Arc<dyn Drive>, usize)> {
        self.sets()
            .flat_map(|s| {
                let q = s.default_quorum().write();
                s.drives.iter().map(move |d| (d.clone(), q))
            })
            .collect()
    }

    /// Runs `f` on every drive and requires a write quorum on every set.
    async fn on_every_set<F, Fut>(&self, bucket: &str, f: F) -> Vec<Vec<Result<(), DriveError>>>
    where
        F: Fn(Arc<dyn Drive>) -> Fut,
        Fut: std::future::Future<Output = Result<(), DriveError>>,
    {
        let mut out = Vec::new();
        for set in self.sets() {
            out.push(join_all(set.drives.iter().map(|d| f(d.clone()))).await);
        }
        let _ = bucket;
        out
    }

    pub async fn make_bucket(&self, bucket: &str) -> ObjResult<()> {
        check_bucket(bucket)?;
        let created = now_nanos();
        let results = self
            .on_every_set(
                bucket,
                |d| async move { d.make_bucket(bucket, created).await },
            )
            .await;
        let mut exists = 0;
        let mut total = 0;
        for (set, rs) in self.sets().zip(&results) {
            let q = set.default_quorum().write();
            let ok = rs.iter().filter(|r| r.is_ok()).count();
            let dup = rs
                .iter()
                .filter(|r| matches!(r, Err(DriveError::BucketExists)))
                .count();
            exists += dup;
            total += rs.len();
            if ok < q && dup < q {
                // Undo where we created it, so a retry starts clean.
                for (d, r) in set.drives.iter().zip(rs) {
                    if r.is_ok() {
                        let _ = d.delete_bucket(bucket).await;
                    }
                }
                return Err(ObjError::WriteQuorum(bucket.into()));
            }
        }
        if exists * 2 > total {
            return Err(ObjError::BucketExists(bucket.into()));
        }
        Ok(())
    }

    pub async fn bucket_info(&self, bucket: &str) -> ObjResult<BucketInfo> {
        check_bucket(bucket)?;
        let set = self.sets().next().expect("at least one set");
        let results = join_all(set.drives.iter().map(|d| d.stat_bucket(bucket))).await;
        let q = set.default_quorum().read();
        let found: Vec<&BucketInfo> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        let missing = results
            .iter()
            .filter(|r| matches!(r, Err(DriveError::BucketNotFound)))
            .count();
        match found.first() {
            Some(info) if found.len() >= q => Ok((*info).clone()),
            _ if missing >= q => Err(ObjError::BucketNotFound(bucket.into())),
            _ => Err(ObjError::ReadQuorum(bucket.into())),
        }
    }

    pub async fn list_buckets(&self) -> ObjResult<Vec<BucketInfo>> {
        let set = self.sets().next().expect("at least one set");
        let results = join_all(set.drives.iter().map(|d| d.list_buckets())).await;
        let q = set.default_quorum().read();
        let answered = results.iter().filter(|r| r.is_ok()).count();
        if answered < q {
            return Err(ObjError::ReadQuorum("bucket list".into()));
        }
        let mut seen: BTreeMap<String, (usize, BucketInfo)> = BTreeMap::new();
        for b in results.into_iter().flatten().flatten() {
            let e = seen.entry(b.name.clone()).or_insert((0, b.clone()));
            e.0 += 1;
            e.1.created_nanos = e.1.created_nanos.min(b.created_nanos);
        }
        Ok(seen
            .into_values()
            .filter(|(n, _)| *n >= q)
            .map(|(_, b)| b)
            .collect())
    }

    /// Deletes an empty bucket (`BucketNotEmpty` when objects remain).
    pub async fn delete_bucket(&self, bucket: &str) -> ObjResult<()> {
        self.bucket_info(bucket).await?;
        if !self
            .list_page(bucket, "", None, None, 1)
            .await?
            .entries
            .is_empty()
        {
            return Err(ObjError::BucketNotEmpty(bucket.into()));
        }
        let drives = self.all_drives();
        let results = join_all(drives.iter().map(|(d, _)| d.delete_bucket(bucket))).await;
        if results
            .iter()
            .any(|r| matches!(r, Err(DriveError::BucketNotEmpty)))
        {
            // Leftovers without a quorum (dangling data): refuse rather than lose anything.
            let created = now_nanos();
            for ((d, _), r) in drives.iter().zip(&results) {
                if r.is_ok() {
                    let _ = d.make_bucket(bucket, created).await;
                }
            }
            return Err(ObjError::BucketNotEmpty(bucket.into()));
        }
        Ok(())
    }

    /// The set that holds (or will hold) `bucket/key`: the pool that already has it, else the
    /// pool with the most free space.
    pub async fn set_for(&self, bucket: &str, key: &str) -> ObjResult<&Arc<ErasureSet>> {
        if self.pools.len() == 1 {
            return Ok(self.pools[0].set_for(bucket, key));
        }
        for p in &self.pools {
            let set = p.set_for(bucket, key);
            match set.head(bucket, key).await {
                Ok(_) => return Ok(set),
                Err(ObjError::ObjectNotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        let mut best = (0u64, 0usize);
        for (i, p) in self.pools.iter().enumerate() {
            let mut free = 0;
            for s in &p.sets {
                for d in &s.drives {
                    free += d.disk_info().await.map(|i| i.free_bytes).unwrap_or(0);
                }
            }
            if free > best.0 {
                best = (free, i);
            }
        }
        Ok(self.pools[best.1].set_for(bucket, key))
    }

    pub async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: BodyStream,
        opts: PutOptions,
    ) -> ObjResult<ObjectInfo> {
        check_key(key)?;
        self.bucket_info(bucket).await?;
        self.set_for(bucket, key)
            .await?
            .put_object(bucket, key, body, opts)
            .await
    }

    pub async fn head_object(&self, bucket: &str, key: &str) -> ObjResult<ObjectInfo> {
        check_bucket(bucket)?;
        check_key(key)?;
        self.set_for(bucket, key).await?.head(bucket, key).await
    }

    pub async fn open_object(&self, bucket: &str, key: &str) -> ObjResult<OpenObject> {
        check_bucket(bucket)?;
        check_key(key)?;
        self.set_for(bucket, key)
            .await?
            .open_object(bucket, key)
            .await
    }

    pub async fn delete_object(&self, bucket: &str, key: &str) -> ObjResult<()> {
        check_bucket(bucket)?;
        check_key(key)?;
        self.set_for(bucket, key).await?.delete(bucket, key).await
    }
}
