//! The one thing every host operation needs to know about a host: its name and how to reach it.
//! The provisioner makes a [`Target`] from an inventory host; the control plane from what it
//! recorded at registration.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// How a host is reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Connection {
    /// Over SSH (the default).
    #[default]
    Ssh,
    /// This machine: commands run as local processes, no SSH.
    Local,
}

/// Resolved SSH settings of one host (defaults applied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshTarget {
    pub address: String,
    pub port: u16,
    /// Login user; any user but `root` runs privileged commands through `sudo -n`.
    pub user: String,
    pub key_path: PathBuf,
    /// Pinned host-key fingerprint (`SHA256:…`), checked before anything else.
    pub host_key: Option<String>,
}

/// A host to drive: its display name and how it is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Used in every message about the host.
    pub name: String,
    pub via: Via,
}

/// The transport of a [`Target`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    Local,
    Ssh(SshTarget),
}

impl Target {
    pub fn connection(&self) -> Connection {
        match self.via {
            Via::Local => Connection::Local,
            Via::Ssh(_) => Connection::Ssh,
        }
    }
}
