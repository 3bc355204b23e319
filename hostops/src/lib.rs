//! Driving RustFS hosts (`rustfs-hostops`): the host operations the provisioner and the control
//! plane share, so both drive hosts with the same code.
//!
//! A host is a [`target::Target`] (a name and how to reach it). [`exec`] runs commands on it —
//! over [`ssh`] (russh, strict host keys from [`hostkeys`]) or as local processes; [`paths`] says
//! where a node's files live there; [`service`] starts, reloads, stops and removes the node
//! (systemd or the `rustfs-ctl` script); [`download`] fetches a binary once and checks its
//! sha256; [`pki`] keeps the cluster CA and node certificates in a [`state::StateDir`];
//! [`upgrade`] drives a host's upgrade verbs (stage, switch, restart, status, logs), also over
//! the control plane's deploy key, whose login can run nothing else.
//! Errors are [`Error`]; messages say what to do.

pub mod download;
pub mod error;
pub mod exec;
pub mod hostkeys;
pub mod paths;
pub mod pki;
pub mod service;
pub mod ssh;
pub mod state;
pub mod target;
pub mod upgrade;

pub use error::{Error, Result};
pub use target::{Connection, SshTarget, Target, Via};
