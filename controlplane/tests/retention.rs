//! Retention with the real server on a real SQLite file: events and audit entries older than
//! their retention are deleted by the periodic prune (here every 200 ms), younger ones stay,
//! and both prunes are counted in `/metrics`.

mod support;

use rustfs_controlplane::config::{Config, ServeArgs};
use serde_json::Value;
use sqlx::sqlite::SqliteConnectOptions;
use std::time::{Duration, Instant};

const DAY_MILLIS: i64 = 86_400_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_events_and_audit_entries_are_pruned_periodically() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("cp.db");
    let mut cfg = Config::resolve(ServeArgs {
        db: Some(db_path.clone()),
        event_retention_days: Some(7),
        audit_retention_days: Some(3),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(
        cfg.retention.events_max_age,
        Some(Duration::from_secs(7 * 86_400))
    );
    assert_eq!(
        cfg.retention.audit_max_age,
        Some(Duration::from_secs(3 * 86_400))
    );
    cfg.retention.every = Duration::from_millis(200);
    let cp = support::start(cfg).await;
    let (base, token) = (cp.base.clone(), cp.token.clone());
    let http = reqwest::Client::new();

    // another writer on the same file while the server runs: events 8 days and 6 days old
    let pool = sqlx::SqlitePool::connect_with(
        SqliteConnectOptions::new()
            .filename(&db_path)
            .busy_timeout(Duration::from_secs(5)),
    )
    .await
    .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    for (age_days, message) in [(8, "too old"), (6, "young enough")] {
        sqlx::query("INSERT INTO events (time, kind, message) VALUES (?, 'node_down', ?)")
            .bind(now - age_days * DAY_MILLIS)
            .bind(message)
            .execute(&pool)
            .await
            .unwrap();
    }
    // and audit entries 4 days and 2 days old
    for (age_days, path) in [(4, "/v1/clusters/old"), (2, "/v1/clusters/young")] {
        sqlx::query(
            "INSERT INTO audit_log (time, actor, method, path, status) VALUES (?, 'ops (1)', 'PUT', ?, 200)",
        )
        .bind(now - age_days * DAY_MILLIS)
        .bind(path)
        .execute(&pool)
        .await
        .unwrap();
    }
    pool.close().await;

    let messages = || async {
        let text = http
            .get(format!("{base}/v1/events?kind=node_down"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let page: Value = serde_json::from_str(&text).unwrap();
        page["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["message"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let m = messages().await;
        if m == ["young enough"] {
            break;
        }
        assert!(Instant::now() < deadline, "old event not pruned: {m:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let audit_paths = || async {
        let text = http
            .get(format!("{base}/v1/audit"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let page: Value = serde_json::from_str(&text).unwrap();
        page["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["path"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    loop {
        let p = audit_paths().await;
        if p == ["/v1/clusters/young"] {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "old audit entry not pruned: {p:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("rustfs_controlplane_events_pruned_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("rustfs_controlplane_audit_pruned_total 1"),
        "{metrics}"
    );
    cp.stop().await;
}
