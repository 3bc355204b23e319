//! The storage layer below the object layer: what one drive can do ([`Drive`]), its on-disk
//! formats ([`meta`], [`format`]) and the local implementation ([`local`]).
//!
//! The object layer only holds `Arc<dyn Drive>`; a remote drive (distributed mode) implements the
//! same trait over RPC, so erasure logic never knows where a drive lives.

pub mod format;
pub mod local;
pub mod meta;
pub mod uploads;
pub mod verify;

use async_trait::async_trait;
use format::Format;
use meta::{MetaSel, ObjectMeta, ObjectVersion, VersionAttrs};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use uuid::Uuid;

/// Name of the system directory on every drive.
pub const SYS_DIR: &str = ".rustfs.sys";
/// The system bucket: cluster state kept as erasure-coded objects (bucket configurations), in
/// `.rustfs.sys/config` on every drive. No client can name it (bucket names cannot hold a `/`).
pub const SYS_BUCKET: &str = ".rustfs.sys/config";

#[derive(Debug, thiserror::Error)]
pub enum DriveError {
    #[error("not found")]
    NotFound,
    #[error("bucket not found")]
    BucketNotFound,
    #[error("bucket already exists")]
    BucketExists,
    #[error("bucket is not empty")]
    BucketNotEmpty,
    #[error("drive is full")]
    DiskFull,
    #[error("drive {0} is offline or not formatted")]
    Offline(String),
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// A bucket, key or file name that can never name anything on a drive (a peer's or a bug's).
    #[error("invalid name: {0}")]
    InvalidName(String),
    #[error("i/o error on drive {drive}: {source}")]
    Io {
        drive: String,
        source: std::io::Error,
    },
}

pub type DriveResult<T> = Result<T, DriveError>;

/// Capacity of one drive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiskInfo {
    pub total_bytes: u64,
    pub free_bytes: u64,
    pub used_bytes: u64,
}

/// A bucket as one drive sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketInfo {
    pub name: String,
    pub created_nanos: i64,
}

/// Where the data of a version being committed comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CommitSource {
    /// No data files (inline data or a delete marker).
    None,
    /// Shard files written under `tmp/<id>/`; that directory becomes the version's data dir.
    Tmp(Uuid),
    /// Parts of a multipart upload; the referenced parts become the version's data dir.
    Upload(Uuid),
}

/// What to walk in a bucket, in key order.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WalkRequest {
    /// Only keys starting with this.
    pub prefix: String,
    /// Only keys (and common prefixes) strictly after this.
    pub start_after: Option<String>,
    /// `false`: stop at the next `/` after the prefix and report a common prefix instead.
    pub recursive: bool,
}

/// One walk result: an object with its raw meta, or a common prefix (ends with `/`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum WalkEntry {
    Object { key: String, meta: ObjectMeta },
    Prefix(String),
}

impl WalkEntry {
    pub fn key(&self) -> &str {
        match self {
            WalkEntry::Object { key, .. } => key,
            WalkEntry::Prefix(p) => p,
        }
    }
}

/// What a drive found when it checked one part's shard file of a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PartState {
    /// Present with the expected length (and, on a deep check, every block's hash matches).
    Ok,
    /// The shard file (or the version's data dir) is not there.
    Missing,
    /// Wrong length, unreadable, or a block failed its bitrot hash.
    Corrupt,
}

/// Writes one shard file.
#[async_trait]
pub trait ShardWriter: Send {
    async fn write(&mut self, buf: &[u8]) -> DriveResult<()>;
    /// Flushes and fsyncs; the file is complete only after this returns.
    async fn finish(self: Box<Self>) -> DriveResult<()>;
}

/// Reads one shard file. Opening pins the file: a concurrent overwrite or delete of the object
/// does not disturb a read that has already opened its shards.
#[async_trait]
pub trait ShardReader: Send + Sync {
    async fn read_at(&self, offset: u64, len: usize) -> DriveResult<Vec<u8>>;
}

/// A version's data dir, pinned: an overwrite or delete that frees it while this is held moves it
/// aside instead of removing it, so a multipart GET can still open its later parts.
#[async_trait]
pub trait DataReader: Send + Sync {
    /// Opens the shard file of part `part` (the reader keeps the pin for as long as it lives).
    async fn open_part(&self, part: u32) -> DriveResult<Box<dyn ShardReader>>;
}

/// One drive: local disk or a peer's drive over RPC.
#[async_trait]
pub trait Drive: Send + Sync {
    /// The endpoint as the operator wrote it, for logs and errors.
    fn endpoint(&self) -> &str;
    /// Whether the drive is attached to this node.
    fn is_local(&self) -> bool {
        true
    }
    /// The drive's directory when it is attached to this node.
    fn local_root(&self) -> Option<&std::path::Path> {
        None
    }
    /// Cheap health check: the drive is reachable and carries its format.
    async fn is_online(&self) -> bool;
    async fn disk_info(&self) -> DriveResult<DiskInfo>;
    async fn read_format(&self) -> DriveResult<Option<Format>>;
    async fn write_format(&self, format: &Format) -> DriveResult<()>;
    /// Reads a small system file under `.rustfs.sys/` (e.g. stored credentials).
    async fn read_sys_file(&self, name: &str) -> DriveResult<Vec<u8>>;
    /// Atomically writes a small system file under `.rustfs.sys/`, readable by the owner only.
    async fn write_sys_file(&self, name: &str, data: &[u8]) -> DriveResult<()>;

