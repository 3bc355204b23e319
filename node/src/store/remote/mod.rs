//! A drive on another node, reached over internal RPC. Implements [`Drive`] so the object layer
//! cannot tell it from a local one; the shared suite in `store/tests.rs` runs against both.

use super::format::Format;
use super::meta::{MetaSel, ObjectMeta, ObjectVersion, VersionAttrs};
use super::uploads::PartRecord;
use super::{
    BucketInfo, CommitSource, DataReader, DiskInfo, Drive, DriveError, DriveResult, PartState,
    ShardReader, ShardWriter, WalkEntry, WalkRequest,
};
use crate::rpc::client::{Deadline, Peer};
use crate::rpc::wire::{self, DriveCall, DriveReply, WireError};
use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use rustfs_common::names::url_encode;
use serde_bytes::ByteBuf;
use tokio::sync::mpsc;
use uuid::Uuid;

mod streams;

use streams::{RemoteData, RemoteHandle, RemoteReader, RemoteWriter};

pub struct RemoteDrive {
    peer: Peer,
    /// The drive's path on its node.
    path: String,
    /// The endpoint as written on the command line.
    label: String,
}

impl RemoteDrive {
    pub fn new(peer: Peer, path: &str, label: &str) -> Self {
        RemoteDrive {
            peer,
            path: path.to_string(),
            label: label.to_string(),
        }
    }

    pub fn peer(&self) -> &Peer {
        &self.peer
    }

    async fn call(&self, call: DriveCall) -> DriveResult<DriveReply> {
        self.peer.drive_call(&self.path, &call).await
    }

    async fn unit(&self, call: DriveCall) -> DriveResult<()> {
        match self.call(call).await? {
            DriveReply::Unit => Ok(()),
            other => Err(self.unexpected(other)),
        }
    }

    async fn bytes(&self, call: DriveCall) -> DriveResult<Vec<u8>> {
        match self.call(call).await? {
            DriveReply::Bytes(b) => Ok(b.into_vec()),
            other => Err(self.unexpected(other)),
        }
    }

    async fn bytes_list(&self, call: DriveCall) -> DriveResult<Vec<Vec<u8>>> {
        match self.call(call).await? {
            DriveReply::BytesList(v) => Ok(v.into_iter().map(ByteBuf::into_vec).collect()),
            other => Err(self.unexpected(other)),
        }
    }

    fn unexpected(&self, reply: DriveReply) -> DriveError {
        self.io(format!(
            "unexpected rpc reply {reply:?} — are all nodes running the same version?"
        ))
    }

    fn io(&self, msg: String) -> DriveError {
        DriveError::Io {
            drive: self.label.clone(),
            source: std::io::Error::other(msg),
        }
    }
}

#[async_trait]
impl Drive for RemoteDrive {
    fn endpoint(&self) -> &str {
        &self.label
    }

    fn is_local(&self) -> bool {
        false
    }

    async fn is_online(&self) -> bool {
        self.peer.is_online()
    }

    async fn disk_info(&self) -> DriveResult<DiskInfo> {
        match self.call(DriveCall::DiskInfo).await? {
            DriveReply::DiskInfo(i) => Ok(i),
            other => Err(self.unexpected(other)),
        }
    }

    async fn read_format(&self) -> DriveResult<Option<Format>> {
        match self.call(DriveCall::ReadFormat).await? {
            DriveReply::Format(f) => Ok(f),
            other => Err(self.unexpected(other)),
        }
    }

    async fn write_format(&self, format: &Format) -> DriveResult<()> {
        self.unit(DriveCall::WriteFormat(format.clone())).await
    }

    async fn read_sys_file(&self, name: &str) -> DriveResult<Vec<u8>> {
        self.bytes(DriveCall::ReadSysFile(name.into())).await
    }

    async fn write_sys_file(&self, name: &str, data: &[u8]) -> DriveResult<()> {
        self.unit(DriveCall::WriteSysFile(name.into(), ByteBuf::from(data)))
            .await
    }

