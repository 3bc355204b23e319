//! Cluster health as the nodes report it: `GET /rustfs/health/cluster` on every node (200 when
//! every erasure set has a write quorum, 503 otherwise), asked from the provisioner's machine so
//! it also proves the S3 port is reachable from outside the host. With TLS on, the probes trust
//! the cluster CA and nothing else.

use std::time::{Duration, Instant};

use crate::inventory::{Host, Inventory};

/// How long one health request may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// Pause between rounds while waiting.
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// The S3 endpoint of `host`: `http(s)://ADDRESS:PORT` (IPv6 addresses bracketed).
pub fn endpoint(inv: &Inventory, host: &Host) -> String {
    let scheme = if inv.tls.enabled { "https" } else { "http" };
    let addr = if host.address.contains(':') {
        format!("[{}]", host.address)
    } else {
        host.address.clone()
    };
    format!("{scheme}://{addr}:{}", inv.ports.s3)
}

/// One node's answer to the cluster health check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeHealth {
    /// 200: every set has its write quorum.
    Healthy,
    /// Any other status (503: some set lacks quorum, or the cluster has not formed yet).
    Unhealthy(u16),
    /// No HTTP answer at all.
    Unreachable(String),
}

impl std::fmt::Display for NodeHealth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NodeHealth::Healthy => f.write_str("healthy"),
            NodeHealth::Unhealthy(503) => f.write_str("unhealthy (503: no write quorum yet)"),
            NodeHealth::Unhealthy(s) => write!(f, "unhealthy (HTTP {s})"),
            NodeHealth::Unreachable(e) => write!(f, "not answering ({e})"),
        }
    }
}

/// An HTTP client for health probes. With `inv.tls` on it speaks https and trusts only
/// `ca_pem`, the cluster CA ([`crate::pki::ca_pem`]); without the CA it cannot check anything.
pub fn client(inv: &Inventory, ca_pem: Option<&str>) -> Result<reqwest::Client, String> {
    client_with_timeout(inv, ca_pem, PROBE_TIMEOUT)
}

/// [`client`] whose requests may take up to `timeout` (admin calls that write IAM).
pub fn client_with_timeout(
    inv: &Inventory,
    ca_pem: Option<&str>,
    timeout: Duration,
) -> Result<reqwest::Client, String> {
    let mut b = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(PROBE_TIMEOUT)
        .no_proxy();
    if inv.tls.enabled {
        let Some(pem) = ca_pem else {
            return Err(
                "TLS is on but the state directory holds no cluster CA — run `rustfs-provision ca` or `apply`"
                    .into(),
            );
        };
        let ca = reqwest::Certificate::from_pem(pem.as_bytes())
            .map_err(|e| format!("the cluster CA is not a PEM certificate: {e}"))?;
        b = b
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(ca);
    }
    b.build()
        .map_err(|e| format!("cannot build the health client: {e}"))
}

/// Asks one node.
pub async fn probe(client: &reqwest::Client, inv: &Inventory, host: &Host) -> NodeHealth {
    let url = format!("{}/rustfs/health/cluster", endpoint(inv, host));
    match client.get(&url).send().await {
        Ok(r) if r.status().is_success() => NodeHealth::Healthy,
        Ok(r) => NodeHealth::Unhealthy(r.status().as_u16()),
        Err(e) => NodeHealth::Unreachable(error_chain(&e)),
    }
}

/// An error with its sources, short: `connection refused` rather than reqwest's wrapper text.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut last = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        last = s.to_string();
        src = s.source();
    }
    last
}

/// Asks every host in `hosts`, all at once (`ca_pem` as for [`client`]).
pub async fn probe_all(inv: &Inventory, hosts: &[&Host], ca_pem: Option<&str>) -> Vec<NodeHealth> {
    match client(inv, ca_pem) {
        Ok(client) => futures::future::join_all(hosts.iter().map(|h| probe(&client, inv, h))).await,
        Err(e) => hosts
            .iter()
            .map(|_| NodeHealth::Unreachable(e.clone()))
            .collect(),
    }
}

/// Waits until every host reports healthy, polling for at most `timeout` (`ca_pem` as for
/// [`client`]). On timeout, returns each host that was not healthy with its last answer.
pub async fn wait_healthy(
    inv: &Inventory,
    hosts: &[&Host],
    ca_pem: Option<&str>,
    timeout: Duration,
) -> Result<Duration, Vec<(String, NodeHealth)>> {
    let started = Instant::now();
    let client = client(inv, ca_pem).map_err(|e| {
        hosts
            .iter()
            .map(|h| (h.name().to_string(), NodeHealth::Unreachable(e.clone())))
            .collect::<Vec<_>>()
    })?;
    loop {
        let answers = futures::future::join_all(hosts.iter().map(|h| probe(&client, inv, h))).await;
        let sick: Vec<(String, NodeHealth)> = hosts
            .iter()
            .zip(answers)
            .filter(|(_, a)| *a != NodeHealth::Healthy)
            .map(|(h, a)| (h.name().to_string(), a))
            .collect();
        if sick.is_empty() {
            return Ok(started.elapsed());
        }
        if started.elapsed() + POLL_INTERVAL > timeout {
            return Err(sick);
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}
