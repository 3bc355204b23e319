//! Making versions part of an object, and taking them out again: commit (with the undo record a
//! commit that misses its write quorum is rolled back with), delete, and the pruning of emptied
//! directories. Every change goes through [`super::durable`].
//!
//! A commit keeps what it replaced under `.rustfs.sys/undo/<commit id>/`: a hard link to the
//! previous `rustfs.meta` and the data dirs the new version freed. The object layer either
//! settles the commit ([`Fs::finish_commit`], in the background, once a write quorum committed)
//! or rolls it back ([`Fs::undo_commit`], still under the write lock). Records that were never
//! settled (a crash) are settled by the drive's sweeper.

use super::durable::{prune_empty, rename_dir_durable, rename_durable, write_durable};
use super::paths::Fs;
use super::pins::Pins;
use crate::store::meta::{
    read_selected, MetaSel, ObjectMeta, ObjectVersion, SelectError, VersionAttrs,
};
use crate::store::uploads::PartRecord;
use crate::store::{CommitSource, DriveError, DriveResult};
use rustfs_common::names::META_FILE;
use std::fs;
use std::io;
use std::path::Path;
use uuid::Uuid;

/// Name of the previous meta inside an undo record.
const UNDO_META: &str = "rustfs.meta";

impl Fs {
    /// Writes `data` to `path` atomically and durably, readable by the owner only.
    pub fn write_atomic(&self, path: &Path, data: &[u8]) -> DriveResult<()> {
        let tmp = self.sys().join("tmp").join(Uuid::new_v4().to_string());
        write_durable(&tmp, path, data, 0o600).map_err(|e| self.err(e))
    }

    pub fn read_meta(&self, bucket: &str, key: &str) -> DriveResult<ObjectMeta> {
        self.read_versions(bucket, key, MetaSel::All)
    }

    /// The versions `sel` asks for, reading only the meta's index and their records.
    pub fn read_versions(&self, bucket: &str, key: &str, sel: MetaSel) -> DriveResult<ObjectMeta> {
        let path = self.object(bucket, key)?.join(META_FILE);
        let read = fs::File::open(&path).and_then(|f| Ok((f.metadata()?.len(), f)));
        let (len, file) = match read {
            Ok(opened) => opened,
            Err(e) => {
                return match self.err(e) {
                    DriveError::NotFound => {
                        self.check_bucket(bucket)?;
                        Err(DriveError::NotFound)
                    }
                    other => Err(other),
                }
            }
        };
        read_selected(&file, len as usize, sel).map_err(|e| match e {
            SelectError::Io(e) => self.err(e),
            SelectError::Meta(e) => DriveError::Corrupt(format!("{}: {e}", path.display())),
        })
    }

