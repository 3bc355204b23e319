//! Read side: clusters, nodes, drives, health summaries and sites as the API shows them.

use super::clusters::not_found;
use super::{rfc3339, Db};
use crate::api::{
    Cluster, ClusterStatus, Drive, DriveState, Erasure, HealthSummary, Node, NodeState,
    OfflineDrive, PoolView, Scheme, SetHealth, Site,
};
use crate::error::{Error, Result};
use serde::Deserialize;

/// The parts of a stored spec the views show.
#[derive(Deserialize, Default)]
struct SpecView {
    #[serde(default)]
    erasure: Erasure,
    #[serde(default)]
    s3_endpoints: Vec<String>,
    #[serde(default)]
    ca_pem: Option<String>,
}

type ClusterRow = (
    i64,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    i64,
    i64,
);

const CLUSTER_SELECT: &str = "SELECT c.id, c.name, s.name, c.spec, c.desired_version, c.scheme, \
     c.status, c.created_at, c.updated_at FROM clusters c JOIN sites s ON s.id = c.site_id";

pub(super) fn parse_status(s: &str) -> ClusterStatus {
    serde_json::from_value(serde_json::Value::String(s.into())).unwrap_or(ClusterStatus::Unknown)
}

fn parse_node_state(s: &str) -> NodeState {
    serde_json::from_value(serde_json::Value::String(s.into())).unwrap_or(NodeState::Unknown)
}

fn parse_drive_state(s: &str) -> DriveState {
    serde_json::from_value(serde_json::Value::String(s.into())).unwrap_or(DriveState::Unknown)
}

impl Db {
    async fn cluster_from_row(&self, row: ClusterRow) -> Result<Cluster> {
        let (id, name, site, spec, version, scheme, status, created, updated) = row;
        let spec: SpecView = serde_json::from_str(&spec).unwrap_or_default();
        let hosts: Vec<(i64, String)> = sqlx::query_as(
            "SELECT p.idx, h.name FROM hosts h JOIN pools p ON p.id = h.pool_id \
             WHERE h.cluster_id = ? ORDER BY p.idx, h.position",
        )
        .bind(id)
        .fetch_all(&self.read)
        .await?;
        let mut pools: Vec<PoolView> = Vec::new();
        for (idx, host) in hosts {
            match pools.last_mut() {
                Some(p) if p.index == idx as u32 => p.hosts.push(host),
                _ => pools.push(PoolView {
                    index: idx as u32,
                    hosts: vec![host],
                }),
            }
        }
        Ok(Cluster {
            name,
            site,
            version,
            scheme: if scheme == "https" {
                Scheme::Https
            } else {
                Scheme::Http
            },
            ca_pem: spec.ca_pem,
            erasure: spec.erasure,
            s3_endpoints: spec.s3_endpoints,
            pools,
            created_at: rfc3339(created),
            updated_at: rfc3339(updated),
            status: parse_status(&status),
            has_credentials: true,
        })
    }

    pub async fn cluster(&self, name: &str) -> Result<Cluster> {
        let row: Option<ClusterRow> = sqlx::query_as(&format!("{CLUSTER_SELECT} WHERE c.name = ?"))
            .bind(name)
            .fetch_optional(&self.read)
            .await?;
        self.cluster_from_row(row.ok_or_else(|| not_found(name))?)
            .await
    }

    pub async fn clusters(&self) -> Result<Vec<Cluster>> {
        let rows: Vec<ClusterRow> = sqlx::query_as(&format!("{CLUSTER_SELECT} ORDER BY c.name"))
            .fetch_all(&self.read)
            .await?;
        let mut out = Vec::new();
        for row in rows {
            out.push(self.cluster_from_row(row).await?);
        }
        Ok(out)
    }

    async fn cluster_id(&self, name: &str) -> Result<(i64, String, Option<i64>)> {
        let row: Option<(i64, String, Option<i64>)> =
            sqlx::query_as("SELECT id, status, observed_at FROM clusters WHERE name = ?")
                .bind(name)
                .fetch_optional(&self.read)
                .await?;
        row.ok_or_else(|| not_found(name))
    }

