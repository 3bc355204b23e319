//! Object lock through the AWS SDK against the real binary: buckets created with object lock,
//! COMPLIANCE and GOVERNANCE retention, legal holds, default retention, and every refusal
//! (a locked version survives DELETE by version, DeleteObjects and overwrites; bad input changes
//! nothing).

use aws_sdk_s3::primitives::{ByteStream, DateTime};
use aws_sdk_s3::types::{
    BucketVersioningStatus, DefaultRetention, Delete, ObjectIdentifier, ObjectLockConfiguration,
    ObjectLockEnabled, ObjectLockLegalHold, ObjectLockLegalHoldStatus, ObjectLockMode,
    ObjectLockRetention, ObjectLockRetentionMode, ObjectLockRule, VersioningConfiguration,
};
use aws_sdk_s3::Client;
use rustfs_tests::{error_code, TestNode};
use std::time::{Duration, SystemTime};

fn in_secs(s: u64) -> DateTime {
    DateTime::from(SystemTime::now() + Duration::from_secs(s))
}

async fn put(c: &Client, bucket: &str, key: &str, body: &'static [u8]) -> String {
    c.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from_static(body))
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_string()
}

async fn retain(c: &Client, key: &str, v: &str, mode: ObjectLockRetentionMode, secs: u64) {
    c.put_object_retention()
        .bucket("locked")
        .key(key)
        .version_id(v)
        .retention(
            ObjectLockRetention::builder()
                .mode(mode)
                .retain_until_date(in_secs(secs))
                .build(),
        )
        .send()
        .await
        .unwrap();
}

async fn delete_version(c: &Client, key: &str, v: &str, bypass: bool) -> Result<(), String> {
    c.delete_object()
        .bucket("locked")
        .key(key)
        .version_id(v)
        .bypass_governance_retention(bypass)
        .send()
        .await
        .map(|_| ())
        .map_err(error_code)
}

