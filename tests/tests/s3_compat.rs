//! S3 behaviour that real clients rely on, each a regression test of a bug found with one
//! (issue 13 item 8), and object/bucket tagging, through the AWS SDK for Rust and signed raw
//! requests against the real binary.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ChecksumAlgorithm, ChecksumMode, CompletedMultipartUpload, CompletedPart, Tag, Tagging,
    TaggingDirective,
};
use aws_sdk_s3::Client;
use rustfs_tests::{error_code, get_bytes, pattern, raw, TestNode};

const MIB: usize = 1024 * 1024;

async fn upload_part(c: &Client, key: &str, id: &str, n: i32, body: &[u8]) -> CompletedPart {
    let r = c
        .upload_part()
        .bucket("bkt")
        .key(key)
        .upload_id(id)
        .part_number(n)
        .body(ByteStream::from(body.to_vec()))
        .send()
        .await
        .expect("upload part");
    CompletedPart::builder()
        .part_number(n)
        .e_tag(r.e_tag().unwrap())
        .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_last_upload_of_a_part_wins_whatever_the_order() {
    let node = TestNode::start(4);
    let c = node.client();
    c.create_bucket().bucket("bkt").send().await.unwrap();
    let id = c
        .create_multipart_upload()
        .bucket("bkt")
        .key("k")
        .send()
        .await
        .unwrap()
        .upload_id()
        .unwrap()
        .to_string();
    let (a, b2, a2) = (pattern(5 * MIB, 1), pattern(MIB, 2), pattern(5 * MIB, 3));
    let first = upload_part(&c, "k", &id, 1, &a).await;
    let second = upload_part(&c, "k", &id, 2, &b2).await;
    // Part 1 again, after part 2: this upload is the one the object gets.
    let again = upload_part(&c, "k", &id, 1, &a2).await;
    assert_ne!(first.e_tag(), again.e_tag());
    let listed = c
        .list_parts()
        .bucket("bkt")
        .key("k")
        .upload_id(&id)
        .send()
        .await
        .unwrap();
    let numbers: Vec<i32> = listed
        .parts()
        .iter()
        .filter_map(|p| p.part_number())
        .collect();
    assert_eq!(
        numbers,
        vec![1, 2],
        "ListParts answers each part once, in order"
    );
    assert_eq!(listed.parts()[0].e_tag(), again.e_tag());
    // The replaced upload of part 1 is refused by ETag...
    let stale = c
        .complete_multipart_upload()
        .bucket("bkt")
        .key("k")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(first)
                .parts(second.clone())
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(stale), "InvalidPart");
    // ...and the last one completes, in part order.
    c.complete_multipart_upload()
        .bucket("bkt")
        .key("k")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(again)
                .parts(second)
                .build(),
        )
        .send()
        .await
        .expect("complete with the last upload of part 1");
    assert_eq!(get_bytes(&c, "bkt", "k").await, [a2, b2].concat());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_details_are_not_object_details() {
    let node = TestNode::start(4);
    let c = node.client();
    c.create_bucket().bucket("bkt").send().await.unwrap();
    let base = format!("{}/bkt", node.server.endpoint);

    // `Content-Encoding: gzip, aws-chunked`: the object is gzip; aws-chunked was the transfer.
    let body = b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n".to_vec();
    let url = format!("{base}/gz");
    let headers = [
        ("content-encoding", "gzip, aws-chunked".to_string()),
        ("x-amz-decoded-content-length", "5".to_string()),
        ("x-amz-trailer", "x-amz-checksum-crc32".to_string()),
        ("content-length", body.len().to_string()),
    ];
    let h = raw::signed_headers_with_payload_hash(
        "PUT",
        &url,
        &headers,
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    );
    let mut req = reqwest::Client::new().put(&url).body(body);
    for (k, v) in h {
        req = req.header(k, v);
    }
    let r = req.send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let head = c
        .head_object()
        .bucket("bkt")
        .key("gz")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_encoding(), Some("gzip"));
    assert_eq!(head.content_length(), Some(5));
    assert_eq!(get_bytes(&c, "bkt", "gz").await, b"hello");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_answers_what_clients_ask() {
    let node = TestNode::start(4);
    let c = node.client();
    c.create_bucket().bucket("bkt").send().await.unwrap();
    for k in ["a/1", "a/2", "bkt"] {
        c.put_object()
            .bucket("bkt")
            .key(k)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap();
    }
    // An empty `delimiter=` is no delimiter, and is not echoed back.
    let url = format!("{}/bkt?list-type=2&delimiter=", node.server.endpoint);
    let r = raw::send("GET", &url, &[], Vec::new()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.body.contains("<Delimiter>"), "{}", r.body);
    assert_eq!(r.body.matches("<Key>").count(), 3, "{}", r.body);
    let r = c
        .list_objects_v2()
        .bucket("bkt")
        .delimiter("")
        .send()
        .await
        .unwrap();
    assert_eq!(r.delimiter(), None);
    assert_eq!(r.contents().len(), 3);

    // fetch-owner: the owner only when asked (V2), always in V1.
    let plain = c.list_objects_v2().bucket("bkt").send().await.unwrap();
    assert!(plain.contents().iter().all(|o| o.owner().is_none()));
    let owned = c
        .list_objects_v2()
        .bucket("bkt")
        .fetch_owner(true)
        .send()
        .await
        .unwrap();
    assert!(owned
        .contents()
        .iter()
        .all(|o| o.owner().and_then(|o| o.id()).is_some()));
    let v1 = c.list_objects().bucket("bkt").send().await.unwrap();
    assert!(v1.contents().iter().all(|o| o.owner().is_some()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_part_copy_range_must_lie_inside_the_source() {
    let node = TestNode::start(4);
    let c = node.client();
    c.create_bucket().bucket("bkt").send().await.unwrap();
    let src = pattern(100, 4);
    c.put_object()
        .bucket("bkt")
        .key("src")
        .body(ByteStream::from(src.clone()))
        .send()
        .await
        .unwrap();
    let id = c
        .create_multipart_upload()
        .bucket("bkt")
        .key("dst")
        .send()
        .await
        .unwrap()
        .upload_id()
        .unwrap()
        .to_string();
    for bad in [
        "bytes=0-100",
        "bytes=50-1000",
        "bytes=200-300",
        "bytes=10-5",
        "bytes=-10",
        "bytes=5-",
    ] {
        let e = c
            .upload_part_copy()
            .bucket("bkt")
            .key("dst")
            .upload_id(&id)
            .part_number(1)
            .copy_source("bkt/src")
            .copy_source_range(bad)
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_code(e), "InvalidArgument", "{bad}");
    }
    let part = c
        .upload_part_copy()
        .bucket("bkt")
        .key("dst")
        .upload_id(&id)
        .part_number(1)
        .copy_source("bkt/src")
        .copy_source_range("bytes=10-99")
        .send()
        .await
        .unwrap();
    let etag = part
        .copy_part_result()
        .unwrap()
        .e_tag()
        .unwrap()
        .to_string();
    c.complete_multipart_upload()
        .bucket("bkt")
        .key("dst")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(CompletedPart::builder().part_number(1).e_tag(etag).build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(get_bytes(&c, "bkt", "dst").await, src[10..]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checksums_are_returned_only_when_asked() {
    let node = TestNode::start(4);
    let c = node.client();
    c.create_bucket().bucket("bkt").send().await.unwrap();
    let put = c
        .put_object()
        .bucket("bkt")
        .key("k")
        .checksum_algorithm(ChecksumAlgorithm::Crc32C)
        .body(ByteStream::from_static(b"checked"))
        .send()
        .await
        .unwrap();
    let sum = put
        .checksum_crc32_c()
        .expect("the PUT answers its checksum")
        .to_string();
    let url = format!("{}/bkt/k", node.server.endpoint);
    for method in ["GET", "HEAD"] {
        let h = raw::signed_headers(method, &url, &[], Some(b""));
        let mut req = reqwest::Client::new().request(method.parse().unwrap(), &url);
        for (k, v) in h {
            req = req.header(k, v);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(
            !r.headers()
                .keys()
                .any(|k| k.as_str().starts_with("x-amz-checksum-")),
            "{method} without x-amz-checksum-mode: {:?}",
            r.headers()
        );
    }
    let asked = c
        .head_object()
        .bucket("bkt")
        .key("k")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(asked.checksum_crc32_c(), Some(sum.as_str()));
}

fn tagging(pairs: &[(&str, &str)]) -> Tagging {
    let mut t = Tagging::builder();
    for (k, v) in pairs {
        t = t.tag_set(Tag::builder().key(*k).value(*v).build().unwrap());
    }
    t.build().unwrap()
}

async fn object_tags(c: &Client, key: &str, version: Option<&str>) -> Vec<(String, String)> {
    c.get_object_tagging()
        .bucket("bkt")
        .key(key)
        .set_version_id(version.map(str::to_string))
        .send()
        .await
        .unwrap()
        .tag_set()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_and_bucket_tagging() {
    let node = TestNode::start(4);
    let c = node.client();
    c.create_bucket().bucket("bkt").send().await.unwrap();
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };

    // x-amz-tagging on PUT, the tag count on GET, in-place changes keep the object.
    c.put_object()
        .bucket("bkt")
        .key("k")
        .tagging("team=storage&tier=hot%20data")
        .body(ByteStream::from_static(b"tagged"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        object_tags(&c, "k", None).await,
        pairs(&[("team", "storage"), ("tier", "hot data")])
    );
    let got = c.get_object().bucket("bkt").key("k").send().await.unwrap();
    assert_eq!(got.tag_count(), Some(2));
    let before = c.head_object().bucket("bkt").key("k").send().await.unwrap();
    c.put_object_tagging()
        .bucket("bkt")
        .key("k")
        .tagging(tagging(&[("owner", "ops")]))
        .send()
        .await
        .unwrap();
    assert_eq!(object_tags(&c, "k", None).await, pairs(&[("owner", "ops")]));
    let after = c.head_object().bucket("bkt").key("k").send().await.unwrap();
    assert_eq!(before.e_tag(), after.e_tag());
    assert_eq!(before.last_modified(), after.last_modified());
    assert_eq!(get_bytes(&c, "bkt", "k").await, b"tagged");

    // Copy keeps the source's tags unless told to replace them.
    c.copy_object()
        .bucket("bkt")
        .key("copy")
        .copy_source("bkt/k")
        .send()
        .await
        .unwrap();
    assert_eq!(
        object_tags(&c, "copy", None).await,
        pairs(&[("owner", "ops")])
    );
    c.copy_object()
        .bucket("bkt")
        .key("copy2")
        .copy_source("bkt/k")
        .tagging_directive(TaggingDirective::Replace)
        .tagging("x=1")
        .send()
        .await
        .unwrap();
    assert_eq!(object_tags(&c, "copy2", None).await, pairs(&[("x", "1")]));

    // Multipart: the upload's tags go to the object.
    let id = c
        .create_multipart_upload()
        .bucket("bkt")
        .key("mp")
        .tagging("phase=2")
        .send()
        .await
        .unwrap()
        .upload_id()
        .unwrap()
        .to_string();
    let part = upload_part(&c, "mp", &id, 1, b"part").await;
    c.complete_multipart_upload()
        .bucket("bkt")
        .key("mp")
        .upload_id(&id)
        .multipart_upload(CompletedMultipartUpload::builder().parts(part).build())
        .send()
        .await
        .unwrap();
    assert_eq!(object_tags(&c, "mp", None).await, pairs(&[("phase", "2")]));

    // Refusals change nothing: 11 tags, a duplicate key, an aws: key, a too-long value.
    let eleven: Vec<(String, String)> = (0..11).map(|i| (format!("k{i}"), "v".into())).collect();
    let eleven: Vec<(&str, &str)> = eleven
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let long = "v".repeat(257);
    for bad in [
        eleven,
        vec![("a", "1"), ("a", "2")],
        vec![("aws:x", "1")],
        vec![("a", long.as_str())],
    ] {
        let e = c
            .put_object_tagging()
            .bucket("bkt")
            .key("k")
            .tagging(tagging(&bad))
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_code(e), "InvalidTag");
    }
    let e = c
        .put_object()
        .bucket("bkt")
        .key("k")
        .tagging("a=1&a=2")
        .body(ByteStream::from_static(b"other"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(e), "InvalidTag");
    assert_eq!(object_tags(&c, "k", None).await, pairs(&[("owner", "ops")]));
    assert_eq!(get_bytes(&c, "bkt", "k").await, b"tagged");
    let e = c
        .get_object_tagging()
        .bucket("bkt")
        .key("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(e), "NoSuchKey");
    let e = c
        .get_object_tagging()
        .bucket("bkt")
        .key("k")
        .version_id("not-a-version")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(e), "InvalidArgument");

    c.delete_object_tagging()
        .bucket("bkt")
        .key("k")
        .send()
        .await
        .unwrap();
    assert!(object_tags(&c, "k", None).await.is_empty());
    let got = c.get_object().bucket("bkt").key("k").send().await.unwrap();
    assert_eq!(got.tag_count(), None);

    // Bucket tags: none yet is NoSuchTagSet; up to 50; deleted.
    let e = c
        .get_bucket_tagging()
        .bucket("bkt")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(e), "NoSuchTagSet");
    let fifty: Vec<(String, String)> = (0..50).map(|i| (format!("k{i}"), "v".into())).collect();
    let fifty: Vec<(&str, &str)> = fifty
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    c.put_bucket_tagging()
        .bucket("bkt")
        .tagging(tagging(&fifty))
        .send()
        .await
        .unwrap();
    let got = c.get_bucket_tagging().bucket("bkt").send().await.unwrap();
    assert_eq!(got.tag_set().len(), 50);
    let mut too_many = fifty.clone();
    too_many.push(("k50", "v"));
    let e = c
        .put_bucket_tagging()
        .bucket("bkt")
        .tagging(tagging(&too_many))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(e), "InvalidTag");
    assert_eq!(
        c.get_bucket_tagging()
            .bucket("bkt")
            .send()
            .await
            .unwrap()
            .tag_set()
            .len(),
        50
    );
    c.delete_bucket_tagging()
        .bucket("bkt")
        .send()
        .await
        .unwrap();
    let e = c
        .get_bucket_tagging()
        .bucket("bkt")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(e), "NoSuchTagSet");
    let e = c
        .get_bucket_tagging()
        .bucket("missing")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(e), "NoSuchBucket");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_of_one_version_and_a_drive_that_missed_a_change() {
    use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
    let node = TestNode::start(4);
    let c = node.client();
    c.create_bucket().bucket("bkt").send().await.unwrap();
    c.put_bucket_versioning()
        .bucket("bkt")
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let v1 = c
        .put_object()
        .bucket("bkt")
        .key("k")
        .tagging("v=1")
        .body(ByteStream::from_static(b"one"))
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_string();
    let v2 = c
        .put_object()
        .bucket("bkt")
        .key("k")
        .body(ByteStream::from_static(b"two"))
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_string();
    // Tagging the old version leaves the latest alone, and answers the version it changed.
    let r = c
        .put_object_tagging()
        .bucket("bkt")
        .key("k")
        .version_id(&v1)
        .tagging(tagging(&[("old", "yes")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.version_id(), Some(v1.as_str()));
    assert_eq!(
        object_tags(&c, "k", Some(&v1)).await,
        vec![("old".into(), "yes".into())]
    );
    assert!(object_tags(&c, "k", None).await.is_empty());
    assert!(object_tags(&c, "k", Some(&v2)).await.is_empty());

    // Drive 1 keeps its meta from before the next change: its stale tags are outvoted.
    let meta = node.drive(1).join("bkt/k/rustfs.meta");
    let stale = std::fs::read(&meta).expect("drive 1 holds the object's meta");
    c.put_object_tagging()
        .bucket("bkt")
        .key("k")
        .version_id(&v1)
        .tagging(tagging(&[("old", "changed")]))
        .send()
        .await
        .unwrap();
    std::fs::write(&meta, stale).unwrap();
    assert_eq!(
        object_tags(&c, "k", Some(&v1)).await,
        vec![("old".into(), "changed".into())]
    );
}

/// An unauthenticated preflight, as a browser sends it.
async fn preflight(
    url: &str,
    origin: &str,
    method: &str,
    headers: Option<&str>,
) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, url)
        .header("origin", origin)
        .header("access-control-request-method", method);
    if let Some(h) = headers {
        req = req.header("access-control-request-headers", h);
    }
    req.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_rules_answer_preflights_and_decorate_answers() {
    use aws_sdk_s3::types::{CorsConfiguration, CorsRule};
    let node = TestNode::start(4);
    let c = node.client();
    c.create_bucket().bucket("web").send().await.unwrap();
    c.put_object()
        .bucket("web")
        .key("page")
        .body(ByteStream::from_static(b"<p>"))
        .send()
        .await
        .unwrap();
    let url = format!("{}/web/page", node.server.endpoint);

    // No rules: preflights are refused, answers carry no CORS headers.
    let r = preflight(&url, "https://app.example.com", "GET", None).await;
    assert_eq!(r.status(), 403);
    let e = c.get_bucket_cors().bucket("web").send().await.unwrap_err();
    assert_eq!(error_code(e), "NoSuchCORSConfiguration");

    let rule = CorsRule::builder()
        .id("app")
        .allowed_origins("https://*.example.com")
        .allowed_methods("GET")
        .allowed_methods("PUT")
        .allowed_headers("x-amz-*")
        .allowed_headers("content-type")
        .expose_headers("ETag")
        .max_age_seconds(600)
        .build()
        .unwrap();
    c.put_bucket_cors()
        .bucket("web")
        .cors_configuration(
            CorsConfiguration::builder()
                .cors_rules(rule)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let got = c.get_bucket_cors().bucket("web").send().await.unwrap();
    assert_eq!(
        got.cors_rules()[0].allowed_origins(),
        ["https://*.example.com"]
    );
    assert_eq!(got.cors_rules()[0].max_age_seconds(), Some(600));

    let r = preflight(
        &url,
        "https://app.example.com",
        "PUT",
        Some("Content-Type, X-Amz-Date"),
    )
    .await;
    assert_eq!(r.status(), 200);
    let h = r.headers();
    assert_eq!(h["access-control-allow-origin"], "https://app.example.com");
    assert_eq!(h["access-control-allow-methods"], "GET, PUT");
    assert_eq!(
        h["access-control-allow-headers"],
        "content-type, x-amz-date"
    );
    assert_eq!(h["access-control-max-age"], "600");
    // Another origin, method or header is refused.
    for (origin, method, headers) in [
        ("https://evil.test", "GET", None),
        ("https://app.example.com", "DELETE", None),
        ("https://app.example.com", "GET", Some("authorization")),
    ] {
        let r = preflight(&url, origin, method, headers).await;
        assert_eq!(r.status(), 403, "{origin} {method} {headers:?}");
        assert!(r.headers().get("access-control-allow-origin").is_none());
    }
    // A preflight without its headers is a bad request; one for a missing bucket is refused.
    let r = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, &url)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = preflight(
        &format!("{}/nope/x", node.server.endpoint),
        "https://a.example.com",
        "GET",
        None,
    )
    .await;
    assert_eq!(r.status(), 403);

    // A signed request from an allowed origin gets the headers; from another, none.
    for (origin, allowed) in [
        ("https://app.example.com", true),
        ("https://evil.test", false),
    ] {
        let headers = [("origin", origin.to_string())];
        let h = raw::signed_headers("GET", &url, &headers, Some(b""));
        let mut req = reqwest::Client::new().get(&url);
        for (k, v) in h {
            req = req.header(k, v);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.headers().get("access-control-allow-origin").is_some(),
            allowed
        );
        if allowed {
            assert_eq!(r.headers()["access-control-expose-headers"], "ETag");
        }
    }

    // Bad rules are refused and change nothing.
    let bad = CorsRule::builder()
        .allowed_origins("*")
        .allowed_methods("PATCH")
        .build()
        .unwrap();
    let e = c
        .put_bucket_cors()
        .bucket("web")
        .cors_configuration(
            CorsConfiguration::builder()
                .cors_rules(bad)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(e), "InvalidRequest");
    assert_eq!(
        c.get_bucket_cors()
            .bucket("web")
            .send()
            .await
            .unwrap()
            .cors_rules()
            .len(),
        1
    );

    c.delete_bucket_cors().bucket("web").send().await.unwrap();
    let r = preflight(&url, "https://app.example.com", "GET", None).await;
    assert_eq!(r.status(), 403);
}
