//! The control plane's own Prometheus metrics, served at `/metrics`:
//! `rustfs_controlplane_nodes{cluster,state}`, `rustfs_controlplane_node_reachable{cluster,node}`,
//! `rustfs_controlplane_poll_seconds{cluster}`, `rustfs_controlplane_poll_errors_total{cluster,stage}`,
//! `rustfs_controlplane_events_total{kind}`, `rustfs_controlplane_events_pruned_total`,
//! `rustfs_controlplane_audit_pruned_total`, `rustfs_controlplane_connections`,
//! `rustfs_controlplane_api_requests_total{route,method,status}` and
//! `rustfs_controlplane_api_request_seconds{route,method}`. The table in `dashboards/README.md`
//! lists them and is checked against [`catalog`] (`metrics_tests.rs`).

use crate::poller::NodeAnswer;
use prometheus::core::Collector;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

struct Metrics {
    registry: Registry,
    /// (name, type, labels, help) of every registered family.
    catalog: Vec<CatalogEntry>,
    nodes: IntGaugeVec,
    reachable: IntGaugeVec,
    /// The nodes each cluster has `reachable` series for, to drop the ones that went away.
    reachable_nodes: Mutex<BTreeMap<String, BTreeSet<String>>>,
    events_pruned: IntCounter,
    audit_pruned: IntCounter,
    connections: IntGauge,
    poll_seconds: HistogramVec,
    poll_errors: IntCounterVec,
    events: IntCounterVec,
    api_requests: IntCounterVec,
    api_seconds: HistogramVec,
}

const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let registry = Registry::new();
    let nodes = IntGaugeVec::new(
        Opts::new(
            "rustfs_controlplane_nodes",
            "Nodes per cluster by observed state",
        ),
        &["cluster", "state"],
    )
    .expect("metric");
    let reachable = IntGaugeVec::new(
        Opts::new(
            "rustfs_controlplane_node_reachable",
            "1 when the latest poll of the node got an answer from its health endpoint, else 0",
        ),
        &["cluster", "node"],
    )
    .expect("metric");
    let events_pruned = IntCounter::new(
        "rustfs_controlplane_events_pruned_total",
        "Events deleted for being older than the event retention",
    )
    .expect("metric");
    let audit_pruned = IntCounter::new(
        "rustfs_controlplane_audit_pruned_total",
        "Audit entries deleted for being older than the audit retention",
    )
    .expect("metric");
    let connections = IntGauge::new(
        "rustfs_controlplane_connections",
        "Client connections open now (at most max_connections)",
    )
    .expect("metric");
    let poll_seconds = HistogramVec::new(
        HistogramOpts::new(
            "rustfs_controlplane_poll_seconds",
            "Time to poll one node (health and admin info)",
        )
        .buckets(LATENCY_BUCKETS.to_vec()),
        &["cluster"],
    )
    .expect("metric");
    let poll_errors = IntCounterVec::new(
        Opts::new(
            "rustfs_controlplane_poll_errors_total",
            "Failed polls of a node by stage",
        ),
        &["cluster", "stage"],
    )
    .expect("metric");
    let events = IntCounterVec::new(
        Opts::new(
            "rustfs_controlplane_events_total",
            "Events recorded by kind",
        ),
        &["kind"],
    )
    .expect("metric");
    let api_requests = IntCounterVec::new(
        Opts::new(
            "rustfs_controlplane_api_requests_total",
            "API requests answered",
        ),
        &["route", "method", "status"],
    )
    .expect("metric");
    let api_seconds = HistogramVec::new(
        HistogramOpts::new(
            "rustfs_controlplane_api_request_seconds",
            "API request latency",
        )
        .buckets(LATENCY_BUCKETS.to_vec()),
        &["route", "method"],
    )
    .expect("metric");
    let mut catalog = Vec::new();
    for (c, kind) in [
        (Box::new(nodes.clone()) as Box<dyn Collector>, "gauge"),
        (Box::new(reachable.clone()), "gauge"),
        (Box::new(poll_seconds.clone()), "histogram"),
        (Box::new(poll_errors.clone()), "counter"),
        (Box::new(events.clone()), "counter"),
        (Box::new(events_pruned.clone()), "counter"),
        (Box::new(audit_pruned.clone()), "counter"),
        (Box::new(connections.clone()), "gauge"),
        (Box::new(api_requests.clone()), "counter"),
        (Box::new(api_seconds.clone()), "histogram"),
    ] {
        for d in c.desc() {
            catalog.push(CatalogEntry {
                name: d.fq_name.clone(),
                kind,
                labels: d.variable_labels.clone(),
                help: d.help.clone(),
            });
        }
        registry.register(c).expect("metric names are unique");
    }
    Metrics {
        registry,
        catalog,
        nodes,
        reachable,
        reachable_nodes: Mutex::default(),
        events_pruned,
        audit_pruned,
        connections,
        poll_seconds,
        poll_errors,
        events,
        api_requests,
        api_seconds,
    }
});

