//! A drive on this machine: a directory, one per physical disk in production.
//!
//! Every mutation is write-to-temp (under `.rustfs.sys/tmp`), fsync, rename, fsync the parent, so a
//! crash leaves either the old or the new state and never a half-written file in place.

use super::format::Format;
use super::meta::{ObjectMeta, ObjectVersion};
use super::{
    BucketInfo, CommitSource, DiskInfo, Drive, DriveError, DriveResult, PartState, ShardReader,
    ShardWriter, WalkEntry, WalkRequest, SYS_DIR,
};
use async_trait::async_trait;
use rustfs_common::names::{dir_key, key_dir, META_FILE};
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use uuid::Uuid;

const FORMAT_FILE: &str = "format.json";
const UPLOAD_FILE: &str = "upload.json";

pub struct LocalDrive {
    root: PathBuf,
    label: String,
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

/// Pure file-system helpers, run on the blocking pool.
#[derive(Clone)]
struct Fs {
    root: PathBuf,
    label: String,
}

impl Fs {
    fn sys(&self) -> PathBuf {
        self.root.join(SYS_DIR)
    }
    fn tmp(&self, id: Uuid) -> PathBuf {
        self.sys().join("tmp").join(id.to_string())
    }
    fn bucket(&self, bucket: &str) -> PathBuf {
        self.root.join(bucket)
    }
    fn object(&self, bucket: &str, key: &str) -> PathBuf {
        self.root.join(bucket).join(key_dir(key))
    }
    fn upload(&self, bucket: &str, id: Uuid) -> PathBuf {
        self.sys()
            .join("multipart")
            .join(bucket)
            .join(id.to_string())
    }

    /// Maps an I/O error: ENOSPC is a full drive, ENOENT/ENOTDIR is `NotFound` unless the drive
    /// itself has gone (then `Offline`), anything else is an I/O error naming the drive.
    fn err(&self, e: io::Error) -> DriveError {
        let mapped = self.map_err(e);
        if !matches!(mapped, DriveError::NotFound) {
            crate::metrics::global()
                .drive
                .io_errors
                .with_label_values(&[&self.label])
                .inc();
        }
        mapped
    }

    fn map_err(&self, e: io::Error) -> DriveError {
        match e.kind() {
            io::ErrorKind::StorageFull => DriveError::DiskFull,
            io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => {
                if self.sys().join(FORMAT_FILE).exists() {
                    DriveError::NotFound
                } else {
                    DriveError::Offline(self.label.clone())
                }
            }
            _ if e.raw_os_error() == Some(libc::ENOSPC)
                || e.raw_os_error() == Some(libc::EDQUOT) =>
            {
                DriveError::DiskFull
            }
            _ => DriveError::Io {
                drive: self.label.clone(),
                source: e,
            },
        }
    }

    fn check_bucket(&self, bucket: &str) -> DriveResult<()> {
        match fs::metadata(self.bucket(bucket)) {
            Ok(m) if m.is_dir() => Ok(()),
            Ok(_) => Err(DriveError::BucketNotFound),
            Err(e) => match self.err(e) {
                DriveError::NotFound => Err(DriveError::BucketNotFound),
                other => Err(other),
            },
        }
    }

    fn sync_dir(dir: &Path) -> io::Result<()> {
        fs::File::open(dir)?.sync_all()
    }

