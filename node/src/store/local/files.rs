//! The local drive's open files: shard writers, readers of pinned data dirs, and the sweeper
//! that settles stale undo records and empties the trash.

use super::paths::Fs;
use super::pins::{PinnedDir, Pins};
use crate::store::{DataReader, DriveError, DriveResult, ShardReader, ShardWriter};
use async_trait::async_trait;
use std::fs;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

/// Settles undo records older than `stale` and removes trash no reader holds.
pub(super) fn sweep(fs: &Fs, pins: &Pins, stale: Duration) {
    let undo = fs.sys().join("undo");
    if let Ok(entries) = std::fs::read_dir(&undo) {
        for e in entries.flatten() {
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age >= stale);
            let id = e.file_name().to_str().and_then(|n| Uuid::parse_str(n).ok());
            match id {
                Some(id) if old => {
                    let _ = fs.finish_commit(pins, id);
                }
                None => {
                    let _ = std::fs::remove_dir_all(e.path());
                }
                _ => {}
            }
        }
    }
    pins.sweep(&fs.trash());
}

pub(super) struct LocalWriter {
    pub(super) file: tokio::fs::File,
    pub(super) fs: Fs,
}

#[async_trait]
impl ShardWriter for LocalWriter {
    async fn write(&mut self, buf: &[u8]) -> DriveResult<()> {
        self.file.write_all(buf).await.map_err(|e| self.fs.err(e))
    }
    async fn finish(mut self: Box<Self>) -> DriveResult<()> {
        self.file.flush().await.map_err(|e| self.fs.err(e))?;
        self.file.sync_all().await.map_err(|e| self.fs.err(e))
    }
}

/// An open shard file; holds the pin of its version's data dir.
struct LocalReader {
    file: Arc<fs::File>,
    fs: Fs,
    _pin: Arc<PinnedDir>,
}

#[async_trait]
impl ShardReader for LocalReader {
    async fn read_at(&self, offset: u64, len: usize) -> DriveResult<Vec<u8>> {
        let file = self.file.clone();
        let fs = self.fs.clone();
        tokio::task::spawn_blocking(move || {
            let mut buf = vec![0u8; len];
            file.read_exact_at(&mut buf, offset)
                .map_err(|e| match e.kind() {
                    io::ErrorKind::UnexpectedEof => {
                        DriveError::Corrupt(format!("shard on {} is truncated", fs.label))
                    }
                    _ => fs.err(e),
                })?;
            Ok(buf)
        })
        .await
        .map_err(|e| DriveError::Io {
            drive: self.fs.label.clone(),
            source: io::Error::other(e),
        })?
    }
}

/// A version's data dir, pinned.
pub(super) struct LocalData {
    pub(super) dir: Arc<PinnedDir>,
    pub(super) fs: Fs,
}

#[async_trait]
impl DataReader for LocalData {
    async fn open_part(&self, part: u32) -> DriveResult<Box<dyn ShardReader>> {
        let (dir, fs) = (self.dir.clone(), self.fs.clone());
        let r = tokio::task::spawn_blocking(move || {
            let file = dir.open(&format!("part.{part}")).map_err(|e| fs.err(e))?;
            Ok(Box::new(LocalReader {
                file: Arc::new(file),
                fs,
                _pin: dir,
            }) as Box<dyn ShardReader>)
        })
        .await;
        r.map_err(|e| DriveError::Io {
            drive: self.fs.label.clone(),
            source: io::Error::other(e),
        })?
    }
}