    pub async fn nodes(&self, cluster: &str) -> Result<Vec<Node>> {
        let (id, ..) = self.cluster_id(cluster).await?;
        type Row = (
            i64,
            String,
            String,
            i64,
            i64,
            String,
            Option<String>,
            Option<i64>,
            Option<String>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT h.id, h.name, h.address, h.s3_port, p.idx, h.state, h.version, h.last_seen, \
             h.last_error FROM hosts h JOIN pools p ON p.id = h.pool_id WHERE h.cluster_id = ? \
             ORDER BY p.idx, h.position",
        )
        .bind(id)
        .fetch_all(&self.read)
        .await?;
        let drives: Vec<(i64, String)> = sqlx::query_as(
            "SELECT d.host_id, d.path FROM drives d JOIN hosts h ON h.id = d.host_id \
             WHERE h.cluster_id = ? ORDER BY d.host_id, d.position",
        )
        .bind(id)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(hid, name, address, port, pool, state, version, seen, error)| Node {
                    name,
                    address,
                    s3_port: port as u16,
                    pool: pool as u32,
                    state: parse_node_state(&state),
                    version,
                    last_seen: seen.map(rfc3339),
                    last_error: error,
                    drives: drives
                        .iter()
                        .filter(|d| d.0 == hid)
                        .map(|d| d.1.clone())
                        .collect(),
                },
            )
            .collect())
    }

    pub async fn node(&self, cluster: &str, node: &str) -> Result<Node> {
        self.nodes(cluster)
            .await?
            .into_iter()
            .find(|n| n.name == node)
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "cluster {cluster:?} has no node named {node:?}; `GET /v1/clusters/{cluster}/nodes` lists them"
                ))
            })
    }

    pub async fn drives(&self, cluster: &str) -> Result<Vec<Drive>> {
        let (id, ..) = self.cluster_id(cluster).await?;
        type Row = (
            String,
            String,
            Option<i64>,
            Option<i64>,
            String,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            Option<i64>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT h.name, d.path, d.pool_idx, d.set_idx, d.state, d.total_bytes, d.used_bytes, \
             d.free_bytes, d.last_change FROM drives d JOIN hosts h ON h.id = d.host_id \
             JOIN pools p ON p.id = h.pool_id WHERE h.cluster_id = ? \
             ORDER BY p.idx, h.position, d.position",
        )
        .bind(id)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(node, path, pool, set, state, total, used, free, change)| Drive {
                    node,
                    path,
                    pool: pool.map(|x| x as u32),
                    set: set.map(|x| x as u32),
                    state: parse_drive_state(&state),
                    total_bytes: total.map(|x| x as u64),
                    used_bytes: used.map(|x| x as u64),
                    free_bytes: free.map(|x| x as u64),
                    last_change: change.map(rfc3339),
                },
            )
            .collect())
    }

    pub async fn health(&self, cluster: &str) -> Result<HealthSummary> {
        let (id, status, observed) = self.cluster_id(cluster).await?;
        let nodes = self.nodes(cluster).await?;
        let drives = self.drives(cluster).await?;
        type Row = (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64);
        let sets: Vec<Row> = sqlx::query_as(
            "SELECT pool_idx, set_idx, data, parity, read_quorum, write_quorum, drives_total, \
             drives_online, read_tolerance, write_tolerance FROM erasure_sets \
             WHERE cluster_id = ? ORDER BY pool_idx, set_idx",
        )
        .bind(id)
        .fetch_all(&self.read)
        .await?;
        let count = |s: NodeState| nodes.iter().filter(|n| n.state == s).count() as u32;
        let offline: Vec<OfflineDrive> = drives
            .iter()
            .filter(|d| d.state == DriveState::Offline)
            .map(|d| OfflineDrive {
                node: d.node.clone(),
                path: d.path.clone(),
                pool: d.pool,
                set: d.set,
            })
            .collect();
        Ok(HealthSummary {
            cluster: cluster.to_string(),
            status: parse_status(&status),
            observed_at: observed.map(rfc3339),
            nodes_total: nodes.len() as u32,
            nodes_up: count(NodeState::Up),
            nodes_down: count(NodeState::Down),
            nodes_unknown: count(NodeState::Unknown),
            drives_total: drives.len() as u32,
            drives_offline: offline.len() as u32,
            sets: sets
                .into_iter()
                .map(|(p, s, d, par, rq, wq, dt, don, rt, wt)| SetHealth {
                    pool: p as u32,
                    set: s as u32,
                    data: d as u32,
                    parity: par as u32,
                    read_quorum: rq as u32,
                    write_quorum: wq as u32,
                    drives_total: dt as u32,
                    drives_online: don as u32,
                    read_tolerance: rt,
                    write_tolerance: wt,
                })
                .collect(),
            offline_drives: offline,
            nodes,
        })
    }

    pub async fn sites(&self) -> Result<Vec<Site>> {
        let rows: Vec<(String, i64, Option<String>)> = sqlx::query_as(
            "SELECT s.name, s.created_at, c.name FROM sites s LEFT JOIN clusters c \
             ON c.site_id = s.id ORDER BY s.name, c.name",
        )
        .fetch_all(&self.read)
        .await?;
        let mut out: Vec<Site> = Vec::new();
        for (site, created, cluster) in rows {
            if out.last().is_none_or(|s| s.name != site) {
                out.push(Site {
                    name: site,
                    clusters: Vec::new(),
                    created_at: rfc3339(created),
                });
            }
            if let (Some(c), Some(s)) = (cluster, out.last_mut()) {
                s.clusters.push(c);
            }
        }
        Ok(out)
    }

    pub async fn site(&self, name: &str) -> Result<Site> {
        self.sites()
            .await?
            .into_iter()
            .find(|s| s.name == name)
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "no site named {name:?}; `GET /v1/sites` lists them"
                ))
            })
    }
}
