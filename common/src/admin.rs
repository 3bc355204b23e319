//! Admin API wire types (`GET /rustfs/admin/v1/info`), shared by the node that serves them and
//! the control plane and provisioner that read them.

use serde::{Deserialize, Serialize};

/// What one node reports about the whole deployment as it sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerInfo {
    pub version: String,
    pub deployment_id: String,
    /// The node that answered (`host:port`, or `local` for a single node).
    pub this_node: String,
    pub nodes: Vec<NodeInfo>,
    pub pools: Vec<PoolInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// `host:port`, or `local` for a single node.
    pub address: String,
    /// Whether this node can reach it right now.
    pub online: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolInfo {
    pub index: usize,
    pub sets: Vec<SetInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetInfo {
    pub index: usize,
    pub data: usize,
    pub parity: usize,
    pub read_quorum: usize,
    pub write_quorum: usize,
    pub drives_online: usize,
    /// How many more drives the set can lose and still be read (negative: data unreadable).
    pub read_tolerance: i64,
    /// How many more drives the set can lose and still take writes.
    pub write_tolerance: i64,
    pub drives: Vec<DriveInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriveInfo {
    pub endpoint: String,
    /// `host:port` of the node that holds it, or `local`.
    pub node: String,
    pub online: bool,
    pub total_bytes: u64,
    pub used_bytes: u64,
    pub free_bytes: u64,
}
