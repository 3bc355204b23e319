//! The RustFS provisioner (`rustfs-provision`): turns an inventory into a running cluster over SSH.
//!
//! Layers, each a module named after what it handles: [`inventory`] (load + validate, no network),
//! [`ssh`] and [`exec`] (reaching hosts: russh with strict host keys, or local processes),
//! [`hostkeys`] (known_hosts, pinned fingerprints, accept-new records), [`facts`] (what a host has),
//! [`checks`] (whether it can run a node), [`plan`] (what would change), [`render`] (config files
//! from templates), [`stage`] (binary and files onto hosts), [`pki`] (the cluster CA),
//! [`state`] (the provisioner's own directory) and [`commands`] (the CLI verbs glued together).

pub mod checks;
pub mod commands;
pub mod error;
pub mod exec;
pub mod facts;
pub mod hostkeys;
pub mod init;
pub mod inventory;
pub mod pki;
pub mod plan;
pub mod render;
pub mod ssh;
pub mod stage;
pub mod state;

pub use error::{Error, Result};
