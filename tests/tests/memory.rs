//! Memory per request is bounded by the block size: a 1 GiB PUT and GET keep the server's peak
//! RSS under 200 MiB.

use aws_sdk_s3::primitives::ByteStream;
use md5::{Digest, Md5};
use rustfs_tests::{pattern, TestNode};
use std::io::Write;

const GIB: usize = 1 << 30;
const LIMIT_KIB: u64 = 200 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_gib_put_and_get_stay_under_200_mib() {
    let node = TestNode::start(4);
    let c = node.client();
    c.create_bucket().bucket("mem").send().await.unwrap();

    // Stream the object from a file so the client does not hold it in memory either.
    let path = node.dir.path().join("one-gib.bin");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let chunk = pattern(1 << 20, 77);
    let mut want = Md5::new();
    for i in 0..(GIB >> 20) {
        let mut c = chunk.clone();
        c[..8].copy_from_slice(&(i as u64).to_le_bytes());
        want.update(&c);
        f.write_all(&c).unwrap();
    }
    f.flush().unwrap();
    drop(f);
    let want = hex::encode(want.finalize());

    let put = c
        .put_object()
        .bucket("mem")
        .key("big")
        .body(ByteStream::from_path(&path).await.unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(put.e_tag().unwrap().trim_matches('"'), want);
    std::fs::remove_file(&path).unwrap();
    let after_put = node.server.peak_rss_kib();

    let mut r = c
        .get_object()
        .bucket("mem")
        .key("big")
        .send()
        .await
        .unwrap();
    let mut got = Md5::new();
    let mut n = 0usize;
    while let Some(b) = r.body.try_next().await.unwrap() {
        n += b.len();
        got.update(&b);
    }
    assert_eq!(n, GIB);
    assert_eq!(hex::encode(got.finalize()), want);
    let peak = node.server.peak_rss_kib();
    println!(
        "peak RSS after 1 GiB PUT: {} MiB, after GET: {} MiB",
        after_put / 1024,
        peak / 1024
    );
    assert!(
        peak < LIMIT_KIB,
        "peak RSS {peak} KiB exceeds {LIMIT_KIB} KiB"
    );
}
