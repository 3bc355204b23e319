//! Bad input gets a clear S3 error and changes nothing on disk.

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use rustfs_tests::{client, pattern, raw, tree, TestNode, ACCESS_KEY};
use std::time::{Duration, SystemTime};

fn code<E: ProvideErrorMetadata>(
    e: aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> (u16, String) {
    let status = e.raw_response().map(|r| r.status().as_u16()).unwrap_or(0);
    let code = e.code().unwrap_or_default().to_string();
    (status, code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_requests_change_nothing() {
    let node = TestNode::start(4);
    let c = node.client();
    c.create_bucket().bucket("bad").send().await.unwrap();
    c.put_object()
        .bucket("bad")
        .key("keep")
        .body(ByteStream::from(pattern(300_000, 1)))
        .send()
        .await
        .unwrap();
    let up = c
        .create_multipart_upload()
        .bucket("bad")
        .key("mp")
        .send()
        .await
        .unwrap();
    let id = up.upload_id().unwrap().to_string();
    let p1 = c
        .upload_part()
        .bucket("bad")
        .key("mp")
        .upload_id(&id)
        .part_number(1)
        .body(ByteStream::from(pattern(1024, 2)))
        .send()
        .await
        .unwrap();
    let p2 = c
        .upload_part()
        .bucket("bad")
        .key("mp")
        .upload_id(&id)
        .part_number(2)
        .body(ByteStream::from(pattern(1024, 3)))
        .send()
        .await
        .unwrap();
    let drives = || (1..=4).map(|i| tree(&node.drive(i))).collect::<Vec<_>>();
    let before = drives();

    // Wrong secret.
    let wrong = client(&node.server.endpoint, ACCESS_KEY, "not-the-secret-key");
    let e = wrong
        .put_object()
        .bucket("bad")
        .key("x")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(e), (403, "SignatureDoesNotMatch".into()));
    let e = wrong.list_buckets().send().await.unwrap_err();
    assert_eq!(code(e).0, 403);
    // Unknown access key.
    let stranger = client(&node.server.endpoint, "nobody", "whatever-secret");
    let e = stranger
        .get_object()
        .bucket("bad")
        .key("keep")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(e).0, 403);

    // Invalid bucket names.
    for name in ["ab", "UPPER", "a..b", "-lead", "192.168.0.1"] {
        let e = c.create_bucket().bucket(name).send().await.unwrap_err();
        assert_eq!(code(e), (400, "InvalidBucketName".into()), "{name}");
    }
    // Keys that could escape a drive.
    for key in ["a/../../etc/passwd", "..", "a\0b", "x/./y", "a//b", "/lead"] {
        let e = c
            .put_object()
            .bucket("bad")
            .key(key)
            .body(ByteStream::from_static(b"evil"))
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(e).0, 400, "{key:?}");
    }
    let e = c
        .put_object()
        .bucket("bad")
        .key("k".repeat(1025))
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(e), (400, "KeyTooLongError".into()));

    // Malformed XML.
    let url = format!("{}/bad?delete", node.server.endpoint);
    let body = b"<Delete><Object><Key>keep</Key></Object".to_vec();
    use base64::Engine as _;
    let md5 = base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(&body));
    let r = raw::send("POST", &url, &[("content-md5", md5)], body).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("MalformedXML"), "{}", r.body);

    // Part numbers out of range.
    for n in [0, 10_001] {
        let e = c
            .upload_part()
            .bucket("bad")
            .key("mp")
            .upload_id(&id)
            .part_number(n)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(e).0, 400, "part {n}");
    }
    let complete = |parts: Vec<CompletedPart>| {
        c.complete_multipart_upload()
            .bucket("bad")
            .key("mp")
            .upload_id(&id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
    };
    // Wrong ETag, wrong order, a too-small first part.
    let e = complete(vec![CompletedPart::builder()
        .part_number(1)
        .e_tag("\"0123456789abcdef0123456789abcdef\"")
        .build()])
    .await
    .unwrap_err();
    assert_eq!(code(e), (400, "InvalidPart".into()));
    let e = complete(vec![
        CompletedPart::builder()
            .part_number(2)
            .e_tag(p2.e_tag().unwrap())
            .build(),
        CompletedPart::builder()
            .part_number(1)
            .e_tag(p1.e_tag().unwrap())
            .build(),
    ])
    .await
    .unwrap_err();
    assert_eq!(code(e), (400, "InvalidPartOrder".into()));
    let e = complete(vec![
        CompletedPart::builder()
            .part_number(1)
            .e_tag(p1.e_tag().unwrap())
            .build(),
        CompletedPart::builder()
            .part_number(2)
            .e_tag(p2.e_tag().unwrap())
            .build(),
    ])
    .await
    .unwrap_err();
    assert_eq!(code(e), (400, "EntityTooSmall".into()));
    let e = c
        .list_parts()
        .bucket("bad")
        .key("mp")
        .upload_id("not-an-upload")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(e), (404, "NoSuchUpload".into()));
    // Missing bucket.
    let e = c
        .put_object()
        .bucket("nobucket")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(e), (404, "NoSuchBucket".into()));

    assert_eq!(before, drives(), "a refused request changed the drives");
    assert!(c
        .get_object()
        .bucket("bad")
        .key("keep")
        .send()
        .await
        .is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presigned_urls() {
    let node = TestNode::start(4);
    let c = node.client();
    c.create_bucket().bucket("pre").send().await.unwrap();
    c.put_object()
        .bucket("pre")
        .key("k")
        .body(ByteStream::from_static(b"hello"))
        .send()
        .await
        .unwrap();
    let http = reqwest::Client::new();

    let ok = c
        .get_object()
        .bucket("pre")
        .key("k")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(300)).unwrap())
        .await
        .unwrap();
    let r = http.get(ok.uri()).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.text().await.unwrap(), "hello");

    // Signed two hours ago, valid for one: expired, whatever the clock does during the test.
    let cfg = PresigningConfig::builder()
        .start_time(SystemTime::now() - Duration::from_secs(7200))
        .expires_in(Duration::from_secs(3600))
        .build()
        .unwrap();
    let expired = c
        .get_object()
        .bucket("pre")
        .key("k")
        .presigned(cfg)
        .await
        .unwrap();
    let r = http.get(expired.uri()).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("AccessDenied") || body.contains("Expired"),
        "{body}"
    );

    // A presigned PUT works and a tampered one does not.
    let put = c
        .put_object()
        .bucket("pre")
        .key("up")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(300)).unwrap())
        .await
        .unwrap();
    let r = http.put(put.uri()).body("uploaded").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let tampered = put.uri().replace("/up?", "/other?");
    let r = http.put(tampered).body("evil").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
}

use md5::Digest as _;