    async fn make_bucket(&self, bucket: &str, created_nanos: i64) -> DriveResult<()> {
        self.unit(DriveCall::MakeBucket(bucket.into(), created_nanos))
            .await
    }

    async fn list_buckets(&self) -> DriveResult<Vec<BucketInfo>> {
        match self.call(DriveCall::ListBuckets).await? {
            DriveReply::Buckets(b) => Ok(b),
            other => Err(self.unexpected(other)),
        }
    }

    async fn stat_bucket(&self, bucket: &str) -> DriveResult<BucketInfo> {
        match self.call(DriveCall::StatBucket(bucket.into())).await? {
            DriveReply::Bucket(b) => Ok(b),
            other => Err(self.unexpected(other)),
        }
    }

    async fn delete_bucket(&self, bucket: &str) -> DriveResult<()> {
        self.unit(DriveCall::DeleteBucket(bucket.into())).await
    }

    async fn read_meta(&self, bucket: &str, key: &str) -> DriveResult<ObjectMeta> {
        match self
            .call(DriveCall::ReadMeta(bucket.into(), key.into()))
            .await?
        {
            DriveReply::Meta(m) => Ok(m),
            other => Err(self.unexpected(other)),
        }
    }

    async fn read_versions(
        &self,
        bucket: &str,
        key: &str,
        sel: MetaSel,
    ) -> DriveResult<ObjectMeta> {
        let call = DriveCall::ReadVersions(bucket.into(), key.into(), sel);
        match self.call(call).await {
            Ok(DriveReply::Meta(m)) => Ok(m),
            Ok(other) => Err(self.unexpected(other)),
            // A peer of an older build does not know the call: read everything, select here.
            Err(DriveError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::Unsupported =>
            {
                let mut meta = self.read_meta(bucket, key).await?;
                meta.select(sel);
                Ok(meta)
            }
            Err(e) => Err(e),
        }
    }

    async fn create_writer(&self, tmp_id: Uuid, name: &str) -> DriveResult<Box<dyn ShardWriter>> {
        if !self.peer.is_online() {
            return Err(DriveError::Offline(format!("node {}", self.peer.addr())));
        }
        let (tx, rx) = futures::channel::mpsc::channel::<Result<Bytes, std::io::Error>>(2);
        let url = format!(
            "/write?drive={}&tmp={tmp_id}&name={}",
            url_encode(&self.path),
            url_encode(name)
        );
        let (req, mac) = self.peer.stream_request(&url);
        let req = req.body(reqwest::Body::wrap_stream(rx));
        let peer = self.peer.clone();
        let label = self.label.clone();
        let done = tokio::spawn(async move {
            let r = peer.send(req, Deadline::Caller).await?;
            let status = r.status();
            let body = peer.body(r).await?;
            if !status.is_success() {
                return Err(DriveError::Io {
                    drive: label,
                    source: std::io::Error::other(format!("shard upload answered {status}")),
                });
            }
            let r: Result<(), WireError> = wire::decode(&body).map_err(|e| DriveError::Io {
                drive: label,
                source: std::io::Error::other(e),
            })?;
            r.map_err(DriveError::from)
        });
        Ok(Box::new(RemoteWriter {
            tx: Some(tx),
            done,
            peer: self.peer.clone(),
            mac,
            seq: 0,
        }))
    }

    async fn remove_tmp(&self, tmp_id: Uuid) -> DriveResult<()> {
        self.unit(DriveCall::RemoveTmp(tmp_id)).await
    }

    async fn commit(
        &self,
        bucket: &str,
        key: &str,
        src: CommitSource,
        version: ObjectVersion,
        commit_id: Uuid,
    ) -> DriveResult<bool> {
        let call = DriveCall::Commit(bucket.into(), key.into(), src, Box::new(version), commit_id);
        match self.call(call).await? {
            DriveReply::Bool(kept) => Ok(kept),
            other => Err(self.unexpected(other)),
        }
    }

    async fn undo_commit(
        &self,
        bucket: &str,
        key: &str,
        commit_id: Uuid,
        version: &ObjectVersion,
        kept: bool,
    ) -> DriveResult<()> {
        let mut v = version.clone();
        v.inline_data = None;
        self.unit(DriveCall::UndoCommit(
            bucket.into(),
            key.into(),
            commit_id,
            Box::new(v),
            kept,
        ))
        .await
    }

    async fn finish_commit(&self, commit_id: Uuid) -> DriveResult<()> {
        self.unit(DriveCall::FinishCommit(commit_id)).await
    }

    async fn update_attrs(
        &self,
        bucket: &str,
        key: &str,
        id: Option<Uuid>,
        mod_time_nanos: i64,
        attrs: VersionAttrs,
    ) -> DriveResult<()> {
        self.unit(DriveCall::UpdateAttrs(
            bucket.into(),
            key.into(),
            id,
            mod_time_nanos,
            attrs,
        ))
        .await
    }

    async fn delete_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<Uuid>,
    ) -> DriveResult<()> {
        self.unit(DriveCall::DeleteVersion(
            bucket.into(),
            key.into(),
            version_id,
        ))
        .await
    }

