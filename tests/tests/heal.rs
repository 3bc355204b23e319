//! Healing end to end, on a single 4-drive node and on a 4-node × 4-drive cluster: lost and
//! rotten shards come back within a scanner cycle (byte for byte), a wiped drive is rebuilt also
//! across a restart mid-rebuild, a node that was away converges without an operator, and the heal
//! status answers while a peer is down.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use rustfs_tests::cluster::{Cluster, CLUSTER_ENV};
use rustfs_tests::{pattern, raw, Server, TestNode};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Short scanner and drive-check periods so a test sees several cycles.
const HEAL_ENV: &[(&str, &str)] = &[
    ("RUSTFS_SCANNER_INTERVAL_SECS", "1"),
    ("RUSTFS_SCANNER_DEEP_EVERY", "2"),
    ("RUSTFS_SCANNER_SLEEP_MILLIS", "0"),
    ("RUSTFS_DRIVE_CHECK_SECS", "1"),
];

fn env(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut e: Vec<_> = CLUSTER_ENV.to_vec();
    e.extend_from_slice(HEAL_ENV);
    e.extend_from_slice(extra);
    e
}

/// Sizes that cover inline objects (in the meta) and shard files, one and several blocks.
const SIZES: [usize; 5] = [0, 1000, 100_000, 300_000, 2 * 1024 * 1024 + 3];

async fn put_objects(c: &Client, bucket: &str, n: usize, seed: u64) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for i in 0..n {
        let key = format!("obj/{i:03}");
        let data = pattern(SIZES[i % SIZES.len()], seed + i as u64);
        c.put_object()
            .bucket(bucket)
            .key(&key)
            .body(ByteStream::from(data.clone()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("put {key}: {e:?}"));
        out.insert(key, data);
    }
    out
}

async fn get(c: &Client, bucket: &str, key: &str) -> Vec<u8> {
    let r = c
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get {key}: {e:?}"));
    r.body.collect().await.expect("body").into_bytes().to_vec()
}

/// Every object file (shard files and metas) under the given drives, by path.
fn snapshot(drives: &[PathBuf]) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if e.file_name() == ".rustfs.sys" {
                continue;
            }
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap_or_default());
            }
        }
    }
    let mut out = BTreeMap::new();
    for d in drives {
        walk(d, &mut out);
    }
    out
}

/// Paths whose content differs from (or is missing against) `want`.
fn differences(drives: &[PathBuf], want: &BTreeMap<PathBuf, Vec<u8>>) -> Vec<PathBuf> {
    let now = snapshot(drives);
    let mut bad: Vec<PathBuf> = want
        .iter()
        .filter(|(p, b)| now.get(*p) != Some(*b))
        .map(|(p, _)| p.clone())
        .collect();
    bad.extend(now.keys().filter(|p| !want.contains_key(*p)).cloned());
    bad
}

fn files_named(drives: &[PathBuf], prefix: &str) -> Vec<PathBuf> {
    snapshot(drives)
        .into_keys()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
        })
        .collect()
}

async fn heal_status(endpoint: &str) -> Value {
    let url = format!("{endpoint}/rustfs/admin/v1/heal/status");
    let r = raw::send("GET", &url, &[], Vec::new()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    serde_json::from_str(&r.body).expect("heal status is JSON")
}

/// Scanner cycles (shallow + deep) each reachable node has finished.
async fn cycles(endpoint: &str) -> Vec<u64> {
    let s = heal_status(endpoint).await;
    s["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            let sc = &n["figures"]["scanner"];
            sc["cycles_shallow"].as_u64().unwrap_or(0) + sc["cycles_deep"].as_u64().unwrap_or(0)
        })
        .collect()
}

