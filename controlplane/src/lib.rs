//! The RustFS control plane (`rustfs-controlplane`): topology, health watching, rolling upgrades,
//! replication and backups on axum + SQLite.
//!
//! [`api`] holds the REST API's wire types (see `controlplane/API.md`) and is all a client gets
//! with `default-features = false`; the `server` feature (default) adds the service itself:
//! [`config`] → [`server::run`], which loads the TLS certificate ([`server::tls`]), opens the
//! [`db`] (repository layer, migrations), starts the [`poller`] and the [`retention`] of events
//! and audit entries, and serves the [`routes`] (token scopes, audit, body limit, [`metrics`],
//! [`openapi`]) through the [`server::listen`] loop (connection cap, header-read and idle
//! timeouts).

#![recursion_limit = "256"]

pub mod api;

#[cfg(feature = "server")]
pub mod config;
#[cfg(feature = "server")]
pub mod db;
#[cfg(feature = "server")]
pub mod error;
#[cfg(feature = "server")]
pub mod metrics;
#[cfg(feature = "server")]
pub mod openapi;
#[cfg(feature = "server")]
pub mod poller;
#[cfg(feature = "server")]
pub mod retention;
#[cfg(feature = "server")]
pub mod routes;
#[cfg(feature = "server")]
pub mod secrets;
#[cfg(feature = "server")]
pub mod server;
#[cfg(feature = "server")]
pub mod validate;
