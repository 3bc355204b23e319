//! Admin API wire types (`GET /rustfs/admin/v1/info`), shared by the node that serves them and
//! the control plane and provisioner that read them.

use serde::{Deserialize, Serialize};

/// What one node reports about the whole deployment as it sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerInfo {
    pub version: String,
    /// The inter-node RPC versions this node speaks (absent from nodes before it was reported).
    #[serde(default)]
    pub rpc: VersionRange,
    /// The on-disk format levels this node writes.
    #[serde(default)]
    pub formats: FormatLevels,
    pub deployment_id: String,
    /// The node that answered (`host:port`, or `local` for a single node).
    pub this_node: String,
    pub nodes: Vec<NodeInfo>,
    pub pools: Vec<PoolInfo>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_from_a_node_that_predates_versions_still_decodes() {
        let old = r#"{"version":"0.1.0","deployment_id":"d","this_node":"n1:9000","nodes":[],"pools":[]}"#;
        let info: ServerInfo = serde_json::from_str(old).unwrap();
        assert_eq!(info.rpc, VersionRange::default());
        assert_eq!(info.formats, FormatLevels::default());
        let json = serde_json::to_value(&info).unwrap();
        assert_eq!(json["rpc"], serde_json::json!({"min": 0, "max": 0}));
    }
}

/// The protocol versions a node speaks, both ends included (`0..0`: not reported).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRange {
    pub min: u32,
    pub max: u32,
}

/// The on-disk format levels a node writes (0: not reported).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormatLevels {
    /// Object metadata (`rustfs.meta`).
    pub meta: u32,
    /// Drive format (`format.json`).
    pub drive: u32,
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

/// `GET /rustfs/admin/v1/heal/status`: every node's healing figures; a node that cannot be
/// reached is listed with `reachable: false` and its error.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HealStatus {
    pub nodes: Vec<NodeHealStatus>,
    /// Sums over the reachable nodes.
    pub totals: HealTotals,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeHealStatus {
    /// `host:port`, or `local` for a single node.
    pub node: String,
    pub reachable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub figures: Option<HealFigures>,
}

/// Counters summed over nodes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealTotals {
    pub queue_depth: u64,
    pub objects_scanned: u64,
    pub objects_healed: u64,
    pub objects_failed: u64,
    pub heal_incomplete: u64,
    pub bytes_healed: u64,
    pub dangling_removed: u64,
    pub drives_healing: u64,
}

/// One node's healing figures since it started.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HealFigures {
    /// Objects waiting in the heal queue (partial writes, damaged reads, manual heals).
    pub queue_depth: u64,
    /// Queue entries refused because the queue was full (left to the scanner).
    pub queue_dropped: u64,
    pub objects_scanned: u64,
    /// Objects repaired back to full redundancy.
    pub objects_healed: u64,
    /// Heals that ended in an error.
    pub objects_failed: u64,
    /// Heals that could not restore full redundancy (a drive away, too few good copies).
    pub heal_incomplete: u64,
    pub bytes_healed: u64,
    pub dangling_removed: u64,
    /// Drives of this node being rebuilt after a replacement.
    pub drives_healing: Vec<DriveHealProgress>,
    pub scanner: ScannerFigures,
    /// Heals asked for through `POST /rustfs/admin/v1/heal` on this node.
    pub manual: Vec<ManualHeal>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DriveHealProgress {
    pub endpoint: String,
    pub started_unix: i64,
    pub objects_total: u64,
    pub objects_done: u64,
    pub objects_failed: u64,
    pub bytes_done: u64,
    /// 0–100.
    pub percent: f64,
    /// Estimated seconds left at the rate so far.
    pub eta_secs: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScannerFigures {
    pub cycles_shallow: u64,
    pub cycles_deep: u64,
    /// The cycle in progress, if any.
    pub current: Option<CycleFigures>,
    pub last_shallow: Option<CycleFigures>,
    pub last_deep: Option<CycleFigures>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CycleFigures {
    /// `shallow` (shard presence and meta agreement) or `deep` (also bitrot hashes).
    pub kind: String,
    pub started_unix: i64,
    pub duration_secs: f64,
    pub objects_scanned: u64,
    pub objects_healed: u64,
    pub objects_failed: u64,
    pub heal_incomplete: u64,
    pub dangling_removed: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ManualHeal {
    pub id: String,
    pub bucket: String,
    pub prefix: String,
    pub deep: bool,
    pub started_unix: i64,
    pub finished: bool,
    pub objects_scanned: u64,
    pub objects_healed: u64,
    pub objects_failed: u64,
    pub heal_incomplete: u64,
}

/// One node's lifecycle figures since it started (what its scanner's lifecycle visitor did).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleFigures {
    /// Object versions the visitor looked at.
    pub objects_scanned: u64,
    /// Current versions expired (a delete marker added, or removed in an unversioned bucket).
    pub current_expired: u64,
    pub noncurrent_removed: u64,
    pub delete_markers_removed: u64,
    pub uploads_aborted: u64,
    /// Actions not taken because object lock holds the version.
    pub skipped_locked: u64,
    pub errors: u64,
}

impl LifecycleFigures {
    /// Adds another node's figures to these.
    pub fn add(&mut self, o: &LifecycleFigures) {
        self.objects_scanned += o.objects_scanned;
        self.current_expired += o.current_expired;
        self.noncurrent_removed += o.noncurrent_removed;
        self.delete_markers_removed += o.delete_markers_removed;
        self.uploads_aborted += o.uploads_aborted;
        self.skipped_locked += o.skipped_locked;
        self.errors += o.errors;
    }
}

/// `GET /rustfs/admin/v1/lifecycle/status`: every node's lifecycle figures; a node that cannot be
/// reached is listed with `reachable: false` and its error.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LifecycleStatus {
    pub nodes: Vec<NodeLifecycleStatus>,
    /// Sums over the reachable nodes.
    pub totals: LifecycleFigures,
    /// Buckets with a lifecycle configuration, and how many rules each has enabled.
    pub buckets: Vec<BucketLifecycle>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeLifecycleStatus {
    /// `host:port`, or `local` for a single node.
    pub node: String,
    pub reachable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub figures: Option<LifecycleFigures>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketLifecycle {
    pub bucket: String,
    pub rules: usize,
    pub rules_enabled: usize,
}
