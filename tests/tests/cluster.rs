//! Distributed mode with real processes: 4 nodes × 4 drives (EC 2+2 sets spanning the nodes) on
//! distinct loopback addresses, driven by the AWS SDK through every node.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use rustfs_tests::cluster::{Cluster, CLUSTER_ENV};
use rustfs_tests::{pattern, Server, ACCESS_KEY, SECRET_KEY};
use std::time::Duration;

const MIB: usize = 1024 * 1024;
/// Bound on any single S3 call in these tests: a call that hangs fails the test instead.
const CALL_LIMIT: Duration = Duration::from_secs(30);

async fn put(c: &Client, bucket: &str, key: &str, data: &[u8]) -> Result<(), u16> {
    let call = c
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(data.to_vec()))
        .send();
    match tokio::time::timeout(CALL_LIMIT, call).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.raw_response().map(|r| r.status().as_u16()).unwrap_or(0)),
        Err(_) => panic!("PUT {bucket}/{key} hung for {CALL_LIMIT:?}"),
    }
}

async fn get(c: &Client, bucket: &str, key: &str) -> Result<Vec<u8>, u16> {
    let call = async {
        let r = c.get_object().bucket(bucket).key(key).send().await?;
        Ok::<_, aws_sdk_s3::error::SdkError<_>>(r.body.collect().await.expect("body").into_bytes())
    };
    match tokio::time::timeout(CALL_LIMIT, call).await {
        Ok(Ok(b)) => Ok(b.to_vec()),
        Ok(Err(e)) => Err(e.raw_response().map(|r| r.status().as_u16()).unwrap_or(0)),
        Err(_) => panic!("GET {bucket}/{key} hung for {CALL_LIMIT:?}"),
    }
}

async fn create_bucket(c: &Client, bucket: &str) {
    c.create_bucket().bucket(bucket).send().await.unwrap();
}

