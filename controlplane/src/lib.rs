//! The RustFS control plane (`rustfs-controlplane`): topology, health watching, rolling upgrades,
//! replication and backups on axum + SQLite.
//!
//! [`api`] holds the REST API's wire types (see `controlplane/API.md`) and is all a client gets
//! with `default-features = false`; the `server` feature (default) adds the service itself.

pub mod api;
