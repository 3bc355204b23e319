//! Buckets across every drive of every set, and routing of object calls to their pool and set.

use super::get::OpenObject;
use super::{
    now_nanos, BodyStream, Deleted, ObjError, ObjResult, ObjectInfo, ObjectLayer, PutOptions,
    VersionSel,
};
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
        if let Err(e) = self.delete_bucket_config(bucket).await {
            tracing::warn!(bucket, error = %e, "the deleted bucket's configuration stays; it is replaced if the bucket is made again");
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
            match set.head(bucket, key, None).await {
                Ok(_) | Err(ObjError::DeleteMarker { .. }) => return Ok(set),
                // A pool whose drives miss the bucket (added after it was made, and not yet
                // synced) does not hold the object either.
                Err(ObjError::ObjectNotFound(_) | ObjError::BucketNotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        let free = self.free_bytes_per_pool().await;
        let placement_key = &self.pools[0].placement_key;
        let pool =
            rustfs_common::layout::weighted_pool(placement_key, &format!("{bucket}/{key}"), &free)
                .ok_or_else(|| ObjError::StorageFull(format!("{bucket}/{key}")))?;
        Ok(self.pools[pool].set_for(bucket, key))
    }

    /// The sets of `bucket/key` in every pool but `set`'s.
    pub(crate) fn other_pools_sets(
        &self,
        set: &ErasureSet,
        bucket: &str,
        key: &str,
    ) -> Vec<Arc<ErasureSet>> {
        self.pools
            .iter()
            .enumerate()
            .filter(|(pi, _)| *pi != set.pool)
            .map(|(_, p)| p.set_for(bucket, key).clone())
            .collect()
    }

    /// Free bytes of each pool (usable by a write: offline drives count as none), measured at
    /// most every few seconds.
    async fn free_bytes_per_pool(&self) -> Vec<u64> {
        const FRESH: std::time::Duration = std::time::Duration::from_secs(5);
        if let Some((at, free)) = self.free_cache.lock().as_ref() {
            if at.elapsed() < FRESH {
                return free.clone();
            }
        }
        let mut out = Vec::with_capacity(self.pools.len());
        for p in &self.pools {
            let drives: Vec<&Arc<dyn Drive>> = p.sets.iter().flat_map(|s| &s.drives).collect();
            let infos = join_all(drives.iter().map(|d| d.disk_info())).await;
            out.push(infos.iter().flatten().map(|i| i.free_bytes).sum());
        }
        *self.free_cache.lock() = Some((std::time::Instant::now(), out.clone()));
        out
    }

    /// Creates on this node's drives the buckets they miss (a drive that was offline or replaced
    /// when a bucket was made, or a pool added later). Run at start-up.
    pub async fn sync_buckets(&self) {
        let Ok(buckets) = self.list_buckets().await else {
            return;
        };
        for set in self.sets() {
            for d in set.drives.iter().filter(|d| d.is_local()) {
                for b in &buckets {
                    if matches!(
                        d.stat_bucket(&b.name).await,
                        Err(DriveError::BucketNotFound)
                    ) {
                        match d.make_bucket(&b.name, b.created_nanos).await {
                            Ok(()) => {
                                tracing::info!(drive = d.endpoint(), bucket = %b.name, "created a missing bucket on a drive")
                            }
                            Err(e) => {
                                tracing::warn!(drive = d.endpoint(), bucket = %b.name, error = %e, "could not create a missing bucket")
                            }
                        }
                    }
                }
            }
        }
    }

    pub async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: BodyStream,
        mut opts: PutOptions,
    ) -> ObjResult<ObjectInfo> {
        check_key(key)?;
        self.bucket_info(bucket).await?;
        opts.version_id = self.new_version_id(bucket, &mut opts.attrs).await?;
        let set = self.set_for(bucket, key).await?;
        let others = self.other_pools_sets(set, bucket, key);
        set.put_object_among(bucket, key, body, opts, &others).await
    }

    /// The id of a new version in `bucket` (fresh while versioning is enabled, else `null`), and
    /// its object-lock settings: the bucket's default retention unless the request named one;
    /// lock settings on a bucket without object lock are refused.
    pub(crate) async fn new_version_id(
        &self,
        bucket: &str,
        attrs: &mut crate::store::meta::VersionAttrs,
    ) -> ObjResult<Option<uuid::Uuid>> {
        let cfg = self.bucket_config(bucket).await?;
        match &cfg.object_lock {
            None if attrs.retention.is_some() || attrs.legal_hold => {
                return Err(ObjError::InvalidRequest(
                    "Bucket is missing Object Lock Configuration".into(),
                ))
            }
            Some(lock) if attrs.retention.is_none() => {
                attrs.retention = lock.retention_at(now_nanos());
            }
            _ => {}
        }
        Ok(cfg.versioning.makes_versions().then(uuid::Uuid::new_v4))
    }

    pub async fn head_object(
        &self,
        bucket: &str,
        key: &str,
        version: VersionSel,
    ) -> ObjResult<ObjectInfo> {
        check_bucket(bucket)?;
        check_key(key)?;
        self.set_for(bucket, key)
            .await?
            .head(bucket, key, version)
            .await
    }

    /// An object version's description and its parts (GetObjectAttributes).
    pub async fn object_parts(
        &self,
        bucket: &str,
        key: &str,
        version: VersionSel,
    ) -> ObjResult<(ObjectInfo, Vec<crate::store::meta::PartInfo>)> {
        check_bucket(bucket)?;
        check_key(key)?;
        self.set_for(bucket, key)
            .await?
            .head_parts(bucket, key, version)
            .await
    }

    pub async fn open_object(
        &self,
        bucket: &str,
        key: &str,
        version: VersionSel,
    ) -> ObjResult<OpenObject> {
        check_bucket(bucket)?;
        check_key(key)?;
        self.set_for(bucket, key)
            .await?
            .open_object(bucket, key, version)
            .await
    }

    /// Deletes version `version` for good, or (`None`) the object as its bucket's versioning
    /// state says: the `null` version goes (unversioned), or a delete marker is added.
    pub async fn delete_object(
        &self,
        bucket: &str,
        key: &str,
        version: VersionSel,
        bypass_governance: bool,
    ) -> ObjResult<Deleted> {
        check_bucket(bucket)?;
        check_key(key)?;
        let set = self.set_for(bucket, key).await?;
        if let Some(id) = version {
            let how = super::set::Removal {
                bypass_governance,
                written_at: None,
            };
            let delete_marker = set.delete_version(bucket, key, id, how).await?;
            return Ok(Deleted {
                version_id: id,
                delete_marker,
            });
        }
        let cfg = self.bucket_config(bucket).await?;
        if !cfg.versioning.keeps_history() {
            set.delete(bucket, key).await?;
            return Ok(Deleted::default());
        }
        let id = cfg.versioning.makes_versions().then(uuid::Uuid::new_v4);
        set.add_delete_marker(bucket, key, id, None).await?;
        Ok(Deleted {
            version_id: id,
            delete_marker: true,
        })
    }
}
