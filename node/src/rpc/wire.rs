//! What travels between nodes: drive calls and replies, lock calls, peer info, and errors, as
//! MessagePack (JSON for the human-readable peer info).

use crate::store::format::Format;
use crate::store::meta::{ObjectMeta, ObjectVersion};
use crate::store::{BucketInfo, CommitSource, DiskInfo, DriveError, PartState};
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;
use uuid::Uuid;

/// Path prefix of every internal RPC route.
pub const RPC_PREFIX: &str = "/rustfs/rpc/v1";

/// One request/response call on a drive of the peer.
#[derive(Debug, Serialize, Deserialize)]
pub enum DriveCall {
    IsOnline,
    DiskInfo,
    ReadFormat,
    WriteFormat(Format),
    ReadSysFile(String),
    WriteSysFile(String, ByteBuf),
    MakeBucket(String, i64),
    ListBuckets,
    StatBucket(String),
    DeleteBucket(String),
    ReadMeta(String, String),
    RemoveTmp(Uuid),
    Commit(String, String, CommitSource, Box<ObjectVersion>),
    DeleteVersion(String, String, Option<Uuid>),
    /// Opens (pins) a shard file and answers a handle for `read` calls.
    OpenShard(String, String, Uuid, u32),
    CloseShard(u64),
    WriteUpload(String, Uuid, ByteBuf),
    ReadUpload(String, Uuid),
    ListUploads(String),
    CommitPart(String, Uuid, u32, Uuid, ByteBuf),
    ListParts(String, Uuid),
    DeleteUpload(String, Uuid),
    /// Checks the version's shard files on the drive (deep: every block's hash).
    CheckParts(String, String, Box<ObjectVersion>, bool),
}

#[derive(Debug, Serialize, Deserialize)]
pub enum DriveReply {
    Unit,
    Bool(bool),
    DiskInfo(DiskInfo),
    Format(Option<Format>),
    Bytes(ByteBuf),
    BytesList(Vec<ByteBuf>),
    Buckets(Vec<BucketInfo>),
    Bucket(BucketInfo),
    Meta(ObjectMeta),
    Handle(u64),
    Parts(Vec<PartState>),
}

/// A [`DriveError`] on the wire.
#[derive(Debug, Serialize, Deserialize)]
pub enum WireError {
    NotFound,
    BucketNotFound,
    BucketExists,
    BucketNotEmpty,
    DiskFull,
    Offline(String),
    Corrupt(String),
    Io(String, String),
}

impl From<DriveError> for WireError {
    fn from(e: DriveError) -> Self {
        match e {
            DriveError::NotFound => WireError::NotFound,
            DriveError::BucketNotFound => WireError::BucketNotFound,
            DriveError::BucketExists => WireError::BucketExists,
            DriveError::BucketNotEmpty => WireError::BucketNotEmpty,
            DriveError::DiskFull => WireError::DiskFull,
            DriveError::Offline(d) => WireError::Offline(d),
            DriveError::Corrupt(m) => WireError::Corrupt(m),
            DriveError::Io { drive, source } => WireError::Io(drive, source.to_string()),
        }
    }
}

impl From<WireError> for DriveError {
    fn from(e: WireError) -> Self {
        match e {
            WireError::NotFound => DriveError::NotFound,
            WireError::BucketNotFound => DriveError::BucketNotFound,
            WireError::BucketExists => DriveError::BucketExists,
            WireError::BucketNotEmpty => DriveError::BucketNotEmpty,
            WireError::DiskFull => DriveError::DiskFull,
            WireError::Offline(d) => DriveError::Offline(d),
            WireError::Corrupt(m) => DriveError::Corrupt(m),
            WireError::Io(drive, msg) => DriveError::Io {
                drive,
                source: std::io::Error::other(msg),
            },
        }
    }
}

/// A lock call on a peer's lock table.
#[derive(Debug, Serialize, Deserialize)]
pub enum LockCall {
    /// Grant `uid` a read (`write == false`) or write lock on `resource`, if free.
    Lock {
        resource: String,
        uid: Uuid,
        write: bool,
    },
    /// Extend the lease of a held lock; `false` when the peer no longer holds it.
    Refresh {
        resource: String,
        uid: Uuid,
    },
    Unlock {
        resource: String,
        uid: Uuid,
    },
}

/// What a node says about itself, so peers can refuse to form a cluster with a different layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerInfo {
    pub version: String,
    /// The pool arguments, normalised (the same text on every node of one cluster).
    pub topology: String,
    /// The deployment id, once the node's drives are formatted.
    pub deployment_id: Option<Uuid>,
    /// Whether the node serves S3 yet.
    pub ready: bool,
}

pub fn encode<T: Serialize>(v: &T) -> Vec<u8> {
    rmp_serde::to_vec_named(v).expect("rpc messages always serialize")
}

pub fn decode<T: for<'de> Deserialize<'de>>(b: &[u8]) -> Result<T, String> {
    rmp_serde::from_slice(b).map_err(|e| e.to_string())
}

/// Walk entries travel as frames: a u32 LE length, then a MessagePack `Result<WalkEntry, WireError>`.
pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + body.len());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
    out
}

/// Takes one complete frame off the front of `buf`, if there is one.
pub fn take_frame(buf: &mut bytes::BytesMut) -> Option<bytes::Bytes> {
    if buf.len() < 4 {
        return None;
    }
    let len = u32::from_le_bytes(buf[..4].try_into().expect("4 bytes")) as usize;
    if buf.len() < 4 + len {
        return None;
    }
    let mut f = buf.split_to(4 + len);
    Some(f.split_off(4).freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_split_anywhere() {
        let a = frame(b"hello");
        let b = frame(b"");
        let all: Vec<u8> = [a, b].concat();
        for cut in 0..all.len() {
            let mut buf = bytes::BytesMut::from(&all[..cut]);
            let mut got = Vec::new();
            while let Some(f) = take_frame(&mut buf) {
                got.push(f);
            }
            buf.extend_from_slice(&all[cut..]);
            while let Some(f) = take_frame(&mut buf) {
                got.push(f);
            }
            assert_eq!(got, vec![&b"hello"[..], &b""[..]], "cut at {cut}");
        }
    }

    #[test]
    fn errors_round_trip() {
        let e: DriveError = WireError::from(DriveError::Io {
            drive: "d1".into(),
            source: std::io::Error::other("boom"),
        })
        .into();
        assert_eq!(e.to_string(), "i/o error on drive d1: boom");
        let r: Result<DriveReply, WireError> = Err(WireError::DiskFull);
        let back: Result<DriveReply, WireError> = decode(&encode(&r)).unwrap();
        assert!(matches!(back, Err(WireError::DiskFull)));
    }
}
