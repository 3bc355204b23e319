//! The control plane against real local clusters: the `rustfs-controlplane` binary runs as its
//! own process on a real SQLite file and polls the real nodes (health + SigV4-signed admin info).
//! Over http it must see a killed node go down (within 10 s), come back, and a drive vanish; then
//! it is killed with SIGKILL and must come back with all its state. Over https ([`tls`]) it
//! polls trusting the CA registered with the cluster, and a cluster registered with a wrong CA
//! only yields poll errors.
//!
//! Build first: `cargo build -p rustfs-node --bin rustfs -p rustfs-controlplane`.

#[path = "controlplane/harness.rs"]
mod harness;
#[path = "controlplane/tls.rs"]
mod tls;

use harness::{has_event, host_specs, node_state, ControlPlane};
use rustfs_tests::cluster::Cluster;
use rustfs_tests::{ACCESS_KEY, SECRET_KEY};
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watches_a_real_cluster_and_survives_kill_9() {
    let mut cluster = Cluster::start(4, 1);
    let cp_dir = tempfile::tempdir().expect("tempdir");
    let mut cp = ControlPlane::start(cp_dir.path());

    let hosts = host_specs(&cluster.addresses, |i| {
        cluster.drive(i, 1).display().to_string()
    });
    let registration = json!({
        "site": "local",
        "version": "0.1.0",
        "s3_endpoints": [cluster.nodes[0].endpoint.clone()],
        "credentials": {"access_key": ACCESS_KEY, "secret_key": SECRET_KEY},
        "pools": [{"hosts": hosts}],
    });
    let (s, r) = cp
        .call(
            reqwest::Method::PUT,
            "/v1/clusters/local",
            Some(registration.clone()),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    let (s, r) = cp
        .call(
            reqwest::Method::PUT,
            "/v1/clusters/local",
            Some(registration.clone()),
        )
        .await;
    assert_eq!((s, &r["changed"]), (200, &json!(false)), "{r}");

    // healthy: every node up, sets known from the signed admin info
    let h = cp
        .wait_for(
            "/v1/clusters/local/health",
            Duration::from_secs(30),
            "cluster healthy",
            |h| h["status"] == "healthy" && h["nodes_up"] == 4,
        )
        .await;
    assert_eq!(h["sets"][0]["drives_online"], 4, "{h}");
    assert_eq!(h["sets"][0]["write_tolerance"], 1, "{h}");
    let drives = cp.get("/v1/clusters/local/drives").await;
    assert!(
        drives["drives"][0]["total_bytes"].as_u64().unwrap() > 0,
        "{drives}"
    );
    let node = cp.get("/v1/clusters/local/nodes/n1").await;
    assert!(node["version"].is_string(), "{node}");
    typed_client_reads_what_the_server_answers(&cp).await;

    // kill node 4: node_down and the summary show it within 10 s
    cluster.kill(3);
    let h = cp
        .wait_for(
            "/v1/clusters/local/health",
            Duration::from_secs(10),
            "node n4 down",
            |h| node_state(h, "n4") == "down" && h["nodes_down"] == 1,
        )
        .await;
    assert_eq!(h["status"], "degraded", "{h}");
    assert_eq!(h["sets"][0]["write_tolerance"], 0, "{h}");
    assert!(
        h["offline_drives"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["node"] == "n4"),
        "{h}"
    );
    let ev = cp
        .get("/v1/events?cluster=local&node=n4&kind=node_down")
        .await;
    assert!(has_event(&ev, "node_down", "n4", None), "{ev}");

    // restart it: node_up
    cluster.restart(3);
    cp.wait_for(
        "/v1/events?cluster=local&kind=node_up",
        Duration::from_secs(30),
        "node_up for n4",
        |ev| has_event(ev, "node_up", "n4", None),
    )
    .await;

    // a drive made unavailable: drive_offline, and back: drive_online
    let drive = cluster.drive(1, 1);
    let moved = drive.with_extension("gone");
    std::fs::rename(&drive, &moved).expect("hide the drive");
    let path = drive.display().to_string();
    cp.wait_for(
        "/v1/events?cluster=local&kind=drive_offline&node=n2",
        Duration::from_secs(30),
        "drive_offline for n2",
        |ev| has_event(ev, "drive_offline", "n2", Some(&path)),
    )
    .await;
    let h = cp.get("/v1/clusters/local/health").await;
    assert!(
        h["offline_drives"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["path"] == path.as_str()),
        "{h}"
    );
    std::fs::rename(&moved, &drive).expect("restore the drive");
    cp.wait_for(
        "/v1/events?cluster=local&kind=drive_online&node=n2",
        Duration::from_secs(30),
        "drive_online for n2",
        |ev| has_event(ev, "drive_online", "n2", Some(&path)),
    )
    .await;

    // kill -9 the control plane while it polls; restarted, it has everything it had
    let before_events = cp.get("/v1/events?cluster=local&limit=1000").await;
    let before_cluster = cp.get("/v1/clusters/local").await;
    let before_tokens = cp.get("/v1/tokens").await;
    let token = cp.token.clone();
    cp.kill9();
    let cp = ControlPlane::start(cp_dir.path());
    assert_eq!(
        cp.token, token,
        "the admin token must not be replaced on restart"
    );
    assert_eq!(cp.get("/v1/tokens").await, before_tokens);
    assert_eq!(
        cp.get("/v1/clusters/local").await["pools"],
        before_cluster["pools"]
    );
    let after_events = cp.get("/v1/events?cluster=local&limit=1000").await;
    let before = before_events["events"].as_array().unwrap();
    let after = after_events["events"].as_array().unwrap();
    assert!(after.len() >= before.len());
    assert_eq!(
        &after[..before.len()],
        &before[..],
        "events before the crash changed"
    );
    let (s, r) = cp
        .call(
            reqwest::Method::PUT,
            "/v1/clusters/local",
            Some(registration),
        )
        .await;
    assert_eq!((s, &r["changed"]), (200, &json!(false)), "{r}");
    // and it watches again
    cp.wait_for(
        "/v1/clusters/local/health",
        Duration::from_secs(30),
        "healthy after restart",
        |h| h["status"] == "healthy" && h["nodes_up"] == 4,
    )
    .await;
}

/// The typed client decodes every read route of the real server, and says why a call failed.
async fn typed_client_reads_what_the_server_answers(cp: &ControlPlane) {
    use rustfs_controlplane_api::{ClientError, ClusterStatus, ErrorCode, EventQuery, NodeState};
    let api = cp.client(&cp.token);
    let h = api.cluster_health("local").await.expect("health");
    assert_eq!((h.status, h.nodes_up), (ClusterStatus::Healthy, 4));
    let c = api.cluster("local").await.expect("cluster");
    assert_eq!((c.site.as_str(), c.pools.len()), ("local", 1));
    assert_eq!(api.clusters().await.expect("clusters").clusters.len(), 1);
    let nodes = api.nodes("local").await.expect("nodes").nodes;
    assert_eq!(nodes.len(), 4);
    assert!(nodes.iter().all(|n| n.state == NodeState::Up), "{nodes:?}");
    assert_eq!(api.node("local", "n2").await.expect("node").name, "n2");
    assert_eq!(api.drives("local").await.expect("drives").drives.len(), 4);
    assert_eq!(api.site("local").await.expect("site").clusters, ["local"]);
    let page = api
        .events(&EventQuery {
            cluster: Some("local".into()),
            kind: Some("cluster_registered".into()),
            ..EventQuery::default()
        })
        .await
        .expect("events");
    assert_eq!(page.events.len(), 1, "{page:?}");
    assert!(!api.tokens().await.expect("tokens").tokens.is_empty());
    assert!(!api
        .audit(None, Some(5))
        .await
        .expect("audit")
        .entries
        .is_empty());

    // refusals carry the API's code; a name with `/` stays one path segment, which the server
    // refuses as a name (it never reaches /v1/tokens)
    let e = api.cluster("nope").await.unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::NotFound), "{e}");
    let e = api.node("local", "../../tokens").await.unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::InvalidArgument), "{e}");
    let e = cp
        .client("forged-token")
        .cluster("local")
        .await
        .unwrap_err();
    assert!(matches!(e, ClientError::Unauthorized { .. }), "{e}");
    assert!(e.to_string().contains("use a valid token"), "{e}");
    // a listener that never answers: the call times out and says so
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", silent.local_addr().expect("addr"));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let e = rustfs_controlplane_api::Client::new(&base, "t", http)
        .unwrap()
        .clusters()
        .await
        .unwrap_err();
    assert!(matches!(e, ClientError::Unreachable { .. }), "{e}");
}
