//! The streams of a remote drive: a shard upload as MACed frames in one request, and the handles
//! (pinned data dirs, open shards) the peer holds for this node until they are dropped.

use crate::rpc::auth::StreamMac;
use crate::rpc::calls::call;
use crate::rpc::client::{Deadline, Peer};
use crate::rpc::wire::{self, WireError};
use crate::store::{DataReader, DriveError, DriveResult, ShardReader, ShardWriter};
use async_trait::async_trait;
use bytes::Bytes;
use futures::SinkExt;

/// Streams one shard file to the peer in a single request, as MACed frames ending with an empty
/// one; the answer comes after the peer has fsynced it.
pub(super) struct RemoteWriter {
    pub(super) tx: Option<futures::channel::mpsc::Sender<Result<Bytes, std::io::Error>>>,
    pub(super) done: tokio::task::JoinHandle<DriveResult<()>>,
    pub(super) peer: Peer,
    pub(super) mac: StreamMac,
    pub(super) seq: u64,
}

impl RemoteWriter {
    /// `data` as the next frame: length, data, MAC.
    fn frame(&mut self, data: &[u8]) -> Bytes {
        let mut out = Vec::with_capacity(4 + data.len() + crate::rpc::auth::FRAME_MAC_LEN);
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(data);
        out.extend_from_slice(&self.mac.frame_mac(self.seq, data));
        self.seq += 1;
        Bytes::from(out)
    }

    /// Sends one frame within the RPC deadline.
    async fn send_frame(&mut self, data: &[u8]) -> DriveResult<()> {
        let frame = self.frame(data);
        let Some(tx) = self.tx.as_mut() else {
            return Err(self.outcome().await);
        };
        match tokio::time::timeout(self.peer.timeout(), tx.send(Ok(frame))).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(self.outcome().await),
            Err(_) => {
                self.peer
                    .mark_offline("shard stream stalled past the RPC deadline");
                self.done.abort();
                Err(DriveError::Offline(format!("node {}", self.peer.addr())))
            }
        }
    }
}

impl RemoteWriter {
    /// The request's own outcome, when the stream broke early.
    async fn outcome(&mut self) -> DriveError {
        self.tx = None;
        match tokio::time::timeout(self.peer.timeout(), &mut self.done).await {
            Ok(Ok(Err(e))) => e,
            _ => DriveError::Offline(format!("node {} (shard stream broke)", self.peer.addr())),
        }
    }
}

#[async_trait]
impl ShardWriter for RemoteWriter {
    async fn write(&mut self, buf: &[u8]) -> DriveResult<()> {
        for chunk in buf.chunks(crate::rpc::wire::MAX_FRAME_BYTES) {
            if !chunk.is_empty() {
                self.send_frame(chunk).await?;
            }
        }
        Ok(())
    }

    async fn finish(mut self: Box<Self>) -> DriveResult<()> {
        self.send_frame(&[]).await?;
        self.tx = None;
        match tokio::time::timeout(self.peer.timeout(), &mut self.done).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => Err(DriveError::Offline(format!(
                "node {} (shard upload task failed: {e})",
                self.peer.addr()
            ))),
            Err(_) => {
                self.done.abort();
                self.peer
                    .mark_offline("no answer to a shard upload within the RPC deadline");
                Err(DriveError::Offline(format!("node {}", self.peer.addr())))
            }
        }
    }
}

impl Drop for RemoteWriter {
    fn drop(&mut self) {
        self.done.abort();
    }
}

/// A handle the peer holds open for this node; closed when dropped.
pub(super) struct RemoteHandle {
    pub(super) peer: Peer,
    pub(super) handle: u64,
    pub(super) path: String,
    pub(super) label: String,
}

impl Drop for RemoteHandle {
    fn drop(&mut self) {
        let (peer, path, handle) = (self.peer.clone(), self.path.clone(), self.handle);
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let _ = peer
                    .drive_call(&path, call::CloseHandle { handle }, None)
                    .await;
            });
        }
    }
}

/// Reads a shard the peer has opened.
pub(super) struct RemoteReader(pub(super) RemoteHandle);

/// A data dir the peer has pinned.
pub(super) struct RemoteData(pub(super) RemoteHandle);

#[async_trait]
impl DataReader for RemoteData {
    async fn open_part(&self, part: u32) -> DriveResult<Box<dyn ShardReader>> {
        let h = &self.0;
        let c = call::OpenPart {
            handle: h.handle,
            part,
        };
        let handle = h.peer.drive_call(&h.path, c, None).await?;
        Ok(Box::new(RemoteReader(RemoteHandle {
            peer: h.peer.clone(),
            handle,
            path: h.path.clone(),
            label: h.label.clone(),
        })))
    }
}

#[async_trait]
impl ShardReader for RemoteReader {
    async fn read_at(&self, offset: u64, len: usize) -> DriveResult<Vec<u8>> {
        let h = &self.0;
        let url = format!("/read?handle={}&offset={offset}&len={len}", h.handle);
        let r = h
            .peer
            .send(
                h.peer.request(reqwest::Method::GET, &url, Vec::new()),
                Deadline::Total,
            )
            .await?;
        let status = r.status();
        let body = h.peer.body(r).await?;
        if status.is_success() {
            return Ok(body.to_vec());
        }
        match wire::decode::<WireError>(&body) {
            Ok(e) => Err(e.into()),
            Err(_) => Err(DriveError::Io {
                drive: h.label.clone(),
                source: std::io::Error::other(format!("shard read answered {status}")),
            }),
        }
    }
}
