//! Every S3 operation of the single-node server, through the AWS SDK for Rust.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    CompletedMultipartUpload, CompletedPart, Delete, MetadataDirective, ObjectIdentifier,
};
use md5::{Digest, Md5};
use rustfs_tests::{get_bytes, pattern, TestNode};

const MIB: usize = 1024 * 1024;

fn md5_hex(b: &[u8]) -> String {
    hex::encode(Md5::digest(b))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buckets() {
    let node = TestNode::start(4);
    let c = node.client();
    c.create_bucket().bucket("alpha").send().await.unwrap();
    c.create_bucket()
        .bucket("beta.bucket-2")
        .send()
        .await
        .unwrap();
    let err = c.create_bucket().bucket("alpha").send().await.unwrap_err();
    assert_eq!(
        err.into_service_error().meta().code(),
        Some("BucketAlreadyOwnedByYou")
    );
    c.head_bucket().bucket("alpha").send().await.unwrap();
    let e = c.head_bucket().bucket("missing").send().await.unwrap_err();
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 404);
    let names: Vec<String> = c
        .list_buckets()
        .send()
        .await
        .unwrap()
        .buckets()
        .iter()
        .map(|b| b.name().unwrap().to_string())
        .collect();
    assert_eq!(names, ["alpha", "beta.bucket-2"]);
    c.get_bucket_location()
        .bucket("alpha")
        .send()
        .await
        .unwrap();
    c.put_object()
        .bucket("alpha")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    let e = c.delete_bucket().bucket("alpha").send().await.unwrap_err();
    assert_eq!(e.into_service_error().meta().code(), Some("BucketNotEmpty"));
    c.delete_object()
        .bucket("alpha")
        .key("k")
        .send()
        .await
        .unwrap();
    c.delete_bucket().bucket("alpha").send().await.unwrap();
    let e = c.delete_bucket().bucket("alpha").send().await.unwrap_err();
    assert_eq!(e.into_service_error().meta().code(), Some("NoSuchBucket"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_of_every_size_round_trip() {
    let node = TestNode::start(4);
    let c = node.client();
    c.create_bucket().bucket("sizes").send().await.unwrap();
    for (i, len) in [0, 1, 100 * 1024, MIB + 1, 64 * MIB]
        .into_iter()
        .enumerate()
    {
        let data = pattern(len, i as u64 + 1);
        let key = format!("obj-{len}");
        let put = c
            .put_object()
            .bucket("sizes")
            .key(&key)
            .content_type("application/x-test")
            .metadata("color", "blue")
            .body(ByteStream::from(data.clone()))
            .send()
            .await
            .unwrap();
        assert_eq!(
            put.e_tag().unwrap().trim_matches('"'),
            md5_hex(&data),
            "etag of {len}"
        );
        let got = get_bytes(&c, "sizes", &key).await;
        assert!(got == data, "bytes of {len} differ");
        let head = c
            .head_object()
            .bucket("sizes")
            .key(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(head.content_length(), Some(len as i64));
        assert_eq!(head.content_type(), Some("application/x-test"));
        assert_eq!(
            head.metadata().unwrap().get("color").map(String::as_str),
            Some("blue")
        );
    }
    // Overwrite replaces.
    c.put_object()
        .bucket("sizes")
        .key("obj-1")
        .body(ByteStream::from_static(b"new"))
        .send()
        .await
        .unwrap();
    assert_eq!(get_bytes(&c, "sizes", "obj-1").await, b"new");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranges_and_conditionals() {
    let node = TestNode::start(4);
    let c = node.client();
    c.create_bucket().bucket("range").send().await.unwrap();
    let data = pattern(3 * MIB + 123, 9);
    let etag = c
        .put_object()
        .bucket("range")
        .key("k")
        .body(ByteStream::from(data.clone()))
        .send()
        .await
        .unwrap()
        .e_tag()
        .unwrap()
        .to_string();
    for (range, lo, hi) in [
        ("bytes=0-0", 0, 1),
        ("bytes=100-2000000", 100, 2_000_001),
        ("bytes=1048575-1048577", 1_048_575, 1_048_578),
        ("bytes=-10", data.len() - 10, data.len()),
        ("bytes=3145000-", 3_145_000, data.len()),
    ] {
        let r = c
            .get_object()
            .bucket("range")
            .key("k")
            .range(range)
            .send()
            .await
            .unwrap();
        assert!(r
            .content_range()
            .unwrap()
            .starts_with(&format!("bytes {lo}-{}", hi - 1)));
        let got = r.body.collect().await.unwrap().into_bytes();
        assert!(got[..] == data[lo..hi], "range {range}");
    }
    let e = c
        .get_object()
        .bucket("range")
        .key("k")
        .range("bytes=99999999-")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 416);
    let e = c
        .get_object()
        .bucket("range")
        .key("k")
        .if_match("\"nope\"")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 412);
    c.get_object()
        .bucket("range")
        .key("k")
        .if_match(&etag)
        .send()
        .await
        .unwrap();
    let e = c
        .get_object()
        .bucket("range")
        .key("k")
        .if_none_match(&etag)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 304);
    let past = aws_sdk_s3::primitives::DateTime::from_secs(1_000_000_000);
    let future = aws_sdk_s3::primitives::DateTime::from_secs(4_000_000_000);
    c.get_object()
        .bucket("range")
        .key("k")
        .if_modified_since(past)
        .send()
        .await
        .unwrap();
    let e = c
        .get_object()
        .bucket("range")
        .key("k")
        .if_modified_since(future)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 304);
    let e = c
        .get_object()
        .bucket("range")
        .key("k")
        .if_unmodified_since(past)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 412);
    let e = c
        .get_object()
        .bucket("range")
        .key("missing")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.into_service_error().meta().code(), Some("NoSuchKey"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_and_delete() {
    let node = TestNode::start(4);
    let c = node.client();
    c.create_bucket().bucket("copy").send().await.unwrap();
    let data = pattern(2 * MIB + 5, 3);
    c.put_object()
        .bucket("copy")
        .key("src")
        .content_type("text/plain")
        .metadata("a", "1")
        .body(ByteStream::from(data.clone()))
        .send()
        .await
        .unwrap();
    c.copy_object()
        .bucket("copy")
        .key("dst")
        .copy_source("copy/src")
        .send()
        .await
        .unwrap();
    assert!(get_bytes(&c, "copy", "dst").await == data);
    let h = c
        .head_object()
        .bucket("copy")
        .key("dst")
        .send()
        .await
        .unwrap();
    assert_eq!(
        h.metadata().unwrap().get("a").map(String::as_str),
        Some("1")
    );
    assert_eq!(h.content_type(), Some("text/plain"));
    c.copy_object()
        .bucket("copy")
        .key("dst2")
        .copy_source("copy/src")
        .metadata_directive(MetadataDirective::Replace)
        .metadata("b", "2")
        .content_type("image/png")
        .send()
        .await
        .unwrap();
    let h = c
        .head_object()
        .bucket("copy")
        .key("dst2")
        .send()
        .await
        .unwrap();
    assert_eq!(
        h.metadata().unwrap().get("b").map(String::as_str),
        Some("2")
    );
    assert!(h.metadata().unwrap().get("a").is_none());
    assert_eq!(h.content_type(), Some("image/png"));
    let e = c
        .copy_object()
        .bucket("copy")
        .key("src")
        .copy_source("copy/src")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.into_service_error().meta().code(), Some("InvalidRequest"));
    c.copy_object()
        .bucket("copy")
        .key("src")
        .copy_source("copy/src")
        .metadata_directive(MetadataDirective::Replace)
        .metadata("c", "3")
        .send()
        .await
        .unwrap();
    assert!(get_bytes(&c, "copy", "src").await == data);

    c.delete_object()
        .bucket("copy")
        .key("dst")
        .send()
        .await
        .unwrap();
    c.delete_object()
        .bucket("copy")
        .key("never-existed")
        .send()
        .await
        .unwrap();
    let e = c
        .head_object()
        .bucket("copy")
        .key("dst")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 404);
    let del = Delete::builder()
        .objects(ObjectIdentifier::builder().key("src").build().unwrap())
        .objects(ObjectIdentifier::builder().key("dst2").build().unwrap())
        .objects(ObjectIdentifier::builder().key("ghost").build().unwrap())
        .build()
        .unwrap();
    let out = c
        .delete_objects()
        .bucket("copy")
        .delete(del)
        .send()
        .await
        .unwrap();
    assert_eq!(out.deleted().len(), 3);
    assert!(out.errors().is_empty());
    let left = c.list_objects_v2().bucket("copy").send().await.unwrap();
    assert_eq!(left.key_count(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing() {
    let node = TestNode::start(4);
    let c = node.client();
    c.create_bucket().bucket("list").send().await.unwrap();
    let keys = [
        "a",
        "a/b",
        "a/b.txt",
        "a/b/c",
        "a/d/e",
        "b c",
        "dir/",
        "dir/x",
        "photos/2024/1.jpg",
        "photos/2024/2.jpg",
        "photos/2025/1.jpg",
        "z",
        "ü",
    ];
    for k in keys {
        c.put_object()
            .bucket("list")
            .key(k)
            .body(ByteStream::from_static(b"1"))
            .send()
            .await
            .unwrap();
    }
    // Recursive, full order (S3 byte order).
    let all: Vec<String> = c
        .list_objects_v2()
        .bucket("list")
        .send()
        .await
        .unwrap()
        .contents()
        .iter()
        .map(|o| o.key().unwrap().to_string())
        .collect();
    let mut want: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    want.sort();
    assert_eq!(all, want);

    // Delimiter.
    let r = c
        .list_objects_v2()
        .bucket("list")
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let objs: Vec<&str> = r.contents().iter().map(|o| o.key().unwrap()).collect();
    let pres: Vec<&str> = r
        .common_prefixes()
        .iter()
        .map(|p| p.prefix().unwrap())
        .collect();
    assert_eq!(objs, ["a", "b c", "z", "ü"]);
    assert_eq!(pres, ["a/", "dir/", "photos/"]);
    let r = c
        .list_objects_v2()
        .bucket("list")
        .prefix("photos/")
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let pres: Vec<&str> = r
        .common_prefixes()
        .iter()
        .map(|p| p.prefix().unwrap())
        .collect();
    assert_eq!(pres, ["photos/2024/", "photos/2025/"]);
    let r = c
        .list_objects_v2()
        .bucket("list")
        .prefix("a/b")
        .send()
        .await
        .unwrap();
    let objs: Vec<&str> = r.contents().iter().map(|o| o.key().unwrap()).collect();
    assert_eq!(objs, ["a/b", "a/b.txt", "a/b/c"]);
    // A delimiter other than '/'.
    let r = c
        .list_objects_v2()
        .bucket("list")
        .prefix("photos/")
        .delimiter("1")
        .send()
        .await
        .unwrap();
    let pres: Vec<&str> = r
        .common_prefixes()
        .iter()
        .map(|p| p.prefix().unwrap())
        .collect();
    assert_eq!(pres, ["photos/2024/1", "photos/2025/1"]);

    // Pagination with continuation tokens, V2 and V1.
    let mut got = Vec::new();
    let mut token = None;
    for _ in 0..20 {
        let r = c
            .list_objects_v2()
            .bucket("list")
            .max_keys(3)
            .set_continuation_token(token.clone())
            .send()
            .await
            .unwrap();
        assert!(r.contents().len() <= 3);
        got.extend(r.contents().iter().map(|o| o.key().unwrap().to_string()));
        token = r.next_continuation_token().map(str::to_string);
        if !r.is_truncated().unwrap() {
            break;
        }
    }
    assert_eq!(got, want);
    let mut got = Vec::new();
    let mut marker: Option<String> = None;
    for _ in 0..20 {
        let r = c
            .list_objects()
            .bucket("list")
            .max_keys(4)
            .set_marker(marker.clone())
            .send()
            .await
            .unwrap();
        got.extend(r.contents().iter().map(|o| o.key().unwrap().to_string()));
        marker = r.next_marker().map(str::to_string);
        if !r.is_truncated().unwrap() {
            break;
        }
    }
    assert_eq!(got, want);
    // Paging over common prefixes does not repeat them.
    let r1 = c
        .list_objects_v2()
        .bucket("list")
        .delimiter("/")
        .max_keys(2)
        .send()
        .await
        .unwrap();
    let r2 = c
        .list_objects_v2()
        .bucket("list")
        .delimiter("/")
        .max_keys(10)
        .continuation_token(r1.next_continuation_token().unwrap())
        .send()
        .await
        .unwrap();
    let mut seen: Vec<String> = r1
        .contents()
        .iter()
        .map(|o| o.key().unwrap().to_string())
        .collect();
    seen.extend(
        r1.common_prefixes()
            .iter()
            .map(|p| p.prefix().unwrap().to_string()),
    );
    seen.extend(r2.contents().iter().map(|o| o.key().unwrap().to_string()));
    seen.extend(
        r2.common_prefixes()
            .iter()
            .map(|p| p.prefix().unwrap().to_string()),
    );
    seen.sort();
    assert_eq!(seen, ["a", "a/", "b c", "dir/", "photos/", "z", "ü"]);
    // start-after and encoding-type=url.
    let r = c
        .list_objects_v2()
        .bucket("list")
        .start_after("photos/2024/2.jpg")
        .send()
        .await
        .unwrap();
    let objs: Vec<&str> = r.contents().iter().map(|o| o.key().unwrap()).collect();
    assert_eq!(objs, ["photos/2025/1.jpg", "z", "ü"]);
    let r = c
        .list_objects_v2()
        .bucket("list")
        .prefix("b")
        .encoding_type(aws_sdk_s3::types::EncodingType::Url)
        .send()
        .await
        .unwrap();
    // The Rust SDK hands url-encoded keys back as they came on the wire.
    assert_eq!(r.contents()[0].key(), Some("b%20c"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart() {
    let node = TestNode::start(4);
    let c = node.client();
    c.create_bucket().bucket("multi").send().await.unwrap();
    let parts_data: Vec<Vec<u8>> = (0..3).map(|i| pattern(5 * MIB, 100 + i)).collect();
    let up = c
        .create_multipart_upload()
        .bucket("multi")
        .key("big")
        .content_type("video/mp4")
        .metadata("m", "x")
        .send()
        .await
        .unwrap();
    let id = up.upload_id().unwrap().to_string();
    let mut completed = Vec::new();
    let mut md5s = Md5::new();
    for (i, d) in parts_data.iter().enumerate() {
        let n = i as i32 + 1;
        let r = c
            .upload_part()
            .bucket("multi")
            .key("big")
            .upload_id(&id)
            .part_number(n)
            .body(ByteStream::from(d.clone()))
            .send()
            .await
            .unwrap();
        md5s.update(Md5::digest(d));
        completed.push(
            CompletedPart::builder()
                .part_number(n)
                .e_tag(r.e_tag().unwrap())
                .build(),
        );
    }
    let lp = c
        .list_parts()
        .bucket("multi")
        .key("big")
        .upload_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(lp.parts().len(), 3);
    assert_eq!(lp.parts()[1].size(), Some(5 * MIB as i64));
    let lu = c
        .list_multipart_uploads()
        .bucket("multi")
        .send()
        .await
        .unwrap();
    assert_eq!(lu.uploads()[0].upload_id(), Some(id.as_str()));
    let done = c
        .complete_multipart_upload()
        .bucket("multi")
        .key("big")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(completed))
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        done.e_tag().unwrap().trim_matches('"'),
        format!("{}-3", hex::encode(md5s.finalize()))
    );
    let whole: Vec<u8> = parts_data.concat();
    assert!(get_bytes(&c, "multi", "big").await == whole);
    let r = c
        .get_object()
        .bucket("multi")
        .key("big")
        .range(format!("bytes={}-{}", 5 * MIB - 2, 5 * MIB + 1))
        .send()
        .await
        .unwrap();
    assert!(r.body.collect().await.unwrap().into_bytes()[..] == whole[5 * MIB - 2..5 * MIB + 2]);
    let h = c
        .head_object()
        .bucket("multi")
        .key("big")
        .send()
        .await
        .unwrap();
    assert_eq!(h.content_type(), Some("video/mp4"));
    assert_eq!(
        h.metadata().unwrap().get("m").map(String::as_str),
        Some("x")
    );
    assert!(c
        .list_multipart_uploads()
        .bucket("multi")
        .send()
        .await
        .unwrap()
        .uploads()
        .is_empty());

    // UploadPartCopy from the completed object, and abort.
    let up2 = c
        .create_multipart_upload()
        .bucket("multi")
        .key("copy")
        .send()
        .await
        .unwrap();
    let id2 = up2.upload_id().unwrap();
    let pc = c
        .upload_part_copy()
        .bucket("multi")
        .key("copy")
        .upload_id(id2)
        .part_number(1)
        .copy_source("multi/big")
        .copy_source_range("bytes=0-5242879")
        .send()
        .await
        .unwrap();
    let pc2 = c
        .upload_part_copy()
        .bucket("multi")
        .key("copy")
        .upload_id(id2)
        .part_number(2)
        .copy_source("multi/big")
        .copy_source_range("bytes=10485760-10485769")
        .send()
        .await
        .unwrap();
    let parts = vec![
        CompletedPart::builder()
            .part_number(1)
            .e_tag(pc.copy_part_result().unwrap().e_tag().unwrap())
            .build(),
        CompletedPart::builder()
            .part_number(2)
            .e_tag(pc2.copy_part_result().unwrap().e_tag().unwrap())
            .build(),
    ];
    c.complete_multipart_upload()
        .bucket("multi")
        .key("copy")
        .upload_id(id2)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let got = get_bytes(&c, "multi", "copy").await;
    assert!(got[..5 * MIB] == whole[..5 * MIB] && got[5 * MIB..] == whole[10 * MIB..10 * MIB + 10]);

    let up3 = c
        .create_multipart_upload()
        .bucket("multi")
        .key("aborted")
        .send()
        .await
        .unwrap();
    let id3 = up3.upload_id().unwrap();
    c.upload_part()
        .bucket("multi")
        .key("aborted")
        .upload_id(id3)
        .part_number(1)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    c.abort_multipart_upload()
        .bucket("multi")
        .key("aborted")
        .upload_id(id3)
        .send()
        .await
        .unwrap();
    let e = c
        .list_parts()
        .bucket("multi")
        .key("aborted")
        .upload_id(id3)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.into_service_error().meta().code(), Some("NoSuchUpload"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checksums_and_content_md5() {
    use aws_sdk_s3::types::ChecksumAlgorithm;
    let node = TestNode::start(4);
    let c = node.client();
    c.create_bucket().bucket("cksum").send().await.unwrap();
    let data = pattern(300_000, 5);
    for algo in [
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32C,
        ChecksumAlgorithm::Sha256,
    ] {
        let key = format!("k-{}", algo.as_str());
        // The SDK computes the checksum and sends it (as a trailer on a streaming body).
        c.put_object()
            .bucket("cksum")
            .key(&key)
            .checksum_algorithm(algo.clone())
            .body(ByteStream::from(data.clone()))
            .send()
            .await
            .unwrap();
        let r = c
            .get_object()
            .bucket("cksum")
            .key(&key)
            .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
            .send()
            .await
            .unwrap();
        let has = r.checksum_crc32().is_some()
            || r.checksum_crc32_c().is_some()
            || r.checksum_sha256().is_some();
        assert!(has, "{algo:?} checksum returned");
        assert!(r.body.collect().await.unwrap().into_bytes()[..] == data[..]);
    }
    let e = c
        .put_object()
        .bucket("cksum")
        .key("bad")
        .checksum_crc32("AAAAAA==")
        .body(ByteStream::from(data.clone()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.into_service_error().meta().code(), Some("BadDigest"));
    use base64::Engine as _;
    let good = base64::engine::general_purpose::STANDARD.encode(Md5::digest(&data));
    c.put_object()
        .bucket("cksum")
        .key("md5")
        .content_md5(good)
        .body(ByteStream::from(data.clone()))
        .send()
        .await
        .unwrap();
    let bad = base64::engine::general_purpose::STANDARD.encode(Md5::digest(b"other"));
    let e = c
        .put_object()
        .bucket("cksum")
        .key("md5bad")
        .content_md5(bad)
        .body(ByteStream::from(data))
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.into_service_error().meta().code(), Some("BadDigest"));
    let e = c
        .head_object()
        .bucket("cksum")
        .key("md5bad")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn region_is_reported() {
    let node = TestNode::start_with(4, &[("RUSTFS_REGION", "eu-west-1")]);
    let c = node.client();
    c.create_bucket().bucket("where").send().await.unwrap();
    let loc = c
        .get_bucket_location()
        .bucket("where")
        .send()
        .await
        .unwrap();
    assert_eq!(
        loc.location_constraint().map(|l| l.as_str()),
        Some("eu-west-1")
    );
    let head = c.head_bucket().bucket("where").send().await.unwrap();
    assert_eq!(head.bucket_region(), Some("eu-west-1"));
}
