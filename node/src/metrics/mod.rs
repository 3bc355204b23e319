//! Prometheus metrics of a node (ARCHITECTURE.md, "Versions": metric names; table in dashboards/README.md), served at `/rustfs/metrics` in the text format.
//!
//! [`Metrics`] owns the [`prometheus::Registry`] and the handles the request path updates
//! (counters and histograms only: nothing here blocks or holds a lock across an await). Figures
//! that are cheaper to read than to track — drive capacity, set health, cluster capacity, the
//! heal manager's counts — are computed when Prometheus scrapes, by collectors that live with
//! what they measure (`heal::metrics`, `server::node_metrics`; the endpoint is `server::scrape`).
//! They register their families with [`Metrics::register`] (or the helpers built on it, such as
//! [`Metrics::counter_vec`]), which also records them in the catalog the documentation table in
//! `dashboards/README.md` is checked against (`server::scrape`'s tests). This module names no
//! other layer of the node.
//!
//! One process serves one node, so the metrics are process-wide: [`global`].

pub mod auth;
pub mod http;

use parking_lot::Mutex;
use prometheus::core::Collector;
use prometheus::{
    Gauge, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec,
    Opts, Registry,
};
use std::sync::{Arc, LazyLock, OnceLock};
use std::time::Instant;

/// Latency buckets of S3 requests, in seconds (1 ms … 60 s).
pub const S3_LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];
/// Latency buckets of inter-node calls, drive operations and lock waits, in seconds.
pub const FAST_LATENCY_BUCKETS: &[f64] = &[
    0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    30.0,
];

pub use rustfs_common::metric_table::CatalogEntry;

/// S3 API figures, updated by the request layer ([`http::S3Probe`]).
pub struct S3Metrics {
    pub requests: IntCounterVec,
    pub duration: HistogramVec,
    pub received_bytes: IntCounterVec,
    pub sent_bytes: IntCounterVec,
    pub inflight: IntGauge,
}

/// Inter-node RPC figures, per peer (`rpc::client`).
pub struct RpcMetrics {
    pub requests: IntCounterVec,
    pub errors: IntCounterVec,
    pub duration: HistogramVec,
    pub peer_online: IntGaugeVec,
}

/// Namespace lock figures (`object::lock`).
pub struct LockMetrics {
    pub wait: HistogramVec,
    pub timeouts: IntCounterVec,
}

/// Drive operation figures (`store::local`).
pub struct DriveMetrics {
    pub io_errors: IntCounterVec,
    pub duration: HistogramVec,
}

/// Audit log figures, per target (`file`, a webhook's URL, or `channel` for the hand-over to
/// the writer) (`audit`).
pub struct AuditMetrics {
    pub entries: IntCounterVec,
    pub dropped: IntCounterVec,
    pub delivery_errors: IntCounterVec,
    pub queue_bytes: IntGaugeVec,
}

/// The handles one local drive updates, resolved once so the IO path does no label lookups
/// (errors, being rare, are counted through the vector).
#[derive(Clone)]
pub struct DriveHandles {
    pub duration: Histogram,
}

/// Every metric of this node and the registry that serves them.
pub struct Metrics {
    registry: Registry,
    catalog: Mutex<Vec<CatalogEntry>>,
    started: Instant,
    pub s3: S3Metrics,
    pub rpc: RpcMetrics,
    pub lock: LockMetrics,
    pub drive: DriveMetrics,
    pub audit: AuditMetrics,
    /// Expiry (Unix seconds) of the certificates the node serves and trusts, `certificate` =
    /// `node` or `ca`; no series without TLS.
    pub tls_expiry: GaugeVec,
    /// Serialises scrapes: scrape-time gauges are reset and refilled under it.
    pub scrape: tokio::sync::Mutex<()>,
    auth: OnceLock<auth::ScrapeAuth>,
}

fn opts(name: &str, help: &str) -> Opts {
    Opts::new(name, help)
}

