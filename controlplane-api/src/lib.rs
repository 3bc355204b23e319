//! The control plane's REST API (`/v1/…`, described in `controlplane/API.md`): its wire types
//! and [`Client`], a typed client of it. The control plane serves these shapes; the provisioner
//! and the tests call it through the client, so none of them depends on the control plane's crate.

mod client;
mod errors;
mod releases;
mod tokens;

pub use client::{Client, ClientError, EventQuery};
pub use errors::{ErrorBody, ErrorCode};
pub use releases::{CreateRelease, CreatedRelease, Release, ReleaseList};
pub use tokens::{CreateToken, CreatedToken, Token, TokenList, TokenScope};

use serde::{Deserialize, Serialize};
use std::fmt;

/// Default S3 port of a host.
pub const DEFAULT_S3_PORT: u16 = 9000;
/// Site a cluster belongs to when the registration names none.
pub const DEFAULT_SITE: &str = "default";

/// `PUT /v1/clusters/{cluster}`: a cluster's topology and how to poll it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterCluster {
    /// Site name (default `default`).
    #[serde(default = "default_site")]
    pub site: String,
    /// Node version the provisioner installed (desired state).
    #[serde(default)]
    pub version: Option<String>,
    /// How the control plane reaches the nodes.
    #[serde(default)]
    pub scheme: Scheme,
    /// PEM of the cluster CA (one or more certificates): `https` nodes are polled trusting
    /// exactly these, not the built-in web roots.
    #[serde(default)]
    pub ca_pem: Option<String>,
    /// Layout the cluster was started with.
    #[serde(default)]
    pub erasure: Erasure,
    /// URLs clients use; shown, never polled.
    #[serde(default)]
    pub s3_endpoints: Vec<String>,
    /// Credentials that sign `GET /rustfs/admin/v1/info`.
    pub credentials: PollCredentials,
    /// The control plane's SSH deploy key (OpenSSH private key), with which it runs the upgrade
    /// verbs on hosts whose `access` is `ssh`. Sealed at rest, never answered.
    #[serde(default)]
    pub deploy_key: Option<DeployKey>,
    /// Server pools in order.
    pub pools: Vec<PoolSpec>,
}

fn default_site() -> String {
    DEFAULT_SITE.to_string()
}

/// `http` or `https`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    #[default]
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// Erasure layout settings (`None`: the node's default).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Erasure {
    #[serde(default)]
    pub set_drive_count: Option<u32>,
    #[serde(default)]
    pub parity: Option<u32>,
}

/// Root (or admin) credentials of a cluster. `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollCredentials {
    pub access_key: String,
    pub secret_key: String,
}

impl fmt::Debug for PollCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PollCredentials")
            .field("access_key", &self.access_key)
            .field("secret_key", &"<redacted>")
            .finish()
    }
}

/// One server pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolSpec {
    pub hosts: Vec<HostSpec>,
}

/// One host running one node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostSpec {
    /// Unique in the cluster; default: `address`.
    #[serde(default)]
    pub name: Option<String>,
    /// IP address or DNS name.
    pub address: String,
    #[serde(default = "default_s3_port")]
    pub s3_port: u16,
    /// Absolute drive paths.
    pub drives: Vec<String>,
    /// How the control plane drives the host for upgrades (`None`: it cannot upgrade it).
    #[serde(default)]
    pub access: Option<HostAccess>,
}

/// How the control plane reaches a host's upgrade verbs (`INSTALL_DIR/bin/rustfs-upgrade`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostAccess {
    /// `ssh` (with the deploy key) or `local` (the host is the control plane's machine).
    pub connection: Connection,
    /// Where the node is installed on the host (`bin/current`, `bin/rustfs-upgrade`).
    pub install_dir: String,
    #[serde(default = "default_ssh_port")]
    pub ssh_port: u16,
    /// The login the deploy key is installed for (the node's service user).
    #[serde(default = "default_ssh_user")]
    pub ssh_user: String,
    /// The host key's fingerprint (`SHA256:…`) as the provisioner saw it; required with `ssh`.
    #[serde(default)]
    pub host_key: Option<String>,
}

/// `ssh` or `local`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Connection {
    Ssh,
    Local,
}

fn default_ssh_port() -> u16 {
    22
}

fn default_ssh_user() -> String {
    "rustfs".into()
}

/// An OpenSSH private key. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeployKey(pub String);

impl fmt::Debug for DeployKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DeployKey(<redacted>)")
    }
}

impl HostSpec {
    /// The node's name: `name`, else `address`.
    pub fn node_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.address)
    }
}

fn default_s3_port() -> u16 {
    DEFAULT_S3_PORT
}

/// Answer to `PUT /v1/clusters/{cluster}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterResponse {
    pub created: bool,
    pub changed: bool,
    pub cluster: Cluster,
}

