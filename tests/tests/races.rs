//! Concurrent writers, readers and deletes on a real node, each racing where the write path used
//! to be unsafe: conditional PUTs, uploads of one part number against a completion, GETs of a
//! multipart object under an overwrite, commits that miss their quorum, sibling keys committing
//! while a delete prunes their directory, and the durability order of a PUT (syscalls traced).

use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_sdk_s3::Client;
use rustfs_tests::{pattern, TestNode};
use std::time::Duration;

const MIB: usize = 1 << 20;

async fn put(c: &Client, key: &str, body: Vec<u8>) -> Result<String, String> {
    c.put_object()
        .bucket("bkt")
        .key(key)
        .body(body.into())
        .send()
        .await
        .map(|o| o.e_tag().unwrap_or_default().to_string())
        .map_err(|e| format!("{:?}", e.into_service_error()))
}

async fn get(c: &Client, key: &str) -> Result<Vec<u8>, String> {
    let o = c
        .get_object()
        .bucket("bkt")
        .key(key)
        .send()
        .await
        .map_err(|e| format!("{:?}", e.into_service_error()))?;
    Ok(o.body
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .into_bytes()
        .to_vec())
}

fn md5_etag(data: &[u8]) -> String {
    use md5::Digest;
    format!("\"{}\"", hex::encode(md5::Md5::digest(data)))
}

