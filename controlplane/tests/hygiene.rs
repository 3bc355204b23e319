//! Connection hygiene, attacked with real sockets against the in-process server on a real
//! SQLite file: 500 slow request heads are closed by the header-read timeout while a normal client
//! is served, idle and stalled connections by the idle timeout, bodies over the limit get 413
//! before they are read, and connections over the cap wait until one closes. Timeouts are set
//! small; every wait is bounded; nothing asserts on how fast anything is.

mod support;

use rustfs_controlplane::config::{Config, ServeArgs};
use serde_json::Value;
use std::time::Duration;
use support::raw;

fn config(dir: &std::path::Path, args: ServeArgs) -> Config {
    Config::resolve(ServeArgs {
        db: Some(dir.join("cp.db")),
        event_retention_days: Some(0),
        audit_retention_days: Some(0),
        ..args
    })
    .unwrap()
}

const BOUND: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_heads_are_closed_while_a_normal_client_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let cp = support::start(config(
        dir.path(),
        ServeArgs {
            header_read_timeout_millis: Some(3000),
            ..Default::default()
        },
    ))
    .await;
    // 500 clients send half a request head and stall
    let mut slow = Vec::new();
    for i in 0..500 {
        let mut s = raw::connect(cp.addr).await;
        raw::send(
            &mut s,
            format!("GET /live HTTP/1.1\r\nHost: x\r\nX-Slow-{i}: ").as_bytes(),
        )
        .await;
        slow.push(s);
    }
    // a normal client is answered while they are held open (the server counts them)
    let metrics = reqwest::Client::new()
        .get(format!("{}/metrics", cp.base))
        .timeout(BOUND)
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.unwrap();
    let open: i64 = text
        .lines()
        .find_map(|l| l.strip_prefix("rustfs_controlplane_connections "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(open >= 500, "{open} connections open while 500 stall");
    // and every stalled one is closed by the header-read timeout
    for (i, s) in slow.iter_mut().enumerate() {
        assert!(
            raw::closed_within(s, BOUND).await,
            "slow connection {i} still open"
        );
    }
    // the server still serves
    let again = reqwest::get(format!("{}/live", cp.base)).await.unwrap();
    assert_eq!(again.status(), 200);
    cp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_stalled_connections_are_closed_by_the_idle_timeout() {
    let dir = tempfile::tempdir().unwrap();
    // the header timeout is far off, so whatever closes these within BOUND is the idle timeout
    let cp = support::start(config(
        dir.path(),
        ServeArgs {
            header_read_timeout_millis: Some(600_000),
            idle_timeout_millis: Some(300),
            ..Default::default()
        },
    ))
    .await;
    // a keep-alive connection after one answered request
    let mut idle = raw::connect(cp.addr).await;
    raw::send(&mut idle, b"GET /live HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let (status, body) = raw::read_answer(&mut idle, BOUND).await.unwrap();
    assert_eq!((status, body.as_str()), (200, "ok"));
    assert!(
        raw::closed_within(&mut idle, BOUND).await,
        "idle keep-alive connection still open"
    );
    // an authenticated request whose body stalls after 10 of 1000 bytes
    let mut stalled = raw::connect(cp.addr).await;
    let head = format!(
        "PUT /v1/clusters/prod HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"site\": \"",
        cp.token
    );
    raw::send(&mut stalled, head.as_bytes()).await;
    assert!(
        raw::closed_within(&mut stalled, BOUND).await,
        "stalled body still open"
    );
    // nothing of it was stored
    let text = reqwest::Client::new()
        .get(format!("{}/v1/clusters", cp.base))
        .bearer_auth(&cp.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let list: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(list["clusters"], serde_json::json!([]));
    cp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_limit_get_413_before_they_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let cp = support::start(config(
        dir.path(),
        ServeArgs {
            max_body_bytes: Some(4096),
            ..Default::default()
        },
    ))
    .await;
    // 100 MiB announced, none of it sent: the answer cannot wait for the body
    let mut s = raw::connect(cp.addr).await;
    let head = format!(
        "PUT /v1/clusters/prod HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        cp.token,
        100 << 20
    );
    raw::send(&mut s, head.as_bytes()).await;
    let (status, body) = raw::read_answer(&mut s, BOUND).await.expect("an answer");
    assert_eq!(status, 413, "{body}");
    let e: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(e["code"], "payload_too_large");
    assert!(
        e["message"].as_str().unwrap().contains("4096-byte limit"),
        "{e}"
    );
    // a chunked body of no announced length is cut once it passes the limit: 8 KiB sent,
    // then the client stalls without ending the body, and is answered anyway
    let mut s = raw::connect(cp.addr).await;
    let head = format!(
        "PUT /v1/clusters/prod HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        cp.token
    );
    raw::send(&mut s, head.as_bytes()).await;
    for _ in 0..8 {
        raw::send(
            &mut s,
            format!("400\r\n{}\r\n", " ".repeat(1024)).as_bytes(),
        )
        .await;
    }
    let (status, body) = raw::read_answer(&mut s, BOUND).await.expect("an answer");
    assert_eq!(status, 413, "{body}");
    let e: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(e["code"], "payload_too_large");
    // a body under the limit is read as usual (here: not valid JSON)
    let r = reqwest::Client::new()
        .put(format!("{}/v1/clusters/prod", cp.base))
        .bearer_auth(&cp.token)
        .header("content-type", "application/json")
        .body("x".repeat(4000))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    cp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_wait_until_one_closes() {
    let dir = tempfile::tempdir().unwrap();
    let cp = support::start(config(
        dir.path(),
        ServeArgs {
            max_connections: Some(2),
            ..Default::default()
        },
    ))
    .await;
    let request = b"GET /live HTTP/1.1\r\nHost: x\r\n\r\n";
    // start() polled /live on its own connections; wait until those are closed again and two
    // fresh keep-alive connections are being served
    let (mut a, mut b) = support::wait_for("two connections served", BOUND, || async {
        let mut a = raw::connect(cp.addr).await;
        let mut b = raw::connect(cp.addr).await;
        raw::send(&mut a, request).await;
        raw::send(&mut b, request).await;
        let short = Duration::from_millis(500);
        let ok_a = raw::read_answer(&mut a, short).await.is_some();
        let ok_b = raw::read_answer(&mut b, short).await.is_some();
        (ok_a && ok_b).then_some((a, b))
    })
    .await;
    // a third connects (the kernel's backlog takes it) but is not served while a and b are open
    let mut c = raw::connect(cp.addr).await;
    raw::send(&mut c, request).await;
    assert!(
        raw::read_answer(&mut c, Duration::from_millis(500))
            .await
            .is_none(),
        "a third connection was served past max_connections = 2"
    );
    // the served ones keep working
    raw::send(&mut a, request).await;
    assert_eq!(raw::read_answer(&mut a, BOUND).await.unwrap().0, 200);
    raw::send(&mut b, request).await;
    assert_eq!(raw::read_answer(&mut b, BOUND).await.unwrap().0, 200);
    // once one closes, the waiting one is served
    drop(a);
    let (status, _) = raw::read_answer(&mut c, BOUND)
        .await
        .expect("the waiting connection is served once a slot frees");
    assert_eq!(status, 200);
    drop(b);
    drop(c);
    cp.stop().await;
}
