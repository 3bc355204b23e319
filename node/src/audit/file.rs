//! The audit file: lines appended to `PATH`; when it would grow past the size limit it is
//! renamed `PATH.1` (older ones shift to `PATH.2` …, the oldest beyond the kept count is
//! removed) and a new `PATH` is started. A batch is never split across two files.

use super::Target;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

pub struct RotatingFile {
    path: PathBuf,
    file: File,
    size: u64,
    max_bytes: u64,
    keep: usize,
}

fn open_append(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
}

impl RotatingFile {
    pub fn open(path: &Path, max_bytes: u64, keep: usize) -> anyhow::Result<RotatingFile> {
        use anyhow::Context;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| {
                format!("cannot create the audit file's directory {}", dir.display())
            })?;
        }
        let file = open_append(path).with_context(|| {
            format!(
                "cannot open the audit file {} for appending — check --audit-file and that this user may write there",
                path.display()
            )
        })?;
        let size = file.metadata()?.len();
        Ok(RotatingFile {
            path: path.to_path_buf(),
            file,
            size,
            max_bytes,
            keep,
        })
    }

    fn rotated(&self, n: usize) -> PathBuf {
        let mut p = self.path.clone().into_os_string();
        p.push(format!(".{n}"));
        PathBuf::from(p)
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        if self.keep == 0 {
            std::fs::remove_file(&self.path)?;
        } else {
            let _ = std::fs::remove_file(self.rotated(self.keep));
            for n in (1..self.keep).rev() {
                let _ = std::fs::rename(self.rotated(n), self.rotated(n + 1));
            }
            std::fs::rename(&self.path, self.rotated(1))?;
        }
        self.file = open_append(&self.path)?;
        self.size = 0;
        Ok(())
    }

    fn append(&mut self, batch: &[u8]) -> std::io::Result<()> {
        if self.size > 0 && self.size + batch.len() as u64 > self.max_bytes {
            self.rotate()?;
        }
        self.file.write_all(batch)?;
        self.size += batch.len() as u64;
        Ok(())
    }
}

impl Target for RotatingFile {
    fn write(&mut self, batch: &[u8], lines: u64) {
        match self.append(batch) {
            Ok(()) => crate::metrics::global()
                .audit
                .entries
                .with_label_values(&["file"])
                .inc_by(lines),
            Err(e) => {
                tracing::error!(path = %self.path.display(), error = %e, "cannot write the audit file");
                super::dropped("file", lines);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_by_size_and_keeps_the_newest_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let mut f = RotatingFile::open(&path, 100, 2).unwrap();
        let line = |i: usize| format!("{{\"n\":{i:040}}}\n"); // 47 bytes: two fit in 100
        for i in 0..7 {
            f.write(line(i).as_bytes(), 1);
        }
        // 2 lines a file: 6 in audit.log.2, audit.log.1 and audit.log; the oldest file is gone.
        let read = |p: PathBuf| std::fs::read_to_string(p).unwrap();
        assert_eq!(read(path.clone()), line(6));
        assert_eq!(read(f.rotated(1)), line(4) + &line(5));
        assert_eq!(read(f.rotated(2)), line(2) + &line(3));
        assert!(!f.rotated(3).exists());
        // Reopened, it appends and counts what is there.
        let mut f = RotatingFile::open(&path, 100, 2).unwrap();
        assert_eq!(f.size, line(6).len() as u64);
        f.write(line(7).as_bytes(), 1);
        assert_eq!(read(path), line(6) + &line(7));
    }
}
