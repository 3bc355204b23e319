//! The health poller: every `interval`, polls every node of every registered cluster (bounded
//! concurrency, a deadline per request), judges what changed ([`judge`]) and records it.
//! A round that fails (database busy, a node answering garbage) is logged and the next round
//! runs as usual; nothing a node does can stop the poller.

mod fetch;
mod judge;
pub mod tls;

pub use fetch::NodeAnswer;
pub use judge::judge;

use crate::api::NodeState;
use crate::db::{now_millis, Db, PollTarget};
use crate::metrics;
use futures::future::join_all;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{watch, Semaphore};

/// Poller settings.
#[derive(Debug, Clone)]
pub struct PollerConfig {
    /// Time between the starts of two rounds.
    pub interval: Duration,
    /// Deadline of each request to a node.
    pub timeout: Duration,
    /// Nodes polled at once, over all clusters.
    pub concurrency: usize,
    /// Failed polls in a row after which a node is down.
    pub down_after: u32,
}

/// Runs rounds until `shutdown` turns true.
pub async fn run(db: Db, cfg: PollerConfig, mut shutdown: watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(cfg.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let permits = Arc::new(Semaphore::new(cfg.concurrency.max(1)));
    let mut clients = tls::Clients::default();
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            return;
        }
        if let Err(e) = round(&db, &cfg, &permits, &mut clients).await {
            tracing::warn!(error = %e, "poll round failed; retrying next round");
        }
    }
}

/// One round over every cluster.
async fn round(
    db: &Db,
    cfg: &PollerConfig,
    permits: &Arc<Semaphore>,
    clients: &mut tls::Clients,
) -> crate::error::Result<()> {
    let targets = db.poll_targets().await?;
    // series and clients of clusters deleted since the last round go
    let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
    metrics::retain_clusters(&names);
    let roots: Vec<Option<&str>> = targets.iter().map(|t| t.ca_pem.as_deref()).collect();
    clients.retain(&roots);
    let mut jobs = Vec::new();
    for t in targets {
        let client = clients.get(t.ca_pem.as_deref(), cfg.timeout);
        let (db, cfg, permits) = (db.clone(), cfg.clone(), permits.clone());
        // a task per cluster: one cluster's trouble (even a panic) never stops the others
        jobs.push(tokio::spawn(async move {
            let name = t.name.clone();
            if let Err(e) = poll_cluster(&db, &cfg, &permits, client, t).await {
                tracing::warn!(cluster = %name, error = %e, "recording a poll failed");
            }
        }));
    }
    for r in join_all(jobs).await {
        if let Err(e) = r {
            tracing::error!(error = %e, "a cluster poll task failed");
        }
    }
    Ok(())
}

async fn poll_cluster(
    db: &Db,
    cfg: &PollerConfig,
    permits: &Arc<Semaphore>,
    client: Result<reqwest::Client, String>,
    t: PollTarget,
) -> crate::error::Result<()> {
    let creds = t.credentials.as_ref().ok();
    let answers = join_all(t.hosts.iter().map(|h| {
        let client = client.clone();
        let permits = permits.clone();
        let scheme = t.scheme;
        let cluster = t.name.clone();
        async move {
            let client = match client {
                Ok(c) => c,
                Err(e) => return NodeAnswer::failed(e),
            };
            let _permit = permits.acquire_owned().await.ok();
            let hp = h.host_port();
            let base = format!("{}://{hp}", scheme.as_str());
            let started = Instant::now();
            // both requests of one node within twice the per-request deadline
            let answer =
                tokio::time::timeout(cfg.timeout * 2, fetch::poll_node(&client, &base, creds))
                    .await
                    .unwrap_or_else(|_| {
                        NodeAnswer::failed(format!("no answer within {:?}", cfg.timeout * 2))
                    });
            metrics::poll_observed(&cluster, started.elapsed(), &answer);
            answer
        }
    }))
    .await;
    let mut o = judge(&t, &answers, now_millis(), cfg.down_after);
    if let Err(e) = &t.credentials {
        for h in &mut o.hosts {
            h.error.get_or_insert_with(|| e.clone());
        }
    }
    for e in &o.events {
        tracing::info!(cluster = %t.name, node = ?e.node, drive = ?e.drive, kind = e.kind, "{}", e.message);
    }
    if !db.apply_observation(&t, &o).await? {
        return Ok(()); // deleted meanwhile: no series for it
    }
    let count = |s: NodeState| o.hosts.iter().filter(|h| h.state == s).count();
    metrics::set_nodes(
        &t.name,
        count(NodeState::Up),
        count(NodeState::Down),
        count(NodeState::Unknown),
    );
    let reachable: Vec<(&str, bool)> = t
        .hosts
        .iter()
        .zip(&answers)
        .map(|(h, a)| (h.name.as_str(), a.live.is_ok()))
        .collect();
    metrics::set_reachable(&t.name, &reachable);
    Ok(())
}
