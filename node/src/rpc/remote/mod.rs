//! A drive on another node, reached over internal RPC. Implements [`Drive`] so the object layer
//! cannot tell it from a local one; the shared suite in `store/tests.rs` runs against both.

use super::calls::{call, CallError, DriveRpc};
use super::client::{Deadline, Peer};
use super::wire::{self, WireError};
use crate::store::format::Format;
use crate::store::meta::{MetaSel, ObjectMeta, ObjectVersion, VersionAttrs};
use crate::store::uploads::PartRecord;
use crate::store::{
    BucketInfo, CommitSource, DataReader, DiskInfo, Drive, DriveError, DriveResult, PartState,
    ShardReader, ShardWriter, WalkEntry, WalkRequest,
};
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

    /// One drive call, answered with its own type (a deep check of shards is bounded by
    /// `limit` instead of the RPC deadline).
    async fn call<C: DriveRpc>(&self, call: C) -> DriveResult<C::Reply> {
        Ok(self.peer.drive_call(&self.path, call, None).await?)
    }

    /// A handle the peer opened for this node.
    fn handle(&self, handle: u64) -> RemoteHandle {
        RemoteHandle {
            peer: self.peer.clone(),
            handle,
            path: self.path.clone(),
            label: self.label.clone(),
        }
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
        self.call(call::DiskInfo {}).await
    }

    async fn read_format(&self) -> DriveResult<Option<Format>> {
        self.call(call::ReadFormat {}).await
    }

    async fn write_format(&self, format: &Format) -> DriveResult<()> {
        self.call(call::WriteFormat {
            format: format.clone(),
        })
        .await
    }

    async fn read_sys_file(&self, name: &str) -> DriveResult<Vec<u8>> {
        let name = name.into();
        Ok(self.call(call::ReadSysFile { name }).await?.into_vec())
    }

    async fn write_sys_file(&self, name: &str, data: &[u8]) -> DriveResult<()> {
        let (name, data) = (name.into(), ByteBuf::from(data));
        self.call(call::WriteSysFile { name, data }).await
    }

    async fn make_bucket(&self, bucket: &str, created_nanos: i64) -> DriveResult<()> {
        let bucket = bucket.into();
        self.call(call::MakeBucket {
            bucket,
            created_nanos,
        })
        .await
    }

    async fn list_buckets(&self) -> DriveResult<Vec<BucketInfo>> {
        self.call(call::ListBuckets {}).await
    }

    async fn stat_bucket(&self, bucket: &str) -> DriveResult<BucketInfo> {
        let bucket = bucket.into();
        self.call(call::StatBucket { bucket }).await
    }

    async fn delete_bucket(&self, bucket: &str) -> DriveResult<()> {
        let bucket = bucket.into();
        self.call(call::DeleteBucket { bucket }).await
    }

    async fn read_meta(&self, bucket: &str, key: &str) -> DriveResult<ObjectMeta> {
        let (bucket, key) = (bucket.into(), key.into());
        self.call(call::ReadMeta { bucket, key }).await
    }

    async fn read_versions(
        &self,
        bucket: &str,
        key: &str,
        sel: MetaSel,
    ) -> DriveResult<ObjectMeta> {
        let c = call::ReadVersions {
            bucket: bucket.into(),
            key: key.into(),
            sel,
        };
        match self.peer.drive_call(&self.path, c, None).await {
            Ok(meta) => Ok(meta),
            // A peer of an older build does not know the call: read everything, select here.
            Err(CallError::Unsupported { .. }) => {
                let mut meta = self.read_meta(bucket, key).await?;
                meta.select(sel);
                Ok(meta)
            }
            Err(e) => Err(e.into()),
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
            let r = peer
                .send(req, Deadline::Caller)
                .await
                .map_err(DriveError::from)?;
            let status = r.status();
            let body = peer.body(r).await.map_err(DriveError::from)?;
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
        self.call(call::RemoveTmp { tmp_id }).await
    }

    async fn commit(
        &self,
        bucket: &str,
        key: &str,
        src: CommitSource,
        version: ObjectVersion,
        commit_id: Uuid,
    ) -> DriveResult<bool> {
        self.call(call::Commit {
            bucket: bucket.into(),
            key: key.into(),
            src,
            version: Box::new(version),
            commit_id,
        })
        .await
    }

    async fn undo_commit(
        &self,
        bucket: &str,
        key: &str,
        commit_id: Uuid,
        version: &ObjectVersion,
        kept: bool,
    ) -> DriveResult<()> {
        let mut version = Box::new(version.clone());
        version.inline_data = None;
        self.call(call::UndoCommit {
            bucket: bucket.into(),
            key: key.into(),
            commit_id,
            version,
            kept,
        })
        .await
    }

    async fn finish_commit(&self, commit_id: Uuid) -> DriveResult<()> {
        self.call(call::FinishCommit { commit_id }).await
    }

    async fn update_attrs(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<Uuid>,
        mod_time_nanos: i64,
        attrs: VersionAttrs,
    ) -> DriveResult<()> {
        self.call(call::UpdateAttrs {
            bucket: bucket.into(),
            key: key.into(),
            version_id,
            mod_time_nanos,
            attrs,
        })
        .await
    }

    async fn delete_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<Uuid>,
    ) -> DriveResult<()> {
        self.call(call::DeleteVersion {
            bucket: bucket.into(),
            key: key.into(),
            version_id,
        })
        .await
    }

    async fn check_parts(
        &self,
        bucket: &str,
        key: &str,
        version: &ObjectVersion,
        deep: bool,
    ) -> DriveResult<Vec<PartState>> {
        let mut version = Box::new(version.clone());
        version.inline_data = None;
        let c = call::CheckParts {
            bucket: bucket.into(),
            key: key.into(),
            version,
            deep,
        };
        // A deep check reads whole shard files on the peer: allow far more than one deadline.
        let limit = deep.then(|| self.peer.timeout() * 30);
        Ok(self.peer.drive_call(&self.path, c, limit).await?)
    }

    async fn open_shard(
        &self,
        bucket: &str,
        key: &str,
        data_dir: Uuid,
        part: u32,
    ) -> DriveResult<Box<dyn ShardReader>> {
        let handle = self
            .call(call::OpenShard {
                bucket: bucket.into(),
                key: key.into(),
                data_dir,
                part,
            })
            .await?;
        Ok(Box::new(RemoteReader(self.handle(handle))))
    }

    async fn open_data(
        &self,
        bucket: &str,
        key: &str,
        data_dir: Uuid,
    ) -> DriveResult<Box<dyn DataReader>> {
        let handle = self
            .call(call::OpenData {
                bucket: bucket.into(),
                key: key.into(),
                data_dir,
            })
            .await?;
        Ok(Box::new(RemoteData(self.handle(handle))))
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
        self.call(call::WriteUpload {
            bucket: bucket.into(),
            upload_id,
            meta: ByteBuf::from(meta),
        })
        .await
    }

    async fn read_upload(&self, bucket: &str, upload_id: Uuid) -> DriveResult<Vec<u8>> {
        let bucket = bucket.into();
        let meta = self.call(call::ReadUpload { bucket, upload_id }).await?;
        Ok(meta.into_vec())
    }

    async fn list_uploads(&self, bucket: &str) -> DriveResult<Vec<Vec<u8>>> {
        let bucket = bucket.into();
        let uploads = self.call(call::ListUploads { bucket }).await?;
        Ok(uploads.into_iter().map(ByteBuf::into_vec).collect())
    }

    async fn commit_part(
        &self,
        bucket: &str,
        upload_id: Uuid,
        part: &PartRecord,
        tmp_id: Uuid,
    ) -> DriveResult<()> {
        self.call(call::CommitPart {
            bucket: bucket.into(),
            upload_id,
            part: part.clone(),
            tmp_id,
        })
        .await
    }

    async fn list_parts(&self, bucket: &str, upload_id: Uuid) -> DriveResult<Vec<PartRecord>> {
        let bucket = bucket.into();
        self.call(call::ListParts { bucket, upload_id }).await
    }

    async fn delete_upload(&self, bucket: &str, upload_id: Uuid) -> DriveResult<()> {
        let bucket = bucket.into();
        self.call(call::DeleteUpload { bucket, upload_id }).await
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
