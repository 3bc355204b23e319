//! The audit log (ARCHITECTURE.md, "Audit log"): one JSON line per S3 and admin request this
//! node answers, written to a size-rotated file (`file.rs`) and delivered to HTTP webhooks
//! through a bounded on-disk queue each (`webhook.rs`).
//!
//! The request path never waits for either: [`emit`] hands the finished line to a bounded
//! channel and returns. A full channel or a full queue drops the entry, counts it in
//! `rustfs_audit_dropped_total` and logs (at most once a minute). Entries carry who
//! asked and what for — never a secret, signature or session token: the path is logged without
//! its query (a presigned URL carries its signature there) and no header is copied but the
//! user agent.

mod file;
mod webhook;

use serde::Serialize;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

/// Format version of an entry (the `version` field).
pub const ENTRY_VERSION: u32 = 1;
/// Entries waiting for the writer at most; beyond, new ones are dropped (and counted).
const CHANNEL_CAPACITY: usize = 64 * 1024;

/// Where audit entries go (`rustfs server` flags).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AuditConfig {
    /// Write the audit log, one JSON line per request, to this file (rotated by size).
    #[arg(long, env = "RUSTFS_AUDIT_FILE")]
    pub audit_file: Option<PathBuf>,
    /// Rotate the audit file when it reaches this many bytes.
    #[arg(long, env = "RUSTFS_AUDIT_FILE_MAX_BYTES", default_value_t = 100 * 1024 * 1024)]
    pub audit_file_max_bytes: u64,
    /// Rotated audit files kept (`FILE.1` newest … `FILE.N` oldest).
    #[arg(long, env = "RUSTFS_AUDIT_FILE_KEEP", default_value_t = 5)]
    pub audit_file_keep: usize,
    /// POST the audit log (newline-delimited JSON) to this URL; repeat for several receivers
    /// (in the environment: comma-separated).
    #[arg(long, env = "RUSTFS_AUDIT_WEBHOOK", value_delimiter = ',')]
    pub audit_webhook: Vec<String>,
    /// Sent to every webhook as `Authorization: Bearer TOKEN` (prefer the environment form or
    /// `RUSTFS_AUDIT_WEBHOOK_TOKEN_FILE`, which `ps` does not show).
    #[arg(long, env = "RUSTFS_AUDIT_WEBHOOK_TOKEN", hide_env_values = true)]
    pub audit_webhook_token: Option<String>,
    /// File holding the webhook token (trailing newline ignored).
    #[arg(
        long,
        env = "RUSTFS_AUDIT_WEBHOOK_TOKEN_FILE",
        conflicts_with = "audit_webhook_token"
    )]
    pub audit_webhook_token_file: Option<PathBuf>,
    /// Where entries wait for a webhook that does not answer (one directory per webhook).
    /// Default: `.rustfs.sys/audit-queue` on this node's first drive.
    #[arg(long, env = "RUSTFS_AUDIT_QUEUE_DIR")]
    pub audit_queue_dir: Option<PathBuf>,
    /// Bytes of entries each webhook's queue may hold; beyond, new entries are dropped for it.
    #[arg(long, env = "RUSTFS_AUDIT_QUEUE_MAX_BYTES", default_value_t = 256 * 1024 * 1024)]
    pub audit_queue_max_bytes: u64,
}

impl AuditConfig {
    /// Checks the settings before the node starts.
    pub fn validate(&self) -> Result<(), String> {
        for url in &self.audit_webhook {
            let u = reqwest::Url::parse(url)
                .map_err(|e| format!("--audit-webhook {url:?} is not a URL: {e}"))?;
            if !matches!(u.scheme(), "http" | "https") {
                return Err(format!(
                    "--audit-webhook {url:?}: use an http:// or https:// URL"
                ));
            }
            if !u.username().is_empty() || u.password().is_some() {
                return Err(format!(
                    "--audit-webhook {url:?}: credentials in the URL would be logged; the receiver must not need them in the URL"
                ));
            }
        }
        if self.audit_file_max_bytes < 4096 {
            return Err("--audit-file-max-bytes must be at least 4096".into());
        }
        if self.audit_queue_max_bytes < 64 * 1024 {
            return Err("--audit-queue-max-bytes must be at least 65536".into());
        }
        Ok(())
    }

    fn enabled(&self) -> bool {
        self.audit_file.is_some() || !self.audit_webhook.is_empty()
    }
}

/// One request, as the audit log records it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Entry {
    pub version: u32,
    /// When the request arrived, RFC 3339 UTC with nanoseconds.
    pub time: String,
    /// The `x-amz-request-id` the client was answered with.
    pub request_id: String,
    /// This node (`host:port`).
    pub node: String,
    /// The S3 operation (`PutObject` …), `Admin` for the admin API, `unknown` when refused
    /// before the operation was known.
    pub api: String,
    pub method: String,
    /// The request path, without its query.
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Milliseconds from arrival to the response headers.
    pub ttfb_ms: f64,
    /// Milliseconds from arrival to the end of the response body.
    pub duration_ms: f64,
    /// The access key the request was signed with (as claimed, when `authenticated` is false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key: Option<String>,
    /// The user the key belongs to (a service account's parent; root's own key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_user: Option<String>,
    /// Whether the signature was checked and the caller identified.
    pub authenticated: bool,
    /// The client's address.
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}

