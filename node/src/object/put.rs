//! The write path: stream a body through the erasure encoder into per-drive shard files (or
//! inline shards for small objects), hashing as it goes, then commit under the namespace lock.
//! Memory per request is one block plus its shards, whatever the object size.

use super::checksum::Checksummer;
use super::set::ErasureSet;
use super::{
    BodyStream, ChecksumAlgo, ObjError, ObjResult, ObjectInfo, PutOptions, INLINE_THRESHOLD,
};
use crate::erasure::stream::BlockEncoder;
use crate::erasure::{new_codec, BLOCK_SIZE};
use crate::store::meta::{ErasureInfo, ObjectVersion, PartInfo, StorageClass, StoredChecksum};
use crate::store::{CommitSource, DriveError, ShardWriter};
use base64::Engine as _;
use bytes::Bytes;
use futures::future::join_all;
use futures::StreamExt;
use md5::{Digest, Md5};
use rustfs_common::layout::{parity_for_write, shard_distribution, Quorum};
use uuid::Uuid;

/// Running digests over the body.
struct BodyDigest {
    md5: Md5,
    checksum: Option<Checksummer>,
    size: u64,
}

impl BodyDigest {
    fn new(algo: Option<ChecksumAlgo>) -> Self {
        BodyDigest {
            md5: Md5::new(),
            checksum: algo.map(Checksummer::new),
            size: 0,
        }
    }

    fn update(&mut self, b: &[u8]) {
        self.md5.update(b);
        self.size += b.len() as u64;
        if let Some(c) = &mut self.checksum {
            c.update(b);
        }
    }

    /// (md5 bytes, base64 checksum)
    fn finish(self) -> ([u8; 16], Option<String>) {
        (
            self.md5.finalize().into(),
            self.checksum.map(Checksummer::finish),
        )
    }
}

/// Fills `block` up to `BLOCK_SIZE` from the body; returns true at end of body.
async fn fill_block(
    body: &mut BodyStream,
    carry: &mut Option<Bytes>,
    block: &mut Vec<u8>,
) -> ObjResult<bool> {
    block.clear();
    loop {
        let mut chunk = match carry.take() {
            Some(c) => c,
            None => match body.next().await {
                Some(Ok(c)) => c,
                Some(Err(e)) => return Err(ObjError::Body(e.to_string())),
                None => return Ok(true),
            },
        };
        let room = BLOCK_SIZE - block.len();
        if chunk.len() > room {
            *carry = Some(chunk.split_off(room));
        }
        block.extend_from_slice(&chunk);
        if block.len() == BLOCK_SIZE {
            // Peek for end of body so an exact multiple of the block size is not an extra round.
            return Ok(false);
        }
    }
}

/// What the encoder wrote.
pub(crate) struct Written {
    pub size: u64,
    pub md5: [u8; 16],
    pub checksum: Option<String>,
    /// Per drive, the inline shard stream (small objects).
    pub inline: Option<Vec<Vec<u8>>>,
    /// Per drive, whether it holds a complete shard file / inline shard.
    pub ok: Vec<bool>,
    pub tmp_id: Uuid,
    pub erasure: ErasureInfo,
}

/// How a write is laid out: geometry, its quorum, and the drives that take part.
pub(crate) struct WritePlan {
    pub erasure: ErasureInfo,
    pub quorum: Quorum,
    pub online: Vec<bool>,
}

/// Erasure geometry for a new write of storage class `class` given which drives are online.
pub(crate) fn plan_geometry(
    set: &ErasureSet,
    online: Vec<bool>,
    name: &str,
    class: StorageClass,
) -> ObjResult<WritePlan> {
    let n = set.num_drives();
    let offline = online.iter().filter(|o| !**o).count();
    let base = match class {
        StorageClass::Standard => set.parity,
        StorageClass::ReducedRedundancy => set.rrs_parity,
    };
    let parity = parity_for_write(n, base, offline);
    let q = Quorum::new(n, parity);
    if n - offline < q.write() {
        return Err(ObjError::WriteQuorum(name.into()));
    }
    Ok(WritePlan {
        erasure: ErasureInfo {
            codec: set.codec,
            data: q.data,
            parity,
            block_size: BLOCK_SIZE,
            index: 0,
            distribution: shard_distribution(name, n),
            bitrot: set.bitrot,
        },
        quorum: q,
        online,
    })
}

pub(crate) fn quorum_error(errors: &[DriveError], name: &str) -> ObjError {
    if errors.iter().any(|e| matches!(e, DriveError::DiskFull)) {
        ObjError::StorageFull(name.into())
    } else {
        ObjError::WriteQuorum(name.into())
    }
}

