//! Where things live on a local drive, and how file-system errors read to the layers above.
//!
//! Every path under a drive is built here, and only from names that passed the bucket and key
//! rules of `rustfs_common::names` (the RPC server hands peers' names straight to a drive, so the
//! drive checks them itself): nothing a client or a peer sends can name a path outside the drive.

use crate::store::{DriveError, DriveResult, SYS_BUCKET, SYS_DIR};
use rustfs_common::names::{check_bucket, check_key, key_dir};
use std::io;
use std::path::{Path, PathBuf};
use uuid::Uuid;

pub(super) const FORMAT_FILE: &str = "format.json";
pub(super) const UPLOAD_FILE: &str = "upload.json";

/// A local drive's directory tree, and the error mapping that names the drive.
#[derive(Clone)]
pub(crate) struct Fs {
    pub root: PathBuf,
    pub label: String,
}

impl Fs {
    pub fn sys(&self) -> PathBuf {
        self.root.join(SYS_DIR)
    }

    /// `.rustfs.sys/tmp/<id>`: a write in progress.
    pub fn tmp(&self, id: Uuid) -> PathBuf {
        self.sys().join("tmp").join(id.to_string())
    }

    /// `.rustfs.sys/undo/<commit id>`: what a commit replaced, until the commit is settled.
    pub fn undo(&self, id: Uuid) -> PathBuf {
        self.sys().join("undo").join(id.to_string())
    }

    /// `.rustfs.sys/trash`: data dirs that readers still hold, removed once they let go.
    pub fn trash(&self) -> PathBuf {
        self.sys().join("trash")
    }

    /// A system file under `.rustfs.sys/`: one plain path component.
    pub fn sys_file(&self, name: &str) -> DriveResult<PathBuf> {
        check_file_name(name)?;
        Ok(self.sys().join(name))
    }

    pub fn bucket(&self, bucket: &str) -> DriveResult<PathBuf> {
        if bucket == SYS_BUCKET {
            return Ok(self.root.join(SYS_BUCKET));
        }
        check_bucket(bucket).map_err(|e| DriveError::InvalidName(e.to_string()))?;
        Ok(self.root.join(bucket))
    }

    pub fn bucket_record(&self, bucket: &str) -> DriveResult<PathBuf> {
        check_bucket(bucket).map_err(|e| DriveError::InvalidName(e.to_string()))?;
        Ok(self.sys().join("buckets").join(format!("{bucket}.json")))
    }

    /// The directory holding `key`'s meta and data dirs.
    pub fn object(&self, bucket: &str, key: &str) -> DriveResult<PathBuf> {
        check_key(key).map_err(|e| DriveError::InvalidName(e.to_string()))?;
        Ok(self.bucket(bucket)?.join(key_dir(key)))
    }

    /// `.rustfs.sys/multipart/<bucket>`.
    pub fn uploads(&self, bucket: &str) -> DriveResult<PathBuf> {
        check_bucket(bucket).map_err(|e| DriveError::InvalidName(e.to_string()))?;
        Ok(self.sys().join("multipart").join(bucket))
    }

    pub fn upload(&self, bucket: &str, id: Uuid) -> DriveResult<PathBuf> {
        Ok(self.uploads(bucket)?.join(id.to_string()))
    }

    /// Maps an I/O error: ENOSPC is a full drive, ENOENT/ENOTDIR is `NotFound` unless the drive
    /// itself has gone (then `Offline`), anything else is an I/O error naming the drive.
    pub fn err(&self, e: io::Error) -> DriveError {
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

    /// `BucketNotFound` unless the bucket's directory exists.
    pub fn check_bucket(&self, bucket: &str) -> DriveResult<()> {
        match std::fs::metadata(self.bucket(bucket)?) {
            Ok(m) if m.is_dir() => Ok(()),
            Ok(_) => Err(DriveError::BucketNotFound),
            Err(e) => match self.err(e) {
                DriveError::NotFound => Err(DriveError::BucketNotFound),
                other => Err(other),
            },
        }
    }

    /// Names and whether each is a directory (names that are not UTF-8 are not ours: skipped).
    pub fn read_dir_names(&self, dir: &Path) -> io::Result<Vec<(String, bool)>> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir)? {
            let e = e?;
            let Ok(name) = e.file_name().into_string() else {
                continue;
            };
            let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
            out.push((name, is_dir));
        }
        Ok(out)
    }
}

/// A file name a caller (or a peer) gives for a file inside a directory the call implies: one
/// plain path component of letters, digits, `.`, `-` and `_`.
pub(crate) fn check_file_name(name: &str) -> DriveResult<()> {
    let plain = !name.is_empty()
        && name != "."
        && name != ".."
        && name.len() <= 255
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if plain {
        Ok(())
    } else {
        Err(DriveError::InvalidName(format!(
            "file name {:?} refused: one plain path component expected",
            name.escape_debug().to_string()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fs() -> Fs {
        Fs {
            root: PathBuf::from("/srv/d1"),
            label: "/srv/d1".into(),
        }
    }

    #[test]
    fn names_that_would_escape_the_drive_never_become_paths() {
        let fs = fs();
        assert_eq!(
            fs.bucket(SYS_BUCKET).unwrap(),
            PathBuf::from("/srv/d1/.rustfs.sys/config")
        );
        for bucket in [
            "..",
            "../etc",
            "/etc",
            "a/b",
            "a\0b",
            ".rustfs.sys",
            ".rustfs.sys/tmp",
            "",
        ] {
            assert!(fs.bucket(bucket).is_err(), "bucket {bucket:?}");
            assert!(fs.uploads(bucket).is_err(), "uploads {bucket:?}");
        }
        for key in ["../x", "a/../../x", "/etc/passwd", "a\0b", "..", "a//b"] {
            assert!(fs.object("photos", key).is_err(), "key {key:?}");
        }
        assert_eq!(
            fs.object("photos", "2026/cat.jpg").unwrap(),
            PathBuf::from("/srv/d1/photos/2026/cat.jpg")
        );
    }

    #[test]
    fn file_names_are_one_plain_component() {
        for ok in ["part", "part.12", "credentials.json", "heal-queue.jsonl"] {
            assert!(check_file_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".", "..", "../x", "a/b", "/etc/passwd", "a\0b", "a b"] {
            assert!(check_file_name(bad).is_err(), "{bad}");
        }
    }
}
