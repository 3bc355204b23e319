//! Multipart uploads: the geometry is fixed at create time; each part is erasure coded on its own
//! into `.rustfs.sys/multipart/<bucket>/<upload>/part.N.<data id>`; completing links the listed
//! parts into the new version's data dir in one commit per drive.
//!
//! Part commits, completion and abort of one upload take the upload's own write lock (a
//! namespace lock on `key` + NUL + upload id, a name no object can have), so two uploads of one
//! part number never interleave their drives, a completion sees a settled set of parts, and a
//! second completion finds the upload gone.

use super::put::{abort_tmp, verify_declared, write_shards, WritePlan};
use super::set::ErasureSet;
use super::{
    now_nanos, BodyStream, ChecksumAlgo, ObjError, ObjResult, ObjectInfo, ObjectLayer, PutOptions,
};
use crate::store::meta::StoredChecksum;
use crate::store::meta::{ErasureInfo, ObjectVersion, PartInfo, StorageClass, VersionAttrs};
pub use crate::store::uploads::PartRecord as PartMeta;
use crate::store::{CommitSource, DriveError};
use futures::future::join_all;
use md5::{Digest, Md5};
use rustfs_common::layout::Quorum;
use rustfs_common::names::{check_bucket, check_key};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use uuid::Uuid;

/// Smallest part allowed except the last.
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
/// Highest part number.
pub const MAX_PART_NUMBER: u32 = 10_000;

/// `upload.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UploadMeta {
    pub bucket: String,
    pub key: String,
    pub upload_id: Uuid,
    pub initiated_nanos: i64,
    pub content_type: Option<String>,
    pub user_meta: BTreeMap<String, String>,
    pub erasure: ErasureInfo,
    /// Tags and object-lock settings of the object the upload completes into.
    #[serde(default)]
    pub attrs: VersionAttrs,
    #[serde(default)]
    pub storage_class: StorageClass,
    /// `x-amz-checksum-algorithm` at create: every part gets a checksum of it, and the object a
    /// composite one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<ChecksumAlgo>,
}

/// One entry of a CompleteMultipartUpload request.
#[derive(Debug, Clone, Default)]
pub struct CompletePart {
    pub number: i32,
    pub etag: String,
    /// The part's checksum as the client names it (base64), checked against the stored one.
    pub checksum: Option<String>,
}

/// The namespace-lock name of an upload: its key, a NUL (which no key may contain) and its id.
fn upload_lock_name(key: &str, id: Uuid) -> String {
    format!("{key}\0upload/{id}")
}

fn parse_upload_id(id: &str) -> ObjResult<Uuid> {
    Uuid::parse_str(id).map_err(|_| ObjError::NoSuchUpload(id.into()))
}

impl ErasureSet {
    async fn read_upload(&self, bucket: &str, id: Uuid) -> ObjResult<UploadMeta> {
        let results = join_all(self.drives.iter().map(|d| d.read_upload(bucket, id))).await;
        let metas: Vec<UploadMeta> = results
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .filter_map(|b| serde_json::from_slice(b).ok())
            .collect();
        let q = self.default_quorum();
        match metas.into_iter().next() {
            Some(m)
                if results.iter().filter(|r| r.is_ok()).count()
                    >= Quorum::new(self.num_drives(), m.erasure.parity).read() =>
            {
                Ok(m)
            }
            _ if results
                .iter()
                .filter(|r| matches!(r, Err(DriveError::NotFound)))
                .count()
                >= q.read() =>
            {
                Err(ObjError::NoSuchUpload(id.to_string()))
            }
            _ => Err(ObjError::ReadQuorum(format!("upload {id}"))),
        }
    }

