//! Durable file-system changes: the one place that orders fsync, mkdir and rename so that a
//! change the drive acknowledged survives a power cut, and a crash mid-way leaves either the old
//! or the new state, never a half-written file in place (ARCHITECTURE.md, "Durability order").
//!
//! The order for every commit: the new file (or every file of a new directory) is fsynced; the
//! directory entries it lands in are created (mkdir, one level at a time); the rename happens;
//! then every directory that gained an entry — the rename's target directory and the parent of
//! each directory created on the way — is fsynced before the caller acknowledges anything.
//!
//! Renames retry when a parent directory vanishes under them: removing an empty object directory
//! (a delete pruning its parents) may race a sibling key's commit into the same directory.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// How many times a rename is retried when a concurrent prune removed its target's parent.
const PRUNE_RACE_RETRIES: usize = 16;

/// Orders directory creation against pruning: a commit holds it shared from creating its target's
/// parents to the rename into them, a prune holds it exclusively for each `rmdir`, so a prune can
/// never take away a directory between a commit's mkdir and its rename (which, under CPU
/// starvation, retries alone could lose again and again). Held for no fsync.
static NAMESPACE: parking_lot::RwLock<()> = parking_lot::RwLock::new(());

/// fsyncs a directory (its entries become durable).
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// Creates `dir` and its missing parents one level at a time. Returns every directory that
/// gained an entry on the way (the nearest existing ancestor and each directory created, except
/// `dir` itself): each must be fsynced for the new entries to be durable. A directory another
/// writer created at the same moment counts as ours, since its creator may not have synced yet.
pub(crate) fn create_dirs(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut missing = Vec::new();
    let mut cur = dir;
    loop {
        match fs::metadata(cur) {
            Ok(m) if m.is_dir() => break,
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::NotADirectory,
                    format!("{} is a file, not a directory", cur.display()),
                ))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                missing.push(cur.to_path_buf());
                cur = cur.parent().ok_or(e)?;
            }
            Err(e) => return Err(e),
        }
    }
    let mut changed = Vec::new();
    if !missing.is_empty() {
        changed.push(cur.to_path_buf());
    }
    for d in missing.iter().rev() {
        match fs::create_dir(d) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        if d.as_path() != dir {
            changed.push(d.clone());
        }
    }
    Ok(changed)
}

/// Renames `src` (a file or directory whose contents are already durable) to `dst` and makes the
/// rename durable: target parents are created as needed, and every directory that gained an
/// entry is fsynced. Retries when a concurrent prune removes a parent between mkdir and rename.
pub(crate) fn rename_durable(src: &Path, dst: &Path) -> io::Result<()> {
    let parent = dst.parent().expect("paths under a drive have parents");
    let mut attempt = 0;
    loop {
        let placed = {
            let _shared = NAMESPACE.read();
            create_dirs(parent).and_then(|changed| fs::rename(src, dst).map(|()| changed))
        };
        match placed {
            Ok(mut changed) => {
                changed.push(parent.to_path_buf());
                for d in &changed {
                    sync_dir(d)?;
                }
                return Ok(());
            }
            Err(e)
                if e.kind() == io::ErrorKind::NotFound
                    && attempt < PRUNE_RACE_RETRIES
                    && fs::symlink_metadata(src).is_ok() =>
            {
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Makes a directory of already-fsynced files durable as a unit (its entries), then renames it
/// into place durably.
pub(crate) fn rename_dir_durable(src: &Path, dst: &Path) -> io::Result<()> {
    sync_dir(src)?;
    rename_durable(src, dst)
}

/// Writes `data` to a fresh file at `tmp`, fsyncs it, and renames it durably to `dst`. `tmp` is
/// removed when anything fails.
pub(crate) fn write_durable(tmp: &Path, dst: &Path, data: &[u8], mode: u32) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let run = || -> io::Result<()> {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        drop(f);
        rename_durable(tmp, dst)
    };
    run().inspect_err(|_| {
        let _ = fs::remove_file(tmp);
    })
}

/// Removes the empty directories from `dir` up to (not including) `stop`, fsyncing the
/// directory each removal changed. Stops at the first directory that is not empty.
pub(crate) fn prune_empty(dir: &Path, stop: &Path) {
    let mut cur = Some(dir);
    while let Some(d) = cur {
        if d == stop || !d.starts_with(stop) || {
            let _exclusive = NAMESPACE.write();
            fs::remove_dir(d).is_err()
        } {
            break;
        }
        if let Some(p) = d.parent() {
            let _ = sync_dir(p);
        }
        cur = d.parent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_dirs_reports_every_directory_that_gained_an_entry() {
        let t = tempfile::tempdir().unwrap();
        let changed = create_dirs(&t.path().join("a/b/c")).unwrap();
        assert_eq!(
            changed,
            vec![
                t.path().to_path_buf(),
                t.path().join("a"),
                t.path().join("a/b")
            ]
        );
        assert!(create_dirs(&t.path().join("a/b/c")).unwrap().is_empty());
        std::fs::write(t.path().join("f"), b"x").unwrap();
        assert!(create_dirs(&t.path().join("f/g")).is_err());
    }

    #[test]
    fn a_rename_survives_its_parent_being_pruned_between_mkdir_and_rename() {
        use std::sync::atomic::{AtomicBool, Ordering};
        let t = tempfile::tempdir().unwrap();
        let stop = t.path().join("bucket");
        std::fs::create_dir(&stop).unwrap();
        // Sibling keys a/x and a/y: y's commit while x's delete prunes "a" again and again.
        let done = std::sync::Arc::new(AtomicBool::new(false));
        let pruner = {
            let (stop, done) = (stop.clone(), done.clone());
            std::thread::spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    prune_empty(&stop.join("a"), &stop);
                }
            })
        };
        for i in 0..1000 {
            let src = t.path().join(format!("tmp{i}"));
            std::fs::write(&src, b"meta").unwrap();
            let dst = stop.join("a").join(format!("y{i}"));
            let r = rename_durable(&src, &dst);
            if r.is_err() {
                done.store(true, Ordering::Relaxed);
            }
            r.expect("commit despite the prune");
            assert_eq!(std::fs::read(&dst).unwrap(), b"meta");
            std::fs::remove_file(&dst).unwrap();
        }
        done.store(true, Ordering::Relaxed);
        pruner.join().unwrap();
    }

    #[test]
    fn write_durable_leaves_no_temp_file_on_failure() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("f"), b"x").unwrap();
        let tmp = t.path().join("tmp");
        assert!(write_durable(&tmp, &t.path().join("f/under-a-file"), b"x", 0o600).is_err());
        assert!(!tmp.exists());
        write_durable(&tmp, &t.path().join("d/e/meta"), b"hello", 0o600).unwrap();
        assert_eq!(std::fs::read(t.path().join("d/e/meta")).unwrap(), b"hello");
    }
}
