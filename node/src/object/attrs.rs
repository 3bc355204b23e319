//! In-place changes of a version's attributes (tags; later retention and legal hold): under the
//! key's write lock the version is resolved, changed, stamped with the hybrid logical clock and
//! written to every drive that holds it. Readers take the attributes of the newest change among
//! the drives that agree on the version (`set::agreed_versions`), so a drive that missed a change
//! is outvoted (see ARCHITECTURE.md, "Versions of an object").

use super::clock::hlc;
use super::set::{refuse_marker, ErasureSet};
use super::{ObjError, ObjResult, ObjectInfo, ObjectLayer, VersionSel};
use crate::store::meta::{ObjectVersion, VersionAttrs};
use crate::store::DriveError;
use futures::future::join_all;
use rustfs_common::layout::Quorum;
use rustfs_common::names::{check_bucket, check_key};

impl ErasureSet {
    /// Changes the attributes of `version` (`None`: the latest) to what `change` answers.
    pub async fn update_attrs<F>(
        &self,
        bucket: &str,
        key: &str,
        version: VersionSel,
        change: F,
    ) -> ObjResult<ObjectInfo>
    where
        F: FnOnce(&ObjectVersion) -> ObjResult<VersionAttrs>,
    {
        let _g = self.locks.write(bucket, key).await?;
        let (r, _) = self.resolve_read(bucket, key, version).await?;
        refuse_marker(bucket, key, &r.version, version.is_some())?;
        let mut attrs = change(&r.version)?;
        attrs.changed_nanos = hlc().now().max(r.version.attrs.changed_nanos + 1);
        let v = &r.version;
        let results = join_all(
            self.drives
                .iter()
                .zip(&r.per_drive)
                .filter(|(_, held)| held.is_some())
                .map(|(d, _)| {
                    d.update_attrs(bucket, key, v.version_id, v.mod_time_nanos, attrs.clone())
                }),
        )
        .await;
        let mut ok = 0;
        for r in results {
            match r {
                Ok(()) => ok += 1,
                Err(DriveError::NotFound) => {}
                Err(e) => {
                    tracing::warn!(bucket, key, error = %e, "attribute change failed on a drive")
                }
            }
        }
        if ok < Quorum::new(self.num_drives(), v.erasure.parity).write() {
            return Err(ObjError::WriteQuorum(format!("{bucket}/{key}")));
        }
        if ok < self.num_drives() {
            self.queue_heal(bucket, key);
        }
        let mut changed = r.version;
        changed.attrs = attrs;
        Ok(ObjectInfo::from_version(bucket, key, &changed))
    }
}

impl ObjectLayer {
    /// Changes the attributes of one version of `bucket/key` in place (no new version).
    pub async fn update_object_attrs<F>(
        &self,
        bucket: &str,
        key: &str,
        version: VersionSel,
        change: F,
    ) -> ObjResult<ObjectInfo>
    where
        F: FnOnce(&ObjectVersion) -> ObjResult<VersionAttrs>,
    {
        check_bucket(bucket)?;
        check_key(key)?;
        self.set_for(bucket, key)
            .await?
            .update_attrs(bucket, key, version, change)
            .await
    }
}