async fn body(c: &Client, key: &str, v: &str) -> Vec<u8> {
    let r = c
        .get_object()
        .bucket("locked")
        .key(key)
        .version_id(v)
        .send()
        .await
        .unwrap();
    r.body.collect().await.unwrap().into_bytes().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locked_versions_survive_every_removal() {
    let node = TestNode::start(4);
    let c = node.client();
    c.create_bucket()
        .bucket("locked")
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .unwrap();
    let v = c
        .get_bucket_versioning()
        .bucket("locked")
        .send()
        .await
        .unwrap();
    assert_eq!(v.status(), Some(&BucketVersioningStatus::Enabled));
    let e = c
        .put_bucket_versioning()
        .bucket("locked")
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Suspended)
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(e), "InvalidBucketState");

    // COMPLIANCE, from the write's own headers.
    let kept = c
        .put_object()
        .bucket("locked")
        .key("ledger")
        .object_lock_mode(ObjectLockMode::Compliance)
        .object_lock_retain_until_date(in_secs(3600))
        .body(ByteStream::from_static(b"year-end"))
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_string();
    let head = c
        .head_object()
        .bucket("locked")
        .key("ledger")
        .send()
        .await
        .unwrap();
    assert_eq!(head.object_lock_mode(), Some(&ObjectLockMode::Compliance));
    assert!(head.object_lock_retain_until_date().is_some());
    assert_eq!(
        delete_version(&c, "ledger", &kept, false).await,
        Err("AccessDenied".into())
    );
    assert_eq!(
        delete_version(&c, "ledger", &kept, true).await,
        Err("AccessDenied".into())
    );
    let batch = c
        .delete_objects()
        .bucket("locked")
        .bypass_governance_retention(true)
        .delete(
            Delete::builder()
                .objects(
                    ObjectIdentifier::builder()
                        .key("ledger")
                        .version_id(&kept)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(batch.errors()[0].code(), Some("AccessDenied"));
    // A plain DELETE adds a delete marker; an overwrite adds a version: the locked one stays.
    c.delete_object()
        .bucket("locked")
        .key("ledger")
        .send()
        .await
        .unwrap();
    put(&c, "locked", "ledger", b"rewritten").await;
    assert_eq!(body(&c, "ledger", &kept).await, b"year-end");
    // COMPLIANCE only lengthens.
    let shorten = c
        .put_object_retention()
        .bucket("locked")
        .key("ledger")
        .version_id(&kept)
        .bypass_governance_retention(true)
        .retention(
            ObjectLockRetention::builder()
                .mode(ObjectLockRetentionMode::Compliance)
                .retain_until_date(in_secs(60))
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(shorten), "AccessDenied");
    retain(
        &c,
        "ledger",
        &kept,
        ObjectLockRetentionMode::Compliance,
        7200,
    )
    .await;

    // GOVERNANCE: removable with the bypass only.
    let gov = put(&c, "locked", "draft", b"draft").await;
    retain(&c, "draft", &gov, ObjectLockRetentionMode::Governance, 3600).await;
    assert_eq!(
        delete_version(&c, "draft", &gov, false).await,
        Err("AccessDenied".into())
    );
    assert_eq!(delete_version(&c, "draft", &gov, true).await, Ok(()));

    // Legal hold: no removal while it is on, whatever the bypass.
    let held = put(&c, "locked", "evidence", b"exhibit").await;
    let hold = |status: ObjectLockLegalHoldStatus| {
        c.put_object_legal_hold()
            .bucket("locked")
            .key("evidence")
            .version_id(&held)
            .legal_hold(ObjectLockLegalHold::builder().status(status).build())
            .send()
    };
    hold(ObjectLockLegalHoldStatus::On).await.unwrap();
    let got = c
        .get_object_legal_hold()
        .bucket("locked")
        .key("evidence")
        .version_id(&held)
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.legal_hold().and_then(|h| h.status()),
        Some(&ObjectLockLegalHoldStatus::On)
    );
    assert_eq!(
        delete_version(&c, "evidence", &held, true).await,
        Err("AccessDenied".into())
    );
    hold(ObjectLockLegalHoldStatus::Off).await.unwrap();
    assert_eq!(delete_version(&c, "evidence", &held, false).await, Ok(()));

    // A retention that has run out no longer keeps the version.
    let brief = put(&c, "locked", "brief", b"brief").await;
    retain(&c, "brief", &brief, ObjectLockRetentionMode::Compliance, 2).await;
    assert_eq!(
        delete_version(&c, "brief", &brief, false).await,
        Err("AccessDenied".into())
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        match delete_version(&c, "brief", &brief, false).await {
            Ok(()) => break,
            Err(e) if std::time::Instant::now() < deadline => {
                assert_eq!(e, "AccessDenied");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(e) => panic!("retention never ran out: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_retention_and_bad_input() {
    let node = TestNode::start(4);
    let c = node.client();
    c.create_bucket().bucket("plain").send().await.unwrap();
    // Object lock needs versioning first, and lock headers need object lock.
    let e = c
        .get_object_lock_configuration()
        .bucket("plain")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(e), "ObjectLockConfigurationNotFoundError");
    let e = c
        .put_object()
        .bucket("plain")
        .key("k")
        .object_lock_legal_hold_status(ObjectLockLegalHoldStatus::On)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(e), "InvalidRequest");
    let config = |rule: Option<DefaultRetention>| {
        ObjectLockConfiguration::builder()
            .object_lock_enabled(ObjectLockEnabled::Enabled)
            .set_rule(rule.map(|r| ObjectLockRule::builder().default_retention(r).build()))
            .build()
    };
    let governance_day = DefaultRetention::builder()
        .mode(ObjectLockRetentionMode::Governance)
        .days(1)
        .build();
    let e = c
        .put_object_lock_configuration()
        .bucket("plain")
        .object_lock_configuration(config(Some(governance_day.clone())))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(e), "InvalidBucketState");
    c.put_bucket_versioning()
        .bucket("plain")
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    for bad in [
        DefaultRetention::builder()
            .mode(ObjectLockRetentionMode::Governance)
            .days(1)
            .years(1)
            .build(),
        DefaultRetention::builder()
            .mode(ObjectLockRetentionMode::Governance)
            .days(0)
            .build(),
    ] {
        let e = c
            .put_object_lock_configuration()
            .bucket("plain")
            .object_lock_configuration(config(Some(bad)))
            .send()
            .await
            .unwrap_err();
        assert!(["MalformedXML", "InvalidArgument"].contains(&error_code(e).as_str()));
    }
    c.put_object_lock_configuration()
        .bucket("plain")
        .object_lock_configuration(config(Some(governance_day)))
        .send()
        .await
        .unwrap();
    let got = c
        .get_object_lock_configuration()
        .bucket("plain")
        .send()
        .await
        .unwrap();
    let rule = got
        .object_lock_configuration()
        .and_then(|c| c.rule())
        .and_then(|r| r.default_retention())
        .unwrap();
    assert_eq!(rule.days(), Some(1));

    // New versions get the default retention.
    let before = SystemTime::now();
    let v = put(&c, "plain", "k", b"kept a day").await;
    let r = c
        .get_object_retention()
        .bucket("plain")
        .key("k")
        .version_id(&v)
        .send()
        .await
        .unwrap();
    let r = r.retention().unwrap();
    assert_eq!(r.mode(), Some(&ObjectLockRetentionMode::Governance));
    let until = SystemTime::try_from(*r.retain_until_date().unwrap()).unwrap();
    let day = Duration::from_secs(86_400);
    assert!(until >= before + day - Duration::from_secs(5) && until <= SystemTime::now() + day);

    // Bad dates and half-given settings are refused and change nothing.
    let e = c
        .put_object()
        .bucket("plain")
        .key("past")
        .object_lock_mode(ObjectLockMode::Governance)
        .object_lock_retain_until_date(DateTime::from_secs(1_000))
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(e), "InvalidArgument");
    let e = c
        .put_object()
        .bucket("plain")
        .key("half")
        .object_lock_mode(ObjectLockMode::Governance)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(e), "InvalidArgument");
    for key in ["past", "half"] {
        let e = c
            .head_object()
            .bucket("plain")
            .key(key)
            .send()
            .await
            .unwrap_err();
        assert!(e.into_service_error().is_not_found());
    }
    let e = c
        .get_object_retention()
        .bucket("plain")
        .key("k")
        .version_id("00000000-0000-0000-0000-000000000000")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(e), "NoSuchVersion");
}