    /// Writes `data` to `path` atomically and durably.
    fn write_atomic(&self, path: &Path, data: &[u8]) -> DriveResult<()> {
        let tmp = self.sys().join("tmp").join(Uuid::new_v4().to_string());
        let run = || -> io::Result<()> {
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)?;
            f.write_all(data)?;
            f.sync_all()?;
            let parent = path.parent().expect("paths under a drive have parents");
            fs::create_dir_all(parent)?;
            fs::rename(&tmp, path)?;
            Self::sync_dir(parent)
        };
        run().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            self.err(e)
        })
    }

    fn read_meta(&self, bucket: &str, key: &str) -> DriveResult<ObjectMeta> {
        let path = self.object(bucket, key).join(META_FILE);
        match fs::read(&path) {
            Ok(buf) => ObjectMeta::decode(&buf)
                .map_err(|e| DriveError::Corrupt(format!("{}: {e}", path.display()))),
            Err(e) => match self.err(e) {
                DriveError::NotFound => {
                    self.check_bucket(bucket)?;
                    Err(DriveError::NotFound)
                }
                other => Err(other),
            },
        }
    }

    fn commit(
        &self,
        bucket: &str,
        key: &str,
        src: CommitSource,
        version: ObjectVersion,
    ) -> DriveResult<()> {
        self.check_bucket(bucket)?;
        let dir = self.object(bucket, key);
        let mut meta = match self.read_meta(bucket, key) {
            Ok(m) => m,
            Err(DriveError::NotFound | DriveError::Corrupt(_)) => ObjectMeta::default(),
            Err(e) => return Err(e),
        };
        if let Some(dd) = version.data_dir {
            let dst = dir.join(dd.to_string());
            fs::create_dir_all(&dir).map_err(|e| self.err(e))?;
            match src {
                CommitSource::None => {}
                CommitSource::Tmp(id) => {
                    // A heal rewrites a version's data dir in place: the broken copy goes first
                    // (readers that pinned its files keep them until they close).
                    if dst.exists() {
                        fs::remove_dir_all(&dst).map_err(|e| self.err(e))?;
                    }
                    fs::rename(self.tmp(id), &dst).map_err(|e| self.err(e))?
                }
                CommitSource::Upload(id) => {
                    let up = self.upload(bucket, id);
                    fs::create_dir_all(&dst).map_err(|e| self.err(e))?;
                    for p in &version.parts {
                        let name = format!("part.{}", p.number);
                        fs::rename(up.join(&name), dst.join(&name)).map_err(|e| self.err(e))?;
                    }
                    let _ = fs::remove_dir_all(&up);
                }
            }
        }
        let freed = meta.add_version(version);
        self.write_atomic(&dir.join(META_FILE), &meta.encode())?;
        for d in freed {
            let _ = fs::remove_dir_all(dir.join(d.to_string()));
        }
        Ok(())
    }

    fn delete_version(&self, bucket: &str, key: &str, version_id: Option<Uuid>) -> DriveResult<()> {
        let mut meta = self.read_meta(bucket, key)?;
        let removed = meta
            .remove_version(version_id)
            .ok_or(DriveError::NotFound)?;
        let dir = self.object(bucket, key);
        if meta.versions.is_empty() {
            fs::remove_file(dir.join(META_FILE)).map_err(|e| self.err(e))?;
        } else {
            self.write_atomic(&dir.join(META_FILE), &meta.encode())?;
        }
        if let Some(dd) = removed.data_dir {
            let _ = fs::remove_dir_all(dir.join(dd.to_string()));
        }
        // Prune now-empty directories up to (not including) the bucket.
        let stop = self.bucket(bucket);
        let mut cur = Some(dir.as_path());
        while let Some(d) = cur {
            if d == stop || fs::remove_dir(d).is_err() {
                break;
            }
            cur = d.parent();
        }
        Ok(())
    }

    fn bucket_info(&self, name: &str) -> DriveResult<BucketInfo> {
        self.check_bucket(name)?;
        let created_nanos = fs::read(self.sys().join("buckets").join(format!("{name}.json")))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v.get("created_nanos").and_then(serde_json::Value::as_i64))
            .unwrap_or_else(|| {
                fs::metadata(self.bucket(name))
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

    fn read_dir_names(&self, dir: &Path) -> io::Result<Vec<(String, bool)>> {
        let mut out = Vec::new();
        for e in fs::read_dir(dir)? {
            let e = e?;
            let Ok(name) = e.file_name().into_string() else {
                continue;
            };
            let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
            out.push((name, is_dir));
        }
        Ok(out)
    }

    /// Walks `bucket` in key order, sending entries until the receiver goes away.
    fn walk(&self, bucket: &str, req: &WalkRequest, tx: &mpsc::Sender<DriveResult<WalkEntry>>) {
        let (base, filter) = match req.prefix.rfind('/') {
            Some(i) => (&req.prefix[..=i], &req.prefix[i + 1..]),
            None => ("", req.prefix.as_str()),
        };
        let dir = self.bucket(bucket).join(base.trim_end_matches('/'));
        // A directory object equal to the prefix ("dir/") lives beside the directory, not in it.
        if filter.is_empty()
            && !base.is_empty()
            && req.start_after.as_deref().is_none_or(|a| a < base)
        {
            if let Ok(buf) = fs::read(self.object(bucket, base).join(META_FILE)) {
                let entry = ObjectMeta::decode(&buf)
                    .map(|meta| WalkEntry::Object {
                        key: base.to_string(),
                        meta,
                    })
                    .map_err(|e| DriveError::Corrupt(e.to_string()));
                if tx.blocking_send(entry).is_err() {
                    return;
                }
            }
        }
        if let Err(e) = self.walk_dir(&dir, base, filter, req, tx) {
            if e.kind() != io::ErrorKind::NotFound {
                let _ = tx.blocking_send(Err(self.err(e)));
            }
        }
    }

    /// Returns `Ok(false)` when the receiver is gone (stop walking).
    fn walk_dir(
        &self,
        dir: &Path,
        base: &str,
        filter: &str,
        req: &WalkRequest,
        tx: &mpsc::Sender<DriveResult<WalkEntry>>,
    ) -> io::Result<bool> {
        let entries = self.read_dir_names(dir)?;
        let is_object_dir = entries.iter().any(|(n, d)| !d && n == META_FILE);
        // (sort key, is_descend, dir name)
        let mut items: Vec<(String, bool, String)> = Vec::new();
        for (name, is_dir) in entries {
            if !is_dir || (base.is_empty() && name == SYS_DIR) {
                continue;
            }
            if is_object_dir
                && Uuid::parse_str(&name).is_ok()
                && !dir.join(&name).join(META_FILE).exists()
            {
                continue; // a data dir of the object stored here
            }
            let key_part = dir_key(&name);
            if !key_part.starts_with(filter) {
                continue;
            }
            if key_part.ends_with('/') {
                items.push((key_part, false, name));
            } else {
                items.push((key_part.clone(), false, name.clone()));
                items.push((format!("{key_part}/"), true, name));
            }
        }
        items.sort();
        let after = req.start_after.as_deref().unwrap_or("");
        for (sort_key, descend, name) in items {
            let full = format!("{base}{sort_key}");
            let path = dir.join(&name);
            if descend {
                if !after.is_empty() && full.as_str() <= after && !after.starts_with(&full) {
                    continue;
                }
                if req.recursive {
                    if !self.walk_dir(&path, &full, "", req, tx)? {
                        return Ok(false);
                    }
                } else if full.as_str() > after
                    && self.has_children(&path)
                    && tx.blocking_send(Ok(WalkEntry::Prefix(full))).is_err()
                {
                    return Ok(false);
                }
            } else {
                if full.as_str() <= after {
                    continue;
                }
                if !req.recursive && full.ends_with('/') {
                    // "dir/" rolls up into the common prefix "dir/" (reported by the descend item).
                    if !dir.join(dir_key_name(&sort_key)).exists()
                        && tx.blocking_send(Ok(WalkEntry::Prefix(full))).is_err()
                    {
                        return Ok(false);
                    }
                    continue;
                }
                let meta_path = path.join(META_FILE);
                let entry = match fs::read(&meta_path) {
                    Ok(buf) => match ObjectMeta::decode(&buf) {
                        Ok(meta) => Ok(WalkEntry::Object { key: full, meta }),
                        Err(e) => Err(DriveError::Corrupt(format!("{}: {e}", meta_path.display()))),
                    },
                    Err(_) => continue, // a plain directory, not an object
                };
                if tx.blocking_send(entry).is_err() {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    /// True when `dir` holds anything besides an object's own meta and data dirs.
    fn has_children(&self, dir: &Path) -> bool {
        let Ok(entries) = self.read_dir_names(dir) else {
            return false;
        };
        let is_object_dir = entries.iter().any(|(n, d)| !d && n == META_FILE);
        entries.iter().any(|(n, d)| {
            *d && !(is_object_dir
                && Uuid::parse_str(n).is_ok()
                && !dir.join(n).join(META_FILE).exists())
        })
    }
}

impl LocalDrive {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        let label = root.display().to_string();
        LocalDrive {
            metrics: crate::metrics::global().drive_handles(&label),
            label,
            root,
            online: AtomicBool::new(true),
            online_checked_millis: AtomicU64::new(0),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn fs(&self) -> Fs {
        Fs {
            root: self.root.clone(),
            label: self.label.clone(),
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(Fs) -> DriveResult<T> + Send + 'static,
    ) -> DriveResult<T> {
        let fs = self.fs();
        let label = self.label.clone();
        let timer = self.metrics.duration.start_timer();
        let r = match tokio::task::spawn_blocking(move || f(fs)).await {
            Ok(r) => r,
            Err(e) => Err(DriveError::Io {
                drive: label,
                source: io::Error::other(e),
            }),
        };
        timer.observe_duration();
        r
    }

    /// Prepares the system directory and clears leftovers of interrupted writes.
    pub fn prepare(&self) -> io::Result<()> {
        let sys = self.root.join(SYS_DIR);
        let tmp = sys.join("tmp");
        if tmp.exists() {
            fs::remove_dir_all(&tmp)?;
        }
        fs::create_dir_all(&tmp)?;
        fs::create_dir_all(sys.join("buckets"))?;
        fs::create_dir_all(sys.join("multipart"))
    }
}

struct LocalWriter {
    file: tokio::fs::File,
    fs: Fs,
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

struct LocalReader {
    file: Arc<fs::File>,
    fs: Fs,
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

#[async_trait]
impl Drive for LocalDrive {
    fn endpoint(&self) -> &str {
        &self.label
    }

    fn local_root(&self) -> Option<&Path> {
        Some(&self.root)
    }

    async fn is_online(&self) -> bool {
        let now = now_millis();
        if now.saturating_sub(self.online_checked_millis.load(Ordering::Relaxed)) < 1000 {
            return self.online.load(Ordering::Relaxed);
        }
        let path = self.root.join(SYS_DIR).join(FORMAT_FILE);
        let ok = tokio::task::spawn_blocking(move || path.is_file())
            .await
            .unwrap_or(false);
        self.online.store(ok, Ordering::Relaxed);
        self.online_checked_millis.store(now, Ordering::Relaxed);
        ok
    }

    async fn disk_info(&self) -> DriveResult<DiskInfo> {
        let root = self.root.clone();
        self.run(move |fs| statvfs(&root).map_err(|e| fs.err(e)))
            .await
    }

    async fn read_format(&self) -> DriveResult<Option<Format>> {
        self.run(|fs| match std::fs::read(fs.sys().join(FORMAT_FILE)) {
            Ok(b) => serde_json::from_slice(&b).map(Some).map_err(|e| {
                DriveError::Corrupt(format!("{}/{SYS_DIR}/{FORMAT_FILE}: {e}", fs.label))
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(fs.err(e)),
        })
        .await
    }

    async fn write_format(&self, format: &Format) -> DriveResult<()> {
        let data = serde_json::to_vec_pretty(format).expect("format serializes");
        self.run(move |fs| fs.write_atomic(&fs.sys().join(FORMAT_FILE), &data))
            .await?;
        self.online_checked_millis.store(0, Ordering::Relaxed);
        Ok(())
    }

    async fn read_sys_file(&self, name: &str) -> DriveResult<Vec<u8>> {
        let name = name.to_string();
        self.run(move |fs| std::fs::read(fs.sys().join(name)).map_err(|e| fs.err(e)))
            .await
    }

    async fn write_sys_file(&self, name: &str, data: &[u8]) -> DriveResult<()> {
        let (name, data) = (name.to_string(), data.to_vec());
        self.run(move |fs| {
            use std::os::unix::fs::PermissionsExt;
            let path = fs.sys().join(name);
            fs.write_atomic(&path, &data)?;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| fs.err(e))
        })
        .await
    }

    async fn make_bucket(&self, bucket: &str, created_nanos: i64) -> DriveResult<()> {
        let bucket = bucket.to_string();
        self.run(move |fs| {
            let dir = fs.bucket(&bucket);
            match std::fs::create_dir(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    return Err(DriveError::BucketExists)
                }
                Err(e) => return Err(fs.err(e)),
            }
            let info = serde_json::json!({ "name": bucket, "created_nanos": created_nanos });
            fs.write_atomic(
                &fs.sys().join("buckets").join(format!("{bucket}.json")),
                info.to_string().as_bytes(),
            )
        })
        .await
    }

    async fn list_buckets(&self) -> DriveResult<Vec<BucketInfo>> {
        self.run(|fs| {
            let mut out = Vec::new();
            for (name, is_dir) in fs.read_dir_names(&fs.root).map_err(|e| fs.err(e))? {
                if is_dir && name != SYS_DIR && rustfs_common::names::check_bucket(&name).is_ok() {
                    out.push(fs.bucket_info(&name)?);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn stat_bucket(&self, bucket: &str) -> DriveResult<BucketInfo> {
        let bucket = bucket.to_string();
        self.run(move |fs| fs.bucket_info(&bucket)).await
    }

    async fn delete_bucket(&self, bucket: &str) -> DriveResult<()> {
        let bucket = bucket.to_string();
        self.run(move |fs| {
            fs.check_bucket(&bucket)?;
            let dir = fs.bucket(&bucket);
            if std::fs::read_dir(&dir)
                .map_err(|e| fs.err(e))?
                .next()
                .is_some()
            {
                return Err(DriveError::BucketNotEmpty);
            }
            std::fs::remove_dir(&dir).map_err(|e| fs.err(e))?;
            let _ = std::fs::remove_file(fs.sys().join("buckets").join(format!("{bucket}.json")));
            let _ = std::fs::remove_dir_all(fs.sys().join("multipart").join(&bucket));
            Ok(())
        })
        .await
    }

    async fn read_meta(&self, bucket: &str, key: &str) -> DriveResult<ObjectMeta> {
        let (bucket, key) = (bucket.to_string(), key.to_string());
        self.run(move |fs| fs.read_meta(&bucket, &key)).await
    }

    async fn create_writer(&self, tmp_id: Uuid, name: &str) -> DriveResult<Box<dyn ShardWriter>> {
        let fs = self.fs();
        let dir = fs.tmp(tmp_id);
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| fs.err(e))?;
        let file = tokio::fs::File::create(dir.join(name))
            .await
            .map_err(|e| fs.err(e))?;
        Ok(Box::new(LocalWriter { file, fs }))
    }

    async fn remove_tmp(&self, tmp_id: Uuid) -> DriveResult<()> {
        self.run(move |fs| match std::fs::remove_dir_all(fs.tmp(tmp_id)) {
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
    ) -> DriveResult<()> {
        let (bucket, key) = (bucket.to_string(), key.to_string());
        self.run(move |fs| fs.commit(&bucket, &key, src, version))
            .await
    }

    async fn delete_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<Uuid>,
    ) -> DriveResult<()> {
        let (bucket, key) = (bucket.to_string(), key.to_string());
        self.run(move |fs| fs.delete_version(&bucket, &key, version_id))
            .await
    }

    async fn open_shard(
        &self,
        bucket: &str,
        key: &str,
        data_dir: Uuid,
        part: u32,
    ) -> DriveResult<Box<dyn ShardReader>> {
        let (bucket, key) = (bucket.to_string(), key.to_string());
        self.run(move |fs| {
            let path = fs
                .object(&bucket, &key)
                .join(data_dir.to_string())
                .join(format!("part.{part}"));
            let file = std::fs::File::open(path).map_err(|e| fs.err(e))?;
            Ok(Box::new(LocalReader {
                file: Arc::new(file),
                fs,
            }) as Box<dyn ShardReader>)
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
        self.run(move |fs| {
            fs.check_bucket(&bucket)?;
            let dir = fs.object(&bucket, &key).join(dd.to_string());
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
        let fs = self.fs();
        let (tx, rx) = mpsc::channel(256);
        self.run({
            let bucket = bucket.clone();
            move |fs| fs.check_bucket(&bucket)
        })
        .await?;
        tokio::task::spawn_blocking(move || fs.walk(&bucket, &req, &tx));
        Ok(rx)
    }

    async fn write_upload(&self, bucket: &str, upload_id: Uuid, meta: &[u8]) -> DriveResult<()> {
        let (bucket, meta) = (bucket.to_string(), meta.to_vec());
        self.run(move |fs| {
            fs.check_bucket(&bucket)?;
            fs.write_atomic(&fs.upload(&bucket, upload_id).join(UPLOAD_FILE), &meta)
        })
        .await
    }

    async fn read_upload(&self, bucket: &str, upload_id: Uuid) -> DriveResult<Vec<u8>> {
        let bucket = bucket.to_string();
        self.run(move |fs| {
            std::fs::read(fs.upload(&bucket, upload_id).join(UPLOAD_FILE)).map_err(|e| fs.err(e))
        })
        .await
    }

    async fn list_uploads(&self, bucket: &str) -> DriveResult<Vec<Vec<u8>>> {
        let bucket = bucket.to_string();
        self.run(move |fs| {
            let dir = fs.sys().join("multipart").join(&bucket);
            let names = match fs.read_dir_names(&dir) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(fs.err(e)),
            };
            Ok(names
                .into_iter()
                .filter_map(|(n, _)| std::fs::read(dir.join(n).join(UPLOAD_FILE)).ok())
                .collect())
        })
        .await
    }

    async fn commit_part(
        &self,
        bucket: &str,
        upload_id: Uuid,
        part: u32,
        tmp_id: Uuid,
        meta: &[u8],
    ) -> DriveResult<()> {
        let (bucket, meta) = (bucket.to_string(), meta.to_vec());
        self.run(move |fs| {
            let up = fs.upload(&bucket, upload_id);
            if !up.join(UPLOAD_FILE).exists() {
                let _ = std::fs::remove_dir_all(fs.tmp(tmp_id));
                return Err(DriveError::NotFound);
            }
            let r = std::fs::rename(fs.tmp(tmp_id).join("part"), up.join(format!("part.{part}")))
                .map_err(|e| fs.err(e))
                .and_then(|()| fs.write_atomic(&up.join(format!("part.{part}.json")), &meta));
            let _ = std::fs::remove_dir_all(fs.tmp(tmp_id));
            r
        })
        .await
    }

    async fn list_parts(&self, bucket: &str, upload_id: Uuid) -> DriveResult<Vec<Vec<u8>>> {
        let bucket = bucket.to_string();
        self.run(move |fs| {
            let up = fs.upload(&bucket, upload_id);
            let names = fs.read_dir_names(&up).map_err(|e| fs.err(e))?;
            Ok(names
                .into_iter()
                .filter(|(n, d)| !d && n.starts_with("part.") && n.ends_with(".json"))
                .filter_map(|(n, _)| std::fs::read(up.join(n)).ok())
                .collect())
        })
        .await
    }

    async fn delete_upload(&self, bucket: &str, upload_id: Uuid) -> DriveResult<()> {
        let bucket = bucket.to_string();
        self.run(move |fs| {
            std::fs::remove_dir_all(fs.upload(&bucket, upload_id)).map_err(|e| fs.err(e))
        })
        .await
    }
}

/// The plain directory name of a key part ending in `/` ("dir/" → "dir").
fn dir_key_name(key_part: &str) -> &str {
    key_part.trim_end_matches('/')
}

/// Capacity of the file system holding `path`.
#[allow(unsafe_code)]
fn statvfs(path: &Path) -> io::Result<DiskInfo> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(io::Error::other)?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `st` a properly sized, writable statvfs.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let frsize = st.f_frsize as u64;
    let total = st.f_blocks as u64 * frsize;
    let free = st.f_bavail as u64 * frsize;
    Ok(DiskInfo {
        total_bytes: total,
        free_bytes: free,
        used_bytes: total.saturating_sub(st.f_bfree as u64 * frsize),
    })
}
