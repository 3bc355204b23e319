//! Repository tests against real SQLite files in a temp dir.

use super::*;
use crate::api::{
    ClusterStatus, DriveState, HostSpec, NodeState, PollCredentials, PoolSpec, RegisterCluster,
    Scheme, SetHealth,
};

fn spec(hosts: &[(&str, u16)]) -> RegisterCluster {
    RegisterCluster {
        site: "dc1".into(),
        version: Some("0.1.0".into()),
        scheme: Scheme::Http,
        ca_pem: None,
        erasure: Default::default(),
        s3_endpoints: vec![],
        credentials: PollCredentials {
            access_key: "admin".into(),
            secret_key: "secret-key".into(),
        },
        deploy_key: None,
        pools: vec![PoolSpec {
            hosts: hosts
                .iter()
                .map(|(n, port)| HostSpec {
                    name: Some(n.to_string()),
                    address: "127.0.0.1".into(),
                    s3_port: *port,
                    drives: vec!["/d1".into(), "/d2".into()],
                    access: None,
                })
                .collect(),
        }],
    }
}

async fn open(dir: &std::path::Path) -> Db {
    Db::open(&dir.join("cp.db"), SecretBox::from_key(&[1; 32]))
        .await
        .unwrap()
}

#[tokio::test]
async fn migrates_an_empty_file_and_reopens_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path()).await;
    let all: Vec<i64> = MIGRATOR.iter().map(|m| m.version).collect();
    assert!(!all.is_empty());
    assert_eq!(db.applied_migrations().await.unwrap(), all);
    db.register_cluster("prod", &spec(&[("n1", 9000)]))
        .await
        .unwrap();
    db.close().await;
    assert!(dir.path().join("cp.db").is_file());
    let db = open(dir.path()).await;
    assert_eq!(db.applied_migrations().await.unwrap(), all);
    assert_eq!(db.cluster("prod").await.unwrap().site, "dc1");
    let mode: (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(&db.read)
        .await
        .unwrap();
    assert_eq!(mode.0, "wal");
    let fk: (i64,) = sqlx::query_as("PRAGMA foreign_keys")
        .fetch_one(&db.write)
        .await
        .unwrap();
    assert_eq!(fk.0, 1);
}

#[tokio::test]
async fn register_is_idempotent_and_updates_keep_observed_state() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path()).await;
    let s = spec(&[("n1", 9000), ("n2", 9001)]);
    let r = db.register_cluster("prod", &s).await.unwrap();
    assert!(r.created && r.changed);
    let r = db.register_cluster("prod", &s).await.unwrap();
    assert!(!r.created && !r.changed);
    let before = db
        .events(&EventFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(before.events.len(), 1);
    assert_eq!(before.events[0].kind, "cluster_registered");

    // observe n1 up, then add n3: n1 keeps its state
    let t = db.poll_targets().await.unwrap().remove(0);
    let o = Observation {
        time: now_millis(),
        status: ClusterStatus::Healthy,
        hosts: vec![observe::HostUpdate {
            id: t.hosts[0].id,
            state: NodeState::Up,
            failures: 0,
            version: Some("0.1.0".into()),
            answered: true,
            error: None,
        }],
        drives: vec![],
        sets: Some(vec![SetHealth {
            pool: 0,
            set: 0,
            data: 2,
            parity: 2,
            read_quorum: 2,
            write_quorum: 3,
            drives_total: 4,
            drives_online: 4,
            read_tolerance: 2,
            write_tolerance: 1,
        }]),
        events: vec![],
    };
    db.apply_observation(&t, &o).await.unwrap();
    let r = db
        .register_cluster("prod", &spec(&[("n1", 9000), ("n2", 9001), ("n3", 9002)]))
        .await
        .unwrap();
    assert!(!r.created && r.changed);
    let nodes = db.nodes("prod").await.unwrap();
    assert_eq!(nodes.len(), 3);
    assert_eq!(nodes[0].state, NodeState::Up);
    assert_eq!(nodes[0].version.as_deref(), Some("0.1.0"));
    assert_eq!(nodes[2].state, NodeState::Unknown);
    let h = db.health("prod").await.unwrap();
    assert_eq!(h.status, ClusterStatus::Healthy);
    assert_eq!(h.sets.len(), 1);
    assert_eq!(h.drives_total, 6);

    // changed credentials alone are a change too
    let mut s2 = spec(&[("n1", 9000), ("n2", 9001), ("n3", 9002)]);
    s2.credentials.secret_key = "another-secret".into();
    assert!(db.register_cluster("prod", &s2).await.unwrap().changed);
    let t = db.poll_targets().await.unwrap().remove(0);
    assert_eq!(t.credentials.unwrap().secret_key, "another-secret");

    // shrinking removes the host, its drives and (by cascade) nothing else
    db.register_cluster("prod", &spec(&[("n1", 9000)]))
        .await
        .unwrap();
    assert_eq!(db.nodes("prod").await.unwrap().len(), 1);
    assert_eq!(db.drives("prod").await.unwrap().len(), 2);
    assert_eq!(
        db.sites().await.unwrap()[0].clusters,
        vec!["prod".to_string()]
    );
}

