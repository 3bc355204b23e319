//! A drive on this machine: a directory, one per physical disk in production.
//!
//! [`paths`] builds every path (from checked names only), [`durable`] orders fsync, mkdir and
//! rename, [`commit`] makes versions part of objects and takes them out, [`walk`] lists,
//! [`uploads`] stages multipart uploads, [`pins`] keeps the data dirs readers hold, and [`files`]
//! holds open shard files and the sweeper.
//! Blocking file-system work runs on tokio's blocking pool.

mod commit;
mod durable;
mod files;
mod paths;
mod pins;
mod uploads;
mod walk;

pub(crate) use paths::check_file_name;

use super::format::Format;
use super::meta::{MetaSel, ObjectMeta, ObjectVersion, VersionAttrs};
use super::uploads::PartRecord;
use super::{
    BucketInfo, CommitSource, DataReader, DiskInfo, Drive, DriveError, DriveResult, PartState,
    ShardWriter, WalkEntry, WalkRequest, SYS_DIR,
};
use async_trait::async_trait;
use files::{sweep, LocalData, LocalWriter};
use paths::{Fs, FORMAT_FILE};
use pins::Pins;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;
use uuid::Uuid;

/// How often released trash and unsettled undo records are cleaned up.
const SWEEP_INTERVAL: Duration = Duration::from_secs(30);
/// An undo record older than this was never settled (its writer died): it is settled.
const UNDO_STALE: Duration = Duration::from_secs(600);

pub struct LocalDrive {
    fs: Fs,
    pins: Arc<Pins>,
    online: AtomicBool,
    online_checked_millis: AtomicU64,
    metrics: crate::metrics::DriveHandles,
}

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl LocalDrive {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        let label = root.display().to_string();
        let fs = Fs { root, label };
        let pins = Arc::new(Pins::default());
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let (fs, pins) = (fs.clone(), Arc::downgrade(&pins));
            rt.spawn(async move {
                let mut tick = tokio::time::interval(SWEEP_INTERVAL);
                tick.tick().await;
                loop {
                    tick.tick().await;
                    let Some(pins) = pins.upgrade() else { break };
                    let fs = fs.clone();
                    let _ =
                        tokio::task::spawn_blocking(move || sweep(&fs, &pins, UNDO_STALE)).await;
                }
            });
        }
        LocalDrive {
            metrics: crate::metrics::global().drive_handles(&fs.label),
            fs,
            pins,
            online: AtomicBool::new(true),
            online_checked_millis: AtomicU64::new(0),
        }
    }

    pub fn root(&self) -> &Path {
        &self.fs.root
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(Fs, Arc<Pins>) -> DriveResult<T> + Send + 'static,
    ) -> DriveResult<T> {
        let (fs, pins) = (self.fs.clone(), self.pins.clone());
        let label = self.fs.label.clone();
        let timer = self.metrics.duration.start_timer();
        let r = match tokio::task::spawn_blocking(move || f(fs, pins)).await {
            Ok(r) => r,
            Err(e) => Err(DriveError::Io {
                drive: label,
                source: io::Error::other(e),
            }),
        };
        timer.observe_duration();
        r
    }

    /// Prepares the system directory: clears leftovers of interrupted writes, settles undo
    /// records of commits that were in flight, and empties the trash.
    pub fn prepare(&self) -> io::Result<()> {
        let sys = self.fs.sys();
        let tmp = sys.join("tmp");
        if tmp.exists() {
            fs::remove_dir_all(&tmp)?;
        }
        fs::create_dir_all(&tmp)?;
        fs::create_dir_all(sys.join("buckets"))?;
        fs::create_dir_all(sys.join("multipart"))?;
        fs::create_dir_all(sys.join("undo"))?;
        fs::create_dir_all(self.fs.root.join(super::SYS_BUCKET))?;
        sweep(&self.fs, &self.pins, Duration::ZERO);
        Ok(())
    }
}

#[async_trait]
impl Drive for LocalDrive {
    fn endpoint(&self) -> &str {
        &self.fs.label
    }

    fn local_root(&self) -> Option<&Path> {
        Some(&self.fs.root)
    }

    async fn is_online(&self) -> bool {
        let now = now_millis();
        if now.saturating_sub(self.online_checked_millis.load(Ordering::Relaxed)) < 1000 {
            return self.online.load(Ordering::Relaxed);
        }
        let path = self.fs.sys().join(FORMAT_FILE);
        let ok = tokio::task::spawn_blocking(move || path.is_file())
            .await
            .unwrap_or(false);
        self.online.store(ok, Ordering::Relaxed);
        self.online_checked_millis.store(now, Ordering::Relaxed);
        ok
    }

    async fn disk_info(&self) -> DriveResult<DiskInfo> {
        self.run(|fs, _| statvfs(&fs.root).map_err(|e| fs.err(e)))
            .await
    }

