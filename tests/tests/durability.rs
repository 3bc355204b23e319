//! Objects survive lost and rotten drives within parity; beyond parity the server answers 503;
//! a crash mid-PUT leaves the previous version; start-up refuses foreign or broken drives.

use aws_sdk_s3::primitives::ByteStream;
use rustfs_tests::{pattern, raw, Server, TestNode};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const MIB: usize = 1024 * 1024;

async fn put(c: &aws_sdk_s3::Client, bucket: &str, key: &str, data: &[u8]) {
    c.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(data.to_vec()))
        .send()
        .await
        .unwrap();
}

async fn get(c: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Result<Vec<u8>, u16> {
    match c.get_object().bucket(bucket).key(key).send().await {
        Ok(r) => Ok(r.body.collect().await.expect("body").into_bytes().to_vec()),
        Err(e) => Err(e.raw_response().map(|r| r.status().as_u16()).unwrap_or(0)),
    }
}

/// Every shard file (`part.N`) of an object on one drive.
fn part_files(obj_dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(obj_dir).into_iter().flatten().flatten() {
        if e.path().is_dir() {
            for f in std::fs::read_dir(e.path()).into_iter().flatten().flatten() {
                if f.file_name().to_string_lossy().starts_with("part.") {
                    out.push(f.path());
                }
            }
        }
    }
    out
}

fn flip_bytes(path: &Path, every: usize) {
    let mut b = std::fs::read(path).unwrap();
    let mut i = 40; // past the first hash: damage shard bytes
    while i < b.len() {
        b[i] ^= 0x5a;
        i += every;
    }
    std::fs::write(path, b).unwrap();
}

const SIZES: [usize; 4] = [1, 1000, 3 * MIB + 7, 9 * MIB];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_survive_losing_parity_drives() {
    losing_parity_drives(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_survive_losing_parity_drives_with_the_other_codec() {
    losing_parity_drives(&[("RUSTFS_CODEC", "rs-simd"), ("RUSTFS_BITROT", "blake3")]).await;
}

async fn losing_parity_drives(env: &[(&str, &str)]) {
    let node = TestNode::start_with(4, env);
    let c = node.client();
    c.create_bucket().bucket("dura").send().await.unwrap();
    for (i, len) in SIZES.into_iter().enumerate() {
        put(&c, "dura", &format!("whole/{i}"), &pattern(len, i as u64)).await;
        put(
            &c,
            "dura",
            &format!("parts/{i}"),
            &pattern(len, 50 + i as u64),
        )
        .await;
    }
    // Two drives (= parity) lose whole objects; two other drives lose only shard files.
    for i in 0..SIZES.len() {
        for d in [1, 3] {
            std::fs::remove_dir_all(node.drive(d).join("dura/whole").join(i.to_string())).unwrap();
        }
        for d in [2, 4] {
            for f in part_files(&node.drive(d).join("dura/parts").join(i.to_string())) {
                std::fs::remove_file(f).unwrap();
            }
        }
    }
    for (i, len) in SIZES.into_iter().enumerate() {
        assert!(
            get(&c, "dura", &format!("whole/{i}")).await.unwrap() == pattern(len, i as u64),
            "whole/{i}"
        );
        assert!(
            get(&c, "dura", &format!("parts/{i}")).await.unwrap() == pattern(len, 50 + i as u64),
            "parts/{i}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bitrot_is_detected_and_read_around() {
    let node = TestNode::start(4);
    let c = node.client();
    c.create_bucket().bucket("rot").send().await.unwrap();
    for (i, len) in SIZES.into_iter().enumerate() {
        put(&c, "rot", &i.to_string(), &pattern(len, 7 + i as u64)).await;
    }
    for i in 0..SIZES.len() {
        for d in [2, 3] {
            let dir = node.drive(d).join("rot").join(i.to_string());
            let parts = part_files(&dir);
            if parts.is_empty() {
                flip_bytes(&dir.join("rustfs.meta"), 97); // inline object: the meta is damaged
            }
            for f in parts {
                flip_bytes(&f, 4099);
            }
        }
    }
    for (i, len) in SIZES.into_iter().enumerate() {
        let got = get(&c, "rot", &i.to_string()).await.unwrap();
        assert!(
            got == pattern(len, 7 + i as u64),
            "object {i} came back wrong"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_parity_answers_503() {
    let node = TestNode::start(4);
    let c = node.client();
    c.create_bucket().bucket("gone").send().await.unwrap();
    put(&c, "gone", "small", b"tiny").await;
    put(&c, "gone", "big", &pattern(2 * MIB, 1)).await;
    for d in [1, 2, 3] {
        std::fs::remove_dir_all(node.drive(d)).unwrap();
    }
    for key in ["small", "big"] {
        assert_eq!(get(&c, "gone", key).await.unwrap_err(), 503, "GET {key}");
        let e = c
            .head_object()
            .bucket("gone")
            .key(key)
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.raw_response().unwrap().status().as_u16(), 503);
    }
    // Let the online cache notice, then writes are refused too, cleanly.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let e = c
        .put_object()
        .bucket("gone")
        .key("new")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 503);
    let e = c.list_objects_v2().bucket("gone").send().await.unwrap_err();
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 503);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_during_put_keeps_previous_version() {
    let mut node = TestNode::start(4);
    let c = node.client();
    c.create_bucket().bucket("crash").send().await.unwrap();
    let v1 = pattern(4 * MIB, 11);
    put(&c, "crash", "obj", &v1).await;

    // Send 8 of 64 MiB, then stall until the server is killed.
    let url = format!("{}/crash/obj", node.server.endpoint);
    let (stall_tx, stall_rx) = tokio::sync::oneshot::channel::<()>();
    let chunk = bytes::Bytes::from(pattern(MIB, 12));
    let head = futures::stream::iter((0..8).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
    let tail = futures::stream::once(async move {
        let _ = stall_rx.await;
        Err(std::io::Error::other("stalled"))
    });
    let body = futures::StreamExt::chain(head, tail);
    let upload = tokio::spawn(async move { raw::put_stream(&url, 64 * MIB as u64, body).await });
    // Wait until shard data of the new version is on disk.
    let tmp = node.drive(1).join(".rustfs.sys/tmp");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if walk_size(&tmp) >= 2 * MIB as u64 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the PUT never reached the drives"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    node.server.kill();
    drop(stall_tx);
    let _ = upload.await;
    node.server.restart();
    let c = node.client();
    assert!(
        get(&c, "crash", "obj").await.unwrap() == v1,
        "previous version must survive"
    );
    let keys: Vec<String> = c
        .list_objects_v2()
        .bucket("crash")
        .send()
        .await
        .unwrap()
        .contents()
        .iter()
        .map(|o| o.key().unwrap().to_string())
        .collect();
    assert_eq!(keys, ["obj"]);
    assert_eq!(walk_size(&tmp), 0, "start-up clears interrupted writes");
}

/// Bytes in files under `dir` (the harness's `tree` only skips `.rustfs.sys/tmp` relative to a
/// drive root, so it sees everything below the tmp dir itself).
fn walk_size(dir: &Path) -> u64 {
    rustfs_tests::tree(dir).values().sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_survives_restart() {
    let mut node = TestNode::start(4);
    let c = node.client();
    c.create_bucket().bucket("keep").send().await.unwrap();
    put(&c, "keep", "a", &pattern(5 * MIB, 2)).await;
    node.server.restart();
    assert!(get(&node.client(), "keep", "a").await.unwrap() == pattern(5 * MIB, 2));
}

#[test]
fn startup_refuses_bad_drives() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let arg = |name: &str| format!("{}/{name}{{1...4}}", p.display());

    // A drive of another deployment.
    for set in ["a", "b"] {
        let s = Server::start(&[arg(set)], &[], &p.join(format!("{set}.log")));
        drop(s);
    }
    std::fs::rename(p.join("a4"), p.join("a4-old")).unwrap();
    std::fs::rename(p.join("b4"), p.join("a4")).unwrap();
    let err = Server::start_failing(&[arg("a")], &[]);
    assert!(err.contains("belongs to deployment"), "{err}");

    // A drive that is a file.
    std::fs::create_dir_all(p.join("f1")).unwrap();
    std::fs::write(p.join("f2"), b"not a dir").unwrap();
    let err = Server::start_failing(&[arg("f")], &[]);
    assert!(err.contains("is not a directory"), "{err}");

    // Malformed patterns, duplicates, bad storage classes and set sizes.
    type Case<'a> = (Vec<String>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![format!("{}/x{{1..4}}", p.display())],
            vec![],
            "three dots",
        ),
        (
            vec![
                format!("{}/y{{1...4}}", p.display()),
                format!("{}/y{{3...6}}", p.display()),
            ],
            vec![],
            "more than once",
        ),
        (
            vec![arg("z")],
            vec![("RUSTFS_STORAGE_CLASS_STANDARD", "EC:3")],
            "EC:3",
        ),
        (
            vec![arg("w")],
            vec![("RUSTFS_ERASURE_SET_DRIVE_COUNT", "3")],
            "does not divide",
        ),
        (
            vec![arg("v")],
            vec![("RUSTFS_ROOT_PASSWORD", "short")],
            "8 to 128",
        ),
    ];
    for (args, env, want) in cases {
        let err = Server::start_failing(&args, &env);
        assert!(err.contains(want), "{args:?} {env:?}: {err}");
    }
}
