//! The RustFS control plane (`rustfs-controlplane`): topology, health watching, rolling upgrades,
//! replication and backups on axum + SQLite.
//!
//! [`api`] is the crate `rustfs-controlplane-api` (wire types and a typed client, see
//! `controlplane/API.md`). The service: [`config`] → [`server::run`], which loads the TLS certificate ([`server::tls`]), opens the
//! [`db`] (repository layer, migrations), starts the [`poller`] and the [`retention`] of events
//! and audit entries, and serves the [`routes`] (token scopes, audit, body limit, [`metrics`],
//! [`openapi`]) through the [`server::listen`] loop (connection cap, header-read and idle
//! timeouts).

#![recursion_limit = "256"]

/// The REST API's wire types and typed client, in their own crate so clients need not depend on
/// this one.
pub use rustfs_controlplane_api as api;

pub mod config;
pub mod db;
pub mod error;
pub mod metrics;
pub mod openapi;
pub mod poller;
pub mod retention;
pub mod routes;
pub mod secrets;
pub mod server;
pub mod validate;
