//! The RustFS provisioner (`rustfs-provision`): turns an inventory into a running cluster over SSH.
//!
//! Layers, each a module named after what it handles: [`inventory`] (load + validate, no network),
//! [`ssh`] and [`exec`] (reaching hosts: russh with strict host keys, or local processes),
//! [`hostkeys`] (known_hosts, pinned fingerprints, accept-new records), [`facts`] (what a host has),
//! [`checks`] (whether it can run a node), [`plan`] (what would change), [`render`] (config files
//! from templates), [`stage`] (binary and files onto hosts), [`pki`] (the cluster CA),
//! [`state`] (the provisioner's own directory) and [`commands`] (the CLI verbs glued together).
//! `apply` is [`apply`] (phases), [`service`] (start/stop/remove), [`health`] (cluster health),
//! [`register`] (control plane), [`verify`] (S3 round trip) and [`progress`] (display);
//! [`cpinstall`] installs the control plane itself. [`download`] fetches a `binary.url` into the state directory. `destroy` is [`destroy`].
//! [`paths`] says where things live on a host; [`monitoring`] makes the scrape token and the
//! Prometheus configuration; [`rpc_secret`] makes and checks the secret nodes sign RPC with.
//! [`ansible`] renders the same files for the Ansible role and its dynamic inventory.

pub mod ansible;
pub mod apply;
pub mod checks;
pub mod commands;
pub mod cpinstall;
pub mod destroy;
pub mod download;
pub mod error;
pub mod exec;
pub mod facts;
pub mod health;
pub mod hostkeys;
pub mod init;
pub mod inventory;
pub mod monitoring;
pub mod paths;
pub mod pki;
pub mod plan;
pub mod poll_account;
pub mod progress;
pub mod register;
pub mod render;
pub mod rpc_secret;
pub mod service;
pub mod ssh;
pub mod stage;
pub mod state;
pub mod verify;

pub use error::{Error, Result};
