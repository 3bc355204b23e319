//! The drive calls of the RPC, each defined once in the table below: its arguments, the type it
//! answers and how this node serves it. From that one row come
//!
//! - the [`DriveCall`] variant that travels (`POST /drive`, MessagePack; the rows keep the
//!   variants' names, order and shapes, so the bytes are those of every earlier v2 build — the
//!   golden fixtures in `rpc/golden.rs` hold them),
//! - a typed request, [`call`]`::Name`, whose [`DriveRpc::Reply`] is what the call answers (the
//!   client, `rpc::remote::RemoteDrive`, gets that type or a typed [`CallError`], never a reply
//!   of the wrong kind),
//! - this node's dispatch (`RpcState::drive_call`).
//!
//! Every call's error is a [`DriveError`], carried as a [`WireError`]. A new call is a new row
//! (at the end, so an older peer answers it 400 and the caller can fall back: ARCHITECTURE.md,
//! "Versions"), its [`crate::store::Drive`] method, and the method's one line in `RemoteDrive`.

use super::server::{Opened, RpcState};
use super::wire::{DriveReply, WireError};
use crate::store::format::Format;
use crate::store::meta::{MetaSel, ObjectMeta, ObjectVersion, VersionAttrs};
use crate::store::uploads::PartRecord;
use crate::store::{
    BucketInfo, CommitSource, DataReader, DiskInfo, Drive, DriveError, DriveResult, PartState,
    ShardReader,
};
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;
use std::sync::Arc;
use uuid::Uuid;

/// A drive call's typed request: the call it travels as and the type it answers.
pub trait DriveRpc: Send {
    /// What the call answers when it succeeds.
    type Reply: Payload;
    /// The call as it travels.
    fn into_call(self) -> DriveCall;
}

/// A type some drive call answers: which [`DriveReply`] carries it.
pub trait Payload: Sized {
    fn into_reply(self) -> DriveReply;
    /// The payload, or the reply back when it is of another kind.
    fn from_reply(reply: DriveReply) -> Result<Self, DriveReply>;
}

impl Payload for () {
    fn into_reply(self) -> DriveReply {
        DriveReply::Unit
    }
    fn from_reply(reply: DriveReply) -> Result<Self, DriveReply> {
        match reply {
            DriveReply::Unit => Ok(()),
            other => Err(other),
        }
    }
}

macro_rules! payloads {
    ($($variant:ident($t:ty)),* $(,)?) => {$(
        impl Payload for $t {
            fn into_reply(self) -> DriveReply {
                DriveReply::$variant(self)
            }
            fn from_reply(reply: DriveReply) -> Result<Self, DriveReply> {
                match reply {
                    DriveReply::$variant(v) => Ok(v),
                    other => Err(other),
                }
            }
        }
    )*};
}

