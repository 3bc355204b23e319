//! Committing a written version under the namespace write lock: the write's precondition is
//! checked there (so two `If-None-Match: *` writers cannot both win), every drive commits, and a
//! commit that misses its write quorum is rolled back on the drives that took it, so no partial
//! version is ever readable and the version it replaced comes back. In a deployment of several
//! pools, the key's lock is one lock for every pool (`lock::NsLock::Home`), and a commit removes
//! the key from any other pool that got it meanwhile: one pool holds a key.

use super::put::{abort_tmp, quorum_error};
use super::set::ErasureSet;
use super::{ObjError, ObjResult, WriteCondition};
use crate::store::meta::ObjectVersion;
use crate::store::{CommitSource, DriveError};
use futures::future::join_all;
use rustfs_common::layout::Quorum;
use std::sync::Arc;
use uuid::Uuid;

/// What a commit needs beyond the version itself.
pub(crate) struct CommitPlan<'a> {
    pub src: CommitSource,
    /// Per drive: whether it holds the version's data (only those commit).
    pub ok: &'a [bool],
    /// Per drive: its inline shard stream (small objects).
    pub inline: Option<&'a [Vec<u8>]>,
    pub condition: Option<&'a WriteCondition>,
    /// The key's sets in the other pools of the deployment.
    pub others: &'a [Arc<ErasureSet>],
}

/// Checks `condition` against the ETag of the key's current live version (`None`: no such key).
fn check_condition(condition: &WriteCondition, etag: Option<&str>, what: String) -> ObjResult<()> {
    let failed = match condition {
        WriteCondition::IfNoneMatchAny => etag.is_some(),
        WriteCondition::IfNoneMatch(want) => etag == Some(want.as_str()),
        WriteCondition::IfMatch(want) => {
            if etag.is_none() {
                return Err(ObjError::ObjectNotFound(what));
            }
            want.as_deref().is_some_and(|w| etag != Some(w))
        }
        WriteCondition::IsLatest(..) => unreachable!("checked against the version itself"),
    };
    if failed {
        return Err(ObjError::PreconditionFailed(what));
    }
    Ok(())
}

