//! Observed state: what the poller reads before a round and writes after it.

use super::events::{insert_event, NewEvent};
use super::views::parse_status;
use super::Db;
use crate::api::{ClusterStatus, DriveState, NodeState, PollCredentials, Scheme, SetHealth};
use crate::error::Result;

/// Everything the poller needs to poll one cluster and judge what changed.
#[derive(Debug, Clone)]
pub struct PollTarget {
    pub cluster_id: i64,
    pub name: String,
    pub scheme: Scheme,
    pub ca_pem: Option<String>,
    /// `Err`: the stored credentials cannot be opened (message says why).
    pub credentials: std::result::Result<PollCredentials, String>,
    pub status: ClusterStatus,
    pub hosts: Vec<HostTarget>,
    pub drives: Vec<DriveTarget>,
    pub sets: Vec<SetHealth>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostTarget {
    pub id: i64,
    pub name: String,
    pub address: String,
    pub s3_port: u16,
    pub state: NodeState,
    pub failures: u32,
    pub version: Option<String>,
}

impl HostTarget {
    /// `host:port` as nodes name each other in admin info.
    pub fn host_port(&self) -> String {
        if self.address.contains(':') && !self.address.starts_with('[') {
            format!("[{}]:{}", self.address, self.s3_port)
        } else {
            format!("{}:{}", self.address, self.s3_port)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriveTarget {
    pub id: i64,
    pub host_id: i64,
    pub path: String,
    pub state: DriveState,
}

/// New observed state of a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostUpdate {
    pub id: i64,
    pub state: NodeState,
    pub failures: u32,
    /// Set when the node answered (then `last_seen` moves to the observation time).
    pub version: Option<String>,
    pub answered: bool,
    pub error: Option<String>,
}

/// New observed state of a drive; `None` fields keep their stored value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriveUpdate {
    pub id: i64,
    pub state: DriveState,
    pub state_changed: bool,
    pub pool: Option<u32>,
    pub set: Option<u32>,
    pub total_bytes: Option<u64>,
    pub used_bytes: Option<u64>,
    pub free_bytes: Option<u64>,
}

/// An event the poller found.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedEvent {
    pub node: Option<String>,
    pub drive: Option<String>,
    pub kind: &'static str,
    pub message: String,
    pub details: serde_json::Value,
}

/// One poll round's findings for one cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub time: i64,
    pub status: ClusterStatus,
    pub hosts: Vec<HostUpdate>,
    pub drives: Vec<DriveUpdate>,
    /// `None`: no node gave admin info this round; the stored sets stay.
    pub sets: Option<Vec<SetHealth>>,
    pub events: Vec<ObservedEvent>,
}

impl Db {
    /// Every registered cluster with its hosts, drives and last observed sets.
    pub async fn poll_targets(&self) -> Result<Vec<PollTarget>> {
        type CRow = (i64, String, String, Option<String>, Vec<u8>, String);
        let clusters: Vec<CRow> = sqlx::query_as(
            "SELECT id, name, scheme, ca_pem, credentials, status FROM clusters ORDER BY name",
        )
        .fetch_all(&self.read)
        .await?;
        let mut out = Vec::new();
        for (id, name, scheme, ca_pem, sealed, status) in clusters {
            type HRow = (i64, String, String, i64, String, i64, Option<String>);
            let hosts: Vec<HRow> = sqlx::query_as(
                "SELECT h.id, h.name, h.address, h.s3_port, h.state, h.consecutive_failures, \
                 h.version FROM hosts h JOIN pools p ON p.id = h.pool_id WHERE h.cluster_id = ? \
                 ORDER BY p.idx, h.position",
            )
            .bind(id)
            .fetch_all(&self.read)
            .await?;
            let drives: Vec<(i64, i64, String, String)> = sqlx::query_as(
                "SELECT d.id, d.host_id, d.path, d.state FROM drives d JOIN hosts h \
                 ON h.id = d.host_id WHERE h.cluster_id = ? ORDER BY d.host_id, d.position",
            )
            .bind(id)
            .fetch_all(&self.read)
            .await?;
            let health = self.health(&name).await.ok();
            out.push(PollTarget {
                cluster_id: id,
                scheme: if scheme == "https" {
                    Scheme::Https
                } else {
                    Scheme::Http
                },
                ca_pem,
                credentials: self.open_credentials(&sealed).map_err(|e| e.to_string()),
                status: parse_status(&status),
                hosts: hosts
                    .into_iter()
                    .map(
                        |(id, name, address, port, state, failures, version)| HostTarget {
                            id,
                            name,
                            address,
                            s3_port: port as u16,
                            state: serde_json::from_value(serde_json::Value::String(state))
                                .unwrap_or(NodeState::Unknown),
                            failures: failures as u32,
                            version,
                        },
                    )
                    .collect(),
                drives: drives
                    .into_iter()
                    .map(|(id, host_id, path, state)| DriveTarget {
                        id,
                        host_id,
                        path,
                        state: serde_json::from_value(serde_json::Value::String(state))
                            .unwrap_or(DriveState::Unknown),
                    })
                    .collect(),
                sets: health.map(|h| h.sets).unwrap_or_default(),
                name,
            });
        }
        Ok(out)
    }

