//! The heal queue: objects waiting to be healed, deduplicated, retried with backoff while a
//! drive they need is away, and journaled to a local drive so a restart (or `kill -9`) loses
//! none. The journal is JSON lines (`{"add":…}` / `{"done":…}`) appended without fsync — the
//! page cache survives a process crash, and the scanner finds whatever an OS crash loses — and
//! rewritten compactly when it grows to several times the live entries.

use super::HealKey;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// First retry delay; doubles per attempt up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_secs(300);

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Line {
    Add(HealKey),
    Done(HealKey),
}

#[derive(Debug)]
struct Entry {
    attempts: u32,
    not_before: Instant,
    in_flight: bool,
}

#[derive(Debug, Default)]
struct Inner {
    entries: BTreeMap<HealKey, Entry>,
    journal: Option<File>,
    journal_lines: usize,
    dropped: u64,
}

#[derive(Debug)]
pub struct HealQueue {
    inner: Mutex<Inner>,
    path: Option<PathBuf>,
    max: usize,
    notify: Notify,
}

impl HealQueue {
    /// A queue journaled at `path` (replayed when it exists), or in memory only.
    pub fn open(path: Option<PathBuf>, max: usize) -> Self {
        let mut inner = Inner::default();
        if let Some(p) = &path {
            let now = Instant::now();
            for key in replay(p) {
                inner.entries.entry(key).or_insert(Entry {
                    attempts: 0,
                    not_before: now,
                    in_flight: false,
                });
            }
            if !inner.entries.is_empty() {
                tracing::info!(queued = inner.entries.len(), journal = %p.display(), "heal queue restored");
            }
        }
        let q = HealQueue {
            inner: Mutex::new(inner),
            path,
            max,
            notify: Notify::new(),
        };
        q.compact(&mut q.inner.lock());
        q
    }

    /// Queues `key` unless it is already queued; false when the queue is full.
    pub fn push(&self, key: HealKey) -> bool {
        let mut inner = self.inner.lock();
        if let Some(e) = inner.entries.get_mut(&key) {
            if !e.in_flight {
                e.not_before = e.not_before.min(Instant::now());
            }
            return true;
        }
        if inner.entries.len() >= self.max {
            inner.dropped += 1;
            return false;
        }
        self.append(&mut inner, &Line::Add(key.clone()));
        inner.entries.insert(
            key,
            Entry {
                attempts: 0,
                not_before: Instant::now(),
                in_flight: false,
            },
        );
        drop(inner);
        self.notify.notify_waiters();
        true
    }

    /// Up to `limit` entries due now, marked in flight.
    pub fn take_ready(&self, limit: usize) -> Vec<HealKey> {
        let now = Instant::now();
        let mut inner = self.inner.lock();
        let mut out = Vec::new();
        for (k, e) in inner.entries.iter_mut() {
            if out.len() == limit {
                break;
            }
            if !e.in_flight && e.not_before <= now {
                e.in_flight = true;
                out.push(k.clone());
            }
        }
        out
    }

    /// Waits until something may be due: a push, a wake-up, or `max` elapsed.
    pub async fn wait(&self, max: Duration) {
        let _ = tokio::time::timeout(max, self.notify.notified()).await;
    }

    /// The entry is healed (or gone): forget it.
    pub fn done(&self, key: &HealKey) {
        let mut inner = self.inner.lock();
        if inner.entries.remove(key).is_some() {
            self.append(&mut inner, &Line::Done(key.clone()));
            if inner.journal_lines > 4 * inner.entries.len() + 1024 {
                self.compact(&mut inner);
            }
        }
    }

    /// The heal could not finish (a drive away, quorum lost): try again later.
    pub fn retry(&self, key: &HealKey) {
        let mut inner = self.inner.lock();
        if let Some(e) = inner.entries.get_mut(key) {
            e.attempts = e.attempts.saturating_add(1);
            let backoff = FIRST_BACKOFF
                .saturating_mul(1 << e.attempts.min(16))
                .min(MAX_BACKOFF);
            e.not_before = Instant::now() + backoff;
            e.in_flight = false;
        }
    }

    /// Makes every waiting entry due now (a drive came back).
    pub fn wake_all(&self) {
        let now = Instant::now();
        for e in self.inner.lock().entries.values_mut() {
            e.not_before = e.not_before.min(now);
        }
        self.notify.notify_waiters();
    }

