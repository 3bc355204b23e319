//! One erasure set: its drives, its default geometry, and the quorum rules that turn the answers
//! of many drives into one answer.

use super::lock::NsLock;
use super::{ObjError, ObjResult, ObjectInfo};
use crate::erasure::{BitrotAlgo, CodecKind};
use crate::store::meta::{MetaSel, ObjectMeta, ObjectVersion, PartInfo};
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
    /// Parity for new `REDUCED_REDUNDANCY` objects when every drive is online (at most `parity`).
    pub rrs_parity: usize,
    pub codec: CodecKind,
    pub bitrot: BitrotAlgo,
    pub locks: Arc<NsLock>,
    /// Where damaged or partially written objects are reported for healing.
    pub heal: super::heal_hook::HealHook,
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

    /// Picks the newest version (or version `id`) that its read quorum of drives agree on.
    /// `version_id`: `None` = latest, `Some(id)` = that version (`Some(None)`: the null one).
    /// Versions are merged across drives per version (not by each drive's latest), so a drive
    /// that also holds a newer version too few drives have still counts for the agreed one.
    pub(crate) fn resolve(
        &self,
        bucket: &str,
        key: &str,
        results: &[DriveResult<ObjectMeta>],
        version_id: Option<Option<Uuid>>,
    ) -> ObjResult<Resolved> {
        let what = format!("{bucket}/{key}");
        let agreed = agreed_versions(results);
        let best = match version_id {
            None => agreed.into_iter().next(),
            Some(id) => agreed.into_iter().find(|a| a.version.version_id == id),
        };
        if let Some(a) = best {
            let mut per_drive = vec![None; self.drives.len()];
            for (i, v) in a.holders {
                per_drive[i] = Some(v);
            }
            return Ok(Resolved {
                version: a.version,
                per_drive,
            });
        }
        let (mut not_found, mut no_bucket) = (0, 0);
        for (i, r) in results.iter().enumerate() {
            match r {
                Ok(m) if version_id.is_some() || m.versions.is_empty() => not_found += 1,
                Ok(_) => {}
                Err(DriveError::NotFound) => not_found += 1,
                Err(DriveError::BucketNotFound) => no_bucket += 1,
                Err(e) => {
                    tracing::debug!(drive = self.drives[i].endpoint(), error = %e, "meta read failed")
                }
            }
        }
        let read_quorum = self.default_quorum().read();
        match version_id {
            _ if no_bucket >= read_quorum => Err(ObjError::BucketNotFound(bucket.into())),
            Some(Some(id)) if not_found + no_bucket >= read_quorum => {
                Err(ObjError::VersionNotFound(format!("{what} version {id}")))
            }
            _ if not_found + no_bucket >= read_quorum => Err(ObjError::ObjectNotFound(what)),
            _ => Err(ObjError::ReadQuorum(what)),
        }
    }

    /// Reads and resolves one version for a reader (GET, HEAD, tags): each drive sends only the
    /// version asked for, its newest or the one id (the meta's index and that record), so the
    /// cost does not grow with the number of versions. Answers, beside the resolution, which
    /// drives answered at all (see [`Self::resolve`]).
    ///
    /// The newest records of the drives settle the latest version unless a drive's newest is
    /// newer than the one agreed on: that drive may hide an older version behind it that, with
    /// the others, is the real agreed latest. Then (a write that failed part way, a drive that
    /// came back) every version is read and resolved as [`Self::resolve`] always does.
    pub(crate) async fn resolve_read(
        &self,
        bucket: &str,
        key: &str,
        version: super::VersionSel,
    ) -> ObjResult<(Resolved, Vec<bool>)> {
        let sel = version.map_or(MetaSel::Latest, MetaSel::Version);
        let metas = join_all(
            self.drives
                .iter()
                .map(|d| d.read_versions(bucket, key, sel)),
        )
        .await;
        match self.resolve(bucket, key, &metas, version) {
            Ok(r) if version.is_some() || newest_is_settled(&metas, &r.version) => {
                return Ok((r, answered(&metas)))
            }
            Err(e) if version.is_some() || !matches!(e, ObjError::ReadQuorum(_)) => return Err(e),
            _ => {} // the drives' newest records do not settle the latest version
        }
        let metas = self.read_metas(bucket, key).await;
        let r = self.resolve(bucket, key, &metas, version)?;
        Ok((r, answered(&metas)))
    }

    /// Meta of a version (`None`: the latest); a delete marker answers [`ObjError::DeleteMarker`].
    pub async fn head(
        &self,
        bucket: &str,
        key: &str,
        version: super::VersionSel,
    ) -> ObjResult<ObjectInfo> {
        self.head_parts(bucket, key, version).await.map(|(i, _)| i)
    }

    /// [`Self::head`] with the version's parts (sizes, ETags, checksums).
    pub async fn head_parts(
        &self,
        bucket: &str,
        key: &str,
        version: super::VersionSel,
    ) -> ObjResult<(ObjectInfo, Vec<PartInfo>)> {
        let _g = self.locks.read(bucket, key).await?;
        let (r, _) = self.resolve_read(bucket, key, version).await?;
        refuse_marker(bucket, key, &r.version, version.is_some())?;
        let info = ObjectInfo::from_version(bucket, key, &r.version);
        Ok((info, r.version.parts))
    }

    /// Removes the `null` version of an object. Deleting a missing object succeeds, as in S3.
    pub async fn delete(&self, bucket: &str, key: &str) -> ObjResult<()> {
        let _g = self.locks.write(bucket, key).await?;
        self.delete_version_unlocked(bucket, key, None).await
    }

    /// Removes every version of an object (the key moved to another pool).
    pub(crate) async fn delete_unlocked(&self, bucket: &str, key: &str) -> ObjResult<()> {
        let metas = self.read_metas(bucket, key).await;
        let ids: std::collections::BTreeSet<Option<Uuid>> = metas
            .iter()
            .flatten()
            .flat_map(|m| m.versions.iter().map(|v| v.version_id))
            .collect();
        for id in ids {
            self.delete_version_unlocked(bucket, key, id).await?;
        }
        Ok(())
    }

    /// Removes version `id` for good unless object lock keeps it (see [`super::retention`]);
    /// answers whether it was a delete marker.
    pub async fn delete_version(
        &self,
        bucket: &str,
        key: &str,
        id: Option<Uuid>,
        how: Removal,
    ) -> ObjResult<bool> {
        let _g = self.locks.write(bucket, key).await?;
        let metas = self.read_metas(bucket, key).await;
        let marker = match self.resolve(bucket, key, &metas, Some(id)) {
            Ok(r) => {
                if how
                    .written_at
                    .is_some_and(|t| t != r.version.mod_time_nanos)
                {
                    return Err(ObjError::PreconditionFailed(format!("{bucket}/{key}")));
                }
                super::retention::check_removal(
                    &r.version,
                    how.bypass_governance,
                    super::now_nanos(),
                )?;
                r.version.delete_marker
            }
            Err(ObjError::VersionNotFound(_) | ObjError::ObjectNotFound(_)) => false,
            Err(e) => return Err(e),
        };
        self.delete_version_unlocked(bucket, key, id).await?;
        Ok(marker)
    }

    /// Removes version `id` on every drive (caller holds the write lock).
    async fn delete_version_unlocked(
        &self,
        bucket: &str,
        key: &str,
        id: Option<Uuid>,
    ) -> ObjResult<()> {
        let results = join_all(
            self.drives
                .iter()
                .map(|d| d.delete_version(bucket, key, id)),
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

/// How a version is removed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Removal {
    /// The request carried `x-amz-bypass-governance-retention: true`.
    pub bypass_governance: bool,
    /// Only the version written at this time (a background action decided on it).
    pub written_at: Option<i64>,
}

/// A delete marker read as an object: not found (the latest) or not allowed (asked by id).
pub(crate) fn refuse_marker(
    bucket: &str,
    key: &str,
    v: &ObjectVersion,
    requested: bool,
) -> ObjResult<()> {
    if v.delete_marker {
        return Err(ObjError::DeleteMarker {
            key: format!("{bucket}/{key}"),
            version_id: v.version_id,
            requested,
        });
    }
    Ok(())
}

/// A version a quorum of drives agree on, with each holder's copy (its shard index, inline data).
pub(crate) struct Agreed {
    pub version: ObjectVersion,
    pub holders: Vec<(usize, ObjectVersion)>,
}

/// Every version that at least its data-shard count of drives hold, newest first.
/// Per drive: whether it answered (a missing or stale copy there is the object's fault, not an
/// offline drive's).
fn answered(metas: &[DriveResult<ObjectMeta>]) -> Vec<bool> {
    metas
        .iter()
        .map(|r| !super::get::is_unreachable(r))
        .collect()
}

/// True when no drive's newest version is newer than `agreed`, so no drive can hide an older
/// version that would outrank it (see [`ErasureSet::resolve_read`]).
fn newest_is_settled(metas: &[DriveResult<ObjectMeta>], agreed: &ObjectVersion) -> bool {
    metas.iter().flatten().all(|m| {
        m.latest()
            .is_none_or(|v| v.mod_time_nanos <= agreed.mod_time_nanos)
    })
}

pub(crate) fn agreed_versions(results: &[DriveResult<ObjectMeta>]) -> Vec<Agreed> {
    let mut groups: Vec<Agreed> = Vec::new();
    let mut index: std::collections::HashMap<(Option<Uuid>, i64), Vec<usize>> =
        std::collections::HashMap::new();
    for (i, r) in results.iter().enumerate() {
        let Ok(meta) = r else { continue };
        for v in &meta.versions {
            let slot = index.entry((v.version_id, v.mod_time_nanos)).or_default();
            match slot.iter().copied().find(|&g| groups[g].version.same_as(v)) {
                Some(g) => {
                    // Drives agree on the version; its attributes come from the newest change.
                    if v.attrs.changed_nanos > groups[g].version.attrs.changed_nanos {
                        groups[g].version.attrs = v.attrs.clone();
                    }
                    groups[g].holders.push((i, v.clone()))
                }
                None => {
                    slot.push(groups.len());
                    groups.push(Agreed {
                        version: v.clone(),
                        holders: vec![(i, v.clone())],
                    });
                }
            }
        }
    }
    groups.retain(|g| g.holders.len() >= g.version.erasure.data.max(1));
    groups.sort_by(|a, b| {
        (b.version.mod_time_nanos, b.holders.len())
            .cmp(&(a.version.mod_time_nanos, a.holders.len()))
    });
    groups
}
