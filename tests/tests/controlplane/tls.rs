//! A real 4-node TLS cluster (node certificates from a cluster CA made with rcgen, as
//! `tests/tests/tls.rs` makes them) registered twice: once with its CA, where the control plane
//! must see every node up and a killed node down within 10 s, and once with a CA that did not
//! sign the nodes, where every poll is a TLS error on its node, no node is ever up, and the
//! control plane keeps serving.

use super::harness::{has_event, host_specs, node_state, ControlPlane};
use rustfs_tests::cluster::{allocate_addresses, CLUSTER_ENV};
use rustfs_tests::pki::{write, Ca};
use rustfs_tests::{Server, ACCESS_KEY, SECRET_KEY};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Four `rustfs server` processes over https, one drive each (EC 2+2).
struct TlsCluster {
    // declared first: the nodes are killed before their directory goes
    nodes: Vec<Server>,
    addresses: Vec<String>,
    dir: tempfile::TempDir,
}

impl TlsCluster {
    fn start(ca: &Ca) -> TlsCluster {
        let dir = tempfile::Builder::new()
            .prefix("rustfs-tls-cp-")
            .tempdir()
            .unwrap();
        let ca_path = write(&dir.path().join("ca.crt"), &ca.cert_pem);
        let addresses = allocate_addresses(4);
        let args: Vec<String> = addresses
            .iter()
            .enumerate()
            .map(|(n, a)| format!("https://{a}{}/n{}/d1", dir.path().display(), n + 1))
            .collect();
        let mut nodes = Vec::new();
        for (i, a) in addresses.iter().enumerate() {
            let (cert, key) = ca.leaf(a.split(':').next().unwrap());
            let cert_path = write(&dir.path().join(format!("node{i}.crt")), &cert);
            let key_path = write(&dir.path().join(format!("node{i}.key")), &key);
            let mut env: Vec<(&str, &str)> = CLUSTER_ENV.to_vec();
            env.extend([
                ("RUSTFS_TLS_CERT", cert_path.as_str()),
                ("RUSTFS_TLS_KEY", key_path.as_str()),
                ("RUSTFS_TLS_CA", ca_path.as_str()),
            ]);
            let mut s = Server::new(a, &args, &env, &dir.path().join(format!("node{i}.log")));
            s.spawn_process().unwrap_or_else(|e| panic!("{e}"));
            assert!(s.endpoint.starts_with("https://"), "{}", s.endpoint);
            nodes.push(s);
        }
        TlsCluster {
            nodes,
            addresses,
            dir,
        }
    }

