//! `GET /rustfs/admin/v1/lifecycle/status`: what every node's lifecycle visitor has done since it
//! started (a node that does not answer is listed as unreachable, with why), summed, and which
//! buckets have rules.

use super::admin::AdminRoute;
use futures::future::join_all;
use rustfs_common::admin::{BucketLifecycle, LifecycleStatus, NodeLifecycleStatus};

pub(crate) async fn status(route: &AdminRoute) -> LifecycleStatus {
    let mut nodes = vec![NodeLifecycleStatus {
        node: route.this_node.clone(),
        reachable: true,
        error: None,
        figures: Some(crate::lifecycle::counters().figures()),
    }];
    let answers = join_all(route.peers.iter().map(|p| p.lifecycle_status())).await;
    for (p, a) in route.peers.iter().zip(answers) {
        let (figures, error) = match a {
            Ok(f) => (Some(f), None),
            Err(e) => (None, Some(e.to_string())),
        };
        nodes.push(NodeLifecycleStatus {
            node: p.addr().to_string(),
            reachable: figures.is_some(),
            error,
            figures,
        });
    }
    nodes.sort_by(|a, b| a.node.cmp(&b.node));
    let mut status = LifecycleStatus::default();
    for f in nodes.iter().filter_map(|n| n.figures.as_ref()) {
        status.totals.add(f);
    }
    status.nodes = nodes;
    for b in route.layer.list_buckets().await.unwrap_or_default() {
        let Ok(cfg) = route.layer.bucket_config(&b.name).await else {
            continue;
        };
        if let Some(rules) = &cfg.lifecycle {
            status.buckets.push(BucketLifecycle {
                bucket: b.name.clone(),
                rules: rules.len(),
                rules_enabled: rules.iter().filter(|r| r.enabled).count(),
            });
        }
    }
    status
}