impl Metrics {
    /// A fresh registry with every node metric registered.
    pub fn new() -> Arc<Self> {
        let registry = Registry::new();
        let catalog = Mutex::new(Vec::new());
        let reg = |c: Box<dyn Collector>| register_into(&registry, &catalog, c);
        let s3 = S3Metrics {
            requests: counter_vec(
                &reg,
                "rustfs_s3_requests_total",
                "S3 requests answered, by API and HTTP status",
                &["api", "status"],
            ),
            duration: histogram_vec(
                &reg,
                "rustfs_s3_request_duration_seconds",
                "Time from request to response headers (the whole upload for writes), by API",
                &["api"],
                S3_LATENCY_BUCKETS,
            ),
            received_bytes: counter_vec(
                &reg,
                "rustfs_s3_received_bytes_total",
                "Request body bytes received, by API",
                &["api"],
            ),
            sent_bytes: counter_vec(
                &reg,
                "rustfs_s3_sent_bytes_total",
                "Response body bytes sent, by API",
                &["api"],
            ),
            inflight: int_gauge(
                &reg,
                "rustfs_s3_requests_inflight",
                "S3 requests being handled (until their response headers are sent)",
            ),
        };
        let rpc = RpcMetrics {
            requests: counter_vec(
                &reg,
                "rustfs_rpc_requests_total",
                "Internal RPC calls this node made, by peer",
                &["peer"],
            ),
            errors: counter_vec(
                &reg,
                "rustfs_rpc_errors_total",
                "Internal RPC calls that failed in transport or missed their deadline, by peer",
                &["peer"],
            ),
            duration: histogram_vec(
                &reg,
                "rustfs_rpc_request_duration_seconds",
                "Time until a peer answered an internal RPC call (headers), by peer",
                &["peer"],
                FAST_LATENCY_BUCKETS,
            ),
            peer_online: int_gauge_vec(
                &reg,
                "rustfs_rpc_peer_online",
                "1 while this node considers the peer online, 0 while it is marked offline",
                &["peer"],
            ),
        };
        let lock = LockMetrics {
            wait: histogram_vec(
                &reg,
                "rustfs_lock_wait_seconds",
                "Time spent acquiring namespace locks (granted or not), by kind (read or write)",
                &["kind"],
                FAST_LATENCY_BUCKETS,
            ),
            timeouts: counter_vec(
                &reg,
                "rustfs_lock_timeouts_total",
                "Namespace locks not acquired before the lock timeout (answered 503), by kind",
                &["kind"],
            ),
        };
        let drive = DriveMetrics {
            io_errors: counter_vec(
                &reg,
                "rustfs_drive_io_errors_total",
                "Operations on a local drive (shard reads and writes included) that failed with an I/O error, a full disk or a vanished drive",
                &["drive"],
            ),
            duration: histogram_vec(
                &reg,
                "rustfs_drive_io_duration_seconds",
                "Time of one operation on a local drive (metadata, commit, listing, open), by drive",
                &["drive"],
                FAST_LATENCY_BUCKETS,
            ),
        };
        let audit = AuditMetrics {
            entries: counter_vec(
                &reg,
                "rustfs_audit_entries_total",
                "Audit entries written to the file (target=\"file\") or delivered to a webhook (target=URL)",
                &["target"],
            ),
            dropped: counter_vec(
                &reg,
                "rustfs_audit_dropped_total",
                "Audit entries lost: the target failed, its queue was full, or (target=\"channel\") the writer fell behind",
                &["target"],
            ),
            delivery_errors: counter_vec(
                &reg,
                "rustfs_audit_delivery_errors_total",
                "Failed deliveries to an audit webhook (the entries stay queued and are retried)",
                &["target"],
            ),
            queue_bytes: int_gauge_vec(
                &reg,
                "rustfs_audit_queue_bytes",
                "Bytes of audit entries queued on disk for a webhook",
                &["target"],
            ),
        };
        let tls_expiry = gauge_vec(
            &reg,
            "rustfs_tls_certificate_expiry_timestamp_seconds",
            "When a certificate this node serves (certificate=\"node\") or trusts (certificate=\"ca\") expires, Unix seconds",
            &["certificate"],
        );
        let pc = prometheus::process_collector::ProcessCollector::new(
            std::process::id() as libc::pid_t,
            "rustfs",
        );
        reg(Box::new(pc)).expect("process collector registered once");
        Arc::new(Metrics {
            registry,
            catalog,
            started: Instant::now(),
            s3,
            rpc,
            lock,
            drive,
            audit,
            tls_expiry,
            scrape: tokio::sync::Mutex::new(()),
            auth: OnceLock::new(),
        })
    }

    /// The registry, for collectors that register themselves.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Registers `c` and records its families in the catalog.
    pub fn register(&self, c: Box<dyn Collector>) -> prometheus::Result<()> {
        register_into(&self.registry, &self.catalog, c)
    }

    /// Every family registered so far, sorted by name.
    pub fn catalog(&self) -> Vec<CatalogEntry> {
        let mut c = self.catalog.lock().clone();
        c.sort_by(|a, b| a.name.cmp(&b.name));
        c
    }

    /// A counter vector, registered here (for the collectors other layers own).
    pub fn counter_vec(&self, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
        counter_vec(&|c| self.register(c), name, help, labels)
    }

    /// An integer gauge, registered here.
    pub fn int_gauge(&self, name: &str, help: &str) -> IntGauge {
        int_gauge(&|c| self.register(c), name, help)
    }

    /// An integer gauge vector, registered here.
    pub fn int_gauge_vec(&self, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
        int_gauge_vec(&|c| self.register(c), name, help, labels)
    }