/// Streams `body` into shards on the set's drives. `file_name` is the shard file name under the
/// tmp dir; with `allow_inline`, a body that fits in `INLINE_THRESHOLD` is kept in memory instead.
pub(crate) async fn write_shards(
    set: &ErasureSet,
    mut body: BodyStream,
    name: &str,
    file_name: &str,
    allow_inline: bool,
    digest_algo: Option<ChecksumAlgo>,
    plan: WritePlan,
) -> ObjResult<Written> {
    let WritePlan {
        erasure,
        quorum: q,
        online,
    } = plan;
    let n = set.num_drives();
    let codec = new_codec(erasure.codec, erasure.data, erasure.parity)
        .map_err(|e| ObjError::Internal(e.to_string()))?;
    let encoder = BlockEncoder::new(codec, erasure.bitrot);
    let shard_of = |i: usize| erasure.distribution[i] - 1;
    let tmp_id = Uuid::new_v4();
    let mut digest = BodyDigest::new(digest_algo);
    let mut block = Vec::with_capacity(BLOCK_SIZE);
    let mut carry = None;
    let mut bufs: Vec<Vec<u8>> = vec![Vec::new(); n];
    let mut writers: Vec<Option<Box<dyn ShardWriter>>> = Vec::new();
    let mut errors: Vec<DriveError> = Vec::new();
    let mut first = true;
    let result: ObjResult<Option<Vec<Vec<u8>>>> = async {
        loop {
            let eof = fill_block(&mut body, &mut carry, &mut block).await?;
            digest.update(&block);
            if first && eof && allow_inline && block.len() <= INLINE_THRESHOLD {
                if !block.is_empty() {
                    encoder.encode(&block, &mut bufs).map_err(|e| ObjError::Internal(e.to_string()))?;
                }
                let inline = (0..n).map(|i| if block.is_empty() { Vec::new() } else { bufs[shard_of(i)].clone() }).collect();
                return Ok(Some(inline));
            }
            if first {
                let opened = join_all(set.drives.iter().zip(&online).map(|(d, on)| async move {
                    if *on {
                        Some(d.create_writer(tmp_id, file_name).await)
                    } else {
                        None
                    }
                }))
                .await;
                for o in opened {
                    writers.push(match o {
                        Some(Ok(w)) => Some(w),
                        Some(Err(e)) => {
                            errors.push(e);
                            None
                        }
                        None => None,
                    });
                }
                first = false;
            }
            if !block.is_empty() {
                encoder.encode(&block, &mut bufs).map_err(|e| ObjError::Internal(e.to_string()))?;
                let results = join_all(writers.iter_mut().enumerate().map(|(i, w)| {
                    let buf = &bufs[shard_of(i)];
                    async move {
                        match w {
                            Some(w) => Some(w.write(buf).await),
                            None => None,
                        }
                    }
                }))
                .await;
                for (i, r) in results.into_iter().enumerate() {
                    if let Some(Err(e)) = r {
                        tracing::warn!(drive = set.drives[i].endpoint(), error = %e, "shard write failed");
                        errors.push(e);
                        writers[i] = None;
                    }
                }
                if writers.iter().flatten().count() < q.write() {
                    return Err(quorum_error(&errors, name));
                }
            }
            if eof {
                return Ok(None);
            }
        }
    }
    .await;

    let inline = match result {
        Ok(inline) => inline,
        Err(e) => {
            abort_tmp(set, tmp_id);
            return Err(e);
        }
    };
    let ok = match &inline {
        Some(_) => online.clone(),
        None => {
            let finished = join_all(writers.into_iter().map(|w| async move {
                match w {
                    Some(w) => w.finish().await.map(|_| true),
                    None => Ok(false),
                }
            }))
            .await;
            let mut ok = Vec::with_capacity(n);
            for r in finished {
                match r {
                    Ok(b) => ok.push(b),
                    Err(e) => {
                        errors.push(e);
                        ok.push(false);
                    }
                }
            }
            if ok.iter().filter(|b| **b).count() < q.write() {
                abort_tmp(set, tmp_id);
                return Err(quorum_error(&errors, name));
            }
            ok
        }
    };
    let size = digest.size;
    let (md5, checksum) = digest.finish();
    Ok(Written {
        size,
        md5,
        checksum,
        inline,
        ok,
        tmp_id,
        erasure,
    })
}

/// Removes a write's temporary files from every drive, in the background.
pub(crate) fn abort_tmp(set: &ErasureSet, tmp_id: Uuid) {
    for d in set.drives.clone() {
        tokio::spawn(async move {
            let _ = d.remove_tmp(tmp_id).await;
        });
    }
}