payloads! {
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

/// Why a call to a peer failed: its drive's own error, or the call itself.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The peer's drive answered with this error.
    #[error(transparent)]
    Drive(#[from] DriveError),
    /// The peer is marked offline, or did not answer within the deadline.
    #[error("node {0} is offline")]
    Offline(String),
    /// The peer refused the call's signature (another secret, or a clock too far off).
    #[error(transparent)]
    Refused(#[from] super::client::PeerError),
    /// The peer's build does not know the call (it answered 400): fall back to an older call.
    #[error("rpc {path} answered 400 (a build without this call): {body}")]
    Unsupported {
        peer: String,
        path: String,
        body: String,
    },
    /// The peer answered, but not with what the call expects (status, size, encoding, kind).
    #[error("rpc to {peer}: {what} — are all nodes running the same version?")]
    Malformed { peer: String, what: String },
}

pub type CallResult<T> = Result<T, CallError>;

impl From<CallError> for DriveError {
    fn from(e: CallError) -> Self {
        match e {
            CallError::Drive(e) => e,
            CallError::Offline(peer) => DriveError::Offline(format!("node {peer}")),
            CallError::Refused(e) => DriveError::Offline(e.to_string()),
            CallError::Unsupported { ref peer, .. } => DriveError::Io {
                drive: peer.clone(),
                source: std::io::Error::new(std::io::ErrorKind::Unsupported, e.to_string()),
            },
            CallError::Malformed { ref peer, .. } => DriveError::Io {
                drive: peer.clone(),
                source: std::io::Error::other(e.to_string()),
            },
        }
    }
}

impl From<WireError> for CallError {
    fn from(e: WireError) -> Self {
        CallError::Drive(e.into())
    }
}

/// The table: `Name(arg: Type, …) -> Reply = |drive, rpc_state| how this node serves it;`. The
/// variant carries the argument types in order (none: a unit variant; one: a newtype variant),
/// exactly as it travels.
macro_rules! drive_calls {
    ($(
        $(#[$doc:meta])*
        $name:ident $( ( $($arg:ident : $t:ty),* $(,)? ) )? -> $reply:ty
            = |$d:ident, $s:ident| $serve:expr;
    )*) => {
        /// One request/response call on a drive of the peer (`POST /drive?drive=PATH`).
        #[derive(Debug, Serialize, Deserialize)]
        pub enum DriveCall {
            $( $(#[$doc])* $name $( ( $($t),* ) )?, )*
        }

        /// The typed request of every drive call, named as its [`DriveCall`] variant.
        pub mod call {
            #[allow(unused_imports)]
            use super::*;
            $(
                $(#[$doc])*
                #[derive(Debug)]
                pub struct $name { $( $(pub $arg: $t),* )? }
            )*
        }

        $(
            impl DriveRpc for call::$name {
                type Reply = $reply;
                fn into_call(self) -> DriveCall {
                    let call::$name { $( $($arg),* )? } = self;
                    DriveCall::$name $( ( $($arg),* ) )?
                }
            }

            impl call::$name {
                #[allow(unused_variables)]
                async fn serve(self, $d: &Arc<dyn Drive>, $s: &RpcState) -> DriveResult<$reply> {
                    let call::$name { $( $($arg),* )? } = self;
                    $serve
                }
            }
        )*

        impl RpcState {
            /// Serves one drive call on `drive`, one of this node's drives.
            pub(super) async fn serve_call(
                &self,
                drive: &Arc<dyn Drive>,
                call: DriveCall,
            ) -> DriveResult<DriveReply> {
                match call {
                    $(
                        DriveCall::$name $( ( $($arg),* ) )? => call::$name { $( $($arg),* )? }
                            .serve(drive, self)
                            .await
                            .map(Payload::into_reply),
                    )*
                }
            }
        }
    };
}

drive_calls! {
    IsOnline -> bool = |d, s| Ok(d.is_online().await);
    DiskInfo -> DiskInfo = |d, s| d.disk_info().await;
    ReadFormat -> Option<Format> = |d, s| d.read_format().await;
    WriteFormat(format: Format) -> () = |d, s| d.write_format(&format).await;
    ReadSysFile(name: String) -> ByteBuf = |d, s| d.read_sys_file(&name).await.map(ByteBuf::from);
    WriteSysFile(name: String, data: ByteBuf) -> () = |d, s| d.write_sys_file(&name, &data).await;
    MakeBucket(bucket: String, created_nanos: i64) -> () =
        |d, s| d.make_bucket(&bucket, created_nanos).await;
    ListBuckets -> Vec<BucketInfo> = |d, s| d.list_buckets().await;
    StatBucket(bucket: String) -> BucketInfo = |d, s| d.stat_bucket(&bucket).await;
    DeleteBucket(bucket: String) -> () = |d, s| d.delete_bucket(&bucket).await;
    ReadMeta(bucket: String, key: String) -> ObjectMeta = |d, s| d.read_meta(&bucket, &key).await;
    RemoveTmp(tmp_id: Uuid) -> () = |d, s| d.remove_tmp(tmp_id).await;
    Commit(
        bucket: String,
        key: String,
        src: CommitSource,
        version: Box<ObjectVersion>,
        commit_id: Uuid,
    ) -> bool = |d, s| d.commit(&bucket, &key, src, *version, commit_id).await;
    UndoCommit(bucket: String, key: String, commit_id: Uuid, version: Box<ObjectVersion>, kept: bool)
        -> () = |d, s| d.undo_commit(&bucket, &key, commit_id, &version, kept).await;
    FinishCommit(commit_id: Uuid) -> () = |d, s| d.finish_commit(commit_id).await;
    DeleteVersion(bucket: String, key: String, version_id: Option<Uuid>) -> () =
        |d, s| d.delete_version(&bucket, &key, version_id).await;
    /// Opens one part's shard file (a single-part read needs no data dir pin).
    OpenShard(bucket: String, key: String, data_dir: Uuid, part: u32) -> u64 = |d, s| {
        let reader: Arc<dyn ShardReader> = d.open_shard(&bucket, &key, data_dir, part).await?.into();
        Ok(s.open(Opened::Shard(reader, None)))
    };
    /// Pins a version's data dir and answers a handle for `OpenPart` calls.
    OpenData(bucket: String, key: String, data_dir: Uuid) -> u64 = |d, s| {
        let data: Arc<dyn DataReader> = d.open_data(&bucket, &key, data_dir).await?.into();
        Ok(s.open(Opened::Data(data)))
    };
    /// Opens a part's shard file in a pinned data dir; answers a handle for `read` calls.
    OpenPart(handle: u64, part: u32) -> u64 = |d, s| {
        let Opened::Data(data) = s.touch(handle)? else {
            return Err(DriveError::NotFound);
        };
        let reader: Arc<dyn ShardReader> = data.open_part(part).await?.into();
        Ok(s.open(Opened::Shard(reader, Some(handle))))
    };
    CloseHandle(handle: u64) -> () = |d, s| {
        s.close(handle);
        Ok(())
    };
    WriteUpload(bucket: String, upload_id: Uuid, meta: ByteBuf) -> () =
        |d, s| d.write_upload(&bucket, upload_id, &meta).await;
    ReadUpload(bucket: String, upload_id: Uuid) -> ByteBuf =
        |d, s| d.read_upload(&bucket, upload_id).await.map(ByteBuf::from);
    ListUploads(bucket: String) -> Vec<ByteBuf> = |d, s| {
        let uploads = d.list_uploads(&bucket).await?;
        Ok(uploads.into_iter().map(ByteBuf::from).collect())
    };
    CommitPart(bucket: String, upload_id: Uuid, part: PartRecord, tmp_id: Uuid) -> () =
        |d, s| d.commit_part(&bucket, upload_id, &part, tmp_id).await;
    ListParts(bucket: String, upload_id: Uuid) -> Vec<PartRecord> =
        |d, s| d.list_parts(&bucket, upload_id).await;
    DeleteUpload(bucket: String, upload_id: Uuid) -> () =
        |d, s| d.delete_upload(&bucket, upload_id).await;
    /// Checks the version's shard files on the drive (deep: every block's hash).
    CheckParts(bucket: String, key: String, version: Box<ObjectVersion>, deep: bool)
        -> Vec<PartState> = |d, s| d.check_parts(&bucket, &key, &version, deep).await;
    /// Replaces a version's in-place attributes (tags, ...).
    UpdateAttrs(
        bucket: String,
        key: String,
        version_id: Option<Uuid>,
        mod_time_nanos: i64,
        attrs: VersionAttrs,
    ) -> () = |d, s| d.update_attrs(&bucket, &key, version_id, mod_time_nanos, attrs).await;
    /// Some versions of an object (a GET's). Added within v2: a peer of an older build answers
    /// 400, and the caller falls back to `ReadMeta` (ARCHITECTURE.md, "Versions").
    ReadVersions(bucket: String, key: String, sel: MetaSel) -> ObjectMeta =
        |d, s| d.read_versions(&bucket, &key, sel).await;
}