    /// A gauge, registered here.
    pub fn gauge(&self, name: &str, help: &str) -> Gauge {
        gauge(&|c| self.register(c), name, help)
    }

    /// A gauge vector, registered here.
    pub fn gauge_vec(&self, name: &str, help: &str, labels: &[&str]) -> GaugeVec {
        gauge_vec(&|c| self.register(c), name, help, labels)
    }

    /// Seconds since this process built its metrics (≈ since start).
    pub fn uptime_secs(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// The handles of local drive `drive` (its path).
    pub fn drive_handles(&self, drive: &str) -> DriveHandles {
        // Registers the drive's error series at 0, so a rate() sees its first error.
        self.drive.io_errors.with_label_values(&[drive]);
        DriveHandles {
            duration: self.drive.duration.with_label_values(&[drive]),
        }
    }

    /// Sets how scrapes are authenticated; the first call wins (one per process).
    pub fn set_auth(&self, a: auth::ScrapeAuth) {
        let _ = self.auth.set(a);
    }

    /// How scrapes are authenticated ([`auth::ScrapeAuth::Unconfigured`] until set).
    pub fn auth(&self) -> &auth::ScrapeAuth {
        self.auth.get().unwrap_or(&auth::ScrapeAuth::Unconfigured)
    }

    /// Everything registered, in the Prometheus text format.
    pub fn encode(&self) -> String {
        prometheus::TextEncoder::new()
            .encode_to_string(&self.registry.gather())
            .unwrap_or_else(|e| format!("# encoding failed: {e}\n"))
    }
}

/// The process-wide metrics.
pub fn global() -> &'static Arc<Metrics> {
    static M: LazyLock<Arc<Metrics>> = LazyLock::new(Metrics::new);
    &M
}

fn register_into(
    registry: &Registry,
    catalog: &Mutex<Vec<CatalogEntry>>,
    c: Box<dyn Collector>,
) -> prometheus::Result<()> {
    let kinds: Vec<(String, &'static str)> = c
        .collect()
        .iter()
        .map(|mf| {
            let kind = match mf.get_field_type() {
                prometheus::proto::MetricType::COUNTER => "counter",
                prometheus::proto::MetricType::GAUGE => "gauge",
                prometheus::proto::MetricType::HISTOGRAM => "histogram",
                prometheus::proto::MetricType::SUMMARY => "summary",
                prometheus::proto::MetricType::UNTYPED => "untyped",
            };
            (mf.name().to_string(), kind)
        })
        .collect();
    let entries: Vec<CatalogEntry> = c
        .desc()
        .iter()
        .map(|d| CatalogEntry {
            name: d.fq_name.clone(),
            kind: kinds
                .iter()
                .find(|(n, _)| *n == d.fq_name)
                .map(|(_, k)| *k)
                .unwrap_or("untyped"),
            labels: d.variable_labels.clone(),
            help: d.help.clone(),
        })
        .collect();
    registry.register(c)?;
    catalog.lock().extend(entries);
    Ok(())
}

type Reg<'a> = dyn Fn(Box<dyn Collector>) -> prometheus::Result<()> + 'a;

fn counter_vec(reg: &Reg<'_>, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(opts(name, help), labels).expect("valid metric");
    reg(Box::new(c.clone())).expect("metric registered once");
    c
}

fn int_gauge(reg: &Reg<'_>, name: &str, help: &str) -> IntGauge {
    let g = IntGauge::with_opts(opts(name, help)).expect("valid metric");
    reg(Box::new(g.clone())).expect("metric registered once");
    g
}

fn int_gauge_vec(reg: &Reg<'_>, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let g = IntGaugeVec::new(opts(name, help), labels).expect("valid metric");
    reg(Box::new(g.clone())).expect("metric registered once");
    g
}

fn gauge(reg: &Reg<'_>, name: &str, help: &str) -> Gauge {
    let g = Gauge::with_opts(opts(name, help)).expect("valid metric");
    reg(Box::new(g.clone())).expect("metric registered once");
    g
}

fn gauge_vec(reg: &Reg<'_>, name: &str, help: &str, labels: &[&str]) -> GaugeVec {
    let g = GaugeVec::new(opts(name, help), labels).expect("valid metric");
    reg(Box::new(g.clone())).expect("metric registered once");
    g
}

fn histogram_vec(
    reg: &Reg<'_>,
    name: &str,
    help: &str,
    labels: &[&str],
    buckets: &[f64],
) -> HistogramVec {
    let h = HistogramVec::new(
        HistogramOpts::new(name, help).buckets(buckets.to_vec()),
        labels,
    )
    .expect("valid metric");
    reg(Box::new(h.clone())).expect("metric registered once");
    h
}

#[cfg(test)]
mod tests;
