//! Registering, updating and forgetting clusters (desired state).

use super::events::{insert_event, NewEvent};
use super::{now_millis, Db};
use crate::api::{event_kind, DeployKey, PollCredentials, RegisterCluster};
use crate::error::{Error, Result};
use sqlx::{Sqlite, Transaction};

/// The secrets of a registration, sealed together in `clusters.credentials`: the poll keys and,
/// when registered, the deploy key (a blob without it is what builds before it sealed).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Sealed {
    access_key: String,
    secret_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    deploy_key: Option<String>,
}

impl Sealed {
    fn of(r: &RegisterCluster) -> Sealed {
        Sealed {
            access_key: r.credentials.access_key.clone(),
            secret_key: r.credentials.secret_key.clone(),
            deploy_key: r.deploy_key.as_ref().map(|k| k.0.clone()),
        }
    }
}

/// What a registration did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registered {
    pub created: bool,
    pub changed: bool,
}

/// The registration without credentials, host names filled in, as canonical JSON: two
/// registrations mean the same topology exactly when these strings are equal.
pub fn normal_spec(r: &RegisterCluster) -> String {
    let mut r = r.clone();
    for h in r.pools.iter_mut().flat_map(|p| p.hosts.iter_mut()) {
        h.name = Some(h.node_name().to_string());
    }
    let mut v = serde_json::to_value(&r).expect("registration serialises");
    if let Some(m) = v.as_object_mut() {
        m.remove("credentials");
        m.remove("deploy_key");
    }
    v.to_string()
}