    /// Waits (bounded) until every node serves S3, asking over https with only `ca` trusted.
    async fn wait_ready(&self, ca: &Ca) {
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(ca.cert_pem.as_bytes()).unwrap())
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        for (i, s) in self.nodes.iter().enumerate() {
            let deadline = Instant::now() + Duration::from_secs(90);
            loop {
                let r = client
                    .get(format!("{}/rustfs/health/ready", s.endpoint))
                    .send()
                    .await;
                if matches!(&r, Ok(r) if r.status() == 200) {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "node {i} not ready over TLS: {r:?}\n{}",
                    s.log()
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }

    /// The registration body, trusting `ca_pem`.
    fn registration(&self, ca_pem: &str) -> Value {
        let hosts = host_specs(&self.addresses, |i| {
            self.dir
                .path()
                .join(format!("n{}/d1", i + 1))
                .display()
                .to_string()
        });
        json!({
            "site": "local",
            "scheme": "https",
            "ca_pem": ca_pem,
            "credentials": {"access_key": ACCESS_KEY, "secret_key": SECRET_KEY},
            "pools": [{"hosts": hosts}],
        })
    }
}

fn nodes(h: &Value) -> &Vec<Value> {
    h["nodes"].as_array().expect("nodes")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polls_a_tls_cluster_with_its_ca_and_only_errs_with_a_wrong_one() {
    let cluster_ca = Ca::new("control-plane test cluster CA");
    let wrong_ca = Ca::new("a CA that signed none of the nodes");
    let mut cluster = TlsCluster::start(&cluster_ca);
    cluster.wait_ready(&cluster_ca).await;
    let cp_dir = tempfile::tempdir().expect("tempdir");
    let cp = ControlPlane::start(cp_dir.path());

    // registered with its CA, twice: the second time changes nothing
    let body = cluster.registration(&cluster_ca.cert_pem);
    let (s, r) = cp
        .call(reqwest::Method::PUT, "/v1/clusters/tls", Some(body.clone()))
        .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["cluster"]["ca_pem"], cluster_ca.cert_pem.as_str());
    let (s, r) = cp
        .call(reqwest::Method::PUT, "/v1/clusters/tls", Some(body))
        .await;
    assert_eq!((s, &r["changed"]), (200, &json!(false)), "{r}");
    // the same nodes registered with a CA that did not sign them
    let (s, r) = cp
        .call(
            reqwest::Method::PUT,
            "/v1/clusters/wrong-ca",
            Some(cluster.registration(&wrong_ca.cert_pem)),
        )
        .await;
    assert_eq!(s, 201, "{r}");

    // with its CA: every node up, sets known from the signed admin info over https
    let h = cp
        .wait_for(
            "/v1/clusters/tls/health",
            Duration::from_secs(30),
            "TLS cluster healthy",
            |h| h["status"] == "healthy" && h["nodes_up"] == 4,
        )
        .await;
    assert_eq!(h["sets"][0]["drives_online"], 4, "{h}");
    assert!(nodes(&h).iter().all(|n| n["version"].is_string()), "{h}");

    // with the wrong CA: every node down with a TLS error, never up
    let h = cp
        .wait_for(
            "/v1/clusters/wrong-ca/health",
            Duration::from_secs(30),
            "wrong-CA cluster judged",
            |h| h["nodes_down"] == 4,
        )
        .await;
    assert_eq!(
        (h["nodes_up"].as_u64(), h["status"].as_str()),
        (Some(0), Some("down")),
        "{h}"
    );
    for n in nodes(&h) {
        let err = n["last_error"].as_str().unwrap_or_default();
        assert!(err.contains("does not verify"), "{n}");
        assert!(n["last_seen"].is_null(), "{n}");
    }
    let ev = cp.get("/v1/events?cluster=wrong-ca&limit=1000").await;
    assert!(has_event(&ev, "node_down", "n1", None), "{ev}");
    assert!(
        !ev["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "node_up"),
        "{ev}"
    );
    let m = cp.metrics().await;
    let line = m
        .lines()
        .find(|l| {
            l.starts_with(
                r#"rustfs_controlplane_poll_errors_total{cluster="wrong-ca",stage="tls"}"#,
            )
        })
        .unwrap_or_else(|| panic!("no TLS poll errors counted:\n{m}"));
    let num: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(num >= 4.0, "{line}");
    for n in 1..=4 {
        assert!(
            m.contains(&format!(
                "rustfs_controlplane_node_reachable{{cluster=\"wrong-ca\",node=\"n{n}\"}} 0"
            )),
            "{m}"
        );
        assert!(
            m.contains(&format!(
                "rustfs_controlplane_node_reachable{{cluster=\"tls\",node=\"n{n}\"}} 1"
            )),
            "{m}"
        );
    }
    assert!(
        !m.contains(r#"rustfs_controlplane_poll_errors_total{cluster="tls",stage="tls"}"#),
        "the right CA must verify:\n{m}"
    );

    // kill node 4: node_down and the summary show it within 10 s
    cluster.nodes[3].kill();
    let h = cp
        .wait_for(
            "/v1/clusters/tls/health",
            Duration::from_secs(10),
            "TLS node n4 down",
            |h| node_state(h, "n4") == "down" && h["nodes_down"] == 1,
        )
        .await;
    assert_eq!(h["status"], "degraded", "{h}");
    let ev = cp
        .get("/v1/events?cluster=tls&node=n4&kind=node_down")
        .await;
    assert!(has_event(&ev, "node_down", "n4", None), "{ev}");
    assert!(cp
        .metrics()
        .await
        .contains(r#"rustfs_controlplane_node_reachable{cluster="tls",node="n4"} 0"#));
    // and it still serves both clusters
    let list = cp.get("/v1/clusters").await;
    assert_eq!(list["clusters"].as_array().map(Vec::len), Some(2), "{list}");
}
