//! Healing one object: find what each drive lacks (a version's meta, its shard files, a shard
//! that fails its hash), rebuild it from the healthy copies block by block, commit it under the
//! object's write lock only if the version is still the agreed one, and verify the result. Copies
//! of versions that can never reach a read quorum (a write that failed, a delete a drive missed)
//! are removed. A heal that cannot restore full redundancy says so; it never reports success.

use super::budget::IoBudget;
use super::copies::{commit, rebuild};
use crate::erasure::stream::ShardGeometry;
use crate::object::get::is_unreachable;
use crate::object::set::{ErasureSet, Resolved};
use crate::object::{ObjError, ObjResult};
use crate::store::meta::{ObjectMeta, ObjectVersion};
use crate::store::verify::check_inline;
use crate::store::{DriveError, DriveResult, PartState};
use futures::future::join_all;
use uuid::Uuid;

/// What a heal did and found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct HealReport {
    /// Drive copies written (a version's meta and shards onto one drive counts once).
    pub drives_healed: usize,
    /// Shard bytes written onto drives.
    pub bytes_written: u64,
    /// Copies of versions removed because they can never be read (dangling).
    pub dangling_removed: usize,
    /// After the heal every drive holds every agreed version with verified shards.
    pub complete: bool,
    /// Why the object is not complete, for logs and status.
    pub problem: Option<String>,
}

impl HealReport {
    /// Something was repaired.
    pub fn changed(&self) -> bool {
        self.drives_healed > 0 || self.dangling_removed > 0
    }

    pub(super) fn incomplete(&mut self, why: String) {
        self.complete = false;
        if self.problem.is_none() {
            self.problem = Some(why);
        }
    }
}

