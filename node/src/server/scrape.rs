//! `GET /rustfs/metrics`: checks the scrape credentials, refreshes the scrape-time figures and
//! answers with every metric of the registry (`metrics`).
//!
//! The scrape-time collectors live with what they measure and register their families in the
//! registry like every other metric: the node, drive, set and cluster gauges
//! ([`super::node_metrics`]) and the heal, scanner and lifecycle figures
//! (`heal::metrics`). [`Collectors`] holds them; the process-wide ones are registered in
//! [`crate::metrics::global`] at the latest by the first scrape ([`register`]).

use super::node_metrics::NodeGauges;
use crate::heal::metrics::HealMetrics;
use crate::heal::HealManager;
use crate::metrics::Metrics;
use crate::object::ObjectLayer;
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use std::sync::LazyLock;

/// Every scrape-time collector of a registry.
pub struct Collectors {
    node: NodeGauges,
    heal: HealMetrics,
}

impl Collectors {
    /// The collectors, their families registered in `m`.
    pub fn new(m: &Metrics) -> Self {
        Collectors {
            node: NodeGauges::new(m),
            heal: HealMetrics::new(m),
        }
    }
}

/// The collectors of the process-wide registry.
fn collectors() -> &'static Collectors {
    static C: LazyLock<Collectors> = LazyLock::new(|| Collectors::new(crate::metrics::global()));
    &C
}

/// Registers the scrape-time collectors in the process-wide registry (once; later calls do
/// nothing).
pub fn register() {
    collectors();
}

fn text(status: StatusCode, body: impl Into<Bytes>) -> http::Response<http_body_util::Full<Bytes>> {
    http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(http_body_util::Full::new(body.into()))
        .expect("static response")
}

/// `GET /rustfs/metrics`: checks the scrape credentials, refreshes the scrape-time figures and
/// answers with every metric.
pub async fn serve(
    layer: Option<&ObjectLayer>,
    heal: Option<&HealManager>,
    headers: &HeaderMap,
) -> http::Response<http_body_util::Full<Bytes>> {
    let m = crate::metrics::global();
    if let Err((status, why)) = m.auth().check(headers) {
        let mut r = text(status, why);
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                http::header::WWW_AUTHENTICATE,
                http::HeaderValue::from_static("Bearer realm=\"rustfs-metrics\""),
            );
        }
        return r;
    }
    let c = collectors();
    let _one_scrape_at_a_time = m.scrape.lock().await;
    super::node_metrics::refresh(&c.node, m, layer).await;
    c.heal.refresh(heal);
    let mut r = text(StatusCode::OK, m.encode());
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(prometheus::TEXT_FORMAT),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh registry with every family the node registers: its own and the collectors'.
    fn catalog() -> Vec<crate::metrics::CatalogEntry> {
        let m = Metrics::new();
        let _c = Collectors::new(&m);
        m.catalog()
    }

    /// `dashboards/README.md`, whose metric table the registries are checked against.
    fn metric_doc() -> String {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../dashboards/README.md");
        std::fs::read_to_string(path).expect("dashboards/README.md")
    }

    /// The documentation table cannot drift from the code: every family the node registers is
    /// listed as `node` with its type and labels, and every `node` row is registered.
    #[test]
    fn docs_table_matches_the_registry() {
        let problems = rustfs_common::metric_table::problems(&metric_doc(), "node", &catalog());
        assert!(
            problems.is_empty(),
            "dashboards/README.md and the metrics registry disagree:\n{}",
            problems.join("\n")
        );
    }

    #[test]
    fn names_follow_the_convention() {
        for e in catalog() {
            assert!(e.name.starts_with("rustfs_"), "{}", e.name);
            if e.kind == "counter" {
                assert!(
                    e.name.ends_with("_total"),
                    "counter {} must end in _total",
                    e.name
                );
            }
            if e.kind == "histogram" {
                assert!(
                    e.name.ends_with("_seconds"),
                    "histogram {} must be in seconds",
                    e.name
                );
            }
            assert!(!e.help.is_empty(), "{} has no help", e.name);
        }
    }
}
