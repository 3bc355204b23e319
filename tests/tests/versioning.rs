//! Object versioning through the AWS SDK against the real binary: version ids, delete markers,
//! the null version, listings of versions with pagination, a configuration change seen by every
//! node at once, write order across nodes with skewed clocks, and versions healed onto a lost
//! drive.

use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
use aws_sdk_s3::Client;
use rustfs_tests::cluster::{Cluster, CLUSTER_ENV};
use rustfs_tests::{pattern, TestNode};
use std::collections::BTreeMap;
use std::time::Duration;

async fn set_versioning(c: &Client, bucket: &str, status: BucketVersioningStatus) {
    c.put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(VersioningConfiguration::builder().status(status).build())
        .send()
        .await
        .unwrap();
}

async fn put(c: &Client, bucket: &str, key: &str, body: &[u8]) -> Option<String> {
    c.put_object()
        .bucket(bucket)
        .key(key)
        .body(body.to_vec().into())
        .send()
        .await
        .unwrap_or_else(|e| panic!("put {key}: {:?}", e.into_service_error()))
        .version_id()
        .map(str::to_string)
}

async fn get(c: &Client, bucket: &str, key: &str, version: Option<&str>) -> Result<Vec<u8>, u16> {
    match c
        .get_object()
        .bucket(bucket)
        .key(key)
        .set_version_id(version.map(str::to_string))
        .send()
        .await
    {
        Ok(o) => Ok(o.body.collect().await.unwrap().into_bytes().to_vec()),
        Err(e) => Err(e.raw_response().map(|r| r.status().as_u16()).unwrap_or(0)),
    }
}

