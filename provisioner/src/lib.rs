//! The RustFS provisioner (`rustfs-provision`): turns an inventory into a running cluster over SSH.
//!
//! Reaching and driving hosts is `rustfs-hostops` (re-exported here as [`exec`], [`ssh`],
//! [`hostkeys`], [`paths`], [`service`], [`pki`], [`state`], [`download`]); this crate adds what
//! the inventory decides.
//!
//! Layers, each a module named after what it handles: [`inventory`] (load + validate, no network),
//! [`facts`] (what a host has),
//! [`checks`] (whether it can run a node), [`plan`] (what would change), [`render`] (config files
//! from templates), [`stage`] (binary and files onto hosts) and [`commands`] (the CLI verbs glued
//! together). `apply` is [`apply`] (phases), [`health`] (cluster health),
//! [`register`] (control plane), [`verify`] (S3 round trip) and [`progress`] (display);
//! [`cpinstall`] installs the control plane itself; [`deploy_key`] is its SSH key for upgrades. `destroy` is [`destroy`]. [`monitoring`] makes the scrape token and the
//! Prometheus configuration; [`rpc_secret`] makes and checks the secret nodes sign RPC with.
//! [`ansible`] renders the same files for the Ansible role and its dynamic inventory.

pub mod ansible;
pub mod apply;
pub mod checks;
pub mod commands;
pub mod cpinstall;
pub mod deploy_key;
pub mod destroy;
pub mod error;
pub mod facts;
pub mod health;
pub mod init;
pub mod inventory;
pub mod monitoring;
pub mod plan;
pub mod poll_account;
pub mod progress;
pub mod register;
pub mod render;
pub mod rpc_secret;
pub mod stage;
pub mod verify;

// Host operations live in `rustfs-hostops`, shared with the control plane; re-exported under
// the names the provisioner's modules have always used.
pub use rustfs_hostops::{download, exec, hostkeys, paths, pki, service, ssh, state};

pub use error::{Error, Result};
