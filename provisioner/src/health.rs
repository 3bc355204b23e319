//! Cluster health as the nodes report it: `GET /rustfs/health/cluster` on every node (200 when
//! every erasure set has a write quorum, 503 otherwise), asked from the provisioner's machine so
//! it also proves the S3 port is reachable from outside the host.

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

/// An HTTP client for health probes.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(PROBE_TIMEOUT)
        .connect_timeout(PROBE_TIMEOUT)
        .no_proxy()
        .build()
        .unwrap_or_default()
}

/// Asks one node.
pub async fn probe(client: &reqwest::Client, inv: &Inventory, host: &Host) -> NodeHealth {
    if inv.tls.enabled {
        return NodeHealth::Unreachable(
            "TLS health checks need nodes serving TLS, which this build does not do yet".into(),
        );
    }
    let url = format!("{}/rustfs/health/cluster", endpoint(inv, host));
    match client.get(&url).send().await {
        Ok(r) if r.status().is_success() => NodeHealth::Healthy,
        Ok(r) => NodeHealth::Unhealthy(r.status().as_u16()),
        Err(e) => NodeHealth::Unreachable(error_chain(&e)),
    }
}

/// An error with its sources, short: `connection refused` rather than reqwest's wrapper text.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut last = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        last = s.to_string();
        src = s.source();
    }
    last
}

/// Asks every host in `hosts`, all at once.
pub async fn probe_all(inv: &Inventory, hosts: &[&Host]) -> Vec<NodeHealth> {
    let client = client();
    futures::future::join_all(hosts.iter().map(|h| probe(&client, inv, h))).await
}

/// Waits until every host reports healthy, polling for at most `timeout`. On timeout, returns
/// each host that was not healthy with its last answer.
pub async fn wait_healthy(
    inv: &Inventory,
    hosts: &[&Host],
    timeout: Duration,
) -> Result<Duration, Vec<(String, NodeHealth)>> {
    let started = Instant::now();
    let client = client();
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
