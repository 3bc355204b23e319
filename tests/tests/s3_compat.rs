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

/// Bytes the drives hold for `key` (its shards and their bitrot hashes), over every drive.
fn stored_bytes(node: &TestNode, key: &str) -> u64 {
    (1..=4)
        .flat_map(|i| rustfs_tests::tree(&node.drive(i).join("bkt").join(key)))
        .filter(|(p, _)| !p.ends_with("rustfs.meta"))
        .map(|(_, n)| n)
        .sum()
}

/// `x-amz-storage-class`: `REDUCED_REDUNDANCY` is written with the lower parity (EC:1 on four
/// drives, so a third less than STANDARD's 2+2 on disk), reported by HEAD, GET and every
/// listing, kept through multipart uploads and changed by a copy; other classes are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reduced_redundancy_gets_the_lower_parity() {
    use aws_sdk_s3::types::{ObjectStorageClass, StorageClass};
    let node = TestNode::start(4);
    let c = node.client();
    c.create_bucket().bucket("bkt").send().await.unwrap();
    let body = pattern(MIB, 7);
    for (key, class) in [
        ("std", None),
        ("rrs", Some(StorageClass::ReducedRedundancy)),
    ] {
        c.put_object()
            .bucket("bkt")
            .key(key)
            .set_storage_class(class)
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .unwrap();
        assert_eq!(get_bytes(&c, "bkt", key).await, body, "{key}");
    }
    let (std_bytes, rrs_bytes) = (stored_bytes(&node, "std"), stored_bytes(&node, "rrs"));
    assert!(std_bytes >= 2 * MIB as u64, "STANDARD is 2+2: {std_bytes}");
    assert!(
        rrs_bytes < (MIB + MIB / 2) as u64 && rrs_bytes >= (MIB + MIB / 3) as u64,
        "REDUCED_REDUNDANCY is 3+1: {rrs_bytes}"
    );
    // AWS names the class in HEAD and GET only when it is not STANDARD.
    let head = |key: &'static str| c.head_object().bucket("bkt").key(key).send();
    assert_eq!(head("std").await.unwrap().storage_class(), None);
    assert_eq!(
        head("rrs").await.unwrap().storage_class(),
        Some(&StorageClass::ReducedRedundancy)
    );
    let got = c
        .get_object()
        .bucket("bkt")
        .key("rrs")
        .send()
        .await
        .unwrap();
    assert_eq!(got.storage_class(), Some(&StorageClass::ReducedRedundancy));
    let listed = c.list_objects_v2().bucket("bkt").send().await.unwrap();
    let classes: Vec<_> = listed
        .contents()
        .iter()
        .map(|o| (o.key().unwrap(), o.storage_class().cloned()))
        .collect();
    assert_eq!(
        classes,
        [
            ("rrs", Some(ObjectStorageClass::ReducedRedundancy)),
            ("std", Some(ObjectStorageClass::Standard)),
        ]
    );
    let versions = c.list_object_versions().bucket("bkt").send().await.unwrap();
    assert_eq!(
        versions.versions()[0].storage_class().map(|c| c.as_str()),
        Some("REDUCED_REDUNDANCY")
    );

    // Multipart: the class is chosen at creation and shown while the upload is open.
    let id = c
        .create_multipart_upload()
        .bucket("bkt")
        .key("mp")
        .storage_class(StorageClass::ReducedRedundancy)
        .send()
        .await
        .unwrap()
        .upload_id()
        .unwrap()
        .to_string();
    let uploads = c
        .list_multipart_uploads()
        .bucket("bkt")
        .send()
        .await
        .unwrap();
    assert_eq!(
        uploads.uploads()[0].storage_class(),
        Some(&StorageClass::ReducedRedundancy)
    );
    let part = upload_part(&c, "mp", &id, 1, &body).await;
    let parts = c
        .list_parts()
        .bucket("bkt")
        .key("mp")
        .upload_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        parts.storage_class(),
        Some(&StorageClass::ReducedRedundancy)
    );
    c.complete_multipart_upload()
        .bucket("bkt")
        .key("mp")
        .upload_id(&id)
        .multipart_upload(CompletedMultipartUpload::builder().parts(part).build())
        .send()
        .await
        .unwrap();
    assert_eq!(
        head("mp").await.unwrap().storage_class(),
        Some(&StorageClass::ReducedRedundancy)
    );
    assert!(stored_bytes(&node, "mp") < (MIB + MIB / 2) as u64);

    // A copy onto itself that only changes the class is allowed, and rewrites with 2+2.
    c.copy_object()
        .bucket("bkt")
        .key("rrs")
        .copy_source("bkt/rrs")
        .storage_class(StorageClass::Standard)
        .send()
        .await
        .unwrap();
    assert_eq!(head("rrs").await.unwrap().storage_class(), None);
    assert!(stored_bytes(&node, "rrs") >= 2 * MIB as u64);
    assert_eq!(get_bytes(&c, "bkt", "rrs").await, body);

    // Classes this store does not have are refused and write nothing.
    let e = c
        .put_object()
        .bucket("bkt")
        .key("glacier")
        .storage_class(StorageClass::Glacier)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(e), "InvalidStorageClass");
    let e = head("glacier").await.unwrap_err();
    assert!(e.into_service_error().is_not_found());
}