/// Heals `bucket/key` on `set`. `deep` also reads every shard to check its bitrot hashes.
pub async fn heal_object(
    set: &ErasureSet,
    bucket: &str,
    key: &str,
    deep: bool,
    budget: &IoBudget,
) -> ObjResult<HealReport> {
    let metas = set.read_metas(bucket, key).await;
    let mut report = HealReport {
        complete: true,
        ..Default::default()
    };
    let unreachable = metas.iter().filter(|m| is_unreachable(m)).count();
    if unreachable > 0 {
        // Whatever those drives hold or lack is unknown: full redundancy cannot be confirmed.
        report.incomplete(format!(
            "{unreachable} drive(s) unreachable; the object stays a copy short until they return"
        ));
    }
    let mut ids: Vec<Option<Uuid>> = Vec::new();
    for v in metas.iter().flatten().flat_map(|m| &m.versions) {
        if !ids.contains(&v.version_id) {
            ids.push(v.version_id);
        }
    }
    for id in ids {
        match set.resolve(bucket, key, &metas, Some(id)) {
            Ok(r) => heal_version(set, bucket, key, r, &metas, deep, budget, &mut report).await?,
            Err(ObjError::ObjectNotFound(_) | ObjError::VersionNotFound(_)) => {
                remove_dangling(set, bucket, key, id, &mut report).await
            }
            Err(ObjError::ReadQuorum(_)) => report.incomplete(format!(
                "too few drives answered to tell whether version {id:?} should exist"
            )),
            Err(ObjError::BucketNotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(report)
}

/// A version held by too few drives to ever be read, while enough drives answered to be sure:
/// removed from the drives that hold it. Decided again under the object's write lock, so a write
/// that was committing when the metas were first read is never taken for dangling.
async fn remove_dangling(
    set: &ErasureSet,
    bucket: &str,
    key: &str,
    id: Option<Uuid>,
    report: &mut HealReport,
) {
    let _g = match set.locks.write(bucket, key).await {
        Ok(g) => g,
        Err(e) => return report.incomplete(e.to_string()),
    };
    let metas = set.read_metas(bucket, key).await;
    if !matches!(
        set.resolve(bucket, key, &metas, Some(id)),
        Err(ObjError::ObjectNotFound(_) | ObjError::VersionNotFound(_))
    ) {
        return;
    }
    let holders: Vec<(usize, &ObjectVersion)> = metas
        .iter()
        .enumerate()
        .filter_map(|(i, m)| {
            let m = m.as_ref().ok()?;
            m.versions
                .iter()
                .find(|v| v.version_id == id)
                .map(|v| (i, v))
        })
        .collect();
    let unreachable = metas.iter().filter(|m| is_unreachable(m)).count();
    let min_data = holders
        .iter()
        .map(|(_, v)| v.erasure.data.max(1))
        .min()
        .unwrap_or(1);
    if holders.len() + unreachable >= min_data {
        report.incomplete(format!(
            "version {id:?} is on {} drives with {unreachable} unreachable: not enough to read, not sure enough to remove",
            holders.len()
        ));
        return;
    }
    for (i, _) in holders {
        match set.drives[i].delete_version(bucket, key, id).await {
            Ok(()) | Err(DriveError::NotFound) => {
                tracing::info!(drive = set.drives[i].endpoint(), bucket, key, version = ?id, "removed a dangling version (never reached a read quorum)");
                report.dangling_removed += 1;
            }
            Err(e) => report.incomplete(format!(
                "removing a dangling version from {}: {e}",
                set.drives[i].endpoint()
            )),
        }
    }
}

/// Which drives need the agreed version, and which are away.
async fn find_targets(
    set: &ErasureSet,
    bucket: &str,
    key: &str,
    r: &Resolved,
    metas: &[DriveResult<ObjectMeta>],
    deep: bool,
    budget: &IoBudget,
) -> (Vec<usize>, Vec<usize>) {
    let v = &r.version;
    let has_files = v.data_dir.is_some() && v.size > 0;
    let checks = join_all((0..set.num_drives()).map(|i| async move {
        let copy = r.per_drive[i].as_ref()?;
        if !has_files {
            return None;
        }
        if deep {
            let geo = ShardGeometry::new(v.size, v.erasure.data, v.erasure.bitrot);
            budget.spend(geo.shard_file_len()).await;
        }
        Some(set.drives[i].check_parts(bucket, key, copy, deep).await)
    }))
    .await;
    let (mut targets, mut away) = (Vec::new(), Vec::new());
    for (i, check) in checks.into_iter().enumerate() {
        if is_unreachable(&metas[i]) {
            away.push(i);
            continue;
        }
        let Some(copy) = &r.per_drive[i] else {
            targets.push(i);
            continue;
        };
        let broken = match check {
            Some(Ok(parts)) => parts.iter().any(|p| *p != PartState::Ok),
            Some(Err(DriveError::Offline(_) | DriveError::Io { .. })) => {
                away.push(i);
                continue;
            }
            Some(Err(_)) => true,
            None => match &copy.inline_data {
                Some(inline) if v.size > 0 => check_inline(inline, v) != PartState::Ok,
                _ => false,
            },
        };
        if broken {
            tracing::warn!(
                drive = set.drives[i].endpoint(),
                bucket,
                key,
                "shards missing or rotten; healing"
            );
            targets.push(i);
        }
    }
    (targets, away)
}

/// Gives the newest attributes (tags, ...) to drives that hold the version but missed a change.
async fn sync_attrs(
    set: &ErasureSet,
    bucket: &str,
    key: &str,
    r: &Resolved,
    targets: &[usize],
    report: &mut HealReport,
) {
    let v = &r.version;
    for (i, copy) in r.per_drive.iter().enumerate() {
        let stale = copy
            .as_ref()
            .is_some_and(|c| c.attrs.changed_nanos < v.attrs.changed_nanos);
        if !stale || targets.contains(&i) {
            continue;
        }
        let d = &set.drives[i];
        match d
            .update_attrs(bucket, key, v.version_id, v.mod_time_nanos, v.attrs.clone())
            .await
        {
            Ok(()) => tracing::info!(
                drive = d.endpoint(),
                bucket,
                key,
                "gave a drive the newest attributes of a version"
            ),
            Err(e) => {
                report.incomplete(format!("updating the attributes on {}: {e}", d.endpoint()))
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn heal_version(
    set: &ErasureSet,
    bucket: &str,
    key: &str,
    r: Resolved,
    metas: &[DriveResult<ObjectMeta>],
    deep: bool,
    budget: &IoBudget,
    report: &mut HealReport,
) -> ObjResult<()> {
    let (targets, away) = find_targets(set, bucket, key, &r, metas, deep, budget).await;
    if !away.is_empty() {
        report.incomplete(format!(
            "{} drive(s) could not be checked; the object may stay a copy short until they return",
            away.len()
        ));
    }
    sync_attrs(set, bucket, key, &r, &targets, report).await;
    if targets.is_empty() {
        return Ok(());
    }
    let version = r.version.clone();
    // Read only from drives that hold a good copy.
    let mut per_drive = r.per_drive;
    for &t in &targets {
        per_drive[t] = None;
    }
    let sources = per_drive.iter().filter(|c| c.is_some()).count();
    if sources < version.erasure.data.max(1) {
        report.incomplete(format!(
            "only {sources} good copies of {bucket}/{key} left, {} needed to rebuild",
            version.erasure.data
        ));
        return Ok(());
    }
    let read = Resolved {
        version: version.clone(),
        per_drive,
    };
    let rebuilt = match rebuild(set, bucket, key, read, &targets, budget).await {
        Ok(b) => b,
        Err(e) => {
            report.incomplete(format!("rebuilding {bucket}/{key}: {e}"));
            return Ok(());
        }
    };
    commit(
        set, bucket, key, &version, &targets, rebuilt, budget, report,
    )
    .await
}