    async fn read_format(&self) -> DriveResult<Option<Format>> {
        self.run(|fs, _| match std::fs::read(fs.sys().join(FORMAT_FILE)) {
            Ok(b) => {
                let bad = |e: String| {
                    DriveError::Corrupt(format!("{}/{SYS_DIR}/{FORMAT_FILE}: {e}", fs.label))
                };
                let f: Format = serde_json::from_slice(&b).map_err(|e| bad(e.to_string()))?;
                f.check().map_err(bad)?;
                Ok(Some(f))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(fs.err(e)),
        })
        .await
    }

    async fn write_format(&self, format: &Format) -> DriveResult<()> {
        let data = serde_json::to_vec_pretty(format).expect("format serializes");
        self.run(move |fs, _| fs.write_atomic(&fs.sys().join(FORMAT_FILE), &data))
            .await?;
        self.online_checked_millis.store(0, Ordering::Relaxed);
        Ok(())
    }

    async fn read_sys_file(&self, name: &str) -> DriveResult<Vec<u8>> {
        let name = name.to_string();
        self.run(move |fs, _| std::fs::read(fs.sys_file(&name)?).map_err(|e| fs.err(e)))
            .await
    }

    async fn write_sys_file(&self, name: &str, data: &[u8]) -> DriveResult<()> {
        let (name, data) = (name.to_string(), data.to_vec());
        self.run(move |fs, _| fs.write_atomic(&fs.sys_file(&name)?, &data))
            .await
    }

    async fn make_bucket(&self, bucket: &str, created_nanos: i64) -> DriveResult<()> {
        let bucket = bucket.to_string();
        self.run(move |fs, _| {
            let dir = fs.bucket(&bucket)?;
            match std::fs::create_dir(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    return Err(DriveError::BucketExists)
                }
                Err(e) => return Err(fs.err(e)),
            }
            durable::sync_dir(&fs.root).map_err(|e| fs.err(e))?;
            let info = serde_json::json!({ "name": bucket, "created_nanos": created_nanos });
            fs.write_atomic(&fs.bucket_record(&bucket)?, info.to_string().as_bytes())
        })
        .await
    }