    /// Writes one round's findings for `target` in one transaction; a cluster deleted meanwhile
    /// is skipped (`false`).
    pub async fn apply_observation(&self, target: &PollTarget, o: &Observation) -> Result<bool> {
        let mut tx = self.write.begin().await?;
        let exists: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM clusters WHERE id = ? AND name = ?")
                .bind(target.cluster_id)
                .bind(&target.name)
                .fetch_optional(&mut *tx)
                .await?;
        if exists.is_none() {
            return Ok(false);
        }
        let id = target.cluster_id;
        for h in &o.hosts {
            sqlx::query(
                "UPDATE hosts SET state = ?, consecutive_failures = ?, \
                 version = COALESCE(?, version), last_error = ?, \
                 last_seen = CASE WHEN ? THEN ? ELSE last_seen END \
                 WHERE id = ? AND cluster_id = ?",
            )
            .bind(node_state_str(h.state))
            .bind(h.failures as i64)
            .bind(&h.version)
            .bind(&h.error)
            .bind(h.answered)
            .bind(o.time)
            .bind(h.id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if let Some(v) = &h.version {
                sqlx::query(
                    "INSERT INTO node_versions (host_id, version, first_seen, last_seen) \
                     SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM hosts WHERE id = ?) \
                     ON CONFLICT (host_id, version) DO UPDATE SET last_seen = excluded.last_seen",
                )
                .bind(h.id)
                .bind(v)
                .bind(o.time)
                .bind(o.time)
                .bind(h.id)
                .execute(&mut *tx)
                .await?;
            }
        }
        for d in &o.drives {
            sqlx::query(
                "UPDATE drives SET state = ?, pool_idx = COALESCE(?, pool_idx), \
                 set_idx = COALESCE(?, set_idx), total_bytes = COALESCE(?, total_bytes), \
                 used_bytes = COALESCE(?, used_bytes), free_bytes = COALESCE(?, free_bytes), \
                 last_change = CASE WHEN ? THEN ? ELSE last_change END WHERE id = ?",
            )
            .bind(drive_state_str(d.state))
            .bind(d.pool.map(i64::from))
            .bind(d.set.map(i64::from))
            .bind(d.total_bytes.map(|x| x as i64))
            .bind(d.used_bytes.map(|x| x as i64))
            .bind(d.free_bytes.map(|x| x as i64))
            .bind(d.state_changed)
            .bind(o.time)
            .bind(d.id)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(sets) = &o.sets {
            sqlx::query("DELETE FROM erasure_sets WHERE cluster_id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            for s in sets {
                sqlx::query(
                    "INSERT INTO erasure_sets (cluster_id, pool_idx, set_idx, data, parity, \
                     read_quorum, write_quorum, drives_total, drives_online, read_tolerance, \
                     write_tolerance, observed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(id)
                .bind(s.pool as i64)
                .bind(s.set as i64)
                .bind(s.data as i64)
                .bind(s.parity as i64)
                .bind(s.read_quorum as i64)
                .bind(s.write_quorum as i64)
                .bind(s.drives_total as i64)
                .bind(s.drives_online as i64)
                .bind(s.read_tolerance)
                .bind(s.write_tolerance)
                .bind(o.time)
                .execute(&mut *tx)
                .await?;
            }
        }
        sqlx::query("UPDATE clusters SET status = ?, observed_at = ? WHERE id = ?")
            .bind(cluster_status_str(o.status))
            .bind(o.time)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        for e in &o.events {
            insert_event(
                &mut tx,
                &NewEvent {
                    time: o.time,
                    cluster: Some(&target.name),
                    node: e.node.as_deref(),
                    drive: e.drive.as_deref(),
                    kind: e.kind,
                    message: &e.message,
                    details: e.details.clone(),
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}

fn as_str<T: serde::Serialize>(v: T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

pub fn node_state_str(s: NodeState) -> String {
    as_str(s)
}

pub fn drive_state_str(s: DriveState) -> String {
    as_str(s)
}

pub fn cluster_status_str(s: ClusterStatus) -> String {
    as_str(s)
}
