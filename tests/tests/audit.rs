//! The audit log against the real binary: every request of a run — S3 with the AWS SDK, admin,
//! refused, presigned — appears exactly once in the file and at a webhook receiver, with who,
//! what and how it went, and never a secret; a receiver that refuses for a while, even across a
//! node restart, loses nothing.

use aws_sdk_s3::operation::RequestId;
use rustfs_tests::iam::add_user;
use rustfs_tests::{client, error_code, Server, ACCESS_KEY, SECRET_KEY};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// A webhook receiver: keeps the lines it is POSTed; while `refusing`, it drops every
/// connection without answering, as a receiver that is down would.
struct Receiver {
    url: String,
    lines: Arc<Mutex<Vec<String>>>,
    /// The `authorization` header of every POST.
    auths: Arc<Mutex<BTreeSet<String>>>,
    refusing: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/audit", listener.local_addr().unwrap());
        let lines = Arc::new(Mutex::new(Vec::new()));
        let auths = Arc::new(Mutex::new(BTreeSet::new()));
        let refusing = Arc::new(AtomicBool::new(false));
        let (l, r, a) = (lines.clone(), refusing.clone(), auths.clone());
        let task = tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                if r.load(Ordering::SeqCst) {
                    drop(conn);
                    continue;
                }
                tokio::spawn(serve(conn, l.clone(), r.clone(), a.clone()));
            }
        });
        Receiver {
            url,
            lines,
            auths,
            refusing,
            task,
        }
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves HTTP/1.1 POSTs on one connection (keep-alive) until it closes or refusing starts.
async fn serve(
    conn: tokio::net::TcpStream,
    lines: Arc<Mutex<Vec<String>>>,
    refusing: Arc<AtomicBool>,
    auths: Arc<Mutex<BTreeSet<String>>>,
) {
    let mut conn = BufReader::new(conn);
    loop {
        let mut length = 0usize;
        let mut head = String::new();
        loop {
            head.clear();
            if conn.read_line(&mut head).await.unwrap_or(0) == 0 {
                return;
            }
            let h = head.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
            if h.to_ascii_lowercase().starts_with("authorization:") {
                auths
                    .lock()
                    .unwrap()
                    .insert(h["authorization:".len()..].trim().to_string());
            }
        }
        let mut body = vec![0; length];
        if conn.read_exact(&mut body).await.is_err() || refusing.load(Ordering::SeqCst) {
            return;
        }
        let text = String::from_utf8(body).expect("NDJSON is UTF-8");
        lines
            .lock()
            .unwrap()
            .extend(text.lines().map(str::to_string));
        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
        if conn.get_mut().write_all(ok).await.is_err() {
            return;
        }
    }
}