struct Auditor {
    node: String,
    tx: tokio::sync::mpsc::Sender<String>,
}

static AUDITOR: OnceLock<Auditor> = OnceLock::new();

/// Whether audit entries are collected at all (nothing is built for a request otherwise).
pub fn enabled() -> bool {
    AUDITOR.get().is_some()
}

/// This node's name in entries.
pub fn node() -> &'static str {
    AUDITOR.get().map_or("", |a| a.node.as_str())
}

/// Starts the targets `cfg` names (nothing when it names none). `node` names this node in
/// entries; `first_drive` is where webhook queues live unless `--audit-queue-dir` says.
pub fn start(
    cfg: &AuditConfig,
    node: &str,
    first_drive: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    if !cfg.enabled() {
        return Ok(());
    }
    let mut targets: Vec<Box<dyn Target>> = Vec::new();
    if let Some(path) = &cfg.audit_file {
        targets.push(Box::new(file::RotatingFile::open(
            path,
            cfg.audit_file_max_bytes,
            cfg.audit_file_keep,
        )?));
    }
    if !cfg.audit_webhook.is_empty() {
        let dir = match (&cfg.audit_queue_dir, first_drive) {
            (Some(d), _) => d.clone(),
            (None, Some(d)) => d.join(crate::store::SYS_DIR).join("audit-queue"),
            (None, None) => anyhow::bail!(
                "--audit-webhook needs a queue directory: pass --audit-queue-dir (RUSTFS_AUDIT_QUEUE_DIR)"
            ),
        };
        let token = match (&cfg.audit_webhook_token, &cfg.audit_webhook_token_file) {
            (Some(t), _) => Some(t.clone()),
            (None, Some(f)) => Some(
                std::fs::read_to_string(f)
                    .map_err(|e| {
                        anyhow::anyhow!(
                            "cannot read --audit-webhook-token-file {}: {e}",
                            f.display()
                        )
                    })?
                    .trim_end()
                    .to_string(),
            ),
            (None, None) => None,
        };
        for url in &cfg.audit_webhook {
            targets.push(Box::new(webhook::Webhook::start(
                url,
                &dir,
                cfg.audit_queue_max_bytes,
                token.clone(),
            )?));
        }
    }
    let (tx, rx) = tokio::sync::mpsc::channel(CHANNEL_CAPACITY);
    std::thread::Builder::new()
        .name("rustfs-audit".into())
        .spawn(move || write_loop(rx, targets))?;
    let _ = AUDITOR.set(Auditor {
        node: node.to_string(),
        tx,
    });
    Ok(())
}

/// Logs one request; never waits.
pub fn emit(entry: &Entry) {
    let Some(a) = AUDITOR.get() else { return };
    let mut line = serde_json::to_string(entry).expect("entries serialize");
    line.push('\n');
    if a.tx.try_send(line).is_err() {
        dropped("channel", 1);
    }
}

/// Counts entries a target could not take and logs it, at most once a minute.
fn dropped(target: &str, n: u64) {
    let m = &crate::metrics::global().audit;
    m.dropped.with_label_values(&[target]).inc_by(n);
    static LAST_WARNED: AtomicU64 = AtomicU64::new(0);
    let now = crate::object::now_nanos() as u64;
    let last = LAST_WARNED.load(Ordering::Relaxed);
    if now.saturating_sub(last) > Duration::from_secs(60).as_nanos() as u64
        && LAST_WARNED
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        tracing::warn!(target, entries = n, "audit entries dropped: the target cannot keep up or its queue is full (rustfs_audit_dropped_total counts them)");
    }
}

/// Where the writer puts batches of lines.
trait Target: Send {
    /// Takes a batch of whole lines; failures are the target's to count and report.
    fn write(&mut self, batch: &[u8], lines: u64);
}

/// The writer thread: batches what is waiting and hands it to every target, until the channel
/// closes (the process exits).
fn write_loop(mut rx: tokio::sync::mpsc::Receiver<String>, mut targets: Vec<Box<dyn Target>>) {
    let mut batch = Vec::with_capacity(256 * 1024);
    while let Some(first) = rx.blocking_recv() {
        batch.clear();
        batch.extend_from_slice(first.as_bytes());
        let mut lines = 1u64;
        while batch.len() < 1024 * 1024 {
            match rx.try_recv() {
                Ok(l) => {
                    batch.extend_from_slice(l.as_bytes());
                    lines += 1;
                }
                Err(_) => break,
            }
        }
        for t in &mut targets {
            t.write(&batch, lines);
        }
    }
}

/// A request id: the arrival time in nanoseconds and a per-process sequence number, in hex
/// (sorts by time; unique within the node).
pub fn request_id() -> String {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, Ordering::Relaxed) & 0xFFFF;
    format!("{:X}{seq:04X}", crate::object::now_nanos())
}
