//! Bucket policies and ACLs against the real binary: anonymous callers get exactly what a bucket
//! policy grants everyone and nothing else, a bucket policy's Deny beats a user's Allow, canned
//! ACLs map onto the policy, and every node enforces a change the moment it is acknowledged.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketCannedAcl, ObjectCannedAcl};
use rustfs_tests::cluster::Cluster;
use rustfs_tests::iam::{add_user, get, put};
use rustfs_tests::{error_code, TestNode};

/// An unsigned request: `(status, body)`.
async fn anonymous(method: reqwest::Method, url: &str) -> (u16, String) {
    let r = reqwest::Client::new()
        .request(method, url)
        .send()
        .await
        .expect("the node answers");
    (r.status().as_u16(), r.text().await.unwrap_or_default())
}

const PUBLIC_PREFIX: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "PublicPub", "Effect": "Allow", "Principal": {"AWS": ["*"]},
     "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::site/pub/*"]},
    {"Sid": "NoReaderHere", "Effect": "Deny", "Principal": {"AWS": ["reader"]},
     "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::site/pub/secret*"]},
    {"Sid": "Uploads", "Effect": "Allow", "Principal": {"AWS": ["uploader"]},
     "Action": ["s3:PutObject"], "Resource": ["arn:aws:s3:::site/uploads/*"]}
  ]
}"#;