/// A reduced-redundancy class with more parity than the standard one is refused at start.
#[test]
fn reduced_redundancy_above_standard_parity_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let arg = format!("{}/d{{1...4}}", dir.path().display());
    let err = rustfs_tests::Server::start_failing(
        &[arg],
        &[
            ("RUSTFS_STORAGE_CLASS_STANDARD", "EC:1"),
            ("RUSTFS_STORAGE_CLASS_RRS", "EC:2"),
        ],
    );
    assert!(err.contains("RUSTFS_STORAGE_CLASS_RRS=EC:2"), "{err}");
}

fn sha256_b64(data: &[u8]) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(data))
}

/// A multipart upload created with a checksum algorithm: every part is checksummed, the object
/// gets the composite checksum (the checksum of the parts' checksums, `-N`), and
/// GetObjectAttributes tells it with the parts, page by page. Mismatches are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composite_checksums_and_object_attributes() {
    use aws_sdk_s3::types::{ChecksumType, ObjectAttributes};
    use base64::Engine as _;
    let node = TestNode::start(4);
    let c = node.client();
    c.create_bucket().bucket("bkt").send().await.unwrap();
    let create = |key: &'static str, algo: ChecksumAlgorithm| {
        c.create_multipart_upload()
            .bucket("bkt")
            .key(key)
            .checksum_algorithm(algo)
            .send()
    };
    let created = create("mp", ChecksumAlgorithm::Sha256).await.unwrap();
    assert_eq!(
        created.checksum_algorithm(),
        Some(&ChecksumAlgorithm::Sha256)
    );
    let id = created.upload_id().unwrap().to_string();
    let bodies = [pattern(5 * MIB, 1), pattern(MIB, 2)];
    let mut parts = Vec::new();
    for (n, body) in bodies.iter().enumerate() {
        let r = c
            .upload_part()
            .bucket("bkt")
            .key("mp")
            .upload_id(&id)
            .part_number(n as i32 + 1)
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.checksum_sha256(), Some(sha256_b64(body).as_str()));
        parts.push(
            CompletedPart::builder()
                .part_number(n as i32 + 1)
                .e_tag(r.e_tag().unwrap())
                .checksum_sha256(r.checksum_sha256().unwrap())
                .build(),
        );
    }
    // A part with another algorithm than the upload's is refused.
    let e = c
        .upload_part()
        .bucket("bkt")
        .key("mp")
        .upload_id(&id)
        .part_number(3)
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .body(ByteStream::from_static(b"other"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(e), "InvalidRequest");
    // ListParts shows each part's checksum.
    let listed = c
        .list_parts()
        .bucket("bkt")
        .key("mp")
        .upload_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.parts().len(), 2);
    assert_eq!(
        listed.parts()[1].checksum_sha256(),
        Some(sha256_b64(&bodies[1]).as_str())
    );
    // A Complete naming a wrong checksum for a part is refused; the upload stays.
    let wrong = vec![
        parts[0].clone(),
        CompletedPart::builder()
            .part_number(2)
            .e_tag(parts[1].e_tag().unwrap())
            .checksum_sha256(sha256_b64(b"not this"))
            .build(),
    ];
    let e = c
        .complete_multipart_upload()
        .bucket("bkt")
        .key("mp")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(wrong))
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(e), "InvalidPart");
    let done = c
        .complete_multipart_upload()
        .bucket("bkt")
        .key("mp")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let raw: Vec<u8> = bodies
        .iter()
        .flat_map(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(sha256_b64(b))
                .unwrap()
        })
        .collect();
    let composite = format!("{}-2", sha256_b64(&raw));
    assert_eq!(done.checksum_sha256(), Some(composite.as_str()));
    assert_eq!(done.checksum_type(), Some(&ChecksumType::Composite));
    let head = c
        .head_object()
        .bucket("bkt")
        .key("mp")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(head.checksum_sha256(), Some(composite.as_str()));
    assert_eq!(head.checksum_type(), Some(&ChecksumType::Composite));
    let mut whole = bodies[0].clone();
    whole.extend_from_slice(&bodies[1]);
    assert_eq!(get_bytes(&c, "bkt", "mp").await, whole);

    // GetObjectAttributes: everything, the parts one per page.
    let attrs = |key: &'static str, marker: Option<i32>| {
        c.get_object_attributes()
            .bucket("bkt")
            .key(key)
            .object_attributes(ObjectAttributes::Etag)
            .object_attributes(ObjectAttributes::Checksum)
            .object_attributes(ObjectAttributes::ObjectParts)
            .object_attributes(ObjectAttributes::StorageClass)
            .object_attributes(ObjectAttributes::ObjectSize)
            .max_parts(1)
            .set_part_number_marker(marker.map(|m| m.to_string()))
            .send()
    };
    let a = attrs("mp", None).await.unwrap();
    assert_eq!(a.object_size(), Some(6 * MIB as i64));
    assert_eq!(
        a.e_tag().map(|e| e.trim_matches('"')),
        done.e_tag().map(|e| e.trim_matches('"'))
    );
    assert_eq!(
        a.checksum().and_then(|c| c.checksum_sha256()),
        Some(composite.as_str())
    );
    assert_eq!(a.storage_class().map(|c| c.as_str()), Some("STANDARD"));
    let p = a.object_parts().expect("parts");
    assert_eq!(p.total_parts_count(), Some(2));
    assert_eq!(p.is_truncated(), Some(true));
    assert_eq!(p.parts().len(), 1);
    assert_eq!(p.parts()[0].size(), Some(5 * MIB as i64));
    assert_eq!(
        p.parts()[0].checksum_sha256(),
        Some(sha256_b64(&bodies[0]).as_str())
    );
    let next = p
        .next_part_number_marker()
        .map(|m| m.parse::<i32>().unwrap());
    let a2 = attrs("mp", next).await.unwrap();
    let p2 = a2.object_parts().expect("parts");
    assert_eq!(p2.is_truncated(), Some(false));
    assert_eq!(p2.parts()[0].part_number(), Some(2));

    // A simple object has no parts; a missing one is NoSuchKey; no attribute named is refused.
    c.put_object()
        .bucket("bkt")
        .key("simple")
        .body(ByteStream::from_static(b"simple"))
        .send()
        .await
        .unwrap();
    let s = attrs("simple", None).await.unwrap();
    assert!(s.object_parts().is_none());
    assert_eq!(s.object_size(), Some(6));
    assert_eq!(
        error_code(attrs("missing", None).await.unwrap_err()),
        "NoSuchKey"
    );
    let url = format!("{}/bkt/simple?attributes", node.server.endpoint);
    let r = raw::send(
        "GET",
        &url,
        &[("x-amz-object-attributes", "Colour".to_string())],
        Vec::new(),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("InvalidArgument"), "{}", r.body);

    // Algorithms this store does not offer are refused at create.
    let e = create("other", ChecksumAlgorithm::Crc64Nvme)
        .await
        .unwrap_err();
    assert_eq!(error_code(e), "InvalidRequest");
}

/// A PUT streamed with `Transfer-Encoding: chunked` and no `Content-Length` (as `curl -T -`
/// sends) is stored whole, not refused with `MissingContentLength`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_put_without_a_length_is_stored_whole() {
    let node = TestNode::start(4);
    let c = node.client();
    c.create_bucket().bucket("bkt").send().await.unwrap();
    let body = pattern(3 * MIB + 17, 9);
    let url = format!("{}/bkt/streamed", node.server.endpoint);
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = body
        .chunks(64 * 1024)
        .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
        .collect();
    let mut req = reqwest::Client::new()
        .put(&url)
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)));
    for (k, v) in raw::signed_headers("PUT", &url, &[], None) {
        req = req.header(k, v);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    assert_eq!(status, 200, "{}", r.text().await.unwrap_or_default());
    assert_eq!(get_bytes(&c, "bkt", "streamed").await, body);
    let head = c
        .head_object()
        .bucket("bkt")
        .key("streamed")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(body.len() as i64));
}
