//! Server pools: a second pool on the command line adds capacity; new objects spread over the
//! pools by free space; objects stay readable in whichever pool holds them.

use aws_sdk_s3::primitives::ByteStream;
use rustfs_tests::{pattern, tree, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_pool_adds_capacity_and_old_objects_stay_readable() {
    let dir = tempfile::tempdir().unwrap();
    let pool_a = format!("{}/a{{1...4}}", dir.path().display());
    let pool_b = format!("{}/b{{1...4}}", dir.path().display());
    let log = dir.path().join("server.log");
    let mut s = Server::start(std::slice::from_ref(&pool_a), &[], &log);
    let c = s.client();
    c.create_bucket().bucket("grow").send().await.unwrap();
    let put = |c: aws_sdk_s3::Client, key: String, seed: u64| async move {
        c.put_object()
            .bucket("grow")
            .key(key)
            .body(ByteStream::from(pattern(200_000, seed)))
            .send()
            .await
            .unwrap();
    };
    for i in 0..10 {
        put(c.clone(), format!("old-{i}"), i).await;
    }
    s.kill();
    drop(s);

    let s = Server::start(&[pool_a, pool_b], &[], &log);
    let c = s.client();
    for i in 0..30 {
        put(c.clone(), format!("new-{i}"), 100 + i).await;
    }
    for (prefix, n, seed) in [("old", 10, 0), ("new", 30, 100)] {
        for i in 0..n {
            let got = c
                .get_object()
                .bucket("grow")
                .key(format!("{prefix}-{i}"))
                .send()
                .await
                .unwrap()
                .body
                .collect()
                .await
                .unwrap()
                .into_bytes();
            assert_eq!(got.as_ref(), pattern(200_000, seed + i as u64));
        }
    }
    let listed = c
        .list_objects_v2()
        .bucket("grow")
        .send()
        .await
        .unwrap()
        .key_count();
    assert_eq!(listed, Some(40), "a listing merges both pools");
    // Both pools have the same free space, so both take new objects; old ones stay in pool a.
    let in_b = tree(&dir.path().join("b1"))
        .keys()
        .filter(|p| p.starts_with("grow/new-") && p.ends_with("rustfs.meta"))
        .count();
    assert!(
        in_b > 0 && in_b < 30,
        "pool b holds {in_b} of 30 new objects"
    );
    assert!(tree(&dir.path().join("b1"))
        .keys()
        .all(|p| !p.starts_with("grow/old-")));
}