/// Every line of the audit file and its rotated files, oldest first.
fn file_lines(path: &Path) -> Vec<String> {
    let mut files: Vec<PathBuf> = (1..100)
        .map(|n| PathBuf::from(format!("{}.{n}", path.display())))
        .filter(|p| p.exists())
        .collect();
    files.reverse();
    files.push(path.to_path_buf());
    files
        .iter()
        .flat_map(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Everything queued for webhooks under `dir`.
fn queued(dir: &Path) -> String {
    let mut out = String::new();
    for hook in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        for f in std::fs::read_dir(hook.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            if f.path().extension().is_some_and(|e| e == "ndjson") {
                out += &std::fs::read_to_string(f.path()).unwrap_or_default();
            }
        }
    }
    out
}

/// Entries by request id; panics on a request id seen twice or a line that is not an entry.
fn by_id(lines: &[String], what: &str) -> BTreeMap<String, serde_json::Value> {
    let mut out = BTreeMap::new();
    for l in lines {
        let e: serde_json::Value =
            serde_json::from_str(l).unwrap_or_else(|e| panic!("{what}: {e}: {l}"));
        let id = e["request_id"].as_str().expect("request_id").to_string();
        assert!(
            out.insert(id.clone(), e).is_none(),
            "{what}: request {id} twice"
        );
    }
    out
}

/// Waits (bounded) until `f` holds.
async fn until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let started = Instant::now();
    while !f() {
        assert!(started.elapsed() < limit, "not within {limit:?}: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn start_node(dir: &Path, receiver: &Receiver) -> Server {
    let args = vec![
        "--audit-file".to_string(),
        dir.join("audit/audit.log").display().to_string(),
        "--audit-file-max-bytes".into(),
        "8192".into(),
        "--audit-file-keep".into(),
        "99".into(),
        "--audit-webhook".into(),
        receiver.url.clone(),
        format!("{}/d{{1...4}}", dir.display()),
    ];
    Server::start(
        &args,
        &[("RUSTFS_AUDIT_WEBHOOK_TOKEN", "audit-receiver-token")],
        &dir.join("server.log"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_is_audited_once_in_the_file_and_at_the_webhook() {
    let receiver = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut node = start_node(dir.path(), &receiver);
    let ep = node.endpoint.clone();
    let root = node.client();
    // The request ids the clients were answered with, and what each request was.
    let mut sent: Vec<(String, &str)> = Vec::new();

    let r = root.create_bucket().bucket("logs").send().await.unwrap();
    sent.push((r.request_id().unwrap().to_string(), "CreateBucket"));
    for i in 0..40 {
        let r = root
            .put_object()
            .bucket("logs")
            .key(format!("dir/k{i}"))
            .body(vec![7u8; 1000 + i].into())
            .send()
            .await
            .unwrap();
        sent.push((r.request_id().unwrap().to_string(), "PutObject"));
    }
    let r = root
        .get_object()
        .bucket("logs")
        .key("dir/k5")
        .send()
        .await
        .unwrap();
    let get_id = r.request_id().unwrap().to_string();
    assert_eq!(r.body.collect().await.unwrap().into_bytes().len(), 1005);
    sent.push((get_id.clone(), "GetObject"));
    let r = root.list_objects_v2().bucket("logs").send().await.unwrap();
    sent.push((r.request_id().unwrap().to_string(), "ListObjectsV2"));
    let e = root
        .get_object()
        .bucket("logs")
        .key("missing")
        .send()
        .await
        .unwrap_err();
    let missing_id = e.request_id().unwrap().to_string();
    assert_eq!(error_code(e), "NoSuchKey");
    sent.push((missing_id.clone(), "GetObject"));
    // A wrong secret: refused, logged with the key it claimed.
    let forger = client(&ep, ACCESS_KEY, "not-the-secret-key");
    let e = forger.list_buckets().send().await.unwrap_err();
    let forged_id = e.request_id().unwrap().to_string();
    assert_eq!(error_code(e), "SignatureDoesNotMatch");
    sent.push((forged_id.clone(), "unknown"));
    // A user made through the admin API (its secret is in that request's body), then its call.
    let alice = add_user(&ep, "alice", &["readonly"]).await;
    let r = alice
        .get_object()
        .bucket("logs")
        .key("dir/k1")
        .send()
        .await
        .unwrap();
    let alice_id = r.request_id().unwrap().to_string();
    sent.push((alice_id.clone(), "GetObject"));
    // A presigned GET: its signature rides in the query.
    let presigned = root
        .get_object()
        .bucket("logs")
        .key("dir/k2")
        .presigned(
            aws_sdk_s3::presigning::PresigningConfig::expires_in(Duration::from_secs(300)).unwrap(),
        )
        .await
        .unwrap();
    let signature = presigned
        .uri()
        .split("X-Amz-Signature=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();
    let r = reqwest::get(presigned.uri()).await.unwrap();
    assert_eq!(r.status(), 200);
    let presigned_id = r.headers()["x-amz-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    sent.push((presigned_id.clone(), "GetObject"));

    // The receiver goes down; requests go on; it comes back.
    receiver.refusing.store(true, Ordering::SeqCst);
    for i in 0..10 {
        let r = root
            .put_object()
            .bucket("logs")
            .key(format!("outage/k{i}"))
            .body(vec![1u8; 100].into())
            .send()
            .await
            .unwrap();
        sent.push((r.request_id().unwrap().to_string(), "PutObject"));
    }
    let audit_file = dir.path().join("audit/audit.log");
    let last = sent.last().unwrap().0.clone();
    until(
        "the outage's entries reach the file",
        Duration::from_secs(10),
        || file_lines(&audit_file).iter().any(|l| l.contains(&last)),
    )
    .await;
    let queue = dir.path().join("d1/.rustfs.sys/audit-queue");
    until(
        "the outage's entries are queued on disk",
        Duration::from_secs(10),
        || queued(&queue).contains(&last),
    )
    .await;
    let delivered = receiver.lines().len();
    assert!(
        !receiver.lines().iter().any(|l| l.contains(&last)),
        "delivered while the receiver was down"
    );
    // A node restart while the receiver is still down: the queue is on disk.
    node.restart();
    let root = node.client();
    let r = root
        .head_object()
        .bucket("logs")
        .key("dir/k3")
        .send()
        .await
        .unwrap();
    sent.push((r.request_id().unwrap().to_string(), "HeadObject"));
    receiver.refusing.store(false, Ordering::SeqCst);

    let expected: BTreeSet<String> = sent.iter().map(|(id, _)| id.clone()).collect();
    // The admin calls add_user made are audited too (not counted in `sent`).
    until(
        "every request at the webhook",
        Duration::from_secs(60),
        || {
            let got: BTreeSet<String> = by_id(&receiver.lines(), "webhook").into_keys().collect();
            expected.is_subset(&got)
        },
    )
    .await;
    assert!(receiver.lines().len() > delivered);
    let in_file = by_id(&file_lines(&audit_file), "file");
    let at_hook = by_id(&receiver.lines(), "webhook");
    assert_eq!(
        in_file.keys().collect::<Vec<_>>(),
        at_hook.keys().collect::<Vec<_>>(),
        "the file and the webhook saw the same requests"
    );
    assert!(
        PathBuf::from(format!("{}.1", audit_file.display())).exists(),
        "the file rotated"
    );
    for (id, api) in &sent {
        let e = &in_file[id];
        assert_eq!(e["api"], *api, "{e}");
    }
    let admin: Vec<_> = in_file.values().filter(|e| e["api"] == "Admin").collect();
    assert_eq!(
        admin.len(),
        2,
        "add_user: the user and the attach: {admin:?}"
    );
    assert_eq!(
        in_file.len(),
        sent.len() + admin.len(),
        "nothing else was logged"
    );

    // What entries say.
    let put = in_file.values().find(|e| e["key"] == "dir/k7").unwrap();
    assert_eq!(put["bucket"], "logs");
    assert_eq!(put["method"], "PUT");
    assert_eq!(put["status"], 200);
    assert_eq!(put["bytes_in"], 1007);
    assert_eq!(put["access_key"], ACCESS_KEY);
    assert_eq!(put["parent_user"], ACCESS_KEY);
    assert_eq!(put["authenticated"], true);
    assert!(
        put["source"].as_str().unwrap().starts_with("127.0.0.1:"),
        "{put}"
    );
    assert!(
        put["user_agent"].as_str().unwrap().contains("aws-sdk-rust"),
        "{put}"
    );
    assert!(put["ttfb_ms"].as_f64().unwrap() <= put["duration_ms"].as_f64().unwrap());
    assert!(put["node"].as_str().unwrap().contains("127.0.0.1"), "{put}");
    assert_eq!(in_file[&get_id]["bytes_out"], 1005);
    assert_eq!(in_file[&missing_id]["status"], 404);
    assert_eq!(in_file[&missing_id]["error_code"], "NoSuchKey");
    let forged = &in_file[&forged_id];
    assert_eq!(forged["status"], 403);
    assert_eq!(forged["error_code"], "SignatureDoesNotMatch");
    assert_eq!(forged["authenticated"], false);
    assert_eq!(forged["access_key"], ACCESS_KEY, "the key it claimed");
    assert_eq!(in_file[&alice_id]["access_key"], "alice");
    assert_eq!(in_file[&alice_id]["parent_user"], "alice");
    assert_eq!(in_file[&presigned_id]["path"], "/logs/dir/k2");

    let auths = receiver.auths.lock().unwrap().clone();
    assert_eq!(
        auths.into_iter().collect::<Vec<_>>(),
        ["Bearer audit-receiver-token"],
        "every POST carried the token"
    );

    // No secret anywhere: root's, alice's (sent in an admin body), a signature, the token.
    let all = file_lines(&audit_file).join("\n") + &receiver.lines().join("\n");
    for secret in [
        "audit-receiver-token",
        SECRET_KEY,
        "alice-secret-key",
        signature.as_str(),
        "Signature=",
    ] {
        assert!(!all.contains(secret), "a secret in the audit log: {secret}");
    }
}

#[test]
fn bad_audit_settings_stop_the_node_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let drives = format!("{}/d{{1...4}}", dir.path().display());
    let err = Server::start_failing(
        &[
            "--audit-webhook".into(),
            "ftp://127.0.0.1/x".into(),
            drives.clone(),
        ],
        &[],
    );
    assert!(err.contains("use an http:// or https:// URL"), "{err}");
    let err = Server::start_failing(
        &[
            "--audit-webhook".into(),
            "http://user:pw@127.0.0.1/x".into(),
            drives.clone(),
        ],
        &[],
    );
    assert!(err.contains("credentials in the URL"), "{err}");
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, "").unwrap();
    let err = Server::start_failing(
        &[
            "--audit-file".into(),
            blocker.join("audit.log").display().to_string(),
            drives,
        ],
        &[],
    );
    assert!(err.contains("audit file"), "{err}");
}
