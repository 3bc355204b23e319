//! Health endpoints for load balancers and orchestrators (ARCHITECTURE.md, "Versions": health endpoints), also under the MinIO
//! paths so existing checks work:
//! - `live`: the process serves HTTP;
//! - `ready`: the object layer is up (the cluster formed) and the node is not stopping (503
//!   `draining` during `--shutdown-drain-secs`);
//! - `cluster`: every erasure set has a write quorum of online drives (else 503); with
//!   `?maintenance=true`, 412 when taking this node down would leave a set without write quorum;
//! - `cluster/read`: every set has a read quorum.
//!
//! Answers carry `x-rustfs-write-quorum`/`x-rustfs-read-quorum` (and the `x-minio-` forms), and
//! every answer says what the node runs: `x-rustfs-version`, `x-rustfs-rpc-versions` (`MIN-MAX`)
//! and `x-rustfs-format-levels` (`meta=N,drive=N`), so an orchestrator sees a mixed cluster
//! from its health checks alone.

use super::ServerState;
use axum::extract::{Query, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures::future::join_all;
use serde::Deserialize;
use std::sync::Arc;

#[derive(Deserialize)]
struct ClusterQuery {
    #[serde(default)]
    maintenance: bool,
}

/// Per set: (online drives, online drives not on this node, read quorum, write quorum).
async fn set_health(state: &ServerState) -> Option<Vec<(usize, usize, usize, usize)>> {
    let layer = state.layer()?;
    let mut out = Vec::new();
    for set in layer.sets() {
        let online = join_all(set.drives.iter().map(|d| d.is_online())).await;
        let all = online.iter().filter(|o| **o).count();
        let others = set
            .drives
            .iter()
            .zip(&online)
            .filter(|(d, o)| **o && !d.is_local())
            .count();
        let q = set.default_quorum();
        out.push((all, others, q.read(), q.write()));
    }
    Some(out)
}

/// `status`, with the largest read and write quorum of any set in headers.
fn with_quorum_headers(status: StatusCode, sets: &[(usize, usize, usize, usize)]) -> Response {
    let read = sets.iter().map(|x| x.2).max().unwrap_or(0);
    let write = sets.iter().map(|x| x.3).max().unwrap_or(0);
    let mut r = status.into_response();
    let h = r.headers_mut();
    for (name, v) in [
        ("x-rustfs-read-quorum", read),
        ("x-rustfs-write-quorum", write),
        ("x-minio-read-quorum", read),
        ("x-minio-write-quorum", write),
    ] {
        h.insert(HeaderName::from_static(name), HeaderValue::from(v));
    }
    r
}

async fn cluster(State(s): State<Arc<ServerState>>, Query(q): Query<ClusterQuery>) -> Response {
    let Some(sets) = set_health(&s).await else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let status = if sets.iter().any(|&(all, _, _, w)| all < w) {
        StatusCode::SERVICE_UNAVAILABLE
    } else if q.maintenance && sets.iter().any(|&(_, others, _, w)| others < w) {
        StatusCode::PRECONDITION_FAILED
    } else {
        StatusCode::OK
    };
    with_quorum_headers(status, &sets)
}

async fn cluster_read(State(s): State<Arc<ServerState>>) -> Response {
    let Some(sets) = set_health(&s).await else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let status = if sets.iter().any(|&(all, _, r, _)| all < r) {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    with_quorum_headers(status, &sets)
}

async fn ready(State(s): State<Arc<ServerState>>) -> Response {
    if s.is_draining() {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "draining: this node is stopping",
        )
            .into_response()
    } else if s.layer().is_some() {
        (StatusCode::OK, "ok").into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "the cluster has not formed yet",
        )
            .into_response()
    }
}

/// The version headers every health answer carries.
async fn version_headers(mut r: Response) -> Response {
    let rpc = crate::rpc::wire::RPC_VERSIONS;
    let f = crate::store::format_levels();
    let h = r.headers_mut();
    h.insert(
        HeaderName::from_static("x-rustfs-version"),
        HeaderValue::from_static(rustfs_common::VERSION),
    );
    for (name, value) in [
        (
            crate::rpc::wire::RPC_VERSIONS_HEADER,
            crate::rpc::wire::format_versions(rpc),
        ),
        (
            "x-rustfs-format-levels",
            format!("meta={},drive={}", f.meta, f.drive),
        ),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(HeaderName::from_static(name), v);
        }
    }
    r
}

pub fn router(state: Arc<ServerState>) -> Router {
    let mut r = Router::new();
    for base in ["/rustfs/health", "/minio/health"] {
        r = r
            .route(&format!("{base}/live"), get(|| async { "ok" }))
            .route(&format!("{base}/ready"), get(ready))
            .route(&format!("{base}/cluster"), get(cluster))
            .route(&format!("{base}/cluster/read"), get(cluster_read));
    }
    r.layer(axum::middleware::map_response(version_headers))
        .with_state(state)
}
