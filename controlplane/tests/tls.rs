//! HTTPS with a certificate from a cluster CA (made with rcgen, as the provisioner makes it),
//! through a real HTTPS client (reqwest + rustls) on a real SQLite file: a client trusting the
//! CA is served; plain HTTP to the HTTPS port, a client with the built-in web roots and a
//! client trusting another CA all fail; a connection that never finishes its handshake is
//! closed by the deadline; the server keeps serving through all of it.

mod support;

use rustfs_controlplane::config::{Config, ServeArgs};
use std::time::Duration;
use support::{pki::Ca, raw};

const BOUND: Duration = Duration::from_secs(20);

/// An error and its sources, for matching on the reason.
fn chain(e: &reqwest::Error) -> String {
    let mut out = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        out.push_str(": ");
        out.push_str(&s.to_string());
        src = s.source();
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_https_only_to_clients_that_trust_the_cluster_ca() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("cluster CA");
    let (cert, key) = ca.server_files(dir.path());
    let cfg = Config::resolve(ServeArgs {
        db: Some(dir.path().join("cp.db")),
        tls_cert: Some(cert),
        tls_key: Some(key),
        header_read_timeout_millis: Some(500),
        ..Default::default()
    })
    .unwrap();
    let good = ca.client();
    let cp = support::start_with(cfg, good.clone()).await;
    assert!(cp.base.starts_with("https://127.0.0.1:"), "{}", cp.base);

    // an authenticated call over TLS
    let r = good
        .get(format!("{}/v1/clusters", cp.base))
        .bearer_auth(&cp.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // and the token is still required over TLS
    let r = good
        .get(format!("{}/v1/clusters", cp.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // plain HTTP to the HTTPS port gets no HTTP answer
    let plain = reqwest::Client::builder()
        .timeout(BOUND)
        .build()
        .unwrap()
        .get(format!("http://{}/live", cp.addr))
        .send()
        .await;
    assert!(plain.is_err(), "plain HTTP was answered: {plain:?}");
    let mut s = raw::connect(cp.addr).await;
    raw::send(&mut s, b"GET /live HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(BOUND, async {
        use tokio::io::AsyncReadExt;
        let _ = s.read_to_end(&mut answer).await;
    })
    .await;
    assert!(read.is_ok(), "the plain-HTTP connection was not closed");
    assert!(
        !answer.starts_with(b"HTTP/"),
        "{}",
        String::from_utf8_lossy(&answer)
    );

    // a client with the built-in web roots does not trust the cluster CA
    let web_roots = reqwest::Client::builder()
        .use_rustls_tls()
        .timeout(BOUND)
        .build()
        .unwrap();
    let e = web_roots
        .get(format!("{}/live", cp.base))
        .send()
        .await
        .unwrap_err();
    assert!(chain(&e).contains("UnknownIssuer"), "{}", chain(&e));
    // nor does one that trusts another CA, even with the right token
    let e = Ca::new("another CA")
        .client()
        .get(format!("{}/v1/clusters", cp.base))
        .bearer_auth(&cp.token)
        .send()
        .await
        .unwrap_err();
    assert!(chain(&e).contains("UnknownIssuer"), "{}", chain(&e));

    // a connection that never starts its handshake is closed by the deadline
    let mut silent = raw::connect(cp.addr).await;
    assert!(
        raw::closed_within(&mut silent, BOUND).await,
        "a silent connection outlived the handshake deadline"
    );

    // and the server still serves the client that trusts the CA
    let r = good.get(format!("{}/live", cp.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    cp.stop().await;
}