    /// Parts as a quorum of drives reports them: per number, the etag most drives agree on.
    async fn quorum_parts(&self, up: &UploadMeta) -> ObjResult<Vec<PartMeta>> {
        let results = join_all(
            self.drives
                .iter()
                .map(|d| d.list_parts(&up.bucket, up.upload_id)),
        )
        .await;
        let mut counts: HashMap<PartMeta, usize> = HashMap::new();
        for r in results.into_iter().flatten() {
            for p in r {
                *counts.entry(p).or_default() += 1;
            }
        }
        let need = Quorum::new(self.num_drives(), up.erasure.parity).read();
        let mut best: BTreeMap<u32, (usize, PartMeta)> = BTreeMap::new();
        for (p, n) in counts {
            if n >= need
                && best
                    .get(&p.number)
                    .is_none_or(|(m, b)| n > *m || (n == *m && p.mod_time_nanos > b.mod_time_nanos))
            {
                best.insert(p.number, (n, p));
            }
        }
        Ok(best.into_values().map(|(_, p)| p).collect())
    }
}

impl ErasureSet {
    /// The uploads of `bucket` that any drive of this set records.
    pub async fn uploads(&self, bucket: &str) -> Vec<UploadMeta> {
        let mut seen: HashMap<Uuid, UploadMeta> = HashMap::new();
        for r in join_all(self.drives.iter().map(|d| d.list_uploads(bucket)))
            .await
            .into_iter()
            .flatten()
        {
            for b in r {
                if let Ok(m) = serde_json::from_slice::<UploadMeta>(&b) {
                    seen.insert(m.upload_id, m);
                }
            }
        }
        seen.into_values().collect()
    }
}