#[tokio::test]
async fn a_bucket_policy_grants_anonymous_reads_of_one_prefix_and_nothing_else() {
    let node = TestNode::start(4);
    let ep = node.server.endpoint.clone();
    let root = node.client();
    root.create_bucket().bucket("site").send().await.unwrap();
    for key in ["pub/a.txt", "pub/secret.txt", "private/b.txt"] {
        assert_eq!(put(&root, "site", key).await, "");
    }
    let url = |path: &str| format!("{ep}/site/{path}");
    use reqwest::Method;
    assert_eq!(
        anonymous(Method::GET, &url("pub/a.txt")).await.0,
        403,
        "no policy yet"
    );
    let e = root
        .get_bucket_policy()
        .bucket("site")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(e), "NoSuchBucketPolicy");

    // Bad documents are refused and change nothing.
    for (bad, why) in [
        ("{not json", "not JSON"),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*"}]}"#,
            "another bucket",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::site/*"}]}"#,
            "no principal",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:Fly","Resource":"arn:aws:s3:::site/*"}]}"#,
            "unknown action",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"admin:*","Resource":"arn:aws:s3:::site/*"}]}"#,
            "admin action",
        ),
    ] {
        let e = root
            .put_bucket_policy()
            .bucket("site")
            .policy(bad)
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_code(e), "MalformedPolicy", "{why}");
    }
    let huge = format!(
        r#"{{"Statement":[{{"Sid":"{}","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::site/*"}}]}}"#,
        "x".repeat(21 * 1024)
    );
    let e = root
        .put_bucket_policy()
        .bucket("site")
        .policy(huge)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(e), "MalformedPolicy", "too large");
    let e = root
        .get_bucket_policy()
        .bucket("site")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_code(e),
        "NoSuchBucketPolicy",
        "refused documents left nothing behind"
    );

    root.put_bucket_policy()
        .bucket("site")
        .policy(PUBLIC_PREFIX)
        .send()
        .await
        .unwrap();
    let stored = root
        .get_bucket_policy()
        .bucket("site")
        .send()
        .await
        .unwrap();
    assert_eq!(stored.policy(), Some(PUBLIC_PREFIX));
    let status = root
        .get_bucket_policy_status()
        .bucket("site")
        .send()
        .await
        .unwrap();
    assert_eq!(
        status.policy_status().and_then(|s| s.is_public()),
        Some(true)
    );

    // Anonymous: GET under pub/ only; nothing else, not even listing.
    let (status, body) = anonymous(Method::GET, &url("pub/a.txt")).await;
    assert_eq!((status, body.as_str()), (200, "data"));
    assert_eq!(anonymous(Method::HEAD, &url("pub/a.txt")).await.0, 200);
    for (method, path) in [
        (Method::GET, url("private/b.txt")),
        (Method::PUT, url("pub/new.txt")),
        (Method::DELETE, url("pub/a.txt")),
        (Method::GET, url("?list-type=2")),
        (Method::GET, url("pub/a.txt?tagging")),
        (Method::GET, url("?policy")),
        (Method::PUT, url("?policy")),
        (Method::DELETE, url("?policy")),
        (Method::GET, format!("{ep}/")),
        (Method::GET, format!("{ep}/rustfs/admin/v1/iam/users")),
    ] {
        let (status, body) = anonymous(method.clone(), &path).await;
        assert_eq!(status, 403, "anonymous {method} {path}: {body}");
    }
    assert_eq!(
        get(&root, "site", "pub/a.txt").await,
        "",
        "the data is still there"
    );

    // Signed users: the bucket's Deny beats readonly's Allow; a user with no policies of its
    // own gets what the bucket policy names it for, and nothing more.
    let reader = add_user(&ep, "reader", &["readonly"]).await;
    assert_eq!(get(&reader, "site", "pub/a.txt").await, "");
    assert_eq!(get(&reader, "site", "pub/secret.txt").await, "AccessDenied");
    let uploader = add_user(&ep, "uploader", &[]).await;
    assert_eq!(put(&uploader, "site", "uploads/u.txt").await, "");
    assert_eq!(put(&uploader, "site", "pub/u.txt").await, "AccessDenied");
    assert_eq!(
        get(&uploader, "site", "private/b.txt").await,
        "AccessDenied"
    );

    // ACLs are a view of the policy.
    let all_users_read = |grants: &[aws_sdk_s3::types::Grant]| {
        grants.iter().any(|g| {
            g.grantee().and_then(|e| e.uri())
                == Some("http://acs.amazonaws.com/groups/global/AllUsers")
                && g.permission().map(|p| p.as_str()) == Some("READ")
        })
    };
    let acl = root
        .get_object_acl()
        .bucket("site")
        .key("pub/a.txt")
        .send()
        .await
        .unwrap();
    assert!(all_users_read(acl.grants()), "{acl:?}");
    let acl = root
        .get_object_acl()
        .bucket("site")
        .key("private/b.txt")
        .send()
        .await
        .unwrap();
    assert!(!all_users_read(acl.grants()), "{acl:?}");
    let acl = root.get_bucket_acl().bucket("site").send().await.unwrap();
    assert!(
        !all_users_read(acl.grants()),
        "listing is not public: {acl:?}"
    );

    // Canned ACLs: public-read on the bucket opens listing and every object; private closes
    // them again and keeps the operator's own statements.
    root.put_bucket_acl()
        .bucket("site")
        .acl(BucketCannedAcl::PublicRead)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous(Method::GET, &url("?list-type=2")).await.0, 200);
    assert_eq!(anonymous(Method::GET, &url("private/b.txt")).await.0, 200);
    let acl = root.get_bucket_acl().bucket("site").send().await.unwrap();
    assert!(all_users_read(acl.grants()), "{acl:?}");
    root.put_bucket_acl()
        .bucket("site")
        .acl(BucketCannedAcl::Private)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous(Method::GET, &url("private/b.txt")).await.0, 403);
    assert_eq!(anonymous(Method::GET, &url("pub/a.txt")).await.0, 200);
    let e = root
        .put_bucket_acl()
        .bucket("site")
        .acl(BucketCannedAcl::PublicReadWrite)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(e), "AccessControlListNotSupported");
    let e = root
        .put_object()
        .bucket("site")
        .key("pub/x.txt")
        .acl(ObjectCannedAcl::PublicRead)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(e), "AccessControlListNotSupported");
    root.put_object()
        .bucket("site")
        .key("pub/x.txt")
        .acl(ObjectCannedAcl::Private)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();

    // A bucket created public-read is readable at once; an unsupported ACL creates nothing.
    root.create_bucket()
        .bucket("open")
        .acl(BucketCannedAcl::PublicRead)
        .send()
        .await
        .unwrap();
    assert_eq!(put(&root, "open", "o.txt").await, "");
    assert_eq!(
        anonymous(Method::GET, &format!("{ep}/open/o.txt")).await.0,
        200
    );
    let e = root
        .create_bucket()
        .bucket("wideopen")
        .acl(BucketCannedAcl::PublicReadWrite)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(e), "AccessControlListNotSupported");
    let e = root
        .head_bucket()
        .bucket("wideopen")
        .send()
        .await
        .unwrap_err();
    assert!(format!("{e:?}").contains("NotFound"), "{e:?}");

    // Removed: anonymous callers are refused again.
    root.delete_bucket_policy()
        .bucket("site")
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous(Method::GET, &url("pub/a.txt")).await.0, 403);
    let e = root
        .get_bucket_policy_status()
        .bucket("site")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(e), "NoSuchBucketPolicy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_node_enforces_a_bucket_policy_once_it_is_acknowledged() {
    let c = Cluster::start(4, 1);
    c.wait_healthy();
    let root = c.client(0);
    root.create_bucket().bucket("site").send().await.unwrap();
    assert_eq!(put(&root, "site", "pub/a.txt").await, "");
    let urls: Vec<String> = c
        .nodes
        .iter()
        .map(|n| format!("{}/site/pub/a.txt", n.endpoint))
        .collect();
    for u in &urls {
        // Read (and cached) before the change, so a stale copy would show.
        assert_eq!(anonymous(reqwest::Method::GET, u).await.0, 403, "{u}");
    }
    c.client(1)
        .put_bucket_policy()
        .bucket("site")
        .policy(PUBLIC_PREFIX)
        .send()
        .await
        .unwrap();
    for u in &urls {
        assert_eq!(anonymous(reqwest::Method::GET, u).await.0, 200, "{u}");
    }
    c.client(2)
        .delete_bucket_policy()
        .bucket("site")
        .send()
        .await
        .unwrap();
    for u in &urls {
        assert_eq!(anonymous(reqwest::Method::GET, u).await.0, 403, "{u}");
    }
}