    async fn check_parts(
        &self,
        bucket: &str,
        key: &str,
        version: &ObjectVersion,
        deep: bool,
    ) -> DriveResult<Vec<PartState>> {
        let mut v = version.clone();
        v.inline_data = None;
        let call = DriveCall::CheckParts(bucket.into(), key.into(), Box::new(v), deep);
        let reply = if deep {
            // Reads whole shard files on the peer: allow far more than one RPC deadline.
            let limit = self.peer.timeout() * 30;
            self.peer.drive_call_slow(&self.path, &call, limit).await?
        } else {
            self.call(call).await?
        };
        match reply {
            DriveReply::Parts(p) => Ok(p),
            other => Err(self.unexpected(other)),
        }
    }

    async fn open_shard(
        &self,
        bucket: &str,
        key: &str,
        data_dir: Uuid,
        part: u32,
    ) -> DriveResult<Box<dyn ShardReader>> {
        match self
            .call(DriveCall::OpenShard(
                bucket.into(),
                key.into(),
                data_dir,
                part,
            ))
            .await?
        {
            DriveReply::Handle(handle) => Ok(Box::new(RemoteReader(RemoteHandle {
                peer: self.peer.clone(),
                handle,
                path: self.path.clone(),
                label: self.label.clone(),
            }))),
            other => Err(self.unexpected(other)),
        }
    }

    async fn open_data(
        &self,
        bucket: &str,
        key: &str,
        data_dir: Uuid,
    ) -> DriveResult<Box<dyn DataReader>> {
        match self
            .call(DriveCall::OpenData(bucket.into(), key.into(), data_dir))
            .await?
        {
            DriveReply::Handle(handle) => Ok(Box::new(RemoteData(RemoteHandle {
                peer: self.peer.clone(),
                handle,
                path: self.path.clone(),
                label: self.label.clone(),
            }))),
            other => Err(self.unexpected(other)),
        }
    }

