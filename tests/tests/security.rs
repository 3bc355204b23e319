//! Attacks on a real node (issue: "close the holes"): listings that try to escape the bucket,
//! unauthenticated bodies meant to exhaust memory, slow-header connections, refused signature
//! forms, POST forms with and without a valid policy, and file modes on the drives.

use rustfs_tests::{get_bytes, pattern, raw, TestNode, ACCESS_KEY, SECRET_KEY};
use std::collections::BTreeSet;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The text of every `<tag>` element in `xml`.
fn tags(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    xml.split(&open)
        .skip(1)
        .filter_map(|s| s.split(&close).next())
        .map(str::to_string)
        .collect()
}

async fn put(node: &TestNode, bucket: &str, key: &str, body: &[u8]) {
    node.client()
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(body.to_vec().into())
        .send()
        .await
        .unwrap_or_else(|e| panic!("put {key}: {e:?}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_never_leave_the_bucket() {
    let node = TestNode::start(4);
    node.client()
        .create_bucket()
        .bucket("bkt")
        .send()
        .await
        .unwrap();
    let keys = ["a/x", "a/y", "top", "..a", "z/deep/k"];
    for k in keys {
        put(&node, "bkt", k, b"data").await;
    }
    let known: BTreeSet<String> = keys
        .iter()
        .map(|k| k.to_string())
        .chain(["a/", "z/"].map(String::from))
        .collect();
    let ep = &node.server.endpoint;
    // Every listing input, raw (percent-encoded, NUL) and as an SDK sends it.
    let traversals = [
        "/etc/",
        "/",
        "../../",
        "../../../../../../etc/",
        "a/../../..",
        "a/../../../",
        "./",
        "a/./",
        "%2e%2e%2f%2e%2e%2f",
        "%00",
        "a%2F..%2F..%2F",
    ];
    for t in traversals {
        let enc = if t.contains('%') {
            t.to_string()
        } else {
            t.bytes()
                .map(|b| match b {
                    b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect::<String>()
        };
        for query in [
            format!("list-type=2&prefix={enc}&delimiter=%2F"),
            format!("list-type=2&prefix={enc}"),
            format!("list-type=2&start-after={enc}&delimiter=%2F"),
            format!("prefix={enc}&delimiter=%2F"),
            format!("marker={enc}"),
            format!("uploads&prefix={enc}&key-marker={enc}"),
        ] {
            let r = raw::send("GET", &format!("{ep}/bkt?{query}"), &[], Vec::new()).await;
            assert!(
                r.status == 200 || r.status == 400,
                "{query}: {} {}",
                r.status,
                r.body
            );
            for k in tags(&r.body, "Key") {
                assert!(
                    known.contains(&k),
                    "{query} listed {k:?} outside the bucket:\n{}",
                    r.body
                );
            }
            for p in tags(&r.body, "CommonPrefixes") {
                let p = tags(&p, "Prefix").join("");
                assert!(
                    known.contains(&p),
                    "{query} listed prefix {p:?}:\n{}",
                    r.body
                );
            }
            for word in [
                "passwd",
                "apt",
                "X11",
                "hostname",
                ".rustfs.sys",
                "rustfs.meta",
            ] {
                assert!(!r.body.contains(word), "{query} leaked {word}:\n{}", r.body);
            }
        }
    }
    // The SDK path: prefixes and continuation tokens.
    let c = node.client();
    for t in ["/etc/", "../../", "a/../../.."] {
        let out = c
            .list_objects_v2()
            .bucket("bkt")
            .prefix(t)
            .delimiter("/")
            .send()
            .await
            .unwrap();
        assert!(
            out.contents().is_empty() && out.common_prefixes().is_empty(),
            "{t}"
        );
    }
    let token = {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("../../../etc/")
    };
    let out = c
        .list_objects_v2()
        .bucket("bkt")
        .continuation_token(token)
        .send()
        .await
        .unwrap();
    for o in out.contents() {
        assert!(known.contains(o.key().unwrap()), "{:?}", o.key());
    }
}

/// Sends a `multipart/form-data` POST of `total` bytes whose first part is `first_part` and
/// whose rest is zeros, as fast as the node takes it; returns the status the node answered.
async fn form_post(addr: &str, bucket: &str, first_part: &str, total: u64) -> u16 {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /{bucket} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: {total}\r\n\r\n--XyZ\r\n{first_part}\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let (mut rd, mut wr) = s.into_split();
    let writer = tokio::spawn(async move {
        let chunk = vec![0u8; 256 * 1024];
        let mut sent = 0u64;
        while sent < total {
            if wr.write_all(&chunk).await.is_err() {
                break;
            }
            sent += chunk.len() as u64;
        }
    });
    let mut buf = vec![0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(120), rd.read(&mut buf))
        .await
        .expect("the node answers a hostile form within 120 s")
        .unwrap();
    writer.abort();
    let line = String::from_utf8_lossy(&buf[..n]).to_string();
    line.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {line:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthenticated_bodies_cost_no_memory() {
    let node = TestNode::start(4);
    node.client()
        .create_bucket()
        .bucket("bkt")
        .send()
        .await
        .unwrap();
    let addr = node
        .server
        .endpoint
        .trim_start_matches("http://")
        .to_string();
    const GIB_1_5: u64 = 3 << 29;
    let file = "Content-Disposition: form-data; name=\"file\"; filename=\"x.bin\"\r\nContent-Type: application/octet-stream";
    let attacks: Vec<_> = (0..8)
        .map(|_| {
            let addr = addr.clone();
            tokio::spawn(async move { form_post(&addr, "bkt", file, GIB_1_5).await })
        })
        .collect();
    for a in attacks {
        assert_eq!(a.await.unwrap(), 403, "an unsigned form upload");
    }
    // A giant field before the file, and a plain unsigned PUT, are refused without buffering.
    let field = "Content-Disposition: form-data; name=\"key\"";
    assert_eq!(form_post(&addr, "bkt", field, GIB_1_5).await, 400);
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    s.write_all(
        format!("PUT /bkt/k HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {GIB_1_5}\r\n\r\n")
            .as_bytes(),
    )
    .await
    .unwrap();
    let _ = s.write_all(&vec![0u8; 4 << 20]).await;
    let mut buf = vec![0u8; 32];
    let n = tokio::time::timeout(Duration::from_secs(30), s.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 403"),
        "{:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    let peak_mib = node.server.peak_rss_kib() / 1024;
    assert!(
        peak_mib < 128,
        "node peaked at {peak_mib} MiB under hostile forms"
    );
    assert!(node
        .client()
        .list_objects_v2()
        .bucket("bkt")
        .send()
        .await
        .unwrap()
        .contents()
        .is_empty());
}

/// A browser-style form signed the way `aws-sigv4` signs: the policy's signature with the
/// signing key of the credential scope.
fn signed_form(policy: &serde_json::Value, key: &str) -> Vec<(String, String)> {
    signed_form_as((ACCESS_KEY, SECRET_KEY), policy, key)
}

/// [`signed_form`] signed with other keys.
fn signed_form_as(
    (access_key, secret_key): (&str, &str),
    policy: &serde_json::Value,
    key: &str,
) -> Vec<(String, String)> {
    use base64::Engine as _;
    let now = std::time::SystemTime::now();
    let date = time::OffsetDateTime::now_utc();
    let day = format!(
        "{:04}{:02}{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    );
    let amz_date = format!(
        "{day}T{:02}{:02}{:02}Z",
        date.hour(),
        date.minute(),
        date.second()
    );
    let credential = format!("{access_key}/{day}/us-east-1/s3/aws4_request");
    let mut policy = policy.clone();
    let conds = policy["conditions"].as_array_mut().unwrap();
    conds.push(serde_json::json!({"x-amz-algorithm": "AWS4-HMAC-SHA256"}));
    conds.push(serde_json::json!({"x-amz-credential": credential}));
    conds.push(serde_json::json!({"x-amz-date": amz_date}));
    let b64 = base64::engine::general_purpose::STANDARD.encode(policy.to_string());
    let signing_key = aws_sigv4::sign::v4::generate_signing_key(secret_key, now, "us-east-1", "s3");
    let signature = aws_sigv4::sign::v4::calculate_signature(signing_key, b64.as_bytes());
    vec![
        ("key".into(), key.into()),
        ("x-amz-algorithm".into(), "AWS4-HMAC-SHA256".into()),
        ("x-amz-credential".into(), credential),
        ("x-amz-date".into(), amz_date),
        ("policy".into(), b64),
        ("x-amz-signature".into(), signature),
    ]
}

async fn post_form(
    endpoint: &str,
    bucket: &str,
    fields: &[(String, String)],
    file: Vec<u8>,
) -> (u16, String) {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in fields {
        form = form.text(k.clone(), v.clone());
    }
    form = form.part(
        "file",
        reqwest::multipart::Part::bytes(file).file_name("photo.jpg"),
    );
    let r = reqwest::Client::new()
        .post(format!("{endpoint}/{bucket}"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.text().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_object_forms_need_a_valid_policy() {
    let node = TestNode::start(4);
    node.client()
        .create_bucket()
        .bucket("bkt")
        .send()
        .await
        .unwrap();
    let ep = node.server.endpoint.clone();
    let exp = (time::OffsetDateTime::now_utc() + time::Duration::minutes(10))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let policy = serde_json::json!({
        "expiration": exp,
        "conditions": [
            {"bucket": "bkt"},
            ["starts-with", "$key", "uploads/"],
            ["content-length-range", 1, 1_000_000]
        ]
    });
    let data = pattern(300_000, 5);
    let form = signed_form(&policy, "uploads/${filename}");
    let (status, body) = post_form(&ep, "bkt", &form, data.clone()).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(
        get_bytes(&node.client(), "bkt", "uploads/photo.jpg").await,
        data
    );
    // A key outside the policy, a file over its range, a tampered signature, an extra field.
    let (status, body) =
        post_form(&ep, "bkt", &signed_form(&policy, "admin/x"), data.clone()).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = post_form(&ep, "bkt", &form, pattern(1_000_001, 6)).await;
    assert_eq!(
        (status, tags(&body, "Code")),
        (400, vec!["EntityTooLarge".to_string()]),
        "{body}"
    );
    let mut tampered = form.clone();
    tampered[5].1 = "0".repeat(64);
    assert_eq!(post_form(&ep, "bkt", &tampered, data.clone()).await.0, 403);
    let mut extra = form.clone();
    extra.push(("acl".into(), "public-read".into()));
    let (status, body) = post_form(&ep, "bkt", &extra, data).await;
    assert!(
        status == 403 && body.contains("Extra input fields"),
        "{status} {body}"
    );
    // Refused before its file is read, a form still gets its answer when the rest of the file
    // arrives after the refusal, and the connection stays usable: the node reads and discards
    // the rest of a small body. (Closing a socket with unread bytes resets the connection, and
    // a client still writing its body then sees "broken pipe" instead of the answer.)
    let boundary = "rustfs-test-boundary";
    let mut head = Vec::new();
    for (k, v) in &form {
        head.extend_from_slice(
            format!("--{boundary}\r\ncontent-disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    head.extend_from_slice(
        format!("--{boundary}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n\r\n")
            .as_bytes(),
    );
    let (first, rest) = (pattern(256 << 10, 7), pattern(1 << 20, 8));
    let tail = format!("\r\n--{boundary}--\r\n");
    let length = head.len() + first.len() + rest.len() + tail.len();
    let addr = ep.trim_start_matches("http://");
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST /other-bucket HTTP/1.1\r\nhost: {addr}\r\ncontent-type: multipart/form-data; boundary={boundary}\r\ncontent-length: {length}\r\n\r\n"
    );
    conn.write_all(request.as_bytes()).await.unwrap();
    conn.write_all(&head).await.unwrap();
    conn.write_all(&first).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    conn.write_all(&rest).await.unwrap();
    conn.write_all(tail.as_bytes()).await.unwrap();
    let answer = read_until(&mut conn, "</Error>").await;
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    let probe = format!("GET /minio/health/live HTTP/1.1\r\nhost: {addr}\r\n\r\n");
    let second = match conn.write_all(probe.as_bytes()).await {
        Ok(()) => read_until(&mut conn, "\r\n\r\n").await,
        Err(e) => e.to_string(),
    };
    assert!(
        second.starts_with("HTTP/1.1 200"),
        "the connection serves the next request: {second}"
    );
}

/// What `conn` sends until `end` (or it closes, fails or 10 s pass), as text.
async fn read_until(conn: &mut tokio::net::TcpStream, end: &str) -> String {
    let mut got = Vec::new();
    let read = async {
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&got).contains(end) {
            match conn.read(&mut buf).await {
                Ok(n) if n > 0 => got.extend_from_slice(&buf[..n]),
                _ => break,
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(10), read).await;
    String::from_utf8_lossy(&got).into_owned()
}

/// A form signed by an IAM user uploads only where the user's policies allow a PUT.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_forms_of_iam_users_follow_their_policies() {
    use rustfs_tests::iam::{add_user, admin_ok};
    let node = TestNode::start(4);
    node.client()
        .create_bucket()
        .bucket("bkt")
        .send()
        .await
        .unwrap();
    let ep = node.server.endpoint.clone();
    admin_ok(
        &ep,
        "PUT",
        "policies/uploader",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject"],"Resource":["arn:aws:s3:::bkt/uploads/*"]}]}"#,
    )
    .await;
    add_user(&ep, "uploader", &["uploader"]).await;
    add_user(&ep, "reader", &["readonly"]).await;
    let exp = (time::OffsetDateTime::now_utc() + time::Duration::minutes(10))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let policy = serde_json::json!({
        "expiration": exp,
        "conditions": [{"bucket": "bkt"}, ["starts-with", "$key", ""]]
    });
    let uploader = ("uploader", "uploader-secret-key");
    let form = signed_form_as(uploader, &policy, "uploads/${filename}");
    let (status, body) = post_form(&ep, "bkt", &form, b"form data".to_vec()).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(
        get_bytes(&node.client(), "bkt", "uploads/photo.jpg").await,
        b"form data"
    );
    // Outside what its policy allows; a user without s3:PutObject; a wrong secret; no such key.
    for (signer, key, code) in [
        (uploader, "elsewhere/x", "AccessDenied"),
        (("reader", "reader-secret-key"), "uploads/x", "AccessDenied"),
        (
            ("uploader", "not-the-secret-key"),
            "uploads/y",
            "AccessDenied",
        ),
        (
            ("nobody", "nobody-secret-key"),
            "uploads/z",
            "InvalidAccessKeyId",
        ),
    ] {
        let form = signed_form_as(signer, &policy, key);
        let (status, body) = post_form(&ep, "bkt", &form, b"x".to_vec()).await;
        assert_eq!(
            (status, tags(&body, "Code")),
            (403, vec![code.to_string()]),
            "{signer:?} {key}"
        );
    }
    let listed = node
        .client()
        .list_objects_v2()
        .bucket("bkt")
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["uploads/photo.jpg"], "refused forms stored nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signature_v2_and_long_presigned_urls_are_refused() {
    let node = TestNode::start(4);
    node.client()
        .create_bucket()
        .bucket("bkt")
        .send()
        .await
        .unwrap();
    put(&node, "bkt", "k", b"hello").await;
    let ep = &node.server.endpoint;
    let week = Duration::from_secs(7 * 24 * 3600);
    let ok = raw::presigned_url("GET", &format!("{ep}/bkt/k"), week);
    assert_eq!(
        reqwest::get(&ok).await.unwrap().status(),
        200,
        "7 days is allowed"
    );
    let long = raw::presigned_url(
        "GET",
        &format!("{ep}/bkt/k"),
        week + Duration::from_secs(86_400),
    );
    let r = reqwest::get(&long).await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        tags(&r.text().await.unwrap(), "Code"),
        ["AuthorizationQueryParametersError"]
    );
    let date = httpdate_now(0);
    let r = reqwest::Client::new()
        .get(format!("{ep}/bkt/k"))
        .header("date", &date)
        .header(
            "authorization",
            format!("AWS {ACCESS_KEY}:{}", sigv2("GET", &date, "/bkt/k")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(tags(&r.text().await.unwrap(), "Code"), ["InvalidRequest"]);
    let r = reqwest::get(format!(
        "{ep}/bkt/k?AWSAccessKeyId={ACCESS_KEY}&Expires=4102444800&Signature=x"
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signature_v2_when_allowed_needs_a_fresh_date() {
    let node = TestNode::start_with(4, &[("RUSTFS_ALLOW_SIGV2", "true")]);
    node.client()
        .create_bucket()
        .bucket("bkt")
        .send()
        .await
        .unwrap();
    put(&node, "bkt", "k", b"hello").await;
    let ep = &node.server.endpoint;
    let get = |date: String| async move {
        reqwest::Client::new()
            .get(format!("{ep}/bkt/k"))
            .header("date", &date)
            .header(
                "authorization",
                format!("AWS {ACCESS_KEY}:{}", sigv2("GET", &date, "/bkt/k")),
            )
            .send()
            .await
            .unwrap()
    };
    let r = get(httpdate_now(0)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "hello");
    let r = get(httpdate_now(-3600)).await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        tags(&r.text().await.unwrap(), "Code"),
        ["RequestTimeTooSkewed"]
    );
}

fn httpdate_now(offset_secs: i64) -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::seconds(offset_secs);
    t.format(&time::format_description::well_known::Rfc2822)
        .unwrap()
        .replace("+0000", "GMT")
}

/// A Signature Version 2 header signature (HMAC-SHA1 of the string to sign).
fn sigv2(method: &str, date: &str, resource: &str) -> String {
    use base64::Engine as _;
    use hmac::Mac;
    let mut m = hmac::Hmac::<sha1::Sha1>::new_from_slice(SECRET_KEY.as_bytes()).unwrap();
    m.update(format!("{method}\n\n\n{date}\n{resource}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(m.finalize().into_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_header_connections_are_closed_while_clients_are_served() {
    let node = TestNode::start_with(
        4,
        &[
            ("RUSTFS_HEADER_TIMEOUT_SECS", "2"),
            ("RUSTFS_IDLE_TIMEOUT_SECS", "3"),
        ],
    );
    let addr = node
        .server
        .endpoint
        .trim_start_matches("http://")
        .to_string();
    let mut slow = Vec::new();
    for _ in 0..500 {
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        s.write_all(b"GET /bkt/k HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .unwrap();
        slow.push(s);
    }
    node.client()
        .create_bucket()
        .bucket("bkt")
        .send()
        .await
        .unwrap();
    // A stalled upload: a signed PUT's headers and 3 of its 1000 bytes, then silence.
    let url = format!("{}/bkt/stalled", node.server.endpoint);
    let signed = raw::signed_headers("PUT", &url, &[("content-length", "1000".to_string())], None);
    let mut head = format!("PUT /bkt/stalled HTTP/1.1\r\nhost: {addr}\r\n");
    for (k, v) in &signed {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\nabc");
    let mut stalled = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stalled.write_all(head.as_bytes()).await.unwrap();
    let opened = std::time::Instant::now();
    put(&node, "bkt", "k", b"served").await;
    let got = node
        .client()
        .get_object()
        .bucket("bkt")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        b"served"
    );
    slow.push(stalled);
    let mut closed = 0;
    for mut s in slow {
        let mut buf = [0u8; 512];
        // Closed means EOF (or a reset), possibly after an error response, within the bound.
        let r = tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        })
        .await;
        if r.is_ok() {
            closed += 1;
        }
    }
    assert_eq!(
        closed, 501,
        "every slow connection was closed by the timeouts"
    );
    assert!(
        opened.elapsed() >= Duration::from_secs(3),
        "the stalled upload lasted the idle timeout"
    );
    assert!(node
        .client()
        .head_object()
        .bucket("bkt")
        .key("stalled")
        .send()
        .await
        .is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_aws_chunked_chunks_are_refused_without_buffering() {
    let node = TestNode::start(4);
    node.client()
        .create_bucket()
        .bucket("bkt")
        .send()
        .await
        .unwrap();
    let url = format!("{}/bkt/chunky", node.server.endpoint);
    let headers = [
        ("content-encoding", "aws-chunked".to_string()),
        ("x-amz-decoded-content-length", (1u64 << 30).to_string()),
        ("x-amz-trailer", "x-amz-checksum-crc32".to_string()),
        ("content-length", ((1u64 << 30) + 100).to_string()),
    ];
    let signed = raw::signed_headers_with_payload_hash(
        "PUT",
        &url,
        &headers,
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    );
    let addr = node
        .server
        .endpoint
        .trim_start_matches("http://")
        .to_string();
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let mut head = "PUT /bkt/chunky HTTP/1.1\r\n".to_string();
    for (k, v) in &signed {
        if k != "host" {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    head.push_str(&format!("host: {addr}\r\n\r\n40000000\r\n"));
    s.write_all(head.as_bytes()).await.unwrap();
    let (mut rd, mut wr) = s.into_split();
    let writer = tokio::spawn(async move {
        let chunk = vec![7u8; 256 * 1024];
        for _ in 0..4096 {
            if wr.write_all(&chunk).await.is_err() {
                break;
            }
        }
    });
    let mut buf = vec![0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(60), rd.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    writer.abort();
    let line = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(
        line.starts_with("HTTP/1.1 4"),
        "a 1 GiB chunk was not refused: {line:?}"
    );
    let peak_mib = node.server.peak_rss_kib() / 1024;
    assert!(peak_mib < 128, "node peaked at {peak_mib} MiB");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drives_hold_only_owner_readable_files() {
    use std::os::unix::fs::PermissionsExt;
    let node = TestNode::start(4);
    node.client()
        .create_bucket()
        .bucket("bkt")
        .send()
        .await
        .unwrap();
    put(&node, "bkt", "small/k", b"inline").await;
    put(&node, "bkt", "large/k", &pattern(3 << 20, 1)).await;
    for d in 1..=4 {
        let mut stack = vec![node.drive(d)];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).unwrap().flatten() {
                let m = e.metadata().unwrap();
                let mode = m.permissions().mode() & 0o777;
                if m.is_dir() {
                    assert_eq!(mode, 0o700, "{}", e.path().display());
                    stack.push(e.path());
                } else {
                    assert_eq!(mode, 0o600, "{}", e.path().display());
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_started_as_root_serves_as_its_run_as_user() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let drives = dir.path().join("drives");
    std::fs::create_dir(&drives).unwrap();
    let arg = format!("{}/d{{1...4}}", drives.display());
    let log = dir.path().join("server.log");
    let root = std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false);
    if !root {
        let err = rustfs_tests::Server::start_failing(&[arg], &[("RUSTFS_RUN_AS", "root")]);
        assert!(err.contains("needs the node to start as root"), "{err}");
        return;
    }
    // The drives' parent belongs to the service user, as the provisioner leaves it.
    let chown = std::process::Command::new("chown")
        .arg("nobody")
        .arg(&drives)
        .status()
        .unwrap();
    assert!(chown.success());
    let server = rustfs_tests::Server::start(&[arg], &[("RUSTFS_RUN_AS", "nobody")], &log);
    let nobody = std::fs::metadata(&drives).unwrap().uid();
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid())).unwrap();
    let uids: Vec<u32> = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .unwrap()
        .split_whitespace()
        .map(|u| u.parse().unwrap())
        .collect();
    assert_eq!(uids, vec![nobody; 4], "real, effective, saved and fs uid");
    let c = server.client();
    c.create_bucket().bucket("bkt").send().await.unwrap();
    c.put_object()
        .bucket("bkt")
        .key("k")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap();
    for d in 1..=4 {
        let meta = std::fs::metadata(drives.join(format!("d{d}/bkt/k/rustfs.meta"))).unwrap();
        assert_eq!((meta.uid(), meta.mode() & 0o777), (nobody, 0o600));
    }
    assert!(server.log().contains("dropped root privileges"));
}