/// Waits until every node has finished `extra` more scanner cycles, deep ones included.
async fn wait_cycles(endpoint: &str, extra: u64, limit: Duration) {
    let start = cycles(endpoint).await;
    let t = Instant::now();
    loop {
        let now = cycles(endpoint).await;
        if now.iter().zip(&start).all(|(n, s)| *n >= s + extra) {
            return;
        }
        assert!(
            t.elapsed() < limit,
            "scanner cycles did not advance: {start:?} → {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Polls until `check` holds, bounded.
async fn eventually<F: FnMut() -> bool>(limit: Duration, what: &str, mut check: F) {
    let t = Instant::now();
    while !check() {
        assert!(t.elapsed() < limit, "{what}: not reached within {limit:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Lost shard files on parity-many drives of every set and rotten shards elsewhere: reads stay
/// correct, and within scanner cycles (a deep one for the rot) every file is back byte for byte.
async fn lost_and_rotten_shards(
    endpoint: &str,
    c: &Client,
    all: &[PathBuf],
    lose: &[PathBuf],
    rot: &[PathBuf],
) {
    c.create_bucket().bucket("heal").send().await.unwrap();
    let objects = put_objects(c, "heal", 30, 1).await;
    let before = snapshot(all);
    // Each object loses or rots at most parity-many shards: even objects lose, odd ones rot.
    let even = |p: &PathBuf| {
        let n = p.parent().and_then(Path::parent).and_then(Path::file_name);
        n.and_then(|n| n.to_str()?.parse::<u32>().ok())
            .is_some_and(|n| n % 2 == 0)
    };
    let lost: Vec<PathBuf> = files_named(lose, "part.")
        .into_iter()
        .filter(even)
        .collect();
    assert!(!lost.is_empty());
    for p in &lost {
        std::fs::remove_file(p).unwrap();
    }
    let rotten: Vec<PathBuf> = files_named(rot, "part.")
        .into_iter()
        .filter(|p| !even(p))
        .collect();
    assert!(!rotten.is_empty());
    for p in &rotten {
        let mut b = std::fs::read(p).unwrap();
        let mid = b.len() / 2;
        b[mid] ^= 0x5a;
        std::fs::write(p, b).unwrap();
    }
    for (k, v) in objects.iter().take(5) {
        assert_eq!(&get(c, "heal", k).await, v, "{k} reads correctly");
    }
    // Two more finished cycles on every node: at least one full cycle (and, with every second
    // cycle deep, a deep one) started after the damage.
    wait_cycles(endpoint, 3, Duration::from_secs(120)).await;
    let bad = differences(all, &before);
    assert!(bad.is_empty(), "not healed byte for byte: {bad:#?}");
    for (k, v) in &objects {
        assert_eq!(&get(c, "heal", k).await, v, "{k}");
    }
    let s = heal_status(endpoint).await;
    assert!(s["totals"]["objects_healed"].as_u64().unwrap() > 0, "{s}");
    assert!(s["totals"]["bytes_healed"].as_u64().unwrap() > 0, "{s}");

    // A manual heal of a prefix, waited for.
    for p in lost.iter().take(4) {
        std::fs::remove_file(p).unwrap();
    }
    let url = format!("{endpoint}/rustfs/admin/v1/heal?bucket=heal&prefix=obj%2F&wait=true");
    let r = raw::send("POST", &url, &[], Vec::new()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let h: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(h["finished"], true, "{h}");
    assert!(differences(all, &before).is_empty());
    let r = raw::send(
        "POST",
        &format!("{endpoint}/rustfs/admin/v1/heal?bucket=nope"),
        &[],
        Vec::new(),
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = raw::send(
        "POST",
        &format!("{endpoint}/rustfs/admin/v1/heal"),
        &[],
        Vec::new(),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_node_heals_lost_and_rotten_shards_within_scanner_cycles() {
    let node = TestNode::start_with(4, HEAL_ENV);
    let drives: Vec<PathBuf> = (1..=4).map(|i| node.drive(i)).collect();
    lost_and_rotten_shards(
        &node.server.endpoint,
        &node.client(),
        &drives,
        &drives[2..],
        &drives[..1],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_heals_lost_and_rotten_shards_within_scanner_cycles() {
    let c = Cluster::start_with(4, 4, Duration::ZERO, &env(&[]));
    let c = &c;
    let node_drives = |n: usize| (1..=4).map(move |d| c.drive(n, d)).collect::<Vec<_>>();
    let all: Vec<PathBuf> = (0..4).flat_map(node_drives).collect();
    // Every set has one drive per node: nodes 3 and 4 hold parity-many drives of each set.
    let lose: Vec<PathBuf> = (2..4).flat_map(node_drives).collect();
    let rot: Vec<PathBuf> = node_drives(0);
    lost_and_rotten_shards(&c.nodes[1].endpoint, &c.client(1), &all, &lose, &rot).await;
}

fn wipe(drive: &Path) {
    // All at once, as a replaced disk appears: the old contents are moved aside in one rename and
    // an empty directory takes their place, so the node never sees a half-deleted drive (which it
    // could format mid-wipe and then lose its new format to the rest of the deletion).
    let aside = drive.with_extension("wiped");
    std::fs::rename(drive, &aside).unwrap();
    std::fs::create_dir(drive).unwrap();
    std::fs::remove_dir_all(&aside).unwrap();
}

/// This node's rebuild progress of `drive`, if it is rebuilding it.
async fn rebuild_progress(endpoint: &str, drive: &Path) -> Option<Value> {
    let s = heal_status(endpoint).await;
    let d = drive.display().to_string();
    s["nodes"].as_array()?.iter().find_map(|n| {
        n["figures"]["drives_healing"]
            .as_array()?
            .iter()
            .find(|p| p["endpoint"].as_str().is_some_and(|e| e.ends_with(&d)))
            .cloned()
    })
}

/// Wipes `drive` (a replaced disk), kills its node mid-rebuild, restarts it, and checks the
/// rebuild resumed (not restarted) and ended with the drive byte-identical to before.
/// `restart` answers the node's endpoint and a client afterwards (a single node comes back on a
/// new port).
async fn wiped_drive_is_rebuilt(
    endpoint: &str,
    c: &Client,
    drive: &Path,
    num_objects: usize,
    restart: impl FnOnce() -> (String, Client),
) {
    c.create_bucket().bucket("rebuild").send().await.unwrap();
    let objects = put_objects(c, "rebuild", num_objects, 7).await;
    let drives = [drive.to_path_buf()];
    let before = snapshot(&drives);
    wipe(drive);
    // The rebuild is throttled by the IO budget: wait until its tracker on the drive records
    // some progress, but not all, then kill -9 and restart.
    let tracker_file = drive.join(".rustfs.sys/healing.json");
    let t = Instant::now();
    let saved = loop {
        let tracker: Option<Value> = std::fs::read(&tracker_file)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        if let Some(tr) = tracker {
            let done = tr["objects_done"].as_u64().unwrap_or(0);
            if done >= 2 {
                assert!(
                    done < tr["objects_total"].as_u64().unwrap(),
                    "rebuild too fast to interrupt: {tr}"
                );
                break done;
            }
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "the rebuild did not start or save progress"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        rebuild_progress(endpoint, drive).await.is_some(),
        "the status shows the rebuild"
    );
    let (endpoint, c) = restart();
    let (endpoint, c) = (endpoint.as_str(), &c);
    // The rebuild resumes from its tracker, not from the start.
    let t = Instant::now();
    let resumed = loop {
        if let Some(p) = rebuild_progress(endpoint, drive).await {
            break p;
        }
        assert!(
            drive.join(".rustfs.sys/healing.json").exists(),
            "the rebuild ended before its resumption could be seen"
        );
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "the rebuild did not resume"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        resumed["objects_done"].as_u64().unwrap() >= saved,
        "the rebuild started over: {resumed} (saved {saved})"
    );
    let t = Instant::now();
    loop {
        let bad = differences(&drives, &before);
        if bad.is_empty() && !drive.join(".rustfs.sys/healing.json").exists() {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "drive not rebuilt: {} files differ, e.g. {:?}",
            bad.len(),
            bad.first()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    for (k, v) in objects.iter().step_by(7) {
        assert_eq!(&get(c, "rebuild", k).await, v, "{k}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_node_rebuilds_a_wiped_drive_across_a_restart() {
    let slow = [
        ("RUSTFS_HEAL_IO_BUDGET_MIB", "4"),
        ("RUSTFS_SCANNER_INTERVAL_SECS", "3600"),
    ];
    let mut e: Vec<_> = HEAL_ENV.to_vec();
    e.extend_from_slice(&slow);
    let mut node = TestNode::start_with(4, &e);
    let drive = node.drive(2);
    let endpoint = node.server.endpoint.clone();
    let client = node.client();
    let server: &mut Server = &mut node.server;
    wiped_drive_is_rebuilt(&endpoint, &client, &drive, 40, || {
        server.restart();
        server
            .wait_for("/rustfs/health/ready", Duration::from_secs(60))
            .unwrap();
        (server.endpoint.clone(), server.client())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_rebuilds_a_wiped_drive_across_a_restart() {
    let e = env(&[
        ("RUSTFS_HEAL_IO_BUDGET_MIB", "4"),
        ("RUSTFS_SCANNER_INTERVAL_SECS", "3600"),
    ]);
    let mut c = Cluster::start_with(4, 4, Duration::ZERO, &e);
    let drive = c.drive(2, 3);
    let endpoint = c.nodes[2].endpoint.clone();
    let client = c.client(0);
    wiped_drive_is_rebuilt(&endpoint, &client, &drive, 120, || {
        c.restart(2);
        (c.nodes[2].endpoint.clone(), c.client(0))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_returning_node_converges_without_an_operator() {
    let mut c = Cluster::start_with(4, 4, Duration::ZERO, &env(&[]));
    let client = c.client(0);
    client.create_bucket().bucket("away").send().await.unwrap();
    let mut objects = put_objects(&client, "away", 12, 3).await;
    c.kill(3);
    // While node 4 is away: new objects, overwrites and deletes, through several nodes.
    let added = put_objects(&c.client(1), "away", 20, 50).await;
    objects.extend(added);
    for i in [1usize, 4, 7] {
        let key = format!("obj/{i:03}");
        c.client(2)
            .delete_object()
            .bucket("away")
            .key(&key)
            .send()
            .await
            .unwrap();
        objects.remove(&key);
    }
    // The heal status answers while a peer is down, and says which.
    let s = heal_status(&c.nodes[0].endpoint).await;
    let nodes = s["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 4, "{s}");
    let down: Vec<&Value> = nodes.iter().filter(|n| n["reachable"] == false).collect();
    assert_eq!(down.len(), 1, "{s}");
    assert_eq!(down[0]["node"], c.addresses[3].as_str(), "{s}");
    assert!(
        down[0]["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{s}"
    );
    assert!(
        s["totals"]["queue_depth"].as_u64().unwrap() > 0,
        "partial writes are queued: {s}"
    );
    // The queue is persisted: node 2 (which took the new objects) keeps its entries across a
    // kill -9 and restart.
    c.restart(1);
    let s = heal_status(&c.nodes[1].endpoint).await;
    let node2 = s["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node"] == c.addresses[1].as_str())
        .unwrap()
        .clone();
    assert!(
        node2["figures"]["queue_depth"].as_u64().unwrap() > 0,
        "queue lost on restart: {node2}"
    );

    c.restart(3);
    // Node 4's drives converge: each holds exactly the objects that exist, with their shards.
    let node4: Vec<PathBuf> = (1..=4).map(|d| c.drive(3, d)).collect();
    let node1: Vec<PathBuf> = (1..=4).map(|d| c.drive(0, d)).collect();
    let keys_on = |drives: &[PathBuf]| -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for p in files_named(drives, "rustfs.meta") {
            let key = p
                .parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .to_string();
            *m.entry(key).or_default() += 1;
        }
        m
    };
    let want: BTreeMap<String, usize> = objects
        .keys()
        .map(|k| (k.trim_start_matches("obj/").to_string(), 1))
        .collect();
    eventually(Duration::from_secs(120), "node 4 converges", || {
        keys_on(&node4) == want
            && files_named(&node4, "part.").len() == files_named(&node1, "part.").len()
    })
    .await;
    assert_eq!(keys_on(&node1), want);
    // And reads through the returned node are right.
    for (k, v) in &objects {
        assert_eq!(&get(&c.client(3), "away", k).await, v, "{k}");
    }
    let s = heal_status(&c.nodes[3].endpoint).await;
    assert!(
        s["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["reachable"] == true),
        "{s}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_that_reconstructs_queues_a_heal() {
    // No scanner cycle runs during the test: only the reads can have queued the heals.
    let node = TestNode::start_with(
        4,
        &[
            ("RUSTFS_SCANNER_INTERVAL_SECS", "3600"),
            ("RUSTFS_DRIVE_CHECK_SECS", "1"),
        ],
    );
    let c = node.client();
    c.create_bucket().bucket("onread").send().await.unwrap();
    let objects = put_objects(&c, "onread", 5, 11).await;
    let drives: Vec<PathBuf> = (1..=4).map(|i| node.drive(i)).collect();
    let before = snapshot(&drives);
    // obj/004 (shard files) loses one on drive 1; obj/002 (inline) gets a corrupt meta on drive 2.
    let part = files_named(&drives[..1], "part.")
        .into_iter()
        .find(|p| p.to_string_lossy().contains("/obj/004/"))
        .unwrap();
    std::fs::remove_file(&part).unwrap();
    let meta = drives[1].join("onread/obj/002/rustfs.meta");
    let mut b = std::fs::read(&meta).unwrap();
    let last = b.len() - 1;
    b[last] ^= 0xff;
    std::fs::write(&meta, b).unwrap();
    for (k, v) in &objects {
        assert_eq!(&get(&c, "onread", k).await, v, "{k}");
    }
    eventually(
        Duration::from_secs(60),
        "reads healed what they found",
        || differences(&drives, &before).is_empty(),
    )
    .await;
    let s = heal_status(&node.server.endpoint).await;
    let f = &s["nodes"][0]["figures"];
    assert_eq!(f["scanner"]["cycles_shallow"], 0, "{s}");
    assert!(f["objects_healed"].as_u64().unwrap() >= 2, "{s}");
    assert_eq!(f["queue_depth"], 0, "{s}");
}