    async fn list_buckets(&self) -> DriveResult<Vec<BucketInfo>> {
        self.run(|fs, _| {
            let mut out = Vec::new();
            for (name, is_dir) in fs.read_dir_names(&fs.root).map_err(|e| fs.err(e))? {
                if is_dir && name != SYS_DIR && rustfs_common::names::check_bucket(&name).is_ok() {
                    out.push(bucket_info(&fs, &name)?);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn stat_bucket(&self, bucket: &str) -> DriveResult<BucketInfo> {
        let bucket = bucket.to_string();
        self.run(move |fs, _| bucket_info(&fs, &bucket)).await
    }

    async fn delete_bucket(&self, bucket: &str) -> DriveResult<()> {
        let bucket = bucket.to_string();
        self.run(move |fs, _| {
            fs.check_bucket(&bucket)?;
            let dir = fs.bucket(&bucket)?;
            if std::fs::read_dir(&dir)
                .map_err(|e| fs.err(e))?
                .next()
                .is_some()
            {
                return Err(DriveError::BucketNotEmpty);
            }
            std::fs::remove_dir(&dir).map_err(|e| fs.err(e))?;
            durable::sync_dir(&fs.root).map_err(|e| fs.err(e))?;
            let _ = std::fs::remove_file(fs.bucket_record(&bucket)?);
            let _ = std::fs::remove_dir_all(fs.uploads(&bucket)?);
            Ok(())
        })
        .await
    }

    async fn read_versions(
        &self,
        bucket: &str,
        key: &str,
        sel: MetaSel,
    ) -> DriveResult<ObjectMeta> {
        let (bucket, key) = (bucket.to_string(), key.to_string());
        self.run(move |fs, _| fs.read_versions(&bucket, &key, sel))
            .await
    }

    async fn create_writer(&self, tmp_id: Uuid, name: &str) -> DriveResult<Box<dyn ShardWriter>> {
        check_file_name(name)?;
        let fs = self.fs.clone();
        let dir = fs.tmp(tmp_id);
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| fs.err(e))?;
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(dir.join(name))
            .await
            .map_err(|e| fs.err(e))?;
        Ok(Box::new(LocalWriter { file, fs }))
    }

    async fn remove_tmp(&self, tmp_id: Uuid) -> DriveResult<()> {
        self.run(move |fs, _| match std::fs::remove_dir_all(fs.tmp(tmp_id)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(fs.err(e)),
            _ => Ok(()),
        })
        .await
    }

    async fn commit(
        &self,
        bucket: &str,
        key: &str,
        src: CommitSource,
        version: ObjectVersion,
        commit_id: Uuid,
    ) -> DriveResult<bool> {
        let (bucket, key) = (bucket.to_string(), key.to_string());
        self.run(move |fs, pins| fs.commit(&pins, &bucket, &key, src, version, commit_id))
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
        let (bucket, key, version) = (bucket.to_string(), key.to_string(), version.clone());
        self.run(move |fs, pins| fs.undo_commit(&pins, &bucket, &key, commit_id, &version, kept))
            .await
    }

    async fn finish_commit(&self, commit_id: Uuid) -> DriveResult<()> {
        self.run(move |fs, pins| fs.finish_commit(&pins, commit_id))
            .await
    }

    async fn update_attrs(
        &self,
        bucket: &str,
        key: &str,
        id: Option<Uuid>,
        mod_time_nanos: i64,
        attrs: VersionAttrs,
    ) -> DriveResult<()> {
        let (bucket, key) = (bucket.to_string(), key.to_string());
        self.run(move |fs, _| fs.update_attrs(&bucket, &key, id, mod_time_nanos, attrs))
            .await
    }

    async fn delete_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<Uuid>,
    ) -> DriveResult<()> {
        let (bucket, key) = (bucket.to_string(), key.to_string());
        self.run(move |fs, pins| fs.delete_version(&pins, &bucket, &key, version_id))
            .await
    }

    async fn open_data(
        &self,
        bucket: &str,
        key: &str,
        data_dir: Uuid,
    ) -> DriveResult<Box<dyn DataReader>> {
        let (bucket, key) = (bucket.to_string(), key.to_string());
        self.run(move |fs, pins| {
            let path = fs.object(&bucket, &key)?.join(data_dir.to_string());
            let dir = pins.pin(&path).map_err(|e| fs.err(e))?;
            Ok(Box::new(LocalData {
                dir: Arc::new(dir),
                fs,
            }) as Box<dyn DataReader>)
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
        let Some(dd) = version.data_dir else {
            return Ok(Vec::new());
        };
        let (bucket, key, version) = (bucket.to_string(), key.to_string(), version.clone());
        self.run(move |fs, _| {
            fs.check_bucket(&bucket)?;
            let dir = fs.object(&bucket, &key)?.join(dd.to_string());
            Ok(super::verify::check_parts(&dir, &version, deep))
        })
        .await
    }

    async fn walk(
        &self,
        bucket: &str,
        req: WalkRequest,
    ) -> DriveResult<mpsc::Receiver<DriveResult<WalkEntry>>> {
        let bucket = bucket.to_string();
        let fs = self.fs.clone();
        let (tx, rx) = mpsc::channel(256);
        self.run({
            let bucket = bucket.clone();
            move |fs, _| fs.check_bucket(&bucket)
        })
        .await?;
        tokio::task::spawn_blocking(move || fs.walk(&bucket, &req, &tx));
        Ok(rx)
    }

    async fn write_upload(&self, bucket: &str, upload_id: Uuid, meta: &[u8]) -> DriveResult<()> {
        let (bucket, meta) = (bucket.to_string(), meta.to_vec());
        self.run(move |fs, _| fs.write_upload(&bucket, upload_id, &meta))
            .await
    }

    async fn read_upload(&self, bucket: &str, upload_id: Uuid) -> DriveResult<Vec<u8>> {
        let bucket = bucket.to_string();
        self.run(move |fs, _| fs.read_upload(&bucket, upload_id))
            .await
    }

    async fn list_uploads(&self, bucket: &str) -> DriveResult<Vec<Vec<u8>>> {
        let bucket = bucket.to_string();
        self.run(move |fs, _| fs.list_uploads(&bucket)).await
    }

    async fn commit_part(
        &self,
        bucket: &str,
        upload_id: Uuid,
        part: &PartRecord,
        tmp_id: Uuid,
    ) -> DriveResult<()> {
        let (bucket, part) = (bucket.to_string(), part.clone());
        self.run(move |fs, _| fs.commit_part(&bucket, upload_id, &part, tmp_id))
            .await
    }

    async fn list_parts(&self, bucket: &str, upload_id: Uuid) -> DriveResult<Vec<PartRecord>> {
        let bucket = bucket.to_string();
        self.run(move |fs, _| fs.list_parts(&bucket, upload_id))
            .await
    }

    async fn delete_upload(&self, bucket: &str, upload_id: Uuid) -> DriveResult<()> {
        let bucket = bucket.to_string();
        self.run(move |fs, _| fs.delete_upload(&bucket, upload_id))
            .await
    }
}

fn bucket_info(fs: &Fs, name: &str) -> DriveResult<BucketInfo> {
    fs.check_bucket(name)?;
    let created_nanos = std::fs::read(fs.bucket_record(name)?)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v.get("created_nanos").and_then(serde_json::Value::as_i64))
        .unwrap_or_else(|| {
            std::fs::metadata(fs.root.join(name))
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_nanos() as i64)
                .unwrap_or(0)
        });
    Ok(BucketInfo {
        name: name.into(),
        created_nanos,
    })
}

/// Capacity of the file system holding `path`.
fn statvfs(path: &Path) -> io::Result<DiskInfo> {
    let st = rustix::fs::statvfs(path)?;
    let frsize = st.f_frsize;
    let total = st.f_blocks * frsize;
    let free = st.f_bavail * frsize;
    Ok(DiskInfo {
        total_bytes: total,
        free_bytes: free,
        used_bytes: total.saturating_sub(st.f_bfree * frsize),
    })
}
