//! Access control against the real binary: users, groups, policies and service accounts made
//! through the admin API, then every S3 call made with the AWS SDK as those users — allowed
//! where a policy grants it, refused everywhere else, on every node of a cluster at once.

use aws_sdk_s3::Client;
use rustfs_tests::cluster::Cluster;
use rustfs_tests::iam::{add_user, admin, admin_ok, delete, get, list, put, ROOT};
use rustfs_tests::{client, TestNode, ACCESS_KEY};
use std::time::{Duration, Instant};

const HOME_POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
     "Resource": ["arn:aws:s3:::data/home/${aws:username}/*"]},
    {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": ["arn:aws:s3:::data"],
     "Condition": {"StringLike": {"s3:prefix": ["home/${aws:username}/*"]}}}
  ]
}"#;

#[tokio::test]
async fn policies_decide_every_call_of_users_groups_and_service_accounts() {
    let node = TestNode::start(4);
    let ep = node.server.endpoint.clone();
    let root = node.client();
    root.create_bucket().bucket("data").send().await.unwrap();
    for key in ["public.txt", "home/alice/a.txt", "home/bob/b.txt"] {
        assert_eq!(put(&root, "data", key).await, "");
    }

    // readonly: GET, never PUT, DELETE or anything of the admin API.
    let reader = add_user(&ep, "reader", &["readonly"]).await;
    assert_eq!(get(&reader, "data", "public.txt").await, "");
    assert_eq!(put(&reader, "data", "new.txt").await, "AccessDenied");
    assert_eq!(delete(&reader, "data", "public.txt").await, "AccessDenied");
    assert_eq!(list(&reader, "data", None).await, "AccessDenied");
    let r = admin(&ep, ("reader", "reader-secret-key"), "GET", "users", "").await;
    assert_eq!(r.status, 403, "{}", r.body);

    // A per-prefix policy with ${aws:username}: GET, PUT, DELETE and LIST in the home only.
    admin_ok(&ep, "PUT", "policies/home", HOME_POLICY).await;
    let alice = add_user(&ep, "alice", &["home"]).await;
    assert_eq!(put(&alice, "data", "home/alice/new.txt").await, "");
    assert_eq!(get(&alice, "data", "home/alice/a.txt").await, "");
    assert_eq!(delete(&alice, "data", "home/alice/new.txt").await, "");
    assert_eq!(list(&alice, "data", Some("home/alice/")).await, "");
    assert_eq!(get(&alice, "data", "home/bob/b.txt").await, "AccessDenied");
    assert_eq!(put(&alice, "data", "home/bob/x.txt").await, "AccessDenied");
    assert_eq!(
        delete(&alice, "data", "home/bob/b.txt").await,
        "AccessDenied"
    );
    assert_eq!(
        list(&alice, "data", Some("home/bob/")).await,
        "AccessDenied"
    );
    assert_eq!(list(&alice, "data", None).await, "AccessDenied");
    // A copy needs GET on its source too.
    let copy = alice
        .copy_object()
        .bucket("data")
        .key("home/alice/stolen.txt")
        .copy_source("data/home/bob/b.txt")
        .send()
        .await;
    assert_eq!(rustfs_tests::error_code(copy.unwrap_err()), "AccessDenied");

    // Groups: bob gets readwrite through one; leaving it takes the grant away.
    let bob = add_user(&ep, "bob", &[]).await;
    assert_eq!(put(&bob, "data", "x.txt").await, "AccessDenied");
    admin_ok(&ep, "PUT", "groups/writers", r#"{"members":["bob"]}"#).await;
    admin_ok(
        &ep,
        "POST",
        "policies/readwrite/attach",
        r#"{"group":"writers"}"#,
    )
    .await;
    assert_eq!(put(&bob, "data", "x.txt").await, "");
    admin_ok(
        &ep,
        "POST",
        "groups/writers/remove-members",
        r#"{"members":["bob"]}"#,
    )
    .await;
    assert_eq!(put(&bob, "data", "x.txt").await, "AccessDenied");

    // Service accounts: the parent's grants narrowed by their own policy, refused once expired.
    admin_ok(
        &ep,
        "POST",
        "policies/readwrite/attach",
        r#"{"user":"bob"}"#,
    )
    .await;
    let narrow = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::data/*"]}]}"#;
    let body = format!(r#"{{"parent":"bob","secret_key":"bob-app-secret","policy":{narrow}}}"#);
    admin_ok(&ep, "PUT", "service-accounts/bob-app", &body).await;
    let app = client(&ep, "bob-app", "bob-app-secret");
    assert_eq!(get(&app, "data", "public.txt").await, "");
    assert_eq!(put(&app, "data", "y.txt").await, "AccessDenied");
    let expired =
        r#"{"parent":"bob","secret_key":"bob-old-secret","expiry":"2020-01-01T00:00:00Z"}"#;
    admin_ok(&ep, "PUT", "service-accounts/bob-old", expired).await;
    let old = client(&ep, "bob-old", "bob-old-secret");
    assert_eq!(get(&old, "data", "public.txt").await, "InvalidAccessKeyId");

    // A consoleAdmin user may use the admin API; its listings never show a secret.
    add_user(&ep, "ops", &["consoleAdmin"]).await;
    let r = admin(&ep, ("ops", "ops-secret-key"), "GET", "users", "").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("\"alice\"") && !r.body.contains("secret"),
        "{}",
        r.body
    );
    let r = admin(
        &ep,
        ("ops", "ops-secret-key"),
        "GET",
        "service-accounts",
        "",
    )
    .await;
    assert!(!r.body.contains("secret"), "{}", r.body);

    // Removing a user takes its service accounts with it.
    admin_ok(&ep, "DELETE", "users/bob", "").await;
    assert_eq!(get(&app, "data", "public.txt").await, "InvalidAccessKeyId");
    assert_eq!(get(&bob, "data", "public.txt").await, "InvalidAccessKeyId");
}

#[tokio::test]
async fn bad_iam_input_is_refused_and_changes_nothing() {
    let node = TestNode::start(4);
    let ep = node.server.endpoint.clone();
    let before = admin_ok(&ep, "GET", "users", "").await;
    for (method, path, body, status, code) in [
        ("PUT", "policies/p", "{not json", 400, "InvalidArgument"),
        (
            "PUT",
            "policies/p",
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObjec","Resource":"*"}]}"#,
            400,
            "InvalidArgument",
        ),
        (
            "PUT",
            "policies/readonly",
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
            409,
            "Conflict",
        ),
        (
            "PUT",
            "users/ab",
            r#"{"secret_key":"long-enough-secret"}"#,
            400,
            "InvalidArgument",
        ),
        (
            "PUT",
            "users/carol",
            r#"{"secret_key":"short"}"#,
            400,
            "InvalidArgument",
        ),
        (
            "PUT",
            "users/carol",
            r#"{"secret_key":"long-enough-secret","admin":true}"#,
            400,
            "InvalidArgument",
        ),
        (
            "PUT",
            "users/rustfs-test-admin",
            r#"{"secret_key":"long-enough-secret"}"#,
            409,
            "Conflict",
        ),
        (
            "POST",
            "policies/nosuch/attach",
            r#"{"user":"nobody"}"#,
            404,
            "NotFound",
        ),
        (
            "PUT",
            "groups/g",
            r#"{"members":["nobody"]}"#,
            404,
            "NotFound",
        ),
        (
            "PUT",
            "service-accounts/sa1",
            r#"{"parent":"nobody","secret_key":"long-enough-secret"}"#,
            404,
            "NotFound",
        ),
        (
            "PUT",
            "service-accounts/sa1",
            r#"{"parent":"x","secret_key":"long-enough-secret","expiry":"tomorrow"}"#,
            400,
            "InvalidArgument",
        ),
        ("DELETE", "users/nobody", "", 404, "NotFound"),
        ("GET", "nothing-here", "", 404, "NotFound"),
    ] {
        let r = admin(&ep, ROOT, method, path, body).await;
        assert_eq!(r.status, status, "{method} {path} {body}: {}", r.body);
        assert!(r.body.contains(code), "{method} {path}: {}", r.body);
    }
    let big = format!(
        r#"{{"Statement":[{{"Effect":"Allow","Action":"s3:*","Resource":"*","Sid":"{}"}}]}}"#,
        "x".repeat(30_000)
    );
    let r = admin(&ep, ROOT, "PUT", "policies/big", &big).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(admin_ok(&ep, "GET", "users", "").await, before);
    let policies = admin_ok(&ep, "GET", "policies", "").await;
    assert!(
        !policies.contains("\"p\"") && !policies.contains("big"),
        "{policies}"
    );
    // Unsigned and wrongly signed admin calls are refused.
    let url = format!("{ep}/rustfs/admin/v1/iam/users");
    let unsigned = reqwest::get(&url).await.unwrap();
    assert_eq!(unsigned.status().as_u16(), 403);
    let r = admin(&ep, (ACCESS_KEY, "not-the-secret"), "GET", "users", "").await;
    assert_eq!(r.status, 403, "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_user_is_refused_by_every_node_within_a_second() {
    let c = Cluster::start(4, 1);
    c.wait_healthy();
    let ep = c.nodes[0].endpoint.clone();
    c.client(0)
        .create_bucket()
        .bucket("data")
        .send()
        .await
        .unwrap();
    add_user(&ep, "dana", &["readwrite"]).await;
    let clients: Vec<Client> = c
        .nodes
        .iter()
        .map(|n| client(&n.endpoint, "dana", "dana-secret-key"))
        .collect();
    for (i, cl) in clients.iter().enumerate() {
        assert_eq!(
            put(cl, "data", &format!("k{i}")).await,
            "",
            "node {}",
            i + 1
        );
    }
    // Disabled through node 2: every node refuses at once.
    let started = Instant::now();
    admin_ok(&c.nodes[1].endpoint, "POST", "users/dana/disable", "").await;
    for (i, cl) in clients.iter().enumerate() {
        assert_eq!(
            get(cl, "data", "k0").await,
            "InvalidAccessKeyId",
            "node {}",
            i + 1
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
    admin_ok(&c.nodes[3].endpoint, "POST", "users/dana/enable", "").await;
    for (i, cl) in clients.iter().enumerate() {
        assert_eq!(get(cl, "data", "k0").await, "", "node {}", i + 1);
    }
}

/// `rustfs admin …` as an operator types it: the keys from the environment, JSON for scripts,
/// and a clear error (exit 1) for a refused call.
#[tokio::test]
async fn the_admin_cli_manages_users_policies_and_service_accounts() {
    let node = TestNode::start(4);
    let ep = node.server.endpoint.clone();
    let dir = tempfile::tempdir().unwrap();
    let admin_cli = |keys: (&str, &str), args: &[&str]| {
        let out = std::process::Command::new(rustfs_tests::rustfs_bin())
            .arg("admin")
            .args(args)
            .env("RUSTFS_ENDPOINT", &ep)
            .env("AWS_ACCESS_KEY_ID", keys.0)
            .env("AWS_SECRET_ACCESS_KEY", keys.1)
            .output()
            .unwrap();
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.success(), text(&out.stdout), text(&out.stderr))
    };
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "carol-secret-key\n").unwrap();
    let policy = dir.path().join("policy.json");
    std::fs::write(&policy, HOME_POLICY).unwrap();
    let secret_arg = secret.to_str().unwrap();
    for args in [
        vec!["user", "add", "carol", "--secret-file", secret_arg],
        vec!["policy", "create", "home", policy.to_str().unwrap()],
        vec!["policy", "attach", "home", "--user", "carol"],
        vec!["group", "add", "team", "--members", "carol"],
    ] {
        let (ok, out, err) = admin_cli(ROOT, &args);
        assert!(ok, "{args:?}: {out} {err}");
    }
    let (ok, out, _) = admin_cli(ROOT, &["user", "list", "--json"]);
    let users: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(ok);
    assert_eq!(users[0]["access_key"], "carol", "{users}");
    assert_eq!(users[0]["groups"][0], "team", "{users}");
    let carol = client(&ep, "carol", "carol-secret-key");
    assert_eq!(put(&carol, "data", "home/carol/x").await, "NoSuchBucket");
    // A service account's generated keys work and are narrowed to the parent's grants.
    let (ok, out, err) = admin_cli(ROOT, &["svcacct", "add", "carol", "--json"]);
    assert!(ok, "{err}");
    let keys: serde_json::Value = serde_json::from_str(&out).unwrap();
    let app = client(
        &ep,
        keys["access_key"].as_str().unwrap(),
        keys["secret_key"].as_str().unwrap(),
    );
    node.client()
        .create_bucket()
        .bucket("data")
        .send()
        .await
        .unwrap();
    assert_eq!(put(&app, "data", "home/carol/y").await, "");
    assert_eq!(put(&app, "data", "elsewhere").await, "AccessDenied");
    // Refusals: a user without admin rights, a malformed policy, wrong keys.
    let (ok, _, err) = admin_cli(("carol", "carol-secret-key"), &["user", "list"]);
    assert!(
        !ok && err.contains("403") && err.contains("policy allowing it"),
        "{err}"
    );
    let (ok, _, err) = admin_cli(ROOT, &["policy", "create", "bad", secret_arg]);
    assert!(!ok && err.contains("malformed policy JSON"), "{err}");
    let (ok, _, err) = admin_cli(("nobody", "nobody-secret"), &["user", "list"]);
    assert!(!ok && err.contains("does not exist"), "{err}");
}

/// Every IAM route refuses the unsigned and a signed-in user without an `admin:` grant, and
/// changes nothing for them.
#[tokio::test]
async fn every_iam_route_refuses_the_unauthenticated_and_the_unauthorised() {
    let node = TestNode::start(4);
    let ep = node.server.endpoint.clone();
    add_user(&ep, "eve", &["readwrite"]).await;
    let before = admin_ok(&ep, "GET", "users", "").await;
    let routes = [
        ("GET", "users", ""),
        ("PUT", "users/mallory", r#"{"secret_key":"mallory-secret"}"#),
        ("DELETE", "users/eve", ""),
        ("POST", "users/eve/enable", ""),
        ("POST", "users/eve/disable", ""),
        ("GET", "groups", ""),
        ("PUT", "groups/g", r#"{"members":["eve"]}"#),
        ("POST", "groups/g/remove-members", r#"{"members":["eve"]}"#),
        ("DELETE", "groups/g", ""),
        ("GET", "policies", ""),
        ("GET", "policies/readonly", ""),
        ("PUT", "policies/p", HOME_POLICY),
        ("DELETE", "policies/p", ""),
        ("POST", "policies/consoleAdmin/attach", r#"{"user":"eve"}"#),
        ("POST", "policies/readwrite/detach", r#"{"user":"eve"}"#),
        ("GET", "service-accounts", ""),
        (
            "PUT",
            "service-accounts/eve-app",
            r#"{"parent":"eve","secret_key":"eve-app-secret"}"#,
        ),
        ("DELETE", "service-accounts/eve-app", ""),
    ];
    let http = reqwest::Client::new();
    for (method, path, body) in routes {
        let r = admin(&ep, ("eve", "eve-secret-key"), method, path, body).await;
        assert_eq!(r.status, 403, "eve {method} {path}: {}", r.body);
        let url = format!("{ep}/rustfs/admin/v1/iam/{path}");
        let unsigned = http
            .request(method.parse().unwrap(), &url)
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(unsigned.status().as_u16(), 403, "unsigned {method} {path}");
    }
    assert_eq!(admin_ok(&ep, "GET", "users", "").await, before);
}

const DELETER_POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
     "Resource": ["arn:aws:s3:::vault/*"]},
    {"Effect": "Deny", "Action": ["s3:DeleteObject"], "Resource": ["arn:aws:s3:::vault/keep/*"]}
  ]
}"#;

/// DeleteObjects is decided key by key (a Deny on some keys holds although the request names
/// the bucket only); naming a version needs the `…Version` action; bypassing governance
/// retention needs `s3:BypassGovernanceRetention`.
#[tokio::test]
async fn deletes_are_authorised_per_key_and_versions_need_their_own_actions() {
    use aws_sdk_s3::types::{
        BucketVersioningStatus, Delete, ObjectIdentifier, VersioningConfiguration,
    };
    let node = TestNode::start(4);
    let ep = node.server.endpoint.clone();
    let root = node.client();
    root.create_bucket().bucket("vault").send().await.unwrap();
    root.put_bucket_versioning()
        .bucket("vault")
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    admin_ok(&ep, "PUT", "policies/deleter", DELETER_POLICY).await;
    let deleter = add_user(&ep, "deleter", &["deleter"]).await;
    let mut versions = Vec::new();
    for key in ["a.txt", "keep/b.txt", "c.txt"] {
        let r = root
            .put_object()
            .bucket("vault")
            .key(key)
            .body(b"data".to_vec().into())
            .send()
            .await
            .unwrap();
        versions.push(r.version_id().unwrap().to_string());
    }
    let id = |key: &str, version: Option<&str>| {
        ObjectIdentifier::builder()
            .key(key)
            .set_version_id(version.map(str::to_string))
            .build()
            .unwrap()
    };
    let r = deleter
        .delete_objects()
        .bucket("vault")
        .delete(
            Delete::builder()
                .objects(id("a.txt", None))
                .objects(id("keep/b.txt", None))
                .objects(id("c.txt", Some(&versions[2])))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let deleted: Vec<_> = r.deleted().iter().filter_map(|d| d.key()).collect();
    assert_eq!(deleted, ["a.txt"], "{r:?}");
    let mut refused: Vec<_> = r
        .errors()
        .iter()
        .map(|e| (e.key().unwrap_or_default(), e.code().unwrap_or_default()))
        .collect();
    refused.sort();
    assert_eq!(
        refused,
        [("c.txt", "AccessDenied"), ("keep/b.txt", "AccessDenied")]
    );
    assert_eq!(
        get(&root, "vault", "keep/b.txt").await,
        "",
        "the denied key is intact"
    );
    // One version, by id: s3:GetObjectVersion / s3:DeleteObjectVersion, which it lacks.
    let e = deleter
        .get_object()
        .bucket("vault")
        .key("c.txt")
        .version_id(&versions[2])
        .send()
        .await
        .unwrap_err();
    assert_eq!(rustfs_tests::error_code(e), "AccessDenied");
    let e = deleter
        .delete_object()
        .bucket("vault")
        .key("c.txt")
        .version_id(&versions[2])
        .send()
        .await
        .unwrap_err();
    assert_eq!(rustfs_tests::error_code(e), "AccessDenied");
    assert_eq!(
        get(&deleter, "vault", "c.txt").await,
        "",
        "the latest is readable"
    );
    let e = deleter
        .delete_object()
        .bucket("vault")
        .key("c.txt")
        .bypass_governance_retention(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(rustfs_tests::error_code(e), "AccessDenied");
    // Root deletes anything in one request.
    let r = root
        .delete_objects()
        .bucket("vault")
        .delete(
            Delete::builder()
                .objects(id("keep/b.txt", Some(&versions[1])))
                .objects(id("c.txt", Some(&versions[2])))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.deleted().len(), 2, "{r:?}");
    assert!(r.errors().is_empty(), "{r:?}");
}

/// `s3:ExistingObjectTag/<tag>` decides by the tags of the object the request names.
#[tokio::test]
async fn existing_object_tags_decide_reads() {
    use aws_sdk_s3::types::{Tag, Tagging};
    let node = TestNode::start(4);
    let ep = node.server.endpoint.clone();
    let root = node.client();
    root.create_bucket().bucket("docs").send().await.unwrap();
    for (key, class) in [
        ("a.txt", Some("public")),
        ("b.txt", Some("secret")),
        ("c.txt", None),
    ] {
        assert_eq!(put(&root, "docs", key).await, "");
        if let Some(class) = class {
            let tag = Tag::builder()
                .key("classification")
                .value(class)
                .build()
                .unwrap();
            root.put_object_tagging()
                .bucket("docs")
                .key(key)
                .tagging(Tagging::builder().tag_set(tag).build().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
    admin_ok(
        &ep,
        "PUT",
        "policies/public-docs",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],
            "Resource":["arn:aws:s3:::docs/*"],
            "Condition":{"StringEquals":{"s3:ExistingObjectTag/classification":"public"}}}]}"#,
    )
    .await;
    let reader = add_user(&ep, "tagreader", &["public-docs"]).await;
    assert_eq!(get(&reader, "docs", "a.txt").await, "");
    assert_eq!(get(&reader, "docs", "b.txt").await, "AccessDenied");
    assert_eq!(
        get(&reader, "docs", "c.txt").await,
        "AccessDenied",
        "untagged"
    );
    assert_eq!(get(&reader, "docs", "missing.txt").await, "AccessDenied");

    // A bucket policy's Deny by tag holds for DeleteObject and for each key of DeleteObjects.
    root.put_bucket_policy()
        .bucket("docs")
        .policy(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*",
                "Action":["s3:DeleteObject"],"Resource":["arn:aws:s3:::docs/*"],
                "Condition":{"StringEquals":{"s3:ExistingObjectTag/classification":"secret"}}}]}"#,
        )
        .send()
        .await
        .unwrap();
    let writer = add_user(&ep, "tagwriter", &["readwrite"]).await;
    assert_eq!(delete(&writer, "docs", "b.txt").await, "AccessDenied");
    use aws_sdk_s3::types::{Delete, ObjectIdentifier};
    let ids = ["a.txt", "b.txt"].map(|k| ObjectIdentifier::builder().key(k).build().unwrap());
    let r = writer
        .delete_objects()
        .bucket("docs")
        .delete(
            Delete::builder()
                .set_objects(Some(ids.to_vec()))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let deleted: Vec<_> = r.deleted().iter().filter_map(|d| d.key()).collect();
    let refused: Vec<_> = r.errors().iter().filter_map(|e| e.key()).collect();
    assert_eq!((deleted, refused), (vec!["a.txt"], vec!["b.txt"]), "{r:?}");
    assert_eq!(get(&root, "docs", "b.txt").await, "");
}

/// The control plane's least privilege: `diagnostics` reads the cluster's state (admin info,
/// heal and lifecycle status) and nothing else — no heal started, no IAM, no S3.
#[tokio::test]
async fn diagnostics_reads_cluster_state_and_nothing_else() {
    use rustfs_tests::raw;
    let node = TestNode::start(4);
    let ep = node.server.endpoint.clone();
    node.client()
        .create_bucket()
        .bucket("data")
        .send()
        .await
        .unwrap();
    let s3 = add_user(&ep, "poller", &["diagnostics"]).await;
    let keys = ("poller", "poller-secret-key");
    for path in ["info", "heal/status", "lifecycle/status"] {
        let url = format!("{ep}/rustfs/admin/v1/{path}");
        let r = raw::send_as(keys, "GET", &url, &[], Vec::new()).await;
        assert_eq!(r.status, 200, "GET {path}: {}", r.body);
    }
    let url = format!("{ep}/rustfs/admin/v1/heal");
    let r = raw::send_as(keys, "POST", &url, &[], Vec::new()).await;
    assert_eq!(
        r.status, 403,
        "starting a heal needs admin:Heal: {}",
        r.body
    );
    let r = admin(&ep, keys, "GET", "users", "").await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(list(&s3, "data", None).await, "AccessDenied");
    assert_eq!(put(&s3, "data", "k").await, "AccessDenied");
}

/// Rotating the root password without a restart: every node reads
/// `RUSTFS_ROOT_PASSWORD_FILE` again on SIGHUP; the new password works on every node, the old
/// one is refused, users and the processes are untouched. A bad new setting (too short, or an
/// access key a user has) is refused and the pair in force stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_root_password_rotates_on_sighup_without_a_restart() {
    let secrets = tempfile::tempdir().unwrap();
    let user_file = secrets.path().join("root.user");
    let password_file = secrets.path().join("root.password");
    std::fs::write(&user_file, ACCESS_KEY).unwrap();
    std::fs::write(&password_file, format!("{}\n", rustfs_tests::SECRET_KEY)).unwrap();
    let (u, p) = (user_file.to_str().unwrap(), password_file.to_str().unwrap());
    let mut env = rustfs_tests::cluster::CLUSTER_ENV.to_vec();
    // The harness sets RUSTFS_ROOT_USER/PASSWORD; empty values leave the _FILE forms in charge.
    env.extend([
        ("RUSTFS_ROOT_USER", ""),
        ("RUSTFS_ROOT_PASSWORD", ""),
        ("RUSTFS_ROOT_USER_FILE", u),
        ("RUSTFS_ROOT_PASSWORD_FILE", p),
    ]);
    let c = Cluster::start_with(4, 1, Duration::ZERO, &env);
    c.wait_healthy();
    let ep = c.nodes[0].endpoint.clone();
    c.client(0)
        .create_bucket()
        .bucket("data")
        .send()
        .await
        .unwrap();
    let erin = add_user(&ep, "erin", &["readwrite"]).await;
    let pids: Vec<u32> = c.nodes.iter().map(|n| n.pid()).collect();
    let hangup_all = |c: &Cluster| c.nodes.iter().for_each(|n| n.signal(libc::SIGHUP));
    let as_root = |secret: &str| -> Vec<Client> {
        c.nodes
            .iter()
            .map(|n| client(&n.endpoint, ACCESS_KEY, secret))
            .collect()
    };

    const NEW: &str = "rotated-root-password-1";
    std::fs::write(&password_file, NEW).unwrap();
    hangup_all(&c);
    let deadline = Instant::now() + Duration::from_secs(10);
    for (i, cl) in as_root(NEW).iter().enumerate() {
        loop {
            match list(cl, "data", None).await.as_str() {
                "" => break,
                e if Instant::now() > deadline => panic!("node {}: new password: {e}", i + 1),
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }
    for (i, cl) in as_root(rustfs_tests::SECRET_KEY).iter().enumerate() {
        assert_eq!(
            list(cl, "data", None).await,
            "SignatureDoesNotMatch",
            "node {}: the old password",
            i + 1
        );
    }
    assert_eq!(
        put(&erin, "data", "by-erin").await,
        "",
        "users are untouched"
    );
    let after: Vec<u32> = c.nodes.iter().map(|n| n.pid()).collect();
    assert_eq!(pids, after, "no node restarted");
    assert!(c.nodes.iter().all(|n| n.is_running()));

    // Refused settings keep the pair in force, and say why in the log.
    for (user, password, why) in [
        (ACCESS_KEY, "short", "8 to 128 characters"),
        ("erin", "another-password-2", "belongs to an IAM user"),
    ] {
        std::fs::write(&user_file, user).unwrap();
        std::fs::write(&password_file, password).unwrap();
        hangup_all(&c);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !c.nodes.iter().all(|n| n.log().contains(why)) {
            assert!(Instant::now() < deadline, "no node logged {why:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        for (i, cl) in as_root(NEW).iter().enumerate() {
            assert_eq!(list(cl, "data", None).await, "", "node {}", i + 1);
        }
        assert_eq!(get(&erin, "data", "by-erin").await, "");
    }
    assert!(c.nodes.iter().all(|n| n.is_running()));
}
