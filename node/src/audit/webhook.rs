//! An audit webhook: every batch of lines the writer hands over becomes a file of the webhook's
//! queue directory (`<queue dir>/<hash of the URL>/<sequence>.ndjson`, written then renamed, so a
//! file is whole or absent); a sender task POSTs the oldest files (up to [`MAX_POST_BYTES`] at
//! a time, as `application/x-ndjson`) and removes them once the receiver answered 2xx. A
//! receiver that is down is retried with growing waits (up to [`MAX_RETRY_WAIT`]) and loses
//! nothing while the queue has room; files left at exit are sent after the next start. A queue
//! at its size limit drops new batches (counted and logged), so S3 never waits for a receiver.

use super::Target;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Bytes sent in one POST at most (whole files; a larger single file is sent alone).
const MAX_POST_BYTES: u64 = 1024 * 1024;
/// Longest wait between two tries at a receiver that does not answer.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(30);
/// Deadline of one POST.
const POST_TIMEOUT: Duration = Duration::from_secs(15);

/// Files waiting, oldest first: (sequence, bytes, lines), and their total bytes.
#[derive(Default)]
struct Pending {
    files: VecDeque<(u64, u64, u64)>,
    bytes: u64,
}

struct Queue {
    url: String,
    dir: PathBuf,
    max_bytes: u64,
    pending: Mutex<Pending>,
    next_seq: std::sync::atomic::AtomicU64,
    wake: tokio::sync::Notify,
}

impl Queue {
    fn path(&self, seq: u64) -> PathBuf {
        self.dir.join(format!("{seq:020}.ndjson"))
    }

    fn gauge(&self, bytes: u64) {
        crate::metrics::global()
            .audit
            .queue_bytes
            .with_label_values(&[&self.url])
            .set(bytes as i64);
    }
}

pub struct Webhook(Arc<Queue>);

impl Webhook {
    /// Opens (or creates) the queue of `url` under `queue_dir` and starts its sender; files an
    /// earlier run left are sent first.
    pub fn start(
        url: &str,
        queue_dir: &Path,
        max_bytes: u64,
        token: Option<String>,
    ) -> anyhow::Result<Webhook> {
        use anyhow::Context;
        let dir = queue_dir.join(format!(
            "{:016x}",
            xxhash_rust::xxh3::xxh3_64(url.as_bytes())
        ));
        std::fs::create_dir_all(&dir).with_context(|| {
            format!(
                "cannot create the audit queue {} — set --audit-queue-dir to a directory this user may write",
                dir.display()
            )
        })?;
        std::fs::write(dir.join("url.txt"), format!("{url}\n"))?;
        let mut files = Vec::new();
        for e in std::fs::read_dir(&dir)? {
            let e = e?;
            let name = e.file_name();
            let name = name.to_string_lossy();
            if let Some(seq) = name
                .strip_suffix(".ndjson")
                .and_then(|s| s.parse::<u64>().ok())
            {
                let data = std::fs::read(e.path())?;
                let lines = data.iter().filter(|b| **b == b'\n').count() as u64;
                files.push((seq, data.len() as u64, lines));
            } else if name.ends_with(".tmp") {
                let _ = std::fs::remove_file(e.path());
            }
        }
        files.sort_unstable();
        let next = files.last().map_or(0, |f| f.0 + 1);
        if !files.is_empty() {
            tracing::info!(
                webhook = url,
                files = files.len(),
                "audit entries from an earlier run are queued for the webhook"
            );
        }
        let bytes = files.iter().map(|f| f.1).sum();
        let q = Arc::new(Queue {
            url: url.to_string(),
            dir,
            max_bytes,
            pending: Mutex::new(Pending {
                files: files.into(),
                bytes,
            }),
            next_seq: next.into(),
            wake: tokio::sync::Notify::new(),
        });
        q.gauge(bytes);
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(POST_TIMEOUT)
            .build()
            .context("the audit webhook HTTP client")?;
        tokio::spawn(send_loop(q.clone(), client, token));
        Ok(Webhook(q))
    }

    fn enqueue(&self, batch: &[u8], lines: u64) -> std::io::Result<bool> {
        let q = &self.0;
        let len = batch.len() as u64;
        if q.pending.lock().bytes + len > q.max_bytes {
            return Ok(false);
        }
        let seq = q
            .next_seq
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = q.path(seq);
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, batch)?;
        std::fs::rename(&tmp, &path)?;
        let bytes = {
            let mut p = q.pending.lock();
            p.files.push_back((seq, len, lines));
            p.bytes += len;
            p.bytes
        };
        q.gauge(bytes);
        q.wake.notify_one();
        Ok(true)
    }
}