    async fn make_bucket(&self, bucket: &str, created_nanos: i64) -> DriveResult<()>;
    async fn list_buckets(&self) -> DriveResult<Vec<BucketInfo>>;
    async fn stat_bucket(&self, bucket: &str) -> DriveResult<BucketInfo>;
    /// Deletes an empty bucket; `BucketNotEmpty` when any object is left.
    async fn delete_bucket(&self, bucket: &str) -> DriveResult<()>;

    /// Every version of an object on this drive, newest first.
    async fn read_meta(&self, bucket: &str, key: &str) -> DriveResult<ObjectMeta> {
        self.read_versions(bucket, key, MetaSel::All).await
    }
    /// The versions `sel` asks for (none when it names a version this drive lacks); `NotFound`
    /// when the drive has no versions of the key at all.
    async fn read_versions(&self, bucket: &str, key: &str, sel: MetaSel)
        -> DriveResult<ObjectMeta>;
    /// Starts a shard file at `tmp/<tmp_id>/<name>`.
    async fn create_writer(&self, tmp_id: Uuid, name: &str) -> DriveResult<Box<dyn ShardWriter>>;
    /// Removes `tmp/<tmp_id>` (an aborted write).
    async fn remove_tmp(&self, tmp_id: Uuid) -> DriveResult<()>;
    /// Atomically and durably makes `version` (and its data) part of `bucket/key`, replacing a
    /// version with the same id. Returns whether the drive kept what the commit replaced (under
    /// `commit_id`): such a commit must then be settled with [`Drive::finish_commit`] or rolled
    /// back with [`Drive::undo_commit`].
    async fn commit(
        &self,
        bucket: &str,
        key: &str,
        src: CommitSource,
        version: ObjectVersion,
        commit_id: Uuid,
    ) -> DriveResult<bool>;
    /// Rolls back commit `commit_id` of `version` (`kept`: what `commit` answered), restoring
    /// what it replaced. Called under the same write lock as the commit.
    async fn undo_commit(
        &self,
        bucket: &str,
        key: &str,
        commit_id: Uuid,
        version: &ObjectVersion,
        kept: bool,
    ) -> DriveResult<()>;
    /// Settles commit `commit_id`: frees what it replaced.
    async fn finish_commit(&self, commit_id: Uuid) -> DriveResult<()>;
    /// Replaces the in-place attributes of version `id` (the one written at `mod_time_nanos`)
    /// unless the drive holds a newer change; `NotFound` when the drive lacks that version.
    async fn update_attrs(
        &self,
        bucket: &str,
        key: &str,
        id: Option<Uuid>,
        mod_time_nanos: i64,
        attrs: VersionAttrs,
    ) -> DriveResult<()>;
    /// Removes one version; the object disappears with its last version.
    async fn delete_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<Uuid>,
    ) -> DriveResult<()>;
    /// Pins the data dir `data_dir` of `bucket/key` (see [`DataReader`]).
    async fn open_data(
        &self,
        bucket: &str,
        key: &str,
        data_dir: Uuid,
    ) -> DriveResult<Box<dyn DataReader>>;
    /// Opens one part's shard file (pinning its data dir for as long as the reader lives).
    async fn open_shard(
        &self,
        bucket: &str,
        key: &str,
        data_dir: Uuid,
        part: u32,
    ) -> DriveResult<Box<dyn ShardReader>> {
        self.open_data(bucket, key, data_dir)
            .await?
            .open_part(part)
            .await
    }
    /// Checks this drive's shard files of `version` (which must have a data dir): presence and
    /// length, and with `deep` every block's bitrot hash. One answer per part, in part order.
    async fn check_parts(
        &self,
        bucket: &str,
        key: &str,
        version: &ObjectVersion,
        deep: bool,
    ) -> DriveResult<Vec<PartState>>;
    /// Streams the bucket's objects in key order.
    async fn walk(
        &self,
        bucket: &str,
        req: WalkRequest,
    ) -> DriveResult<mpsc::Receiver<DriveResult<WalkEntry>>>;

    /// Multipart uploads live under `.rustfs.sys/multipart/<bucket>/<upload_id>/`.
    async fn write_upload(&self, bucket: &str, upload_id: Uuid, meta: &[u8]) -> DriveResult<()>;
    async fn read_upload(&self, bucket: &str, upload_id: Uuid) -> DriveResult<Vec<u8>>;
    async fn list_uploads(&self, bucket: &str) -> DriveResult<Vec<Vec<u8>>>;
    /// Moves `tmp/<tmp_id>/part` into the upload as `part`'s shard file and records it.
    async fn commit_part(
        &self,
        bucket: &str,
        upload_id: Uuid,
        part: &uploads::PartRecord,
        tmp_id: Uuid,
    ) -> DriveResult<()>;
    async fn list_parts(
        &self,
        bucket: &str,
        upload_id: Uuid,
    ) -> DriveResult<Vec<uploads::PartRecord>>;
    async fn delete_upload(&self, bucket: &str, upload_id: Uuid) -> DriveResult<()>;
}

#[cfg(test)]
mod tests;

/// The format levels this build writes (admin info, health headers, `rustfs_build_info`).
pub fn format_levels() -> rustfs_common::admin::FormatLevels {
    rustfs_common::admin::FormatLevels {
        meta: meta::META_VERSION.into(),
        drive: format::FORMAT_VERSION,
    }
}
