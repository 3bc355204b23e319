//! The heal admin API: `GET /rustfs/admin/v1/heal/status` gathers every node's heal figures (a
//! node that does not answer is listed as unreachable, with why), `POST /rustfs/admin/v1/heal`
//! heals a bucket or prefix now (`?bucket=B&prefix=P&deep=true&wait=true`).

use super::admin::{json, AdminRoute};
use futures::future::join_all;
use http::{StatusCode, Uri};
use rustfs_common::admin::{HealStatus, HealTotals, NodeHealStatus};
use s3s::{Body, S3Response, S3Result};

pub(crate) async fn status(route: &AdminRoute) -> HealStatus {
    let mut nodes = vec![NodeHealStatus {
        node: route.this_node.clone(),
        reachable: route.heal.get().is_some(),
        error: route
            .heal
            .get()
            .is_none()
            .then(|| "healing has not started yet".to_string()),
        figures: route.heal.get().map(|m| m.figures()),
    }];
    let answers = join_all(route.peers.iter().map(|p| p.heal_status())).await;
    for (p, a) in route.peers.iter().zip(answers) {
        nodes.push(match a {
            Ok(f) => NodeHealStatus {
                node: p.addr().to_string(),
                reachable: true,
                error: None,
                figures: Some(f),
            },
            Err(e) => NodeHealStatus {
                node: p.addr().to_string(),
                reachable: false,
                error: Some(e.to_string()),
                figures: None,
            },
        });
    }
    nodes.sort_by(|a, b| a.node.cmp(&b.node));
    let mut totals = HealTotals::default();
    for f in nodes.iter().filter_map(|n| n.figures.as_ref()) {
        totals.queue_depth += f.queue_depth;
        totals.objects_scanned += f.objects_scanned;
        totals.objects_healed += f.objects_healed;
        totals.objects_failed += f.objects_failed;
        totals.heal_incomplete += f.heal_incomplete;
        totals.bytes_healed += f.bytes_healed;
        totals.dangling_removed += f.dangling_removed;
        totals.drives_healing += f.drives_healing.len() as u64;
    }
    HealStatus { nodes, totals }
}

fn error(status: StatusCode, code: &str, message: String) -> S3Response<Body> {
    json(
        status,
        serde_json::json!({ "code": code, "message": message })
            .to_string()
            .into_bytes(),
    )
}

pub(crate) async fn start(route: &AdminRoute, uri: &Uri) -> S3Result<S3Response<Body>> {
    let mut bucket = None;
    let mut prefix = String::new();
    let (mut deep, mut wait) = (false, false);
    for (k, v) in form_urlencoded(uri.query().unwrap_or("")) {
        match k.as_str() {
            "bucket" => bucket = Some(v),
            "prefix" => prefix = v,
            "deep" => deep = v == "true",
            "wait" => wait = v == "true",
            other => {
                return Ok(error(
                    StatusCode::BAD_REQUEST,
                    "InvalidArgument",
                    format!("unknown parameter {other:?}: use bucket, prefix, deep, wait"),
                ))
            }
        }
    }
    let Some(bucket) = bucket else {
        return Ok(error(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "name the bucket to heal: POST /rustfs/admin/v1/heal?bucket=NAME[&prefix=P]".into(),
        ));
    };
    if let Err(e) = route.layer.bucket_info(&bucket).await {
        return Ok(error(StatusCode::NOT_FOUND, "NoSuchBucket", e.to_string()));
    }
    let Some(mgr) = route.heal.get() else {
        return Ok(error(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "healing has not started yet; retry shortly".into(),
        ));
    };
    let h = mgr.heal_prefix(bucket, prefix, deep, wait).await;
    let body = serde_json::to_vec_pretty(&h).expect("serializes");
    Ok(json(
        if wait {
            StatusCode::OK
        } else {
            StatusCode::ACCEPTED
        },
        body,
    ))
}

/// `a=b&c=d` with percent-decoding.
fn form_urlencoded(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(hi << 4 | lo);
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