/// A registered cluster (never its credentials).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cluster {
    pub name: String,
    pub site: String,
    pub version: Option<String>,
    pub scheme: Scheme,
    /// PEM of the cluster CA `https` nodes are checked against (`None`: the built-in roots).
    #[serde(default)]
    pub ca_pem: Option<String>,
    pub erasure: Erasure,
    pub s3_endpoints: Vec<String>,
    pub pools: Vec<PoolView>,
    pub created_at: String,
    pub updated_at: String,
    /// Same values as [`HealthSummary::status`].
    pub status: ClusterStatus,
    pub has_credentials: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolView {
    pub index: u32,
    /// Node names in registration order.
    pub hosts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterList {
    pub clusters: Vec<Cluster>,
}

/// Overall state of a cluster, from its latest observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClusterStatus {
    Unknown,
    Healthy,
    Degraded,
    ReadOnly,
    Down,
}

/// A node's observed state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeState {
    Unknown,
    Up,
    Down,
}

/// A drive's observed state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriveState {
    Unknown,
    Online,
    Offline,
}

/// A node as the control plane sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    pub name: String,
    pub address: String,
    pub s3_port: u16,
    pub pool: u32,
    pub state: NodeState,
    /// Version the node reported last.
    pub version: Option<String>,
    pub last_seen: Option<String>,
    pub last_error: Option<String>,
    pub drives: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeList {
    pub nodes: Vec<Node>,
}

/// A drive as the control plane sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drive {
    pub node: String,
    pub path: String,
    pub pool: Option<u32>,
    pub set: Option<u32>,
    pub state: DriveState,
    pub total_bytes: Option<u64>,
    pub used_bytes: Option<u64>,
    pub free_bytes: Option<u64>,
    pub last_change: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriveList {
    pub drives: Vec<Drive>,
}

/// One erasure set's latest observed health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetHealth {
    pub pool: u32,
    pub set: u32,
    pub data: u32,
    pub parity: u32,
    pub read_quorum: u32,
    pub write_quorum: u32,
    pub drives_total: u32,
    pub drives_online: u32,
    pub read_tolerance: i64,
    pub write_tolerance: i64,
}

/// A drive that is offline, in the health summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfflineDrive {
    pub node: String,
    pub path: String,
    pub pool: Option<u32>,
    pub set: Option<u32>,
}

/// `GET /v1/clusters/{cluster}/health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthSummary {
    pub cluster: String,
    pub status: ClusterStatus,
    pub observed_at: Option<String>,
    pub nodes_total: u32,
    pub nodes_up: u32,
    pub nodes_down: u32,
    pub nodes_unknown: u32,
    pub drives_total: u32,
    pub drives_offline: u32,
    pub nodes: Vec<Node>,
    pub sets: Vec<SetHealth>,
    pub offline_drives: Vec<OfflineDrive>,
}

/// A site and its clusters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    pub name: String,
    pub clusters: Vec<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteList {
    pub sites: Vec<Site>,
}

/// One recorded event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: i64,
    pub time: String,
    pub cluster: Option<String>,
    pub node: Option<String>,
    pub drive: Option<String>,
    pub kind: String,
    pub message: String,
    pub details: serde_json::Value,
}

/// A page of events; `next_after` is the `after` of the next page (`None`: last page).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventPage {
    pub events: Vec<Event>,
    pub next_after: Option<i64>,
}

/// One audit-trail entry (an authenticated mutating API call).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub time: String,
    pub actor: String,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub next_after: Option<i64>,
}

/// Event kinds the control plane records.
pub mod event_kind {
    pub const CLUSTER_REGISTERED: &str = "cluster_registered";
    pub const CLUSTER_UPDATED: &str = "cluster_updated";
    pub const CLUSTER_DELETED: &str = "cluster_deleted";
    pub const NODE_UP: &str = "node_up";
    pub const NODE_DOWN: &str = "node_down";
    pub const DRIVE_ONLINE: &str = "drive_online";
    pub const DRIVE_OFFLINE: &str = "drive_offline";
    pub const SET_TOLERANCE_CHANGED: &str = "set_tolerance_changed";
    pub const VERSION_CHANGED: &str = "version_changed";
    pub const ALL: [&str; 9] = [
        CLUSTER_REGISTERED,
        CLUSTER_UPDATED,
        CLUSTER_DELETED,
        NODE_UP,
        NODE_DOWN,
        DRIVE_ONLINE,
        DRIVE_OFFLINE,
        SET_TOLERANCE_CHANGED,
        VERSION_CHANGED,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_defaults_and_round_trip() {
        let body = r#"{"credentials":{"access_key":"a","secret_key":"s"},
            "pools":[{"hosts":[{"address":"10.0.0.1","drives":["/d1"]}]}]}"#;
        let r: RegisterCluster = serde_json::from_str(body).unwrap();
        assert_eq!(r.site, "default");
        assert_eq!(r.scheme, Scheme::Http);
        assert_eq!(r.pools[0].hosts[0].s3_port, 9000);
        assert_eq!(r.pools[0].hosts[0].node_name(), "10.0.0.1");
        let again: RegisterCluster =
            serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(again, r);
        assert!(!format!("{r:?}").contains("\"s\""));
    }

    #[test]
    fn unknown_fields_are_refused() {
        let body = r#"{"credentials":{"access_key":"a","secret_key":"s"},"pools":[],"extra":1}"#;
        let e = serde_json::from_str::<RegisterCluster>(body).unwrap_err();
        assert!(e.to_string().contains("unknown field `extra`"), "{e}");
    }

    #[test]
    fn error_codes_serialise_as_documented() {
        for c in ErrorCode::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
    }
}
