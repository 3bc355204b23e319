//! One erasure set: its drives, its default geometry, and the quorum rules that turn the answers
//! of many drives into one answer.

use super::lock::NsLock;
use super::{ObjError, ObjResult, ObjectInfo};
use crate::erasure::{BitrotAlgo, CodecKind};
use crate::store::meta::{ObjectMeta, ObjectVersion};
use crate::store::{Drive, DriveError, DriveResult};
use futures::future::join_all;
use rustfs_common::layout::Quorum;
use std::sync::Arc;
use uuid::Uuid;

pub struct ErasureSet {
    pub pool: usize,
    pub index: usize,
    pub drives: Vec<Arc<dyn Drive>>,
    /// Parity for new objects when every drive is online.
    pub parity: usize,
    pub codec: CodecKind,
    pub bitrot: BitrotAlgo,
    pub locks: NsLock,
    /// Where damaged or partially written objects are reported for healing.
    pub heal: crate::heal::HealHook,
}

/// The version a quorum of drives agrees on, and which drives hold it.
pub struct Resolved {
    pub version: ObjectVersion,
    /// Per drive: its copy of the agreed version (carries the drive's shard index and inline
    /// data), or `None` when the drive is offline, stale or missing the object.
    pub per_drive: Vec<Option<ObjectVersion>>,
}

impl ErasureSet {
    pub fn num_drives(&self) -> usize {
        self.drives.len()
    }

    /// Quorum of an object written with the set's default parity.
    pub fn default_quorum(&self) -> Quorum {
        Quorum::new(self.drives.len(), self.parity)
    }

    /// Which drives are online right now.
    pub async fn online(&self) -> Vec<bool> {
        join_all(self.drives.iter().map(|d| d.is_online())).await
    }

    pub(crate) async fn read_metas(&self, bucket: &str, key: &str) -> Vec<DriveResult<ObjectMeta>> {
        join_all(self.drives.iter().map(|d| d.read_meta(bucket, key))).await
    }

    /// Picks the newest version that at least its read quorum of drives agree on.
    /// `version_id`: `None` = latest, `Some(id)` = that version.
    pub(crate) fn resolve(
        &self,
        bucket: &str,
        key: &str,
        results: &[DriveResult<ObjectMeta>],
        version_id: Option<Option<Uuid>>,
    ) -> ObjResult<Resolved> {
        let what = format!("{bucket}/{key}");
        let mut groups: Vec<(ObjectVersion, Vec<usize>)> = Vec::new();
        let per_drive_versions: Vec<Option<ObjectVersion>> = results
            .iter()
            .map(|r| {
                let meta = r.as_ref().ok()?;
                match version_id {
                    None => meta.latest().cloned(),
                    Some(id) => meta.versions.iter().find(|v| v.version_id == id).cloned(),
                }
            })
            .collect();
        let (mut not_found, mut no_bucket) = (0, 0);
        for (i, r) in results.iter().enumerate() {
            match (r, &per_drive_versions[i]) {
                (Ok(_), Some(v)) => match groups.iter_mut().find(|(g, _)| g.same_as(v)) {
                    Some((_, idx)) => idx.push(i),
                    None => groups.push((v.clone(), vec![i])),
                },
                (Ok(_), None) | (Err(DriveError::NotFound), _) => not_found += 1,
                (Err(DriveError::BucketNotFound), _) => no_bucket += 1,
                (Err(e), _) => {
                    tracing::debug!(drive = self.drives[i].endpoint(), error = %e, "meta read failed")
                }
            }
        }
        let best = groups
            .into_iter()
            .filter(|(v, idx)| idx.len() >= v.erasure.data.max(1))
            .max_by_key(|(v, idx)| (v.mod_time_nanos, idx.len()));
        let read_quorum = self.default_quorum().read();
        match best {
            Some((version, idx)) => {
                let mut per_drive = vec![None; self.drives.len()];
                for i in idx {
                    per_drive[i] = per_drive_versions[i].clone();
                }
                Ok(Resolved { version, per_drive })
            }
            None if no_bucket >= read_quorum => Err(ObjError::BucketNotFound(bucket.into())),
            None if not_found + no_bucket >= read_quorum => Err(ObjError::ObjectNotFound(what)),
            None => Err(ObjError::ReadQuorum(what)),
        }
    }

    /// Meta of the latest version; a delete marker reads as not found.
    pub async fn head(&self, bucket: &str, key: &str) -> ObjResult<ObjectInfo> {
        let _g = self.locks.read(bucket, key).await?;
        let metas = self.read_metas(bucket, key).await;
        let r = self.resolve(bucket, key, &metas, None)?;
        if r.version.delete_marker {
            return Err(ObjError::ObjectNotFound(format!("{bucket}/{key}")));
        }
        Ok(ObjectInfo::from_version(bucket, key, &r.version))
    }

    /// Removes the (null) version of an object. Deleting a missing object succeeds, as in S3.
    pub async fn delete(&self, bucket: &str, key: &str) -> ObjResult<()> {
        let _g = self.locks.write(bucket, key).await?;
        let results = join_all(
            self.drives
                .iter()
                .map(|d| d.delete_version(bucket, key, None)),
        )
        .await;
        let quorum = self.default_quorum().write();
        let mut ok = 0;
        let mut no_bucket = 0;
        for (i, r) in results.into_iter().enumerate() {
            match r {
                Ok(()) | Err(DriveError::NotFound) => ok += 1,
                Err(DriveError::BucketNotFound) => no_bucket += 1,
                Err(e) => {
                    tracing::warn!(drive = self.drives[i].endpoint(), error = %e, bucket, key, "delete failed on drive")
                }
            }
        }
        if no_bucket >= quorum {
            return Err(ObjError::BucketNotFound(bucket.into()));
        }
        if ok >= quorum {
            if ok < self.num_drives() {
                self.queue_heal(bucket, key);
            }
            Ok(())
        } else {
            Err(ObjError::WriteQuorum(format!("{bucket}/{key}")))
        }
    }
}
