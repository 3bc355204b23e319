//! Registering a cluster with its CA (`ca_pem`) through real HTTP on a real SQLite file: a PEM
//! that does not parse as a CA certificate is `invalid_argument` and writes nothing; a real CA
//! (made with rcgen, like the provisioner's) registers, is shown back, and the same body twice
//! changes nothing.

mod support;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustfs_controlplane::config::{Config, ServeArgs};
use serde_json::{json, Value};

fn ca_pem(name: &str) -> String {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, name);
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.self_signed(&KeyPair::generate().unwrap()).unwrap().pem()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ca_pem_is_checked_stored_and_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config::resolve(ServeArgs {
        db: Some(dir.path().join("cp.db")),
        ..Default::default()
    })
    .unwrap();
    let cp = support::start(cfg).await;
    let (base, token) = (cp.base.clone(), cp.token.clone());
    let http = reqwest::Client::new();
    let put = |body: Value| {
        let req = http
            .put(format!("{base}/v1/clusters/tls"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body.to_string());
        async move {
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            let v: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
            (status, v)
        }
    };
    let body = |ca: &str| {
        json!({"scheme": "https", "ca_pem": ca,
               "credentials": {"access_key": "a", "secret_key": "s"},
               "pools": [{"hosts": [{"address": "127.0.0.1", "drives": ["/d1"]}]}]})
    };

    for bad in [
        "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n".to_string(),
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_string(),
        format!("-----BEGIN CERTIFICATE-----{}", "A".repeat(70_000)),
    ] {
        let (s, r) = put(body(&bad)).await;
        assert_eq!(
            (s, r["code"].as_str()),
            (400, Some("invalid_argument")),
            "{r}"
        );
        assert!(r["message"].as_str().unwrap().contains("ca_pem"), "{r}");
    }
    let (s, r) = http
        .get(format!("{base}/v1/clusters"))
        .bearer_auth(&token)
        .send()
        .await
        .map(|r| (r.status().as_u16(), r))
        .unwrap();
    assert_eq!(s, 200);
    let list: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(list["clusters"], json!([]));

    // a bundle of two CAs (e.g. while the CA is rotated)
    let bundle = format!("{}{}", ca_pem("cluster CA"), ca_pem("next cluster CA"));
    let (s, r) = put(body(&bundle)).await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["cluster"]["ca_pem"], bundle.as_str());
    let (s, r) = put(body(&bundle)).await;
    assert_eq!((s, &r["changed"]), (200, &json!(false)), "{r}");
    let (s, r) = put(body(&ca_pem("another CA"))).await;
    assert_eq!((s, &r["changed"]), (200, &json!(true)), "{r}");

    cp.stop().await;
}
