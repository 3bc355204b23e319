//! The copies a heal writes (see `object.rs`): each target drive's shards rebuilt block by block
//! from the version's healthy copies into `tmp/`, then committed under the object's write lock
//! only if the version is still the agreed one, then read back and verified.

use super::budget::IoBudget;
use super::object::HealReport;
use crate::erasure::new_codec;
use crate::erasure::stream::{BlockEncoder, ShardGeometry};
use crate::object::set::{ErasureSet, Resolved};
use crate::object::{ObjError, ObjResult};
use crate::store::meta::ObjectVersion;
use crate::store::{CommitSource, DriveError, PartState, ShardWriter};
use futures::future::join_all;
use uuid::Uuid;

/// What a rebuild produced for the target drives.
pub(super) struct Rebuilt {
    /// Shard files written under `tmp/<id>/` on the targets that took them.
    tmp: Option<Uuid>,
    /// Per target (same order as `targets`): its inline shard stream, when the version is inline.
    inline: Option<Vec<Vec<u8>>>,
    /// Per target: whether its copy was written.
    ok: Vec<bool>,
    bytes: u64,
}

/// Reads the version from its good copies and writes the shards each target lacks.
pub(super) async fn rebuild(
    set: &ErasureSet,
    bucket: &str,
    key: &str,
    read: Resolved,
    targets: &[usize],
    budget: &IoBudget,
) -> ObjResult<Rebuilt> {
    let v = read.version.clone();
    let shard_of = |t: usize| v.erasure.distribution[t] - 1;
    if v.delete_marker || v.size == 0 {
        return Ok(Rebuilt {
            tmp: None,
            inline: v
                .data_dir
                .is_none()
                .then(|| vec![Vec::new(); targets.len()]),
            ok: vec![true; targets.len()],
            bytes: 0,
        });
    }
    let codec = new_codec(v.erasure.codec, v.erasure.data, v.erasure.parity)
        .map_err(|e| ObjError::Internal(e.to_string()))?;
    let encoder = BlockEncoder::new(codec.clone(), v.erasure.bitrot);
    let mut bufs = vec![Vec::new(); encoder.total_shards()];
    let mut obj = set.open_resolved(bucket, key, read).await;
    if v.data_dir.is_none() {
        let geo = ShardGeometry::new(v.size, v.erasure.data, v.erasure.bitrot);
        let mut inline = vec![Vec::new(); targets.len()];
        for b in 0..geo.num_blocks() {
            let block = obj.read_block(codec.as_ref(), &geo, b).await?;
            encoder
                .encode(&block, &mut bufs)
                .map_err(|e| ObjError::Internal(e.to_string()))?;
            for (out, &t) in inline.iter_mut().zip(targets) {
                out.extend_from_slice(&bufs[shard_of(t)]);
            }
        }
        let bytes = inline.iter().map(|s| s.len() as u64).sum();
        return Ok(Rebuilt {
            tmp: None,
            inline: Some(inline),
            ok: vec![true; targets.len()],
            bytes,
        });
    }
    let tmp = Uuid::new_v4();
    let mut ok = vec![true; targets.len()];
    let mut bytes = 0u64;
    for (pi, part) in v.parts.iter().enumerate() {
        if pi > 0 {
            obj.open_part(part.number).await;
        }
        let name = format!("part.{}", part.number);
        let opened = join_all(targets.iter().zip(&ok).map(|(&t, good)| {
            let name = &name;
            async move {
                match good {
                    true => set.drives[t].create_writer(tmp, name).await.ok(),
                    false => None,
                }
            }
        }))
        .await;
        let mut writers: Vec<Option<Box<dyn ShardWriter>>> = opened;
        let geo = ShardGeometry::new(part.size, v.erasure.data, v.erasure.bitrot);
        for b in 0..geo.num_blocks() {
            let block = match obj.read_block(codec.as_ref(), &geo, b).await {
                Ok(block) => block,
                Err(e) => {
                    abort(set, targets, tmp);
                    return Err(e);
                }
            };
            let shard_bytes = (geo.hash_len + geo.shard_len(b)) as u64;
            budget
                .spend(block.len() as u64 + shard_bytes * targets.len() as u64)
                .await;
            encoder
                .encode(&block, &mut bufs)
                .map_err(|e| ObjError::Internal(e.to_string()))?;
            let results = join_all(writers.iter_mut().zip(targets).map(|(w, &t)| {
                let buf = &bufs[shard_of(t)];
                async move {
                    match w {
                        Some(w) => Some(w.write(buf).await),
                        None => None,
                    }
                }
            }))
            .await;
            for (j, r) in results.into_iter().enumerate() {
                if let Some(Err(e)) = r {
                    tracing::warn!(drive = set.drives[targets[j]].endpoint(), error = %e, "heal write failed");
                    writers[j] = None;
                }
            }
            bytes += shard_bytes * writers.iter().flatten().count() as u64;
        }
        let finished = join_all(writers.into_iter().map(|w| async move {
            match w {
                Some(w) => w.finish().await.is_ok(),
                None => false,
            }
        }))
        .await;
        for (good, f) in ok.iter_mut().zip(finished) {
            *good &= f;
        }
    }
    Ok(Rebuilt {
        tmp: Some(tmp),
        inline: None,
        ok,
        bytes,
    })
}