pub fn set_nodes(cluster: &str, up: usize, down: usize, unknown: usize) {
    let m = &METRICS.nodes;
    m.with_label_values(&[cluster, "up"]).set(up as i64);
    m.with_label_values(&[cluster, "down"]).set(down as i64);
    m.with_label_values(&[cluster, "unknown"])
        .set(unknown as i64);
}

/// Sets `rustfs_controlplane_node_reachable` for every node of `cluster` and drops the series
/// of nodes it no longer has.
pub fn set_reachable(cluster: &str, nodes: &[(&str, bool)]) {
    let mut known = METRICS
        .reachable_nodes
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let now: BTreeSet<String> = nodes.iter().map(|(n, _)| n.to_string()).collect();
    if let Some(before) = known.get(cluster) {
        for gone in before.difference(&now) {
            let _ = METRICS.reachable.remove_label_values(&[cluster, gone]);
        }
    }
    for (node, ok) in nodes {
        METRICS
            .reachable
            .with_label_values(&[cluster, node])
            .set(i64::from(*ok));
    }
    known.insert(cluster.to_string(), now);
}

/// Forgets a deleted cluster's gauges.
pub fn forget_cluster(cluster: &str) {
    for state in ["up", "down", "unknown"] {
        let _ = METRICS.nodes.remove_label_values(&[cluster, state]);
    }
    let mut known = METRICS
        .reachable_nodes
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    for node in known.remove(cluster).unwrap_or_default() {
        let _ = METRICS.reachable.remove_label_values(&[cluster, &node]);
    }
}

/// Forgets the gauges of every cluster not in `clusters` (deleted since the last round).
pub fn retain_clusters(clusters: &[&str]) {
    let known: Vec<String> = {
        let known = METRICS
            .reachable_nodes
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        known.keys().cloned().collect()
    };
    for c in known {
        if !clusters.contains(&c.as_str()) {
            forget_cluster(&c);
        }
    }
}

/// Counts one node's poll: its latency, and the stage that failed, if any (`tls`: the TLS
/// handshake; `health`: any other failure of the health request; `admin_info`).
pub fn poll_observed(cluster: &str, took: Duration, a: &NodeAnswer) {
    METRICS
        .poll_seconds
        .with_label_values(&[cluster])
        .observe(took.as_secs_f64());
    if a.live.is_err() {
        let stage = if a.tls_failed { "tls" } else { "health" };
        METRICS
            .poll_errors
            .with_label_values(&[cluster, stage])
            .inc();
    }
    if matches!(a.info, Some(Err(_))) {
        METRICS
            .poll_errors
            .with_label_values(&[cluster, "admin_info"])
            .inc();
    }
}

pub fn event_recorded(kind: &str) {
    METRICS.events.with_label_values(&[kind]).inc();
}

pub fn events_pruned(n: u64) {
    METRICS.events_pruned.inc_by(n);
}

pub fn audit_pruned(n: u64) {
    METRICS.audit_pruned.inc_by(n);
}

/// Counts a client connection as open until the guard is dropped.
pub fn connection_opened() -> OpenConnection {
    METRICS.connections.inc();
    OpenConnection(())
}

/// See [`connection_opened`].
#[derive(Debug)]
pub struct OpenConnection(());

impl Drop for OpenConnection {
    fn drop(&mut self) {
        METRICS.connections.dec();
    }
}

pub fn api_answered(route: &str, method: &str, status: u16, took: Duration) {
    METRICS
        .api_requests
        .with_label_values(&[route, method, &status.to_string()])
        .inc();
    METRICS
        .api_seconds
        .with_label_values(&[route, method])
        .observe(took.as_secs_f64());
}

/// Everything in Prometheus text format.
pub fn render() -> String {
    let mut out = Vec::new();
    TextEncoder::new()
        .encode(&METRICS.registry.gather(), &mut out)
        .expect("text encoding");
    String::from_utf8(out).unwrap_or_default()
}

pub use rustfs_common::metric_table::CatalogEntry;

/// Every family the control plane registers, sorted by name.
pub fn catalog() -> Vec<CatalogEntry> {
    let mut c = METRICS.catalog.clone();
    c.sort_by(|a, b| a.name.cmp(&b.name));
    c
}

#[cfg(test)]
#[path = "metrics_tests.rs"]
mod tests;