/// (key, version id, is latest, is a delete marker) of every version, page by page.
async fn all_versions(c: &Client, bucket: &str, page: i32) -> Vec<(String, String, bool, bool)> {
    let mut out = Vec::new();
    let (mut key_marker, mut version_marker): (Option<String>, Option<String>) = (None, None);
    loop {
        let r = c
            .list_object_versions()
            .bucket(bucket)
            .max_keys(page)
            .set_key_marker(key_marker.clone())
            .set_version_id_marker(version_marker.clone())
            .send()
            .await
            .unwrap();
        let mut here: Vec<(String, String, bool, bool, i64)> = Vec::new();
        for v in r.versions() {
            here.push((
                v.key().unwrap().into(),
                v.version_id().unwrap().into(),
                v.is_latest().unwrap(),
                false,
                v.last_modified().unwrap().as_nanos() as i64,
            ));
        }
        for m in r.delete_markers() {
            here.push((
                m.key().unwrap().into(),
                m.version_id().unwrap().into(),
                m.is_latest().unwrap(),
                true,
                m.last_modified().unwrap().as_nanos() as i64,
            ));
        }
        // Within a key, newest first (the order S3 lists them in).
        here.sort_by(|a, b| a.0.cmp(&b.0).then(b.4.cmp(&a.4)));
        assert!(here.len() <= page as usize);
        out.extend(here.into_iter().map(|(k, v, l, m, _)| (k, v, l, m)));
        if !r.is_truncated().unwrap_or(false) {
            return out;
        }
        key_marker = r.next_key_marker().map(str::to_string);
        version_marker = r.next_version_id_marker().map(str::to_string);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_delete_markers_and_the_null_version() {
    let node = TestNode::start(4);
    let c = node.client();
    c.create_bucket().bucket("ver").send().await.unwrap();
    assert!(c
        .get_bucket_versioning()
        .bucket("ver")
        .send()
        .await
        .unwrap()
        .status()
        .is_none());
    // Unversioned: no version ids, an overwrite replaces.
    assert_eq!(put(&c, "ver", "plain", b"one").await, None);
    set_versioning(&c, "ver", BucketVersioningStatus::Enabled).await;
    assert_eq!(
        c.get_bucket_versioning()
            .bucket("ver")
            .send()
            .await
            .unwrap()
            .status(),
        Some(&BucketVersioningStatus::Enabled)
    );
    let v1 = put(&c, "ver", "k", &pattern(200_000, 1))
        .await
        .expect("a version id");
    let v2 = put(&c, "ver", "k", b"second").await.expect("a version id");
    assert_ne!(v1, v2);
    assert_eq!(get(&c, "ver", "k", None).await.unwrap(), b"second");
    assert_eq!(
        get(&c, "ver", "k", Some(&v1)).await.unwrap(),
        pattern(200_000, 1)
    );
    // The pre-versioning object is the null version.
    assert_eq!(get(&c, "ver", "plain", Some("null")).await.unwrap(), b"one");
    // A delete adds a marker: the key reads as gone, its versions stay.
    let d = c
        .delete_object()
        .bucket("ver")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(d.delete_marker(), Some(true));
    let marker = d.version_id().unwrap().to_string();
    let err = c
        .get_object()
        .bucket("ver")
        .key("k")
        .send()
        .await
        .unwrap_err();
    let raw = err.raw_response().unwrap();
    assert_eq!(raw.status().as_u16(), 404);
    assert_eq!(raw.headers().get("x-amz-delete-marker"), Some("true"));
    assert_eq!(raw.headers().get("x-amz-version-id"), Some(marker.as_str()));
    assert_eq!(get(&c, "ver", "k", Some(&v2)).await.unwrap(), b"second");
    assert_eq!(get(&c, "ver", "k", Some(&marker)).await.unwrap_err(), 405);
    let listed = c.list_objects_v2().bucket("ver").send().await.unwrap();
    assert_eq!(listed.contents().len(), 1, "only 'plain' is current");
    // Removing the marker brings the key back.
    c.delete_object()
        .bucket("ver")
        .key("k")
        .version_id(&marker)
        .send()
        .await
        .unwrap();
    assert_eq!(get(&c, "ver", "k", None).await.unwrap(), b"second");
    // A version removed for good is gone; an unknown version id is NoSuchVersion.
    c.delete_object()
        .bucket("ver")
        .key("k")
        .version_id(&v1)
        .send()
        .await
        .unwrap();
    assert_eq!(get(&c, "ver", "k", Some(&v1)).await.unwrap_err(), 404);
    let unknown = uuid_like();
    let err = c
        .get_object()
        .bucket("ver")
        .key("k")
        .version_id(&unknown)
        .send()
        .await
        .unwrap_err();
    assert!(format!("{:?}", err.into_service_error()).contains("NoSuchVersion"));
    let err = c
        .get_object()
        .bucket("ver")
        .key("k")
        .version_id("bad id")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 400);
    // Suspended: writes replace the null version, older versions stay.
    set_versioning(&c, "ver", BucketVersioningStatus::Suspended).await;
    assert_eq!(
        put(&c, "ver", "k", b"null one").await.as_deref(),
        Some("null")
    );
    assert_eq!(
        put(&c, "ver", "k", b"null two").await.as_deref(),
        Some("null")
    );
    assert_eq!(get(&c, "ver", "k", None).await.unwrap(), b"null two");
    assert_eq!(get(&c, "ver", "k", Some(&v2)).await.unwrap(), b"second");
    let versions: Vec<_> = all_versions(&c, "ver", 1000)
        .await
        .into_iter()
        .filter(|v| v.0 == "k")
        .collect();
    assert_eq!(
        versions
            .iter()
            .map(|v| (v.1.as_str(), v.2))
            .collect::<Vec<_>>(),
        vec![("null", true), (v2.as_str(), false)]
    );
    // A delete in a suspended bucket leaves a null marker.
    let d = c
        .delete_object()
        .bucket("ver")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (d.delete_marker(), d.version_id()),
        (Some(true), Some("null"))
    );
    assert_eq!(get(&c, "ver", "k", Some(&v2)).await.unwrap(), b"second");
}