fn abort(set: &ErasureSet, targets: &[usize], tmp: Uuid) {
    for &t in targets {
        let d = set.drives[t].clone();
        tokio::spawn(async move {
            let _ = d.remove_tmp(tmp).await;
        });
    }
}

/// Commits the rebuilt copies if the version is still the agreed one, then verifies them.
#[allow(clippy::too_many_arguments)]
pub(super) async fn commit(
    set: &ErasureSet,
    bucket: &str,
    key: &str,
    version: &ObjectVersion,
    targets: &[usize],
    rebuilt: Rebuilt,
    budget: &IoBudget,
    report: &mut HealReport,
) -> ObjResult<()> {
    let src = rebuilt.tmp.map_or(CommitSource::None, CommitSource::Tmp);
    let guard = set.locks.write(bucket, key).await;
    let still = match &guard {
        Ok(_) => {
            let now = set.read_metas(bucket, key).await;
            matches!(set.resolve(bucket, key, &now, Some(version.version_id)), Ok(r) if r.version.same_as(version))
        }
        Err(_) => false,
    };
    if !still {
        if let Some(tmp) = rebuilt.tmp {
            abort(set, targets, tmp);
        }
        // A newer write replaced (or a delete removed) the version: it heals on its own.
        tracing::debug!(bucket, key, "object changed while healing; heal skipped");
        return guard.map(|_| ());
    }
    let mut committed = Vec::new();
    for (j, &t) in targets.iter().enumerate() {
        let d = &set.drives[t];
        if !rebuilt.ok[j] {
            report.incomplete(format!(
                "could not write the rebuilt copy onto {}",
                d.endpoint()
            ));
            continue;
        }
        let mut v = version.clone();
        v.erasure.index = v.erasure.distribution[t];
        v.inline_data = rebuilt.inline.as_ref().map(|s| s[j].clone());
        let commit_id = Uuid::new_v4();
        let mut r = d.commit(bucket, key, src, v.clone(), commit_id).await;
        if matches!(r, Err(DriveError::BucketNotFound)) {
            let _ = d.make_bucket(bucket, crate::object::now_nanos()).await;
            r = d.commit(bucket, key, src, v.clone(), commit_id).await;
        }
        match r {
            Ok(kept) => {
                if kept {
                    let _ = d.finish_commit(commit_id).await;
                }
                committed.push((t, v))
            }
            Err(e) => report.incomplete(format!(
                "committing the healed copy on {}: {e}",
                d.endpoint()
            )),
        }
    }
    drop(guard);
    if let Some(tmp) = rebuilt.tmp {
        // Targets whose write failed keep no leftovers.
        for (j, &t) in targets.iter().enumerate() {
            if !rebuilt.ok[j] {
                let _ = set.drives[t].remove_tmp(tmp).await;
            }
        }
    }
    // Verify what was written: the meta is there and every shard reads back with its hash.
    for (t, v) in committed {
        let d = &set.drives[t];
        let verified = match (&v.data_dir, v.size) {
            (Some(_), size) if size > 0 => {
                let geo = ShardGeometry::new(v.size, v.erasure.data, v.erasure.bitrot);
                budget.spend(geo.shard_file_len()).await;
                matches!(d.check_parts(bucket, key, &v, true).await, Ok(p) if p.iter().all(|s| *s == PartState::Ok))
            }
            _ => {
                matches!(d.read_meta(bucket, key).await, Ok(m) if m.versions.iter().any(|x| x.same_as(&v)))
            }
        };
        if verified {
            report.drives_healed += 1;
        } else {
            report.incomplete(format!(
                "the healed copy on {} did not verify",
                d.endpoint()
            ));
        }
    }
    report.bytes_written += rebuilt.bytes;
    Ok(())
}
