//! What travels between nodes: drive calls and replies, lock calls, peer info, and errors, as
//! MessagePack (JSON for the human-readable peer info).

pub use super::calls::DriveCall;
pub use crate::object::dlock::{LockCall, LockOwner};
use crate::store::format::Format;
use crate::store::meta::ObjectMeta;
use crate::store::uploads::PartRecord;
use crate::store::{BucketInfo, DiskInfo, DriveError, PartState};
use rustfs_common::admin::VersionRange;
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;
use uuid::Uuid;

/// Path prefix of every internal RPC route; the version changes whenever calls or their
/// authentication change incompatibly (ARCHITECTURE.md, "Versions").
pub const RPC_PREFIX: &str = "/rustfs/rpc/v2";
/// The RPC versions this build speaks (it serves and calls [`RPC_PREFIX`] only, so one).
pub const RPC_VERSIONS: VersionRange = VersionRange { min: 2, max: 2 };
/// The header every health answer carries with a node's [`RPC_VERSIONS`], as `MIN-MAX`.
pub const RPC_VERSIONS_HEADER: &str = "x-rustfs-rpc-versions";

/// `MIN-MAX`, as [`RPC_VERSIONS_HEADER`] carries a range.
pub fn format_versions(r: VersionRange) -> String {
    format!("{}-{}", r.min, r.max)
}

/// A range as [`format_versions`] writes it.
pub fn parse_versions(s: &str) -> Option<VersionRange> {
    let (min, max) = s.trim().split_once('-')?;
    let r = VersionRange {
        min: min.parse().ok()?,
        max: max.parse().ok()?,
    };
    (r.min <= r.max).then_some(r)
}

/// The RPC version two nodes speak: the highest both support. None in common is an error that
/// says which side to move (ARCHITECTURE.md, "Versions").
pub fn negotiate(ours: VersionRange, theirs: VersionRange) -> Result<u32, String> {
    let best = ours.max.min(theirs.max);
    if best >= ours.min.max(theirs.min) {
        return Ok(best);
    }
    let advice = if theirs.min > ours.max {
        "it runs a newer build: upgrade this node too (or roll that one back)"
    } else {
        "it runs an older build: upgrade it, or roll this node back"
    };
    Err(format!(
        "speaks RPC {}, this node {}: no version in common — {advice}",
        format_versions(theirs),
        format_versions(ours)
    ))
}

/// Largest frame (walk entry, shard-stream chunk) a node accepts from a peer.
pub const MAX_FRAME_BYTES: usize = 16 << 20;
/// Largest request/response body of a drive, lock or walk call.
pub const MAX_CALL_BYTES: usize = 16 << 20;

/// A drive call's answer (`Ok`, as `Result<DriveReply, WireError>`): one kind per type a call
/// answers (`rpc::calls::Payload`).
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
    PartRecords(Vec<PartRecord>),
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
    InvalidName(String),
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
            DriveError::InvalidName(m) => WireError::InvalidName(m),
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
            WireError::InvalidName(m) => DriveError::InvalidName(m),
            WireError::Io(drive, msg) => DriveError::Io {
                drive,
                source: std::io::Error::other(msg),
            },
        }
    }
}

/// A lock call as it travels: the caller's clock rides along (see `object::clock`).
#[derive(Debug, Serialize, Deserialize)]
pub struct LockRequest {
    pub call: LockCall,
    pub hlc: i64,
    /// The calling node and its boot (absent from builds before it): a locker that sees a node
    /// with a new boot drops the grants its previous run left (see `object::dlock`).
    #[serde(default)]
    pub owner: Option<LockOwner>,
}

/// A locker's answer, with the locker's clock.
#[derive(Debug, Serialize, Deserialize)]
pub struct LockReply {
    pub granted: bool,
    pub hlc: i64,
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

/// A frame longer than [`MAX_FRAME_BYTES`]: the peer is broken or hostile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a peer sent a frame of {0} bytes (the limit is {MAX_FRAME_BYTES})")]
pub struct FrameTooLarge(pub usize);

/// Takes one complete frame off the front of `buf`, if there is one; a declared length over
/// [`MAX_FRAME_BYTES`] is an error before anything is buffered for it.
pub fn take_frame(buf: &mut bytes::BytesMut) -> Result<Option<bytes::Bytes>, FrameTooLarge> {
    take_frame_with(buf, 0)
}

/// [`take_frame`] for frames followed by a trailer of `trailer` bytes (a frame MAC), which is
/// returned as part of the frame.
pub fn take_frame_with(
    buf: &mut bytes::BytesMut,
    trailer: usize,
) -> Result<Option<bytes::Bytes>, FrameTooLarge> {
    if buf.len() < 4 {
        return Ok(None);
    }
    let len = u32::from_le_bytes(buf[..4].try_into().expect("4 bytes")) as usize;
    if len > MAX_FRAME_BYTES {
        return Err(FrameTooLarge(len));
    }
    if buf.len() < 4 + len + trailer {
        return Ok(None);
    }
    let mut f = buf.split_to(4 + len + trailer);
    Ok(Some(f.split_off(4).freeze()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_speak_the_highest_version_both_have_or_say_who_must_move() {
        let r = |min, max| VersionRange { min, max };
        assert_eq!(negotiate(r(2, 2), r(2, 2)), Ok(2));
        assert_eq!(negotiate(r(2, 3), r(1, 2)), Ok(2));
        assert_eq!(negotiate(r(2, 4), r(3, 5)), Ok(4));
        let e = negotiate(r(2, 2), r(3, 4)).unwrap_err();
        assert!(
            e.contains("RPC 3-4, this node 2-2") && e.contains("upgrade this node"),
            "{e}"
        );
        let e = negotiate(r(3, 3), r(1, 2)).unwrap_err();
        assert!(e.contains("older build: upgrade it"), "{e}");
        assert_eq!(parse_versions(" 2-3 "), Some(r(2, 3)));
        for bad in ["", "2", "3-2", "a-b", "2-"] {
            assert_eq!(parse_versions(bad), None, "{bad:?}");
        }
        assert_eq!(
            parse_versions(&format_versions(RPC_VERSIONS)),
            Some(RPC_VERSIONS)
        );
    }

    #[test]
    fn frames_split_anywhere() {
        let a = frame(b"hello");
        let b = frame(b"");
        let all: Vec<u8> = [a, b].concat();
        for cut in 0..all.len() {
            let mut buf = bytes::BytesMut::from(&all[..cut]);
            let mut got = Vec::new();
            while let Some(f) = take_frame(&mut buf).unwrap() {
                got.push(f);
            }
            buf.extend_from_slice(&all[cut..]);
            while let Some(f) = take_frame(&mut buf).unwrap() {
                got.push(f);
            }
            assert_eq!(got, vec![&b"hello"[..], &b""[..]], "cut at {cut}");
        }
    }

    #[test]
    fn oversized_frames_are_refused_before_they_are_buffered() {
        let mut buf = bytes::BytesMut::from(&((MAX_FRAME_BYTES as u32 + 1).to_le_bytes())[..]);
        assert_eq!(
            take_frame(&mut buf),
            Err(FrameTooLarge(MAX_FRAME_BYTES + 1))
        );
        let mut buf = bytes::BytesMut::from(&(u32::MAX.to_le_bytes())[..]);
        assert!(take_frame(&mut buf).is_err());
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
