//! The poller against nodes that misbehave: one that accepts connections and never answers,
//! one that is live but answers garbage admin info, one reached with TLS that speaks plain HTTP,
//! and a port nobody listens on. Each only produces an error on its own node; rounds go on.

mod support;

use axum::routing::get;
use rustfs_controlplane::config::{Config, ServeArgs};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Accepts TCP connections and never answers (kept open until the test ends).
async fn silent_listener() -> (u16, tokio::task::JoinHandle<()>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = l.accept().await {
            held.push(s);
        }
    });
    (port, task)
}

/// Live, but its admin info is not JSON.
async fn garbage_node() -> (u16, tokio::task::JoinHandle<()>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let app = axum::Router::new()
        .route("/rustfs/health/live", get(|| async { "ok" }))
        .route(
            "/rustfs/admin/v1/info",
            get(|| async { "\u{0}\u{1}this is not json{{{" }),
        );
    let task = tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    (port, task)
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn host(name: &str, port: u16) -> Value {
    json!({"name": name, "address": "127.0.0.1", "s3_port": port, "drives": ["/d1"]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misbehaving_nodes_only_fail_themselves() {
    let (slow, t1) = silent_listener().await;
    let (garbage, t2) = garbage_node().await;
    let closed = free_port();
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config::resolve(ServeArgs {
        db: Some(dir.path().join("cp.db")),
        poll_interval_millis: Some(300),
        poll_timeout_millis: Some(300),
        down_after: Some(2),
        ..Default::default()
    })
    .unwrap();
    let cp = support::start(cfg).await;
    let (base, token) = (cp.base.clone(), cp.token.clone());
    let http = reqwest::Client::new();
    let call = |method: reqwest::Method, path: String, body: Option<Value>| {
        let mut req = http
            .request(method, format!("{base}{path}"))
            .bearer_auth(&token);
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        async move {
            let r = req.send().await.unwrap();
            let s = r.status().as_u16();
            (
                s,
                serde_json::from_str::<Value>(&r.text().await.unwrap()).unwrap_or(Value::Null),
            )
        }
    };
    let creds = json!({"access_key": "a", "secret_key": "secret"});
    let (s, r) = call(
        reqwest::Method::PUT,
        "/v1/clusters/bad".into(),
        Some(json!({"credentials": creds, "pools": [{"hosts": [
            host("slow", slow), host("garbage", garbage), host("closed", closed)
        ]}]})),
    )
    .await;
    assert_eq!(s, 201, "{r}");
    // https against a plain-HTTP node: a TLS error
    let (s, r) = call(
        reqwest::Method::PUT,
        "/v1/clusters/tls".into(),
        Some(json!({"scheme": "https", "credentials": creds,
                    "pools": [{"hosts": [host("plain", garbage)]}]})),
    )
    .await;
    assert_eq!(s, 201, "{r}");

    let state = |h: &Value, n: &str| -> (String, String) {
        let node = h["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == n)
            .cloned()
            .unwrap_or(Value::Null);
        (
            node["state"].as_str().unwrap_or_default().to_string(),
            node["last_error"].as_str().unwrap_or_default().to_string(),
        )
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let (bad, tls) = loop {
        let (_, bad) = call(reqwest::Method::GET, "/v1/clusters/bad/health".into(), None).await;
        let (_, tls) = call(reqwest::Method::GET, "/v1/clusters/tls/health".into(), None).await;
        let done = state(&bad, "slow").0 == "down"
            && state(&bad, "closed").0 == "down"
            && state(&bad, "garbage").0 == "up"
            && !state(&bad, "garbage").1.is_empty()
            && state(&tls, "plain").0 == "down";
        if done {
            break (bad, tls);
        }
        assert!(
            Instant::now() < deadline,
            "poller did not judge every node: {bad}\n{tls}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(state(&bad, "slow").1.contains("timed out"), "{bad}");
    assert!(
        state(&bad, "garbage").1.contains("not the expected JSON"),
        "{bad}"
    );
    assert!(!state(&bad, "closed").1.is_empty(), "{bad}");
    assert!(
        state(&tls, "plain").1.contains("TLS handshake failed"),
        "{tls}"
    );
    assert_eq!(tls["status"], "down", "{tls}");

    // rounds go on: the observation time keeps moving
    let first = bad["observed_at"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, h) = call(reqwest::Method::GET, "/v1/clusters/bad/health".into(), None).await;
        if h["observed_at"].as_str().unwrap() != first {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the poller stopped after misbehaving nodes"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, ev) = call(
        reqwest::Method::GET,
        "/v1/events?cluster=bad&kind=node_down".into(),
        None,
    )
    .await;
    let downs: Vec<&str> = ev["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["node"].as_str())
        .collect();
    assert!(downs.contains(&"slow") && downs.contains(&"closed"), "{ev}");
    assert!(!downs.contains(&"garbage"), "{ev}");
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            "rustfs_controlplane_poll_errors_total{cluster=\"bad\",stage=\"admin_info\"}"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains("rustfs_controlplane_nodes{cluster=\"bad\",state=\"down\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("rustfs_controlplane_events_total{kind=\"node_down\"}"),
        "{metrics}"
    );
    for (cluster, node, reachable) in [
        ("bad", "garbage", 1),
        ("bad", "slow", 0),
        ("bad", "closed", 0),
        ("tls", "plain", 0),
    ] {
        assert!(
            metrics.contains(&format!(
                "rustfs_controlplane_node_reachable{{cluster=\"{cluster}\",node=\"{node}\"}} {reachable}"
            )),
            "{metrics}"
        );
    }
    assert!(
        metrics.contains("rustfs_controlplane_poll_errors_total{cluster=\"tls\",stage=\"tls\"}"),
        "{metrics}"
    );
    cp.stop().await;
    t1.abort();
    t2.abort();
}