    pub fn len(&self) -> usize {
        self.inner.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entries refused because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.inner.lock().dropped
    }

    fn append(&self, inner: &mut Inner, line: &Line) {
        let Some(f) = inner.journal.as_mut() else {
            return;
        };
        let mut buf = serde_json::to_vec(line).expect("heal keys serialize");
        buf.push(b'\n');
        if let Err(e) = f.write_all(&buf) {
            tracing::warn!(error = %e, "heal queue journal write failed; the queue is kept in memory only");
            inner.journal = None;
        }
        inner.journal_lines += 1;
    }

    /// Rewrites the journal with only the live entries (temp file, fsync, rename).
    fn compact(&self, inner: &mut Inner) {
        let Some(path) = &self.path else { return };
        let write = || -> std::io::Result<File> {
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir)?;
            }
            let tmp = path.with_extension("tmp");
            let mut f = File::create(&tmp)?;
            for k in inner.entries.keys() {
                let mut buf = serde_json::to_vec(&Line::Add(k.clone())).expect("serializes");
                buf.push(b'\n');
                f.write_all(&buf)?;
            }
            f.sync_all()?;
            fs::rename(&tmp, path)?;
            OpenOptions::new().append(true).open(path)
        };
        match write() {
            Ok(f) => {
                inner.journal = Some(f);
                inner.journal_lines = inner.entries.len();
            }
            Err(e) => {
                tracing::warn!(error = %e, journal = %path.display(), "heal queue journal cannot be written; the queue is kept in memory only");
                inner.journal = None;
            }
        }
    }
}

/// The keys a journal leaves queued; unreadable lines (a torn last write) are skipped.
fn replay(path: &Path) -> Vec<HealKey> {
    let Ok(f) = File::open(path) else {
        return Vec::new();
    };
    let mut live: BTreeMap<HealKey, ()> = BTreeMap::new();
    for line in BufReader::new(f).lines() {
        let Ok(line) = line else { break };
        match serde_json::from_str::<Line>(&line) {
            Ok(Line::Add(k)) => {
                live.insert(k, ());
            }
            Ok(Line::Done(k)) => {
                live.remove(&k);
            }
            Err(_) => continue,
        }
    }
    live.into_keys().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> HealKey {
        HealKey {
            pool: 0,
            set: 1,
            bucket: "b".into(),
            key: k.into(),
        }
    }

    #[test]
    fn entries_are_deduplicated_and_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("heal/queue.jsonl");
        let q = HealQueue::open(Some(path.clone()), 10);
        assert!(q.push(key("a\nwith newline")));
        assert!(q.push(key("b")));
        assert!(q.push(key("b")));
        assert_eq!(q.len(), 2);
        let taken = q.take_ready(10);
        assert_eq!(taken.len(), 2);
        assert!(
            q.take_ready(10).is_empty(),
            "in-flight entries are not handed out twice"
        );
        q.done(&key("b"));
        q.retry(&key("a\nwith newline"));
        assert!(q.take_ready(10).is_empty(), "a retry waits for its backoff");
        q.wake_all();
        assert_eq!(q.take_ready(10), [key("a\nwith newline")]);
        drop(q);
        // A torn last line (crash mid-append) is ignored.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"add\":{\"pool\":0,").unwrap();
        let q = HealQueue::open(Some(path), 10);
        assert_eq!(q.take_ready(10), [key("a\nwith newline")]);
    }

    #[test]
    fn a_full_queue_refuses_and_counts() {
        let q = HealQueue::open(None, 1);
        assert!(q.push(key("a")));
        assert!(!q.push(key("b")));
        assert_eq!(q.dropped(), 1);
        assert!(q.push(key("a")), "an entry already queued is not refused");
    }

    #[test]
    fn the_journal_is_compacted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.jsonl");
        let q = HealQueue::open(Some(path.clone()), 10_000);
        for i in 0..3000 {
            q.push(key(&i.to_string()));
            q.done(&key(&i.to_string()));
        }
        q.push(key("kept"));
        let lines = fs::read_to_string(&path).unwrap().lines().count();
        assert!(lines < 1100, "{lines} lines");
        drop(q);
        assert_eq!(HealQueue::open(Some(path), 10).len(), 1);
    }
}
