//! A history check under node failures: writers and readers run against a 4-node cluster while
//! nodes are killed and restarted one at a time. Afterwards no acknowledged write is missing, and
//! no GET returned data older than the newest write acknowledged before that GET began (errors
//! such as 503 are allowed while a node is down).

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use rustfs_tests::cluster::Cluster;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const WRITERS: usize = 3;
const KEYS_PER_WRITER: usize = 2;
const CALL_LIMIT: Duration = Duration::from_secs(30);

/// A body that names its writer and sequence number; every other write is large enough to be
/// stored in shard files rather than inline.
fn body(key: &str, seq: u64) -> Vec<u8> {
    let mut b = format!("{key}:{seq}:").into_bytes();
    let len = if seq.is_multiple_of(2) {
        300 * 1024
    } else {
        1000
    };
    b.resize(len, b'.');
    b
}

fn seq_of(b: &[u8], key: &str) -> u64 {
    let text = String::from_utf8_lossy(&b[..b.len().min(64)]).to_string();
    let mut parts = text.splitn(3, ':');
    assert_eq!(
        parts.next(),
        Some(key),
        "a GET of {key} returned another key's bytes"
    );
    let seq: u64 = parts.next().and_then(|s| s.parse().ok()).expect("sequence");
    assert_eq!(b, body(key, seq), "{key}: torn or mixed body for seq {seq}");
    seq
}

async fn put(c: &Client, key: &str, data: Vec<u8>) -> bool {
    let call = c
        .put_object()
        .bucket("hist")
        .key(key)
        .body(ByteStream::from(data))
        .send();
    matches!(tokio::time::timeout(CALL_LIMIT, call).await, Ok(Ok(_)))
}

async fn get(c: &Client, key: &str) -> Option<Vec<u8>> {
    let call = async {
        let r = c.get_object().bucket("hist").key(key).send().await.ok()?;
        Some(r.body.collect().await.ok()?.into_bytes().to_vec())
    };
    tokio::time::timeout(CALL_LIMIT, call).await.ok().flatten()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_acknowledged_write_is_lost_and_no_read_goes_back_in_time() {
    let mut cluster = Cluster::start(4, 2);
    let clients: Vec<Client> = (0..4).map(|i| cluster.client(i)).collect();
    clients[0]
        .create_bucket()
        .bucket("hist")
        .send()
        .await
        .unwrap();
    let keys: Vec<String> = (0..WRITERS * KEYS_PER_WRITER)
        .map(|i| format!("key-{i}"))
        .collect();
    // Newest acknowledged sequence per key.
    let acked: Arc<Mutex<HashMap<String, u64>>> = Arc::new(Mutex::new(HashMap::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let (clients, acked, stop) = (clients.clone(), acked.clone(), stop.clone());
        let mine: Vec<String> = keys[w * KEYS_PER_WRITER..(w + 1) * KEYS_PER_WRITER].to_vec();
        tasks.push(tokio::spawn(async move {
            let mut seq = 0u64;
            let mut num_acked = 0;
            while !stop.load(Ordering::Relaxed) {
                seq += 1;
                let key = &mine[seq as usize % mine.len()];
                let node = rand::random::<usize>() % clients.len();
                if put(&clients[node], key, body(key, seq)).await {
                    acked.lock().unwrap().insert(key.clone(), seq);
                    num_acked += 1;
                }
            }
            (num_acked, 0u64)
        }));
    }
    for _ in 0..2 {
        let (clients, acked, stop, keys) =
            (clients.clone(), acked.clone(), stop.clone(), keys.clone());
        tasks.push(tokio::spawn(async move {
            let mut num_reads = 0;
            while !stop.load(Ordering::Relaxed) {
                let key = &keys[rand::random::<usize>() % keys.len()];
                let floor = acked.lock().unwrap().get(key).copied();
                let node = rand::random::<usize>() % clients.len();
                if let Some(b) = get(&clients[node], key).await {
                    let seq = seq_of(&b, key);
                    if let Some(floor) = floor {
                        assert!(
                            seq >= floor,
                            "{key}: node {node} returned seq {seq}, but seq {floor} was acknowledged before the GET began"
                        );
                    }
                    num_reads += 1;
                }
            }
            (0, num_reads)
        }));
    }
    // Kill and restart one node at a time, a bounded number of rounds.
    for round in 0..4 {
        let victim = 1 + round % 3;
        tokio::time::sleep(Duration::from_millis(800)).await;
        cluster.kill(victim);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        tokio::task::block_in_place(|| cluster.restart(victim));
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    stop.store(true, Ordering::Relaxed);
    let mut writes = 0;
    let mut reads = 0;
    for t in tasks {
        let (w, r) = t.await.expect("worker panicked");
        writes += w;
        reads += r;
    }
    assert!(
        writes > 20 && reads > 20,
        "too little traffic: {writes} writes, {reads} reads"
    );
    // Once every node sees a healthy cluster again, every acknowledged write is there (or a
    // newer one), read through every node. A node that just restarted may still be probing its
    // peers, so a read gets a few bounded retries.
    for _ in 0..200 {
        if (0..4).all(|i| cluster.health(i, "cluster") == Some(200)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let acked = acked.lock().unwrap().clone();
    for (key, seq) in &acked {
        for (i, c) in clients.iter().enumerate() {
            let mut got = None;
            for _ in 0..20 {
                got = get(c, key).await;
                if got.is_some() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            let b =
                got.unwrap_or_else(|| panic!("{key} unreadable through node {i} after the run"));
            assert!(
                seq_of(&b, key) >= *seq,
                "{key}: acknowledged seq {seq} lost"
            );
        }
    }
    println!("history: {writes} acknowledged writes, {reads} checked reads");
}
