//! Data dirs that readers hold, so that an overwrite or a delete never pulls a version's later
//! parts from under a GET that already started streaming it.
//!
//! A reader pins a version's data dir (an open directory handle, counted here by device and
//! inode) while it holds the namespace read lock; it then opens each part relative to that handle
//! as the stream reaches it. A writer that frees a data dir does so under the write lock: a
//! pinned dir is moved to `.rustfs.sys/trash` (the reader's handle follows the inode) and the
//! sweeper removes it once the last reader lets go; an unpinned one is removed at once.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;
use uuid::Uuid;

type DirId = (u64, u64);

/// Pin counts of one drive's data dirs.
#[derive(Default)]
pub(crate) struct Pins {
    held: Mutex<HashMap<DirId, usize>>,
}

/// A pinned data dir: parts are opened relative to it, wherever the dir has moved since.
pub(crate) struct PinnedDir {
    dir: fs::File,
    id: DirId,
    pins: Arc<Pins>,
}

impl Drop for PinnedDir {
    fn drop(&mut self) {
        let mut held = self.pins.held.lock();
        if let Some(n) = held.get_mut(&self.id) {
            *n -= 1;
            if *n == 0 {
                held.remove(&self.id);
            }
        }
    }
}

impl PinnedDir {
    /// Opens `name` inside the pinned directory.
    pub fn open(&self, name: &str) -> io::Result<fs::File> {
        use rustix::fs::{Mode, OFlags};
        let fd = rustix::fs::openat(
            &self.dir,
            name,
            OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok(fs::File::from(fd))
    }
}

fn dir_id(m: &fs::Metadata) -> DirId {
    (m.dev(), m.ino())
}

impl Pins {
    /// Pins the directory at `path` until the returned handle is dropped.
    pub fn pin(self: &Arc<Self>, path: &Path) -> io::Result<PinnedDir> {
        let dir = fs::File::open(path)?;
        let m = dir.metadata()?;
        if !m.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("{} is not a data dir", path.display()),
            ));
        }
        let id = dir_id(&m);
        *self.held.lock().entry(id).or_default() += 1;
        Ok(PinnedDir {
            dir,
            id,
            pins: self.clone(),
        })
    }

    fn is_pinned(&self, path: &Path) -> bool {
        match fs::symlink_metadata(path) {
            Ok(m) => self.held.lock().contains_key(&dir_id(&m)),
            Err(_) => false,
        }
    }

    /// Frees a data dir: removed now, or moved to `trash` while a reader holds it.
    pub fn retire(&self, path: &Path, trash: &Path) -> io::Result<()> {
        if self.is_pinned(path) {
            fs::create_dir_all(trash)?;
            match fs::rename(path, trash.join(Uuid::new_v4().to_string())) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            }
        } else {
            match fs::remove_dir_all(path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            }
        }
    }

    /// Removes what no reader holds any more from `trash`.
    pub fn sweep(&self, trash: &Path) {
        let Ok(entries) = fs::read_dir(trash) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            if !self.is_pinned(&path) {
                let _ = fs::remove_dir_all(&path);
            }
        }
    }

    #[cfg(test)]
    pub fn num_pinned(&self) -> usize {
        self.held.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pinned_dir_outlives_its_retirement_and_goes_with_its_last_reader() {
        let t = tempfile::tempdir().unwrap();
        let (dd, trash) = (t.path().join("obj/dd"), t.path().join("trash"));
        fs::create_dir_all(&dd).unwrap();
        fs::write(dd.join("part.2"), b"second part").unwrap();
        let pins = Arc::new(Pins::default());
        let pin = pins.pin(&dd).unwrap();
        pins.retire(&dd, &trash).unwrap();
        assert!(!dd.exists(), "retired from its path");
        let mut s = String::new();
        io::Read::read_to_string(&mut pin.open("part.2").unwrap(), &mut s).unwrap();
        assert_eq!(s, "second part", "the reader still reaches later parts");
        pins.sweep(&trash);
        assert_eq!(
            fs::read_dir(&trash).unwrap().count(),
            1,
            "kept while pinned"
        );
        drop(pin);
        assert_eq!(pins.num_pinned(), 0);
        pins.sweep(&trash);
        assert_eq!(
            fs::read_dir(&trash).unwrap().count(),
            0,
            "removed once released"
        );
        // Unpinned dirs go at once.
        fs::create_dir_all(&dd).unwrap();
        pins.retire(&dd, &trash).unwrap();
        assert!(!dd.exists());
        assert_eq!(fs::read_dir(&trash).unwrap().count(), 0);
    }
}