    /// Commits `version` into `bucket/key`; returns whether an undo record was kept (the object
    /// existed), which [`Fs::finish_commit`] or [`Fs::undo_commit`] must then settle.
    pub fn commit(
        &self,
        pins: &Pins,
        bucket: &str,
        key: &str,
        src: CommitSource,
        version: ObjectVersion,
        commit_id: Uuid,
    ) -> DriveResult<bool> {
        self.check_bucket(bucket)?;
        let dir = self.object(bucket, key)?;
        let meta_path = dir.join(META_FILE);
        let (mut meta, had_meta) = match self.read_meta(bucket, key) {
            Ok(m) => (m, true),
            Err(DriveError::Corrupt(_)) => (ObjectMeta::default(), true),
            Err(DriveError::NotFound) => (ObjectMeta::default(), false),
            Err(e) => return Err(e),
        };
        if let Some(dd) = version.data_dir {
            let dst = dir.join(dd.to_string());
            let staged = match src {
                CommitSource::None => None,
                CommitSource::Tmp(id) => Some(self.tmp(id)),
                CommitSource::Upload(id) => Some(self.stage_upload(bucket, id, &version)?),
            };
            if let Some(staged) = staged {
                // A heal rewrites a version's data dir in place: the broken copy goes first
                // (readers that pinned it keep it until they let go).
                pins.retire(&dst, &self.trash()).map_err(|e| self.err(e))?;
                rename_dir_durable(&staged, &dst).map_err(|e| self.err(e))?;
            }
        }
        let undo = self.undo(commit_id);
        if had_meta {
            fs::create_dir_all(&undo).map_err(|e| self.err(e))?;
            match fs::hard_link(&meta_path, undo.join(UNDO_META)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(self.err(e)),
            }
        }
        let freed = meta.add_version(version);
        self.write_atomic(&meta_path, &meta.encode())?;
        for d in freed {
            let from = dir.join(d.to_string());
            if had_meta {
                match fs::rename(&from, undo.join(d.to_string())) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(self.err(e)),
                    _ => {}
                }
            } else {
                pins.retire(&from, &self.trash()).map_err(|e| self.err(e))?;
            }
        }
        Ok(had_meta)
    }

    /// Links the parts a completed upload names into a staging dir under `tmp/`, after checking
    /// that this drive holds exactly those parts (a drive that missed a part's last upload fails
    /// the commit and is healed later). The upload stays intact until the object layer removes
    /// it, so a completion that is rolled back can be retried.
    fn stage_upload(
        &self,
        bucket: &str,
        id: Uuid,
        version: &ObjectVersion,
    ) -> DriveResult<std::path::PathBuf> {
        let up = self.upload(bucket, id)?;
        let staging = self.tmp(Uuid::new_v4());
        fs::create_dir_all(&staging).map_err(|e| self.err(e))?;
        let run = || -> DriveResult<()> {
            for p in &version.parts {
                let rec: PartRecord = fs::read(up.join(PartRecord::meta_name(p.number)))
                    .map_err(|e| self.err(e))
                    .and_then(|b| {
                        serde_json::from_slice(&b).map_err(|e| {
                            DriveError::Corrupt(format!("part {} of upload {id}: {e}", p.number))
                        })
                    })?;
                if rec.etag != p.etag || rec.size != p.size {
                    return Err(DriveError::Corrupt(format!(
                        "part {} of upload {id} on this drive is not the one completed (ETag {} here, {} wanted)",
                        p.number, rec.etag, p.etag
                    )));
                }
                fs::hard_link(
                    up.join(rec.data_file()),
                    staging.join(format!("part.{}", p.number)),
                )
                .map_err(|e| self.err(e))?;
            }
            Ok(())
        };
        run().inspect_err(|_| {
            let _ = fs::remove_dir_all(&staging);
        })?;
        Ok(staging)
    }

    /// Settles a commit: what it replaced is freed (data dirs a reader still holds go to trash).
    pub fn finish_commit(&self, pins: &Pins, commit_id: Uuid) -> DriveResult<()> {
        let undo = self.undo(commit_id);
        let names = match self.read_dir_names(&undo) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(self.err(e)),
        };
        for (name, is_dir) in names {
            if is_dir {
                pins.retire(&undo.join(name), &self.trash())
                    .map_err(|e| self.err(e))?;
            }
        }
        fs::remove_dir_all(&undo).map_err(|e| self.err(e))
    }

    /// Rolls a commit back to what `bucket/key` was before it (under the same write lock):
    /// `kept` is what [`Fs::commit`] answered.
    pub fn undo_commit(
        &self,
        pins: &Pins,
        bucket: &str,
        key: &str,
        commit_id: Uuid,
        version: &ObjectVersion,
        kept: bool,
    ) -> DriveResult<()> {
        let dir = self.object(bucket, key)?;
        let undo = self.undo(commit_id);
        let mut restored = Vec::new();
        if kept {
            let names = self.read_dir_names(&undo).map_err(|e| self.err(e))?;
            if !names.iter().any(|(n, d)| !d && n == UNDO_META) {
                return Err(DriveError::Corrupt(format!(
                    "undo record {commit_id} of {bucket}/{key} is gone; the object is left for healing"
                )));
            }
            for (name, is_dir) in names {
                if is_dir {
                    rename_durable(&undo.join(&name), &dir.join(&name)).map_err(|e| self.err(e))?;
                    restored.push(name);
                }
            }
            rename_durable(&undo.join(UNDO_META), &dir.join(META_FILE)).map_err(|e| self.err(e))?;
            let _ = fs::remove_dir_all(&undo);
        } else {
            let mut meta = match self.read_meta(bucket, key) {
                Ok(m) => m,
                Err(DriveError::NotFound) => return Ok(()),
                Err(e) => return Err(e),
            };
            meta.versions.retain(|v| !v.same_as(version));
            self.write_or_remove_meta(bucket, key, &meta)?;
        }
        if let Some(dd) = version.data_dir {
            if !restored.contains(&dd.to_string()) {
                pins.retire(&dir.join(dd.to_string()), &self.trash())
                    .map_err(|e| self.err(e))?;
            }
        }
        if !kept {
            prune_empty(&dir, &self.bucket(bucket)?);
        }
        Ok(())
    }

    /// Writes `meta`, or removes the meta file when no version is left.
    fn write_or_remove_meta(&self, bucket: &str, key: &str, meta: &ObjectMeta) -> DriveResult<()> {
        let path = self.object(bucket, key)?.join(META_FILE);
        if meta.versions.is_empty() {
            match fs::remove_file(&path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(self.err(e)),
                _ => {
                    let dir = path.parent().expect("a meta file has a directory");
                    super::durable::sync_dir(dir).or_else(|e| match e.kind() {
                        io::ErrorKind::NotFound => Ok(()),
                        _ => Err(self.err(e)),
                    })
                }
            }
        } else {
            self.write_atomic(&path, &meta.encode())
        }
    }

    /// Removes one version; the object (and its emptied parent directories) goes with the last.
    /// Replaces the attributes of the version `id` written at `mod_time_nanos`, unless this drive
    /// already holds a newer change of them.
    pub fn update_attrs(
        &self,
        bucket: &str,
        key: &str,
        id: Option<Uuid>,
        mod_time_nanos: i64,
        attrs: VersionAttrs,
    ) -> DriveResult<()> {
        let mut meta = self.read_meta(bucket, key)?;
        let v = meta
            .versions
            .iter_mut()
            .find(|v| v.version_id == id && v.mod_time_nanos == mod_time_nanos)
            .ok_or(DriveError::NotFound)?;
        if v.attrs.changed_nanos >= attrs.changed_nanos {
            return Ok(());
        }
        v.attrs = attrs;
        self.write_or_remove_meta(bucket, key, &meta)
    }

    pub fn delete_version(
        &self,
        pins: &Pins,
        bucket: &str,
        key: &str,
        version_id: Option<Uuid>,
    ) -> DriveResult<()> {
        let mut meta = self.read_meta(bucket, key)?;
        let removed = meta
            .remove_version(version_id)
            .ok_or(DriveError::NotFound)?;
        let dir = self.object(bucket, key)?;
        self.write_or_remove_meta(bucket, key, &meta)?;
        if let Some(dd) = removed.data_dir {
            pins.retire(&dir.join(dd.to_string()), &self.trash())
                .map_err(|e| self.err(e))?;
        }
        if meta.versions.is_empty() {
            prune_empty(&dir, &self.bucket(bucket)?);
        }
        Ok(())
    }
}
