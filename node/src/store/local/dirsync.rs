//! Group commit of directory fsyncs. Many writers that change one directory at once (new keys in
//! one bucket or prefix directory) need its entries durable before they acknowledge; one fsync
//! that *starts* after a writer's change covers that change, so concurrent writers share fsyncs
//! instead of queueing one each. A writer whose change is covered by no finished fsync either
//! waits for the one running (and, if that started too early, for the next) or runs the next
//! itself. A failed fsync fails every writer it was meant to cover: none is told its change is
//! durable on the strength of a later fsync (after an error the kernel may have dropped the
//! dirty state that fsync reported).

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, OnceLock};

#[derive(Default)]
struct DirState {
    /// Changes announced so far (each caller's number).
    requested: u64,
    /// Changes a finished fsync covers.
    done: u64,
    /// Changes `(from, to]` that an fsync which failed was meant to cover, with its error.
    failed: Vec<(u64, u64, io::ErrorKind, String)>,
    running: bool,
    /// Callers inside [`sync_dir`] for this directory (the entry goes when none is left).
    callers: usize,
}

struct DirSyncs {
    dirs: Mutex<HashMap<PathBuf, DirState>>,
    changed: Condvar,
}

fn table() -> &'static DirSyncs {
    static T: OnceLock<DirSyncs> = OnceLock::new();
    T.get_or_init(|| DirSyncs {
        dirs: Mutex::new(HashMap::new()),
        changed: Condvar::new(),
    })
}

/// fsyncs `dir` after the caller changed its entries, sharing the fsync with concurrent callers.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    let t = table();
    let mut dirs = t.dirs.lock().unwrap_or_else(|p| p.into_inner());
    let mine = {
        let st = dirs.entry(dir.to_path_buf()).or_default();
        st.requested += 1;
        st.callers += 1;
        st.requested
    };
    let outcome = loop {
        let st = dirs.get_mut(dir).expect("entry kept while callers remain");
        if let Some((_, _, kind, msg)) = st.failed.iter().find(|f| f.0 < mine && mine <= f.1) {
            break Err(io::Error::new(*kind, msg.clone()));
        }
        if st.done >= mine {
            break Ok(());
        }
        if st.running {
            dirs = t.changed.wait(dirs).unwrap_or_else(|p| p.into_inner());
            continue;
        }
        st.running = true;
        let (from, target) = (st.done, st.requested);
        drop(dirs);
        let r = fs::File::open(dir).and_then(|f| f.sync_all());
        dirs = t.dirs.lock().unwrap_or_else(|p| p.into_inner());
        let st = dirs.get_mut(dir).expect("entry kept while callers remain");
        st.running = false;
        match r {
            Ok(()) => st.done = st.done.max(target),
            Err(e) => st.failed.push((from, target, e.kind(), e.to_string())),
        }
        t.changed.notify_all();
    };
    let st = dirs.get_mut(dir).expect("entry kept while callers remain");
    st.callers -= 1;
    if st.callers == 0 {
        dirs.remove(dir);
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn concurrent_callers_all_return_and_leave_no_state() {
        let dir = tempfile::tempdir().unwrap();
        let path = Arc::new(dir.path().to_path_buf());
        let threads: Vec<_> = (0..16)
            .map(|i| {
                let path = path.clone();
                std::thread::spawn(move || {
                    fs::write(path.join(format!("f{i}")), b"x").unwrap();
                    sync_dir(&path)
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap().unwrap();
        }
        assert!(table().dirs.lock().unwrap().get(path.as_path()).is_none());
    }

    #[test]
    fn a_failed_fsync_fails_its_caller() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone");
        let e = sync_dir(&gone).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        // The next caller runs its own fsync (and succeeds once the directory is there).
        fs::create_dir(&gone).unwrap();
        sync_dir(&gone).unwrap();
    }
}
