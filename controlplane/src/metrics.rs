//! The control plane's own Prometheus metrics, served at `/metrics`:
//! `rustfs_controlplane_nodes{cluster,state}`, `rustfs_controlplane_poll_seconds{cluster}`,
//! `rustfs_controlplane_poll_errors_total{cluster,stage}`, `rustfs_controlplane_events_total{kind}`,
//! `rustfs_controlplane_api_requests_total{route,method,status}` and
//! `rustfs_controlplane_api_request_seconds{route,method}`.

use crate::poller::NodeAnswer;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};
use std::sync::LazyLock;
use std::time::Duration;

struct Metrics {
    registry: Registry,
    nodes: IntGaugeVec,
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
    for c in [
        Box::new(nodes.clone()) as Box<dyn prometheus::core::Collector>,
        Box::new(poll_seconds.clone()),
        Box::new(poll_errors.clone()),
        Box::new(events.clone()),
        Box::new(api_requests.clone()),
        Box::new(api_seconds.clone()),
    ] {
        registry.register(c).expect("metric names are unique");
    }
    Metrics {
        registry,
        nodes,
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

/// Forgets a deleted cluster's gauges.
pub fn forget_cluster(cluster: &str) {
    for state in ["up", "down", "unknown"] {
        let _ = METRICS.nodes.remove_label_values(&[cluster, state]);
    }
}

pub fn poll_observed(cluster: &str, took: Duration, a: &NodeAnswer) {
    METRICS
        .poll_seconds
        .with_label_values(&[cluster])
        .observe(took.as_secs_f64());
    if a.live.is_err() {
        METRICS
            .poll_errors
            .with_label_values(&[cluster, "health"])
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