impl Db {
    /// Creates or updates cluster `name` from a validated registration, in one transaction.
    pub async fn register_cluster(&self, name: &str, r: &RegisterCluster) -> Result<Registered> {
        let spec = normal_spec(r);
        let mut tx = self.write.begin().await?;
        let existing: Option<(i64, String, Vec<u8>)> =
            sqlx::query_as("SELECT id, spec, credentials FROM clusters WHERE name = ?")
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some((_, old_spec, sealed)) = &existing {
            if *old_spec == spec && self.open_sealed(sealed).ok() == Some(Sealed::of(r)) {
                return Ok(Registered {
                    created: false,
                    changed: false,
                });
            }
        }
        let now = now_millis();
        sqlx::query(
            "INSERT INTO sites (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
        )
        .bind(&r.site)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let (site_id,): (i64,) = sqlx::query_as("SELECT id FROM sites WHERE name = ?")
            .bind(&r.site)
            .fetch_one(&mut *tx)
            .await?;
        let creds = serde_json::to_vec(&Sealed::of(r)).expect("credentials serialise");
        let sealed = self.secrets.seal(&creds);
        let cluster_id = match &existing {
            Some((id, ..)) => {
                sqlx::query(
                    "UPDATE clusters SET site_id = ?, spec = ?, desired_version = ?, scheme = ?, \
                     ca_pem = ?, credentials = ?, updated_at = ? WHERE id = ?",
                )
                .bind(site_id)
                .bind(&spec)
                .bind(&r.version)
                .bind(r.scheme.as_str())
                .bind(&r.ca_pem)
                .bind(&sealed)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                *id
            }
            None => {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO clusters (name, site_id, spec, desired_version, scheme, ca_pem, \
                     credentials, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
                     RETURNING id",
                )
                .bind(name)
                .bind(site_id)
                .bind(&spec)
                .bind(&r.version)
                .bind(r.scheme.as_str())
                .bind(&r.ca_pem)
                .bind(&sealed)
                .bind(now)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                id
            }
        };
        let (added, removed) = write_topology(&mut tx, cluster_id, r).await?;
        let created = existing.is_none();
        let (kind, message) = if created {
            (
                event_kind::CLUSTER_REGISTERED,
                format!("cluster {name} registered"),
            )
        } else {
            (
                event_kind::CLUSTER_UPDATED,
                format!("cluster {name} updated"),
            )
        };
        insert_event(
            &mut tx,
            &NewEvent {
                time: now,
                cluster: Some(name),
                node: None,
                drive: None,
                kind,
                message: &message,
                details: serde_json::json!({"nodes_added": added, "nodes_removed": removed}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Registered {
            created,
            changed: true,
        })
    }

    /// Forgets a cluster with its pools, hosts and drives (events stay).
    pub async fn delete_cluster(&self, name: &str) -> Result<()> {
        let mut tx = self.write.begin().await?;
        let done = sqlx::query("DELETE FROM clusters WHERE name = ?")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(not_found(name));
        }
        insert_event(
            &mut tx,
            &NewEvent {
                time: now_millis(),
                cluster: Some(name),
                node: None,
                drive: None,
                kind: event_kind::CLUSTER_DELETED,
                message: &format!("cluster {name} deleted"),
                details: serde_json::json!({}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) fn open_credentials(&self, sealed: &[u8]) -> Result<PollCredentials> {
        self.open_sealed(sealed).map(|s| PollCredentials {
            access_key: s.access_key,
            secret_key: s.secret_key,
        })
    }

    fn open_sealed(&self, sealed: &[u8]) -> Result<Sealed> {
        let plain = self.secrets.open(sealed)?;
        serde_json::from_slice(&plain)
            .map_err(|e| Error::Internal(format!("stored credentials are not readable: {e}")))
    }

    /// The deploy key registered with cluster `name`, if any.
    pub async fn deploy_key(&self, name: &str) -> Result<Option<DeployKey>> {
        let row: Option<(Vec<u8>,)> =
            sqlx::query_as("SELECT credentials FROM clusters WHERE name = ?")
                .bind(name)
                .fetch_optional(&self.read)
                .await?;
        let (sealed,) = row.ok_or_else(|| not_found(name))?;
        Ok(self.open_sealed(&sealed)?.deploy_key.map(DeployKey))
    }
}

pub(super) fn not_found(name: &str) -> Error {
    Error::NotFound(format!(
        "no cluster named {name:?}; `GET /v1/clusters` lists the registered ones"
    ))
}

/// Brings pools, hosts and drives of `cluster_id` in line with `r`, keeping the observed state
/// of everything that stays. Returns the node names added and removed.
async fn write_topology(
    tx: &mut Transaction<'_, Sqlite>,
    cluster_id: i64,
    r: &RegisterCluster,
) -> Result<(Vec<String>, Vec<String>)> {
    let before: Vec<(String,)> = sqlx::query_as("SELECT name FROM hosts WHERE cluster_id = ?")
        .bind(cluster_id)
        .fetch_all(&mut **tx)
        .await?;
    let before: Vec<String> = before.into_iter().map(|r| r.0).collect();
    let names: Vec<String> = r
        .pools
        .iter()
        .flat_map(|p| p.hosts.iter().map(|h| h.node_name().to_string()))
        .collect();
    let names_json = serde_json::to_string(&names).expect("names serialise");
    sqlx::query(
        "DELETE FROM hosts WHERE cluster_id = ? AND name NOT IN (SELECT value FROM json_each(?))",
    )
    .bind(cluster_id)
    .bind(&names_json)
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM pools WHERE cluster_id = ? AND idx >= ?")
        .bind(cluster_id)
        .bind(r.pools.len() as i64)
        .execute(&mut **tx)
        .await?;
    for (pi, pool) in r.pools.iter().enumerate() {
        sqlx::query("INSERT INTO pools (cluster_id, idx) VALUES (?, ?) ON CONFLICT DO NOTHING")
            .bind(cluster_id)
            .bind(pi as i64)
            .execute(&mut **tx)
            .await?;
        let (pool_id,): (i64,) =
            sqlx::query_as("SELECT id FROM pools WHERE cluster_id = ? AND idx = ?")
                .bind(cluster_id)
                .bind(pi as i64)
                .fetch_one(&mut **tx)
                .await?;
        for (position, host) in pool.hosts.iter().enumerate() {
            // A node that moved to another address or port starts over as unknown.
            let (host_id,): (i64,) = sqlx::query_as(
                "INSERT INTO hosts (cluster_id, pool_id, position, name, address, s3_port) \
                 VALUES (?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (cluster_id, name) DO UPDATE SET pool_id = excluded.pool_id, \
                 position = excluded.position, \
                 state = CASE WHEN address = excluded.address AND s3_port = excluded.s3_port \
                         THEN state ELSE 'unknown' END, \
                 consecutive_failures = CASE WHEN address = excluded.address AND \
                         s3_port = excluded.s3_port THEN consecutive_failures ELSE 0 END, \
                 address = excluded.address, s3_port = excluded.s3_port \
                 RETURNING id",
            )
            .bind(cluster_id)
            .bind(pool_id)
            .bind(position as i64)
            .bind(host.node_name())
            .bind(&host.address)
            .bind(host.s3_port as i64)
            .fetch_one(&mut **tx)
            .await?;
            let paths = serde_json::to_string(&host.drives).expect("paths serialise");
            sqlx::query(
                "DELETE FROM drives WHERE host_id = ? AND path NOT IN (SELECT value FROM json_each(?))",
            )
            .bind(host_id)
            .bind(&paths)
            .execute(&mut **tx)
            .await?;
            for (dp, path) in host.drives.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO drives (host_id, position, path) VALUES (?, ?, ?) \
                     ON CONFLICT (host_id, path) DO UPDATE SET position = excluded.position",
                )
                .bind(host_id)
                .bind(dp as i64)
                .bind(path)
                .execute(&mut **tx)
                .await?;
            }
        }
    }
    let added = names
        .iter()
        .filter(|n| !before.contains(n))
        .cloned()
        .collect();
    let removed = before.into_iter().filter(|n| !names.contains(n)).collect();
    Ok((added, removed))
}
