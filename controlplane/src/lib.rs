//! The RustFS control plane (`rustfs-controlplane`): topology, health watching, rolling upgrades,
//! replication and backups on axum + SQLite.
//!
//! Nothing is built here yet; the control-plane issue brings the service and its binary.