/// Checks the received body against what the client declared (length, Content-MD5, checksum).
pub(crate) fn verify_declared(
    w: &Written,
    opts: &mut PutOptions,
) -> ObjResult<Option<super::StoredChecksum>> {
    if let Some(expected) = opts.content_length {
        if expected != w.size {
            return Err(ObjError::IncompleteBody {
                expected,
                got: w.size,
            });
        }
    }
    if let Some(md5) = &opts.content_md5 {
        let ours = base64::engine::general_purpose::STANDARD.encode(w.md5);
        if *md5 != ours {
            return Err(ObjError::BadDigest);
        }
    }
    match (opts.checksum.take(), &w.checksum) {
        (Some((algo, expected)), Some(ours)) => match expected() {
            Some(theirs) if theirs != *ours => Err(ObjError::ChecksumMismatch(algo.name().into())),
            _ => Ok(Some(StoredChecksum {
                algorithm: algo.name().into(),
                value: ours.clone(),
            })),
        },
        _ => Ok(None),
    }
}

impl ErasureSet {
    /// Stores an object (replacing the null version) in a single-pool deployment.
    pub async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: BodyStream,
        opts: PutOptions,
    ) -> ObjResult<ObjectInfo> {
        self.put_object_among(bucket, key, body, opts, &[]).await
    }

    /// Stores an object; `others` are the key's sets in the other pools (see
    /// [`super::commit::CommitPlan::others`]).
    pub(crate) async fn put_object_among(
        &self,
        bucket: &str,
        key: &str,
        body: BodyStream,
        mut opts: PutOptions,
        others: &[std::sync::Arc<ErasureSet>],
    ) -> ObjResult<ObjectInfo> {
        let name = format!("{bucket}/{key}");
        let plan = plan_geometry(self, self.online().await, &name, opts.storage_class)?;
        let algo = opts.checksum.as_ref().map(|(a, _)| *a);
        // Versions of a versioned key keep their bytes in data dirs, so the key's meta (every
        // version's) stays small however many versions it gathers.
        let inline = opts.version_id.is_none();
        let w = write_shards(self, body, &name, "part.1", inline, algo, plan).await?;
        let checksum = match verify_declared(&w, &mut opts) {
            Ok(c) => c,
            Err(e) => {
                abort_tmp(self, w.tmp_id);
                return Err(e);
            }
        };
        let etag = hex::encode(w.md5);
        let version = ObjectVersion {
            version_id: opts.version_id,
            delete_marker: false,
            mod_time_nanos: 0,
            size: w.size,
            etag: etag.clone(),
            content_type: opts.content_type,
            user_meta: opts.user_meta,
            checksum,
            erasure: w.erasure.clone(),
            parts: vec![PartInfo {
                number: 1,
                size: w.size,
                etag,
                checksum: None,
            }],
            data_dir: w.inline.is_none().then(Uuid::new_v4),
            inline_data: None,
            attrs: opts.attrs,
            storage_class: opts.storage_class,
        };
        let src = if w.inline.is_some() {
            CommitSource::None
        } else {
            CommitSource::Tmp(w.tmp_id)
        };
        let plan = super::commit::CommitPlan {
            src,
            ok: &w.ok,
            inline: w.inline.as_deref(),
            condition: opts.condition.as_ref(),
            others,
        };
        let version = self.commit_version(bucket, key, &version, plan).await?;
        Ok(ObjectInfo::from_version(bucket, key, &version))
    }

    /// Adds a delete marker (`id`: its version id, `None` for a `null` marker), if `condition`
    /// holds under the key's write lock.
    pub async fn add_delete_marker(
        &self,
        bucket: &str,
        key: &str,
        id: Option<Uuid>,
        condition: Option<&super::WriteCondition>,
    ) -> ObjResult<()> {
        let name = format!("{bucket}/{key}");
        let plan = plan_geometry(self, self.online().await, &name, StorageClass::Standard)?;
        let marker = ObjectVersion {
            version_id: id,
            delete_marker: true,
            mod_time_nanos: 0,
            size: 0,
            etag: String::new(),
            content_type: None,
            user_meta: Default::default(),
            checksum: None,
            erasure: plan.erasure,
            parts: Vec::new(),
            data_dir: None,
            inline_data: None,
            attrs: Default::default(),
            storage_class: StorageClass::Standard,
        };
        let commit = super::commit::CommitPlan {
            src: CommitSource::None,
            ok: &plan.online,
            inline: None,
            condition,
            others: &[],
        };
        self.commit_version(bucket, key, &marker, commit).await?;
        Ok(())
    }
}
