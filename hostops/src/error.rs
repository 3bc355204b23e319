//! What a host operation can fail with. Messages are lowercase and say what to do when the
//! operator can fix it.

use std::path::PathBuf;

/// Result alias for host operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything a host operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{0} already exists — refusing to overwrite it; choose another path or remove it first"
    )]
    AlreadyExists(PathBuf),
    /// A host could not be reached, authenticated or driven over SSH.
    #[error("host {host}: {message}")]
    Host { host: String, message: String },
    /// The host presented a key that differs from the one we trust.
    #[error("host {host}: HOST KEY CHANGED — expected {expected}, got {actual} (from {source_desc}); refusing to connect. If the host was legitimately reinstalled, remove the old entry from {source_desc}")]
    HostKeyChanged {
        host: String,
        expected: String,
        actual: String,
        source_desc: String,
    },
    /// The host presented a key we have never seen and `--accept-new` was not given.
    #[error("host {host}: unknown host key {actual} — not in {known_hosts} nor in the provisioner's state; pin it in the inventory (ssh.host_key) or re-run with --accept-new to record it")]
    HostKeyUnknown {
        host: String,
        actual: String,
        known_hosts: String,
    },
    #[error("certificate authority: {0}")]
    Pki(String),
    #[error("state: {0}")]
    State(String),
}

impl Error {
    /// A host-level failure with a message.
    pub fn host(host: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Host {
            host: host.into(),
            message: message.into(),
        }
    }
    /// A file that could not be read.
    pub fn read(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Read {
            path: path.into(),
            source,
        }
    }
    /// A file that could not be written.
    pub fn write(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Write {
            path: path.into(),
            source,
        }
    }
}
