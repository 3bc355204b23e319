//! The object layer: buckets and objects over pools of erasure sets (ARCHITECTURE.md, "Placement and quorums", "Request path").
//!
//! [`ObjectLayer`] routes a bucket/key to a pool and set; [`set::ErasureSet`] does the erasure work
//! over its drives: PUT streams blocks into shards ([`put`]), GET verifies and reconstructs
//! ([`get`]), listings merge drive walks ([`list`]), multipart uploads stage parts ([`multipart`]).

pub mod attrs;
pub mod bucket;
pub(crate) mod checksum;
pub mod clock;
pub mod commit;
pub mod config;
pub mod dlock;
pub mod get;
pub mod heal_hook;
pub mod lifecycle;
pub mod list;
pub mod lock;
pub mod multipart;
pub mod put;
pub mod retention;
pub mod set;

use crate::store::meta::{ObjectVersion, StoredChecksum};
use bytes::Bytes;
use futures::stream::BoxStream;
use rustfs_common::names::NameError;
use std::collections::BTreeMap;
use std::sync::Arc;

pub use set::ErasureSet;

/// Objects up to this size are stored inline in their meta files.
pub const INLINE_THRESHOLD: usize = 128 * 1024;

/// Everything the object layer can answer with; turned into S3 errors in one place (`s3::error`).
#[derive(Debug, thiserror::Error)]
pub enum ObjError {
    #[error(transparent)]
    Name(#[from] NameError),
    #[error("bucket {0} does not exist")]
    BucketNotFound(String),
    #[error("bucket {0} already exists")]
    BucketExists(String),
    #[error("bucket {0} is not empty")]
    BucketNotEmpty(String),
    #[error("object {0} does not exist")]
    ObjectNotFound(String),
    #[error("{0} does not exist")]
    VersionNotFound(String),
    /// The version asked for (or the latest, `requested == false`) is a delete marker.
    #[error("{key} is a delete marker")]
    DeleteMarker {
        key: String,
        version_id: Option<uuid::Uuid>,
        requested: bool,
    },
    #[error("the precondition of the write of {0} failed")]
    PreconditionFailed(String),
    #[error("upload {0} does not exist or was completed or aborted")]
    NoSuchUpload(String),
    #[error(
        "not enough drives answered to read {0} (read quorum lost); retry when drives are back"
    )]
    ReadQuorum(String),
    #[error("not enough drives accepted the write of {0} (write quorum lost); retry when drives are back")]
    WriteQuorum(String),
    #[error("could not lock {0} in time: too many concurrent writers or unreachable nodes; retry")]
    LockTimeout(String),
    #[error("{0}")]
    Busy(String),
    #[error("{0}")]
    InvalidBucketState(String),
    #[error("{0}")]
    InvalidRequest(String),
    /// Object lock keeps the version (legal hold or retention).
    #[error("{0}")]
    Locked(String),
    #[error("not enough free space on the drives to store {0}")]
    StorageFull(String),
    #[error("the Content-MD5 you specified did not match what we received")]
    BadDigest,
    #[error("the {0} checksum you specified did not match what we received")]
    ChecksumMismatch(String),
    #[error("the body was {got} bytes, but {expected} were declared")]
    IncompleteBody { expected: u64, got: u64 },
    #[error("{0}")]
    InvalidPart(String),
    #[error("the list of parts was not in ascending order")]
    InvalidPartOrder,
    #[error("part {0} is smaller than the 5 MiB minimum allowed for all but the last part")]
    EntityTooSmall(u32),
    #[error("{0}")]
    InvalidArgument(String),
    #[error("reading the request body failed: {0}")]
    Body(String),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type ObjResult<T> = Result<T, ObjError>;

/// A request body: a stream of chunks.
pub type BodyStream = BoxStream<'static, Result<Bytes, std::io::Error>>;

/// A GET body: bytes produced block by block by a reader task, at most two blocks ahead.
pub struct ObjectStream {
    first: Option<Bytes>,
    rx: Option<tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>>,
}

impl ObjectStream {
    pub(crate) fn new(
        first: Option<Bytes>,
        rx: Option<tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>>,
    ) -> Self {
        ObjectStream { first, rx }
    }
}

impl futures::Stream for ObjectStream {
    type Item = Result<Bytes, std::io::Error>;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        if let Some(b) = self.first.take() {
            return std::task::Poll::Ready(Some(Ok(b)));
        }
        match self.rx.as_mut() {
            Some(rx) => rx.poll_recv(cx),
            None => std::task::Poll::Ready(None),
        }
    }
}

/// Checksum algorithms accepted in `x-amz-checksum-*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ChecksumAlgo {
    Crc32,
    Crc32c,
    Sha256,
}

impl ChecksumAlgo {
    pub fn name(self) -> &'static str {
        match self {
            ChecksumAlgo::Crc32 => "CRC32",
            ChecksumAlgo::Crc32c => "CRC32C",
            ChecksumAlgo::Sha256 => "SHA256",
        }
    }

    /// The algorithm S3 names `name` (any case); `None` for those this store does not offer.
    pub fn parse(name: &str) -> Option<ChecksumAlgo> {
        [
            ChecksumAlgo::Crc32,
            ChecksumAlgo::Crc32c,
            ChecksumAlgo::Sha256,
        ]
        .into_iter()
        .find(|a| a.name().eq_ignore_ascii_case(name))
    }
}