#[tokio::test]
async fn credentials_are_sealed_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path()).await;
    db.register_cluster("prod", &spec(&[("n1", 9000)]))
        .await
        .unwrap();
    db.close().await;
    let mut raw = std::fs::read(dir.path().join("cp.db")).unwrap();
    if let Ok(wal) = std::fs::read(dir.path().join("cp.db-wal")) {
        raw.extend(wal);
    }
    let needle = b"secret-key";
    assert!(!raw.windows(needle.len()).any(|w| w == needle));
}

#[tokio::test]
async fn delete_cascades_and_events_page() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path()).await;
    for i in 0..5 {
        let mut s = spec(&[("n1", 9000)]);
        s.version = Some(format!("0.1.{i}"));
        db.register_cluster("prod", &s).await.unwrap();
    }
    db.delete_cluster("prod").await.unwrap();
    assert!(matches!(db.cluster("prod").await, Err(Error::NotFound(_))));
    assert!(matches!(
        db.delete_cluster("prod").await,
        Err(Error::NotFound(_))
    ));
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM drives")
        .fetch_one(&db.read)
        .await
        .unwrap();
    assert_eq!(n, 0);
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = db
            .events(&EventFilter {
                cluster: Some("prod".into()),
                after,
                limit: 2,
                ..Default::default()
            })
            .await
            .unwrap();
        seen.extend(page.events.iter().map(|e| e.kind.clone()));
        match page.next_after {
            Some(a) => after = Some(a),
            None => break,
        }
    }
    assert_eq!(seen.len(), 6);
    assert_eq!(seen[0], "cluster_registered");
    assert_eq!(seen[5], "cluster_deleted");
    let only = db
        .events(&EventFilter {
            kind: Some("cluster_updated".into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(only.events.len(), 4);
    let none = db
        .events(&EventFilter {
            since_millis: Some(now_millis() + 60_000),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(none.events.is_empty());
}

#[tokio::test]
async fn observation_for_a_deleted_cluster_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path()).await;
    db.register_cluster("prod", &spec(&[("n1", 9000)]))
        .await
        .unwrap();
    let t = db.poll_targets().await.unwrap().remove(0);
    db.delete_cluster("prod").await.unwrap();
    let o = Observation {
        time: now_millis(),
        status: ClusterStatus::Down,
        hosts: vec![],
        drives: vec![observe::DriveUpdate {
            id: t.drives[0].id,
            state: DriveState::Offline,
            state_changed: true,
            pool: None,
            set: None,
            total_bytes: None,
            used_bytes: None,
            free_bytes: None,
        }],
        sets: None,
        events: vec![],
    };
    db.apply_observation(&t, &o).await.unwrap();
    assert!(db.clusters().await.unwrap().is_empty());
}

#[tokio::test]
async fn prune_deletes_only_events_past_the_retention_in_batches() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path()).await;
    let day = 86_400_000;
    let now = now_millis();
    // more old events than one batch, written straight into the file
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 12000) \
         INSERT INTO events (time, cluster, kind, message) \
         SELECT ? - i, 'old', 'node_down', 'old' FROM n",
    )
    .bind(now - 31 * day)
    .execute(&db.write)
    .await
    .unwrap();
    for (age_days, cluster) in [(40, "old"), (29, "new"), (0, "new")] {
        db.record_event(&NewEvent {
            time: now - age_days * day,
            cluster: Some(cluster),
            node: None,
            drive: None,
            kind: "node_up",
            message: "m",
            details: serde_json::json!({}),
        })
        .await
        .unwrap();
    }
    assert_eq!(db.prune_events(now - 30 * day).await.unwrap(), 12_001);
    assert_eq!(db.prune_events(now - 30 * day).await.unwrap(), 0);
    db.close().await;
    // gone from the file, the rest intact and still paged
    let db = open(dir.path()).await;
    let page = db
        .events(&EventFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.events.len(), 2);
    assert!(page
        .events
        .iter()
        .all(|e| e.cluster.as_deref() == Some("new")));
}

