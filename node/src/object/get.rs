//! The read path: resolve the agreed version, then stream the requested range block by block,
//! verifying every shard's bitrot hash and reconstructing from parity when a shard is missing or
//! corrupt. The first block is read before the response starts, so a set that cannot serve the
//! object answers with an error status instead of a truncated body.

use super::set::{ErasureSet, Resolved};
use super::{ObjError, ObjResult, ObjectInfo, ObjectStream};
use crate::erasure::stream::{decode_block, verify_shard, ShardGeometry};
use crate::erasure::{new_codec, ErasureCodec};
use crate::store::meta::ObjectVersion;
use crate::store::{DataReader, Drive, DriveError, ShardReader};
use bytes::Bytes;
use futures::future::join_all;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Where one drive's shard of the current part comes from.
enum Source {
    Inline(Vec<u8>),
    File(Box<dyn ShardReader>),
    Unopened,
    Failed,
}

/// An object whose version is resolved and whose first part's shards are open.
pub struct OpenObject {
    pub info: ObjectInfo,
    bucket: String,
    key: String,
    version: ObjectVersion,
    drives: Vec<Arc<dyn Drive>>,
    /// Per drive: shard number (0-based) it holds, if it agrees on the version.
    shard_of: Vec<Option<usize>>,
    sources: Vec<Source>,
    /// Per drive, for objects of several parts: the version's pinned data dir, through which
    /// later parts are opened (an overwrite meanwhile cannot take them away).
    data: Vec<Option<Box<dyn DataReader>>>,
    /// A copy was missing, stale or rotten on a drive that answered: queue a heal when done.
    needs_heal: bool,
    heal: Option<super::heal_hook::PendingHeal>,
}

impl ErasureSet {
    /// Resolves a version (`None`: the latest) and pins its data (shard files opened under the
    /// read lock).
    pub async fn open_object(
        &self,
        bucket: &str,
        key: &str,
        version: super::VersionSel,
    ) -> ObjResult<OpenObject> {
        let _g = self.locks.read(bucket, key).await?;
        // A copy missing or stale on a drive that answered queues a heal.
        let (resolved, answered) = self.resolve_read(bucket, key, version).await?;
        super::set::refuse_marker(bucket, key, &resolved.version, version.is_some())?;
        let mut obj = self.open_resolved(bucket, key, resolved).await;
        obj.needs_heal |= obj
            .shard_of
            .iter()
            .zip(&answered)
            .any(|(s, a)| s.is_none() && *a);
        obj.heal = Some(self.heal_request(bucket, key));
        Ok(obj)
    }

    /// Opens the first part's shards of an agreed version (no lock: callers hold one or re-check
    /// the version before acting on what they read).
    pub(crate) async fn open_resolved(
        &self,
        bucket: &str,
        key: &str,
        resolved: Resolved,
    ) -> OpenObject {
        let Resolved { version, per_drive } = resolved;
        let shard_of: Vec<Option<usize>> = per_drive
            .iter()
            .map(|v| v.as_ref().map(|v| v.erasure.index - 1))
            .collect();
        let mut sources: Vec<Source> = per_drive
            .into_iter()
            .map(|v| match v {
                Some(v) if v.inline_data.is_some() => {
                    Source::Inline(v.inline_data.unwrap_or_default())
                }
                Some(_) => Source::Unopened,
                None => Source::Failed,
            })
            .collect();
        let mut needs_heal = false;
        let mut data: Vec<Option<Box<dyn DataReader>>> =
            (0..self.drives.len()).map(|_| None).collect();
        if let (Some(dd), Some(first)) = (version.data_dir, version.parts.first()) {
            let several = version.parts.len() > 1;
            if version.size > 0 {
                let opened = join_all(self.drives.iter().zip(&sources).map(|(d, s)| async move {
                    if !matches!(s, Source::Unopened) {
                        return None;
                    }
                    if !several {
                        let r = d.open_shard(bucket, key, dd, first.number).await;
                        return Some(r.map(|r| (None, r)));
                    }
                    Some(
                        async {
                            let data = d.open_data(bucket, key, dd).await?;
                            let r = data.open_part(first.number).await?;
                            Ok((Some(data), r))
                        }
                        .await,
                    )
                }))
                .await;
                for (i, o) in opened.into_iter().enumerate() {
                    match o {
                        Some(Ok((pin, r))) => {
                            sources[i] = Source::File(r);
                            data[i] = pin;
                        }
                        Some(Err(e)) => {
                            tracing::debug!(drive = self.drives[i].endpoint(), error = %e, "shard open failed");
                            needs_heal |= !matches!(e, DriveError::Offline(_));
                            sources[i] = Source::Failed;
                        }
                        None => {}
                    }
                }
            }
        }
        OpenObject {
            info: ObjectInfo::from_version(bucket, key, &version),
            bucket: bucket.into(),
            key: key.into(),
            version,
            drives: self.drives.clone(),
            shard_of,
            sources,
            data,
            needs_heal,
            heal: None,
        }
    }
}

/// True when a drive's answer says it could not be asked (offline or unreachable), as opposed
/// to an answer about the object.
pub(crate) fn is_unreachable<T>(r: &Result<T, DriveError>) -> bool {
    matches!(r, Err(DriveError::Offline(_) | DriveError::Io { .. }))
}

impl Drop for OpenObject {
    fn drop(&mut self) {
        if self.needs_heal {
            if let Some(req) = self.heal.take() {
                req.send();
            }
        }
    }
}

