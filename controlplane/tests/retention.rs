//! Event retention with the real server on a real SQLite file: events older than the retention
//! are deleted by the periodic prune (here every 200 ms), younger ones stay, and the prune is
//! counted in `/metrics`.

mod support;

use rustfs_controlplane::config::{Config, ServeArgs};
use serde_json::Value;
use sqlx::sqlite::SqliteConnectOptions;
use std::time::{Duration, Instant};

const DAY_MILLIS: i64 = 86_400_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_events_are_pruned_periodically() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("cp.db");
    let mut cfg = Config::resolve(ServeArgs {
        db: Some(db_path.clone()),
        event_retention_days: Some(7),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(cfg.retention.max_age, Some(Duration::from_secs(7 * 86_400)));
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
    cp.stop().await;
}