impl ErasureSet {
    /// The key's latest version on this set, if any (call under the write lock).
    async fn current(&self, bucket: &str, key: &str) -> ObjResult<Option<ObjectVersion>> {
        let metas = self.read_metas(bucket, key).await;
        match self.resolve(bucket, key, &metas, None) {
            Ok(r) => Ok(Some(r.version)),
            Err(ObjError::ObjectNotFound(_) | ObjError::BucketNotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Commits `version` on every drive in `plan.ok`, under the namespace write lock, stamped
    /// with a time taken under that lock (see [`super::clock`]); returns the version committed.
    pub(crate) async fn commit_version(
        &self,
        bucket: &str,
        key: &str,
        version: &ObjectVersion,
        plan: CommitPlan<'_>,
    ) -> ObjResult<ObjectVersion> {
        let q = Quorum::new(self.num_drives(), version.erasure.parity);
        let abort = || {
            if let CommitSource::Tmp(id) = plan.src {
                abort_tmp(self, id);
            }
        };
        let _g = self
            .locks
            .write(bucket, key)
            .await
            .inspect_err(|_| abort())?;
        // What the key is now, in this pool and in any other that got it meanwhile.
        let mut latest: Option<ObjectVersion> = None;
        if plan.condition.is_some() {
            latest = self.current(bucket, key).await.inspect_err(|_| abort())?;
        }
        let mut held_elsewhere = Vec::new();
        for other in plan.others {
            if let Some(v) = other.current(bucket, key).await.inspect_err(|_| abort())? {
                held_elsewhere.push(other.clone());
                if latest
                    .as_ref()
                    .is_none_or(|l| v.mod_time_nanos > l.mod_time_nanos)
                {
                    latest = Some(v);
                }
            }
        }
        if let Some(WriteCondition::IsLatest(id, t)) = plan.condition {
            if latest.as_ref().map(|v| (v.version_id, v.mod_time_nanos)) != Some((*id, *t)) {
                abort();
                return Err(ObjError::PreconditionFailed(format!("{bucket}/{key}")));
            }
        } else if let Some(c) = plan.condition {
            let etag = latest
                .as_ref()
                .filter(|v| !v.delete_marker)
                .map(|v| v.etag.as_str());
            check_condition(c, etag, format!("{bucket}/{key}")).inspect_err(|_| abort())?;
        }
        let commit_id = Uuid::new_v4();
        let mut version = version.clone();
        version.mod_time_nanos = super::clock::hlc().now();
        let version = &version;
        let per_drive = |i: usize| {
            let mut v = version.clone();
            v.erasure.index = v.erasure.distribution[i];
            v.inline_data = plan.inline.map(|s| s[i].clone());
            v
        };
        let commit_on =
            |i: usize| self.drives[i].commit(bucket, key, plan.src, per_drive(i), commit_id);
        let mut results = join_all((0..self.num_drives()).map(|i| async move {
            if plan.ok[i] {
                Some(commit_on(i).await)
            } else {
                None
            }
        }))
        .await;
        let missing_bucket: Vec<usize> = (0..results.len())
            .filter(|&i| matches!(results[i], Some(Err(DriveError::BucketNotFound))))
            .collect();
        if missing_bucket.len() >= q.write() {
            abort();
            return Err(ObjError::BucketNotFound(bucket.into()));
        }
        // A drive that was away when the bucket was made lacks it: make it there and commit again,
        // instead of failing a write the other drives accepted.
        for i in missing_bucket {
            let d = &self.drives[i];
            tracing::info!(
                drive = d.endpoint(),
                bucket,
                "creating a bucket the drive missed"
            );
            let _ = d.make_bucket(bucket, super::now_nanos()).await;
            results[i] = Some(commit_on(i).await);
        }
        let mut errors = Vec::new();
        let mut committed: Vec<(usize, bool)> = Vec::new();
        for (i, r) in results.into_iter().enumerate() {
            match r {
                Some(Ok(kept)) => committed.push((i, kept)),
                Some(Err(e)) => {
                    tracing::warn!(drive = self.drives[i].endpoint(), error = %e, bucket, key, "commit failed on drive");
                    errors.push(e);
                }
                None => {}
            }
        }
        if committed.len() < q.write() {
            self.roll_back(bucket, key, commit_id, &committed, &per_drive)
                .await;
            abort();
            return Err(quorum_error(&errors, &format!("{bucket}/{key}")));
        }
        for other in held_elsewhere {
            // The key moved pools (two first writers chose different pools): the loser goes.
            tracing::info!(
                bucket,
                key,
                pool = other.pool,
                "removing the copy another pool took"
            );
            other.delete_unlocked(bucket, key).await?;
        }
        let settle: Vec<usize> = committed
            .iter()
            .filter(|(_, k)| *k)
            .map(|(i, _)| *i)
            .collect();
        if !settle.is_empty() {
            let drives = self.drives.clone();
            tokio::spawn(async move {
                for i in settle {
                    if let Err(e) = drives[i].finish_commit(commit_id).await {
                        tracing::debug!(drive = drives[i].endpoint(), error = %e, "settling a commit failed; the drive's sweeper will");
                    }
                }
            });
        }
        if committed.len() < self.num_drives() {
            // Some drives missed the write: they get it when they are back.
            self.queue_heal(bucket, key);
        }
        Ok(version.clone())
    }

    /// Undoes commit `commit_id` on the drives that took it.
    async fn roll_back(
        &self,
        bucket: &str,
        key: &str,
        commit_id: Uuid,
        committed: &[(usize, bool)],
        per_drive: &(dyn Fn(usize) -> ObjectVersion + Sync),
    ) {
        let undone = join_all(committed.iter().map(|&(i, kept)| {
            let v = per_drive(i);
            async move {
                self.drives[i]
                    .undo_commit(bucket, key, commit_id, &v, kept)
                    .await
            }
        }))
        .await;
        let mut failed = false;
        for (&(i, _), r) in committed.iter().zip(undone) {
            if let Err(e) = r {
                failed = true;
                tracing::warn!(drive = self.drives[i].endpoint(), error = %e, bucket, key, "rolling back a commit that missed its quorum failed; healing will");
            }
        }
        if failed {
            self.queue_heal(bucket, key);
        }
    }
}
