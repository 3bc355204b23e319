//! The provisioner's error type: one enum for the library, rendered by the binary.

use std::path::PathBuf;

use crate::inventory::FieldErrors;

/// Result alias for the provisioner library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything the provisioner can fail with. Messages are lowercase and say what to do when the
/// operator can fix it.
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
    #[error("{path}: not valid YAML: {message}")]
    Yaml { path: PathBuf, message: String },
    /// The inventory failed validation; every problem found is listed.
    #[error("{path}: {errors}")]
    Invalid { path: PathBuf, errors: FieldErrors },
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
    #[error("rendering configuration: {0}")]
    Render(String),
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
}