impl ObjectLayer {
    async fn upload_set(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> ObjResult<(&Arc<ErasureSet>, UploadMeta)> {
        check_bucket(bucket)?;
        check_key(key)?;
        let id = parse_upload_id(upload_id)?;
        let mut last = ObjError::NoSuchUpload(upload_id.into());
        for p in &self.pools {
            let set = p.set_for(bucket, key);
            match set.read_upload(bucket, id).await {
                Ok(m) if m.key == key => return Ok((set, m)),
                Ok(_) => return Err(ObjError::NoSuchUpload(upload_id.into())),
                Err(ObjError::NoSuchUpload(_)) => {}
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Starts an upload; `checksum`: the algorithm its parts and the object are checksummed with.
    pub async fn create_multipart(
        &self,
        bucket: &str,
        key: &str,
        opts: PutOptions,
        checksum: Option<ChecksumAlgo>,
    ) -> ObjResult<Uuid> {
        check_key(key)?;
        self.bucket_info(bucket).await?;
        // Lock settings the bucket cannot take are refused now, not at completion (which
        // applies the bucket's default retention then).
        self.new_version_id(bucket, &mut opts.attrs.clone()).await?;
        let set = self.set_for(bucket, key).await?;
        let name = format!("{bucket}/{key}");
        let plan = super::put::plan_geometry(set, set.online().await, &name, opts.storage_class)?;
        let (erasure, q) = (plan.erasure, plan.quorum);
        let up = UploadMeta {
            bucket: bucket.into(),
            key: key.into(),
            upload_id: Uuid::new_v4(),
            initiated_nanos: now_nanos(),
            content_type: opts.content_type,
            user_meta: opts.user_meta,
            erasure,
            attrs: opts.attrs,
            storage_class: opts.storage_class,
            checksum,
        };
        let data = serde_json::to_vec(&up).expect("upload meta serializes");
        let results = join_all(
            set.drives
                .iter()
                .map(|d| d.write_upload(bucket, up.upload_id, &data)),
        )
        .await;
        if results.iter().filter(|r| r.is_ok()).count() < q.write() {
            return Err(ObjError::WriteQuorum(name));
        }
        Ok(up.upload_id)
    }

    pub async fn upload_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        number: i32,
        body: BodyStream,
        mut opts: PutOptions,
    ) -> ObjResult<PartMeta> {
        if !(1..=MAX_PART_NUMBER as i32).contains(&number) {
            return Err(ObjError::InvalidArgument(format!(
                "part number {number} is out of range: use 1 to {MAX_PART_NUMBER}"
            )));
        }
        let number = number as u32;
        let (set, up) = self.upload_set(bucket, key, upload_id).await?;
        let q = Quorum::new(set.num_drives(), up.erasure.parity);
        let online = set.online().await;
        let name = format!("{bucket}/{key}");
        if online.iter().filter(|o| **o).count() < q.write() {
            return Err(ObjError::WriteQuorum(name));
        }
        // A part of an upload with a checksum algorithm is checksummed with it (computed here when
        // the client sent none, as for UploadPartCopy); another algorithm is refused.
        let algo = match (opts.checksum.as_ref().map(|(a, _)| *a), up.checksum) {
            (Some(theirs), Some(ours)) if theirs != ours => {
                return Err(ObjError::InvalidRequest(format!(
                    "the upload was created with checksum algorithm {}: a part cannot carry a {} checksum",
                    ours.name(),
                    theirs.name()
                )))
            }
            (theirs, ours) => theirs.or(ours),
        };
        let plan = WritePlan {
            erasure: up.erasure.clone(),
            quorum: q,
            online,
        };
        let w = write_shards(set, body, &name, "part", false, algo, plan).await?;
        if let Err(e) = verify_declared(&w, &mut opts) {
            abort_tmp(set, w.tmp_id);
            return Err(e);
        }
        let part = PartMeta {
            number,
            size: w.size,
            etag: hex::encode(w.md5),
            mod_time_nanos: now_nanos(),
            data_id: Some(w.tmp_id),
            checksum: algo
                .zip(w.checksum.clone())
                .map(|(a, value)| StoredChecksum {
                    algorithm: a.name().into(),
                    value,
                }),
        };
        let _g = match set
            .locks
            .upload(bucket, &upload_lock_name(key, up.upload_id))
            .await
        {
            Ok(g) => g,
            Err(e) => {
                abort_tmp(set, w.tmp_id);
                return Err(e);
            }
        };
        let results = join_all(set.drives.iter().zip(&w.ok).map(|(d, ok)| {
            let part = &part;
            async move {
                if *ok {
                    Some(d.commit_part(bucket, up.upload_id, part, w.tmp_id).await)
                } else {
                    None
                }
            }
        }))
        .await;
        let done = results.iter().filter(|r| matches!(r, Some(Ok(())))).count();
        if done < q.write() {
            abort_tmp(set, w.tmp_id);
            if results
                .iter()
                .flatten()
                .filter(|r| matches!(r, Err(DriveError::NotFound)))
                .count()
                >= q.read()
            {
                return Err(ObjError::NoSuchUpload(upload_id.into()));
            }
            return Err(ObjError::WriteQuorum(name));
        }
        Ok(part)
    }

    pub async fn list_parts(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> ObjResult<(UploadMeta, Vec<PartMeta>)> {
        let (set, up) = self.upload_set(bucket, key, upload_id).await?;
        let parts = set.quorum_parts(&up).await?;
        Ok((up, parts))
    }

    /// Completes an upload from its parts, in ascending order.
    pub async fn complete_multipart(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        wanted: &[CompletePart],
        condition: Option<&super::WriteCondition>,
    ) -> ObjResult<ObjectInfo> {
        let (set, _) = self.upload_set(bucket, key, upload_id).await?;
        let id = parse_upload_id(upload_id)?;
        let _g = set.locks.upload(bucket, &upload_lock_name(key, id)).await?;
        // Under the upload's lock: a completion or abort that came first has removed it.
        let up = set.read_upload(bucket, id).await?;
        if wanted.is_empty() {
            return Err(ObjError::InvalidPart(
                "you must specify at least one part".into(),
            ));
        }
        let have: HashMap<u32, PartMeta> = set
            .quorum_parts(&up)
            .await?
            .into_iter()
            .map(|p| (p.number, p))
            .collect();
        if wanted.windows(2).any(|w| w[0].number >= w[1].number) {
            return Err(ObjError::InvalidPartOrder);
        }
        let mut parts = Vec::with_capacity(wanted.len());
        let mut md5s = Md5::new();
        for (i, want) in wanted.iter().enumerate() {
            let (number, etag) = (want.number, want.etag.trim_matches('"'));
            let p = u32::try_from(number)
                .ok()
                .and_then(|n| have.get(&n))
                .filter(|p| p.etag == etag)
                .ok_or_else(|| {
                    ObjError::InvalidPart(format!(
                        "part {number} with ETag {etag} was not uploaded or its ETag does not match"
                    ))
                })?;
            if i + 1 < wanted.len() && p.size < MIN_PART_SIZE {
                return Err(ObjError::EntityTooSmall(p.number));
            }
            let sum = up
                .checksum
                .and(p.checksum.as_ref())
                .map(|c| c.value.clone());
            if want.checksum.is_some() && want.checksum != sum {
                return Err(ObjError::InvalidPart(format!(
                    "part {number}'s checksum is not the one it was uploaded with"
                )));
            }
            md5s.update(hex::decode(&p.etag).unwrap_or_default());
            parts.push(PartInfo {
                number: p.number,
                size: p.size,
                etag: p.etag.clone(),
                checksum: sum,
            });
        }
        let etag = format!("{}-{}", hex::encode(md5s.finalize()), parts.len());
        // The composite checksum over every part's own; a part without one (written before the
        // upload's algorithm was enforced) cannot give one.
        let checksum = match up.checksum {
            None => None,
            Some(a) => {
                let sums: Option<Vec<&str>> = parts.iter().map(|p| p.checksum.as_deref()).collect();
                let value = sums
                    .and_then(|s| super::checksum::composite(a, s))
                    .ok_or_else(|| {
                        ObjError::InvalidPart(format!(
                            "a part of this upload has no {} checksum: upload it again",
                            a.name()
                        ))
                    })?;
                Some(StoredChecksum {
                    algorithm: a.name().into(),
                    value,
                })
            }
        };
        let mut attrs = up.attrs.clone();
        let version = ObjectVersion {
            version_id: self.new_version_id(bucket, &mut attrs).await?,
            delete_marker: false,
            mod_time_nanos: 0,
            size: parts.iter().map(|p| p.size).sum(),
            etag,
            content_type: up.content_type.clone(),
            user_meta: up.user_meta.clone(),
            checksum,
            erasure: up.erasure.clone(),
            parts,
            data_dir: Some(Uuid::new_v4()),
            inline_data: None,
            attrs,
            storage_class: up.storage_class,
        };
        let online = set.online().await;
        let others = self.other_pools_sets(set, bucket, key);
        let plan = super::commit::CommitPlan {
            src: CommitSource::Upload(up.upload_id),
            ok: &online,
            inline: None,
            condition,
            others: &others,
        };
        let version = set.commit_version(bucket, key, &version, plan).await?;
        // The object holds its own links to the parts: the upload goes, so a second completion
        // gets NoSuchUpload. A drive that misses this keeps a stale upload, never a visible one
        // (listing and completion need a quorum).
        join_all(
            set.drives
                .iter()
                .map(|d| d.delete_upload(bucket, up.upload_id)),
        )
        .await;
        Ok(ObjectInfo::from_version(bucket, key, &version))
    }

    pub async fn abort_multipart(&self, bucket: &str, key: &str, upload_id: &str) -> ObjResult<()> {
        let (set, up) = self.upload_set(bucket, key, upload_id).await?;
        let _g = set
            .locks
            .upload(bucket, &upload_lock_name(key, up.upload_id))
            .await?;
        join_all(
            set.drives
                .iter()
                .map(|d| d.delete_upload(bucket, up.upload_id)),
        )
        .await;
        Ok(())
    }

    /// Open uploads under `prefix`, ordered by key then initiation time.
    pub async fn list_uploads(&self, bucket: &str, prefix: &str) -> ObjResult<Vec<UploadMeta>> {
        self.bucket_info(bucket).await?;
        let mut out = Vec::new();
        for set in self.sets() {
            out.extend(
                set.uploads(bucket)
                    .await
                    .into_iter()
                    .filter(|m| m.key.starts_with(prefix)),
            );
        }
        out.sort_by(|a, b| (&a.key, a.initiated_nanos).cmp(&(&b.key, b.initiated_nanos)));
        Ok(out)
    }
}