/// Polls `check` until it holds, for at most a minute (the scanner runs every second here).
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !check().await {
        assert!(
            std::time::Instant::now() < deadline,
            "lifecycle never did: {what}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

async fn version_ids(c: &Client, bucket: &str, key: &str) -> Vec<(String, bool)> {
    let r = c
        .list_object_versions()
        .bucket(bucket)
        .prefix(key)
        .send()
        .await
        .unwrap();
    let mut out: Vec<(String, bool)> = r
        .versions()
        .iter()
        .filter(|v| v.key() == Some(key))
        .map(|v| (v.version_id().unwrap().to_string(), false))
        .collect();
    out.extend(
        r.delete_markers()
            .iter()
            .filter(|m| m.key() == Some(key))
            .map(|m| (m.version_id().unwrap().to_string(), true)),
    );
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_expires_versions_aborts_uploads_and_spares_locked_versions() {
    use aws_sdk_s3::types::{
        AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, ExpirationStatus,
        LifecycleExpiration, LifecycleRule, LifecycleRuleFilter, NoncurrentVersionExpiration,
    };
    // A lifecycle day lasts 2 s; the scanner passes every second.
    let node = TestNode::start_with(
        4,
        &[
            ("RUSTFS_TEST_LIFECYCLE_DAY_SECS", "2"),
            ("RUSTFS_SCANNER_INTERVAL_SECS", "1"),
        ],
    );
    let c = node.client();
    c.create_bucket()
        .bucket("locked")
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .unwrap();
    // Data before the rules: a locked noncurrent version, a plain noncurrent one, a key that
    // expires, one that does not match, and an upload left open.
    let locked = c
        .put_object()
        .bucket("locked")
        .key("logs/kept")
        .object_lock_mode(ObjectLockMode::Compliance)
        .object_lock_retain_until_date(in_secs(3600))
        .body(ByteStream::from_static(b"locked"))
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_string();
    put(&c, "locked", "logs/kept", b"newer").await;
    let plain_old = put(&c, "locked", "logs/plain", b"old").await;
    let plain_new = put(&c, "locked", "logs/plain", b"new").await;
    put(&c, "locked", "tmp/scratch", b"scratch").await;
    put(&c, "locked", "data/keep", b"keep").await;
    let upload = c
        .create_multipart_upload()
        .bucket("locked")
        .key("logs/upload")
        .send()
        .await
        .unwrap()
        .upload_id()
        .unwrap()
        .to_string();

    // Bad rules are refused and change nothing.
    let no_action = LifecycleRule::builder()
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("x/").build())
        .build()
        .unwrap();
    let e = c
        .put_bucket_lifecycle_configuration()
        .bucket("locked")
        .lifecycle_configuration(
            BucketLifecycleConfiguration::builder()
                .rules(no_action)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(e), "MalformedXML");
    let e = c
        .get_bucket_lifecycle_configuration()
        .bucket("locked")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(e), "NoSuchLifecycleConfiguration");

    let logs = LifecycleRule::builder()
        .id("logs")
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("logs/").build())
        .noncurrent_version_expiration(
            NoncurrentVersionExpiration::builder()
                .noncurrent_days(1)
                .build(),
        )
        .abort_incomplete_multipart_upload(
            AbortIncompleteMultipartUpload::builder()
                .days_after_initiation(1)
                .build(),
        )
        .build()
        .unwrap();
    let scratch = LifecycleRule::builder()
        .id("scratch")
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("tmp/").build())
        .expiration(LifecycleExpiration::builder().days(1).build())
        .build()
        .unwrap();
    c.put_bucket_lifecycle_configuration()
        .bucket("locked")
        .lifecycle_configuration(
            BucketLifecycleConfiguration::builder()
                .rules(logs)
                .rules(scratch)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let got = c
        .get_bucket_lifecycle_configuration()
        .bucket("locked")
        .send()
        .await
        .unwrap();
    assert_eq!(got.rules().len(), 2);

    // The noncurrent plain version goes; the current one stays.
    eventually("remove the noncurrent version", || async {
        version_ids(&c, "locked", "logs/plain").await == vec![(plain_new.clone(), false)]
    })
    .await;
    // The expired current version gets a delete marker over it.
    eventually("expire the current version", || async {
        let v = version_ids(&c, "locked", "tmp/scratch").await;
        v.len() == 2 && v.iter().any(|(_, marker)| *marker)
    })
    .await;
    // The stale upload is aborted.
    eventually("abort the stale upload", || async {
        c.list_multipart_uploads()
            .bucket("locked")
            .send()
            .await
            .unwrap()
            .uploads()
            .is_empty()
    })
    .await;
    // The locked noncurrent version survived all of it; untouched keys stay.
    assert_eq!(body(&c, "logs/kept", &locked).await, b"locked");
    assert_eq!(version_ids(&c, "locked", "logs/kept").await.len(), 2);
    assert_eq!(version_ids(&c, "locked", "data/keep").await.len(), 1);
    let e = c
        .upload_part()
        .bucket("locked")
        .key("logs/upload")
        .upload_id(&upload)
        .part_number(1)
        .body(ByteStream::from_static(b"late"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(e), "NoSuchUpload");
    assert!(version_ids(&c, "locked", "logs/plain")
        .await
        .iter()
        .all(|(v, _)| *v != plain_old));

    // The admin API counts what was done, and names the bucket with rules; it is root's only.
    let url = format!("{}/rustfs/admin/v1/lifecycle/status", node.server.endpoint);
    let r = rustfs_tests::raw::send("GET", &url, &[], Vec::new()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let status: serde_json::Value = serde_json::from_str(&r.body).expect("JSON");
    let totals = &status["totals"];
    assert!(totals["noncurrent_removed"].as_u64() >= Some(1), "{status}");
    assert!(totals["current_expired"].as_u64() >= Some(1), "{status}");
    assert!(totals["uploads_aborted"].as_u64() >= Some(1), "{status}");
    assert!(totals["skipped_locked"].as_u64() >= Some(1), "{status}");
    assert!(totals["objects_scanned"].as_u64() >= Some(5), "{status}");
    assert_eq!(status["nodes"][0]["reachable"], true, "{status}");
    assert_eq!(
        status["buckets"],
        serde_json::json!([{"bucket": "locked", "rules": 2, "rules_enabled": 2}])
    );
    let anonymous = reqwest::get(&url).await.unwrap();
    assert_eq!(anonymous.status(), 403);

    c.delete_bucket_lifecycle()
        .bucket("locked")
        .send()
        .await
        .unwrap();
    let e = c
        .get_bucket_lifecycle_configuration()
        .bucket("locked")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(e), "NoSuchLifecycleConfiguration");
}

/// On a four-node cluster: tags set through one node are read through another, a version locked
/// through one node cannot be removed through any other, and lifecycle (a rule set through one
/// node, applied by whichever node leads the set) expires what it should and spares the locked
/// version; the admin API sums every node's lifecycle figures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_locks_and_lifecycle_hold_across_a_cluster() {
    use aws_sdk_s3::types::{
        BucketLifecycleConfiguration, ExpirationStatus, LifecycleExpiration, LifecycleRule,
        LifecycleRuleFilter, NoncurrentVersionExpiration, Tag, Tagging,
    };
    use rustfs_tests::cluster::{Cluster, CLUSTER_ENV};
    let mut env = CLUSTER_ENV.to_vec();
    env.extend([
        ("RUSTFS_TEST_LIFECYCLE_DAY_SECS", "2"),
        ("RUSTFS_SCANNER_INTERVAL_SECS", "1"),
    ]);
    let cluster = Cluster::start_with(4, 1, Duration::ZERO, &env);
    let c = |i: usize| cluster.client(i);
    c(0).create_bucket()
        .bucket("locked")
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .unwrap();
    // Locked through node 2; its removal is refused through nodes 3 and 4.
    let kept = put(&c(1), "locked", "logs/kept", b"locked").await;
    retain(
        &c(1),
        "logs/kept",
        &kept,
        ObjectLockRetentionMode::Compliance,
        3600,
    )
    .await;
    for i in [2, 3] {
        assert_eq!(
            delete_version(&c(i), "logs/kept", &kept, true).await,
            Err("AccessDenied".to_string()),
            "through node {}",
            i + 1
        );
    }
    // Tagged through node 1, read through node 4.
    c(0).put_object_tagging()
        .bucket("locked")
        .key("logs/kept")
        .version_id(&kept)
        .tagging(
            Tagging::builder()
                .tag_set(Tag::builder().key("team").value("ops").build().unwrap())
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let tags = c(3)
        .get_object_tagging()
        .bucket("locked")
        .key("logs/kept")
        .version_id(&kept)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tag_set()[0].value(), "ops");
    // A newer version makes the locked one noncurrent; a key to expire.
    put(&c(2), "locked", "logs/kept", b"newer").await;
    put(&c(3), "locked", "tmp/scratch", b"scratch").await;
    let rules = [
        LifecycleRule::builder()
            .id("noncurrent")
            .status(ExpirationStatus::Enabled)
            .filter(LifecycleRuleFilter::builder().prefix("logs/").build())
            .noncurrent_version_expiration(
                NoncurrentVersionExpiration::builder()
                    .noncurrent_days(1)
                    .build(),
            )
            .build()
            .unwrap(),
        LifecycleRule::builder()
            .id("scratch")
            .status(ExpirationStatus::Enabled)
            .filter(LifecycleRuleFilter::builder().prefix("tmp/").build())
            .expiration(LifecycleExpiration::builder().days(1).build())
            .build()
            .unwrap(),
    ];
    c(1).put_bucket_lifecycle_configuration()
        .bucket("locked")
        .lifecycle_configuration(
            BucketLifecycleConfiguration::builder()
                .set_rules(Some(rules.to_vec()))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    eventually("expire the current version", || async {
        let v = version_ids(&c(0), "locked", "tmp/scratch").await;
        v.len() == 2 && v.iter().any(|(_, marker)| *marker)
    })
    .await;
    let url = format!(
        "{}/rustfs/admin/v1/lifecycle/status",
        cluster.nodes[0].endpoint
    );
    eventually("skip the locked version", || async {
        let r = rustfs_tests::raw::send("GET", &url, &[], Vec::new()).await;
        let s: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
        s["totals"]["skipped_locked"].as_u64() >= Some(1)
            && s["nodes"]
                .as_array()
                .is_some_and(|n| n.len() == 4 && n.iter().all(|n| n["reachable"] == true))
    })
    .await;
    assert_eq!(body(&c(2), "logs/kept", &kept).await, b"locked");
    assert_eq!(version_ids(&c(3), "locked", "logs/kept").await.len(), 2);
}