fn uuid_like() -> String {
    "0f8fad5b-d9cb-469f-a165-70867728950e".to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_versions_pages_through_2500_versions_like_a_model() {
    let node = TestNode::start(4);
    let c = node.client();
    c.create_bucket().bucket("many").send().await.unwrap();
    set_versioning(&c, "many", BucketVersioningStatus::Enabled).await;
    // 50 keys × 50 versions; every 7th version is a delete marker.
    let mut model: BTreeMap<String, Vec<(String, bool)>> = BTreeMap::new();
    let mut tasks = Vec::new();
    for k in 0..50 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let key = format!("dir{}/key-{k:02}", k % 3);
            let mut versions = Vec::new();
            for v in 0..50 {
                if v % 7 == 6 {
                    let d = c
                        .delete_object()
                        .bucket("many")
                        .key(&key)
                        .send()
                        .await
                        .unwrap();
                    versions.push((d.version_id().unwrap().to_string(), true));
                } else {
                    let id = put(&c, "many", &key, format!("{key} v{v}").as_bytes())
                        .await
                        .unwrap();
                    versions.push((id, false));
                }
            }
            versions.reverse();
            (key, versions)
        }));
    }
    for t in tasks {
        let (k, v) = t.await.unwrap();
        model.insert(k, v);
    }
    let want: Vec<(String, String, bool, bool)> = model
        .iter()
        .flat_map(|(k, vs)| {
            vs.iter()
                .enumerate()
                .map(move |(i, (id, m))| (k.clone(), id.clone(), i == 0, *m))
        })
        .collect();
    assert_eq!(want.len(), 2500);
    for page in [1000, 333, 7] {
        assert!(
            all_versions(&c, "many", page).await == want,
            "pages of {page}"
        );
    }
    // A delimiter rolls keys up into prefixes.
    let r = c
        .list_object_versions()
        .bucket("many")
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let prefixes: Vec<_> = r
        .common_prefixes()
        .iter()
        .map(|p| p.prefix().unwrap())
        .collect();
    assert_eq!(prefixes, ["dir0/", "dir1/", "dir2/"]);
    assert!(r.versions().is_empty());
    // A version-id marker without a key marker is refused.
    let err = c
        .list_object_versions()
        .bucket("many")
        .version_id_marker("null")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configuration_change_through_one_node_holds_on_every_node_at_once() {
    let c = Cluster::start(4, 1);
    c.client(0)
        .create_bucket()
        .bucket("cfg")
        .send()
        .await
        .unwrap();
    // Every node reads (and caches) the unversioned state first.
    for i in 0..4 {
        assert_eq!(put(&c.client(i), "cfg", "warm", b"x").await, None);
    }
    set_versioning(&c.client(0), "cfg", BucketVersioningStatus::Enabled).await;
    let id = put(&c.client(3), "cfg", "k", b"through node 4").await;
    assert!(
        id.is_some(),
        "node 4 made a version right after node 1 enabled versioning"
    );
    assert_eq!(
        c.client(2)
            .get_bucket_versioning()
            .bucket("cfg")
            .send()
            .await
            .unwrap()
            .status(),
        Some(&BucketVersioningStatus::Enabled)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_keep_their_acknowledged_order_across_skewed_clocks() {
    // Node 1's clock runs 30 s behind the others'.
    let mut c = Cluster::start_with(4, 1, Duration::ZERO, CLUSTER_ENV);
    c.nodes[0].set_env("RUSTFS_TEST_CLOCK_OFFSET_MILLIS", "-30000");
    c.restart(0);
    c.wait_healthy();
    c.client(1)
        .create_bucket()
        .bucket("order")
        .send()
        .await
        .unwrap();
    set_versioning(&c.client(1), "order", BucketVersioningStatus::Enabled).await;
    for round in 0..5 {
        let key = format!("k{round}");
        put(&c.client(1), "order", &key, b"first, from a node on time").await;
        put(
            &c.client(0),
            "order",
            &key,
            b"second, from the node 30 s behind",
        )
        .await;
        for reader in 0..4 {
            assert_eq!(
                get(&c.client(reader), "order", &key, None).await.unwrap(),
                b"second, from the node 30 s behind",
                "{key} through node {reader}"
            );
        }
    }
    // Unversioned writes keep their order too.
    c.client(1)
        .create_bucket()
        .bucket("plain")
        .send()
        .await
        .unwrap();
    put(&c.client(1), "plain", "k", b"first").await;
    put(&c.client(0), "plain", "k", b"second").await;
    assert_eq!(
        get(&c.client(2), "plain", "k", None).await.unwrap(),
        b"second"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_and_delete_markers_are_healed_onto_a_lost_drive() {
    let node = TestNode::start_with(4, &[("RUSTFS_SCANNER_INTERVAL_SECS", "1")]);
    let c = node.client();
    c.create_bucket().bucket("heal").send().await.unwrap();
    set_versioning(&c, "heal", BucketVersioningStatus::Enabled).await;
    let v1 = put(&c, "heal", "k", &pattern(300_000, 3)).await.unwrap();
    let v2 = put(&c, "heal", "k", b"small second").await.unwrap();
    let marker = c
        .delete_object()
        .bucket("heal")
        .key("k")
        .send()
        .await
        .unwrap()
        .version_id()
        .expect("a delete marker's version id")
        .to_string();
    // Drive 2 loses the key entirely.
    let lost = node.drive(2).join("heal/k");
    std::fs::remove_dir_all(&lost).unwrap();
    // The scanner puts every version and the marker back: wait until the drive's meta names
    // all three (version ids are stored as their 16 bytes) and v1's data directory is there.
    let ids: Vec<Vec<u8>> = [&v1, &v2, &marker]
        .iter()
        .map(|v| hex::decode(v.replace('-', "")).expect("version ids are UUIDs"))
        .collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let meta = std::fs::read(lost.join("rustfs.meta")).unwrap_or_default();
        let all_named = ids.iter().all(|id| meta.windows(16).any(|w| w == id));
        if all_named && lost.read_dir().map(|d| d.count()).unwrap_or(0) >= 2 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the lost versions were not healed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // With two other drives gone, the healed drive's copies are needed to read: they all are.
    for d in [3, 4] {
        std::fs::rename(node.drive(d), node.dir.path().join(format!("d{d}-away"))).unwrap();
    }
    assert_eq!(
        get(&c, "heal", "k", Some(&v1)).await.unwrap(),
        pattern(300_000, 3)
    );
    assert_eq!(
        get(&c, "heal", "k", Some(&v2)).await.unwrap(),
        b"small second"
    );
    assert_eq!(get(&c, "heal", "k", None).await.unwrap_err(), 404);
}

/// `rustfs-bench --workloads versioned-get` writes many versions per key, reads the newest of
/// each (bodies checked), and leaves nothing behind: every version and its bucket are removed.
#[tokio::test]
async fn the_load_tool_reads_the_newest_of_many_versions_and_cleans_up() {
    let node = TestNode::start(4);
    let bench = rustfs_tests::workspace_bin("rustfs-bench", "RUSTFS_BENCH_BIN", "rustfs-tests");
    let out = std::process::Command::new(bench)
        .args(["--endpoint", &node.server.endpoint])
        .args(["--access-key", rustfs_tests::ACCESS_KEY])
        .args(["--secret-key", rustfs_tests::SECRET_KEY])
        .args(["--bucket", "bench", "--workloads", "versioned-get"])
        .args([
            "--versions",
            "12",
            "--num-get-objects",
            "3",
            "--small-size",
            "3KiB",
        ])
        .args([
            "--concurrency",
            "2",
            "--max-ops",
            "60",
            "--duration-secs",
            "60",
        ])
        .arg("--json")
        .output()
        .expect("rustfs-bench runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "rustfs-bench failed:\n{stdout}\n{stderr}"
    );
    let row: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(row["workload"], "versioned-get", "{row}");
    assert_eq!(
        (row["ops"].as_u64(), row["errors"].as_u64()),
        (Some(60), Some(0)),
        "{row}"
    );
    assert!(stderr.contains("deleted 36 versions"), "{stderr}");
    let c = node.client();
    let buckets = c.list_buckets().send().await.unwrap();
    let names: Vec<&str> = buckets.buckets().iter().filter_map(|b| b.name()).collect();
    assert!(names.is_empty(), "left behind: {names:?}");
}