async fn node_with_bucket() -> TestNode {
    let node = TestNode::start(4);
    node.client()
        .create_bucket()
        .bucket("bkt")
        .send()
        .await
        .unwrap();
    node
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_if_none_match_puts_have_exactly_one_winner() {
    let node = node_with_bucket().await;
    for i in 0..12 {
        let key = format!("claim-{i}");
        let attempt = |seed: u64| {
            let c = node.client();
            let key = key.clone();
            async move {
                c.put_object()
                    .bucket("bkt")
                    .key(&key)
                    .if_none_match("*")
                    .body(pattern(2 * MIB, seed).into())
                    .send()
                    .await
                    .map_err(|e| e.raw_response().map(|r| r.status().as_u16()))
            }
        };
        let (a, b) = tokio::join!(attempt(1), attempt(2));
        let outcomes = [a.is_ok(), b.is_ok()];
        assert_eq!(
            outcomes.iter().filter(|o| **o).count(),
            1,
            "{key}: {a:?} {b:?}"
        );
        let loser = if a.is_ok() { b } else { a };
        assert_eq!(loser.unwrap_err(), Some(412), "{key}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_uploads_of_one_part_never_mix_with_a_completion() {
    let node = node_with_bucket().await;
    let c = node.client();
    for round in 0..12u64 {
        let key = format!("mpu-{round}");
        let up = c
            .create_multipart_upload()
            .bucket("bkt")
            .key(&key)
            .send()
            .await
            .unwrap();
        let id = up.upload_id().unwrap().to_string();
        let part = |data: Vec<u8>| {
            let (c, key, id) = (c.clone(), key.clone(), id.clone());
            async move {
                c.upload_part()
                    .bucket("bkt")
                    .key(&key)
                    .upload_id(&id)
                    .part_number(1)
                    .body(data.into())
                    .send()
                    .await
                    .map(|o| o.e_tag().unwrap().to_string())
            }
        };
        let complete = |etag: String| {
            let (c, key, id) = (c.clone(), key.clone(), id.clone());
            async move {
                c.complete_multipart_upload()
                    .bucket("bkt")
                    .key(&key)
                    .upload_id(&id)
                    .multipart_upload(
                        CompletedMultipartUpload::builder()
                            .parts(CompletedPart::builder().part_number(1).e_tag(etag).build())
                            .build(),
                    )
                    .send()
                    .await
                    .map_err(|e| format!("{:?}", e.into_service_error()))
            }
        };
        // Eight uploads of part 1 race each other (small, so their commits overlap); the ETag
        // listed must name the bytes stored.
        let bodies: Vec<Vec<u8>> = (0..8)
            .map(|j| pattern(256 * 1024, 10 * round + j))
            .collect();
        let uploads = futures::future::join_all(bodies.iter().map(|b| part(b.clone()))).await;
        for (u, b) in uploads.iter().zip(&bodies) {
            assert_eq!(u.as_ref().unwrap(), &md5_etag(b));
        }
        let parts = c
            .list_parts()
            .bucket("bkt")
            .key(&key)
            .upload_id(&id)
            .send()
            .await
            .unwrap();
        let listed = parts.parts()[0].e_tag().unwrap().to_string();
        // Then a completion races a fifth upload of the same part.
        let (a, ea) = (bodies[0].clone(), md5_etag(&bodies[0]));
        let (third, done) = tokio::join!(part(a.clone()), complete(listed.clone()));
        if let Err(e) = third {
            let e = format!("{:?}", e.into_service_error());
            assert!(
                e.contains("NoSuchUpload"),
                "an upload racing a completion: {e}"
            );
        }
        match done {
            Ok(_) => {
                let want = bodies.iter().find(|b| md5_etag(b) == listed).unwrap();
                let got = get(&c, &key).await.unwrap();
                assert!(got == *want, "{key}: the bytes do not match ETag {listed}");
                let again = complete(listed).await.unwrap_err();
                assert!(again.contains("NoSuchUpload"), "{again}");
            }
            Err(e) if listed == ea => panic!("{key}: completing with the listed ETag failed: {e}"),
            Err(e) => assert!(e.contains("InvalidPart"), "{e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_multipart_get_survives_an_overwrite_and_a_delete() {
    let node = node_with_bucket().await;
    let c = node.client();
    let data: Vec<Vec<u8>> = (0..3).map(|i| pattern(5 * MIB, 40 + i)).collect();
    let whole: Vec<u8> = data.concat();
    for (round, then_delete) in [(0, false), (1, true)] {
        let key = format!("multi-{round}");
        let up = c
            .create_multipart_upload()
            .bucket("bkt")
            .key(&key)
            .send()
            .await
            .unwrap();
        let id = up.upload_id().unwrap();
        let mut done = CompletedMultipartUpload::builder();
        for (i, d) in data.iter().enumerate() {
            let n = i as i32 + 1;
            let p = c
                .upload_part()
                .bucket("bkt")
                .key(&key)
                .upload_id(id)
                .part_number(n)
                .body(d.clone().into())
                .send()
                .await
                .unwrap();
            done = done.parts(
                CompletedPart::builder()
                    .part_number(n)
                    .e_tag(p.e_tag().unwrap())
                    .build(),
            );
        }
        c.complete_multipart_upload()
            .bucket("bkt")
            .key(&key)
            .upload_id(id)
            .multipart_upload(done.build())
            .send()
            .await
            .unwrap();
        // The GET starts (and holds its first part), then the object is replaced or deleted.
        let o = c.get_object().bucket("bkt").key(&key).send().await.unwrap();
        let mut body = o.body;
        let first = body.next().await.unwrap().unwrap();
        if then_delete {
            c.delete_object()
                .bucket("bkt")
                .key(&key)
                .send()
                .await
                .unwrap();
        } else {
            put(&c, &key, b"the new, small object".to_vec())
                .await
                .unwrap();
        }
        let mut got = first.to_vec();
        while let Some(chunk) = body.next().await {
            got.extend_from_slice(&chunk.expect("the old body streams to its end"));
        }
        assert_eq!(got.len(), whole.len(), "{key}: a short 200");
        assert!(got == whole, "{key}: the old body, whole");
    }
}

/// Replaces a drive's temp area with a file, so nothing can be written there (root ignores
/// permissions, a file in place of a directory it cannot).
fn sabotage(node: &TestNode, drive: usize) -> std::path::PathBuf {
    let tmp = node.drive(drive).join(".rustfs.sys/tmp");
    std::fs::remove_dir_all(&tmp).unwrap();
    std::fs::write(&tmp, b"not a directory").unwrap();
    tmp
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_write_that_misses_quorum_leaves_the_old_version() {
    let node = node_with_bucket().await;
    let c = node.client();
    put(&c, "k", b"old version".to_vec()).await.unwrap();
    // Two of four drives (EC 2+2, write quorum 3) cannot commit: the write fails with 503 and is
    // rolled back on the two that took it, so the new version (2 copies, enough to read) is gone.
    let broken: Vec<_> = [1, 2].iter().map(|d| sabotage(&node, *d)).collect();
    let err = put(&c, "k", b"new version".to_vec()).await.unwrap_err();
    assert!(
        err.contains("ServiceUnavailable") || err.contains("503"),
        "{err}"
    );
    assert_eq!(get(&c, "k").await.unwrap(), b"old version");
    let err = put(&c, "fresh", b"never whole".to_vec()).await.unwrap_err();
    assert!(
        err.contains("ServiceUnavailable") || err.contains("503"),
        "{err}"
    );
    for t in broken {
        std::fs::remove_file(&t).unwrap();
        std::fs::create_dir(&t).unwrap();
    }
    assert_eq!(get(&c, "k").await.unwrap(), b"old version");
    assert!(get(&c, "fresh").await.unwrap_err().contains("NoSuchKey"));
    for d in 1..=4 {
        assert!(
            !node.drive(d).join("bkt/fresh").exists(),
            "drive {d} kept a partial version"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sibling_keys_commit_while_their_directory_is_pruned() {
    let node = node_with_bucket().await;
    let c = node.client();
    let mut tasks = Vec::new();
    for i in 0..400 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let (gone, kept) = (format!("p{i}/a/b/c/gone"), format!("p{i}/a/b/c/kept"));
            put(&c, &gone, b"x".to_vec()).await.unwrap();
            let del = c.delete_object().bucket("bkt").key(&gone).send();
            let (d, p) = tokio::join!(del, put(&c, &kept, vec![i as u8; 100]));
            d.unwrap();
            p.unwrap_or_else(|e| panic!("{kept}: {e}"));
            assert_eq!(get(&c, &kept).await.unwrap(), vec![i as u8; 100]);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

/// A PUT's file-system syscalls, in completion order, as `strace -f -y` shows them.
#[derive(Debug)]
struct Call {
    name: String,
    args: String,
}

fn parse_trace(text: &str) -> Vec<Call> {
    let mut pending: std::collections::HashMap<String, String> = Default::default();
    let mut out = Vec::new();
    for line in text.lines() {
        let (pid, rest) = match line.strip_prefix("[pid ") {
            Some(r) => r.split_once("] ").unwrap_or(("", r)),
            None => match line.split_once(' ') {
                Some((p, r)) if p.chars().all(|c| c.is_ascii_digit()) => (p, r),
                _ => ("", line),
            },
        };
        let rest = rest.trim();
        let full = if let Some(r) = rest.strip_prefix("<... ") {
            let Some(start) = pending.remove(pid) else {
                continue;
            };
            let tail = r.split_once(" resumed>").map(|(_, t)| t).unwrap_or("");
            format!("{start}{tail}")
        } else if let Some(start) = rest.strip_suffix(" <unfinished ...>") {
            pending.insert(pid.to_string(), start.to_string());
            continue;
        } else {
            rest.to_string()
        };
        let Some((name, args)) = full.split_once('(') else {
            continue;
        };
        if full.contains(" = -1 ") {
            continue;
        }
        out.push(Call {
            name: name.to_string(),
            args: args.to_string(),
        });
    }
    out
}

#[test]
fn a_put_is_durable_before_it_is_acknowledged() {
    use std::io::BufRead;
    if std::process::Command::new("strace")
        .arg("-V")
        .output()
        .is_err()
    {
        panic!("strace is missing: scripts/test.sh installs it");
    }
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace.txt");
    let drives = format!("{}/d{{1...4}}", dir.path().display());
    let mut child = std::process::Command::new("strace")
        .args(["-f", "-y", "-s", "24", "-o"])
        .arg(&trace)
        .args(["-e", "trace=fsync,fdatasync,rename,renameat,renameat2,mkdir,mkdirat,unlink,unlinkat,write,writev,sendto,sendmsg"])
        .arg(rustfs_tests::rustfs_bin())
        .args(["server", "--address", "127.0.0.1:0", &drives])
        .env("RUSTFS_ROOT_USER", rustfs_tests::ACCESS_KEY)
        .env("RUSTFS_ROOT_PASSWORD", rustfs_tests::SECRET_KEY)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("strace runs");
    // Keep draining stdout: a closed pipe would kill the node at its next line.
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(e) = line.trim().strip_prefix("endpoint:") {
                let _ = tx.send(e.trim().to_string());
            }
        }
    });
    let endpoint = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the node reports its endpoint");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let c = rustfs_tests::client(
        &endpoint,
        rustfs_tests::ACCESS_KEY,
        rustfs_tests::SECRET_KEY,
    );
    rt.block_on(async {
        c.create_bucket().bucket("bkt").send().await.unwrap();
        put(&c, "dir/big", pattern(3 * MIB, 9)).await.unwrap();
    });
    std::thread::sleep(Duration::from_millis(500));
    // The node is strace's child: killed first, or it would outlive the test once strace is gone.
    let strace = child.id();
    let kids = std::fs::read_to_string(format!("/proc/{strace}/task/{strace}/children"))
        .unwrap_or_default();
    for pid in kids.split_whitespace() {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", pid])
            .status();
    }
    let _ = child.kill();
    let _ = child.wait();
    let calls = parse_trace(&std::fs::read_to_string(&trace).unwrap());
    let ack = calls
        .iter()
        .rposition(|c| c.args.contains("HTTP/1.1 200"))
        .expect("the PUT's response is in the trace");
    let fsynced_before = |path: &str, at: usize| {
        calls[..at]
            .iter()
            .any(|c| c.name == "fsync" && c.args.contains(&format!("<{path}>")))
    };
    let fsynced_between = |path: &str, from: usize, to: usize| {
        calls[from..to]
            .iter()
            .any(|c| c.name == "fsync" && c.args.contains(&format!("<{path}>")))
    };
    let mut checked = 0;
    for d in 1..=4 {
        let root = dir.path().join(format!("d{d}")).canonicalize().unwrap();
        let obj = root.join("bkt/dir/big").display().to_string();
        for (i, c) in calls[..ack].iter().enumerate() {
            if !c.name.starts_with("rename") || !c.args.contains(&format!("{obj}/")) {
                continue;
            }
            let paths: Vec<&str> = c.args.split('"').skip(1).step_by(2).collect();
            let (src, dst) = (paths[0], paths[paths.len() - 1]);
            if dst.ends_with("rustfs.meta") {
                assert!(
                    fsynced_before(src, i),
                    "meta {src} renamed before its fsync"
                );
            } else {
                assert!(
                    fsynced_before(&format!("{src}/part.1"), i),
                    "shard file of {src} not fsynced before the rename"
                );
                assert!(
                    fsynced_before(src, i),
                    "data dir {src} not fsynced before its rename"
                );
            }
            assert!(
                fsynced_between(&obj, i, ack),
                "{obj} not fsynced after renaming {dst} into it, before the ack"
            );
            checked += 1;
        }
        for (i, c) in calls[..ack].iter().enumerate() {
            if c.name.starts_with("mkdir") && c.args.contains(&format!("\"{obj}\"")) {
                let parent = root.join("bkt/dir").display().to_string();
                assert!(
                    fsynced_between(&parent, i, ack),
                    "{parent} not fsynced after mkdir of {obj}"
                );
            }
        }
    }
    assert_eq!(
        checked, 8,
        "a data dir and a meta renamed into place on each of 4 drives"
    );
}