#[tokio::test]
async fn ca_pem_is_part_of_the_registration() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path()).await;
    let mut r = spec(&[("n1", 9000)]);
    r.scheme = Scheme::Https;
    r.ca_pem = Some("-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n".into());
    assert!(db.register_cluster("tls", &r).await.unwrap().created);
    assert!(!db.register_cluster("tls", &r).await.unwrap().changed);
    assert_eq!(db.cluster("tls").await.unwrap().ca_pem, r.ca_pem);
    let targets = db.poll_targets().await.unwrap();
    assert_eq!(targets[0].ca_pem, r.ca_pem);
    // a new CA is a change, and the poller gets it
    r.ca_pem = Some("-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----\n".into());
    assert!(db.register_cluster("tls", &r).await.unwrap().changed);
    assert_eq!(db.poll_targets().await.unwrap()[0].ca_pem, r.ca_pem);
    r.ca_pem = None;
    assert!(db.register_cluster("tls", &r).await.unwrap().changed);
    assert_eq!(db.cluster("tls").await.unwrap().ca_pem, None);
}

#[tokio::test]
async fn the_deploy_key_is_sealed_with_the_credentials_and_never_in_the_spec() {
    use crate::api::DeployKey;
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path()).await;
    let plain = spec(&[("n1", 9000)]);
    db.register_cluster("prod", &plain).await.unwrap();
    assert_eq!(db.deploy_key("prod").await.unwrap(), None);
    let key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE=\n-----END OPENSSH PRIVATE KEY-----\n";
    let keyed = RegisterCluster {
        deploy_key: Some(DeployKey(key.into())),
        ..plain.clone()
    };
    assert!(db.register_cluster("prod", &keyed).await.unwrap().changed);
    assert!(!db.register_cluster("prod", &keyed).await.unwrap().changed);
    assert_eq!(db.deploy_key("prod").await.unwrap().unwrap().0, key);
    assert!(db.cluster("prod").await.unwrap().has_credentials);
    // neither the spec column nor any other plain column holds it
    let raw: Vec<(String,)> = sqlx::query_as("SELECT spec FROM clusters")
        .fetch_all(&db.read)
        .await
        .unwrap();
    assert!(!raw[0].0.contains("OPENSSH"), "{}", raw[0].0);
    let file = std::fs::read(dir.path().join("cp.db")).unwrap();
    assert!(!String::from_utf8_lossy(&file).contains("b3BlbnNzaC1rZXktdjE"));
    // the credentials still open for the poller
    assert_eq!(
        db.open_credentials(
            &sqlx::query_as::<_, (Vec<u8>,)>("SELECT credentials FROM clusters")
                .fetch_one(&db.read)
                .await
                .unwrap()
                .0
        )
        .unwrap()
        .secret_key,
        "secret-key"
    );
    // registered again without one: it is forgotten
    assert!(db.register_cluster("prod", &plain).await.unwrap().changed);
    assert_eq!(db.deploy_key("prod").await.unwrap(), None);
}
