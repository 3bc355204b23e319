//! A 4-node cluster over TLS with certificates from a cluster CA: S3 over https through every
//! node (SigV4-signed, the client trusting only the CA), and inter-node RPC refused without a
//! client certificate, with one from another CA, and over plain http.

use rustfs_tests::cluster::{allocate_addresses, CLUSTER_ENV};
use rustfs_tests::pki::{write, Ca, LEAF_NOT_AFTER};
use rustfs_tests::{raw, Server};
use std::time::{Duration, Instant};

fn https_client(ca_pem: &str, identity: Option<(&str, &str)>) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap())
        .timeout(Duration::from_secs(10));
    if let Some((cert, key)) = identity {
        b = b.identity(reqwest::Identity::from_pem(format!("{cert}{key}").as_bytes()).unwrap());
    }
    b.build().unwrap()
}

/// A signed S3 request over https (aws-sigv4 signs, the client trusts only the CA).
async fn s3(client: &reqwest::Client, method: &str, url: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
    let mut req = client.request(method.parse().unwrap(), url);
    for (k, v) in raw::signed_headers(
        method,
        &url.replace("https://", "http://"),
        &[],
        Some(&body),
    ) {
        req = req.header(k, v);
    }
    let r = req
        .body(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: {e:?}"));
    (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_cluster_serves_s3_and_refuses_foreign_rpc() {
    let dir = tempfile::tempdir().unwrap();
    let cluster_ca = Ca::new("test cluster CA");
    let ca_path = write(&dir.path().join("ca.crt"), &cluster_ca.cert_pem);
    let addrs = allocate_addresses(4);
    let mut args = Vec::new();
    for d in 1..=2 {
        for (n, a) in addrs.iter().enumerate() {
            args.push(format!(
                "https://{a}{}/n{}/d{d}",
                dir.path().display(),
                n + 1
            ));
        }
    }
    let mut nodes = Vec::new();
    let mut node_certs = Vec::new();
    for (i, a) in addrs.iter().enumerate() {
        let ip = a.split(':').next().unwrap();
        let (cert, key) = cluster_ca.leaf(ip);
        let cert_path = write(&dir.path().join(format!("node{i}.crt")), &cert);
        let key_path = write(&dir.path().join(format!("node{i}.key")), &key);
        node_certs.push((cert, key));
        let mut env: Vec<(&str, &str)> = CLUSTER_ENV.to_vec();
        env.extend([
            ("RUSTFS_TLS_CERT", cert_path.as_str()),
            ("RUSTFS_TLS_KEY", key_path.as_str()),
            ("RUSTFS_TLS_CA", ca_path.as_str()),
            ("RUSTFS_METRICS_PUBLIC", "true"),
        ]);
        let mut s = Server::new(a, &args, &env, &dir.path().join(format!("node{i}.log")));
        s.spawn_process().unwrap();
        assert!(s.endpoint.starts_with("https://"), "{}", s.endpoint);
        nodes.push(s);
    }
    let client = https_client(&cluster_ca.cert_pem, None);
    for (i, s) in nodes.iter().enumerate() {
        let t = Instant::now();
        loop {
            let r = client
                .get(format!("{}/rustfs/health/cluster", s.endpoint))
                .send()
                .await;
            if matches!(&r, Ok(r) if r.status() == 200) {
                break;
            }
            assert!(
                t.elapsed() < Duration::from_secs(90),
                "node {i} not healthy over TLS: {r:?}\n{}",
                s.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    // S3 through every node.
    let (st, body) = s3(
        &client,
        "PUT",
        &format!("{}/tls-bucket", nodes[0].endpoint),
        Vec::new(),
    )
    .await;
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&body));
    let data = rustfs_tests::pattern(3 * 1024 * 1024 + 5, 9);
    for (i, s) in nodes.iter().enumerate() {
        let url = format!("{}/tls-bucket/from-{i}", s.endpoint);
        let (st, _) = s3(&client, "PUT", &url, data.clone()).await;
        assert_eq!(st, 200);
        for other in &nodes {
            let (st, got) = s3(
                &client,
                "GET",
                &format!("{}/tls-bucket/from-{i}", other.endpoint),
                Vec::new(),
            )
            .await;
            assert_eq!((st, got.len()), (200, data.len()));
            assert!(got == data);
        }
    }
    // RPC: no client certificate → 403; a certificate from another CA → handshake refused;
    // the cluster's certificate but no token → 401 (both checks apply); plain http → no answer.
    let rpc = format!("{}/rustfs/rpc/v2/info", nodes[1].endpoint);
    let r = client.get(&rpc).send().await.unwrap();
    assert_eq!(r.status(), 403, "{:?}", r.text().await);
    let foreign = Ca::new("someone else's CA");
    let (fc, fk) = foreign.leaf(addrs[0].split(':').next().unwrap());
    let r = https_client(&cluster_ca.cert_pem, Some((&fc, &fk)))
        .get(&rpc)
        .send()
        .await;
    assert!(
        r.is_err(),
        "a certificate from another CA was accepted: {r:?}"
    );
    let (c0, k0) = &node_certs[0];
    let r = https_client(&cluster_ca.cert_pem, Some((c0, k0)))
        .get(&rpc)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let plain = rpc.replace("https://", "http://");
    let r = reqwest::Client::new()
        .get(&plain)
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    assert!(
        !matches!(r, Ok(ref r) if r.status().is_success()),
        "plain http answered: {r:?}"
    );
    assert!(
        nodes[1].log().contains("TLS handshake refused"),
        "refusals are logged"
    );
    // The certificate-expiry gauge behind the CertificateExpiringSoon alert.
    let text = client
        .get(format!("{}/rustfs/metrics", nodes[0].endpoint))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(&format!(
            "rustfs_tls_certificate_expiry_timestamp_seconds{{certificate=\"node\"}} {LEAF_NOT_AFTER}\n"
        )),
        "the node certificate's notAfter is exported:\n{}",
        text.lines()
            .filter(|l| l.contains("tls"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(text.contains("rustfs_tls_certificate_expiry_timestamp_seconds{certificate=\"ca\"} "));
}

#[test]
fn tls_settings_are_checked_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let cluster_ca = Ca::new("check CA");
    let (cert, key) = cluster_ca.leaf("127.0.0.1");
    let cert_path = write(&dir.path().join("n.crt"), &cert);
    let key_path = write(&dir.path().join("n.key"), &key);
    let other_key = write(
        &dir.path().join("other.key"),
        &rcgen::KeyPair::generate().unwrap().serialize_pem(),
    );
    let drives = format!("{}/d{{1...4}}", dir.path().display());
    let err = Server::start_failing(
        std::slice::from_ref(&drives),
        &[
            ("RUSTFS_TLS_CERT", &cert_path),
            ("RUSTFS_TLS_KEY", &other_key),
        ],
    );
    assert!(err.contains("do not match"), "{err}");
    let err = Server::start_failing(
        std::slice::from_ref(&drives),
        &[
            ("RUSTFS_TLS_CERT", &key_path),
            ("RUSTFS_TLS_KEY", &key_path),
        ],
    );
    assert!(
        err.contains("no PEM certificate") || err.contains("not a PEM certificate"),
        "{err}"
    );
    let addrs = allocate_addresses(4);
    let https: Vec<String> = addrs
        .iter()
        .map(|a| format!("https://{a}{}/h/d1", dir.path().display()))
        .collect();
    let err = Server::start_failing_at(&addrs[0], &https, &[]);
    assert!(err.contains("--tls-cert"), "{err}");
}