    async fn walk(
        &self,
        bucket: &str,
        req: WalkRequest,
    ) -> DriveResult<mpsc::Receiver<DriveResult<WalkEntry>>> {
        let url = format!(
            "/walk?drive={}&bucket={}",
            url_encode(&self.path),
            url_encode(bucket)
        );
        let r = self
            .peer
            .send(
                self.peer
                    .request(reqwest::Method::POST, &url, wire::encode(&req)),
                Deadline::Headers,
            )
            .await?;
        if !r.status().is_success() {
            return Err(self.io(format!("walk answered {}", r.status())));
        }
        let (tx, rx) = mpsc::channel(256);
        let peer = self.peer.clone();
        let label = self.label.clone();
        let mut stream = r.bytes_stream();
        // The first frame decides between "walk started" and an error such as a missing bucket.
        let mut buf = BytesMut::new();
        let mut first: Option<DriveResult<WalkEntry>> = None;
        let mut ended = false;
        while first.is_none() && !ended {
            match tokio::time::timeout(peer.timeout(), stream.next()).await {
                Ok(Some(Ok(chunk))) => buf.extend_from_slice(&chunk),
                Ok(None) => ended = true,
                Ok(Some(Err(e))) => return Err(self.io(format!("walk stream broke: {e}"))),
                Err(_) => {
                    peer.mark_offline("walk stalled past the RPC deadline");
                    return Err(DriveError::Offline(format!("node {}", peer.addr())));
                }
            }
            match wire::take_frame(&mut buf) {
                Ok(Some(f)) => first = Some(decode_walk_frame(&f, &label)),
                Ok(None) => {}
                Err(e) => return Err(self.io(e.to_string())),
            }
        }
        match first {
            Some(Err(e)) => return Err(e),
            Some(Ok(entry)) => {
                let _ = tx.send(Ok(entry)).await;
            }
            None => return Ok(rx),
        }
        tokio::spawn(async move {
            loop {
                loop {
                    let entry = match wire::take_frame(&mut buf) {
                        Ok(Some(f)) => decode_walk_frame(&f, &label),
                        Ok(None) => break,
                        Err(e) => Err(DriveError::Io {
                            drive: label.clone(),
                            source: std::io::Error::other(e.to_string()),
                        }),
                    };
                    let failed = entry.is_err();
                    if tx.send(entry).await.is_err() || failed {
                        return;
                    }
                }
                match tokio::time::timeout(peer.timeout(), stream.next()).await {
                    Ok(Some(Ok(chunk))) => buf.extend_from_slice(&chunk),
                    Ok(None) => return,
                    Ok(Some(Err(e))) => {
                        let _ = tx
                            .send(Err(DriveError::Io {
                                drive: label.clone(),
                                source: std::io::Error::other(format!("walk stream broke: {e}")),
                            }))
                            .await;
                        return;
                    }
                    Err(_) => {
                        peer.mark_offline("walk stalled past the RPC deadline");
                        let _ = tx
                            .send(Err(DriveError::Offline(format!("node {}", peer.addr()))))
                            .await;
                        return;
                    }
                }
            }
        });
        Ok(rx)
    }

    async fn write_upload(&self, bucket: &str, upload_id: Uuid, meta: &[u8]) -> DriveResult<()> {
        self.unit(DriveCall::WriteUpload(
            bucket.into(),
            upload_id,
            ByteBuf::from(meta),
        ))
        .await
    }

    async fn read_upload(&self, bucket: &str, upload_id: Uuid) -> DriveResult<Vec<u8>> {
        self.bytes(DriveCall::ReadUpload(bucket.into(), upload_id))
            .await
    }

    async fn list_uploads(&self, bucket: &str) -> DriveResult<Vec<Vec<u8>>> {
        self.bytes_list(DriveCall::ListUploads(bucket.into())).await
    }

    async fn commit_part(
        &self,
        bucket: &str,
        upload_id: Uuid,
        part: &PartRecord,
        tmp_id: Uuid,
    ) -> DriveResult<()> {
        self.unit(DriveCall::CommitPart(
            bucket.into(),
            upload_id,
            part.clone(),
            tmp_id,
        ))
        .await
    }

    async fn list_parts(&self, bucket: &str, upload_id: Uuid) -> DriveResult<Vec<PartRecord>> {
        match self
            .call(DriveCall::ListParts(bucket.into(), upload_id))
            .await?
        {
            DriveReply::PartRecords(p) => Ok(p),
            other => Err(self.unexpected(other)),
        }
    }

    async fn delete_upload(&self, bucket: &str, upload_id: Uuid) -> DriveResult<()> {
        self.unit(DriveCall::DeleteUpload(bucket.into(), upload_id))
            .await
    }
}

fn decode_walk_frame(f: &[u8], label: &str) -> DriveResult<WalkEntry> {
    match wire::decode::<Result<WalkEntry, WireError>>(f) {
        Ok(r) => r.map_err(DriveError::from),
        Err(e) => Err(DriveError::Io {
            drive: label.to_string(),
            source: std::io::Error::other(format!("undecodable walk entry: {e}")),
        }),
    }
}