/// Supplies the checksum value the client declared, once the body has been read (it may arrive
/// in a trailer).
pub type ExpectedChecksum = Box<dyn FnOnce() -> Option<String> + Send>;

/// A precondition of a write (`If-Match` / `If-None-Match` on PUT or CompleteMultipartUpload),
/// checked under the key's write lock just before the commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteCondition {
    /// `If-None-Match: *`: the key must not exist.
    IfNoneMatchAny,
    /// `If-None-Match: <etag>`: the current object must not have this ETag.
    IfNoneMatch(String),
    /// `If-Match: <etag>` (`None`: `*`): the object must exist (with this ETag).
    IfMatch(Option<String>),
    /// The key's latest version is still this one (`version id`, `mod time`): a background
    /// action decided on it must not hit a version written since.
    IsLatest(Option<uuid::Uuid>, i64),
}

/// Options of a write.
#[derive(Default)]
pub struct PutOptions {
    pub condition: Option<WriteCondition>,
    /// The version id the write makes (`None`: the `null` version); the object layer sets it
    /// from the bucket's versioning state.
    pub version_id: Option<uuid::Uuid>,
    pub content_type: Option<String>,
    pub user_meta: BTreeMap<String, String>,
    /// Declared body length, checked against what arrives.
    pub content_length: Option<u64>,
    /// Base64 MD5 from `Content-MD5`.
    pub content_md5: Option<String>,
    pub checksum: Option<(ChecksumAlgo, ExpectedChecksum)>,
    /// Tags and object-lock settings of the new version (`x-amz-tagging`, `x-amz-object-lock-*`).
    pub attrs: crate::store::meta::VersionAttrs,
    /// `x-amz-storage-class`: which parity the version gets.
    pub storage_class: crate::store::meta::StorageClass,
}

/// What a read or a listing reports about an object version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub bucket: String,
    pub key: String,
    pub size: u64,
    pub etag: String,
    pub mod_time_nanos: i64,
    pub content_type: Option<String>,
    pub user_meta: BTreeMap<String, String>,
    pub checksum: Option<StoredChecksum>,
    pub num_parts: usize,
    pub delete_marker: bool,
    /// `None`: the `null` version.
    pub version_id: Option<uuid::Uuid>,
    pub tags: BTreeMap<String, String>,
    pub retention: Option<crate::store::meta::Retention>,
    pub legal_hold: bool,
    pub storage_class: crate::store::meta::StorageClass,
}

/// Which version of a key: `None` the latest, `Some(None)` the `null` version, `Some(Some(id))`
/// that version.
pub type VersionSel = Option<Option<uuid::Uuid>>;

/// A `versionId` parameter: absent or empty is the latest, `null` the null version, anything
/// else must be a version id (`None`: it is not).
pub fn parse_version_sel(v: Option<&str>) -> Option<VersionSel> {
    match v {
        None | Some("") => Some(None),
        Some("null") => Some(Some(None)),
        Some(id) => uuid::Uuid::parse_str(id).ok().map(|u| Some(Some(u))),
    }
}

/// What a delete did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Deleted {
    /// The version removed, or the delete marker added.
    pub version_id: Option<uuid::Uuid>,
    /// A delete marker was added, or the version removed was one.
    pub delete_marker: bool,
}

impl ObjectInfo {
    pub(crate) fn from_version(bucket: &str, key: &str, v: &ObjectVersion) -> Self {
        ObjectInfo {
            bucket: bucket.into(),
            key: key.into(),
            size: v.size,
            etag: v.etag.clone(),
            mod_time_nanos: v.mod_time_nanos,
            content_type: v.content_type.clone(),
            user_meta: v.user_meta.clone(),
            checksum: v.checksum.clone(),
            num_parts: v.parts.len(),
            delete_marker: v.delete_marker,
            version_id: v.version_id,
            tags: v.attrs.tags.clone(),
            retention: v.attrs.retention,
            legal_hold: v.attrs.legal_hold,
            storage_class: v.storage_class,
        }
    }
}

/// Nanoseconds since the Unix epoch, now (the wall clock; version times come from
/// [`clock::hlc`]).
pub fn now_nanos() -> i64 {
    clock::hlc().wall_nanos()
}

/// One pool: its erasure sets and the key that places objects on them.
pub struct Pool {
    pub sets: Vec<Arc<ErasureSet>>,
    pub placement_key: [u8; 16],
}

impl Pool {
    pub fn set_for(&self, bucket: &str, key: &str) -> &Arc<ErasureSet> {
        let i = rustfs_common::layout::set_index(
            &self.placement_key,
            &format!("{bucket}/{key}"),
            self.sets.len(),
        );
        &self.sets[i]
    }
}

/// All pools of the deployment.
pub struct ObjectLayer {
    pub pools: Vec<Pool>,
    /// Cached bucket configurations ([`config`]).
    pub configs: Arc<config::ConfigCache>,
    /// Free bytes per pool and when they were measured (placement of new objects).
    free_cache: parking_lot::Mutex<Option<(std::time::Instant, Vec<u64>)>>,
}

impl ObjectLayer {
    pub fn new(pools: Vec<Pool>) -> Self {
        ObjectLayer {
            pools,
            configs: Arc::default(),
            free_cache: parking_lot::Mutex::new(None),
        }
    }
}

#[cfg(test)]
mod tests;