const SIZES: [usize; 4] = [0, 1000, 200 * 1024, 3 * MIB + 7];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_node_serves_and_failures_within_tolerance_are_invisible() {
    let mut c = Cluster::start(4, 4);
    create_bucket(&c.client(0), "shared").await;
    // Any node writes, any other node reads the same bytes.
    for (i, size) in SIZES.iter().enumerate() {
        let data = pattern(*size, i as u64 + 1);
        let key = format!("obj-{size}");
        put(&c.client(i % 4), "shared", &key, &data).await.unwrap();
        for reader in 0..4 {
            assert_eq!(
                get(&c.client(reader), "shared", &key).await.unwrap(),
                data,
                "{key} read through node {reader}"
            );
        }
    }
    let listed = c
        .client(3)
        .list_objects_v2()
        .bucket("shared")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.contents().len(), SIZES.len());
    assert_eq!(c.health(0, "cluster"), Some(200));
    // Taking node 1 down would still leave every set a write quorum (3 of 4). A peer drive's
    // online mark can lag a moment behind a busy start (a timed-out call marks it offline until
    // the next probe), so this is waited for, bounded, as a rolling restart waits for it.
    c.wait_healthy();

    // One node down: reads and writes go on through the others.
    c.kill(3);
    for (i, size) in SIZES.iter().enumerate() {
        let key = format!("obj-{size}");
        assert_eq!(
            get(&c.client(i % 3), "shared", &key).await.unwrap(),
            pattern(*size, i as u64 + 1)
        );
        let data = pattern(*size, 100 + i as u64);
        put(
            &c.client(i % 3),
            "shared",
            &format!("degraded-{size}"),
            &data,
        )
        .await
        .unwrap();
        assert_eq!(
            get(
                &c.client((i + 1) % 3),
                "shared",
                &format!("degraded-{size}")
            )
            .await
            .unwrap(),
            data
        );
    }
    assert_eq!(c.health(0, "cluster"), Some(200));
    // The admin API sees the dead node and the sets' shrunken tolerance.
    let info = admin_info(&c, 0).await;
    let nodes = info["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 4);
    let down: Vec<&str> = nodes
        .iter()
        .filter(|n| n["online"] == false)
        .map(|n| n["address"].as_str().unwrap())
        .collect();
    assert_eq!(down, [c.addresses[3].as_str()]);
    for set in info["pools"][0]["sets"].as_array().unwrap() {
        assert_eq!(set["drives_online"], 3, "{set}");
        assert_eq!(set["read_tolerance"], 1);
        assert_eq!(set["write_tolerance"], 0);
    }
    // Now stopping node 1 too would break the write quorum.
    assert_eq!(c.health(0, "cluster?maintenance=true"), Some(412));

    // Two nodes down: reads still work, writes answer 503.
    c.kill(2);
    for (i, size) in SIZES.iter().enumerate() {
        assert_eq!(
            get(&c.client(i % 2), "shared", &format!("obj-{size}"))
                .await
                .unwrap(),
            pattern(*size, i as u64 + 1)
        );
    }
    assert_eq!(
        put(&c.client(0), "shared", "refused", b"no quorum").await,
        Err(503)
    );
    assert_eq!(c.health(1, "cluster"), Some(503));
    assert_eq!(c.health(1, "cluster/read"), Some(200));

    // Both return: the cluster is whole again and takes writes.
    c.restart(2);
    c.restart(3);
    let mut healthy = false;
    for _ in 0..100 {
        if (0..4).all(|i| c.health(i, "cluster") == Some(200)) {
            healthy = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        healthy,
        "cluster health did not return to 200 on every node"
    );
    put(&c.client(3), "shared", "after", b"back to normal")
        .await
        .unwrap();
    assert_eq!(
        get(&c.client(2), "shared", "after").await.unwrap(),
        b"back to normal"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staggered_start_and_a_node_with_another_layout_or_secret_is_refused() {
    let mut c = Cluster::start_staggered(4, 2, Duration::from_secs(1));
    create_bucket(&c.client(1), "bkt").await;
    put(&c.client(2), "bkt", "k", b"hello").await.unwrap();

    c.kill(3);
    let addr = c.addresses[3].clone();
    // Node 4 comes back believing in one drive fewer per node.
    let fewer: Vec<String> = c.args[..c.args.len() - 4].to_vec();
    let mut fewer = fewer;
    fewer.extend_from_slice(&c.args[c.args.len() - 4..c.args.len() - 2]);
    let err = Server::start_failing_at(&addr, &fewer, CLUSTER_ENV);
    assert!(
        err.contains("different pool layout"),
        "expected a layout refusal, got:\n{err}"
    );
    // Node 4 comes back with another cluster RPC secret, a short one, or none.
    let mut env = CLUSTER_ENV.to_vec();
    env.push(("RUSTFS_RPC_SECRET", "another-cluster-rpc-secret-0123456789"));
    let err = Server::start_failing_at(&addr, &c.args, &env);
    assert!(
        err.contains("RUSTFS_RPC_SECRET must be the same on every node"),
        "expected an RPC secret refusal, got:\n{err}"
    );
    for (secret, says) in [
        ("short", "at least 32"),
        ("", "needs the cluster RPC secret"),
    ] {
        let mut env = CLUSTER_ENV.to_vec();
        env.push(("RUSTFS_RPC_SECRET", secret));
        let err = Server::start_failing_at(&addr, &c.args, &env);
        assert!(err.contains(says), "RUSTFS_RPC_SECRET={secret:?}: {err}");
    }
    // Without credentials at all a cluster node refuses to start.
    let err = Server::start_failing_at(
        &addr,
        &c.args,
        &[("RUSTFS_ROOT_USER", ""), ("RUSTFS_ROOT_PASSWORD", "")],
    );
    assert!(err.contains("needs RUSTFS_ROOT_USER"), "{err}");
    // https endpoints are refused plainly until nodes serve TLS.
    let https: Vec<String> = c
        .args
        .iter()
        .map(|a| a.replacen("http://", "https://", 1))
        .collect();
    let err = Server::start_failing_at(&addr, &https, CLUSTER_ENV);
    assert!(err.contains("need TLS between nodes"), "{err}");
    // A drive formatted by a newer build (a rollback past a format change): the node stops and
    // says so, and the drive is left exactly as it was.
    let format = c.drive(3, 1).join(".rustfs.sys/format.json");
    let original = std::fs::read_to_string(&format).unwrap();
    let newer = original.replacen("\"version\": 1", "\"version\": 2", 1);
    assert_ne!(newer, original, "{original}");
    std::fs::write(&format, &newer).unwrap();
    let err = Server::start_failing_at(&addr, &c.args, CLUSTER_ENV);
    assert!(err.contains("formatted by a newer build"), "{err}");
    assert_eq!(std::fs::read_to_string(&format).unwrap(), newer);
    std::fs::write(&format, &original).unwrap();
    c.restart(3);
    assert_eq!(get(&c.client(3), "bkt", "k").await.unwrap(), b"hello");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_node_does_not_stall_the_others() {
    let c = Cluster::start(4, 2);
    create_bucket(&c.client(0), "bkt").await;
    let before = pattern(MIB + 1, 7);
    put(&c.client(0), "bkt", "before", &before).await.unwrap();
    c.nodes[3].signal(libc::SIGSTOP);
    // Every call completes (bounded by CALL_LIMIT, far above the 2 s RPC deadline).
    for i in 0..3u64 {
        let data = pattern(MIB + 1, 10 + i);
        put(&c.client(i as usize), "bkt", &format!("during-{i}"), &data)
            .await
            .unwrap();
        assert_eq!(
            get(
                &c.client((i as usize + 1) % 3),
                "bkt",
                &format!("during-{i}")
            )
            .await
            .unwrap(),
            data
        );
        assert_eq!(
            get(&c.client(i as usize), "bkt", "before").await.unwrap(),
            before
        );
    }
    // A bucket made while node 4 is frozen misses its drives.
    create_bucket(&c.client(0), "late").await;
    c.nodes[3].signal(libc::SIGCONT);
    // Once node 1 sees node 4 again, writes to that bucket still succeed (regression: a drive
    // without the bucket failed the whole PUT) and node 4 serves them.
    let mut back = false;
    for _ in 0..100 {
        let info = admin_info(&c, 0).await;
        if info["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["online"] == true)
        {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(back, "node 1 never saw node 4 online again");
    assert!(
        !c.drive(3, 1).join("late").exists(),
        "the scenario needs node 4's drive to have missed the bucket"
    );
    for i in 0..4u64 {
        let data = pattern(200_000, 30 + i);
        put(&c.client(0), "late", &format!("k{i}"), &data)
            .await
            .unwrap();
        assert_eq!(
            get(&c.client(3), "late", &format!("k{i}")).await.unwrap(),
            data
        );
    }
    assert_eq!(
        get(&c.client(3), "bkt", "during-0").await.unwrap(),
        pattern(MIB + 1, 10)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_of_one_key_never_mix() {
    let c = Cluster::start(4, 2);
    create_bucket(&c.client(0), "race").await;
    let bodies: Vec<Vec<u8>> = (0..4).map(|i| pattern(2 * MIB + 3, 50 + i)).collect();
    for round in 0..3 {
        let writers = (0..4).map(|i| {
            let client = c.client(i);
            let body = bodies[i].clone();
            tokio::spawn(async move { put(&client, "race", "key", &body).await })
        });
        for w in futures::future::join_all(writers).await {
            w.unwrap().unwrap();
        }
        for reader in 0..4 {
            let got = get(&c.client(reader), "race", "key").await.unwrap();
            assert!(
                bodies.contains(&got),
                "round {round}: node {reader} returned a body that no writer sent ({} bytes)",
                got.len()
            );
        }
    }
}

/// `GET /rustfs/admin/v1/info` on node `i`, signed with the root credentials.
async fn admin_info(c: &Cluster, i: usize) -> serde_json::Value {
    let url = format!("{}/rustfs/admin/v1/info", c.nodes[i].endpoint);
    let r = rustfs_tests::raw::send("GET", &url, &[], Vec::new()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    serde_json::from_str(&r.body).expect("admin info is JSON")
}

/// Status of `GET url` with optional `Authorization` header.
async fn rpc_status(url: &str, auth: Option<String>) -> u16 {
    let mut req = reqwest::Client::new().get(url);
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    req.send().await.expect("rpc reachable").status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_refuses_calls_without_a_valid_token() {
    use rustfs_node::rpc::auth::RpcKeys;
    let c = Cluster::start(4, 1);
    let path = "/rustfs/rpc/v2/ping";
    let url = |i: usize| format!("{}{path}", c.nodes[i].endpoint);
    let keys = RpcKeys::from_secrets(rustfs_tests::RPC_SECRET).unwrap();
    let empty = RpcKeys::body_hash(b"");
    let sign = |i: usize, p: &str| keys.sign("GET", p, &c.addresses[i], &empty).header;
    assert_eq!(rpc_status(&url(0), None).await, 401);
    let wrong = RpcKeys::from_secrets("not-the-cluster-secret-not-the-cluster-secret").unwrap();
    assert_eq!(
        rpc_status(
            &url(0),
            Some(wrong.sign("GET", path, &c.addresses[0], &empty).header)
        )
        .await,
        401,
        "another secret"
    );
    let captured = sign(0, path);
    assert_eq!(rpc_status(&url(0), Some(captured.clone())).await, 200);
    assert_eq!(
        rpc_status(&url(0), Some(captured.clone())).await,
        401,
        "a captured call replayed to its node"
    );
    assert_eq!(
        rpc_status(&url(1), Some(sign(0, path))).await,
        401,
        "a call for node 1 sent to node 2"
    );
    assert_eq!(
        rpc_status(
            &format!("{}/rustfs/rpc/v2/info", c.nodes[0].endpoint),
            Some(sign(0, path))
        )
        .await,
        401,
        "a call for /ping sent to /info"
    );
    assert_eq!(
        rpc_status(&url(0), Some(format!("Bearer {}", "0".repeat(64)))).await,
        401,
        "the old token format"
    );
    let log = c.nodes[0].log();
    assert!(
        log.contains("refused an RPC call"),
        "refusals are logged:\n{log}"
    );
    assert!(log.contains("replay"), "the log says why:\n{log}");
    // The admin API answers signed root requests only.
    let info = admin_info(&c, 2).await;
    assert_eq!(info["this_node"], c.addresses[2].as_str());
    assert_eq!(info["nodes"].as_array().unwrap().len(), 4);
    // What the node runs, for an orchestrator: version, RPC versions, format levels — in the
    // admin info, in every health answer's headers and in the build-info metric.
    assert_eq!(info["version"], rustfs_common::VERSION);
    assert_eq!(info["rpc"], serde_json::json!({"min": 2, "max": 2}));
    assert_eq!(info["formats"], serde_json::json!({"meta": 2, "drive": 1}));
    for path in ["/rustfs/health/live", "/minio/health/cluster"] {
        let r = reqwest::get(format!("{}{path}", c.nodes[1].endpoint))
            .await
            .unwrap();
        let h = |n: &str| r.headers()[n].to_str().unwrap().to_string();
        assert_eq!(h("x-rustfs-version"), rustfs_common::VERSION, "{path}");
        assert_eq!(h("x-rustfs-rpc-versions"), "2-2", "{path}");
        assert_eq!(h("x-rustfs-format-levels"), "meta=2,drive=1", "{path}");
    }
    let set = &info["pools"][0]["sets"][0];
    assert_eq!(
        (set["data"].as_u64(), set["parity"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(set["write_tolerance"], 1);
    assert_eq!(set["drives"].as_array().unwrap().len(), 4);
    assert!(set["drives"][0]["total_bytes"].as_u64().unwrap() > 0);
    let unsigned = rpc_status(
        &format!("{}/rustfs/admin/v1/info", c.nodes[2].endpoint),
        None,
    )
    .await;
    assert_eq!(unsigned, 403);
    // S3 keeps working after refused RPC calls.
    create_bucket(&c.client(1), "okay").await;
    // A cluster node stops cleanly on SIGTERM (regression: it used to hang after shutting down).
    let mut c = c;
    assert!(
        tokio::task::block_in_place(|| c.nodes[3].terminate(Duration::from_secs(20))),
        "node did not exit after SIGTERM; log:\n{}",
        c.nodes[3].log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_may_outlast_the_rpc_deadline_while_it_progresses() {
    // Regression: the deadline bounded a whole shard upload, so a large object over a busy
    // network marked healthy peers offline and failed with 503.
    let c = Cluster::start_with(4, 1, Duration::ZERO, &[("RUSTFS_RPC_TIMEOUT_SECS", "1")]);
    create_bucket(&c.client(0), "big").await;
    let data = pattern(96 * MIB + 5, 3);
    let before = c.nodes[0].log().len();
    put(&c.client(0), "big", "object", &data).await.unwrap();
    assert_eq!(get(&c.client(1), "big", "object").await.unwrap(), data);
    let log = c.nodes[0].log()[before..].to_string();
    assert!(
        !log.contains("peer marked offline"),
        "a progressing upload marked a peer offline:\n{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_credentials_rotate_with_a_rolling_restart_while_rpc_keeps_working() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;
    let mut c = Cluster::start(4, 1);
    // Every node sees every drive before the first one goes down (a peer one node marked offline
    // while the cluster formed would otherwise be a second drive missing).
    c.wait_healthy();
    create_bucket(&c.client(0), "rotate").await;
    const NEW: &str = "rotated-root-secret-2026";
    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(AtomicUsize::new(0));
    let ops = Arc::new(AtomicUsize::new(0));
    // A client keeps writing and reading through node `via` with `secret` until told to stop.
    let workload = |client: Client, tag: &'static str| {
        let (stop, failures, ops) = (stop.clone(), failures.clone(), ops.clone());
        tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let key = format!("{tag}-{n}");
                let data = pattern(20_000, n);
                let written = put(&client, "rotate", &key, &data).await;
                let read = get(&client, "rotate", &key).await;
                let failed = written.is_err() || read.as_deref() != Ok(&data[..]);
                if failed && failures.fetch_add(1, Ordering::Relaxed) < 3 {
                    eprintln!("{key}: put {written:?}, get {:?}", read.map(|b| b.len()));
                }
                ops.fetch_add(1, Ordering::Relaxed);
                n += 1;
            }
        })
    };
    // Node 1 keeps the old key while nodes 2–4 restart, one at a time, with the new one: its
    // calls to them must keep working (RPC does not use the root credentials).
    let old_side = workload(c.client(0), "old");
    for i in 1..4 {
        c.nodes[i].set_env("RUSTFS_ROOT_PASSWORD", NEW);
        c.restart(i);
        c.wait_healthy();
    }
    stop.store(true, Ordering::Relaxed);
    old_side.await.unwrap();
    // Then node 1 restarts while a client with the new key works through node 2.
    stop.store(false, Ordering::Relaxed);
    let new_client =
        |c: &Cluster, i: usize| rustfs_tests::client(&c.nodes[i].endpoint, ACCESS_KEY, NEW);
    let new_side = workload(new_client(&c, 1), "new");
    c.nodes[0].set_env("RUSTFS_ROOT_PASSWORD", NEW);
    c.restart(0);
    c.wait_healthy();
    stop.store(true, Ordering::Relaxed);
    new_side.await.unwrap();
    assert!(ops.load(Ordering::Relaxed) > 10, "the workloads ran");
    assert_eq!(
        failures.load(Ordering::Relaxed),
        0,
        "requests failed during the rotation; node 1's log:\n{}",
        c.nodes[0].log()
    );
    for i in 0..4 {
        assert_eq!(
            get(&new_client(&c, i), "rotate", "old-0").await.unwrap(),
            pattern(20_000, 0)
        );
        assert_eq!(
            get(&c.client(i), "rotate", "old-0").await.unwrap_err(),
            403,
            "the old key is refused"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_is_answered_only_on_the_cluster_address() {
    use rustfs_node::rpc::auth::RpcKeys;
    // Each node listens on every address of its own port, and names its cluster address.
    let cluster_ips = rustfs_tests::cluster::allocate_addresses(4);
    let ports: Vec<u16> = (0..4)
        .map(|_| {
            std::net::TcpListener::bind("0.0.0.0:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        })
        .collect();
    let ips: Vec<String> = cluster_ips
        .iter()
        .map(|a| a.split(':').next().unwrap().to_string())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let args: Vec<String> = (0..4)
        .map(|i| {
            format!(
                "http://{}:{}{}/n{i}",
                ips[i],
                ports[i],
                dir.path().display()
            )
        })
        .collect();
    let mut nodes: Vec<Server> = (0..4)
        .map(|i| {
            let env = [
                ("RUSTFS_CLUSTER_ADDRESS", ips[i].as_str()),
                ("RUSTFS_RPC_TIMEOUT_SECS", "2"),
            ];
            let log = dir.path().join(format!("node{i}.log"));
            Server::new(&format!("0.0.0.0:{}", ports[i]), &args, &env, &log)
        })
        .collect();
    for n in &mut nodes {
        n.spawn_process().unwrap();
    }
    for (i, n) in nodes.iter().enumerate() {
        n.wait_for("/rustfs/health/ready", Duration::from_secs(90))
            .unwrap_or_else(|e| panic!("node {i}: {e}\n{}", n.log()));
    }
    // Clients reach S3 on any address; RPC on a client address is refused before its signature
    // is even looked at, and answered on the cluster address.
    let client_side = format!("http://127.0.0.1:{}", ports[0]);
    let s3 = rustfs_tests::client(&client_side, ACCESS_KEY, SECRET_KEY);
    create_bucket(&s3, "split").await;
    put(&s3, "split", "k", b"through the client address")
        .await
        .unwrap();
    let keys = RpcKeys::from_secrets(rustfs_tests::RPC_SECRET).unwrap();
    let target = format!("{}:{}", ips[0], ports[0]);
    let call = |base: String| {
        let header = keys
            .sign(
                "GET",
                "/rustfs/rpc/v2/info",
                &target,
                &RpcKeys::body_hash(b""),
            )
            .header;
        async move {
            reqwest::Client::new()
                .get(format!("{base}/rustfs/rpc/v2/info"))
                .header("authorization", header)
                .send()
                .await
                .unwrap()
        }
    };
    let refused = call(client_side.clone()).await;
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap().contains("cluster address"));
    assert_eq!(call(format!("http://{target}")).await.status(), 200);
}

/// A stopping node drains: for `--shutdown-drain-secs` it answers `/ready` 503 `draining` while it
/// still serves (a load balancer moves away; nothing is refused yet), then it accepts no new
/// connection, and a GET in flight across that moment still completes; the process exits cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_node_drains_before_it_stops_accepting() {
    let mut env = CLUSTER_ENV.to_vec();
    env.push(("RUSTFS_SHUTDOWN_DRAIN_SECS", "3"));
    let mut c = Cluster::start_with(4, 1, Duration::ZERO, &env);
    c.wait_healthy();
    create_bucket(&c.client(0), "drain").await;
    let data = pattern(24 << 20, 11);
    put(&c.client(0), "drain", "big", &data).await.unwrap();
    let ready = |i: usize| {
        rustfs_tests::http_status(&format!("{}/rustfs/health/ready", c.nodes[i].endpoint))
    };
    assert_eq!(ready(0), Some(200));

    // A GET of node 1 in flight, read slowly.
    let mut body = c
        .client(0)
        .get_object()
        .bucket("drain")
        .key("big")
        .send()
        .await
        .unwrap()
        .body;
    let mut got = Vec::new();
    while got.len() < (1 << 20) {
        got.extend_from_slice(&body.next().await.unwrap().unwrap());
    }
    let stopped_at = std::time::Instant::now();
    c.nodes[0].signal(libc::SIGTERM);
    let deadline = stopped_at + Duration::from_secs(2);
    while ready(0) != Some(503) {
        assert!(
            std::time::Instant::now() < deadline,
            "/ready did not turn 503"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let text = reqwest::get(format!("{}/rustfs/health/ready", c.nodes[0].endpoint))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("draining"), "{text}");
    // Still serving while draining: a new request through it succeeds.
    assert_eq!(
        get(&c.client(0), "drain", "big").await.unwrap().len(),
        data.len()
    );
    // After the drain no new connection is taken; other nodes serve on.
    let deadline = stopped_at + Duration::from_secs(15);
    while rustfs_tests::http_status(&format!("{}/rustfs/health/live", c.nodes[0].endpoint))
        .is_some()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "still accepting after the drain"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        stopped_at.elapsed() >= Duration::from_secs(3),
        "stopped accepting before the drain was over ({:?})",
        stopped_at.elapsed()
    );
    assert_eq!(get(&c.client(1), "drain", "big").await.unwrap(), data);
    // The GET begun before completes.
    while let Some(chunk) = body.next().await {
        got.extend_from_slice(&chunk.expect("the in-flight GET completes"));
    }
    assert!(got == data, "the in-flight GET returned other bytes");
    assert!(
        tokio::task::block_in_place(|| c.nodes[0].terminate(Duration::from_secs(15))),
        "the node did not exit after draining; log:\n{}",
        c.nodes[0].log()
    );
    assert!(c.nodes[0].log().contains("draining"));
}
