//! A mixed-version cluster: nodes 1 and 2 run an earlier release (`RUSTFS_OLD_BIN`), nodes 3 and
//! 4 this build, under mixed S3 traffic through every node (PUT of small and multipart objects,
//! GET through another node, LIST, DELETE). No request may fail and every acknowledged write
//! must read back byte for byte through a node of the other version. Then the old nodes are
//! replaced by this build one at a time, as a rolling upgrade does, and everything written
//! before still reads back.
//!
//! Building an earlier release takes a cold build of its own, so this is not part of the suite:
//! `scripts/mixed-version.sh [REV]` builds REV (default: the newest `v*` tag) and runs it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_sdk_s3::Client;
use rustfs_tests::cluster::Cluster;
use rustfs_tests::{get_bytes, pattern};

const PART: usize = 5 << 20;

async fn put(c: &Client, key: &str, body: &[u8]) -> Result<(), String> {
    if body.len() <= PART {
        return c
            .put_object()
            .bucket("mixed")
            .key(key)
            .body(ByteStream::from(body.to_vec()))
            .send()
            .await
            .map(drop)
            .map_err(|e| format!("PUT {key}: {e:?}"));
    }
    let up = c
        .create_multipart_upload()
        .bucket("mixed")
        .key(key)
        .send()
        .await
        .map_err(|e| format!("create upload {key}: {e:?}"))?;
    let id = up.upload_id().unwrap_or_default().to_string();
    let mut parts = Vec::new();
    for (i, chunk) in body.chunks(PART).enumerate() {
        let n = i as i32 + 1;
        let p = c
            .upload_part()
            .bucket("mixed")
            .key(key)
            .upload_id(&id)
            .part_number(n)
            .body(ByteStream::from(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| format!("part {n} of {key}: {e:?}"))?;
        parts.push(
            CompletedPart::builder()
                .part_number(n)
                .e_tag(p.e_tag().unwrap_or_default())
                .build(),
        );
    }
    c.complete_multipart_upload()
        .bucket("mixed")
        .key(key)
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .map(drop)
        .map_err(|e| format!("complete {key}: {e:?}"))
}

/// One round of traffic: every node writes, another node (of the other version where there is
/// one) reads back, lists, and deletes every other key. Returns the keys left and their seeds.
async fn round(c: &Cluster, round: u64, kept: &mut Vec<(String, usize, u64)>) {
    let n = c.nodes.len();
    for w in 0..n {
        let size = [1024, 300 << 10, 12 << 20][(round as usize + w) % 3];
        let seed = round * 100 + w as u64;
        let key = format!("r{round}/w{w}");
        let body = pattern(size, seed);
        put(&c.client(w), &key, &body).await.unwrap();
        let reader = (w + n / 2) % n;
        assert_eq!(
            get_bytes(&c.client(reader), "mixed", &key).await,
            body,
            "{key} written through node {} read through node {}",
            w + 1,
            reader + 1
        );
        if w % 2 == 0 {
            c.client((w + 1) % n)
                .delete_object()
                .bucket("mixed")
                .key(&key)
                .send()
                .await
                .unwrap();
        } else {
            kept.push((key, size, seed));
        }
    }
    let listed = c
        .client(round as usize % n)
        .list_objects_v2()
        .bucket("mixed")
        .prefix(format!("r{round}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(listed.contents().len(), n / 2, "round {round}: {listed:?}");
}

/// Every kept object reads back, through each node but `down` in turn.
async fn all_read_back(c: &Cluster, kept: &[(String, usize, u64)], down: Option<usize>) {
    let readers: Vec<usize> = (0..c.nodes.len()).filter(|i| Some(*i) != down).collect();
    for (i, (key, size, seed)) in kept.iter().enumerate() {
        let got = get_bytes(&c.client(readers[i % readers.len()]), "mixed", key).await;
        assert!(got == pattern(*size, *seed), "{key} changed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs an earlier release's binary: scripts/mixed-version.sh"]
async fn an_earlier_release_and_this_build_serve_one_cluster() {
    let old = PathBuf::from(
        std::env::var("RUSTFS_OLD_BIN").expect("RUSTFS_OLD_BIN: the earlier release's rustfs"),
    );
    let mut c = Cluster::start_binaries(4, 2, |i| (i < 2).then(|| old.clone()));
    c.wait_healthy();
    let mut versions = Vec::new();
    for n in &c.nodes {
        let r = reqwest::get(format!("{}/rustfs/health/live", n.endpoint))
            .await
            .unwrap();
        let v = r
            .headers()
            .get("x-rustfs-version")
            .map(|v| v.to_str().unwrap_or("?").to_string());
        versions.push(v.unwrap_or_else(|| "(no header)".into()));
    }
    println!("versions: {versions:?}");
    c.client(0)
        .create_bucket()
        .bucket("mixed")
        .send()
        .await
        .unwrap();

    let started = Instant::now();
    let mut kept = Vec::new();
    let mut r = 0;
    while started.elapsed() < Duration::from_secs(30) || r < 6 {
        round(&c, r, &mut kept).await;
        r += 1;
    }
    println!(
        "bench: mixed-version cluster: {r} rounds, {} objects kept, in {:.1}s, 0 failed requests",
        kept.len(),
        started.elapsed().as_secs_f64()
    );

    // The old nodes move to this build one at a time; the data stays readable throughout.
    for i in 0..2 {
        c.nodes[i].kill();
        all_read_back(&c, &kept, Some(i)).await;
        let this = rustfs_tests::rustfs_bin();
        c.nodes[i].set_binary(&this);
        c.restart(i);
        c.wait_healthy();
        round(&c, r, &mut kept).await;
        r += 1;
    }
    all_read_back(&c, &kept, None).await;
}