impl OpenObject {
    /// Streams bytes `start..end` of the object. Fails (instead of streaming) when the first block
    /// cannot be read.
    pub async fn stream(self, start: u64, end: u64) -> ObjResult<ObjectStream> {
        let (tx, mut rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(2);
        let what = format!("{}/{}", self.bucket, self.key);
        if start >= end {
            return Ok(ObjectStream::new(None, None));
        }
        tokio::spawn(async move {
            if let Err(e) = self.produce(start, end, &tx).await {
                tracing::warn!(error = %e, "object read failed");
                let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
            }
        });
        match rx.recv().await {
            Some(Ok(first)) => Ok(ObjectStream::new(Some(first), Some(rx))),
            Some(Err(_)) | None => Err(ObjError::ReadQuorum(what)),
        }
    }

    async fn produce(
        mut self,
        start: u64,
        end: u64,
        tx: &mpsc::Sender<Result<Bytes, std::io::Error>>,
    ) -> ObjResult<()> {
        let e = self.version.erasure.clone();
        let codec =
            new_codec(e.codec, e.data, e.parity).map_err(|e| ObjError::Internal(e.to_string()))?;
        let parts = self.version.parts.clone();
        let mut part_start = 0u64;
        for (pi, part) in parts.iter().enumerate() {
            let part_end = part_start + part.size;
            if part_end <= start || part.size == 0 {
                part_start = part_end;
                continue;
            }
            if part_start >= end {
                break;
            }
            if pi > 0 {
                self.open_part(part.number).await;
            }
            let geo = ShardGeometry::new(part.size, e.data, e.bitrot);
            let lo = start.max(part_start) - part_start;
            let hi = end.min(part_end) - part_start;
            let first_block = lo / geo.block_size as u64;
            let last_block = (hi - 1) / geo.block_size as u64;
            for b in first_block..=last_block {
                let block = self.read_block(codec.as_ref(), &geo, b).await?;
                let block_start = b * geo.block_size as u64;
                let from = lo.saturating_sub(block_start) as usize;
                let to = ((hi - block_start) as usize).min(block.len());
                if tx.send(Ok(block.slice(from..to))).await.is_err() {
                    return Ok(()); // client went away
                }
            }
            part_start = part_end;
        }
        Ok(())
    }

    /// Opens part `number`'s shards through the pinned data dirs.
    pub(crate) async fn open_part(&mut self, number: u32) {
        let opened = join_all(
            self.data
                .iter()
                .zip(&self.shard_of)
                .map(|(d, s)| async move {
                    match (d, s) {
                        (Some(d), Some(_)) => Some(d.open_part(number).await),
                        _ => None,
                    }
                }),
        )
        .await;
        let mut needs_heal = false;
        self.sources = opened
            .into_iter()
            .map(|o| match o {
                Some(Ok(r)) => Source::File(r),
                Some(Err(e)) => {
                    needs_heal |= !matches!(e, DriveError::Offline(_));
                    Source::Failed
                }
                None => Source::Failed,
            })
            .collect();
        self.needs_heal |= needs_heal;
    }

    /// Reads block `b`: data shards first, parity only for what is missing or rotten.
    pub(crate) async fn read_block(
        &mut self,
        codec: &dyn ErasureCodec,
        geo: &ShardGeometry,
        b: u64,
    ) -> ObjResult<Bytes> {
        let d = codec.data_shards();
        let total = d + codec.parity_shards();
        let shard_len = geo.shard_len(b);
        let offset = geo.block_offset(b);
        let want = geo.hash_len + shard_len;
        let mut shards: Vec<Option<Vec<u8>>> = vec![None; total];
        // Drives ordered by the shard they hold: data shards first.
        let mut order: Vec<usize> = (0..self.drives.len())
            .filter(|&i| self.shard_of[i].is_some())
            .collect();
        order.sort_by_key(|&i| self.shard_of[i]);
        let mut tried = vec![false; self.drives.len()];
        let algo = self.version.erasure.bitrot;
        loop {
            let have = shards.iter().filter(|s| s.is_some()).count();
            if have >= d {
                break;
            }
            let batch: Vec<usize> = order
                .iter()
                .copied()
                .filter(|&i| !tried[i] && !matches!(self.sources[i], Source::Failed))
                .take(d - have)
                .collect();
            if batch.is_empty() {
                return Err(ObjError::ReadQuorum(format!(
                    "{}/{}",
                    self.bucket, self.key
                )));
            }
            let reads = join_all(batch.iter().map(|&i| {
                let src = &self.sources[i];
                async move {
                    match src {
                        Source::Inline(buf) => {
                            let lo = offset as usize;
                            buf.get(lo..lo + want).map(<[u8]>::to_vec)
                        }
                        Source::File(r) => r.read_at(offset, want).await.ok(),
                        Source::Unopened | Source::Failed => None,
                    }
                }
            }))
            .await;
            for (&i, raw) in batch.iter().zip(reads) {
                tried[i] = true;
                let shard = raw.and_then(|raw| verify_shard(algo, raw, shard_len));
                match (shard, self.shard_of[i]) {
                    (Some(s), Some(idx)) => shards[idx] = Some(s),
                    _ => {
                        tracing::warn!(drive = self.drives[i].endpoint(), bucket = %self.bucket, key = %self.key, block = b, "shard missing or failed bitrot check; reconstructing");
                        self.sources[i] = Source::Failed;
                        self.needs_heal = true;
                    }
                }
            }
        }
        let mut out = Vec::with_capacity(geo.block_len(b));
        decode_block(codec, &mut shards, geo.block_len(b), &mut out)
            .map_err(|e| ObjError::Internal(e.to_string()))?;
        Ok(Bytes::from(out))
    }
}