impl Target for Webhook {
    fn write(&mut self, batch: &[u8], lines: u64) {
        match self.enqueue(batch, lines) {
            Ok(true) => {}
            Ok(false) => super::dropped(&self.0.url, lines),
            Err(e) => {
                tracing::error!(webhook = %self.0.url, error = %e, "cannot queue audit entries for the webhook");
                super::dropped(&self.0.url, lines);
            }
        }
    }
}

/// Sends the queue's files in order, forever.
async fn send_loop(q: Arc<Queue>, client: reqwest::Client, token: Option<String>) {
    let m = &crate::metrics::global().audit;
    let mut wait = Duration::from_millis(250);
    loop {
        let woken = q.wake.notified();
        let head: Vec<(u64, u64, u64)> = {
            let pending = q.pending.lock();
            let mut total = 0;
            pending
                .files
                .iter()
                .take_while(|f| {
                    let take = total == 0 || total + f.1 <= MAX_POST_BYTES;
                    total += f.1;
                    take
                })
                .copied()
                .collect()
        };
        if head.is_empty() {
            woken.await;
            continue;
        }
        let mut body = Vec::new();
        for f in &head {
            match tokio::fs::read(q.path(f.0)).await {
                Ok(d) => body.extend_from_slice(&d),
                Err(e) => {
                    tracing::error!(webhook = %q.url, error = %e, "an audit queue file cannot be read; it is skipped")
                }
            }
        }
        let mut post = client
            .post(&q.url)
            .header(reqwest::header::CONTENT_TYPE, "application/x-ndjson");
        if let Some(t) = &token {
            post = post.bearer_auth(t);
        }
        let sent = post.body(body).send().await;
        let failure = match sent {
            Ok(r) if r.status().is_success() => None,
            Ok(r) => Some(format!("the receiver answered {}", r.status())),
            Err(e) => Some(e.to_string()),
        };
        if let Some(why) = failure {
            m.delivery_errors.with_label_values(&[&q.url]).inc();
            tracing::warn!(webhook = %q.url, error = %why, retry_in = ?wait, "audit webhook delivery failed; entries stay queued");
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(MAX_RETRY_WAIT);
            continue;
        }
        wait = Duration::from_millis(250);
        let lines: u64 = head.iter().map(|f| f.2).sum();
        for f in &head {
            let _ = tokio::fs::remove_file(q.path(f.0)).await;
        }
        let bytes = {
            let mut p = q.pending.lock();
            p.files.drain(..head.len());
            p.bytes -= head.iter().map(|f| f.1).sum::<u64>();
            p.bytes
        };
        q.gauge(bytes);
        m.entries.with_label_values(&[&q.url]).inc_by(lines);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queued_files(dir: &Path) -> usize {
        std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .flat_map(|d| std::fs::read_dir(d.path()).unwrap().flatten())
            .filter(|f| f.path().extension().is_some_and(|e| e == "ndjson"))
            .count()
    }

    #[tokio::test]
    async fn a_full_queue_drops_new_batches_and_keeps_what_it_holds_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        // Nothing listens on port 1: every delivery fails, so batches stay queued.
        let url = "http://127.0.0.1:1/full-queue-test";
        let mut hook = Webhook::start(url, dir.path(), 64 * 1024, None).unwrap();
        let mut batch = vec![b'x'; 40 * 1024];
        batch.push(b'\n');
        hook.write(&batch, 1);
        hook.write(&batch, 1);
        let dropped = crate::metrics::global()
            .audit
            .dropped
            .with_label_values(&[url]);
        assert_eq!(dropped.get(), 1, "the second batch did not fit");
        assert_eq!(queued_files(dir.path()), 1);
        // Another start finds the batch and counts it against the limit.
        let mut again = Webhook::start(url, dir.path(), 64 * 1024, None).unwrap();
        assert_eq!(again.0.pending.lock().bytes, batch.len() as u64);
        again.write(&batch, 1);
        assert_eq!(dropped.get(), 2);
        again.write(b"{}\n", 1);
        assert_eq!(queued_files(dir.path()), 2);
    }
}
